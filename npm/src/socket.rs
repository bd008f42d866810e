//! The `Socket` class: a connected WebSocket for JS users, over the crate's `WebSocket`.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_websocket::{BinaryType, Handle, WebSocket};

use crate::classes::{brand, prepare_class};
use crate::convert::{binary_type_name, close_result, error_to_js};
use crate::io::{eager, Io};
use crate::options::{builder_from_js, close_args_from_js, SocketOptions};

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
    /// `None` only in the instance made at start-up to reach the class's prototype.
    core: Option<Rc<Core>>,
}

/// What a `Socket` and its pending promises share.
#[derive(Debug)]
struct Core {
    io: Rc<Io<WebSocket>>,
    handle: Handle,
    high_water_mark: usize,
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
        let SocketOptions {
            builder,
            high_water_mark,
            pending,
            ..
        } = match builder_from_js(&url, &options) {
            Ok(options) => options,
            Err(error) => return Promise::reject(&error),
        };
        let connect = builder.connect();
        eager(async move {
            let ws = connect.await.map_err(|e| error_to_js(&e))?;
            let closed = ws.handle().closed();
            let socket = Socket {
                core: Some(Rc::new(Core {
                    handle: ws.handle(),
                    io: Rc::new(Io::new(ws, pending)),
                    high_water_mark,
                    closed: RefCell::new(None),
                })),
            };
            let value = JsValue::from(socket);
            brand(&value, "Socket");
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
        match &self.core {
            Some(core) => core.io.send(&data, |_| JsValue::UNDEFINED),
            None => freed(),
        }
    }

    /// Resolves once everything sent so far has been handed to the network
    /// (`bufferedAmount` is 0). Rejects with `NotOpen` if the socket closes first.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn flush(&self) -> Promise {
        match &self.core {
            Some(core) => core.io.flush(),
            None => freed(),
        }
    }

    /// Receives the next message (the async iterator protocol): `{ value, done: false }` for
    /// a message, `{ value: undefined, done: true }` once the connection has closed cleanly
    /// and every received message has been taken. After an unclean close it rejects once
    /// with `ConnectionLost`, then reports `done`. Concurrent calls resolve in call order.
    #[wasm_bindgen(unchecked_return_type = "Promise<IteratorResult<Message, undefined>>")]
    pub fn next(&self) -> Promise {
        match &self.core {
            Some(core) => core.io.next(),
            None => freed(),
        }
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
        let Some(core) = &self.core else {
            return freed();
        };
        let closing = core.handle.close(code, &reason);
        eager(async move {
            let event = closing.await.map_err(|e| error_to_js(&e))?;
            Ok(close_result(&event))
        })
    }

    /// Resolves with `{ code, reason, wasClean }` once the connection has closed, for
    /// whatever reason. Never rejects; every read returns the same promise.
    #[wasm_bindgen(getter, unchecked_return_type = "Promise<CloseResult>")]
    pub fn closed(&self) -> Promise {
        let Some(core) = &self.core else {
            return freed();
        };
        let mut slot = core.closed.borrow_mut();
        slot.get_or_insert_with(|| {
            let closed = core.handle.closed();
            eager(async move { Ok(close_result(&closed.await)) })
        })
        .clone()
    }

    /// `"connecting"`, `"open"`, `"closing"` or `"closed"`: the browser's `readyState` now.
    #[wasm_bindgen(getter, unchecked_return_type = "SocketState")]
    pub fn state(&self) -> String {
        self.core.as_ref().map_or_else(
            || "closed".to_owned(),
            |core| core.handle.state().as_str().to_owned(),
        )
    }

    /// Bytes queued by `send` and not yet handed to the network.
    #[wasm_bindgen(getter, js_name = bufferedAmount)]
    pub fn buffered_amount(&self) -> f64 {
        self.core
            .as_ref()
            .map_or_else(|| 0.0, |core| core.handle.buffered_amount() as f64)
    }

    /// The high-water mark this socket was opened with, in bytes.
    #[wasm_bindgen(getter, js_name = highWaterMark)]
    pub fn high_water_mark(&self) -> f64 {
        self.core
            .as_ref()
            .map_or_else(|| 0.0, |core| core.high_water_mark as f64)
    }

    /// The subprotocol the server selected, `""` if none.
    #[wasm_bindgen(getter)]
    pub fn protocol(&self) -> String {
        self.core
            .as_ref()
            .map_or_else(String::new, |core| core.handle.protocol())
    }

    /// The extensions the server accepted (e.g. `"permessage-deflate"`), `""` if none.
    #[wasm_bindgen(getter)]
    pub fn extensions(&self) -> String {
        self.core
            .as_ref()
            .map_or_else(String::new, |core| core.handle.extensions())
    }

    /// The URL the browser resolved (absolute, `ws:` or `wss:`).
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.core
            .as_ref()
            .map_or_else(String::new, |core| core.handle.url())
    }

    /// `"arraybuffer"` or `"blob"`, as chosen at connect time.
    #[wasm_bindgen(getter, js_name = binaryType, unchecked_return_type = "BinaryType")]
    pub fn binary_type(&self) -> String {
        let binary_type = self
            .core
            .as_ref()
            .and_then(|core| core.io.with_ws(|ws| ws.binary_type()).ok())
            // Unreachable in practice: the socket is only borrowed inside a poll.
            .unwrap_or(BinaryType::ArrayBuffer);
        binary_type_name(binary_type).to_owned()
    }
}

/// The members of `Socket` that return a promise: for a foreign `this` they reject (see
/// [`crate::classes`]).
const GUARDED: &[&str] = &["send", "flush", "next", "close", "closed"];

/// Guards the methods of the `Socket` class and installs its async iterator, through an
/// instance made for this alone.
pub(crate) fn prepare() {
    prepare_class(&JsValue::from(Socket { core: None }), "Socket", GUARDED);
}

/// What the start-up instance answers (the guard keeps JS callers away from it).
fn freed() -> Promise {
    Promise::reject(&crate::convert::type_error("the Socket was freed"))
}
