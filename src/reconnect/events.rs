//! [`ReconnectEvent`]: what happened to a reconnecting connection.

use std::ops::Range;
use std::time::Duration;

use crate::close_event::CloseEvent;
use crate::error::Error;

#[cfg(doc)]
use super::{ReconnectPolicy, ReconnectingWebSocket};

/// What happened to a [`ReconnectingWebSocket`], from [`ReconnectingWebSocket::events`].
///
/// A typical sequence: `Connected { attempt: 0 }`, later `Disconnected { .. }`,
/// `Retrying { attempt: 1, .. }`, `Connected { attempt: 1 }`. Attempts that fail report
/// `AttemptFailed` (or `ProviderFailed`) and then `Retrying` for the next one, or `GaveUp`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconnectEvent {
    /// A connection opened. `attempt` is the number of the attempt that succeeded: the
    /// `attempt` of the last `Retrying`, or 0 for the very first attempt and for one
    /// started by [`reconnect`](ReconnectingWebSocket::reconnect).
    Connected {
        /// The attempt that succeeded (0 = the very first one).
        attempt: u32,
    },
    /// The open connection ended. Messages are numbered from 0 in the order the `Sink`
    /// accepted them; `sent` and `unsent` split the ones this connection was given (see
    /// the [delivery rules](ReconnectingWebSocket#delivery)).
    Disconnected {
        /// The browser's close event; `1006`, not clean, if the connection was abandoned
        /// without one (its close did not complete within a second).
        event: CloseEvent,
        /// Messages the browser handed on to the network: each arrived, or was lost with
        /// the connection. They are not sent again.
        sent: Range<u64>,
        /// Messages the browser still counted in `bufferedAmount` when the connection
        /// ended, so the server never received them: they are sent again, first and in
        /// order, on the next connection.
        unsent: Range<u64>,
    },
    /// An attempt to connect failed with [`Error::ConnectFailed`] or [`Error::Timeout`]
    /// (then `Retrying` or `GaveUp` follows), or with an error that retrying cannot
    /// fix (then `GaveUp` follows).
    AttemptFailed(Error),
    /// The [provider](ReconnectingWebSocket::with_provider) of an attempt's URL failed
    /// with this error (the one it returned). It counts as a failed attempt: `Retrying`
    /// or, at the [limit](ReconnectPolicy::reconnect_limit), `GaveUp` follows, whatever
    /// the error.
    ProviderFailed(Error),
    /// Attempt `attempt` (1-based, counted since the last
    /// [stable](ReconnectPolicy::stable_after) connection or the start) starts after
    /// `delay`.
    Retrying {
        /// The attempt about to be made.
        attempt: u32,
        /// How long the connection waits before it.
        delay: Duration,
    },
    /// The [reconnect limit](ReconnectPolicy::reconnect_limit) was reached, or an attempt
    /// failed in a way retrying cannot fix: the connection has ended for good.
    GaveUp,
}
