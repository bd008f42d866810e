//! Helpers shared by the suites, in browsers and natively: the peer's address, bounded
//! waits, the peer's message formats, and `#[async_test]`.
//!
//! A suite written once runs on both: `#[async_test]` is `#[wasm_bindgen_test]` on wasm32
//! and `#[tokio::test]` natively; browser-only tests keep `#[wasm_bindgen_test]` under
//! `#[cfg(target_arch = "wasm32")]`. Natively `live_listeners()` is process-wide, so the
//! native suites run with `--test-threads=1` (as `cargo xtask test` does).
#![allow(dead_code, unused_imports)]

use std::future::Future;

use futures::future::{select, Either};
use futures::StreamExt;
#[cfg(target_arch = "wasm32")]
use gloo_timers::future::TimeoutFuture;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::*;
use wasm_websocket::{set_default_backend, Backend, Message, WebSocket};

/// An async test on both targets.
#[cfg(not(target_arch = "wasm32"))]
pub use tokio::test as async_test;
/// An async test on both targets.
#[cfg(target_arch = "wasm32")]
pub use wasm_bindgen_test::wasm_bindgen_test as async_test;

/// Resolves after `ms` milliseconds, on both targets.
pub async fn sleep_ms(ms: u32) {
    #[cfg(target_arch = "wasm32")]
    TimeoutFuture::new(ms).await;
    #[cfg(not(target_arch = "wasm32"))]
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
}

/// Milliseconds on a clock that only the differences of matter, on both targets.
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Date::now();
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
    }
}

/// `name` and a random number: a key no other test (or other run against the same peer)
/// uses.
pub fn unique_key(name: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    let random = (js_sys::Math::random() * 1e12) as u64;
    #[cfg(not(target_arch = "wasm32"))]
    let random = {
        use std::hash::{BuildHasher, Hasher};
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    format!("{name}-{random}")
}

/// A line in the browser's console, or on stdout natively.
pub fn log(text: &str) {
    #[cfg(target_arch = "wasm32")]
    console_log(text);
    #[cfg(not(target_arch = "wasm32"))]
    println!("{text}");
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(s: &str);
}

/// The test peer's `host:port`, given at compile time by `cargo xtask test`.
pub const PEER: &str = match option_env!("WASM_WS_PEER") {
    Some(addr) => addr,
    None => "127.0.0.1:9001",
};

/// `ws://PEER{path}`.
pub fn url(path: &str) -> String {
    format!("ws://{PEER}{path}")
}

/// The backend the suite runs on: `WASM_WS_BACKEND` at compile time (`classic`, `stream`
/// or `auto`), so `cargo xtask test` can run the same suite once per backend.
pub fn suite_backend() -> Backend {
    match option_env!("WASM_WS_BACKEND") {
        Some("stream") => Backend::Stream,
        Some("auto") => Backend::Auto,
        _ => Backend::Classic,
    }
}

/// Whether sockets in this run use `WebSocketStream`.
pub fn on_stream_backend() -> bool {
    #[cfg(target_arch = "wasm32")]
    return match suite_backend() {
        Backend::Stream => true,
        Backend::Auto => has_websocketstream(),
        Backend::Classic => false,
    };
    #[cfg(not(target_arch = "wasm32"))]
    return false;
}

/// Runs `fut`, failing the test if it takes longer than `secs` seconds.
pub async fn within<F: Future>(secs: u32, fut: F) -> F::Output {
    set_default_backend(suite_backend());
    let fut = Box::pin(fut);
    match select(fut, Box::pin(sleep_ms(secs * 1000))).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("test step timed out after {secs} s"),
    }
}

/// Every test body runs inside this, so a hang fails the test instead of stalling the run.
pub async fn bounded<F: Future>(fut: F) -> F::Output {
    within(30, fut).await
}

/// `Some(output)` if `fut` finishes within `ms` milliseconds, `None` if it is still pending.
pub async fn finishes_within<F: Future>(ms: u32, fut: F) -> Option<F::Output> {
    match select(Box::pin(fut), Box::pin(sleep_ms(ms))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

pub async fn connect(path: &str) -> WebSocket {
    WebSocket::connect(url(path))
        .await
        .unwrap_or_else(|e| panic!("connect {path}: {e}"))
}

/// The next message, failing the test on an error or the end of the stream.
pub async fn next_message(ws: &mut WebSocket) -> Message {
    match ws.next().await {
        Some(Ok(message)) => message,
        Some(Err(e)) => panic!("stream error: {e}"),
        None => panic!("stream ended"),
    }
}

/// Message `i` of the peer's `/flood` route, binary kind.
pub fn flood_binary(i: u32, size: usize) -> Vec<u8> {
    let mut bytes = i.to_be_bytes().to_vec();
    bytes.extend((4..size.max(4)).map(|j| ((i as usize + j) % 256) as u8));
    bytes
}

/// Message `i` of the peer's `/flood` route, text kind.
pub fn flood_text(i: u32, size: usize) -> String {
    let mut text = format!("{i:08}");
    text.extend((8..size.max(8)).map(|j| (b'a' + (j % 26) as u8) as char));
    text
}

/// A deterministic pseudo-random payload.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// How many WebSocket connections the peer has open right now (this query's own included).
pub async fn peer_connections() -> u64 {
    use futures::SinkExt;
    let mut ws = connect("/stats").await;
    ws.send(Message::from("get")).await.expect("stats query");
    let Message::Text(json) = next_message(&mut ws).await else {
        panic!("stats reply is not text");
    };
    let start = json.find("\"connections\":").expect("connections field") + 14;
    let digits: String = json[start..]
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("connections count")
}

/// Polls the peer until at most `n` connections are open (besides the query itself).
pub async fn wait_peer_connections_at_most(n: u64) {
    for _ in 0..200 {
        if peer_connections().await <= n + 1 {
            return;
        }
        sleep_ms(10).await;
    }
    panic!("peer still has more than {n} connections open");
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(inline_js = r#"
let uncaught = 0;
export function install_error_counter() {
    if (!globalThis.__wasmWsErrorCounter) {
        globalThis.__wasmWsErrorCounter = true;
        globalThis.addEventListener('error', () => { uncaught += 1; });
        globalThis.addEventListener('unhandledrejection', () => { uncaught += 1; });
    }
}
export function uncaught_errors() { return uncaught; }
export function location_host() { return globalThis.location.host; }
export function user_agent() { return globalThis.navigator.userAgent; }
export function in_worker() {
    return typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope;
}
export function has_websocketstream() { return typeof globalThis.WebSocketStream === 'function'; }
export function wasm_memory_bytes(memory) { return memory.buffer.byteLength; }
"#)]
extern "C" {
    /// Counts exceptions that reach the global scope from now on (idempotent).
    pub fn install_error_counter();
    /// How many uncaught exceptions and rejections the global scope has seen.
    pub fn uncaught_errors() -> u32;
    /// The host of the page (or worker) running the tests.
    pub fn location_host() -> String;
    /// `navigator.userAgent`.
    pub fn user_agent() -> String;
    /// Whether this code runs in a worker rather than on a page.
    pub fn in_worker() -> bool;
    /// Whether the browser has `WebSocketStream`.
    pub fn has_websocketstream() -> bool;
    fn wasm_memory_bytes(memory: &JsValue) -> f64;
}

/// Whether the tests run in Chromium (for the few documented engine differences).
pub fn is_chromium() -> bool {
    #[cfg(target_arch = "wasm32")]
    return user_agent().contains("Chrome/");
    #[cfg(not(target_arch = "wasm32"))]
    return false;
}

/// Whether the tests run in WebKit (Safari's engine; WebKitGTK here).
pub fn is_webkit() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        let ua = user_agent();
        ua.contains("AppleWebKit") && !ua.contains("Chrome/")
    }
    #[cfg(not(target_arch = "wasm32"))]
    false
}

/// Natively no exception can reach a page: nothing to count.
#[cfg(not(target_arch = "wasm32"))]
pub fn install_error_counter() {}

/// Natively always 0 (see [`install_error_counter`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn uncaught_errors() -> u32 {
    0
}

/// Whether the tests run natively (tokio-tungstenite) rather than in a browser.
pub const NATIVE: bool = cfg!(not(target_arch = "wasm32"));

/// The size of this module's wasm memory in bytes (it never shrinks).
#[cfg(target_arch = "wasm32")]
pub fn wasm_memory() -> usize {
    wasm_memory_bytes(&wasm_bindgen::memory()) as usize
}
