//! A connection that reconnects by itself: [`ReconnectingWebSocket`].
//!
//! - `policy` has [`ReconnectPolicy`], the backoff delays and the outbox limits;
//! - `events` has [`ReconnectEvent`];
//! - `target` has [`ConnectTarget`], what a per-attempt provider returns;
//! - `triggers` has [`ReconnectTriggers`], the browser events it acts on, and `wake`
//!   the listeners for them (wasm32);
//! - `outbox` and `machine` are the pure state machine, which decides everything from
//!   the inputs it is given (the time and the randomness included) and owns the outbox;
//!   they are tested natively;
//! - `driver` is the background task that runs the machine against real sockets and
//!   timers, and `platform` what it takes from the platform (clock, randomness, spawn);
//! - `shared` and `socket` are the state the public halves share with the driver, and
//!   the public halves themselves.

mod driver;
mod events;
mod machine;
mod outbox;
mod platform;
mod policy;
#[cfg(all(test, not(target_arch = "wasm32")))]
mod proptests;
mod shared;
mod socket;
mod target;
#[cfg(test)]
mod tests;
mod triggers;
#[cfg(target_arch = "wasm32")]
mod wake;

pub use events::ReconnectEvent;
pub use policy::ReconnectPolicy;
pub use socket::{ReconnectCloseFuture, ReconnectEvents, ReconnectHandle, ReconnectingWebSocket};
pub use target::ConnectTarget;
pub use triggers::ReconnectTriggers;

/// How many messages of an ended connection may still wait for the reader when the next
/// attempt starts. While a connection is open the reader takes its messages straight from
/// the socket, so [`Backend::Stream`](crate::socket::Backend::Stream) keeps its flow
/// control and [`Builder::max_queued`](crate::socket::Builder::max_queued) keeps bounding
/// the classic socket's queue. An ending connection is read to its end (those messages are
/// in memory already), and the next attempt waits until the reader has taken all but this
/// many: so what is queued never exceeds one connection's backlog plus this.
const READ_AHEAD: usize = 64;

/// How long a connection that the crate itself closed (idle timeout, receive queue full)
/// or that is closing without having been asked to may take to report its close event,
/// counted from when it starts ending, before it is abandoned: a dead peer never
/// completes the closing handshake, and browsers wait up to a minute for it.
const CLOSE_GRACE_MS: u32 = 1000;
