//! What the core needs from whatever carries a connection.
//!
//! The core drives a transport through this trait and never names a concrete one; the
//! transports (in `crate::transport`) report events back through
//! [`Connection`](super::connection::Connection)'s `on_*` methods.

use std::task::{Context, Poll};

use super::connection::Connection;
use super::sync::{MaybeSend, Weak};
use crate::error::Error;
use crate::message::{BinaryType, Message};
use crate::state::State;

/// `MaybeSend`: natively a connection (and so its transport) is shared across threads.
pub(crate) trait Transport: MaybeSend {
    /// Starts reporting events to `connection`; called once, right after it is created.
    fn attach(&self, connection: &Weak<Connection>);
    /// The connection state, mirroring `readyState`.
    fn state(&self) -> State;
    fn url(&self) -> String;
    fn protocol(&self) -> String;
    fn extensions(&self) -> String;
    fn binary_type(&self) -> BinaryType;
    /// Bytes accepted by `send` and not yet handed to the network.
    fn buffered_amount(&self) -> u64;
    /// Sends one message; called only while the state is `Open`.
    fn send(&self, message: &Message) -> Result<(), Error>;
    /// `send` for a message the caller gives away (natively: no copy).
    #[cfg(not(target_arch = "wasm32"))]
    fn send_owned(&self, message: Message) -> Result<(), Error>;
    /// Starts the closing handshake.
    fn close(&self, code: u16, reason: &str) -> Result<(), Error>;
    /// A transport that reads only on demand (flow control) yields its next message here;
    /// one that pushes messages through `on_message` has none to give.
    fn poll_read(&self, _cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        Poll::Ready(None)
    }
    /// Sends a Ping frame where the platform can (natively); browsers cannot.
    fn ping(&self) {}
    /// Makes sure `Connection::check_drained` runs when `buffered_amount` may have fallen.
    fn watch_drain(&self, connection: &Weak<Connection>);
    /// Removes the transport's callbacks; the close callback stays if `keep_close`, for
    /// handles still waiting for the close event.
    fn release(&self, keep_close: bool);
}
