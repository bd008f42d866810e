use std::fmt;

use super::futures::{CloseFuture, ClosedFuture};
#[cfg(doc)]
use super::WebSocket;
use crate::close::CloseCode;
use crate::core::connection::Connection;
use crate::state::State;
use crate::sync::Shared;

/// A cheap, cloneable control handle for a [`WebSocket`], from [`WebSocket::handle`].
///
/// It works after `StreamExt::split` and after the socket itself is dropped: `state()`
/// still mirrors `readyState`, and `closed()` still resolves once the close completes.
#[derive(Clone)]
pub struct Handle {
    pub(super) connection: Shared<Connection>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("url", &self.connection.url())
            .field("state", &self.state())
            .finish()
    }
}

impl Handle {
    /// See [`WebSocket::state`].
    pub fn state(&self) -> State {
        self.connection.state()
    }

    /// See [`WebSocket::buffered_amount`].
    pub fn buffered_amount(&self) -> u64 {
        self.connection.buffered_amount()
    }

    /// See [`WebSocket::url`].
    pub fn url(&self) -> String {
        self.connection.url()
    }

    /// See [`WebSocket::protocol`].
    pub fn protocol(&self) -> String {
        self.connection.protocol()
    }

    /// See [`WebSocket::extensions`].
    pub fn extensions(&self) -> String {
        self.connection.extensions()
    }

    /// See [`WebSocket::close`].
    ///
    /// # Errors
    /// As [`WebSocket::close`].
    pub fn close(&self, code: CloseCode, reason: &str) -> CloseFuture {
        CloseFuture::start(&self.connection, code, reason)
    }

    /// See [`WebSocket::closed`].
    pub fn closed(&self) -> ClosedFuture {
        ClosedFuture {
            connection: self.connection.clone(),
        }
    }
}
