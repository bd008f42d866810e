//! Opening connections, in a real browser against the test peer:
//! - `connect` resolves once open; `url`, `protocol`, `extensions`, `state`, `buffered_amount`
//! - http(s) and relative URLs resolve like the browser resolves them
//! - subprotocol negotiation, a protocol the server does not select, and a server that
//!   selects one that was not offered
//! - every class of invalid URL (bad scheme, fragment, unparsable) -> `InvalidUrl` with the
//!   URL as given; invalid and duplicate (also case-insensitive) protocols -> `InvalidProtocol`
//! - refused port, refused handshake and unknown route -> `ConnectFailed` (1006, not clean)
//! - connect timeout, and dropping a pending `connect` releases everything
//! - `WebSocket::new` starts in `Connecting`; its sink waits for the open
//! - 100 sockets at once
//! - the suite runs on a page, or in a dedicated worker with `--cfg wasm_ws_worker`
//! - natively (same tests under tokio): relative URLs are `InvalidUrl`, a refused
//!   handshake's reason is "HTTP 403 Forbidden", `header` validates names and values;
//!   in browsers `header` is `Unsupported`

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::*;
use wasm_websocket::{live_listeners, CloseCode, Error, Message, State, WebSocket};

// The same suite runs on the page and, with `--cfg wasm_ws_worker`, in a dedicated worker.
#[cfg(all(target_arch = "wasm32", not(wasm_ws_worker)))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test]
fn suite_runs_where_configured() {
    assert_eq!(in_worker(), cfg!(wasm_ws_worker));
}

#[async_test]
async fn connect_resolves_open_with_details() {
    bounded(async {
        let ws = connect("/echo").await;
        assert_eq!(ws.state(), State::Open);
        assert_eq!(ws.url(), url("/echo"));
        assert_eq!(ws.protocol(), "");
        assert_eq!(ws.extensions(), "");
        assert_eq!(ws.buffered_amount(), 0);
        let handle = ws.handle();
        assert_eq!(handle.url(), ws.url());
        assert_eq!(handle.state(), State::Open);
        assert_eq!(handle.protocol(), "");
        assert_eq!(handle.extensions(), "");
    })
    .await;
}

#[async_test]
async fn http_url_maps_to_ws() {
    bounded(async {
        let mut ws = WebSocket::connect(format!("http://{PEER}/echo?x=1"))
            .await
            .unwrap();
        assert_eq!(ws.url(), format!("ws://{PEER}/echo?x=1"));
        ws.send("via http".into()).await.unwrap();
        assert_eq!(next_message(&mut ws).await, Message::from("via http"));
    })
    .await;
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test]
async fn relative_url_resolves_against_the_page() {
    bounded(async {
        let ws = WebSocket::new("/some/path?q=1").unwrap();
        assert_eq!(ws.url(), format!("ws://{}/some/path?q=1", location_host()));
        assert_eq!(ws.state(), State::Connecting);
    })
    .await;
}

/// Natively there is no page to resolve against.
#[cfg(not(target_arch = "wasm32"))]
#[async_test]
async fn relative_url_is_invalid_natively() {
    bounded(async {
        expect_invalid_url("/some/path?q=1").await;
        expect_invalid_url("some/path").await;
    })
    .await;
}

/// Browsers let pages set no request headers.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen_test]
async fn request_headers_are_unsupported_in_browsers() {
    bounded(async {
        let result = WebSocket::builder(url("/echo"))
            .header("Authorization", "Bearer x")
            .connect()
            .await;
        assert!(
            matches!(result, Err(Error::Unsupported { .. })),
            "{result:?}"
        );
    })
    .await;
}

#[cfg(not(target_arch = "wasm32"))]
#[async_test]
async fn invalid_or_reserved_headers_are_refused_natively() {
    bounded(async {
        for (name, value) in [
            ("Bad Name", "x"),
            ("X-Ok", "line\r\nbreak"),
            ("Sec-WebSocket-Protocol", "chat"),
            ("host", "example.org"),
        ] {
            match WebSocket::builder(url("/echo"))
                .header(name, value)
                .connect()
                .await
            {
                Err(Error::InvalidHeader { name: given, .. }) => assert_eq!(given, name),
                other => panic!("{name}: expected InvalidHeader, got {other:?}"),
            }
        }
        // A valid one connects (the wss suite checks that it is sent).
        let ws = WebSocket::builder(url("/echo"))
            .header("Authorization", "Bearer abc")
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.state(), State::Open);
    })
    .await;
}

#[async_test]
async fn server_selects_first_offered_protocol() {
    bounded(async {
        let ws = WebSocket::builder(url("/protocol"))
            .protocols(["chat.v2", "chat.v1"])
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.protocol(), "chat.v2");
        assert_eq!(ws.handle().protocol(), "chat.v2");
    })
    .await;
}

#[async_test]
async fn single_protocol_is_offered() {
    bounded(async {
        let ws = WebSocket::builder(url("/protocol"))
            .protocols(vec![String::from("only")])
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.protocol(), "only");
    })
    .await;
}

/// Engines differ here and no wrapper can hide it: Chromium fails the handshake when the
/// server selects none of the offered subprotocols; Firefox opens with `protocol() == ""`.
#[async_test]
async fn server_selecting_no_protocol() {
    bounded(async {
        let result = WebSocket::builder(url("/echo"))
            .protocols(["chat"])
            .connect()
            .await;
        if is_chromium() {
            match result {
                Err(Error::ConnectFailed(event)) => assert_eq!(event.code, 1006),
                other => panic!("Chromium: expected ConnectFailed, got {other:?}"),
            }
        } else {
            let mut ws = result.unwrap();
            assert_eq!(ws.protocol(), "");
            ws.send("still works".into()).await.unwrap();
            assert_eq!(next_message(&mut ws).await, Message::from("still works"));
        }
    })
    .await;
}

#[async_test]
async fn server_selecting_unoffered_protocol_fails_connection() {
    bounded(async {
        let result = WebSocket::builder(url("/protocol?pick=other"))
            .protocols(["chat"])
            .connect()
            .await;
        match result {
            Err(Error::ConnectFailed(event)) => {
                assert_eq!(event.code, 1006);
                assert!(!event.was_clean);
            }
            other => panic!("expected ConnectFailed, got {other:?}"),
        }
    })
    .await;
}

async fn expect_invalid_url(given: &str) {
    let before = live_listeners();
    match WebSocket::connect(given).await {
        Err(Error::InvalidUrl { url, message }) => {
            assert_eq!(url, given);
            assert!(!message.is_empty());
        }
        other => panic!("expected InvalidUrl for {given:?}, got {other:?}"),
    }
    assert_eq!(live_listeners(), before);
}

#[async_test]
async fn invalid_url_bad_scheme() {
    bounded(async {
        expect_invalid_url(&format!("ftp://{PEER}/echo")).await;
        expect_invalid_url("file:///etc/passwd").await;
        expect_invalid_url("javascript:alert(1)").await;
        expect_invalid_url("data:text/plain,hi").await;
    })
    .await;
}

#[async_test]
async fn invalid_url_with_fragment() {
    bounded(async {
        expect_invalid_url(&format!("ws://{PEER}/echo#fragment")).await;
        expect_invalid_url(&format!("ws://{PEER}/echo#")).await;
    })
    .await;
}

#[async_test]
async fn invalid_url_unparsable() {
    bounded(async {
        expect_invalid_url("ws://[::1").await;
        expect_invalid_url("ws://127.0.0.1:99999/").await;
        expect_invalid_url("ws://").await;
    })
    .await;
}

#[async_test]
async fn invalid_url_through_new_and_builder() {
    bounded(async {
        assert!(matches!(
            WebSocket::new("wss://x/#f"),
            Err(Error::InvalidUrl { url, .. }) if url == "wss://x/#f"
        ));
        assert!(matches!(
            WebSocket::builder("gopher://x").build(),
            Err(Error::InvalidUrl { .. })
        ));
    })
    .await;
}

async fn expect_invalid_protocol(list: &[&str], offender: &str) {
    let before = live_listeners();
    let result = WebSocket::builder(url("/protocol"))
        .protocols(list.iter().copied())
        .connect()
        .await;
    match result {
        Err(Error::InvalidProtocol { protocol, message }) => {
            assert_eq!(protocol, offender, "for {list:?}");
            assert!(!message.is_empty());
        }
        other => panic!("expected InvalidProtocol for {list:?}, got {other:?}"),
    }
    assert_eq!(live_listeners(), before);
}

#[async_test]
async fn invalid_protocol_tokens() {
    bounded(async {
        expect_invalid_protocol(&[""], "").await;
        expect_invalid_protocol(&["ok", "has space"], "has space").await;
        expect_invalid_protocol(&["a,b"], "a,b").await;
        expect_invalid_protocol(&["semi;colon"], "semi;colon").await;
        expect_invalid_protocol(&["ümlaut"], "ümlaut").await;
        expect_invalid_protocol(&["tab\t"], "tab\t").await;
        expect_invalid_protocol(&["{brace}"], "{brace}").await;
    })
    .await;
}

#[async_test]
async fn duplicate_protocols_rejected() {
    bounded(async {
        expect_invalid_protocol(&["chat", "chat"], "chat").await;
        expect_invalid_protocol(&["x", "chat", "CHAT"], "CHAT").await;
        expect_invalid_protocol(&["Chat.V1", "chat.v1"], "chat.v1").await;
    })
    .await;
}

#[async_test]
async fn protocol_validated_before_url() {
    bounded(async {
        let result = WebSocket::builder("ftp://nowhere")
            .protocols(["bad token"])
            .build();
        assert!(matches!(result, Err(Error::InvalidProtocol { .. })));
    })
    .await;
}

fn assert_failed_1006(result: Result<WebSocket, Error>) {
    match result {
        Err(Error::ConnectFailed(event)) => {
            assert_eq!(event.code, 1006);
            assert!(!event.was_clean);
        }
        other => panic!("expected ConnectFailed(1006), got {other:?}"),
    }
}

#[async_test]
async fn refused_port_fails_with_1006() {
    bounded(async {
        let before = live_listeners();
        assert_failed_1006(WebSocket::connect("ws://127.0.0.1:1/").await);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn refused_handshake_fails_with_1006() {
    bounded(async {
        let result = WebSocket::connect(url("/refuse")).await;
        // Natively the reason says what happened; browsers say nothing.
        if let (true, Err(Error::ConnectFailed(event))) = (NATIVE, &result) {
            assert_eq!(event.reason, "HTTP 403 Forbidden");
        }
        assert_failed_1006(result);
    })
    .await;
}

#[async_test]
async fn unknown_route_fails_with_1006() {
    bounded(async {
        assert_failed_1006(WebSocket::connect(url("/no-such-route")).await);
    })
    .await;
}

#[async_test]
async fn connect_timeout_fires_and_releases() {
    bounded(async {
        let before = live_listeners();
        let result = WebSocket::builder(url("/hang"))
            .connect_timeout(std::time::Duration::from_millis(300))
            .connect()
            .await;
        assert_eq!(result.unwrap_err(), Error::Timeout);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn connect_timeout_not_reached() {
    bounded(async {
        let mut ws = WebSocket::builder(url("/echo"))
            .connect_timeout(std::time::Duration::from_secs(10))
            .connect()
            .await
            .unwrap();
        ws.send("ok".into()).await.unwrap();
        assert_eq!(next_message(&mut ws).await, Message::from("ok"));
    })
    .await;
}

#[async_test]
async fn dropping_pending_connect_releases_everything() {
    bounded(async {
        let before = live_listeners();
        let mut pending = Box::pin(WebSocket::connect(url("/hang")));
        assert!(futures::poll!(pending.as_mut()).is_pending());
        assert!(live_listeners() > before);
        drop(pending);
        assert_eq!(live_listeners(), before);
    })
    .await;
}

#[async_test]
async fn new_socket_starts_connecting_and_sink_waits_for_open() {
    bounded(async {
        let mut ws = WebSocket::new(url("/echo")).unwrap();
        assert_eq!(ws.state(), State::Connecting);
        ws.send("sent while connecting".into()).await.unwrap();
        assert_eq!(ws.state(), State::Open);
        assert_eq!(
            next_message(&mut ws).await,
            Message::from("sent while connecting")
        );
    })
    .await;
}

#[async_test]
async fn never_opened_socket_stream_ends_with_connect_failed() {
    bounded(async {
        let mut ws = WebSocket::new(url("/refuse")).unwrap();
        match ws.next().await {
            Some(Err(Error::ConnectFailed(event))) => assert_eq!(event.code, 1006),
            other => panic!("expected ConnectFailed, got {other:?}"),
        }
        assert!(ws.next().await.is_none());
        // The sink reports the closed state instead of waiting forever.
        assert_eq!(
            ws.send("x".into()).await,
            Err(Error::NotOpen(State::Closed))
        );
    })
    .await;
}

#[async_test]
async fn close_while_connecting() {
    bounded(async {
        let ws = WebSocket::new(url("/hang")).unwrap();
        assert_eq!(ws.state(), State::Connecting);
        let closing = ws.close(CloseCode::NORMAL, "never mind");
        assert_ne!(ws.state(), State::Connecting);
        let event = closing.await.unwrap();
        assert_eq!(event.code, 1006);
        assert!(!event.was_clean);
        assert_eq!(ws.state(), State::Closed);
    })
    .await;
}

#[async_test]
async fn hundred_sockets_at_once() {
    within(60, async {
        let before = live_listeners();
        let sockets =
            futures::future::join_all((0..100).map(|_| WebSocket::connect(url("/echo")))).await;
        let mut sockets: Vec<WebSocket> = sockets.into_iter().map(Result::unwrap).collect();
        futures::future::join_all(sockets.iter_mut().enumerate().map(|(i, ws)| async move {
            ws.send(Message::from(format!("socket {i}"))).await.unwrap();
            assert_eq!(next_message(ws).await, Message::Text(format!("socket {i}")));
            // On a `&mut WebSocket`, method syntax would pick `SinkExt::close`.
            let event = WebSocket::close(ws, CloseCode::NORMAL, "").await.unwrap();
            assert!(event.was_clean);
        }))
        .await;
        assert!(sockets.iter().all(|ws| ws.state() == State::Closed));
        drop(sockets);
        assert_eq!(live_listeners(), before);
    })
    .await;
}
