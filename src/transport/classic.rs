//! The classic event-based browser
//! [`WebSocket`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket).

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{ArrayBuffer, JsString, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, MessageEvent};

use super::drain;
use crate::close_event::CloseEvent;
use crate::core::connection::{Connection, Transport};
use crate::core::queue::{Incoming, PendingRead};
use crate::error::{from_constructor, from_js, Error};
use crate::listeners::Listener;
use crate::message::{bytes_of, BinaryType, Message};
use crate::state::State;
use crate::timer::Timer;

/// Starts reading a `Blob` message: `None` if `data` is not a Blob, `Err` with its size
/// if it passes `limit` (then nothing is read). Reached only through a function pointer
/// that `Builder::binary_type` stores for [`BinaryType::Blob`], so programs that keep
/// `ArrayBuffer` link none of it.
pub(crate) type ReadBlob = fn(&JsValue, Option<usize>) -> Option<Result<Incoming, usize>>;

pub(crate) fn read_blob(data: &JsValue, limit: Option<usize>) -> Option<Result<Incoming, usize>> {
    let blob = data.dyn_ref::<Blob>()?;
    let size = blob.size() as usize;
    if limit.is_some_and(|limit| size > limit) {
        return Some(Err(size));
    }
    let read = JsFuture::from(blob.array_buffer());
    let read: PendingRead = Box::pin(async move {
        read.await
            .map(|buffer| Message::Binary(bytes_of(&Uint8Array::new(&buffer))))
            .map_err(from_js)
    });
    Some(Ok(Incoming::Pending(read, size)))
}

/// Refuses a text or `ArrayBuffer` message that alone passes `limit` bytes, before it is
/// copied, reporting it to `connection`; returns whether it did. (For text, the UTF-16
/// length is compared: UTF-8 takes at least one byte per unit, so it never overstates.)
/// Reached only through a function pointer that `Builder::max_queued` stores, so programs
/// without a receive limit read no sizes.
pub(crate) type Refuse = fn(&JsValue, usize, &Connection) -> bool;

pub(crate) fn refuse(data: &JsValue, limit: usize, connection: &Connection) -> bool {
    let size = if let Some(text) = data.dyn_ref::<JsString>() {
        text.length() as usize
    } else if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
        buffer.byte_length() as usize
    } else {
        return false;
    };
    if size > limit {
        connection.on_refused(size);
    }
    size > limit
}

/// The receive queue's byte limit, and the check that enforces it.
pub(crate) type ByteLimit = Option<(usize, Refuse)>;

#[derive(Default)]
struct Listeners {
    open: Option<Listener>,
    message: Option<Listener>,
    error: Option<Listener>,
    close: Option<Listener>,
    /// The check an `error` event schedules (see `Dispatch::on_error`).
    error_check: Option<Timer>,
}

/// What the listeners need; shared by the four of them.
struct Dispatch {
    ws: web_sys::WebSocket,
    connection: Weak<Connection>,
    listeners: Weak<RefCell<Listeners>>,
    read_blob: Option<ReadBlob>,
    byte_limit: ByteLimit,
}

pub(crate) struct Classic {
    ws: web_sys::WebSocket,
    listeners: Rc<RefCell<Listeners>>,
    read_blob: Option<ReadBlob>,
    byte_limit: ByteLimit,
}

impl Classic {
    /// Calls the browser's constructor.
    pub(crate) fn open(
        url: &str,
        protocols: &[String],
        binary_type: BinaryType,
        read_blob: Option<ReadBlob>,
        byte_limit: ByteLimit,
    ) -> Result<Classic, Error> {
        let ws = match protocols {
            [] => web_sys::WebSocket::new(url),
            [one] => web_sys::WebSocket::new_with_str(url, one),
            many => {
                let list: js_sys::Array = many.iter().map(|p| JsValue::from_str(p)).collect();
                web_sys::WebSocket::new_with_str_sequence(url, &list)
            }
        }
        .map_err(|e| from_constructor(e, url))?;
        ws.set_binary_type(match binary_type {
            BinaryType::ArrayBuffer => web_sys::BinaryType::Arraybuffer,
            BinaryType::Blob => web_sys::BinaryType::Blob,
        });
        Ok(Classic {
            ws,
            listeners: Rc::default(),
            read_blob,
            byte_limit,
        })
    }
}

impl Dispatch {
    fn dispatch(&self, kind: &str, event: JsValue) {
        let Some(connection) = self.connection.upgrade() else {
            return;
        };
        match kind {
            "message" => self.on_message(&connection, event.unchecked_ref()),
            "open" => connection.on_open(),
            "error" => self.on_error(),
            _ => connection.on_close(CloseEvent::from_event(event.unchecked_ref())),
        }
    }

    /// Copies the message into wasm memory, unless it alone passes the receive queue's
    /// byte limit: then it is never copied, so one oversized message cannot exhaust
    /// memory.
    fn on_message(&self, connection: &Connection, event: &MessageEvent) {
        let data = event.data();
        if let Some((limit, refuse)) = self.byte_limit {
            if refuse(&data, limit, connection) {
                return;
            }
        }
        let item = if let Some(text) = data.as_string() {
            Incoming::Ready(Ok(Message::Text(text)))
        } else if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
            Incoming::Ready(Ok(Message::Binary(bytes_of(&Uint8Array::new(buffer)))))
        } else {
            let limit = self.byte_limit.map(|(limit, _)| limit);
            match self.read_blob.and_then(|read_blob| read_blob(&data, limit)) {
                Some(Ok(item)) => item,
                Some(Err(size)) => return connection.on_refused(size),
                None => Incoming::Ready(Err(Error::Js {
                    name: "TypeError".into(),
                    message: "unsupported message data".into(),
                })),
            }
        };
        connection.on_message(item);
    }

    /// Browsers fire `close` right after `error`, in the same task, except WebKit for a
    /// blocked port (e.g. 1): there readyState becomes CLOSED after `error` and `close`
    /// never comes. One zero-delay task later, a socket that is CLOSED gets the 1006 close
    /// every other browser reports (the connection ignores it if `close` came).
    fn on_error(&self) {
        let Some(listeners) = self.listeners.upgrade() else {
            return;
        };
        let ws = self.ws.clone();
        let connection = self.connection.clone();
        let check = Timer::once(0, move || {
            if let Some(connection) = connection.upgrade() {
                if State::from_ready_state(ws.ready_state()) == State::Closed {
                    connection.on_close(CloseEvent {
                        code: 1006,
                        reason: String::new(),
                        was_clean: false,
                    });
                }
            }
        });
        listeners.borrow_mut().error_check = Some(check);
    }
}

impl Transport for Classic {
    fn attach(&self, connection: &Weak<Connection>) {
        let dispatch = Rc::new(Dispatch {
            ws: self.ws.clone(),
            connection: connection.clone(),
            listeners: Rc::downgrade(&self.listeners),
            read_blob: self.read_blob,
            byte_limit: self.byte_limit,
        });
        let target: &web_sys::EventTarget = self.ws.as_ref();
        // One closure type for all four events (the kind is data, not type), so the
        // closure glue is generated once.
        let listen = |kind: &'static str| {
            let dispatch = dispatch.clone();
            Listener::new(target, kind, move |event: JsValue| {
                dispatch.dispatch(kind, event)
            })
        };
        *self.listeners.borrow_mut() = Listeners {
            open: Some(listen("open")),
            message: Some(listen("message")),
            error: Some(listen("error")),
            close: Some(listen("close")),
            error_check: None,
        };
    }

    fn state(&self) -> State {
        State::from_ready_state(self.ws.ready_state())
    }

    fn url(&self) -> String {
        self.ws.url()
    }

    fn protocol(&self) -> String {
        self.ws.protocol()
    }

    fn extensions(&self) -> String {
        self.ws.extensions()
    }

    fn binary_type(&self) -> BinaryType {
        if self.ws.binary_type() == web_sys::BinaryType::Blob {
            BinaryType::Blob
        } else {
            BinaryType::ArrayBuffer
        }
    }

    fn buffered_amount(&self) -> u64 {
        u64::from(self.ws.buffered_amount())
    }

    fn send(&self, message: &Message) -> Result<(), Error> {
        match message {
            Message::Text(text) => self.ws.send_with_str(text),
            Message::Binary(bytes) => self.ws.send_with_u8_array(bytes),
        }
        .map_err(from_js)
    }

    fn close(&self, code: u16, reason: &str) -> Result<(), Error> {
        self.ws
            .close_with_code_and_reason(code, reason)
            .map_err(from_js)
    }

    fn watch_drain(&self, connection: &Weak<Connection>) {
        drain::watch(connection.clone());
    }

    fn release(&self, keep_close: bool) {
        let released = {
            let mut listeners = self.listeners.borrow_mut();
            let open = listeners.open.take();
            let message = listeners.message.take();
            if keep_close {
                (open, message, None, None, None)
            } else {
                (
                    open,
                    message,
                    listeners.error.take(),
                    listeners.close.take(),
                    listeners.error_check.take(),
                )
            }
        };
        drop(released);
    }
}
