//! The shipped size of a minimal client of each implementation (`bench/size/*`).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use flate2::{write::GzEncoder, Compression};

use crate::browser::WASM_TARGET;
use crate::paths::target_dir;
use crate::run::{cargo, Run};

/// The size probes: package, implementation key.
const PROBES: &[(&str, &str)] = &[
    ("size-raw", "raw-js"),
    ("size-wasm-websocket", "wasm-websocket"),
    ("size-gloo", "gloo-net"),
    ("size-ws-stream", "ws_stream_wasm"),
];

/// The shipped size of one client, in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Size {
    pub imp: String,
    pub wasm: u64,
    pub js: u64,
    pub wasm_gz: u64,
    pub js_gz: u64,
}

impl Size {
    pub fn total_gz(&self) -> u64 {
        self.wasm_gz + self.js_gz
    }
}

/// A file's size, and its size gzipped at the best compression.
fn sizes(path: &Path) -> Result<(u64, u64)> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    gz.write_all(&bytes)?;
    Ok((bytes.len() as u64, gz.finish()?.len() as u64))
}

/// Builds every probe (release: lto, opt-level z, one codegen unit), runs
/// `wasm-bindgen --target web` and `wasm-opt -Oz`, and measures wasm and JS glue.
pub fn measure(root: &Path, wasm_bindgen: &Path) -> Result<Vec<Size>> {
    let mut build = cargo();
    build
        .args(["build", "--release", "--target", WASM_TARGET])
        .current_dir(root);
    for (package, _) in PROBES {
        build.args(["-p", package]);
    }
    build.run()?;
    let release = target_dir(root).join(WASM_TARGET).join("release");
    let mut measured = Vec::new();
    for (package, imp) in PROBES {
        let stem = package.replace('-', "_");
        let out = target_dir(root).join("bench-size").join(&stem);
        let _ = fs::remove_dir_all(&out);
        Command::new(wasm_bindgen)
            .args(["--target", "web", "--out-dir"])
            .arg(&out)
            .arg(release.join(format!("{stem}.wasm")))
            .run()?;
        let wasm = out.join(format!("{stem}_bg.wasm"));
        Command::new("wasm-opt")
            .args(["-Oz", "-o"])
            .arg(&wasm)
            .arg(&wasm)
            .run()?;
        let ((wasm, wasm_gz), (js, js_gz)) =
            (sizes(&wasm)?, sizes(&out.join(format!("{stem}.js")))?);
        measured.push(Size {
            imp: imp.to_string(),
            wasm,
            js,
            wasm_gz,
            js_gz,
        });
    }
    Ok(measured)
}
