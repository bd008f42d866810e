//! The JS tests: the npm package's JS API, its TypeScript declarations and the demo page's
//! self-test, run by node's test runner (`www/tests`, node:test + playwright-core) in
//! headless Chromium against `ws-peer --static`, which serves the page and the package and
//! answers the WebSocket routes on one port.
//!
//! Also builds the `--target bundler` package and checks that it is complete. The demo's
//! self-test leaves a screenshot at `<target>/demo-selftest.png`.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use anyhow::Result;

use crate::browser::Browser;
use crate::counts::{Counts, SuiteResult};
use crate::paths::target_dir;
use crate::peer::Peer;
use crate::run::{header, Run};
use crate::setup::{self, Mode};

/// The name of this suite in `cargo xtask test`'s summary.
const NAME: &str = "js";

/// The test files, in the order they run (one browser at a time: the machine has 2 cores).
const TEST_FILES: &[&str] = &[
    "api.test.mjs",
    "reconnecting.test.mjs",
    "types.test.mjs",
    "demo.test.mjs",
];

/// Builds what the tests need and runs them. Never fails: a problem that keeps the tests
/// from running is the result's problem.
pub fn js_tests(root: &Path, mode: Mode) -> SuiteResult {
    run(root, mode).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        SuiteResult::not_run(NAME, format!("{e:#}"))
    })
}

fn run(root: &Path, mode: Mode) -> Result<SuiteResult> {
    header("install what is missing (JS tests)");
    setup::ensure_apt(&Browser::Chromium.apt_needs()[..1], mode)?;
    let site = crate::demo::prepare_site(root, mode)?;

    header("build the npm package (wasm-pack build npm --target bundler)");
    site.tools
        .build(root, "bundler", &target_dir(root).join("pkg-bundler"))?;

    let tests = root.join("www/tests");
    header("npm dependencies of the JS tests");
    setup::ensure_node_modules(&tests, mode)?;

    header("build and start the test peer (serving the site)");
    let peer = serve(root, &site.dir)?;

    header("JS API tests and the demo's self-test (node --test, headless Chromium)");
    let screenshot = target_dir(root).join("demo-selftest.png");
    let _ = fs::remove_file(&screenshot);
    let mut cmd = node_test(&tests, TEST_FILES, &peer, &site.dir);
    cmd.env("DEMO_SCREENSHOT", &screenshot);
    let result = run_node_test(NAME, &mut cmd);
    if screenshot.is_file() {
        println!("demo self-test screenshot: {}", screenshot.display());
    }
    result
}

/// Builds the peer and starts it on a free port, serving `dir` over HTTP too.
pub fn serve(root: &Path, dir: &Path) -> Result<Peer> {
    Peer::serving(
        &Peer::build(root, false)?,
        SocketAddr::from(([127, 0, 0, 1], 0)),
        dir,
    )
}

/// `node --test FILES` in `dir`, one file at a time, against `peer` serving `site`.
pub fn node_test(dir: &Path, files: &[&str], peer: &Peer, site: &Path) -> Command {
    let mut cmd = Command::new("node");
    cmd.args(["--test", "--test-concurrency=1", "--test-timeout=120000"])
        .args(files)
        .env("WS_PEER", peer.addr().to_string())
        .env("WS_STATIC_DIR", site)
        .env("CHROMIUM", "/usr/bin/chromium")
        .current_dir(dir);
    cmd
}

/// Runs a node test command and counts its results from node's summary.
pub fn run_node_test(name: &str, cmd: &mut Command) -> Result<SuiteResult> {
    let (status, output) = cmd.tee()?;
    let found = Counts::from_node(&output);
    let problem = match found {
        None => Some(format!(
            "`{}` printed no summary ({})",
            cmd.shown(),
            crate::run::describe(status)
        )),
        found => Counts::problem(found, status, &cmd.shown()),
    };
    Ok(SuiteResult {
        name: name.to_string(),
        counts: found.unwrap_or_default(),
        problem,
    })
}
