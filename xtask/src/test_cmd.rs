//! `cargo xtask test`: install what is missing, start the test peer, run the native tests,
//! every browser suite and the checks, then print one summary with each step's wall time.
//!
//! To add a step: a suite in [`crate::suite::suites`], a check in [`crate::checks::CHECKS`]
//! or a native run in [`NATIVE`]; it shows up in the summary by itself.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;

use crate::browser::{Browser, Browsers, WasmTools};
use crate::checks::CHECKS;
use crate::counts::{Counts, SuiteResult};
use crate::paths::workspace_root;
use crate::peer::Peer;
use crate::run::{cargo, describe, header, Run};
use crate::setup::{self, Mode};

/// Install what is missing, then run every test suite and check; exits non-zero if anything failed.
///
/// Installs the wasm32 target, wasm-bindgen-cli at the Cargo.lock version, the browsers and
/// their drivers, starts the test peer, runs the native tests, the browser suites, the soak
/// suite's short profile, the JS and example tests, and the checks (module graph, fmt,
/// clippy, doc, publish dry run), and prints a summary.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct TestArgs {
    /// The browsers to run the suites in.
    #[arg(long, value_enum, default_value = "all", value_name = "NAME")]
    pub browser: Browsers,
    /// Install nothing; fail if something is missing.
    #[arg(long)]
    pub no_install: bool,
    /// Skip the checks (module graph, fmt, clippy, doc, publish dry run).
    #[arg(long)]
    pub skip_checks: bool,
    /// Passed to the browser suites' `cargo test` (e.g. a test name filter, or `-- --nocapture`).
    #[arg(last = true, value_name = "CARGO TEST ARGS")]
    pub extra_args: Vec<String>,
}

/// Native `cargo test` runs; the library's pure-Rust unit tests run here too.
const NATIVE: &[&str] = &[
    "test --no-fail-fast -p wasm-websocket --lib --features io,codec",
    // The doc examples, README.md's included (`--doc` cannot be combined with `--lib`).
    "test --no-fail-fast -p wasm-websocket --doc --features io,codec",
    "test --no-fail-fast -p ws-peer -p xtask -p xtask-record",
];

/// The suites in tests/ on the host target, against the peer (those that apply natively;
/// the browser-only ones are `cfg(target_arch = "wasm32")`). One thread: natively
/// `live_listeners()` counts for the whole process.
const NATIVE_SUITES: &str =
    "test --no-fail-fast -p wasm-websocket --features io,codec --tests -- --test-threads=1";

/// Everything the summary prints.
#[derive(Debug, Default)]
struct Report {
    suites: Vec<SuiteResult>,
    checks: Vec<(&'static str, &'static str)>,
    native: Counts,
    /// One line per failure, naming the command and how it exited.
    failures: Vec<String>,
    /// Each step's wall time, in order.
    times: Vec<(String, Duration)>,
}

impl Report {
    /// Runs one step and notes its wall time.
    fn time<T>(&mut self, step: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let started = Instant::now();
        let out = f(self);
        self.times.push((step.to_string(), started.elapsed()));
        out
    }

    fn suite(&mut self, result: SuiteResult) {
        println!("{}: {}", result.name, result.counts);
        self.suites.push(result);
    }

    fn ok(&self) -> bool {
        self.failures.is_empty()
            && self.native.failed == 0
            && self.suites.iter().all(SuiteResult::ok)
            && self.checks.iter().all(|(_, s)| *s != "FAILED")
    }

    fn print(&self) {
        header("summary");
        let mut failures = self.failures.clone();
        for suite in self.suites.iter().filter(|s| !s.ok()) {
            let why = suite.problem.clone();
            failures.push(format!(
                "{}: {}",
                suite.name,
                why.unwrap_or(format!("{} tests failed", suite.counts.failed))
            ));
        }
        if !failures.is_empty() {
            println!("failures:");
            failures.iter().for_each(|f| println!("  - {f}"));
            println!();
        }
        println!("wall time:");
        for (step, took) in &self.times {
            println!("  {step}: {:.1} s", took.as_secs_f64());
        }
        let total: Duration = self.times.iter().map(|(_, t)| *t).sum();
        println!("  total: {:.1} min\n", total.as_secs_f64() / 60.0);
        // Each on its own line, exactly: CI parsers read these.
        for suite in &self.suites {
            println!("{}: {}", suite.name, suite.counts);
        }
        for (name, status) in &self.checks {
            println!("{name}: {status}");
        }
        println!("native: {}", self.native);
    }
}

/// Runs `cargo xtask test`; `Ok(false)` when something failed (the summary says what).
/// An `Err` means the run could not get going (tools missing and not installable).
pub fn run(args: &TestArgs) -> Result<bool> {
    let root = workspace_root();
    let mode = Mode::from_no_install(args.no_install);
    let browsers = args.browser.list();
    let mut report = Report::default();

    header("install what is missing");
    let tools = report.time("install", |_| -> Result<WasmTools> {
        if !args.skip_checks {
            setup::ensure_rustup("component", &["rustfmt", "clippy"], mode)?;
        }
        WasmTools::ensure(&root, &browsers, mode)
    })?;

    header("build and start the test peer");
    let peer = report.time("test peer", |r| {
        match Peer::build(&root, false).and_then(|exe| Peer::start(&exe)) {
            Ok(peer) => Some(peer),
            Err(e) => {
                eprintln!("error: {e:#}");
                r.failures.push(format!("test peer: {e:#}"));
                None
            }
        }
    });

    header("native tests");
    report.time("native tests", |r| native_tests(&root, r));

    let peer_addr = peer.as_ref().map(|p| p.addr().to_string());
    header("native suites (tokio, against the test peer)");
    let result = report.time("native suites", |_| match &peer_addr {
        Some(peer) => {
            let mut cmd = cargo();
            cmd.args(NATIVE_SUITES.split_whitespace())
                .env("WASM_WS_PEER", peer)
                .current_dir(&root);
            crate::counts::run_libtest("native-suites", &mut cmd).0
        }
        None => SuiteResult::not_run("native-suites", "the test peer did not start"),
    });
    report.suite(result);

    for suite in crate::suite::suites(&root, &browsers) {
        header(&format!("browser tests: {}", suite.name));
        let result = report.time(&suite.name, |_| match &peer_addr {
            Some(peer) => suite.run(&tools, &root, peer, &args.extra_args),
            None => SuiteResult::not_run(&suite.name, "the test peer did not start"),
        });
        report.suite(result);
    }
    let chromium = browsers.contains(&Browser::Chromium);
    if let (Some(peer), true) = (&peer_addr, chromium) {
        // The soak suite's short profile once more, to print its figures (`cargo xtask
        // soak` runs the full profile).
        header("soak (short profile): chromium");
        let result = report.time("soak-short", |_| crate::soak::step(&root, &tools, peer));
        report.suite(result);
    }
    drop(peer);
    if chromium {
        // The npm package's JS API and the demo page's self-test; the Yew and Leptos apps
        // and the Leptos hook's browser tests.
        let result = report.time("js", |_| crate::js_tests::js_tests(&root, mode));
        report.suite(result);
        let result = report.time("examples", |_| crate::examples::examples_tests(&root, mode));
        report.suite(result);
    }

    for (name, cargo_args) in CHECKS {
        if args.skip_checks {
            report.checks.push((name, "skipped"));
            continue;
        }
        header(&format!("check: {name}"));
        let status = report.time(name, |r| {
            match crate::checks::run(&root, name, cargo_args) {
                Ok(()) => "ok",
                Err(e) => {
                    eprintln!("error: {e:#}");
                    r.failures.push(format!("{name}: {e:#}"));
                    "FAILED"
                }
            }
        });
        report.checks.push((name, status));
    }

    report.print();
    Ok(report.ok())
}

fn native_tests(root: &Path, report: &mut Report) {
    for args in NATIVE {
        let mut cmd = cargo();
        cmd.args(args.split_whitespace()).current_dir(root);
        match cmd.tee() {
            Ok((status, output)) => {
                report
                    .native
                    .add(Counts::from_libtest(&output).unwrap_or_default());
                if !status.success() {
                    report.failures.push(format!(
                        "`{}` failed ({})",
                        cmd.shown(),
                        describe(status)
                    ));
                }
            }
            Err(e) => report.failures.push(format!("{e:#}")),
        }
    }
}
