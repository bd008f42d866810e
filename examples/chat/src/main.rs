//! One chat client, one source: built for `wasm32-unknown-unknown` it is a web page
//! ([`web`]), built natively a terminal program ([`terminal`]). Both run the same chat
//! ([`chat`]) on `wasm_websocket::WebSocket`; only how lines come in and how events are
//! shown differs.
//!
//! Page: `cargo build --target wasm32-unknown-unknown -p chat`, then
//! `wasm-bindgen --target web --out-dir pkg --out-name app <target>/wasm32-unknown-unknown/debug/chat.wasm`
//! next to `index.html`. Terminal: `cargo run -p chat -- --url ws://127.0.0.1:8080/chat`.
//! See `examples/README.md`.

mod chat;
#[cfg(not(target_arch = "wasm32"))]
mod terminal;
#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
fn main() {
    web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    terminal::main()
}
