//! The `ReconnectingSocket` class: a WebSocket that reconnects by itself, for JS users,
//! over the crate's `ReconnectingWebSocket` (backoff, outbox, per-attempt URL provider).

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::pin::Pin;
use std::rc::Rc;

use futures_core::Stream;
use js_sys::{Array, Function, Object, Promise, Reflect, WeakRef};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_websocket::{ReconnectEvent, ReconnectHandle, ReconnectingWebSocket, WebSocket};

use crate::classes::{brand, prepare_class};
use crate::convert::{close_result, error_to_js, message_to_js, set, set_close_fields, type_error};
use crate::io::{eager, Io};
use crate::options::{close_args_from_js, socket_options, url_from_js, SocketOptions};
use crate::reconnect_options::{call_provider, reconnect_settings};

/// A WebSocket that reconnects by itself, with backoff, and keeps what is sent while it is
/// disconnected in a bounded outbox. Create one with `ReconnectingSocket.create`.
///
/// Backed by the Rust crate's `ReconnectingWebSocket`: messages of every connection come
/// through one iteration, in order; sends wait while the outbox is full and a connection
/// is draining it, and reject with `OutboxFull` while none is; what happened to the
/// connection is reported to `onEvent`. Like the browser's `WebSocket`, it is not closed by
/// garbage collection while it runs; it lives until `close()`, `free()`, or it gives up.
#[wasm_bindgen]
#[derive(Debug)]
pub struct ReconnectingSocket {
    /// `None` only in the instance made at start-up to reach the class's prototype.
    core: Option<Rc<Core>>,
}

/// What a `ReconnectingSocket` and its pending promises share.
#[derive(Debug)]
struct Core {
    io: Rc<Io<ReconnectingWebSocket>>,
    handle: ReconnectHandle,
    high_water_mark: usize,
    /// `options.onEvent`.
    on_event: Option<Function>,
    /// Whether a task forwards the events (and keeps the JS object alive) now.
    forwarding: Rc<Cell<bool>>,
    /// The JS object, weakly: to keep it alive again when `reconnect()` revives it.
    this: RefCell<Option<WeakRef>>,
}

#[wasm_bindgen]
impl ReconnectingSocket {
    /// Creates a reconnecting socket and resolves with it at once (state `"connecting"`);
    /// it connects, and reconnects after every loss, by itself. `url` is a URL (string or
    /// `URL`) or a provider: a function called with the attempt number before every attempt,
    /// returning (or resolving to) a URL or `{ url, protocols }`.
    ///
    /// Rejects with `TypeError`/`RangeError` for malformed options, and, for a fixed URL,
    /// with the errors of the first attempt that retrying cannot fix: `InvalidUrl`,
    /// `InvalidProtocol`, `Security`, `Unsupported`, `Js`. A provider runs in a microtask
    /// of its own (so it may call back into the socket): what it gives is checked later,
    /// and such errors come as `attemptFailed`, `gaveUp` and the iteration's error.
    ///
    /// ```js
    /// const ws = await ReconnectingSocket.create("wss://example.org/live", {
    ///   maxRetries: 10,
    ///   onEvent: (e) => console.log(e.type),
    /// });
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<ReconnectingSocket>")]
    pub fn create(
        #[wasm_bindgen(unchecked_param_type = "string | URL | UrlProvider")] url: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ReconnectingOptions")] options: JsValue,
    ) -> Promise {
        match create(&url, &options) {
            Ok(value) => Promise::resolve(&value),
            Err(error) => Promise::reject(&error),
        }
    }

    /// Sends a message (a `string`, an `ArrayBuffer`, `SharedArrayBuffer` or any
    /// `ArrayBufferView`) through the outbox, and resolves with its number (0, 1, 2, ...
    /// in the order accepted; `disconnected` events name messages by these numbers) once
    /// the outbox took it. Waits while the outbox is full and a connection drains it;
    /// rejects with `OutboxFull` while it is full and no connection is open, or when the
    /// sends that wait are at `maxPendingSends`; with `NotOpen` once closed; with a
    /// `TypeError` for other kinds of data or a detached buffer.
    ///
    /// ```js
    /// const n = await ws.send("hello"); // queued while disconnected, sent once connected
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SendData")] data: JsValue,
    ) -> Promise {
        match &self.core {
            Some(core) => core.io.send(&data, |number| JsValue::from(number as f64)),
            None => freed(),
        }
    }

    /// Resolves once every message accepted so far has been handed to a connection and
    /// the browser has handed it on (`bufferedAmount` 0), waiting through reconnects.
    /// Rejects with `NotOpen` if messages are left that can no longer be sent.
    ///
    /// ```js
    /// await ws.flush();
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> Promise {
        match &self.core {
            Some(core) => core.io.flush(),
            None => freed(),
        }
    }

    /// Receives the next message of whichever connection is open (the async iterator
    /// protocol). Done after `close()` and after a clean close that does not reconnect;
    /// when it gives up it rejects once with the error that ended it, then reports `done`.
    ///
    /// ```js
    /// for await (const msg of ws) console.log(msg);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<Message, undefined>>")]
    pub fn next(&self) -> Promise {
        match &self.core {
            Some(core) => core.io.next(),
            None => freed(),
        }
    }

    /// Ends it for good: no more reconnects; an open connection closes with `code`
    /// (default 1000, otherwise 3000..=4999) and `reason`. Resolves with the last
    /// connection's close event, or `null` if none was open. Messages still in the outbox
    /// are not sent: take them with `takeUnsent()` (to send them first, `flush()` first).
    /// Rejects as `Socket.close` does for a bad code or reason.
    ///
    /// ```js
    /// await ws.close(1000, "bye");
    /// const unsent = await ws.takeUnsent();
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<CloseResult | null>")]
    pub fn close(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] code: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] reason: JsValue,
    ) -> Promise {
        let Some(core) = &self.core else {
            return freed();
        };
        let (code, reason) = match close_args_from_js(&code, &reason) {
            Ok(args) => args,
            Err(error) => return Promise::reject(&error),
        };
        let closing = core.handle.close(code, &reason);
        eager(async move {
            let event = closing.await.map_err(|e| error_to_js(&e))?;
            Ok(event.as_ref().map_or(JsValue::NULL, close_result))
        })
    }

    /// Starts a fresh attempt now (attempt 0, no backoff): closes an open connection with
    /// 1000 "reconnect" first, skips a backoff wait, and brings it back after it gave up.
    /// Rejects with `NotOpen` after `close()` and after the iteration has ended.
    ///
    /// ```js
    /// window.addEventListener("online", () => ws.reconnect().catch(() => {}));
    /// ```
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn reconnect(&self) -> Promise {
        let Some(core) = &self.core else {
            return freed();
        };
        if let Err(error) = core.handle.reconnect() {
            return Promise::reject(&error_to_js(&error));
        }
        // Event forwarding ends when it gives up; it comes back with it.
        let this = core.this.borrow().as_ref().and_then(|weak| weak.deref());
        if let Some(this) = this {
            forward_events(core, this.into());
        }
        Promise::resolve(&JsValue::UNDEFINED)
    }

    /// Once it has ended for good, removes and returns the messages that were accepted
    /// but never (completely) sent, in order; an empty array before that.
    ///
    /// ```js
    /// for (const msg of await ws.takeUnsent()) saveForLater(msg);
    /// ```
    #[wasm_bindgen(js_name = takeUnsent, unchecked_return_type = "Promise<Message[]>")]
    pub fn take_unsent(&self) -> Promise {
        let Some(core) = &self.core else {
            return freed();
        };
        let unsent = core
            .handle
            .take_unsent()
            .into_iter()
            .map(message_to_js)
            .collect::<Array>();
        Promise::resolve(&JsValue::from(unsent))
    }

    /// `"connecting"` (also while waiting to retry), `"open"`, `"closing"` once `close()`
    /// was called, `"closed"` once it has ended for good.
    ///
    /// ```js
    /// if (ws.state === "open") showOnline();
    /// ```
    #[wasm_bindgen(getter, unchecked_return_type = "SocketState")]
    pub fn state(&self) -> String {
        let state = self.core.as_ref().map(|core| core.handle.state().as_str());
        state.unwrap_or("closed").to_owned()
    }

    /// The high-water mark every connection uses, in bytes.
    ///
    /// ```js
    /// console.log(ws.highWaterMark); // 1048576 by default
    /// ```
    #[wasm_bindgen(getter, js_name = highWaterMark)]
    pub fn high_water_mark(&self) -> f64 {
        self.core
            .as_ref()
            .map_or(0.0, |core| core.high_water_mark as f64)
    }
}

/// `ReconnectingSocket.create`.
fn create(url: &JsValue, options: &JsValue) -> Result<JsValue, JsValue> {
    // `typeof`, not `instanceof`: a function from another realm (an iframe) is one too.
    let provider = url
        .is_function()
        .then(|| url.unchecked_ref::<Function>().clone());
    // With a provider, the builder's URL is never used.
    let url = match &provider {
        Some(_) => String::new(),
        None => url_from_js(url, "url")?,
    };
    let SocketOptions {
        mut builder,
        high_water_mark,
        pending,
        protocols,
    } = socket_options(WebSocket::builder(url), options)?;
    let settings = reconnect_settings(options)?;
    if let Some(timeout) = settings.connect_timeout {
        builder = builder.connect_timeout(timeout);
    }
    let ws = match provider {
        Some(provider) => {
            let protocols = Rc::new(protocols);
            ReconnectingWebSocket::with_provider(builder, settings.policy, move |attempt| {
                call_provider(&provider, attempt, &protocols)
            })
        }
        None => ReconnectingWebSocket::new(builder, settings.policy),
    }
    .map_err(|e| error_to_js(&e))?;
    let core = Rc::new(Core {
        handle: ws.handle(),
        io: Rc::new(Io::new(ws, pending)),
        high_water_mark,
        on_event: settings.on_event,
        forwarding: Rc::default(),
        this: RefCell::new(None),
    });
    let value = JsValue::from(ReconnectingSocket {
        core: Some(core.clone()),
    });
    brand(&value, "ReconnectingSocket");
    if let Some(object) = value.dyn_ref::<Object>() {
        *core.this.borrow_mut() = Some(WeakRef::new(object));
    }
    forward_events(&core, value.clone());
    Ok(value)
}

/// Subscribes to the events (at once, so none is missed) and forwards them to
/// `options.onEvent` until it has ended for good. Meanwhile the task holds `this`: like the
/// browser's `WebSocket`, a running socket is not closed by garbage collection.
fn forward_events(core: &Core, this: JsValue) {
    if core.forwarding.replace(true) {
        return;
    }
    let mut events = core.handle.events();
    let on_event = core.on_event.clone();
    let forwarding = core.forwarding.clone();
    wasm_bindgen_futures::spawn_local(async move {
        while let Some(event) = poll_fn(|cx| Pin::new(&mut events).poll_next(cx)).await {
            if let Some(on_event) = &on_event {
                if let Err(thrown) = on_event.call1(&JsValue::UNDEFINED, &event_to_js(&event)) {
                    report_error(&thrown);
                }
            }
        }
        forwarding.set(false);
        drop(this);
    });
}

/// Reports an exception of the app's callback as an event listener's would be: to
/// `window.onerror` and the console, through `reportError`.
fn report_error(thrown: &JsValue) {
    let report = Reflect::get(&js_sys::global(), &JsValue::from_str("reportError"));
    if let Some(report) = report.ok().and_then(|f| f.dyn_into::<Function>().ok()) {
        let _ = report.call1(&JsValue::UNDEFINED, thrown);
    }
}

/// A `ReconnectEvent` as the plain object `onEvent` gets (`ReconnectEventObject`).
fn event_to_js(event: &ReconnectEvent) -> JsValue {
    let object = Object::new();
    let kind = match event {
        ReconnectEvent::Connected { attempt } => {
            set(&object, "attempt", &JsValue::from(*attempt));
            "connected"
        }
        ReconnectEvent::Disconnected {
            event,
            sent,
            unsent,
        } => {
            set_close_fields(&object, event);
            set(&object, "sent", &range(sent));
            set(&object, "unsent", &range(unsent));
            "disconnected"
        }
        ReconnectEvent::AttemptFailed(error) => {
            set(&object, "error", &error_to_js(error));
            "attemptFailed"
        }
        ReconnectEvent::ProviderFailed(error) => {
            set(&object, "error", &error_to_js(error));
            "providerFailed"
        }
        ReconnectEvent::Retrying { attempt, delay } => {
            set(&object, "attempt", &JsValue::from(*attempt));
            set(&object, "delay", &JsValue::from(delay.as_millis() as f64));
            "retrying"
        }
        ReconnectEvent::GaveUp => "gaveUp",
        // Added to the crate later and not known here yet.
        _ => "other",
    };
    set(&object, "type", &JsValue::from_str(kind));
    object.into()
}

/// `{ start, end }` of message numbers.
fn range(range: &std::ops::Range<u64>) -> JsValue {
    let object = Object::new();
    set(&object, "start", &JsValue::from(range.start as f64));
    set(&object, "end", &JsValue::from(range.end as f64));
    object.into()
}

/// The members of `ReconnectingSocket` that return a promise: for a foreign `this` they
/// reject (see [`crate::classes`]).
const GUARDED: &[&str] = &["send", "flush", "next", "close", "reconnect", "takeUnsent"];

/// Guards the methods of the class and installs its async iterator.
pub(crate) fn prepare() {
    prepare_class(
        &JsValue::from(ReconnectingSocket { core: None }),
        "ReconnectingSocket",
        GUARDED,
    );
}

/// What the start-up instance answers (the guard keeps JS callers away from it).
fn freed() -> Promise {
    Promise::reject(&type_error("the ReconnectingSocket was freed"))
}
