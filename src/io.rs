//! The socket as a byte stream (crate feature `io`): [`ByteStream`] implements the
//! `futures-io` traits [`AsyncRead`], [`AsyncBufRead`] and [`AsyncWrite`], so codecs,
//! `futures::io::copy`, TLS-free protocol stacks and anything else written against those
//! traits run over a browser WebSocket.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncBufRead, AsyncRead, AsyncWrite, IoSlice, IoSliceMut};
use futures_sink::Sink;

use crate::error::Error;
use crate::message::Message;
use crate::socket::{Handle, WebSocket};
pub use crate::text_policy::TextPolicy;

/// The default [`ByteStream::max_message_size`]: 64 KiB.
///
/// Small enough for servers with strict frame limits (many proxies and gateways refuse
/// frames above 64 KiB to 1 MiB), large enough that the per-message cost in the browser is
/// negligible (measured: 64 KiB messages reach the throughput of the raw JS API).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// A [`WebSocket`] as a byte stream: [`AsyncRead`] + [`AsyncBufRead`] + [`AsyncWrite`].
/// Made by [`WebSocket::into_io`]; crate feature `io`.
///
/// Message boundaries carry no meaning here, as with a TCP stream: frame your data with a
/// codec (e.g. `asynchronous-codec`) or a self-delimiting format.
///
/// ```no_run
/// use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
/// use wasm_websocket::WebSocket;
///
/// # async fn run() -> std::io::Result<()> {
/// let mut io = WebSocket::connect("wss://example.org/echo").await?.into_io();
/// io.write_all(b"hello\nworld\n").await?; // one binary message
/// let mut line = String::new();
/// io.read_line(&mut line).await?;
/// assert_eq!(line, "hello\n");
///
/// // Reading and writing at the same time, e.g. from two tasks:
/// let (mut reader, mut writer) = io.split();
/// # let _ = (&mut reader, &mut writer);
/// # Ok(()) }
/// ```
///
/// # Writing
/// - Each `poll_write` sends **one binary message** with the first
///   `min(buf.len(), `[`max_message_size`](ByteStream::max_message_size)`)` bytes of `buf`
///   and returns that count (use `write_all` to send everything). `poll_write_vectored`
///   gathers its slices into one message the same way.
/// - Writes go through the socket's `Sink`: they wait while the socket is connecting and
///   while [`buffered_amount`](WebSocket::buffered_amount) is above the
///   [high-water mark](crate::Builder::high_water_mark), so a writer never buffers more
///   than the mark plus one message.
/// - A **zero-length** write returns `Ok(0)` at once and sends nothing (an empty message
///   would mean nothing in a byte stream), whatever the state of the socket.
/// - `poll_flush` waits until `buffered_amount` is 0, i.e. the browser has handed every
///   byte to the network.
/// - `poll_close` closes the socket with code 1000 (if it is still open) and resolves on
///   the close event. Data written before is sent first: the browser queues the close
///   frame behind it.
/// - **There is no half-close.** Closing ends both directions: once a close has started
///   (ours or the server's), messages that arrive later are discarded by the browser (the
///   classic API fires no message event unless the socket is open, see the
///   [standard](https://websockets.spec.whatwg.org/#feedback-from-the-protocol)). Read
///   everything you expect before closing; reads after the close return `Ok(0)`.
///
/// # Reading
/// - Reads return the payloads of received messages in order, concatenated: a read
///   smaller than the current message leaves the rest for the next read, and a read never
///   waits for more once it has some bytes. [`AsyncBufRead::poll_fill_buf`] exposes the
///   unread rest of the current message without copying.
/// - Empty messages are skipped (they never look like the end of the stream). Text
///   messages follow the [`TextPolicy`].
/// - **End of stream**: after a *clean* close (`was_clean == true`, whatever the code) and
///   once every message received before it has been read, reads return `Ok(0)`, and keep
///   doing so.
///
/// # Errors
/// Every error is an [`io::Error`] whose inner error ([`get_ref`](io::Error::get_ref),
/// [`into_inner`](io::Error::into_inner)) is the crate's [`Error`] (except for
/// [`TextPolicy::Error`]), so the details stay available by downcasting:
///
/// | situation | `io::ErrorKind` | inner error |
/// |---|---|---|
/// | read: the connection closed uncleanly (code 1006, ...) | `ConnectionAborted` | [`Error::ConnectionLost`] with the [`CloseEvent`](crate::CloseEvent) |
/// | read: the socket closed before it ever opened | `ConnectionRefused` | [`Error::ConnectFailed`] |
/// | read: nothing received for the [idle timeout](crate::Builder::idle_timeout) | `TimedOut` | [`Error::IdleTimeout`] |
/// | read: a `Blob` message could not be read | `Other` | [`Error::Js`] |
/// | read: text message under [`TextPolicy::Error`] | `InvalidData` | a message naming the length |
/// | write or flush: the socket is closing or closed | `BrokenPipe` | [`Error::NotOpen`] |
/// | close: the close was not clean | `ConnectionAborted` | [`Error::ConnectionLost`] |
///
/// Read errors other than `InvalidData` are permanent: the byte stream has lost data or
/// ended, so every later read fails the same way (never `Ok(0)`, which would pass for a
/// clean end). Write errors are permanent too (writes after a close keep failing with
/// `BrokenPipe`). The crate's errors convert with `From<Error> for io::Error`, whose
/// full mapping is listed with the trait implementations of [`Error`].
///
/// ```no_run
/// use futures::AsyncReadExt;
/// use wasm_websocket::{Error, WebSocket};
///
/// # async fn run() -> std::io::Result<()> {
/// let mut io = WebSocket::connect("wss://example.org/feed").await?.into_io();
/// let mut data = Vec::new();
/// match io.read_to_end(&mut data).await {
///     Ok(_) => { /* clean close: all data is in `data` */ }
///     Err(e) => match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
///         Some(Error::ConnectionLost(event)) => {
///             let _ = (event.code, &event.reason, event.was_clean);
///         }
///         _ => return Err(e),
///     },
/// }
/// # Ok(()) }
/// ```
pub struct ByteStream {
    ws: WebSocket,
    text: TextPolicy,
    max_message_size: usize,
    /// The message being read, and how much of it has been read.
    buf: Vec<u8>,
    pos: usize,
    /// Set by a stream error; every later read fails with it again.
    failed: Option<Error>,
}

impl fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteStream")
            .field("socket", &self.ws)
            .field("text_policy", &self.text)
            .field("max_message_size", &self.max_message_size)
            .field("unread", &(self.buf.len() - self.pos))
            .finish_non_exhaustive()
    }
}

impl WebSocket {
    /// Turns the socket into a byte stream: [`AsyncRead`] + [`AsyncBufRead`] +
    /// [`AsyncWrite`] (crate feature `io`). Text messages are treated as chosen with
    /// [`Builder::io_text`](crate::Builder::io_text) ([`TextPolicy::Bytes`] by default).
    ///
    /// Messages already received and not yet taken from the `Stream` are the first bytes
    /// read. See [`ByteStream`] for the exact semantics.
    ///
    /// ```no_run
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let mut io = wasm_websocket::WebSocket::connect("wss://example.org/echo")
    ///     .await?
    ///     .into_io();
    /// io.write_all(&[1, 2, 3]).await?;
    /// let mut reply = [0; 3];
    /// io.read_exact(&mut reply).await?;
    /// io.close().await?; // closes the WebSocket with 1000
    /// # Ok(()) }
    /// ```
    pub fn into_io(self) -> ByteStream {
        ByteStream {
            text: self.io_text,
            ws: self,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            buf: Vec::new(),
            pos: 0,
            failed: None,
        }
    }
}

impl ByteStream {
    /// A control handle for the socket (state, close, closed), which keeps working after
    /// [`AsyncReadExt::split`](https://docs.rs/futures/0.3/futures/io/trait.AsyncReadExt.html#method.split).
    pub fn handle(&self) -> Handle {
        self.ws.handle()
    }

    /// The socket.
    pub fn get_ref(&self) -> &WebSocket {
        &self.ws
    }

    /// The socket, e.g. to send a text message through its `Sink`. Taking messages from
    /// its `Stream` directly bypasses the byte stream (the unread rest of the current
    /// message stays where it is).
    pub fn get_mut(&mut self) -> &mut WebSocket {
        &mut self.ws
    }

    /// Gives the socket back, with the unread rest of the current message (empty if none),
    /// so that no received byte is lost.
    pub fn into_parts(mut self) -> (WebSocket, Vec<u8>) {
        let unread = self.buf.split_off(self.pos);
        (self.ws, unread)
    }

    /// How text messages are treated; see [`TextPolicy`].
    pub fn text_policy(&self) -> TextPolicy {
        self.text
    }

    /// Changes how text messages are treated from the next message on.
    pub fn set_text_policy(&mut self, policy: TextPolicy) {
        self.text = policy;
    }

    /// The most bytes one write sends, as one message; [`DEFAULT_MAX_MESSAGE_SIZE`]
    /// (64 KiB) unless changed.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    /// Sets the most bytes one write sends as one message. A longer write sends the first
    /// `bytes` bytes and returns that count, as `AsyncWrite` allows (`write_all` sends the
    /// rest in further messages). Use `usize::MAX` for no limit; 0 counts as 1.
    ///
    /// Servers often limit the size of a frame or message (some proxies to 64 KiB or
    /// 1 MiB); keep this at or below the smallest limit on the way.
    pub fn set_max_message_size(&mut self, bytes: usize) {
        self.max_message_size = bytes.max(1);
    }

    /// Waits until a message can be sent, then sends one of at most `max_message_size`
    /// bytes out of `total`, which `fill(message, len)` copies into `message`.
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        total: usize,
        fill: impl FnOnce(&mut Vec<u8>, usize),
    ) -> Poll<io::Result<usize>> {
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        ready!(Pin::new(&mut self.ws).poll_ready(cx))?;
        let len = total.min(self.max_message_size);
        let mut message = Vec::with_capacity(len);
        fill(&mut message, len);
        Pin::new(&mut self.ws).start_send(Message::Binary(message))?;
        Poll::Ready(Ok(len))
    }
}

/// An error for a text message met under [`TextPolicy::Error`].
fn text_error(len: usize) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("received a text message ({len} bytes) on a byte stream that refuses text"),
    )
}

/// Copies the first `len` bytes of `slices` to the end of `out`.
fn gather(slices: &[IoSlice<'_>], len: usize, out: &mut Vec<u8>) {
    let mut left = len;
    for slice in slices {
        if left == 0 {
            break;
        }
        let take = slice.len().min(left);
        out.extend_from_slice(&slice[..take]);
        left -= take;
    }
}

/// Copies as much of `from` as fits into `slices`, in order; returns the count.
fn scatter(from: &[u8], slices: &mut [IoSliceMut<'_>]) -> usize {
    let mut copied = 0;
    for slice in slices {
        let take = slice.len().min(from.len() - copied);
        slice[..take].copy_from_slice(&from[copied..copied + take]);
        copied += take;
        if copied == from.len() {
            break;
        }
    }
    copied
}

impl AsyncBufRead for ByteStream {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.pos == this.buf.len() {
            if let Some(error) = &this.failed {
                return Poll::Ready(Err(error.clone().into()));
            }
            match ready!(Pin::new(&mut this.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(bytes))) => (this.buf, this.pos) = (bytes, 0),
                Some(Ok(Message::Text(text))) => match this.text {
                    TextPolicy::Bytes => (this.buf, this.pos) = (text.into_bytes(), 0),
                    TextPolicy::Skip => {}
                    TextPolicy::Error => return Poll::Ready(Err(text_error(text.len()))),
                },
                Some(Err(error)) => {
                    this.failed = Some(error.clone());
                    return Poll::Ready(Err(error.into()));
                }
                None => return Poll::Ready(Ok(&[])),
            }
        }
        Poll::Ready(Ok(&this.buf[this.pos..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos = this.buf.len().min(this.pos.saturating_add(amt));
        if this.pos == this.buf.len() {
            // Free a large message at once rather than when the next one arrives.
            this.buf = Vec::new();
            this.pos = 0;
        }
    }
}

impl AsyncRead for ByteStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let len = available.len().min(buf.len());
        buf[..len].copy_from_slice(&available[..len]);
        self.consume(len);
        Poll::Ready(Ok(len))
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let len = scatter(available, bufs);
        self.consume(len);
        Poll::Ready(Ok(len))
    }
}

impl AsyncWrite for ByteStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_send(cx, buf.len(), |out, len| out.extend_from_slice(&buf[..len]))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total = bufs.iter().fold(0usize, |n, b| n.saturating_add(b.len()));
        self.get_mut()
            .poll_send(cx, total, |out, len| gather(bufs, len, out))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().ws)
            .poll_flush(cx)
            .map_err(Into::into)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let ws = &mut self.get_mut().ws;
        ready!(Pin::new(&mut *ws).poll_close(cx))?;
        // The close event has arrived, so this is ready at once.
        let event = ready!(Pin::new(&mut ws.closed()).poll(cx));
        Poll::Ready(if event.was_clean {
            Ok(())
        } else {
            Err(Error::ConnectionLost(event).into())
        })
    }
}

/// Maps the crate's errors to the closest [`io::ErrorKind`], keeping the [`Error`] as the
/// inner error (crate feature `io`):
///
/// | `Error` | `io::ErrorKind` |
/// |---|---|
/// | `ConnectionLost` | `ConnectionAborted` |
/// | `ConnectFailed` | `ConnectionRefused` |
/// | `NotOpen` | `BrokenPipe` |
/// | `Timeout`, `IdleTimeout` | `TimedOut` |
/// | `Security` | `PermissionDenied` |
/// | `InvalidUrl`, `InvalidProtocol`, `InvalidCloseCode`, `ReasonTooLong` | `InvalidInput` |
/// | `Js` and anything else | `Other` |
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// // `?` turns a connect error into an `io::Error` in functions returning `io::Result`.
/// let io = wasm_websocket::WebSocket::connect("wss://example.org/echo").await?.into_io();
/// # drop(io); Ok(()) }
/// ```
impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match &error {
            Error::ConnectionLost(_) => io::ErrorKind::ConnectionAborted,
            Error::ConnectFailed(_) => io::ErrorKind::ConnectionRefused,
            Error::NotOpen(_) => io::ErrorKind::BrokenPipe,
            Error::Timeout | Error::IdleTimeout => io::ErrorKind::TimedOut,
            Error::Security { .. } => io::ErrorKind::PermissionDenied,
            Error::InvalidUrl { .. }
            | Error::InvalidProtocol { .. }
            | Error::InvalidCloseCode(_)
            | Error::ReasonTooLong { .. } => io::ErrorKind::InvalidInput,
            Error::ReceiveQueueFull { .. } => io::ErrorKind::ConnectionAborted,
            Error::Unsupported { .. } => io::ErrorKind::Unsupported,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::close_event::CloseEvent;
    use crate::state::State;

    fn inner(error: &io::Error) -> &Error {
        error
            .get_ref()
            .and_then(|e| e.downcast_ref::<Error>())
            .expect("inner crate error")
    }

    #[test]
    fn error_kinds() {
        let lost = CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        };
        let cases = [
            (
                Error::ConnectionLost(lost.clone()),
                io::ErrorKind::ConnectionAborted,
            ),
            (
                Error::ConnectFailed(lost.clone()),
                io::ErrorKind::ConnectionRefused,
            ),
            (Error::NotOpen(State::Closed), io::ErrorKind::BrokenPipe),
            (Error::NotOpen(State::Closing), io::ErrorKind::BrokenPipe),
            (Error::Timeout, io::ErrorKind::TimedOut),
            (Error::IdleTimeout, io::ErrorKind::TimedOut),
            (
                Error::Security {
                    message: "no".into(),
                },
                io::ErrorKind::PermissionDenied,
            ),
            (Error::InvalidCloseCode(1), io::ErrorKind::InvalidInput),
            (
                Error::ReasonTooLong { len: 200 },
                io::ErrorKind::InvalidInput,
            ),
            (
                Error::Js {
                    name: "TypeError".into(),
                    message: "x".into(),
                },
                io::ErrorKind::Other,
            ),
        ];
        for (error, kind) in cases {
            let io_error = io::Error::from(error.clone());
            assert_eq!(io_error.kind(), kind, "{error:?}");
            assert_eq!(inner(&io_error), &error);
            assert_eq!(io_error.to_string(), error.to_string());
        }
        // The close event survives `into_inner` as well.
        let io_error = io::Error::from(Error::ConnectionLost(lost.clone()));
        let boxed = io_error.into_inner().expect("inner");
        match *boxed.downcast::<Error>().expect("crate error") {
            Error::ConnectionLost(event) => assert_eq!(event, lost),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_error_is_invalid_data() {
        let e = text_error(5);
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("5 bytes"), "{e}");
    }

    #[test]
    fn gather_takes_a_prefix() {
        let (a, b, c) = ([1u8, 2, 3], [], [4u8, 5]);
        let slices = [IoSlice::new(&a), IoSlice::new(&b), IoSlice::new(&c)];
        for len in 0..=5 {
            let mut out = vec![9];
            gather(&slices, len, &mut out);
            assert_eq!(out[0], 9);
            assert_eq!(&out[1..], &[1, 2, 3, 4, 5][..len]);
        }
    }

    #[test]
    fn scatter_fills_in_order() {
        let (mut a, mut b, mut c) = ([0u8; 2], [0u8; 0], [0u8; 3]);
        let from = [1, 2, 3, 4];
        let mut slices = [
            IoSliceMut::new(&mut a),
            IoSliceMut::new(&mut b),
            IoSliceMut::new(&mut c),
        ];
        assert_eq!(scatter(&from, &mut slices), 4);
        assert_eq!((a, c), ([1, 2], [3, 4, 0]));
        let mut d = [0u8; 1];
        assert_eq!(scatter(&from, &mut [IoSliceMut::new(&mut d)]), 1);
        assert_eq!(scatter(&[], &mut [IoSliceMut::new(&mut d)]), 0);
    }

    #[test]
    fn policy_default_is_bytes() {
        assert_eq!(TextPolicy::default(), TextPolicy::Bytes);
        let builder = crate::WebSocket::builder("/x");
        assert_eq!(builder.io_text, TextPolicy::Bytes);
        assert_eq!(builder.io_text(TextPolicy::Skip).io_text, TextPolicy::Skip);
    }
}
