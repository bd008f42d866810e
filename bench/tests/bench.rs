//! The benchmark run of `cargo xtask bench` (a wasm-bindgen-test so the runner drives a real
//! headless browser). It checks nothing; it prints `BENCH {...}` lines that xtask parses:
//! - `bench`: every workload with raw JS, wasm-websocket, gloo-net and ws_stream_wasm,
//!   interleaved, a warm-up round and `BENCH_REPS` measured rounds;
//! - `memory`: 2000 connect / echo / close cycles, wasm memory and live listeners before
//!   and after.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn bench() {
    let config = bench::Config::from_env();
    bench::run(&config).await;
}

#[wasm_bindgen_test]
async fn memory() {
    let config = bench::Config::from_env();
    if config.only.is_empty() || config.only.iter().any(|o| o == "memory") {
        let cycles = option_env!("BENCH_MEMORY_CYCLES")
            .and_then(|v| v.parse().ok())
            .unwrap_or(2000);
        bench::memory_cycles(cycles).await;
    }
}
