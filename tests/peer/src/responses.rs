//! The small fixed HTTP answers (refusals, unknown routes, bad requests) and
//! the one body type every answer is turned into.
//!
//! All of them carry `Connection: close`: a refused upgrade is the end of that
//! connection for a browser, and tests read such answers up to EOF.

use std::io;

use http::header::{ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;

/// The response body of every answer (fixed texts and files alike).
pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// An empty body (the 101 of a WebSocket handshake).
pub fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// `status` with a short plain-text body.
pub fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `/refuse`, and `/refuse_first` while it refuses.
pub fn refused() -> Response<Body> {
    text(StatusCode::FORBIDDEN, "refused by ws-peer\n")
}

/// An upgrade to a path that is no WebSocket route.
pub fn no_route() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "no such WebSocket route\n")
}

/// An upgrade request that tungstenite's handshake rules reject.
pub fn bad_handshake() -> Response<Body> {
    text(StatusCode::BAD_REQUEST, "bad WebSocket handshake\n")
}

/// A static file that does not exist (or may not be served).
pub fn not_found() -> Response<Body> {
    no_store(text(StatusCode::NOT_FOUND, "not found\n"))
}

/// A static request with a method other than GET or HEAD.
pub fn method_not_allowed() -> Response<Body> {
    let mut response = no_store(text(StatusCode::METHOD_NOT_ALLOWED, ""));
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    response
}

/// Static answers are never cached: the tests rebuild files between runs.
pub fn no_store(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    response
}
