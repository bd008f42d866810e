//! Heartbeat and idle timeout.
//!
//! One `gloo-timers` interval per open socket, ticking at a quarter of the shorter period,
//! and only while the socket is open. The message path does no JS call for it: receiving
//! and sending bump plain counters, and each tick compares them with the previous tick.
//! So a heartbeat goes out after 1 to 1.25 heartbeat intervals without a send, and an idle
//! connection is declared lost after 1 to 1.25 idle timeouts without a received message.

use std::rc::Weak;
use std::time::Duration;

use gloo_timers::callback::Interval;

use crate::listeners::LiveToken;
use crate::socket::Shared;
use crate::Message;

const TICKS_PER_PERIOD: u32 = 4;

/// A duration as a `setTimeout` delay: whole milliseconds, at most `i32::MAX` (the largest
/// delay browsers accept). Plain 64-bit arithmetic: `Duration::as_millis` is 128-bit and
/// would link 128-bit division into every client.
pub(crate) fn timer_millis(duration: Duration) -> u32 {
    let millis = duration
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(duration.subsec_millis()));
    millis.min(i32::MAX as u64) as u32
}

type Start = fn(&KeepaliveConfig, Weak<Shared>) -> Keepalive;

/// What the builder asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeepaliveConfig {
    pub(crate) heartbeat: Option<(Duration, Message)>,
    pub(crate) idle_timeout: Option<Duration>,
    /// Set by the builder methods that need the timer: the timer code is reachable only
    /// through them, so a program that never calls them links none of it.
    start: Option<Start>,
}

impl KeepaliveConfig {
    pub(crate) fn enable(&mut self) {
        self.start = Some(Keepalive::start);
    }

    /// Starts the timer for an open socket, if one was asked for.
    pub(crate) fn start(&self, socket: Weak<Shared>) -> Option<Keepalive> {
        self.start.map(|start| start(self, socket))
    }

    fn tick_millis(&self) -> u32 {
        let shortest = [self.heartbeat.as_ref().map(|h| h.0), self.idle_timeout]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::from_secs(1));
        (timer_millis(shortest) / TICKS_PER_PERIOD).max(1)
    }

    /// How many quiet ticks make `period`. The last activity happened somewhere in the tick
    /// before the first quiet one, so `n` quiet ticks mean `n` to `n + 1` ticks of quiet.
    fn ticks_for(&self, period: Duration) -> u64 {
        u64::from(timer_millis(period).div_ceil(self.tick_millis()).max(1))
    }
}

/// The per-socket timer state; dropping it stops the interval.
pub(crate) struct Keepalive {
    _interval: Interval,
    _live: LiveToken,
}

/// Counters the tick compares between ticks.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    pub(crate) received: u64,
    pub(crate) sent: u64,
    seen_received: u64,
    seen_sent: u64,
    quiet_receive_ticks: u64,
    quiet_send_ticks: u64,
}

/// What a tick decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Due {
    Nothing,
    Heartbeat,
    Idle,
}

impl Activity {
    pub(crate) fn tick(&mut self, config: &KeepaliveConfig) -> Due {
        if self.received == self.seen_received {
            self.quiet_receive_ticks += 1;
        } else {
            self.seen_received = self.received;
            self.quiet_receive_ticks = 0;
        }
        if self.sent == self.seen_sent {
            self.quiet_send_ticks += 1;
        } else {
            self.seen_sent = self.sent;
            self.quiet_send_ticks = 0;
        }
        if let Some(idle) = config.idle_timeout {
            if self.quiet_receive_ticks >= config.ticks_for(idle) {
                return Due::Idle;
            }
        }
        if let Some((interval, _)) = &config.heartbeat {
            if self.quiet_send_ticks >= config.ticks_for(*interval) {
                self.quiet_send_ticks = 0;
                return Due::Heartbeat;
            }
        }
        Due::Nothing
    }
}

impl Keepalive {
    pub(crate) fn start(config: &KeepaliveConfig, socket: Weak<Shared>) -> Self {
        let interval = Interval::new(config.tick_millis(), move || {
            if let Some(shared) = socket.upgrade() {
                shared.keepalive_tick();
            }
        });
        Keepalive {
            _interval: interval,
            _live: LiveToken::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(heartbeat_ms: Option<u64>, idle_ms: Option<u64>) -> KeepaliveConfig {
        KeepaliveConfig {
            heartbeat: heartbeat_ms.map(|ms| (Duration::from_millis(ms), Message::from("ping"))),
            idle_timeout: idle_ms.map(Duration::from_millis),
            start: None,
        }
    }

    #[test]
    fn idle_after_one_to_one_and_a_quarter_periods() {
        let config = config(None, Some(400)); // tick 100 ms
        assert_eq!(config.tick_millis(), 100);
        let mut activity = Activity::default();
        // A message arrives just before the first tick: the quiet time is then at least
        // (ticks - 1) * 100 ms when idle is declared.
        activity.received += 1;
        let mut ticks = 0;
        loop {
            ticks += 1;
            if activity.tick(&config) == Due::Idle {
                break;
            }
        }
        // The message came at most one tick before the first tick.
        let quiet_at_least = (ticks - 1) * 100;
        let quiet_at_most = ticks * 100;
        assert_eq!((quiet_at_least, quiet_at_most), (400, 500));
    }

    #[test]
    fn traffic_prevents_idle_and_heartbeat() {
        let config = config(Some(200), Some(200));
        let mut activity = Activity::default();
        for _ in 0..100 {
            activity.received += 1;
            activity.sent += 1;
            assert_eq!(activity.tick(&config), Due::Nothing);
        }
    }

    #[test]
    fn heartbeat_repeats_while_quiet() {
        let config = config(Some(400), None);
        let mut activity = Activity::default();
        let beats: Vec<u32> = (1..=20)
            .filter(|_| activity.tick(&config) == Due::Heartbeat)
            .collect();
        assert_eq!(beats, [4, 8, 12, 16, 20]);
    }

    #[test]
    fn tick_is_at_least_one_millisecond() {
        assert_eq!(config(Some(1), None).tick_millis(), 1);
        assert_eq!(config(None, None).tick_millis(), 250);
    }
}
