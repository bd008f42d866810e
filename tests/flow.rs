//! Send-side flow control, in a real browser against the test peer:
//! - `flush` resolves with `buffered_amount() == 0` (also for 1 MiB messages)
//! - against a peer that never reads, each completed `feed` leaves `buffered_amount()` at
//!   most the high-water mark plus one message, and a further send stays pending
//! - closing while a sender waits wakes it with `NotOpen`; a flush with data still buffered
//!   when the socket closes fails with `NotOpen`
//! - a zero high-water mark still sends (each send waits for the previous one to drain)
//! - WebKit drains `bufferedAmount` into its network process whether or not the peer reads,
//!   so a sender never waits there: pinned below so a change in WebKit is noticed

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;
use wasm_websocket::{CloseCode, Error, Message, State, WebSocket};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(all(target_arch = "wasm32", not(wasm_ws_worker)))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

const MIB: usize = 1 << 20;

#[async_test]
async fn flush_drains_to_zero() {
    bounded(async {
        let mut ws = connect("/echo").await;
        for size in [16, 64 * 1024, MIB, 3 * MIB] {
            ws.feed(Message::Binary(pattern(size, size as u32)))
                .await
                .unwrap();
            ws.flush().await.unwrap();
            assert_eq!(ws.buffered_amount(), 0, "after flushing {size} bytes");
            assert_eq!(next_message(&mut ws).await.len(), size);
        }
        // `send` is feed + flush.
        ws.send("x".repeat(100_000).into()).await.unwrap();
        assert_eq!(ws.buffered_amount(), 0);
    })
    .await;
}

#[async_test]
async fn high_water_mark_bounds_the_buffer() {
    within(90, async {
        let mark = MIB;
        let mut ws = WebSocket::builder(url("/noread"))
            .high_water_mark(mark)
            .connect()
            .await
            .unwrap();
        let chunk = pattern(MIB, 7);
        let mut stalled = false;
        for i in 0..64 {
            match finishes_within(3000, ws.feed(Message::Binary(chunk.clone()))).await {
                Some(result) => {
                    result.unwrap();
                    let buffered = ws.buffered_amount();
                    assert!(
                        buffered <= (mark + MIB) as u64,
                        "after send {i}: {buffered} bytes buffered"
                    );
                }
                None => {
                    stalled = true;
                    break;
                }
            }
        }
        if is_webkit() {
            // WebKit moves queued data out of bufferedAmount into its network process
            // whether or not the peer reads, so the sender never has to wait there.
            assert!(
                !stalled,
                "WebKit now holds data in bufferedAmount: update the docs"
            );
            return;
        }
        assert!(
            stalled,
            "64 MiB to a peer that never reads must stall the sender"
        );
        assert!(ws.buffered_amount() > mark as u64);
        assert_eq!(ws.state(), State::Open);
    })
    .await;
}

#[async_test]
async fn close_wakes_a_waiting_sender_with_not_open() {
    within(90, async {
        let mut ws = WebSocket::builder(url("/noread"))
            .high_water_mark(MIB)
            .connect()
            .await
            .unwrap();
        let handle = ws.handle();
        let chunk = pattern(MIB, 8);
        if is_webkit() {
            return; // a sender never waits there (see high_water_mark_bounds_the_buffer)
        }
        // Fill until a send has to wait.
        loop {
            if finishes_within(3000, ws.feed(Message::Binary(chunk.clone())))
                .await
                .is_none()
            {
                break;
            }
        }
        let waiting = ws.send(Message::Binary(chunk.clone()));
        // The close handshake itself cannot finish (the peer never reads); starting it
        // must be enough to wake the sender.
        let closer = async {
            let _started = handle.close(CloseCode::new(4000).unwrap(), "stop");
        };
        let (result, ()) = futures::join!(waiting, closer);
        assert!(
            matches!(result, Err(Error::NotOpen(State::Closing | State::Closed))),
            "{result:?}"
        );
    })
    .await;
}

#[async_test]
async fn flush_fails_when_closed_with_data_buffered() {
    within(90, async {
        let mut ws = WebSocket::builder(url("/noread"))
            .high_water_mark(usize::MAX)
            .connect()
            .await
            .unwrap();
        for i in 0..24 {
            ws.feed(Message::Binary(pattern(MIB, i))).await.unwrap();
        }
        assert!(ws.buffered_amount() > 0);
        let handle = ws.handle();
        let flush = ws.flush();
        let closer = async {
            let _started = handle.close(CloseCode::NORMAL, "");
        };
        let (result, ()) = futures::join!(flush, closer);
        assert!(matches!(result, Err(Error::NotOpen(_))), "{result:?}");
    })
    .await;
}

#[async_test]
async fn zero_high_water_mark_still_sends() {
    bounded(async {
        let mut ws = WebSocket::builder(url("/echo"))
            .high_water_mark(0)
            .connect()
            .await
            .unwrap();
        for i in 0..200u32 {
            ws.feed(Message::Text(i.to_string())).await.unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..200u32 {
            assert_eq!(next_message(&mut ws).await, Message::Text(i.to_string()));
        }
    })
    .await;
}

#[async_test]
async fn ping_pong_with_send_await() {
    bounded(async {
        let mut ws = connect("/echo").await;
        for i in 0..300u32 {
            ws.send(Message::Binary(i.to_be_bytes().to_vec()))
                .await
                .unwrap();
            assert_eq!(ws.buffered_amount(), 0);
            match ws.next().await {
                Some(Ok(Message::Binary(bytes))) => assert_eq!(bytes, i.to_be_bytes()),
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
}

#[async_test]
async fn a_stalled_sender_does_not_hold_back_other_sockets() {
    // Every socket of a thread shares one drain watcher: senders on 20 echo sockets, all
    // waiting for their buffers at once, are each woken while a sender on a socket whose
    // peer never reads stays pending, and that one still fails cleanly when closed.
    within(120, async {
        let mut stalled_ws = WebSocket::builder(url("/noread"))
            .high_water_mark(MIB)
            .connect()
            .await
            .unwrap();
        let handle = stalled_ws.handle();
        let chunk = pattern(MIB, 9);
        if !is_webkit() {
            // WebKit never holds a sender back (see high_water_mark_bounds_the_buffer).
            while finishes_within(3000, stalled_ws.feed(Message::Binary(chunk.clone())))
                .await
                .is_some()
            {}
        }
        let stalled = stalled_ws.send(Message::Binary(chunk.clone()));
        let echoes = futures::future::join_all((0..20u32).map(|n| async move {
            let mut ws = connect("/echo").await;
            for i in 0..20u32 {
                let payload = pattern(1000 + i as usize, n * 100 + i);
                ws.send(Message::Binary(payload.clone())).await.unwrap();
                assert_eq!(ws.buffered_amount(), 0, "socket {n}, send {i}");
                assert_eq!(next_message(&mut ws).await, Message::Binary(payload));
            }
            ws.close(CloseCode::NORMAL, "").await.unwrap();
        }));
        let stalled = match futures::future::select(Box::pin(stalled), Box::pin(echoes)).await {
            futures::future::Either::Right((_, stalled)) => stalled,
            futures::future::Either::Left((result, _)) => {
                assert!(is_webkit(), "the stalled send finished first: {result:?}");
                return;
            }
        };
        let _closing = handle.close(CloseCode::new(4000).unwrap(), "stop");
        let result = stalled.await;
        assert!(
            matches!(result, Err(Error::NotOpen(State::Closing | State::Closed))),
            "{result:?}"
        );
    })
    .await;
}
