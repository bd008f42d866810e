//! A connection that reconnects by itself: [`ReconnectingWebSocket`].
//!
//! One background task (the *driver*, started with `spawn_local`) owns the life cycle of
//! the connections, using only what [`WebSocket`] offers every user: it connects, reads
//! the current socket into a short queue, hands the outbox to the socket through its
//! `Sink` (so the high-water mark applies), notices the end, backs off and reconnects.
//! The public halves (the `Stream`, the `Sink`, [`ReconnectEvents`], [`ReconnectHandle`])
//! share one `Core` with it and wake it; the driver wakes them. Every JS resource (the
//! socket with its listeners, the backoff and heartbeat timers) lives in the core's
//! current phase and is dropped when that phase ends, so nothing accumulates across
//! reconnects.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use gloo_timers::callback::{Interval, Timeout};

use crate::close::check_reason;
use crate::listeners::LiveToken;
use crate::socket::{ClosedFuture, ConnectFuture};
use crate::{Builder, CloseCode, CloseEvent, Error, Message, State, WebSocket};

/// How many received messages the driver reads ahead of the application. Beyond that it
/// stops reading the socket, so [`Backend::Stream`](crate::Backend::Stream) keeps its
/// flow control and [`Builder::max_queued`] keeps bounding the classic backend's queue.
const READ_AHEAD: usize = 64;

/// How long a connection that the crate itself closed (idle timeout, receive queue full)
/// or that is closing without having been asked to may take to report its close event
/// before it is abandoned: a dead peer never completes the closing handshake, and
/// browsers wait up to a minute for it.
const CLOSE_GRACE_MS: u32 = 1000;

/// When and how often to reconnect, and how much to keep while disconnected.
///
/// The defaults: reconnect forever (`reconnect_limit(None)`), backoff from 500 ms up to
/// 30 s with factor 2, a connection counts as stable after 5 s, reconnect after unclean
/// closes and idle timeouts but not after a clean close by the server, and an outbox of
/// 1024 messages and 1 MiB.
///
/// ```no_run
/// use std::time::Duration;
/// use wasm_websocket::ReconnectPolicy;
///
/// let policy = ReconnectPolicy::new()
///     .reconnect_limit(Some(10))
///     .backoff(Duration::from_millis(250), Duration::from_secs(10), 2.0)
///     .stable_after(Duration::from_secs(2))
///     .reconnect_on_clean_close(true)
///     .outbox_limit(256, 64 * 1024);
/// assert_eq!(policy.delay_cap(3), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a policy does nothing until it is given to `ReconnectingWebSocket::new`"]
pub struct ReconnectPolicy {
    reconnect_limit: Option<u32>,
    initial: Duration,
    max: Duration,
    factor: f64,
    stable_after: Duration,
    reconnect_on_clean_close: bool,
    outbox_messages: usize,
    outbox_bytes: usize,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            reconnect_limit: None,
            initial: Duration::from_millis(500),
            max: Duration::from_secs(30),
            factor: 2.0,
            stable_after: Duration::from_secs(5),
            reconnect_on_clean_close: false,
            outbox_messages: 1024,
            outbox_bytes: 1 << 20,
        }
    }
}

impl ReconnectPolicy {
    /// The default policy (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// How many attempts may follow the last [stable](Self::stable_after) connection (or
    /// the start) before the connection gives up ([`ReconnectEvent::GaveUp`]); `None`
    /// (the default) never gives up. `Some(0)` never reconnects and makes one attempt at
    /// the start. An attempt counts whether it fails or opens a connection that ends
    /// before it is stable, so a server that accepts and drops every connection at once
    /// meets growing delays and, with a limit, the end.
    pub fn reconnect_limit(mut self, limit: Option<u32>) -> Self {
        self.reconnect_limit = limit;
        self
    }

    /// Exponential backoff with full jitter: before attempt `n` (1 for the first attempt
    /// after a disconnect or failure) the connection waits a random time in
    /// `[0, min(max, initial * factor^(n - 1))]` (see [`delay_cap`](Self::delay_cap)).
    /// A `factor` below 1 (or NaN) is taken as 1.
    pub fn backoff(mut self, initial: Duration, max: Duration, factor: f64) -> Self {
        self.initial = initial;
        self.max = max;
        self.factor = factor;
        self
    }

    /// How long a connection must stay open to count as stable: when a stable connection
    /// ends, the attempt count and the backoff start again from the beginning (the next
    /// attempt is 1, with a delay of at most `initial`). Default 5 s.
    pub fn stable_after(mut self, duration: Duration) -> Self {
        self.stable_after = duration;
        self
    }

    /// Whether a clean close by the server (a close frame, e.g. 1001 "going away" or 1012
    /// "service restart") reconnects too; `false` by default, when such a close ends the
    /// connection for good. Unclean closes and idle timeouts always reconnect, and a
    /// close the application asked for never does.
    pub fn reconnect_on_clean_close(mut self, reconnect: bool) -> Self {
        self.reconnect_on_clean_close = reconnect;
        self
    }

    /// Bounds the outbox: messages accepted by the `Sink` and not yet handed to a socket.
    /// `poll_ready` is ready while the outbox holds fewer than `messages` messages and at
    /// most `bytes` payload bytes (so one message may take it past `bytes`). When it is
    /// full, `poll_ready` waits while a connection is open (it is draining) and fails
    /// with [`Error::OutboxFull`] while none is. `messages` is at least 1. Default: 1024
    /// messages, 1 MiB.
    pub fn outbox_limit(mut self, messages: usize, bytes: usize) -> Self {
        self.outbox_messages = messages.max(1);
        self.outbox_bytes = bytes;
        self
    }

    /// The longest delay before attempt `attempt` (1-based):
    /// `min(max, initial * factor^(attempt - 1))`. The actual delay is uniformly random in
    /// `[0, delay_cap(attempt)]`, in whole milliseconds.
    pub fn delay_cap(&self, attempt: u32) -> Duration {
        let factor = if self.factor >= 1.0 { self.factor } else { 1.0 };
        let exponent = attempt.saturating_sub(1).min(i32::MAX as u32) as i32;
        let cap = self.initial.as_secs_f64() * factor.powi(exponent);
        if cap.is_finite() && cap < self.max.as_secs_f64() {
            Duration::from_secs_f64(cap)
        } else {
            self.max
        }
    }

    /// The delay for `attempt`, given a random number in `[0, 1)`.
    fn delay(&self, attempt: u32, random: f64) -> Duration {
        let cap_ms = self.delay_cap(attempt).as_secs_f64() * 1000.0;
        let ms = (random.clamp(0.0, 1.0) * cap_ms).floor();
        Duration::from_millis(ms.min(cap_ms.floor()) as u64)
    }
}

/// What happened to a [`ReconnectingWebSocket`], from [`ReconnectingWebSocket::events`].
///
/// A typical sequence: `Connected { attempt: 0 }`, later `Disconnected { .. }`,
/// `Retrying { attempt: 1, .. }`, `Connected { attempt: 1 }`. Attempts that fail report
/// `AttemptFailed` and then `Retrying` for the next one, or `GaveUp`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReconnectEvent {
    /// A connection opened. `attempt` is the number of the attempt that succeeded: the
    /// `attempt` of the last `Retrying`, or 0 for the very first attempt.
    Connected {
        /// The attempt that succeeded (0 = the very first one).
        attempt: u32,
    },
    /// The open connection ended. Messages are numbered from 0 in the order the `Sink`
    /// accepted them; `sent` and `unsent` split the ones this connection was given (see
    /// the [delivery rules](ReconnectingWebSocket#delivery)).
    Disconnected {
        /// The browser's close event; `1006`, not clean, if the connection was abandoned
        /// without one (its close did not complete within a second).
        event: CloseEvent,
        /// Messages the browser handed on to the network: each arrived, or was lost with
        /// the connection. They are not sent again.
        sent: Range<u64>,
        /// Messages the browser still counted in `bufferedAmount` when the connection
        /// ended, so the server never received them: they are sent again, first and in
        /// order, on the next connection.
        unsent: Range<u64>,
    },
    /// An attempt to connect failed with [`Error::ConnectFailed`] or [`Error::Timeout`]
    /// (then `Retrying` or `GaveUp` follows), or with an error that retrying cannot
    /// fix (then `GaveUp` follows).
    AttemptFailed(Error),
    /// Attempt `attempt` (1-based, counted since the last
    /// [stable](ReconnectPolicy::stable_after) connection or the start) starts after
    /// `delay`.
    Retrying {
        /// The attempt about to be made.
        attempt: u32,
        /// How long the connection waits before it.
        delay: Duration,
    },
    /// The [reconnect limit](ReconnectPolicy::reconnect_limit) was reached, or an attempt
    /// failed in a way retrying cannot fix: the connection has ended for good.
    GaveUp,
}

/// Counts firings of a gloo-timers `Timeout` or `Interval` and wakes the driver; dropping
/// it clears the JS timer.
struct Alarm {
    state: Rc<AlarmState>,
    seen: u32,
    _timeout: Option<Timeout>,
    _interval: Option<Interval>,
    _live: LiveToken,
}

#[derive(Default)]
struct AlarmState {
    fired: Cell<u32>,
    waker: RefCell<Option<Waker>>,
}

impl Alarm {
    fn callback(state: &Rc<AlarmState>) -> impl FnMut() + 'static {
        let state = state.clone();
        move || {
            state.fired.set(state.fired.get().wrapping_add(1));
            let waker = state.waker.borrow_mut().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    fn once(ms: u32) -> Alarm {
        let state = Rc::new(AlarmState::default());
        let timeout = Timeout::new(ms, Self::callback(&state));
        Alarm {
            state,
            seen: 0,
            _timeout: Some(timeout),
            _interval: None,
            _live: LiveToken::new(),
        }
    }

    fn every(ms: u32) -> Alarm {
        let state = Rc::new(AlarmState::default());
        let interval = Interval::new(ms, Self::callback(&state));
        Alarm {
            state,
            seen: 0,
            _timeout: None,
            _interval: Some(interval),
            _live: LiveToken::new(),
        }
    }

    /// Firings since the last call; the task is woken at the next one.
    fn poll_fired(&mut self, cx: &mut Context<'_>) -> u32 {
        let fired = self.state.fired.get();
        let new = fired.wrapping_sub(self.seen);
        self.seen = fired;
        store_waker(&mut self.state.waker.borrow_mut(), cx.waker());
        new
    }
}

fn millis(duration: Duration) -> u32 {
    // setTimeout takes a signed 32-bit delay.
    duration.as_millis().min(i32::MAX as u128) as u32
}

fn store_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

fn wake(slot: &mut Option<Waker>) {
    if let Some(waker) = slot.take() {
        waker.wake();
    }
}

/// The heartbeat of a reconnecting connection. It is sent by the driver rather than by the
/// socket so that its bytes are known when `bufferedAmount` is read at a close.
struct Heartbeat {
    alarm: Alarm,
    message: Message,
    /// Quiet ticks that make an interval (4 ticks per interval, like `keepalive.rs`).
    needed: u64,
    quiet: u64,
    sent: bool,
}

impl Heartbeat {
    fn new(interval: Duration, message: &Message) -> Heartbeat {
        let tick = (interval.as_millis() / 4).clamp(1, i32::MAX as u128);
        Heartbeat {
            alarm: Alarm::every(tick as u32),
            message: message.clone(),
            needed: interval.as_millis().div_ceil(tick).max(1) as u64,
            quiet: 0,
            sent: false,
        }
    }

    /// Whether a heartbeat is due, counting the ticks since the last call.
    fn due(&mut self, cx: &mut Context<'_>) -> bool {
        for _ in 0..self.alarm.poll_fired(cx) {
            if std::mem::take(&mut self.sent) {
                self.quiet = 0;
            } else {
                self.quiet += 1;
            }
        }
        self.quiet >= self.needed
    }
}

/// A message accepted by the `Sink`; `seq` is `None` for heartbeats.
struct Entry {
    seq: Option<u64>,
    message: Message,
}

/// One open connection and what it was given.
struct Conn {
    /// Declared before `ws` so it is dropped first, and the socket can then release its
    /// close listener too.
    closed: ClosedFuture,
    ws: WebSocket,
    /// Messages handed to `ws` whose bytes may still be counted in `bufferedAmount`.
    inflight: VecDeque<Entry>,
    inflight_bytes: u64,
    /// The number of the first message handed to this connection.
    first_seq: u64,
    /// When it opened (`Date.now()`), to tell whether it was stable.
    opened_at: f64,
    /// One past the number of the last message handed to this connection.
    handed_end: u64,
    heartbeat: Option<Heartbeat>,
    /// The socket's stream has ended (everything received is in the core's queue).
    stream_done: bool,
    /// The error the socket's stream ended with, if any.
    end: Option<Error>,
    close_event: Option<CloseEvent>,
    /// The connection is over, or closing.
    ending: bool,
    /// Bounds the wait for the close event of a close the application did not ask for.
    grace: Option<Alarm>,
}

impl Conn {
    /// Forgets the messages whose bytes `bufferedAmount` no longer counts: those the
    /// browser has handed on. Text is counted in UTF-8 bytes, like `Message::len`.
    fn prune(&mut self) {
        let buffered = self.ws.buffered_amount();
        while let Some(front) = self.inflight.front() {
            let len = front.message.len() as u64;
            if self.inflight_bytes - len < buffered {
                break;
            }
            self.inflight_bytes -= len;
            self.inflight.pop_front();
        }
    }
}

enum Phase {
    Connecting(ConnectFuture),
    Waiting(Alarm),
    Open(Box<Conn>),
    Done,
}

struct Subscriber {
    id: u64,
    queue: VecDeque<ReconnectEvent>,
    waker: Option<Waker>,
}

/// Everything the driver and the public halves share.
struct Core {
    builder: Builder,
    policy: ReconnectPolicy,
    heartbeat: Option<(Duration, Message)>,
    phase: Phase,
    /// Attempts since the last stable connection.
    attempt: u32,
    outbox: VecDeque<Entry>,
    outbox_bytes: usize,
    next_seq: u64,
    received: VecDeque<Result<Message, Error>>,
    /// Yielded by the stream after `received`, once finished.
    end_error: Option<Error>,
    /// The close event of the last connection, cleared when a new attempt is scheduled.
    last_close: Option<CloseEvent>,
    close_requested: bool,
    finished: bool,
    driver: Option<Waker>,
    reader: Option<Waker>,
    sender: Option<Waker>,
    closers: Vec<Waker>,
    subscribers: Vec<Subscriber>,
    next_subscriber: u64,
}

impl Core {
    fn wake_driver(&self) {
        if let Some(waker) = &self.driver {
            waker.wake_by_ref();
        }
    }

    fn emit(&mut self, event: ReconnectEvent) {
        for subscriber in &mut self.subscribers {
            subscriber.queue.push_back(event.clone());
            wake(&mut subscriber.waker);
        }
    }

    fn state(&self) -> State {
        if self.finished {
            State::Closed
        } else if self.close_requested {
            State::Closing
        } else {
            match &self.phase {
                Phase::Open(conn) if !conn.ending && conn.ws.state() == State::Open => State::Open,
                _ => State::Connecting,
            }
        }
    }

    fn is_connected(&self) -> bool {
        self.state() == State::Open
    }

    fn inflight_is_empty(&self) -> bool {
        match &self.phase {
            Phase::Open(conn) => conn.inflight.is_empty(),
            _ => true,
        }
    }

    /// Ends the connection for good; `error` is the stream's last item.
    fn finish(&mut self, error: Option<Error>) {
        self.phase = Phase::Done;
        self.finished = true;
        self.end_error = error;
        wake(&mut self.reader);
        wake(&mut self.sender);
        self.closers.drain(..).for_each(Waker::wake);
        for subscriber in &mut self.subscribers {
            wake(&mut subscriber.waker);
        }
        self.wake_driver();
    }

    fn request_close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        check_reason(reason)?;
        if self.finished || self.close_requested {
            return Ok(());
        }
        self.close_requested = true;
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Open(conn) => {
                if matches!(conn.ws.state(), State::Connecting | State::Open) {
                    // The handshake starts now; the driver waits for its close event.
                    drop(conn.ws.close(code, reason));
                }
                self.phase = Phase::Open(conn);
                wake(&mut self.sender);
                self.wake_driver();
            }
            // Dropping a pending attempt closes it and releases it; a backoff timer is
            // cleared.
            other => {
                drop(other);
                self.last_close = None;
                self.finish(None);
            }
        }
        Ok(())
    }

    /// Runs the driver until it has to wait.
    fn step(&mut self, cx: &mut Context<'_>) {
        loop {
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return,
                Phase::Connecting(mut attempt) => match Pin::new(&mut attempt).poll(cx) {
                    Poll::Pending => {
                        self.phase = Phase::Connecting(attempt);
                        return;
                    }
                    Poll::Ready(Ok(ws)) => self.opened(ws),
                    Poll::Ready(Err(error)) => self.attempt_failed(error),
                },
                Phase::Waiting(mut alarm) => {
                    if alarm.poll_fired(cx) == 0 {
                        self.phase = Phase::Waiting(alarm);
                        return;
                    }
                    self.phase = Phase::Connecting(self.builder.clone().connect());
                }
                Phase::Open(conn) => {
                    if !self.drive_open(conn, cx) {
                        return;
                    }
                }
            }
        }
    }

    fn opened(&mut self, ws: WebSocket) {
        self.emit(ReconnectEvent::Connected {
            attempt: self.attempt,
        });
        let first = self
            .outbox
            .front()
            .and_then(|entry| entry.seq)
            .unwrap_or(self.next_seq);
        self.phase = Phase::Open(Box::new(Conn {
            closed: ws.closed(),
            ws,
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            first_seq: first,
            opened_at: js_sys::Date::now(),
            handed_end: first,
            heartbeat: self
                .heartbeat
                .as_ref()
                .map(|(interval, message)| Heartbeat::new(*interval, message)),
            stream_done: false,
            end: None,
            close_event: None,
            ending: false,
            grace: None,
        }));
        wake(&mut self.sender);
    }

    fn attempt_failed(&mut self, error: Error) {
        self.emit(ReconnectEvent::AttemptFailed(error.clone()));
        match error {
            Error::ConnectFailed(_) | Error::Timeout => self.retry(Some(error)),
            _ => {
                self.emit(ReconnectEvent::GaveUp);
                self.finish(Some(error));
            }
        }
    }

    /// Schedules the next attempt, or gives up; `error` is what the stream ends with if
    /// it gives up.
    fn retry(&mut self, error: Option<Error>) {
        if self.close_requested {
            self.finish(None);
            return;
        }
        self.attempt = self.attempt.saturating_add(1);
        if self
            .policy
            .reconnect_limit
            .is_some_and(|limit| self.attempt > limit)
        {
            self.emit(ReconnectEvent::GaveUp);
            self.finish(error);
            return;
        }
        let delay = self.policy.delay(self.attempt, js_sys::Math::random());
        self.last_close = None;
        self.emit(ReconnectEvent::Retrying {
            attempt: self.attempt,
            delay,
        });
        self.phase = if delay.is_zero() {
            Phase::Connecting(self.builder.clone().connect())
        } else {
            Phase::Waiting(Alarm::once(millis(delay)))
        };
        wake(&mut self.sender);
    }

    /// Moves what the socket received into the queue: up to [`READ_AHEAD`] messages, or
    /// everything once the connection is ending.
    fn receive(&mut self, conn: &mut Conn, cx: &mut Context<'_>) {
        let mut any = false;
        while !conn.stream_done && (conn.ending || self.received.len() < READ_AHEAD) {
            match Pin::new(&mut conn.ws).poll_next(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => conn.stream_done = true,
                Poll::Ready(Some(Ok(message))) => {
                    self.received.push_back(Ok(message));
                    any = true;
                }
                Poll::Ready(Some(Err(error))) => {
                    if conn.ws.is_terminated() {
                        conn.end = Some(error);
                        conn.stream_done = true;
                    } else {
                        // A per-message error (a Blob that could not be read).
                        self.received.push_back(Err(error));
                        any = true;
                    }
                }
            }
        }
        if any {
            wake(&mut self.reader);
        }
    }

    /// Hands the outbox (and heartbeats) to the socket while its `Sink` is ready, and
    /// forgets what the browser has sent.
    fn send(&mut self, conn: &mut Conn, cx: &mut Context<'_>) {
        let before = self.outbox.len();
        let heartbeat_due = match &mut conn.heartbeat {
            Some(heartbeat) => heartbeat.due(cx),
            None => false,
        };
        if heartbeat_due && self.outbox.is_empty() && conn.ws.buffered_amount() == 0 {
            if let (Some(heartbeat), Poll::Ready(Ok(()))) = (
                conn.heartbeat.as_mut(),
                Pin::new(&mut conn.ws).poll_ready(cx),
            ) {
                heartbeat.quiet = 0;
                let message = heartbeat.message.clone();
                // A failed heartbeat is not the application's data; the close that
                // follows tells the story.
                if Pin::new(&mut conn.ws).start_send(message.clone()).is_ok() {
                    conn.inflight_bytes += message.len() as u64;
                    conn.inflight.push_back(Entry { seq: None, message });
                }
            }
        }
        while !self.outbox.is_empty() {
            match Pin::new(&mut conn.ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
            let Some(entry) = self.outbox.pop_front() else {
                break;
            };
            let len = entry.message.len();
            // The copy stays here until the browser has sent it, to be sent again if the
            // connection ends first.
            if Pin::new(&mut conn.ws)
                .start_send(entry.message.clone())
                .is_err()
            {
                self.outbox.push_front(entry);
                break;
            }
            self.outbox_bytes -= len;
            conn.inflight_bytes += len as u64;
            if let Some(seq) = entry.seq {
                conn.handed_end = seq + 1;
            }
            if let Some(heartbeat) = &mut conn.heartbeat {
                heartbeat.sent = true;
            }
            conn.inflight.push_back(entry);
        }
        conn.prune();
        if self.outbox.is_empty() && !conn.inflight.is_empty() {
            // Waits (with the socket's drain watcher) until the browser has sent it all.
            if let Poll::Ready(Ok(())) = Pin::new(&mut conn.ws).poll_flush(cx) {
                conn.prune();
            }
        }
        if self.outbox.len() < before || (self.outbox.is_empty() && conn.inflight.is_empty()) {
            wake(&mut self.sender);
        }
    }

    /// Drives the open connection; returns whether the phase changed.
    fn drive_open(&mut self, mut conn: Box<Conn>, cx: &mut Context<'_>) -> bool {
        self.receive(&mut conn, cx);
        if conn.close_event.is_none() {
            if let Poll::Ready(event) = Pin::new(&mut conn.closed).poll(cx) {
                conn.close_event = Some(event);
            }
        }
        if !conn.ending {
            if conn.ws.state() == State::Open && !conn.stream_done && conn.close_event.is_none() {
                self.send(&mut conn, cx);
                if conn.ws.state() == State::Open {
                    self.phase = Phase::Open(conn);
                    return false;
                }
            }
            conn.ending = true;
            conn.heartbeat = None;
            if conn.close_event.is_none() && !self.close_requested {
                conn.grace = Some(Alarm::once(CLOSE_GRACE_MS));
            }
            wake(&mut self.sender);
            // Read what is left, now without the read-ahead bound.
            self.receive(&mut conn, cx);
        }
        let abandoned = match &mut conn.grace {
            Some(grace) if conn.close_event.is_none() => grace.poll_fired(cx) > 0,
            _ => false,
        };
        if conn.stream_done && (conn.close_event.is_some() || abandoned) {
            self.connection_ended(conn);
            true
        } else {
            self.phase = Phase::Open(conn);
            false
        }
    }

    fn connection_ended(&mut self, mut conn: Box<Conn>) {
        // `bufferedAmount` no longer falls once the close event has fired: what it still
        // counts was never (completely) sent.
        conn.prune();
        let unsent_start = conn
            .inflight
            .iter()
            .find_map(|entry| entry.seq)
            .unwrap_or(conn.handed_end);
        let sent = conn.first_seq..unsent_start;
        let unsent = unsent_start..conn.handed_end;
        for entry in std::mem::take(&mut conn.inflight).into_iter().rev() {
            if entry.seq.is_some() {
                self.outbox_bytes += entry.message.len();
                self.outbox.push_front(entry);
            }
        }
        let event = conn.close_event.take().unwrap_or(CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        });
        let end = conn.end.take();
        if js_sys::Date::now() - conn.opened_at >= self.policy.stable_after.as_secs_f64() * 1e3 {
            self.attempt = 0;
        }
        // Releases the socket's listeners and the connection's timers.
        drop(conn);
        self.last_close = Some(event.clone());
        self.emit(ReconnectEvent::Disconnected {
            event: event.clone(),
            sent,
            unsent,
        });
        if self.close_requested {
            self.finish(None);
            return;
        }
        let error = match end {
            Some(error @ Error::ReceiveQueueFull { .. }) => {
                // Messages were refused: the application must hear of it.
                self.received.push_back(Err(error.clone()));
                wake(&mut self.reader);
                Some(error)
            }
            Some(error) => Some(error),
            None if !event.was_clean => Some(Error::ConnectionLost(event)),
            None if self.policy.reconnect_on_clean_close => None,
            None => {
                self.finish(None);
                return;
            }
        };
        self.retry(error);
    }
}

/// The background task.
struct Driver(Rc<RefCell<Core>>);

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut core = self.0.borrow_mut();
        if !core.finished {
            store_waker(&mut core.driver, cx.waker());
            core.step(cx);
        }
        if core.finished {
            core.driver = None;
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// Used once, to learn the synchronous errors of the first attempt at construction.
struct NoopWake;

impl Wake for NoopWake {
    fn wake(self: Arc<Self>) {}
}

/// A WebSocket connection that reconnects by itself, with backoff, and keeps what the
/// application sends while it is disconnected. Created by [`Builder::reconnecting`] or
/// [`ReconnectingWebSocket::new`].
///
/// ```no_run
/// use futures::{SinkExt, StreamExt};
/// use wasm_websocket::{Message, ReconnectEvent, ReconnectPolicy, WebSocket};
///
/// # async fn run() -> Result<(), wasm_websocket::Error> {
/// let mut ws = WebSocket::builder("wss://example.org/feed")
///     .idle_timeout(std::time::Duration::from_secs(30))
///     .reconnecting(ReconnectPolicy::new().reconnect_limit(Some(20)))?;
/// let mut events = ws.events();
/// wasm_bindgen_futures::spawn_local(async move {
///     while let Some(event) = events.next().await {
///         if let ReconnectEvent::Disconnected { event, .. } = event {
///             web_sys_log(&format!("disconnected: {event}"));
///         }
///     }
/// });
/// ws.send(Message::from("subscribe")).await?; // queued until a connection is open
/// while let Some(message) = ws.next().await {
///     let message = message?; // an error here means it gave up
///     web_sys_log(&format!("{message:?}"));
/// }
/// # Ok(()) }
/// # fn web_sys_log(_: &str) {}
/// ```
///
/// # Stream
/// Yields the messages of every connection in order (all of one connection's before any
/// of the next). Connection losses are not stream items; they are
/// [events](Self::events). The stream ends with `None` after a close the application
/// asked for and after a clean close by the server that does not reconnect. When it gives
/// up, it yields the error that ended it ([`Error::ConnectFailed`], [`Error::Timeout`],
/// [`Error::ConnectionLost`], [`Error::IdleTimeout`], ...) and then `None`. It yields
/// [`Error::ReceiveQueueFull`] without ending when a connection refused messages because
/// of [`Builder::max_queued`] (then reconnects), and passes on per-message errors of the
/// socket.
///
/// # Sink
/// `start_send` puts the message in the outbox and numbers it (0, 1, 2, ... in the order
/// accepted); the driver hands the outbox to the open connection in order, as fast as
/// the socket's [high-water mark](Builder::high_water_mark) allows. `poll_ready` follows
/// the [outbox limit](ReconnectPolicy::outbox_limit): while the outbox is full it waits if
/// a connection is open and fails with [`Error::OutboxFull`] if none is. That error is
/// not permanent: once the outbox has room again `poll_ready` succeeds. `poll_flush`
/// resolves once every accepted message has been handed to a connection and the browser
/// has handed it on (`bufferedAmount` 0), waiting through reconnects. `poll_close`
/// flushes, then closes with 1000 for good. After a close was asked for, `poll_ready`
/// fails with [`Error::NotOpen`] (`Closing`, then `Closed` once the end is reached), as
/// does `poll_flush` if messages are left that can no longer be sent.
///
/// # Delivery
/// The browser counts, in [`bufferedAmount`](WebSocket::buffered_amount), the bytes of
/// sent messages it has not yet handed on to the network (UTF-8 bytes for text), and the
/// count no longer falls once the close event has fired. When a connection ends, the
/// crate reads it: the last messages still counted, in whole or in part, never reached
/// the server, and are sent again, first and in order, on the next connection. The
/// earlier messages were handed on: each of them arrived, or was lost with the connection
/// (on the network, in the operating system's buffers, or in the browser itself: Chromium
/// counts what it has passed to its network process, and that drops what it still holds
/// when the connection fails or when the server's close frame arrives; Firefox counts a
/// message until it has written all of it to the socket). Without an acknowledgement from
/// the server nobody can know which arrived, so the crate does not send them again.
///
/// Hence, for each connection, the server receives an unbroken run of the messages that
/// connection was given, in order: a prefix of
/// [`sent`](ReconnectEvent::Disconnected::sent), and none of
/// [`unsent`](ReconnectEvent::Disconnected::unsent). It receives all of `sent` when the
/// application ended the connection ([`close`](Self::close), `SinkExt::close`, or drop),
/// as the close frame follows the data. The crate never sends again a message the server
/// may have received, so it causes **no duplicates**; messages may be **lost** from the
/// end of `sent` of a connection that failed or that the server closed. For at-least-once
/// delivery, have the server acknowledge message numbers and send the unacknowledged part
/// of `sent` again yourself; that may duplicate them, so the server must ignore repeats.
/// One exception: a connection that ended on its own but whose close event does not come
/// within a second (e.g. the idle timeout fired and the server is gone) is abandoned, and
/// what its `bufferedAmount` counted at that moment is sent again although the dying
/// socket might still deliver it: only then may an `unsent` message arrive twice.
/// Heartbeats are not numbered and never sent again.
///
/// When the connection ends for good, accepted messages that were never handed to a
/// connection, and the `unsent` ones of the last connection, stay in the outbox: take
/// them with [`take_unsent`](Self::take_unsent). Nothing is dropped silently.
///
/// # Timeouts, heartbeat and resources
/// The builder's [connect timeout](Builder::connect_timeout) applies to every attempt,
/// and its [idle timeout](Builder::idle_timeout) to every connection (an idle timeout
/// reconnects). Its [heartbeat](Builder::heartbeat) is sent by the reconnecting layer
/// itself, with the same rules, so that its bytes are accounted for. Each connection's
/// listeners and timers are released when it ends, and dropping the
/// `ReconnectingWebSocket` closes the current connection with 1000 (if open), cancels
/// any attempt or timer, and ends the events; [`live_listeners`](crate::live_listeners)
/// then returns to its previous value.
///
/// It is `Unpin` and `!Send`. The inherent [`close`](Self::close) shadows
/// `SinkExt::close`; call the latter as `SinkExt::close(&mut ws)`.
pub struct ReconnectingWebSocket {
    core: Rc<RefCell<Core>>,
    terminated: bool,
}

impl fmt::Debug for ReconnectingWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectingWebSocket")
            .field("url", &self.core.borrow().builder.url)
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A [`ReconnectingWebSocket`] with this configuration and `policy`; it starts
    /// connecting at once. Same as [`ReconnectingWebSocket::new`].
    ///
    /// ```no_run
    /// # fn run() -> Result<(), wasm_websocket::Error> {
    /// use wasm_websocket::{ReconnectPolicy, WebSocket};
    ///
    /// let ws = WebSocket::builder("/live").reconnecting(ReconnectPolicy::new())?;
    /// # drop(ws); Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ReconnectingWebSocket::new`].
    pub fn reconnecting(self, policy: ReconnectPolicy) -> Result<ReconnectingWebSocket, Error> {
        ReconnectingWebSocket::new(self, policy)
    }
}

impl ReconnectingWebSocket {
    /// Starts connecting with `builder`'s configuration, reconnecting as `policy` says.
    /// Subscribe to [`events`](Self::events) right away to see every event.
    ///
    /// ```no_run
    /// # fn run() -> Result<(), wasm_websocket::Error> {
    /// use wasm_websocket::{ReconnectPolicy, ReconnectingWebSocket, WebSocket};
    ///
    /// let builder = WebSocket::builder("wss://example.org/live");
    /// let ws = ReconnectingWebSocket::new(builder, ReconnectPolicy::new())?;
    /// # drop(ws); Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The errors of the first attempt that retrying cannot fix, which the browser
    /// reports at once: [`Error::InvalidProtocol`], [`Error::InvalidUrl`],
    /// [`Error::Security`], [`Error::Unsupported`], [`Error::Js`]. Failures to connect
    /// ([`Error::ConnectFailed`], [`Error::Timeout`]) are retried instead.
    pub fn new(mut builder: Builder, policy: ReconnectPolicy) -> Result<Self, Error> {
        let heartbeat = builder.keepalive.heartbeat.take();
        let mut first = builder.clone().connect();
        let waker = Waker::from(Arc::new(NoopWake));
        let mut core = Core {
            builder,
            policy,
            heartbeat,
            phase: Phase::Done,
            attempt: 0,
            outbox: VecDeque::new(),
            outbox_bytes: 0,
            next_seq: 0,
            received: VecDeque::new(),
            end_error: None,
            last_close: None,
            close_requested: false,
            finished: false,
            driver: None,
            reader: None,
            sender: None,
            closers: Vec::new(),
            subscribers: Vec::new(),
            next_subscriber: 0,
        };
        match Pin::new(&mut first).poll(&mut Context::from_waker(&waker)) {
            Poll::Pending => core.phase = Phase::Connecting(first),
            Poll::Ready(Ok(ws)) => core.opened(ws),
            Poll::Ready(Err(error @ (Error::ConnectFailed(_) | Error::Timeout))) => {
                core.retry(Some(error));
            }
            Poll::Ready(Err(error)) => return Err(error),
        }
        let core = Rc::new(RefCell::new(core));
        wasm_bindgen_futures::spawn_local(Driver(core.clone()));
        Ok(ReconnectingWebSocket {
            core,
            terminated: false,
        })
    }

    /// [`State::Open`] while a connection is open; [`State::Connecting`] while connecting,
    /// waiting to retry, or while a lost connection is ending; [`State::Closing`] once a
    /// close was asked for; [`State::Closed`] once it has ended for good.
    pub fn state(&self) -> State {
        self.core.borrow().state()
    }

    /// A new subscription to the [events](ReconnectEvent) from now on (earlier ones are
    /// not replayed: subscribe right after creating the connection). Any number of
    /// subscriptions may exist; each gets every event, queued until it is read, so keep
    /// reading it or drop it. It ends once the connection has ended for good.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use wasm_websocket::{ReconnectEvent, ReconnectPolicy, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let ws = WebSocket::builder("/live").reconnecting(ReconnectPolicy::new())?;
    /// let mut events = ws.events();
    /// while let Some(event) = events.next().await {
    ///     match event {
    ///         ReconnectEvent::Connected { .. } => show_status("online"),
    ///         ReconnectEvent::Retrying { delay, .. } => show_status(&format!("retry in {delay:?}")),
    ///         ReconnectEvent::GaveUp => show_status("offline"),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// # fn show_status(_: &str) {}
    /// ```
    pub fn events(&self) -> ReconnectEvents {
        ReconnectEvents::subscribe(&self.core)
    }

    /// A cheap, cloneable handle for control and inspection, usable after
    /// `StreamExt::split` and after the connection is dropped.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use wasm_websocket::{CloseCode, ReconnectPolicy, WebSocket};
    ///
    /// # async fn run() -> Result<(), wasm_websocket::Error> {
    /// let ws = WebSocket::builder("/live").reconnecting(ReconnectPolicy::new())?;
    /// let handle = ws.handle();
    /// let (sink, stream) = ws.split();
    /// // ... hand `sink` and `stream` to different tasks ...
    /// handle.close(CloseCode::NORMAL, "leaving").await?;
    /// # drop((sink, stream)); Ok(()) }
    /// ```
    pub fn handle(&self) -> ReconnectHandle {
        ReconnectHandle {
            core: self.core.clone(),
        }
    }

    /// Ends the connection for good: no more reconnects. An open connection starts its
    /// closing handshake with `code` and `reason`; a pending attempt or backoff is
    /// cancelled. Messages still in the outbox are not sent (see
    /// [`take_unsent`](Self::take_unsent)); to send them first, use `SinkExt::close`,
    /// which flushes. The state is [`State::Closing`] (or already `Closed`) when this
    /// returns. The future resolves once the end is reached, with the close event of the
    /// last connection, or `None` if no connection was open (or ending) when it ended.
    /// Closing again starts nothing and resolves the same way.
    ///
    /// ```no_run
    /// # async fn run(ws: wasm_websocket::ReconnectingWebSocket) -> Result<(), wasm_websocket::Error> {
    /// use wasm_websocket::CloseCode;
    ///
    /// let event = ws.close(CloseCode::new(4000)?, "bye").await?;
    /// let unsent = ws.take_unsent();
    /// # drop((event, unsent)); Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ReasonTooLong`] for a reason over 123 UTF-8 bytes (checked first; nothing
    /// is changed).
    pub fn close(&self, code: CloseCode, reason: &str) -> ReconnectCloseFuture {
        ReconnectCloseFuture::start(&self.core, code, reason)
    }

    /// Once the connection has ended for good, removes and returns the messages that were
    /// accepted but never (completely) sent, in order; empty before that.
    pub fn take_unsent(&self) -> Vec<Message> {
        take_unsent(&self.core)
    }
}

fn take_unsent(core: &Rc<RefCell<Core>>) -> Vec<Message> {
    let mut core = core.borrow_mut();
    if !core.finished {
        return Vec::new();
    }
    core.outbox_bytes = 0;
    std::mem::take(&mut core.outbox)
        .into_iter()
        .map(|entry| entry.message)
        .collect()
}

impl Drop for ReconnectingWebSocket {
    fn drop(&mut self) {
        let mut core = self.core.borrow_mut();
        core.close_requested = true;
        // Dropping the phase closes an open socket with 1000 and releases its listeners,
        // closes a pending attempt, or clears a backoff timer.
        let phase = std::mem::replace(&mut core.phase, Phase::Done);
        drop(phase);
        if !core.finished {
            core.finish(None);
        }
    }
}

impl Stream for ReconnectingWebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        let mut core = this.core.borrow_mut();
        if let Some(item) = core.received.pop_front() {
            if core.received.len() + 1 == READ_AHEAD {
                // The driver stopped reading at the limit.
                core.wake_driver();
            }
            return Poll::Ready(Some(item));
        }
        if core.finished {
            if let Some(error) = core.end_error.take() {
                return Poll::Ready(Some(Err(error)));
            }
            this.terminated = true;
            return Poll::Ready(None);
        }
        store_waker(&mut core.reader, cx.waker());
        Poll::Pending
    }
}

impl FusedStream for ReconnectingWebSocket {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

impl Sink<Message> for ReconnectingWebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut core = self.core.borrow_mut();
        if core.finished || core.close_requested {
            return Poll::Ready(Err(Error::NotOpen(core.state())));
        }
        if core.outbox.len() < core.policy.outbox_messages
            && core.outbox_bytes <= core.policy.outbox_bytes
        {
            return Poll::Ready(Ok(()));
        }
        if core.is_connected() {
            store_waker(&mut core.sender, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(Err(Error::OutboxFull {
            messages: core.outbox.len(),
            bytes: core.outbox_bytes,
        }))
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let mut core = self.core.borrow_mut();
        if core.finished || core.close_requested {
            return Err(Error::NotOpen(core.state()));
        }
        let seq = core.next_seq;
        core.next_seq += 1;
        core.outbox_bytes += item.len();
        core.outbox.push_back(Entry {
            seq: Some(seq),
            message: item,
        });
        core.wake_driver();
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut core = self.core.borrow_mut();
        if core.outbox.is_empty() && core.inflight_is_empty() {
            return Poll::Ready(Ok(()));
        }
        if core.finished || core.close_requested {
            return Poll::Ready(Err(Error::NotOpen(core.state())));
        }
        store_waker(&mut core.sender, cx.waker());
        Poll::Pending
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let running = {
            let core = self.core.borrow();
            !core.close_requested && !core.finished
        };
        if running {
            std::task::ready!(self.as_mut().poll_flush(cx))?;
            self.core
                .borrow_mut()
                .request_close(CloseCode::NORMAL, "")?;
        }
        let mut core = self.core.borrow_mut();
        if core.finished {
            return Poll::Ready(Ok(()));
        }
        if !core.closers.iter().any(|w| w.will_wake(cx.waker())) {
            core.closers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A cheap, cloneable handle to a [`ReconnectingWebSocket`], from
/// [`ReconnectingWebSocket::handle`]. It keeps working after `StreamExt::split` and after
/// the connection is dropped (which ends it: `state()` is then [`State::Closed`]).
#[derive(Clone)]
pub struct ReconnectHandle {
    core: Rc<RefCell<Core>>,
}

impl fmt::Debug for ReconnectHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectHandle")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl ReconnectHandle {
    /// See [`ReconnectingWebSocket::state`].
    pub fn state(&self) -> State {
        self.core.borrow().state()
    }

    /// See [`ReconnectingWebSocket::events`].
    pub fn events(&self) -> ReconnectEvents {
        ReconnectEvents::subscribe(&self.core)
    }

    /// See [`ReconnectingWebSocket::close`].
    ///
    /// # Errors
    /// As [`ReconnectingWebSocket::close`].
    pub fn close(&self, code: CloseCode, reason: &str) -> ReconnectCloseFuture {
        ReconnectCloseFuture::start(&self.core, code, reason)
    }

    /// See [`ReconnectingWebSocket::take_unsent`].
    pub fn take_unsent(&self) -> Vec<Message> {
        take_unsent(&self.core)
    }
}

/// The stream of [`ReconnectEvent`]s from [`ReconnectingWebSocket::events`]. It ends once
/// the connection has ended for good (after its last event), or has been dropped.
pub struct ReconnectEvents {
    core: Rc<RefCell<Core>>,
    id: u64,
    terminated: bool,
}

impl ReconnectEvents {
    fn subscribe(core: &Rc<RefCell<Core>>) -> ReconnectEvents {
        let mut inner = core.borrow_mut();
        let id = inner.next_subscriber;
        inner.next_subscriber += 1;
        inner.subscribers.push(Subscriber {
            id,
            queue: VecDeque::new(),
            waker: None,
        });
        ReconnectEvents {
            core: core.clone(),
            id,
            terminated: false,
        }
    }
}

impl fmt::Debug for ReconnectEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectEvents").finish_non_exhaustive()
    }
}

impl Drop for ReconnectEvents {
    fn drop(&mut self) {
        let mut core = self.core.borrow_mut();
        core.subscribers
            .retain(|subscriber| subscriber.id != self.id);
    }
}

impl Stream for ReconnectEvents {
    type Item = ReconnectEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ReconnectEvent>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        let mut core = this.core.borrow_mut();
        let finished = core.finished;
        let Some(subscriber) = core.subscribers.iter_mut().find(|s| s.id == this.id) else {
            this.terminated = true;
            return Poll::Ready(None);
        };
        if let Some(event) = subscriber.queue.pop_front() {
            return Poll::Ready(Some(event));
        }
        if finished {
            this.terminated = true;
            return Poll::Ready(None);
        }
        store_waker(&mut subscriber.waker, cx.waker());
        Poll::Pending
    }
}

impl FusedStream for ReconnectEvents {
    fn is_terminated(&self) -> bool {
        self.terminated
    }
}

/// The future returned by [`ReconnectingWebSocket::close`] and [`ReconnectHandle::close`].
/// The close has already started when it is created.
#[must_use = "the close has started; await this to learn how it ended"]
pub struct ReconnectCloseFuture {
    core: Rc<RefCell<Core>>,
    error: Option<Error>,
}

impl ReconnectCloseFuture {
    fn start(core: &Rc<RefCell<Core>>, code: CloseCode, reason: &str) -> Self {
        let error = core.borrow_mut().request_close(code, reason).err();
        ReconnectCloseFuture {
            core: core.clone(),
            error,
        }
    }
}

impl fmt::Debug for ReconnectCloseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectCloseFuture")
            .finish_non_exhaustive()
    }
}

impl Future for ReconnectCloseFuture {
    type Output = Result<Option<CloseEvent>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(error) = &this.error {
            return Poll::Ready(Err(error.clone()));
        }
        let mut core = this.core.borrow_mut();
        if core.finished {
            return Poll::Ready(Ok(core.last_close.clone()));
        }
        if !core.closers.iter().any(|w| w.will_wake(cx.waker())) {
            core.closers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_caps_grow_exponentially_up_to_max() {
        let policy = ReconnectPolicy::new().backoff(
            Duration::from_millis(100),
            Duration::from_millis(1000),
            2.0,
        );
        let caps: Vec<u128> = (1..=7).map(|n| policy.delay_cap(n).as_millis()).collect();
        assert_eq!(caps, [100, 200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(policy.delay_cap(0).as_millis(), 100);
        assert_eq!(policy.delay_cap(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn odd_factors_and_bounds() {
        let ms = Duration::from_millis;
        let flat = ReconnectPolicy::new().backoff(ms(50), ms(500), 0.5);
        assert_eq!(flat.delay_cap(10), ms(50));
        let nan = ReconnectPolicy::new().backoff(ms(50), ms(500), f64::NAN);
        assert_eq!(nan.delay_cap(10), ms(50));
        let inf = ReconnectPolicy::new().backoff(ms(50), ms(500), f64::INFINITY);
        assert_eq!(inf.delay_cap(1), ms(50));
        assert_eq!(inf.delay_cap(2), ms(500));
        // An initial delay above the maximum is capped.
        let high = ReconnectPolicy::new().backoff(ms(900), ms(500), 2.0);
        assert_eq!(high.delay_cap(1), ms(500));
        let zero = ReconnectPolicy::new().backoff(ms(0), ms(0), 2.0);
        assert_eq!(zero.delay(5, 0.7), Duration::ZERO);
    }

    #[test]
    fn full_jitter_stays_within_the_cap() {
        let policy =
            ReconnectPolicy::new().backoff(Duration::from_millis(100), Duration::from_secs(1), 3.0);
        assert_eq!(policy.delay(1, 0.0), Duration::ZERO);
        assert_eq!(policy.delay(1, 0.5), Duration::from_millis(50));
        assert_eq!(policy.delay(2, 0.999_999), Duration::from_millis(299));
        assert_eq!(policy.delay(2, 1.0), Duration::from_millis(300));
        assert_eq!(policy.delay(9, 2.0), Duration::from_secs(1));
    }

    #[test]
    fn policy_defaults() {
        let policy = ReconnectPolicy::default();
        assert_eq!(policy.reconnect_limit, None);
        assert_eq!(policy.stable_after, Duration::from_secs(5));
        assert!(!policy.reconnect_on_clean_close);
        assert_eq!(policy.delay_cap(1), Duration::from_millis(500));
        assert_eq!(policy.delay_cap(100), Duration::from_secs(30));
        assert_eq!(
            (policy.outbox_messages, policy.outbox_bytes),
            (1024, 1 << 20)
        );
    }
}
