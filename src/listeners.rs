//! RAII event listeners: registered on creation, removed on drop.

#[cfg(target_arch = "wasm32")]
use std::cell::Cell;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::closure::Closure;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::{JsCast, JsValue};
#[cfg(target_arch = "wasm32")]
use web_sys::EventTarget;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Natively one count for the process: a socket's tasks may run on any thread.
#[cfg(not(target_arch = "wasm32"))]
static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many JS event listeners and timers this crate has registered, and not yet removed,
/// on this thread (the main thread or one worker).
///
/// Natively (outside wasm32) it counts, for the whole process, the connections alive (from
/// creation until the socket and its handles are dropped) and their keepalive timers. A
/// connection's tokio task ends on its own shortly after the drop: once the close
/// handshake that the drop starts completes, or at most 5 seconds later.
///
/// It returns to its previous value once every socket (and every [`Handle`](crate::Handle)
/// and close future) created since has been dropped, which makes it useful in leak tests.
pub fn live_listeners() -> usize {
    #[cfg(target_arch = "wasm32")]
    return LIVE.try_with(Cell::get).unwrap_or(0);
    #[cfg(not(target_arch = "wasm32"))]
    return LIVE.load(std::sync::atomic::Ordering::Relaxed);
}

/// Adds `delta` (1 or -1) to the count. `try_with`, not `with`: thread-locals are never
/// destroyed on wasm32, and `with`'s panic path would link the formatting machinery into
/// every client.
#[cfg(target_arch = "wasm32")]
fn count(delta: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_add_signed(delta)));
}

#[cfg(not(target_arch = "wasm32"))]
fn count(delta: isize) {
    use std::sync::atomic::Ordering;
    if delta > 0 {
        LIVE.fetch_add(1, Ordering::Relaxed);
    } else {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Counts one live JS callback other than a [`Listener`] (a timer) for [`live_listeners`].
#[derive(Debug)]
pub(crate) struct LiveToken(());

impl LiveToken {
    pub(crate) fn new() -> Self {
        count(1);
        LiveToken(())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        count(-1);
    }
}

/// A listener for `kind` events on `target`; the closure is owned here and removed from the
/// target when this is dropped, so it can never be called after it was freed.
#[cfg(target_arch = "wasm32")]
#[must_use = "the listener is removed when dropped"]
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    closure: Closure<dyn FnMut(JsValue)>,
}

#[cfg(target_arch = "wasm32")]
impl Listener {
    pub(crate) fn new<E, F>(target: &EventTarget, kind: &'static str, mut handler: F) -> Self
    where
        E: JsCast,
        F: FnMut(E) + 'static,
    {
        let closure = Closure::new(move |event: JsValue| handler(event.unchecked_into()));
        // addEventListener only throws for a callback that is not callable.
        let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        count(1);
        Listener {
            target: target.clone(),
            kind,
            closure,
        }
    }
}

#[cfg(target_arch = "wasm32")]
impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.closure.as_ref().unchecked_ref());
        count(-1);
    }
}

#[cfg(target_arch = "wasm32")]
impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("kind", &self.kind)
            .finish()
    }
}
