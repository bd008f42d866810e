//! Routes for the soak and fault suite (`tests/soak.rs`, `cargo xtask soak`):
//!
//! - `/victim`: a control connection that owns a second `ws-peer` **process** (the
//!   victim) and kills it with SIGKILL and starts it again on the same port on command,
//!   so a browser test can lose a real server mid-stream and reconnect to a new one.
//! - `/soak_flood` and `/soak_progress`: a flood that records, per key, how many of its
//!   messages it has handed to the kernel, so a test can see how far the server got ahead
//!   of a slow reader (whether backpressure reaches the server).
//!
//! See the "Soak and fault routes" section of the README for the exact behaviour.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use futures_util::SinkExt;
use http::Uri;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::query::Params;
use crate::routes::{flood_message, serve, FloodKind, Step, CLOSE_WAIT};
use crate::Ws;

/// How long a victim may take to print its `listening on` line.
const VICTIM_STARTUP: Duration = Duration::from_secs(20);

/// A route of this module, parsed from the request before the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoakRoute {
    /// `/victim`: spawn, kill and respawn a `ws-peer` child process on command.
    Victim,
    /// `/soak_flood?key=K&n=N&size=S`: `N` binary `/flood` messages sent one at a time,
    /// counting under `K` those written to the socket; then close 1000 `"done"`.
    Flood { key: String, n: u64, size: usize },
    /// `/soak_progress?key=K`: on each text `get`, replies `sent=<count of key K>`.
    Progress { key: String },
}

impl SoakRoute {
    /// The soak route for a WebSocket upgrade request, `None` if the path is not one.
    pub fn from_uri(uri: &Uri) -> Option<SoakRoute> {
        let p = Params::of(uri);
        let key = || p.get("key").unwrap_or("").to_string();
        Some(match uri.path() {
            "/victim" => SoakRoute::Victim,
            "/soak_flood" => SoakRoute::Flood {
                key: key(),
                n: p.num("n", 10),
                size: p.num("size", 16),
            },
            "/soak_progress" => SoakRoute::Progress { key: key() },
            _ => return None,
        })
    }

    /// Runs the route on an accepted connection until it is over.
    pub async fn run(self, mut ws: Ws) -> Result<(), WsError> {
        match self {
            SoakRoute::Victim => victim(&mut ws).await,
            SoakRoute::Flood { key, n, size } => {
                progress_set(&key, 0);
                for i in 0..n {
                    // One flush per message: the count only includes what reached the
                    // kernel, so it stalls as soon as the reader's TCP window is full.
                    ws.send(flood_message(FloodKind::Binary, i, size)).await?;
                    progress_set(&key, i + 1);
                }
                let done = CloseFrame {
                    code: CloseCode::Normal,
                    reason: "done".into(),
                };
                match ws.send(Message::Close(Some(done))).await {
                    Ok(()) | Err(WsError::ConnectionClosed) => {}
                    Err(e) => return Err(e),
                }
                let deadline = Instant::now() + CLOSE_WAIT;
                serve(&mut ws, Some(deadline), |_| Step::Continue(None))
                    .await
                    .map(drop)
            }
            SoakRoute::Progress { key } => serve(&mut ws, None, |m| match &m {
                Message::Text(t) if t.as_str() == "get" => {
                    Step::Continue(Some(Message::text(format!("sent={}", progress_get(&key)))))
                }
                _ => Step::Continue(Some(m)),
            })
            .await
            .map(drop),
        }
    }
}

// ---------------------------------------------------------------------------------------
// `/soak_flood` progress.

fn progress() -> &'static Mutex<HashMap<String, u64>> {
    static PROGRESS: OnceLock<Mutex<HashMap<String, u64>>> = OnceLock::new();
    PROGRESS.get_or_init(Mutex::default)
}

fn progress_set(key: &str, sent: u64) {
    let mut map = progress()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    map.insert(key.to_string(), sent);
}

/// How many messages the `/soak_flood` of `key` has written so far (0 if none ran).
pub fn progress_get(key: &str) -> u64 {
    let map = progress()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    map.get(key).copied().unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// `/victim`.

/// The `ws-peer` executable that victims run; see [`set_victim_exe`].
fn victim_exe() -> Result<PathBuf, String> {
    if let Some(path) = VICTIM_EXE.get() {
        return Ok(path.clone());
    }
    // Linux: the running image itself, even if a rebuild has replaced the file since.
    let this = PathBuf::from("/proc/self/exe");
    if this.exists() {
        return Ok(this);
    }
    std::env::current_exe().map_err(|e| format!("current_exe: {e}"))
}

static VICTIM_EXE: OnceLock<PathBuf> = OnceLock::new();

/// Sets the executable `/victim` starts (default: the running executable, which is right
/// for the `ws-peer` binary; on Linux `/proc/self/exe`, so a rebuild does not get in the way). In-process servers in tests must call this with the path of
/// the `ws-peer` binary. Only the first call has an effect.
pub fn set_victim_exe(path: impl Into<PathBuf>) {
    let _ = VICTIM_EXE.set(path.into());
}

/// A running victim process; dropping it kills it (SIGKILL) and reaps it.
struct Victim {
    child: Child,
    /// Held open: the victim exits by itself when this peer dies and the pipe closes.
    _stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl Victim {
    /// Starts the victim on `addr` (port 0: a free port) and waits for its address line.
    /// Binding the port of a victim just killed is retried for a moment.
    async fn start(addr: SocketAddr) -> Result<Victim, String> {
        let exe = victim_exe()?;
        let deadline = Instant::now() + VICTIM_STARTUP;
        loop {
            let exe = exe.clone();
            let attempt = tokio::task::spawn_blocking(move || Victim::start_blocking(exe, addr))
                .await
                .map_err(|e| format!("victim start task: {e}"))?;
            match attempt {
                Ok(victim) => return Ok(victim),
                Err(e) if Instant::now() < deadline && addr.port() != 0 => {
                    if crate::verbose() {
                        eprintln!("ws-peer: victim start on {addr} failed ({e}); retrying");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn start_blocking(exe: PathBuf, addr: SocketAddr) -> Result<Victim, String> {
        let mut child = Command::new(&exe)
            .args(["--addr", &addr.to_string(), "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", exe.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let mut victim = Victim {
            child,
            _stdin: stdin,
            addr,
        };
        // The line comes within milliseconds, or the process exits (e.g. the port is
        // still taken) and the pipe closes: a blocking read cannot hang here.
        let mut line = String::new();
        if let Some(stdout) = stdout {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        match line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|a| a.parse().ok())
        {
            Some(bound) => {
                victim.addr = bound;
                Ok(victim)
            }
            None => {
                let status = victim.child.wait().map(|s| s.to_string());
                Err(format!("victim printed {line:?} and exited: {status:?}"))
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reap; returns how it ended.
    async fn kill(mut self) -> Result<String, String> {
        tokio::task::spawn_blocking(move || {
            self.child.kill().map_err(|e| format!("kill: {e}"))?;
            let status = self.child.wait().map_err(|e| format!("wait: {e}"))?;
            Ok(describe(status))
        })
        .await
        .map_err(|e| format!("kill task: {e}"))?
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn describe(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal={signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit={code}"),
        None => status.to_string(),
    }
}

/// The `/victim` control loop: commands in, one text reply per command. The victim lives
/// no longer than this connection.
async fn victim(ws: &mut Ws) -> Result<(), WsError> {
    let mut current: Option<Victim> = None;
    let mut last_addr: Option<SocketAddr> = None;
    loop {
        let Some(command) = next_text(ws).await? else {
            return Ok(()); // the connection ended; dropping `current` kills the victim
        };
        let reply = match command.as_str() {
            "spawn" | "respawn" if current.is_some() => "error: a victim is running".into(),
            "spawn" | "respawn" => {
                let addr = match (command.as_str(), last_addr) {
                    ("respawn", Some(addr)) => Ok(addr),
                    ("respawn", None) => Err("error: nothing to respawn".to_string()),
                    _ => Ok(SocketAddr::from(([127, 0, 0, 1], 0))),
                };
                match addr {
                    Ok(addr) => match Victim::start(addr).await {
                        Ok(victim) => {
                            let reply = format!("port={} pid={}", victim.addr.port(), victim.pid());
                            last_addr = Some(victim.addr);
                            current = Some(victim);
                            reply
                        }
                        Err(e) => format!("error: {e}"),
                    },
                    Err(e) => e,
                }
            }
            "kill" => match current.take() {
                Some(victim) => {
                    let pid = victim.pid();
                    match victim.kill().await {
                        Ok(how) => format!("killed pid={pid} {how}"),
                        Err(e) => format!("error: {e}"),
                    }
                }
                None => "error: no victim is running".into(),
            },
            other => format!("error: unknown command {other:?}"),
        };
        ws.send(Message::text(reply)).await?;
    }
}

/// The next text message; binary messages are ignored; `None` once the connection ended.
async fn next_text(ws: &mut Ws) -> Result<Option<String>, WsError> {
    use futures_util::StreamExt;
    while let Some(message) = ws.next().await {
        match message {
            Ok(Message::Text(t)) => return Ok(Some(t.as_str().to_string())),
            Ok(_) => {}
            Err(WsError::ConnectionClosed) => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let uri = |t: &str| t.parse::<Uri>().unwrap();
        assert_eq!(
            SoakRoute::from_uri(&uri("/victim")),
            Some(SoakRoute::Victim)
        );
        assert_eq!(
            SoakRoute::from_uri(&uri("/soak_flood?key=a&n=5&size=70000")),
            Some(SoakRoute::Flood {
                key: "a".into(),
                n: 5,
                size: 70_000
            })
        );
        assert_eq!(
            SoakRoute::from_uri(&uri("/soak_progress?key=b")),
            Some(SoakRoute::Progress { key: "b".into() })
        );
        assert_eq!(SoakRoute::from_uri(&uri("/echo")), None);
    }
}
