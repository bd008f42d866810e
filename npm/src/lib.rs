//! The JavaScript API of the npm package `wasm-websocket-js`: the Rust crate
//! [`wasm_websocket`] for JS users.
//!
//! `wasm-pack build npm --target web` turns this crate into an ES module whose `Socket`
//! class wraps [`WebSocket`]:
//!
//! ```js
//! import init, { Socket } from "wasm-websocket-js";
//! await init();
//! const ws = await Socket.connect("wss://example.org/chat", { highWaterMark: 1 << 20 });
//! await ws.send("hello");                  // resolves once accepted under the high-water mark
//! for await (const msg of ws) { /* string | Uint8Array */ }
//! const { code, reason, wasClean } = await ws.close(1000, "bye");
//! ```
//!
//! Every promise rejects with a JS `Error` whose `name` is the [`Error`] variant's name
//! (`"NotOpen"`, `"ConnectionLost"`, ...) and whose `message` is its `Display` text; bad
//! argument types reject with a `TypeError` (or a `RangeError` for out-of-range numbers).
//! Nothing here panics on any JS input.
//!
//! Concurrency: JS may call `send` again before an earlier send has resolved, and may
//! iterate while sending. Sends (and flushes) wait in one first-come, first-served line and
//! receives in another, so data goes out and comes in in call order, and only one task at
//! a time waits on the socket's sink or stream. The socket sits in a `RefCell` that is only
//! borrowed inside a single `poll`, never across an `.await`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;
use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;

use wasm_websocket::{
    Backend, BinaryType, Builder, CloseCode, CloseEvent, Error, Handle, Message, WebSocket,
    DEFAULT_HIGH_WATER_MARK,
};

// The hand-written part of the package's `.d.ts`: the types that wasm-bindgen cannot derive
// from the Rust signatures. It is a real TypeScript file so that editors and `tsc` check it.
#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = include_str!("types.d.ts");

/// A connected WebSocket for JS users. Create one with `Socket.connect`.
///
/// Backed by the Rust crate's `WebSocket`: sends wait while `bufferedAmount` is above the
/// high-water mark, sends on a closing or closed socket reject with `NotOpen` instead of
/// being dropped silently, and an unclean close ends iteration with `ConnectionLost`.
/// Like the browser's `WebSocket`, an open socket is not closed by garbage collection; it
/// lives until `close()`, `free()`, the server or the network ends it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Socket {
    core: Rc<Core>,
}

/// What a `Socket` and its pending promises share.
#[derive(Debug)]
struct Core {
    ws: RefCell<WebSocket>,
    handle: Handle,
    high_water_mark: usize,
    /// Senders and flushers, first come first served.
    sends: Rc<Line>,
    /// Receivers (`next()` calls), first come first served.
    receives: Rc<Line>,
    /// The `closed` promise, created on first use so that every read returns the same one.
    closed: RefCell<Option<Promise>>,
}

#[wasm_bindgen]
impl Socket {
    /// Connects to `url` (`ws:`, `wss:`, `http(s):` or relative, like the browser resolves it)
    /// and resolves once the connection is open.
    ///
    /// Rejects with `InvalidUrl`, `InvalidProtocol`, `Security`, `ConnectFailed` (the socket
    /// closed before it opened), `Timeout` (`connectTimeout` elapsed), `Js`, or a
    /// `TypeError`/`RangeError` for malformed options.
    #[wasm_bindgen(js_name = connect, unchecked_return_type = "Promise<Socket>")]
    pub fn connect(
        #[wasm_bindgen(unchecked_param_type = "string | URL")] url: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "ConnectOptions")] options: JsValue,
    ) -> Promise {
        let connecting = match builder_from_js(&url, &options) {
            Ok((builder, high_water_mark)) => (builder.connect(), high_water_mark),
            Err(error) => return Promise::reject(&error),
        };
        eager(async move {
            let (connect, high_water_mark) = connecting;
            let ws = connect.await.map_err(|e| error_to_js(&e))?;
            let closed = ws.handle().closed();
            let socket = Socket {
                core: Rc::new(Core {
                    handle: ws.handle(),
                    ws: RefCell::new(ws),
                    high_water_mark,
                    sends: Rc::default(),
                    receives: Rc::default(),
                    closed: RefCell::new(None),
                }),
            };
            let value = JsValue::from(socket);
            install_async_iterator(&value);
            // Like the browser's own WebSocket, an open connection is not closed by garbage
            // collection: this task holds the JS object until the connection has closed, so
            // an app that keeps only `closed` (or an iteration) keeps it open. The task is
            // in turn held by the socket's listeners, which the browser keeps while the
            // connection is open. `close()` and `free()` still end it at once.
            let keep = value.clone();
            wasm_bindgen_futures::spawn_local(async move {
                closed.await;
                drop(keep);
            });
            Ok(value)
        })
    }

    /// Sends a message: a `string` as text, an `ArrayBuffer`, `SharedArrayBuffer` or any
    /// `ArrayBufferView` (e.g. `Uint8Array`) as binary.
    ///
    /// Resolves as soon as the data is handed to the browser, which happens at once while
    /// `bufferedAmount` is at most the high-water mark, and otherwise once it has fallen
    /// below it: awaiting every send is how a fast producer slows down to the network's
    /// pace. Sends made before earlier ones resolved go out in call order. Rejects with
    /// `NotOpen` once the socket is closing or closed (the data is not sent), or a
    /// `TypeError` for other kinds of data.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn send(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SendData")] data: JsValue,
    ) -> Promise {
        let message = match message_from_js(&data) {
            Ok(message) => message,
            Err(error) => return Promise::reject(&error),
        };
        let core = self.core.clone();
        let ticket = Line::join(&core.sends);
        eager(async move {
            ticket.turn().await;
            poll_fn(|cx| core.poll_sink(|ws| ws.poll_ready(cx))).await?;
            core.with_ws(|ws| ws.start_send(message))?
                .map_err(|e| error_to_js(&e))?;
            drop(ticket);
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Resolves once everything sent so far has been handed to the network
    /// (`bufferedAmount` is 0). Rejects with `NotOpen` if the socket closes first.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> Promise {
        let core = self.core.clone();
        let ticket = Line::join(&core.sends);
        eager(async move {
            ticket.turn().await;
            poll_fn(|cx| core.poll_sink(|ws| ws.poll_flush(cx))).await?;
            drop(ticket);
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Receives the next message (the async iterator protocol): `{ value, done: false }` for
    /// a message, `{ value: undefined, done: true }` once the connection has closed cleanly
    /// and every received message has been taken. After an unclean close it rejects once
    /// with `ConnectionLost`, then reports `done`. Concurrent calls resolve in call order.
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<Message, undefined>>")]
    pub fn next(&self) -> Promise {
        let core = self.core.clone();
        let ticket = Line::join(&core.receives);
        eager(async move {
            ticket.turn().await;
            let item = poll_fn(|cx| core.poll_message(cx)).await?;
            drop(ticket);
            Ok(match item {
                Some(message) => iter_result(&message_to_js(message), false),
                None => iter_result(&JsValue::UNDEFINED, true),
            })
        })
    }

    /// Starts the closing handshake with `code` (default 1000; otherwise 3000..=4999) and
    /// `reason` (at most 123 UTF-8 bytes), and resolves with the close event. While the
    /// socket is already closing or closed it starts nothing and resolves with the same
    /// event. `state` is `"closing"` as soon as this returns.
    ///
    /// Rejects with `InvalidCloseCode` (also for non-integers and numbers outside
    /// 0..=65535), `ReasonTooLong`, or a `TypeError` for a code that is not a number or a
    /// reason that is not a string; in those cases nothing is started.
    #[wasm_bindgen(unchecked_return_type = "Promise<CloseResult>")]
    pub fn close(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] code: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] reason: JsValue,
    ) -> Promise {
        let (code, reason) = match close_args_from_js(&code, &reason) {
            Ok(args) => args,
            Err(error) => return Promise::reject(&error),
        };
        let closing = self.core.handle.close(code, &reason);
        eager(async move {
            let event = closing.await.map_err(|e| error_to_js(&e))?;
            Ok(close_result(&event))
        })
    }

    /// Resolves with `{ code, reason, wasClean }` once the connection has closed, for
    /// whatever reason. Never rejects; every read returns the same promise.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<CloseResult>")]
    pub fn closed(&self) -> Promise {
        let mut slot = self.core.closed.borrow_mut();
        slot.get_or_insert_with(|| {
            let closed = self.core.handle.closed();
            eager(async move { Ok(close_result(&closed.await)) })
        })
        .clone()
    }

    /// `"connecting"`, `"open"`, `"closing"` or `"closed"`: the browser's `readyState` now.
    #[wasm_bindgen(getter, unchecked_return_type = "SocketState")]
    pub fn state(&self) -> String {
        self.core.handle.state().as_str().to_owned()
    }

    /// Bytes queued by `send` and not yet handed to the network.
    #[wasm_bindgen(getter, js_name = bufferedAmount)]
    pub fn buffered_amount(&self) -> f64 {
        self.core.handle.buffered_amount() as f64
    }

    /// The high-water mark this socket was opened with, in bytes.
    #[wasm_bindgen(getter, js_name = highWaterMark)]
    pub fn high_water_mark(&self) -> f64 {
        self.core.high_water_mark as f64
    }

    /// The subprotocol the server selected, `""` if none.
    #[wasm_bindgen(getter)]
    pub fn protocol(&self) -> String {
        self.core.handle.protocol()
    }

    /// The extensions the server accepted (e.g. `"permessage-deflate"`), `""` if none.
    #[wasm_bindgen(getter)]
    pub fn extensions(&self) -> String {
        self.core.handle.extensions()
    }

    /// The URL the browser resolved (absolute, `ws:` or `wss:`).
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.core.handle.url()
    }

    /// `"arraybuffer"` or `"blob"`, as chosen at connect time.
    #[wasm_bindgen(getter, js_name = binaryType, unchecked_return_type = "BinaryType")]
    pub fn binary_type(&self) -> String {
        let binary_type = match self.core.ws.try_borrow() {
            Ok(ws) => ws.binary_type(),
            // Unreachable in practice: the socket is only borrowed inside a poll.
            Err(_) => BinaryType::ArrayBuffer,
        };
        binary_type_name(binary_type).to_owned()
    }
}

impl Core {
    /// Runs `f` with the socket borrowed for just this call.
    fn with_ws<R>(&self, f: impl FnOnce(Pin<&mut WebSocket>) -> R) -> Result<R, JsValue> {
        match self.ws.try_borrow_mut() {
            Ok(mut ws) => Ok(f(Pin::new(&mut ws))),
            // Borrows never outlive a poll and polls do not nest, so this cannot happen;
            // report it as an error rather than panic all the same.
            Err(_) => Err(error_to_js(&Error::Js {
                name: "InternalError".into(),
                message: "the socket is busy".into(),
            })),
        }
    }

    /// Polls one of the socket's `Sink` methods.
    fn poll_sink(
        &self,
        poll: impl FnOnce(Pin<&mut WebSocket>) -> Poll<Result<(), Error>>,
    ) -> Poll<Result<(), JsValue>> {
        match self.with_ws(poll) {
            Ok(poll) => poll.map_err(|e| error_to_js(&e)),
            Err(error) => Poll::Ready(Err(error)),
        }
    }

    /// Polls the socket's `Stream`: `Ok(None)` once it has ended.
    fn poll_message(&self, cx: &mut Context<'_>) -> Poll<Result<Option<Message>, JsValue>> {
        match self.with_ws(|ws| ws.poll_next(cx)) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(None)) => Poll::Ready(Ok(None)),
            Ok(Poll::Ready(Some(Ok(message)))) => Poll::Ready(Ok(Some(message))),
            Ok(Poll::Ready(Some(Err(error)))) => Poll::Ready(Err(error_to_js(&error))),
            Err(error) => Poll::Ready(Err(error)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Waiting in line

/// A first-come, first-served line: each caller takes a [`Ticket`] synchronously (so the
/// order is the JS call order), waits for its turn, and passes the turn on by dropping it.
#[derive(Debug, Default)]
struct Line {
    inner: RefCell<LineInner>,
}

#[derive(Debug, Default)]
struct LineInner {
    /// The number of the ticket at the front of `slots`.
    front: u64,
    /// One slot per ticket not yet gone, in ticket order.
    slots: VecDeque<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    waker: Option<Waker>,
    gone: bool,
}

impl Line {
    fn join(line: &Rc<Line>) -> Ticket {
        let mut inner = line.inner.borrow_mut();
        inner.slots.push_back(Slot::default());
        let number = inner.front + inner.slots.len() as u64 - 1;
        Ticket {
            line: line.clone(),
            number,
        }
    }
}

#[derive(Debug)]
struct Ticket {
    line: Rc<Line>,
    number: u64,
}

impl Ticket {
    /// Resolves when every earlier ticket is gone.
    fn turn(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            let mut inner = self.line.inner.borrow_mut();
            let index = self.number.saturating_sub(inner.front) as usize;
            if index == 0 {
                return Poll::Ready(());
            }
            if let Some(slot) = inner.slots.get_mut(index) {
                match &slot.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => slot.waker = Some(cx.waker().clone()),
                }
            }
            Poll::Pending
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let next = {
            let mut inner = self.line.inner.borrow_mut();
            let index = self.number.saturating_sub(inner.front) as usize;
            if let Some(slot) = inner.slots.get_mut(index) {
                slot.gone = true;
            }
            let mut advanced = false;
            while inner.slots.front().is_some_and(|slot| slot.gone) {
                inner.slots.pop_front();
                inner.front += 1;
                advanced = true;
            }
            if advanced {
                inner.slots.front_mut().and_then(|slot| slot.waker.take())
            } else {
                None
            }
        };
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Promises

struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

thread_local! {
    static NOOP_WAKER: Waker = Waker::from(Arc::new(NoopWake));
}

/// Turns a future into a promise, polling it once right away: work that can finish at once
/// (a send under the high-water mark, a message already received) happens during the JS
/// call, in call order, and the promise is created already settled. Otherwise the future
/// is handed to the executor, whose first poll registers the real waker.
fn eager<F>(future: F) -> Promise
where
    F: Future<Output = Result<JsValue, JsValue>> + 'static,
{
    let mut future = Box::pin(future);
    let waker = NOOP_WAKER.with(Waker::clone);
    match future.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(Ok(value)) => Promise::resolve(&value),
        Poll::Ready(Err(error)) => Promise::reject(&error),
        Poll::Pending => future_to_promise(future),
    }
}

/// Makes `for await (const msg of socket)` work: `socket[Symbol.asyncIterator]()` must
/// return an object with `next()`, and the socket is one. `Object.prototype.valueOf`
/// returns its `this` unchanged, so it serves as that method without `eval`.
fn install_async_iterator(socket: &JsValue) {
    let Some(socket) = socket.dyn_ref::<Object>() else {
        return;
    };
    let prototype = Object::get_prototype_of(socket);
    let key = js_sys::Symbol::async_iterator();
    if !Object::has_own(&prototype, &key) {
        let value_of = Reflect::get(&Object::new(), &JsValue::from_str("valueOf"))
            .unwrap_or(JsValue::UNDEFINED);
        let _ = Reflect::set(&prototype, &key, &value_of);
    }
}

// ---------------------------------------------------------------------------------------
// Conversions

// One call per received message instead of three (`Object::new` and two `Reflect::set`s,
// each with a key string to convert), which shows in message rates.
#[wasm_bindgen(inline_js = "export function iterResult(value, done) { return { value, done }; }")]
extern "C" {
    #[wasm_bindgen(js_name = iterResult)]
    fn iter_result(value: &JsValue, done: bool) -> JsValue;
}

fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn close_result(event: &CloseEvent) -> JsValue {
    let result = Object::new();
    set_close_fields(&result, event);
    result.into()
}

fn set_close_fields(target: &Object, event: &CloseEvent) {
    set(target, "code", &JsValue::from(event.code));
    set(target, "reason", &JsValue::from_str(&event.reason));
    set(target, "wasClean", &JsValue::from_bool(event.was_clean));
}

fn message_to_js(message: Message) -> JsValue {
    match message {
        Message::Text(text) => JsValue::from_str(&text),
        Message::Binary(bytes) => Uint8Array::from(bytes.as_slice()).into(),
    }
}

/// The JS error for a crate error: an `Error` whose `name` is the variant's name, whose
/// `message` is the `Display` text, and whose extra properties are the variant's fields.
fn error_to_js(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    match error {
        Error::InvalidUrl { url, .. } => set(&js, "url", &JsValue::from_str(url)),
        Error::InvalidProtocol { protocol, .. } => {
            set(&js, "protocol", &JsValue::from_str(protocol));
        }
        Error::ConnectFailed(event) | Error::ConnectionLost(event) => set_close_fields(&js, event),
        Error::InvalidCloseCode(code) => set(&js, "code", &JsValue::from(*code)),
        Error::ReasonTooLong { len } => set(&js, "len", &JsValue::from(*len as f64)),
        Error::NotOpen(state) => set(&js, "state", &JsValue::from_str(state.as_str())),
        Error::ReceiveQueueFull { messages, bytes } => {
            set(&js, "messages", &JsValue::from(*messages as f64));
            set(&js, "bytes", &JsValue::from(*bytes as f64));
        }
        Error::Unsupported { feature } => set(&js, "feature", &JsValue::from_str(feature)),
        Error::Js { name, .. } => set(&js, "jsName", &JsValue::from_str(name)),
        // Variants without fields (and any added later) carry only their name.
        _ => {}
    }
    js.set_name(&variant_name(error));
    js.into()
}

/// The variant's name, e.g. `NotOpen`: the leading identifier of the derived `Debug` text,
/// so every variant, also one added later, gets its own name without a table to keep.
fn variant_name(error: &Error) -> String {
    let debug = format!("{error:?}");
    let end = debug
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(debug.len());
    if end == 0 {
        "Error".to_owned()
    } else {
        debug[..end].to_owned()
    }
}

fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

fn range_error(message: &str) -> JsValue {
    js_sys::RangeError::new(message).into()
}

/// What kind of value this is, for error messages: its constructor's name for objects
/// (`Blob`, `Array`), its `typeof` otherwise (`number`, `undefined`).
fn describe(value: &JsValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    if value.is_object() {
        // `Reflect.get` is bound with `catch`: a Proxy trap or getter that throws only
        // costs the name.
        let name = Reflect::get(value, &JsValue::from_str("constructor"))
            .ok()
            .filter(|constructor| constructor.is_function())
            .and_then(|constructor| Reflect::get(&constructor, &JsValue::from_str("name")).ok())
            .and_then(|name| short_string(&name))
            .filter(|name| !name.is_empty());
        if let Some(name) = name {
            return name;
        }
    }
    value
        .js_typeof()
        .as_string()
        .unwrap_or_else(|| "value".into())
}

// ---------------------------------------------------------------------------------------
// Reading JS values without running into JS exceptions
//
// A JS exception thrown while wasm is on the stack unwinds through it without running
// destructors: wasm-bindgen's borrow of the `Socket` stays taken (later calls and `free()`
// fail, the socket is never closed), and so do our own `RefCell` borrows. So every JS call
// made on a value that comes from the caller either cannot run the caller's code (intrinsic
// accessors with brand checks, `typeof`-based checks) or is bound with `catch`.

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws for a revoked Proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn is_array(value: &JsValue) -> Result<bool, JsValue>;

    /// Calls `getter` with `this` set to `target` (an intrinsic accessor on any value).
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = apply)]
    fn apply_getter(getter: &JsValue, target: &JsValue, args: &Array) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Object, js_name = getOwnPropertyDescriptor)]
    fn own_descriptor(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Object, js_name = getPrototypeOf)]
    fn prototype_of(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// The built-in accessors that read a buffer's or a view's internal slots. Unlike
/// `value.byteLength`, they cannot be shadowed by the value's own properties, run no user
/// code (not even for a Proxy) and throw a TypeError for anything of another type.
struct Intrinsics {
    array_buffer_byte_length: JsValue,
    /// `None` where the page has no `SharedArrayBuffer` constructor.
    shared_array_buffer_byte_length: Option<JsValue>,
    typed_array_buffer: JsValue,
    typed_array_byte_offset: JsValue,
    typed_array_byte_length: JsValue,
    data_view_buffer: JsValue,
    data_view_byte_offset: JsValue,
    data_view_byte_length: JsValue,
    no_args: Array,
}

impl Intrinsics {
    fn load() -> Option<Intrinsics> {
        let getter = |prototype: &JsValue, key: &str| -> Option<JsValue> {
            let descriptor = own_descriptor(prototype, key).ok()?;
            let get = Reflect::get(&descriptor, &JsValue::from_str("get")).ok()?;
            get.is_function().then_some(get)
        };
        let array_buffer = prototype_of(&ArrayBuffer::new(0)).ok()?;
        // %TypedArray%.prototype, the prototype of Uint8Array.prototype and its siblings.
        let typed_array =
            prototype_of(&prototype_of(&Uint8Array::new_with_length(0)).ok()?).ok()?;
        let data_view = prototype_of(&js_sys::DataView::new(&ArrayBuffer::new(0), 0, 0)).ok()?;
        let shared_array_buffer =
            shared_array_buffer_prototype().and_then(|prototype| getter(&prototype, "byteLength"));
        Some(Intrinsics {
            array_buffer_byte_length: getter(&array_buffer, "byteLength")?,
            shared_array_buffer_byte_length: shared_array_buffer,
            typed_array_buffer: getter(&typed_array, "buffer")?,
            typed_array_byte_offset: getter(&typed_array, "byteOffset")?,
            typed_array_byte_length: getter(&typed_array, "byteLength")?,
            data_view_buffer: getter(&data_view, "buffer")?,
            data_view_byte_offset: getter(&data_view, "byteOffset")?,
            data_view_byte_length: getter(&data_view, "byteLength")?,
            no_args: Array::new(),
        })
    }

    /// `getter` applied to `value`: `None` if it threw (`value` has another type).
    fn read(&self, getter: &JsValue, value: &JsValue) -> Option<JsValue> {
        apply_getter(getter, value, &self.no_args).ok()
    }

    fn read_number(&self, getter: &JsValue, value: &JsValue) -> Option<f64> {
        self.read(getter, value).and_then(|v| v.as_f64())
    }

    /// `(buffer, byte offset, byte length)` of an `ArrayBuffer`, a `SharedArrayBuffer` or a
    /// view on one, as the engine knows them; `None` for any other value. A detached or
    /// out-of-bounds view covers 0 bytes.
    fn binary_parts(&self, data: &JsValue) -> Option<(JsValue, f64, f64)> {
        // `isView` checks an internal slot: no user code, false for a Proxy.
        if ArrayBuffer::is_view(data) {
            if let Some(length) = self.read_number(&self.typed_array_byte_length, data) {
                let offset = self.read_number(&self.typed_array_byte_offset, data)?;
                let buffer = self.read(&self.typed_array_buffer, data)?;
                return Some((buffer, offset, length));
            }
            let buffer = self.read(&self.data_view_buffer, data)?;
            // A DataView on a detached buffer throws for its offset and length.
            return Some(
                match (
                    self.read_number(&self.data_view_byte_offset, data),
                    self.read_number(&self.data_view_byte_length, data),
                ) {
                    (Some(offset), Some(length)) => (buffer, offset, length),
                    _ => (buffer, 0.0, 0.0),
                },
            );
        }
        if let Some(length) = self.read_number(&self.array_buffer_byte_length, data) {
            return Some((data.clone(), 0.0, length));
        }
        let shared = self.shared_array_buffer_byte_length.as_ref()?;
        let length = self.read_number(shared, data)?;
        Some((data.clone(), 0.0, length))
    }
}

thread_local! {
    static INTRINSICS: Option<Intrinsics> = Intrinsics::load();
}

/// `SharedArrayBuffer.prototype`. Without cross-origin isolation the constructor is not a
/// global, yet shared WebAssembly memory still hands out such buffers.
fn shared_array_buffer_prototype() -> Option<JsValue> {
    let constructor = Reflect::get(&js_sys::global(), &"SharedArrayBuffer".into()).ok()?;
    if constructor.is_function() {
        return Reflect::get(&constructor, &"prototype".into()).ok();
    }
    let descriptor = Object::new();
    set(&descriptor, "initial", &JsValue::from(0));
    set(&descriptor, "maximum", &JsValue::from(0));
    set(&descriptor, "shared", &JsValue::TRUE);
    let memory = js_sys::WebAssembly::Memory::new(&descriptor).ok()?;
    prototype_of(&memory.buffer()).ok()
}

/// The largest allocation wasm32 can make (`isize::MAX` bytes).
const MAX_ALLOCATION: f64 = i32::MAX as f64;

/// The `RangeError` for data that cannot be copied into wasm memory.
fn too_large(what: &str, bytes: f64) -> JsValue {
    range_error(&format!(
        "{what} of {bytes} bytes does not fit in wasm memory"
    ))
}

/// Copies `length` bytes at `offset` in `buffer` into wasm memory. The sizes are the
/// engine's own (from [`Intrinsics::binary_parts`]), and the allocation is checked first:
/// data larger than wasm memory can grow to is a `RangeError`, not a trap in `malloc`.
fn copy_bytes(buffer: &JsValue, offset: f64, length: f64) -> Result<Vec<u8>, JsValue> {
    if length < 1.0 {
        // Also what a detached buffer reports; nothing to read.
        return Ok(Vec::new());
    }
    if length > MAX_ALLOCATION {
        return Err(too_large("send data", length));
    }
    let (Some(offset), Some(len)) = (to_u32(offset), to_u32(length)) else {
        return Err(too_large("send data", length));
    };
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len as usize)
        .map_err(|_| too_large("send data", length))?;
    bytes.resize(len as usize, 0);
    // Cannot throw: the range lies inside the buffer, as the engine reported it just now,
    // and no user code ran since.
    let view = Uint8Array::new_with_byte_offset_and_length(buffer, offset, len);
    view.copy_to(&mut bytes);
    Ok(bytes)
}

fn to_u32(value: f64) -> Option<u32> {
    (value.is_finite() && value >= 0.0 && value <= f64::from(u32::MAX)).then_some(value as u32)
}

/// Strings longer than this (in UTF-16 units) are checked against the memory that is left
/// before wasm-bindgen copies them (its allocation failure is a trap).
const LARGE_STRING: u32 = 1 << 20;

/// `value` as a Rust string if it is a string of at most 200 UTF-16 units (for error
/// messages, which quote what they were given).
fn short_string(value: &JsValue) -> Option<String> {
    let short = value.is_string() && js_sys::JsString::unchecked_from_js_ref(value).length() <= 200;
    short.then(|| value.as_string()).flatten()
}

/// `value` as a Rust string if it is a JS string: wasm-bindgen's copy of a string that does
/// not fit in wasm memory would trap, so a long one is measured first (`what` names it in
/// the `RangeError`).
fn checked_string(value: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if !value.is_string() {
        return Ok(None);
    }
    // The length of a string primitive cannot be faked.
    let units = js_sys::JsString::unchecked_from_js_ref(value).length();
    if units > LARGE_STRING {
        // UTF-8 takes at most 3 bytes per UTF-16 unit. Reserving that much and letting it
        // go leaves room for wasm-bindgen's own allocation.
        let worst = f64::from(units) * 3.0;
        if worst > MAX_ALLOCATION || Vec::<u8>::new().try_reserve_exact(worst as usize).is_err() {
            return Err(too_large(what, worst));
        }
    }
    Ok(value.as_string())
}

/// The message for `send(data)` (or a heartbeat): a string as text, binary data as bytes.
/// A `TypeError` for anything else, a `RangeError` for data that wasm memory cannot hold.
fn message_from_js(data: &JsValue) -> Result<Message, JsValue> {
    if let Some(text) = checked_string(data, "send text")? {
        return Ok(Message::Text(text));
    }
    let parts = INTRINSICS.with(|intrinsics| intrinsics.as_ref()?.binary_parts(data));
    if let Some((buffer, offset, length)) = parts {
        return copy_bytes(&buffer, offset, length).map(Message::Binary);
    }
    Err(type_error(&format!(
        "send data must be a string, an ArrayBuffer or an ArrayBufferView such as Uint8Array, not {}",
        describe(data)
    )))
}

fn binary_type_name(binary_type: BinaryType) -> &'static str {
    match binary_type {
        BinaryType::ArrayBuffer => "arraybuffer",
        BinaryType::Blob => "blob",
    }
}

/// `object[key]` (`label` names it in errors). A getter or Proxy trap that throws gives a
/// `TypeError` saying so, with the thrown value as its `cause`.
fn option(object: &JsValue, key: &str, label: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &JsValue::from_str(key)).map_err(|thrown| {
        let error = js_sys::TypeError::new(&format!(
            "{label} could not be read: {}",
            thrown_text(&thrown)
        ));
        set(&error, "cause", &thrown);
        error.into()
    })
}

/// What a thrown value says: its `message`, or what kind of value it is.
fn thrown_text(thrown: &JsValue) -> String {
    if let Some(text) = short_string(thrown) {
        return text;
    }
    if thrown.is_object() {
        if let Some(message) = Reflect::get(thrown, &JsValue::from_str("message"))
            .ok()
            .and_then(|message| short_string(&message))
        {
            return message;
        }
    }
    describe(thrown)
}

/// `object[key]` as a number (`label` names it in errors, `kind` says what was expected):
/// `None` when absent (undefined or null), a `TypeError` for a non-number. Returns the
/// value too, for the range errors of the callers.
fn number_option(
    object: &JsValue,
    key: &str,
    label: &str,
    kind: &str,
) -> Result<Option<(f64, JsValue)>, JsValue> {
    let value = option(object, key, label)?;
    if value.is_null_or_undefined() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(number) => Ok(Some((number, value))),
        None => Err(type_error(&format!(
            "{label} must be {kind}, not {}",
            describe(&value)
        ))),
    }
}

/// `object[key]` as a nested options object (`shape` lists its fields for the error):
/// `None` when absent, a `TypeError` for a non-object.
fn object_option(
    object: &JsValue,
    key: &str,
    label: &str,
    shape: &str,
) -> Result<Option<JsValue>, JsValue> {
    let value = option(object, key, label)?;
    if value.is_null_or_undefined() {
        return Ok(None);
    }
    if !value.is_object() {
        return Err(type_error(&format!(
            "{label} must be an object {shape}, not {}",
            describe(&value)
        )));
    }
    Ok(Some(value))
}

/// The longest duration option, in milliseconds: what `setTimeout` can wait (a longer delay
/// fires at once in browsers).
const MAX_MILLIS: f64 = i32::MAX as f64;

/// A duration option in milliseconds (`label` names it in errors): `None` when absent,
/// a `TypeError` for a non-number, a `RangeError` for anything outside 1..=[`MAX_MILLIS`]
/// (0, negatives, NaN, infinities, and fractions of a millisecond, which timers cannot
/// keep apart from 0).
fn millis_option(object: &JsValue, key: &str, label: &str) -> Result<Option<Duration>, JsValue> {
    let Some((millis, value)) = number_option(object, key, label, "a number of milliseconds")?
    else {
        return Ok(None);
    };
    if !(1.0..=MAX_MILLIS).contains(&millis) {
        return Err(range_error(&format!(
            "{label} must be from 1 to {MAX_MILLIS} milliseconds, not {}",
            describe_value(&value)
        )));
    }
    Ok(Some(
        Duration::try_from_secs_f64(millis / 1000.0).unwrap_or(Duration::MAX),
    ))
}

/// A count option (`label` names it in errors, `unit` follows "0 or more"): `None` when
/// absent, a `TypeError` for a non-number, a `RangeError` for NaN and negatives. Saturates:
/// `Infinity` (or anything above `usize::MAX`) means no limit.
fn count_option(
    object: &JsValue,
    key: &str,
    label: &str,
    unit: &str,
) -> Result<Option<usize>, JsValue> {
    let Some((count, value)) = number_option(object, key, label, "a number")? else {
        return Ok(None);
    };
    if count.is_nan() || count < 0.0 {
        return Err(range_error(&format!(
            "{label} must be 0 or more{unit}, not {}",
            describe_value(&value)
        )));
    }
    Ok(Some(count as usize))
}

/// Reads `Socket.connect`'s arguments into a builder and the high-water mark it uses.
fn builder_from_js(url: &JsValue, options: &JsValue) -> Result<(Builder, usize), JsValue> {
    let url = match checked_string(url, "url")? {
        Some(url) => url,
        // A URL object, or anything else with a string `href`.
        None => match url
            .is_object()
            .then(|| option(url, "href", "url.href"))
            .transpose()?
            .map(|href| checked_string(&href, "url.href"))
            .transpose()?
            .flatten()
        {
            Some(href) => href,
            None => {
                return Err(type_error(&format!(
                    "url must be a string or a URL, not {}",
                    describe(url)
                )))
            }
        },
    };
    let mut builder = WebSocket::builder(url);
    let mut high_water_mark = DEFAULT_HIGH_WATER_MARK;
    if options.is_null_or_undefined() {
        return Ok((builder, high_water_mark));
    }
    if !options.is_object() {
        return Err(type_error(&format!(
            "options must be an object, not {}",
            describe(options)
        )));
    }

    let protocols = option(options, "protocols", "options.protocols")?;
    let is_list = is_array(&protocols).map_err(|thrown| {
        type_error(&format!(
            "options.protocols could not be read: {}",
            thrown_text(&thrown)
        ))
    })?;
    if let Some(one) = checked_string(&protocols, "options.protocols")? {
        builder = builder.protocols([one]);
    } else if is_list {
        builder = builder.protocols(protocol_list(&protocols)?);
    } else if !protocols.is_null_or_undefined() {
        return Err(type_error(&format!(
            "options.protocols must be a string or an array of strings, not {}",
            describe(&protocols)
        )));
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
        let message = message_from_js(&message).map_err(|error| {
            // A RangeError (too large) says what it means already; our TypeError would
            // name `send` instead of the option.
            if error.is_instance_of::<js_sys::RangeError>() {
                return error;
            }
            type_error(&format!(
                "options.heartbeat.message must be a string, an ArrayBuffer or an ArrayBufferView, not {}",
                describe(&message)
            ))
        })?;
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
    Ok((builder, high_water_mark))
}

/// The most subprotocols `options.protocols` may list. Browsers set no bound, but each one
/// goes into the handshake's header, and the length is checked before anything is read or
/// allocated (a 2^32-1 long sparse array is one JS expression).
const MAX_PROTOCOLS: f64 = 1024.0;

/// The strings of the array `list` (possibly a Proxy), read one by one.
fn protocol_list(list: &JsValue) -> Result<Vec<String>, JsValue> {
    let length = option(list, "length", "options.protocols.length")?;
    let Some(length) = length.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0) else {
        return Err(type_error(&format!(
            "options.protocols.length must be a whole number, not {}",
            describe_value(&length)
        )));
    };
    if length > MAX_PROTOCOLS {
        return Err(range_error(&format!(
            "options.protocols has {length} entries, more than the {MAX_PROTOCOLS} allowed"
        )));
    }
    let mut names = Vec::new();
    for index in 0..length as u32 {
        let item = Reflect::get(list, &JsValue::from(index)).map_err(|thrown| {
            type_error(&format!(
                "options.protocols could not be read: {}",
                thrown_text(&thrown)
            ))
        })?;
        match checked_string(&item, "options.protocols entry")? {
            Some(name) => names.push(name),
            None => {
                return Err(type_error(&format!(
                    "options.protocols must contain only strings, not {}",
                    describe(&item)
                )))
            }
        }
    }
    Ok(names)
}

/// A value as JS would print it in an error message (`1.5`, `NaN`, `"text"`).
fn describe_value(value: &JsValue) -> String {
    if value.is_string() {
        return match short_string(value) {
            Some(text) => format!("{text:?}"),
            None => "a long string".into(),
        };
    }
    if value.as_f64().is_some() {
        if let Ok(text) = js_sys::Number::unchecked_from_js_ref(value).to_string_with_radix(10) {
            return String::from(text);
        }
    }
    describe(value)
}

/// Validates `close(code, reason)`. A number that is not a valid close code gives
/// `InvalidCloseCode`, whatever it is (negative, fractional, NaN, above 65535).
fn close_args_from_js(code: &JsValue, reason: &JsValue) -> Result<(CloseCode, String), JsValue> {
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
fn invalid_close_code(code: &JsValue, number: f64) -> JsValue {
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_websocket::State;

    #[test]
    fn variant_names() {
        let event = CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        };
        for (error, name) in [
            (
                Error::InvalidUrl {
                    url: "x".into(),
                    message: "m".into(),
                },
                "InvalidUrl",
            ),
            (
                Error::InvalidProtocol {
                    protocol: "a b".into(),
                    message: "m".into(),
                },
                "InvalidProtocol",
            ),
            (
                Error::Security {
                    message: "m".into(),
                },
                "Security",
            ),
            (Error::ConnectFailed(event.clone()), "ConnectFailed"),
            (Error::Timeout, "Timeout"),
            (Error::InvalidCloseCode(1001), "InvalidCloseCode"),
            (Error::ReasonTooLong { len: 124 }, "ReasonTooLong"),
            (Error::NotOpen(State::Closed), "NotOpen"),
            (Error::ConnectionLost(event), "ConnectionLost"),
            (
                Error::Js {
                    name: "TypeError".into(),
                    message: "m".into(),
                },
                "Js",
            ),
        ] {
            assert_eq!(variant_name(&error), name);
        }
    }

    #[test]
    fn state_names() {
        for (state, name) in [
            (State::Connecting, "connecting"),
            (State::Open, "open"),
            (State::Closing, "closing"),
            (State::Closed, "closed"),
        ] {
            assert_eq!(state.as_str(), name);
        }
    }

    #[test]
    fn line_serves_in_order_and_skips_the_gone() {
        let line = Rc::new(Line::default());
        let a = Line::join(&line);
        let b = Line::join(&line);
        let c = Line::join(&line);
        let waker = NOOP_WAKER.with(Waker::clone);
        let mut cx = Context::from_waker(&waker);
        let ready = |t: &Ticket, cx: &mut Context<'_>| {
            let mut turn = Box::pin(t.turn());
            turn.as_mut().poll(cx).is_ready()
        };
        assert!(ready(&a, &mut cx));
        assert!(!ready(&b, &mut cx));
        assert!(!ready(&c, &mut cx));
        drop(b); // gone before its turn: c still waits for a
        assert!(!ready(&c, &mut cx));
        drop(a);
        assert!(ready(&c, &mut cx));
        drop(c);
        assert!(line.inner.borrow().slots.is_empty());
        let d = Line::join(&line);
        assert!(ready(&d, &mut cx));
    }
}
