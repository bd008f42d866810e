//! Typed messages (crate feature `codec`): [`TypedWebSocket`] turns a socket's
//! [`Message`]s into values of your own types through a [`codee`] codec, e.g. JSON:
//!
//! ```no_run
//! use codee::string::JsonSerdeCodec; // codee = { version = "0.3", features = ["json_serde"] }
//! use futures::{SinkExt, StreamExt};
//! use serde::{Deserialize, Serialize};
//! use wasm_websocket::WebSocket;
//!
//! #[derive(Serialize)]
//! enum Outgoing {
//!     Hello { name: String },
//! }
//!
//! #[derive(Deserialize)]
//! enum Incoming {
//!     Welcome { users: u32 },
//! }
//!
//! # async fn run() -> Result<(), wasm_websocket::Error> {
//! let ws = WebSocket::connect("wss://example.org/chat").await?;
//! let mut chat = ws.with_codec::<Outgoing, Incoming, JsonSerdeCodec>();
//! chat.send(Outgoing::Hello { name: "ferris".into() }).await?; // one text message
//! let Incoming::Welcome { users } = chat.next().await.unwrap()?;
//! # let _ = users; Ok(()) }
//! ```
//!
//! The adapter is a thin layer over the socket's own `Stream` and `Sink`: no task, no
//! channel, one encode or decode per message.

use std::any::type_name;
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use codee::{Decoder, Encoder, HybridCoderError, HybridDecoder, HybridEncoder};
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;

use crate::error::Error;
use crate::message::Message;
use crate::reconnect::{ReconnectHandle, ReconnectingWebSocket};
use crate::socket::{Handle, WebSocket};

/// A socket that sends values of type `Tx` and receives values of type `Rx`, encoded and
/// decoded by the [`codee`] codec `C`: a `Sink<Tx, Error = Error>` and a
/// `Stream<Item = Result<Rx, Error>>` (a `FusedStream` too when the socket is one).
/// Made by [`WebSocket::with_codec`] and [`ReconnectingWebSocket::with_codec`]; crate
/// feature `codec`.
///
/// ```no_run
/// use codee::binary::MsgpackSerdeCodec; // codee's feature `msgpack_serde`
/// use futures::{SinkExt, StreamExt};
/// use wasm_websocket::WebSocket;
///
/// # async fn run() -> Result<(), wasm_websocket::Error> {
/// let ws = WebSocket::connect("wss://example.org/points").await?;
/// let mut points = ws.with_codec::<(f64, f64), Vec<(f64, f64)>, MsgpackSerdeCodec>();
/// points.send((1.0, 2.5)).await?; // one binary message
/// while let Some(batch) = points.next().await {
///     match batch {
///         Ok(batch) => draw(&batch),
///         // Not the server's format: skip it, the stream goes on.
///         Err(wasm_websocket::Error::Decode { message }) => log(&message),
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok(()) }
/// # fn draw(_: &[(f64, f64)]) {}
/// # fn log(_: &str) {}
/// ```
///
/// # Message kinds
/// A string codec (one whose `Encoder` gives a `String` and whose `Decoder` takes a `str`,
/// e.g. `JsonSerdeCodec`, `FromToStringCodec`) sends text messages and decodes text
/// messages; a binary codec (`Vec<u8>` and `[u8]`, e.g. `MsgpackSerdeCodec`,
/// `BincodeSerdeCodec`) sends and decodes binary messages. A codec that implements codee's
/// [`HybridEncoder`] and [`HybridDecoder`] itself (for the `Encoded` types of its own
/// `Encoder` and `Decoder` impls) decides both: it sends binary messages if
/// [`is_binary_encoder`](HybridEncoder::is_binary_encoder) says so and text messages
/// otherwise, and it is given each received message through
/// [`decode_str`](HybridDecoder::decode_str) or [`decode_bin`](HybridDecoder::decode_bin)
/// by the message's kind.
///
/// # Errors
/// - Receiving: a message that does not decode, including a message of the kind the codec
///   does not take (binary for a string codec, text for a binary codec), is one
///   `Err(`[`Error::Decode`]`)` item, and **the stream goes on** with the next message.
///   Every other item is the socket's own, passed on unchanged (e.g.
///   [`Error::ConnectionLost`] before the end).
/// - Sending: a value that does not encode is `Err(`[`Error::Encode`]`)` from `start_send`
///   (so from `SinkExt::send`) and nothing is sent. **It is not a permanent sink error**,
///   unlike the socket's own errors: the sink stays usable and the next value may be sent.
///   (Combinators such as `send_all` or `forward` still stop at the first error.)
///
/// The error's `message` is the codec's error in its `Debug` form, so that every codec's
/// errors fit (some, like `FromToStringCodec`'s `()`, have no `Display`).
///
/// `SinkExt::close` closes the socket with 1000, as on the socket itself.
pub struct TypedWebSocket<S, Tx, Rx, C> {
    inner: S,
    // `fn` pointers: no `Tx`, `Rx` or `C` is held, so they leave `Send`, `Sync` and `Unpin`
    // to the socket alone.
    types: PhantomData<fn(Tx) -> (Rx, C)>,
}

impl<S, Tx, Rx, C> TypedWebSocket<S, Tx, Rx, C> {
    fn new(inner: S) -> Self {
        TypedWebSocket {
            inner,
            types: PhantomData,
        }
    }

    /// The socket underneath; messages already received and not yet taken stay in it.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use wasm_websocket::WebSocket;
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let typed = WebSocket::connect("wss://example.org/chat")
    ///     .await?
    ///     .with_codec::<String, String, JsonSerdeCodec>();
    /// let ws: WebSocket = typed.into_inner(); // back to untyped messages
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// The socket underneath, e.g. for its `state()`, `close(..)` or `buffered_amount()`.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use wasm_websocket::{State, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let typed = WebSocket::connect("wss://example.org/chat")
    ///     .await?
    ///     .with_codec::<String, String, JsonSerdeCodec>();
    /// assert_eq!(typed.get_ref().state(), State::Open);
    /// # Ok(()) }
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The socket underneath, mutably. Taking messages from it directly skips the codec.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use futures::SinkExt;
    /// use wasm_websocket::{Message, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let mut typed = WebSocket::connect("wss://example.org/chat")
    ///     .await?
    ///     .with_codec::<String, String, JsonSerdeCodec>();
    /// typed.get_mut().send(Message::from("raw, not JSON")).await?;
    /// # Ok(()) }
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

impl<Tx, Rx, C> TypedWebSocket<WebSocket, Tx, Rx, C> {
    /// The socket's [`Handle`], for control and inspection after `StreamExt::split`.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use futures::StreamExt;
    /// use wasm_websocket::{CloseCode, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let typed = WebSocket::connect("wss://example.org/chat")
    ///     .await?
    ///     .with_codec::<String, String, JsonSerdeCodec>();
    /// let handle = typed.handle();
    /// let (sink, stream) = typed.split();
    /// // ... hand `sink` and `stream` to different tasks ...
    /// handle.close(CloseCode::NORMAL, "leaving").await?;
    /// # drop((sink, stream)); Ok(()) }
    /// ```
    pub fn handle(&self) -> Handle {
        self.inner.handle()
    }
}

impl<Tx, Rx, C> TypedWebSocket<ReconnectingWebSocket, Tx, Rx, C> {
    /// The connection's [`ReconnectHandle`], for control, inspection and events after
    /// `StreamExt::split`.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use futures::StreamExt;
    /// use wasm_websocket::{ReconnectPolicy, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let typed = WebSocket::builder("/live")
    ///     .reconnecting(ReconnectPolicy::new())?
    ///     .with_codec::<String, String, JsonSerdeCodec>();
    /// let mut events = typed.handle().events();
    /// let (sink, stream) = typed.split();
    /// while let Some(event) = events.next().await {
    ///     show_status(&format!("{event:?}"));
    /// }
    /// # drop((sink, stream)); Ok(()) }
    /// # fn show_status(_: &str) {}
    /// ```
    pub fn handle(&self) -> ReconnectHandle {
        self.inner.handle()
    }
}

impl WebSocket {
    /// This socket with typed messages: it sends `Tx` values and receives `Rx` values,
    /// encoded and decoded by the [`codee`] codec `C` (crate feature `codec`). Type
    /// parameters in the order of `leptos-use`'s `use_websocket`. Messages already
    /// received and not yet taken are the first ones decoded.
    ///
    /// See [`TypedWebSocket`] for message kinds and errors.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use futures::{SinkExt, StreamExt};
    /// use wasm_websocket::WebSocket;
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let ws = WebSocket::connect("wss://example.org/sum").await?;
    /// let mut sums = ws.with_codec::<Vec<u32>, u64, JsonSerdeCodec>();
    /// sums.send(vec![1, 2, 3]).await?; // sends the text "[1,2,3]"
    /// let total: u64 = sums.next().await.unwrap()?;
    /// # let _ = total; Ok(()) }
    /// ```
    pub fn with_codec<Tx, Rx, C>(self) -> TypedWebSocket<WebSocket, Tx, Rx, C> {
        TypedWebSocket::new(self)
    }
}

impl ReconnectingWebSocket {
    /// This connection with typed messages, as [`WebSocket::with_codec`]: it sends `Tx`
    /// values and receives `Rx` values through the [`codee`] codec `C` (crate feature
    /// `codec`). Values are encoded once, in `start_send`, so the outbox keeps encoded
    /// messages and a resend after a reconnect sends the same bytes.
    ///
    /// ```no_run
    /// use codee::string::JsonSerdeCodec;
    /// use futures::{SinkExt, StreamExt};
    /// use wasm_websocket::{ReconnectPolicy, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let mut prices = WebSocket::builder("wss://example.org/prices")
    ///     .reconnecting(ReconnectPolicy::new())?
    ///     .with_codec::<String, (String, f64), JsonSerdeCodec>();
    /// prices.send("subscribe EURUSD".to_owned()).await?;
    /// while let Some(quote) = prices.next().await {
    ///     let (symbol, price) = quote?;
    ///     # let _ = (symbol, price);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn with_codec<Tx, Rx, C>(self) -> TypedWebSocket<ReconnectingWebSocket, Tx, Rx, C> {
        TypedWebSocket::new(self)
    }
}

impl<S: fmt::Debug, Tx, Rx, C> fmt::Debug for TypedWebSocket<S, Tx, Rx, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedWebSocket")
            .field("inner", &self.inner)
            .field("codec", &type_name::<C>())
            .finish()
    }
}

impl<S, Tx, Rx, C> Stream for TypedWebSocket<S, Tx, Rx, C>
where
    S: Stream<Item = Result<Message, Error>> + Unpin,
    C: Decoder<Rx> + HybridDecoder<Rx, <C as Decoder<Rx>>::Encoded>,
    <C as HybridDecoder<Rx, <C as Decoder<Rx>>::Encoded>>::Error: fmt::Debug,
{
    type Item = Result<Rx, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|item| item.map(|received| received.and_then(decode::<Rx, C, _>)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<S, Tx, Rx, C> FusedStream for TypedWebSocket<S, Tx, Rx, C>
where
    S: FusedStream<Item = Result<Message, Error>> + Unpin,
    C: Decoder<Rx> + HybridDecoder<Rx, <C as Decoder<Rx>>::Encoded>,
    <C as HybridDecoder<Rx, <C as Decoder<Rx>>::Encoded>>::Error: fmt::Debug,
{
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<S, Tx, Rx, C> Sink<Tx> for TypedWebSocket<S, Tx, Rx, C>
where
    S: Sink<Message, Error = Error> + Unpin,
    C: Encoder<Tx> + HybridEncoder<Tx, <C as Encoder<Tx>>::Encoded>,
    <C as HybridEncoder<Tx, <C as Encoder<Tx>>::Encoded>>::Error: fmt::Debug,
{
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.inner).poll_ready(cx)
    }

    /// # Errors
    /// [`Error::Encode`] when the value does not encode (nothing is sent, and the sink
    /// stays usable), or the socket's own `start_send` errors.
    fn start_send(mut self: Pin<&mut Self>, item: Tx) -> Result<(), Error> {
        // Encoding first: a value that fails leaves the socket untouched, so its
        // readiness from `poll_ready` still holds for the next value.
        let message = encode::<Tx, C, _>(&item)?;
        Pin::new(&mut self.inner).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// `value` as a message: binary if the codec encodes to bytes, text otherwise.
fn encode<T, C, E>(value: &T) -> Result<Message, Error>
where
    C: HybridEncoder<T, E>,
    C::Error: fmt::Debug,
{
    let encoded = if C::is_binary_encoder() {
        C::encode_bin(value).map(Message::Binary)
    } else {
        C::encode_str(value).map(Message::Text)
    };
    encoded.map_err(|error| Error::Encode {
        message: match error {
            HybridCoderError::NotImplemented(what) => what.to_owned(),
            HybridCoderError::Coder(error) => format!("{error:?}"),
        },
    })
}

/// The value in `message`, each kind of message given to the codec's decoder for it.
fn decode<T, C, E>(message: Message) -> Result<T, Error>
where
    C: HybridDecoder<T, E>,
    C::Error: fmt::Debug,
    E: ?Sized,
{
    let decoded = match &message {
        Message::Text(text) => C::decode_str(text),
        Message::Binary(bytes) => C::decode_bin(bytes),
    };
    decoded.map_err(|error| Error::Decode {
        message: match error {
            // codee's default for a kind the codec does not take; our own words, which
            // name the kind that came.
            HybridCoderError::NotImplemented(_) => match message {
                Message::Text(_) => "a text message, but the codec decodes binary ones",
                Message::Binary(_) => "a binary message, but the codec decodes text ones",
            }
            .to_owned(),
            HybridCoderError::Coder(error) => format!("{error:?}"),
        },
    })
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use codee::binary::MsgpackSerdeCodec;
    use codee::string::{FromToStringCodec, JsonSerdeCodec};
    use futures::executor::block_on;
    use futures::{SinkExt, StreamExt};
    use serde::{Deserialize, Serialize, Serializer};

    use crate::close_event::CloseEvent;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Point {
        x: i32,
        label: String,
    }

    /// A value whose serialization always fails.
    struct Unserializable;

    impl Serialize for Unserializable {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("refuses to be serialized"))
        }
    }

    fn encode_with<T, C>(value: &T) -> Result<Message, Error>
    where
        C: Encoder<T> + HybridEncoder<T, <C as Encoder<T>>::Encoded>,
        <C as HybridEncoder<T, <C as Encoder<T>>::Encoded>>::Error: fmt::Debug,
    {
        encode::<T, C, _>(value)
    }

    fn decode_with<T, C>(message: Message) -> Result<T, Error>
    where
        C: Decoder<T> + HybridDecoder<T, <C as Decoder<T>>::Encoded>,
        <C as HybridDecoder<T, <C as Decoder<T>>::Encoded>>::Error: fmt::Debug,
    {
        decode::<T, C, _>(message)
    }

    fn point() -> Point {
        Point {
            x: -3,
            label: "🦀".into(),
        }
    }

    #[test]
    fn string_codecs_send_text() {
        assert_eq!(
            encode_with::<_, JsonSerdeCodec>(&point()),
            Ok(Message::Text(r#"{"x":-3,"label":"🦀"}"#.into()))
        );
        assert_eq!(
            encode_with::<_, FromToStringCodec>(&42),
            Ok(Message::Text("42".into()))
        );
    }

    #[test]
    fn binary_codecs_send_binary() {
        let message = encode_with::<_, MsgpackSerdeCodec>(&point()).unwrap();
        assert!(message.is_binary());
        assert_eq!(
            decode_with::<Point, MsgpackSerdeCodec>(message),
            Ok(point())
        );
    }

    #[test]
    fn text_round_trip() {
        let message = encode_with::<_, JsonSerdeCodec>(&point()).unwrap();
        assert_eq!(decode_with::<Point, JsonSerdeCodec>(message), Ok(point()));
        assert_eq!(
            decode_with::<u8, FromToStringCodec>(Message::from("7")),
            Ok(7)
        );
    }

    #[test]
    fn bad_payloads_are_decode_errors_with_the_codecs_words() {
        let Err(Error::Decode { message }) =
            decode_with::<Point, JsonSerdeCodec>(Message::from("{\"x\":"))
        else {
            panic!("not a decode error");
        };
        assert!(message.contains("EOF"), "{message}");
        assert!(matches!(
            decode_with::<Point, MsgpackSerdeCodec>(Message::from(&[0xc1][..])),
            Err(Error::Decode { .. })
        ));
        assert!(matches!(
            decode_with::<u8, FromToStringCodec>(Message::from("300")),
            Err(Error::Decode { .. })
        ));
    }

    #[test]
    fn the_wrong_kind_of_message_is_a_decode_error() {
        assert_eq!(
            decode_with::<Point, JsonSerdeCodec>(Message::from(&b"{}"[..])),
            Err(Error::Decode {
                message: "a binary message, but the codec decodes text ones".into()
            })
        );
        assert_eq!(
            decode_with::<Point, MsgpackSerdeCodec>(Message::from("{}")),
            Err(Error::Decode {
                message: "a text message, but the codec decodes binary ones".into()
            })
        );
    }

    #[test]
    fn values_that_do_not_serialize_are_encode_errors() {
        for result in [
            encode_with::<_, JsonSerdeCodec>(&Unserializable),
            encode_with::<_, MsgpackSerdeCodec>(&Unserializable),
        ] {
            let Err(Error::Encode { message }) = result else {
                panic!("not an encode error: {result:?}");
            };
            assert!(message.contains("refuses to be serialized"), "{message}");
        }
    }

    /// A hybrid codec of its own: text messages carry a number in decimal, binary ones
    /// as one byte; it sends binary.
    struct Hybrid;
    struct Either;

    impl Encoder<u8> for Hybrid {
        type Error = ();
        type Encoded = Either;
        fn encode(_: &u8) -> Result<Either, ()> {
            unreachable!("only reached through HybridEncoder")
        }
    }

    impl HybridEncoder<u8, Either> for Hybrid {
        type Error = ();
        fn is_binary_encoder() -> bool {
            true
        }
        fn encode_bin(value: &u8) -> Result<Vec<u8>, HybridCoderError<()>> {
            Ok(vec![*value])
        }
    }

    impl Decoder<u8> for Hybrid {
        type Error = &'static str;
        type Encoded = Either;
        fn decode(_: &Either) -> Result<u8, &'static str> {
            unreachable!("only reached through HybridDecoder")
        }
    }

    impl HybridDecoder<u8, Either> for Hybrid {
        type Error = &'static str;
        fn is_binary_decoder() -> bool {
            true
        }
        fn decode_str(text: &str) -> Result<u8, HybridCoderError<&'static str>> {
            text.parse()
                .map_err(|_| HybridCoderError::Coder("not a u8"))
        }
        fn decode_bin(bytes: &[u8]) -> Result<u8, HybridCoderError<&'static str>> {
            match bytes {
                [value] => Ok(*value),
                _ => Err(HybridCoderError::Coder("not one byte")),
            }
        }
    }

    #[test]
    fn hybrid_codecs_decide_per_message() {
        assert_eq!(encode_with::<u8, Hybrid>(&9), Ok(Message::from(vec![9])));
        assert_eq!(decode_with::<u8, Hybrid>(Message::from("12")), Ok(12));
        assert_eq!(decode_with::<u8, Hybrid>(Message::from(vec![13])), Ok(13));
        assert_eq!(
            decode_with::<u8, Hybrid>(Message::from(vec![1, 2])),
            Err(Error::Decode {
                message: "\"not one byte\"".into()
            })
        );
    }

    /// A stand-in for a socket: hands out `incoming`, keeps what is sent.
    #[derive(Debug, Default)]
    struct Plain {
        incoming: VecDeque<Result<Message, Error>>,
        sent: Vec<Message>,
    }

    impl Stream for Plain {
        type Item = Result<Message, Error>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.incoming.pop_front())
        }
    }

    impl Sink<Message> for Plain {
        type Error = Error;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
            self.sent.push(item);
            Ok(())
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn an_encode_failure_reaches_nothing_and_the_sink_goes_on() {
        let mut typed =
            TypedWebSocket::<_, Result<Point, Unserializable>, Point, JsonSerdeCodec>::new(
                Plain::default(),
            );
        assert!(matches!(
            block_on(typed.send(Err(Unserializable))),
            Err(Error::Encode { .. })
        ));
        block_on(typed.send(Ok(point()))).unwrap();
        assert_eq!(
            typed.into_inner().sent,
            [Message::Text(r#"{"Ok":{"x":-3,"label":"🦀"}}"#.into())]
        );
    }

    #[test]
    fn the_stream_goes_on_after_decode_errors_and_passes_the_sockets_errors_on() {
        let lost = Error::ConnectionLost(CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        });
        let plain = Plain {
            incoming: VecDeque::from([
                Ok(Message::from("garbage")),
                Ok(Message::from(&b"{}"[..])),
                Ok(encode_with::<_, JsonSerdeCodec>(&point()).unwrap()),
                Err(lost.clone()),
            ]),
            sent: Vec::new(),
        };
        let typed = TypedWebSocket::<_, Point, Point, JsonSerdeCodec>::new(plain);
        let items = block_on(typed.collect::<Vec<_>>());
        assert!(matches!(items[0], Err(Error::Decode { .. })));
        assert!(matches!(items[1], Err(Error::Decode { .. })));
        assert_eq!(items[2..], [Ok(point()), Err(lost)]);
    }
}
