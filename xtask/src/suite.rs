//! Browser suites: one `cargo test --target wasm32-unknown-unknown` run in one browser, with
//! its own extra cargo arguments and environment, and the counting of its results.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::setup::AptNeed;
use crate::util::{describe_status, Cmd};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Every driver variable wasm-bindgen-test-runner looks at; a suite sets exactly one.
const DRIVER_VARS: [&str; 3] = ["CHROMEDRIVER", "GECKODRIVER", "SAFARIDRIVER"];

/// A browser engine the suites run in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
    /// WebKitGTK's MiniBrowser (Safari's engine) through WebKitWebDriver, under Xvfb.
    WebKit,
}

impl Browser {
    /// `cargo`, run under `xvfb-run` for WebKit: its MiniBrowser needs a display.
    pub fn cargo(self) -> Cmd {
        match self {
            Browser::WebKit => Cmd::new("xvfb-run")
                .arg("-a")
                .arg(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())),
            _ => Cmd::cargo(),
        }
    }

    /// In the order they run.
    pub const ALL: [Browser; 3] = [Browser::Chromium, Browser::Firefox, Browser::WebKit];

    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
            Browser::WebKit => "webkit",
        }
    }

    pub fn from_name(name: &str) -> Option<Browser> {
        Browser::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The Debian packages this browser needs.
    pub fn apt_needs(self) -> &'static [AptNeed] {
        match self {
            Browser::Chromium => &[
                AptNeed {
                    package: "chromium",
                    binaries: &["/usr/bin/chromium"],
                },
                AptNeed {
                    package: "chromium-driver",
                    binaries: &["/usr/bin/chromedriver"],
                },
            ],
            Browser::Firefox => &[AptNeed {
                package: "firefox-esr",
                binaries: &["firefox-esr", "firefox"],
            }],
            Browser::WebKit => &[
                AptNeed {
                    package: "webkit2gtk-driver",
                    binaries: &["/usr/bin/WebKitWebDriver"],
                },
                // The MiniBrowser needs a display; xvfb-run gives it one.
                AptNeed {
                    package: "xvfb",
                    binaries: &["xvfb-run"],
                },
            ],
        }
    }

    /// The variable that hands wasm-bindgen-test-runner this browser's driver.
    pub fn driver_var(self) -> &'static str {
        match self {
            Browser::Chromium => "CHROMEDRIVER",
            Browser::Firefox => "GECKODRIVER",
            // wasm-bindgen-test-runner's Safari mode drives WebKitWebDriver; webdriver.json
            // names the MiniBrowser binary.
            Browser::WebKit => "SAFARIDRIVER",
        }
    }
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Tests counted from libtest's `test result:` lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }

    /// Parses `test result: ok. 3 passed; 0 failed; 1 ignored; ...` (also `FAILED.`).
    pub fn parse_line(line: &str) -> Option<Counts> {
        let line = strip_ansi(line);
        let rest = line.trim().strip_prefix("test result:")?;
        let mut counts = Counts::default();
        let mut saw_passed = false;
        for part in rest.split(';') {
            // The first part is `ok. 3 passed` or `FAILED. 3 passed`.
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(number)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = number.parse::<u64>() else {
                continue;
            };
            match label.trim_end_matches(|c: char| !c.is_ascii_alphabetic()) {
                "passed" => {
                    counts.passed = n;
                    saw_passed = true;
                }
                "failed" => counts.failed = n,
                "ignored" => counts.ignored = n,
                _ => {}
            }
        }
        saw_passed.then_some(counts)
    }

    /// Sums every `test result:` line of an output; `None` when there is none.
    pub fn parse_output(output: &str) -> Option<Counts> {
        output
            .lines()
            .filter_map(Counts::parse_line)
            .reduce(|mut sum, c| {
                sum.add(c);
                sum
            })
    }
}

impl fmt::Display for Counts {
    /// The summary form CI parsers read: `N passed, M failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// Removes terminal colour sequences (`ESC [ ... letter`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What every suite of one run shares.
#[derive(Debug)]
pub struct SuiteContext<'a> {
    pub root: &'a Path,
    /// wasm-bindgen-test-runner, at the version in Cargo.lock.
    pub runner: &'a Path,
    /// The running test peer, `127.0.0.1:PORT`.
    pub peer: String,
    /// Extra `cargo test` arguments from the command line (a test filter, `-- --nocapture`).
    pub extra_args: &'a [String],
}

/// One browser run of the crate's wasm tests.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The name in the summary (`chromium`, later e.g. `chromium-io`).
    pub name: String,
    pub browser: Browser,
    pub driver: PathBuf,
    /// Cargo arguments of this suite (e.g. `--features io`), before the command line's.
    pub cargo_args: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// How a suite went.
#[derive(Clone, Debug)]
pub struct SuiteResult {
    pub name: String,
    pub counts: Counts,
    /// Why the suite failed beyond its counts (cargo's exit, no tests ran, not run at all).
    pub problem: Option<String>,
}

impl SuiteResult {
    pub fn not_run(name: &str, why: impl Into<String>) -> Self {
        SuiteResult {
            name: name.to_string(),
            counts: Counts::default(),
            problem: Some(why.into()),
        }
    }

    pub fn ok(&self) -> bool {
        self.problem.is_none() && self.counts.failed == 0
    }
}

impl Suite {
    /// The plain suite of a browser.
    pub fn plain(browser: Browser, driver: PathBuf) -> Suite {
        Suite {
            name: browser.name().to_string(),
            browser,
            driver,
            cargo_args: Vec::new(),
            env: Vec::new(),
        }
    }

    pub fn command(&self, ctx: &SuiteContext<'_>) -> Cmd {
        let cargo = self.browser.cargo();
        let mut cmd = cargo
            .args([
                "test",
                "-p",
                "wasm-websocket",
                "--target",
                WASM_TARGET,
                "--tests",
                // Run every test binary even when one fails, so the counts are complete.
                "--no-fail-fast",
            ])
            .args(&self.cargo_args)
            .args(ctx.extra_args)
            // webdriver.json (browser arguments) is read from the current directory.
            .cwd(ctx.root)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", ctx.runner)
            // The runner's default limit for a whole test binary is 20 s.
            .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
            // Read by the tests at compile time with `option_env!`.
            .env("WASM_WS_PEER", &ctx.peer)
            // Would make the runner serve the tests for a human and wait forever.
            .env_remove("NO_HEADLESS");
        for var in DRIVER_VARS {
            if var != self.browser.driver_var() {
                cmd = cmd.env_remove(var);
            }
        }
        cmd = cmd.env(self.browser.driver_var(), &self.driver);
        for (key, value) in &self.env {
            cmd = cmd.env(key, value);
        }
        cmd
    }

    /// Runs the suite, streaming its output, and counts its results.
    pub fn run(&self, ctx: &SuiteContext<'_>) -> SuiteResult {
        let cmd = self.command(ctx);
        let (status, output) = match cmd.run_tee() {
            Ok(done) => done,
            Err(e) => return SuiteResult::not_run(&self.name, e.to_string()),
        };
        let counts = Counts::parse_output(&output).unwrap_or_default();
        let problem = if !status.success() {
            Some(format!("`{cmd}` failed ({})", describe_status(status)))
        } else if counts.passed + counts.failed == 0 {
            Some(format!("`{cmd}` ran no tests"))
        } else {
            None
        };
        SuiteResult {
            name: self.name.clone(),
            counts,
            problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_ok() {
        let line = "test result: ok. 64 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 3.21s";
        assert_eq!(
            Counts::parse_line(line),
            Some(Counts {
                passed: 64,
                failed: 0,
                ignored: 2
            })
        );
    }

    #[test]
    fn result_line_failed_and_runner_form() {
        assert_eq!(
            Counts::parse_line(
                "test result: FAILED. 60 passed; 4 failed; 0 ignored; 0 filtered out\n"
            ),
            Some(Counts {
                passed: 60,
                failed: 4,
                ignored: 0
            })
        );
        assert_eq!(
            Counts::parse_line(
                "\u{1b}[0mtest result: \u{1b}[32mok\u{1b}[0m. 1 passed; 0 failed; 0 ignored"
            ),
            Some(Counts {
                passed: 1,
                failed: 0,
                ignored: 0
            })
        );
    }

    #[test]
    fn not_result_lines() {
        assert_eq!(Counts::parse_line("test foo ... ok"), None);
        assert_eq!(Counts::parse_line("running 3 tests"), None);
        assert_eq!(Counts::parse_line("test result: garbage"), None);
    }

    #[test]
    fn output_sums_every_binary() {
        let out = "running 2 tests\ntest a ... ok\ntest b ... FAILED\n\
                   test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n\
                   running 3 tests\n\
                   test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n";
        assert_eq!(
            Counts::parse_output(out),
            Some(Counts {
                passed: 4,
                failed: 1,
                ignored: 0
            })
        );
        assert_eq!(Counts::parse_output("error: could not compile"), None);
        assert_eq!(
            Counts {
                passed: 64,
                failed: 0,
                ignored: 3
            }
            .to_string(),
            "64 passed, 0 failed"
        );
    }

    #[test]
    fn browser_names() {
        assert_eq!(Browser::from_name("firefox"), Some(Browser::Firefox));
        assert_eq!(Browser::from_name("chromium"), Some(Browser::Chromium));
        assert_eq!(Browser::from_name("chrome"), None);
    }
}
