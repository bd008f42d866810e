//! `cargo xtask bench`: the browser benchmark (raw JS, wasm-websocket, gloo-net and
//! ws_stream_wasm in one browser session) and the shipped size of a minimal client.
//!
//! The measuring happens in `bench/tests/bench.rs` (a wasm-bindgen-test), which prints one
//! `BENCH {...}` line ([`xtask_record::Bench`]) per run; this module builds and starts
//! everything, reads those lines, and writes `BENCHMARKS.md` and `bench/ratios*.svg`.

mod chart;
mod markdown;
mod native;
mod results;
mod size;

use std::fs;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::browser::{Browser, WasmTools};
use crate::paths::{target_dir, workspace_root};
use crate::peer::Peer;
use crate::run::{check, header, Run};
use crate::setup::{self, AptNeed, Mode};
use results::{Results, REFERENCE};

/// Benchmark against raw JS, gloo-net and ws_stream_wasm, and measure sizes.
///
/// Builds the benchmark crate (bench/) and the test peer (release), runs every workload
/// through raw JS, wasm-websocket, gloo-net and ws_stream_wasm, interleaved, in one headless
/// browser session, measures the shipped size of a minimal client of each, and prints a
/// table. A full run writes BENCHMARKS.md and bench/ratios.svg; a --quick or filtered run
/// writes them under the target directory instead.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct BenchArgs {
    /// The browser (WebKit is WebKitGTK under xvfb-run).
    #[arg(long, value_enum, default_value = "chromium", value_name = "NAME")]
    pub browser: Browser,
    /// Measured repetitions after the warm-up [default: 5; 2 with --quick].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub reps: Option<u32>,
    /// A tenth of the messages, 200 memory cycles: a smoke run.
    #[arg(long)]
    pub quick: bool,
    /// Only these workloads (e.g. pingpong,echo-bin-64k; `memory` for the memory cycles).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Vec<String>,
    /// Only these implementations (raw-js,raw-js-await,wasm-websocket,wasm-websocket-feed,
    /// wasm-websocket-64m,wasm-websocket-reconnecting,wasm-websocket-hook,gloo-net,
    /// ws_stream_wasm); raw-js is always kept for the ratios. The reconnecting and hook
    /// rows run in the receive flood only.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub impls: Vec<String>,
    /// Do not build and measure the size probes.
    #[arg(long)]
    pub skip_size: bool,
    /// Install nothing; fail if something is missing.
    #[arg(long)]
    pub no_install: bool,
    /// Natively instead: wasm-websocket under tokio against tokio-tungstenite used
    /// directly (no browser; --browser, --impls and --skip-size do not apply).
    #[arg(long)]
    pub native: bool,
}

impl BenchArgs {
    fn reps(&self) -> u32 {
        self.reps.unwrap_or(if self.quick {
            2
        } else if self.native {
            7
        } else {
            5
        })
    }

    /// How the rounds ran, for the block's first line.
    fn settings(&self) -> String {
        let quick = if self.quick {
            ", --quick (a tenth of the messages)"
        } else {
            ""
        };
        format!(
            "{} measured rounds after a warm-up, implementations interleaved and rotated{quick}; peer: ws-peer release build over loopback",
            self.reps()
        )
    }

    /// Whether this run may replace the committed BENCHMARKS.md and chart.
    fn is_full(&self) -> bool {
        !self.quick
            && self.only.is_empty()
            && self.impls.is_empty()
            && (self.native || !self.skip_size)
    }
}

/// Runs `cargo xtask bench`; `Ok(false)` when runs failed (the table says which).
pub fn run(args: &BenchArgs) -> Result<bool> {
    if args.native {
        return native::run(args);
    }
    let root = workspace_root();
    let (browser, mode) = (args.browser, Mode::from_no_install(args.no_install));

    header("install what is missing");
    let tools = WasmTools::ensure(&root, &[browser], mode)?;
    setup::ensure_apt(
        &[AptNeed {
            package: "binaryen",
            binaries: &["wasm-opt"],
        }],
        mode,
    )?;
    // Installed together with the runner by wasm-bindgen-cli.
    let wasm_bindgen = tools.runner.with_file_name("wasm-bindgen");

    header("build and start the test peer (release)");
    // The peer must not be what is measured: its release build is optimised for speed.
    let peer = Peer::start(&Peer::build(&root, true)?)?;

    header(&format!("benchmark in {browser}"));
    // The runner reads webdriver.json from its working directory, which cargo sets to the
    // package directory.
    if root.join("webdriver.json").exists() {
        fs::copy(
            root.join("webdriver.json"),
            root.join("bench/webdriver.json"),
        )
        .context("copying webdriver.json into bench/")?;
    }
    let mut impls = args.impls.clone();
    if !impls.is_empty() && !impls.iter().any(|i| i == REFERENCE) {
        impls.push(REFERENCE.to_string());
    }
    let cargo_args =
        "test -p bench --release --target wasm32-unknown-unknown --test bench -- --nocapture";
    let mut cmd = browser.wasm_test(&tools, &root, &peer.addr().to_string(), cargo_args);
    cmd.env("WASM_BINDGEN_TEST_TIMEOUT", "1800")
        .env("BENCH_REPS", args.reps().to_string())
        .env("BENCH_SCALE", if args.quick { "10" } else { "1" })
        .env(
            "BENCH_MEMORY_CYCLES",
            if args.quick { "200" } else { "2000" },
        )
        .env("BENCH_ONLY", args.only.join(","))
        .env("BENCH_IMPLS", impls.join(","));
    let (status, output) = cmd.tee()?;
    drop(peer);
    check(&cmd, status)?;
    let results = Results::from_output(&output);
    if results.rows.is_empty() && results.memory.is_empty() {
        bail!("`{}` printed no BENCH lines", cmd.shown());
    }

    let sizes = if args.skip_size {
        Vec::new()
    } else {
        header("shipped size of a minimal client");
        size::measure(&root, &wasm_bindgen)?
    };

    let settings = args.settings();
    let env = markdown::Environment::of(browser, settings);
    let target = markdown::Target::of(browser);
    let generated = markdown::generated(&results, &sizes, &env, &target);
    let svg = chart::render(
        &results,
        &format!("Speed relative to raw JS ({}, {})", env.browser, env.date),
    )?;

    header("results");
    println!("{}", markdown::table(&results, &sizes));
    if !sizes.is_empty() {
        println!("{}", markdown::size_table(&sizes));
    }
    if !results.memory.is_empty() {
        println!("{}", markdown::memory_table(&results.memory));
    }
    for e in &results.errors {
        println!("failed: {e}");
    }

    let (dir, md_path) = if args.is_full() {
        (root.join("bench"), root.join("BENCHMARKS.md"))
    } else {
        let dir = target_dir(&root).join("bench-results");
        (dir.clone(), dir.join("BENCHMARKS.md"))
    };
    let svg_path = dir.join(&target.svg);
    fs::create_dir_all(&dir)?;
    let existing = fs::read_to_string(&md_path).ok();
    fs::write(
        &md_path,
        markdown::merge(existing.as_deref(), &generated, &target),
    )?;
    fs::write(&svg_path, svg)?;
    println!("wrote {} and {}", md_path.display(), svg_path.display());
    Ok(results.errors.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: BenchArgs,
    }

    fn parse(args: &[&str]) -> Result<BenchArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench").chain(args.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn options() {
        let o = parse(&[]).unwrap();
        assert_eq!(
            (o.browser, o.reps(), o.quick, o.is_full()),
            (Browser::Chromium, 5, false, true)
        );
        let o = parse(&[
            "--browser=firefox",
            "--reps",
            "3",
            "--quick",
            "--only",
            "pingpong,flood-recv",
        ])
        .unwrap();
        assert_eq!((o.browser, o.reps()), (Browser::Firefox, 3));
        assert_eq!(o.only, ["pingpong", "flood-recv"]);
        assert!(!o.is_full());
        assert_eq!(parse(&["--quick"]).unwrap().reps(), 2);
        assert!(parse(&["--reps", "0"]).is_err());
        assert!(parse(&["--browser", "safari"]).is_err());
        assert!(parse(&["--quick=1"]).is_err());
    }
}
