//! Waiting for `bufferedAmount` to fall.
//!
//! The browser fires no event when its send buffer drains, and `bufferedAmount` only
//! changes between tasks: a microtask loop never sees it fall, and `setTimeout(0)` is
//! clamped to 1-4 ms when chained. Measured in Chromium, a send of up to 64 KiB has drained
//! after exactly one zero-delay task hop (a `MessageChannel` message), while 1 MiB needs a
//! few hundred hops (about 5 ms). So the watcher re-checks after zero-delay hops first and,
//! for long drains only, falls back to timers with a growing interval so a slow network does
//! not keep the page busy.
//!
//! One watcher serves every socket of the thread: a hop checks all sockets that wait, so
//! 100 sockets flushing at once cost one hop, not 100, and no socket needs a channel of its
//! own. It runs only while some sender waits.

use std::cell::RefCell;
use std::rc::Weak;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{MessageChannel, MessagePort};

use crate::core::connection::Connection;
use crate::timer::Timer;

/// Zero-delay hops before falling back to timers (about 1 ms of hops in Chromium).
const HOPS: u32 = 64;
/// The longest timer interval, in milliseconds.
const MAX_INTERVAL_MS: u32 = 16;

thread_local! {
    static WATCHER: RefCell<Watcher> = const {
        RefCell::new(Watcher {
            hops: None,
            hop_pending: false,
            timer: None,
            waiting: Vec::new(),
            checks: 0,
        })
    };
}

/// Both ports (the receiving one is kept too, not left to the garbage collector) and the
/// closure receiving the hops.
type Hops = (MessagePort, MessagePort, Closure<dyn FnMut(JsValue)>);

struct Watcher {
    /// The port pair whose messages are the zero-delay hops, with the closure receiving
    /// them: created on first use and kept for the thread's lifetime (one per thread, not
    /// per socket, so not counted by `live_listeners`); `None` inside if `MessageChannel`
    /// is unavailable.
    hops: Option<Option<Hops>>,
    /// A hop has been posted and not yet received.
    hop_pending: bool,
    timer: Option<Timer>,
    /// Sockets whose sender waits.
    waiting: Vec<Weak<Connection>>,
    /// Checks since a socket last started waiting: every check looks at every waiting
    /// socket, so this is the count of the one that waits the shortest, and a socket that
    /// starts waiting gets zero-delay hops even while others have fallen back to timers.
    checks: u32,
}

/// Runs `f` on this thread's watcher. `try_with`, not `with`: thread-locals are never
/// destroyed on wasm32, and `with`'s panic path would link the formatting machinery into
/// every client.
fn with_watcher<R: Default>(f: impl FnOnce(&mut Watcher) -> R) -> R {
    WATCHER
        .try_with(|w| f(&mut w.borrow_mut()))
        .unwrap_or_default()
}

/// Starts watching `connection`, whose sender waits for its level.
pub(crate) fn watch(connection: Weak<Connection>) {
    with_watcher(|w| {
        w.waiting.push(connection);
        w.checks = 0;
        schedule(w);
    });
}

/// Makes sure the next check comes in time.
fn schedule(w: &mut Watcher) {
    let checks = w.checks;
    if checks < HOPS {
        if w.hop_pending {
            return;
        }
        let hops = w.hops.get_or_insert_with(|| {
            let channel = MessageChannel::new().ok()?;
            let on_hop = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {
                with_watcher(|w| w.hop_pending = false);
                check();
            });
            let port1 = channel.port1();
            // Setting `onmessage` also starts the port.
            port1.set_onmessage(Some(on_hop.as_ref().unchecked_ref()));
            Some((port1, channel.port2(), on_hop))
        });
        if let Some((_, port2, _)) = hops {
            w.hop_pending = port2.post_message(&JsValue::UNDEFINED).is_ok();
            if w.hop_pending {
                return;
            }
        }
    }
    if w.timer.is_none() {
        let doublings = checks.saturating_sub(HOPS) / 2;
        let interval = 1u32
            .checked_shl(doublings)
            .unwrap_or(MAX_INTERVAL_MS)
            .min(MAX_INTERVAL_MS);
        w.timer = Some(Timer::once(interval, || {
            // Dropping the timer from its own callback is allowed: wasm-bindgen frees a
            // closure only once its call has returned.
            let fired = with_watcher(|w| w.timer.take());
            drop(fired);
            check();
        }));
    }
}

/// One check of every waiting socket: wake each sender whose level is reached or whose
/// socket has closed, and schedule the next check for the others.
fn check() {
    let mut waiting = with_watcher(|w| std::mem::take(&mut w.waiting));
    waiting.retain(|connection| {
        connection
            .upgrade()
            .is_some_and(|connection| !connection.check_drained())
    });
    with_watcher(|w| {
        // A socket that started waiting during this check is already in `waiting`, with
        // its hop scheduled.
        w.waiting.append(&mut waiting);
        if w.waiting.is_empty() {
            w.timer = None;
        } else {
            w.checks = w.checks.saturating_add(1);
            schedule(w);
        }
    });
}
