//! `cargo xtask soak`: the soak and fault suite (`tests/soak.rs`) in a headless browser
//! against the test peer, in its full profile (or `--short`), with its figures.
//!
//! Each test prints one `SOAK {...}` line ([`xtask_record::Soak`]); they are shown as a
//! table and written to `<target>/soak/<browser>[-worker]-<profile>.md`. [`step`] is the
//! short Chromium run that `cargo xtask test` includes.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use xtask_record::{Figure, Record, Soak};

use crate::browser::{Browser, Browsers, WasmTools};
use crate::counts::{run_libtest, SuiteResult};
use crate::paths::{target_dir, workspace_root};
use crate::peer::Peer;
use crate::run::{header, Run};
use crate::setup::Mode;

/// Run the soak and fault suite (tests/soak.rs) with its figures, a few minutes per browser.
///
/// 200 concurrent echoing sockets, 5000 connect/drop cycles, peer processes killed with
/// SIGKILL mid-stream (plain and reconnecting sockets), a 100 MiB flood to a slow reader on
/// both backends, 1000 random close codes and reasons from the peer, and random message
/// sizes up to 4 MiB in both binary types. Prints the figures each workload reports and
/// writes them under <target>/soak/. --short takes well under a minute.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct SoakArgs {
    /// The browsers (WebKit is WebKitGTK under xvfb-run).
    #[arg(long, value_enum, default_value = "chromium", value_name = "NAME")]
    pub browser: Browsers,
    /// The short profile (the one every regular suite runs).
    #[arg(long)]
    pub short: bool,
    /// Run inside a dedicated worker instead of on the page.
    #[arg(long)]
    pub worker: bool,
    /// Install nothing; fail if something is missing.
    #[arg(long)]
    pub no_install: bool,
    /// Passed to `cargo test` (e.g. a test name filter).
    #[arg(last = true, value_name = "CARGO TEST ARGS")]
    pub extra_args: Vec<String>,
}

/// One run of `tests/soak.rs` in one browser.
struct SoakRun<'a> {
    browser: Browser,
    short: bool,
    worker: bool,
    extra_args: &'a [String],
}

impl SoakRun<'_> {
    /// The summary name: `chromium-soak`, `firefox-worker-soak-short`, ...
    fn name(&self) -> String {
        let worker = if self.worker { "-worker" } else { "" };
        let short = if self.short { "-short" } else { "" };
        format!("{}{worker}-soak{short}", self.browser)
    }

    /// Runs the suite, streaming its output; returns how it went and its figures.
    fn run(&self, tools: &WasmTools, root: &Path, peer: &str) -> (SuiteResult, Vec<Soak>) {
        // `--features io`: the regular suites build with it; share their build cache.
        let args =
            "test -p wasm-websocket --target wasm32-unknown-unknown --features io --test soak";
        let mut cmd = self.browser.wasm_test(tools, root, peer, args);
        cmd.args(self.extra_args);
        if !self.extra_args.iter().any(|a| a == "--") {
            cmd.arg("--");
        }
        // The figures are console output of passing tests.
        cmd.arg("--nocapture")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "1800")
            .env("WASM_WS_SOAK", if self.short { "short" } else { "full" })
            .env_remove("WASM_WS_BACKEND");
        if self.worker {
            let dir = target_dir(root).join("worker");
            cmd.env("RUSTFLAGS", "--cfg wasm_ws_worker")
                .env("CARGO_TARGET_DIR", dir);
        }
        let (mut result, output) = run_libtest(&self.name(), &mut cmd);
        let records = soak_records(&output);
        let lost: Vec<String> = records
            .iter()
            .filter(|r| lost(r))
            .map(render_record)
            .collect();
        if result.problem.is_none() && records.is_empty() {
            result.problem = Some(format!("`{}` printed no SOAK lines", cmd.shown()));
        } else if result.problem.is_none() && !lost.is_empty() {
            result.problem = Some(format!("messages lost: {}", lost.join("; ")));
        }
        (result, records)
    }
}

fn soak_records(output: &str) -> Vec<Soak> {
    let records = Record::parse_all(output).into_iter();
    records
        .filter_map(|r| {
            if let Record::Soak(s) = r {
                Some(s)
            } else {
                None
            }
        })
        .collect()
}

/// Whether a record reports a loss where the contract promises delivery.
fn lost(record: &Soak) -> bool {
    match record.figures.get("lost") {
        Some(Figure::Int(n)) => *n > 0,
        Some(Figure::Num(n)) => *n > 0.0,
        _ => false,
    }
}

fn render_figures(record: &Soak) -> String {
    let figures = record.figures.iter().map(|(k, v)| format!("{k}={v}"));
    figures.collect::<Vec<_>>().join(" ")
}

fn render_record(record: &Soak) -> String {
    format!("{}: {}", record.test, render_figures(record))
}

/// The figures as a Markdown table: one row per record.
fn render_table(records: &[Soak]) -> String {
    let mut out = String::from("| workload | where | figures |\n|---|---|---|\n");
    for r in records {
        let worker = if r.worker { " (worker)" } else { "" };
        let _ = writeln!(
            out,
            "| {} | {}{worker} | {} |",
            r.test,
            r.browser,
            render_figures(r)
        );
    }
    out
}

/// The short soak run in Chromium, for `cargo xtask test` (`chromium-soak-short`).
pub fn step(root: &Path, tools: &WasmTools, peer: &str) -> SuiteResult {
    let run = SoakRun {
        browser: Browser::Chromium,
        short: true,
        worker: false,
        extra_args: &[],
    };
    let (result, records) = run.run(tools, root, peer);
    if !records.is_empty() {
        println!("\n{}", render_table(&records));
    }
    result
}

/// Runs `cargo xtask soak`; `Ok(false)` when a run failed (the summary says which).
pub fn run(args: &SoakArgs) -> Result<bool> {
    let root = workspace_root();
    header("install what is missing");
    let tools = WasmTools::ensure(
        &root,
        &args.browser.list(),
        Mode::from_no_install(args.no_install),
    )?;
    header("build and start the test peer");
    let peer = Peer::start(&Peer::build(&root, false)?)?;
    let out_dir = target_dir(&root).join("soak");
    fs::create_dir_all(&out_dir)?;

    let mut results = Vec::new();
    for (browser, _) in &tools.drivers {
        let run = SoakRun {
            browser: *browser,
            short: args.short,
            worker: args.worker,
            extra_args: &args.extra_args,
        };
        header(&format!("soak: {}", run.name()));
        let (result, records) = run.run(&tools, &root, &peer.addr().to_string());
        if !records.is_empty() {
            let table = render_table(&records);
            header(&format!("figures: {}", run.name()));
            println!("{table}");
            let worker = if args.worker { "-worker" } else { "" };
            let profile = if args.short { "short" } else { "full" };
            let file = out_dir.join(format!("{browser}{worker}-{profile}.md"));
            let flags = format!(
                "{}{}",
                if args.short { " --short" } else { "" },
                if args.worker { " --worker" } else { "" }
            );
            let text = format!(
                "# Soak figures: {}\n\nReproduce: `cargo xtask soak --browser {browser}{flags}`\n\n{table}",
                run.name()
            );
            fs::write(&file, text)?;
            println!("wrote {}", file.display());
        }
        results.push(result);
    }
    drop(peer);

    header("summary");
    for result in &results {
        if let Some(problem) = &result.problem {
            println!("{}: {problem}", result.name);
        }
    }
    for result in &results {
        println!("{}: {}", result.name, result.counts);
    }
    Ok(results.iter().all(SuiteResult::ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_and_table() {
        let out = "running 2 tests\n\
            SOAK {\"test\":\"concurrent\",\"profile\":\"short\",\"browser\":\"firefox\",\"worker\":true,\"suite_backend\":\"classic\",\"lost\":0,\"messages\":10}\n\
            SOAK {\"test\":\"flood\",\"profile\":\"short\",\"browser\":\"firefox\",\"worker\":false,\"suite_backend\":\"classic\",\"lost\":2}\n";
        let records = soak_records(out);
        assert_eq!(records.len(), 2);
        let lost: Vec<String> = records
            .iter()
            .filter(|r| lost(r))
            .map(render_record)
            .collect();
        assert_eq!(lost, ["flood: lost=2"]);
        let table = render_table(&records);
        assert!(
            table.contains("| concurrent | firefox (worker) | lost=0 messages=10 |"),
            "{table}"
        );
        assert!(table.contains("| flood | firefox | lost=2 |"));
    }

    #[test]
    fn run_names() {
        let run = SoakRun {
            browser: Browser::Firefox,
            short: true,
            worker: true,
            extra_args: &[],
        };
        assert_eq!(run.name(), "firefox-worker-soak-short");
    }
}
