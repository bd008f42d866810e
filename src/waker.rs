//! Waker slots: store a task's waker once, wake it at most once.

use std::task::Waker;

/// Stores `waker` in `slot` unless the one there already wakes the same task.
pub(crate) fn store_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Wakes the task in `slot`, if any. Callers take the waker out of their `RefCell` first
/// and call this after the borrow ends: an executor may poll inside `wake`.
pub(crate) fn wake(slot: Option<Waker>) {
    if let Some(waker) = slot {
        waker.wake();
    }
}
