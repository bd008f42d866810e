//! Reading `ReconnectingSocket.create`'s own options (partysocket's names where it has
//! them) into a `ReconnectPolicy`, and its URL argument into a target or a provider.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};
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
/// How long an attempt may take by default: without a bound, an attempt the network
/// swallows (no answer, no error) would stall the reconnecting for good.
const DEFAULT_CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// The default outbox, as `ReconnectPolicy::new()` has it.
const DEFAULT_OUTBOX_MESSAGES: usize = 1024;
const DEFAULT_OUTBOX_BYTES: usize = 1 << 20;

/// Reads the reconnecting options of `options` (already checked to be an object or absent
/// by the socket options).
pub(crate) fn reconnect_settings(options: &JsValue) -> Result<ReconnectSettings, JsValue> {
    let mut settings = ReconnectSettings {
        policy: ReconnectPolicy::new(),
        connect_timeout: Some(DEFAULT_CONNECTION_TIMEOUT),
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
    // One of the two alone moves the other's default out of its way.
    let (min, max) = match (min, max) {
        (Some(min), Some(max)) => (min, max),
        (Some(min), None) => (min, DEFAULT_MAX_DELAY.max(min)),
        (None, Some(max)) => (DEFAULT_MIN_DELAY.min(max), max),
        (None, None) => (DEFAULT_MIN_DELAY, DEFAULT_MAX_DELAY),
    };
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

    let timeout = millis_option(options, "connectionTimeout", "options.connectionTimeout")?;
    let socket_timeout =
        !option(options, "connectTimeout", "options.connectTimeout")?.is_null_or_undefined();
    settings.connect_timeout = match (timeout, socket_timeout) {
        (Some(_), true) => return Err(type_error(
            "options.connectionTimeout and options.connectTimeout are the same option: give one",
        )),
        (Some(timeout), false) => Some(timeout),
        // The socket options already gave it to the builder.
        (None, true) => None,
        (None, false) => Some(DEFAULT_CONNECTION_TIMEOUT),
    };

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

// Calls the provider inside a promise's executor: a synchronous throw becomes a rejection,
// and a returned thenable is adopted the way `await` adopts it (a `then` getter that
// throws rejects; nothing else of the value is read).
#[wasm_bindgen(
    inline_js = "export function callProvider(provider, attempt) { return new Promise((resolve) => resolve(provider(attempt))); }"
)]
extern "C" {
    #[wasm_bindgen(catch, js_name = callProvider)]
    fn call_provider_js(provider: &Function, attempt: u32) -> Result<Promise, JsValue>;
}

/// The URL provider of one attempt: `provider(attempt)`, and what it returns or resolves
/// to read into a target (`protocols`, from the options, unless it names its own).
/// Whatever goes wrong (a throw, a rejection, a value of the wrong kind) is an error of the
/// attempt, reported as `providerFailed`.
///
/// The provider is app code, and the crate asks for the target from inside its driver,
/// with the connection's state borrowed: a provider that called back into this socket
/// (`ws.close()`, `ws.state`) would find it busy. So the call, and every read of its
/// result, runs in a task of its own, which starts in a microtask; the driver only waits
/// for the outcome.
pub(crate) fn call_provider(
    provider: &Function,
    attempt: u32,
    protocols: &Rc<Option<Vec<String>>>,
) -> impl Future<Output = Result<ConnectTarget, Error>> {
    let slot: Rc<RefCell<Outcome>> = Rc::default();
    let writer = slot.clone();
    let provider = provider.clone();
    let protocols = protocols.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let result = provide(&provider, attempt, &protocols).await;
        let waker = {
            let mut outcome = writer.borrow_mut();
            outcome.result = Some(result);
            outcome.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    });
    poll_fn(move |cx| {
        let mut outcome = slot.borrow_mut();
        match outcome.result.take() {
            Some(result) => Poll::Ready(result),
            None => {
                outcome.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    })
}

/// What the provider's task hands to the attempt.
#[derive(Default)]
struct Outcome {
    result: Option<Result<ConnectTarget, Error>>,
    waker: Option<Waker>,
}

/// Calls the provider and reads its result.
async fn provide(
    provider: &Function,
    attempt: u32,
    protocols: &Option<Vec<String>>,
) -> Result<ConnectTarget, Error> {
    let promise = call_provider_js(provider, attempt).map_err(|thrown| js_error(&thrown))?;
    let value = JsFuture::from(promise)
        .await
        .map_err(|thrown| js_error(&thrown))?;
    let target = target_from_js(&value).map_err(|error| js_error(&error))?;
    Ok(match (target, protocols) {
        (Target::Given(target), _) => target,
        (Target::Url(url), Some(list)) => ConnectTarget::new(url).protocols(list.iter()),
        (Target::Url(url), None) => ConnectTarget::new(url),
    })
}

/// What a provider gave: a whole target, or a URL that takes the options' protocols.
enum Target {
    Given(ConnectTarget),
    Url(String),
}

/// What a provider gives: a URL (string or `URL`), or `{ url, protocols }`.
fn target_from_js(value: &JsValue) -> Result<Target, JsValue> {
    let has_url =
        value.is_object() && !option(value, "url", "the provider's result.url")?.is_undefined();
    if has_url {
        let url = option(value, "url", "the provider's result.url")?;
        let url = url_from_js(&url, "the provider's result.url")?;
        let protocols = option(value, "protocols", "the provider's result.protocols")?;
        let target = ConnectTarget::new(url);
        return Ok(Target::Given(
            match protocols_from_js(&protocols, "the provider's result.protocols")? {
                Some(list) => target.protocols(list),
                None => target,
            },
        ));
    }
    url_from_js(value, "the provider's result").map(Target::Url)
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
