use std::time::Duration;

use super::{ConnectFuture, WebSocket};
use crate::core::connection::Transport;
use crate::core::connection::{start_keepalive, Config, StartKeepalive};
use crate::core::keepalive::KeepaliveConfig;
use crate::error::Error;
use crate::message::{BinaryType, Message};
use crate::timer::whole_millis;
#[cfg(target_arch = "wasm32")]
use crate::transport::classic::{self, Classic, ReadBlob, Refuse};
#[cfg(not(target_arch = "wasm32"))]
use crate::transport::native::Native;
#[cfg(target_arch = "wasm32")]
use crate::transport::stream::StreamSupport;

/// Natively there is no `WebSocketStream` to support.
#[cfg(not(target_arch = "wasm32"))]
type StreamSupport = std::convert::Infallible;

/// A check of the builder's settings, run when connecting.
type Check = fn(&Builder) -> Result<(), Error>;

/// The default high-water mark: 1 MiB of `bufferedAmount`.
pub const DEFAULT_HIGH_WATER_MARK: usize = 1 << 20;

/// Which browser API carries a connection.
///
/// Both give the same API and behaviour (messages, close codes and reasons, errors). What
/// differs is receive flow control, and the few points listed here.
///
/// Natively (outside wasm32) there is one transport, tokio-tungstenite: `Classic` and
/// `Auto` pick it, and `Stream` makes connecting fail with [`Error::Unsupported`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Backend {
    /// The classic event-based
    /// [`WebSocket`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket), available
    /// everywhere. The browser delivers messages as they arrive, so a slow reader queues
    /// them in memory (bound it with [`Builder::max_queued`]). The default.
    #[default]
    Classic,
    /// [`WebSocketStream`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocketStream)
    /// (Chromium): messages are read from the network only while the Rust stream is polled,
    /// so a slow consumer makes TCP backpressure reach the server. `buffered_amount()` counts
    /// bytes whose `write()` has not completed; `binary_type` has no effect; the state goes
    /// from `Open` straight to `Closed` when the server closes; and while the consumer
    /// pauses, the idle timeout reads one message ahead to learn whether data arrived
    /// (which is not idleness), holding it for the consumer. Connecting fails with [`Error::Unsupported`]
    /// where the browser lacks it.
    ///
    /// It costs throughput on small messages (one `read()` promise per message: about
    /// 0.65x of the classic backend on a 16-byte flood in Chromium 156), so choose it for
    /// large or bursty downloads to slow consumers.
    ///
    /// Known browser bug: Chromium 156 can crash the tab when a `WebSocketStream`
    /// connection with a reader ends abnormally (TCP reset, or no close frame) while
    /// writes are in flight; it reproduces in plain JavaScript without this crate.
    Stream,
    /// `Stream` where the browser has it, `Classic` elsewhere.
    Auto,
}

type DefaultBackend = (Backend, Option<StreamSupport>);

thread_local! {
    static DEFAULT_BACKEND: std::cell::Cell<DefaultBackend> =
        const { std::cell::Cell::new((Backend::Classic, None)) };
}

/// Sets the backend for sockets created on this thread without [`Builder::backend`].
pub fn set_default_backend(backend: Backend) {
    // `try_with`, not `with`: thread-locals are never destroyed on wasm32, and `with`'s
    // panic path would link the formatting machinery into every client.
    let _ = DEFAULT_BACKEND.try_with(|cell| cell.set((backend, stream_support(backend))));
}

fn default_backend() -> DefaultBackend {
    DEFAULT_BACKEND
        .try_with(std::cell::Cell::get)
        .unwrap_or((Backend::Classic, None))
}

/// The `WebSocketStream` entry points are reachable only from here, so a program that never
/// asks for that backend links none of its code.
fn stream_support(backend: Backend) -> Option<StreamSupport> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = backend;
        None
    }
    #[cfg(target_arch = "wasm32")]
    match backend {
        Backend::Classic => None,
        Backend::Stream | Backend::Auto => Some(crate::transport::stream::SUPPORT),
    }
}

/// Request headers; `Debug` shows their names only, as values often hold credentials.
#[derive(Clone, Default)]
pub(crate) struct Headers(pub(crate) Vec<(String, String)>);

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// Configures a [`WebSocket`] before connecting. Created by [`WebSocket::builder`].
///
/// ```no_run
/// # async fn run() -> Result<(), wasm_websocket::Error> {
/// use std::time::Duration;
/// use wasm_websocket::{BinaryType, WebSocket};
///
/// let ws = WebSocket::builder("/chat")
///     .protocols(["chat.v2", "chat.v1"])
///     .binary_type(BinaryType::ArrayBuffer)
///     .high_water_mark(1 << 20)
///     .connect_timeout(Duration::from_secs(10))
///     .connect()
///     .await?;
/// # drop(ws); Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `connect` or `build` is called"]
pub struct Builder {
    pub(crate) url: String,
    pub(crate) protocols: Vec<String>,
    pub(crate) binary_type: BinaryType,
    pub(crate) high_water_mark: usize,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) keepalive: KeepaliveConfig,
    /// Set by the keepalive methods only (see [`StartKeepalive`]).
    start_keepalive: Option<StartKeepalive>,
    pub(crate) backend: Option<(Backend, Option<StreamSupport>)>,
    pub(crate) max_queued: Option<(usize, usize)>,
    /// Request headers (native targets only; browsers allow none).
    pub(crate) headers: Headers,
    /// Root certificates (DER) trusted besides the webpki roots, natively.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) root_certificates: Vec<Vec<u8>>,
    /// Set with [`BinaryType::Blob`] only (see [`ReadBlob`]).
    #[cfg(target_arch = "wasm32")]
    read_blob: Option<ReadBlob>,
    /// Set by `max_queued` only (see [`Refuse`]).
    #[cfg(target_arch = "wasm32")]
    refuse: Option<Refuse>,
    /// Set by the methods taking a duration, so that programs that set none link no
    /// check of them.
    check_durations: Option<Check>,
    #[cfg(feature = "io")]
    pub(crate) io_text: crate::text_policy::TextPolicy,
}

impl Builder {
    pub(crate) fn new(url: String) -> Self {
        Builder {
            url,
            protocols: Vec::new(),
            binary_type: BinaryType::default(),
            high_water_mark: DEFAULT_HIGH_WATER_MARK,
            connect_timeout: None,
            keepalive: KeepaliveConfig::default(),
            start_keepalive: None,
            backend: None,
            max_queued: None,
            headers: Headers::default(),
            #[cfg(not(target_arch = "wasm32"))]
            root_certificates: Vec::new(),
            #[cfg(target_arch = "wasm32")]
            read_blob: None,
            #[cfg(target_arch = "wasm32")]
            refuse: None,
            check_durations: None,
            #[cfg(feature = "io")]
            io_text: crate::text_policy::TextPolicy::default(),
        }
    }

    /// Subprotocols to offer, in order of preference. The server picks one (or none);
    /// [`WebSocket::protocol`] tells which.
    ///
    /// Each must be a non-empty RFC 6455 token (visible ASCII without separators) and none
    /// may appear twice, compared case-insensitively; otherwise connecting fails with
    /// [`Error::InvalidProtocol`] naming the first offending one.
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// How the browser delivers binary messages; [`BinaryType::ArrayBuffer`] by default.
    /// Natively it changes nothing but what [`WebSocket::binary_type`] reports.
    pub fn binary_type(mut self, binary_type: BinaryType) -> Self {
        self.binary_type = binary_type;
        #[cfg(target_arch = "wasm32")]
        {
            self.read_blob = match binary_type {
                BinaryType::Blob => Some(classic::read_blob),
                BinaryType::ArrayBuffer => None,
            };
        }
        self
    }

    /// The send-side high-water mark in bytes (default 1 MiB): the `Sink`'s `poll_ready`
    /// waits while [`WebSocket::buffered_amount`] is above it.
    pub fn high_water_mark(mut self, bytes: usize) -> Self {
        self.high_water_mark = bytes;
        self
    }

    /// Gives up connecting after `timeout`: the attempt is closed and released, and
    /// [`connect`](Builder::connect) fails with [`Error::Timeout`]. No timeout by default
    /// (browsers give up on their own after a long, browser-specific time), nor for a
    /// timeout longer than a JS timer can wait (2^31 - 1 ms, about 24.8 days).
    ///
    /// A timeout under 1 ms makes connecting fail with [`Error::InvalidOption`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self.check_durations = Some(Builder::validate_durations);
        self
    }

    /// How the [`ByteStream`](crate::ByteStream) made by
    /// [`WebSocket::into_io`] treats received text messages (crate feature `io`):
    /// [`TextPolicy::Bytes`](crate::text_policy::TextPolicy::Bytes) by default, i.e. as their UTF-8
    /// bytes. Has no effect on the socket's own `Stream`.
    ///
    /// ```no_run
    /// # async fn run() -> std::io::Result<()> {
    /// use wasm_websocket::{TextPolicy, WebSocket};
    ///
    /// let io = WebSocket::builder("wss://example.org/bytes")
    ///     .io_text(TextPolicy::Skip) // only binary messages make up the byte stream
    ///     .connect()
    ///     .await?
    ///     .into_io();
    /// # drop(io); Ok(()) }
    /// ```
    #[cfg(feature = "io")]
    pub fn io_text(mut self, policy: crate::text_policy::TextPolicy) -> Self {
        self.io_text = policy;
        self
    }

    /// Sends `message` whenever nothing has been sent for `interval` while the socket is
    /// open (after 1 to 1.25 intervals of quiet), to keep proxies and the server's own idle
    /// detection from dropping a quiet connection. This is an application-level message:
    /// browsers cannot send WebSocket ping frames (there is no API for it), so the server
    /// sees `message` like any other. It is skipped while sent data is still buffered.
    ///
    /// An interval under 1 ms makes connecting fail with [`Error::InvalidOption`].
    ///
    /// Natively (outside wasm32) each heartbeat also sends a Ping frame after `message`;
    /// the server's Pong counts as received for the [idle timeout](Builder::idle_timeout),
    /// so a server that answers pings (as RFC 6455 requires) keeps the connection alive
    /// even if it never replies to `message`.
    pub fn heartbeat(mut self, interval: Duration, message: impl Into<Message>) -> Self {
        self.keepalive.heartbeat = Some((interval, message.into()));
        self.check_durations = Some(Builder::validate_durations);
        self.start_keepalive = Some(start_keepalive);
        self
    }

    /// Treats the connection as lost when nothing has been received for `timeout` while
    /// open (detected after 1 to 1.25 timeouts): the socket is closed with code 1000 and
    /// reason `"idle timeout"`, and the stream yields the messages already received, then
    /// [`Error::IdleTimeout`], then ends. Pair it with a server that sends something
    /// regularly (or with a [`heartbeat`](Builder::heartbeat) the server answers).
    ///
    /// A timeout under 1 ms makes connecting fail with [`Error::InvalidOption`]; one
    /// longer than a JS timer can wait (about 24.8 days) still takes as long as it says.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive.idle_timeout = Some(timeout);
        self.check_durations = Some(Builder::validate_durations);
        self.start_keepalive = Some(start_keepalive);
        self
    }

    /// Which browser API carries the connection (see [`Backend`]); by default the one set
    /// with [`set_default_backend`], which is [`Backend::Classic`] unless changed.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = Some((backend, stream_support(backend)));
        self
    }

    /// Bounds the receive queue of the classic backend: when more than `messages` messages
    /// or more than `bytes` payload bytes are waiting to be read, the socket is closed with
    /// code [`QUEUE_FULL_CODE`](crate::QUEUE_FULL_CODE) (4009) and the stream yields what
    /// was queued, then [`Error::ReceiveQueueFull`], then ends. Nothing is dropped silently.
    ///
    /// A message larger than `bytes` by itself is refused before it is copied into wasm
    /// memory (so one oversized message cannot exhaust memory): the error then counts it
    /// as if it had been queued.
    ///
    /// Unbounded by default: the classic `WebSocket` cannot be told to stop reading, so a
    /// consumer slower than the network grows memory without bound. [`Backend::Stream`]
    /// avoids that where the browser supports it, by not reading at all while nobody polls.
    pub fn max_queued(mut self, messages: usize, bytes: usize) -> Self {
        self.max_queued = Some((messages, bytes));
        #[cfg(target_arch = "wasm32")]
        {
            self.refuse = Some(classic::refuse);
        }
        self
    }

    /// Adds a header to the opening handshake's HTTP request (authorization, cookies...),
    /// on native targets. Headers the handshake sets itself (`Host`, `Upgrade`,
    /// `Connection`, `Sec-WebSocket-*`) are refused with [`Error::InvalidHeader`], as are
    /// invalid names and values; use [`protocols`](Builder::protocols) for subprotocols.
    ///
    /// Browsers let pages set no headers, so on wasm32 connecting with any header fails
    /// with [`Error::Unsupported`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.0.push((name.into(), value.into()));
        self
    }

    /// Trusts `der`, a DER-encoded root certificate, for `wss:` connections besides the
    /// webpki roots (native targets only): e.g. a private CA or a self-signed test server.
    ///
    /// A certificate that cannot be parsed makes connecting fail with
    /// [`Error::Unsupported`].
    #[cfg(not(target_arch = "wasm32"))]
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(der.into());
        self
    }

    /// Connects, resolving once the socket is open.
    ///
    /// Dropping the future before it resolves closes the socket and removes its listeners.
    ///
    /// # Errors
    /// - [`Error::InvalidProtocol`] for a bad or repeated subprotocol (checked first),
    /// - [`Error::InvalidOption`] for a heartbeat, idle or connect timeout under 1 ms,
    /// - [`Error::InvalidUrl`] when the browser rejects the URL,
    /// - [`Error::Security`] when the browser refuses the connection outright,
    /// - [`Error::ConnectFailed`] when the socket closes before it opens (code 1006 for any
    ///   network failure or refused handshake),
    /// - [`Error::Timeout`] when the [connect timeout](Builder::connect_timeout) elapses,
    /// - [`Error::Js`] for any other exception from the browser.
    pub fn connect(self) -> ConnectFuture {
        ConnectFuture::new(self.open(), self.connect_timeout)
    }

    /// Creates the socket without waiting for it to open: it starts in
    /// [`State::Connecting`](crate::State::Connecting). Its `Sink` waits for the open,
    /// and its `Stream` ends with [`Error::ConnectFailed`] if the socket never opens.
    /// The [connect timeout](Builder::connect_timeout) applies only to
    /// [`connect`](Builder::connect).
    ///
    /// # Errors
    /// The synchronous ones of [`connect`](Builder::connect): [`Error::InvalidProtocol`],
    /// [`Error::InvalidOption`], [`Error::InvalidUrl`], [`Error::Security`], [`Error::Js`].
    pub fn build(self) -> Result<WebSocket, Error> {
        self.open()
    }

    /// Validates what the crate checks itself, then calls the browser's constructor.
    pub(crate) fn open(&self) -> Result<WebSocket, Error> {
        validate_protocols(&self.protocols)?;
        if let Some(check) = self.check_durations {
            check(self)?;
        }
        WebSocket::from_builder(self)
    }

    /// A duration under 1 ms cannot work: a JS timer would fire at once, and a heartbeat
    /// would flood the connection.
    fn validate_durations(&self) -> Result<(), Error> {
        let durations = [
            ("heartbeat", self.keepalive.heartbeat.as_ref().map(|h| h.0)),
            ("idle_timeout", self.keepalive.idle_timeout),
            ("connect_timeout", self.connect_timeout),
        ];
        match durations
            .into_iter()
            .find(|(_, duration)| duration.is_some_and(|d| whole_millis(d) == 0))
        {
            Some((option, _)) => Err(Error::InvalidOption {
                option: option.into(),
                message: "must be at least 1 ms".into(),
            }),
            None => Ok(()),
        }
    }

    /// Creates the native transport.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn transport(&self) -> Result<Box<dyn Transport>, Error> {
        if let (Backend::Stream, _) = self.backend.unwrap_or_else(default_backend) {
            return Err(Error::Unsupported {
                feature: "WebSocketStream (Backend::Stream) outside the browser".into(),
            });
        }
        for (name, value) in &self.headers.0 {
            crate::transport::native::check_header(name, value)?;
        }
        Ok(Box::new(Native::open(
            &self.url,
            &self.protocols,
            &self.headers.0,
            self.binary_type,
            &self.root_certificates,
        )?))
    }

    /// Creates the transport the backend setting asks for.
    #[cfg(target_arch = "wasm32")]
    pub(super) fn transport(&self) -> Result<Box<dyn Transport>, Error> {
        if !self.headers.0.is_empty() {
            return Err(Error::Unsupported {
                feature: "request headers (browsers let pages set none)".into(),
            });
        }
        let url = self.url.as_str();
        let stream = match self.backend.unwrap_or_else(default_backend) {
            (Backend::Classic, _) | (_, None) => None,
            (Backend::Auto, Some(support)) => (support.available)().then_some(support),
            (Backend::Stream, Some(support)) if (support.available)() => Some(support),
            (Backend::Stream, Some(_)) => {
                return Err(Error::Unsupported {
                    feature: "WebSocketStream".into(),
                })
            }
        };
        match stream {
            Some(support) => (support.open)(url, &self.protocols),
            None => Ok(Box::new(Classic::open(
                url,
                &self.protocols,
                self.binary_type,
                self.read_blob,
                self.max_queued
                    .zip(self.refuse)
                    .map(|((_, bytes), refuse)| (bytes, refuse)),
            )?)),
        }
    }

    pub(super) fn connection_config(&self) -> Config {
        Config {
            high_water_mark: self.high_water_mark as u64,
            keepalive: self.keepalive.clone(),
            start_keepalive: self.start_keepalive,
            max_queued: self.max_queued,
        }
    }
}

/// RFC 6455 section 4.1: each subprotocol is an RFC 2616 token, and none is repeated.
pub(crate) fn validate_protocols(protocols: &[String]) -> Result<(), Error> {
    for (index, protocol) in protocols.iter().enumerate() {
        let invalid = |message: String| Error::InvalidProtocol {
            protocol: protocol.clone(),
            message,
        };
        if protocol.is_empty() {
            return Err(invalid("a subprotocol must not be empty".into()));
        }
        if let Some(c) = protocol.chars().find(|c| !is_token_char(*c)) {
            // The code point, not `{c:?}`, and no `format!`: Debug escaping and the
            // formatting machinery would be linked into every client.
            let mut message = String::from("character U+");
            let code = u32::from(c);
            for shift in (0..8).rev().map(|digit| digit * 4) {
                if shift < 16 || code >> shift != 0 {
                    message.push(char::from(
                        b"0123456789ABCDEF"[(code >> shift & 0xF) as usize],
                    ));
                }
            }
            message.push_str(" is not allowed in a subprotocol token");
            return Err(invalid(message));
        }
        if protocols[..index]
            .iter()
            .any(|earlier| earlier.eq_ignore_ascii_case(protocol))
        {
            return Err(invalid("subprotocol is listed more than once".into()));
        }
    }
    Ok(())
}

fn is_token_char(c: char) -> bool {
    matches!(c, '\x21'..='\x7e') && !"()<>@,;:\\\"/[]?={}".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(list: &[&str]) -> Result<(), Error> {
        validate_protocols(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn offender(list: &[&str]) -> String {
        match check(list) {
            Err(Error::InvalidProtocol { protocol, .. }) => protocol,
            other => panic!("expected InvalidProtocol for {list:?}, got {other:?}"),
        }
    }

    #[test]
    fn accepts_tokens() {
        assert!(check(&[]).is_ok());
        assert!(check(&["chat.v2", "chat.v1", "x-y_z", "!#$%&'*+-.^_`|~", "A1"]).is_ok());
    }

    #[test]
    fn rejects_bad_tokens() {
        assert_eq!(offender(&["ok", ""]), "");
        for bad in [
            "a b", "a,b", "a;b", "a/b", "a:b", "a=b", "a\"b", "a\tb", "é", "a\u{7f}", "{x}", "a?b",
            "(a)", "[a]", "a@b", "<a>", "a\\b", "\n",
        ] {
            assert_eq!(offender(&["ok", bad]), bad);
        }
    }

    #[test]
    fn rejects_duplicates_case_insensitively() {
        assert_eq!(offender(&["chat", "chat"]), "chat");
        assert_eq!(offender(&["a", "Chat", "CHAT"]), "CHAT");
        assert!(check(&["chat", "chat2"]).is_ok());
    }

    #[test]
    fn debug_shows_header_names_not_values() {
        let b = Builder::new("wss://x/".into()).header("Authorization", "Bearer secret");
        let text = format!("{b:?}");
        assert!(text.contains("Authorization"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }

    #[test]
    fn builder_defaults() {
        let b = Builder::new("/x".into());
        assert_eq!(b.high_water_mark, DEFAULT_HIGH_WATER_MARK);
        assert_eq!(b.binary_type, BinaryType::ArrayBuffer);
        assert!(b.connect_timeout.is_none());
        let b = b.protocols(vec![String::from("a")]).protocols(["b", "c"]);
        assert_eq!(b.protocols, ["b", "c"]);
    }

    #[test]
    fn durations_under_a_millisecond_are_refused() {
        let url = || Builder::new("/x".into());
        let refused = |builder: Builder| match builder.validate_durations() {
            Err(Error::InvalidOption { option, .. }) => option,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(url().heartbeat(Duration::ZERO, "ping")),
            "heartbeat"
        );
        assert_eq!(
            refused(url().idle_timeout(Duration::from_micros(999))),
            "idle_timeout"
        );
        assert_eq!(
            refused(url().connect_timeout(Duration::ZERO)),
            "connect_timeout"
        );
        let fine = url()
            .heartbeat(Duration::from_millis(1), "ping")
            .idle_timeout(Duration::MAX)
            .connect_timeout(Duration::MAX);
        assert!(fine.validate_durations().is_ok());
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Any list of strings: the check never panics, and accepts exactly the lists of
        /// distinct (case-insensitively) non-empty tokens, naming an offender otherwise.
        #[test]
        fn any_protocol_list_is_checked(list in proptest::collection::vec(".{0,12}", 0..6)) {
            let valid = list.iter().enumerate().all(|(i, p)| {
                !p.is_empty()
                    && p.chars().all(is_token_char)
                    && !list[..i].iter().any(|q| q.eq_ignore_ascii_case(p))
            });
            match validate_protocols(&list) {
                Ok(()) => proptest::prop_assert!(valid),
                Err(Error::InvalidProtocol { protocol, .. }) => {
                    proptest::prop_assert!(!valid && list.contains(&protocol))
                }
                Err(other) => proptest::prop_assert!(false, "{other:?}"),
            }
        }

        /// Any durations: refused exactly when one is under 1 ms.
        #[test]
        fn any_durations_are_checked(
            heartbeat in proptest::option::of(0u64..u64::MAX),
            idle in proptest::option::of(0u64..u64::MAX),
            connect in proptest::option::of(0u64..u64::MAX),
        ) {
            let mut builder = Builder::new("/x".into());
            if let Some(n) = heartbeat {
                builder = builder.heartbeat(Duration::from_nanos(n), "ping");
            }
            if let Some(n) = idle {
                builder = builder.idle_timeout(Duration::from_nanos(n));
            }
            if let Some(n) = connect {
                builder = builder.connect_timeout(Duration::from_nanos(n));
            }
            let too_short = [heartbeat, idle, connect]
                .into_iter()
                .flatten()
                .any(|nanos| nanos < 1_000_000);
            proptest::prop_assert_eq!(builder.validate_durations().is_err(), too_short);
        }
    }

    #[test]
    fn invalid_character_is_named_by_code_point() {
        for (protocol, expected) in [
            (
                "a b",
                "character U+0020 is not allowed in a subprotocol token",
            ),
            (
                "caf\u{e9}",
                "character U+00E9 is not allowed in a subprotocol token",
            ),
            (
                "x\u{1F600}",
                "character U+1F600 is not allowed in a subprotocol token",
            ),
            (
                "\u{10FFFF}",
                "character U+10FFFF is not allowed in a subprotocol token",
            ),
            (
                "\0",
                "character U+0000 is not allowed in a subprotocol token",
            ),
        ] {
            match validate_protocols(&[protocol.to_owned()]) {
                Err(Error::InvalidProtocol { message, .. }) => assert_eq!(message, expected),
                other => panic!("{protocol:?}: {other:?}"),
            }
        }
    }
}
