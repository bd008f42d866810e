//! The native test peer (`tests/peer`, binary `ws-peer`), run for the length of a test run.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::paths::target_dir;
use crate::run::{cargo, describe, Run};

/// How long the peer may take to print its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running peer; dropping it stops the peer, also on error or panic.
#[derive(Debug)]
pub struct Peer {
    child: Child,
    /// Held open: the peer exits when it reads end-of-file, even if we are killed.
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl Peer {
    /// Builds `ws-peer` and returns its path. The release build is for measuring and
    /// serving: optimised for speed (the workspace's release profile is for size).
    pub fn build(root: &Path, release: bool) -> Result<PathBuf> {
        let mut build = cargo();
        build.args(["build", "-p", "ws-peer"]).current_dir(root);
        if release {
            build
                .arg("--release")
                .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3");
        }
        build.run()?;
        let profile = if release { "release" } else { "debug" };
        Ok(target_dir(root).join(profile).join("ws-peer"))
    }

    /// Starts `exe --addr 127.0.0.1:0 --exit-on-stdin-eof` and waits for its
    /// `listening on ADDR` line.
    pub fn start(exe: &Path) -> Result<Peer> {
        Peer::spawn(exe, SocketAddr::from(([127, 0, 0, 1], 0)), None)
    }

    /// Like [`Peer::start`] on `addr`, with `--static DIR`: the peer also serves `dir` over
    /// HTTP (the demo page, the JS tests, the example apps).
    pub fn serving(exe: &Path, addr: SocketAddr, dir: &Path) -> Result<Peer> {
        Peer::spawn(exe, addr, Some(dir))
    }

    fn spawn(exe: &Path, addr: SocketAddr, dir: Option<&Path>) -> Result<Peer> {
        let mut command = Command::new(exe);
        command.arg("--addr").arg(addr.to_string());
        if let Some(dir) = dir {
            command.arg("--static").arg(dir);
        }
        command.arg("--exit-on-stdin-eof");
        let shown = command.shown();
        println!("$ {shown}");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("could not start `{shown}`"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        // From here on, Drop stops the child whatever happens.
        let mut peer = Peer { child, stdin, addr };

        let (first_tx, first_rx) = mpsc::channel();
        if let Some(stdout) = stdout {
            thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                if let Some(Ok(line)) = lines.next() {
                    let _ = first_tx.send(line);
                }
                // Keep draining so the peer never blocks on a full pipe; show what it says.
                for line in lines.map_while(std::result::Result::ok) {
                    let mut err = std::io::stderr().lock();
                    let _ = writeln!(err, "[ws-peer] {line}");
                }
            });
        }

        let line = match first_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(line) => line,
            // The reader ended without a line: the peer closed its stdout, i.e. exited.
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = peer.child.wait()?;
                bail!(
                    "`{shown}` exited ({}) before printing `listening on ADDR`",
                    describe(status)
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                bail!("`{shown}` printed no `listening on ADDR` within {STARTUP_TIMEOUT:?}")
            }
        };
        let Some(addr) = parse_listening_line(&line) else {
            bail!("`{shown}` printed {line:?}; expected `listening on 127.0.0.1:PORT`");
        };
        peer.addr = addr;
        println!("test peer listening on {addr}");
        Ok(peer)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the peer to exit (for the demo: until Ctrl-C).
    pub fn wait(&mut self) -> Result<std::process::ExitStatus> {
        self.child.wait().context("waiting for the peer")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Closing stdin asks it to exit; give it a moment, then make sure.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in the peer's first line: `listening on 127.0.0.1:PORT`.
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    let rest = line.trim().strip_prefix("listening on")?.trim_start();
    let word = rest.split_whitespace().next()?;
    let word = word.strip_prefix("ws://").unwrap_or(word);
    word.trim_end_matches('/').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line() {
        assert_eq!(
            parse_listening_line("listening on 127.0.0.1:40123\n"),
            Some(SocketAddr::from(([127, 0, 0, 1], 40123)))
        );
        assert_eq!(
            parse_listening_line("listening on ws://127.0.0.1:9/"),
            Some(SocketAddr::from(([127, 0, 0, 1], 9)))
        );
        assert_eq!(parse_listening_line("listening on nowhere"), None);
        assert_eq!(parse_listening_line("starting"), None);
    }
}
