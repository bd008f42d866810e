//! Typed messages (`TypedWebSocket`, feature `codec`), in a real browser against the test
//! peer:
//! - JSON (`JsonSerdeCodec`) round-trips a serde struct through `/echo` as a text message
//!   (the raw echo is checked to be text holding the JSON)
//! - MessagePack (`MsgpackSerdeCodec`) round-trips as a binary message
//! - a payload that does not decode is one `Error::Decode` item, and the good message
//!   after it still arrives
//! - a message of the wrong kind (binary for a string codec, text for a binary one) is
//!   `Error::Decode` naming the kind, and the stream goes on
//! - a value whose `Serialize` fails is `Error::Encode` from `send`, nothing reaches the
//!   peer (counted by `/count`), and the sink stays usable
//! - a typed `ReconnectingWebSocket` keeps sending and receiving typed values across a
//!   dropped connection (`/drop`)
//! - closing through the typed sink ends the stream (`FusedStream`), and the handle works
//!   after `split`
//! - the suite runs on a page, or in a dedicated worker with `--cfg wasm_ws_worker`
#![cfg(feature = "codec")]

mod common;

use std::time::Duration;

use codee::binary::MsgpackSerdeCodec;
use codee::string::JsonSerdeCodec;
use common::*;
use futures::stream::FusedStream;
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize, Serializer};
use wasm_bindgen_test::*;
use wasm_websocket::{
    CloseCode, Error, Message, ReconnectEvent, ReconnectPolicy, State, TypedWebSocket, WebSocket,
};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(not(wasm_ws_worker))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Chat {
    Join { name: String },
    Say { from: String, text: String, at: u64 },
    Leave,
}

fn say(text: &str) -> Chat {
    Chat::Say {
        from: "ferris".into(),
        text: text.into(),
        at: 1_700_000_000_123,
    }
}

/// A value whose serialization always fails.
#[derive(Debug)]
struct Unserializable;

impl Serialize for Unserializable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refuses to be serialized"))
    }
}

/// A socket on `/echo` that sends and receives `Chat` through codec `C`.
async fn echo_chat<C>() -> TypedWebSocket<WebSocket, Chat, Chat, C> {
    connect("/echo").await.with_codec()
}

/// The next typed item, failing the test at the end of the stream.
async fn next_item<S, T>(stream: &mut S) -> Result<T, Error>
where
    S: futures::Stream<Item = Result<T, Error>> + Unpin,
{
    within(10, stream.next()).await.expect("stream ended")
}

/// The next raw message from under the codec.
async fn next_raw<Tx, Rx, C>(typed: &mut TypedWebSocket<WebSocket, Tx, Rx, C>) -> Message {
    within(10, next_message(typed.get_mut())).await
}

#[wasm_bindgen_test]
async fn json_round_trips_as_text() {
    bounded(async {
        let mut chat = echo_chat::<JsonSerdeCodec>().await;
        chat.send(say("hello 🦀")).await.unwrap();
        let Message::Text(json) = next_raw(&mut chat).await else {
            panic!("a JSON codec must send text");
        };
        assert_eq!(
            json,
            r#"{"Say":{"from":"ferris","text":"hello 🦀","at":1700000000123}}"#
        );

        let sent = [Chat::Join { name: "a".into() }, say("x"), Chat::Leave];
        for value in &sent {
            chat.send(value.clone()).await.unwrap();
        }
        for value in sent {
            assert_eq!(next_item(&mut chat).await, Ok(value));
        }
        SinkExt::close(&mut chat).await.unwrap();
    })
    .await;
}

#[wasm_bindgen_test]
async fn msgpack_round_trips_as_binary() {
    bounded(async {
        let mut chat = echo_chat::<MsgpackSerdeCodec>().await;
        chat.send(say("binary")).await.unwrap();
        let Message::Binary(bytes) = next_raw(&mut chat).await else {
            panic!("a MessagePack codec must send binary");
        };
        assert!(!bytes.is_empty());

        let long = "🦀".repeat(50_000);
        for value in [say(&long), Chat::Leave, Chat::Join { name: "b".into() }] {
            chat.send(value.clone()).await.unwrap();
            assert_eq!(next_item(&mut chat).await, Ok(value));
        }
        SinkExt::close(&mut chat).await.unwrap();
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_payload_that_does_not_decode_is_skipped_with_an_error() {
    bounded(async {
        let mut chat = echo_chat::<JsonSerdeCodec>().await;
        chat.get_mut()
            .send(Message::from(r#"{"Say":{"from":"x"}}"#))
            .await
            .unwrap();
        chat.get_mut()
            .send(Message::from("not json"))
            .await
            .unwrap();
        chat.send(Chat::Leave).await.unwrap();

        for _ in 0..2 {
            match next_item(&mut chat).await {
                Err(Error::Decode { message }) => assert!(!message.is_empty()),
                other => panic!("expected a decode error, got {other:?}"),
            }
        }
        assert_eq!(next_item(&mut chat).await, Ok(Chat::Leave));
        assert!(!chat.is_terminated());
        assert_eq!(chat.get_ref().state(), State::Open);
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_wrong_kind_of_message_is_a_decode_error() {
    bounded(async {
        let mut text_codec = echo_chat::<JsonSerdeCodec>().await;
        let json = br#"{"Leave":null}"#.to_vec();
        text_codec
            .get_mut()
            .send(Message::from(json))
            .await
            .unwrap();
        text_codec.send(Chat::Leave).await.unwrap();
        assert_eq!(
            next_item(&mut text_codec).await,
            Err(Error::Decode {
                message: "a binary message, but the codec decodes text ones".into()
            })
        );
        assert_eq!(next_item(&mut text_codec).await, Ok(Chat::Leave));

        let mut binary_codec = text_codec
            .into_inner()
            .with_codec::<Chat, Chat, MsgpackSerdeCodec>();
        binary_codec
            .get_mut()
            .send(Message::from("Leave"))
            .await
            .unwrap();
        binary_codec.send(Chat::Leave).await.unwrap();
        assert_eq!(
            next_item(&mut binary_codec).await,
            Err(Error::Decode {
                message: "a text message, but the codec decodes binary ones".into()
            })
        );
        assert_eq!(next_item(&mut binary_codec).await, Ok(Chat::Leave));
    })
    .await;
}

#[wasm_bindgen_test]
async fn an_encode_failure_sends_nothing_and_the_sink_goes_on() {
    bounded(async {
        let ws = connect("/count").await;
        let mut broken = ws.with_codec::<Unserializable, String, JsonSerdeCodec>();
        match broken.send(Unserializable).await {
            Err(Error::Encode { message }) => {
                assert!(message.contains("refuses to be serialized"), "{message}");
            }
            other => panic!("expected an encode error, got {other:?}"),
        }
        // The same socket, typed differently: still open and usable.
        let mut counted = broken
            .into_inner()
            .with_codec::<Chat, String, JsonSerdeCodec>();
        counted.send(Chat::Leave).await.unwrap();
        counted.send(Chat::Join { name: "x".into() }).await.unwrap();
        counted
            .get_mut()
            .send(Message::from("?count"))
            .await
            .unwrap();
        let bytes = r#""Leave""#.len() + r#"{"Join":{"name":"x"}}"#.len();
        assert_eq!(
            next_raw(&mut counted).await,
            Message::Text(format!("count=2 bytes={bytes}"))
        );

        // A failing value between good ones, on one typed sink (serde's `Result` is
        // serialized as `{"Ok": ..}`; the `Err` side fails).
        let mut mixed = counted
            .into_inner()
            .with_codec::<Result<Chat, Unserializable>, String, JsonSerdeCodec>();
        assert!(matches!(
            mixed.send(Err(Unserializable)).await,
            Err(Error::Encode { .. })
        ));
        mixed.send(Ok(Chat::Leave)).await.unwrap();
        mixed.get_mut().send(Message::from("?count")).await.unwrap();
        let bytes = bytes + r#"{"Ok":"Leave"}"#.len();
        assert_eq!(
            within(10, next_message(mixed.get_mut())).await,
            Message::Text(format!("count=3 bytes={bytes}"))
        );
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_typed_reconnecting_socket_goes_on_across_a_drop() {
    bounded(async {
        // Every connection is dropped (1006) after echoing one message.
        let mut chat = WebSocket::builder(url("/drop?after=1"))
            .reconnecting(ReconnectPolicy::new().backoff(
                Duration::from_millis(1),
                Duration::from_millis(10),
                2.0,
            ))
            .unwrap()
            .with_codec::<Chat, Chat, JsonSerdeCodec>();
        let mut events = chat.handle().events();
        for round in 0..3 {
            // Sending only once connected: a message sent to a connection that is being
            // dropped may be lost by the server.
            loop {
                match within(10, events.next()).await {
                    Some(ReconnectEvent::Connected { .. }) => break,
                    Some(_) => {}
                    None => panic!("the events ended"),
                }
            }
            let value = say(&format!("round {round}"));
            chat.send(value.clone()).await.unwrap();
            assert_eq!(next_item(&mut chat).await, Ok(value));
        }
        assert_eq!(chat.handle().state(), chat.get_ref().state());
        drop(chat);
    })
    .await;
}

#[wasm_bindgen_test]
async fn closing_the_typed_sink_ends_the_stream_and_the_handle_works_after_split() {
    bounded(async {
        let mut chat = echo_chat::<JsonSerdeCodec>().await;
        chat.send(Chat::Leave).await.unwrap();
        assert_eq!(next_item(&mut chat).await, Ok(Chat::Leave));
        SinkExt::close(&mut chat).await.unwrap();
        assert_eq!(within(10, chat.next()).await, None);
        assert!(chat.is_terminated());

        let chat = echo_chat::<JsonSerdeCodec>().await;
        let handle = chat.handle();
        let (mut sink, mut stream) = chat.split();
        sink.send(say("split")).await.unwrap();
        assert_eq!(next_item(&mut stream).await, Ok(say("split")));
        let event = within(10, handle.close(CloseCode::NORMAL, "bye"))
            .await
            .unwrap();
        assert!(event.was_clean);
        assert_eq!(within(10, stream.next()).await, None);
        assert!(matches!(
            sink.send(Chat::Leave).await,
            Err(Error::NotOpen(State::Closed | State::Closing))
        ));
    })
    .await;
}
