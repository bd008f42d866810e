//! [`ConnectTarget`]: the URL and subprotocols of one attempt, as a provider given to
//! [`ReconnectingWebSocket::with_provider`] returns them.

use crate::sync::MaybeSend;
use std::future::Future;
use std::pin::Pin;

use crate::error::Error;

#[cfg(doc)]
use super::ReconnectingWebSocket;

/// Where one attempt of a [`ReconnectingWebSocket`] connects: a URL and the subprotocols
/// to offer. A provider returns one before every attempt (see
/// [`ReconnectingWebSocket::with_provider`]); the builder's other settings apply
/// unchanged.
///
/// ```
/// use wasm_websocket::ConnectTarget;
///
/// let target = ConnectTarget::new("wss://example.org/live?token=abc").protocols(["v2"]);
/// assert_eq!(target.url(), "wss://example.org/live?token=abc");
/// assert_eq!(target.protocol_list(), ["v2"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a target does nothing until a provider returns it"]
pub struct ConnectTarget {
    pub(super) url: String,
    pub(super) protocols: Vec<String>,
}

impl ConnectTarget {
    /// A target with `url` (resolved and checked like
    /// [`WebSocket::builder`](crate::socket::WebSocket::builder)'s) and no subprotocols.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectTarget {
            url: url.into(),
            protocols: Vec::new(),
        }
    }

    /// The subprotocols to offer, in order of preference (checked like
    /// [`Builder::protocols`](crate::socket::Builder::protocols)). Replaces the
    /// builder's list for this attempt; without this call none are offered.
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The subprotocols.
    pub fn protocol_list(&self) -> &[String] {
        &self.protocols
    }
}

/// What a provider returns: the target of one attempt, later (`Send` natively, as the
/// driver's task is).
#[cfg(target_arch = "wasm32")]
pub(super) type TargetFuture = Pin<Box<dyn Future<Output = Result<ConnectTarget, Error>>>>;
/// What a provider returns: the target of one attempt, later (`Send` natively, as the
/// driver's task is).
#[cfg(not(target_arch = "wasm32"))]
pub(super) type TargetFuture = Pin<Box<dyn Future<Output = Result<ConnectTarget, Error>> + Send>>;

/// The per-attempt provider, type-erased: the attempt number in, the target later. Only
/// the driver calls it, under the lock of its state, so natively it need not be `Sync`.
#[cfg(target_arch = "wasm32")]
pub(super) type Provider = Box<dyn Fn(u32) -> TargetFuture>;
/// The per-attempt provider, type-erased: the attempt number in, the target later. Only
/// the driver calls it, under the lock of its state, so natively it need not be `Sync`.
#[cfg(not(target_arch = "wasm32"))]
pub(super) type Provider = Box<dyn Fn(u32) -> TargetFuture + Send>;

/// Erases `provider`'s types.
pub(super) fn provider<F, Fut>(provider: F) -> Provider
where
    F: Fn(u32) -> Fut + MaybeSend + 'static,
    Fut: Future<Output = Result<ConnectTarget, Error>> + MaybeSend + 'static,
{
    Box::new(move |attempt| Box::pin(provider(attempt)) as TargetFuture)
}
