//! The Rust implementations: one generic loop per workload, driven through each library's
//! `Sink` + `Stream`, so the only difference between them is the library.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{join_all, poll_fn};
use futures::{Sink, SinkExt, Stream, StreamExt};
use wasm_bindgen::JsCast;

use xtask_record::{Bench, Outcome};

use crate::{log_record, now, url, Workload};

/// A received message, moved out of the library's own type (no copy).
pub(crate) enum Got {
    Text(String),
    Binary(Vec<u8>),
}

impl Got {
    fn len(&self) -> usize {
        match self {
            Got::Text(t) => t.len(),
            Got::Binary(b) => b.len(),
        }
    }
}

/// What the generic loops need from a library.
pub(crate) trait Lib {
    type Socket;
    type Msg;
    type Item;
    type Io: Sink<Self::Msg> + Stream<Item = Self::Item> + Unpin;

    /// Connects and resolves once the socket is open.
    fn connect(url: &str) -> impl Future<Output = Result<Self::Socket, String>>;
    fn io(socket: &mut Self::Socket) -> &mut Self::Io;
    fn text(text: &str) -> Self::Msg;
    fn binary(bytes: &[u8]) -> Self::Msg;
    fn got(item: Self::Item) -> Result<Got, String>;
    /// Closes with 1000 and waits for the close event.
    fn close(socket: Self::Socket) -> impl Future<Output = Result<(), String>>;
}

fn text_payload(size: usize) -> String {
    (0..size)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect()
}

fn binary_payload(size: usize) -> Vec<u8> {
    (0..size).map(|i| i as u8).collect()
}

async fn next<L: Lib>(io: &mut L::Io) -> Result<Got, String> {
    match io.next().await {
        Some(item) => L::got(item),
        None => Err("stream ended".into()),
    }
}

/// `n` sequential round trips of a 16-byte text message; `feed` skips the flush.
async fn round_trips<L: Lib>(socket: &mut L::Socket, n: u32, feed: bool) -> Result<(), String> {
    let message = text_payload(16);
    let io = L::io(socket);
    for _ in 0..n {
        let sent = if feed {
            io.feed(L::text(&message)).await
        } else {
            io.send(L::text(&message)).await
        };
        sent.map_err(|_| "send failed".to_string())?;
        let got = next::<L>(io).await?;
        if got.len() != 16 {
            return Err(format!("echo of {} bytes", got.len()));
        }
    }
    Ok(())
}

/// Sends `n_send` messages as fast as the sink accepts them (then flushes) while receiving
/// `n_recv` items, all in one task: the same burst a JS `for` loop of `send` makes.
async fn pipeline<L: Lib>(
    io: &mut L::Io,
    n_send: u32,
    mut make: impl FnMut(u32) -> L::Msg,
    n_recv: u32,
    mut on_item: impl FnMut(Got) -> Result<(), String>,
) -> Result<(), String> {
    let (mut sent, mut flushed, mut received) = (0u32, false, 0u32);
    poll_fn(|cx: &mut Context<'_>| {
        while sent < n_send {
            match Pin::new(&mut *io).poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    if Pin::new(&mut *io).start_send(make(sent)).is_err() {
                        return Poll::Ready(Err("start_send failed".to_string()));
                    }
                    sent += 1;
                }
                Poll::Ready(Err(_)) => return Poll::Ready(Err("poll_ready failed".into())),
                Poll::Pending => break,
            }
        }
        if sent == n_send && !flushed {
            match Pin::new(&mut *io).poll_flush(cx) {
                Poll::Ready(Ok(())) => flushed = true,
                Poll::Ready(Err(_)) => return Poll::Ready(Err("poll_flush failed".into())),
                Poll::Pending => {}
            }
        }
        while received < n_recv {
            match Pin::new(&mut *io).poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    if let Err(e) = L::got(item).and_then(&mut on_item) {
                        return Poll::Ready(Err(e));
                    }
                    received += 1;
                }
                Poll::Ready(None) => return Poll::Ready(Err("stream ended".into())),
                Poll::Pending => break,
            }
        }
        if flushed && received == n_recv {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    })
    .await
}

async fn run<L: Lib>(workload: Workload, feed: bool) -> Result<f64, String> {
    match workload {
        Workload::PingPong { n } => {
            let mut socket = L::connect(&url("/echo")).await?;
            let t0 = now();
            round_trips::<L>(&mut socket, n, feed).await?;
            let ms = now() - t0;
            L::close(socket).await?;
            Ok(ms)
        }
        Workload::Echo { binary, size, n } => {
            let mut socket = L::connect(&url("/echo")).await?;
            let (text, bytes) = if binary {
                (String::new(), binary_payload(size as usize))
            } else {
                (text_payload(size as usize), Vec::new())
            };
            let mut total = 0usize;
            let t0 = now();
            pipeline::<L>(
                L::io(&mut socket),
                n,
                |_| {
                    if binary {
                        L::binary(&bytes)
                    } else {
                        L::text(&text)
                    }
                },
                n,
                |got| {
                    total += got.len();
                    Ok(())
                },
            )
            .await?;
            let ms = now() - t0;
            L::close(socket).await?;
            if total != (n * size) as usize {
                return Err(format!("echoed {total} bytes"));
            }
            Ok(ms)
        }
        Workload::Flood { n } => {
            let mut socket = L::connect(&url(&format!("/flood?n={n}&size=16&kind=binary"))).await?;
            let t0 = now();
            let io = L::io(&mut socket);
            let mut got = 0;
            while got < n {
                if next::<L>(io).await?.len() >= 4 {
                    got += 1;
                }
            }
            let ms = now() - t0;
            // The peer closes after the flood; wait for the end of the stream.
            while io.next().await.is_some() {}
            drop(socket);
            Ok(ms)
        }
        Workload::SendCount { n, size } => {
            let mut socket = L::connect(&url("/count")).await?;
            let text = text_payload(size as usize);
            let want = format!("count={n} bytes={}", n * size);
            let t0 = now();
            pipeline::<L>(
                L::io(&mut socket),
                n + 1,
                |i| L::text(if i < n { &text } else { "?count" }),
                1,
                |got| match got {
                    Got::Text(t) if t == want => Ok(()),
                    Got::Text(t) => Err(format!("peer said {t}, want {want}")),
                    Got::Binary(_) => Err("binary reply".into()),
                },
            )
            .await?;
            let ms = now() - t0;
            L::close(socket).await?;
            Ok(ms)
        }
        Workload::ConnectClose { n } => {
            let target = url("/echo");
            let t0 = now();
            for _ in 0..n {
                let socket = L::connect(&target).await?;
                L::close(socket).await?;
            }
            Ok(now() - t0)
        }
        Workload::Many { sockets, rounds } => {
            let target = url("/echo");
            let mut all = join_all((0..sockets).map(|_| L::connect(&target)))
                .await
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            let t0 = now();
            join_all(all.iter_mut().map(|s| round_trips::<L>(s, rounds, feed)))
                .await
                .into_iter()
                .collect::<Result<Vec<()>, _>>()?;
            let ms = now() - t0;
            join_all(all.into_iter().map(L::close))
                .await
                .into_iter()
                .collect::<Result<Vec<()>, _>>()?;
            Ok(ms)
        }
    }
}

// ---- wasm-websocket ----

/// This crate with a high-water mark of `MARK` bytes.
pub(crate) struct Ours<const MARK: usize>;

impl<const MARK: usize> Lib for Ours<MARK> {
    type Socket = wasm_websocket::WebSocket;
    type Msg = wasm_websocket::Message;
    type Item = Result<wasm_websocket::Message, wasm_websocket::Error>;
    type Io = wasm_websocket::WebSocket;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        wasm_websocket::WebSocket::builder(url)
            .high_water_mark(MARK)
            .connect()
            .await
            .map_err(|e| e.to_string())
    }
    fn io(socket: &mut Self::Socket) -> &mut Self::Io {
        socket
    }
    fn text(text: &str) -> Self::Msg {
        wasm_websocket::Message::Text(text.to_owned())
    }
    fn binary(bytes: &[u8]) -> Self::Msg {
        wasm_websocket::Message::Binary(bytes.to_vec())
    }
    fn got(item: Self::Item) -> Result<Got, String> {
        match item {
            Ok(wasm_websocket::Message::Text(t)) => Ok(Got::Text(t)),
            Ok(wasm_websocket::Message::Binary(b)) => Ok(Got::Binary(b)),
            Err(e) => Err(e.to_string()),
        }
    }
    async fn close(socket: Self::Socket) -> Result<(), String> {
        socket
            .close(wasm_websocket::CloseCode::NORMAL, "")
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

pub(crate) async fn ours(workload: Workload, feed: bool) -> Result<f64, String> {
    run::<Ours<{ wasm_websocket::DEFAULT_HIGH_WATER_MARK }>>(workload, feed).await
}

pub(crate) async fn ours_big_mark(workload: Workload) -> Result<f64, String> {
    run::<Ours<{ 64 << 20 }>>(workload, false).await
}

// ---- wasm-websocket: reconnecting and hook (receive flood only) ----

/// The receive flood through a `ReconnectingWebSocket` read as a `Stream`: timed from its
/// `Connected` event, like the plain socket from its open.
pub(crate) async fn ours_reconnecting(workload: Workload) -> Result<f64, String> {
    use wasm_websocket::{ReconnectEvent, ReconnectPolicy};
    let Workload::Flood { n } = workload else {
        return Err("receive flood only".into());
    };
    let mut ws =
        wasm_websocket::WebSocket::builder(url(&format!("/flood?n={n}&size=16&kind=binary")))
            .reconnecting(ReconnectPolicy::new().reconnect_limit(Some(0)))
            .map_err(|e| e.to_string())?;
    let mut events = ws.events();
    loop {
        match events.next().await {
            Some(ReconnectEvent::Connected { .. }) => break,
            Some(_) => {}
            None => return Err("never connected".into()),
        }
    }
    let t0 = now();
    let mut got = 0;
    while got < n {
        match ws.next().await {
            Some(Ok(message)) => {
                if message.len() >= 4 {
                    got += 1;
                }
            }
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err(format!("stream ended after {got} of {n}")),
        }
    }
    let ms = now() - t0;
    // The peer closes after the flood, cleanly: the stream ends.
    while ws.next().await.is_some() {}
    Ok(ms)
}

/// What the hook's callbacks saw.
#[derive(Default)]
struct HookRun {
    t0: f64,
    got: u32,
    ms: Option<f64>,
    done: bool,
    error: Option<String>,
    waker: Option<std::task::Waker>,
}

impl HookRun {
    fn end(&mut self) {
        self.done = true;
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

/// The receive flood through the Leptos hook, counted in its `on_message` callback as raw
/// JS counts in its event handler: timed from `on_open`.
pub(crate) async fn ours_hook(workload: Workload) -> Result<f64, String> {
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_websocket::leptos::{use_websocket_with_options, UseWebSocketOptions};
    let Workload::Flood { n } = workload else {
        return Err("receive flood only".into());
    };
    let run = Rc::new(RefCell::new(HookRun::default()));
    let (open, message, close, error) = (run.clone(), run.clone(), run.clone(), run.clone());
    let options = UseWebSocketOptions::new()
        .reconnect_limit(Some(0))
        .on_open(move || open.borrow_mut().t0 = now())
        .on_message(move |m: &wasm_websocket::Message| {
            if m.len() < 4 {
                return;
            }
            let mut run = message.borrow_mut();
            run.got += 1;
            if run.got == n {
                run.ms = Some(now() - run.t0);
            }
        })
        .on_close(move |_| close.borrow_mut().end())
        .on_error(move |e| {
            let mut run = error.borrow_mut();
            run.error = Some(e.to_string());
            run.end();
        });
    let owner = leptos::prelude::Owner::new();
    let _ws = owner.with(|| {
        use_websocket_with_options(url(&format!("/flood?n={n}&size=16&kind=binary")), options)
    });
    poll_fn(|cx| {
        let mut run = run.borrow_mut();
        if run.done {
            Poll::Ready(())
        } else {
            run.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    })
    .await;
    owner.cleanup();
    let run = run.borrow();
    match (&run.error, run.ms) {
        (Some(e), _) => Err(e.clone()),
        (None, Some(ms)) => Ok(ms),
        (None, None) => Err(format!("flood: got {} of {n}", run.got)),
    }
}

// ---- gloo-net ----

pub(crate) struct Gloo;

/// gloo-net's `close` consumes the socket and cannot wait for the close event, so the raw
/// socket is kept beside it (gloo-net's own `TryFrom<web_sys::WebSocket>`) to close it and
/// the stream then reports the close.
pub(crate) struct GlooSocket {
    raw: web_sys::WebSocket,
    ws: gloo_net::websocket::futures::WebSocket,
}

impl Lib for Gloo {
    type Socket = GlooSocket;
    type Msg = gloo_net::websocket::Message;
    type Item = Result<gloo_net::websocket::Message, gloo_net::websocket::WebSocketError>;
    type Io = gloo_net::websocket::futures::WebSocket;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        let raw = web_sys::WebSocket::new(url).map_err(|e| format!("{e:?}"))?;
        let mut ws = gloo_net::websocket::futures::WebSocket::try_from(raw.clone())
            .map_err(|e| e.to_string())?;
        // gloo-net has no "opened" future; its sink is ready once the socket is open.
        poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx))
            .await
            .map_err(|e| e.to_string())?;
        if raw.ready_state() != web_sys::WebSocket::OPEN {
            return Err("connect failed".into());
        }
        Ok(GlooSocket { raw, ws })
    }
    fn io(socket: &mut Self::Socket) -> &mut Self::Io {
        &mut socket.ws
    }
    fn text(text: &str) -> Self::Msg {
        gloo_net::websocket::Message::Text(text.to_owned())
    }
    fn binary(bytes: &[u8]) -> Self::Msg {
        gloo_net::websocket::Message::Bytes(bytes.to_vec())
    }
    fn got(item: Self::Item) -> Result<Got, String> {
        match item {
            Ok(gloo_net::websocket::Message::Text(t)) => Ok(Got::Text(t)),
            Ok(gloo_net::websocket::Message::Bytes(b)) => Ok(Got::Binary(b)),
            Err(e) => Err(e.to_string()),
        }
    }
    async fn close(mut socket: Self::Socket) -> Result<(), String> {
        socket
            .raw
            .close_with_code(1000)
            .map_err(|e| format!("{e:?}"))?;
        while socket.ws.next().await.is_some() {}
        Ok(())
    }
}

pub(crate) async fn gloo(workload: Workload) -> Result<f64, String> {
    run::<Gloo>(workload, false).await
}

// ---- ws_stream_wasm ----

pub(crate) struct WsStream;

impl Lib for WsStream {
    type Socket = (ws_stream_wasm::WsMeta, ws_stream_wasm::WsStream);
    type Msg = ws_stream_wasm::WsMessage;
    type Item = ws_stream_wasm::WsMessage;
    type Io = ws_stream_wasm::WsStream;

    async fn connect(url: &str) -> Result<Self::Socket, String> {
        ws_stream_wasm::WsMeta::connect(url, None)
            .await
            .map_err(|e| e.to_string())
    }
    fn io(socket: &mut Self::Socket) -> &mut Self::Io {
        &mut socket.1
    }
    fn text(text: &str) -> Self::Msg {
        ws_stream_wasm::WsMessage::Text(text.to_owned())
    }
    fn binary(bytes: &[u8]) -> Self::Msg {
        ws_stream_wasm::WsMessage::Binary(bytes.to_vec())
    }
    fn got(item: Self::Item) -> Result<Got, String> {
        Ok(match item {
            ws_stream_wasm::WsMessage::Text(t) => Got::Text(t),
            ws_stream_wasm::WsMessage::Binary(b) => Got::Binary(b),
        })
    }
    async fn close(socket: Self::Socket) -> Result<(), String> {
        socket.0.close().await.map(drop).map_err(|e| e.to_string())
    }
}

pub(crate) async fn ws_stream(workload: Workload) -> Result<f64, String> {
    run::<WsStream>(workload, false).await
}

// ---- memory ----

fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
        .into()
}

async fn cycles<L: Lib>(n: u32) -> Result<(), String> {
    let target = url("/echo");
    for _ in 0..n {
        let mut socket = L::connect(&target).await?;
        // One message each way, so the message path is part of the cycle.
        L::io(&mut socket)
            .send(L::text("0123456789abcdef"))
            .await
            .map_err(|_| "send failed".to_string())?;
        next::<L>(L::io(&mut socket)).await?;
        L::close(socket).await?;
    }
    Ok(())
}

/// Runs `n` connect / echo / close cycles of each Rust implementation (after a warm-up of
/// 50) and prints wasm memory and, for this crate, `live_listeners()` before and after.
pub async fn memory_cycles(n: u32) {
    async fn one<L: Lib>(name: &str, n: u32, listeners: Option<fn() -> f64>) {
        let outcome = async {
            cycles::<L>(50).await?;
            crate::sleep(50).await;
            let count = || listeners.map_or(0.0, |count| count());
            let (mem0, lis0) = (wasm_memory_bytes(), count());
            cycles::<L>(n).await?;
            crate::sleep(50).await;
            Ok::<_, String>((mem0, lis0, wasm_memory_bytes(), count()))
        }
        .await;
        let outcome = match outcome {
            Ok((mem_before, lis0, mem_after, lis1)) => Outcome::Memory {
                cycles: n,
                mem_before,
                mem_after,
                listeners: listeners.map(|_| (lis0, lis1)),
            },
            Err(error) => Outcome::Failed { error },
        };
        log_record(Bench {
            imp: name.to_string(),
            workload: "memory".to_string(),
            outcome,
        });
    }
    one::<Ours<{ wasm_websocket::DEFAULT_HIGH_WATER_MARK }>>(
        "wasm-websocket",
        n,
        Some(|| wasm_websocket::live_listeners() as f64),
    )
    .await;
    one::<Gloo>("gloo-net", n, None).await;
    one::<WsStream>("ws_stream_wasm", n, None).await;
}
