//! One accepted TCP connection, served by hyper's HTTP/1 server: the request
//! is routed on its path before any handshake (see the README's "Routing").

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::responses::{self, Body};
use crate::routes::HOLD;
use crate::{static_files, upgrade, Shared};

/// Largest request head accepted (bigger ones get 431); hyper's minimum is 8 KiB.
const MAX_HEAD: usize = 16 * 1024;
/// Time a client gets to send its complete request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `stream` until its last request is answered or it is upgraded.
pub async fn serve(stream: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let service = service_fn(move |request| dispatch(request, peer, shared.clone()));
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        // Conventional spelling on the wire; some tests (and people reading
        // captures) match header names literally.
        .title_case_headers(true)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = connection.await {
        vlog!("{peer}: {e}");
    }
}

async fn dispatch<B>(
    request: Request<B>,
    peer: SocketAddr,
    shared: Arc<Shared>,
) -> io::Result<Response<Body>> {
    let is_websocket = upgrade::is_websocket(request.headers());
    vlog!(
        "{peer}: {} {} (upgrade: {is_websocket})",
        request.method(),
        request.uri()
    );
    // Plain-HTTP routes that apply whether or not an upgrade was requested.
    match request.uri().path() {
        "/hang" => return hang().await,
        "/refuse" => return Ok(responses::refused()),
        _ => {}
    }
    if is_websocket {
        Ok(upgrade::accept(request, peer, shared))
    } else {
        Ok(static_files::serve(shared.opts.static_dir.as_deref(), request).await)
    }
}

/// `/hang`: no answer ever comes. Hyper drops this future when the client
/// hangs up; otherwise after [`HOLD`] the error makes hyper drop the
/// connection unanswered.
async fn hang() -> io::Result<Response<Body>> {
    tokio::time::sleep(HOLD).await;
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "/hang held long enough",
    ))
}
