//! What both socket classes do with their Rust socket: sends and flushes in one line,
//! receives in another, each JS call turned into a promise, and the bound on the sends
//! that wait (the JS app need not await them, so without a bound they could pile up).

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_core::Stream;
use futures_sink::Sink;
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;
use wasm_websocket::{Error, Message};

use crate::convert::{error_to_js, iter_result, message_from_js, message_to_js};
use crate::line::Line;

/// The default bound on the sends that wait: as many messages as the Rust outbox's default
/// holds, and as many bytes as the default high-water mark.
pub(crate) const DEFAULT_PENDING_MESSAGES: usize = 1024;
/// See [`DEFAULT_PENDING_MESSAGES`].
pub(crate) const DEFAULT_PENDING_BYTES: usize = wasm_websocket::DEFAULT_HIGH_WATER_MARK;

/// The bound on sends that wait (`maxPendingSends`): a send is taken while fewer than
/// `messages` wait and they hold at most `bytes` payload bytes (so one message may take it
/// past `bytes`, and one always fits); beyond it, it rejects with `OutboxFull`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PendingLimit {
    pub(crate) messages: usize,
    pub(crate) bytes: usize,
}

impl Default for PendingLimit {
    fn default() -> Self {
        PendingLimit {
            messages: DEFAULT_PENDING_MESSAGES,
            bytes: DEFAULT_PENDING_BYTES,
        }
    }
}

/// A socket (a `WebSocket` or a `ReconnectingWebSocket`) and the lines its callers wait in.
/// The socket sits in a `RefCell` that is only borrowed inside a single `poll`, never across
/// an `.await`.
#[derive(Debug)]
pub(crate) struct Io<S> {
    ws: RefCell<S>,
    /// Senders and flushers, first come first served.
    sends: Rc<Line>,
    /// Receivers (`next()` calls), first come first served.
    receives: Rc<Line>,
    limit: PendingLimit,
    /// Sends that have not been handed to the socket yet: messages, payload bytes.
    pending: Rc<Cell<(usize, usize)>>,
    /// Messages handed to the socket so far (the next one's number).
    accepted: Cell<u64>,
}

/// One send's share of [`Io::pending`], given back when the send settles or is dropped.
struct Pending {
    counts: Rc<Cell<(usize, usize)>>,
    bytes: usize,
}

impl Drop for Pending {
    fn drop(&mut self) {
        let (messages, bytes) = self.counts.get();
        self.counts
            .set((messages.saturating_sub(1), bytes.saturating_sub(self.bytes)));
    }
}

impl<S> Io<S>
where
    S: Stream<Item = Result<Message, Error>> + Sink<Message, Error = Error> + Unpin + 'static,
{
    pub(crate) fn new(ws: S, limit: PendingLimit) -> Io<S> {
        Io {
            ws: RefCell::new(ws),
            sends: Rc::default(),
            receives: Rc::default(),
            limit,
            pending: Rc::default(),
            accepted: Cell::new(0),
        }
    }

    /// `send(data)`: waits in line, then until the socket is ready, then hands the message
    /// over; resolves with `done(number)`, `number` counting the messages handed over from 0.
    /// Rejects at once with `OutboxFull` when the sends that wait are at their bound.
    pub(crate) fn send(self: &Rc<Self>, data: &JsValue, done: fn(u64) -> JsValue) -> Promise {
        let message = match message_from_js(data, "send data") {
            Ok(message) => message,
            Err(error) => return Promise::reject(&error),
        };
        let (messages, bytes) = self.pending.get();
        if messages >= self.limit.messages || bytes > self.limit.bytes {
            return Promise::reject(&error_to_js(&Error::OutboxFull { messages, bytes }));
        }
        let size = message.len();
        self.pending.set((messages + 1, bytes.saturating_add(size)));
        let pending = Pending {
            counts: self.pending.clone(),
            bytes: size,
        };
        let io = self.clone();
        let ticket = Line::join(&io.sends);
        eager(async move {
            ticket.turn().await;
            poll_fn(|cx| io.poll_sink(|ws| ws.poll_ready(cx))).await?;
            io.with_ws(|ws| ws.start_send(message))?
                .map_err(|e| error_to_js(&e))?;
            drop(pending);
            drop(ticket);
            let number = io.accepted.get();
            io.accepted.set(number + 1);
            Ok(done(number))
        })
    }

    /// `flush()`: waits in the send line, then for the socket's `poll_flush`.
    pub(crate) fn flush(self: &Rc<Self>) -> Promise {
        let io = self.clone();
        let ticket = Line::join(&io.sends);
        eager(async move {
            ticket.turn().await;
            poll_fn(|cx| io.poll_sink(|ws| ws.poll_flush(cx))).await?;
            drop(ticket);
            Ok(JsValue::UNDEFINED)
        })
    }

    /// `next()`: the async iterator protocol over the socket's `Stream`.
    pub(crate) fn next(self: &Rc<Self>) -> Promise {
        let io = self.clone();
        let ticket = Line::join(&io.receives);
        eager(async move {
            ticket.turn().await;
            let item = poll_fn(|cx| io.poll_message(cx)).await?;
            drop(ticket);
            Ok(match item {
                Some(message) => iter_result(&message_to_js(message), false),
                None => iter_result(&JsValue::UNDEFINED, true),
            })
        })
    }

    /// Runs `f` with the socket borrowed for just this call.
    pub(crate) fn with_ws<R>(&self, f: impl FnOnce(Pin<&mut S>) -> R) -> Result<R, JsValue> {
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
        poll: impl FnOnce(Pin<&mut S>) -> Poll<Result<(), Error>>,
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

/// Turns a future into a promise, polling it once right away: work that can finish at once
/// (a send under the high-water mark, a message already received) happens during the JS
/// call, in call order, and the promise is created already settled. Otherwise the future
/// is handed to the executor, whose first poll registers the real waker.
pub(crate) fn eager<F>(future: F) -> Promise
where
    F: Future<Output = Result<JsValue, JsValue>> + 'static,
{
    let mut future = Box::pin(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(Ok(value)) => Promise::resolve(&value),
        Poll::Ready(Err(error)) => Promise::reject(&error),
        Poll::Pending => future_to_promise(future),
    }
}
