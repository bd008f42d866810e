//! Installing what a run needs, idempotently: every probe is cheap, and nothing that is
//! already there is installed again. With [`Mode::VerifyOnly`] each helper says how to
//! install what is missing instead.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use anyhow::{bail, ensure, Context, Result};

use crate::run::{cargo, Run};

/// Whether missing things may be installed, or only reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Install,
    VerifyOnly,
}

impl Mode {
    pub fn from_no_install(no_install: bool) -> Mode {
        if no_install {
            Mode::VerifyOnly
        } else {
            Mode::Install
        }
    }
}

/// `$CARGO_HOME/bin`, where `cargo install` puts tools.
pub fn cargo_bin() -> PathBuf {
    let home = env::var_os("CARGO_HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env::var_os("HOME").unwrap_or("/root".into())).join(".cargo")
        });
    home.join("bin")
}

/// Puts `$CARGO_HOME/bin` first on `PATH` (children must find what `cargo install` put
/// there), and drops what `cargo run` added to `LD_LIBRARY_PATH` (browsers and drivers
/// should start with a user's environment). Call before any thread starts.
pub fn prepare_environment(target_dir: &Path) {
    let bin = cargo_bin();
    let mut dirs: Vec<PathBuf> = env::split_paths(&env::var_os("PATH").unwrap_or_default())
        .filter(|d| *d != bin)
        .collect();
    dirs.insert(0, bin);
    if let Ok(path) = env::join_paths(dirs) {
        env::set_var("PATH", path);
    }

    let Some(current) = env::var_os("LD_LIBRARY_PATH") else {
        return;
    };
    // `$CARGO` is `<toolchain>/bin/cargo`; its `lib` holds the toolchain's libraries.
    let toolchain_lib = env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| Some(c.parent()?.parent()?.join("lib")));
    let kept: Vec<PathBuf> = env::split_paths(&current)
        .filter(|d| !d.as_os_str().is_empty() && !d.starts_with(target_dir))
        .filter(|d| toolchain_lib.as_ref().is_none_or(|lib| !d.starts_with(lib)))
        .collect();
    match env::join_paths(&kept) {
        Ok(joined) if !kept.is_empty() => env::set_var("LD_LIBRARY_PATH", joined),
        _ => env::remove_var("LD_LIBRARY_PATH"),
    }
}

/// The version in a tool's `--version` output: the first word of the first line that starts
/// with a digit (after an optional `v`): `geckodriver 0.37.0 (abc)` gives `0.37.0`.
pub fn parse_version_output(output: &str) -> Option<&str> {
    let first_line = output.lines().find(|l| !l.trim().is_empty())?;
    first_line
        .split_whitespace()
        .map(|word| word.strip_prefix('v').unwrap_or(word))
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
}

/// Runs `<tool> --version` and returns the version it reports.
pub fn tool_version(tool: &Path) -> Option<String> {
    let out = Command::new(tool).arg("--version").read().ok()?;
    parse_version_output(&out).map(str::to_string)
}

/// The major number of a tool's version (`20.11.1` gives 20).
pub fn major_version(tool: &Path) -> Option<u32> {
    tool_version(tool)?.split('.').next()?.parse().ok()
}

/// Finds `binary` (from crate `krate`) at `version` (any when `None`) on `PATH`, installing
/// it with `cargo install` when it is missing. Returns its path.
pub fn ensure_cargo_install(
    binary: &str,
    krate: &str,
    version: Option<&str>,
    mode: Mode,
) -> Result<PathBuf> {
    let fits = |path: &Path| {
        let found = tool_version(path);
        let ok = found.is_some() && (version.is_none() || found.as_deref() == version);
        (ok, found.unwrap_or_else(|| "no version".into()))
    };
    let mut seen = Vec::new();
    for path in which::which_all(binary).into_iter().flatten() {
        match fits(&path) {
            (true, v) => {
                println!("{binary} {v} found: {}", path.display());
                return Ok(path);
            }
            (false, v) => seen.push(format!("{} reports {v}", path.display())),
        }
    }

    let mut install = cargo();
    install.args(["install", krate]);
    if let Some(v) = version {
        // No `--locked`: the tools' own lockfiles may pin versions this registry lacks.
        install.args(["--version", v]);
    }
    let installed = cargo_bin().join(binary);
    if installed.exists() {
        // Replace what is there even if cargo did not install it.
        install.arg("--force");
    }
    let wanted = match version {
        Some(v) => format!("{binary} {v}"),
        None => binary.to_string(),
    };
    let state = if seen.is_empty() {
        "not found".to_string()
    } else {
        format!("not usable ({})", seen.join("; "))
    };
    ensure!(
        mode == Mode::Install,
        "{wanted} is {state}; install it with: {}",
        install.shown()
    );
    println!("{wanted} is {state}; installing");
    install.run()?;
    match fits(&installed) {
        (true, _) => Ok(installed),
        (false, v) => bail!(
            "`{}` succeeded but {} reports {v}",
            install.shown(),
            installed.display()
        ),
    }
}

/// wasm-bindgen-cli's `binary` (`wasm-bindgen` or `wasm-bindgen-test-runner`) at the
/// Cargo.lock version of `wasm-bindgen`: the runner must match the tests' library.
pub fn ensure_bindgen(root: &Path, binary: &str, mode: Mode) -> Result<PathBuf> {
    let version = crate::lockfile::locked_version(root, "wasm-bindgen")?;
    ensure_cargo_install(binary, "wasm-bindgen-cli", Some(&version), mode)
}

/// A Debian package and the executables that show it is installed (any one will do).
#[derive(Clone, Copy, Debug)]
pub struct AptNeed {
    pub package: &'static str,
    /// Absolute paths or names looked up on `PATH`.
    pub binaries: &'static [&'static str],
}

impl AptNeed {
    pub fn is_met(&self) -> bool {
        self.binaries.iter().any(|b| which::which(b).is_ok())
    }
}

static APT_UPDATE: Once = Once::new();

/// Installs the packages of `needs` whose executables are missing, in one `apt-get install`
/// (after one `apt-get update` per process).
pub fn ensure_apt(needs: &[AptNeed], mode: Mode) -> Result<()> {
    let mut missing: Vec<&str> = needs
        .iter()
        .filter(|n| !n.is_met())
        .map(|n| n.package)
        .collect();
    missing.dedup();
    for need in needs.iter().filter(|n| !missing.contains(&n.package)) {
        println!("{}: present", need.package);
    }
    if missing.is_empty() {
        return Ok(());
    }
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd
    };
    let mut install = apt(&["install", "-y"]);
    install.args(&missing);
    let root = Command::new("id")
        .arg("-u")
        .read()
        .is_ok_and(|id| id.trim() == "0");
    let why = match () {
        _ if mode == Mode::VerifyOnly => Some("--no-install was given"),
        _ if which::which("apt-get").is_err() => Some("apt-get is not available here"),
        _ if !root => Some("not running as root"),
        _ => None,
    };
    if let Some(why) = why {
        let sudo = if root { "" } else { "sudo " };
        bail!(
            "missing Debian packages: {} ({why}); install them with:\n    {sudo}apt-get update && {sudo}{}",
            missing.join(" "),
            install.shown()
        );
    }
    let mut updated = Ok(());
    APT_UPDATE.call_once(|| updated = apt(&["update"]).run());
    updated?;
    install.run()?;
    let still: Vec<String> = needs
        .iter()
        .filter(|n| !n.is_met())
        .map(|n| format!("{} ({})", n.package, n.binaries.join(" or ")))
        .collect();
    ensure!(
        still.is_empty(),
        "`{}` succeeded but these are still missing: {}",
        install.shown(),
        still.join(", ")
    );
    Ok(())
}

/// Adds rustup `kind`s (`target` or `component`) that are not installed yet, e.g.
/// `ensure_rustup("target", &["wasm32-unknown-unknown"], mode)`.
pub fn ensure_rustup(kind: &str, names: &[&str], mode: Mode) -> Result<()> {
    let list = Command::new("rustup")
        .args([kind, "list", "--installed"])
        .read()?;
    // Components are listed with their host: `clippy-x86_64-unknown-linux-gnu`.
    let installed = |name: &str| {
        list.lines()
            .any(|l| l == name || l.starts_with(&format!("{name}-")))
    };
    let missing: Vec<&str> = names.iter().copied().filter(|n| !installed(n)).collect();
    if missing.is_empty() {
        println!("{kind} {}: present", names.join(", "));
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args([kind, "add"]).args(&missing);
    ensure!(
        mode == Mode::Install,
        "missing Rust {kind}s; add them with: {}",
        add.shown()
    );
    add.run()
}

/// `npm ci` in `dir` unless `node_modules` is there and at least as new as the lockfile.
pub fn ensure_node_modules(dir: &Path, mode: Mode) -> Result<()> {
    let modified = |path: PathBuf| fs::metadata(path).and_then(|m| m.modified()).ok();
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    if installed.is_some() && installed >= modified(dir.join("package-lock.json")) {
        println!("{}/node_modules: up to date", dir.display());
        return Ok(());
    }
    let mut ci = Command::new("npm");
    ci.args(["ci", "--no-audit", "--no-fund"]).current_dir(dir);
    ensure!(
        mode == Mode::Install,
        "npm dependencies in {} are missing or stale; install them with: (cd {0} && npm ci)",
        dir.display()
    );
    ci.run().with_context(|| format!("in {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_output() {
        assert_eq!(
            parse_version_output("wasm-bindgen-test-runner 0.2.130\n"),
            Some("0.2.130")
        );
        assert_eq!(
            parse_version_output("geckodriver 0.37.0 (NaN 2025-01-01)\n\nThe source"),
            Some("0.37.0")
        );
        assert_eq!(
            parse_version_output("wasm-opt version 108 (version_108)"),
            Some("108")
        );
        assert_eq!(parse_version_output("tool v1.2.3"), Some("1.2.3"));
        assert_eq!(parse_version_output("no version here"), None);
        assert_eq!(parse_version_output(""), None);
    }
}
