//! `cargo xtask bench --native`: the native benchmark (bench/native), wasm-websocket under
//! tokio against tokio-tungstenite used directly, written into BENCHMARKS.md's native block.

use std::fs;

use anyhow::{bail, Result};

use super::markdown::{self, Environment};
use super::results::Results;
use super::BenchArgs;
use crate::paths::{target_dir, workspace_root};
use crate::peer::Peer;
use crate::run::{cargo, check, header, Run};

/// Runs the native benchmark; `Ok(false)` when runs failed (the table says which).
pub fn run(args: &BenchArgs) -> Result<bool> {
    let root = workspace_root();
    header("build and start the test peer (release)");
    let peer = Peer::start(&Peer::build(&root, true)?)?;

    header("benchmark natively");
    let mut cmd = cargo();
    cmd.current_dir(&root)
        .args(["run", "--release", "-q", "-p", "bench-native"])
        .env("BENCH_PEER", peer.addr().to_string())
        .env("BENCH_REPS", args.reps().to_string())
        .env("BENCH_SCALE", if args.quick { "10" } else { "1" })
        .env("BENCH_ONLY", args.only.join(","));
    let (status, output) = cmd.tee()?;
    drop(peer);
    check(&cmd, status)?;
    let results = Results::from_output(&output);
    if results.rows.is_empty() {
        bail!("`{}` printed no BENCH lines", cmd.shown());
    }
    let settings = args.settings();
    let generated = markdown::generated_native(&results, &Environment::native(settings));

    header("results");
    println!("{}", markdown::table(&results, &[]));
    for e in &results.errors {
        println!("failed: {e}");
    }
    let md_path = if args.is_full() {
        root.join("BENCHMARKS.md")
    } else {
        let dir = target_dir(&root).join("bench-results");
        fs::create_dir_all(&dir)?;
        dir.join("BENCHMARKS.md")
    };
    let existing = fs::read_to_string(&md_path).ok();
    fs::write(
        &md_path,
        markdown::merge(existing.as_deref(), &generated, &markdown::native_target()),
    )?;
    println!("wrote {}", md_path.display());
    Ok(results.errors.is_empty())
}
