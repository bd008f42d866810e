//! Bindings to the raw-JS implementation in `src/raw.js`.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::{url, Workload};

#[wasm_bindgen(module = "/src/raw.js")]
extern "C" {
    fn raw_pingpong(url: &str, n: u32, awaiting: bool) -> js_sys::Promise;
    fn raw_echo(url: &str, binary: bool, size: u32, n: u32) -> js_sys::Promise;
    fn raw_flood(url: &str, n: u32) -> js_sys::Promise;
    fn raw_echo_await(url: &str, binary: bool, size: u32, n: u32) -> js_sys::Promise;
    fn raw_flood_await(url: &str, n: u32) -> js_sys::Promise;
    fn raw_send_count(url: &str, n: u32, size: u32) -> js_sys::Promise;
    fn raw_connect_close(url: &str, n: u32) -> js_sys::Promise;
    fn raw_many(url: &str, sockets: u32, rounds: u32, awaiting: bool) -> js_sys::Promise;
}

/// Runs `workload` in raw JS; `awaiting`: the variant that takes each received message with
/// an awaited promise, as a `Stream` consumer does (see [`Workload::applies_to`]).
pub(crate) async fn run(workload: Workload, awaiting: bool) -> Result<f64, String> {
    let flood = |n: u32| url(&format!("/flood?n={n}&size=16&kind=binary"));
    let promise = match workload {
        Workload::PingPong { n } => raw_pingpong(&url("/echo"), n, awaiting),
        Workload::Echo { binary, size, n } if awaiting => {
            raw_echo_await(&url("/echo"), binary, size, n)
        }
        Workload::Echo { binary, size, n } => raw_echo(&url("/echo"), binary, size, n),
        Workload::Flood { n } if awaiting => raw_flood_await(&flood(n), n),
        Workload::Flood { n } => raw_flood(&flood(n), n),
        Workload::SendCount { n, size } => raw_send_count(&url("/count"), n, size),
        Workload::ConnectClose { n } => raw_connect_close(&url("/echo"), n),
        Workload::Many { sockets, rounds } => raw_many(&url("/echo"), sockets, rounds, awaiting),
    };
    match JsFuture::from(promise).await {
        Ok(ms) => ms.as_f64().ok_or_else(|| format!("raw JS returned {ms:?}")),
        Err(e) => Err(format!("raw JS failed: {e:?}")),
    }
}
