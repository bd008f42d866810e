//! The tables of a benchmark run, and `BENCHMARKS.md`: one generated block per browser,
//! replaced in place; everything around the blocks is written by hand and kept.

use std::fmt::Write as _;
use std::fs;
use std::process::Command;

use super::results::{impl_label, workload_label, Memory, Results, REFERENCE};
use super::size::Size;
use crate::browser::Browser;
use crate::run::Run;

/// Where and how a run was measured.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub browser: String,
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    cores: usize,
    cpu: String,
    load: String,
    settings: String,
}

impl Environment {
    pub fn of(browser: Browser, settings: String) -> Environment {
        Environment::on(browser_version(browser), settings)
    }

    /// A native run: `rustc`'s version instead of a browser's.
    pub fn native(settings: String) -> Environment {
        let rustc = Command::new("rustc").arg("--version").read();
        let rustc = rustc.map_or("rustc".into(), |v| v.trim().to_string());
        Environment::on(format!("native code ({rustc}), tokio"), settings)
    }

    fn on(browser: String, settings: String) -> Environment {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo.lines().find_map(|l| l.strip_prefix("model name"));
        let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
        Environment {
            browser,
            date: time::OffsetDateTime::now_utc().date().to_string(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu: cpu.map_or("unknown CPU".into(), |c| {
                c.trim_start_matches([' ', '\t', ':']).trim().into()
            }),
            load: load
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            settings,
        }
    }
}

fn browser_version(browser: Browser) -> String {
    let candidates: &[&str] = match browser {
        Browser::Chromium => &["chromium", "/usr/bin/chromium"],
        Browser::Firefox => &["firefox-esr", "firefox"],
        // MiniBrowser has no usable --version (it needs a display).
        Browser::WebKit => return webkitgtk_version().unwrap_or_else(|| browser.name().into()),
    };
    for exe in candidates {
        if let Ok(path) = which::which(exe) {
            if let Ok(out) = Command::new(path).arg("--version").read() {
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
    let version = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"])
        .read()
        .ok()?;
    // "2.50.6-1~deb12u2" -> "WebKitGTK 2.50.6"
    let upstream = version.trim().split('-').next().filter(|v| !v.is_empty())?;
    Some(format!("WebKitGTK {upstream}"))
}

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

/// A Markdown table: the header row, its rule, and the rows.
fn markdown_table(header: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let rule = format!("|{}\n", "---|".repeat(header.len()));
    std::iter::once(line(header))
        .chain([rule])
        .chain(rows.iter().map(|r| line(r)))
        .collect()
}

fn or_dash<T>(value: Option<T>, show: impl Fn(T) -> String) -> String {
    value.map_or("-".to_string(), show)
}

/// The results table in Markdown (also printed as is).
pub fn table(results: &Results, sizes: &[Size]) -> String {
    let others = results.compared();
    let reference = results.reference();
    let mut header = vec![
        "workload".to_string(),
        format!("{} (median, min-max)", impl_label(reference)),
    ];
    header.extend(others.iter().map(|i| impl_label(i).to_string()));
    let mut rows: Vec<Vec<String>> = results
        .rows
        .iter()
        .map(|row| {
            let better = if row.lower_is_better {
                "lower"
            } else {
                "higher"
            };
            let mut cells = vec![format!(
                "{} ({}, {better} is better)",
                workload_label(&row.key),
                row.unit
            )];
            let raw = row.spread(reference);
            cells.push(or_dash(raw, |s| {
                format!(
                    "{} ({}-{})",
                    fmt_value(s.median),
                    fmt_value(s.min),
                    fmt_value(s.max)
                )
            }));
            let ratio = |imp| {
                or_dash(row.ratio(imp), |r| {
                    format!("{:.2}x ({:.2}-{:.2})", r.median, r.min, r.max)
                })
            };
            cells.extend(others.iter().map(|imp| ratio(imp)));
            cells
        })
        .collect();
    if !sizes.is_empty() {
        let size = |imp: &str| {
            or_dash(sizes.iter().find(|s| s.imp == imp), |s| {
                fmt_kb(s.total_gz())
            })
        };
        let mut cells = vec![
            "shipped size of a connect / echo / close client, wasm + JS, gzip -9 (smaller is better)".to_string(),
            format!("{} (web-sys)", size(REFERENCE)),
        ];
        cells.extend(others.iter().map(|imp| size(imp)));
        rows.push(cells);
    }
    markdown_table(&header, &rows)
}

pub fn size_table(sizes: &[Size]) -> String {
    let header = [
        "client",
        "wasm (after wasm-opt -Oz)",
        "JS glue",
        "wasm gzip -9",
        "JS gzip -9",
        "total gzip -9",
    ];
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|s| {
            let total = format!("**{} B** ({})", s.total_gz(), fmt_kb(s.total_gz()));
            let bytes = [s.wasm, s.js, s.wasm_gz, s.js_gz].map(|b| format!("{b} B"));
            [
                vec![impl_label(&s.imp).to_string()],
                bytes.to_vec(),
                vec![total],
            ]
            .concat()
        })
        .collect();
    markdown_table(&header.map(String::from), &rows)
}

pub fn memory_table(memory: &[Memory]) -> String {
    let header = [
        "implementation",
        "cycles",
        "wasm memory before",
        "after",
        "listeners before",
        "after",
    ];
    let rows: Vec<Vec<String>> = memory
        .iter()
        .map(|m| {
            let (before, after) = m.listeners.map_or(("n/a".into(), "n/a".into()), |(b, a)| {
                (b.to_string(), a.to_string())
            });
            let bytes = [m.mem_before, m.mem_after].map(|b| format!("{b} B"));
            vec![
                impl_label(&m.imp).to_string(),
                m.cycles.to_string(),
                bytes[0].clone(),
                bytes[1].clone(),
                before,
                after,
            ]
        })
        .collect();
    markdown_table(&header.map(String::from), &rows)
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

/// The block of a native run (`--native`), after the browsers' blocks.
pub fn native_target() -> Target {
    Target {
        begin: "<!-- xtask bench native: begin (generated by `cargo xtask bench --native`; edits here are replaced) -->".into(),
        end: "<!-- xtask bench native: end -->".into(),
        svg: String::new(),
        heading: Some("### Native (tokio)".into()),
    }
}

/// A generated block's start marker, heading and where and how it was measured.
fn block_start(env: &Environment, target: &Target) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", target.begin);
    if let Some(heading) = &target.heading {
        let _ = writeln!(s, "{heading}\n");
    }
    let _ = writeln!(
        s,
        "Measured {} in {}, on {} ({} cores), load average at start {}; {}.\n",
        env.date, env.browser, env.cpu, env.cores, env.load, env.settings
    );
    s
}

/// The generated block of a native run.
pub fn generated_native(results: &Results, env: &Environment) -> String {
    let target = &native_target();
    let mut s = block_start(env, target);
    s.push_str(
        "The same workloads as in the browsers (`bench/native`), one process, a current-thread \
         tokio runtime. tokio-tungstenite used directly is the reference: it is the transport \
         wasm-websocket runs on natively, so the ratios (the median of per-round ratios, \
         higher is better, 1.00x = tokio-tungstenite, range in brackets) are what the crate's \
         layer costs: its connection task, its channels, and the backpressure accounting. \
         `wasm-websocket` uses `send().await` in the ping-pong loop and `feed` + one `flush` \
         when pipelining, as tokio-tungstenite does.\n\n",
    );
    s.push_str(&table(results, &[]));
    if !results.errors.is_empty() {
        s.push_str("\n#### Failed runs\n\n");
        for e in &results.errors {
            let _ = writeln!(s, "- {e}");
        }
    }
    let _ = write!(s, "{}", target.end);
    s
}

pub fn generated(results: &Results, sizes: &[Size], env: &Environment, target: &Target) -> String {
    let mut s = block_start(env, target);
    s.push_str(
        "Raw JS is the browser's own `WebSocket` driven from JS (`bench/src/raw.js`), the physical \
         limit; the other columns are speed relative to it from the same session (higher is \
         better, 1.00x = raw JS): the median of the per-round ratios (each round runs every \
         implementation back to back, so a pair shares the load of that moment), and in \
         brackets their range. `wasm-websocket` uses `send().await` (feed + flush, which waits for \
         `bufferedAmount` to drain) in the sequential loops and `feed` + one `flush` when \
         pipelining; `wasm-websocket (feed)` uses `feed` alone in the sequential loops; `wasm-websocket (64 MiB mark)` is the same code with `high_water_mark(64 << 20)` instead of the 1 MiB default, in the three rows that send more than 1 MiB at once, so the difference between the two columns is what waiting at the default mark costs in that run (raw JS and the other wrappers apply no backpressure). `raw JS, await per message` is raw JS written the way every `Stream` consumer is: each received message is taken with one awaited promise (a microtask) instead of inside the event handler, and not copied; it shows what the async model itself costs, in JS (send-only and connect + close have no such variant).\n\n",
    );
    s.push_str(&table(results, sizes));
    let _ = writeln!(s, "\n![ratios to raw JS](bench/{})", target.svg);
    if !sizes.is_empty() {
        s.push_str("\n### Shipped size\n\nA minimal \"connect, echo once, close\" client (`bench/size/*`), built for `wasm32-unknown-unknown` with the workspace release profile (lto, `opt-level = \"z\"`, one codegen unit), `wasm-bindgen --target web`, `wasm-opt -Oz`, then each file gzipped at level 9 (flate2; the DEFLATE level of `gzip -9`).\n\n");
        s.push_str(&size_table(sizes));
    }
    if !results.memory.is_empty() {
        s.push_str("\n### Memory\n\nConnect, echo one message, close, repeated; wasm linear memory (`wasm_bindgen::memory()` buffer length) and `wasm_websocket::live_listeners()` after a warm-up of 50 cycles and after the run.\n\n");
        s.push_str(&memory_table(&results.memory));
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
pub fn merge(existing: Option<&str>, generated: &str, target: &Target) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_table() {
        let table = table(&super::super::results::tests::sample(), &[]);
        assert!(table.contains("| ping-pong round trip, 16 B text (us, lower is better) | 100 (100-100) | 0.90x (0.80-1.00) |"), "{table}");
    }

    #[test]
    fn markdown_block_is_replaced_in_place() {
        let chromium = Target::of(Browser::Chromium);
        let first = merge(None, &format!("{BEGIN}\nA\n{END}"), &chromium);
        assert!(first.starts_with("# Benchmarks"));
        let edited =
            first.replace("## Results", "## Results\n\nhand-written") + "\n## Notes\nkept\n";
        let second = merge(Some(&edited), &format!("{BEGIN}\nB\n{END}"), &chromium);
        assert!(
            second.contains("hand-written") && second.contains("kept") && second.contains("\nB\n")
        );
        assert!(!second.contains("\nA\n"));
        // Firefox gets its own block after Chromium's, then is replaced in place.
        let firefox = Target::of(Browser::Firefox);
        assert_eq!(firefox.svg, "ratios-firefox.svg");
        let block = |x: &str| format!("{}\n{x}\n{}", firefox.begin, firefox.end);
        let third = merge(Some(&second), &block("F1"), &firefox);
        let (c, f, k) = (
            third.find("\nB\n").unwrap(),
            third.find("\nF1\n").unwrap(),
            third.find("## Notes").unwrap(),
        );
        assert!(c < f && f < k, "{third}");
        let fourth = merge(Some(&third), &block("F2"), &firefox);
        assert!(fourth.contains("\nF2\n") && !fourth.contains("F1") && fourth.contains("\nB\n"));
        // A third browser's new block goes after the last block, here Firefox's.
        let webkit = Target::of(Browser::WebKit);
        assert_eq!(webkit.heading.as_deref(), Some("### WebKit"));
        let fifth = merge(
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
}
