//! What carries a connection: the browser's classic `WebSocket` or `WebSocketStream` on
//! wasm32, tokio-tungstenite elsewhere. Each implements the core's
//! [`Transport`](crate::core::connection::Transport) trait.

#[cfg(target_arch = "wasm32")]
pub(crate) mod classic;
#[cfg(target_arch = "wasm32")]
mod drain;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod native;
#[cfg(target_arch = "wasm32")]
pub(crate) mod stream;
