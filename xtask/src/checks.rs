//! The checks of `cargo xtask test`: each passes or fails as a whole.

use std::path::Path;

use anyhow::Result;

use crate::run::{cargo, Run};

/// Name in the summary, and the cargo command line (clippy's get `-- -D warnings`). The
/// module graph check runs in process.
pub const CHECKS: &[(&str, &str)] = &[
    ("modules", ""),
    ("fmt", "fmt --all -- --check"),
    (
        "clippy-wasm",
        "clippy -p wasm-websocket -p wasm-websocket-js --target wasm32-unknown-unknown --all-targets",
    ),
    (
        "clippy-wasm-all-features",
        "clippy -p wasm-websocket --target wasm32-unknown-unknown --all-targets --all-features",
    ),
    (
        "clippy-examples",
        "clippy --target wasm32-unknown-unknown -p yew-chat -p leptos-chat -p chat",
    ),
    (
        "clippy-native",
        "clippy -p xtask -p xtask-record -p ws-peer -p chat -p bench-native --all-targets",
    ),
    (
        "clippy-native-lib",
        "clippy -p wasm-websocket --lib --tests --features io,codec",
    ),
    (
        "doc",
        "doc -p wasm-websocket --all-features --no-deps --target wasm32-unknown-unknown",
    ),
    // `--allow-dirty` so local runs with edits work; CI checks out clean.
    (
        "publish-dry-run",
        "publish --dry-run -p wasm-websocket --allow-dirty",
    ),
];

/// Runs one of [`CHECKS`] in the workspace at `root`.
pub fn run(root: &Path, name: &str, command_line: &str) -> Result<()> {
    if name == "modules" {
        return crate::modules::check(root);
    }
    let mut cmd = cargo();
    cmd.args(command_line.split_whitespace()).current_dir(root);
    match name {
        "doc" => cmd.env("RUSTDOCFLAGS", "-D warnings"),
        _ if command_line.starts_with("clippy") => cmd.args(["--", "-D", "warnings"]),
        _ => &mut cmd,
    };
    cmd.run()
}
