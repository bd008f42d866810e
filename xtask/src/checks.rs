//! The checks of `cargo xtask test`: each passes or fails as a whole.

use std::path::Path;

use anyhow::Result;

use crate::browser::WASM_TARGET;
use crate::run::{cargo, Run};

pub struct Check {
    /// The name in the summary.
    pub name: &'static str,
    pub run: fn(&Path) -> Result<()>,
}

/// `cargo ARGS` in the workspace; rustdoc warnings are errors (read by the doc check only).
fn cargo_check(root: &Path, args: &[&str]) -> Result<()> {
    cargo()
        .args(args)
        .current_dir(root)
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()
}

/// `cargo clippy ARGS -- -D warnings`.
fn clippy(root: &Path, args: &[&str]) -> Result<()> {
    let mut all = vec!["clippy"];
    all.extend(args);
    all.extend(["--", "-D", "warnings"]);
    cargo_check(root, &all)
}

pub const CHECKS: &[Check] = &[
    Check {
        name: "modules",
        run: crate::modules::check,
    },
    Check {
        name: "fmt",
        run: |root| cargo_check(root, &["fmt", "--all", "--", "--check"]),
    },
    Check {
        name: "clippy-wasm",
        run: |root| {
            clippy(
                root,
                &[
                    "-p",
                    "wasm-websocket",
                    "--target",
                    WASM_TARGET,
                    "--all-targets",
                ],
            )
        },
    },
    Check {
        name: "clippy-wasm-all-features",
        run: |root| {
            clippy(
                root,
                &[
                    "-p",
                    "wasm-websocket",
                    "--target",
                    WASM_TARGET,
                    "--all-targets",
                    "--all-features",
                ],
            )
        },
    },
    Check {
        name: "clippy-examples",
        run: |root| {
            clippy(
                root,
                &[
                    "--target",
                    WASM_TARGET,
                    "-p",
                    "yew-chat",
                    "-p",
                    "leptos-chat",
                ],
            )
        },
    },
    Check {
        name: "clippy-native",
        run: |root| {
            clippy(
                root,
                &[
                    "-p",
                    "xtask",
                    "-p",
                    "xtask-record",
                    "-p",
                    "ws-peer",
                    "--all-targets",
                ],
            )
        },
    },
    Check {
        name: "doc",
        run: |root| {
            cargo_check(
                root,
                &[
                    "doc",
                    "-p",
                    "wasm-websocket",
                    "--all-features",
                    "--no-deps",
                    "--target",
                    WASM_TARGET,
                ],
            )
        },
    },
    // `--allow-dirty` so local runs with edits work; CI checks out clean.
    Check {
        name: "publish-dry-run",
        run: |root| {
            cargo_check(
                root,
                &[
                    "publish",
                    "--dry-run",
                    "-p",
                    "wasm-websocket",
                    "--allow-dirty",
                ],
            )
        },
    },
];
