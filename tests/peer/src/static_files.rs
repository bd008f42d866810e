//! `--static DIR`: plain HTTP file serving for non-upgrade requests.

use std::io;
use std::path::{Component, Path, PathBuf};

use tokio::net::TcpStream;

use crate::http::{percent_decode, respond_and_close, RequestHead};

/// Content-Type for a file name, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ts") => "application/typescript; charset=utf-8",
        Some("txt") => "text/plain; charset=utf-8",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// Maps a (still percent-encoded) request path to a file under `root`.
/// Returns `None` for anything that would leave `root` or does not exist.
pub fn resolve(root: &Path, raw_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(raw_path);
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

/// Answers one plain HTTP request and closes the connection.
pub async fn serve(stream: TcpStream, root: Option<&Path>, head: &RequestHead) -> io::Result<()> {
    let head_only = head.method == "HEAD";
    if head.method != "GET" && !head_only {
        return respond_and_close(
            stream,
            "405 Method Not Allowed",
            &[("Allow", "GET, HEAD"), ("Cache-Control", "no-store")],
            b"",
            false,
        )
        .await;
    }
    let file = match root.and_then(|r| resolve(r, &head.path)) {
        Some(f) => f,
        None => return not_found(stream, head_only).await,
    };
    match tokio::fs::read(&file).await {
        Ok(body) => {
            respond_and_close(
                stream,
                "200 OK",
                &[
                    ("Content-Type", content_type(&file)),
                    ("Cache-Control", "no-store"),
                ],
                &body,
                head_only,
            )
            .await
        }
        Err(_) => not_found(stream, head_only).await,
    }
}

async fn not_found(stream: TcpStream, head_only: bool) -> io::Result<()> {
    respond_and_close(
        stream,
        "404 Not Found",
        &[
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Cache-Control", "no-store"),
        ],
        b"not found\n",
        head_only,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(content_type(Path::new("a/b.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("x.MJS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
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
