//! What the driver takes from the platform: the clock, the jitter's randomness, and a
//! task to run on. The browser's on wasm32; natively a monotonic clock, std's per-process
//! random keys and tokio. The machine gets the first two as inputs, so its tests inject
//! their own.

use std::future::Future;

use crate::error::Error;

/// Milliseconds on a clock that only the differences of matter (the machine compares two
/// readings to see whether a timer fired late, i.e. the machine slept).
#[cfg(target_arch = "wasm32")]
pub(super) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Milliseconds on a clock that only the differences of matter (the machine compares two
/// readings to see whether a timer fired late, i.e. the machine slept).
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn now_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;

    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

/// A number in `[0, 1)` for the backoff's jitter.
#[cfg(target_arch = "wasm32")]
pub(super) fn random() -> f64 {
    js_sys::Math::random()
}

/// A number in `[0, 1)` for the backoff's jitter: std's hasher keys are random per
/// process and differ on every call, which is all a jitter needs (no dependency for it).
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn random() -> f64 {
    use std::hash::{BuildHasher, Hasher};

    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    // The top 53 bits, as the fraction of a double.
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether [`spawn`] can run a task here, checked before anything starts.
///
/// # Errors
/// [`Error::Unsupported`] natively outside a tokio runtime; never on wasm32.
pub(super) fn can_spawn() -> Result<(), Error> {
    #[cfg(not(target_arch = "wasm32"))]
    tokio::runtime::Handle::try_current().map_err(|_| outside_runtime())?;
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
fn outside_runtime() -> Error {
    Error::Unsupported {
        feature: "a reconnecting socket outside a tokio runtime".into(),
    }
}

/// Runs `task` in the background until it ends.
///
/// # Errors
/// Never on wasm32.
#[cfg(target_arch = "wasm32")]
pub(super) fn spawn(task: impl Future<Output = ()> + 'static) -> Result<(), Error> {
    wasm_bindgen_futures::spawn_local(task);
    Ok(())
}

/// Runs `task` in the background until it ends, on the current tokio runtime.
///
/// # Errors
/// [`Error::Unsupported`] outside a tokio runtime.
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Result<(), Error> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| outside_runtime())?;
    drop(runtime.spawn(task));
    Ok(())
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn random_numbers_are_in_the_unit_interval_and_vary() {
        let numbers: Vec<f64> = (0..1000).map(|_| random()).collect();
        assert!(numbers.iter().all(|n| (0.0..1.0).contains(n)));
        let mean = numbers.iter().sum::<f64>() / 1000.0;
        assert!((0.4..0.6).contains(&mean), "mean {mean}");
        let below = numbers.iter().filter(|&&n| n < 0.1).count();
        assert!((50..150).contains(&below), "{below} of 1000 below 0.1");
    }

    #[test]
    fn the_clock_moves_forward() {
        let a = now_ms();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(now_ms() - a >= 5.0);
    }

    #[test]
    fn spawning_outside_a_runtime_is_a_typed_error() {
        assert!(matches!(can_spawn(), Err(Error::Unsupported { .. })));
        assert!(matches!(spawn(async {}), Err(Error::Unsupported { .. })));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            assert!(can_spawn().is_ok());
            let (done, ran) = tokio::sync::oneshot::channel();
            spawn(async move { done.send(()).unwrap() }).unwrap();
            ran.await.unwrap();
        });
    }
}
