//! Reading the arguments of `Socket.connect`, `ReconnectingSocket.create` and `close`:
//! the options both socket classes share, URLs, protocol lists, close codes and reasons.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_websocket::{
    Backend, BinaryType, Builder, CloseCode, Error, WebSocket, DEFAULT_HIGH_WATER_MARK,
};

use crate::convert::{
    checked_string, count_option, describe, describe_value, error_to_js, is_array, message_from_js,
    millis_option, object_option, option, range_error, set, short_string, thrown_text, type_error,
};
use crate::io::PendingLimit;

/// What the socket options give besides the builder.
#[derive(Debug)]
pub(crate) struct SocketOptions {
    pub(crate) builder: Builder,
    pub(crate) high_water_mark: usize,
    pub(crate) pending: PendingLimit,
    /// `options.protocols`, also given to the builder.
    pub(crate) protocols: Option<Vec<String>>,
}

/// A URL argument: a string, or a `URL` (anything with a string `href`). `label` names it
/// in errors.
pub(crate) fn url_from_js(url: &JsValue, label: &str) -> Result<String, JsValue> {
    if let Some(url) = checked_string(url, label)? {
        return Ok(url);
    }
    let href_label = format!("{label}.href");
    let href = url
        .is_object()
        .then(|| option(url, "href", &href_label))
        .transpose()?
        .map(|href| checked_string(&href, &href_label))
        .transpose()?
        .flatten();
    href.ok_or_else(|| {
        type_error(&format!(
            "{label} must be a string or a URL, not {}",
            describe(url)
        ))
    })
}

/// Reads `Socket.connect`'s arguments into a builder and what else the options say.
pub(crate) fn builder_from_js(url: &JsValue, options: &JsValue) -> Result<SocketOptions, JsValue> {
    let url = url_from_js(url, "url")?;
    socket_options(WebSocket::builder(url), options)
}

/// The options of both socket classes (`ConnectOptions`), applied to `builder`. A TypeError
/// when `options` is neither absent nor an object.
pub(crate) fn socket_options(
    mut builder: Builder,
    options: &JsValue,
) -> Result<SocketOptions, JsValue> {
    let mut high_water_mark = DEFAULT_HIGH_WATER_MARK;
    if options.is_null_or_undefined() {
        return Ok(SocketOptions {
            builder,
            high_water_mark,
            pending: PendingLimit::default(),
            protocols: None,
        });
    }
    if !options.is_object() {
        return Err(type_error(&format!(
            "options must be an object, not {}",
            describe(options)
        )));
    }

    let protocols = option(options, "protocols", "options.protocols")?;
    let protocols = protocols_from_js(&protocols, "options.protocols")?;
    if let Some(list) = &protocols {
        builder = builder.protocols(list);
    }

    let binary_type = option(options, "binaryType", "options.binaryType")?;
    match short_string(&binary_type).as_deref() {
        Some("arraybuffer") => builder = builder.binary_type(BinaryType::ArrayBuffer),
        Some("blob") => builder = builder.binary_type(BinaryType::Blob),
        _ if binary_type.is_null_or_undefined() => {}
        _ => {
            return Err(type_error(&format!(
                "options.binaryType must be \"arraybuffer\" or \"blob\", not {}",
                describe_value(&binary_type)
            )))
        }
    }

    if let Some(bytes) = count_option(options, "highWaterMark", "options.highWaterMark", " bytes")?
    {
        high_water_mark = bytes;
        builder = builder.high_water_mark(bytes);
    }

    if let Some(timeout) = millis_option(options, "connectTimeout", "options.connectTimeout")? {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(timeout) = millis_option(options, "idleTimeout", "options.idleTimeout")? {
        builder = builder.idle_timeout(timeout);
    }

    if let Some(heartbeat) = object_option(
        options,
        "heartbeat",
        "options.heartbeat",
        "{ interval, message }",
    )? {
        let Some(interval) = millis_option(&heartbeat, "interval", "options.heartbeat.interval")?
        else {
            return Err(type_error(
                "options.heartbeat.interval must be a number of milliseconds, not undefined",
            ));
        };
        let message = option(&heartbeat, "message", "options.heartbeat.message")?;
        let message = message_from_js(&message, "options.heartbeat.message")?;
        builder = builder.heartbeat(interval, message);
    }

    if let Some(max_queued) = object_option(
        options,
        "maxQueued",
        "options.maxQueued",
        "{ messages, bytes }",
    )? {
        let messages = count_option(&max_queued, "messages", "options.maxQueued.messages", "")?;
        let bytes = count_option(&max_queued, "bytes", "options.maxQueued.bytes", " bytes")?;
        builder = builder.max_queued(messages.unwrap_or(usize::MAX), bytes.unwrap_or(usize::MAX));
    }

    let backend = option(options, "backend", "options.backend")?;
    match short_string(&backend).as_deref() {
        Some("classic") => builder = builder.backend(Backend::Classic),
        Some("stream") => builder = builder.backend(Backend::Stream),
        Some("auto") => builder = builder.backend(Backend::Auto),
        _ if backend.is_null_or_undefined() => {}
        _ => {
            return Err(type_error(&format!(
                "options.backend must be \"classic\", \"stream\" or \"auto\", not {}",
                describe_value(&backend)
            )))
        }
    }

    let mut pending = PendingLimit::default();
    if let Some(limit) = object_option(
        options,
        "maxPendingSends",
        "options.maxPendingSends",
        "{ messages, bytes }",
    )? {
        if let Some(messages) =
            count_option(&limit, "messages", "options.maxPendingSends.messages", "")?
        {
            if messages == 0 {
                return Err(range_error(
                    "options.maxPendingSends.messages must be 1 or more, not 0",
                ));
            }
            pending.messages = messages;
        }
        if let Some(bytes) =
            count_option(&limit, "bytes", "options.maxPendingSends.bytes", " bytes")?
        {
            pending.bytes = bytes;
        }
    }
    Ok(SocketOptions {
        builder,
        high_water_mark,
        pending,
        protocols,
    })
}

/// The most subprotocols `options.protocols` may list. Browsers set no bound, but each one
/// goes into the handshake's header, and the length is checked before anything is read or
/// allocated (a 2^32-1 long sparse array is one JS expression).
pub(crate) const MAX_PROTOCOLS: f64 = 1024.0;

/// A subprotocol list (`label` names it in errors): a string or an array of strings;
/// `None` when absent.
pub(crate) fn protocols_from_js(
    protocols: &JsValue,
    label: &str,
) -> Result<Option<Vec<String>>, JsValue> {
    let is_list = is_array(protocols).map_err(|thrown| {
        type_error(&format!(
            "{label} could not be read: {}",
            thrown_text(&thrown)
        ))
    })?;
    if let Some(one) = checked_string(protocols, label)? {
        Ok(Some(vec![one]))
    } else if is_list {
        protocol_list(protocols, label).map(Some)
    } else if protocols.is_null_or_undefined() {
        Ok(None)
    } else {
        Err(type_error(&format!(
            "{label} must be a string or an array of strings, not {}",
            describe(protocols)
        )))
    }
}

/// The strings of the array `list` (possibly a Proxy), read one by one.
fn protocol_list(list: &JsValue, label: &str) -> Result<Vec<String>, JsValue> {
    let length = option(list, "length", &format!("{label}.length"))?;
    let Some(length) = length.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0) else {
        return Err(type_error(&format!(
            "{label}.length must be a whole number, not {}",
            describe_value(&length)
        )));
    };
    if length > MAX_PROTOCOLS {
        return Err(range_error(&format!(
            "{label} has {length} entries, more than the {MAX_PROTOCOLS} allowed"
        )));
    }
    let mut names = Vec::new();
    for index in 0..length as u32 {
        let item = Reflect::get(list, &JsValue::from(index)).map_err(|thrown| {
            type_error(&format!(
                "{label} could not be read: {}",
                thrown_text(&thrown)
            ))
        })?;
        match checked_string(&item, &format!("{label} entry"))? {
            Some(name) => names.push(name),
            None => {
                return Err(type_error(&format!(
                    "{label} must contain only strings, not {}",
                    describe(&item)
                )))
            }
        }
    }
    Ok(names)
}

/// Validates `close(code, reason)`. A number that is not a valid close code gives
/// `InvalidCloseCode`, whatever it is (negative, fractional, NaN, above 65535).
pub(crate) fn close_args_from_js(
    code: &JsValue,
    reason: &JsValue,
) -> Result<(CloseCode, String), JsValue> {
    let code = if code.is_null_or_undefined() {
        CloseCode::NORMAL
    } else if let Some(number) = code.as_f64() {
        let exact = number.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(&number);
        if exact {
            CloseCode::new(number as u16).map_err(|e| error_to_js(&e))?
        } else {
            return Err(invalid_close_code(code, number));
        }
    } else {
        return Err(type_error(&format!(
            "close code must be a number, not {}",
            describe(code)
        )));
    };
    let reason = if reason.is_null_or_undefined() {
        String::new()
    } else if let Some(reason) = checked_string(reason, "close reason")? {
        reason
    } else {
        return Err(type_error(&format!(
            "close reason must be a string, not {}",
            describe(reason)
        )));
    };
    // The reason's length is checked by `Handle::close`, before the browser is called.
    Ok((code, reason))
}

/// `InvalidCloseCode` for a number that does not fit the Rust variant's `u16`: the same
/// text, with the number as JS prints it.
pub(crate) fn invalid_close_code(code: &JsValue, number: f64) -> JsValue {
    let shown = describe_value(code);
    let text =
        Error::InvalidCloseCode(0)
            .to_string()
            .replacen("code 0", &format!("code {shown}"), 1);
    let error = js_sys::Error::new(&text);
    error.set_name("InvalidCloseCode");
    set(&error, "code", &JsValue::from_f64(number));
    error.into()
}
