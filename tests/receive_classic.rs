//! Receive flow control with the classic `WebSocket` (its own test binary, see
//! receive_stream.rs):
//! - the browser cannot be told to stop reading: the same 200 MiB flood with nobody reading
//!   grows wasm memory past 32 MiB (which is what the stream backend prevents)
//! - `max_queued(messages, bytes)`: passing either limit closes with 4009 and the stream
//!   yields every queued message in order, then `ReceiveQueueFull`, then ends
//! - a reader that keeps up never trips the limit
//! - a message larger than the byte limit by itself (text, ArrayBuffer or Blob) is refused
//!   before it is copied: wasm memory does not grow by its size, and the stream ends with
//!   `ReceiveQueueFull` counting it

// Browser-only.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;
use wasm_websocket::{Backend, BinaryType, Error, Message, WebSocket, QUEUE_FULL_CODE};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(not(wasm_ws_worker))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

const MIB: usize = 1 << 20;

#[wasm_bindgen_test]
async fn classic_backend_queues_everything_for_a_slow_reader() {
    within(120, async {
        let size = 64 * 1024;
        let n = 200 * MIB / size;
        let ws = WebSocket::builder(url(&format!("/flood?n={n}&size={size}&kind=binary")))
            .backend(Backend::Classic)
            .connect()
            .await
            .unwrap();
        while wasm_memory() <= 32 * MIB {
            TimeoutFuture::new(10).await;
        }
        drop(ws);
    })
    .await;
}

async fn overflow(limit_messages: usize, limit_bytes: usize, expect: usize) {
    let mut ws = WebSocket::builder(url("/flood?n=100&size=1024&kind=binary"))
        .backend(Backend::Classic)
        .max_queued(limit_messages, limit_bytes)
        .connect()
        .await
        .unwrap();
    // Read nothing until the connection has closed: the queue must overflow.
    let event = ws.closed().await;
    assert!(
        event.code == QUEUE_FULL_CODE || event.code == 1000,
        "{event:?}"
    );
    for i in 0..expect as u32 {
        assert_eq!(
            next_message(&mut ws).await,
            Message::Binary(flood_binary(i, 1024))
        );
    }
    assert_eq!(
        ws.next().await,
        Some(Err(Error::ReceiveQueueFull {
            messages: expect,
            bytes: expect * 1024
        }))
    );
    assert!(ws.next().await.is_none());
}

#[wasm_bindgen_test]
async fn max_queued_messages_limit() {
    bounded(overflow(10, usize::MAX, 11)).await;
}

#[wasm_bindgen_test]
async fn max_queued_bytes_limit() {
    bounded(overflow(usize::MAX, 5000, 5)).await;
}

#[wasm_bindgen_test]
async fn reader_that_keeps_up_never_trips_the_limit() {
    bounded(async {
        let mut ws = WebSocket::builder(url("/flood?n=3000&size=16&kind=binary"))
            .backend(Backend::Classic)
            .max_queued(100, 100 * 16)
            .connect()
            .await
            .unwrap();
        let mut i = 0;
        while let Some(item) = ws.next().await {
            assert_eq!(item.unwrap(), Message::Binary(flood_binary(i, 16)));
            i += 1;
        }
        assert_eq!(i, 3000);
    })
    .await;
}

#[wasm_bindgen_test]
async fn oversized_message_is_refused_before_it_is_copied() {
    for (kind, binary_type) in [
        ("binary", BinaryType::ArrayBuffer),
        ("text", BinaryType::ArrayBuffer),
        ("binary", BinaryType::Blob),
    ] {
        within(60, async {
            // Larger than all of wasm memory now: a copy would have to grow memory by at
            // least `margin`, whatever the allocator has free.
            let margin = 8 * MIB;
            let before = wasm_memory();
            let size = before + margin;
            let mut ws = WebSocket::builder(url(&format!(
                "/flood?n=1&size={size}&kind={kind}&close=none"
            )))
            .backend(Backend::Classic)
            .binary_type(binary_type)
            .max_queued(100, MIB)
            .connect()
            .await
            .unwrap();
            assert_eq!(
                ws.next().await,
                Some(Err(Error::ReceiveQueueFull {
                    messages: 1,
                    bytes: size
                })),
                "{kind} {binary_type:?}"
            );
            assert!(ws.next().await.is_none());
            assert_eq!(ws.closed().await.code, QUEUE_FULL_CODE);
            let grown = wasm_memory() - before;
            assert!(
                grown < margin,
                "{kind} {binary_type:?}: memory grew by {grown}"
            );
        })
        .await;
    }
}
