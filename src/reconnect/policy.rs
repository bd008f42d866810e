//! [`ReconnectPolicy`]: when to reconnect, the backoff delays, and the outbox limits.

use crate::sync::{MaybeSend, MaybeSync, Shared};
use std::fmt;
use std::time::Duration;

#[cfg(doc)]
use super::ReconnectEvent;
use super::ReconnectTriggers;
use crate::close_event::CloseEvent;
#[cfg(doc)]
use crate::error::Error;

/// When and how often to reconnect, and how much to keep while disconnected.
///
/// The defaults: reconnect forever (`reconnect_limit(None)`), backoff from 500 ms up to
/// 30 s with factor 2, a connection counts as stable after 5 s, reconnect after unclean
/// closes and idle timeouts but not after a clean close by the server, an outbox of
/// 1024 messages and 1 MiB, and every [trigger](ReconnectTriggers) on.
///
/// Which closes reconnect is a rule: [`should_reconnect`](Self::should_reconnect) sets
/// your own, [`reconnect_on_clean_close`](Self::reconnect_on_clean_close) one of the two
/// built-in ones. Two policies are equal when their numbers are equal and their rules are
/// the same built-in rule or the same closure (a clone of the policy shares it).
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
    rule: Rule,
    pub(super) outbox_messages: usize,
    pub(super) outbox_bytes: usize,
    pub(super) triggers: ReconnectTriggers,
}

/// Which closes reconnect (see [`ReconnectPolicy::should_reconnect`]).
#[derive(Clone)]
enum Rule {
    /// Unclean closes always; clean ones if the flag is set.
    BuiltIn {
        clean_too: bool,
    },
    Custom(CustomRule),
}

/// A rule of the application's; `Send + Sync` natively, as the policy is.
#[cfg(target_arch = "wasm32")]
type CustomRule = Shared<dyn Fn(&CloseEvent) -> bool>;
/// A rule of the application's; `Send + Sync` natively, as the policy is.
#[cfg(not(target_arch = "wasm32"))]
type CustomRule = Shared<dyn Fn(&CloseEvent) -> bool + Send + Sync>;

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::BuiltIn { clean_too } => f
                .debug_struct("BuiltIn")
                .field("reconnect_on_clean_close", clean_too)
                .finish(),
            Rule::Custom(_) => f.write_str("Custom(<closure>)"),
        }
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        match (self, other) {
            (Rule::BuiltIn { clean_too: a }, Rule::BuiltIn { clean_too: b }) => a == b,
            (Rule::Custom(a), Rule::Custom(b)) => Shared::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            reconnect_limit: None,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2.0,
            stable_after: Duration::from_secs(5),
            rule: Rule::BuiltIn { clean_too: false },
            outbox_messages: 1024,
            outbox_bytes: 1 << 20,
            triggers: ReconnectTriggers::all(),
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
    ///
    /// A shorthand for a [`should_reconnect`](Self::should_reconnect) rule (it replaces
    /// any rule set before): `reconnect_on_clean_close(b)` is
    /// `should_reconnect(move |event| b || !event.was_clean)`.
    pub fn reconnect_on_clean_close(mut self, reconnect: bool) -> Self {
        self.rule = Rule::BuiltIn {
            clean_too: reconnect,
        };
        self
    }

    /// Decides, for each close, whether to reconnect: `rule` gets the close event and
    /// returns `true` to reconnect (after the backoff, within the
    /// [limit](Self::reconnect_limit)) or `false` to end the connection for good, as a
    /// clean close ends it by default. It replaces any rule set before (the last of
    /// `should_reconnect` and [`reconnect_on_clean_close`](Self::reconnect_on_clean_close)
    /// wins).
    ///
    /// It is asked about every connection that the server closed (clean, with its close
    /// frame's code and reason) or that was lost (`1006`, not clean, also when its close
    /// did not complete within a second). It is not asked about the closes the crate
    /// makes itself to recover, which always reconnect: the
    /// [idle timeout](crate::socket::Builder::idle_timeout) (`1000 "idle timeout"`) and a
    /// full receive queue ([`QUEUE_FULL_CODE`](crate::core::connection::QUEUE_FULL_CODE), 4009);
    /// nor about closes the application asked for, which never reconnect, nor about
    /// [`ReconnectingWebSocket::reconnect`](super::ReconnectingWebSocket::reconnect),
    /// which always does. Failed attempts (the connection never opened) are retried
    /// without asking.
    ///
    /// When the rule ends the connection after an unclean close, the stream yields
    /// [`Error::ConnectionLost`] and then ends, as a plain [`WebSocket`] does; after a
    /// clean close it just ends.
    ///
    /// ```no_run
    /// use wasm_websocket::ReconnectPolicy;
    ///
    /// // 4001 means "your session expired": do not come back; anything else reconnects,
    /// // clean closes included.
    /// let policy = ReconnectPolicy::new().should_reconnect(|event| event.code != 4001);
    /// ```
    ///
    /// [`WebSocket`]: crate::socket::WebSocket
    pub fn should_reconnect(
        mut self,
        rule: impl Fn(&CloseEvent) -> bool + MaybeSend + MaybeSync + 'static,
    ) -> Self {
        self.rule = Rule::Custom(Shared::new(rule));
        self
    }

    /// Whether the rule reconnects after a connection ended with `event`.
    pub(super) fn reconnects_after(&self, event: &CloseEvent) -> bool {
        match &self.rule {
            Rule::BuiltIn { clean_too } => *clean_too || !event.was_clean,
            Rule::Custom(rule) => rule(event),
        }
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

    /// Which events besides a close make the connection act at once: coming back
    /// online, going offline, the page becoming visible or restored, the machine waking
    /// from sleep (see [`ReconnectTriggers`]). Default: all of them.
    ///
    /// ```
    /// use wasm_websocket::{ReconnectPolicy, ReconnectTriggers};
    ///
    /// // Only the network events; no checks when the page comes back.
    /// let policy = ReconnectPolicy::new()
    ///     .triggers(ReconnectTriggers::none().online(true).offline(true));
    /// # drop(policy);
    /// ```
    pub fn triggers(mut self, triggers: ReconnectTriggers) -> Self {
        self.triggers = triggers;
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

    fn close(code: u16, was_clean: bool) -> CloseEvent {
        CloseEvent {
            code,
            reason: String::new(),
            was_clean,
        }
    }

    #[test]
    fn rules_decide_per_close_and_the_last_one_wins() {
        let refuse_4001 = ReconnectPolicy::new().should_reconnect(|e| e.code != 4001);
        assert!(!refuse_4001.reconnects_after(&close(4001, true)));
        assert!(refuse_4001.reconnects_after(&close(4002, true)));
        assert!(refuse_4001.reconnects_after(&close(1006, false)));
        let clean = refuse_4001.clone().reconnect_on_clean_close(true);
        assert!(clean.reconnects_after(&close(4001, true)));
        let custom = clean.should_reconnect(|_| false);
        assert!(!custom.reconnects_after(&close(1006, false)));
    }

    #[test]
    fn policies_compare_by_numbers_and_rule_identity() {
        assert_eq!(ReconnectPolicy::new(), ReconnectPolicy::default());
        assert_ne!(
            ReconnectPolicy::new(),
            ReconnectPolicy::new().reconnect_on_clean_close(true)
        );
        let custom = ReconnectPolicy::new().should_reconnect(|_| true);
        assert_eq!(custom, custom.clone());
        assert_ne!(custom, ReconnectPolicy::new().should_reconnect(|_| true));
        assert!(format!("{custom:?}").contains("Custom(<closure>)"));
    }

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
        assert!(!policy.reconnects_after(&close(1000, true)));
        assert!(policy.reconnects_after(&close(1006, false)));
        assert_eq!(policy.delay_cap(1), Duration::from_millis(500));
        assert_eq!(policy.delay_cap(100), Duration::from_secs(30));
        assert_eq!(
            (policy.outbox_messages, policy.outbox_bytes),
            (1024, 1 << 20)
        );
    }
}
