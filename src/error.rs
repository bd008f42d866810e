use std::fmt;

#[cfg(target_arch = "wasm32")]
use wasm_bindgen::JsValue;

use crate::close_event::{CloseEvent, MAX_REASON_BYTES};
use crate::state::State;
use crate::text::write_decimal;

/// Everything that can go wrong, as a typed value.
///
/// JS exceptions are converted here, in one place, and never passed on as raw `JsValue`s.
/// The crate's own texts are lower-case without a trailing period; a browser's message is
/// passed on verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The browser refused the URL (its constructor threw `SyntaxError`): not parsable,
    /// a scheme other than ws, wss, http or https, or a fragment.
    InvalidUrl {
        /// The URL exactly as given.
        url: String,
        /// The browser's message.
        message: String,
    },
    /// A requested subprotocol is not a valid RFC 6455 token, or is listed twice
    /// (compared case-insensitively). Checked before the browser is called.
    InvalidProtocol {
        /// The offending protocol as given.
        protocol: String,
        /// What is wrong with it.
        message: String,
    },
    /// The browser refused the connection for security reasons (`SecurityError`), e.g. an
    /// insecure `ws:` URL from an `https:` page in some browsers.
    Security {
        /// The browser's message.
        message: String,
    },
    /// The socket closed before it opened. Browsers report every network failure, refused
    /// handshake or unreachable host as code 1006 without saying more.
    ConnectFailed(CloseEvent),
    /// The connect timeout elapsed before the socket opened; the attempt was closed.
    Timeout,
    /// A close code other than 1000 or 3000..=4999.
    InvalidCloseCode(u16),
    /// A close reason longer than 123 UTF-8 bytes.
    ReasonTooLong {
        /// The reason's length in UTF-8 bytes.
        len: usize,
    },
    /// The socket is not open (closing or closed), so data would be lost.
    NotOpen(State),
    /// The connection ended without a clean closing handshake (e.g. code 1006).
    ConnectionLost(CloseEvent),
    /// Nothing was received for the [idle timeout](crate::Builder::idle_timeout): the
    /// connection is treated as lost and has been closed.
    IdleTimeout,
    /// The receive queue passed the [`max_queued`](crate::Builder::max_queued) limit: the
    /// socket was closed with code [`QUEUE_FULL_CODE`](crate::QUEUE_FULL_CODE) (4009) and
    /// no more messages are taken. Everything queued before is still delivered first.
    ReceiveQueueFull {
        /// Messages queued when the limit was passed.
        messages: usize,
        /// Payload bytes queued when the limit was passed.
        bytes: usize,
    },
    /// The outbox of a [`ReconnectingWebSocket`](crate::ReconnectingWebSocket) is at its
    /// [limit](crate::ReconnectPolicy::outbox_limit) while no connection is open: the
    /// message was not accepted. Not permanent: the outbox drains once a connection opens.
    OutboxFull {
        /// Messages in the outbox.
        messages: usize,
        /// Payload bytes in the outbox.
        bytes: usize,
    },
    /// The browser lacks something this configuration needs, e.g. `WebSocketStream` for
    /// [`Backend::Stream`](crate::Backend::Stream).
    Unsupported {
        /// What is missing.
        feature: String,
    },
    /// A configuration value that cannot work, e.g. a heartbeat interval of zero; found
    /// when connecting, before the browser is called.
    InvalidOption {
        /// The option, named as its builder method (e.g. `"heartbeat"`).
        option: String,
        /// What is wrong with the value.
        message: String,
    },
    /// A received message did not decode into the type of a `TypedWebSocket` (crate
    /// feature `codec`), or was of the kind its codec does not take (binary for a string
    /// codec, text for a binary one). Not permanent: the stream goes on with the next
    /// message.
    Decode {
        /// What is wrong: the codec's error (its `Debug` text), or the kind that came.
        message: String,
    },
    /// A value did not encode with the codec of a `TypedWebSocket` (crate feature
    /// `codec`): nothing was sent. Not permanent: the sink stays usable.
    Encode {
        /// The codec's error (its `Debug` text).
        message: String,
    },
    /// A request header given to [`Builder::header`](crate::Builder::header) is not a
    /// valid HTTP header name or value (native targets; checked before connecting).
    InvalidHeader {
        /// The header's name as given.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// Any other JS exception, with its `name` and `message`.
    Js {
        /// The exception's `name`, e.g. `InvalidStateError`.
        name: String,
        /// The exception's `message`, verbatim.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Plain `write_str` calls, no `write!`: the formatting machinery (`fmt::write`,
        // padding, integer formatting) would otherwise be linked into every client that
        // prints an error. Strings are quoted with `"`, not `{:?}`, for the same reason.
        match self {
            Error::InvalidUrl { url, message } => {
                write_all(f, &["invalid url \"", url, "\": ", message])
            }
            Error::InvalidProtocol { protocol, message } => {
                write_all(f, &["invalid subprotocol \"", protocol, "\": ", message])
            }
            Error::Security { message } => write_all(f, &["security error: ", message]),
            Error::ConnectFailed(event) => {
                f.write_str("connection failed (")?;
                fmt::Display::fmt(event, f)?;
                f.write_str(")")
            }
            Error::Timeout => f.write_str("timed out while connecting"),
            Error::InvalidCloseCode(code) => {
                f.write_str("invalid close code ")?;
                write_decimal(f, u64::from(*code))?;
                f.write_str(": only 1000 and 3000..=4999 may be sent")
            }
            Error::ReasonTooLong { len } => {
                f.write_str("close reason is ")?;
                write_decimal(f, *len as u64)?;
                f.write_str(" bytes long, more than the ")?;
                write_decimal(f, MAX_REASON_BYTES as u64)?;
                f.write_str(" allowed")
            }
            Error::NotOpen(state) => {
                write_all(f, &["websocket is not open (state: ", state.as_str(), ")"])
            }
            Error::ConnectionLost(event) => {
                f.write_str("connection lost (")?;
                fmt::Display::fmt(event, f)?;
                f.write_str(")")
            }
            Error::IdleTimeout => f.write_str("nothing received within the idle timeout"),
            Error::ReceiveQueueFull { messages, bytes } => {
                f.write_str("receive queue full (")?;
                write_counts(f, *messages, *bytes)?;
                f.write_str("): connection closed")
            }
            Error::OutboxFull { messages, bytes } => {
                f.write_str("outbox full (")?;
                write_counts(f, *messages, *bytes)?;
                f.write_str(")")
            }
            #[cfg(target_arch = "wasm32")]
            Error::Unsupported { feature } => {
                write_all(f, &["not supported by this browser: ", feature])
            }
            Error::InvalidOption { option, message } => {
                write_all(f, &["invalid option ", option, ": ", message])
            }
            Error::Decode { message } => write_all(f, &["message does not decode: ", message]),
            Error::Encode { message } => write_all(f, &["value does not encode: ", message]),
            #[cfg(not(target_arch = "wasm32"))]
            Error::Unsupported { feature } => write_all(f, &["not supported: ", feature]),
            Error::InvalidHeader { name, message } => {
                write_all(f, &["invalid header \"", name, "\": ", message])
            }
            Error::Js { name, message } => write_all(f, &[name, ": ", message]),
        }
    }
}

fn write_all(f: &mut fmt::Formatter<'_>, parts: &[&str]) -> fmt::Result {
    parts.iter().try_for_each(|part| f.write_str(part))
}

fn write_counts(f: &mut fmt::Formatter<'_>, messages: usize, bytes: usize) -> fmt::Result {
    write_decimal(f, messages as u64)?;
    f.write_str(" messages, ")?;
    write_decimal(f, bytes as u64)?;
    f.write_str(" bytes")
}

impl std::error::Error for Error {}

#[cfg(target_arch = "wasm32")]
/// The `name` and `message` of a thrown JS value (an `Error`, a `DOMException`, or anything).
fn js_parts(value: &JsValue) -> (String, String) {
    let field = |key: &str| {
        js_sys::Reflect::get(value, &JsValue::from_str(key))
            .ok()
            .and_then(|v| v.as_string())
    };
    match (field("name"), field("message")) {
        (Some(name), Some(message)) => (name, message),
        (name, _) => (
            name.unwrap_or_else(|| "Error".to_owned()),
            value
                .as_string()
                .unwrap_or_else(|| "a non-Error value was thrown".to_owned()),
        ),
    }
}

#[cfg(target_arch = "wasm32")]
/// Converts an exception thrown by `send`, `close` or any other call.
pub(crate) fn from_js(value: JsValue) -> Error {
    let (name, message) = js_parts(&value);
    match name.as_str() {
        "SecurityError" => Error::Security { message },
        _ => Error::Js { name, message },
    }
}

#[cfg(target_arch = "wasm32")]
/// Converts an exception thrown by the `WebSocket` constructor. Protocols are validated
/// before the call, so a `SyntaxError` here is about the URL.
pub(crate) fn from_constructor(value: JsValue, url: &str) -> Error {
    let (name, message) = js_parts(&value);
    match name.as_str() {
        "SyntaxError" => Error::InvalidUrl {
            url: url.to_owned(),
            message,
        },
        "SecurityError" => Error::Security { message },
        _ => Error::Js { name, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_texts_are_lower_case_without_period() {
        let samples = [
            Error::InvalidUrl {
                url: "ftp://x".into(),
                message: "The URL's scheme must be either 'ws' or 'wss'.".into(),
            },
            Error::InvalidProtocol {
                protocol: "a b".into(),
                message: "contains a space".into(),
            },
            Error::ConnectFailed(CloseEvent {
                code: 1006,
                reason: String::new(),
                was_clean: false,
            }),
            Error::Timeout,
            Error::InvalidCloseCode(1001),
            Error::ReasonTooLong { len: 124 },
            Error::InvalidOption {
                option: "heartbeat".into(),
                message: "the interval must be at least 1 ms".into(),
            },
            Error::OutboxFull {
                messages: 3,
                bytes: 12,
            },
            Error::NotOpen(State::Closed),
            Error::Decode {
                message: "a text message, but the codec decodes binary ones".into(),
            },
            Error::Encode {
                message: "Syntax(\"key must be a string\")".into(),
            },
            Error::ConnectionLost(CloseEvent {
                code: 1006,
                reason: String::new(),
                was_clean: false,
            }),
        ];
        for error in samples {
            let text = error.to_string();
            let first = text.chars().next().unwrap();
            assert!(first.is_lowercase(), "{text}");
            // The browser's own message may end with a period; ours never do.
            if !matches!(error, Error::InvalidUrl { .. }) {
                assert!(!text.ends_with('.'), "{text}");
            }
        }
        assert_eq!(
            Error::NotOpen(State::Closing).to_string(),
            "websocket is not open (state: closing)"
        );
        assert_eq!(
            Error::ReasonTooLong { len: 124 }.to_string(),
            "close reason is 124 bytes long, more than the 123 allowed"
        );
        assert_eq!(
            Error::OutboxFull {
                messages: 0,
                bytes: usize::MAX,
            }
            .to_string(),
            format!("outbox full (0 messages, {} bytes)", usize::MAX)
        );
        assert_eq!(
            Error::ReceiveQueueFull {
                messages: 10,
                bytes: 1_048_577,
            }
            .to_string(),
            "receive queue full (10 messages, 1048577 bytes): connection closed"
        );
        assert_eq!(
            Error::ConnectionLost(CloseEvent {
                code: 4000,
                reason: "bye".into(),
                was_clean: true,
            })
            .to_string(),
            "connection lost (code 4000, reason \"bye\", clean)"
        );
        assert_eq!(
            Error::InvalidCloseCode(0).to_string(),
            "invalid close code 0: only 1000 and 3000..=4999 may be sent"
        );
        assert_eq!(
            Error::InvalidUrl {
                url: "x".into(),
                message: "bad".into()
            }
            .to_string(),
            "invalid url \"x\": bad"
        );
        assert_eq!(
            Error::Decode {
                message: "a binary message, but the codec decodes text ones".into()
            }
            .to_string(),
            "message does not decode: a binary message, but the codec decodes text ones"
        );
        assert_eq!(
            Error::Encode {
                message: "Syntax(\"key must be a string\")".into()
            }
            .to_string(),
            "value does not encode: Syntax(\"key must be a string\")"
        );
        assert_eq!(
            Error::Js {
                name: "InvalidStateError".into(),
                message: "Still in CONNECTING state.".into()
            }
            .to_string(),
            "InvalidStateError: Still in CONNECTING state."
        );
    }
}
