//! What carries a connection: the browser's classic `WebSocket`, or `WebSocketStream`.
//! Each implements the core's [`Transport`](crate::core::connection::Transport) trait.

pub(crate) mod classic;
mod drain;
pub(crate) mod stream;
