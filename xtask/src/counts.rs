//! Test counts read from a run's output: libtest's `test result:` lines and node's test
//! runner summary, and how a suite went.

use std::fmt;
use std::process::{Command, ExitStatus};

use crate::run::{describe, Run};

/// Passed, failed and ignored tests.
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

    /// Sums every libtest `test result: ok. 3 passed; 0 failed; 1 ignored; ...` line.
    pub fn from_libtest(output: &str) -> Option<Counts> {
        sum(output.lines().filter_map(|line| {
            let line = strip_ansi(line);
            let rest = line.trim().strip_prefix("test result:")?;
            // The first part is `ok. 3 passed` or `FAILED. 3 passed`.
            let words = rest.split(';').filter_map(|part| {
                let mut words = part.split_whitespace().rev();
                let (label, number) = (words.next()?, words.next()?);
                Some((
                    label.trim_end_matches(|c: char| !c.is_ascii_alphabetic()),
                    number.parse().ok()?,
                ))
            });
            tally(words, &["passed"], &["failed"], &["ignored"])
        }))
    }

    /// node's test runner summary: `# pass 3` (TAP) or `ℹ pass 3` (spec); cancelled tests
    /// count as failed, skipped and todo ones as ignored.
    pub fn from_node(output: &str) -> Option<Counts> {
        let pairs = output.lines().filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("# ")
                .or_else(|| line.strip_prefix("ℹ "))?;
            match rest.split_whitespace().collect::<Vec<_>>()[..] {
                [key, value] => Some((key, value.parse().ok()?)),
                _ => None,
            }
        });
        tally(
            pairs,
            &["pass"],
            &["fail", "cancelled"],
            &["skipped", "todo"],
        )
    }

    /// How a run that printed these counts went, beyond the counts.
    pub fn problem(found: Option<Counts>, status: ExitStatus, shown: &str) -> Option<String> {
        match found {
            _ if !status.success() => Some(format!("`{shown}` failed ({})", describe(status))),
            Some(c) if c.passed + c.failed > 0 => None,
            _ => Some(format!("`{shown}` ran no tests")),
        }
    }
}

/// Counts from (label, number) pairs; `None` when no `passed` label is among them.
fn tally<'a>(
    pairs: impl Iterator<Item = (&'a str, u64)>,
    passed: &[&str],
    failed: &[&str],
    ignored: &[&str],
) -> Option<Counts> {
    let mut counts = Counts::default();
    let mut seen = false;
    for (label, n) in pairs {
        if passed.contains(&label) {
            counts.passed += n;
            seen = true;
        } else if failed.contains(&label) {
            counts.failed += n;
        } else if ignored.contains(&label) {
            counts.ignored += n;
        }
    }
    seen.then_some(counts)
}

fn sum(counts: impl Iterator<Item = Counts>) -> Option<Counts> {
    counts.reduce(|mut a, b| {
        a.add(b);
        a
    })
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
        if c != '\u{1b}' {
            out.push(c);
        } else if chars.next() == Some('[') {
            chars.by_ref().find(char::is_ascii_alphabetic);
        }
    }
    out
}

/// Runs a libtest-style command (cargo test), streaming its output; returns how it went
/// and what it printed.
pub fn run_libtest(name: &str, cmd: &mut Command) -> (SuiteResult, String) {
    match cmd.tee() {
        Ok((status, output)) => {
            let found = Counts::from_libtest(&output);
            let problem = Counts::problem(found, status, &cmd.shown());
            let counts = found.unwrap_or_default();
            (
                SuiteResult {
                    name: name.to_string(),
                    counts,
                    problem,
                },
                output,
            )
        }
        Err(e) => (SuiteResult::not_run(name, e), String::new()),
    }
}

/// How one suite went: the name in the summary, its counts, and any problem beyond them.
#[derive(Clone, Debug)]
pub struct SuiteResult {
    pub name: String,
    pub counts: Counts,
    pub problem: Option<String>,
}

impl SuiteResult {
    pub fn not_run(name: &str, why: impl fmt::Display) -> Self {
        let problem = Some(format!("not run: {why}"));
        SuiteResult {
            name: name.to_string(),
            counts: Counts::default(),
            problem,
        }
    }

    pub fn ok(&self) -> bool {
        self.problem.is_none() && self.counts.failed == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(passed: u64, failed: u64, ignored: u64) -> Counts {
        Counts {
            passed,
            failed,
            ignored,
        }
    }

    #[test]
    fn libtest_lines() {
        let out = "running 2 tests\ntest b ... FAILED\n\
            test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.1s\n\
            \u{1b}[0mtest result: \u{1b}[32mok\u{1b}[0m. 3 passed; 0 failed; 2 ignored\n\
            test result: garbage\n";
        assert_eq!(Counts::from_libtest(out), Some(counts(4, 1, 2)));
        assert_eq!(Counts::from_libtest("error: could not compile"), None);
        assert_eq!(counts(64, 0, 3).to_string(), "64 passed, 0 failed");
    }

    #[test]
    fn node_summary_tap_and_spec() {
        let tap = "ok 1 - x\n# tests 28\n# pass 25\n# fail 1\n# cancelled 2\n# skipped 1\n# duration_ms 12.5\n";
        assert_eq!(Counts::from_node(tap), Some(counts(25, 3, 1)));
        let spec = "✔ x (1ms)\nℹ tests 2\nℹ pass 2\nℹ fail 0\n";
        assert_eq!(Counts::from_node(spec), Some(counts(2, 0, 0)));
        assert_eq!(Counts::from_node("# Subtest: pass 3 things\nnothing"), None);
    }

    #[test]
    fn suites_fail_when_empty_or_failed() {
        assert!(!SuiteResult::not_run("firefox", "no peer").ok());
        let ok = SuiteResult {
            name: "c".into(),
            counts: counts(3, 0, 0),
            problem: None,
        };
        assert!(ok.ok());
    }
}
