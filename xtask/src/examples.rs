//! The framework examples: builds the Yew and Leptos chats (`examples/yew-chat`,
//! `examples/leptos-chat`) to wasm, runs the Leptos hook's browser tests
//! (`tests/leptos_hooks.rs`, feature `leptos`), and smoke-tests both apps in headless
//! Chromium (`examples/tests`, node:test + playwright-core) against `ws-peer --static`,
//! which serves the apps and answers their `/echo` and `/stats` routes on one port.
//!
//! One cargo invocation builds both apps and the hook tests, in the dev profile and in the
//! workspace's target directory: with the same packages and features selected, the later
//! `cargo test` of the hook tests compiles nothing but the test crate (which reads the
//! peer's address at compile time), and Yew, Leptos and their dependencies are built once
//! for all three. The dev profile keeps the build short (the release profile's LTO would
//! add minutes on two cores, and the tests do not need it). `wasm-bindgen --target web`
//! (the CLI at the Cargo.lock version, which `cargo xtask test` installs anyway) turns
//! each app into `pkg/` next to its `index.html` under `<target>/examples-site/{yew,leptos}`.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use crate::demo;
use crate::js_tests::parse_node_summary;
use crate::peer::Peer;
use crate::setup::{self, Mode, Want};
use crate::suite::{Browser, Counts, SuiteResult, WASM_TARGET};
use crate::util::{describe_status, header, target_dir, Cmd, Error, Result};

/// The name of this suite in `cargo xtask test`'s summary.
pub const NAME: &str = "examples";

/// The apps: (package, directory under `examples/`, directory under the site).
const APPS: &[(&str, &str, &str)] = &[
    ("yew-chat", "yew-chat", "yew"),
    ("leptos-chat", "leptos-chat", "leptos"),
];

/// The wasm-bindgen-test suites of the hooks (in `tests/`), and the crate features they
/// need. (A Yew hook test would need Yew's `csr` renderer, which the crate does not enable;
/// the Yew app's smoke test covers that hook.)
const HOOK_TESTS: &[&str] = &["leptos_hooks"];
const HOOK_FEATURES: &str = "wasm-websocket/leptos";

/// The cargo arguments that select the apps and the hook tests, the same for the build and
/// for `cargo test`, so that both resolve the same features and share every artifact.
fn selection() -> Vec<&'static str> {
    let mut args = vec!["--target", WASM_TARGET];
    for (package, _, _) in APPS {
        args.extend(["-p", package]);
    }
    args.extend(["-p", "wasm-websocket", "--features", HOOK_FEATURES]);
    for test in HOOK_TESTS {
        args.extend(["--test", test]);
    }
    args
}

/// Builds the apps, runs the hook tests and the apps' smoke tests, and returns their
/// counts together. Never fails: a problem that keeps the tests from running is reported
/// in [`SuiteResult::problem`].
pub fn examples_tests(root: &Path, mode: Mode) -> SuiteResult {
    match run(root, mode) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("error: {e}");
            SuiteResult::not_run(NAME, format!("not run: {e}"))
        }
    }
}

fn run(root: &Path, mode: Mode) -> Result<SuiteResult> {
    header("install what is missing (examples)");
    setup::ensure_rust_target(WASM_TARGET, mode)?;
    setup::ensure_apt(Browser::Chromium.apt_needs(), mode)?;
    let version = setup::locked_version(root, "wasm-bindgen")?;
    let bindgen = setup::ensure_cargo_install(
        "wasm-bindgen",
        "wasm-bindgen-cli",
        Want::Exact(&version),
        mode,
    )?;
    let runner = setup::ensure_cargo_install(
        "wasm-bindgen-test-runner",
        "wasm-bindgen-cli",
        Want::Exact(&version),
        mode,
    )?;
    demo::ensure_node(mode)?;

    header("build the example apps and the hook tests (dev profile, wasm32)");
    let started = Instant::now();
    Cmd::cargo()
        .arg("build")
        .args(selection())
        .arg("--bins")
        .cwd(root)
        .run()?;
    println!(
        "example apps and hook tests built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    header("wasm-bindgen the example apps and assemble the site");
    let site = target_dir(root).join("examples-site");
    let wasm_dir = target_dir(root).join(WASM_TARGET).join("debug");
    for (package, dir, name) in APPS {
        let out = site.join(name);
        let pkg = out.join("pkg");
        if pkg.exists() {
            fs::remove_dir_all(&pkg)
                .map_err(|e| Error::new(format!("removing {}: {e}", pkg.display())))?;
        }
        Cmd::new(&bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "app",
                "--out-dir",
            ])
            .arg(&pkg)
            .arg(wasm_dir.join(format!("{package}.wasm")))
            .run()?;
        let index = root.join("examples").join(dir).join("index.html");
        fs::copy(&index, out.join("index.html"))
            .map_err(|e| Error::new(format!("copying {}: {e}", index.display())))?;
    }
    println!("{}", site.display());

    let tests = root.join("examples").join("tests");
    header("npm dependencies of the example tests");
    setup::ensure_node_modules(&tests, "the example tests'", mode)?;

    header("build and start the test peer (serving the example apps)");
    Cmd::cargo()
        .args(["build", "-p", "ws-peer"])
        .cwd(root)
        .run()?;
    let exe = target_dir(root).join("debug").join("ws-peer");
    let peer = Peer::serving(&exe, SocketAddr::from(([127, 0, 0, 1], 0)), &site)?;

    let mut counts = Counts::default();
    let mut problems = Vec::new();

    header(&format!(
        "hook tests: {} (wasm-bindgen-test, headless Chromium)",
        HOOK_TESTS.join(", ")
    ));
    {
        let cmd = hook_test_command(root, &runner, peer.addr());
        match cmd.run_tee() {
            Ok((status, output)) => {
                let found = Counts::parse_output(&output);
                if let Some(found) = found {
                    counts.add(found);
                }
                if !status.success() {
                    problems.push(format!("`{cmd}` failed ({})", describe_status(status)));
                } else if found.is_none_or(|c| c.passed + c.failed == 0) {
                    problems.push(format!("`{cmd}` ran no tests"));
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }

    header("example apps' smoke tests (node --test, headless Chromium)");
    let cmd = Cmd::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-timeout=120000",
            "chat.test.mjs",
        ])
        .env("WS_PEER", peer.addr().to_string())
        .env("WS_STATIC_DIR", &site)
        .env("CHROMIUM", "/usr/bin/chromium")
        .cwd(&tests);
    let (status, output) = cmd.run_tee()?;
    drop(peer);
    match parse_node_summary(&output) {
        None => problems.push(format!(
            "`{cmd}` printed no summary ({})",
            describe_status(status)
        )),
        Some(found) => {
            counts.add(found);
            if found.passed == 0 && found.failed == 0 {
                problems.push(format!("`{cmd}` ran no tests"));
            } else if !status.success() {
                problems.push(format!("`{cmd}` failed ({})", describe_status(status)));
            }
        }
    }

    Ok(SuiteResult {
        name: NAME.to_string(),
        counts,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}

/// `cargo test` of the hook tests ([`selection`]) in headless Chromium, against `peer`
/// (read by the tests at compile time).
fn hook_test_command(root: &Path, runner: &Path, peer: SocketAddr) -> Cmd {
    Cmd::cargo()
        .arg("test")
        .args(selection())
        // webdriver.json (browser arguments) is read from the current directory.
        .cwd(root)
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", runner)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
        .env("WASM_WS_PEER", peer.to_string())
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        .env_remove("NO_HEADLESS")
}
