//! Issue 19's browser triggers of the reconnecting connection, in a real browser against
//! the test peer, with synthetic `online`/`offline`/`visibilitychange`/`pageshow` events
//! (dispatched as the browser would) and a blocked event loop for a machine that slept:
//! - `online` starts a waiting attempt at once instead of after its backoff
//! - while `offline`, failed attempts do not count toward the limit; back `online`, they
//!   count again and it gives up
//! - `visibilitychange` to visible and `pageshow` with `persisted` send the heartbeat at
//!   once on an open connection (windows only: a worker has neither event)
//! - a heartbeat timer that fires seconds late (the event loop was blocked, as when the
//!   machine sleeps) sends the heartbeat at the first tick, not after a quiet interval
//! - each trigger's listener exists only while it is on, and they all go with the socket
#![cfg(target_arch = "wasm32")]

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use wasm_websocket::{
    live_listeners, CloseCode, Message, ReconnectEvent, ReconnectEvents, ReconnectPolicy,
    ReconnectTriggers, ReconnectingWebSocket, WebSocket,
};

#[cfg(not(wasm_ws_worker))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn global() -> JsValue {
    js_sys::global().into()
}

/// The page's document; `None` in a worker.
fn document() -> Option<JsValue> {
    js_sys::Reflect::get(&global(), &"document".into())
        .ok()
        .filter(JsValue::is_object)
}

fn dispatch(target: &JsValue, event: &web_sys::Event) {
    target
        .unchecked_ref::<web_sys::EventTarget>()
        .dispatch_event(event)
        .expect("dispatchEvent");
}

fn dispatch_plain(target: &JsValue, kind: &str) {
    dispatch(target, &web_sys::Event::new(kind).expect("new Event"));
}

/// `new PageTransitionEvent("pageshow", { persisted: true })` on the window.
fn dispatch_restored_pageshow() {
    let init = js_sys::Object::new();
    js_sys::Reflect::set(&init, &"persisted".into(), &true.into()).unwrap();
    let class = js_sys::Reflect::get(&global(), &"PageTransitionEvent".into()).unwrap();
    let event = js_sys::Reflect::construct(
        class.unchecked_ref::<js_sys::Function>(),
        &js_sys::Array::of2(&"pageshow".into(), &init),
    )
    .expect("new PageTransitionEvent");
    dispatch(&global(), event.unchecked_ref());
}

async fn next_event(events: &mut ReconnectEvents) -> ReconnectEvent {
    within(10, events.next()).await.expect("the events ended")
}

/// Skips events until `pick` accepts one.
async fn wait_for<T>(
    events: &mut ReconnectEvents,
    mut pick: impl FnMut(&ReconnectEvent) -> Option<T>,
) -> T {
    loop {
        if let Some(found) = pick(&next_event(events).await) {
            return found;
        }
    }
}

async fn connected(events: &mut ReconnectEvents) {
    wait_for(events, |e| {
        matches!(e, ReconnectEvent::Connected { .. }).then_some(())
    })
    .await;
}

/// An echoing connection whose heartbeat ("hb") is due only after `interval` of quiet.
async fn echo_with_heartbeat(interval: Duration) -> (ReconnectingWebSocket, ReconnectEvents) {
    let ws = WebSocket::builder(url("/echo"))
        .heartbeat(interval, "hb")
        .reconnecting(ReconnectPolicy::new())
        .unwrap();
    let mut events = ws.events();
    connected(&mut events).await;
    (ws, events)
}

async fn next_text(ws: &mut ReconnectingWebSocket, secs: u32) -> String {
    match within(secs, ws.next()).await {
        Some(Ok(Message::Text(text))) => text,
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn online_starts_a_waiting_attempt_at_once() {
    bounded(async {
        // Every attempt is refused; each backoff is up to 20 s.
        let ws = WebSocket::builder(url("/refuse"))
            .reconnecting(ReconnectPolicy::new().backoff(ms(20_000), ms(20_000), 1.0))
            .unwrap();
        let mut events = ws.events();
        // A delay this long cannot have run out when the next attempt fails.
        let mut skipped_a_long_one = false;
        for _ in 0..20 {
            let delay = wait_for(&mut events, |e| match e {
                ReconnectEvent::Retrying { delay, .. } => Some(*delay),
                _ => None,
            })
            .await;
            let waiting_since = js_sys::Date::now();
            dispatch_plain(&global(), "online");
            wait_for(&mut events, |e| {
                matches!(e, ReconnectEvent::AttemptFailed(_)).then_some(())
            })
            .await;
            // (A short delay may have run out by itself: only a long one proves it.)
            if delay >= ms(3000) {
                let waited = js_sys::Date::now() - waiting_since;
                assert!(
                    waited < delay.as_millis() as f64,
                    "the attempt waited {waited} ms of its {delay:?}"
                );
                skipped_a_long_one = true;
                break;
            }
        }
        assert!(
            skipped_a_long_one,
            "no backoff of 3 s or more in 20 attempts"
        );
        drop(ws);
    })
    .await;
}

#[wasm_bindgen_test]
async fn offline_failures_do_not_use_up_the_limit() {
    bounded(async {
        let ws = WebSocket::builder(url("/refuse"))
            .reconnecting(
                ReconnectPolicy::new()
                    .backoff(ms(1), ms(10), 2.0)
                    .reconnect_limit(Some(1)),
            )
            .unwrap();
        let mut events = ws.events();
        // The first failure counts: one more may follow.
        assert_eq!(
            wait_for(&mut events, |e| match e {
                ReconnectEvent::Retrying { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .await,
            1
        );
        dispatch_plain(&global(), "offline");
        // Offline: attempts go on past the limit.
        for expected in 2..=6 {
            let event = wait_for(&mut events, |e| match e {
                ReconnectEvent::AttemptFailed(_) => None,
                other => Some(other.clone()),
            })
            .await;
            assert!(
                matches!(event, ReconnectEvent::Retrying { attempt, .. } if attempt == expected),
                "{event:?}"
            );
        }
        // Online again: the next failure is the second that counts, past the limit of 1.
        dispatch_plain(&global(), "online");
        let event = wait_for(&mut events, |e| match e {
            ReconnectEvent::AttemptFailed(_) => None,
            other => Some(other.clone()),
        })
        .await;
        assert_eq!(event, ReconnectEvent::GaveUp);
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_visible_page_sends_the_heartbeat_at_once() {
    let Some(document) = document() else {
        return; // A worker has no document.
    };
    bounded(async {
        let (mut ws, _events) = echo_with_heartbeat(ms(60_000)).await;
        dispatch_plain(&document, "visibilitychange");
        // Without the check the heartbeat would wait a minute of quiet.
        assert_eq!(next_text(&mut ws, 10).await, "hb");
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_page_restored_from_the_cache_sends_the_heartbeat_at_once() {
    if document().is_none() {
        return; // A worker has no pageshow.
    }
    bounded(async {
        let (mut ws, _events) = echo_with_heartbeat(ms(60_000)).await;
        dispatch_restored_pageshow();
        assert_eq!(next_text(&mut ws, 10).await, "hb");
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_late_timer_sends_the_heartbeat_at_the_first_tick() {
    within(60, async {
        // Ticks every 2 s; a quiet interval is four ticks.
        let (mut ws, _events) = echo_with_heartbeat(ms(8000)).await;
        // The event loop is blocked for 6 s, as when the machine sleeps: the next tick
        // comes more than twice its period and a second late.
        let blocked_until = js_sys::Date::now() + 6000.0;
        while js_sys::Date::now() < blocked_until {}
        let resumed = js_sys::Date::now();
        assert_eq!(next_text(&mut ws, 10).await, "hb");
        // At the first tick (within 2 s), not after three more ticks of quiet (6 s).
        let waited = js_sys::Date::now() - resumed;
        assert!(waited < 4500.0, "the heartbeat came {waited} ms after");
        ws.close(CloseCode::NORMAL, "").await.unwrap();
    })
    .await;
}

#[wasm_bindgen_test]
async fn each_trigger_listens_only_while_on_and_goes_with_the_socket() {
    bounded(async {
        let before = live_listeners();
        let mut counts = Vec::new();
        for triggers in [
            ReconnectTriggers::all(),
            ReconnectTriggers::none(),
            ReconnectTriggers::none().online(true),
            ReconnectTriggers::none().offline(true),
            ReconnectTriggers::none().visible(true).pageshow(true),
        ] {
            let ws = WebSocket::builder(url("/echo"))
                .reconnecting(ReconnectPolicy::new().triggers(triggers))
                .unwrap();
            let mut events = ws.events();
            connected(&mut events).await;
            counts.push(live_listeners() - before);
            drop(ws);
            assert!(events.next().await.is_none());
            assert_eq!(live_listeners(), before, "{triggers:?}");
        }
        let none = counts[1];
        // online + offline, visibilitychange + pageshow (a window only); `offline` needs
        // `online` too, to know when it is over.
        let window = if document().is_some() { 2 } else { 0 };
        assert_eq!(
            counts.iter().map(|n| n - none).collect::<Vec<_>>(),
            [2 + window, 0, 1, 2, window]
        );
    })
    .await;
}
