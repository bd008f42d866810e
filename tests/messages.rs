//! Data in both directions, in a real browser against the test peer:
//! - text: ASCII, non-BMP unicode, empty; binary: empty, every byte value, 64 KiB, 1 MiB
//! - the echo keeps each message's type, in both binary types (ArrayBuffer and Blob)
//! - a fixed interleaving of text and binary (with 256 KiB and 1 MiB Blobs between small
//!   texts) arrives exactly in wire order in both binary types, then the stream ends
//! - a 10 000-message flood arrives complete and in order in both binary types
//! - a pipelined `send_all` of 1000 messages echoes back in order
//! - split halves send and receive concurrently

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;
use wasm_websocket::{BinaryType, Message, WebSocket};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(all(target_arch = "wasm32", not(wasm_ws_worker)))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

async fn echo(binary_type: BinaryType, message: Message) {
    let mut ws = WebSocket::builder(url("/echo"))
        .binary_type(binary_type)
        .connect()
        .await
        .unwrap();
    if !on_stream_backend() {
        assert_eq!(ws.binary_type(), binary_type);
    }
    ws.send(message.clone()).await.unwrap();
    let back = next_message(&mut ws).await;
    assert_eq!(back.len(), message.len());
    assert!(back == message, "echo differs ({} bytes)", message.len());
}

#[async_test]
async fn text_round_trip() {
    bounded(echo(BinaryType::ArrayBuffer, "hello, peer".into())).await;
}

#[async_test]
async fn text_non_bmp_unicode() {
    bounded(echo(
        BinaryType::ArrayBuffer,
        "🦀 crab, 𝄞 clef, ü, 中文, \u{10FFFF}, \0 nul".into(),
    ))
    .await;
}

#[async_test]
async fn text_empty() {
    bounded(echo(BinaryType::ArrayBuffer, "".into())).await;
}

#[async_test]
async fn text_large() {
    bounded(echo(BinaryType::ArrayBuffer, "é🦀x".repeat(100_000).into())).await;
}

#[async_test]
async fn binary_empty() {
    bounded(echo(BinaryType::ArrayBuffer, Vec::new().into())).await;
}

#[async_test]
async fn binary_empty_blob() {
    bounded(echo(BinaryType::Blob, Vec::new().into())).await;
}

#[async_test]
async fn binary_every_byte_value() {
    bounded(echo(
        BinaryType::ArrayBuffer,
        (0..=255u8)
            .chain((0..=255u8).rev())
            .collect::<Vec<_>>()
            .into(),
    ))
    .await;
}

#[async_test]
async fn binary_64k() {
    bounded(echo(BinaryType::ArrayBuffer, pattern(64 * 1024, 1).into())).await;
}

#[async_test]
async fn binary_64k_blob() {
    bounded(echo(BinaryType::Blob, pattern(64 * 1024, 2).into())).await;
}

#[async_test]
async fn binary_1mib() {
    bounded(echo(BinaryType::ArrayBuffer, pattern(1 << 20, 3).into())).await;
}

#[async_test]
async fn binary_1mib_blob() {
    bounded(echo(BinaryType::Blob, pattern(1 << 20, 4).into())).await;
}

#[async_test]
async fn echo_preserves_types_in_order() {
    bounded(async {
        for binary_type in [BinaryType::ArrayBuffer, BinaryType::Blob] {
            let mut ws = WebSocket::builder(url("/echo"))
                .binary_type(binary_type)
                .connect()
                .await
                .unwrap();
            let sent: Vec<Message> = vec![
                "a".into(),
                vec![1u8].into(),
                "".into(),
                Vec::new().into(),
                pattern(200_000, 9).into(),
                "after big".into(),
                "🦀".as_bytes().into(),
            ];
            for message in &sent {
                ws.feed(message.clone()).await.unwrap();
            }
            ws.flush().await.unwrap();
            for expected in &sent {
                assert_eq!(&next_message(&mut ws).await, expected);
            }
        }
    })
    .await;
}

fn interleave_expected() -> Vec<Message> {
    vec![
        "t0".into(),
        vec![1u8; 262_144].into(),
        "t2".into(),
        vec![3u8].into(),
        "".into(),
        Vec::new().into(),
        "🦀 t6".into(),
        vec![7u8; 65_536].into(),
        "t8".into(),
        vec![9u8, 9].into(),
        vec![10u8; 1_048_576].into(),
        "t11 — end".into(),
    ]
}

async fn interleave(binary_type: BinaryType) {
    let mut ws = WebSocket::builder(url("/interleave"))
        .binary_type(binary_type)
        .connect()
        .await
        .unwrap();
    let mut received = Vec::new();
    while let Some(item) = ws.next().await {
        received.push(item.unwrap());
    }
    let expected = interleave_expected();
    assert_eq!(received.len(), expected.len());
    for (i, (got, want)) in received.iter().zip(&expected).enumerate() {
        assert!(
            got == want,
            "message {i} differs: {} vs {} bytes",
            got.len(),
            want.len()
        );
    }
    let event = ws.closed().await;
    assert_eq!(
        (event.code, event.reason.as_str(), event.was_clean),
        (1000, "done", true)
    );
}

#[async_test]
async fn interleaved_order_arraybuffer() {
    bounded(interleave(BinaryType::ArrayBuffer)).await;
}

#[async_test]
async fn interleaved_order_blob() {
    bounded(interleave(BinaryType::Blob)).await;
}

async fn flood(binary_type: BinaryType, kind: &str, n: u32, size: usize) {
    let mut ws = WebSocket::builder(url(&format!("/flood?n={n}&size={size}&kind={kind}")))
        .binary_type(binary_type)
        .connect()
        .await
        .unwrap();
    let mut i = 0u32;
    while let Some(item) = ws.next().await {
        let message = item.unwrap();
        let binary = kind == "binary" || (kind == "mixed" && i % 2 == 1);
        if binary {
            assert!(
                message == Message::Binary(flood_binary(i, size)),
                "message {i}"
            );
        } else {
            assert!(message == Message::Text(flood_text(i, size)), "message {i}");
        }
        i += 1;
    }
    assert_eq!(i, n, "all messages arrived");
    assert!(ws.closed().await.was_clean);
}

#[async_test]
async fn flood_10000_binary_arraybuffer() {
    bounded(flood(BinaryType::ArrayBuffer, "binary", 10_000, 16)).await;
}

#[async_test]
async fn flood_10000_binary_blob() {
    bounded(flood(BinaryType::Blob, "binary", 10_000, 16)).await;
}

#[async_test]
async fn flood_10000_text() {
    bounded(flood(BinaryType::ArrayBuffer, "text", 10_000, 16)).await;
}

#[async_test]
async fn flood_10000_mixed_blob() {
    bounded(flood(BinaryType::Blob, "mixed", 10_000, 24)).await;
}

#[async_test]
async fn flood_large_mixed_blob() {
    bounded(flood(BinaryType::Blob, "mixed", 40, 300_000)).await;
}

#[async_test]
async fn pipelined_send_all_echoes_in_order() {
    bounded(async {
        let mut ws = connect("/echo").await;
        let mut outgoing = futures::stream::iter((0..1000u32).map(|i| {
            Ok(if i % 3 == 0 {
                Message::Binary(i.to_le_bytes().to_vec())
            } else {
                Message::Text(i.to_string())
            })
        }));
        ws.send_all(&mut outgoing).await.unwrap();
        for i in 0..1000u32 {
            let expected = if i % 3 == 0 {
                Message::Binary(i.to_le_bytes().to_vec())
            } else {
                Message::Text(i.to_string())
            };
            assert_eq!(next_message(&mut ws).await, expected);
        }
    })
    .await;
}

#[async_test]
async fn split_halves_work_concurrently() {
    bounded(async {
        let ws = connect("/echo").await;
        let (mut sink, mut stream) = ws.split();
        let send = async {
            for i in 0..500u32 {
                sink.send(Message::Text(format!("m{i}"))).await.unwrap();
            }
        };
        let receive = async {
            for i in 0..500u32 {
                match stream.next().await {
                    Some(Ok(Message::Text(text))) => assert_eq!(text, format!("m{i}")),
                    other => panic!("unexpected {other:?}"),
                }
            }
        };
        futures::join!(send, receive);
    })
    .await;
}
