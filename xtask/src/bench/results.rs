//! What a benchmark run measured, read from its `BENCH` lines, and the ratios to raw JS.

use std::collections::BTreeMap;

use xtask_record::{Bench, Better, Outcome, Record};

/// Implementations in table order, with their labels; a reference comes first.
pub const IMPLS: &[(&str, &str)] = &[
    ("raw-js", "raw JS"),
    ("tokio-tungstenite", "tokio-tungstenite"),
    ("raw-js-await", "raw JS, await per message"),
    ("wasm-websocket", "wasm-websocket"),
    ("wasm-websocket-feed", "wasm-websocket (feed)"),
    ("wasm-websocket-64m", "wasm-websocket (64 MiB mark)"),
    (
        "wasm-websocket-reconnecting",
        "wasm-websocket (ReconnectingWebSocket)",
    ),
    (
        "wasm-websocket-hook",
        "wasm-websocket (Leptos hook on_message)",
    ),
    ("gloo-net", "gloo-net"),
    ("ws_stream_wasm", "ws_stream_wasm"),
    ("tokio-tungstenite-wasm", "tokio-tungstenite-wasm"),
    ("ewebsock", "ewebsock"),
];
/// The reference of a browser run.
pub const REFERENCE: &str = "raw-js";
/// The reference of a native run (`--native`): the transport wasm-websocket runs on there.
pub const NATIVE_REFERENCE: &str = "tokio-tungstenite";

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

fn label<'a>(table: &[(&str, &'a str)], key: &'a str) -> &'a str {
    table
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, label)| label)
}

pub fn impl_label(key: &str) -> &str {
    label(IMPLS, key)
}

pub fn workload_label(key: &str) -> &str {
    label(WORKLOADS, key)
}

/// Median, min and max of a sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    /// `None` for a sample without finite values.
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let (n, mid) = (v.len(), v.len() / 2);
        let median = if n % 2 == 1 {
            v[mid]
        } else {
            (*v.get(mid.checked_sub(1)?)? + v[mid]) / 2.0
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
    /// Per implementation: (round, value) of every measured (non-warm-up) run.
    pub runs: BTreeMap<String, Vec<(u32, f64)>>,
}

impl Row {
    pub fn spread(&self, imp: &str) -> Option<Spread> {
        Spread::of(
            &self
                .runs
                .get(imp)?
                .iter()
                .map(|(_, v)| *v)
                .collect::<Vec<_>>(),
        )
    }

    /// Speed relative to raw JS (higher is better, 1.0 = raw JS), per round: each round
    /// runs the implementations back to back, so a pair shares the machine's load of that
    /// moment. The median of those per-round ratios, with their min and max.
    pub fn ratio(&self, imp: &str) -> Option<Spread> {
        let reference = [REFERENCE, NATIVE_REFERENCE]
            .into_iter()
            .find_map(|r| self.runs.get(r))?;
        let raw: BTreeMap<u32, f64> = reference.iter().copied().collect();
        let paired = self.runs.get(imp)?.iter().filter_map(|(rep, own)| {
            let raw = raw.get(rep)?;
            Some(if self.lower_is_better {
                raw / own
            } else {
                own / raw
            })
        });
        Spread::of(&paired.collect::<Vec<_>>())
    }
}

/// The memory figures of one implementation.
#[derive(Clone, Debug, PartialEq)]
pub struct Memory {
    pub imp: String,
    pub cycles: u32,
    pub mem_before: f64,
    pub mem_after: f64,
    /// `None` where the library cannot count its listeners.
    pub listeners: Option<(f64, f64)>,
}

/// Everything read from a run.
#[derive(Clone, Debug, Default)]
pub struct Results {
    /// In table order, unknown workloads last.
    pub rows: Vec<Row>,
    pub memory: Vec<Memory>,
    pub errors: Vec<String>,
}

impl Results {
    pub fn from_output(output: &str) -> Results {
        let mut results = Results::default();
        for record in Record::parse_all(output) {
            if let Record::Bench(bench) = record {
                results.add(bench);
            }
        }
        let order = |key: &str| {
            WORKLOADS
                .iter()
                .position(|(k, _)| *k == key)
                .unwrap_or(usize::MAX)
        };
        results.rows.sort_by_key(|r| order(&r.key));
        results
    }

    fn add(
        &mut self,
        Bench {
            imp,
            workload,
            outcome,
        }: Bench,
    ) {
        match outcome {
            Outcome::Failed { error } => self.errors.push(format!("{imp} / {workload}: {error}")),
            Outcome::Memory {
                cycles,
                mem_before,
                mem_after,
                listeners,
            } => self.memory.push(Memory {
                imp,
                cycles,
                mem_before,
                mem_after,
                listeners,
            }),
            // Round 0 is the warm-up.
            Outcome::Run { rep: 0, .. } => {}
            Outcome::Run {
                rep,
                value,
                unit,
                better,
                ..
            } => {
                let index = match self.rows.iter().position(|r| r.key == workload) {
                    Some(i) => i,
                    None => {
                        let lower_is_better = better == Better::Lower;
                        self.rows.push(Row {
                            key: workload,
                            unit,
                            lower_is_better,
                            ..Row::default()
                        });
                        self.rows.len() - 1
                    }
                };
                self.rows[index]
                    .runs
                    .entry(imp)
                    .or_default()
                    .push((rep, value));
            }
        }
    }

    /// Implementations that appear in the results, in table order.
    pub fn impls(&self) -> Vec<&'static str> {
        let ran = |k: &&str| self.rows.iter().any(|r| r.runs.contains_key(*k));
        IMPLS.iter().map(|(k, _)| *k).filter(ran).collect()
    }

    /// The implementation the ratios are to: raw JS in a browser run, tokio-tungstenite
    /// in a native one.
    pub fn reference(&self) -> &'static str {
        if self.impls().contains(&NATIVE_REFERENCE) && !self.impls().contains(&REFERENCE) {
            NATIVE_REFERENCE
        } else {
            REFERENCE
        }
    }

    /// [`Results::impls`] without the reference: the ones shown as ratios.
    pub fn compared(&self) -> Vec<&'static str> {
        let reference = self.reference();
        self.impls()
            .into_iter()
            .filter(|i| *i != reference)
            .collect()
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A `BENCH` line of a measured run.
    pub fn run(imp: &str, workload: &str, rep: u32, value: f64, better: Better) -> String {
        let unit = if better == Better::Lower {
            "us"
        } else {
            "msg/s"
        };
        let outcome = Outcome::Run {
            rep,
            value,
            unit: unit.into(),
            better,
            ms: 1.0,
        };
        Record::Bench(Bench {
            imp: imp.into(),
            workload: workload.into(),
            outcome,
        })
        .to_string()
    }

    pub fn sample() -> Results {
        let out = [
            run("raw-js", "pingpong", 0, 999.0, Better::Lower),
            run("raw-js", "pingpong", 1, 100.0, Better::Lower),
            run("raw-js", "pingpong", 2, 100.0, Better::Lower),
            run("gloo-net", "pingpong", 1, 125.0, Better::Lower),
            run("gloo-net", "pingpong", 2, 100.0, Better::Lower),
            run("raw-js", "flood-recv", 1, 100.0, Better::Higher),
            run("gloo-net", "flood-recv", 1, 80.0, Better::Higher),
            r#"BENCH {"impl":"gloo-net","workload":"send-count","rep":1,"error":"boom"}"#.into(),
            r#"BENCH {"impl":"wasm-websocket","workload":"memory","cycles":2000,"mem_before":1,"mem_after":1,"listeners":[0,0]}"#.into(),
        ];
        Results::from_output(&out.join("\n"))
    }

    #[test]
    fn a_native_run_is_relative_to_tokio_tungstenite() {
        let out = [
            run("tokio-tungstenite", "flood-recv", 1, 200.0, Better::Higher),
            run("wasm-websocket", "flood-recv", 1, 100.0, Better::Higher),
        ];
        let results = Results::from_output(&out.join("\n"));
        assert_eq!(results.reference(), "tokio-tungstenite");
        assert_eq!(results.compared(), ["wasm-websocket"]);
        assert!((results.rows[0].ratio("wasm-websocket").unwrap().median - 0.5).abs() < 1e-9);
        assert_eq!(sample().reference(), "raw-js");
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
        let results = sample();
        assert_eq!(results.rows.len(), 2);
        assert_eq!(results.rows[0].key, "pingpong");
        let ping = results.rows[0].ratio("gloo-net").unwrap();
        assert!((ping.median - 0.9).abs() < 1e-9);
        assert_eq!((ping.min, ping.max), (0.8, 1.0));
        assert!((results.rows[1].ratio("gloo-net").unwrap().median - 0.8).abs() < 1e-9);
        assert_eq!(results.errors, ["gloo-net / send-count: boom"]);
        assert_eq!(results.memory[0].listeners, Some((0.0, 0.0)));
        assert_eq!(results.compared(), ["gloo-net"]);
    }
}
