//! The figure lines the browser runs print and `cargo xtask` reads: `BENCH {...}` from the
//! benchmark (`bench/`), `SOAK {...}` from the soak suite (`tests/soak.rs`). One JSON object
//! after a fixed prefix, so a line survives whatever the test runner puts before it.
//!
//! Printers build a [`Record`] and print it with `Display`; xtask reads lines back with
//! [`Record::parse`]. Builds for wasm32 too.

use std::fmt;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One figure line.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Bench(Bench),
    Soak(Soak),
}

/// One run of one workload by one implementation, or its memory figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bench {
    /// The implementation key, e.g. `raw-js`, `wasm-websocket`.
    #[serde(rename = "impl")]
    pub imp: String,
    /// The workload key, e.g. `pingpong`, or `memory`.
    pub workload: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What a [`Bench`] line reports. `untagged`: the fields say which it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Outcome {
    /// Listed first: a failed run may carry other fields too.
    Failed { error: String },
    /// A measured round; round 0 is the warm-up.
    Run {
        rep: u32,
        value: f64,
        unit: String,
        better: Better,
        ms: f64,
    },
    /// Connect / echo / close cycles: wasm memory and live listeners before and after.
    Memory {
        cycles: u32,
        mem_before: f64,
        mem_after: f64,
        /// Only for libraries that can count their listeners.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        listeners: Option<(f64, f64)>,
    },
}

/// Which way a workload's value improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
}

/// One soak test's figures and where it ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Soak {
    pub test: String,
    /// `full` or `short`.
    pub profile: String,
    pub browser: String,
    pub worker: bool,
    /// `classic` or `stream`.
    pub suite_backend: String,
    /// The test's own figures, in the order it gave them.
    #[serde(flatten)]
    pub figures: IndexMap<String, Figure>,
}

/// A figure: a flag, a count, a measurement or a short text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Figure {
    Flag(bool),
    Int(i64),
    Num(f64),
    Text(String),
}

impl Figure {
    /// A measurement rounded to `digits` decimals, as the tables show it.
    pub fn rounded(value: f64, digits: i32) -> Figure {
        let scale = 10f64.powi(digits);
        Figure::Num((value * scale).round() / scale)
    }
}

macro_rules! int_figures {
    ($($t:ty),*) => {$(
        impl From<$t> for Figure {
            fn from(n: $t) -> Figure {
                // Counts never come near i64::MAX; saturate rather than panic if one did.
                Figure::Int(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_figures!(i32, i64, u32, u64, usize);

impl From<f64> for Figure {
    fn from(n: f64) -> Figure {
        Figure::Num(n)
    }
}

impl From<bool> for Figure {
    fn from(b: bool) -> Figure {
        Figure::Flag(b)
    }
}

impl From<&str> for Figure {
    fn from(s: &str) -> Figure {
        Figure::Text(s.to_string())
    }
}

impl From<String> for Figure {
    fn from(s: String) -> Figure {
        Figure::Text(s)
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Figure::Flag(b) => write!(f, "{b}"),
            Figure::Int(n) => write!(f, "{n}"),
            Figure::Num(n) => write!(f, "{n}"),
            Figure::Text(s) => f.write_str(s),
        }
    }
}

const BENCH: &str = "BENCH ";
const SOAK: &str = "SOAK ";

impl Record {
    /// The record in a line, wherever it starts in it; `None` for any other line.
    pub fn parse(line: &str) -> Option<Record> {
        fn json<T: for<'de> Deserialize<'de>>(line: &str, prefix: &str) -> Option<T> {
            let start = line.find(&format!("{prefix}{{"))? + prefix.len();
            // A stream deserializer: whatever follows the object is not ours to judge.
            serde_json::Deserializer::from_str(&line[start..])
                .into_iter()
                .next()?
                .ok()
        }
        json(line, BENCH)
            .map(Record::Bench)
            .or_else(|| json(line, SOAK).map(Record::Soak))
    }

    /// Every record in an output.
    pub fn parse_all(output: &str) -> Vec<Record> {
        output.lines().filter_map(Record::parse).collect()
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, json) = match self {
            Record::Bench(b) => (BENCH, serde_json::to_string(b)),
            Record::Soak(s) => (SOAK, serde_json::to_string(s)),
        };
        f.write_str(prefix)?;
        f.write_str(&json.map_err(|_| fmt::Error)?)
    }
}

impl From<Bench> for Record {
    fn from(b: Bench) -> Record {
        Record::Bench(b)
    }
}

impl From<Soak> for Record {
    fn from(s: Soak) -> Record {
        Record::Soak(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_lines_round_trip() {
        let run = Record::Bench(Bench {
            imp: "raw-js".into(),
            workload: "pingpong".into(),
            outcome: Outcome::Run {
                rep: 3,
                value: 101.5,
                unit: "us".into(),
                better: Better::Lower,
                ms: -0.001,
            },
        });
        let line = run.to_string();
        assert_eq!(
            line,
            r#"BENCH {"impl":"raw-js","workload":"pingpong","rep":3,"value":101.5,"unit":"us","better":"lower","ms":-0.001}"#
        );
        assert_eq!(Record::parse(&format!("console.log: {line}")), Some(run));
        let failed = r#"BENCH {"impl":"gloo-net","workload":"send-count","rep":1,"error":"a \"quoted\" \\ reason"}"#;
        let Some(Record::Bench(b)) = Record::parse(failed) else {
            panic!("{failed}")
        };
        assert_eq!(
            b.outcome,
            Outcome::Failed {
                error: r#"a "quoted" \ reason"#.into()
            }
        );
        let memory = r#"BENCH {"impl":"x","workload":"memory","cycles":2000,"mem_before":1,"mem_after":2,"listeners":[0,0]}"#;
        let Some(Record::Bench(b)) = Record::parse(memory) else {
            panic!("{memory}")
        };
        assert!(matches!(
            b.outcome,
            Outcome::Memory {
                cycles: 2000,
                listeners: Some((0.0, 0.0)),
                ..
            }
        ));
    }

    #[test]
    fn soak_lines_keep_figure_order_and_types() {
        let line = r#"x SOAK {"test":"churn","profile":"full","browser":"chromium","worker":false,"suite_backend":"classic","cycles":5000,"ms":41234.5,"per_kind":"1.0/2.0","ok":true} trailing"#;
        let Some(Record::Soak(s)) = Record::parse(line) else {
            panic!("{line}")
        };
        assert_eq!(s.test, "churn");
        let figures: Vec<String> = s.figures.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            figures,
            ["cycles=5000", "ms=41234.5", "per_kind=1.0/2.0", "ok=true"]
        );
        assert_eq!(s.figures["cycles"], Figure::Int(5000));
        let again = Record::Soak(s.clone()).to_string();
        assert_eq!(Record::parse(&again), Some(Record::Soak(s)));
    }

    #[test]
    fn other_lines_are_not_records() {
        assert_eq!(Record::parse("test soak ... ok"), None);
        assert_eq!(Record::parse(r#"BENCH {"impl":}"#), None);
        assert_eq!(Record::parse("SOAK {}"), None);
        assert_eq!(Figure::rounded(1.23456, 2), Figure::Num(1.23));
    }
}
