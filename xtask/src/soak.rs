//! `cargo xtask soak`: the soak and fault suite (`tests/soak.rs`) in a headless browser
//! against the test peer, in its full profile (or `--short`), with its figures.
//!
//! The tests print one `SOAK {...}` line (flat JSON) per workload; this module builds and
//! starts the peer, runs the suite with `WASM_WS_SOAK=full|short`, parses those lines, prints
//! them as a table and writes it to `<target>/soak/<browser>[-worker]-<profile>.md`.
//! [`step`] is the short Chromium run that `cargo xtask test` includes.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::peer::Peer;
use crate::setup::{self, Mode, Want};
use crate::suite::{Browser, Counts, SuiteResult, WASM_TARGET};
use crate::util::{describe_status, header, target_dir, workspace_root, Cmd, Error, Result};

pub const USAGE: &str = "\
usage: cargo xtask soak [--browser chromium|firefox|webkit|all] [--short] [--worker] [--no-install] [-- <cargo test args>]

Runs the soak and fault suite (tests/soak.rs) against the test peer: 200 concurrent echoing
sockets, 5000 connect/drop cycles, peer processes killed with SIGKILL mid-stream (plain and
reconnecting sockets), a 100 MiB flood to a slow reader on both backends, 1000 random close
codes and reasons from the peer, and random message sizes up to 4 MiB in both binary types.
Prints the figures each workload reports and writes them under <target>/soak/. A few
minutes per browser; --short takes well under a minute.

options:
  --browser NAME   chromium (default), firefox, webkit (WebKitGTK under xvfb-run) or all
  --short          the short profile (the one every regular suite runs)
  --worker         run inside a dedicated worker instead of on the page
  --no-install     install nothing; fail if something is missing
  -- ARGS          passed to `cargo test` (e.g. a test name filter)";

/// The command line of `cargo xtask soak`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub browsers: Vec<Browser>,
    pub short: bool,
    pub worker: bool,
    pub mode: Mode,
    pub extra_args: Vec<String>,
}

impl Options {
    /// Parses the arguments after `soak`; `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut opts = Options {
            browsers: vec![Browser::Chromium],
            short: false,
            worker: false,
            mode: Mode::Install,
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
                "--short" => opts.short = true,
                "--worker" => opts.worker = true,
                "--no-install" => opts.mode = Mode::VerifyOnly,
                "--browser" => {
                    let value = match inline {
                        Some(v) => v,
                        None => args
                            .next()
                            .cloned()
                            .ok_or("--browser needs a value: chromium, firefox, webkit or all")?,
                    };
                    opts.browsers = match value.as_str() {
                        "all" => Browser::ALL.to_vec(),
                        name => vec![Browser::from_name(name).ok_or_else(|| {
                            format!(
                                "unknown browser `{name}`: use chromium, firefox, webkit or all"
                            )
                        })?],
                    };
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Some(opts))
    }
}

// ---------------------------------------------------------------------------------------
// The SOAK lines.

/// A value of a `SOAK` line.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Str(s) => f.write_str(s),
            Value::Num(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// One `SOAK {...}` line: its fields in order.
pub type Record = Vec<(String, Value)>;

/// Parses a `SOAK {...}` line (anywhere in the line, after any prefix the runner adds): a
/// flat JSON object of strings, numbers and booleans.
pub fn parse_soak_line(line: &str) -> Option<Record> {
    let start = line.find("SOAK {")? + "SOAK ".len();
    let mut chars = line[start..].chars().peekable();
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    fn string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
        if chars.next()? != '"' {
            return None;
        }
        let mut out = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(out),
                '\\' => match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
    }
    if chars.next()? != '{' {
        return None;
    }
    let mut record = Record::new();
    loop {
        skip_ws(&mut chars);
        if chars.peek() == Some(&'}') && record.is_empty() {
            return Some(record);
        }
        let key = string(&mut chars)?;
        skip_ws(&mut chars);
        if chars.next()? != ':' {
            return None;
        }
        skip_ws(&mut chars);
        let value = match chars.peek()? {
            '"' => Value::Str(string(&mut chars)?),
            't' | 'f' => {
                let word: String =
                    std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphabetic())).collect();
                match word.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => return None,
                }
            }
            _ => {
                let n: String = std::iter::from_fn(|| {
                    chars.next_if(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
                })
                .collect();
                Value::Num(n.parse().ok()?)
            }
        };
        record.push((key, value));
        skip_ws(&mut chars);
        match chars.next()? {
            ',' => continue,
            '}' => return Some(record),
            _ => return None,
        }
    }
}

fn get<'a>(record: &'a Record, key: &str) -> Option<&'a Value> {
    record.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Every `SOAK` line of an output.
pub fn parse_output(output: &str) -> Vec<Record> {
    output.lines().filter_map(parse_soak_line).collect()
}

/// Records that report a loss where the contract promises delivery (`lost` > 0).
pub fn losses(records: &[Record]) -> Vec<String> {
    records
        .iter()
        .filter(|r| matches!(get(r, "lost"), Some(Value::Num(n)) if *n > 0.0))
        .map(render_record)
        .collect()
}

/// The fields that say where a record comes from, left out of the table's figures column.
const CONTEXT: [&str; 5] = ["test", "profile", "browser", "worker", "suite_backend"];

fn render_record(record: &Record) -> String {
    let test = get(record, "test")
        .map(Value::to_string)
        .unwrap_or_default();
    let figures: Vec<String> = record
        .iter()
        .filter(|(k, _)| !CONTEXT.contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{test}: {}", figures.join(" "))
}

/// The figures as a Markdown table: one row per record.
pub fn render_table(records: &[Record]) -> String {
    let mut out = String::from("| workload | where | figures |\n|---|---|---|\n");
    for record in records {
        let test = get(record, "test")
            .map(Value::to_string)
            .unwrap_or_default();
        let browser = get(record, "browser")
            .map(Value::to_string)
            .unwrap_or_default();
        let worker = matches!(get(record, "worker"), Some(Value::Bool(true)));
        let figures: Vec<String> = record
            .iter()
            .filter(|(k, _)| !CONTEXT.contains(&k.as_str()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "| {test} | {browser}{} | {} |",
            if worker { " (worker)" } else { "" },
            figures.join(" ")
        );
    }
    out
}

// ---------------------------------------------------------------------------------------
// Running the suite.

/// One run of `tests/soak.rs` in one browser.
#[derive(Clone, Debug)]
pub struct SoakRun<'a> {
    pub root: &'a Path,
    pub runner: &'a Path,
    pub browser: Browser,
    pub driver: &'a Path,
    /// The running test peer, `127.0.0.1:PORT`.
    pub peer: String,
    pub short: bool,
    pub worker: bool,
    pub extra_args: &'a [String],
}

impl SoakRun<'_> {
    /// The summary name: `chromium-soak`, `firefox-worker-soak-short`, ...
    pub fn name(&self) -> String {
        format!(
            "{}{}-soak{}",
            self.browser.name(),
            if self.worker { "-worker" } else { "" },
            if self.short { "-short" } else { "" }
        )
    }

    pub fn command(&self) -> Cmd {
        let cargo = self.browser.cargo();
        let mut cmd = cargo
            .args([
                "test",
                "-p",
                "wasm-websocket",
                "--target",
                WASM_TARGET,
                // The regular suites build with `io`: share their build cache.
                "--features",
                "io",
                "--test",
                "soak",
            ])
            .args(self.extra_args);
        if !self.extra_args.iter().any(|a| a == "--") {
            cmd = cmd.arg("--");
        }
        cmd = cmd
            // The figures are console output of passing tests.
            .arg("--nocapture")
            .cwd(self.root)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", self.runner)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "1800")
            .env("WASM_WS_PEER", &self.peer)
            .env("WASM_WS_SOAK", if self.short { "short" } else { "full" })
            .env_remove("WASM_WS_BACKEND")
            .env_remove("NO_HEADLESS");
        if self.worker {
            cmd = cmd.env("RUSTFLAGS", "--cfg wasm_ws_worker").env(
                "CARGO_TARGET_DIR",
                target_dir(self.root).join("worker").display().to_string(),
            );
        }
        for var in ["CHROMEDRIVER", "GECKODRIVER", "SAFARIDRIVER"] {
            if var != self.browser.driver_var() {
                cmd = cmd.env_remove(var);
            }
        }
        cmd.env(self.browser.driver_var(), self.driver)
    }

    /// Runs the suite, streaming its output; returns how it went and its figures.
    pub fn run(&self) -> (SuiteResult, Vec<Record>) {
        let name = self.name();
        let cmd = self.command();
        let (status, output) = match cmd.run_tee() {
            Ok(done) => done,
            Err(e) => return (SuiteResult::not_run(&name, e.to_string()), Vec::new()),
        };
        let counts = Counts::parse_output(&output).unwrap_or_default();
        let records = parse_output(&output);
        let lost = losses(&records);
        let problem = if !status.success() {
            Some(format!("`{cmd}` failed ({})", describe_status(status)))
        } else if counts.passed + counts.failed == 0 {
            Some(format!("`{cmd}` ran no tests"))
        } else if records.is_empty() {
            Some(format!("`{cmd}` printed no SOAK lines"))
        } else if !lost.is_empty() {
            Some(format!("messages lost: {}", lost.join("; ")))
        } else {
            None
        };
        (
            SuiteResult {
                name,
                counts,
                problem,
            },
            records,
        )
    }
}

/// The short soak run in Chromium, for `cargo xtask test`: prints its figures and returns
/// its result for the summary (`chromium-soak-short`).
pub fn step(root: &Path, runner: &Path, chromedriver: &Path, peer: &str) -> SuiteResult {
    let run = SoakRun {
        root,
        runner,
        browser: Browser::Chromium,
        driver: chromedriver,
        peer: peer.to_string(),
        short: true,
        worker: false,
        extra_args: &[],
    };
    let (result, records) = run.run();
    if !records.is_empty() {
        println!("\n{}", render_table(&records));
    }
    result
}

/// Installs (or verifies) what a browser run needs; returns the runner and the drivers.
fn install(root: &Path, opts: &Options) -> Result<(PathBuf, Vec<(Browser, PathBuf)>)> {
    let mode = opts.mode;
    setup::ensure_rust_target(WASM_TARGET, mode)?;
    let needs: Vec<_> = opts
        .browsers
        .iter()
        .flat_map(|b| b.apt_needs().iter().copied())
        .collect();
    setup::ensure_apt(&needs, mode)?;
    let version = setup::locked_version(root, "wasm-bindgen")?;
    let runner = setup::ensure_cargo_install(
        "wasm-bindgen-test-runner",
        "wasm-bindgen-cli",
        Want::Exact(&version),
        mode,
    )?;
    let mut drivers = Vec::new();
    for &browser in &opts.browsers {
        let driver = match browser {
            Browser::Chromium => PathBuf::from("/usr/bin/chromedriver"),
            Browser::WebKit => PathBuf::from("/usr/bin/WebKitWebDriver"),
            Browser::Firefox => {
                setup::ensure_cargo_install("geckodriver", "geckodriver", Want::Any, mode)?
            }
        };
        drivers.push((browser, driver));
    }
    Ok((runner, drivers))
}

/// Runs `cargo xtask soak`; `Ok(false)` when a run failed (the summary says which).
pub fn run(opts: &Options) -> Result<bool> {
    let root = workspace_root();
    header("install what is missing");
    let (runner, drivers) = install(&root, opts)?;

    header("build and start the test peer");
    Cmd::cargo()
        .args(["build", "-p", "ws-peer"])
        .cwd(&root)
        .run()?;
    let peer = Peer::start(&target_dir(&root).join("debug").join("ws-peer"))?;

    let out_dir = target_dir(&root).join("soak");
    fs::create_dir_all(&out_dir).map_err(|e| Error::new(format!("{}: {e}", out_dir.display())))?;
    let mut results = Vec::new();
    for (browser, driver) in &drivers {
        let run = SoakRun {
            root: &root,
            runner: &runner,
            browser: *browser,
            driver,
            peer: peer.addr().to_string(),
            short: opts.short,
            worker: opts.worker,
            extra_args: &opts.extra_args,
        };
        header(&format!("soak: {}", run.name()));
        let (result, records) = run.run();
        if !records.is_empty() {
            let table = render_table(&records);
            header(&format!("figures: {}", run.name()));
            println!("{table}");
            let file = out_dir.join(format!(
                "{}{}-{}.md",
                browser.name(),
                if opts.worker { "-worker" } else { "" },
                if opts.short { "short" } else { "full" }
            ));
            let text = format!(
                "# Soak figures: {}\n\nReproduce: `cargo xtask soak --browser {}{}{}`\n\n{table}",
                run.name(),
                browser.name(),
                if opts.short { " --short" } else { "" },
                if opts.worker { " --worker" } else { "" },
            );
            fs::write(&file, text).map_err(|e| Error::new(format!("{}: {e}", file.display())))?;
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

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        let o = parse(&[]).unwrap().unwrap();
        assert_eq!(o.browsers, [Browser::Chromium]);
        assert!(!o.short && !o.worker);
        assert_eq!(o.mode, Mode::Install);
        let o = parse(&[
            "--browser=all",
            "--short",
            "--worker",
            "--no-install",
            "--",
            "kill",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(o.browsers, Browser::ALL);
        assert!(o.short && o.worker);
        assert_eq!(o.mode, Mode::VerifyOnly);
        assert_eq!(o.extra_args, ["kill"]);
        assert_eq!(
            parse(&["--browser", "webkit"]).unwrap().unwrap().browsers,
            [Browser::WebKit]
        );
        assert!(parse(&["--browser", "safari"]).is_err());
        assert!(parse(&["--browser"]).is_err());
        assert!(parse(&["--short=1"]).is_err());
        assert!(parse(&["--fast"]).is_err());
        assert_eq!(parse(&["-h"]), Ok(None));
    }

    #[test]
    fn soak_lines() {
        let line = r#"SOAK {"test":"churn","profile":"full","browser":"chromium","worker":false,"suite_backend":"classic","cycles":5000,"ms":41234.5,"memory_growth":0}"#;
        let r = parse_soak_line(&format!("console.log: {line}")).unwrap();
        assert_eq!(get(&r, "test"), Some(&Value::Str("churn".into())));
        assert_eq!(get(&r, "worker"), Some(&Value::Bool(false)));
        assert_eq!(get(&r, "cycles"), Some(&Value::Num(5000.0)));
        assert_eq!(get(&r, "ms"), Some(&Value::Num(41234.5)));
        assert_eq!(
            render_record(&r),
            "churn: cycles=5000 ms=41234.5 memory_growth=0"
        );
        assert!(parse_soak_line(r#"SOAK {"a":}"#).is_none());
        assert!(parse_soak_line(r#"SOAK {"a":tru}"#).is_none());
        assert!(parse_soak_line("test soak ... ok").is_none());
        assert_eq!(parse_soak_line("SOAK {}"), Some(Vec::new()));
        let checksum = parse_soak_line(r#"SOAK {"checksum":"00ff","m":-1e-3}"#).unwrap();
        assert_eq!(get(&checksum, "m"), Some(&Value::Num(-0.001)));
    }

    #[test]
    fn losses_and_table() {
        let out = "running 2 tests\n\
            SOAK {\"test\":\"concurrent\",\"browser\":\"firefox\",\"worker\":true,\"lost\":0,\"messages\":10}\n\
            SOAK {\"test\":\"flood\",\"browser\":\"firefox\",\"worker\":false,\"lost\":2}\n";
        let records = parse_output(out);
        assert_eq!(records.len(), 2);
        assert_eq!(losses(&records), ["flood: lost=2"]);
        let table = render_table(&records);
        assert!(table.contains("| concurrent | firefox (worker) | lost=0 messages=10 |"));
        assert!(table.contains("| flood | firefox | lost=2 |"));
    }

    #[test]
    fn run_names_and_command() {
        let root = PathBuf::from("/repo");
        let run = SoakRun {
            root: &root,
            runner: Path::new("/bin/runner"),
            browser: Browser::Firefox,
            driver: Path::new("/bin/geckodriver"),
            peer: "127.0.0.1:9".into(),
            short: true,
            worker: true,
            extra_args: &[],
        };
        assert_eq!(run.name(), "firefox-worker-soak-short");
        let shown = run.command().to_string();
        assert!(shown.contains("WASM_WS_SOAK=short"), "{shown}");
        assert!(shown.contains("GECKODRIVER=/bin/geckodriver"), "{shown}");
        assert!(
            shown.contains("RUSTFLAGS='--cfg wasm_ws_worker'"),
            "{shown}"
        );
        assert!(shown.ends_with("--test soak -- --nocapture"), "{shown}");
    }
}
