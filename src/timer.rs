//! The crate's one timer implementation: JS timers (through `gloo-timers`) owned by Rust.
//!
//! A [`Timer`] runs a callback and is cleared when dropped, so no callback outlives its
//! owner. An [`Alarm`] is a timer a task polls instead: it counts firings and wakes the
//! task that polled it last.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Context, Waker};
use std::time::Duration;

use gloo_timers::callback::{Interval, Timeout};

use crate::listeners::LiveToken;
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
/// its call has returned.
#[must_use = "the timer is cleared when dropped"]
pub(crate) struct Timer {
    // A `Timeout` or an `Interval`, held for its `Drop` (which clears the JS timer). Type
    // erased, so a program that never ticks links no `setInterval`/`clearInterval`.
    _handle: Box<dyn std::any::Any>,
}

impl Timer {
    /// Calls `f` once after `ms` milliseconds.
    pub(crate) fn once(ms: u32, f: impl FnOnce() + 'static) -> Timer {
        Timer {
            _handle: Box::new(Timeout::new(ms, f)),
        }
    }

    /// Calls `f` every `ms` milliseconds.
    pub(crate) fn every(ms: u32, f: impl FnMut() + 'static) -> Timer {
        Timer {
            _handle: Box::new(Interval::new(ms, f)),
        }
    }
}

impl std::fmt::Debug for Timer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Timer")
    }
}

#[derive(Default)]
struct Fired {
    count: Cell<u32>,
    waker: RefCell<Option<Waker>>,
}

/// A timer a task polls: counts firings and wakes the task; counted in
/// [`live_listeners`](crate::live_listeners) while it exists.
pub(crate) struct Alarm {
    fired: Rc<Fired>,
    seen: u32,
    _timer: Timer,
    _live: LiveToken,
}

impl Alarm {
    fn new(make: impl FnOnce(Box<dyn FnMut()>) -> Timer) -> Alarm {
        let fired = Rc::new(Fired::default());
        let state = fired.clone();
        let timer = make(Box::new(move || {
            state.count.set(state.count.get().wrapping_add(1));
            let waker = state.waker.borrow_mut().take();
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
        let count = self.fired.count.get();
        let new = count.wrapping_sub(self.seen);
        self.seen = count;
        store_waker(&mut self.fired.waker.borrow_mut(), cx.waker());
        new
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
