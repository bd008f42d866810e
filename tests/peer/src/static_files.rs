//! `--static DIR`: plain HTTP file serving for requests that are not upgrades.
//!
//! Which file a path means is decided here ([`resolve`]): directories serve
//! their `index.html` without a redirect, and nothing outside `DIR` is served,
//! not even through a symlink (tower-http's `ServeDir` would redirect and
//! follow such links). The file itself is served by tower-http's `ServeFile`
//! (HEAD, ranges, conditional requests), typed by `mime_guess`.

use std::path::{Component, Path, PathBuf};

use http::{Method, Request, Response};
use http_body_util::BodyExt;
use mime_guess::mime::{self, Mime};
use tower_http::services::ServeFile;

use crate::query::decode;
use crate::responses::{self, Body};

/// Content-Type for a file name: `mime_guess`, plus `charset=utf-8` on text
/// and JavaScript (the served pages and glue code are UTF-8, and saying so
/// spares browsers a guess).
pub fn content_type(path: &Path) -> Mime {
    let guess = mime_guess::from_path(path).first_or_octet_stream();
    let textual = guess.type_() == mime::TEXT || guess.subtype() == mime::JAVASCRIPT;
    if textual && guess.get_param(mime::CHARSET).is_none() {
        if let Ok(with_charset) = format!("{guess}; charset=utf-8").parse() {
            return with_charset;
        }
    }
    guess
}

/// Maps a (still percent-encoded) request path to a file under `root`.
/// Returns `None` for anything that would leave `root` or does not exist.
pub fn resolve(root: &Path, raw_path: &str) -> Option<PathBuf> {
    let decoded = decode(raw_path);
    if !decoded.starts_with('/') || decoded.contains(['\0', '\\']) {
        return None;
    }
    let mut path = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s => {
                // A segment must be one plain name (no drive prefixes etc.).
                let mut comps = Path::new(s).components();
                match (comps.next(), comps.next()) {
                    (Some(Component::Normal(_)), None) => path.push(s),
                    _ => return None,
                }
            }
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    // Symlinks must not lead outside the root either.
    let canonical_root = root.canonicalize().ok()?;
    let canonical = path.canonicalize().ok()?;
    (canonical.starts_with(&canonical_root) && canonical.is_file()).then_some(canonical)
}

/// Answers one plain HTTP request from `root` (404 for everything without it).
pub async fn serve<B>(root: Option<&Path>, request: Request<B>) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return responses::method_not_allowed();
    }
    let Some(file) = root.and_then(|r| resolve(r, request.uri().path())) else {
        return responses::not_found();
    };
    let mime = content_type(&file);
    // The body of a GET is of no use to a file; dropping it keeps this Send.
    let request = request.map(drop);
    match ServeFile::new_with_mime(&file, &mime)
        .try_call(request)
        .await
    {
        Ok(response) => responses::no_store(response.map(|body| body.boxed_unsync())),
        // Gone or unreadable since `resolve` looked: the same as missing.
        Err(_) => responses::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        let ty = |name: &str| content_type(Path::new(name)).to_string();
        assert_eq!(ty("a/b.wasm"), "application/wasm");
        assert_eq!(ty("index.html"), "text/html; charset=utf-8");
        assert_eq!(ty("x.JS"), "text/javascript; charset=utf-8");
        assert_eq!(ty("x.mjs"), "application/javascript; charset=utf-8");
        assert_eq!(ty("s.css"), "text/css; charset=utf-8");
        assert_eq!(ty("d.json"), "application/json");
        assert_eq!(ty("i.svg"), "image/svg+xml");
        assert_eq!(ty("i.png"), "image/png");
        assert_eq!(ty("x"), "application/octet-stream");
    }

    #[test]
    fn no_traversal() {
        let root = std::env::temp_dir();
        assert_eq!(resolve(&root, "/../etc/passwd"), None);
        assert_eq!(resolve(&root, "/%2e%2e/etc/passwd"), None);
        assert_eq!(resolve(&root, "/a\\..\\b"), None);
        assert_eq!(resolve(&root, "relative"), None);
    }
}
