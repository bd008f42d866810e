//! Installing what a run needs, idempotently: every check is cheap, and nothing that is
//! already there is installed again.
//!
//! The helpers are generic so other subcommands can reuse them: [`ensure_apt`] for Debian
//! packages, [`ensure_cargo_install`] for tools published on crates.io,
//! [`ensure_rust_target`] and [`ensure_rust_components`] for the toolchain.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use crate::util::{bail, Cmd, Error, Result};

/// Whether missing things may be installed, or only reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Install,
    VerifyOnly,
}

/// `$CARGO_HOME`, or `~/.cargo`.
pub fn cargo_home() -> PathBuf {
    if let Some(home) = env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    let home = env::var_os("HOME").unwrap_or_else(|| OsString::from("/root"));
    PathBuf::from(home).join(".cargo")
}

/// Puts `$CARGO_HOME/bin` first on our `PATH`, so that children (cargo's test runner, the
/// browsers' drivers) find what `cargo install` put there. Call before spawning threads.
pub fn put_cargo_bin_on_path() {
    let bin = cargo_home().join("bin");
    let current = env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = env::split_paths(&current).collect();
    if dirs.first() == Some(&bin) {
        return;
    }
    dirs.retain(|d| d != &bin);
    dirs.insert(0, bin);
    if let Ok(path) = env::join_paths(dirs) {
        // Edition 2021: safe; we are still single-threaded when this runs.
        env::set_var("PATH", path);
    }
}

/// Removes what `cargo run` added to `LD_LIBRARY_PATH` (our target directory and the
/// toolchain's libraries), so browsers and drivers start with the environment a user has.
/// Call before spawning threads.
pub fn drop_cargo_library_path(target_dir: &Path) {
    let Some(current) = env::var_os("LD_LIBRARY_PATH") else {
        return;
    };
    // `$CARGO` is `<toolchain>/bin/cargo`.
    let toolchain = env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|cargo| Some(cargo.parent()?.parent()?.to_path_buf()));
    let from_toolchain = |dir: &Path| {
        toolchain.as_ref().is_some_and(|t| {
            let lib = t.join("lib");
            dir == lib || dir.starts_with(lib.join("rustlib"))
        })
    };
    let kept: Vec<PathBuf> = env::split_paths(&current)
        .filter(|dir| {
            !dir.as_os_str().is_empty() && !dir.starts_with(target_dir) && !from_toolchain(dir)
        })
        .collect();
    if kept.is_empty() {
        env::remove_var("LD_LIBRARY_PATH");
    } else if let Ok(joined) = env::join_paths(kept) {
        env::set_var("LD_LIBRARY_PATH", joined);
    }
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

/// Every executable called `name` in `$CARGO_HOME/bin` and on `PATH`, in that order, without
/// duplicates. A `name` with a `/` is taken as a path.
pub fn find_all(name: &str) -> Vec<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return if is_executable(&path) {
            vec![path]
        } else {
            Vec::new()
        };
    }
    let mut dirs = vec![cargo_home().join("bin")];
    if let Some(path) = env::var_os("PATH") {
        dirs.extend(env::split_paths(&path));
    }
    let mut found: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let candidate = dir.join(name);
        if is_executable(&candidate) && !found.contains(&candidate) {
            found.push(candidate);
        }
    }
    found
}

/// The first executable called `name` (see [`find_all`]).
pub fn find(name: &str) -> Option<PathBuf> {
    find_all(name).into_iter().next()
}

/// The version in a tool's `--version` output: the first word of the first line that starts
/// with a digit (after an optional `v`). `wasm-bindgen-test-runner 0.2.130` gives `0.2.130`,
/// `geckodriver 0.37.0 (abc 2025-01-01)` gives `0.37.0`.
pub fn parse_version_output(output: &str) -> Option<&str> {
    let first_line = output.lines().find(|l| !l.trim().is_empty())?;
    first_line
        .split_whitespace()
        .map(|word| word.strip_prefix('v').unwrap_or(word))
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
}

/// Runs `<tool> --version` and returns the version it reports.
pub fn tool_version(tool: &Path) -> Option<String> {
    let out = Cmd::new(tool).arg("--version").output().ok()?;
    if !out.status.success() {
        return None;
    }
    parse_version_output(&String::from_utf8_lossy(&out.stdout)).map(str::to_string)
}

/// Which version of a tool will do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want<'a> {
    Any,
    Exact(&'a str),
}

/// Finds `binary` (from crate `krate`) at the wanted version, installing it with
/// `cargo install` into `$CARGO_HOME/bin` when it is missing. Returns its path.
pub fn ensure_cargo_install(
    binary: &str,
    krate: &str,
    want: Want<'_>,
    mode: Mode,
) -> Result<PathBuf> {
    let mut seen = Vec::new();
    for path in find_all(binary) {
        let version = tool_version(&path);
        let fits = match want {
            Want::Any => version.is_some(),
            Want::Exact(v) => version.as_deref() == Some(v),
        };
        if fits {
            println!(
                "{binary} {} found: {}",
                version.as_deref().unwrap_or("?"),
                path.display()
            );
            return Ok(path);
        }
        seen.push(format!(
            "{} reports {}",
            path.display(),
            version.as_deref().unwrap_or("no version")
        ));
    }

    let mut install = Cmd::cargo().args(["install", krate]);
    if cargo_home().join("bin").join(binary).exists() {
        // Replace what is there even if cargo did not install it.
        install = install.arg("--force");
    }
    let wanted = match want {
        Want::Any => String::new(),
        Want::Exact(v) => {
            // No `--locked`: the tools' own lockfiles may pin versions this registry lacks.
            install = install.args(["--version", v]);
            format!(" {v}")
        }
    };
    let found = if seen.is_empty() {
        String::from("not found")
    } else {
        format!("not usable ({})", seen.join("; "))
    };
    if mode == Mode::VerifyOnly {
        bail!("{binary}{wanted} is {found}; install it with: {install}");
    }
    println!("{binary}{wanted} is {found}; installing");
    install.run()?;

    let installed = cargo_home().join("bin").join(binary);
    let version = tool_version(&installed);
    let fits = match want {
        Want::Any => version.is_some(),
        Want::Exact(v) => version.as_deref() == Some(v),
    };
    if !fits {
        bail!(
            "`{install}` succeeded but {} reports {}",
            installed.display(),
            version.as_deref().unwrap_or("no version")
        );
    }
    Ok(installed)
}

/// A Debian package and the executables that show it is installed (any one of them will do).
#[derive(Clone, Copy, Debug)]
pub struct AptNeed {
    pub package: &'static str,
    /// Absolute paths or names looked up on `PATH`.
    pub binaries: &'static [&'static str],
}

impl AptNeed {
    pub fn is_met(&self) -> bool {
        self.binaries.iter().any(|b| find(b).is_some())
    }
}

/// Whether we run with effective user id 0.
pub fn is_root() -> bool {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        if let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:")) {
            // Real, effective, saved, filesystem.
            return uids.split_whitespace().nth(1) == Some("0");
        }
    }
    Cmd::new("id")
        .arg("-u")
        .read()
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

static APT_UPDATED: AtomicBool = AtomicBool::new(false);

/// Installs the packages of `needs` whose executables are missing, in one `apt-get install`
/// (after one `apt-get update` per process).
pub fn ensure_apt(needs: &[AptNeed], mode: Mode) -> Result<()> {
    let mut missing: Vec<&str> = Vec::new();
    for need in needs {
        if need.is_met() {
            println!("{}: present", need.package);
        } else if !missing.contains(&need.package) {
            missing.push(need.package);
        }
    }
    if missing.is_empty() {
        return Ok(());
    }

    let install = Cmd::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y"])
        .args(&missing);
    let root = is_root();
    let apt = find("apt-get").is_some();
    if mode == Mode::VerifyOnly || !root || !apt {
        let sudo = if root { "" } else { "sudo " };
        let why = if mode == Mode::VerifyOnly {
            "--no-install was given"
        } else if !apt {
            "apt-get is not available here"
        } else {
            "not running as root"
        };
        bail!(
            "missing Debian packages: {} ({why}); install them with:\n    {sudo}apt-get update && {sudo}{install}",
            missing.join(" ")
        );
    }

    if !APT_UPDATED.swap(true, Ordering::SeqCst) {
        Cmd::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .arg("update")
            .run()?;
    }
    install.run()?;

    let still: Vec<String> = needs
        .iter()
        .filter(|n| !n.is_met())
        .map(|n| format!("{} ({})", n.package, n.binaries.join(" or ")))
        .collect();
    if !still.is_empty() {
        bail!(
            "`{install}` succeeded but these are still missing: {}",
            still.join(", ")
        );
    }
    Ok(())
}

/// Adds a rustc target (e.g. `wasm32-unknown-unknown`) unless it is installed.
pub fn ensure_rust_target(target: &str, mode: Mode) -> Result<()> {
    let add = Cmd::new("rustup").args(["target", "add", target]);
    let installed = match Cmd::new("rustup")
        .args(["target", "list", "--installed"])
        .read()
    {
        Ok(list) => list.lines().any(|l| l.trim() == target),
        Err(_) => {
            // No rustup: look in the sysroot, and there is nothing we can install with.
            let sysroot = Cmd::new("rustc").args(["--print", "sysroot"]).read()?;
            if Path::new(sysroot.trim())
                .join("lib/rustlib")
                .join(target)
                .is_dir()
            {
                println!("target {target}: present");
                return Ok(());
            }
            bail!("the Rust target {target} is missing and rustup is not available; add the target to your toolchain");
        }
    };
    if installed {
        println!("target {target}: present");
        return Ok(());
    }
    if mode == Mode::VerifyOnly {
        bail!("the Rust target {target} is missing; add it with: {add}");
    }
    add.run()
}

/// Adds rustup components (e.g. `rustfmt`, `clippy`) unless they are installed.
pub fn ensure_rust_components(components: &[&str], mode: Mode) -> Result<()> {
    let Ok(list) = Cmd::new("rustup")
        .args(["component", "list", "--installed"])
        .read()
    else {
        // Not a rustup toolchain: the checks that use them will say what is missing.
        return Ok(());
    };
    // Lines look like `clippy-x86_64-unknown-linux-gnu`.
    let missing: Vec<&str> = components
        .iter()
        .copied()
        .filter(|c| {
            !list
                .lines()
                .any(|l| l.trim() == *c || l.trim().starts_with(&format!("{c}-")))
        })
        .collect();
    if missing.is_empty() {
        println!("components {}: present", components.join(", "));
        return Ok(());
    }
    let add = Cmd::new("rustup").args(["component", "add"]).args(&missing);
    if mode == Mode::VerifyOnly {
        bail!("missing Rust components; add them with: {add}");
    }
    add.run()
}

/// Every version of `package` that a `Cargo.lock` text lists.
pub fn locked_versions(lock: &str, package: &str) -> Vec<String> {
    fn value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
        let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
        rest.trim().strip_prefix('"')?.strip_suffix('"')
    }
    let mut versions = Vec::new();
    let mut name: Option<&str> = None;
    for line in lock.lines().map(str::trim) {
        if line.starts_with('[') {
            name = None;
        } else if let Some(n) = value(line, "name") {
            name = Some(n);
        } else if let Some(v) = value(line, "version") {
            if name == Some(package) && !versions.iter().any(|x| x == v) {
                versions.push(v.to_string());
            }
        }
    }
    versions
}

/// The one version of `package` in the workspace's `Cargo.lock`; the lockfile is created,
/// or completed without changing existing pins, when it lacks the package.
pub fn locked_version(root: &Path, package: &str) -> Result<String> {
    let lock_path = root.join("Cargo.lock");
    let read = || -> Result<Vec<String>> {
        match fs::read_to_string(&lock_path) {
            Ok(text) => Ok(locked_versions(&text, package)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::new(format!("reading {}: {e}", lock_path.display()))),
        }
    };
    let mut versions = read()?;
    if versions.is_empty() {
        if lock_path.exists() {
            // Adds what is missing and keeps every existing pin.
            Cmd::cargo()
                .args(["update", "--workspace"])
                .cwd(root)
                .run()?;
        } else {
            Cmd::cargo().arg("generate-lockfile").cwd(root).run()?;
        }
        versions = read()?;
    }
    match versions.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!(
            "{} has no `{package}` package; is it a dependency of the workspace?",
            lock_path.display()
        ),
        many => bail!(
            "{} has several versions of `{package}` ({}); the test runner must match the one the tests use, so keep one",
            lock_path.display(),
            many.join(", ")
        ),
    }
}

/// `npm ci` in `dir` unless `node_modules` is there and at least as new as the lockfile.
/// `whose` names the packages' user in the error, e.g. "the JS tests'".
pub fn ensure_node_modules(dir: &Path, whose: &str, mode: Mode) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules").join(".package-lock.json");
    let modified = |path: &Path| -> Option<SystemTime> { fs::metadata(path).ok()?.modified().ok() };
    let fresh = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        _ => false,
    };
    if fresh {
        println!("{}: up to date", dir.join("node_modules").display());
        return Ok(());
    }
    if mode == Mode::VerifyOnly {
        bail!(
            "{whose} npm dependencies are missing or stale; install them with: (cd {} && npm ci)",
            dir.display()
        );
    }
    Cmd::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .cwd(dir)
        .run()
        .map_err(|e| Error::new(format!("{e} (in {})", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
 "wasm-bindgen-macro",
]

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.129"

[[package]]
name = "wasm-websocket"
version = "0.1.0"
dependencies = [
 "wasm-bindgen",
]
"#;

    #[test]
    fn lock_version_of_exact_package() {
        assert_eq!(locked_versions(LOCK, "wasm-bindgen"), ["0.2.130"]);
        assert_eq!(locked_versions(LOCK, "wasm-bindgen-backend"), ["0.2.129"]);
        assert!(locked_versions(LOCK, "wasm-bindgen-cli").is_empty());
        // The lockfile's own `version = 4` belongs to no package.
        assert!(locked_versions(LOCK, "").is_empty());
    }

    #[test]
    fn lock_lists_every_version() {
        let lock = "[[package]]\nname = \"syn\"\nversion = \"1.0.109\"\n\n[[package]]\nname = \"syn\"\nversion = \"2.0.87\"\n";
        assert_eq!(locked_versions(lock, "syn"), ["1.0.109", "2.0.87"]);
    }

    #[test]
    fn version_output() {
        assert_eq!(
            parse_version_output("wasm-bindgen-test-runner 0.2.130\n"),
            Some("0.2.130")
        );
        assert_eq!(
            parse_version_output("geckodriver 0.37.0 (NaN 2025-01-01)\n\nThe source is ..."),
            Some("0.37.0")
        );
        assert_eq!(parse_version_output("wasm-pack 0.13.1"), Some("0.13.1"));
        assert_eq!(
            parse_version_output("wasm-opt version 108 (version_108)"),
            Some("108")
        );
        assert_eq!(parse_version_output("tool v1.2.3"), Some("1.2.3"));
        assert_eq!(parse_version_output("no version here"), None);
        assert_eq!(parse_version_output(""), None);
    }
}
