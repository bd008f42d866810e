//! The examples: builds the Yew and Leptos chats (`examples/yew-chat`,
//! `examples/leptos-chat`) and the cross-platform chat's page (`examples/chat`) to wasm,
//! and that chat's terminal program natively; runs the Leptos hook's browser tests
//! (`tests/leptos_hooks.rs`, feature `leptos`), and smoke-tests the apps in headless
//! Chromium (`examples/tests`, node:test + playwright-core) against `ws-peer --static`,
//! which serves the apps and answers their `/echo`, `/stats` and `/chat` routes on one
//! port; the cross-platform chat's test runs the terminal program beside its page.
//!
//! One cargo invocation builds both apps and the hook tests, in the dev profile and in the
//! workspace's target directory: with the same packages and features selected, the later
//! `cargo test` of the hook tests compiles nothing but the test crate (which reads the
//! peer's address at compile time), and Yew, Leptos and their dependencies are built once
//! for all three. The dev profile keeps the build short (the release profile's LTO would
//! add minutes on two cores, and the tests do not need it). `wasm-bindgen --target web`
//! (the CLI at the Cargo.lock version, which `cargo xtask test` installs anyway) turns
//! each app into `pkg/` next to its `index.html` under
//! `<target>/examples-site/{yew,leptos,chat}`.

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::browser::{Browser, WasmTools, WASM_TARGET};
use crate::counts::{run_libtest, SuiteResult};
use crate::js_tests::{node_test, run_node_test, serve};
use crate::paths::target_dir;
use crate::run::{cargo, header, Run};
use crate::setup::{self, Mode};

/// The name of this suite in `cargo xtask test`'s summary.
const NAME: &str = "examples";

/// The apps: (package, directory under `examples/`, directory under the site).
const APPS: &[(&str, &str, &str)] = &[
    ("yew-chat", "yew-chat", "yew"),
    ("leptos-chat", "leptos-chat", "leptos"),
    ("chat", "chat", "chat"),
];

/// The cross-platform chat's package, also built natively: its terminal program.
const TERMINAL_APP: &str = "chat";

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
/// counts together. Never fails: a problem that keeps the tests from running is the
/// result's problem.
pub fn examples_tests(root: &Path, mode: Mode) -> SuiteResult {
    run(root, mode).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        SuiteResult::not_run(NAME, format!("{e:#}"))
    })
}

fn run(root: &Path, mode: Mode) -> Result<SuiteResult> {
    header("install what is missing (examples)");
    let tools = WasmTools::ensure(root, &[Browser::Chromium], mode)?;
    let bindgen = setup::ensure_bindgen(root, "wasm-bindgen", mode)?;
    crate::package::ensure_node(mode)?;

    header("build the example apps and the hook tests (dev profile, wasm32)");
    let started = Instant::now();
    cargo()
        .arg("build")
        .args(selection())
        .arg("--bins")
        .current_dir(root)
        .run()?;
    println!(
        "example apps and hook tests built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    header("wasm-bindgen the example apps and assemble the site");
    let site = target_dir(root).join("examples-site");
    let wasm_dir = target_dir(root).join(WASM_TARGET).join("debug");
    for (package, dir, name) in APPS {
        let pkg = site.join(name).join("pkg");
        if pkg.exists() {
            fs::remove_dir_all(&pkg).with_context(|| format!("removing {}", pkg.display()))?;
        }
        std::process::Command::new(&bindgen)
            .args("--target web --no-typescript --out-name app --out-dir".split_whitespace())
            .arg(&pkg)
            .arg(wasm_dir.join(format!("{package}.wasm")))
            .run()?;
        let index = root.join("examples").join(dir).join("index.html");
        fs::copy(&index, site.join(name).join("index.html"))
            .with_context(|| format!("copying {}", index.display()))?;
    }
    println!("{}", site.display());

    header("build the chat's terminal program (dev profile, native)");
    let started = Instant::now();
    cargo()
        .args(["build", "-p", TERMINAL_APP])
        .current_dir(root)
        .run()?;
    println!(
        "terminal program built in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let tests = root.join("examples/tests");
    header("npm dependencies of the example tests");
    setup::ensure_node_modules(&tests, mode)?;

    header("build and start the test peer (serving the example apps)");
    let peer = serve(root, &site)?;
    let peer_addr = peer.addr().to_string();

    header(&format!(
        "hook tests: {} (wasm-bindgen-test, headless Chromium)",
        HOOK_TESTS.join(", ")
    ));
    let mut hooks = Browser::Chromium.wasm_test(&tools, root, &peer_addr, "test");
    hooks.args(selection());
    let hooks = run_libtest(NAME, &mut hooks).0;
    let (mut counts, mut problems) = (hooks.counts, Vec::from_iter(hooks.problem));

    header("example apps' smoke tests (node --test, headless Chromium)");
    let mut smoke = node_test(&tests, &["chat.test.mjs"], &peer, &site);
    smoke.env(
        "CHAT_EXE",
        target_dir(root).join("debug").join(TERMINAL_APP),
    );
    let smoke = run_node_test(NAME, &mut smoke)?;
    drop(peer);
    counts.add(smoke.counts);
    problems.extend(smoke.problem);
    Ok(SuiteResult {
        name: NAME.to_string(),
        counts,
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}
