//! The JS tests: the npm package's JS API, its TypeScript declarations and the demo page's
//! self-test, run by node's test runner (`www/tests`, node:test + playwright-core) in
//! headless Chromium against `ws-peer --static`, which serves the page and the package and
//! answers the WebSocket routes on one port.
//!
//! Also builds the `--target bundler` package and checks that it is complete. The demo's
//! self-test leaves a screenshot at `<target>/demo-selftest.png`.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::demo;
use crate::peer::Peer;
use crate::setup::{self, Mode};
use crate::suite::{Browser, Counts, SuiteResult};
use crate::util::{describe_status, header, target_dir, Cmd, Result};

/// The name of this suite in `cargo xtask test`'s summary.
pub const NAME: &str = "js";

/// The test files, in the order they run (one browser at a time: the machine has 2 cores).
const TEST_FILES: &[&str] = &["api.test.mjs", "types.test.mjs", "demo.test.mjs"];

/// Builds what the tests need, runs them, and returns their counts. Never fails: a problem
/// that keeps the tests from running is reported in [`SuiteResult::problem`].
pub fn js_tests(root: &Path, mode: Mode) -> SuiteResult {
    match run(root, mode) {
        Ok(result) => result,
        Err(e) => {
            eprintln!("error: {e}");
            SuiteResult::not_run(NAME, format!("not run: {e}"))
        }
    }
}

/// Where the demo's self-test screenshot goes.
pub fn screenshot_path(root: &Path) -> PathBuf {
    target_dir(root).join("demo-selftest.png")
}

fn run(root: &Path, mode: Mode) -> Result<SuiteResult> {
    header("install what is missing (JS tests)");
    setup::ensure_apt(&Browser::Chromium.apt_needs()[..1], mode)?;
    let site = demo::prepare_site(root, mode)?;

    header("build the npm package (wasm-pack build npm --target bundler)");
    let bundler = target_dir(root).join("pkg-bundler");
    demo::build_package(root, &site.tools, "bundler", &bundler)?;

    let tests = root.join("www").join("tests");
    header("npm dependencies of the JS tests");
    setup::ensure_node_modules(&tests, "the JS tests'", mode)?;

    header("build and start the test peer (serving the site)");
    Cmd::cargo()
        .args(["build", "-p", "ws-peer"])
        .cwd(root)
        .run()?;
    let exe = target_dir(root).join("debug").join("ws-peer");
    let peer = Peer::serving(&exe, SocketAddr::from(([127, 0, 0, 1], 0)), &site.dir)?;

    header("JS API tests and the demo's self-test (node --test, headless Chromium)");
    let screenshot = screenshot_path(root);
    let _ = fs::remove_file(&screenshot);
    let cmd = Cmd::new("node")
        .args(["--test", "--test-concurrency=1", "--test-timeout=120000"])
        .args(TEST_FILES)
        .env("WS_PEER", peer.addr().to_string())
        .env("WS_STATIC_DIR", &site.dir)
        .env("DEMO_SCREENSHOT", &screenshot)
        .env("CHROMIUM", "/usr/bin/chromium")
        .cwd(&tests);
    let (status, output) = cmd.run_tee()?;
    drop(peer);

    let counts = parse_node_summary(&output);
    let problem = match counts {
        None => Some(format!(
            "`{cmd}` printed no summary ({})",
            describe_status(status)
        )),
        Some(c) if c.passed == 0 && c.failed == 0 => Some("ran no tests".to_string()),
        Some(_) if !status.success() => {
            Some(format!("`{cmd}` failed ({})", describe_status(status)))
        }
        Some(_) => None,
    };
    if screenshot.is_file() {
        println!("demo self-test screenshot: {}", screenshot.display());
    }
    Ok(SuiteResult {
        name: NAME.to_string(),
        counts: counts.unwrap_or_default(),
        problem,
    })
}

/// The counts in node's test runner summary: `# pass 3` (TAP reporter) or `ℹ pass 3`
/// (spec reporter); cancelled tests count as failed, skipped and todo ones as ignored.
pub fn parse_node_summary(output: &str) -> Option<Counts> {
    let mut counts = Counts::default();
    let mut seen = false;
    for line in output.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("# ").or_else(|| line.strip_prefix("ℹ ")) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(key), Some(value), None) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let Ok(n) = value.parse::<u64>() else {
            continue;
        };
        match key {
            "pass" => {
                counts.passed += n;
                seen = true;
            }
            "fail" | "cancelled" => counts.failed += n,
            "skipped" | "todo" => counts.ignored += n,
            _ => {}
        }
    }
    seen.then_some(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_summary_tap_and_spec() {
        let tap = "ok 1 - x\n1..1\n# tests 28\n# suites 5\n# pass 25\n# fail 1\n# cancelled 2\n# skipped 1\n# todo 0\n# duration_ms 12.5\n";
        assert_eq!(
            parse_node_summary(tap),
            Some(Counts {
                passed: 25,
                failed: 3,
                ignored: 1
            })
        );
        let spec = "✔ x (1ms)\nℹ tests 2\nℹ pass 2\nℹ fail 0\nℹ cancelled 0\n";
        assert_eq!(
            parse_node_summary(spec),
            Some(Counts {
                passed: 2,
                failed: 0,
                ignored: 0
            })
        );
        assert_eq!(
            parse_node_summary("# Subtest: pass 3 things\nnothing"),
            None
        );
        assert_eq!(parse_node_summary(""), None);
    }
}
