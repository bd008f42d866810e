//! The public facade: [`WebSocket`] (Stream + Sink), its [`Handle`], its [`Builder`] and
//! the futures it returns. Everything here is a thin layer over the core's
//! [`Connection`](crate::core::connection::Connection).

mod builder;
mod futures;
mod handle;

use std::fmt;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;

pub use self::builder::{set_default_backend, Backend, Builder, DEFAULT_HIGH_WATER_MARK};
pub use self::futures::{CloseFuture, ClosedFuture, ConnectFuture};
pub use self::handle::Handle;
use crate::close::CloseCode;
use crate::core::connection::{Connection, Next};
use crate::error::Error;
use crate::message::{BinaryType, Message};
use crate::state::State;
use crate::sync::Shared;

/// A browser WebSocket connection as a [`Stream`] of received messages and a [`Sink`] of
/// messages to send.
///
/// - **Stream**: yields `Ok(Message)` in wire order, in both [binary types](BinaryType).
///   After the close event it yields the messages already received, then ends: `None`
///   after a clean close, or one `Err(`[`Error::ConnectionLost`]`)` and then `None` after
///   an unclean one (code 1006 and the like); then it stays terminated. A socket that
///   never opened ends with [`Error::ConnectFailed`] instead.
/// - **Sink**: `poll_ready` waits while the socket is connecting and while
///   [`buffered_amount`](WebSocket::buffered_amount) is above the
///   [high-water mark](Builder::high_water_mark); it fails with [`Error::NotOpen`] once the
///   socket is closing or closed (the browser itself would silently drop the data).
///   `poll_flush` waits until `buffered_amount` is 0, failing with [`Error::NotOpen`] if
///   the socket closes first. `poll_close` closes with code 1000 and resolves on the close
///   event.
/// - **Drop** closes the connection with 1000 if it is still open, and removes every JS
///   listener: no callback runs after the drop. (The close listener alone stays while a
///   [`Handle`] or close future still waits for the close event.)
///
/// The inherent [`close`](WebSocket::close) shadows `SinkExt::close`; call the latter as
/// `SinkExt::close(&mut ws)`. Beware the reverse on a `&mut WebSocket` (e.g. from
/// `iter_mut`): there method syntax finds `SinkExt::close` first, so write
/// `WebSocket::close(ws, code, reason)`.
pub struct WebSocket {
    connection: Shared<Connection>,
    /// Set once the stream has yielded its end.
    terminated: bool,
    /// How `into_io` treats text messages (feature `io`, see `src/io.rs`).
    #[cfg(feature = "io")]
    pub(crate) io_text: crate::text_policy::TextPolicy,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.connection.url())
            .field("state", &self.state())
            .finish()
    }
}

impl WebSocket {
    /// Connects to `url` with default settings, resolving once the socket is open.
    ///
    /// Relative and `http(s)` URLs resolve against the page (or worker) the way the browser
    /// resolves them. See [`Builder::connect`] for the errors.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let ws = wasm_websocket::WebSocket::connect("wss://example.org/chat").await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn connect(url: impl Into<String>) -> ConnectFuture {
        Builder::new(url.into()).connect()
    }

    /// Starts configuring a connection to `url`.
    pub fn builder(url: impl Into<String>) -> Builder {
        Builder::new(url.into())
    }

    /// Creates the socket without waiting for it to open (see [`Builder::build`]).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::Security`] or [`Error::Js`] when the browser's
    /// constructor throws.
    pub fn new(url: impl Into<String>) -> Result<WebSocket, Error> {
        Builder::new(url.into()).build()
    }

    pub(crate) fn from_builder(builder: &Builder) -> Result<WebSocket, Error> {
        let transport = builder.transport()?;
        Ok(WebSocket {
            connection: Connection::new(transport, builder.connection_config()),
            terminated: false,
            #[cfg(feature = "io")]
            io_text: builder.io_text,
        })
    }

    /// The URL the browser resolved (absolute, `ws:` or `wss:`).
    pub fn url(&self) -> String {
        self.connection.url()
    }

    /// The subprotocol the server selected, `""` if none.
    pub fn protocol(&self) -> String {
        self.connection.protocol()
    }

    /// The extensions the server accepted (e.g. `permessage-deflate`), `""` if none.
    pub fn extensions(&self) -> String {
        self.connection.extensions()
    }

    /// The browser's `readyState` at this moment ([`State::Closing`] as soon as a close
    /// starts).
    pub fn state(&self) -> State {
        self.connection.state()
    }

    /// Bytes queued by `send` and not yet handed to the network
    /// ([`bufferedAmount`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/bufferedAmount)).
    /// It never falls after the socket has closed.
    pub fn buffered_amount(&self) -> u64 {
        self.connection.buffered_amount()
    }

    /// The binary type the socket was created with.
    pub fn binary_type(&self) -> BinaryType {
        self.connection.binary_type()
    }

    /// Whether messages are read from the network only while the stream is polled
    /// ([`Backend::Stream`]).
    pub(crate) fn on_demand(&self) -> bool {
        self.connection.on_demand()
    }

    /// A cheap, cloneable handle for control and inspection, which keeps working after
    /// [`StreamExt::split`](https://docs.rs/futures/0.3/futures/stream/trait.StreamExt.html#method.split)
    /// and after the socket is dropped.
    pub fn handle(&self) -> Handle {
        Handle {
            connection: self.connection.clone(),
        }
    }

    /// Starts the closing handshake with `code` and `reason`, and resolves with the close
    /// event. While the socket is already closing or closed it starts nothing and resolves
    /// with the same event. The state is [`State::Closing`] as soon as this returns.
    ///
    /// # Errors
    /// [`Error::ReasonTooLong`] for a reason over 123 UTF-8 bytes (checked before the
    /// browser is called; nothing is started), or [`Error::Js`] if the browser throws.
    pub fn close(&self, code: CloseCode, reason: &str) -> CloseFuture {
        CloseFuture::start(&self.connection, code, reason)
    }

    /// Resolves with the close event once the connection has closed, for whatever reason.
    pub fn closed(&self) -> ClosedFuture {
        ClosedFuture {
            connection: self.connection.clone(),
        }
    }
}

impl Drop for WebSocket {
    fn drop(&mut self) {
        self.connection
            .abandon(Shared::strong_count(&self.connection) > 1);
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        Poll::Ready(match ready!(this.connection.poll_next(cx)) {
            Next::Item(item) => Some(item),
            Next::End(error) => {
                this.terminated = true;
                error.map(Err)
            }
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.terminated {
            (0, Some(0))
        } else {
            (self.connection.queued(), None)
        }
    }
}

impl FusedStream for WebSocket {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.connection.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.connection.send_owned(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.connection.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.connection.start_close(CloseCode::NORMAL, "")?;
        self.connection.poll_closed(cx).map(|_| Ok(()))
    }
}
