//! Receive flow control with `WebSocketStream` (its own test binary, so the page's wasm
//! memory starts small and the bound below means something):
//! - Chromium: a peer flooding 200 MiB to a reader taking one message every 3 ms keeps wasm
//!   memory under 32 MiB, and every message read is correct and in order
//! - Chromium: with an idle timeout, a consumer that pauses longer than the timeout while
//!   data waits loses nothing and is not timed out; once it waits on a silent server, the
//!   idle timeout ends the stream
//! - where the browser lacks `WebSocketStream` (Firefox): `Backend::Stream` fails with
//!   `Unsupported`, and `Backend::Auto` falls back to the classic socket
// Browser-only.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::StreamExt;
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen_test::*;
use wasm_websocket::{live_listeners, Backend, BinaryType, Error, Message, WebSocket};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(not(wasm_ws_worker))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

const MIB: usize = 1 << 20;

#[wasm_bindgen_test]
async fn slow_reader_keeps_memory_bounded_on_stream_backend() {
    within(120, async {
        if !has_websocketstream() {
            return; // covered by the fallback test below
        }
        let size = 64 * 1024;
        let n = 200 * MIB / size;
        let mut ws = WebSocket::builder(url(&format!("/flood?n={n}&size={size}&kind=binary")))
            .backend(Backend::Stream)
            .connect()
            .await
            .unwrap();
        let mut peak = wasm_memory();
        for i in 0..600u32 {
            let message = next_message(&mut ws).await;
            assert!(
                message == Message::Binary(flood_binary(i, size)),
                "message {i}"
            );
            TimeoutFuture::new(3).await;
            peak = peak.max(wasm_memory());
        }
        assert!(peak < 32 * MIB, "wasm memory reached {} MiB", peak / MIB);
    })
    .await;
}

#[wasm_bindgen_test]
async fn stream_backend_unsupported_and_auto_fallback() {
    bounded(async {
        if has_websocketstream() {
            let ws = WebSocket::builder(url("/echo"))
                .backend(Backend::Auto)
                .binary_type(BinaryType::Blob)
                .connect()
                .await
                .unwrap();
            // Auto chose the stream backend, where the binary type does not apply.
            assert_eq!(ws.binary_type(), BinaryType::ArrayBuffer);
            return;
        }
        let before = live_listeners();
        assert_eq!(
            WebSocket::builder(url("/echo"))
                .backend(Backend::Stream)
                .connect()
                .await
                .unwrap_err(),
            Error::Unsupported {
                feature: "WebSocketStream".into()
            }
        );
        assert_eq!(live_listeners(), before);
        let mut ws = WebSocket::builder(url("/interleave"))
            .backend(Backend::Auto)
            .binary_type(BinaryType::Blob)
            .connect()
            .await
            .unwrap();
        assert_eq!(
            ws.binary_type(),
            BinaryType::Blob,
            "classic socket with Blobs"
        );
        assert_eq!(next_message(&mut ws).await, Message::from("t0"));
        assert_eq!(next_message(&mut ws).await.len(), 262_144);
        assert!(ws.next().await.is_some());
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_pausing_consumer_is_not_idle_and_loses_nothing() {
    within(30, async {
        if !has_websocketstream() {
            return;
        }
        let mut ws = WebSocket::builder(url("/flood?n=3&size=16&kind=binary&close=none"))
            .backend(Backend::Stream)
            .idle_timeout(std::time::Duration::from_millis(200))
            .connect()
            .await
            .unwrap();
        assert_eq!(
            next_message(&mut ws).await,
            Message::Binary(flood_binary(0, 16))
        );
        // The consumer pauses for several idle timeouts while two messages wait.
        TimeoutFuture::new(1000).await;
        for i in 1..3 {
            assert_eq!(
                ws.next().await,
                Some(Ok(Message::Binary(flood_binary(i, 16))))
            );
        }
        // Now it waits on a server that sends nothing more.
        assert_eq!(ws.next().await, Some(Err(Error::IdleTimeout)));
        assert!(ws.next().await.is_none());
    })
    .await;
}
