//! The Leptos hook (`wasm_websocket::leptos`, feature `leptos`), in a real browser against
//! the test peer, under a reactive `Owner` standing in for a component:
//! - it connects at once: ready state `Connecting` then `Open`, `on_open` runs; a message
//!   sent comes back through `on_message` and the `message` signal
//! - cleaning up the owner (unmounting) closes the socket (the peer sees it go) and
//!   `live_listeners()` is back at its previous value at once; no callback runs after
//!   that, and `send` is `NotOpen`
//! - a cleanup while still connecting releases everything too
//! - `immediate(false)`: `Closed` and `send` is `NotOpen` until `open()`; `open()` while
//!   open replaces the connection
//! - `close_with` a reason over 123 bytes is `ReasonTooLong` and changes nothing; `close()`
//!   is `Closing` at once, then `Closed` with one clean `on_close(1000)`, listeners released
//! - a refused server with `reconnect_limit(Some(1))`: one `on_error` per attempt (the
//!   final error is not repeated), then `Closed`
//! - a dropped connection reconnects: `on_close` with an unclean 1006, then `on_open` again
// Browser-only.
#![cfg(target_arch = "wasm32")]
#![cfg(feature = "leptos")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::*;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::{GetUntracked, Owner};
use wasm_bindgen_test::*;
use wasm_websocket::leptos::{use_websocket_with_options, UseWebSocketOptions, UseWebSocketReturn};
use wasm_websocket::{live_listeners, CloseCode, Error, Message, State};

wasm_bindgen_test_configure!(run_in_browser);

/// What the callbacks saw, in order.
type Log = Rc<RefCell<Vec<String>>>;

/// Options whose callbacks write to `log`.
fn logging(log: &Log) -> UseWebSocketOptions {
    let (a, b, c, d) = (log.clone(), log.clone(), log.clone(), log.clone());
    UseWebSocketOptions::new()
        .on_open(move || a.borrow_mut().push("open".into()))
        .on_message(move |m: &Message| b.borrow_mut().push(format!("message {m:?}")))
        .on_close(move |e| {
            c.borrow_mut()
                .push(format!("close {} {}", e.code, e.was_clean))
        })
        .on_error(move |e: &Error| d.borrow_mut().push(format!("error {e}")))
}

/// Waits up to 10 s for `cond`.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        TimeoutFuture::new(10).await;
    }
    panic!("timed out waiting for {what}");
}

fn state(ws: &UseWebSocketReturn) -> State {
    ws.ready_state.get_untracked()
}

fn count(log: &Log, prefix: &str) -> usize {
    log.borrow()
        .iter()
        .filter(|l| l.starts_with(prefix))
        .count()
}

#[wasm_bindgen_test]
async fn connects_echoes_and_cleanup_releases_everything() {
    bounded(async {
        let listeners = live_listeners();
        let others = peer_connections().await - 1;
        let log = Log::default();
        let owner = Owner::new();
        let ws = owner.with(|| use_websocket_with_options(url("/echo"), logging(&log)));
        assert_eq!(state(&ws), State::Connecting);
        until("open", || state(&ws) == State::Open).await;
        assert_eq!(*log.borrow(), ["open"]);
        assert!(live_listeners() > listeners);

        ws.send("hello").expect("send while open");
        until("the echo", || ws.message.get_untracked().is_some()).await;
        assert_eq!(ws.message.get_untracked(), Some(Message::from("hello")));
        assert_eq!(log.borrow()[1], "message Text(\"hello\")");

        owner.cleanup();
        assert_eq!(live_listeners(), listeners, "released at once");
        assert_eq!(ws.send("late"), Err(Error::NotOpen(State::Closed)));
        wait_peer_connections_at_most(others).await;
        TimeoutFuture::new(100).await;
        assert_eq!(
            log.borrow().len(),
            2,
            "no callback after cleanup: {:?}",
            log.borrow()
        );
    })
    .await;
}

#[wasm_bindgen_test]
async fn cleanup_while_connecting() {
    bounded(async {
        let listeners = live_listeners();
        let log = Log::default();
        let owner = Owner::new();
        let ws = owner.with(|| use_websocket_with_options(url("/echo"), logging(&log)));
        assert_eq!(state(&ws), State::Connecting);
        owner.cleanup();
        assert_eq!(live_listeners(), listeners);
        TimeoutFuture::new(300).await;
        assert!(log.borrow().is_empty(), "{:?}", log.borrow());
        assert_eq!(live_listeners(), listeners);
    })
    .await;
}

#[wasm_bindgen_test]
async fn manual_open_replace_and_close() {
    bounded(async {
        let listeners = live_listeners();
        let log = Log::default();
        let owner = Owner::new();
        let ws =
            owner.with(|| use_websocket_with_options(url("/echo"), logging(&log).immediate(false)));
        assert_eq!(state(&ws), State::Closed);
        assert_eq!(ws.send("early"), Err(Error::NotOpen(State::Closed)));
        assert_eq!(live_listeners(), listeners);

        ws.open();
        until("open", || state(&ws) == State::Open).await;
        // Opening again replaces the connection, without callbacks for the old one.
        ws.open();
        assert_eq!(state(&ws), State::Connecting);
        until("open again", || state(&ws) == State::Open).await;
        assert_eq!(*log.borrow(), ["open", "open"]);

        let long = "x".repeat(124);
        assert_eq!(
            ws.close_with(CloseCode::NORMAL, &long),
            Err(Error::ReasonTooLong { len: 124 })
        );
        assert_eq!(state(&ws), State::Open);

        ws.close();
        assert_eq!(state(&ws), State::Closing);
        until("closed", || state(&ws) == State::Closed).await;
        until("on_close", || count(&log, "close") == 1).await;
        assert_eq!(log.borrow()[2], "close 1000 true");
        assert!(matches!(ws.send("after"), Err(Error::NotOpen(_))));
        assert_eq!(
            live_listeners(),
            listeners,
            "a closed connection holds nothing"
        );
        assert!(ws.take_unsent().is_empty());
        owner.cleanup();
        assert_eq!(live_listeners(), listeners);
    })
    .await;
}

#[wasm_bindgen_test]
async fn gives_up_after_the_reconnect_limit() {
    bounded(async {
        let listeners = live_listeners();
        let log = Log::default();
        let owner = Owner::new();
        let ws = owner.with(|| {
            use_websocket_with_options(
                url("/refuse"),
                logging(&log)
                    .reconnect_limit(Some(1))
                    .reconnect_interval(Duration::from_millis(20)),
            )
        });
        until("gave up", || state(&ws) == State::Closed).await;
        TimeoutFuture::new(100).await;
        assert_eq!(
            count(&log, "error connection failed"),
            2,
            "{:?}",
            log.borrow()
        );
        assert_eq!(log.borrow().len(), 2, "{:?}", log.borrow());
        assert_eq!(live_listeners(), listeners);
        owner.cleanup();
    })
    .await;
}

#[wasm_bindgen_test]
async fn reconnects_after_a_dropped_connection() {
    bounded(async {
        let listeners = live_listeners();
        let log = Log::default();
        let owner = Owner::new();
        let ws = owner.with(|| {
            use_websocket_with_options(
                url("/drop?delay_ms=200"),
                logging(&log).reconnect_interval(Duration::from_millis(20)),
            )
        });
        until("a reconnect", || count(&log, "open") >= 2).await;
        assert_ne!(state(&ws), State::Closed, "it goes on reconnecting");
        let first_close = log.borrow().iter().position(|l| l.starts_with("close"));
        assert_eq!(
            first_close.map(|i| log.borrow()[i].clone()),
            Some("close 1006 false".to_string()),
            "{:?}",
            log.borrow()
        );
        owner.cleanup();
        assert_eq!(live_listeners(), listeners);
    })
    .await;
}
