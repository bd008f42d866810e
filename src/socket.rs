use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{ready, Context, Poll, Waker};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use gloo_timers::callback::Timeout;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, MessageEvent};

use crate::builder::Builder;
use crate::builder::{default_backend, Backend};
use crate::close::check_reason;
use crate::core::keepalive::{Activity, Due, Keepalive, KeepaliveConfig};
use crate::core::waker::{store_waker, wake};
use crate::error::{from_constructor, from_js};
use crate::listeners::Listener;
use crate::message::bytes_of;
use crate::stream_backend::StreamSocket;
use crate::{BinaryType, CloseCode, CloseEvent, Error, Message, State};

/// The close code used when the receive queue overflows. 1009 (message too big) would fit,
/// but browsers refuse every code but 1000 and 3000..=4999 from pages; 4009 mirrors it.
pub const QUEUE_FULL_CODE: u16 = 4009;

/// A Blob message being read.
type BlobRead = Pin<Box<dyn Future<Output = Result<Message, Error>>>>;

/// Starts reading a `Blob` message: the read and the Blob's size, `None` if `data` is not a
/// Blob. Reached only through a function pointer that [`Builder::binary_type`] stores for
/// [`BinaryType::Blob`], so programs that keep `ArrayBuffer` link none of it.
pub(crate) type ReadBlob = fn(&JsValue) -> Option<(BlobRead, usize)>;

pub(crate) fn read_blob(data: &JsValue) -> Option<(BlobRead, usize)> {
    let blob = data.dyn_ref::<Blob>()?;
    let read = JsFuture::from(blob.array_buffer());
    let read: BlobRead = Box::pin(async move {
        read.await
            .map(|buffer| Message::Binary(bytes_of(&Uint8Array::new(&buffer))))
            .map_err(from_js)
    });
    Some((read, blob.size() as usize))
}

/// A received item waiting for `poll_next`, in wire order.
enum Incoming {
    Ready(Result<Message, Error>),
    /// A `Blob` being read, and its size; everything behind it waits, so order is kept.
    Blob(Pin<Box<dyn Future<Output = Result<Message, Error>>>>, usize),
}

impl Incoming {
    fn size(&self) -> usize {
        match self {
            Incoming::Ready(Ok(message)) => message.len(),
            Incoming::Ready(Err(_)) => 0,
            Incoming::Blob(_, size) => *size,
        }
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    queue: VecDeque<Incoming>,
    recv_waker: Option<Waker>,
    /// The task waiting in `poll_ready`, `poll_flush` or `poll_close`.
    pub(crate) sink_waker: Option<Waker>,
    /// The pending `connect` future.
    open_waker: Option<Waker>,
    /// Tasks waiting for the close event (`closed()`, `close()`).
    close_wakers: Vec<Waker>,
    opened: bool,
    timed_out: bool,
    /// Set when the idle timeout closed the socket; the stream then ends with `IdleTimeout`.
    idle: bool,
    pub(crate) activity: Activity,
    closed: Option<CloseEvent>,
    /// While the sink waits for `bufferedAmount` to fall: the level it waits for.
    pub(crate) drain_target: Option<u64>,
    /// Payload bytes in `queue` (tracked only with a `max_queued` limit).
    queued_bytes: usize,
    /// Set when the receive queue overflowed; the stream then ends with that error.
    overflow: Option<Error>,
}

/// The browser object behind a socket.
pub(crate) enum Transport {
    /// The classic event-based `WebSocket`.
    Classic(web_sys::WebSocket),
    /// `WebSocketStream`, read only while the Rust stream is polled; behind a trait object
    /// so that its code is linked only into programs that select it.
    Stream(Box<dyn StreamSocket>),
}

#[derive(Default)]
struct Listeners {
    open: Option<Listener>,
    message: Option<Listener>,
    error: Option<Listener>,
    close: Option<Listener>,
    /// The check an `error` event schedules (see `on_error`).
    error_check: Option<Timeout>,
}

/// State shared by a socket, its handles and its futures. The JS listeners hold only a
/// `Weak` to it, so there is no reference cycle and dropping the last owner frees it all.
pub(crate) struct Shared {
    pub(crate) transport: Transport,
    pub(crate) inner: RefCell<Inner>,
    listeners: RefCell<Listeners>,
    high_water_mark: u64,
    keepalive_config: KeepaliveConfig,
    keepalive: RefCell<Option<Keepalive>>,
    max_queued: Option<(usize, usize)>,
    read_blob: Option<ReadBlob>,
    /// An upper bound of `bufferedAmount`: the value last read plus the bytes sent since
    /// (only our own sends make it grow, synchronously, by their UTF-8 or byte length). While
    /// it is under the high-water mark, `poll_ready` needs no DOM read.
    buffered_bound: Cell<u64>,
}

impl Shared {
    fn new(transport: Transport, builder: &Builder) -> Rc<Self> {
        Rc::new_cyclic(|weak: &Weak<Shared>| {
            let listeners = match &transport {
                Transport::Classic(ws) => Self::listen(ws, weak),
                Transport::Stream(stream) => {
                    stream.watch(weak.clone());
                    Listeners::default()
                }
            };
            Shared {
                transport,
                inner: RefCell::new(Inner::default()),
                listeners: RefCell::new(listeners),
                high_water_mark: builder.high_water_mark as u64,
                keepalive_config: builder.keepalive.clone(),
                keepalive: RefCell::new(None),
                max_queued: builder.max_queued,
                read_blob: builder.read_blob,
                buffered_bound: Cell::new(0),
            }
        })
    }

    fn listen(ws: &web_sys::WebSocket, weak: &Weak<Shared>) -> Listeners {
        let target: &web_sys::EventTarget = ws.as_ref();
        // One closure type for all four events (the kind is data, not type), so the
        // closure glue is generated once.
        let listen = |kind: &'static str| {
            let weak = weak.clone();
            Listener::new(target, kind, move |event: JsValue| {
                if let Some(shared) = weak.upgrade() {
                    shared.dispatch(kind, event);
                }
            })
        };
        Listeners {
            open: Some(listen("open")),
            message: Some(listen("message")),
            error: Some(listen("error")),
            close: Some(listen("close")),
            error_check: None,
        }
    }

    fn dispatch(self: &Rc<Self>, kind: &str, event: JsValue) {
        match kind {
            "message" => self.on_message(event.unchecked_ref()),
            "open" => self.on_open(),
            "error" => self.on_error(),
            _ => self.on_close_event(CloseEvent::from_event(event.unchecked_ref())),
        }
    }

    /// Browsers fire `close` right after `error`, in the same task, except WebKit for a
    /// blocked port (e.g. 1): there readyState becomes CLOSED after `error` and `close` never
    /// comes. One zero-delay task later, a socket that is CLOSED without a close event gets
    /// the 1006 close every other browser reports.
    fn on_error(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let check = Timeout::new(0, move || {
            if let Some(shared) = weak.upgrade() {
                let missing = shared.inner.borrow().closed.is_none();
                if missing && shared.state() == State::Closed {
                    shared.on_close_event(CloseEvent {
                        code: 1006,
                        reason: String::new(),
                        was_clean: false,
                    });
                }
            }
        });
        self.listeners.borrow_mut().error_check = Some(check);
    }

    /// `WebSocketStream.opened` fulfilled.
    pub(crate) fn stream_opened(self: &Rc<Self>, info: &JsValue) {
        if let Transport::Stream(stream) = &self.transport {
            if stream.on_opened(info) {
                self.on_open();
            }
        }
    }

    /// A `WebSocketStream` write completed.
    pub(crate) fn stream_written(&self, len: u64) {
        if let Transport::Stream(stream) = &self.transport {
            stream.written(len);
            let waker = {
                let mut inner = self.inner.borrow_mut();
                match inner.drain_target {
                    Some(target) if stream.buffered_amount() <= target => {
                        inner.drain_target = None;
                        inner.sink_waker.take()
                    }
                    _ => None,
                }
            };
            wake(waker);
        }
    }

    fn on_open(self: &Rc<Self>) {
        if let Some(keepalive) = self.keepalive_config.start(Rc::downgrade(self)) {
            *self.keepalive.borrow_mut() = Some(keepalive);
        }
        let (sink, open, recv) = {
            let mut inner = self.inner.borrow_mut();
            inner.opened = true;
            (
                inner.sink_waker.take(),
                inner.open_waker.take(),
                inner.recv_waker.take(),
            )
        };
        wake(sink);
        wake(open);
        wake(recv);
    }

    fn on_message(&self, event: &MessageEvent) {
        let data = event.data();
        let item = if let Some(text) = data.as_string() {
            Incoming::Ready(Ok(Message::Text(text)))
        } else if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
            Incoming::Ready(Ok(Message::Binary(bytes_of(&Uint8Array::new(buffer)))))
        } else if let Some((read, size)) = self.read_blob.and_then(|read_blob| read_blob(&data)) {
            Incoming::Blob(read, size)
        } else {
            Incoming::Ready(Err(Error::Js {
                name: "TypeError".into(),
                message: "unsupported message data".into(),
            }))
        };
        let (overflowed, waker) = {
            let mut inner = self.inner.borrow_mut();
            if inner.overflow.is_some() {
                // Already closing for overflow; the browser may still deliver a few.
                return;
            }
            let size = item.size();
            inner.queue.push_back(item);
            inner.activity.received += 1;
            let overflowed = match self.max_queued {
                Some((messages, bytes)) => {
                    inner.queued_bytes += size;
                    if inner.queue.len() > messages || inner.queued_bytes > bytes {
                        inner.overflow = Some(Error::ReceiveQueueFull {
                            messages: inner.queue.len(),
                            bytes: inner.queued_bytes,
                        });
                        true
                    } else {
                        false
                    }
                }
                None => false,
            };
            (overflowed, inner.recv_waker.take())
        };
        if overflowed {
            let _ = self.raw_close(QUEUE_FULL_CODE, "receive queue full");
        }
        wake(waker);
    }

    pub(crate) fn on_close_event(&self, event: CloseEvent) {
        if self.inner.borrow().closed.is_some() {
            return;
        }
        if let Transport::Stream(stream) = &self.transport {
            stream.on_closed();
        }
        let keepalive = self.keepalive.borrow_mut().take();
        drop(keepalive);
        let wakers = {
            let mut inner = self.inner.borrow_mut();
            inner.closed = Some(event);
            let mut wakers = std::mem::take(&mut inner.close_wakers);
            wakers.extend(inner.recv_waker.take());
            wakers.extend(inner.sink_waker.take());
            wakers.extend(inner.open_waker.take());
            wakers
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    pub(crate) fn state(&self) -> State {
        match &self.transport {
            Transport::Classic(ws) => State::from_ready_state(ws.ready_state()),
            Transport::Stream(stream) => stream.state(),
        }
    }

    /// Reads `bufferedAmount`, which also tightens the bound `poll_ready` checks first.
    pub(crate) fn buffered_now(&self) -> u64 {
        let buffered = self.buffered_amount();
        self.buffered_bound.set(buffered);
        buffered
    }

    pub(crate) fn buffered_amount(&self) -> u64 {
        match &self.transport {
            Transport::Classic(ws) => u64::from(ws.buffered_amount()),
            Transport::Stream(stream) => stream.buffered_amount(),
        }
    }

    fn url(&self) -> String {
        match &self.transport {
            Transport::Classic(ws) => ws.url(),
            Transport::Stream(stream) => stream.url(),
        }
    }

    fn protocol(&self) -> String {
        match &self.transport {
            Transport::Classic(ws) => ws.protocol(),
            Transport::Stream(stream) => stream.protocol(),
        }
    }

    fn extensions(&self) -> String {
        match &self.transport {
            Transport::Classic(ws) => ws.extensions(),
            Transport::Stream(stream) => stream.extensions(),
        }
    }

    fn raw_close(&self, code: u16, reason: &str) -> Result<(), JsValue> {
        match &self.transport {
            Transport::Classic(ws) => ws.close_with_code_and_reason(code, reason),
            Transport::Stream(stream) => stream.close(code, reason),
        }
    }

    /// Starts the closing handshake unless one has already started.
    fn start_close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        check_reason(reason)?;
        if let State::Connecting | State::Open = self.state() {
            self.raw_close(code.get(), reason).map_err(from_js)?;
            // A sender waiting for the open or for a drain must now fail with `NotOpen`.
            let waker = {
                let mut inner = self.inner.borrow_mut();
                inner.drain_target = None;
                inner.sink_waker.take()
            };
            wake(waker);
        }
        Ok(())
    }

    fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        let mut inner = self.inner.borrow_mut();
        if let Some(event) = &inner.closed {
            return Poll::Ready(event.clone());
        }
        if !inner.close_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            inner.close_wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Waits until `bufferedAmount` is at most `target`; see `drain.rs` for the schedule.
    fn poll_drained(self: &Rc<Self>, target: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.buffered_bound.get() <= target || self.buffered_now() <= target {
            return Poll::Ready(());
        }
        self.wait_drained(target, cx);
        Poll::Pending
    }

    /// Has the sender woken once `bufferedAmount` is at most `target`, which the caller has
    /// just read to be above it (it cannot change within the same task).
    fn wait_drained(self: &Rc<Self>, target: u64, cx: &mut Context<'_>) {
        {
            let mut inner = self.inner.borrow_mut();
            store_waker(&mut inner.sink_waker, cx.waker());
            if inner.drain_target.is_some() {
                // Already watched (see `drain.rs`); a lower level is checked from now on.
                inner.drain_target = inner.drain_target.map(|t| t.min(target));
                return;
            }
            inner.drain_target = Some(target);
        }
        if let Transport::Stream(_) = self.transport {
            // Completed writes wake the sender (`stream_written`).
            return;
        }
        crate::drain::watch(Rc::downgrade(self));
    }

    fn send(self: &Rc<Self>, message: &Message) -> Result<(), Error> {
        match self.state() {
            State::Open => {}
            state => return Err(Error::NotOpen(state)),
        }
        match &self.transport {
            Transport::Classic(ws) => match message {
                Message::Text(text) => ws.send_with_str(text),
                Message::Binary(bytes) => ws.send_with_u8_array(bytes),
            }
            .map_err(from_js)?,
            Transport::Stream(stream) => stream.send(message, Rc::downgrade(self))?,
        }
        self.buffered_bound.set(
            self.buffered_bound
                .get()
                .saturating_add(message.len() as u64),
        );
        self.inner.borrow_mut().activity.sent += 1;
        Ok(())
    }

    /// One keepalive tick (see `keepalive.rs`).
    pub(crate) fn keepalive_tick(self: &Rc<Self>) {
        let due = self
            .inner
            .borrow_mut()
            .activity
            .tick(&self.keepalive_config);
        match due {
            Due::Nothing => {}
            Due::Heartbeat => {
                if let Some((_, message)) = &self.keepalive_config.heartbeat {
                    if self.buffered_amount() == 0 {
                        // A failed heartbeat is not the caller's data; the close event
                        // that follows tells the story.
                        let _ = self.send(message);
                    }
                }
            }
            Due::Idle => {
                let waker = {
                    let mut inner = self.inner.borrow_mut();
                    inner.idle = true;
                    inner.recv_waker.take()
                };
                // Dropping the interval from its own callback is allowed (see drain.rs).
                let keepalive = self.keepalive.borrow_mut().take();
                drop(keepalive);
                let _ = self.start_close(CloseCode::NORMAL, "idle timeout");
                wake(waker);
            }
        }
    }

    /// Removes the listeners of a socket whose owner went away. The close listener stays
    /// while handles or close futures may still wait for the close event.
    fn release(&self, keep_close_listener: bool) {
        let released = {
            let mut listeners = self.listeners.borrow_mut();
            let keep = keep_close_listener && self.inner.borrow().closed.is_none();
            (
                listeners.open.take(),
                listeners.message.take(),
                if keep { None } else { listeners.error.take() },
                if keep { None } else { listeners.close.take() },
                if keep {
                    None
                } else {
                    listeners.error_check.take()
                },
            )
        };
        drop(released);
        let keepalive = self.keepalive.borrow_mut().take();
        drop(keepalive);
        let queue = {
            let mut inner = self.inner.borrow_mut();
            inner.recv_waker = None;
            inner.sink_waker = None;
            inner.open_waker = None;
            inner.drain_target = None;
            std::mem::take(&mut inner.queue)
        };
        drop(queue);
    }
}

/// A browser WebSocket connection as a [`Stream`] of received messages and a [`Sink`] of
/// messages to send.
///
/// - **Stream**: yields `Ok(Message)` in wire order, in both [binary types](BinaryType).
///   After the close event it yields the messages already received, then ends: `None`
///   after a clean close, or one `Err(`[`Error::ConnectionLost`]`)` and then `None` after
///   an unclean one (code 1006 and the like); then it stays terminated. A socket that
///   never opened ends with [`Error::ConnectFailed`] instead.
/// - **Sink**: `poll_ready` waits while the socket is connecting and while
///   [`buffered_amount`](WebSocket::buffered_amount) is above the
///   [high-water mark](Builder::high_water_mark); it fails with [`Error::NotOpen`] once the
///   socket is closing or closed (the browser itself would silently drop the data).
///   `poll_flush` waits until `buffered_amount` is 0, failing with [`Error::NotOpen`] if
///   the socket closes first. `poll_close` closes with code 1000 and resolves on the close
///   event.
/// - **Drop** closes the connection with 1000 if it is still open, and removes every JS
///   listener: no callback runs after the drop. (The close listener alone stays while a
///   [`Handle`] or close future still waits for the close event.)
///
/// The inherent [`close`](WebSocket::close) shadows `SinkExt::close`; call the latter as
/// `SinkExt::close(&mut ws)`. Beware the reverse on a `&mut WebSocket` (e.g. from
/// `iter_mut`): there method syntax finds `SinkExt::close` first, so write
/// `WebSocket::close(ws, code, reason)`.
pub struct WebSocket {
    shared: Rc<Shared>,
    /// Set once the stream has yielded its end.
    terminated: bool,
    /// How `into_io` treats text messages (feature `io`, see `src/io.rs`).
    #[cfg(feature = "io")]
    pub(crate) io_text: crate::TextPolicy,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.shared.url())
            .field("state", &self.state())
            .finish()
    }
}

impl WebSocket {
    /// Connects to `url` with default settings, resolving once the socket is open.
    ///
    /// Relative and `http(s)` URLs resolve against the page (or worker) the way the browser
    /// resolves them. See [`Builder::connect`] for the errors.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let ws = wasm_websocket::WebSocket::connect("wss://example.org/chat").await?;
    /// # drop(ws); Ok(()) }
    /// ```
    pub fn connect(url: impl Into<String>) -> ConnectFuture {
        Builder::new(url.into()).connect()
    }

    /// Starts configuring a connection to `url`.
    pub fn builder(url: impl Into<String>) -> Builder {
        Builder::new(url.into())
    }

    /// Creates the socket without waiting for it to open (see [`Builder::build`]).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::Security`] or [`Error::Js`] when the browser's
    /// constructor throws.
    pub fn new(url: impl Into<String>) -> Result<WebSocket, Error> {
        Builder::new(url.into()).build()
    }

    pub(crate) fn from_builder(builder: &Builder) -> Result<WebSocket, Error> {
        let url = builder.url.as_str();
        let stream = match builder.backend.unwrap_or_else(default_backend) {
            (Backend::Classic, _) | (_, None) => None,
            (Backend::Auto, Some(support)) => (support.available)().then_some(support),
            (Backend::Stream, Some(support)) if (support.available)() => Some(support),
            (Backend::Stream, Some(_)) => {
                return Err(Error::Unsupported {
                    feature: "WebSocketStream".into(),
                })
            }
        };
        if let Some(support) = stream {
            let stream =
                (support.open)(url, &builder.protocols).map_err(|e| from_constructor(e, url))?;
            return Ok(WebSocket::from_transport(
                Transport::Stream(stream),
                builder,
            ));
        }
        let ws = match builder.protocols.as_slice() {
            [] => web_sys::WebSocket::new(url),
            [one] => web_sys::WebSocket::new_with_str(url, one),
            many => {
                let list: js_sys::Array = many.iter().map(|p| JsValue::from_str(p)).collect();
                web_sys::WebSocket::new_with_str_sequence(url, &list)
            }
        }
        .map_err(|e| from_constructor(e, url))?;
        ws.set_binary_type(match builder.binary_type {
            BinaryType::ArrayBuffer => web_sys::BinaryType::Arraybuffer,
            BinaryType::Blob => web_sys::BinaryType::Blob,
        });
        Ok(WebSocket::from_transport(Transport::Classic(ws), builder))
    }

    fn from_transport(transport: Transport, builder: &Builder) -> WebSocket {
        WebSocket {
            shared: Shared::new(transport, builder),
            terminated: false,
            #[cfg(feature = "io")]
            io_text: builder.io_text,
        }
    }

    /// The URL the browser resolved (absolute, `ws:` or `wss:`).
    pub fn url(&self) -> String {
        self.shared.url()
    }

    /// The subprotocol the server selected, `""` if none.
    pub fn protocol(&self) -> String {
        self.shared.protocol()
    }

    /// The extensions the server accepted (e.g. `permessage-deflate`), `""` if none.
    pub fn extensions(&self) -> String {
        self.shared.extensions()
    }

    /// The browser's `readyState` at this moment ([`State::Closing`] as soon as a close
    /// starts).
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Bytes queued by `send` and not yet handed to the network
    /// ([`bufferedAmount`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/bufferedAmount)).
    /// It never falls after the socket has closed.
    pub fn buffered_amount(&self) -> u64 {
        self.shared.buffered_amount()
    }

    /// The binary type the socket was created with.
    pub fn binary_type(&self) -> BinaryType {
        match &self.shared.transport {
            Transport::Classic(ws) if ws.binary_type() == web_sys::BinaryType::Blob => {
                BinaryType::Blob
            }
            _ => BinaryType::ArrayBuffer,
        }
    }

    /// A cheap, cloneable handle for control and inspection, which keeps working after
    /// [`StreamExt::split`](https://docs.rs/futures/0.3/futures/stream/trait.StreamExt.html#method.split)
    /// and after the socket is dropped.
    pub fn handle(&self) -> Handle {
        Handle {
            shared: self.shared.clone(),
        }
    }

    /// Starts the closing handshake with `code` and `reason`, and resolves with the close
    /// event. While the socket is already closing or closed it starts nothing and resolves
    /// with the same event. The state is [`State::Closing`] as soon as this returns.
    ///
    /// # Errors
    /// [`Error::ReasonTooLong`] for a reason over 123 UTF-8 bytes (checked before the
    /// browser is called; nothing is started), or [`Error::Js`] if the browser throws.
    pub fn close(&self, code: CloseCode, reason: &str) -> CloseFuture {
        CloseFuture::start(&self.shared, code, reason)
    }

    /// Resolves with the close event once the connection has closed, for whatever reason.
    pub fn closed(&self) -> ClosedFuture {
        ClosedFuture {
            shared: self.shared.clone(),
        }
    }
}

impl Drop for WebSocket {
    fn drop(&mut self) {
        if matches!(self.state(), State::Connecting | State::Open) {
            let _ = self.shared.raw_close(CloseCode::NORMAL.get(), "");
        }
        self.shared.release(Rc::strong_count(&self.shared) > 1);
    }
}

impl Stream for WebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        let mut inner = this.shared.inner.borrow_mut();
        match inner.queue.front_mut() {
            Some(Incoming::Blob(read, size)) => {
                let size = *size;
                let result = ready!(read.as_mut().poll(cx));
                inner.queue.pop_front();
                inner.queued_bytes = inner.queued_bytes.saturating_sub(size);
                return Poll::Ready(Some(result));
            }
            Some(Incoming::Ready(_)) => {
                if let Some(item) = inner.queue.pop_front() {
                    inner.queued_bytes = inner.queued_bytes.saturating_sub(item.size());
                    if let Incoming::Ready(item) = item {
                        return Poll::Ready(Some(item));
                    }
                }
            }
            None => {}
        }
        if let Transport::Stream(stream) = &this.shared.transport {
            // Read from the network only now that someone asks: this is the backpressure.
            if inner.opened && inner.overflow.is_none() && !inner.idle {
                if let Some(item) = ready!(stream.poll_read(cx)) {
                    inner.activity.received += 1;
                    return Poll::Ready(Some(item));
                }
            }
        }
        if let Some(error) = inner.overflow.take() {
            this.terminated = true;
            return Poll::Ready(Some(Err(error)));
        }
        if inner.idle {
            this.terminated = true;
            return Poll::Ready(Some(Err(Error::IdleTimeout)));
        }
        if let Some(event) = &inner.closed {
            this.terminated = true;
            if event.was_clean {
                return Poll::Ready(None);
            }
            let event = event.clone();
            return Poll::Ready(Some(Err(if inner.opened {
                Error::ConnectionLost(event)
            } else {
                Error::ConnectFailed(event)
            })));
        }
        store_waker(&mut inner.recv_waker, cx.waker());
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.terminated {
            (0, Some(0))
        } else {
            (self.shared.inner.borrow().queue.len(), None)
        }
    }
}

impl FusedStream for WebSocket {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let shared = &self.shared;
        match shared.state() {
            // `readyState` and `bufferedAmount` only change between tasks, so the state
            // read above still holds when the level is reached within this same poll.
            State::Open => shared.poll_drained(shared.high_water_mark, cx).map(Ok),
            State::Connecting => {
                store_waker(&mut shared.inner.borrow_mut().sink_waker, cx.waker());
                Poll::Pending
            }
            state => Poll::Ready(Err(Error::NotOpen(state))),
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.shared.send(&item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let shared = &self.shared;
        if shared.buffered_now() == 0 {
            return Poll::Ready(Ok(()));
        }
        match shared.state() {
            State::Open => {
                shared.wait_drained(0, cx);
                Poll::Pending
            }
            state => Poll::Ready(Err(Error::NotOpen(state))),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.shared.start_close(CloseCode::NORMAL, "")?;
        self.shared.poll_closed(cx).map(|_| Ok(()))
    }
}

/// A cheap, cloneable control handle for a [`WebSocket`], from [`WebSocket::handle`].
///
/// It works after `StreamExt::split` and after the socket itself is dropped: `state()`
/// still mirrors `readyState`, and `closed()` still resolves once the close completes.
#[derive(Clone)]
pub struct Handle {
    shared: Rc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("url", &self.shared.url())
            .field("state", &self.state())
            .finish()
    }
}

impl Handle {
    /// See [`WebSocket::state`].
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// See [`WebSocket::buffered_amount`].
    pub fn buffered_amount(&self) -> u64 {
        self.shared.buffered_amount()
    }

    /// See [`WebSocket::url`].
    pub fn url(&self) -> String {
        self.shared.url()
    }

    /// See [`WebSocket::protocol`].
    pub fn protocol(&self) -> String {
        self.shared.protocol()
    }

    /// See [`WebSocket::extensions`].
    pub fn extensions(&self) -> String {
        self.shared.extensions()
    }

    /// See [`WebSocket::close`].
    ///
    /// # Errors
    /// As [`WebSocket::close`].
    pub fn close(&self, code: CloseCode, reason: &str) -> CloseFuture {
        CloseFuture::start(&self.shared, code, reason)
    }

    /// See [`WebSocket::closed`].
    pub fn closed(&self) -> ClosedFuture {
        ClosedFuture {
            shared: self.shared.clone(),
        }
    }
}

/// The future returned by [`WebSocket::close`] and [`Handle::close`]. The close has
/// already started when it is created; awaiting it waits for the close event.
#[must_use = "the close has started; await this to learn how it ended"]
pub struct CloseFuture {
    state: Result<Rc<Shared>, Option<Error>>,
}

impl CloseFuture {
    fn start(shared: &Rc<Shared>, code: CloseCode, reason: &str) -> Self {
        CloseFuture {
            state: match shared.start_close(code, reason) {
                Ok(()) => Ok(shared.clone()),
                Err(error) => Err(Some(error)),
            },
        }
    }
}

impl fmt::Debug for CloseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseFuture").finish_non_exhaustive()
    }
}

impl Future for CloseFuture {
    type Output = Result<CloseEvent, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            Ok(shared) => shared.poll_closed(cx).map(Ok),
            // A finished future polled again gets the same error again.
            Err(error) => Poll::Ready(Err(error.clone().unwrap_or(Error::NotOpen(State::Closed)))),
        }
    }
}

/// The future returned by [`WebSocket::closed`] and [`Handle::closed`].
#[must_use = "futures do nothing unless awaited"]
pub struct ClosedFuture {
    shared: Rc<Shared>,
}

impl fmt::Debug for ClosedFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedFuture").finish_non_exhaustive()
    }
}

impl Future for ClosedFuture {
    type Output = CloseEvent;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        self.shared.poll_closed(cx)
    }
}

/// The future returned by [`WebSocket::connect`] and [`Builder::connect`]; resolves once
/// the socket is open. Dropping it first closes the socket and removes its listeners.
#[must_use = "futures do nothing unless awaited; dropping this closes the socket"]
pub struct ConnectFuture {
    state: Result<Option<WebSocket>, Option<Error>>,
    /// Fires the connect timeout; dropping it clears the JS timer.
    timer: Option<Timeout>,
}

impl fmt::Debug for ConnectFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectFuture")
            .field("socket", &self.state)
            .finish_non_exhaustive()
    }
}

impl ConnectFuture {
    pub(crate) fn new(builder: Builder) -> Self {
        let socket = match builder.open() {
            Ok(socket) => socket,
            Err(error) => {
                return ConnectFuture {
                    state: Err(Some(error)),
                    timer: None,
                }
            }
        };
        let timer = builder.connect_timeout.map(|timeout| {
            let weak = Rc::downgrade(&socket.shared);
            let millis = crate::timer::millis(timeout);
            Timeout::new(millis, move || {
                if let Some(shared) = weak.upgrade() {
                    let waker = {
                        let mut inner = shared.inner.borrow_mut();
                        inner.timed_out = true;
                        inner.open_waker.take()
                    };
                    wake(waker);
                }
            })
        });
        ConnectFuture {
            state: Ok(Some(socket)),
            timer,
        }
    }
}

impl Future for ConnectFuture {
    type Output = Result<WebSocket, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let socket = match &mut this.state {
            Ok(Some(socket)) => socket,
            Ok(None) => return Poll::Ready(Err(Error::NotOpen(State::Closed))),
            Err(error) => {
                return Poll::Ready(Err(error.take().unwrap_or(Error::NotOpen(State::Closed))))
            }
        };
        let outcome = {
            let mut inner = socket.shared.inner.borrow_mut();
            if inner.opened {
                Ok(())
            } else if let Some(event) = &inner.closed {
                Err(Error::ConnectFailed(event.clone()))
            } else if inner.timed_out {
                Err(Error::Timeout)
            } else {
                store_waker(&mut inner.open_waker, cx.waker());
                return Poll::Pending;
            }
        };
        this.timer = None;
        let socket = this.state.as_mut().ok().and_then(Option::take);
        // On failure the socket is dropped here, which closes it and removes its listeners.
        Poll::Ready(outcome.and_then(|()| socket.ok_or(Error::NotOpen(State::Closed))))
    }
}
