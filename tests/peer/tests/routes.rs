//! End-to-end tests: an in-process server on port 0, driven by a
//! tokio-tungstenite client (or raw TCP where the handshake must not happen).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use ws_peer::routes::{flood_message, interleave_messages, FloodKind};
use ws_peer::Options;

type Client = WebSocketStream<TcpStream>;

const STEP: Duration = Duration::from_secs(5);

async fn server() -> SocketAddr {
    ws_peer::spawn("127.0.0.1:0", Options::default())
        .await
        .unwrap()
}

async fn try_connect(
    addr: SocketAddr,
    path: &str,
    protocols: Option<&str>,
) -> Result<
    (
        Client,
        tokio_tungstenite::tungstenite::handshake::client::Response,
    ),
    WsError,
> {
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    if let Some(p) = protocols {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().unwrap());
    }
    let tcp = TcpStream::connect(addr).await.unwrap();
    tokio_tungstenite::client_async_with_config(req, tcp, Some(ws_peer::ws_config())).await
}

async fn connect(addr: SocketAddr, path: &str) -> Client {
    try_connect(addr, path, None).await.unwrap().0
}

async fn recv(ws: &mut Client) -> Message {
    tokio::time::timeout(STEP, ws.next())
        .await
        .expect("timed out waiting for a message")
        .expect("stream ended")
        .expect("read error")
}

/// Reads until the stream ends; returns the close frame seen (if any) and the
/// terminating error (if any), failing on any data message.
async fn expect_end(ws: &mut Client) -> (Option<Option<CloseFrame>>, Option<WsError>) {
    let mut close = None;
    loop {
        match tokio::time::timeout(STEP, ws.next()).await.expect("no end") {
            None => return (close, None),
            Some(Ok(Message::Close(f))) => close = Some(f),
            Some(Ok(m)) => panic!("unexpected message {m:?}"),
            Some(Err(WsError::ConnectionClosed)) => return (close, None),
            Some(Err(e)) => return (close, Some(e)),
        }
    }
}

fn frame(code: u16, reason: &str) -> Option<CloseFrame> {
    Some(CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    })
}

/// Sends `request` over raw TCP and returns everything received until the
/// server closes, or until `wait` passes.
async fn raw(addr: SocketAddr, request: &str, wait: Duration) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&out).into_owned()
}

fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn echo_preserves_types_and_close() {
    let addr = server().await;
    // Offered subprotocols are ignored (browsers accept that; tungstenite's
    // client would not, hence the raw handshake).
    let resp = raw(
        addr,
        &upgrade_request("/echo", "Sec-WebSocket-Protocol: a, b\r\n"),
        Duration::from_millis(300),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 101"), "{resp}");
    assert!(
        !resp.to_ascii_lowercase().contains("sec-websocket-protocol"),
        "/echo must not select a subprotocol: {resp}"
    );

    let mut ws = connect(addr, "/echo").await;
    let big = vec![0xA5u8; 20 << 20]; // above tungstenite's default 16 MiB frame limit
    let msgs = [
        Message::text("hello"),
        Message::binary(vec![1u8, 2, 3]),
        Message::text(""),
        Message::binary(Vec::new()),
        Message::text("🦀 ünïcode"),
        Message::binary(big),
    ];
    for m in &msgs {
        ws.send(m.clone()).await.unwrap();
    }
    for m in &msgs {
        assert_eq!(&recv(&mut ws).await, m);
    }
    ws.send(Message::Ping(vec![7u8].into())).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::Pong(vec![7u8].into()));

    ws.close(frame(4001, "bye")).await.unwrap();
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, Some(frame(4001, "bye")));
    assert!(err.is_none(), "{err:?}");
}

#[tokio::test]
async fn echo_burst_in_order() {
    let addr = server().await;
    let mut ws = connect(addr, "/echo").await;
    for i in 0..2000u32 {
        ws.feed(Message::binary(i.to_be_bytes().to_vec()))
            .await
            .unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..2000u32 {
        assert_eq!(recv(&mut ws).await.into_data().as_ref(), i.to_be_bytes());
    }
}

#[tokio::test]
async fn protocol_selects_first_offered() {
    let addr = server().await;
    let (mut ws, resp) = try_connect(addr, "/protocol", Some("chat.v2, chat.v1"))
        .await
        .unwrap();
    assert_eq!(resp.headers()["sec-websocket-protocol"], "chat.v2");
    ws.send(Message::text("x")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("x"));

    // Nothing offered: nothing selected.
    let (_ws, resp) = try_connect(addr, "/protocol", None).await.unwrap();
    assert!(resp.headers().get("sec-websocket-protocol").is_none());
}

#[tokio::test]
async fn protocol_pick_forces_unoffered_name() {
    let addr = server().await;
    let resp = raw(
        addr,
        &upgrade_request("/protocol?pick=zz%20top", "Sec-WebSocket-Protocol: a\r\n"),
        Duration::from_millis(300),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 101"), "{resp}");
    assert!(
        resp.to_ascii_lowercase()
            .contains("sec-websocket-protocol: zz top\r\n"),
        "{resp}"
    );
    // A conforming client rejects a protocol it did not offer.
    assert!(try_connect(addr, "/protocol?pick=other", Some("a"))
        .await
        .is_err());
}

#[tokio::test]
async fn close_with_code_and_reason() {
    let addr = server().await;
    let mut ws = connect(addr, "/close?code=4000&reason=bye%20now+x").await;
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, Some(frame(4000, "bye now+x")));
    assert!(err.is_none(), "{err:?}");

    let mut ws = connect(addr, "/close").await;
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "")));

    let mut ws = connect(addr, "/close?code=none").await;
    assert_eq!(expect_end(&mut ws).await.0, Some(None));
}

#[tokio::test]
async fn close_after_delay_echoes_meanwhile() {
    let addr = server().await;
    let start = Instant::now();
    let mut ws = connect(addr, "/close?code=1001&delay_ms=200").await;
    ws.send(Message::text("still there?")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("still there?"));
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1001, "")));
    assert!(start.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn drop_without_close_frame() {
    let addr = server().await;

    let mut ws = connect(addr, "/drop").await;
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, None, "no close frame expected");
    assert!(err.is_some(), "expected an abnormal end");

    let mut ws = connect(addr, "/drop?after=2").await;
    ws.send(Message::text("one")).await.unwrap();
    ws.send(Message::binary(vec![2u8])).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("one"));
    assert_eq!(recv(&mut ws).await, Message::binary(vec![2u8]));
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, None);
    assert!(err.is_some());

    let start = Instant::now();
    let mut ws = connect(addr, "/drop?delay_ms=150").await;
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, None);
    assert!(err.is_some());
    assert!(start.elapsed() >= Duration::from_millis(150));
}

async fn check_flood(addr: SocketAddr, kind: &str, fk: FloodKind, n: u64, size: usize) {
    let mut ws = connect(addr, &format!("/flood?n={n}&size={size}&kind={kind}")).await;
    for i in 0..n {
        let m = recv(&mut ws).await;
        assert_eq!(m, flood_message(fk, i, size), "{kind} message {i}");
    }
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "done")));
}

#[tokio::test]
async fn flood_formats() {
    let addr = server().await;
    // Independent check of the documented formats.
    let bin = flood_message(FloodKind::Binary, 0x0102_0304, 7);
    assert_eq!(bin, Message::binary(vec![1, 2, 3, 4, 8, 9, 10]));
    let txt = flood_message(FloodKind::Text, 3, 30);
    assert_eq!(txt, Message::text("00000003ijklmnopqrstuvwxyzabcd"));

    check_flood(addr, "binary", FloodKind::Binary, 300, 300).await;
    check_flood(addr, "text", FloodKind::Text, 50, 40).await;
    check_flood(addr, "mixed", FloodKind::Mixed, 51, 3).await;

    // Defaults: 10 binary messages of 16 bytes.
    let mut ws = connect(addr, "/flood").await;
    for i in 0..10u32 {
        let m = recv(&mut ws).await;
        assert!(m.is_binary());
        let d = m.into_data();
        assert_eq!(d.len(), 16);
        assert_eq!(d[..4], i.to_be_bytes());
    }
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "done")));
}

#[tokio::test]
async fn flood_many_and_close_none() {
    let addr = server().await;
    let start = Instant::now();
    let mut ws = connect(
        addr,
        "/flood?n=20000&size=8&kind=mixed&close=none&delay_ms=50",
    )
    .await;
    for i in 0..20000u64 {
        let m = recv(&mut ws).await;
        if i % 997 == 0 {
            assert_eq!(m, flood_message(FloodKind::Mixed, i, 8));
        }
    }
    // Behaves like /echo afterwards.
    ws.send(Message::text("after")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("after"));
    assert!(start.elapsed() < Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_messages() {
    let addr = server().await;
    let start = Instant::now();
    let mut ws = connect(addr, "/flood?n=100&size=1048576").await;
    for i in 0..100u32 {
        let d = recv(&mut ws).await.into_data();
        assert_eq!(d.len(), 1 << 20);
        assert_eq!(d[..4], i.to_be_bytes());
        assert_eq!(d[(1 << 20) - 1], ((i as usize + (1 << 20) - 1) % 256) as u8);
    }
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "done")));

    // A 64 MiB message is accepted and echoed.
    let mut ws = connect(addr, "/echo").await;
    let big: Vec<u8> = (0..64usize << 20).map(|j| (j % 251) as u8).collect();
    ws.send(Message::binary(big.clone())).await.unwrap();
    let back = tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(back.is_binary());
    assert!(back.into_data() == big);
    eprintln!("big_messages took {:?}", start.elapsed());
}

#[tokio::test]
async fn interleave_sequence() {
    let addr = server().await;
    let mut ws = connect(addr, "/interleave").await;
    let expected = interleave_messages();
    assert_eq!(expected.len(), 12);
    assert_eq!(expected[6], Message::text("🦀 t6"));
    assert_eq!(expected[10].len(), 1_048_576);
    for (i, m) in expected.iter().enumerate() {
        assert_eq!(&recv(&mut ws).await, m, "message {i}");
    }
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "done")));
}

#[tokio::test]
async fn refuse_is_403() {
    let addr = server().await;
    let resp = raw(addr, &upgrade_request("/refuse", ""), STEP).await;
    assert!(resp.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{resp}");
    assert!(resp.contains("Connection: close\r\n"), "{resp}");
    match try_connect(addr, "/refuse", None).await {
        Err(WsError::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("expected HTTP 403, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn unknown_ws_route_is_404() {
    let addr = server().await;
    let resp = raw(addr, &upgrade_request("/nope", ""), STEP).await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
    // Without --static a plain GET is 404 too, even for a WebSocket path.
    let resp = raw(addr, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", STEP).await;
    assert!(resp.starts_with("HTTP/1.1 404"), "{resp}");
}

#[tokio::test]
async fn hang_never_answers() {
    let addr = server().await;
    let resp = raw(
        addr,
        &upgrade_request("/hang", ""),
        Duration::from_millis(500),
    )
    .await;
    assert_eq!(resp, "");
}

#[tokio::test]
async fn noread_accepts_but_never_reads() {
    let addr = server().await;
    let mut ws = connect(addr, "/noread").await;
    ws.send(Message::text("ping?")).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(200), ws.next())
            .await
            .is_err(),
        "/noread must not answer"
    );
}

#[tokio::test]
async fn count_messages_and_bytes() {
    let addr = server().await;
    let mut ws = connect(addr, "/count").await;
    ws.send(Message::text("?count")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("count=0 bytes=0"));
    ws.send(Message::text("ab")).await.unwrap();
    ws.send(Message::binary(vec![0u8; 5])).await.unwrap();
    ws.send(Message::text("")).await.unwrap();
    ws.send(Message::text("?count")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("count=3 bytes=7"));
    ws.send(Message::text("?count")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("count=3 bytes=7"));
}

async fn stats(ws: &mut Client) -> (u64, u64) {
    ws.send(Message::text("get")).await.unwrap();
    let text = recv(ws).await.into_text().unwrap();
    let num = |key: &str| -> u64 {
        let at = text.find(&format!("\"{key}\": ")).unwrap() + key.len() + 4;
        text[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    };
    assert!(text.starts_with('{') && text.ends_with('}'), "{text}");
    (num("connections"), num("total"))
}

#[tokio::test]
async fn stats_counts_connections() {
    let addr = server().await;
    let mut st = connect(addr, "/stats").await;
    assert_eq!(stats(&mut st).await, (1, 1));
    let mut echo = connect(addr, "/echo").await;
    assert_eq!(stats(&mut st).await, (2, 2));
    echo.close(None).await.unwrap();
    let _ = expect_end(&mut echo).await;
    let deadline = Instant::now() + STEP;
    loop {
        let s = stats(&mut st).await;
        if s == (1, 2) {
            break;
        }
        assert!(Instant::now() < deadline, "stats stuck at {s:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Anything else is echoed.
    st.send(Message::binary(vec![1u8])).await.unwrap();
    assert_eq!(recv(&mut st).await, Message::binary(vec![1u8]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_concurrent_connections() {
    let addr = server().await;
    let tasks: Vec<_> = (0..300u32)
        .map(|i| {
            tokio::spawn(async move {
                let mut ws = connect(addr, "/echo").await;
                let m = Message::binary(i.to_le_bytes().to_vec());
                ws.send(m.clone()).await.unwrap();
                assert_eq!(recv(&mut ws).await, m);
                ws
            })
        })
        .collect();
    let mut open = Vec::new();
    for t in tasks {
        open.push(t.await.unwrap());
    }
    // A broken client does not hurt the server.
    let _ = raw(addr, "garbage\r\n\r\n", Duration::from_millis(200)).await;
    drop(TcpStream::connect(addr).await.unwrap());
    let mut ws = connect(addr, "/echo").await;
    ws.send(Message::text("still fine")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("still fine"));
    drop(open);
}

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ws-peer-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("www/pkg")).unwrap();
    dir
}

#[tokio::test]
async fn static_files() {
    let dir = temp_dir();
    let www = dir.join("www");
    std::fs::write(www.join("index.html"), "<p>hi</p>").unwrap();
    std::fs::write(www.join("pkg/app.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(www.join("pkg/app.js"), "export {}").unwrap();
    std::fs::write(dir.join("secret.txt"), "secret").unwrap();
    let addr = ws_peer::spawn(
        "127.0.0.1:0",
        Options {
            static_dir: Some(www.clone()),
        },
    )
    .await
    .unwrap();
    let get = |path: &str| {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        async move { raw(addr, &req, STEP).await }
    };

    let r = get("/").await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(
        r.contains("Content-Type: text/html; charset=utf-8\r\n"),
        "{r}"
    );
    assert!(r.contains("Cache-Control: no-store\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\n<p>hi</p>"), "{r}");

    let r = get("/pkg/app.wasm").await;
    assert!(r.contains("Content-Type: application/wasm\r\n"), "{r}");
    assert!(r.contains("Content-Length: 8\r\n"), "{r}");
    let r = get("/pkg/app.js?v=1").await;
    assert!(r.contains("Content-Type: text/javascript"), "{r}");

    for bad in [
        "/missing.js",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/pkg/../../secret.txt",
    ] {
        let r = get(bad).await;
        assert!(r.starts_with("HTTP/1.1 404"), "{bad}: {r}");
        assert!(!r.contains("secret"), "{bad}: {r}");
    }

    // WebSocket routes still work next to static files.
    let mut ws = connect(addr, "/echo").await;
    ws.send(Message::text("x")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("x"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A peer serving `dir/www` (as made by [`temp_dir`]) with `files` written into it.
async fn static_peer(dir: &Path, files: &[(&str, &str)]) -> SocketAddr {
    let www = dir.join("www");
    for (name, body) in files {
        std::fs::write(www.join(name), body).unwrap();
    }
    let opts = Options {
        static_dir: Some(www),
    };
    ws_peer::spawn("127.0.0.1:0", opts).await.unwrap()
}

#[tokio::test]
async fn static_types_directories_and_methods() {
    let dir = temp_dir();
    let files = [
        ("pkg/index.html", "<p>pkg</p>"),
        ("s.css", "p{}"),
        ("d.json", "{}"),
        ("i.png", "png"),
        ("i.svg", "<svg/>"),
        ("a.txt", "abc"),
    ];
    let addr = static_peer(&dir, &files).await;
    let send = |request: String| async move { raw(addr, &request, STEP).await };
    let get = |path: &str| send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));

    for (path, ty) in [
        ("/s.css", "text/css; charset=utf-8"),
        ("/d.json", "application/json"),
        ("/i.png", "image/png"),
        ("/i.svg", "image/svg+xml"),
        ("/a.txt", "text/plain; charset=utf-8"),
    ] {
        let r = get(path).await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {r}");
        assert!(
            r.contains(&format!("Content-Type: {ty}\r\n")),
            "{path}: {r}"
        );
        assert!(r.contains("Cache-Control: no-store\r\n"), "{path}: {r}");
        assert!(r.contains("Connection: close\r\n"), "{path}: {r}");
    }
    // A directory is its index.html, with or without the slash (no redirect).
    for path in ["/pkg/", "/pkg"] {
        let r = get(path).await;
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{path}: {r}");
        assert!(r.ends_with("\r\n\r\n<p>pkg</p>"), "{path}: {r}");
    }
    // HEAD: the headers of a GET, no body.
    let r = send("HEAD /d.json HTTP/1.1\r\nHost: x\r\n\r\n".into()).await;
    assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
    assert!(r.contains("Content-Length: 2\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\n"), "{r}");
    // Byte ranges.
    let r = send("GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=1-1\r\n\r\n".into()).await;
    assert!(r.starts_with("HTTP/1.1 206 Partial Content\r\n"), "{r}");
    assert!(r.ends_with("\r\n\r\nb"), "{r}");
    // Other methods are refused, missing files are 404; neither is cached.
    let r = send("POST /d.json HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".into()).await;
    assert!(r.starts_with("HTTP/1.1 405"), "{r}");
    assert!(r.contains("Allow: GET, HEAD\r\n"), "{r}");
    let r = get("/pkg/missing.css").await;
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    assert!(r.contains("Cache-Control: no-store\r\n"), "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[tokio::test]
async fn static_symlinks_stay_inside_the_root() {
    use std::os::unix::fs::symlink;

    let dir = temp_dir();
    std::fs::write(dir.join("secret.txt"), "secret").unwrap();
    symlink(dir.join("secret.txt"), dir.join("www/out.txt")).unwrap();
    symlink(dir.join("www/a.txt"), dir.join("www/in.txt")).unwrap();
    let addr = static_peer(&dir, &[("a.txt", "inside")]).await;

    let r = raw(addr, "GET /in.txt HTTP/1.1\r\nHost: x\r\n\r\n", STEP).await;
    assert!(r.ends_with("\r\n\r\ninside"), "{r}");
    let r = raw(addr, "GET /out.txt HTTP/1.1\r\nHost: x\r\n\r\n", STEP).await;
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    assert!(!r.contains("secret"), "{r}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binary_prints_address_and_exits_on_stdin_eof() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_ws-peer"))
        .args(["--addr", "127.0.0.1:0", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("bad first line {line:?}"))
        .parse()
        .unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut ws = connect(addr, "/echo").await;
        ws.send(Message::text("cli")).await.unwrap();
        assert_eq!(recv(&mut ws).await, Message::text("cli"));
    });

    drop(child.stdin.take());
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ws-peer did not exit on stdin EOF");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

async fn report(addr: SocketAddr, key: &str) -> String {
    let mut ws = connect(addr, &format!("/report?key={key}")).await;
    let Message::Text(json) = recv(&mut ws).await else {
        panic!("report is not text");
    };
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "done")));
    json.as_str().to_string()
}

#[tokio::test]
async fn record_and_report() {
    let addr = server().await;
    assert_eq!(report(addr, "rec").await, "[]");

    let mut ws = connect(addr, "/record?key=rec").await;
    ws.send(Message::text("a \"quoted\"\n")).await.unwrap();
    ws.send(Message::binary((0u8..20).collect::<Vec<u8>>()))
        .await
        .unwrap();
    ws.send(Message::binary(vec![0xab])).await.unwrap();
    ws.close(None).await.unwrap();
    let (close, err) = expect_end(&mut ws).await;
    assert!(err.is_none(), "{err:?}");
    assert!(close.is_some());

    // drop_every=2: the connection is reset after its 2nd message; the 3rd
    // is never recorded.
    let mut ws = connect(addr, "/record?key=rec&drop_every=2").await;
    for m in ["1", "2", "3"] {
        let _ = ws.send(Message::text(m)).await;
    }
    let (close, _) = expect_end(&mut ws).await;
    assert_eq!(close, None, "an abrupt drop sends no close frame");

    // A connection with no message is recorded as an empty list.
    let mut ws = connect(addr, "/record?key=rec").await;
    ws.close(None).await.unwrap();
    expect_end(&mut ws).await;

    assert_eq!(
        report(addr, "rec").await,
        r#"[["a \"quoted\"\n",{"len":20,"head":"000102030405060708090a0b0c0d0e0f"},{"len":1,"head":"ab"}],["1","2"],[]]"#
    );
    // Keys are independent.
    assert_eq!(report(addr, "other").await, "[]");
}

#[tokio::test]
async fn record_drops_after_every_n() {
    let addr = server().await;
    for round in 0..3 {
        let mut ws = connect(addr, "/record?key=every&drop_every=3").await;
        for i in 0..3 {
            ws.send(Message::text(format!("{round}.{i}")))
                .await
                .unwrap();
        }
        let (close, err) = expect_end(&mut ws).await;
        assert_eq!(close, None);
        assert!(err.is_some(), "expected an abnormal end");
    }
    let json = report(addr, "every").await;
    assert_eq!(
        json,
        r#"[["0.0","0.1","0.2"],["1.0","1.1","1.2"],["2.0","2.1","2.2"]]"#
    );

    // stall_ms: the drop comes that long after the last message.
    let start = Instant::now();
    let mut ws = connect(addr, "/record?key=stall&drop_every=1&stall_ms=300").await;
    ws.send(Message::text("s")).await.unwrap();
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, None);
    assert!(err.is_some());
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(report(addr, "stall").await, r#"[["s"]]"#);
}

#[tokio::test]
async fn record_closes_cleanly_after_every_n() {
    let addr = server().await;
    let mut ws = connect(addr, "/record?key=clean&close_every=2").await;
    // Everything sent before the client's close frame is recorded, also what
    // follows the server's close frame.
    for m in ["1", "2", "3", "4"] {
        ws.send(Message::text(m)).await.unwrap();
    }
    let (close, err) = expect_end(&mut ws).await;
    assert_eq!(close, Some(frame(4000, "again")));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(report(addr, "clean").await, r#"[["1","2","3","4"]]"#);
}

#[tokio::test]
async fn refuse_first_n_then_echo() {
    let addr = server().await;
    for _ in 0..2 {
        match try_connect(addr, "/refuse_first?key=r&n=2", None).await {
            Err(WsError::Http(r)) => assert_eq!(r.status(), 403),
            other => panic!("expected HTTP 403, got {:?}", other.map(|_| ())),
        }
    }
    // Another key has its own count (default n=1).
    assert!(try_connect(addr, "/refuse_first?key=s", None)
        .await
        .is_err());
    for _ in 0..2 {
        let mut ws = connect(addr, "/refuse_first?key=r&n=2").await;
        ws.send(Message::text("hi")).await.unwrap();
        assert_eq!(recv(&mut ws).await, Message::text("hi"));
    }
    assert!(try_connect(addr, "/refuse_first?key=s", None).await.is_ok());
}

#[tokio::test]
async fn silent_reads_but_never_sends() {
    let addr = server().await;
    let mut ws = connect(addr, "/silent").await;
    for i in 0..100 {
        ws.send(Message::text(format!("m{i}"))).await.unwrap();
    }
    assert!(
        tokio::time::timeout(Duration::from_millis(200), ws.next())
            .await
            .is_err(),
        "/silent must not answer"
    );
    ws.close(Some(CloseFrame {
        code: CloseCode::from(4001),
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(4001, "bye")));
}

async fn issue_token(addr: SocketAddr) -> String {
    let mut ws = connect(addr, "/token_issue").await;
    let Message::Text(token) = recv(&mut ws).await else {
        panic!("a token is text");
    };
    assert_eq!(expect_end(&mut ws).await.0, Some(frame(1000, "done")));
    token.as_str().to_string()
}

#[tokio::test]
async fn token_echo_accepts_each_issued_token_once() {
    let addr = server().await;
    let (first, second) = (issue_token(addr).await, issue_token(addr).await);
    assert_ne!(first, second);
    let mut ws = connect(addr, &format!("/token_echo?token={first}")).await;
    ws.send(Message::text("hi")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("hi"));
    ws.close(None).await.unwrap();
    expect_end(&mut ws).await;
    // Reused, unknown and missing tokens are refused before the handshake.
    for path in [
        format!("/token_echo?token={first}"),
        "/token_echo?token=forged".to_string(),
        "/token_echo".to_string(),
    ] {
        match try_connect(addr, &path, None).await {
            Err(WsError::Http(r)) => assert_eq!(r.status(), 403, "{path}"),
            other => panic!("{path}: expected HTTP 403, got {:?}", other.map(|_| ())),
        }
    }
    // drop_after: echoes that many, then ends without a close frame.
    let mut ws = connect(addr, &format!("/token_echo?token={second}&drop_after=1")).await;
    ws.send(Message::text("one")).await.unwrap();
    assert_eq!(recv(&mut ws).await, Message::text("one"));
    let (close, _) = expect_end(&mut ws).await;
    assert_eq!(close, None, "an abrupt drop sends no close frame");
}

#[tokio::test]
async fn chat_relays_to_everyone_in_the_room() {
    let addr = server().await;
    let mut a = connect(addr, "/chat?room=r1").await;
    // Its own message coming back shows that a member has joined.
    a.send(Message::text("a0")).await.unwrap();
    assert_eq!(recv(&mut a).await, Message::text("a0"));
    let mut b = connect(addr, "/chat?room=r1").await;
    b.send(Message::binary(vec![1, 2])).await.unwrap();
    assert_eq!(recv(&mut b).await, Message::binary(vec![1, 2]));
    assert_eq!(recv(&mut a).await, Message::binary(vec![1, 2]));
    // Another room hears nothing of r1, and r1 nothing of it: `c1` was relayed before
    // `a1` was sent, so a shared room would deliver it to `a` first.
    let mut c = connect(addr, "/chat?room=r2").await;
    c.send(Message::text("c1")).await.unwrap();
    assert_eq!(recv(&mut c).await, Message::text("c1"));
    a.send(Message::text("a1")).await.unwrap();
    assert_eq!(recv(&mut a).await, Message::text("a1"));
    assert_eq!(recv(&mut b).await, Message::text("a1"));
    // Leaving is a normal closing handshake; the others stay.
    b.close(None).await.unwrap();
    expect_end(&mut b).await;
    a.send(Message::text("a2")).await.unwrap();
    assert_eq!(recv(&mut a).await, Message::text("a2"));
    c.send(Message::text("c2")).await.unwrap();
    assert_eq!(recv(&mut c).await, Message::text("c2"));
}

#[tokio::test]
async fn chat_closes_a_member_that_falls_behind() {
    let addr = server().await;
    let mut slow = connect(addr, "/chat?room=lag").await;
    slow.send(Message::text("joined")).await.unwrap();
    assert_eq!(recv(&mut slow).await, Message::text("joined"));
    let (mut say, mut hear) = connect(addr, "/chat?room=lag").await.split();
    // The talker reads what it hears (its own messages), so only `slow` falls behind.
    let n = ws_peer::chat::BACKLOG * 3;
    let heard = tokio::spawn(async move {
        for _ in 0..n {
            hear.next().await.unwrap().unwrap();
        }
    });
    for i in 0..n {
        say.feed(Message::binary(vec![i as u8; 16 << 10]))
            .await
            .unwrap();
    }
    say.flush().await.unwrap();
    tokio::time::timeout(Duration::from_secs(30), heard)
        .await
        .expect("the talker heard itself")
        .unwrap();
    // `slow` reads what reached its socket before the peer found it behind, then the close.
    let mut received = 0;
    let close = loop {
        match recv(&mut slow).await {
            Message::Binary(_) => received += 1,
            Message::Close(frame) => break frame.expect("a close frame with a code"),
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(u16::from(close.code), ws_peer::chat::LAGGED);
    assert!(close.reason.starts_with("lagged: "), "{close:?}");
    assert!(
        received < n,
        "skipped messages are not delivered ({received} of {n})"
    );
}
