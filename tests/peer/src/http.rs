//! Minimal HTTP/1.1 request-head handling: reading the head off a socket,
//! parsing the request line and headers, query-string decoding, hand-written
//! plain responses, and a stream wrapper that replays the bytes already read
//! so the WebSocket handshake can run on the untouched request.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

/// Largest request head accepted (request line + headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// Time a client gets to send its complete request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a request head could not be obtained.
#[derive(Debug)]
pub enum HeadError {
    /// The connection ended (or failed) before a complete head arrived.
    Io(io::Error),
    /// No complete head within [`HEAD_TIMEOUT`].
    Timeout,
    /// The head grew beyond [`MAX_HEAD`] bytes.
    TooLarge,
    /// The bytes are not an HTTP/1.x request head.
    Malformed(&'static str),
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeadError::Io(e) => write!(f, "i/o error while reading request head: {e}"),
            HeadError::Timeout => write!(f, "timed out waiting for the request head"),
            HeadError::TooLarge => write!(f, "request head larger than {MAX_HEAD} bytes"),
            HeadError::Malformed(why) => write!(f, "malformed request head: {why}"),
        }
    }
}

/// A parsed HTTP request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// Path component of the request target, still percent-encoded.
    pub path: String,
    /// Raw query string (without `?`), if any.
    pub query: Option<String>,
    /// Header (lower-cased name, trimmed value) pairs in order of arrival.
    pub headers: Vec<(String, String)>,
}

impl RequestHead {
    /// Parses a complete head (everything up to and including the blank line).
    pub fn parse(head: &[u8]) -> Result<RequestHead, HeadError> {
        let text = std::str::from_utf8(head).map_err(|_| HeadError::Malformed("not UTF-8"))?;
        let mut lines = text.split("\r\n");
        let request_line = lines.next().ok_or(HeadError::Malformed("empty"))?;
        let mut parts = request_line.split(' ').filter(|p| !p.is_empty());
        let method = parts.next().ok_or(HeadError::Malformed("no method"))?;
        let target = parts
            .next()
            .ok_or(HeadError::Malformed("no request target"))?;
        let version = parts
            .next()
            .ok_or(HeadError::Malformed("no HTTP version"))?;
        if !version.starts_with("HTTP/1.") || parts.next().is_some() {
            return Err(HeadError::Malformed("bad request line"));
        }
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or(HeadError::Malformed("header line without ':'"))?;
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
        // Absolute-form targets ("http://host/path") are reduced to the path.
        let mut target = target;
        for scheme in ["http://", "https://", "ws://", "wss://"] {
            if let Some(rest) = target.strip_prefix(scheme) {
                target = rest.find('/').map_or("/", |i| &rest[i..]);
                break;
            }
        }
        let target = target.split('#').next().unwrap_or("");
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q.to_string())),
            None => (target, None),
        };
        Ok(RequestHead {
            method: method.to_string(),
            path: path.to_string(),
            query,
            headers,
        })
    }

    /// All values of a header (case-insensitive name), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request asks for a WebSocket upgrade (`Upgrade: websocket`).
    pub fn is_websocket_upgrade(&self) -> bool {
        self.header_values("upgrade").any(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
        })
    }

    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in the client's order.
    pub fn offered_protocols(&self) -> Vec<String> {
        self.header_values("sec-websocket-protocol")
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The decoded query parameters.
    pub fn params(&self) -> Params {
        Params::parse(self.query.as_deref().unwrap_or(""))
    }
}

/// Decoded query parameters (`+` is kept literally, `%XX` is decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Params {
        Params(
            query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (percent_decode(k), percent_decode(v))
                })
                .collect(),
        )
    }

    /// First value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` parsed as a number; `default` if absent, empty or unparsable.
    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        self.get(key)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    }

    /// `key` parsed as a number, `None` if absent, empty or unparsable.
    pub fn opt_num<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }
}

/// Percent-decodes `s`. `+` stays `+`; malformed escapes are kept literally;
/// invalid UTF-8 is replaced lossily.
pub fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads from `stream` until the buffer holds a complete request head.
///
/// Returns the whole buffer (which may contain bytes past the head) and the
/// length of the head including the terminating blank line.
pub async fn read_head(stream: &mut TcpStream) -> Result<(Vec<u8>, usize), HeadError> {
    let fut = async {
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream.read(&mut chunk).await.map_err(HeadError::Io)?;
            if n == 0 {
                return Err(HeadError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
            let search_from = buf.len().saturating_sub(3);
            buf.extend_from_slice(&chunk[..n]);
            if let Some(pos) = find(&buf[search_from..], b"\r\n\r\n") {
                let end = search_from + pos + 4;
                if end > MAX_HEAD {
                    return Err(HeadError::TooLarge);
                }
                return Ok((buf, end));
            }
            if buf.len() > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
        }
    };
    tokio::time::timeout(HEAD_TIMEOUT, fut)
        .await
        .unwrap_or(Err(HeadError::Timeout))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes a complete `Connection: close` response, then closes the connection
/// gracefully (FIN, then discard whatever the client still sends for a short
/// while so the kernel does not answer with a RST that could eat the response).
pub async fn respond_and_close(
    mut stream: TcpStream,
    status: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    if !head_only {
        bytes.extend_from_slice(body);
    }
    stream.write_all(&bytes).await?;
    stream.flush().await?;
    linger_close(stream, Duration::from_secs(2)).await;
    Ok(())
}

/// Sends FIN and drains incoming bytes until EOF or `max` elapses.
pub async fn linger_close<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, max: Duration) {
    let _ = stream.shutdown().await;
    let _ = tokio::time::timeout(max, async {
        let mut sink = [0u8; 4096];
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// A stream that first yields `prefix[pos..]` and then reads from `inner`.
/// Writes go straight to `inner`.
#[derive(Debug)]
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            pos: 0,
            inner,
        }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pos < this.prefix.len() {
            let rest = &this.prefix[this.pos..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            this.pos += n;
            if this.pos == this.prefix.len() {
                this.prefix = Vec::new();
                this.pos = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_but_not_plus() {
        assert_eq!(percent_decode("a+b%20c"), "a+b c");
        assert_eq!(percent_decode("%F0%9F%A6%80"), "🦀");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%41"), "A");
    }

    #[test]
    fn parses_head_and_query() {
        let raw = b"GET /close?code=4000&reason=bye%20now+x&x HTTP/1.1\r\n\
Host: 127.0.0.1\r\nUpgrade: WebSocket\r\nSec-WebSocket-Protocol: a, b\r\n\
sec-websocket-protocol: c\r\n\r\n";
        let head = RequestHead::parse(raw).unwrap();
        assert_eq!(head.method, "GET");
        assert_eq!(head.path, "/close");
        assert!(head.is_websocket_upgrade());
        assert_eq!(head.offered_protocols(), ["a", "b", "c"]);
        let p = head.params();
        assert_eq!(p.get("code"), Some("4000"));
        assert_eq!(p.num("code", 0u16), 4000);
        assert_eq!(p.get("reason"), Some("bye now+x"));
        assert_eq!(p.get("x"), Some(""));
        assert_eq!(p.get("nope"), None);
        assert_eq!(p.opt_num::<u64>("x"), None);
    }

    #[test]
    fn rejects_garbage() {
        assert!(RequestHead::parse(b"hello\r\n\r\n").is_err());
        assert!(RequestHead::parse(b"GET / SPDY/3\r\n\r\n").is_err());
        let abs = RequestHead::parse(b"GET http://h:1/echo?x=1 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(
            (abs.path.as_str(), abs.query.as_deref()),
            ("/echo", Some("x=1"))
        );
    }
}
