//! The native transport (every target but wasm32): tokio-tungstenite under tokio, TLS with
//! rustls and the webpki roots.
//!
//! One tokio task per connection does the opening handshake, then reads and writes
//! concurrently (reading never waits for a slow write, so a server that echoes while we
//! send cannot deadlock us). The socket talks to it through an unbounded channel of
//! commands; the Sink's high-water mark is what bounds it, through `buffered_amount`: bytes
//! handed to `send` and not yet written and flushed to the TCP socket. The task lowers it
//! after each flush and calls `Connection::check_drained`.
//!
//! The handshake is done here rather than by tungstenite's client, because browsers accept
//! a server that selects no subprotocol from those offered and tungstenite refuses it, and
//! because a refused handshake must say what happened (e.g. "HTTP 403 Forbidden").

use std::net::IpAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Uri};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WireCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WireMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::close_event::CloseEvent;
use crate::core::connection::Connection;
use crate::core::connection::Transport;
use crate::core::queue::Incoming;
use crate::error::Error;
use crate::listeners::LiveToken;
use crate::message::{BinaryType, Message};
use crate::state::State;
use crate::sync::{Lock, Weak};

/// How long a started close may take (our close frame written, the server's received,
/// the TCP connection ended) before the connection is dropped as lost (1006).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest handshake response accepted.
const MAX_RESPONSE: usize = 16 * 1024;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Where to connect, from the URL.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The URL as `url()` reports it: `ws:` or `wss:`, with a path.
    url: String,
    tls: bool,
    host: String,
    port: u16,
    /// `host[:port]` for the `Host` header.
    authority: String,
    path: String,
}

/// Parses an absolute URL the way browsers do for WebSockets: `ws`, `wss`, `http` and
/// `https` schemes, no fragment.
pub(crate) fn parse_url(url: &str) -> Result<Target, Error> {
    let invalid = |message: &str| Error::InvalidUrl {
        url: url.to_owned(),
        message: message.to_owned(),
    };
    if url.contains('#') {
        return Err(invalid("a WebSocket URL must not have a fragment"));
    }
    let uri: Uri = percent_encode(url)
        .parse()
        .map_err(|e: tungstenite::http::uri::InvalidUri| invalid(&e.to_string()))?;
    let Some(scheme) = uri.scheme_str() else {
        return Err(invalid(
            "a relative URL needs a page to resolve against; natively the URL must be absolute",
        ));
    };
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "ws" | "http" => false,
        "wss" | "https" => true,
        _ => return Err(invalid("the scheme must be ws, wss, http or https")),
    };
    let Some(host) = uri.host().filter(|h| !h.is_empty()) else {
        return Err(invalid("the URL has no host"));
    };
    let host = host.to_ascii_lowercase();
    let default_port = if tls { 443 } else { 80 };
    // From the authority text: `Uri::port` is `None` for a port that is out of range.
    let authority = uri.authority().map_or("", |a| a.as_str());
    let after_host = &authority[authority.rfind(']').unwrap_or(0)..];
    let port = match after_host.rfind(':').map(|i| &after_host[i + 1..]) {
        None | Some("") => default_port,
        Some(port) => port
            .parse::<u16>()
            .map_err(|_| invalid("the port is out of range"))?,
    };
    let authority = if port == default_port {
        host.clone()
    } else {
        format!("{host}:{port}")
    };
    let path = match uri.path_and_query().map(|p| p.as_str()) {
        None | Some("") => "/".to_owned(),
        Some(p) if p.starts_with('/') => p.to_owned(),
        Some(p) => format!("/{p}"),
    };
    let scheme = if tls { "wss" } else { "ws" };
    Ok(Target {
        url: format!("{scheme}://{authority}{path}"),
        tls,
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        authority,
        path,
    })
}

/// Percent-encodes what browsers encode in a URL's path and query (controls, space,
/// non-ASCII, `"<>`{}`), which `Uri` would refuse.
fn percent_encode(url: &str) -> String {
    let mut encoded = String::with_capacity(url.len());
    for byte in url.bytes() {
        if byte <= b' ' || byte >= 0x7f || b"\"<>`{}".contains(&byte) {
            encoded.push('%');
            encoded.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            encoded.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 0xf)]));
        } else {
            encoded.push(char::from(byte));
        }
    }
    encoded
}

/// Checks a request header for [`Builder::header`](crate::Builder::header).
pub(crate) fn check_header(name: &str, value: &str) -> Result<(), Error> {
    let invalid = |message: &str| Error::InvalidHeader {
        name: name.to_owned(),
        message: message.to_owned(),
    };
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid("not a valid header name"))?;
    HeaderValue::from_str(value).map_err(|_| invalid("not a valid header value"))?;
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("sec-websocket-")
        || matches!(lower.as_str(), "host" | "upgrade" | "connection")
    {
        return Err(invalid("set by the WebSocket handshake itself"));
    }
    Ok(())
}

/// What the socket tells the task.
enum Command {
    Send(Message),
    Ping,
    Close(u16, String),
}

/// What the socket and the task both read and write.
struct Status {
    /// A `State` as its `readyState` number.
    state: AtomicU8,
    buffered: AtomicU64,
    protocol: Lock<String>,
    extensions: Lock<String>,
    /// Signalled when a close starts, which bounds what follows by [`CLOSE_TIMEOUT`].
    closing: Notify,
}

impl Status {
    fn state(&self) -> State {
        State::from_ready_state(u16::from(self.state.load(Ordering::SeqCst)))
    }

    /// Moves from `from` to `to`; false if the state was no longer `from`.
    fn advance(&self, from: State, to: State) -> bool {
        self.state
            .compare_exchange(code(from), code(to), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

fn code(state: State) -> u8 {
    match state {
        State::Connecting => 0,
        State::Open => 1,
        State::Closing => 2,
        State::Closed => 3,
    }
}

/// Everything the task needs to start; taken by `attach`.
struct Start {
    target: Target,
    protocols: Vec<String>,
    headers: Vec<(String, String)>,
    tls: Option<Arc<rustls::ClientConfig>>,
    commands: mpsc::UnboundedReceiver<Command>,
}

pub(crate) struct Native {
    url: String,
    binary_type: BinaryType,
    status: Arc<Status>,
    commands: mpsc::UnboundedSender<Command>,
    start: Lock<Option<Start>>,
    runtime: tokio::runtime::Handle,
    /// Counts this connection for `live_listeners` while the socket holds it.
    _live: LiveToken,
}

impl Native {
    /// Prepares a connection; the task starts in `attach`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] outside a tokio runtime; [`Error::InvalidUrl`].
    pub(crate) fn open(
        url: &str,
        protocols: &[String],
        headers: &[(String, String)],
        binary_type: BinaryType,
        extra_roots: &[Vec<u8>],
    ) -> Result<Native, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::Unsupported {
            feature: "connecting outside a tokio runtime".into(),
        })?;
        let target = parse_url(url)?;
        let tls = if target.tls {
            Some(tls_config(extra_roots)?)
        } else {
            None
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        Ok(Native {
            url: target.url.clone(),
            binary_type,
            status: Arc::new(Status {
                state: AtomicU8::new(code(State::Connecting)),
                buffered: AtomicU64::new(0),
                protocol: Lock::default(),
                extensions: Lock::default(),
                closing: Notify::new(),
            }),
            commands: sender,
            start: Lock::new(Some(Start {
                target,
                protocols: protocols.to_vec(),
                headers: headers.to_vec(),
                tls,
                commands: receiver,
            })),
            runtime,
            _live: LiveToken::new(),
        })
    }
}

/// The rustls configuration: the webpki roots, plus `extra_roots` (DER certificates).
/// The default one is built once per process.
fn tls_config(extra_roots: &[Vec<u8>]) -> Result<Arc<rustls::ClientConfig>, Error> {
    static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if extra_roots.is_empty() {
        if let Some(config) = DEFAULT.get() {
            return Ok(config.clone());
        }
    }
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::Unsupported {
                feature: format!("root certificate: {e}"),
            })?;
    }
    // An explicit provider: `builder()` would panic if the program's dependency graph
    // enabled more than one rustls crypto provider. ring, although rustls now prefers
    // aws-lc-rs (post-quantum key exchange): it builds without cmake and in a fraction of
    // the time.
    #[allow(deprecated)]
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::Unsupported {
        feature: format!("TLS: {e}"),
    })?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let config = Arc::new(config);
    if extra_roots.is_empty() {
        let _ = DEFAULT.set(config.clone());
    }
    Ok(config)
}

impl Transport for Native {
    fn attach(&self, connection: &Weak<Connection>) {
        let Some(start) = self.start.lock().take() else {
            return;
        };
        self.runtime
            .spawn(run(start, connection.clone(), self.status.clone()));
    }

    fn state(&self) -> State {
        self.status.state()
    }

    fn url(&self) -> String {
        self.url.clone()
    }

    fn protocol(&self) -> String {
        self.status.protocol.lock().clone()
    }

    fn extensions(&self) -> String {
        self.status.extensions.lock().clone()
    }

    fn binary_type(&self) -> BinaryType {
        self.binary_type
    }

    fn buffered_amount(&self) -> u64 {
        self.status.buffered.load(Ordering::SeqCst)
    }

    fn send(&self, message: &Message) -> Result<(), Error> {
        self.send_owned(message.clone())
    }

    fn send_owned(&self, message: Message) -> Result<(), Error> {
        let len = message.len() as u64;
        // Counted before the task can write (and subtract) it.
        self.status.buffered.fetch_add(len, Ordering::SeqCst);
        if self.commands.send(Command::Send(message)).is_err() {
            self.status.buffered.fetch_sub(len, Ordering::SeqCst);
            return Err(Error::NotOpen(self.status.state()));
        }
        Ok(())
    }

    fn ping(&self) {
        let _ = self.commands.send(Command::Ping);
    }

    fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        // The state is `Closing` as soon as this returns, as in browsers.
        if self.status.advance(State::Open, State::Closing)
            || self.status.advance(State::Connecting, State::Closing)
        {
            let _ = self.commands.send(Command::Close(code, reason.to_owned()));
            self.status.closing.notify_one();
        }
        Ok(())
    }

    fn watch_drain(&self, connection: &Weak<Connection>) {
        // The task calls `check_drained` after every flush; this re-check covers a flush
        // that finished on another thread before the sender started waiting.
        if let Some(connection) = connection.upgrade() {
            connection.check_drained();
        }
    }

    fn release(&self, _keep_close: bool) {
        // The task holds only a `Weak` to the connection, and ends on its own once the
        // close started by `abandon` completes (bounded by `CLOSE_TIMEOUT`).
    }
}

fn lost(reason: String) -> CloseEvent {
    CloseEvent {
        code: 1006,
        reason,
        was_clean: false,
    }
}

/// Reports the close event when the task ends: normally with the event it found, and
/// with 1006 if the task is dropped first (its runtime shut down), so that nobody waits
/// for a close event that would never come.
struct Finish {
    connection: Weak<Connection>,
    status: Arc<Status>,
    event: Option<CloseEvent>,
}

impl Drop for Finish {
    fn drop(&mut self) {
        let event = self.event.take().unwrap_or_else(|| lost(String::new()));
        self.status
            .state
            .store(code(State::Closed), Ordering::SeqCst);
        if let Some(connection) = self.connection.upgrade() {
            connection.on_close(event);
        }
    }
}

/// The connection's task: connect, then read and write until closed.
async fn run(start: Start, connection: Weak<Connection>, status: Arc<Status>) {
    let mut finish = Finish {
        connection: connection.clone(),
        status: status.clone(),
        event: None,
    };
    let Start {
        target,
        protocols,
        headers,
        tls,
        mut commands,
    } = start;
    let event =
        match connect_or_cancel(&target, &protocols, &headers, tls, &mut commands, &status).await {
            Ok(socket) => {
                if status.advance(State::Connecting, State::Open) {
                    if let Some(connection) = connection.upgrade() {
                        connection.on_open();
                    }
                    serve(socket, commands, &connection, &status).await
                } else {
                    // Closed while the handshake was finishing: like a browser, the attempt
                    // fails.
                    lost(String::new())
                }
            }
            Err(event) => event,
        };
    finish.event = Some(event);
}

/// The handshake, unless a close (or the socket's drop) comes first.
async fn connect_or_cancel(
    target: &Target,
    protocols: &[String],
    headers: &[(String, String)],
    tls: Option<Arc<rustls::ClientConfig>>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    status: &Status,
) -> Result<Socket, CloseEvent> {
    let cancelled = async {
        loop {
            match commands.recv().await {
                Some(Command::Close(..)) | None => return,
                // Nothing is sent before the open (the core refuses it).
                Some(_) => {}
            }
        }
    };
    tokio::select! {
        result = handshake(target, protocols, headers, tls) => match result {
            Ok((socket, protocol, extensions)) => {
                *status.protocol.lock() = protocol;
                *status.extensions.lock() = extensions;
                Ok(socket)
            }
            Err(reason) => Err(lost(reason)),
        },
        () = cancelled => Err(lost(String::new())),
    }
}

/// TCP, TLS, and the HTTP upgrade; `Err` says what failed.
async fn handshake(
    target: &Target,
    protocols: &[String],
    headers: &[(String, String)],
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<(Socket, String, String), String> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("TCP connect to {}: {e}", target.authority))?;
    let _ = tcp.set_nodelay(true);
    let mut stream = match tls {
        None => MaybeTlsStream::Plain(tcp),
        Some(config) => {
            let name = match target.host.parse::<IpAddr>() {
                Ok(ip) => rustls::pki_types::ServerName::IpAddress(ip.into()),
                Err(_) => rustls::pki_types::ServerName::try_from(target.host.clone())
                    .map_err(|e| format!("TLS: invalid server name: {e}"))?,
            };
            let tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await
                .map_err(|e| format!("TLS handshake: {e}"))?;
            MaybeTlsStream::Rustls(tls)
        }
    };

    let key = generate_key();
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        target.path, target.authority
    );
    if !protocols.is_empty() {
        request.push_str("Sec-WebSocket-Protocol: ");
        request.push_str(&protocols.join(", "));
        request.push_str("\r\n");
    }
    for (name, value) in headers {
        request.push_str(name);
        request.push_str(": ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| format!("sending the handshake: {e}"))?;

    let mut buffer = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|e| format!("reading the handshake response: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection during the handshake".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
        let mut header_slots = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut header_slots);
        match response.parse(&buffer) {
            Ok(httparse::Status::Partial) if buffer.len() < MAX_RESPONSE => continue,
            Ok(httparse::Status::Partial) => return Err("handshake response too large".into()),
            Err(e) => return Err(format!("invalid handshake response: {e}")),
            Ok(httparse::Status::Complete(length)) => {
                let (protocol, extensions) = check_response(&response, &key, protocols)?;
                let rest = buffer.split_off(length);
                let config = WebSocketConfig::default()
                    // Browsers impose no message size limit; neither does this crate.
                    .max_message_size(None)
                    .max_frame_size(None);
                let socket =
                    WebSocketStream::from_partially_read(stream, rest, Role::Client, Some(config))
                        .await;
                return Ok((socket, protocol, extensions));
            }
        }
    }
}

/// Checks a complete handshake response; the selected protocol and extensions.
fn check_response(
    response: &httparse::Response<'_, '_>,
    key: &str,
    protocols: &[String],
) -> Result<(String, String), String> {
    let code = response.code.unwrap_or(0);
    if code != 101 {
        let mut reason = format!("HTTP {code}");
        if let Some(text) = response.reason.filter(|r| !r.is_empty()) {
            reason.push(' ');
            reason.push_str(text);
        }
        return Err(reason);
    }
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
    };
    let has_token = |name: &str, token: &str| {
        header(name).is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("upgrade", "websocket") || !has_token("connection", "upgrade") {
        return Err("invalid handshake response: not an upgrade to websocket".into());
    }
    if header("sec-websocket-accept").as_deref() != Some(derive_accept_key(key.as_bytes()).as_str())
    {
        return Err("invalid handshake response: wrong Sec-WebSocket-Accept".into());
    }
    let protocol = header("sec-websocket-protocol").unwrap_or_default();
    if !protocol.is_empty() && !protocols.contains(&protocol) {
        return Err(format!(
            "the server selected subprotocol \"{protocol}\", which was not offered"
        ));
    }
    let extensions = header("sec-websocket-extensions").unwrap_or_default();
    if !extensions.is_empty() {
        // None are offered, so none may be accepted (RFC 6455 section 4.1).
        return Err("the server accepted extensions that were not offered".into());
    }
    Ok((protocol, extensions))
}

/// Reads and writes an open connection until it closes; the close event.
async fn serve(
    socket: Socket,
    commands: mpsc::UnboundedReceiver<Command>,
    connection: &Weak<Connection>,
    status: &Status,
) -> CloseEvent {
    let (sink, stream) = halves(socket);
    let mut reader = pin!(read(stream, connection, status));
    let mut writer = pin!(write(sink, commands, connection, status));
    let mut deadline = pin!(async {
        status.closing.notified().await;
        tokio::time::sleep(CLOSE_TIMEOUT).await;
    });
    let mut writing = true;
    loop {
        tokio::select! {
            event = &mut reader => return event,
            () = &mut writer, if writing => writing = false,
            () = &mut deadline => return lost(String::new()),
        }
    }
}

/// tokio-tungstenite's stream is one object; the reading and the writing half reach it
/// through a lock held only within a poll, never across a wait (both run in one task, so
/// it is never contended).
fn halves(socket: Socket) -> (Half, Half) {
    let shared = Arc::new(Lock::new(socket));
    (Half(shared.clone()), Half(shared))
}

struct Half(Arc<Lock<Socket>>);

impl Half {
    fn poll_next(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<WireMessage, tungstenite::Error>>> {
        std::pin::Pin::new(&mut *self.0.lock()).poll_next(cx)
    }

    fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), tungstenite::Error>> {
        Sink::<WireMessage>::poll_ready(std::pin::Pin::new(&mut *self.0.lock()), cx)
    }

    fn start_send(&self, message: WireMessage) -> Result<(), tungstenite::Error> {
        std::pin::Pin::new(&mut *self.0.lock()).start_send(message)
    }

    fn poll_flush(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), tungstenite::Error>> {
        Sink::<WireMessage>::poll_flush(std::pin::Pin::new(&mut *self.0.lock()), cx)
    }

    async fn feed(&self, message: WireMessage) -> Result<(), tungstenite::Error> {
        std::future::poll_fn(|cx| self.poll_ready(cx)).await?;
        self.start_send(message)
    }

    async fn flush(&self) -> Result<(), tungstenite::Error> {
        std::future::poll_fn(|cx| self.poll_flush(cx)).await
    }
}

/// Reads until the connection ends; the close event.
async fn read(stream: Half, connection: &Weak<Connection>, status: &Status) -> CloseEvent {
    let mut close_frame: Option<(u16, String)> = None;
    loop {
        let item = std::future::poll_fn(|cx| stream.poll_next(cx)).await;
        let message = match item {
            Some(Ok(message)) => message,
            // The end of the stream, or an error (a reset, a protocol violation): clean
            // only after the server's close frame (tungstenite answers it by itself).
            None | Some(Err(_)) => {
                return match close_frame {
                    Some((code, reason)) => CloseEvent {
                        code,
                        reason,
                        was_clean: true,
                    },
                    None => lost(String::new()),
                };
            }
        };
        let Some(connection) = connection.upgrade() else {
            // The socket is gone: keep reading only to complete the close.
            if let WireMessage::Close(frame) = message {
                close_frame = Some(close_of(frame));
            }
            continue;
        };
        match message {
            WireMessage::Text(text) => {
                connection.on_message(Incoming::Ready(Ok(Message::Text(text.as_str().to_owned()))))
            }
            WireMessage::Binary(bytes) => {
                connection.on_message(Incoming::Ready(Ok(Message::Binary(Vec::from(bytes)))))
            }
            WireMessage::Pong(_) => connection.on_activity(),
            WireMessage::Ping(_) | WireMessage::Frame(_) => {}
            WireMessage::Close(frame) => {
                close_frame = Some(close_of(frame));
                // The server started the close: `Closing` until the connection ends, as
                // in browsers; a close the client started is already `Closing`.
                if status.advance(State::Open, State::Closing) {
                    status.closing.notify_one();
                }
                // Senders waiting for a drain must now fail with `NotOpen`.
                connection.check_drained();
            }
        }
    }
}

/// A received close frame as the browser reports it: no payload is 1005.
fn close_of(frame: Option<CloseFrame>) -> (u16, String) {
    match frame {
        Some(frame) => (u16::from(frame.code), frame.reason.as_str().to_owned()),
        None => (1005, String::new()),
    }
}

/// Writes what the socket sends, in order, until a close is written or the socket is gone.
async fn write(
    sink: Half,
    mut commands: mpsc::UnboundedReceiver<Command>,
    connection: &Weak<Connection>,
    status: &Status,
) {
    while let Some(first) = commands.recv().await {
        // Everything already queued goes out with one flush.
        let mut next = Some(first);
        let mut bytes = 0u64;
        let mut close = false;
        while let Some(command) = next.take() {
            let frame = match command {
                Command::Send(message) => {
                    bytes += message.len() as u64;
                    match message {
                        Message::Text(text) => WireMessage::text(text),
                        Message::Binary(data) => WireMessage::binary(data),
                    }
                }
                Command::Ping => WireMessage::Ping(Default::default()),
                Command::Close(code, reason) => {
                    close = true;
                    WireMessage::Close(Some(CloseFrame {
                        code: WireCode::from(code),
                        reason: reason.into(),
                    }))
                }
            };
            if sink.feed(frame).await.is_err() {
                // The connection broke; the reader reports how. What was not written
                // stays in `buffered_amount`, as in browsers.
                return;
            }
            if close {
                break;
            }
            next = commands.try_recv().ok();
        }
        if sink.flush().await.is_err() {
            return;
        }
        status.buffered.fetch_sub(bytes, Ordering::SeqCst);
        if let Some(connection) = connection.upgrade() {
            connection.check_drained();
        }
        if close {
            return;
        }
    }
    // The socket was dropped (its close, if any, has been written above).
    status.closing.notify_one();
}
