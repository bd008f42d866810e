//! The browser benchmark behind `cargo xtask bench`: the same workloads through raw JS,
//! `wasm-websocket`, `gloo-net` and `ws_stream_wasm`, interleaved, in one browser session.
//!
//! [`run`] prints one line per measurement through `console.log`:
//! `BENCH {"impl":"raw-js","workload":"pingpong","rep":1,"value":101.5,"unit":"us","better":"lower"}`
//! (rep 0 is the warm-up). `cargo xtask bench` parses these lines; nothing else matters
//! about the output.
#![cfg(target_arch = "wasm32")]

mod impls;
mod raw;

use wasm_bindgen::prelude::*;
use xtask_record::{Bench, Better, Outcome, Record};

pub use impls::memory_cycles;

/// The test peer's `host:port`, given at compile time by `cargo xtask bench`.
pub const PEER: &str = match option_env!("WASM_WS_PEER") {
    Some(addr) => addr,
    None => "127.0.0.1:9001",
};

/// `ws://PEER{path}`.
pub fn url(path: &str) -> String {
    format!("ws://{PEER}{path}")
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(line: &str);
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    pub(crate) fn now() -> f64;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &js_sys::Function, ms: i32);
}

/// Prints one line of the output.
pub fn log(line: &str) {
    console_log(line);
}

/// Prints one `BENCH` line.
pub fn log_record(bench: Bench) {
    console_log(&Record::Bench(bench).to_string());
}

/// Resolves after `ms` milliseconds (lets the browser and the peer settle between runs).
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| set_timeout(&resolve, ms));
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// An implementation under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// The browser's `WebSocket` driven by JS (`src/raw.js`): the reference.
    RawJs,
    /// Raw JS taking each received message with one awaited promise, as any `Stream`
    /// consumer does: what the async model itself costs, in JS.
    RawJsAwait,
    /// This crate, used the recommended way: `send().await` (feed + flush) in sequential
    /// loops, `feed` then one `flush` when pipelining.
    Ours,
    /// This crate with `feed` (no flush) in the sequential loops.
    OursFeed,
    /// This crate with a 64 MiB high-water mark instead of the 1 MiB default, in the rows
    /// that send more than the default mark: what waiting at the mark costs in that run.
    OursBigMark,
    /// `gloo-net`'s `websocket::futures::WebSocket`.
    Gloo,
    /// `ws_stream_wasm`'s `WsMeta` + `WsStream`.
    WsStream,
    /// This crate's `ReconnectingWebSocket` read as a `Stream` (receiving rows only): what
    /// the reconnecting layer costs over a plain `WebSocket` in the same run.
    OursReconnecting,
    /// This crate's Leptos hook, counting in its `on_message` callback (receiving rows
    /// only): compared with raw JS counting in its event handler.
    OursHook,
}

impl Impl {
    pub const ALL: [Impl; 9] = [
        Impl::RawJs,
        Impl::RawJsAwait,
        Impl::Ours,
        Impl::OursFeed,
        Impl::OursBigMark,
        Impl::OursReconnecting,
        Impl::OursHook,
        Impl::Gloo,
        Impl::WsStream,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Impl::RawJs => "raw-js",
            Impl::RawJsAwait => "raw-js-await",
            Impl::Ours => "wasm-websocket",
            Impl::OursFeed => "wasm-websocket-feed",
            Impl::OursBigMark => "wasm-websocket-64m",
            Impl::Gloo => "gloo-net",
            Impl::WsStream => "ws_stream_wasm",
            Impl::OursReconnecting => "wasm-websocket-reconnecting",
            Impl::OursHook => "wasm-websocket-hook",
        }
    }
}

/// A workload; every implementation runs exactly the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Sequential round trips of a 16-byte text message.
    PingPong { n: u32 },
    /// `n` messages of `size` bytes sent at once to `/echo`, until all came back.
    Echo { binary: bool, size: u32, n: u32 },
    /// Receive `/flood` of `n` 16-byte binary messages.
    Flood { n: u32 },
    /// Send `n` text messages of `size` bytes to `/count` until it confirms them all.
    SendCount { n: u32, size: u32 },
    /// `n` sequential connect + close cycles.
    ConnectClose { n: u32 },
    /// `sockets` open sockets each doing `rounds` sequential round trips, all at once.
    Many { sockets: u32, rounds: u32 },
}

impl Workload {
    /// The full set; `scale` divides the message counts (for `--quick`).
    pub fn all(scale: u32) -> Vec<Workload> {
        let s = |n: u32| (n / scale).max(1);
        vec![
            Workload::PingPong { n: s(2000) },
            Workload::Echo {
                binary: false,
                size: 16,
                n: s(20_000),
            },
            Workload::Echo {
                binary: true,
                size: 64 << 10,
                n: s(400),
            },
            Workload::Echo {
                binary: true,
                size: 1 << 20,
                n: s(50),
            },
            Workload::Flood { n: s(20_000) },
            Workload::SendCount {
                n: s(20_000),
                size: 1024,
            },
            Workload::ConnectClose { n: s(100) },
            Workload::Many {
                sockets: 100,
                rounds: s(50),
            },
        ]
    }

    /// The stable key used in the output and in BENCHMARKS.md.
    pub fn key(self) -> &'static str {
        match self {
            Workload::PingPong { .. } => "pingpong",
            Workload::Echo { binary: false, .. } => "echo-text-16",
            Workload::Echo {
                binary: true, size, ..
            } if size < (1 << 20) => "echo-bin-64k",
            Workload::Echo { .. } => "echo-bin-1m",
            Workload::Flood { .. } => "flood-recv",
            Workload::SendCount { .. } => "send-count",
            Workload::ConnectClose { .. } => "connect-close",
            Workload::Many { .. } => "many-100",
        }
    }

    /// Whether `imp` runs this workload (the feed variant only differs in sequential loops,
    /// the 64 MiB mark only where more than the default mark is sent at once, the awaiting
    /// raw JS variant only where messages are received, the reconnecting and hook variants
    /// only in the receive flood).
    pub fn applies_to(self, imp: Impl) -> bool {
        match imp {
            Impl::OursFeed => matches!(self, Workload::PingPong { .. } | Workload::Many { .. }),
            Impl::OursBigMark => matches!(
                self,
                Workload::Echo { binary: true, .. } | Workload::SendCount { .. }
            ),
            Impl::OursReconnecting | Impl::OursHook => matches!(self, Workload::Flood { .. }),
            Impl::RawJsAwait => !matches!(
                self,
                Workload::SendCount { .. } | Workload::ConnectClose { .. }
            ),
            _ => true,
        }
    }

    /// Turns elapsed milliseconds into the reported figure: (value, unit, lower is better).
    pub fn figure(self, ms: f64) -> (f64, &'static str, bool) {
        let secs = ms / 1000.0;
        match self {
            Workload::PingPong { n } => (ms * 1000.0 / f64::from(n), "us", true),
            Workload::ConnectClose { n } => (ms * 1000.0 / f64::from(n), "us", true),
            Workload::Echo { binary, size, n } => {
                if binary {
                    (f64::from(size) * f64::from(n) / secs / 1e6, "MB/s", false)
                } else {
                    (f64::from(n) / secs, "msg/s", false)
                }
            }
            Workload::Flood { n } | Workload::SendCount { n, .. } => {
                (f64::from(n) / secs, "msg/s", false)
            }
            Workload::Many { sockets, rounds } => {
                (f64::from(sockets * rounds) / secs, "rt/s", false)
            }
        }
    }

    /// Runs once with `imp`; the elapsed milliseconds of the timed part.
    pub async fn run(self, imp: Impl) -> Result<f64, String> {
        match imp {
            Impl::RawJs => raw::run(self, false).await,
            Impl::RawJsAwait => raw::run(self, true).await,
            Impl::Ours => impls::ours(self, false).await,
            Impl::OursFeed => impls::ours(self, true).await,
            Impl::OursBigMark => impls::ours_big_mark(self).await,
            Impl::Gloo => impls::gloo(self).await,
            Impl::WsStream => impls::ws_stream(self).await,
            Impl::OursReconnecting => impls::ours_reconnecting(self).await,
            Impl::OursHook => impls::ours_hook(self).await,
        }
    }
}

/// Benchmark settings, from compile-time variables set by `cargo xtask bench`.
#[derive(Clone, Debug)]
pub struct Config {
    /// Measured repetitions (a warm-up round comes first).
    pub reps: u32,
    /// Divides the message counts.
    pub scale: u32,
    /// Only these workload keys (all if empty).
    pub only: Vec<String>,
    /// Only these implementations (all if empty).
    pub impls: Vec<String>,
}

impl Config {
    pub fn from_env() -> Config {
        let list = |v: Option<&str>| -> Vec<String> {
            v.unwrap_or("")
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        Config {
            reps: option_env!("BENCH_REPS")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5),
            scale: option_env!("BENCH_SCALE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1)
                .max(1),
            only: list(option_env!("BENCH_ONLY")),
            impls: list(option_env!("BENCH_IMPLS")),
        }
    }
}

/// Runs every workload with every implementation, interleaved, `reps + 1` times (the first
/// round is the warm-up), and prints one `BENCH` line per run.
pub async fn run(config: &Config) {
    let workloads: Vec<Workload> = Workload::all(config.scale)
        .into_iter()
        .filter(|w| config.only.is_empty() || config.only.iter().any(|o| o == w.key()))
        .collect();
    let impls: Vec<Impl> = Impl::ALL
        .into_iter()
        .filter(|i| config.impls.is_empty() || config.impls.iter().any(|o| o == i.name()))
        .collect();
    log(&format!(
        "bench: {} workloads x {} implementations x ({} reps + warm-up), peer {PEER}",
        workloads.len(),
        impls.len(),
        config.reps
    ));
    for rep in 0..=config.reps {
        for &workload in &workloads {
            let applicable: Vec<Impl> = impls
                .iter()
                .copied()
                .filter(|&i| workload.applies_to(i))
                .collect();
            // Rotate the order every round so no implementation always goes first.
            let k = applicable.len().max(1);
            for j in 0..applicable.len() {
                let imp = applicable[(j + rep as usize) % k];
                let outcome = workload.run(imp).await;
                let outcome = match outcome {
                    Ok(ms) => {
                        let (value, unit, lower) = workload.figure(ms);
                        Outcome::Run {
                            rep,
                            value: (value * 1000.0).round() / 1000.0,
                            unit: unit.to_string(),
                            better: if lower { Better::Lower } else { Better::Higher },
                            ms: (ms * 1000.0).round() / 1000.0,
                        }
                    }
                    Err(error) => Outcome::Failed { error },
                };
                log_record(Bench {
                    imp: imp.name().to_string(),
                    workload: workload.key().to_string(),
                    outcome,
                });
                sleep(20).await;
            }
        }
    }
}
