//! [`ReconnectPolicy`]: when to reconnect, the backoff delays, and the outbox limits.

use std::time::Duration;

#[cfg(doc)]
use super::ReconnectEvent;
#[cfg(doc)]
use crate::error::Error;

/// When and how often to reconnect, and how much to keep while disconnected.
///
/// The defaults: reconnect forever (`reconnect_limit(None)`), backoff from 500 ms up to
/// 30 s with factor 2, a connection counts as stable after 5 s, reconnect after unclean
/// closes and idle timeouts but not after a clean close by the server, and an outbox of
/// 1024 messages and 1 MiB.
///
/// ```no_run
/// use std::time::Duration;
/// use wasm_websocket::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::new()
///     .reconnect_limit(Some(10))
///     .backoff(Duration::from_millis(250), Duration::from_secs(10), 2.0)
///     .stable_after(Duration::from_secs(2))
///     .reconnect_on_clean_close(true)
///     .outbox_limit(256, 64 * 1024);
/// assert_eq!(policy.delay_cap(3), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a policy does nothing until it is given to `ReconnectingWebSocket::new`"]
pub struct ReconnectPolicy {
    pub(super) reconnect_limit: Option<u32>,
    initial: Duration,
    max: Duration,
    factor: f64,
    pub(super) stable_after: Duration,
    pub(super) reconnect_on_clean_close: bool,
    pub(super) outbox_messages: usize,
    pub(super) outbox_bytes: usize,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            reconnect_limit: None,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2.0,
            stable_after: Duration::from_secs(5),
            reconnect_on_clean_close: false,
            outbox_messages: 1024,
            outbox_bytes: 1 << 20,
        }
    }
}

impl ReconnectPolicy {
    /// The default policy (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// How many attempts may follow the last [stable](Self::stable_after) connection (or
    /// the start) before the connection gives up ([`ReconnectEvent::GaveUp`]); `None`
    /// (the default) never gives up. `Some(0)` never reconnects and makes one attempt at
    /// the start. An attempt counts whether it fails or opens a connection that ends
    /// before it is stable, so a server that accepts and drops every connection at once
    /// meets growing delays and, with a limit, the end.
    pub fn reconnect_limit(mut self, limit: Option<u32>) -> Self {
        self.reconnect_limit = limit;
        self
    }

    /// Exponential backoff with full jitter: before attempt `n` (1 for the first attempt
    /// after a disconnect or failure) the connection waits a random time in
    /// `[0, min(max, initial * factor^(n - 1))]` (see [`delay_cap`](Self::delay_cap)).
    /// A `factor` below 1 (or NaN) is taken as 1.
    pub fn backoff(mut self, initial: Duration, max: Duration, factor: f64) -> Self {
        self.initial = initial;
        self.max = max;
        self.factor = factor;
        self
    }

    /// How long a connection must stay open to count as stable: when a stable connection
    /// ends, the attempt count and the backoff start again from the beginning (the next
    /// attempt is 1, with a delay of at most `initial`). Default 5 s.
    pub fn stable_after(mut self, duration: Duration) -> Self {
        self.stable_after = duration;
        self
    }

    /// Whether a clean close by the server (a close frame, e.g. 1001 "going away" or 1012
    /// "service restart") reconnects too; `false` by default, when such a close ends the
    /// connection for good. Unclean closes and idle timeouts always reconnect, and a
    /// close the application asked for never does.
    pub fn reconnect_on_clean_close(mut self, reconnect: bool) -> Self {
        self.reconnect_on_clean_close = reconnect;
        self
    }

    /// Bounds the outbox: messages accepted by the `Sink` and not yet handed to a socket.
    /// `poll_ready` is ready while the outbox holds fewer than `messages` messages and at
    /// most `bytes` payload bytes (so one message may take it past `bytes`). When it is
    /// full, `poll_ready` waits while a connection is open (it is draining) and fails
    /// with [`Error::OutboxFull`] while none is. `messages` is at least 1. Default: 1024
    /// messages, 1 MiB.
    pub fn outbox_limit(mut self, messages: usize, bytes: usize) -> Self {
        self.outbox_messages = messages.max(1);
        self.outbox_bytes = bytes;
        self
    }

    /// The longest delay before attempt `attempt` (1-based):
    /// `min(max, initial * factor^(attempt - 1))`. The actual delay is uniformly random in
    /// `[0, delay_cap(attempt)]`, in whole milliseconds.
    pub fn delay_cap(&self, attempt: u32) -> Duration {
        let factor = if self.factor >= 1.0 { self.factor } else { 1.0 };
        let exponent = attempt.saturating_sub(1).min(i32::MAX as u32) as i32;
        let cap = self.initial.as_secs_f64() * factor.powi(exponent);
        if cap.is_finite() && cap < self.max.as_secs_f64() {
            Duration::from_secs_f64(cap)
        } else {
            self.max
        }
    }

    /// The delay for `attempt`, given a random number in `[0, 1)`.
    pub(super) fn delay(&self, attempt: u32, random: f64) -> Duration {
        let cap_ms = self.delay_cap(attempt).as_secs_f64() * 1000.0;
        let ms = (random.clamp(0.0, 1.0) * cap_ms).floor();
        Duration::from_millis(ms.min(cap_ms.floor()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_caps_grow_exponentially_up_to_max() {
        let policy = ReconnectPolicy::new().backoff(
            Duration::from_millis(100),
            Duration::from_millis(1000),
            2.0,
        );
        let caps: Vec<u128> = (1..=7).map(|n| policy.delay_cap(n).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(policy.delay_cap(0).as_millis(), 100);
        assert_eq!(policy.delay_cap(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn odd_factors_and_bounds() {
        let ms = Duration::from_millis;
        let flat = ReconnectPolicy::new().backoff(ms(50), ms(500), 0.5);
        assert_eq!(flat.delay_cap(10), ms(50));
        let nan = ReconnectPolicy::new().backoff(ms(50), ms(500), f64::NAN);
        assert_eq!(nan.delay_cap(10), ms(50));
        let inf = ReconnectPolicy::new().backoff(ms(50), ms(500), f64::INFINITY);
        assert_eq!(inf.delay_cap(1), ms(50));
        assert_eq!(inf.delay_cap(2), ms(500));
        // An initial delay above the maximum is capped.
        let high = ReconnectPolicy::new().backoff(ms(900), ms(500), 2.0);
        assert_eq!(high.delay_cap(1), ms(500));
        let zero = ReconnectPolicy::new().backoff(ms(0), ms(0), 2.0);
        assert_eq!(zero.delay(5, 0.7), Duration::ZERO);
    }

    #[test]
    fn full_jitter_stays_within_the_cap() {
        let policy =
            ReconnectPolicy::new().backoff(Duration::from_millis(100), Duration::from_secs(1), 3.0);
        assert_eq!(policy.delay(1, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(1, 0.5), Duration::from_millis(50));
        assert_eq!(policy.delay(2, 0.999_999), Duration::from_millis(299));
        assert_eq!(policy.delay(2, 1.0), Duration::from_millis(300));
        assert_eq!(policy.delay(9, 2.0), Duration::from_secs(1));
    }

    #[test]
    fn policy_defaults() {
        let policy = ReconnectPolicy::default();
        assert_eq!(policy.reconnect_limit, None);
        assert_eq!(policy.stable_after, Duration::from_secs(5));
        assert!(!policy.reconnect_on_clean_close);
        assert_eq!(policy.delay_cap(1), Duration::from_millis(500));
        assert_eq!(policy.delay_cap(100), Duration::from_secs(30));
        assert_eq!(
            (policy.outbox_messages, policy.outbox_bytes),
            (1024, 1 << 20)
        );
    }
}
