//! Reading `ReconnectingSocket.create`'s own options (partysocket's names where it has
//! them) into a `ReconnectPolicy`, and its URL argument into a target or a provider.

use std::time::Duration;

use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_websocket::{ConnectTarget, Error, ReconnectPolicy};

use crate::convert::{
    count_option, delay_option, describe, describe_value, millis_option, number_option, option,
    range_error, thrown_text, type_error,
};
use crate::options::{protocols_from_js, url_from_js};

/// What the reconnecting options say besides the socket options.
#[derive(Debug)]
pub(crate) struct ReconnectSettings {
    pub(crate) policy: ReconnectPolicy,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) on_event: Option<Function>,
}

/// The default backoff, as `ReconnectPolicy::new()` has it (documented in types.d.ts).
const DEFAULT_MIN_DELAY: Duration = Duration::from_millis(500);
const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
const DEFAULT_GROW_FACTOR: f64 = 2.0;
/// The default outbox, as `ReconnectPolicy::new()` has it.
const DEFAULT_OUTBOX_MESSAGES: usize = 1024;
const DEFAULT_OUTBOX_BYTES: usize = 1 << 20;

/// Reads the reconnecting options of `options` (already checked to be an object or absent
/// by the socket options).
pub(crate) fn reconnect_settings(options: &JsValue) -> Result<ReconnectSettings, JsValue> {
    let mut settings = ReconnectSettings {
        policy: ReconnectPolicy::new(),
        connect_timeout: None,
        on_event: None,
    };
    if options.is_null_or_undefined() {
        return Ok(settings);
    }
    let mut policy = ReconnectPolicy::new();

    if let Some((retries, value)) =
        number_option(options, "maxRetries", "options.maxRetries", "a number")?
    {
        let limit = if retries == f64::INFINITY {
            None
        } else if retries >= 0.0 && retries.fract() == 0.0 && retries <= f64::from(u32::MAX) {
            Some(retries as u32)
        } else {
            return Err(range_error(&format!(
                "options.maxRetries must be a whole number from 0 to {}, or Infinity, not {}",
                u32::MAX,
                describe_value(&value)
            )));
        };
        policy = policy.reconnect_limit(limit);
    }

    let min = delay_option(
        options,
        "minReconnectionDelay",
        "options.minReconnectionDelay",
    )?;
    let max = delay_option(
        options,
        "maxReconnectionDelay",
        "options.maxReconnectionDelay",
    )?;
    let factor = number_option(
        options,
        "reconnectionDelayGrowFactor",
        "options.reconnectionDelayGrowFactor",
        "a number",
    )?;
    let min = min.unwrap_or(DEFAULT_MIN_DELAY);
    let max = max.unwrap_or(DEFAULT_MAX_DELAY.max(min));
    if min > max {
        return Err(range_error(&format!(
            "options.minReconnectionDelay ({} ms) must not be more than options.maxReconnectionDelay ({} ms)",
            min.as_secs_f64() * 1000.0,
            max.as_secs_f64() * 1000.0
        )));
    }
    let factor = match factor {
        None => DEFAULT_GROW_FACTOR,
        Some((factor, _)) if factor.is_finite() && factor >= 1.0 => factor,
        Some((_, value)) => {
            return Err(range_error(&format!(
                "options.reconnectionDelayGrowFactor must be a finite number, 1 or more, not {}",
                describe_value(&value)
            )))
        }
    };
    policy = policy.backoff(min, max, factor);

    if let Some(uptime) = delay_option(options, "minUptime", "options.minUptime")? {
        policy = policy.stable_after(uptime);
    }

    let messages = count_option(
        options,
        "maxEnqueuedMessages",
        "options.maxEnqueuedMessages",
        "",
    )?;
    if messages == Some(0) {
        return Err(range_error(
            "options.maxEnqueuedMessages must be 1 or more, not 0",
        ));
    }
    let bytes = count_option(
        options,
        "maxEnqueuedBytes",
        "options.maxEnqueuedBytes",
        " bytes",
    )?;
    policy = policy.outbox_limit(
        messages.unwrap_or(DEFAULT_OUTBOX_MESSAGES),
        bytes.unwrap_or(DEFAULT_OUTBOX_BYTES),
    );

    let clean = option(
        options,
        "reconnectOnCleanClose",
        "options.reconnectOnCleanClose",
    )?;
    if let Some(clean) = clean.as_bool() {
        policy = policy.reconnect_on_clean_close(clean);
    } else if !clean.is_null_or_undefined() {
        return Err(type_error(&format!(
            "options.reconnectOnCleanClose must be a boolean, not {}",
            describe(&clean)
        )));
    }

    settings.connect_timeout =
        millis_option(options, "connectionTimeout", "options.connectionTimeout")?;
    if settings.connect_timeout.is_some()
        && !option(options, "connectTimeout", "options.connectTimeout")?.is_null_or_undefined()
    {
        return Err(type_error(
            "options.connectionTimeout and options.connectTimeout are the same option: give one",
        ));
    }

    let on_event = option(options, "onEvent", "options.onEvent")?;
    if on_event.is_function() {
        settings.on_event = Some(on_event.unchecked_into());
    } else if !on_event.is_null_or_undefined() {
        return Err(type_error(&format!(
            "options.onEvent must be a function, not {}",
            describe(&on_event)
        )));
    }
    settings.policy = policy;
    Ok(settings)
}

/// The URL provider: calls `provider(attempt)` and reads what it returns (or resolves to)
/// into a target. Whatever goes wrong (a throw, a rejection, a value of the wrong kind) is
/// an error of the attempt, reported as `providerFailed`.
pub(crate) fn call_provider(
    provider: &Function,
    attempt: u32,
) -> impl std::future::Future<Output = Result<ConnectTarget, Error>> {
    let returned = provider.call1(&JsValue::UNDEFINED, &JsValue::from(attempt));
    async move {
        let value = returned.map_err(|thrown| js_error(&thrown))?;
        // Only a thenable is awaited, so that a provider returning a value at once lets
        // the first attempt start (and report a bad URL) synchronously.
        let value = if is_thenable(&value)? {
            JsFuture::from(Promise::resolve(&value))
                .await
                .map_err(|thrown| js_error(&thrown))?
        } else {
            value
        };
        target_from_js(&value).map_err(|error| js_error(&error))
    }
}

/// Whether `value` has a callable `then` (a getter that throws is the provider's error).
fn is_thenable(value: &JsValue) -> Result<bool, Error> {
    if !value.is_object() {
        return Ok(false);
    }
    Reflect::get(value, &JsValue::from_str("then"))
        .map(|then| then.is_function())
        .map_err(|thrown| js_error(&thrown))
}

/// What a provider gives: a URL (string or `URL`), or `{ url, protocols }`.
fn target_from_js(value: &JsValue) -> Result<ConnectTarget, JsValue> {
    if value.is_object() && !option(value, "url", "the provider's result.url")?.is_undefined() {
        let url = option(value, "url", "the provider's result.url")?;
        let url = url_from_js(&url, "the provider's result.url")?;
        let protocols = option(value, "protocols", "the provider's result.protocols")?;
        let target = ConnectTarget::new(url);
        return Ok(
            match protocols_from_js(&protocols, "the provider's result.protocols")? {
                Some(list) => target.protocols(list),
                None => target,
            },
        );
    }
    url_from_js(value, "the provider's result").map(ConnectTarget::new)
}

/// A thrown JS value as the crate's `Error::Js` (its `name`, e.g. `TypeError`, and message).
fn js_error(thrown: &JsValue) -> Error {
    let name = if thrown.is_object() {
        Reflect::get(thrown, &JsValue::from_str("name"))
            .ok()
            .and_then(|name| crate::convert::short_string(&name))
    } else {
        None
    };
    Error::Js {
        name: name.unwrap_or_else(|| "Error".into()),
        message: thrown_text(thrown),
    }
}
