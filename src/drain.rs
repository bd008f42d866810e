//! Waiting for `bufferedAmount` to fall.
//!
//! The browser fires no event when its send buffer drains, and `bufferedAmount` only
//! changes between tasks: a microtask loop never sees it fall, and `setTimeout(0)` is
//! clamped to 1-4 ms, 10-40 times a loopback round trip. Measured in Chromium, a send of
//! up to 64 KiB has drained after exactly one zero-delay task hop (a `MessageChannel`
//! message), while 1 MiB needs a few hundred hops (about 5 ms). So the watcher re-checks
//! after zero-delay hops first and, for long drains only, falls back to timers with a
//! growing interval so a slow network does not keep the page busy. It runs only while a
//! sender waits, and stops as soon as the level is reached or the socket closes.

use std::cell::{Cell, RefCell};
use std::rc::Weak;

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsValue;
use web_sys::{MessageChannel, MessagePort};

use crate::listeners::Listener;
use crate::socket::Shared;
use crate::State;

/// Zero-delay hops before falling back to timers (about 1 ms of hops in Chromium).
const HOPS: u32 = 64;
/// The longest timer interval, in milliseconds.
const MAX_INTERVAL_MS: u32 = 16;

pub(crate) struct Drain {
    /// `None` where `MessageChannel` is unavailable; then only timers are used.
    ports: Option<(MessagePort, MessagePort, Listener)>,
    timer: RefCell<Option<Timeout>>,
    checks: Cell<u32>,
    running: Cell<bool>,
    socket: Weak<Shared>,
}

impl Drain {
    pub(crate) fn new(socket: Weak<Shared>) -> Self {
        let ports = MessageChannel::new().ok().map(|channel| {
            let (port1, port2) = (channel.port1(), channel.port2());
            let weak = socket.clone();
            let listener = Listener::new(&port1, "message", move |_: web_sys::Event| {
                check(&weak);
            });
            // Ports listened to with addEventListener deliver nothing until started.
            port1.start();
            (port1, port2, listener)
        });
        Drain {
            ports,
            timer: RefCell::new(None),
            checks: Cell::new(0),
            running: Cell::new(false),
            socket,
        }
    }

    /// Starts watching, unless already watching.
    pub(crate) fn start(&self) {
        if !self.running.replace(true) {
            self.checks.set(0);
            self.schedule();
        }
    }

    fn schedule(&self) {
        let checks = self.checks.get();
        self.checks.set(checks.saturating_add(1));
        if checks < HOPS {
            if let Some((_, port2, _)) = &self.ports {
                if port2.post_message(&JsValue::UNDEFINED).is_ok() {
                    return;
                }
            }
        }
        let doublings = checks.saturating_sub(HOPS) / 2;
        let interval = 1u32
            .checked_shl(doublings)
            .unwrap_or(MAX_INTERVAL_MS)
            .min(MAX_INTERVAL_MS);
        let weak = self.socket.clone();
        // Replacing the timer drops the one that just fired, which is allowed from its own
        // callback: wasm-bindgen frees a closure only once its call has returned.
        *self.timer.borrow_mut() = Some(Timeout::new(interval, move || check(&weak)));
    }
}

impl Drop for Drain {
    fn drop(&mut self) {
        if let Some((port1, port2, _)) = &self.ports {
            port1.close();
            port2.close();
        }
    }
}

/// One check: wake the waiting sender if the level is reached or the socket has closed,
/// otherwise check again later.
fn check(socket: &Weak<Shared>) {
    let Some(shared) = socket.upgrade() else {
        return;
    };
    let target = shared.inner.borrow().drain_target;
    let drain = shared.drain.borrow();
    let Some(drain) = drain.as_ref() else {
        return;
    };
    let done = match target {
        None => true,
        Some(target) => {
            shared.buffered_amount() <= target
                || !matches!(shared.state(), State::Open | State::Connecting)
        }
    };
    if done {
        drain.running.set(false);
        let waker = {
            let mut inner = shared.inner.borrow_mut();
            inner.drain_target = None;
            inner.sink_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    } else {
        drain.schedule();
    }
}
