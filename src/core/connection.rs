//! One connection's state: the receive queue, the wakers, the drain and keepalive state,
//! and the close bookkeeping. The fields are private: the facade (`crate::socket`) and
//! the transports change them through the methods here, and nowhere else.
//!
//! The transport's callbacks hold only a `Weak` to the connection, so there is no
//! reference cycle, and dropping the last owner frees it all.

use std::task::{ready, Context, Poll, Waker};

use super::keepalive::{Activity, Due, KeepaliveConfig};
use super::queue::{Incoming, ReceiveQueue};
use crate::close::{check_reason, CloseCode};
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::listeners::LiveToken;
use crate::message::{BinaryType, Message};
use crate::state::State;
use crate::sync::{Counter, Lock, MaybeSend, MaybeSync, Shared, Weak};
use crate::timer::Timer;
use crate::waker::{store_waker, wake};

/// The close code used when the receive queue overflows. 1009 (message too big) would fit,
/// but browsers refuse every code but 1000 and 3000..=4999 from pages; 4009 mirrors it.
pub const QUEUE_FULL_CODE: u16 = 4009;

/// Starts the keepalive timer of an open connection. A function pointer that only the
/// builder methods needing the timer store, so a program that never calls them links
/// none of the timer code.
pub(crate) type StartKeepalive = fn(&Shared<Connection>) -> Keepalive;

/// The timer that ticks [`Activity`]; dropping it stops the ticks.
pub(crate) struct Keepalive {
    _timer: Timer,
    _live: LiveToken,
}

/// The [`StartKeepalive`] the builder stores.
pub(crate) fn start_keepalive(connection: &Shared<Connection>) -> Keepalive {
    let weak = Shared::downgrade(connection);
    let timer = Timer::every(connection.config.keepalive.tick_millis(), move || {
        if let Some(connection) = weak.upgrade() {
            connection.keepalive_tick();
        }
    });
    Keepalive {
        _timer: timer,
        _live: LiveToken::new(),
    }
}

/// What a connection is configured with.
pub(crate) struct Config {
    pub(crate) high_water_mark: u64,
    pub(crate) keepalive: KeepaliveConfig,
    pub(crate) start_keepalive: Option<StartKeepalive>,
    pub(crate) max_queued: Option<(usize, usize)>,
}

/// What `poll_next` found.
pub(crate) enum Next {
    /// A message, or an error that concerns one message only (the stream goes on).
    Item(Result<Message, Error>),
    /// The end of the stream, after a last error if the end was not clean.
    End(Option<Error>),
}

#[derive(Default)]
struct Inner {
    queue: ReceiveQueue,
    recv_waker: Option<Waker>,
    /// The task waiting in `poll_ready`, `poll_flush` or `poll_close`.
    sink_waker: Option<Waker>,
    /// The pending `connect` future.
    open_waker: Option<Waker>,
    /// Tasks waiting for the close event (`closed()`, `close()`).
    close_wakers: Vec<Waker>,
    opened: bool,
    timed_out: bool,
    /// Set when the idle timeout closed the connection; the stream then ends with
    /// `IdleTimeout`.
    idle: bool,
    activity: Activity,
    closed: Option<CloseEvent>,
    /// While the sender waits for `buffered_amount` to fall: the level it waits for.
    drain_target: Option<u64>,
    /// Set when the receive queue overflowed; the stream then ends with that error.
    overflow: Option<Error>,
}

/// What the core needs from whatever carries a connection. The core never names a
/// concrete transport; a transport reports what happens through the connection's `on_*`
/// methods.
/// `MaybeSend + MaybeSync`: natively a connection (and so its transport) is shared across
/// threads.
pub(crate) trait Transport: MaybeSend + MaybeSync {
    /// Starts reporting to `connection` (its `on_*` methods); called once, right after
    /// the connection is created.
    fn attach(&self, connection: &Weak<Connection>);
    /// The connection state, mirroring `readyState`.
    fn state(&self) -> State;
    fn url(&self) -> String;
    fn protocol(&self) -> String;
    fn extensions(&self) -> String;
    fn binary_type(&self) -> BinaryType;
    /// Bytes accepted by `send` and not yet handed to the network.
    fn buffered_amount(&self) -> u64;
    /// Sends one message; called only while the state is `Open`.
    fn send(&self, message: &Message) -> Result<(), Error>;
    /// `send` for a message the caller gives away (natively: no copy).
    #[cfg(not(target_arch = "wasm32"))]
    fn send_owned(&self, message: Message) -> Result<(), Error>;
    /// Starts the closing handshake.
    fn close(&self, code: u16, reason: &str) -> Result<(), Error>;
    /// A transport that reads only on demand (flow control) yields its next message here;
    /// one that pushes messages through `on_message` has none to give.
    fn poll_read(&self, _cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        Poll::Ready(None)
    }
    /// Whether a read is in flight or its message is held (a transport that reads only on
    /// demand); such a message was received and is taken even once the stream is ending.
    fn reading(&self) -> bool {
        true
    }
    /// Whether the transport reads from the network only while asked to (flow control).
    fn on_demand(&self) -> bool {
        false
    }
    /// For the idle timeout, on a transport that reads only on demand: whether data has
    /// arrived that nobody has asked for yet. It may start one read of its own to find
    /// out, and hold that one message for the consumer.
    fn probe(&self) -> bool {
        false
    }
    /// Sends a Ping frame where the platform can (natively); browsers cannot.
    fn ping(&self) {}
    /// Makes sure [`Connection::check_drained`] runs when `buffered_amount` may have
    /// fallen.
    fn watch_drain(&self, connection: &Weak<Connection>);
    /// Removes the transport's callbacks; the close callback stays if `keep_close`, for
    /// handles still waiting for the close event.
    fn release(&self, keep_close: bool);
}

pub(crate) struct Connection {
    transport: Box<dyn Transport>,
    inner: Lock<Inner>,
    config: Config,
    keepalive: Lock<Option<Keepalive>>,
    /// An upper bound of `buffered_amount`: the value last read plus the bytes sent since
    /// (only our own sends make it grow, synchronously, by their UTF-8 or byte length).
    /// While it is under the high-water mark, `poll_ready` needs no read of the transport.
    buffered_bound: Counter,
}

impl Connection {
    pub(crate) fn new(transport: Box<dyn Transport>, config: Config) -> Shared<Self> {
        let connection = Shared::new(Connection {
            transport,
            inner: Lock::new(Inner {
                queue: ReceiveQueue::bounded(config.max_queued),
                ..Inner::default()
            }),
            config,
            keepalive: Lock::new(None),
            buffered_bound: Counter::default(),
        });
        connection.transport.attach(&Shared::downgrade(&connection));
        connection
    }

    /// Takes one received message through `queue_it`; an error from it means the queue
    /// overflowed: the connection closes with [`QUEUE_FULL_CODE`] and the stream ends
    /// with that error after what was queued.
    fn receive(&self, queue_it: impl FnOnce(&mut ReceiveQueue) -> Result<(), Error>) {
        let (overflowed, waker) = {
            let mut inner = self.inner.lock();
            if inner.overflow.is_some() {
                // Already closing for overflow; the browser may still deliver a few.
                return;
            }
            inner.activity.received += 1;
            let overflowed = match queue_it(&mut inner.queue) {
                Ok(()) => false,
                Err(error) => {
                    inner.overflow = Some(error);
                    true
                }
            };
            (overflowed, inner.recv_waker.take())
        };
        if overflowed {
            let _ = self.transport.close(QUEUE_FULL_CODE, "receive queue full");
        }
        wake(waker);
    }

    // Inspection.

    pub(crate) fn state(&self) -> State {
        self.transport.state()
    }

    pub(crate) fn url(&self) -> String {
        self.transport.url()
    }

    pub(crate) fn protocol(&self) -> String {
        self.transport.protocol()
    }

    pub(crate) fn extensions(&self) -> String {
        self.transport.extensions()
    }

    pub(crate) fn binary_type(&self) -> BinaryType {
        self.transport.binary_type()
    }

    pub(crate) fn buffered_amount(&self) -> u64 {
        self.transport.buffered_amount()
    }

    /// Reads `buffered_amount`, which also tightens the bound `poll_ready` checks first.
    fn buffered_now(&self) -> u64 {
        let buffered = self.buffered_amount();
        self.buffered_bound.set(buffered);
        buffered
    }

    /// Whether the transport reads from the network only while asked to.
    pub(crate) fn on_demand(&self) -> bool {
        self.transport.on_demand()
    }

    /// Messages received and not yet taken.
    pub(crate) fn queued(&self) -> usize {
        self.inner.lock().queue.len()
    }

    // Receiving.

    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Next> {
        let mut inner = self.inner.lock();
        if let Some(item) = ready!(inner.queue.poll_pop(cx)) {
            return Poll::Ready(Next::Item(item));
        }
        // A transport with flow control reads from the network only now that someone
        // asks: this is the backpressure. Once ending, no read starts, but one in flight
        // is still taken: its message was received.
        let ending = inner.overflow.is_some() || inner.idle;
        if inner.opened && (!ending || self.transport.reading()) {
            if let Some(item) = ready!(self.transport.poll_read(cx)) {
                inner.activity.received += 1;
                return Poll::Ready(Next::Item(item));
            }
        }
        if let Some(error) = inner.overflow.take() {
            return Poll::Ready(Next::End(Some(error)));
        }
        if inner.idle {
            return Poll::Ready(Next::End(Some(Error::IdleTimeout)));
        }
        if let Some(event) = &inner.closed {
            if event.was_clean {
                return Poll::Ready(Next::End(None));
            }
            let event = event.clone();
            return Poll::Ready(Next::End(Some(if inner.opened {
                Error::ConnectionLost(event)
            } else {
                Error::ConnectFailed(event)
            })));
        }
        store_waker(&mut inner.recv_waker, cx.waker());
        Poll::Pending
    }

    // Sending.

    pub(crate) fn poll_ready(self: &Shared<Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self.state() {
            // The state and `buffered_amount` only change between tasks, so the state
            // read here still holds when the level is reached within this same poll.
            State::Open => self.poll_drained(self.config.high_water_mark, cx).map(Ok),
            State::Connecting => {
                let mut inner = self.inner.lock();
                // Natively the open (or close) may have come from another thread since
                // the state was read: poll again rather than wait for it.
                #[cfg(not(target_arch = "wasm32"))]
                if inner.opened || inner.closed.is_some() {
                    drop(inner);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                store_waker(&mut inner.sink_waker, cx.waker());
                Poll::Pending
            }
            state => Poll::Ready(Err(Error::NotOpen(state))),
        }
    }

    pub(crate) fn send(&self, message: &Message) -> Result<(), Error> {
        match self.state() {
            State::Open => {}
            state => return Err(Error::NotOpen(state)),
        }
        self.transport.send(message)?;
        self.buffered_bound.set(
            self.buffered_bound
                .get()
                .saturating_add(message.len() as u64),
        );
        self.inner.lock().activity.sent += 1;
        Ok(())
    }

    /// `send` for a message the caller gives away (natively the transport takes it
    /// without a copy).
    pub(crate) fn send_owned(&self, message: Message) -> Result<(), Error> {
        #[cfg(target_arch = "wasm32")]
        return self.send(&message);
        #[cfg(not(target_arch = "wasm32"))]
        {
            match self.state() {
                State::Open => {}
                state => return Err(Error::NotOpen(state)),
            }
            let len = message.len() as u64;
            self.transport.send_owned(message)?;
            self.buffered_bound
                .set(self.buffered_bound.get().saturating_add(len));
            self.inner.lock().activity.sent += 1;
            Ok(())
        }
    }

    pub(crate) fn poll_flush(self: &Shared<Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.buffered_now() == 0 {
            return Poll::Ready(Ok(()));
        }
        match self.state() {
            State::Open => {
                self.wait_drained(0, cx);
                Poll::Pending
            }
            state => Poll::Ready(Err(Error::NotOpen(state))),
        }
    }

    /// Waits until `buffered_amount` is at most `target`.
    fn poll_drained(self: &Shared<Self>, target: u64, cx: &mut Context<'_>) -> Poll<()> {
        if self.buffered_bound.get() <= target || self.buffered_now() <= target {
            return Poll::Ready(());
        }
        self.wait_drained(target, cx);
        Poll::Pending
    }

    /// Has the sender woken once `buffered_amount` is at most `target`, which the caller
    /// has just read to be above it (it cannot change within the same task).
    fn wait_drained(self: &Shared<Self>, target: u64, cx: &mut Context<'_>) {
        {
            let mut inner = self.inner.lock();
            store_waker(&mut inner.sink_waker, cx.waker());
            if let Some(current) = inner.drain_target {
                // Already watched; a lower level is checked from now on.
                inner.drain_target = Some(current.min(target));
                return;
            }
            inner.drain_target = Some(target);
        }
        self.transport.watch_drain(&Shared::downgrade(self));
    }

    // Opening and closing.

    /// Resolves once open, or with why it never will be.
    pub(crate) fn poll_open(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut inner = self.inner.lock();
        if inner.opened {
            Poll::Ready(Ok(()))
        } else if let Some(event) = &inner.closed {
            Poll::Ready(Err(Error::ConnectFailed(event.clone())))
        } else if inner.timed_out {
            Poll::Ready(Err(Error::Timeout))
        } else {
            store_waker(&mut inner.open_waker, cx.waker());
            Poll::Pending
        }
    }

    /// The connect timeout elapsed.
    pub(crate) fn time_out(&self) {
        let waker = {
            let mut inner = self.inner.lock();
            inner.timed_out = true;
            inner.open_waker.take()
        };
        wake(waker);
    }

    /// Starts the closing handshake unless one has already started.
    pub(crate) fn start_close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        check_reason(reason)?;
        if let State::Connecting | State::Open = self.state() {
            self.transport.close(code.get(), reason)?;
            // A sender waiting for the open or for a drain must now fail with `NotOpen`.
            let waker = {
                let mut inner = self.inner.lock();
                inner.drain_target = None;
                inner.sink_waker.take()
            };
            wake(waker);
        }
        Ok(())
    }

    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        let mut inner = self.inner.lock();
        if let Some(event) = &inner.closed {
            return Poll::Ready(event.clone());
        }
        if !inner.close_wakers.iter().any(|w| w.will_wake(cx.waker())) {
            inner.close_wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The owner went away: closes with 1000 if still open, and removes the transport's
    /// callbacks. The close callback stays while `others` (handles, close futures) may
    /// still wait for the close event.
    pub(crate) fn abandon(&self, others: bool) {
        if matches!(self.state(), State::Connecting | State::Open) {
            let _ = self.transport.close(CloseCode::NORMAL.get(), "");
        }
        let keep_close = others && self.inner.lock().closed.is_none();
        self.transport.release(keep_close);
        let keepalive = self.keepalive.lock().take();
        drop(keepalive);
        let queue = {
            let mut inner = self.inner.lock();
            inner.recv_waker = None;
            inner.sink_waker = None;
            inner.open_waker = None;
            inner.drain_target = None;
            inner.queue.take()
        };
        drop(queue);
    }

    /// One keepalive tick (see `keepalive.rs`).
    fn keepalive_tick(&self) {
        // Data waiting for a paused consumer is activity, not idleness.
        let waiting = self.transport.probe();
        let due = {
            let mut inner = self.inner.lock();
            if waiting {
                inner.activity.received += 1;
            }
            inner.activity.tick(&self.config.keepalive)
        };
        match due {
            Due::Nothing => {}
            Due::Heartbeat => {
                if let Some((_, message)) = &self.config.keepalive.heartbeat {
                    if self.buffered_amount() == 0 {
                        // A failed heartbeat is not the caller's data; the close event
                        // that follows tells the story.
                        let _ = self.send(message);
                    }
                    // Natively also a Ping frame, whose Pong counts as received.
                    self.transport.ping();
                }
            }
            Due::Idle => {
                let waker = {
                    let mut inner = self.inner.lock();
                    inner.idle = true;
                    inner.recv_waker.take()
                };
                // Dropping the timer from its own callback is allowed (see `timer.rs`).
                let keepalive = self.keepalive.lock().take();
                drop(keepalive);
                let _ = self.start_close(CloseCode::NORMAL, "idle timeout");
                wake(waker);
            }
        }
    }
}

/// What the transport reports, in the order it happens.
impl Connection {
    /// The connection is open.
    pub(crate) fn on_open(self: &Shared<Self>) {
        if let Some(start) = self.config.start_keepalive {
            if self.config.keepalive.is_active() {
                let keepalive = start(self);
                *self.keepalive.lock() = Some(keepalive);
            }
        }
        let (sink, open, recv) = {
            let mut inner = self.inner.lock();
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

    /// A message arrived (transports that push them).
    pub(crate) fn on_message(&self, item: Incoming) {
        self.receive(|queue| queue.push(item));
    }

    /// A message of `size` bytes arrived that alone passes the receive queue's byte
    /// limit (which the transport is given when created), and was refused uncopied.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn on_refused(&self, size: usize) {
        self.receive(|queue| Err(queue.refused(size)));
    }

    /// Something other than a message came in (a Pong frame natively): the idle timeout
    /// counts it as received.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pub(crate) fn on_activity(&self) {
        self.inner.lock().activity.received += 1;
    }

    /// The connection has closed; later reports are ignored.
    pub(crate) fn on_close(&self, event: CloseEvent) {
        if self.inner.lock().closed.is_some() {
            return;
        }
        let keepalive = self.keepalive.lock().take();
        drop(keepalive);
        let wakers = {
            let mut inner = self.inner.lock();
            inner.closed = Some(event);
            let mut wakers = std::mem::take(&mut inner.close_wakers);
            wakers.extend(inner.recv_waker.take());
            wakers.extend(inner.sink_waker.take());
            wakers.extend(inner.open_waker.take());
            wakers
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// `buffered_amount` may have fallen: wakes the sender if the level it waits for is
    /// reached (or the connection is no longer open). Returns whether it no longer waits.
    pub(crate) fn check_drained(&self) -> bool {
        let waker = {
            let mut inner = self.inner.lock();
            let reached = match inner.drain_target {
                None => true,
                Some(target) => {
                    self.buffered_now() <= target
                        || !matches!(self.state(), State::Open | State::Connecting)
                }
            };
            if !reached {
                return false;
            }
            inner.drain_target = None;
            inner.sink_waker.take()
        };
        wake(waker);
        true
    }
}
