//! The browser suites of `cargo xtask test`: the crate's wasm tests in one browser, with the
//! environment of one variant, and their counts.

use std::path::Path;

use crate::browser::{Browser, WasmTools};
use crate::counts::{run_libtest, SuiteResult};
use crate::paths::target_dir;

/// One `cargo test --target wasm32-unknown-unknown` run.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The name in the summary: `chromium`, `chromium-stream`, `firefox-worker`, ...
    pub name: String,
    pub browser: Browser,
    pub env: Vec<(&'static str, String)>,
}

/// The suites of a run, in order. Every browser runs the tests on the page and again inside
/// a dedicated worker (`--cfg wasm_ws_worker`, built in its own target dir so the main
/// build cache stays valid); Chromium also on the `WebSocketStream` backend.
pub fn suites(root: &Path, browsers: &[Browser]) -> Vec<Suite> {
    let worker_dir = target_dir(root).join("worker").display().to_string();
    let mut suites = Vec::new();
    for &browser in browsers {
        let suite = |suffix: &str, env: Vec<(&'static str, String)>| Suite {
            name: format!("{browser}{suffix}"),
            browser,
            env,
        };
        suites.push(suite("", Vec::new()));
        if browser == Browser::Chromium {
            suites.push(suite("-stream", vec![("WASM_WS_BACKEND", "stream".into())]));
        }
        suites.push(suite(
            "-worker",
            vec![
                ("RUSTFLAGS", "--cfg wasm_ws_worker".into()),
                ("CARGO_TARGET_DIR", worker_dir.clone()),
            ],
        ));
    }
    suites
}

impl Suite {
    /// Runs the suite with the `io` and `codec` features (tests/io.rs and tests/codec.rs
    /// need them) and `extra` cargo
    /// arguments, streaming its output, and counts its results.
    pub fn run(&self, tools: &WasmTools, root: &Path, peer: &str, extra: &[String]) -> SuiteResult {
        // `--no-fail-fast`: every test binary runs even when one fails, so the counts are complete.
        let args = "test -p wasm-websocket --target wasm32-unknown-unknown --tests --no-fail-fast";
        let mut cmd = self.browser.wasm_test(tools, root, peer, args);
        cmd.args(["--features", "io,codec"]).args(extra);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        run_libtest(&self.name, &mut cmd).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_names() {
        let names: Vec<String> = suites(Path::new("/r"), &Browser::ALL)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                "chromium",
                "chromium-stream",
                "chromium-worker",
                "firefox",
                "firefox-worker",
                "webkit",
                "webkit-worker"
            ]
        );
    }
}
