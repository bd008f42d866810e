//! The WebSocket handshake, answered through hyper.
//!
//! tungstenite's own rules check the request and build the `101`; once hyper
//! has written it and lets go of the connection, the plain `TcpStream` is
//! taken back (with any bytes hyper read past the request), because some
//! routes end connections in ways only the socket itself can: a FIN without a
//! close frame (`/drop`) or a RST (`/record?drop_every`).

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{SEC_WEBSOCKET_PROTOCOL, UPGRADE};
use http::{HeaderMap, HeaderValue, Request, Response};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::server::create_response;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

use crate::responses::{self, Body};
use crate::routes::Route;
use crate::{ws_config, OpenGuard, Shared, Ws};

/// Whether the request asks for a WebSocket (`Upgrade: websocket`).
pub fn is_websocket(headers: &HeaderMap) -> bool {
    headers.get_all(UPGRADE).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("websocket"))
        })
    })
}

/// Subprotocols offered in `Sec-WebSocket-Protocol`, in the client's order.
pub fn offered_protocols(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// Answers an upgrade request: a refusal, or the `101` (the route then runs
/// on its own task once hyper hands the connection over).
pub fn accept<B>(mut request: Request<B>, peer: SocketAddr, shared: Arc<Shared>) -> Response<Body> {
    let Some(route) = Route::from_uri(request.uri()) else {
        vlog!("{peer}: no WebSocket route {}", request.uri().path());
        return responses::no_route();
    };
    // Counted before the handshake is checked, as a browser's attempt counts.
    if let Route::RefuseFirst { key, n } = &route {
        if shared.refusals.refuse(key, *n) {
            return responses::refused();
        }
    }
    // A token counts as used by any handshake that offers it.
    if let Route::TokenEcho { token, .. } = &route {
        if !shared.tokens.redeem(token) {
            return responses::refused();
        }
    }
    let mut head = Request::new(());
    *head.method_mut() = request.method().clone();
    *head.version_mut() = request.version();
    *head.headers_mut() = request.headers().clone();
    let mut response = match create_response(&head) {
        Ok(response) => response,
        Err(e) => {
            vlog!("{peer}: handshake refused: {e}");
            return responses::bad_handshake();
        }
    };
    let protocol = route.subprotocol(request.headers());
    if let Some(value) = protocol.and_then(|p| HeaderValue::from_str(&p).ok()) {
        response.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
    let upgrade = hyper::upgrade::on(&mut request);
    let path = request.uri().path().to_string();
    tokio::spawn(run(upgrade, route, path, peer, shared));
    response.map(|()| responses::empty())
}

/// Waits for hyper to hand over the connection, then runs `route` on it.
async fn run(
    upgrade: OnUpgrade,
    route: Route,
    path: String,
    peer: SocketAddr,
    shared: Arc<Shared>,
) {
    let upgraded = match upgrade.await {
        Ok(upgraded) => upgraded,
        Err(e) => {
            vlog!("{peer}: handshake failed: {e}");
            return;
        }
    };
    let Some(ws) = websocket(upgraded).await else {
        vlog!("{peer}: upgraded connection is not a TcpStream");
        return;
    };
    let _guard = OpenGuard::new(shared.clone());
    match route.run(ws, &shared).await {
        Ok(()) => vlog!("{peer}: {path} done"),
        Err(e) => vlog!("{peer}: {path} ended with error: {e}"),
    }
}

/// The WebSocket on the raw socket; `None` only if hyper was not serving a
/// `TcpStream` (it always is here).
async fn websocket(upgraded: Upgraded) -> Option<Ws> {
    let parts = upgraded.downcast::<TokioIo<TcpStream>>().ok()?;
    let tcp = parts.io.into_inner();
    let early = parts.read_buf.to_vec();
    Some(WebSocketStream::from_partially_read(tcp, early, Role::Server, Some(ws_config())).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        let mut h = HeaderMap::new();
        assert!(!is_websocket(&h));
        h.insert(UPGRADE, HeaderValue::from_static("h2c, WebSocket"));
        assert!(is_websocket(&h));
        h.append(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("a, b"));
        h.append(SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static("c"));
        assert_eq!(offered_protocols(&h), ["a", "b", "c"]);
    }
}
