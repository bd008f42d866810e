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

    /// `Send + Sync` natively; nothing on wasm32.
    pub(crate) trait MaybeSend {}
    impl<T: ?Sized> MaybeSend for T {}
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

    /// `Send + Sync` natively; nothing on wasm32.
    pub(crate) trait MaybeSend: Send + Sync {}
    impl<T: ?Sized + Send + Sync> MaybeSend for T {}
}

pub(crate) use imp::{Counter, Lock, MaybeSend, Shared, Weak};
