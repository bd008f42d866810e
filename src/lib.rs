//! The browser's [`WebSocket`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket)
//! as an idiomatic [`futures`](https://docs.rs/futures) `Stream` + `Sink`, for
//! `wasm32-unknown-unknown` on the browser main thread and in Web Workers; and the same API
//! on every other target under tokio, through `tokio-tungstenite` (TLS with rustls), where
//! the socket, its halves, its [`Handle`] and its futures are `Send`.
//!
//! ```no_run
//! use futures::{SinkExt, StreamExt};
//! use wasm_websocket::{CloseCode, Message, WebSocket};
//!
//! # async fn run() -> Result<(), wasm_websocket::Error> {
//! let mut ws = WebSocket::connect("wss://example.org/echo").await?;
//! ws.send(Message::from("hello")).await?; // waits for the send buffer to drain
//! while let Some(message) = ws.next().await {
//!     match message? {
//!         Message::Text(text) => web_sys_log(&text),
//!         Message::Binary(bytes) => web_sys_log(&format!("{} bytes", bytes.len())),
//!     }
//!     break;
//! }
//! let event = ws.close(CloseCode::NORMAL, "done").await?;
//! assert!(event.was_clean);
//! # Ok(()) }
//! # fn web_sys_log(_: &str) {}
//! ```
//!
//! What it adds over the raw browser object and other wrappers:
//! - **Backpressure**: the `Sink` waits while `bufferedAmount` is above a high-water mark
//!   (1 MiB by default), and `flush` waits until the browser has handed everything to the
//!   network.
//! - **Nothing is lost silently**: sending on a closing or closed socket is
//!   [`Error::NotOpen`] (the browser would drop the data without a word), and an unclean
//!   close ends the stream with [`Error::ConnectionLost`].
//! - **Order**: with [`BinaryType::Blob`] each Blob is read asynchronously, yet messages
//!   still come out in wire order.
//! - **Typed errors** for every bad input, checked before the browser is called where the
//!   browser's own error would be ambiguous: [`CloseCode`], close reasons over 123 bytes,
//!   subprotocol tokens.
//! - **Close after split** through a cloneable [`Handle`], and **no leaked closures**:
//!   every JS listener is removed on drop ([`live_listeners`] counts them).
//! - **Connect timeouts** ([`Builder::connect_timeout`]), heartbeat and idle timeout.
//! - **Reconnection**: [`ReconnectingWebSocket`] with exponential backoff and full jitter,
//!   an outbox that loses nothing the browser never sent, and connection events.
//! - **Receive flow control** with [`Backend::Stream`] (`WebSocketStream`), and a bounded
//!   receive queue for the classic socket ([`Builder::max_queued`]).
//! - **Native targets**: connect failures say what happened (e.g. "HTTP 403 Forbidden"),
//!   [`Builder::header`] adds request headers, heartbeats also send Ping frames.
//! - **Byte streams** (crate feature `io`): `WebSocket::into_io` gives a `ByteStream`,
//!   an `AsyncRead` + `AsyncBufRead` + `AsyncWrite` for codecs and other byte-oriented
//!   code, with backpressure and exact end-of-stream and error semantics.
//! - **Typed messages** (crate feature `codec`): `WebSocket::with_codec::<Tx, Rx, C>()`
//!   (and the same on [`ReconnectingWebSocket`]) sends and receives your own types through
//!   a [`codee`](https://docs.rs/codee) codec, e.g. JSON as text or MessagePack as binary.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod close;
mod close_event;
#[cfg(feature = "codec")]
mod codec;
mod core;
mod error;
#[cfg(any(feature = "yew", feature = "leptos"))]
mod hooks;
#[cfg(feature = "io")]
mod io;
mod listeners;
mod message;
mod reconnect;
mod socket;
mod state;
mod sync;
mod text;
#[cfg(feature = "io")]
mod text_policy;
mod timer;
mod transport;
mod waker;

pub use crate::core::connection::QUEUE_FULL_CODE;
pub use close::CloseCode;
pub use close_event::{CloseEvent, MAX_REASON_BYTES};
#[cfg(feature = "codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "codec")))]
pub use codec::TypedWebSocket;
pub use error::Error;
#[cfg(feature = "io")]
#[cfg_attr(docsrs, doc(cfg(feature = "io")))]
pub use io::{ByteStream, TextPolicy, DEFAULT_MAX_MESSAGE_SIZE};
pub use listeners::live_listeners;
pub use message::{BinaryType, Message};
pub use reconnect::{
    ConnectTarget, ReconnectCloseFuture, ReconnectEvent, ReconnectEvents, ReconnectHandle,
    ReconnectPolicy, ReconnectTriggers, ReconnectingWebSocket,
};
pub use socket::{
    set_default_backend, Backend, Builder, CloseFuture, ClosedFuture, ConnectFuture, Handle,
    WebSocket, DEFAULT_HIGH_WATER_MARK,
};
pub use state::State;
pub use sync::{MaybeSend, MaybeSync};

#[cfg(feature = "leptos")]
#[cfg_attr(docsrs, doc(cfg(feature = "leptos")))]
pub use hooks::leptos;

// README.md's Rust snippets are compiled as doc tests (its typed examples need `codec`).
#[cfg(all(doctest, feature = "codec"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
#[cfg(feature = "yew")]
#[cfg_attr(docsrs, doc(cfg(feature = "yew")))]
pub use hooks::yew;
