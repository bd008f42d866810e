//! The WebSocket routes: parsed from the request target, then run on the
//! accepted connection.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use http::{HeaderMap, Uri};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::query::Params;
use crate::tcp::linger_close;
use crate::upgrade::offered_protocols;
use crate::{Shared, Ws};

/// How long `/hang` and `/noread` hold their connection.
pub const HOLD: Duration = Duration::from_secs(120);
/// How long the server waits for the client's half of a closing handshake.
pub const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// Which payloads `/flood` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodKind {
    Binary,
    Text,
    Mixed,
}

/// A WebSocket route, fully parsed from the request before the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Echo,
    Protocol {
        pick: Option<String>,
    },
    Close {
        /// `None` sends a close frame without payload.
        code: Option<u16>,
        reason: String,
        delay_ms: u64,
    },
    Drop {
        after: Option<u64>,
        delay_ms: Option<u64>,
    },
    Flood {
        n: u64,
        size: usize,
        kind: FloodKind,
        delay_ms: u64,
        close: bool,
    },
    Interleave,
    NoRead,
    Stats,
    Count,
    /// `/record`: records every message under `key`; drops the connection
    /// abruptly after every `drop_every` messages, or else closes it cleanly
    /// after every `close_every` messages (neither if `None`).
    Record {
        key: String,
        drop_every: Option<u64>,
        /// How long to stop reading before each drop.
        stall_ms: u64,
        close_every: Option<u64>,
    },
    /// `/report`: sends the record of `key` as JSON, then closes.
    Report {
        key: String,
    },
    /// `/refuse_first`: refuses the first `n` handshakes for `key` (decided in
    /// `lib.rs` before the handshake), then echoes.
    RefuseFirst {
        key: String,
        n: u64,
    },
    /// `/silent`: reads and discards, never sends a data message.
    Silent,
    /// `/token_issue`: sends one fresh token (text), then closes 1000 "done".
    TokenIssue,
    /// `/token_echo`: upgrades only with a token issued by `/token_issue` and not
    /// used before (decided in `upgrade.rs` before the handshake), then echoes; with
    /// `drop_after`, drops the TCP connection (no close frame) after echoing that many
    /// messages.
    TokenEcho {
        token: String,
        drop_after: Option<u64>,
    },
    /// `/chat`: relays every message to every connection of `room`, the sender's included.
    Chat {
        room: String,
    },
    /// The soak and fault routes (`/victim`, `/soak_flood`, `/soak_progress`).
    Soak(crate::soak_routes::SoakRoute),
}

impl Route {
    /// The route for a WebSocket upgrade request, `None` for an unknown path.
    pub fn from_uri(uri: &Uri) -> Option<Route> {
        let p = Params::of(uri);
        Some(match uri.path() {
            "/echo" => Route::Echo,
            "/protocol" => Route::Protocol {
                pick: p.get("pick").map(str::to_string),
            },
            "/close" => Route::Close {
                code: match p.get("code") {
                    Some("none") => None,
                    _ => Some(p.num("code", 1000)),
                },
                reason: p.get("reason").unwrap_or("").to_string(),
                delay_ms: p.num("delay_ms", 0),
            },
            "/drop" => Route::Drop {
                after: p.opt_num("after"),
                delay_ms: p.opt_num("delay_ms"),
            },
            "/flood" => Route::Flood {
                n: p.num("n", 10),
                size: p.num("size", 16),
                kind: match p.get("kind") {
                    Some("text") => FloodKind::Text,
                    Some("mixed") => FloodKind::Mixed,
                    _ => FloodKind::Binary,
                },
                delay_ms: p.num("delay_ms", 0),
                close: p.get("close") != Some("none"),
            },
            "/interleave" => Route::Interleave,
            "/noread" => Route::NoRead,
            "/stats" => Route::Stats,
            "/count" => Route::Count,
            "/record" => Route::Record {
                key: p.get("key").unwrap_or("").to_string(),
                drop_every: p.opt_num("drop_every").filter(|n| *n > 0),
                stall_ms: p.num("stall_ms", 0),
                close_every: p.opt_num("close_every").filter(|n| *n > 0),
            },
            "/report" => Route::Report {
                key: p.get("key").unwrap_or("").to_string(),
            },
            "/refuse_first" => Route::RefuseFirst {
                key: p.get("key").unwrap_or("").to_string(),
                n: p.num("n", 1),
            },
            "/silent" => Route::Silent,
            "/chat" => Route::Chat {
                room: p.get("room").unwrap_or("").to_string(),
            },
            "/token_issue" => Route::TokenIssue,
            "/token_echo" => Route::TokenEcho {
                token: p.get("token").unwrap_or("").to_string(),
                drop_after: p.opt_num("drop_after").filter(|n| *n > 0),
            },
            _ => return crate::soak_routes::SoakRoute::from_uri(uri).map(Route::Soak),
        })
    }

    /// The subprotocol the server puts in its handshake response.
    pub fn subprotocol(&self, headers: &HeaderMap) -> Option<String> {
        match self {
            Route::Protocol { pick: Some(name) } => Some(name.clone()),
            Route::Protocol { pick: None } => offered_protocols(headers).into_iter().next(),
            _ => None,
        }
    }

    /// Runs the route on an accepted connection until it is over.
    pub async fn run(self, mut ws: Ws, shared: &Shared) -> Result<(), WsError> {
        match self {
            Route::Echo
            | Route::Protocol { .. }
            | Route::RefuseFirst { .. }
            | Route::TokenEcho {
                drop_after: None, ..
            } => echo(&mut ws).await,
            Route::TokenEcho {
                drop_after: Some(limit),
                ..
            } => {
                if echo_up_to(&mut ws, None, limit).await? == End::Stopped {
                    linger_close(ws.get_mut(), Duration::from_secs(2)).await;
                }
                Ok(())
            }
            Route::TokenIssue => {
                ws.send(Message::text(shared.tokens.issue())).await?;
                close_and_wait(&mut ws, Some(done_frame())).await
            }
            Route::Close {
                code,
                reason,
                delay_ms,
            } => {
                if delay_ms > 0 {
                    let deadline = Instant::now() + Duration::from_millis(delay_ms);
                    if serve(&mut ws, Some(deadline), echo_step).await? == End::Closed {
                        return Ok(());
                    }
                }
                let frame = code.map(|c| CloseFrame {
                    code: CloseCode::from(c),
                    reason: reason.into(),
                });
                close_and_wait(&mut ws, frame).await
            }
            Route::Drop { after, delay_ms } => {
                let deadline = delay_ms.map(|d| Instant::now() + Duration::from_millis(d));
                let limit = match (after, deadline) {
                    (Some(n), _) => n,
                    (None, Some(_)) => u64::MAX,
                    (None, None) => 0,
                };
                if limit > 0 && echo_up_to(&mut ws, deadline, limit).await? == End::Closed {
                    return Ok(());
                }
                // No close frame: FIN, drain, then drop the socket.
                linger_close(ws.get_mut(), Duration::from_secs(2)).await;
                Ok(())
            }
            Route::Flood {
                n,
                size,
                kind,
                delay_ms,
                close,
            } => {
                if delay_ms > 0 {
                    let deadline = Instant::now() + Duration::from_millis(delay_ms);
                    if serve(&mut ws, Some(deadline), echo_step).await? == End::Closed {
                        return Ok(());
                    }
                }
                for i in 0..n {
                    ws.feed(flood_message(kind, i, size)).await?;
                }
                ws.flush().await?;
                if close {
                    close_and_wait(&mut ws, Some(done_frame())).await
                } else {
                    echo(&mut ws).await
                }
            }
            Route::Interleave => {
                for m in interleave_messages() {
                    ws.feed(m).await?;
                }
                ws.flush().await?;
                close_and_wait(&mut ws, Some(done_frame())).await
            }
            Route::NoRead => {
                tokio::time::sleep(HOLD).await;
                Ok(())
            }
            Route::Stats => serve(&mut ws, None, |m| match &m {
                Message::Text(t) if t.as_str() == "get" => {
                    Step::Continue(Some(Message::text(format!(
                        r#"{{"connections": {}, "total": {}}}"#,
                        shared.open.load(Ordering::SeqCst),
                        shared.total.load(Ordering::SeqCst)
                    ))))
                }
                _ => Step::Continue(Some(m)),
            })
            .await
            .map(drop),
            Route::Count => {
                let (mut count, mut bytes) = (0u64, 0u64);
                serve(&mut ws, None, |m| match &m {
                    Message::Text(t) if t.as_str() == "?count" => {
                        Step::Continue(Some(Message::text(format!("count={count} bytes={bytes}"))))
                    }
                    _ => {
                        count += 1;
                        bytes += m.len() as u64;
                        Step::Continue(None)
                    }
                })
                .await
                .map(drop)
            }
            Route::Record {
                key,
                drop_every,
                stall_ms,
                close_every,
            } => {
                let connection = shared.records.start_connection(&key);
                let mut seen = 0u64;
                let end = serve(&mut ws, None, |m| {
                    shared.records.push(&key, connection, &m);
                    seen += 1;
                    if drop_every.or(close_every).is_some_and(|n| seen % n == 0) {
                        Step::Stop(None)
                    } else {
                        Step::Continue(None)
                    }
                })
                .await?;
                if end != End::Stopped {
                    return Ok(());
                }
                if drop_every.is_some() {
                    // Not reading lets the client's send buffers fill up.
                    tokio::time::sleep(Duration::from_millis(stall_ms)).await;
                    // RST: unread input and anything in flight is discarded.
                    let _ = ws.get_ref().set_zero_linger();
                    return Ok(());
                }
                // A clean close: what the client sent before its close frame is
                // still read and recorded.
                match ws.send(Message::Close(Some(again_frame()))).await {
                    Ok(()) | Err(WsError::ConnectionClosed) => {}
                    Err(e) => return Err(e),
                }
                let deadline = Instant::now() + CLOSE_WAIT;
                serve(&mut ws, Some(deadline), |m| {
                    shared.records.push(&key, connection, &m);
                    Step::Continue(None)
                })
                .await
                .map(drop)
            }
            Route::Report { key } => {
                ws.send(Message::text(shared.records.report(&key))).await?;
                close_and_wait(&mut ws, Some(done_frame())).await
            }
            Route::Soak(route) => route.run(ws).await,
            Route::Chat { room } => crate::chat::relay(&mut ws, &shared.rooms, &room).await,
            Route::Silent => serve(&mut ws, None, |_| Step::Continue(None))
                .await
                .map(drop),
        }
    }
}

/// What `/record` stored of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    Text(String),
    /// Binary messages are stored as their length and first 16 bytes.
    Binary {
        len: usize,
        head: Vec<u8>,
    },
}

/// The `/record` store: per key, per connection (in accept order), the
/// messages in arrival order.
#[derive(Debug, Default)]
pub struct Records(Mutex<HashMap<String, Vec<Vec<Recorded>>>>);

impl Records {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Vec<Recorded>>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new connection for `key`; returns its index.
    pub fn start_connection(&self, key: &str) -> usize {
        let mut map = self.lock();
        let connections = map.entry(key.to_string()).or_default();
        connections.push(Vec::new());
        connections.len() - 1
    }

    pub fn push(&self, key: &str, connection: usize, message: &Message) {
        let recorded = match message {
            Message::Text(t) => Recorded::Text(t.as_str().to_string()),
            Message::Binary(b) => Recorded::Binary {
                len: b.len(),
                head: b[..b.len().min(16)].to_vec(),
            },
            _ => return,
        };
        if let Some(messages) = self.lock().get_mut(key).and_then(|c| c.get_mut(connection)) {
            messages.push(recorded);
        }
    }

    /// The record of `key` (see the README for the format).
    pub fn get(&self, key: &str) -> Vec<Vec<Recorded>> {
        self.lock().get(key).cloned().unwrap_or_default()
    }

    /// The `/report` JSON of `key`.
    pub fn report(&self, key: &str) -> String {
        report_json(&self.get(key))
    }
}

/// `[[entry, ...], ...]`: one array per connection; a text message is a JSON
/// string, a binary one `{"len": N, "head": "<hex of the first <= 16 bytes>"}`.
pub fn report_json(connections: &[Vec<Recorded>]) -> String {
    let mut out = String::from("[");
    for (i, messages) in connections.iter().enumerate() {
        out.push_str(if i == 0 { "[" } else { ",[" });
        for (j, m) in messages.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            match m {
                Recorded::Text(t) => push_json_string(&mut out, t),
                Recorded::Binary { len, head } => {
                    let hex: String = head.iter().map(|b| format!("{b:02x}")).collect();
                    out.push_str(&format!(r#"{{"len":{len},"head":"{hex}"}}"#));
                }
            }
        }
        out.push(']');
    }
    out.push(']');
    out
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The tokens of `/token_issue`, each good for one `/token_echo` handshake.
#[derive(Debug, Default)]
pub struct Tokens(Mutex<(u64, std::collections::HashSet<String>)>);

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, std::collections::HashSet<String>)> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A token never issued before, now valid for one handshake.
    pub fn issue(&self) -> String {
        let mut state = self.lock();
        state.0 += 1;
        let token = format!("tok{}", state.0);
        state.1.insert(token.clone());
        token
    }

    /// Uses `token` up: true if it was issued and not used before.
    pub fn redeem(&self, token: &str) -> bool {
        self.lock().1.remove(token)
    }
}

/// Counts handshakes per key for `/refuse_first`.
#[derive(Debug, Default)]
pub struct Refusals(Mutex<HashMap<String, u64>>);

impl Refusals {
    /// Counts one handshake for `key`; true if it is among the first `n`.
    pub fn refuse(&self, key: &str, n: u64) -> bool {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = map.entry(key.to_string()).or_default();
        *count += 1;
        *count <= n
    }
}

fn again_frame() -> CloseFrame {
    CloseFrame {
        code: CloseCode::from(4000),
        reason: "again".into(),
    }
}

fn done_frame() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    }
}

/// Message `i` of a `/flood`, see the README for the exact format.
pub fn flood_message(kind: FloodKind, i: u64, size: usize) -> Message {
    let text = match kind {
        FloodKind::Text => true,
        FloodKind::Binary => false,
        FloodKind::Mixed => i % 2 == 0,
    };
    let mut v = Vec::with_capacity(size.max(8));
    if text {
        v.extend_from_slice(format!("{i:08}").as_bytes());
        push_cyclic(&mut v, 8, size, 26 * 40, |j| b'a' + (j % 26) as u8);
        Message::text(String::from_utf8(v).expect("ASCII only"))
    } else {
        v.extend_from_slice(&(i as u32).to_be_bytes());
        let i = i as usize;
        push_cyclic(&mut v, 4, size, 1024, |j| (i.wrapping_add(j) % 256) as u8);
        Message::binary(v)
    }
}

/// Appends `f(j)` for `j` in `start..end`, where `f` repeats every `period`
/// (computed once per period, then copied: cheap even for huge messages).
fn push_cyclic(
    out: &mut Vec<u8>,
    start: usize,
    end: usize,
    period: usize,
    f: impl Fn(usize) -> u8,
) {
    if end <= start {
        return;
    }
    let cycle: Vec<u8> = (start..start + period.min(end - start)).map(f).collect();
    let mut remaining = end - start;
    while remaining > 0 {
        let n = remaining.min(cycle.len());
        out.extend_from_slice(&cycle[..n]);
        remaining -= n;
    }
}

/// The fixed `/interleave` sequence.
pub fn interleave_messages() -> Vec<Message> {
    vec![
        Message::text("t0"),
        Message::binary(vec![1u8; 262_144]),
        Message::text("t2"),
        Message::binary(vec![3u8]),
        Message::text(""),
        Message::binary(Vec::new()),
        Message::text("🦀 t6"),
        Message::binary(vec![7u8; 65_536]),
        Message::text("t8"),
        Message::binary(vec![9u8, 9]),
        Message::binary(vec![10u8; 1_048_576]),
        Message::text("t11 — end"),
    ]
}

/// What [`serve`] does after handing a data message to its callback.
pub enum Step {
    /// Queue the optional reply and keep going.
    Continue(Option<Message>),
    /// Queue the optional reply, flush, and return [`End::Stopped`].
    Stop(Option<Message>),
}

/// Why [`serve`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The connection is over (closing handshake done or stream ended).
    Closed,
    /// The callback returned [`Step::Stop`].
    Stopped,
    /// The deadline passed.
    Deadline,
}

fn echo_step(m: Message) -> Step {
    Step::Continue(Some(m))
}

/// Echoes until `limit` messages were echoed ([`End::Stopped`]), the deadline, or the end.
async fn echo_up_to(ws: &mut Ws, deadline: Option<Instant>, limit: u64) -> Result<End, WsError> {
    let mut seen = 0u64;
    serve(ws, deadline, |m| {
        seen += 1;
        if seen >= limit {
            Step::Stop(Some(m))
        } else {
            Step::Continue(Some(m))
        }
    })
    .await
}

async fn echo(ws: &mut Ws) -> Result<(), WsError> {
    serve(ws, None, echo_step).await.map(drop)
}

/// The read loop shared by all routes that read: text and binary messages go
/// to `on_message`, replies are queued and flushed as soon as no further
/// message is immediately available (so bursts are answered in bulk). Pings
/// are answered and close frames are replied to by tungstenite.
pub async fn serve<F>(
    ws: &mut Ws,
    deadline: Option<Instant>,
    mut on_message: F,
) -> Result<End, WsError>
where
    F: FnMut(Message) -> Step,
{
    let mut dirty = false;
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            if dirty {
                ws.flush().await?;
            }
            return Ok(End::Deadline);
        }
        let next = match ws.next().now_or_never() {
            Some(next) => next,
            None => {
                if dirty {
                    ws.flush().await?;
                    dirty = false;
                }
                match deadline {
                    Some(d) => match tokio::time::timeout_at(d, ws.next()).await {
                        Ok(next) => next,
                        Err(_) => return Ok(End::Deadline),
                    },
                    None => ws.next().await,
                }
            }
        };
        let msg = match next {
            None => return Ok(End::Closed),
            Some(Err(WsError::ConnectionClosed)) => return Ok(End::Closed),
            Some(Err(e)) => return Err(e),
            Some(Ok(msg)) => msg,
        };
        match msg {
            Message::Text(_) | Message::Binary(_) => match on_message(msg) {
                Step::Continue(reply) => {
                    if let Some(reply) = reply {
                        ws.feed(reply).await?;
                        dirty = true;
                    }
                }
                Step::Stop(reply) => {
                    if let Some(reply) = reply {
                        ws.feed(reply).await?;
                    }
                    ws.flush().await?;
                    return Ok(End::Stopped);
                }
            },
            // Tungstenite queued the close reply; the next read flushes it
            // and then reports the end of the stream.
            Message::Close(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

/// Sends a close frame (`None`: empty payload) and waits (bounded) for the
/// client's close frame, discarding any data that still arrives.
async fn close_and_wait(ws: &mut Ws, frame: Option<CloseFrame>) -> Result<(), WsError> {
    match ws.send(Message::Close(frame)).await {
        Ok(()) | Err(WsError::ConnectionClosed) => {}
        Err(e) => return Err(e),
    }
    let drained = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(r) = ws.next().await {
            match r {
                Ok(_) => {}
                Err(WsError::ConnectionClosed) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
    .await;
    drained.unwrap_or(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flood_formats() {
        let m = flood_message(FloodKind::Binary, 258, 8);
        assert_eq!(m.into_data().as_ref(), [0, 0, 1, 2, 6, 7, 8, 9]);
        let m = flood_message(FloodKind::Binary, 1, 0);
        assert_eq!(m.into_data().as_ref(), [0, 0, 0, 1]);
        let m = flood_message(FloodKind::Text, 42, 12);
        assert_eq!(m, Message::text("00000042ijkl"));
        let m = flood_message(FloodKind::Text, 7, 3);
        assert_eq!(m, Message::text("00000007"));
        assert!(flood_message(FloodKind::Mixed, 0, 16).is_text());
        assert!(flood_message(FloodKind::Mixed, 1, 16).is_binary());
    }

    #[test]
    fn flood_matches_naive_definition() {
        for size in [0usize, 3, 4, 8, 9, 27, 300, 1100, 5000] {
            for i in [0u64, 1, 25, 255, 256, 70_001] {
                let mut bin = (i as u32).to_be_bytes().to_vec();
                bin.extend((4..size).map(|j| ((i as usize + j) % 256) as u8));
                assert_eq!(
                    flood_message(FloodKind::Binary, i, size),
                    Message::binary(bin)
                );
                let mut text = format!("{i:08}");
                text.extend((8..size).map(|j| (b'a' + (j % 26) as u8) as char));
                assert_eq!(flood_message(FloodKind::Text, i, size), Message::text(text));
            }
        }
    }

    #[test]
    fn route_parsing() {
        let uri = |t: &str| t.parse::<Uri>().unwrap();
        assert_eq!(
            Route::from_uri(&uri("/close?code=none&reason=x")),
            Some(Route::Close {
                code: None,
                reason: "x".into(),
                delay_ms: 0
            })
        );
        assert_eq!(
            Route::from_uri(&uri("/flood?kind=mixed&close=none")),
            Some(Route::Flood {
                n: 10,
                size: 16,
                kind: FloodKind::Mixed,
                delay_ms: 0,
                close: false
            })
        );
        assert_eq!(Route::from_uri(&uri("/nope")), None);
        assert_eq!(
            Route::from_uri(&uri("/record?key=k%201&drop_every=500")),
            Some(Route::Record {
                key: "k 1".into(),
                drop_every: Some(500),
                stall_ms: 0,
                close_every: None
            })
        );
        assert_eq!(
            Route::from_uri(&uri("/record?drop_every=0&stall_ms=300&close_every=9")),
            Some(Route::Record {
                key: String::new(),
                drop_every: None,
                stall_ms: 300,
                close_every: Some(9)
            })
        );
        assert_eq!(
            Route::from_uri(&uri("/refuse_first?key=a")),
            Some(Route::RefuseFirst {
                key: "a".into(),
                n: 1
            })
        );
        assert_eq!(Route::from_uri(&uri("/silent")), Some(Route::Silent));
        assert_eq!(
            Route::from_uri(&uri("/chat?room=a%20b")),
            Some(Route::Chat { room: "a b".into() })
        );
        assert_eq!(
            Route::from_uri(&uri("/token_echo?token=tok1&drop_after=2")),
            Some(Route::TokenEcho {
                token: "tok1".into(),
                drop_after: Some(2)
            })
        );
        let tokens = Tokens::default();
        let (a, b) = (tokens.issue(), tokens.issue());
        assert_ne!(a, b);
        assert!(tokens.redeem(&a) && !tokens.redeem(&a) && !tokens.redeem("nope"));
    }

    #[test]
    fn report_format() {
        assert_eq!(report_json(&[]), "[]");
        let record = vec![
            vec![
                Recorded::Text("a\"b\\c\u{1}é".into()),
                Recorded::Binary {
                    len: 2,
                    head: vec![0, 255],
                },
            ],
            vec![],
        ];
        assert_eq!(
            report_json(&record),
            r#"[["a\"b\\c\u0001é",{"len":2,"head":"00ff"}],[]]"#
        );
    }
}
