//! What only native targets have, against the test peer under tokio:
//! - the public types and futures are `Send` (static assertions), and a socket's halves
//!   work from tasks on a multi-threaded runtime
//! - `wss://` through a TLS-terminating proxy with a self-signed certificate (rcgen, made
//!   here) trusted through `Builder::add_root_certificate`; `https://` maps to `wss://`;
//!   `Builder::header` reaches the server; an untrusted certificate is `ConnectFailed`
//! - heartbeat Ping frames: a server that answers pings but never sends keeps an idle
//!   timeout from firing
//! - dropping a socket closes it and ends its task (the peer sees the connection go); a
//!   runtime shut down under a socket closes it with 1006 rather than leaving waiters
//! - hostile URLs (random bytes and characters, odd hosts, ports, schemes) never panic:
//!   each is `InvalidUrl` with the URL as given, or a socket that fails or opens
//! - `Backend::Stream` is `Unsupported`, `BinaryType::Blob` changes nothing, and a socket
//!   created outside a tokio runtime is `Unsupported` rather than a panic
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use wasm_websocket::{
    live_listeners, Backend, BinaryType, CloseCode, CloseFuture, ClosedFuture, ConnectFuture,
    ConnectTarget, Error, Handle, Message, ReconnectCloseFuture, ReconnectEvent, ReconnectEvents,
    ReconnectHandle, ReconnectPolicy, ReconnectingWebSocket, State, WebSocket,
};

fn assert_send<T: Send>() {}

#[test]
fn public_types_are_send() {
    assert_send::<WebSocket>();
    assert_send::<Handle>();
    assert_send::<ConnectFuture>();
    assert_send::<CloseFuture>();
    assert_send::<ClosedFuture>();
    assert_send::<futures::stream::SplitSink<WebSocket, Message>>();
    assert_send::<futures::stream::SplitStream<WebSocket>>();
    assert_send::<wasm_websocket::Builder>();
    assert_send::<Error>();
    #[cfg(feature = "io")]
    assert_send::<wasm_websocket::ByteStream>();
    assert_send::<ReconnectingWebSocket>();
    assert_send::<ReconnectHandle>();
    assert_send::<ReconnectEvents>();
    assert_send::<ReconnectCloseFuture>();
    assert_send::<ReconnectPolicy>();
    assert_send::<futures::stream::SplitSink<ReconnectingWebSocket, Message>>();
    assert_send::<futures::stream::SplitStream<ReconnectingWebSocket>>();
    // The futures of the Sink and Stream extension traits, too.
    fn send_future(ws: &mut WebSocket) -> impl Send + '_ {
        ws.send(Message::from("x"))
    }
    fn next_future(ws: &mut WebSocket) -> impl Send + '_ {
        ws.next()
    }
    let _ = (send_future, next_future);
}

/// A reconnecting socket's halves, handle and events on tasks of a multi-threaded
/// runtime, with a provider whose future is `Send` but holds no lock across its await.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_socket_works_from_tasks_on_a_multi_thread_runtime() {
    bounded(async {
        let attempts = Arc::new(Mutex::new(Vec::new()));
        let seen = attempts.clone();
        let ws = WebSocket::builder(url("/refuse"))
            .reconnecting_with(
                ReconnectPolicy::new().backoff(
                    Duration::from_millis(1),
                    Duration::from_millis(5),
                    2.0,
                ),
                move |attempt| {
                    let seen = seen.clone();
                    async move {
                        tokio::task::yield_now().await;
                        seen.lock().unwrap().push(attempt);
                        // The first connection is dropped by the peer after echoing 3 messages.
                        let path = if attempt == 0 {
                            "/drop?after=3"
                        } else {
                            "/echo"
                        };
                        Ok::<_, Error>(ConnectTarget::new(url(path)))
                    }
                },
            )
            .unwrap();
        let handle = ws.handle();
        let mut events = ws.events();
        let (mut sink, mut stream) = ws.split();
        let sender = tokio::spawn(async move {
            for i in 0..200u32 {
                sink.send(Message::from(format!("m{i}"))).await.unwrap();
            }
            sink
        });
        let receiver = tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                match stream.next().await {
                    Some(Ok(Message::Text(text))) if text == "end" => return (stream, got),
                    Some(Ok(Message::Text(text))) => got.push(text),
                    other => panic!("{other:?}"),
                }
            }
        });
        let mut sink = sender.await.unwrap();
        // The second connection (the peer's plain echo) is up: what is sent now arrives.
        let mut connected = 0;
        while connected < 2 {
            match events.next().await {
                Some(ReconnectEvent::Connected { .. }) => connected += 1,
                Some(_) => {}
                None => panic!("the events ended"),
            }
        }
        sink.send(Message::from("end")).await.unwrap();
        let (stream, got) = receiver.await.unwrap();
        // Each message at most once and in order; the first connection's three echoes
        // came back (a reset may lose what it had handed on after them: the delivery
        // suite checks those rules exactly).
        let numbers: Vec<u32> = got.iter().map(|t| t[1..].parse().unwrap()).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        assert_eq!(numbers[..3], [0, 1, 2]);
        let closer = tokio::spawn(handle.close(CloseCode::NORMAL, "done"));
        assert!(closer.await.unwrap().unwrap().is_some());
        assert_eq!(attempts.lock().unwrap()[..2], [0, 1]);
        drop((sink, stream));
    })
    .await;
}

#[test]
fn a_reconnecting_socket_outside_a_runtime_is_unsupported() {
    let made = WebSocket::builder(url("/echo")).reconnecting(ReconnectPolicy::new());
    assert!(matches!(made, Err(Error::Unsupported { .. })), "{made:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_work_from_tasks_on_a_multi_thread_runtime() {
    bounded(async {
        let ws = connect("/echo").await;
        let handle = ws.handle();
        let (mut sink, mut stream) = ws.split();
        let sender = tokio::spawn(async move {
            for i in 0..500u32 {
                sink.feed(Message::from(format!("m{i}"))).await.unwrap();
            }
            sink.flush().await.unwrap();
            sink
        });
        let receiver = tokio::spawn(async move {
            for i in 0..500u32 {
                let message = stream.next().await.unwrap().unwrap();
                assert_eq!(message, Message::from(format!("m{i}")));
            }
            stream
        });
        let (sink, stream) = (sender.await.unwrap(), receiver.await.unwrap());
        let closed = tokio::spawn(handle.closed());
        let event = handle.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert!(event.was_clean);
        assert_eq!(closed.await.unwrap(), event);
        drop(sink.reunite(stream).unwrap());
    })
    .await;
}

/// A TLS-terminating proxy in front of the peer, with a fresh self-signed certificate for
/// `localhost` and 127.0.0.1; it keeps each request head it forwards.
struct TlsProxy {
    port: u16,
    certificate: Vec<u8>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn tls_proxy() -> TlsProxy {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let certificate = certified.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    #[allow(deprecated)] // ring, as the crate itself uses
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone().into()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                // The request head, kept for the test, then everything forwarded as is.
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let mut chunk = [0u8; 1024];
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let mut upstream = TcpStream::connect(PEER).await.unwrap();
                upstream.write_all(&head).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    TlsProxy {
        port,
        certificate,
        requests,
    }
}

#[tokio::test]
async fn wss_with_a_self_signed_certificate() {
    bounded(async {
        let proxy = tls_proxy().await;
        let mut ws = WebSocket::builder(format!("wss://localhost:{}/echo", proxy.port))
            .add_root_certificate(proxy.certificate.clone())
            .header("Authorization", "Bearer t0ken")
            .protocols(["chat"])
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.url(), format!("wss://localhost:{}/echo", proxy.port));
        ws.send("over tls".into()).await.unwrap();
        assert_eq!(next_message(&mut ws).await, Message::from("over tls"));
        let big = Message::Binary(pattern(3 << 20, 5));
        ws.send(big.clone()).await.unwrap();
        assert_eq!(next_message(&mut ws).await, big);
        let event = ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert_eq!((event.code, event.reason.as_str()), (1000, "done"));
        assert!(event.was_clean);
        let head = proxy.requests.lock().unwrap()[0].clone();
        assert!(head.starts_with("GET /echo HTTP/1.1\r\n"), "{head}");
        assert!(
            head.contains("\r\nAuthorization: Bearer t0ken\r\n"),
            "{head}"
        );
        assert!(
            head.contains("\r\nSec-WebSocket-Protocol: chat\r\n"),
            "{head}"
        );

        // An IP address in the URL, and https: mapped to wss:.
        let mut ws = WebSocket::builder(format!("https://127.0.0.1:{}/echo", proxy.port))
            .add_root_certificate(proxy.certificate.clone())
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.url(), format!("wss://127.0.0.1:{}/echo", proxy.port));
        ws.send("ip".into()).await.unwrap();
        assert_eq!(next_message(&mut ws).await, Message::from("ip"));
    })
    .await;
}

#[tokio::test]
async fn untrusted_certificate_fails_the_connection() {
    bounded(async {
        let proxy = tls_proxy().await;
        match WebSocket::connect(format!("wss://localhost:{}/echo", proxy.port)).await {
            Err(Error::ConnectFailed(event)) => {
                assert_eq!((event.code, event.was_clean), (1006, false));
                assert!(event.reason.starts_with("TLS"), "{}", event.reason);
            }
            other => panic!("expected ConnectFailed, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn heartbeat_pings_keep_a_silent_server_alive() {
    bounded(async {
        // `/silent` never sends a message but answers pings: the Pongs are activity.
        let mut ws = WebSocket::builder(url("/silent"))
            .heartbeat(Duration::from_millis(60), "hb")
            .idle_timeout(Duration::from_millis(300))
            .connect()
            .await
            .unwrap();
        assert!(finishes_within(1200, ws.next()).await.is_none());
        assert_eq!(ws.state(), State::Open);
        // Without a heartbeat the same server idles out.
        let mut quiet = WebSocket::builder(url("/silent"))
            .idle_timeout(Duration::from_millis(200))
            .connect()
            .await
            .unwrap();
        assert_eq!(quiet.next().await, Some(Err(Error::IdleTimeout)));
    })
    .await;
}

#[tokio::test]
async fn dropping_closes_the_connection_and_ends_its_task() {
    bounded(async {
        let before = live_listeners();
        let baseline = peer_connections().await - 1;
        let ws = connect("/echo").await;
        assert_eq!(live_listeners(), before + 1);
        drop(ws);
        assert_eq!(live_listeners(), before);
        wait_peer_connections_at_most(baseline).await;
    })
    .await;
}

#[test]
fn runtime_shutdown_closes_the_socket_with_1006() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ws = runtime.block_on(async { connect("/echo").await });
    let handle = ws.handle();
    drop(runtime);
    let event = futures::executor::block_on(handle.closed());
    assert_eq!((event.code, event.was_clean), (1006, false));
    assert_eq!(handle.state(), State::Closed);
    drop(ws);
}

#[tokio::test]
async fn stream_backend_is_unsupported_and_blob_changes_nothing() {
    bounded(async {
        let result = WebSocket::builder(url("/echo"))
            .backend(Backend::Stream)
            .connect()
            .await;
        assert!(
            matches!(result, Err(Error::Unsupported { .. })),
            "{result:?}"
        );
        let mut ws = WebSocket::builder(url("/echo"))
            .backend(Backend::Auto)
            .binary_type(BinaryType::Blob)
            .connect()
            .await
            .unwrap();
        assert_eq!(ws.binary_type(), BinaryType::Blob);
        ws.send(Message::from([1u8, 2, 3])).await.unwrap();
        assert_eq!(next_message(&mut ws).await, Message::from([1u8, 2, 3]));
    })
    .await;
}

#[test]
fn outside_a_runtime_is_unsupported() {
    assert!(matches!(
        WebSocket::new(url("/echo")),
        Err(Error::Unsupported { .. })
    ));
}

#[tokio::test]
async fn hostile_urls_never_panic() {
    bounded(async {
        let mut x = 0x9e37_79b9u32;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let alphabet: Vec<char> = "ws:/?#[]@!$&'()*+,;=%. \t\r\n\0\\\"<>`{}|^~-_1aZé🦀\u{7f}"
            .chars()
            .collect();
        let mut urls: Vec<String> = [
            "ws://[::1]:1/",
            "ws://[::1/",
            "ws://:80/",
            "ws://127.0.0.1:65536/",
            "ws://127.0.0.1:-1/",
            "ws://127.0.0.1:80:80/",
            "ws://user:pass@127.0.0.1:1/",
            "wss://",
            "ws:///path",
            "ws:",
            "",
            "//host/",
            "WS://127.0.0.1:1/",
            "ws://127.0.0.1:1/a b?c d",
            "ws://127.0.0.1:1/🦀?q=é",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for _ in 0..2000 {
            let len = next() % 24;
            let tail: String = (0..len)
                .map(|_| alphabet[next() as usize % alphabet.len()])
                .collect();
            // Hosts are IP addresses or invalid, so nothing waits for DNS.
            let prefix = [
                "ws://127.0.0.1:1/",
                "ws://127.0.0.1:1",
                "wss://[",
                "http://127.0.0.1:1",
                "",
            ][next() as usize % 5];
            urls.push(format!("{prefix}{tail}"));
        }
        for given in urls {
            match WebSocket::new(given.clone()) {
                Ok(ws) => drop(ws),
                Err(Error::InvalidUrl { url, .. }) => assert_eq!(url, given),
                Err(other) => panic!("{given:?}: {other:?}"),
            }
        }
    })
    .await;
}
