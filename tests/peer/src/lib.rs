//! `ws-peer`: a native WebSocket server that the browser test-suite talks to.
//!
//! Each accepted TCP connection is handled on its own task: the HTTP request
//! head is read first, the route is chosen from its path and query, and then
//! the connection is either answered by hand (403/404/static/hang) or handed
//! to tungstenite for the WebSocket handshake. See `README.md` for the routes.

pub mod http;
pub mod routes;
pub mod soak_routes;
pub mod static_files;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};
use tokio_tungstenite::tungstenite::http::header::SEC_WEBSOCKET_PROTOCOL;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

use crate::http::{HeadError, Prefixed, RequestHead};
use crate::routes::Route;

/// The WebSocket type every route works with.
pub type Ws = WebSocketStream<Prefixed<TcpStream>>;

/// Largest incoming message / frame accepted from a client.
pub const MAX_MESSAGE: usize = 128 << 20;

/// Server options (the CLI flags that affect request handling).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve plain (non-upgrade) GET requests from this directory.
    pub static_dir: Option<PathBuf>,
}

/// Process-wide verbosity: `WS_PEER_LOG=1` enables per-connection logs.
pub fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| {
        std::env::var("WS_PEER_LOG")
            .map(|v| !v.is_empty() && v != "0")
            .unwrap_or(false)
    })
}

macro_rules! vlog {
    ($($arg:tt)*) => {
        if $crate::verbose() {
            eprintln!("ws-peer: {}", format_args!($($arg)*));
        }
    };
}

/// State shared by all connections of one server instance.
#[derive(Debug, Default)]
pub struct Shared {
    pub opts: Options,
    /// Currently open WebSocket connections (handshake completed, not yet ended).
    pub open: AtomicUsize,
    /// WebSocket connections accepted since start.
    pub total: AtomicUsize,
    /// What `/record` received, per key and connection.
    pub records: routes::Records,
    /// Handshakes seen by `/refuse_first`, per key.
    pub refusals: routes::Refusals,
}

/// Counts one open WebSocket connection for as long as it lives.
struct OpenGuard(Arc<Shared>);

impl OpenGuard {
    fn new(shared: Arc<Shared>) -> Self {
        shared.total.fetch_add(1, Ordering::SeqCst);
        shared.open.fetch_add(1, Ordering::SeqCst);
        OpenGuard(shared)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handshake callback: puts the chosen subprotocol (if any) in the response.
struct SelectProtocol(Option<String>);

impl Callback for SelectProtocol {
    fn on_request(self, _req: &Request, mut resp: Response) -> Result<Response, ErrorResponse> {
        if let Some(v) = self.0.and_then(|p| HeaderValue::from_str(&p).ok()) {
            resp.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, v);
        }
        Ok(resp)
    }
}

/// WebSocket configuration used for every connection (large limits so tests
/// can send messages of 64 MiB and more).
pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Accepts connections on `listener` forever, one task per connection.
/// A failing connection never stops the server.
pub async fn run(listener: TcpListener, opts: Options) {
    let shared = Arc::new(Shared {
        opts,
        ..Shared::default()
    });
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    handle(stream, peer, shared).await;
                });
            }
            Err(e) => {
                // E.g. EMFILE: back off a little instead of spinning.
                eprintln!("ws-peer: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Binds `addr`, starts [`run`] on a new task and returns the bound address.
/// Convenient for tests.
pub async fn spawn(addr: &str, opts: Options) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tokio::spawn(run(listener, opts));
    Ok(local)
}

async fn handle(mut stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let (buf, head_len) = match http::read_head(&mut stream).await {
        Ok(v) => v,
        Err(e) => {
            vlog!("{peer}: {e}");
            let status = match e {
                HeadError::TooLarge => "431 Request Header Fields Too Large",
                HeadError::Malformed(_) => "400 Bad Request",
                HeadError::Io(_) | HeadError::Timeout => return,
            };
            let _ = http::respond_and_close(stream, status, &[], b"", false).await;
            return;
        }
    };
    let head = match RequestHead::parse(&buf[..head_len]) {
        Ok(h) => h,
        Err(e) => {
            vlog!("{peer}: {e}");
            let _ = http::respond_and_close(stream, "400 Bad Request", &[], b"", false).await;
            return;
        }
    };
    vlog!(
        "{peer}: {} {}{}{} (upgrade: {})",
        head.method,
        head.path,
        if head.query.is_some() { "?" } else { "" },
        head.query.as_deref().unwrap_or(""),
        head.is_websocket_upgrade()
    );

    // Plain-HTTP routes that apply whether or not an upgrade was requested.
    match head.path.as_str() {
        "/hang" => return routes::hang(stream).await,
        "/refuse" => {
            let _ = http::respond_and_close(
                stream,
                "403 Forbidden",
                &[("Content-Type", "text/plain; charset=utf-8")],
                b"refused by ws-peer\n",
                head.method == "HEAD",
            )
            .await;
            return;
        }
        _ => {}
    }

    if !head.is_websocket_upgrade() {
        let _ = static_files::serve(stream, shared.opts.static_dir.as_deref(), &head).await;
        return;
    }

    let Some(route) = Route::from_head(&head) else {
        vlog!("{peer}: no WebSocket route {}", head.path);
        let _ = http::respond_and_close(
            stream,
            "404 Not Found",
            &[("Content-Type", "text/plain; charset=utf-8")],
            b"no such WebSocket route\n",
            false,
        )
        .await;
        return;
    };

    if let Route::RefuseFirst { key, n } = &route {
        if shared.refusals.refuse(key, *n) {
            let _ = http::respond_and_close(
                stream,
                "403 Forbidden",
                &[("Content-Type", "text/plain; charset=utf-8")],
                b"refused by ws-peer\n",
                false,
            )
            .await;
            return;
        }
    }

    let callback = SelectProtocol(route.subprotocol(&head));
    let ws = match tokio_tungstenite::accept_hdr_async_with_config(
        Prefixed::new(buf, stream),
        callback,
        Some(ws_config()),
    )
    .await
    {
        Ok(ws) => ws,
        Err(e) => {
            vlog!("{peer}: handshake failed: {e}");
            return;
        }
    };

    let _guard = OpenGuard::new(shared.clone());
    match route.run(ws, &shared).await {
        Ok(()) => vlog!("{peer}: {} done", head.path),
        Err(e) => vlog!("{peer}: {} ended with error: {e}", head.path),
    }
}
