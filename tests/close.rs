//! Every way a connection ends, in a real browser against the test peer:
//! - client close with code and reason; server close with code and reason; server close
//!   without a code (1005); abrupt TCP drop (1006, not clean) with messages delivered first
//! - the stream's end: `None` after a clean close, `Err(ConnectionLost)` then `None` after an
//!   unclean one, and terminated for good after that (`FusedStream`)
//! - close twice and close after closed resolve with the same event
//! - every valid close code reaches the server and comes back; every invalid one is refused
//!   before the browser is called; reasons of 123 vs 124 bytes, with multi-byte characters
//! - send after close (ours or the server's) is `NotOpen`, never a silent drop
//! - close through a `Handle` after `split`; `SinkExt::close` closes with 1000
//! - state transitions Connecting -> Open -> Closing -> Closed, mirrored at once
//! - a `Handle` outlives the socket; drop releases every listener; no callback runs after drop

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;
use wasm_websocket::{live_listeners, CloseCode, CloseEvent, Error, Message, State, WebSocket};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(all(target_arch = "wasm32", not(wasm_ws_worker)))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn code(n: u16) -> CloseCode {
    CloseCode::new(n).unwrap()
}

#[async_test]
async fn client_close_with_code_and_reason() {
    bounded(async {
        let mut ws = connect("/echo").await;
        let event = ws.close(code(4000), "bye now").await.unwrap();
        assert_eq!(
            event,
            CloseEvent {
                code: 4000,
                reason: "bye now".into(),
                was_clean: true
            }
        );
        assert_eq!(ws.state(), State::Closed);
        assert!(ws.next().await.is_none());
        assert_eq!(ws.closed().await, event);
    })
    .await;
}

#[async_test]
async fn server_close_with_code_and_reason() {
    bounded(async {
        let mut ws = connect("/close?code=4001&reason=server%20says%20bye").await;
        assert!(ws.next().await.is_none(), "clean close ends the stream");
        let event = ws.closed().await;
        assert_eq!(event.code, 4001);
        assert_eq!(event.reason, "server says bye");
        assert!(event.was_clean);
        assert_eq!(ws.state(), State::Closed);
    })
    .await;
}

#[async_test]
async fn server_close_with_reserved_code() {
    bounded(async {
        // A server may send codes a page may not (1001 going away, 1011 internal error).
        for (n, reason) in [(1001, "going away"), (1011, "oops")] {
            let mut ws = connect(&format!("/close?code={n}&reason={reason}")).await;
            assert!(ws.next().await.is_none());
            let event = ws.closed().await;
            assert_eq!((event.code, event.reason.as_str()), (n, reason));
        }
    })
    .await;
}

#[async_test]
async fn server_close_without_code_reports_1005() {
    bounded(async {
        let mut ws = connect("/close?code=none").await;
        assert!(ws.next().await.is_none());
        let event = ws.closed().await;
        assert_eq!(event.code, 1005);
        assert!(event.was_clean);
    })
    .await;
}

#[async_test]
async fn abrupt_drop_is_connection_lost() {
    bounded(async {
        let mut ws = connect("/drop?delay_ms=50").await;
        match ws.next().await {
            Some(Err(Error::ConnectionLost(event))) => {
                assert_eq!(event.code, 1006);
                assert!(!event.was_clean);
            }
            other => panic!("expected ConnectionLost, got {other:?}"),
        }
        assert!(ws.next().await.is_none());
        assert!(futures::stream::FusedStream::is_terminated(&ws));
        assert!(ws.next().await.is_none(), "stays terminated");
        let event = ws.closed().await;
        assert_eq!((event.code, event.was_clean), (1006, false));
    })
    .await;
}

#[async_test]
async fn messages_before_a_drop_are_delivered_first() {
    bounded(async {
        let mut ws = connect("/drop?after=3").await;
        for i in 0..3 {
            ws.feed(Message::Text(format!("m{i}"))).await.unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..3 {
            assert_eq!(next_message(&mut ws).await, Message::Text(format!("m{i}")));
        }
        assert!(matches!(
            ws.next().await,
            Some(Err(Error::ConnectionLost(_)))
        ));
        assert!(ws.next().await.is_none());
    })
    .await;
}

#[async_test]
async fn clean_close_stream_is_fused() {
    bounded(async {
        let mut ws = connect("/close?code=1000").await;
        assert!(!futures::stream::FusedStream::is_terminated(&ws));
        assert!(ws.next().await.is_none());
        assert!(futures::stream::FusedStream::is_terminated(&ws));
        assert!(ws.next().await.is_none());
    })
    .await;
}

#[async_test]
async fn close_twice_resolves_with_the_same_event() {
    bounded(async {
        let ws = connect("/echo").await;
        let first = ws.close(code(4000), "first");
        let second = ws.close(code(4002), "second");
        let (a, b) = futures::join!(first, second);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a, b);
        assert_eq!((a.code, a.reason.as_str()), (4000, "first"));
        // And once more after it has closed.
        assert_eq!(ws.close(code(4003), "third").await.unwrap(), a);
    })
    .await;
}

#[async_test]
async fn valid_close_codes_reach_the_server() {
    bounded(async {
        for n in [1000, 3000, 3999, 4000, 4999] {
            let ws = connect("/echo").await;
            let event = ws.close(code(n), &format!("code {n}")).await.unwrap();
            assert_eq!(event.code, n);
            assert_eq!(event.reason, format!("code {n}"));
            assert!(event.was_clean);
        }
    })
    .await;
}

#[async_test]
async fn invalid_close_codes_are_refused() {
    bounded(async {
        for n in (0..1000).chain(1001..3000).chain(5000..=u16::MAX) {
            assert_eq!(CloseCode::new(n), Err(Error::InvalidCloseCode(n)));
        }
        for n in [1000, 3000, 4999] {
            assert_eq!(CloseCode::new(n).unwrap().get(), n);
        }
    })
    .await;
}

#[async_test]
async fn reason_of_123_bytes_is_sent() {
    bounded(async {
        for reason in [
            "a".repeat(123),
            "€".repeat(41),
            format!("{}é", "x".repeat(121)),
        ] {
            assert_eq!(reason.len(), 123);
            let ws = connect("/echo").await;
            let event = ws.close(CloseCode::NORMAL, &reason).await.unwrap();
            assert_eq!(event.reason, reason);
        }
    })
    .await;
}

#[async_test]
async fn reason_over_123_bytes_is_refused_and_starts_nothing() {
    bounded(async {
        let ws = connect("/echo").await;
        for (reason, len) in [
            ("a".repeat(124), 124),
            ("é".repeat(62), 124),
            (format!("{}é", "€".repeat(41)), 125),
            ("🦀".repeat(31), 124),
        ] {
            assert_eq!(
                ws.close(CloseCode::NORMAL, &reason).await,
                Err(Error::ReasonTooLong { len })
            );
            assert_eq!(ws.state(), State::Open);
        }
        let handle = ws.handle();
        assert!(matches!(
            handle.close(code(4000), &"b".repeat(200)).await,
            Err(Error::ReasonTooLong { len: 200 })
        ));
        assert_eq!(ws.state(), State::Open);
    })
    .await;
}

#[async_test]
async fn unicode_reason_round_trips() {
    bounded(async {
        let ws = connect("/echo").await;
        let event = ws.close(code(4100), "tschüss 🦀").await.unwrap();
        assert_eq!(event.reason, "tschüss 🦀");
    })
    .await;
}

#[async_test]
async fn send_after_client_close_is_not_open() {
    bounded(async {
        let mut ws = connect("/echo").await;
        let closing = ws.close(CloseCode::NORMAL, "");
        assert_eq!(ws.state(), State::Closing);
        assert_eq!(
            ws.send("late".into()).await,
            Err(Error::NotOpen(State::Closing))
        );
        closing.await.unwrap();
        assert_eq!(
            ws.send(vec![1u8].into()).await,
            Err(Error::NotOpen(State::Closed))
        );
        // start_send without poll_ready is refused the same way.
        assert_eq!(
            futures::Sink::start_send(std::pin::Pin::new(&mut ws), "raw".into()),
            Err(Error::NotOpen(State::Closed))
        );
    })
    .await;
}

#[async_test]
async fn send_after_server_left_is_not_open() {
    bounded(async {
        let mut ws = connect("/close?code=4000&reason=gone").await;
        ws.closed().await;
        assert_eq!(
            ws.send("nobody listens".into()).await,
            Err(Error::NotOpen(State::Closed))
        );
        assert_eq!(ws.flush().await, Ok(()), "nothing was buffered");
    })
    .await;
}

#[async_test]
async fn split_then_close_through_handle() {
    bounded(async {
        let ws = connect("/echo").await;
        let handle = ws.handle();
        let (mut sink, mut stream) = ws.split();
        sink.send("before".into()).await.unwrap();
        assert_eq!(stream.next().await, Some(Ok(Message::from("before"))));
        let event = handle.close(code(4321), "split").await.unwrap();
        assert_eq!((event.code, event.reason.as_str()), (4321, "split"));
        assert!(stream.next().await.is_none());
        assert_eq!(
            sink.send("after".into()).await,
            Err(Error::NotOpen(State::Closed))
        );
        assert_eq!(handle.state(), State::Closed);
    })
    .await;
}

#[async_test]
async fn sink_close_closes_with_1000() {
    bounded(async {
        let mut ws = connect("/echo").await;
        SinkExt::close(&mut ws).await.unwrap();
        assert_eq!(ws.state(), State::Closed);
        let event = ws.closed().await;
        assert_eq!((event.code, event.was_clean), (1000, true));
        // Closing an already closed sink succeeds again.
        SinkExt::close(&mut ws).await.unwrap();
    })
    .await;
}

#[async_test]
async fn state_transitions_are_mirrored_at_once() {
    bounded(async {
        let mut ws = WebSocket::new(url("/echo")).unwrap();
        let handle = ws.handle();
        assert_eq!(handle.state(), State::Connecting);
        ws.flush().await.unwrap();
        ws.send("open?".into()).await.unwrap();
        assert_eq!(handle.state(), State::Open);
        let closing = handle.close(CloseCode::NORMAL, "");
        assert_eq!(ws.state(), State::Closing);
        assert_eq!(handle.state(), State::Closing);
        closing.await.unwrap();
        assert_eq!(ws.state(), State::Closed);
        assert_eq!(handle.state(), State::Closed);
    })
    .await;
}

#[async_test]
async fn many_waiters_see_the_same_close() {
    bounded(async {
        let ws = connect("/close?code=4005&reason=all&delay_ms=50").await;
        let handle = ws.handle();
        let (a, b, c) = futures::join!(ws.closed(), handle.closed(), handle.clone().closed());
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.code, 4005);
    })
    .await;
}

#[async_test]
async fn handle_outlives_the_socket() {
    bounded(async {
        let before = live_listeners();
        let ws = connect("/echo").await;
        let handle = ws.handle();
        drop(ws);
        assert_eq!(handle.state(), State::Closing, "drop starts the close");
        let event = handle.closed().await;
        assert_eq!((event.code, event.was_clean), (1000, true));
        assert_eq!(handle.state(), State::Closed);
        assert_eq!(handle.buffered_amount(), 0);
        drop(handle);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn drop_releases_every_listener() {
    bounded(async {
        let before = live_listeners();
        let ws = connect("/echo").await;
        assert!(live_listeners() > before);
        let closed = ws.close(CloseCode::NORMAL, "");
        drop(ws);
        closed.await.unwrap();
        assert_eq!(live_listeners(), before);

        let ws = connect("/echo").await;
        drop(ws);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn no_callback_runs_after_drop() {
    bounded(async {
        install_error_counter();
        let errors = uncaught_errors();
        let before = live_listeners();
        let baseline = peer_connections().await - 1;
        for kind in ["binary", "text"] {
            // The peer floods at once: messages and the close arrive after the drop.
            let ws = connect(&format!("/flood?n=2000&size=64&kind={kind}")).await;
            drop(ws);
            assert_eq!(live_listeners(), before);
        }
        let ws = connect("/close?delay_ms=20&code=4000").await;
        drop(ws);
        wait_peer_connections_at_most(baseline).await;
        // One more round trip so the browser has dispatched the closes.
        let mut probe = connect("/echo").await;
        probe.send("sync".into()).await.unwrap();
        next_message(&mut probe).await;
        drop(probe);
        assert_eq!(uncaught_errors(), errors, "an exception reached the page");
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn close_future_reports_unclean_close() {
    bounded(async {
        let ws = connect("/drop?delay_ms=50").await;
        let event = ws.closed().await;
        assert_eq!((event.code, event.was_clean), (1006, false));
        // Closing afterwards starts nothing and reports the same event.
        assert_eq!(ws.close(CloseCode::NORMAL, "").await.unwrap(), event);
    })
    .await;
}
