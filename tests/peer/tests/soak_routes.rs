//! The soak and fault routes, end to end with a tokio-tungstenite client:
//! - `/victim` starts a real `ws-peer` process, `kill` really stops it (SIGKILL: its
//!   connections end without a close frame and its port refuses connections), `respawn`
//!   serves the same port again, and closing the control connection kills the victim
//! - `/soak_flood` sends the `/flood` binary format and `/soak_progress` reports how many
//!   messages it wrote; a reader that stops reading stops the count well before the end

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;
use ws_peer::routes::{flood_message, FloodKind};
use ws_peer::Options;

type Client = WebSocketStream<TcpStream>;

const STEP: Duration = Duration::from_secs(20);

async fn server() -> SocketAddr {
    ws_peer::soak_routes::set_victim_exe(env!("CARGO_BIN_EXE_ws-peer"));
    ws_peer::spawn("127.0.0.1:0", Options::default())
        .await
        .unwrap()
}

async fn connect(addr: SocketAddr, path: &str) -> Client {
    let url = format!("ws://{addr}{path}");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = tokio::time::timeout(
        STEP,
        tokio_tungstenite::client_async_with_config(url, tcp, Some(ws_peer::ws_config())),
    )
    .await
    .expect("handshake in time")
    .unwrap();
    ws
}

async fn command(control: &mut Client, text: &str) -> String {
    control.send(Message::text(text)).await.unwrap();
    match tokio::time::timeout(STEP, control.next()).await {
        Ok(Some(Ok(Message::Text(reply)))) => reply.as_str().to_string(),
        other => panic!("no reply to {text}: {other:?}"),
    }
}

fn field<'a>(reply: &'a str, name: &str) -> &'a str {
    reply
        .split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {reply:?}"))
}

fn pid_alive(pid: &str) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

async fn echo_once(ws: &mut Client, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
    let reply = tokio::time::timeout(STEP, ws.next()).await.unwrap();
    assert_eq!(reply.unwrap().unwrap(), Message::text(text));
}

#[tokio::test]
async fn victim_is_killed_and_respawned_on_the_same_port() {
    let addr = server().await;
    let mut control = connect(addr, "/victim").await;
    assert!(command(&mut control, "kill").await.starts_with("error:"));
    assert!(command(&mut control, "respawn").await.starts_with("error:"));

    let reply = command(&mut control, "spawn").await;
    let port: u16 = field(&reply, "port").parse().unwrap();
    let pid = field(&reply, "pid").to_string();
    assert!(pid_alive(&pid), "victim {pid} runs");
    assert!(command(&mut control, "spawn").await.starts_with("error:"));
    let victim = SocketAddr::from(([127, 0, 0, 1], port));

    // A stream in progress when the process dies ends without a close frame.
    let mut ws = connect(victim, "/flood?n=1000000&size=1024&close=none").await;
    for i in 0..100u64 {
        let m = tokio::time::timeout(STEP, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(m, flood_message(FloodKind::Binary, i, 1024));
    }
    let reply = command(&mut control, "kill").await;
    assert_eq!(reply, format!("killed pid={pid} signal=9"));
    assert!(!pid_alive(&pid), "victim {pid} is gone");
    let end = tokio::time::timeout(STEP, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(_))) => continue,
                other => return other,
            }
        }
    })
    .await
    .unwrap();
    assert!(
        !matches!(end, Some(Ok(Message::Close(_)))),
        "no close frame from a killed process: {end:?}"
    );
    assert!(
        matches!(
            end,
            None | Some(Err(WsError::Protocol(_)
                | WsError::Io(_)
                | WsError::ConnectionClosed))
        ),
        "{end:?}"
    );
    assert!(TcpStream::connect(victim).await.is_err(), "port is closed");

    let reply = command(&mut control, "respawn").await;
    assert_eq!(field(&reply, "port"), port.to_string());
    let new_pid = field(&reply, "pid").to_string();
    assert_ne!(new_pid, pid);
    let mut ws = connect(victim, "/echo").await;
    echo_once(&mut ws, "back").await;

    // The victim lives no longer than the control connection.
    control.close(None).await.unwrap();
    drop(control);
    let gone = tokio::time::timeout(STEP, async {
        while pid_alive(&new_pid) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        gone.is_ok(),
        "victim {new_pid} outlived its control connection"
    );
}

#[tokio::test]
async fn soak_flood_reports_progress_and_stalls_without_a_reader() {
    let addr = server().await;
    let mut progress = connect(addr, "/soak_progress?key=t1").await;
    assert_eq!(command(&mut progress, "get").await, "sent=0");
    assert_eq!(command(&mut progress, "other").await, "other");

    // A reader that keeps up gets every message, then a clean close.
    let mut ws = connect(addr, "/soak_flood?key=t1&n=50&size=3000").await;
    for i in 0..50u64 {
        let m = tokio::time::timeout(STEP, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(m, flood_message(FloodKind::Binary, i, 3000));
    }
    match tokio::time::timeout(STEP, ws.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(frame.code, CloseCode::Normal);
            assert_eq!(frame.reason.as_str(), "done");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(command(&mut progress, "get").await, "sent=50");

    // Nobody reads: the count stops once the TCP buffers are full.
    let size = 64 * 1024;
    let n = 4000u64; // 256 MiB, far more than any socket buffer
    let ws = connect(addr, &format!("/soak_flood?key=t2&n={n}&size={size}")).await;
    let mut progress = connect(addr, "/soak_progress?key=t2").await;
    let mut last = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let sent: u64 = field(&command(&mut progress, "get").await, "sent")
            .parse()
            .unwrap();
        if sent > 0 && sent == last {
            break;
        }
        last = sent;
    }
    assert!(last > 0 && last < n / 4, "stalled at {last} of {n}");
    drop(ws);
}
