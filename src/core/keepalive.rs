//! Heartbeat and idle timeout, as pure logic.
//!
//! A timer ticks at a quarter of the shorter period, and only while the connection is
//! open. The message path does no JS call for it: receiving and sending bump plain
//! counters, and each tick compares them with the previous tick. So a heartbeat goes out
//! after 1 to 1.25 heartbeat intervals without a send, and an idle connection is declared
//! lost after 1 to 1.25 idle timeouts without a received message. The plain socket and the
//! reconnecting one both tick an [`Activity`] with this logic; each owns its timer.

use std::time::Duration;

use crate::message::Message;
use crate::timer::{millis as timer_millis, whole_millis};

const TICKS_PER_PERIOD: u32 = 4;

/// What the builder asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeepaliveConfig {
    pub(crate) heartbeat: Option<(Duration, Message)>,
    pub(crate) idle_timeout: Option<Duration>,
}

impl KeepaliveConfig {
    /// Whether a timer is needed at all.
    pub(crate) fn is_active(&self) -> bool {
        self.heartbeat.is_some() || self.idle_timeout.is_some()
    }

    /// Moves the heartbeat out of this configuration into one of its own, for a caller
    /// that sends heartbeats itself (the reconnecting socket, which must account for their
    /// bytes) and ticks an [`Activity`] with it. This socket's timer then runs only if an
    /// idle timeout still needs it.
    // Natively unused until the reconnecting socket runs there too.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn take_heartbeat(&mut self) -> Option<KeepaliveConfig> {
        let heartbeat = self.heartbeat.take()?;
        Some(KeepaliveConfig {
            heartbeat: Some(heartbeat),
            idle_timeout: None,
        })
    }

    /// The tick of the timer that drives [`Activity::tick`].
    pub(crate) fn tick_millis(&self) -> u32 {
        let shortest = [self.heartbeat.as_ref().map(|h| h.0), self.idle_timeout]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(Duration::from_secs(1));
        (timer_millis(shortest) / TICKS_PER_PERIOD).max(1)
    }

    /// How many quiet ticks make `period`. The last activity happened somewhere in the tick
    /// before the first quiet one, so `n` quiet ticks mean `n` to `n + 1` ticks of quiet.
    /// Not capped like a timer delay: a period longer than a JS timer can wait still takes
    /// as long as it says (the timer only ticks more often than a quarter of it).
    fn ticks_for(&self, period: Duration) -> u64 {
        whole_millis(period)
            .div_ceil(u64::from(self.tick_millis()))
            .max(1)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn config(heartbeat_ms: Option<u64>, idle_ms: Option<u64>) -> KeepaliveConfig {
        KeepaliveConfig {
            heartbeat: heartbeat_ms.map(|ms| (Duration::from_millis(ms), Message::from("ping"))),
            idle_timeout: idle_ms.map(Duration::from_millis),
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
    fn taking_the_heartbeat_stops_the_timer_unless_idle_needs_it() {
        let mut only_heartbeat = config(Some(400), None);
        let taken = only_heartbeat.take_heartbeat().expect("a heartbeat");
        assert!(!only_heartbeat.is_active());
        assert_eq!(taken.tick_millis(), 100);
        let mut both = config(Some(400), Some(1000));
        assert!(both.take_heartbeat().is_some());
        assert!(both.is_active());
        assert!(config(None, Some(1)).take_heartbeat().is_none());
    }

    #[test]
    fn a_period_beyond_the_timer_maximum_is_not_cut_short() {
        let config = config(None, Some(u64::MAX));
        let mut activity = Activity::default();
        // A tick is a quarter of the longest timer delay (about 6.2 days); 24.8 days of
        // quiet are nowhere near `Duration::MAX`.
        for _ in 0..100 {
            assert_eq!(activity.tick(&config), Due::Nothing);
        }
        let month = config_days(30);
        let mut activity = Activity::default();
        let ticks = (1..=10).find(|_| activity.tick(&month) == Due::Idle);
        // 30 days at 6.2-day ticks: idle after 5 quiet ticks, not after 4 (24.8 days).
        assert_eq!(ticks, Some(5));
    }

    fn config_days(days: u64) -> KeepaliveConfig {
        config(None, Some(days * 86_400_000))
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Any pair of durations: the tick is a usable timer delay, and idle is declared
        /// after at least the timeout (in ticks) and at most 1.25 timeouts plus one tick.
        #[test]
        fn any_durations_give_sane_ticks(heartbeat in 1u64..u64::MAX, idle in 1u64..u64::MAX) {
            let config = config(Some(heartbeat), Some(idle));
            let tick = u64::from(config.tick_millis());
            proptest::prop_assert!((1..=u64::from(i32::MAX as u32)).contains(&tick));
            let ticks = config.ticks_for(Duration::from_millis(idle));
            proptest::prop_assert!(ticks >= 1);
            proptest::prop_assert!(ticks.saturating_mul(tick) >= idle.min(u64::MAX - tick));
        }
    }

    #[test]
    fn tick_is_at_least_one_millisecond() {
        assert_eq!(config(Some(1), None).tick_millis(), 1);
        assert_eq!(config(None, None).tick_millis(), 250);
    }
}
