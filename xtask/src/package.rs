//! The npm package (`wasm-pack build` of the crate in `npm/`): the tools it needs and the build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{ensure, Context, Result};

use crate::browser::WASM_TARGET;
use crate::paths::target_dir;
use crate::run::Run;
use crate::setup::{self, AptNeed, Mode};

/// The oldest `wasm-opt` that keeps wasm-bindgen's `externref` table intact. Binaryen 108
/// (Debian bookworm) rewrites it as `anyref`, and the module then fails to instantiate
/// ("WebAssembly.Table.set(): Argument 1 is invalid for table").
const MIN_WASM_OPT: u32 = 116;
/// Binaryen from npm (a wasm build run by node), used when the system's wasm-opt is older.
const NPM_BINARYEN: &str = "binaryen@132.0.0";

/// The tools a package build needs.
#[derive(Debug)]
pub struct PackageTools {
    pub wasm_pack: PathBuf,
    /// Put first on wasm-pack's `PATH` so it finds a new enough `wasm-opt`; `None` when
    /// the system's will do.
    pub wasm_opt_dir: Option<PathBuf>,
}

impl PackageTools {
    /// The wasm target, wasm-bindgen at the Cargo.lock version (wasm-pack would otherwise
    /// try to download one), wasm-pack, node/npm, and a wasm-opt of at least [`MIN_WASM_OPT`].
    pub fn ensure(root: &Path, mode: Mode) -> Result<PackageTools> {
        setup::ensure_rustup("target", &[WASM_TARGET], mode)?;
        setup::ensure_bindgen(root, "wasm-bindgen", mode)?;
        let wasm_pack = setup::ensure_cargo_install("wasm-pack", "wasm-pack", None, mode)?;
        ensure_node(mode)?;
        let wasm_opt_dir = ensure_wasm_opt(root, mode)?;
        Ok(PackageTools {
            wasm_pack,
            wasm_opt_dir,
        })
    }

    /// `wasm-pack build --release --target TARGET` of the crate in `npm/` into `out`, with
    /// `www/README.md` as the package's README (the npm usage; the crate's is for Rust).
    pub fn build(&self, root: &Path, target: &str, out: &Path) -> Result<()> {
        let mut cmd = Command::new(&self.wasm_pack);
        cmd.args(["build", "--release", "--target", target])
            .args(["--out-name", "wasm_websocket", "--out-dir"])
            .arg(out)
            .current_dir(root.join("npm"));
        if let Some(dir) = &self.wasm_opt_dir {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let dirs = std::iter::once(dir.clone()).chain(std::env::split_paths(&path));
            cmd.env("PATH", std::env::join_paths(dirs)?);
        }
        cmd.run()?;
        let readme = root.join("www/README.md");
        fs::copy(&readme, out.join("README.md"))
            .with_context(|| format!("copying {}", readme.display()))?;
        check_package(out)
    }
}

/// node (20 or newer, for `node --test` and playwright-core) and npm.
pub fn ensure_node(mode: Mode) -> Result<()> {
    let needs = [
        AptNeed {
            package: "nodejs",
            binaries: &["node"],
        },
        AptNeed {
            package: "npm",
            binaries: &["npm"],
        },
    ];
    setup::ensure_apt(&needs, mode)?;
    let node = which::which("node").context("node is not on PATH")?;
    let major = setup::major_version(&node).unwrap_or(0);
    ensure!(
        major >= 20,
        "{} is version {major}; the JS tests need node 20 or newer",
        node.display()
    );
    println!("node {major} found: {}", node.display());
    Ok(())
}

/// `None` when the `wasm-opt` on `PATH` is new enough, otherwise the `.bin` directory of
/// binaryen installed from npm into `<target>/tools/binaryen`.
fn ensure_wasm_opt(root: &Path, mode: Mode) -> Result<Option<PathBuf>> {
    let system = which::which("wasm-opt").ok().map(|path| {
        let version = setup::major_version(&path);
        (path, version)
    });
    let found = match &system {
        Some((path, Some(v))) if *v >= MIN_WASM_OPT => {
            println!("wasm-opt {v} found: {}", path.display());
            return Ok(None);
        }
        Some((path, Some(v))) => format!("{} is version {v}", path.display()),
        Some((path, None)) => format!("{} reports no version", path.display()),
        None => "wasm-opt is not on PATH".to_string(),
    };
    let dir = target_dir(root).join("tools/binaryen");
    let bin = dir.join("node_modules/.bin");
    if let Some(version) = setup::tool_version(&bin.join("wasm-opt")) {
        println!(
            "{found}; using wasm-opt {version} from npm: {}",
            bin.display()
        );
        return Ok(Some(bin));
    }
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(NPM_BINARYEN);
    let why = format!("{found}, older than the {MIN_WASM_OPT} wasm-bindgen's output needs");
    ensure!(
        mode == Mode::Install,
        "{why}; install a newer one with: {}",
        install.shown()
    );
    println!("{why}; installing {NPM_BINARYEN} from npm");
    fs::create_dir_all(&dir)?;
    install.run()?;
    let runs = setup::tool_version(&bin.join("wasm-opt")).is_some();
    ensure!(
        runs,
        "`{}` succeeded but {}/wasm-opt does not run",
        install.shown(),
        bin.display()
    );
    Ok(Some(bin))
}

/// The files and declarations an npm package of this crate must have.
pub fn check_package(pkg: &Path) -> Result<()> {
    let files = [
        "package.json",
        "README.md",
        "wasm_websocket.js",
        "wasm_websocket.d.ts",
        "wasm_websocket_bg.wasm",
    ];
    let missing: Vec<&str> = files
        .into_iter()
        .filter(|f| !pkg.join(f).is_file())
        .collect();
    ensure!(
        missing.is_empty(),
        "the package in {} lacks {}",
        pkg.display(),
        missing.join(", ")
    );
    let read = |file: &str| {
        let path = pkg.join(file);
        fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let manifest: serde_json::Value = serde_json::from_str(&read("package.json")?)?;
    ensure!(
        manifest["name"] == "wasm-websocket-js",
        "{}/package.json does not name the package `wasm-websocket-js`",
        pkg.display()
    );
    let types = read("wasm_websocket.d.ts")?;
    for needle in [
        "export class Socket",
        "static connect(",
        "export type SocketError",
    ] {
        ensure!(
            types.contains(needle),
            "{}/wasm_websocket.d.ts lacks `{needle}`",
            pkg.display()
        );
    }
    Ok(())
}
