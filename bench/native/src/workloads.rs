//! The workloads, written once over [`Lib`], and the interleaved rounds.

use std::fmt::Display;
use std::time::Instant;

use futures::{Sink, SinkExt, Stream, StreamExt};
use xtask_record::{Bench, Better, Outcome, Record};

pub struct Config {
    pub peer: String,
    pub reps: u32,
    pub scale: u32,
    pub only: Vec<String>,
}

/// What a workload needs of a WebSocket library.
pub trait Lib {
    const NAME: &'static str;
    type Msg;
    type Error: Display;
    type Socket: Stream<Item = Result<Self::Msg, Self::Error>>
        + Sink<Self::Msg, Error = Self::Error>
        + Unpin;

    async fn connect(url: &str) -> Result<Self::Socket, String>;
    fn text(text: &str) -> Self::Msg;
    fn binary(bytes: &[u8]) -> Self::Msg;
    /// The payload's length; `None` for what is not an application message (control
    /// frames that tokio-tungstenite hands up).
    fn data_len(message: &Self::Msg) -> Option<usize>;
    fn as_text(message: &Self::Msg) -> Option<&str>;
    async fn close(socket: Self::Socket) -> Result<(), String>;
}

struct TokioTungstenite;

impl Lib for TokioTungstenite {
    const NAME: &'static str = "tokio-tungstenite";
    type Msg = tokio_tungstenite::tungstenite::Message;
    type Error = tokio_tungstenite::tungstenite::Error;
    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(socket)
    }

    fn text(text: &str) -> Self::Msg {
        Self::Msg::text(text)
    }

    fn binary(bytes: &[u8]) -> Self::Msg {
        Self::Msg::binary(bytes.to_vec())
    }

    fn data_len(message: &Self::Msg) -> Option<usize> {
        (message.is_text() || message.is_binary()).then(|| message.len())
    }

    fn as_text(message: &Self::Msg) -> Option<&str> {
        message.to_text().ok().filter(|_| message.is_text())
    }

    async fn close(mut socket: Self::Socket) -> Result<(), String> {
        socket.close(None).await.map_err(|e| e.to_string())?;
        // Until the server's close frame (the end of the stream).
        while socket.next().await.is_some() {}
        Ok(())
    }
}

struct TokioTungsteniteWasm;

impl Lib for TokioTungsteniteWasm {
    const NAME: &'static str = "tokio-tungstenite-wasm";
    type Msg = tokio_tungstenite_wasm::Message;
    type Error = tokio_tungstenite_wasm::Error;
    type Socket = tokio_tungstenite_wasm::WebSocketStream;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        tokio_tungstenite_wasm::connect(url)
            .await
            .map_err(|e| e.to_string())
    }

    fn text(text: &str) -> Self::Msg {
        Self::Msg::text(text)
    }

    fn binary(bytes: &[u8]) -> Self::Msg {
        Self::Msg::binary(bytes.to_vec())
    }

    fn data_len(message: &Self::Msg) -> Option<usize> {
        (!matches!(message, Self::Msg::Close(_))).then(|| message.len())
    }

    fn as_text(message: &Self::Msg) -> Option<&str> {
        message.to_text().ok().filter(|_| message.is_text())
    }

    async fn close(mut socket: Self::Socket) -> Result<(), String> {
        socket.close().await.map_err(|e| e.to_string())?;
        while socket.next().await.is_some() {}
        Ok(())
    }
}

/// ewebsock's native client (a thread running blocking tungstenite, events through a
/// channel) as a Stream + Sink: the receiver is polled the way an immediate-mode UI polls
/// it every frame, here by yielding to tokio between polls.
struct Ewebsock;

struct EwebsockSocket {
    sender: ewebsock::WsSender,
    receiver: ewebsock::WsReceiver,
}

impl Stream for EwebsockSocket {
    type Item = Result<ewebsock::WsMessage, String>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        match self.receiver.try_recv() {
            Some(ewebsock::WsEvent::Message(message)) => Poll::Ready(Some(Ok(message))),
            Some(ewebsock::WsEvent::Error(error)) => Poll::Ready(Some(Err(error))),
            Some(ewebsock::WsEvent::Closed) => Poll::Ready(None),
            Some(ewebsock::WsEvent::Opened) | None => {
                // Polled again at once: ewebsock has no waker to register.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
}

impl Sink<ewebsock::WsMessage> for EwebsockSocket {
    type Error = String;

    fn poll_ready(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), String>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn start_send(
        mut self: std::pin::Pin<&mut Self>,
        message: ewebsock::WsMessage,
    ) -> Result<(), String> {
        self.sender.send(message);
        Ok(())
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), String>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), String>> {
        self.sender.close();
        std::task::Poll::Ready(Ok(()))
    }
}

impl Lib for Ewebsock {
    const NAME: &'static str = "ewebsock";
    type Msg = ewebsock::WsMessage;
    type Error = String;
    type Socket = EwebsockSocket;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        let (sender, receiver) = ewebsock::connect(url, ewebsock::Options::default())?;
        loop {
            match receiver.try_recv() {
                Some(ewebsock::WsEvent::Opened) => return Ok(EwebsockSocket { sender, receiver }),
                Some(ewebsock::WsEvent::Error(error)) => return Err(error),
                Some(other) => return Err(format!("before opening: {other:?}")),
                None => tokio::task::yield_now().await,
            }
        }
    }

    fn text(text: &str) -> Self::Msg {
        ewebsock::WsMessage::Text(text.to_string())
    }

    fn binary(bytes: &[u8]) -> Self::Msg {
        ewebsock::WsMessage::Binary(bytes.to_vec())
    }

    fn data_len(message: &Self::Msg) -> Option<usize> {
        match message {
            ewebsock::WsMessage::Text(text) => Some(text.len()),
            ewebsock::WsMessage::Binary(bytes) => Some(bytes.len()),
            _ => None,
        }
    }

    fn as_text(message: &Self::Msg) -> Option<&str> {
        match message {
            ewebsock::WsMessage::Text(text) => Some(text),
            _ => None,
        }
    }

    async fn close(mut socket: Self::Socket) -> Result<(), String> {
        socket.sender.close();
        Ok(())
    }
}

struct Ours;

impl Lib for Ours {
    const NAME: &'static str = "wasm-websocket";
    type Msg = wasm_websocket::Message;
    type Error = wasm_websocket::Error;
    type Socket = wasm_websocket::WebSocket;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        wasm_websocket::WebSocket::connect(url)
            .await
            .map_err(|e| e.to_string())
    }

    fn text(text: &str) -> Self::Msg {
        text.into()
    }

    fn binary(bytes: &[u8]) -> Self::Msg {
        bytes.to_vec().into()
    }

    fn data_len(message: &Self::Msg) -> Option<usize> {
        Some(message.len())
    }

    fn as_text(message: &Self::Msg) -> Option<&str> {
        message.as_text()
    }

    async fn close(socket: Self::Socket) -> Result<(), String> {
        socket
            .close(wasm_websocket::CloseCode::NORMAL, "")
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

struct OursReconnecting;

impl Lib for OursReconnecting {
    const NAME: &'static str = "wasm-websocket-reconnecting";
    type Msg = wasm_websocket::Message;
    type Error = wasm_websocket::Error;
    type Socket = wasm_websocket::ReconnectingWebSocket;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        let ws = wasm_websocket::WebSocket::builder(url)
            .reconnecting(wasm_websocket::ReconnectPolicy::new())
            .map_err(|e| e.to_string())?;
        let mut events = ws.events();
        match events.next().await {
            Some(wasm_websocket::ReconnectEvent::Connected { .. }) => Ok(ws),
            other => Err(format!("first event: {other:?}")),
        }
    }

    fn text(text: &str) -> Self::Msg {
        Ours::text(text)
    }

    fn binary(bytes: &[u8]) -> Self::Msg {
        Ours::binary(bytes)
    }

    fn data_len(message: &Self::Msg) -> Option<usize> {
        Ours::data_len(message)
    }

    fn as_text(message: &Self::Msg) -> Option<&str> {
        Ours::as_text(message)
    }

    async fn close(socket: Self::Socket) -> Result<(), String> {
        socket
            .close(wasm_websocket::CloseCode::NORMAL, "")
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// The workloads of the browser benchmark that mean something natively, at the same
/// sizes.
#[derive(Clone, Copy, Debug)]
enum Workload {
    PingPong { n: u32 },
    Echo { binary: bool, size: usize, n: u32 },
    Flood { n: u32 },
    SendCount { n: u32, size: usize },
    ConnectClose { n: u32 },
}

impl Workload {
    fn all(scale: u32) -> Vec<Workload> {
        let s = |n: u32| (n / scale).max(1);
        vec![
            Workload::PingPong { n: s(2000) },
            Workload::Echo {
                binary: false,
                size: 16,
                n: s(20_000),
            },
            Workload::Echo {
                binary: true,
                size: 64 << 10,
                n: s(400),
            },
            Workload::Echo {
                binary: true,
                size: 1 << 20,
                n: s(50),
            },
            Workload::Flood { n: s(20_000) },
            Workload::SendCount {
                n: s(20_000),
                size: 1024,
            },
            Workload::ConnectClose { n: s(100) },
        ]
    }

    fn key(self) -> &'static str {
        match self {
            Workload::PingPong { .. } => "pingpong",
            Workload::Echo { binary: false, .. } => "echo-text-16",
            Workload::Echo { size, .. } if size < (1 << 20) => "echo-bin-64k",
            Workload::Echo { .. } => "echo-bin-1m",
            Workload::Flood { .. } => "flood-recv",
            Workload::SendCount { .. } => "send-count",
            Workload::ConnectClose { .. } => "connect-close",
        }
    }

    /// (value, unit, lower is better) from the elapsed milliseconds.
    fn figure(self, ms: f64) -> (f64, &'static str, Better) {
        let secs = ms / 1000.0;
        match self {
            Workload::PingPong { n } | Workload::ConnectClose { n } => {
                (ms * 1000.0 / f64::from(n), "us", Better::Lower)
            }
            Workload::Echo {
                binary: true,
                size,
                n,
            } => (
                size as f64 * f64::from(n) / secs / 1e6,
                "MB/s",
                Better::Higher,
            ),
            Workload::Echo { n, .. } | Workload::Flood { n } | Workload::SendCount { n, .. } => {
                (f64::from(n) / secs, "msg/s", Better::Higher)
            }
        }
    }
}

/// The next application message (control frames skipped).
async fn next_data<L: Lib>(socket: &mut L::Socket) -> Result<L::Msg, String> {
    loop {
        match socket.next().await {
            Some(Ok(message)) if L::data_len(&message).is_some() => return Ok(message),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the stream ended".into()),
        }
    }
}

/// Runs `workload` once with `L` against `peer`; the milliseconds of the timed part.
async fn run_once<L: Lib>(workload: Workload, peer: &str) -> Result<f64, String> {
    let url = |path: &str| format!("ws://{peer}{path}");
    let sink_err = |e: L::Error| e.to_string();
    match workload {
        Workload::PingPong { n } => {
            let mut socket = L::connect(&url("/echo")).await?;
            let payload = "0123456789abcdef";
            let t0 = Instant::now();
            for _ in 0..n {
                socket.send(L::text(payload)).await.map_err(sink_err)?;
                next_data::<L>(&mut socket).await?;
            }
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            L::close(socket).await?;
            Ok(ms)
        }
        Workload::Echo { binary, size, n } => {
            let socket = L::connect(&url("/echo")).await?;
            let (mut sink, mut stream) = socket.split();
            let bytes = vec![7u8; size];
            let text = "x".repeat(size);
            let t0 = Instant::now();
            let send = async {
                for _ in 0..n {
                    let message = if binary {
                        L::binary(&bytes)
                    } else {
                        L::text(&text)
                    };
                    sink.feed(message).await.map_err(sink_err)?;
                }
                sink.flush().await.map_err(sink_err)
            };
            let receive = async {
                let mut total = 0;
                let mut got = 0;
                while got < n {
                    match stream.next().await {
                        Some(Ok(message)) => {
                            if let Some(len) = L::data_len(&message) {
                                total += len;
                                got += 1;
                            }
                        }
                        Some(Err(e)) => return Err(e.to_string()),
                        None => return Err("the stream ended".to_string()),
                    }
                }
                Ok(total)
            };
            let (sent, total) = futures::join!(send, receive);
            sent?;
            let total = total?;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            let socket = sink.reunite(stream).map_err(|_| "reunite".to_string())?;
            L::close(socket).await?;
            if total != size * n as usize {
                return Err(format!("echoed {total} bytes"));
            }
            Ok(ms)
        }
        Workload::Flood { n } => {
            let mut socket = L::connect(&url(&format!("/flood?n={n}&size=16&kind=binary"))).await?;
            let t0 = Instant::now();
            for _ in 0..n {
                next_data::<L>(&mut socket).await?;
            }
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            // The peer closes after the flood.
            while socket.next().await.is_some() {}
            Ok(ms)
        }
        Workload::SendCount { n, size } => {
            let mut socket = L::connect(&url("/count")).await?;
            let text = "x".repeat(size);
            let want = format!("count={n} bytes={}", n as usize * size);
            let t0 = Instant::now();
            for _ in 0..n {
                socket.feed(L::text(&text)).await.map_err(sink_err)?;
            }
            socket.send(L::text("?count")).await.map_err(sink_err)?;
            let reply = next_data::<L>(&mut socket).await?;
            let ms = t0.elapsed().as_secs_f64() * 1000.0;
            if L::as_text(&reply) != Some(want.as_str()) {
                return Err(format!("peer said {:?}, want {want}", L::as_text(&reply)));
            }
            L::close(socket).await?;
            Ok(ms)
        }
        Workload::ConnectClose { n } => {
            let target = url("/echo");
            let t0 = Instant::now();
            for _ in 0..n {
                let socket = L::connect(&target).await?;
                L::close(socket).await?;
            }
            Ok(t0.elapsed().as_secs_f64() * 1000.0)
        }
    }
}

/// Which implementations run `workload`: the reconnecting socket in the receive flood and
/// the text echo (its data path); ewebsock only in the echo rows and the flood. Its thread
/// writes one message per turn of a loop that then reads with a 10 ms timeout, so where
/// the server stays silent (ping-pong steps, connect + close, the send-only row) that
/// timeout decides everything: some 100 messages a second (0.00x in a `--quick` run).
fn implementations(workload: Workload) -> Vec<&'static str> {
    let mut names = vec![
        TokioTungstenite::NAME,
        Ours::NAME,
        TokioTungsteniteWasm::NAME,
    ];
    if matches!(
        workload,
        Workload::Flood { .. } | Workload::Echo { binary: false, .. }
    ) {
        names.push(OursReconnecting::NAME);
    }
    if matches!(workload, Workload::Echo { .. } | Workload::Flood { .. }) {
        names.push(Ewebsock::NAME);
    }
    names
}

async fn run_named(name: &str, workload: Workload, peer: &str) -> Result<f64, String> {
    match name {
        TokioTungstenite::NAME => run_once::<TokioTungstenite>(workload, peer).await,
        Ours::NAME => run_once::<Ours>(workload, peer).await,
        OursReconnecting::NAME => run_once::<OursReconnecting>(workload, peer).await,
        TokioTungsteniteWasm::NAME => run_once::<TokioTungsteniteWasm>(workload, peer).await,
        _ => run_once::<Ewebsock>(workload, peer).await,
    }
}

/// Every workload with every implementation, interleaved and rotated, `reps + 1` rounds
/// (the first is the warm-up); one `BENCH` line per run.
pub async fn run(config: &Config) {
    let workloads: Vec<Workload> = Workload::all(config.scale)
        .into_iter()
        .filter(|w| config.only.is_empty() || config.only.iter().any(|o| o == w.key()))
        .collect();
    println!(
        "bench-native: {} workloads, {} rounds after a warm-up, peer {}",
        workloads.len(),
        config.reps,
        config.peer
    );
    for rep in 0..=config.reps {
        for &workload in &workloads {
            let names = implementations(workload);
            for j in 0..names.len() {
                let name = names[(j + rep as usize) % names.len()];
                let outcome = match run_named(name, workload, &config.peer).await {
                    Ok(ms) => {
                        let (value, unit, better) = workload.figure(ms);
                        Outcome::Run {
                            rep,
                            value: (value * 1000.0).round() / 1000.0,
                            unit: unit.to_string(),
                            better,
                            ms: (ms * 1000.0).round() / 1000.0,
                        }
                    }
                    Err(error) => Outcome::Failed { error },
                };
                let bench = Bench {
                    imp: name.to_string(),
                    workload: workload.key().to_string(),
                    outcome,
                };
                println!("{}", Record::Bench(bench));
            }
        }
    }
}
