//! `cargo xtask demo`: build the npm package (wasm-pack, crate `npm/`), put it next to the
//! demo page, and serve both from the test peer, which also answers the page's WebSocket
//! routes on the same port.
//!
//! The pieces are shared with the JS tests ([`crate::js_tests`]): [`prepare_site`] installs
//! what is missing, builds the package and assembles `<target>/www`, and [`Peer::serving`](crate::peer::Peer::serving)
//! runs `ws-peer --static`.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::peer::Peer;
use crate::setup::{self, AptNeed, Mode, Want};
use crate::suite::WASM_TARGET;
use crate::util::{bail, describe_status, header, target_dir, workspace_root, Cmd, Error, Result};

pub const USAGE: &str = "\
usage: cargo xtask demo [--port P] [--no-install]

Builds the npm package (wasm-pack, --target web, crate npm/) and the test peer (release),
serves the demo page (www/) with the package at /pkg/ and the peer's WebSocket routes on
http://127.0.0.1:P/, prints the URL and runs until interrupted (Ctrl-C).

options:
  --port P        the port to listen on (default 8080; 0 picks a free one)
  --no-install    install nothing; fail if something is missing";

const DEFAULT_PORT: u16 = 8080;

/// The oldest `wasm-opt` that keeps wasm-bindgen's `externref` table intact. Binaryen 108
/// (Debian bookworm) rewrites it as `anyref`, and the module then fails to instantiate
/// ("WebAssembly.Table.set(): Argument 1 is invalid for table").
const MIN_WASM_OPT: u32 = 116;
/// Binaryen from npm (a wasm build run by node), used when the system's wasm-opt is older.
const NPM_BINARYEN: &str = "binaryen@132.0.0";

/// The command line of `cargo xtask demo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub port: u16,
    pub mode: Mode,
}

impl Options {
    /// Parses the arguments after `demo`; `Ok(None)` means help was asked for.
    pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
        let mut opts = Options {
            port: DEFAULT_PORT,
            mode: Mode::Install,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = crate::util::split_flag(arg);
            match flag {
                "-h" | "--help" => return Ok(None),
                "--no-install" if inline.is_none() => opts.mode = Mode::VerifyOnly,
                "--port" => {
                    let value = match inline {
                        Some(v) => v,
                        None => args.next().cloned().ok_or("--port needs a value")?,
                    };
                    opts.port = value
                        .parse()
                        .map_err(|_| format!("--port takes a number 0..=65535, not `{value}`"))?;
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(Some(opts))
    }
}

/// Runs `cargo xtask demo ARGS` until the peer exits or the user interrupts it.
pub fn demo(args: &[String]) -> Result<()> {
    let opts = match Options::parse(args) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            println!("{USAGE}");
            return Ok(());
        }
        Err(msg) => bail!("{msg}\n\n{USAGE}"),
    };
    let root = workspace_root();
    let site = prepare_site(&root, opts.mode)?;

    header("build the test peer (release)");
    Cmd::cargo()
        .args(["build", "--release", "-p", "ws-peer"])
        .cwd(&root)
        .run()?;
    let exe = target_dir(&root).join("release").join("ws-peer");

    header("serve");
    let addr = SocketAddr::from(([127, 0, 0, 1], opts.port));
    let mut peer = Peer::serving(&exe, addr, &site.dir).map_err(|e| {
        if opts.port != 0 {
            Error::new(format!("{e}\n(is port {} in use? try --port 0)", opts.port))
        } else {
            e
        }
    })?;
    let url = format!("http://{}/", peer.addr());
    println!();
    println!("  demo:      {url}");
    println!("  self-test: {url}?selftest=1");
    println!("  echo:      ws://{}/echo", peer.addr());
    println!();
    println!("Serving {} — press Ctrl-C to stop.", site.dir.display());
    let _ = std::io::stdout().flush();
    let status = peer.wait()?;
    bail!("the peer stopped ({})", describe_status(status))
}

/// What [`prepare_site`] built.
#[derive(Debug)]
pub struct Site {
    /// `<target>/www`: the page, the test pages, and the package in `pkg/`.
    pub dir: PathBuf,
    /// The tools it was built with, for further builds (e.g. `--target bundler`).
    pub tools: PackageTools,
}

/// Installs what is missing, builds the `--target web` package into `<target>/www/pkg`
/// and copies `www/` (without `node_modules`) next to it.
pub fn prepare_site(root: &Path, mode: Mode) -> Result<Site> {
    header("install what is missing (package build)");
    let tools = ensure_package_tools(root, mode)?;

    header("build the npm package (wasm-pack build npm --target web)");
    let dir = target_dir(root).join("www");
    let pkg = dir.join("pkg");
    build_package(root, &tools, "web", &pkg)?;

    header("assemble the site");
    copy_site(&root.join("www"), &dir)?;
    println!("{} (package at /pkg/)", dir.display());
    Ok(Site { dir, tools })
}

/// The tools a package build needs.
#[derive(Debug)]
pub struct PackageTools {
    pub wasm_pack: PathBuf,
    /// A directory to put first on wasm-pack's `PATH` so that it finds a new enough
    /// `wasm-opt`; `None` when the system's will do.
    pub wasm_opt_dir: Option<PathBuf>,
}

/// The wasm target, wasm-bindgen at the Cargo.lock version (wasm-pack would otherwise try
/// to download one), wasm-pack, node/npm, and a wasm-opt of at least [`MIN_WASM_OPT`].
pub fn ensure_package_tools(root: &Path, mode: Mode) -> Result<PackageTools> {
    setup::ensure_rust_target(WASM_TARGET, mode)?;
    let version = setup::locked_version(root, "wasm-bindgen")?;
    setup::ensure_cargo_install(
        "wasm-bindgen",
        "wasm-bindgen-cli",
        Want::Exact(&version),
        mode,
    )?;
    let wasm_pack = setup::ensure_cargo_install("wasm-pack", "wasm-pack", Want::Any, mode)?;
    ensure_node(mode)?;
    let wasm_opt_dir = ensure_wasm_opt(root, mode)?;
    Ok(PackageTools {
        wasm_pack,
        wasm_opt_dir,
    })
}

/// node (20 or newer, for `node --test` and playwright-core) and npm.
pub fn ensure_node(mode: Mode) -> Result<()> {
    setup::ensure_apt(
        &[
            AptNeed {
                package: "nodejs",
                binaries: &["node"],
            },
            AptNeed {
                package: "npm",
                binaries: &["npm"],
            },
        ],
        mode,
    )?;
    let node = setup::find("node").ok_or_else(|| Error::new("node is not on PATH"))?;
    let version = setup::tool_version(&node).unwrap_or_default();
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major < 20 {
        bail!(
            "{} is version {version:?}; the JS tests need node 20 or newer",
            node.display()
        );
    }
    println!("node {version} found: {}", node.display());
    Ok(())
}

/// Returns `None` when the `wasm-opt` on `PATH` is new enough, otherwise the `.bin`
/// directory of binaryen installed from npm into `<target>/tools/binaryen`.
fn ensure_wasm_opt(root: &Path, mode: Mode) -> Result<Option<PathBuf>> {
    let system = setup::find("wasm-opt").map(|path| {
        let version = setup::tool_version(&path)
            .and_then(|v| v.split('.').next().and_then(|m| m.parse::<u32>().ok()));
        (path, version)
    });
    if let Some((path, Some(version))) = &system {
        if *version >= MIN_WASM_OPT {
            println!("wasm-opt {version} found: {}", path.display());
            return Ok(None);
        }
    }
    let dir = target_dir(root).join("tools").join("binaryen");
    let bin = dir.join("node_modules").join(".bin");
    let found = match &system {
        Some((path, Some(v))) => format!("{} is version {v}", path.display()),
        Some((path, None)) => format!("{} reports no version", path.display()),
        None => "wasm-opt is not on PATH".to_string(),
    };
    if let Some(version) = setup::tool_version(&bin.join("wasm-opt")) {
        println!(
            "{found}; using wasm-opt {version} from npm: {}",
            bin.display()
        );
        return Ok(Some(bin));
    }
    let install = Cmd::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(NPM_BINARYEN);
    if mode == Mode::VerifyOnly {
        bail!("{found}, older than the {MIN_WASM_OPT} wasm-bindgen's output needs; install a newer one with: {install}");
    }
    println!("{found}, older than the {MIN_WASM_OPT} wasm-bindgen's output needs; installing {NPM_BINARYEN} from npm");
    fs::create_dir_all(&dir).map_err(|e| Error::new(format!("creating {}: {e}", dir.display())))?;
    install.run()?;
    if setup::tool_version(&bin.join("wasm-opt")).is_none() {
        bail!(
            "`{install}` succeeded but {} does not run",
            bin.join("wasm-opt").display()
        );
    }
    Ok(Some(bin))
}

/// `wasm-pack build --release --target TARGET` of the crate in `npm/` into `out`, then the package's
/// README is replaced by `www/README.md` (the npm usage; the crate's README is for Rust).
pub fn build_package(root: &Path, tools: &PackageTools, target: &str, out: &Path) -> Result<()> {
    let mut cmd = Cmd::new(&tools.wasm_pack)
        .args([
            "build",
            "--release",
            "--target",
            target,
            "--out-name",
            "wasm_websocket",
            "--out-dir",
        ])
        .arg(out)
        .cwd(root.join("npm"));
    if let Some(dir) = &tools.wasm_opt_dir {
        let mut paths = vec![dir.clone()];
        paths.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let joined = std::env::join_paths(paths)
            .map_err(|e| Error::new(format!("cannot put {} on PATH: {e}", dir.display())))?;
        cmd = cmd.env("PATH", joined);
    }
    cmd.run()?;
    let readme = root.join("www").join("README.md");
    fs::copy(&readme, out.join("README.md")).map_err(|e| {
        Error::new(format!(
            "copying {} into the package: {e}",
            readme.display()
        ))
    })?;
    check_package(out)
}

/// The files an npm package of this crate must have.
pub fn check_package(pkg: &Path) -> Result<()> {
    let mut missing = Vec::new();
    for file in [
        "package.json",
        "README.md",
        "wasm_websocket.js",
        "wasm_websocket.d.ts",
        "wasm_websocket_bg.wasm",
    ] {
        if !pkg.join(file).is_file() {
            missing.push(file);
        }
    }
    if !missing.is_empty() {
        bail!(
            "the package in {} lacks {}",
            pkg.display(),
            missing.join(", ")
        );
    }
    let manifest = fs::read_to_string(pkg.join("package.json"))
        .map_err(|e| Error::new(format!("reading {}/package.json: {e}", pkg.display())))?;
    if !manifest.contains("\"name\": \"wasm-websocket-js\"") {
        bail!(
            "{}/package.json does not name the package `wasm-websocket-js`",
            pkg.display()
        );
    }
    let types = fs::read_to_string(pkg.join("wasm_websocket.d.ts")).map_err(|e| {
        Error::new(format!(
            "reading {}/wasm_websocket.d.ts: {e}",
            pkg.display()
        ))
    })?;
    for needle in [
        "export class Socket",
        "static connect(",
        "export type SocketError",
    ] {
        if !types.contains(needle) {
            bail!("{}/wasm_websocket.d.ts lacks `{needle}`", pkg.display());
        }
    }
    Ok(())
}

/// Replaces everything in `dest` except `pkg/` with a copy of `src` (skipping
/// `node_modules` and dot files).
fn copy_site(src: &Path, dest: &Path) -> Result<()> {
    let io = |what: &str, path: &Path, e: std::io::Error| {
        Error::new(format!("{what} {}: {e}", path.display()))
    };
    fs::create_dir_all(dest).map_err(|e| io("creating", dest, e))?;
    for entry in fs::read_dir(dest).map_err(|e| io("reading", dest, e))? {
        let entry = entry.map_err(|e| io("reading", dest, e))?;
        if entry.file_name() == "pkg" {
            continue;
        }
        let path = entry.path();
        let removed = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|e| io("removing", &path, e))?;
    }
    copy_tree(src, dest).map_err(|e| io("copying into", dest, e))
}

fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        let skip = name == "node_modules" || name.to_string_lossy().starts_with('.');
        if skip {
            continue;
        }
        let from = entry.path();
        let to = dest.join(&name);
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&to)?;
            copy_tree(&from, &to)?;
        } else {
            fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options() {
        let opts = parse(&[]).unwrap().unwrap();
        assert_eq!(opts.port, DEFAULT_PORT);
        assert_eq!(opts.mode, Mode::Install);
        assert_eq!(parse(&["--port", "9000"]).unwrap().unwrap().port, 9000);
        assert_eq!(parse(&["--port=0"]).unwrap().unwrap().port, 0);
        assert_eq!(
            parse(&["--no-install"]).unwrap().unwrap().mode,
            Mode::VerifyOnly
        );
        assert_eq!(parse(&["-h"]), Ok(None));
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "70000"]).is_err());
        assert!(parse(&["--no-install=1"]).is_err());
        assert!(parse(&["--frobnicate"]).is_err());
    }

    #[test]
    fn copies_the_site_but_keeps_pkg_and_skips_node_modules() {
        let base = std::env::temp_dir().join(format!("xtask-demo-test-{}", std::process::id()));
        let (src, dest) = (base.join("src"), base.join("dest"));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(src.join("tests/node_modules/x")).unwrap();
        fs::write(src.join("index.html"), "page").unwrap();
        fs::write(src.join("tests/a.mjs"), "test").unwrap();
        fs::write(src.join("tests/node_modules/x/y.js"), "dep").unwrap();
        fs::create_dir_all(dest.join("pkg")).unwrap();
        fs::write(dest.join("pkg/p.js"), "package").unwrap();
        fs::write(dest.join("stale.html"), "old").unwrap();

        copy_site(&src, &dest).unwrap();
        assert_eq!(fs::read_to_string(dest.join("index.html")).unwrap(), "page");
        assert_eq!(
            fs::read_to_string(dest.join("tests/a.mjs")).unwrap(),
            "test"
        );
        assert_eq!(
            fs::read_to_string(dest.join("pkg/p.js")).unwrap(),
            "package"
        );
        assert!(!dest.join("tests/node_modules").exists());
        assert!(!dest.join("stale.html").exists());
        fs::remove_dir_all(&base).unwrap();
    }
}
