//! `cargo xtask test`: install what is missing, start the test peer, run the native tests,
//! every browser suite and the checks, then print one summary.
//!
//! The run is a fixed list of steps; to add one, add a suite in [`suites`], a check in
//! [`CHECKS`] or a native run in [`NATIVE`], and it shows up in the summary by itself.

use std::path::{Path, PathBuf};

use crate::peer::Peer;
use crate::setup::{self, Mode, Want};
use crate::suite::{Browser, Counts, Suite, SuiteContext, SuiteResult, WASM_TARGET};
use crate::util::{describe_status, header, target_dir, workspace_root, Cmd, Error, Result};

pub const USAGE: &str = "\
usage: cargo xtask test [--browser chromium|firefox|all] [--no-install] [--skip-checks] [-- <cargo test args>]

Installs what is missing (wasm32 target, wasm-bindgen-cli at the Cargo.lock version, browsers and
their drivers), starts the test peer, runs the native tests, the browser suites and the checks
(fmt, clippy, doc), and prints a summary. Exits non-zero if anything failed.

options:
  --browser NAME   chromium, firefox or all (default: all)
  --no-install     install nothing; fail if something is missing
  --skip-checks    skip fmt, clippy and doc
  -- ARGS          passed to the browser suites' `cargo test` (e.g. a test name filter,
                   or `-- --nocapture`)";

/// The command line of `cargo xtask test`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub browsers: Vec<Browser>,
    pub mode: Mode,
    pub checks: bool,
    pub extra_args: Vec<String>,
}

impl Options {
    /// Parses the arguments after `test`; `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut opts = Options {
            browsers: Browser::ALL.to_vec(),
            mode: Mode::Install,
            checks: true,
            extra_args: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = crate::util::split_flag(arg);
            if inline.is_some() && flag != "--browser" {
                return Err(format!("`{flag}` takes no value"));
            }
            match flag {
                "--" => {
                    opts.extra_args = args.cloned().collect();
                    break;
                }
                "-h" | "--help" => return Ok(None),
                "--no-install" => opts.mode = Mode::VerifyOnly,
                "--skip-checks" => opts.checks = false,
                "--browser" => {
                    let value = match inline {
                        Some(v) => v,
                        None => args
                            .next()
                            .cloned()
                            .ok_or("--browser needs a value: chromium, firefox or all")?,
                    };
                    opts.browsers = match value.as_str() {
                        "all" => Browser::ALL.to_vec(),
                        name => vec![Browser::from_name(name).ok_or_else(|| {
                            format!("unknown browser `{name}`: use chromium, firefox or all")
                        })?],
                    };
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Some(opts))
    }
}

/// Paths of the tools the suites use.
#[derive(Debug)]
struct Tools {
    runner: PathBuf,
    drivers: Vec<(Browser, PathBuf)>,
}

/// Step 1: install (or, with `--no-install`, verify) everything the selected run needs.
fn install(root: &Path, opts: &Options) -> Result<Tools> {
    let mode = opts.mode;
    let mut problems = Vec::new();
    // Installing stops at the first failure; verifying lists everything that is missing.
    macro_rules! attempt {
        ($e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) if mode == Mode::Install => return Err(e),
                Err(e) => {
                    problems.push(e.to_string());
                    None
                }
            }
        };
    }

    attempt!(setup::ensure_rust_target(WASM_TARGET, mode));
    if opts.checks {
        attempt!(setup::ensure_rust_components(&["rustfmt", "clippy"], mode));
    }
    let needs: Vec<_> = opts
        .browsers
        .iter()
        .flat_map(|b| b.apt_needs().iter().copied())
        .collect();
    attempt!(setup::ensure_apt(&needs, mode));

    let version = setup::locked_version(root, "wasm-bindgen")?;
    let runner = attempt!(setup::ensure_cargo_install(
        "wasm-bindgen-test-runner",
        "wasm-bindgen-cli",
        Want::Exact(&version),
        mode,
    ));

    let mut drivers = Vec::new();
    for &browser in &opts.browsers {
        let driver = match browser {
            Browser::Chromium => Some(PathBuf::from("/usr/bin/chromedriver")),
            Browser::WebKit => Some(PathBuf::from("/usr/bin/WebKitWebDriver")),
            Browser::Firefox => attempt!(setup::ensure_cargo_install(
                "geckodriver",
                "geckodriver",
                Want::Any,
                mode
            )),
        };
        if let Some(driver) = driver {
            drivers.push((browser, driver));
        }
    }

    match runner {
        Some(runner) if problems.is_empty() => Ok(Tools { runner, drivers }),
        _ => Err(Error::new(format!(
            "missing tools:\n  - {}",
            problems.join("\n  - ")
        ))),
    }
}

/// The browser suites of a run, in order.
/// Every browser runs the suites with the `io` feature (tests/io.rs is gated on it), on
/// the page and again inside a dedicated worker (`--cfg wasm_ws_worker`, built in its own
/// target dir so the main build cache stays valid); Chromium also runs them on the
/// `WebSocketStream` backend.
fn suites(opts: &Options, tools: &Tools) -> Vec<Suite> {
    let mut suites = Vec::new();
    for (browser, driver) in &tools.drivers {
        if !opts.browsers.contains(browser) {
            continue;
        }
        let mut plain = Suite::plain(*browser, driver.clone());
        plain.cargo_args = vec!["--features".into(), "io".into()];
        let variant = |suffix: &str, env: &[(&str, String)]| {
            let mut suite = plain.clone();
            suite.name = format!("{}-{suffix}", browser.name());
            suite
                .env
                .extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
            suite
        };
        let worker = variant(
            "worker",
            &[
                ("RUSTFLAGS", "--cfg wasm_ws_worker".into()),
                (
                    "CARGO_TARGET_DIR",
                    target_dir(&workspace_root())
                        .join("worker")
                        .display()
                        .to_string(),
                ),
            ],
        );
        let stream = variant("stream", &[("WASM_WS_BACKEND", "stream".into())]);
        suites.push(plain);
        if *browser == Browser::Chromium {
            suites.push(stream);
        }
        suites.push(worker);
    }
    suites
}

/// Native `cargo test` runs (host target); the library's pure-Rust unit tests run here too.
const NATIVE: &[&[&str]] = &[
    &[
        "test",
        "--no-fail-fast",
        "-p",
        "wasm-websocket",
        "--lib",
        "--features",
        "io",
    ],
    &["test", "--no-fail-fast", "-p", "ws-peer", "-p", "xtask"],
];

/// The suites in tests/ on the host target (those that apply natively).
const NATIVE_SUITES: &[&str] = &[
    "test",
    "--no-fail-fast",
    "-p",
    "wasm-websocket",
    "--features",
    "io",
    "--test",
    "*",
    "--",
    "--test-threads=1",
];

/// A check that passes or fails as a whole.
struct Check {
    name: &'static str,
    command: fn() -> Cmd,
}

const CHECKS: &[Check] = &[
    Check {
        name: "fmt",
        command: || Cmd::cargo().args(["fmt", "--all", "--", "--check"]),
    },
    Check {
        name: "clippy-wasm",
        command: || {
            Cmd::cargo().args([
                "clippy",
                "-p",
                "wasm-websocket",
                "--target",
                WASM_TARGET,
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
        },
    },
    Check {
        name: "clippy-wasm-all-features",
        command: || {
            Cmd::cargo().args([
                "clippy",
                "-p",
                "wasm-websocket",
                "--target",
                WASM_TARGET,
                "--all-targets",
                "--all-features",
                "--",
                "-D",
                "warnings",
            ])
        },
    },
    Check {
        name: "clippy-examples",
        command: || {
            Cmd::cargo().args([
                "clippy",
                "--target",
                WASM_TARGET,
                "-p",
                "yew-chat",
                "-p",
                "leptos-chat",
                "--",
                "-D",
                "warnings",
            ])
        },
    },
    Check {
        name: "clippy-native",
        command: || {
            Cmd::cargo().args([
                "clippy",
                "-p",
                "xtask",
                "-p",
                "ws-peer",
                "-p",
                "wasm-websocket",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
        },
    },
    Check {
        name: "doc",
        command: || {
            Cmd::cargo()
                .args([
                    "doc",
                    "-p",
                    "wasm-websocket",
                    "--all-features",
                    "--no-deps",
                    "--target",
                    WASM_TARGET,
                ])
                .env("RUSTDOCFLAGS", "-D warnings")
        },
    },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CheckStatus {
    Ok,
    Failed,
    Skipped,
}

impl CheckStatus {
    fn word(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Failed => "FAILED",
            CheckStatus::Skipped => "skipped",
        }
    }
}

/// Everything the summary prints.
#[derive(Debug, Default)]
struct Report {
    suites: Vec<SuiteResult>,
    checks: Vec<(&'static str, CheckStatus)>,
    native: Counts,
    /// The suites in tests/ run natively against the peer (`native-suites:` line).
    native_suites: Counts,
    /// One line per failure, naming the command and how it exited.
    failures: Vec<String>,
}

impl Report {
    fn ok(&self) -> bool {
        self.failures.is_empty()
            && self.native.failed == 0
            && self.native_suites.failed == 0
            && self.suites.iter().all(SuiteResult::ok)
            && self.checks.iter().all(|(_, s)| *s != CheckStatus::Failed)
    }

    fn print(&self) {
        header("summary");
        let mut failures = self.failures.clone();
        for suite in &self.suites {
            if let Some(problem) = &suite.problem {
                failures.push(format!("{}: {problem}", suite.name));
            } else if suite.counts.failed > 0 {
                failures.push(format!(
                    "{}: {} tests failed",
                    suite.name, suite.counts.failed
                ));
            }
        }
        if !failures.is_empty() {
            println!("failures:");
            for failure in &failures {
                println!("  - {failure}");
            }
            println!();
        }
        // Each on its own line, exactly: CI parsers read these.
        for suite in &self.suites {
            println!("{}: {}", suite.name, suite.counts);
        }
        for (name, status) in &self.checks {
            println!("{name}: {}", status.word());
        }
        println!("native: {}", self.native);
        println!("native-suites: {}", self.native_suites);
    }
}

/// Runs `cargo xtask test`; `Ok(false)` when something failed (the summary says what).
/// An `Err` means the run could not get going (tools missing and not installable).
pub fn run(opts: &Options) -> Result<bool> {
    let root = workspace_root();
    let mut report = Report::default();

    header("install what is missing");
    let tools = install(&root, opts)?;

    header("build and start the test peer");
    let peer = Cmd::cargo()
        .args(["build", "-p", "ws-peer"])
        .cwd(&root)
        .run()
        .and_then(|()| Peer::start(&target_dir(&root).join("debug").join("ws-peer")));
    let peer = match peer {
        Ok(peer) => Some(peer),
        Err(e) => {
            eprintln!("error: {e}");
            report.failures.push(format!("test peer: {e}"));
            None
        }
    };

    header("native tests");
    for args in NATIVE {
        let cmd = Cmd::cargo().args(*args).cwd(&root);
        match cmd.run_tee() {
            Ok((status, output)) => {
                if let Some(counts) = Counts::parse_output(&output) {
                    report.native.add(counts);
                }
                if !status.success() {
                    report
                        .failures
                        .push(format!("`{cmd}` failed ({})", describe_status(status)));
                }
            }
            Err(e) => report.failures.push(e.to_string()),
        }
    }

    // The suites in tests/ natively (tokio-tungstenite), against the same peer given at
    // compile time; one thread, as `live_listeners()` is process-wide natively.
    if let Some(peer) = &peer {
        header("native suites");
        let cmd = Cmd::cargo()
            .args(NATIVE_SUITES)
            .env("WASM_WS_PEER", peer.addr().to_string())
            .cwd(&root);
        match cmd.run_tee() {
            Ok((status, output)) => {
                if let Some(counts) = Counts::parse_output(&output) {
                    report.native_suites.add(counts);
                }
                if !status.success() {
                    report
                        .failures
                        .push(format!("`{cmd}` failed ({})", describe_status(status)));
                }
            }
            Err(e) => report.failures.push(e.to_string()),
        }
    }

    for suite in suites(opts, &tools) {
        header(&format!("browser tests: {}", suite.name));
        let result = match &peer {
            Some(peer) => suite.run(&SuiteContext {
                root: &root,
                runner: &tools.runner,
                peer: peer.addr().to_string(),
                extra_args: &opts.extra_args,
            }),
            None => SuiteResult::not_run(&suite.name, "not run: the test peer did not start"),
        };
        println!("{}: {}", result.name, result.counts);
        report.suites.push(result);
    }
    // The soak suite's short profile once more, to print its figures (tests/soak.rs;
    // `cargo xtask soak` runs the full profile).
    if let (Some(peer), Some((_, driver))) = (
        &peer,
        tools.drivers.iter().find(|(b, _)| *b == Browser::Chromium),
    ) {
        header("soak (short profile): chromium");
        let result = crate::soak::step(&root, &tools.runner, driver, &peer.addr().to_string());
        println!("{}: {}", result.name, result.counts);
        report.suites.push(result);
    }
    drop(peer);
    if opts.browsers.contains(&Browser::Chromium) {
        // The npm package's JS API and the demo page's self-test (screenshot under target/).
        let result = crate::js_tests::js_tests(&root, opts.mode);
        println!("{}: {}", result.name, result.counts);
        report.suites.push(result);
    }
    if opts.browsers.contains(&Browser::Chromium) {
        // The Yew and Leptos example apps (built to wasm), the Leptos hook's browser tests,
        // and the apps' smoke tests in headless Chromium.
        let result = crate::examples::examples_tests(&root, opts.mode);
        println!("{}: {}", result.name, result.counts);
        report.suites.push(result);
    }

    for check in CHECKS {
        if !opts.checks {
            report.checks.push((check.name, CheckStatus::Skipped));
            continue;
        }
        header(&format!("check: {}", check.name));
        let status = match (check.command)().cwd(&root).run() {
            Ok(()) => CheckStatus::Ok,
            Err(e) => {
                eprintln!("error: {e}");
                report.failures.push(format!("{}: {e}", check.name));
                CheckStatus::Failed
            }
        };
        report.checks.push((check.name, status));
    }

    report.print();
    Ok(report.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn defaults() {
        let opts = parse(&[]).unwrap().unwrap();
        assert_eq!(opts.browsers, Browser::ALL);
        assert_eq!(opts.mode, Mode::Install);
        assert!(opts.checks);
        assert!(opts.extra_args.is_empty());
    }

    #[test]
    fn flags_and_extra_args() {
        let opts = parse(&[
            "--browser",
            "firefox",
            "--no-install",
            "--skip-checks",
            "--",
            "echo",
            "--",
            "--nocapture",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(opts.browsers, [Browser::Firefox]);
        assert_eq!(opts.mode, Mode::VerifyOnly);
        assert!(!opts.checks);
        assert_eq!(opts.extra_args, ["echo", "--", "--nocapture"]);

        let opts = parse(&["--browser=chromium"]).unwrap().unwrap();
        assert_eq!(opts.browsers, [Browser::Chromium]);
    }

    #[test]
    fn bad_arguments() {
        assert!(parse(&["--browser"]).is_err());
        assert!(parse(&["--browser", "safari"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["--no-install=yes"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(None));
    }

    #[test]
    fn report_fails_on_empty_or_failed_suites() {
        let mut report = Report::default();
        report.suites.push(SuiteResult {
            name: "chromium".into(),
            counts: Counts {
                passed: 3,
                failed: 0,
                ignored: 0,
            },
            problem: None,
        });
        assert!(report.ok());
        report
            .suites
            .push(SuiteResult::not_run("firefox", "ran no tests"));
        assert!(!report.ok());
    }
}
