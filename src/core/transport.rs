//! The two interfaces between the core and whatever carries a connection: the core drives
//! a [`Transport`], and the transport reports what happens through [`Events`]. The core
//! never names a concrete transport, and a transport never names the core's types.

use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use super::queue::Incoming;
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::message::{BinaryType, Message};
use crate::state::State;

pub(crate) trait Transport {
    /// Starts reporting to `events`; called once, right after the connection is created.
    fn attach(&self, events: &Weak<dyn Events>);
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
    /// Starts the closing handshake.
    fn close(&self, code: u16, reason: &str) -> Result<(), Error>;
    /// A transport that reads only on demand (flow control) yields its next message here;
    /// one that pushes messages through `on_message` has none to give.
    fn poll_read(&self, _cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        Poll::Ready(None)
    }
    /// Whether the transport reads from the network now. One that reads only on demand
    /// does so only while a read is in flight: while its consumer pauses, the connection
    /// cannot tell whether data waits, so it must not count as idle.
    fn reading(&self) -> bool {
        true
    }
    /// Makes sure [`Events::check_drained`] runs when `buffered_amount` may have fallen.
    fn watch_drain(&self, events: &Weak<dyn Events>);
    /// Removes the transport's callbacks; the close callback stays if `keep_close`, for
    /// handles still waiting for the close event.
    fn release(&self, keep_close: bool);
}

/// What a transport reports, in the order it happens.
pub(crate) trait Events {
    /// The connection is open.
    fn on_open(self: Rc<Self>);
    /// A message arrived (transports that push them).
    fn on_message(&self, item: Incoming);
    /// A message of `size` bytes arrived that alone passes the receive queue's byte limit
    /// (which the transport is given when created), and was refused without being copied.
    fn on_refused(&self, size: usize);
    /// The connection has closed; later reports are ignored.
    fn on_close(&self, event: CloseEvent);
    /// `buffered_amount` may have fallen: wakes the sender if the level it waits for is
    /// reached (or the connection is no longer open). Returns whether it no longer waits.
    fn check_drained(&self) -> bool;
}
