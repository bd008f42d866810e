//! The crate's one timer implementation: JS timers (through `gloo-timers`) owned by Rust
//! on wasm32; natively a tokio task that sleeps, aborted when the timer is dropped.
//!
//! A [`Timer`] runs a callback and is cleared when dropped, so no callback outlives its
//! owner. An [`Alarm`] is a timer a task polls instead: it counts firings and wakes the
//! task that polled it last.

use std::task::{Context, Waker};
use std::time::Duration;

#[cfg(target_arch = "wasm32")]
use gloo_timers::callback::{Interval, Timeout};

use crate::listeners::LiveToken;
use crate::sync::{Counter, Lock, MaybeSend, Shared};
use crate::waker::store_waker;

/// The longest delay a JS timer can wait: `setTimeout` takes a signed 32-bit count of
/// milliseconds (about 24.8 days); browsers fire longer delays at once.
pub(crate) const MAX_DELAY_MS: u32 = i32::MAX as u32;

/// A duration in whole milliseconds, saturating. Plain 64-bit arithmetic:
/// `Duration::as_millis` is 128-bit and would link 128-bit division into every client.
pub(crate) fn whole_millis(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_mul(1000)
        .saturating_add(u64::from(duration.subsec_millis()))
}

/// A duration as a timer delay: whole milliseconds, at most [`MAX_DELAY_MS`].
pub(crate) fn millis(duration: Duration) -> u32 {
    whole_millis(duration).min(u64::from(MAX_DELAY_MS)) as u32
}

/// A JS timer that calls its callback once or repeatedly; dropping it clears the timer.
/// Dropping it from its own callback is allowed: wasm-bindgen frees a closure only once
/// its call has returned (natively the abort takes effect at the task's next await).
#[must_use = "the timer is cleared when dropped"]
pub(crate) struct Timer {
    // A `Timeout` or an `Interval`, held for its `Drop` (which clears the JS timer). Type
    // erased, so a program that never ticks links no `setInterval`/`clearInterval`.
    #[cfg(target_arch = "wasm32")]
    _handle: Box<dyn std::any::Any>,
    /// The sleeping task; `None` outside a tokio runtime (the timer then never fires,
    /// rather than panicking).
    #[cfg(not(target_arch = "wasm32"))]
    task: Option<tokio::task::JoinHandle<()>>,
}

#[cfg(target_arch = "wasm32")]
impl Timer {
    /// Calls `f` once after `ms` milliseconds.
    pub(crate) fn once(ms: u32, f: impl FnOnce() + MaybeSend + 'static) -> Timer {
        Timer {
            _handle: Box::new(Timeout::new(ms, f)),
        }
    }

    /// Calls `f` every `ms` milliseconds.
    pub(crate) fn every(ms: u32, f: impl FnMut() + MaybeSend + 'static) -> Timer {
        Timer {
            _handle: Box::new(Interval::new(ms, f)),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Timer {
    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) -> Timer {
        Timer {
            task: tokio::runtime::Handle::try_current()
                .ok()
                .map(|runtime| runtime.spawn(task)),
        }
    }

    /// Calls `f` once after `ms` milliseconds.
    pub(crate) fn once(ms: u32, f: impl FnOnce() + MaybeSend + 'static) -> Timer {
        Timer::spawn(async move {
            tokio::time::sleep(Duration::from_millis(u64::from(ms))).await;
            f();
        })
    }

    /// Calls `f` every `ms` milliseconds.
    pub(crate) fn every(ms: u32, mut f: impl FnMut() + MaybeSend + 'static) -> Timer {
        let period = Duration::from_millis(u64::from(ms.max(1)));
        Timer::spawn(async move {
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            // Like a JS interval: a late tick is not made up for with a burst.
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                f();
            }
        })
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Timer")
    }
}

#[cfg(target_arch = "wasm32")]
#[allow(dead_code)]
type Tick = Box<dyn FnMut()>;
#[cfg(not(target_arch = "wasm32"))]
#[allow(dead_code)]
type Tick = Box<dyn FnMut() + Send + Sync>;

#[derive(Default)]
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Fired {
    count: Counter,
    waker: Lock<Option<Waker>>,
}

/// A timer a task polls: counts firings and wakes the task; counted in
/// [`live_listeners`](crate::live_listeners) while it exists.
// Natively unused until the reconnecting socket runs there too.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) struct Alarm {
    fired: Shared<Fired>,
    seen: u64,
    _timer: Timer,
    _live: LiveToken,
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
impl Alarm {
    fn new(make: impl FnOnce(Tick) -> Timer) -> Alarm {
        let fired = Shared::new(Fired::default());
        let state = fired.clone();
        let timer = make(Box::new(move || {
            state.count.set(state.count.get().wrapping_add(1));
            let waker = state.waker.lock().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }));
        Alarm {
            fired,
            seen: 0,
            _timer: timer,
            _live: LiveToken::new(),
        }
    }

    /// Fires once after `ms` milliseconds.
    pub(crate) fn once(ms: u32) -> Alarm {
        Alarm::new(|f| Timer::once(ms, f))
    }

    /// Fires every `ms` milliseconds.
    pub(crate) fn every(ms: u32) -> Alarm {
        Alarm::new(|f| Timer::every(ms, f))
    }

    /// Firings since the last call; the task is woken at the next one.
    pub(crate) fn poll_fired(&mut self, cx: &mut Context<'_>) -> u32 {
        // The waker first: a firing after the count is read then still wakes the task.
        store_waker(&mut self.fired.waker.lock(), cx.waker());
        let count = self.fired.count.get();
        let new = count.wrapping_sub(self.seen);
        self.seen = count;
        new.min(u64::from(u32::MAX)) as u32
    }
}

impl std::fmt::Debug for Alarm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alarm").field("seen", &self.seen).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_rounds_down_and_caps() {
        assert_eq!(millis(Duration::from_micros(1999)), 1);
        assert_eq!(millis(Duration::from_secs(3)), 3000);
        assert_eq!(millis(Duration::MAX), i32::MAX as u32);
        assert_eq!(whole_millis(Duration::MAX), u64::MAX);
        assert_eq!(
            whole_millis(Duration::from_secs(30 * 86_400)),
            2_592_000_000
        );
    }
}
