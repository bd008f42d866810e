//! The native benchmark: the same workloads as the browser benchmark (bench/), through
//! wasm-websocket under tokio and through tokio-tungstenite used directly (the reference:
//! the transport wasm-websocket runs on natively), against the release test peer over
//! loopback. Prints one `BENCH` line per run ([`xtask_record::Bench`]), which
//! `cargo xtask bench --native` reads.
//!
//! Settings from the environment: `BENCH_PEER` (`host:port`, required), `BENCH_REPS`
//! (measured rounds after a warm-up, default 7), `BENCH_SCALE` (divides the message
//! counts), `BENCH_ONLY` (workload keys, comma-separated).

#[cfg(not(target_arch = "wasm32"))]
mod workloads;

#[cfg(not(target_arch = "wasm32"))]
#[tokio::main(flavor = "current_thread")]
async fn main() {
    use std::env::var;

    let peer = var("BENCH_PEER").expect("BENCH_PEER=host:port of the test peer");
    let number = |name: &str, default: u32| {
        var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let only: Vec<String> = var("BENCH_ONLY")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let config = workloads::Config {
        peer,
        reps: number("BENCH_REPS", 7),
        scale: number("BENCH_SCALE", 1).max(1),
        only,
    };
    workloads::run(&config).await;
}

/// Natively only: on wasm32 the browser benchmark (bench/) applies.
#[cfg(target_arch = "wasm32")]
fn main() {}
