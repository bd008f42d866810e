//! `cargo xtask bench`: the browser benchmark (raw JS, wasm-websocket, gloo-net and
//! ws_stream_wasm in one browser session) and the shipped size of a minimal client.
//!
//! The measuring happens in `bench/tests/bench.rs` (a wasm-bindgen-test), which prints one
//! `BENCH {...}` line per run; this module builds and starts everything, parses those
//! lines, and writes `BENCHMARKS.md` and `bench/ratios.svg`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::peer::Peer;
use crate::setup::{self, AptNeed, Mode, Want};
use crate::suite::{Browser, WASM_TARGET};
use crate::util::{bail, header, target_dir, workspace_root, Cmd, Error, Result};

pub const USAGE: &str = "\
usage: cargo xtask bench [--browser chromium|firefox|webkit] [--reps N] [--quick] [options]

Builds the benchmark crate (bench/) and the test peer (release), runs every workload through
raw JS, wasm-websocket, gloo-net and ws_stream_wasm, interleaved, in one headless browser
session, measures the shipped size of a minimal client of each, and prints a table. A full
run writes BENCHMARKS.md and bench/ratios.svg; a --quick or filtered run writes them under
the target directory instead.

options:
  --browser NAME   chromium (default), firefox or webkit (WebKitGTK under xvfb-run)
  --reps N         measured repetitions after the warm-up (default 5; 2 with --quick)
  --quick          a tenth of the messages, 200 memory cycles: a smoke run
  --only LIST      only these workloads (comma-separated keys, e.g. pingpong,echo-bin-64k;
                   `memory` for the memory cycles)
  --impls LIST     only these implementations (raw-js,raw-js-await,wasm-websocket,
                   wasm-websocket-feed,wasm-websocket-64m,gloo-net,ws_stream_wasm);
                   raw-js is always kept for the ratios
  --skip-size      do not build and measure the size probes
  --no-install     install nothing; fail if something is missing";

/// The command line of `cargo xtask bench`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub browser: Browser,
    pub reps: Option<u32>,
    pub quick: bool,
    pub only: Vec<String>,
    pub impls: Vec<String>,
    pub size: bool,
    pub mode: Mode,
}

impl Options {
    /// Parses the arguments after `bench`; `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut opts = Options {
            browser: Browser::Chromium,
            reps: None,
            quick: false,
            only: Vec::new(),
            impls: Vec::new(),
            size: true,
            mode: Mode::Install,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = crate::util::split_flag(arg);
            let takes_value = matches!(flag, "--browser" | "--reps" | "--only" | "--impls");
            if inline.is_some() && !takes_value {
                return Err(format!("`{flag}` takes no value"));
            }
            let mut value = || -> Result<String, String> {
                match &inline {
                    Some(v) => Ok(v.clone()),
                    None => args
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("{flag} needs a value")),
                }
            };
            match flag {
                "-h" | "--help" => return Ok(None),
                "--quick" => opts.quick = true,
                "--skip-size" => opts.size = false,
                "--no-install" => opts.mode = Mode::VerifyOnly,
                "--browser" => {
                    let name = value()?;
                    opts.browser = Browser::from_name(&name).ok_or_else(|| {
                        format!("unknown browser `{name}`: use chromium, firefox or webkit")
                    })?;
                }
                "--reps" => {
                    let n = value()?;
                    opts.reps = Some(
                        n.parse()
                            .ok()
                            .filter(|&n: &u32| (1..=100).contains(&n))
                            .ok_or_else(|| {
                                format!("--reps takes a number from 1 to 100, not `{n}`")
                            })?,
                    );
                }
                "--only" => opts.only = split_list(&value()?),
                "--impls" => opts.impls = split_list(&value()?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Some(opts))
    }

    fn reps(&self) -> u32 {
        self.reps.unwrap_or(if self.quick { 2 } else { 5 })
    }

    /// Whether this run may replace the committed BENCHMARKS.md and chart.
    fn is_full(&self) -> bool {
        !self.quick && self.only.is_empty() && self.impls.is_empty() && self.size
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------
// What is measured, and how it is shown.

/// Implementations in table order; the first is the reference.
const IMPLS: &[(&str, &str)] = &[
    ("raw-js", "raw JS"),
    ("raw-js-await", "raw JS, await per message"),
    ("wasm-websocket", "wasm-websocket"),
    ("wasm-websocket-feed", "wasm-websocket (feed)"),
    ("wasm-websocket-64m", "wasm-websocket (64 MiB mark)"),
    ("gloo-net", "gloo-net"),
    ("ws_stream_wasm", "ws_stream_wasm"),
];
const REFERENCE: &str = "raw-js";

/// Workloads in table order: key (as printed by the bench), label.
const WORKLOADS: &[(&str, &str)] = &[
    ("pingpong", "ping-pong round trip, 16 B text"),
    ("echo-text-16", "pipelined echo, 20k x 16 B text"),
    ("echo-bin-64k", "pipelined echo, 400 x 64 KiB binary"),
    ("echo-bin-1m", "pipelined echo, 50 x 1 MiB binary"),
    ("flood-recv", "receive flood, 20k x 16 B binary"),
    ("send-count", "send 20k x 1 KiB text to /count"),
    ("connect-close", "connect + close"),
    ("many-100", "100 sockets, 50 round trips each"),
];

/// The size probes under `bench/size/`: package, implementation key.
const SIZE_PROBES: &[(&str, &str)] = &[
    ("size-raw", "raw-js"),
    ("size-wasm-websocket", "wasm-websocket"),
    ("size-gloo", "gloo-net"),
    ("size-ws-stream", "ws_stream_wasm"),
];

fn impl_label(key: &str) -> &str {
    IMPLS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, label)| label)
}

fn workload_label(key: &str) -> &str {
    WORKLOADS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, label)| label)
}

// ---------------------------------------------------------------------------------------
// Parsing the BENCH lines.

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Str(String),
    Num(f64),
}

/// One `BENCH {...}` line: a flat JSON object of strings and numbers.
pub type Record = BTreeMap<String, Value>;

/// Parses a `BENCH {...}` line (anywhere in the line, after any prefix the runner adds).
pub fn parse_bench_line(line: &str) -> Option<Record> {
    let start = line.find("BENCH {")? + "BENCH ".len();
    let mut chars = line[start..].chars().peekable();
    let mut record = Record::new();
    if chars.next()? != '{' {
        return None;
    }
    fn string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
        if chars.next()? != '"' {
            return None;
        }
        let mut s = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(s),
                '\\' => s.push(chars.next()?),
                c => s.push(c),
            }
        }
    }
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek() == Some(&'}') {
            return Some(record);
        }
        let key = string(&mut chars)?;
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next()? != ':' {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let value = if chars.peek() == Some(&'"') {
            Value::Str(string(&mut chars)?)
        } else {
            let mut n = String::new();
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
            {
                n.push(chars.next()?);
            }
            Value::Num(n.parse().ok()?)
        };
        record.insert(key, value);
    }
}

fn get_str<'a>(record: &'a Record, key: &str) -> Option<&'a str> {
    match record.get(key)? {
        Value::Str(s) => Some(s),
        Value::Num(_) => None,
    }
}

fn get_num(record: &Record, key: &str) -> Option<f64> {
    match record.get(key)? {
        Value::Num(n) => Some(*n),
        Value::Str(_) => None,
    }
}

// ---------------------------------------------------------------------------------------
// Statistics.

/// Median, min and max of a non-empty sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }
}

/// The results of one workload.
#[derive(Clone, Debug, Default)]
pub struct Row {
    pub key: String,
    pub unit: String,
    pub lower_is_better: bool,
    /// Per implementation: (rep, value) of every measured (non-warm-up) run.
    pub runs: BTreeMap<String, Vec<(u32, f64)>>,
}

impl Row {
    pub fn spread(&self, imp: &str) -> Option<Spread> {
        let values: Vec<f64> = self.runs.get(imp)?.iter().map(|(_, v)| *v).collect();
        Spread::of(&values)
    }

    /// Speed relative to the reference (higher is better, 1.0 = raw JS), per round: each
    /// round runs the implementations back to back, so a pair shares the machine's load at
    /// that moment. The median of those per-round ratios, with their min and max.
    pub fn ratio(&self, imp: &str) -> Option<Spread> {
        let speed = |raw: f64, own: f64| {
            if self.lower_is_better {
                raw / own
            } else {
                own / raw
            }
        };
        let raw_by_rep: BTreeMap<u32, f64> = self.runs.get(REFERENCE)?.iter().copied().collect();
        let paired: Vec<f64> = self
            .runs
            .get(imp)?
            .iter()
            .filter_map(|(rep, v)| raw_by_rep.get(rep).map(|r| speed(*r, *v)))
            .collect();
        Spread::of(&paired)
    }
}

/// The memory figure of one implementation.
#[derive(Clone, Debug, PartialEq)]
pub struct Memory {
    pub imp: String,
    pub cycles: f64,
    pub mem_before: f64,
    pub mem_after: f64,
    /// `None` where the library cannot count its listeners.
    pub listeners: Option<(f64, f64)>,
}

/// Everything parsed from a run.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub rows: Vec<Row>,
    pub memory: Vec<Memory>,
    pub errors: Vec<String>,
}

impl Results {
    pub fn from_output(output: &str) -> Results {
        let mut results = Results::default();
        for record in output.lines().filter_map(parse_bench_line) {
            let (Some(imp), Some(workload)) =
                (get_str(&record, "impl"), get_str(&record, "workload"))
            else {
                continue;
            };
            if let Some(error) = get_str(&record, "error") {
                results.errors.push(format!("{imp} / {workload}: {error}"));
                continue;
            }
            if workload == "memory" {
                let num = |k| get_num(&record, k).unwrap_or(f64::NAN);
                let listeners = match (
                    get_num(&record, "listeners_before"),
                    get_num(&record, "listeners_after"),
                ) {
                    (Some(a), Some(b)) if a >= 0.0 && b >= 0.0 => Some((a, b)),
                    _ => None,
                };
                results.memory.push(Memory {
                    imp: imp.to_string(),
                    cycles: num("cycles"),
                    mem_before: num("mem_before"),
                    mem_after: num("mem_after"),
                    listeners,
                });
                continue;
            }
            let (Some(rep), Some(value)) = (get_num(&record, "rep"), get_num(&record, "value"))
            else {
                continue;
            };
            if rep < 1.0 {
                continue; // the warm-up round
            }
            let index = match results.rows.iter().position(|r| r.key == workload) {
                Some(i) => i,
                None => {
                    results.rows.push(Row {
                        key: workload.to_string(),
                        unit: get_str(&record, "unit").unwrap_or("").to_string(),
                        lower_is_better: get_str(&record, "better") == Some("lower"),
                        ..Row::default()
                    });
                    results.rows.len() - 1
                }
            };
            results.rows[index]
                .runs
                .entry(imp.to_string())
                .or_default()
                .push((rep as u32, value));
        }
        // Table order, unknown workloads last.
        let order = |key: &str| {
            WORKLOADS
                .iter()
                .position(|(k, _)| *k == key)
                .unwrap_or(usize::MAX)
        };
        results.rows.sort_by_key(|r| order(&r.key));
        results
    }

    /// Implementations that appear in the results, in table order.
    fn impls(&self) -> Vec<&'static str> {
        IMPLS
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| self.rows.iter().any(|r| r.runs.contains_key(*k)))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Size probes.

/// The shipped size of one minimal client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Size {
    pub imp: String,
    pub wasm: u64,
    pub js: u64,
    pub wasm_gz: u64,
    pub js_gz: u64,
}

impl Size {
    pub fn total_gz(&self) -> u64 {
        self.wasm_gz + self.js_gz
    }
}

fn gzip9_len(path: &Path) -> Result<u64> {
    let out = Cmd::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(path)
        .output()?;
    if !out.status.success() {
        bail!("gzip -9 {} failed", path.display());
    }
    Ok(out.stdout.len() as u64)
}

fn file_len(path: &Path) -> Result<u64> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| Error::new(format!("{}: {e}", path.display())))
}

/// Builds every size probe (release: lto, opt-level z, one codegen unit), runs
/// `wasm-bindgen --target web` and `wasm-opt -Oz`, and gzips wasm and JS glue.
fn measure_sizes(root: &Path, wasm_bindgen: &Path) -> Result<Vec<Size>> {
    let mut build = Cmd::cargo()
        .args(["build", "--release", "--target", WASM_TARGET])
        .cwd(root);
    for (package, _) in SIZE_PROBES {
        build = build.args(["-p", package]);
    }
    build.run()?;
    let release = target_dir(root).join(WASM_TARGET).join("release");
    let out_root = target_dir(root).join("bench-size");
    let mut sizes = Vec::new();
    for (package, imp) in SIZE_PROBES {
        let stem = package.replace('-', "_");
        let out = out_root.join(&stem);
        let _ = fs::remove_dir_all(&out);
        Cmd::new(wasm_bindgen)
            .args(["--target", "web", "--out-dir"])
            .arg(&out)
            .arg(release.join(format!("{stem}.wasm")))
            .run()?;
        let wasm = out.join(format!("{stem}_bg.wasm"));
        let js = out.join(format!("{stem}.js"));
        Cmd::new("wasm-opt")
            .args(["-Oz", "-o"])
            .arg(&wasm)
            .arg(&wasm)
            .run()?;
        sizes.push(Size {
            imp: imp.to_string(),
            wasm: file_len(&wasm)?,
            js: file_len(&js)?,
            wasm_gz: gzip9_len(&wasm)?,
            js_gz: gzip9_len(&js)?,
        });
    }
    Ok(sizes)
}

// ---------------------------------------------------------------------------------------
// The environment line.

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

#[derive(Clone, Debug, Default)]
struct Environment {
    browser: String,
    date: String,
    cores: usize,
    cpu: String,
    load: String,
    settings: String,
}

fn browser_version(browser: Browser) -> String {
    let candidates: &[&str] = match browser {
        Browser::Chromium => &["chromium", "/usr/bin/chromium"],
        Browser::Firefox => &["firefox-esr", "firefox"],
        // MiniBrowser has no usable --version (it needs a display).
        Browser::WebKit => return webkitgtk_version().unwrap_or_else(|| browser.name().into()),
    };
    for exe in candidates {
        if let Some(path) = setup::find(exe) {
            if let Ok(out) = Cmd::new(path).arg("--version").read() {
                if let Some(line) = out.lines().find(|l| !l.trim().is_empty()) {
                    // "Chromium 156.0.1.2 built on Debian ..." -> "Chromium 156.0.1.2"
                    let line = line.trim();
                    return line.split(" built on").next().unwrap_or(line).to_string();
                }
            }
        }
    }
    browser.name().to_string()
}

/// The WebKitGTK that MiniBrowser runs, from its Debian package.
fn webkitgtk_version() -> Option<String> {
    let version = Cmd::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"])
        .read()
        .ok()?;
    // "2.50.6-1~deb12u2" -> "WebKitGTK 2.50.6"
    let upstream = version.trim().split('-').next().filter(|v| !v.is_empty())?;
    Some(format!("WebKitGTK {upstream}"))
}

fn environment(browser: Browser, settings: String) -> Environment {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let load = fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    Environment {
        browser: browser_version(browser),
        date: today(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu,
        load,
        settings,
    }
}

// ---------------------------------------------------------------------------------------
// Output: the table, BENCHMARKS.md, the chart.

fn fmt_value(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}k", v / 1000.0)
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// The results table in Markdown (also printed as is).
pub fn render_table(results: &Results, sizes: &[Size]) -> String {
    let impls = results.impls();
    let others: Vec<&str> = impls.iter().copied().filter(|i| *i != REFERENCE).collect();
    let mut t = String::new();
    let _ = write!(t, "| workload | raw JS (median, min-max) |");
    for imp in &others {
        let _ = write!(t, " {} |", impl_label(imp));
    }
    t.push('\n');
    t.push_str("|---|---|");
    for _ in &others {
        t.push_str("---|");
    }
    t.push('\n');
    for row in &results.rows {
        let better = if row.lower_is_better {
            "lower"
        } else {
            "higher"
        };
        let _ = write!(
            t,
            "| {} ({}, {better} is better) |",
            workload_label(&row.key),
            row.unit
        );
        match row.spread(REFERENCE) {
            Some(s) => {
                let _ = write!(
                    t,
                    " {} ({}-{}) |",
                    fmt_value(s.median),
                    fmt_value(s.min),
                    fmt_value(s.max)
                );
            }
            None => t.push_str(" - |"),
        }
        for imp in &others {
            match row.ratio(imp) {
                Some(r) => {
                    let _ = write!(t, " {:.2}x ({:.2}-{:.2}) |", r.median, r.min, r.max);
                }
                None => t.push_str(" - |"),
            }
        }
        t.push('\n');
    }
    if !sizes.is_empty() {
        let raw = sizes.iter().find(|s| s.imp == REFERENCE);
        t.push_str("| shipped size of a connect / echo / close client, wasm + JS, gzip -9 (smaller is better) |");
        let _ = write!(
            t,
            " {} (web-sys) |",
            raw.map_or("-".to_string(), |s| fmt_kb(s.total_gz()))
        );
        for imp in &others {
            match sizes.iter().find(|s| s.imp == *imp) {
                Some(s) => {
                    let _ = write!(t, " {} |", fmt_kb(s.total_gz()));
                }
                None => t.push_str(" - |"),
            }
        }
        t.push('\n');
    }
    t
}

fn render_sizes(sizes: &[Size]) -> String {
    let mut t = String::from(
        "| client | wasm (after wasm-opt -Oz) | JS glue | wasm gzip -9 | JS gzip -9 | total gzip -9 |\n|---|---|---|---|---|---|\n",
    );
    for s in sizes {
        let _ = writeln!(
            t,
            "| {} | {} B | {} B | {} B | {} B | **{} B** ({}) |",
            impl_label(&s.imp),
            s.wasm,
            s.js,
            s.wasm_gz,
            s.js_gz,
            s.total_gz(),
            fmt_kb(s.total_gz())
        );
    }
    t
}

fn render_memory(memory: &[Memory]) -> String {
    let mut t = String::from(
        "| implementation | cycles | wasm memory before | after | listeners before | after |\n|---|---|---|---|---|---|\n",
    );
    for m in memory {
        let (lb, la) = match m.listeners {
            Some((b, a)) => (format!("{b}"), format!("{a}")),
            None => ("n/a".into(), "n/a".into()),
        };
        let _ = writeln!(
            t,
            "| {} | {} | {} B | {} B | {lb} | {la} |",
            impl_label(&m.imp),
            m.cycles,
            m.mem_before,
            m.mem_after
        );
    }
    t
}

const BEGIN: &str =
    "<!-- xtask bench: begin (generated by `cargo xtask bench`; edits here are replaced) -->";
const END: &str = "<!-- xtask bench: end -->";

/// Where one browser's results go: its block in BENCHMARKS.md and its chart. Chromium's are
/// the main ones (the README shows `bench/ratios.svg`); other browsers get their own block,
/// after the blocks already there, and `bench/ratios-<browser>.svg`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub begin: String,
    pub end: String,
    pub svg: String,
    pub heading: Option<String>,
}

impl Target {
    pub fn of(browser: Browser) -> Target {
        let title = match browser {
            Browser::Chromium => {
                return Target {
                    begin: BEGIN.to_string(),
                    end: END.to_string(),
                    svg: "ratios.svg".to_string(),
                    heading: None,
                }
            }
            Browser::Firefox => "Firefox",
            Browser::WebKit => "WebKit",
        };
        let name = browser.name();
        Target {
            begin: format!(
                "<!-- xtask bench {name}: begin (generated by `cargo xtask bench --browser {name}`; edits here are replaced) -->"
            ),
            end: format!("<!-- xtask bench {name}: end -->"),
            svg: format!("ratios-{name}.svg"),
            heading: Some(format!("### {title}")),
        }
    }
}

fn render_generated(
    results: &Results,
    sizes: &[Size],
    env: &Environment,
    target: &Target,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", target.begin);
    if let Some(heading) = &target.heading {
        let _ = writeln!(
            s,
            "{heading}
"
        );
    }
    let _ = writeln!(
        s,
        "Measured {} in {}, on {} ({} cores), load average at start {}; {}.\n",
        env.date, env.browser, env.cpu, env.cores, env.load, env.settings
    );
    s.push_str(
        "Raw JS is the browser's own `WebSocket` driven from JS (`bench/src/raw.js`), the physical \
         limit; the other columns are speed relative to it from the same session (higher is \
         better, 1.00x = raw JS): the median of the per-round ratios (each round runs every \
         implementation back to back, so a pair shares the load of that moment), and in \
         brackets their range. `wasm-websocket` uses `send().await` (feed + flush, which waits for \
         `bufferedAmount` to drain) in the sequential loops and `feed` + one `flush` when \
         pipelining; `wasm-websocket (feed)` uses `feed` alone in the sequential loops; `wasm-websocket (64 MiB mark)` is the same code with `high_water_mark(64 << 20)` instead of the 1 MiB default, in the three rows that send more than 1 MiB at once, so the difference between the two columns is what waiting at the default mark costs in that run (raw JS and the other wrappers apply no backpressure). `raw JS, await per message` is raw JS written the way every `Stream` consumer is: each received message is taken with one awaited promise (a microtask) instead of inside the event handler, and not copied; it shows what the async model itself costs, in JS (send-only and connect + close have no such variant).\n\n",
    );
    s.push_str(&render_table(results, sizes));
    let _ = writeln!(s, "\n![ratios to raw JS](bench/{})", target.svg);
    if !sizes.is_empty() {
        s.push_str("\n### Shipped size\n\nA minimal \"connect, echo once, close\" client (`bench/size/*`), built for `wasm32-unknown-unknown` with the workspace release profile (lto, `opt-level = \"z\"`, one codegen unit), `wasm-bindgen --target web`, `wasm-opt -Oz`, then each file gzipped with `gzip -9`.\n\n");
        s.push_str(&render_sizes(sizes));
    }
    if !results.memory.is_empty() {
        s.push_str("\n### Memory\n\nConnect, echo one message, close, repeated; wasm linear memory (`wasm_bindgen::memory()` buffer length) and `wasm_websocket::live_listeners()` after a warm-up of 50 cycles and after the run.\n\n");
        s.push_str(&render_memory(&results.memory));
    }
    if !results.errors.is_empty() {
        s.push_str("\n### Failed runs\n\n");
        for e in &results.errors {
            let _ = writeln!(s, "- {e}");
        }
    }
    let _ = write!(s, "{}", target.end);
    s
}

/// BENCHMARKS.md: the target's generated block replaced in place, everything else kept; a
/// block not there yet goes after the last generated block (so browsers keep the order in
/// which they were first run).
fn merge_markdown(existing: Option<&str>, generated: &str, target: &Target) -> String {
    if let Some(text) = existing {
        if let (Some(b), Some(e)) = (text.find(&target.begin), text.find(&target.end)) {
            if b < e {
                return format!("{}{generated}{}", &text[..b], &text[e + target.end.len()..]);
            }
        }
        let last_end = Browser::ALL
            .into_iter()
            .map(|b| Target::of(b).end)
            .filter_map(|end| text.find(&end).map(|at| at + end.len()))
            .max();
        if let Some(at) = last_end {
            return format!("{}\n\n{generated}{}", &text[..at], &text[at..]);
        }
    }
    format!(
        "# Benchmarks\n\nProduced by `cargo xtask bench` (see `bench/`); rerun it to refresh the \
         block below. Everything outside that block is written by hand and kept.\n\n\
         ## Results\n\n{generated}\n"
    )
}

const COLORS: &[(&str, &str)] = &[
    ("raw-js-await", "#868e96"),
    ("wasm-websocket", "#d9480f"),
    ("wasm-websocket-feed", "#f59f00"),
    ("wasm-websocket-64m", "#e64980"),
    ("gloo-net", "#1c7ed6"),
    ("ws_stream_wasm", "#2f9e44"),
];

fn color_of(imp: &str) -> &'static str {
    COLORS
        .iter()
        .find(|(k, _)| *k == imp)
        .map_or("#868e96", |(_, c)| c)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart of the ratios to raw JS, with min-max whiskers.
pub fn render_svg(results: &Results, title: &str) -> String {
    let impls: Vec<&str> = results
        .impls()
        .into_iter()
        .filter(|i| *i != REFERENCE)
        .collect();
    let rows: Vec<&Row> = results.rows.iter().collect();
    let (left, right, bar, gap) = (300.0, 40.0, 12.0, 14.0);
    let plot_w = 520.0;
    let width = left + plot_w + right;
    // Legend entries (x, y of the swatch), wrapped onto more lines when they do not fit.
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (10.0, 34.0);
    for imp in &impls {
        let w = 30.0 + 7.0 * impl_label(imp).len() as f64;
        if lx > 10.0 && lx + w > width {
            lx = 10.0;
            ly += 18.0;
        }
        legend.push((*imp, lx, ly));
        lx += w;
    }
    let top = ly + 36.0;
    let group_h = |n: usize| n as f64 * bar + gap;
    let n_bars = |row: &Row| {
        impls
            .iter()
            .filter(|i| row.ratio(i).is_some())
            .count()
            .max(1)
    };
    let height = top + rows.iter().map(|r| group_h(n_bars(r))).sum::<f64>() + 50.0;
    let max_ratio = rows
        .iter()
        .flat_map(|r| impls.iter().filter_map(|i| r.ratio(i)))
        .map(|s| s.max)
        .fold(1.25f64, f64::max)
        .min(4.0);
    let scale_max = (max_ratio * 4.0).ceil() / 4.0;
    let x = |ratio: f64| left + plot_w * (ratio.clamp(0.0, scale_max) / scale_max);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        10,
        xml_escape(title)
    );
    // Legend.
    for (imp, lx, ly) in &legend {
        let color = color_of(imp);
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{ly}" width="12" height="12" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            lx + 16.0,
            ly + 11.0,
            xml_escape(impl_label(imp))
        );
    }
    // Grid.
    let plot_bottom = height - 40.0;
    let mut tick = 0.0;
    while tick <= scale_max + 1e-9 {
        let tx = x(tick);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{top}" x2="{tx:.1}" y2="{plot_bottom}" stroke="#e9ecef"/><text x="{tx:.1}" y="{}" text-anchor="middle" fill="#495057">{tick:.2}x</text>"##,
            plot_bottom + 16.0
        );
        tick += 0.25;
    }
    let x1 = x(1.0);
    let _ = writeln!(
        s,
        r##"<line x1="{x1:.1}" y1="{}" x2="{x1:.1}" y2="{plot_bottom}" stroke="#212529" stroke-width="1.5"/><text x="{x1:.1}" y="{}" text-anchor="middle" font-weight="bold">raw JS = 1.00x</text>"##,
        top - 8.0,
        top - 12.0
    );
    let x95 = x(0.95);
    let _ = writeln!(
        s,
        r##"<line x1="{x95:.1}" y1="{top}" x2="{x95:.1}" y2="{plot_bottom}" stroke="#c92a2a" stroke-dasharray="4 3"/><text x="{x95:.1}" y="{}" text-anchor="end" fill="#c92a2a" font-size="10">0.95x target </text>"##,
        plot_bottom + 28.0
    );
    // Bars.
    let mut y = top;
    for row in &rows {
        let h = group_h(n_bars(row));
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + (h - gap) / 2.0 + 4.0,
            xml_escape(workload_label(&row.key))
        );
        let mut by = y;
        for imp in &impls {
            let Some(r) = row.ratio(imp) else { continue };
            let color = color_of(imp);
            let _ = writeln!(
                s,
                r#"<rect x="{left}" y="{by:.1}" width="{:.1}" height="{}" fill="{color}"><title>{}: {:.2}x ({:.2}-{:.2})</title></rect>"#,
                x(r.median) - left,
                bar - 2.0,
                xml_escape(impl_label(imp)),
                r.median,
                r.min,
                r.max
            );
            let wy = by + (bar - 2.0) / 2.0;
            let _ = writeln!(
                s,
                r##"<line x1="{:.1}" y1="{wy:.1}" x2="{:.1}" y2="{wy:.1}" stroke="#343a40"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#343a40">{:.2}x</text>"##,
                x(r.min),
                x(r.max),
                x(r.max.max(r.median)) + 4.0,
                by + bar - 3.0,
                r.median
            );
            by += bar;
        }
        y += h;
    }
    s.push_str("</svg>\n");
    s
}

// ---------------------------------------------------------------------------------------
// The run.

/// Runs `cargo xtask bench`; `Ok(false)` when runs failed (the table says which).
pub fn run(opts: &Options) -> Result<bool> {
    let root = workspace_root();
    let browser = opts.browser;
    let mode = opts.mode;

    header("install what is missing");
    setup::ensure_rust_target(WASM_TARGET, mode)?;
    let mut needs: Vec<AptNeed> = browser.apt_needs().to_vec();
    needs.push(AptNeed {
        package: "binaryen",
        binaries: &["wasm-opt"],
    });
    needs.push(AptNeed {
        package: "gzip",
        binaries: &["gzip"],
    });
    setup::ensure_apt(&needs, mode)?;
    let version = setup::locked_version(&root, "wasm-bindgen")?;
    let runner = setup::ensure_cargo_install(
        "wasm-bindgen-test-runner",
        "wasm-bindgen-cli",
        Want::Exact(&version),
        mode,
    )?;
    // Installed together with the runner by wasm-bindgen-cli.
    let wasm_bindgen = runner.with_file_name("wasm-bindgen");
    let driver = match browser {
        Browser::Chromium => PathBuf::from("/usr/bin/chromedriver"),
        Browser::Firefox => {
            setup::ensure_cargo_install("geckodriver", "geckodriver", Want::Any, mode)?
        }
        Browser::WebKit => PathBuf::from("/usr/bin/WebKitWebDriver"),
    };

    header("build and start the test peer (release)");
    // The peer must not be what is measured: optimise it for speed, not size.
    Cmd::cargo()
        .args(["build", "--release", "-p", "ws-peer"])
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .cwd(&root)
        .run()?;
    let peer = Peer::start(&target_dir(&root).join("release").join("ws-peer"))?;

    header(&format!("benchmark in {browser}"));
    // The runner reads webdriver.json from its working directory, which cargo sets to the
    // package directory.
    let webdriver = root.join("webdriver.json");
    if webdriver.exists() {
        fs::copy(&webdriver, root.join("bench").join("webdriver.json"))
            .map_err(|e| Error::new(format!("copying webdriver.json into bench/: {e}")))?;
    }
    let reps = opts.reps();
    let mut impls = opts.impls.clone();
    if !impls.is_empty() && !impls.iter().any(|i| i == REFERENCE) {
        impls.push(REFERENCE.to_string());
    }
    let cargo = browser.cargo();
    let mut cmd = cargo
        .args([
            "test",
            "-p",
            "bench",
            "--release",
            "--target",
            WASM_TARGET,
            "--test",
            "bench",
            "--",
            "--nocapture",
        ])
        .cwd(&root)
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "1800")
        .env("WASM_WS_PEER", peer.addr().to_string())
        .env("BENCH_REPS", reps.to_string())
        .env("BENCH_SCALE", if opts.quick { "10" } else { "1" })
        .env(
            "BENCH_MEMORY_CYCLES",
            if opts.quick { "200" } else { "2000" },
        )
        .env("BENCH_ONLY", opts.only.join(","))
        .env("BENCH_IMPLS", impls.join(","))
        .env_remove("NO_HEADLESS");
    for var in ["CHROMEDRIVER", "GECKODRIVER", "SAFARIDRIVER"] {
        if var != browser.driver_var() {
            cmd = cmd.env_remove(var);
        }
    }
    cmd = cmd.env(browser.driver_var(), &driver);
    let (status, output) = cmd.run_tee()?;
    drop(peer);
    let results = Results::from_output(&output);
    if !status.success() {
        bail!("{}", cmd.failed(status));
    }
    if results.rows.is_empty() && results.memory.is_empty() {
        bail!("`{cmd}` printed no BENCH lines");
    }

    let sizes = if opts.size {
        header("shipped size of a minimal client");
        measure_sizes(&root, &wasm_bindgen)?
    } else {
        Vec::new()
    };

    let settings = format!(
        "{reps} measured rounds after a warm-up, implementations interleaved and rotated{}; peer: ws-peer release build over loopback",
        if opts.quick {
            ", --quick (a tenth of the messages)"
        } else {
            ""
        }
    );
    let env = environment(browser, settings);
    let target = Target::of(browser);
    let generated = render_generated(&results, &sizes, &env, &target);
    let title = format!("Speed relative to raw JS ({}, {})", env.browser, env.date);
    let svg = render_svg(&results, &title);

    header("results");
    println!("{}", render_table(&results, &sizes));
    if !sizes.is_empty() {
        println!("{}", render_sizes(&sizes));
    }
    if !results.memory.is_empty() {
        println!("{}", render_memory(&results.memory));
    }
    for e in &results.errors {
        println!("failed: {e}");
    }

    let (md_path, svg_path) = if opts.is_full() {
        (
            root.join("BENCHMARKS.md"),
            root.join("bench").join(&target.svg),
        )
    } else {
        let dir = target_dir(&root).join("bench-results");
        fs::create_dir_all(&dir).map_err(|e| Error::new(format!("{}: {e}", dir.display())))?;
        (dir.join("BENCHMARKS.md"), dir.join(&target.svg))
    };
    let existing = fs::read_to_string(&md_path).ok();
    let markdown = merge_markdown(existing.as_deref(), &generated, &target);
    fs::write(&md_path, markdown).map_err(|e| Error::new(format!("{}: {e}", md_path.display())))?;
    fs::write(&svg_path, svg).map_err(|e| Error::new(format!("{}: {e}", svg_path.display())))?;
    println!("wrote {} and {}", md_path.display(), svg_path.display());
    Ok(results.errors.is_empty())
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
        .unwrap()
        .unwrap();
        assert_eq!(o.browser, Browser::Firefox);
        assert_eq!(o.reps(), 3);
        assert_eq!(o.only, ["pingpong", "flood-recv"]);
        assert!(!o.is_full());
        assert_eq!(parse(&["--quick"]).unwrap().unwrap().reps(), 2);
        assert!(parse(&["--reps", "0"]).is_err());
        assert!(parse(&["--browser", "safari"]).is_err());
        assert!(parse(&["--quick=1"]).is_err());
        assert_eq!(parse(&["-h"]), Ok(None));
    }

    #[test]
    fn bench_lines() {
        let line = r#"BENCH {"impl":"raw-js","workload":"pingpong","rep":3,"value":101.5,"unit":"us","better":"lower","ms":-1e-3}"#;
        let r = parse_bench_line(line).unwrap();
        assert_eq!(get_str(&r, "impl"), Some("raw-js"));
        assert_eq!(get_num(&r, "rep"), Some(3.0));
        assert_eq!(get_num(&r, "value"), Some(101.5));
        assert_eq!(get_num(&r, "ms"), Some(-0.001));
        // The runner may prefix console output.
        assert!(parse_bench_line(&format!("log output: {line}")).is_some());
        assert!(parse_bench_line("BENCH {\"a\":}").is_none());
        assert!(parse_bench_line("test bench ... ok").is_none());
    }

    #[test]
    fn spread_and_ratios() {
        assert_eq!(
            Spread::of(&[3.0, 1.0, 2.0]),
            Some(Spread {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert_eq!(Spread::of(&[]), None);
        let out = [
            r#"BENCH {"impl":"raw-js","workload":"pingpong","rep":0,"value":999,"unit":"us","better":"lower"}"#,
            r#"BENCH {"impl":"raw-js","workload":"pingpong","rep":1,"value":100,"unit":"us","better":"lower"}"#,
            r#"BENCH {"impl":"raw-js","workload":"pingpong","rep":2,"value":100,"unit":"us","better":"lower"}"#,
            r#"BENCH {"impl":"gloo-net","workload":"pingpong","rep":1,"value":125,"unit":"us","better":"lower"}"#,
            r#"BENCH {"impl":"gloo-net","workload":"pingpong","rep":2,"value":100,"unit":"us","better":"lower"}"#,
            r#"BENCH {"impl":"raw-js","workload":"flood-recv","rep":1,"value":100,"unit":"msg/s","better":"higher"}"#,
            r#"BENCH {"impl":"gloo-net","workload":"flood-recv","rep":1,"value":80,"unit":"msg/s","better":"higher"}"#,
            r#"BENCH {"impl":"gloo-net","workload":"send-count","rep":1,"error":"boom"}"#,
            r#"BENCH {"impl":"wasm-websocket","workload":"memory","cycles":2000,"mem_before":1,"mem_after":1,"listeners_before":0,"listeners_after":0}"#,
        ]
        .join("\n");
        let results = Results::from_output(&out);
        assert_eq!(results.rows.len(), 2);
        assert_eq!(results.rows[0].key, "pingpong");
        let ping = results.rows[0].ratio("gloo-net").unwrap();
        assert!((ping.median - 0.9).abs() < 1e-9);
        assert_eq!((ping.min, ping.max), (0.8, 1.0));
        assert!((results.rows[1].ratio("gloo-net").unwrap().median - 0.8).abs() < 1e-9);
        assert_eq!(results.errors.len(), 1);
        assert_eq!(results.memory[0].listeners, Some((0.0, 0.0)));
        let table = render_table(&results, &[]);
        assert!(table.contains("| ping-pong round trip, 16 B text (us, lower is better) | 100 (100-100) | 0.90x (0.80-1.00) |"));
        let svg = render_svg(&results, "t");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn svg_legend_wraps_when_every_implementation_ran() {
        let out: String = IMPLS
            .iter()
            .map(|(imp, _)| {
                format!(
                    r#"BENCH {{"impl":"{imp}","workload":"send-count","rep":1,"value":100,"unit":"msg/s","better":"higher"}}"#
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let svg = render_svg(&Results::from_output(&out), "t");
        // Every label is drawn, inside the image, on two lines.
        let width: f64 = 860.0;
        let mut lines = Vec::new();
        for (_, label) in &IMPLS[1..] {
            let at = svg.find(&format!(">{label}</text>")).unwrap();
            let text = &svg[svg[..at].rfind("<text").unwrap()..at];
            let num = |attr: &str| -> f64 {
                let v = &text[text.find(attr).unwrap() + attr.len()..];
                v[..v.find('"').unwrap()].parse().unwrap()
            };
            let x = num("x=\"");
            assert!(x + 7.0 * label.len() as f64 <= width, "{label} at {x}");
            lines.push(num("y=\""));
        }
        lines.dedup();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(svg.contains(r#"width="860""#));
    }

    #[test]
    fn markdown_block_is_replaced_in_place() {
        let chromium = Target::of(Browser::Chromium);
        let first = merge_markdown(None, &format!("{BEGIN}\nA\n{END}"), &chromium);
        assert!(first.starts_with("# Benchmarks"));
        let edited =
            first.replace("## Results", "## Results\n\nhand-written") + "\n## Notes\nkept\n";
        let second = merge_markdown(Some(&edited), &format!("{BEGIN}\nB\n{END}"), &chromium);
        assert!(
            second.contains("hand-written") && second.contains("kept") && second.contains("\nB\n")
        );
        assert!(!second.contains("\nA\n"));
        // Firefox gets its own block after Chromium's, then is replaced in place.
        let firefox = Target::of(Browser::Firefox);
        assert_eq!(firefox.svg, "ratios-firefox.svg");
        let block = |x: &str| format!("{}\n{x}\n{}", firefox.begin, firefox.end);
        let third = merge_markdown(Some(&second), &block("F1"), &firefox);
        let (c, f, k) = (
            third.find("\nB\n").unwrap(),
            third.find("\nF1\n").unwrap(),
            third.find("## Notes").unwrap(),
        );
        assert!(c < f && f < k, "{third}");
        let fourth = merge_markdown(Some(&third), &block("F2"), &firefox);
        assert!(fourth.contains("\nF2\n") && !fourth.contains("F1") && fourth.contains("\nB\n"));
        // A third browser's new block goes after the last block, here Firefox's.
        let webkit = Target::of(Browser::WebKit);
        assert_eq!(webkit.heading.as_deref(), Some("### WebKit"));
        let fifth = merge_markdown(
            Some(&fourth),
            &format!("{}\nW1\n{}", webkit.begin, webkit.end),
            &webkit,
        );
        let (f, w, k) = (
            fifth.find("\nF2\n").unwrap(),
            fifth.find("\nW1\n").unwrap(),
            fifth.find("## Notes").unwrap(),
        );
        assert!(f < w && w < k, "{fifth}");
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }
}
