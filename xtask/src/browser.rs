//! The browsers the wasm tests run in, what each needs installed, and the `cargo test`
//! command that runs wasm-bindgen tests in one of them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Result;
use clap::ValueEnum;

use crate::run::{cargo, cargo_path};
use crate::setup::{self, AptNeed, Mode};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Every driver variable wasm-bindgen-test-runner looks at; a run sets exactly one.
const DRIVER_VARS: [&str; 3] = ["CHROMEDRIVER", "GECKODRIVER", "SAFARIDRIVER"];

/// A browser engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Browser {
    Chromium,
    Firefox,
    /// WebKitGTK's MiniBrowser (Safari's engine) through WebKitWebDriver, under Xvfb.
    #[value(name = "webkit")]
    WebKit,
}

/// `--browser NAME|all` of `test` and `soak`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Browsers {
    Chromium,
    Firefox,
    #[value(name = "webkit")]
    WebKit,
    All,
}

impl Browsers {
    pub fn list(self) -> Vec<Browser> {
        match self {
            Browsers::Chromium => vec![Browser::Chromium],
            Browsers::Firefox => vec![Browser::Firefox],
            Browsers::WebKit => vec![Browser::WebKit],
            Browsers::All => Browser::ALL.to_vec(),
        }
    }
}

impl Browser {
    /// In the order they run.
    pub const ALL: [Browser; 3] = [Browser::Chromium, Browser::Firefox, Browser::WebKit];

    pub fn name(self) -> &'static str {
        match self {
            Browser::Chromium => "chromium",
            Browser::Firefox => "firefox",
            Browser::WebKit => "webkit",
        }
    }

    /// The Debian packages this browser and its driver come in.
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
            // The MiniBrowser needs a display; xvfb-run gives it one.
            Browser::WebKit => &[
                AptNeed {
                    package: "webkit2gtk-driver",
                    binaries: &["/usr/bin/WebKitWebDriver"],
                },
                AptNeed {
                    package: "xvfb",
                    binaries: &["xvfb-run"],
                },
            ],
        }
    }

    /// The variable that hands wasm-bindgen-test-runner this browser's driver; WebKit goes
    /// through the runner's Safari mode (webdriver.json names the MiniBrowser).
    fn driver_var(self) -> &'static str {
        match self {
            Browser::Chromium => "CHROMEDRIVER",
            Browser::Firefox => "GECKODRIVER",
            Browser::WebKit => "SAFARIDRIVER",
        }
    }

    /// The driver, installed (geckodriver from crates.io) when missing.
    pub fn driver(self, mode: Mode) -> Result<PathBuf> {
        match self {
            Browser::Chromium => Ok("/usr/bin/chromedriver".into()),
            Browser::WebKit => Ok("/usr/bin/WebKitWebDriver".into()),
            Browser::Firefox => {
                setup::ensure_cargo_install("geckodriver", "geckodriver", None, mode)
            }
        }
    }

    /// `cargo`, under `xvfb-run` for WebKit, whose MiniBrowser needs a display.
    pub fn cargo(self) -> Command {
        match self {
            Browser::WebKit => {
                let mut cmd = Command::new("xvfb-run");
                cmd.arg("-a").arg(cargo_path());
                cmd
            }
            _ => cargo(),
        }
    }

    /// `cargo ARGS` (a command line) running wasm tests in this browser through `runner`, against the test
    /// peer at `peer` (read by the tests at compile time), from `root` (webdriver.json,
    /// the browsers' arguments, is read from the current directory).
    pub fn wasm_test(self, tools: &WasmTools, root: &Path, peer: &str, args: &str) -> Command {
        let mut cmd = self.cargo();
        cmd.args(args.split_whitespace())
            .current_dir(root)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &tools.runner)
            // The runner's default limit for a whole test binary is 20 s.
            .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
            .env("WASM_WS_PEER", peer)
            // Would make the runner serve the tests for a human and wait forever.
            .env_remove("NO_HEADLESS");
        for var in DRIVER_VARS {
            cmd.env_remove(var);
        }
        if let Some((_, driver)) = tools.drivers.iter().find(|(b, _)| *b == self) {
            cmd.env(self.driver_var(), driver);
        }
        cmd
    }
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What wasm tests in browsers need: the runner and each browser's driver.
#[derive(Debug)]
pub struct WasmTools {
    pub runner: PathBuf,
    pub drivers: Vec<(Browser, PathBuf)>,
}

impl WasmTools {
    /// Installs (or verifies) the wasm target, the browsers, their drivers, and
    /// wasm-bindgen-test-runner at the Cargo.lock version.
    pub fn ensure(root: &Path, browsers: &[Browser], mode: Mode) -> Result<WasmTools> {
        setup::ensure_rustup("target", &[WASM_TARGET], mode)?;
        let needs: Vec<AptNeed> = browsers
            .iter()
            .flat_map(|b| b.apt_needs().iter().copied())
            .collect();
        setup::ensure_apt(&needs, mode)?;
        let runner = setup::ensure_bindgen(root, "wasm-bindgen-test-runner", mode)?;
        let drivers = browsers
            .iter()
            .map(|&b| Ok((b, b.driver(mode)?)))
            .collect::<Result<_>>()?;
        Ok(WasmTools { runner, drivers })
    }
}
