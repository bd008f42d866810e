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

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::package::PackageTools;
use crate::paths::{target_dir, workspace_root};
use crate::peer::Peer;
use crate::run::{describe, header};
use crate::setup::Mode;

/// Build the npm package and serve the demo page on http://127.0.0.1:8080/.
///
/// Builds the npm package (wasm-pack, --target web, crate npm/) and the test peer
/// (release), serves the demo page (www/) with the package at /pkg/ and the peer's
/// WebSocket routes on http://127.0.0.1:PORT/, prints the URL and runs until interrupted.
#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct DemoArgs {
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Install nothing; fail if something is missing.
    #[arg(long)]
    pub no_install: bool,
}

/// Runs `cargo xtask demo` until the peer exits or the user interrupts it.
pub fn run(args: &DemoArgs) -> Result<()> {
    let root = workspace_root();
    let site = prepare_site(&root, Mode::from_no_install(args.no_install))?;
    header("build the test peer (release)");
    let exe = Peer::build(&root, true)?;
    header("serve");
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let mut peer = Peer::serving(&exe, addr, &site.dir).with_context(|| match args.port {
        0 => String::new(),
        port => format!("is port {port} in use? try --port 0"),
    })?;
    let url = format!("http://{}/", peer.addr());
    println!(
        "\n  demo:      {url}\n  self-test: {url}?selftest=1\n  echo:      ws://{}/echo\n",
        peer.addr()
    );
    println!("Serving {} — press Ctrl-C to stop.", site.dir.display());
    let _ = std::io::stdout().flush();
    let status = peer.wait()?;
    bail!("the peer stopped ({})", describe(status))
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
    let tools = PackageTools::ensure(root, mode)?;
    header("build the npm package (wasm-pack build npm --target web)");
    let dir = target_dir(root).join("www");
    tools.build(root, "web", &dir.join("pkg"))?;
    header("assemble the site");
    copy_site(&root.join("www"), &dir)
        .with_context(|| format!("copying www/ into {}", dir.display()))?;
    println!("{} (package at /pkg/)", dir.display());
    Ok(Site { dir, tools })
}

/// Replaces everything in `dest` except `pkg/` with a copy of `src` (skipping
/// `node_modules` and dot files).
fn copy_site(src: &Path, dest: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dest)?;
    for entry in fs::read_dir(dest)? {
        let path = entry?.path();
        if path.file_name() == Some("pkg".as_ref()) {
            continue;
        }
        if path.is_dir() {
            fs::remove_dir_all(&path)?;
        } else {
            fs::remove_file(&path)?;
        }
    }
    copy_tree(src, dest)
}

fn copy_tree(src: &Path, dest: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == "node_modules" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let to = dest.join(&name);
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&to)?;
            copy_tree(&entry.path(), &to)?;
        } else {
            fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_the_site_but_keeps_pkg_and_skips_node_modules() {
        let base = tempfile::tempdir().unwrap();
        let (src, dest) = (base.path().join("src"), base.path().join("dest"));
        let write = |path: PathBuf, text: &str| {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write(src.join("index.html"), "page");
        write(src.join("tests/a.mjs"), "test");
        write(src.join("tests/node_modules/x/y.js"), "dep");
        write(dest.join("pkg/p.js"), "package");
        write(dest.join("stale.html"), "old");

        copy_site(&src, &dest).unwrap();
        let read = |p: &str| fs::read_to_string(dest.join(p)).unwrap();
        assert_eq!(
            (read("index.html"), read("tests/a.mjs"), read("pkg/p.js")),
            ("page".into(), "test".into(), "package".into())
        );
        assert!(!dest.join("tests/node_modules").exists());
        assert!(!dest.join("stale.html").exists());
    }
}
