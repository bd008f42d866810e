//! The public face: [`ReconnectingWebSocket`] (Stream + Sink), [`ReconnectHandle`],
//! [`ReconnectEvents`] and [`ReconnectCloseFuture`], over the state they share with the
//! driver.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;

use super::driver::Shared;
use super::driver::{Driver, Io, Live};
use super::events::ReconnectEvent;
use super::machine::{Input, Machine, Ready};
use super::platform;
use super::policy::ReconnectPolicy;
use super::shared::Wakes;
use super::target::{self, ConnectTarget};
use super::READ_AHEAD;
use crate::close::{check_reason, CloseCode};
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::message::Message;
use crate::socket::Builder;
#[cfg(doc)]
use crate::socket::WebSocket;
use crate::state::State;
use crate::sync::{self, MaybeSend};
use crate::waker::store_waker;

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
/// [`Error::ConnectionLost`], [`Error::IdleTimeout`], ...) and then `None`, unless
/// [`reconnect`](Self::reconnect) is called before the reader polls past that error (a
/// reader that stops at the error, e.g. with `?`, can call it and read on). It yields
/// [`Error::ReceiveQueueFull`] without ending when a connection refused messages because
/// of [`Builder::max_queued`] (then reconnects), and passes on per-message errors of the
/// socket.
///
/// What it holds for a reader that falls behind is bounded: while a connection is open the
/// reader takes its messages straight from the socket, nothing is read ahead (the socket's
/// own flow control or [`Builder::max_queued`] applies); a connection that ends is read to
/// its end, and the next attempt then waits until the reader has taken all but 64 of its
/// messages. So at most one connection's backlog and 64 messages wait, and a reader that
/// stalls delays the reconnect instead of letting every connection add its backlog.
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
/// # Native targets
/// Outside wasm32 it runs on tokio (its driver is a task on the runtime it was created
/// in; outside one, creating it is [`Error::Unsupported`]), and it, its handle, events
/// and futures are `Send`. "Unsent" there means not yet written to the TCP socket. The
/// browser triggers ([`ReconnectTriggers`](crate::ReconnectTriggers)) do not exist
/// natively; a late heartbeat tick (the machine slept) still checks the connection.
///
/// It is `Unpin`, and `!Send` on wasm32 (browser objects are single-threaded). The
/// inherent [`close`](Self::close) shadows `SinkExt::close`; call the latter as
/// `SinkExt::close(&mut ws)`.
pub struct ReconnectingWebSocket {
    shared: sync::Shared<Shared>,
    terminated: bool,
}

impl fmt::Debug for ReconnectingWebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL first: `state` needs the lock this takes.
        let url = (self.shared.io.try_lock()).map(|io| io.builder.url.clone());
        f.debug_struct("ReconnectingWebSocket")
            .field("url", &url.unwrap_or_default())
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

    /// A [`ReconnectingWebSocket`] with this configuration and `policy` whose attempts
    /// connect where `provider` says. Same as [`ReconnectingWebSocket::with_provider`].
    ///
    /// ```no_run
    /// # fn run() -> Result<(), wasm_websocket::Error> {
    /// use wasm_websocket::{ConnectTarget, Error, ReconnectPolicy, WebSocket};
    ///
    /// let ws = WebSocket::builder("wss://example.org/live").reconnecting_with(
    ///     ReconnectPolicy::new(),
    ///     |attempt: u32| async move {
    ///         let token = fetch_token().await?;
    ///         Ok::<_, Error>(ConnectTarget::new(format!("wss://example.org/live?token={token}")))
    ///     },
    /// )?;
    /// # drop(ws); Ok(()) }
    /// # async fn fetch_token() -> Result<String, wasm_websocket::Error> { Ok(String::new()) }
    /// ```
    ///
    /// # Errors
    /// As [`ReconnectingWebSocket::with_provider`].
    pub fn reconnecting_with<F, Fut>(
        self,
        policy: ReconnectPolicy,
        provider: F,
    ) -> Result<ReconnectingWebSocket, Error>
    where
        F: Fn(u32) -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<ConnectTarget, Error>> + MaybeSend + 'static,
    {
        ReconnectingWebSocket::with_provider(self, policy, provider)
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
    /// ([`Error::ConnectFailed`], [`Error::Timeout`]) are retried instead. Natively,
    /// outside a tokio runtime: [`Error::Unsupported`].
    pub fn new(mut builder: Builder, policy: ReconnectPolicy) -> Result<Self, Error> {
        platform::can_spawn()?;
        // The driver sends the heartbeat itself, so that its bytes are accounted for; the
        // socket's own timer then runs only if an idle timeout needs it.
        let heartbeat = builder.keepalive.take_heartbeat();
        let first = builder.clone().connect();
        let machine = Machine::new(policy, heartbeat, Box::new(platform::random));
        Self::start(machine, Io::new(builder, first))
    }

    /// Like [`new`](Self::new), but every attempt, the first included, connects where
    /// `provider` says: it is called with the attempt's number (0 for the first attempt
    /// and for one started by [`reconnect`](Self::reconnect), then the `attempt` of
    /// [`ReconnectEvent::Retrying`]) and returns a future of the URL and subprotocols
    /// ([`ConnectTarget`]); the builder's other settings (timeouts, heartbeat, backend,
    /// ...) apply to every attempt, and its own URL and protocols are not used. The
    /// connect timeout counts from when the provider's future has resolved.
    ///
    /// For what must be fresh for every attempt, e.g. an auth token (browsers allow no
    /// headers, so a token travels in the URL or a subprotocol):
    ///
    /// ```no_run
    /// # fn run() -> Result<(), wasm_websocket::Error> {
    /// use wasm_websocket::{ConnectTarget, Error, ReconnectPolicy, ReconnectingWebSocket, WebSocket};
    ///
    /// let builder = WebSocket::builder("wss://example.org/live"); // the URL is replaced
    /// let ws = ReconnectingWebSocket::with_provider(builder, ReconnectPolicy::new(), |attempt| async move {
    ///     let token = fetch_token(attempt).await?;
    ///     Ok::<_, Error>(
    ///         ConnectTarget::new("wss://example.org/live").protocols(["v1", &format!("token.{token}")]),
    ///     )
    /// })?;
    /// # drop(ws); Ok(()) }
    /// # async fn fetch_token(_: u32) -> Result<String, wasm_websocket::Error> { Ok(String::new()) }
    /// ```
    ///
    /// An error from the provider counts as a failed attempt: it is reported as
    /// [`ReconnectEvent::ProviderFailed`], then the connection backs off and calls the
    /// provider again, and at the [limit](ReconnectPolicy::reconnect_limit) it gives up
    /// with that error (whatever it is: only the provider knows whether trying again can
    /// help). A target the browser refuses at once (a bad URL or protocol) gives up, as
    /// with [`new`](Self::new).
    ///
    /// # Errors
    /// As [`new`](Self::new) when the provider's first future is ready at once (an
    /// `async` block that does not wait); otherwise those errors come later, as
    /// [`ReconnectEvent::AttemptFailed`] and `GaveUp`, and the stream ends with them.
    pub fn with_provider<F, Fut>(
        mut builder: Builder,
        policy: ReconnectPolicy,
        provider: F,
    ) -> Result<Self, Error>
    where
        F: Fn(u32) -> Fut + MaybeSend + 'static,
        Fut: Future<Output = Result<ConnectTarget, Error>> + MaybeSend + 'static,
    {
        let heartbeat = builder.keepalive.take_heartbeat();
        let machine = Machine::new(policy, heartbeat, Box::new(platform::random));
        Self::start(machine, Io::providing(builder, target::provider(provider)))
    }

    /// Runs a first step (to learn the errors the browser reports at once), then spawns
    /// the driver.
    fn start(machine: Machine, io: Io) -> Result<Self, Error> {
        platform::can_spawn()?;
        let shared = sync::Shared::new(Shared::new(machine, io));
        let driver = Driver(shared.clone());
        {
            // A first step learns the errors the browser reports at once.
            let mut wakes = Wakes::default();
            let mut io = shared.io.lock();
            driver.step(&mut io, &mut Context::from_waker(Waker::noop()), &mut wakes);
        }
        {
            let core = shared.core.lock();
            let unfixable = core
                .machine
                .end_error()
                .filter(|error| !matches!(error, Error::ConnectFailed(_) | Error::Timeout));
            if let Some(error) = unfixable {
                return Err(error.clone());
            }
        }
        drop(driver);
        spawn_driver(&shared)?;
        Ok(ReconnectingWebSocket {
            shared,
            terminated: false,
        })
    }

    /// [`State::Open`] while a connection is open; [`State::Connecting`] while connecting,
    /// waiting to retry, or while a lost connection is ending; [`State::Closing`] once a
    /// close was asked for; [`State::Closed`] once it has ended for good.
    pub fn state(&self) -> State {
        self.shared.state()
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
        ReconnectEvents::subscribe(&self.shared)
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
            shared: self.shared.clone(),
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
        ReconnectCloseFuture::start(&self.shared, code, reason)
    }

    /// Once the connection has ended for good, removes and returns the messages that were
    /// accepted but never (completely) sent, in order; empty before that.
    pub fn take_unsent(&self) -> Vec<Message> {
        self.shared.take_unsent()
    }

    /// Starts a fresh attempt now, numbered 0 (the attempt count starts over), without
    /// backoff:
    /// - while a connection is open, it is closed with 1000 `"reconnect"` and the attempt
    ///   follows its close ([`ReconnectEvent::Disconnected`], then `Connected { attempt: 0 }`);
    ///   the [delivery rules](Self#delivery) are those of a close the application asked
    ///   for: what the connection was handed arrives, the outbox goes to the next one;
    /// - while waiting to retry, the wait is skipped; while an attempt is pending, it is
    ///   abandoned for a new one (a provider is called again);
    /// - after [`ReconnectEvent::GaveUp`], or after a close the policy does not retry, it
    ///   comes back: state `Connecting`, the `Sink` takes messages again (those still in
    ///   the outbox are sent), and the stream goes on with the new connection's messages.
    ///   This works until the reader has seen the stream's end (`None`; the error that
    ///   ended it comes before that and is dropped if the reader had not taken it yet):
    ///   a stream that has ended stays ended. Event subscriptions that had ended stay
    ///   ended too; [subscribe](Self::events) again.
    ///
    /// As always, the next attempt also waits until the reader has taken all but 64 of
    /// the messages received.
    ///
    /// ```no_run
    /// # async fn run(ws: wasm_websocket::ReconnectingWebSocket) -> Result<(), wasm_websocket::Error> {
    /// use futures::StreamExt;
    ///
    /// let handle = ws.handle();
    /// let (_sink, mut stream) = ws.split();
    /// while let Some(message) = stream.next().await {
    ///     if let Err(error) = message {
    ///         // It gave up; the stream has not returned `None`, so it can come back
    ///         // (e.g. once the user clicks "retry").
    ///         show_offline(&error);
    ///         handle.reconnect()?;
    ///     }
    /// }
    /// # Ok(()) }
    /// # fn show_offline(_: &wasm_websocket::Error) {}
    /// ```
    ///
    /// # Errors
    /// [`Error::NotOpen`] once a close was asked for ([`close`](Self::close),
    /// `SinkExt::close`) and once the stream has returned `None`; nothing is changed.
    pub fn reconnect(&self) -> Result<(), Error> {
        reconnect(&self.shared)
    }
}

/// Spawns the driver task, which runs until the machine finishes.
fn spawn_driver(shared: &sync::Shared<Shared>) -> Result<(), Error> {
    shared.driver_running.set(true);
    let shared = shared.clone();
    // The browser events it acts on, for as long as it runs.
    #[cfg(target_arch = "wasm32")]
    {
        let triggers = shared.core.lock().machine.triggers();
        let weak = sync::Shared::downgrade(&shared);
        let wake = super::wake::WakeListeners::new(triggers, move |input| {
            if let Some(shared) = weak.upgrade() {
                shared.input(input);
            }
        });
        if let Some(mut io) = shared.io.enter() {
            io.wake = Some(wake);
        }
    }
    let running = shared.clone();
    platform::spawn(async move {
        Driver(shared.clone()).await;
        shared.driver_running.set(false);
    })
    .inspect_err(|_| running.driver_running.set(false))
}

/// [`ReconnectingWebSocket::reconnect`].
fn reconnect(shared: &sync::Shared<Shared>) -> Result<(), Error> {
    if shared.stream_ended.get() {
        return Err(Error::NotOpen(State::Closed));
    }
    if let Some(error) = shared.core.lock().machine.reconnect_refused() {
        return Err(error);
    }
    shared.input(Input::Reconnect);
    if !shared.driver_running.get() && !shared.core.lock().machine.finished() {
        spawn_driver(shared)?;
    }
    Ok(())
}

impl Drop for ReconnectingWebSocket {
    fn drop(&mut self) {
        let released = self.shared.io.enter().map(|mut io| io.release_all());
        // Ends it (and releases through the driver what could not be taken above).
        self.shared.input(Input::Dropped);
        // Closes an open socket with 1000 and releases its listeners, closes a pending
        // attempt, or clears a timer; after the borrows, as it may wake the driver.
        drop(released);
    }
}

impl Stream for ReconnectingWebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        let mut wakes = Wakes::default();
        // `io` before `core`, as the driver takes them, and for the whole poll: natively
        // the driver runs on another thread, and must not move the open connection's
        // messages into the queue between the queue's check and the live read below.
        // `None` only on wasm32, if polled from inside the driver's own step.
        let mut io = this.shared.io.enter();
        {
            let mut core = this.shared.core.lock();
            if let Some(item) = core.received.pop_front() {
                if core.received.len() + 1 == READ_AHEAD {
                    // The driver holds the next attempt until the reader catches up.
                    wakes.driver(&core);
                }
                return Poll::Ready(Some(item));
            }
            if core.machine.finished() {
                if let Some(error) = core.machine.take_end_error() {
                    return Poll::Ready(Some(Err(error)));
                }
                this.terminated = true;
                this.shared.stream_ended.set(true);
                return Poll::Ready(None);
            }
            store_waker(&mut core.reader, cx.waker());
            if !core.machine.is_sending() {
                // No connection, or an ending one, which the driver reads to its end.
                return Poll::Pending;
            }
        }
        // What is queued came first; now the open connection's own queue, directly.
        let Some(io) = io.as_mut() else {
            // Come back after the driver's step.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        match io.poll_live(cx) {
            Live::Item(item) => Poll::Ready(Some(item)),
            Live::Ended => {
                wakes.driver(&this.shared.core.lock());
                Poll::Pending
            }
            Live::Nothing => Poll::Pending,
        }
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
        let open = self.shared.socket_open();
        let mut core = self.shared.core.lock();
        match core.machine.ready(open) {
            Ready::Yes => Poll::Ready(Ok(())),
            Ready::Wait => {
                store_waker(&mut core.sender, cx.waker());
                Poll::Pending
            }
            Ready::No(error) => Poll::Ready(Err(error)),
        }
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        let mut wakes = Wakes::default();
        let mut core = self.shared.core.lock();
        core.machine.accept(item)?;
        wakes.driver(&core);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let open = self.shared.socket_open();
        let mut core = self.shared.core.lock();
        if core.machine.flushed() {
            return Poll::Ready(Ok(()));
        }
        if core.machine.finished() || core.machine.close_requested() {
            return Poll::Ready(Err(Error::NotOpen(core.machine.state(open))));
        }
        store_waker(&mut core.sender, cx.waker());
        Poll::Pending
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let running = {
            let core = self.shared.core.lock();
            !core.machine.close_requested() && !core.machine.finished()
        };
        if running {
            std::task::ready!(self.as_mut().poll_flush(cx))?;
            self.shared.input(Input::Close {
                code: CloseCode::NORMAL,
                reason: String::new(),
            });
        }
        poll_end(&self.shared, cx).map(|_| Ok(()))
    }
}

/// Resolves once the connection has ended for good, with the last close event.
fn poll_end(shared: &Shared, cx: &mut Context<'_>) -> Poll<Option<CloseEvent>> {
    let mut core = shared.core.lock();
    if core.machine.finished() {
        return Poll::Ready(core.machine.last_close());
    }
    if !core.closers.iter().any(|w| w.will_wake(cx.waker())) {
        core.closers.push(cx.waker().clone());
    }
    Poll::Pending
}

/// A cheap, cloneable handle to a [`ReconnectingWebSocket`], from
/// [`ReconnectingWebSocket::handle`]. It keeps working after `StreamExt::split` and after
/// the connection is dropped (which ends it: `state()` is then [`State::Closed`]).
#[derive(Clone)]
pub struct ReconnectHandle {
    shared: sync::Shared<Shared>,
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
        self.shared.state()
    }

    /// See [`ReconnectingWebSocket::events`].
    pub fn events(&self) -> ReconnectEvents {
        ReconnectEvents::subscribe(&self.shared)
    }

    /// See [`ReconnectingWebSocket::close`].
    ///
    /// # Errors
    /// As [`ReconnectingWebSocket::close`].
    pub fn close(&self, code: CloseCode, reason: &str) -> ReconnectCloseFuture {
        ReconnectCloseFuture::start(&self.shared, code, reason)
    }

    /// See [`ReconnectingWebSocket::take_unsent`].
    pub fn take_unsent(&self) -> Vec<Message> {
        self.shared.take_unsent()
    }

    /// See [`ReconnectingWebSocket::reconnect`].
    ///
    /// ```no_run
    /// # fn run(ws: &wasm_websocket::ReconnectingWebSocket) -> Result<(), wasm_websocket::Error> {
    /// let handle = ws.handle();
    /// handle.reconnect()?; // e.g. the network came back: do not wait for the backoff
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`ReconnectingWebSocket::reconnect`].
    pub fn reconnect(&self) -> Result<(), Error> {
        reconnect(&self.shared)
    }
}

/// The stream of [`ReconnectEvent`]s from [`ReconnectingWebSocket::events`]. It ends once
/// the connection has ended for good (after its last event), or has been dropped.
///
/// Each subscription keeps at most 1024 unread events: a subscriber that falls further
/// behind skips the oldest ones, and [`skipped`](Self::skipped) counts them.
pub struct ReconnectEvents {
    shared: sync::Shared<Shared>,
    id: u64,
    terminated: bool,
}

impl ReconnectEvents {
    fn subscribe(shared: &sync::Shared<Shared>) -> ReconnectEvents {
        let id = shared.core.lock().subscribe();
        ReconnectEvents {
            shared: shared.clone(),
            id,
            terminated: false,
        }
    }
}

impl ReconnectEvents {
    /// How many events this subscription skipped because it fell 1024 events behind.
    ///
    /// ```no_run
    /// # fn run(ws: &wasm_websocket::ReconnectingWebSocket) {
    /// let events = ws.events();
    /// assert_eq!(events.skipped(), 0);
    /// # }
    /// ```
    pub fn skipped(&self) -> u64 {
        self.shared.core.lock().skipped(self.id)
    }
}

impl fmt::Debug for ReconnectEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReconnectEvents").finish_non_exhaustive()
    }
}

impl Drop for ReconnectEvents {
    fn drop(&mut self) {
        self.shared.core.lock().unsubscribe(self.id);
    }
}

impl Stream for ReconnectEvents {
    type Item = ReconnectEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ReconnectEvent>> {
        let this = self.get_mut();
        if this.terminated {
            return Poll::Ready(None);
        }
        let event = std::task::ready!(this.shared.core.lock().poll_event(this.id, cx));
        this.terminated = event.is_none();
        Poll::Ready(event)
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
    shared: sync::Shared<Shared>,
    error: Option<Error>,
}

impl ReconnectCloseFuture {
    fn start(shared: &sync::Shared<Shared>, code: CloseCode, reason: &str) -> Self {
        let error = check_reason(reason).err();
        if error.is_none() {
            shared.input(Input::Close {
                code,
                reason: reason.to_string(),
            });
        }
        ReconnectCloseFuture {
            shared: shared.clone(),
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
        poll_end(&this.shared, cx).map(Ok)
    }
}
