//! Heartbeat and idle timeout, in a real browser against the test peer (connect timeout is
//! in connect.rs):
//! - a heartbeat goes out after at least one interval of quiet, and repeats
//! - no heartbeat while the application keeps sending
//! - the idle timeout ends the stream with `IdleTimeout` after the messages already received,
//!   no earlier than the timeout, closes the socket (1000, "idle timeout"), releases its timer
//! - traffic (here: echoed heartbeats) keeps an idle timeout from firing
//! - a heartbeat, idle or connect timeout under 1 ms is `InvalidOption` before anything is
//!   created; `Duration::MAX` is accepted and never fires during the connection

mod common;

use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;
use wasm_websocket::{live_listeners, Error, Message, State, WebSocket};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(all(target_arch = "wasm32", not(wasm_ws_worker)))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now();
    #[cfg(not(target_arch = "wasm32"))]
    return std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
}

#[async_test]
async fn heartbeat_is_sent_after_quiet_and_repeats() {
    bounded(async {
        let mut ws = WebSocket::builder(url("/echo"))
            .heartbeat(Duration::from_millis(80), "hb")
            .connect()
            .await
            .unwrap();
        let mut last = now_ms();
        for _ in 0..3 {
            assert_eq!(next_message(&mut ws).await, Message::from("hb"));
            let now = now_ms();
            // Never before one interval of quiet (timers may run a little early: 5 ms slack).
            assert!(now - last >= 75.0, "heartbeat after {} ms", now - last);
            last = now;
        }
    })
    .await;
}

#[async_test]
async fn no_heartbeat_while_sending() {
    bounded(async {
        let mut ws = WebSocket::builder(url("/echo"))
            .heartbeat(
                Duration::from_millis(400),
                Message::Binary(vec![0xbe, 0xa7]),
            )
            .connect()
            .await
            .unwrap();
        for i in 0..25u32 {
            ws.send(Message::Text(i.to_string())).await.unwrap();
            sleep_ms(20).await;
        }
        for i in 0..25u32 {
            assert_eq!(next_message(&mut ws).await, Message::Text(i.to_string()));
        }
    })
    .await;
}

#[async_test]
async fn idle_timeout_ends_the_stream_after_received_messages() {
    bounded(async {
        let before = live_listeners();
        let started = now_ms();
        let mut ws = WebSocket::builder(url("/flood?n=3&close=none"))
            .idle_timeout(Duration::from_millis(300))
            .connect()
            .await
            .unwrap();
        for i in 0..3 {
            assert_eq!(
                next_message(&mut ws).await,
                Message::Binary(flood_binary(i, 16))
            );
        }
        assert_eq!(ws.next().await, Some(Err(Error::IdleTimeout)));
        assert!(now_ms() - started >= 295.0);
        assert!(ws.next().await.is_none());
        assert!(matches!(ws.state(), State::Closing | State::Closed));
        assert!(matches!(
            ws.send("late".into()).await,
            Err(Error::NotOpen(_))
        ));
        let event = ws.closed().await;
        assert_eq!((event.code, event.reason.as_str()), (1000, "idle timeout"));
        drop(ws);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn echoed_heartbeats_keep_the_connection_alive() {
    bounded(async {
        let mut ws = WebSocket::builder(url("/echo"))
            .heartbeat(Duration::from_millis(40), "hb")
            .idle_timeout(Duration::from_millis(400))
            .connect()
            .await
            .unwrap();
        let started = now_ms();
        while now_ms() - started < 1200.0 {
            assert_eq!(next_message(&mut ws).await, Message::from("hb"));
        }
        assert_eq!(ws.state(), State::Open);
    })
    .await;
}

#[async_test]
async fn keepalive_timer_released_on_drop() {
    bounded(async {
        let before = live_listeners();
        let ws = WebSocket::builder(url("/echo"))
            .heartbeat(Duration::from_secs(5), "hb")
            .idle_timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap();
        let with_socket = live_listeners();
        assert!(with_socket > before);
        drop(ws);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn durations_under_a_millisecond_are_invalid_options() {
    let before = live_listeners();
    let zero = Duration::ZERO;
    let configs = [
        (
            "heartbeat",
            WebSocket::builder(url("/echo")).heartbeat(zero, "ping"),
        ),
        (
            "idle_timeout",
            WebSocket::builder(url("/echo")).idle_timeout(zero),
        ),
        (
            "connect_timeout",
            WebSocket::builder(url("/echo")).connect_timeout(Duration::from_micros(500)),
        ),
    ];
    for (name, builder) in configs {
        match builder.connect().await {
            Err(Error::InvalidOption { option, .. }) => assert_eq!(option, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert_eq!(live_listeners(), before);
    let mut ws = WebSocket::builder(url("/echo"))
        .heartbeat(Duration::MAX, "ping")
        .idle_timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .connect()
        .await
        .unwrap();
    ws.send(Message::from("still here")).await.unwrap();
    assert_eq!(next_message(&mut ws).await, Message::from("still here"));
}
