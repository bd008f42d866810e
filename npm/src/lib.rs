//! The JavaScript API of the npm package `wasm-websocket-js`: the Rust crate
//! [`wasm_websocket`] for JS users.
//!
//! `wasm-pack build npm --target web` turns this crate into an ES module whose `Socket`
//! class wraps [`WebSocket`]:
//!
//! ```js
//! import init, { Socket } from "wasm-websocket-js";
//! await init();
//! const ws = await Socket.connect("wss://example.org/chat", { highWaterMark: 1 << 20 });
//! await ws.send("hello");                  // resolves once accepted under the high-water mark
//! for await (const msg of ws) { /* string | Uint8Array */ }
//! const { code, reason, wasClean } = await ws.close(1000, "bye");
//! ```
//!
//! Every promise rejects with a JS `Error` whose `name` is the [`Error`] variant's name
//! (`"NotOpen"`, `"ConnectionLost"`, ...) and whose `message` is its `Display` text; bad
//! argument types reject with a `TypeError` (or a `RangeError` for out-of-range numbers).
//! Nothing here panics on any JS input.
//!
//! Concurrency: JS may call `send` again before an earlier send has resolved, and may
//! iterate while sending. Sends (and flushes) wait in one first-come, first-served line and
//! receives in another, so data goes out and comes in in call order, and only one task at
//! a time waits on the socket's sink or stream. The socket sits in a `RefCell` that is only
//! borrowed inside a single `poll`, never across an `.await`.

// Natively only the pure modules are built, for their unit tests; what serves only the
// reconnecting socket is unused there.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

mod classes;
mod convert;
mod io;
mod line;
mod options;
#[cfg(target_arch = "wasm32")]
mod reconnect_options;
// The page's reconnecting socket: its provider's futures hold JS values, which are not
// `Send`, as the library's native build requires; natively only the pure modules are
// built (for their unit tests).
#[cfg(target_arch = "wasm32")]
mod reconnecting;
mod socket;

use wasm_bindgen::prelude::*;

// The hand-written part of the package's `.d.ts`: the types that wasm-bindgen cannot derive
// from the Rust signatures. It is a real TypeScript file so that editors and `tsc` check it.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

/// Prepares the exported classes when the module is instantiated (`init()`).
#[wasm_bindgen(start)]
fn start() {
    socket::prepare();
    #[cfg(target_arch = "wasm32")]
    reconnecting::prepare();
}
