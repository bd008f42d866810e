//! How a byte stream (feature `io`) treats received text messages: a setting the
//! builder carries, so it lives apart from the adapter.

/// What a [`ByteStream`](crate::ByteStream) does with a received **text** message. Binary messages are always
/// part of the byte stream; everything written is always sent as binary messages.
///
/// Chosen with [`Builder::io_text`](crate::Builder::io_text) (or later with
/// [`ByteStream::set_text_policy`](crate::ByteStream::set_text_policy)); the default is [`TextPolicy::Bytes`].
///
/// ```no_run
/// # async fn run() -> Result<(), wasm_websocket::Error> {
/// use wasm_websocket::{TextPolicy, WebSocket};
///
/// let io = WebSocket::builder("wss://example.org/bytes")
///     .io_text(TextPolicy::Error)
///     .connect()
///     .await?
///     .into_io();
/// # drop(io); Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TextPolicy {
    /// The default: a text message's UTF-8 bytes are part of the stream, exactly as if the
    /// server had sent them in a binary message. This is what servers that send text for
    /// text-based protocols (line-oriented ones, JSON lines) expect.
    #[default]
    Bytes,
    /// Text messages are dropped without a trace; only binary messages make up the stream
    /// (for servers that interleave, say, text status messages with the binary data).
    Skip,
    /// A text message is a protocol violation: the read that meets it fails with an
    /// [`std::io::Error`] of kind [`InvalidData`](std::io::ErrorKind::InvalidData). The message is
    /// discarded, and the next read goes on with the message after it.
    Error,
}
