//! `ws-peer`: a native WebSocket server that the browser test-suite talks to.
//!
//! Each accepted TCP connection is served by hyper on its own task. The route
//! is chosen from the request's path and query before any handshake: `/hang`
//! and `/refuse` are plain HTTP, upgrades become a WebSocket (tokio-tungstenite)
//! on the raw socket, and anything else is a static file (`--static`). See
//! `README.md` for the routes.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// Process-wide verbosity: `WS_PEER_LOG=1` enables per-connection logs.
pub fn verbose() -> bool {
    static VERBOSE: OnceLock<bool> = OnceLock::new();
    *VERBOSE.get_or_init(|| {
        std::env::var("WS_PEER_LOG")
            .map(|v| !v.is_empty() && v != "0")
            .unwrap_or(false)
    })
}

// Defined before the modules so that they can use it.
macro_rules! vlog {
    ($($arg:tt)*) => {
        if $crate::verbose() {
            eprintln!("ws-peer: {}", format_args!($($arg)*));
        }
    };
}

pub mod chat;
mod connection;
pub mod query;
mod responses;
pub mod routes;
pub mod soak_routes;
pub mod static_files;
pub mod tcp;
mod upgrade;

/// The WebSocket type every route works with: on the raw socket, so routes
/// can end the TCP connection themselves.
pub type Ws = WebSocketStream<TcpStream>;

/// Largest incoming message / frame accepted from a client.
pub const MAX_MESSAGE: usize = 128 << 20;

/// Server options (the CLI flags that affect request handling).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve plain (non-upgrade) GET requests from this directory.
    pub static_dir: Option<PathBuf>,
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
    /// Tokens issued by `/token_issue`, not yet used by `/token_echo`.
    pub tokens: routes::Tokens,
    /// The `/chat` rooms.
    pub rooms: chat::Rooms,
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
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection::serve(stream, peer, shared.clone()));
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
