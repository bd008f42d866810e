//! Sharing primitives that follow the target: single-threaded on wasm32 (browser objects
//! never leave their thread, and `Rc`/`RefCell` keep the shipped code small), thread-safe
//! natively, where tokio may move a socket and its tasks between threads.
//!
//! Everything in the crate that is shared between a socket, its handles and its transport
//! goes through these names, so one `cfg` here decides `Send` for all of it.

#[cfg(target_arch = "wasm32")]
mod imp {
    pub(crate) use std::rc::{Rc as Shared, Weak};

    /// Interior mutability: a `RefCell` on wasm32.
    #[derive(Default)]
    pub(crate) struct Lock<T>(std::cell::RefCell<T>);

    impl<T> Lock<T> {
        pub(crate) const fn new(value: T) -> Self {
            Lock(std::cell::RefCell::new(value))
        }

        /// Exclusive access for the guard's lifetime. Never held across a wake, a user
        /// callback or a transport call that could come back here.
        pub(crate) fn lock(&self) -> std::cell::RefMut<'_, T> {
            self.0.borrow_mut()
        }

        /// Exclusive access if nobody has it: `None` means it is held further up this
        /// thread's stack (a wake inside a borrow polled a task that came back here).
        pub(crate) fn try_lock(&self) -> Option<std::cell::RefMut<'_, T>> {
            self.0.try_borrow_mut().ok()
        }

        /// [`try_lock`](Self::try_lock): on one thread, a lock that is held is held by
        /// a caller further up the stack, and waiting would never end.
        pub(crate) fn enter(&self) -> Option<std::cell::RefMut<'_, T>> {
            self.try_lock()
        }
    }

    /// A `bool` read and written without a lock.
    #[derive(Default)]
    pub(crate) struct Flag(std::cell::Cell<bool>);

    impl Flag {
        pub(crate) fn get(&self) -> bool {
            self.0.get()
        }

        pub(crate) fn set(&self, value: bool) {
            self.0.set(value);
        }
    }

    /// A `u64` read and written whole, without a lock.
    #[derive(Default)]
    pub(crate) struct Counter(std::cell::Cell<u64>);

    impl Counter {
        pub(crate) fn get(&self) -> u64 {
            self.0.get()
        }

        pub(crate) fn set(&self, value: u64) {
            self.0.set(value);
        }
    }

    /// What a closure or future given to the crate must be: nothing on wasm32, where
    /// everything stays on the browser's one thread; `Send` natively, where tokio may run
    /// a connection's tasks on any thread. Implemented for every type that qualifies.
    pub trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}

    /// What a closure the crate shares (e.g. a policy's rule) must be besides
    /// [`MaybeSend`]: nothing on wasm32, `Sync` natively. Implemented for every type
    /// that qualifies.
    pub trait MaybeSync {}
    impl<T: ?Sized> MaybeSync for T {}
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    pub(crate) use std::sync::{Arc as Shared, Weak};

    /// Interior mutability: a mutex natively (parking_lot: no poisoning, so no panic path).
    #[derive(Default)]
    pub(crate) struct Lock<T>(parking_lot::Mutex<T>);

    impl<T> Lock<T> {
        pub(crate) const fn new(value: T) -> Self {
            Lock(parking_lot::Mutex::new(value))
        }

        /// Exclusive access for the guard's lifetime. Never held across a wake, a user
        /// callback or a transport call that could come back here (the mutex is not
        /// reentrant).
        pub(crate) fn lock(&self) -> parking_lot::MutexGuard<'_, T> {
            self.0.lock()
        }

        /// Exclusive access if nobody has it, without waiting.
        pub(crate) fn try_lock(&self) -> Option<parking_lot::MutexGuard<'_, T>> {
            self.0.try_lock()
        }

        /// Exclusive access, waiting for it: another thread that holds the lock only
        /// delays this one (tokio's wakers never poll a task inside `wake`, so it is not
        /// held further up this thread's stack). Always `Some`.
        pub(crate) fn enter(&self) -> Option<parking_lot::MutexGuard<'_, T>> {
            Some(self.0.lock())
        }
    }

    /// A `bool` read and written without a lock.
    #[derive(Default)]
    pub(crate) struct Flag(std::sync::atomic::AtomicBool);

    impl Flag {
        pub(crate) fn get(&self) -> bool {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }

        pub(crate) fn set(&self, value: bool) {
            self.0.store(value, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A `u64` read and written whole, without a lock.
    #[derive(Default)]
    pub(crate) struct Counter(std::sync::atomic::AtomicU64);

    impl Counter {
        pub(crate) fn get(&self) -> u64 {
            self.0.load(std::sync::atomic::Ordering::Relaxed)
        }

        pub(crate) fn set(&self, value: u64) {
            self.0.store(value, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// What a closure or future given to the crate must be: nothing on wasm32, where
    /// everything stays on the browser's one thread; `Send` natively, where tokio may run
    /// a connection's tasks on any thread. Implemented for every type that qualifies.
    pub trait MaybeSend: Send {}
    impl<T: ?Sized + Send> MaybeSend for T {}

    /// What a closure the crate shares (e.g. a policy's rule) must be besides
    /// [`MaybeSend`]: nothing on wasm32, `Sync` natively. Implemented for every type
    /// that qualifies.
    pub trait MaybeSync: Sync {}
    impl<T: ?Sized + Sync> MaybeSync for T {}
}

pub(crate) use imp::{Counter, Flag, Lock, Shared, Weak};
pub use imp::{MaybeSend, MaybeSync};
