//! The `WebSocketStream` backend: receive flow control that reaches the network.
//!
//! With the classic `WebSocket` the browser delivers every message as soon as it arrives,
//! whether or not anyone reads it. `WebSocketStream` (Chromium today; web-sys has no
//! binding, so it is declared here) exposes the connection as a `ReadableStream`: this
//! backend calls `read()` only while the Rust stream is polled, so a slow consumer stops
//! reading from the socket and TCP backpressure reaches the server.
//!
//! Promise outcomes are awaited through `JsFuture`s, which own their callbacks until the
//! promise settles: a promise settling after the socket was dropped finds only a dead
//! `Weak` and does nothing, and never calls a freed closure.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::close_event::CloseEvent;
use crate::core::connection::{Connection, Transport};
use crate::error::{from_constructor, from_js, Error};
use crate::listeners::LiveToken;
use crate::message::{bytes_of, BinaryType, Message};
use crate::state::State;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = WebSocketStream)]
    type JsWebSocketStream;
    #[wasm_bindgen(constructor, js_class = "WebSocketStream", catch)]
    fn new(url: &str, options: &JsValue) -> Result<JsWebSocketStream, JsValue>;
    #[wasm_bindgen(method, getter)]
    fn url(this: &JsWebSocketStream) -> String;
    #[wasm_bindgen(method, getter)]
    fn opened(this: &JsWebSocketStream) -> Promise;
    #[wasm_bindgen(method, getter)]
    fn closed(this: &JsWebSocketStream) -> Promise;
    #[wasm_bindgen(method, catch)]
    fn close(this: &JsWebSocketStream, info: &JsValue) -> Result<(), JsValue>;

    type JsReadable;
    #[wasm_bindgen(method, js_name = getReader)]
    fn get_reader(this: &JsReadable) -> JsReader;
    type JsReader;
    #[wasm_bindgen(method)]
    fn read(this: &JsReader) -> Promise;

    type JsWritable;
    #[wasm_bindgen(method, js_name = getWriter)]
    fn get_writer(this: &JsWritable) -> JsWriter;
    type JsWriter;
    #[wasm_bindgen(method)]
    fn write(this: &JsWriter, chunk: &JsValue) -> Promise;
}

fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Whether this browser (or worker) has `WebSocketStream`.
fn available() -> bool {
    Reflect::has(&js_sys::global(), &JsValue::from_str("WebSocketStream")).unwrap_or(false)
}

type OpenFn = fn(&str, &[String]) -> Result<Box<dyn Transport>, Error>;

/// The backend's entry points, handed out only by `Builder::backend` and
/// `set_default_backend` (see `socket/builder.rs`), so a program that never asks for this
/// backend links none of its code.
#[derive(Clone, Copy)]
pub(crate) struct StreamSupport {
    pub(crate) available: fn() -> bool,
    pub(crate) open: OpenFn,
}

impl std::fmt::Debug for StreamSupport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamSupport")
    }
}

pub(crate) const SUPPORT: StreamSupport = StreamSupport {
    available,
    open: |url, protocols| {
        let stream = Stream::new(url, protocols).map_err(|e| from_constructor(e, url))?;
        Ok(Box::new(stream))
    },
};

/// What the promise callbacks update; they hold it weakly, so a promise settling after
/// the socket was dropped does nothing.
struct Shared {
    state: Cell<State>,
    reader: RefCell<Option<JsReader>>,
    writer: RefCell<Option<JsWriter>>,
    protocol: RefCell<String>,
    extensions: RefCell<String>,
    /// Bytes handed to `write()` whose promise has not fulfilled: this backend's
    /// `bufferedAmount`. Like the browser's, it does not fall for writes that failed.
    outstanding: Cell<u64>,
    /// Set by `attach`.
    connection: RefCell<Weak<Connection>>,
}

pub(crate) struct Stream {
    wss: JsWebSocketStream,
    shared: Rc<Shared>,
    /// The `read()` in flight, polled by the Rust stream.
    read: RefCell<Option<JsFuture>>,
    /// The read in flight was started by the idle probe, not by a waiting consumer (so
    /// polling it with a no-op waker steals no task's wake-up).
    probing: Cell<bool>,
    /// A message the probe read, held for the consumer.
    prefetched: RefCell<Option<Result<Message, Error>>>,
    /// The readable has ended (done or errored): only the close is left.
    exhausted: Cell<bool>,
    /// Counts this socket's promise watchers in `live_listeners`.
    _live: LiveToken,
}

impl Stream {
    /// Calls the constructor; `SyntaxError` for a bad URL, like the classic one.
    fn new(url: &str, protocols: &[String]) -> Result<Self, JsValue> {
        let options = Object::new();
        if !protocols.is_empty() {
            let list: Array = protocols.iter().map(|p| JsValue::from_str(p)).collect();
            Reflect::set(&options, &JsValue::from_str("protocols"), &list)?;
        }
        Ok(Stream {
            wss: JsWebSocketStream::new(url, &options)?,
            shared: Rc::new(Shared {
                state: Cell::new(State::Connecting),
                reader: RefCell::new(None),
                writer: RefCell::new(None),
                protocol: RefCell::new(String::new()),
                extensions: RefCell::new(String::new()),
                outstanding: Cell::new(0),
                connection: RefCell::new(Weak::new()),
            }),
            read: RefCell::new(None),
            probing: Cell::new(false),
            prefetched: RefCell::new(None),
            exhausted: Cell::new(false),
            _live: LiveToken::new(),
        })
    }
}

impl Shared {
    fn connection(&self) -> Option<Rc<Connection>> {
        self.connection.borrow().upgrade()
    }

    /// Takes what `opened` fulfilled with. A connection already closing stays closing and
    /// is never reported open: it ends like a classic socket closed while connecting.
    fn on_opened(&self, info: &JsValue) {
        let readable: JsReadable = field(info, "readable").unchecked_into();
        let writable: JsWritable = field(info, "writable").unchecked_into();
        *self.reader.borrow_mut() = Some(readable.get_reader());
        *self.writer.borrow_mut() = Some(writable.get_writer());
        *self.protocol.borrow_mut() = field(info, "protocol").as_string().unwrap_or_default();
        *self.extensions.borrow_mut() = field(info, "extensions").as_string().unwrap_or_default();
        if self.state.get() == State::Connecting {
            self.state.set(State::Open);
            let connection = self.connection();
            if let Some(connection) = connection {
                connection.on_open();
            }
        }
    }
}

fn close_event(outcome: Result<JsValue, JsValue>) -> CloseEvent {
    let (info, was_clean, default_code) = match &outcome {
        Ok(info) => (info, true, 1005),
        Err(error) => (error, false, 1006),
    };
    CloseEvent {
        code: field(info, "closeCode")
            .as_f64()
            .map_or(default_code, |c| c as u16),
        reason: field(info, "reason").as_string().unwrap_or_default(),
        was_clean,
    }
}

impl Transport for Stream {
    /// Watches the `opened` and `closed` promises, reporting to the connection.
    fn attach(&self, connection: &Weak<Connection>) {
        *self.shared.connection.borrow_mut() = connection.clone();
        let opened = JsFuture::from(self.wss.opened());
        let shared = Rc::downgrade(&self.shared);
        spawn_local(async move {
            // A rejected `opened` is followed by a rejected `closed`, handled below.
            if let Ok(info) = opened.await {
                if let Some(shared) = shared.upgrade() {
                    shared.on_opened(&info);
                }
            }
        });
        let closed = JsFuture::from(self.wss.closed());
        let shared = Rc::downgrade(&self.shared);
        spawn_local(async move {
            let event = close_event(closed.await);
            if let Some(shared) = shared.upgrade() {
                shared.state.set(State::Closed);
                let connection = shared.connection();
                if let Some(connection) = connection {
                    connection.on_close(event);
                }
            }
        });
    }

    fn state(&self) -> State {
        self.shared.state.get()
    }

    fn url(&self) -> String {
        self.wss.url()
    }

    fn protocol(&self) -> String {
        self.shared.protocol.borrow().clone()
    }

    fn extensions(&self) -> String {
        self.shared.extensions.borrow().clone()
    }

    fn binary_type(&self) -> BinaryType {
        BinaryType::ArrayBuffer
    }

    fn buffered_amount(&self) -> u64 {
        self.shared.outstanding.get()
    }

    fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        let info = Object::new();
        let set = |key: &str, value: &JsValue| {
            Reflect::set(&info, &JsValue::from_str(key), value).map_err(from_js)
        };
        set("closeCode", &JsValue::from(code))?;
        set("reason", &JsValue::from_str(reason))?;
        self.wss.close(&info).map_err(from_js)?;
        if matches!(self.shared.state.get(), State::Connecting | State::Open) {
            self.shared.state.set(State::Closing);
        }
        Ok(())
    }

    /// Writes one message. The chunk is copied out of wasm memory: the stream keeps it
    /// until it is sent, and a view into wasm memory could change under it.
    fn send(&self, message: &Message) -> Result<(), Error> {
        let writer = self.shared.writer.borrow();
        let Some(writer) = writer.as_ref() else {
            return Err(Error::NotOpen(self.shared.state.get()));
        };
        let (chunk, len) = match message {
            Message::Text(text) => (JsValue::from_str(text), text.len()),
            Message::Binary(bytes) => (Uint8Array::from(bytes.as_slice()).into(), bytes.len()),
        };
        let written = JsFuture::from(writer.write(&chunk));
        let len = len as u64;
        let shared = &self.shared;
        shared.outstanding.set(shared.outstanding.get() + len);
        let shared = Rc::downgrade(shared);
        spawn_local(async move {
            if written.await.is_ok() {
                if let Some(shared) = shared.upgrade() {
                    shared
                        .outstanding
                        .set(shared.outstanding.get().saturating_sub(len));
                    let connection = shared.connection();
                    if let Some(connection) = connection {
                        connection.check_drained();
                    }
                }
            }
        });
        Ok(())
    }

    /// The message the probe held, or the next chunk.
    fn poll_read(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        if let Some(item) = self.prefetched.borrow_mut().take() {
            return Poll::Ready(Some(item));
        }
        self.probing.set(false);
        self.read_next(cx)
    }

    fn reading(&self) -> bool {
        self.read.borrow().is_some() || self.prefetched.borrow().is_some()
    }

    fn on_demand(&self) -> bool {
        true
    }

    /// Starts a read of its own while the consumer pauses, or looks whether the one it
    /// started has completed; a completed one is held for the consumer.
    fn probe(&self) -> bool {
        if self.prefetched.borrow().is_some() {
            return true;
        }
        if self.read.borrow().is_some() && !self.probing.get() {
            // The consumer waits on it, and counts what arrives.
            return false;
        }
        self.probing.set(true);
        match self.read_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Some(item)) => {
                *self.prefetched.borrow_mut() = Some(item);
                true
            }
            _ => false,
        }
    }

    /// Completed writes check the drain themselves (see `send`).
    fn watch_drain(&self, _connection: &Weak<Connection>) {}

    /// The promise callbacks hold only weak references; nothing to remove.
    fn release(&self, _keep_close: bool) {}
}

impl Stream {
    /// Polls the next chunk, starting a `read()` if none is in flight. `Ready(None)` once
    /// the readable has ended.
    fn read_next(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        if self.exhausted.get() {
            return Poll::Ready(None);
        }
        let mut read = self.read.borrow_mut();
        if read.is_none() {
            let reader = self.shared.reader.borrow();
            let Some(reader) = reader.as_ref() else {
                return Poll::Ready(None);
            };
            *read = Some(JsFuture::from(reader.read()));
        }
        let Some(pending) = read.as_mut() else {
            return Poll::Ready(None);
        };
        let result = match Pin::new(pending).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        *read = None;
        let chunk = match result {
            Ok(chunk) => chunk,
            Err(_) => {
                // The readable errored (the connection failed); `closed` tells how.
                self.exhausted.set(true);
                return Poll::Ready(None);
            }
        };
        if field(&chunk, "done").as_bool() == Some(true) {
            self.exhausted.set(true);
            return Poll::Ready(None);
        }
        let value = field(&chunk, "value");
        Poll::Ready(Some(if let Some(text) = value.as_string() {
            Ok(Message::Text(text))
        } else if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
            Ok(Message::Binary(bytes_of(bytes)))
        } else if let Some(buffer) = value.dyn_ref::<ArrayBuffer>() {
            Ok(Message::Binary(bytes_of(&Uint8Array::new(buffer))))
        } else {
            Err(from_js(JsValue::from(js_sys::TypeError::new(
                "unsupported message data from WebSocketStream",
            ))))
        }))
    }
}
