//! `std::process::Command`, wrapped once: every run is announced, every failure names the
//! command line and how it exited.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};

use anyhow::{bail, Context, Result};

/// `cargo` as the one running us (`$CARGO`), so nested builds use the same toolchain.
pub fn cargo() -> Command {
    Command::new(cargo_path())
}

pub fn cargo_path() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// The ways xtask runs a command.
pub trait Run {
    /// The command line as a shell would take it, with the variables it sets.
    fn shown(&self) -> String;
    /// Inherited stdio; an unsuccessful exit is an error.
    fn run(&mut self) -> Result<()>;
    /// Quiet; returns stdout; an unsuccessful exit is an error carrying stderr.
    fn read(&mut self) -> Result<String>;
    /// Stdout echoed live and captured (stderr inherited, so cargo keeps its progress).
    fn tee(&mut self) -> Result<(ExitStatus, String)>;
}

impl Run for Command {
    fn shown(&self) -> String {
        let mut words: Vec<String> = self
            .get_envs()
            .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), quote(v?))))
            .collect();
        let program = PathBuf::from(self.get_program());
        // `$CARGO` is a toolchain path; `cargo` says the same.
        words.push(if program == cargo_path() {
            "cargo".into()
        } else {
            quote(self.get_program())
        });
        words.extend(self.get_args().map(quote));
        words.join(" ")
    }

    fn run(&mut self) -> Result<()> {
        announce(self);
        let status = self
            .stdin(Stdio::null())
            .status()
            .with_context(|| start_error(self))?;
        check(self, status)
    }

    fn read(&mut self) -> Result<String> {
        let out = self
            .stdin(Stdio::null())
            .output()
            .with_context(|| start_error(self))?;
        if !out.status.success() {
            bail!(
                "`{}` failed ({}): {}",
                self.shown(),
                describe(out.status),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn tee(&mut self) -> Result<(ExitStatus, String)> {
        announce(self);
        let mut child = self
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| start_error(self))?;
        let mut captured = Vec::new();
        if let Some(mut pipe) = child.stdout.take() {
            let mut buf = [0u8; 8192];
            loop {
                // Another read error ends the echo; the exit status still tells how it went.
                let n = match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                captured.extend_from_slice(&buf[..n]);
                let mut out = io::stdout().lock();
                let _ = out.write_all(&buf[..n]).and_then(|()| out.flush());
            }
        }
        let status = child
            .wait()
            .with_context(|| format!("waiting for `{}`", self.shown()))?;
        Ok((status, String::from_utf8_lossy(&captured).into_owned()))
    }
}

/// An error unless `status` is a success.
pub fn check(cmd: &Command, status: ExitStatus) -> Result<()> {
    if !status.success() {
        bail!("`{}` failed ({})", cmd.shown(), describe(status));
    }
    Ok(())
}

fn announce(cmd: &Command) {
    let mut out = io::stdout().lock();
    // A closed pipe must not stop the run.
    let _ = writeln!(out, "$ {}", cmd.shown()).and_then(|()| out.flush());
}

fn start_error(cmd: &Command) -> String {
    format!("could not start `{}`", cmd.shown())
}

/// "exit code 101" or "killed by signal 9".
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

/// Prints a step header, flushed so it lands before the output of the step's children.
pub fn header(title: &str) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "\n==> {title}").and_then(|()| out.flush());
}

/// Quotes a word for display when a shell would need it.
fn quote(word: impl AsRef<std::ffi::OsStr>) -> String {
    let s = word.as_ref().to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_env_and_quotes() {
        let mut cmd = cargo();
        cmd.args(["test", "-p", "wasm-websocket", "a b"])
            .env("WASM_WS_PEER", "127.0.0.1:1")
            .env_remove("GECKODRIVER");
        assert_eq!(
            cmd.shown(),
            "WASM_WS_PEER=127.0.0.1:1 cargo test -p wasm-websocket 'a b'"
        );
    }
}
