//! The framework-neutral part of the [`yew`](super::yew) and [`leptos`](super::leptos)
//! hooks: one [`ReconnectingWebSocket`] at a time, a task that reports what happens to it,
//! and the release of everything when the component goes away.
//!
//! Each framework module turns the reports into its own reactive state and callbacks
//! ([`Report`]) and ties [`Controller::shutdown`] to its unmount.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;
use futures_sink::Sink;

use crate::close::check_reason;
use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::message::Message;
use crate::reconnect::{ReconnectEvent, ReconnectEvents, ReconnectPolicy, ReconnectingWebSocket};
use crate::socket::{Builder, WebSocket};
use crate::state::State;

/// How many stream items or events the task handles before it lets the browser run.
const BUDGET: usize = 64;

/// The outbox limit of [`ReconnectPolicy`]'s default, repeated here so that the hooks can
/// name the limit in [`Error::OutboxFull`].
const DEFAULT_OUTBOX: (usize, usize) = (1024, 1 << 20);

/// What the hooks' options set, apart from the callbacks: everything [`Controller::open`]
/// needs to start a connection.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) url: String,
    pub(crate) protocols: Vec<String>,
    pub(crate) policy: ReconnectPolicy,
    /// The outbox limit given to `policy` (kept here to be named in errors).
    pub(crate) outbox: (usize, usize),
    pub(crate) configure: Option<Rc<dyn Fn(Builder) -> Builder>>,
    /// Whether the hook connects on mount and when the URL changes.
    pub(crate) immediate: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            url: String::new(),
            protocols: Vec::new(),
            policy: ReconnectPolicy::new(),
            outbox: DEFAULT_OUTBOX,
            configure: None,
            immediate: true,
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("url", &self.url)
            .field("protocols", &self.protocols)
            .field("policy", &self.policy)
            .field("outbox", &self.outbox)
            .field("configure", &self.configure.is_some())
            .field("immediate", &self.immediate)
            .finish()
    }
}

impl Settings {
    pub(crate) fn protocols<I, S>(&mut self, protocols: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
    }

    pub(crate) fn configure(&mut self, configure: impl Fn(Builder) -> Builder + 'static) {
        self.configure = Some(Rc::new(configure));
    }

    pub(crate) fn reconnect_limit(&mut self, limit: Option<u32>) {
        self.policy = self.policy.clone().reconnect_limit(limit);
    }

    pub(crate) fn reconnect_interval(&mut self, interval: Duration) {
        self.policy = self.policy.clone().backoff(interval, interval, 1.0);
    }

    pub(crate) fn backoff(&mut self, initial: Duration, max: Duration, factor: f64) {
        self.policy = self.policy.clone().backoff(initial, max, factor);
    }

    pub(crate) fn stable_after(&mut self, duration: Duration) {
        self.policy = self.policy.clone().stable_after(duration);
    }

    pub(crate) fn reconnect_on_clean_close(&mut self, reconnect: bool) {
        self.policy = self.policy.clone().reconnect_on_clean_close(reconnect);
    }

    pub(crate) fn outbox_limit(&mut self, messages: usize, bytes: usize) {
        self.outbox = (messages, bytes);
        self.policy = self.policy.clone().outbox_limit(messages, bytes);
    }
}

/// The builder methods that the hooks' option types share, from `protocols` to
/// `configure`, with their docs: invoked in the `impl` block of a type whose `settings`
/// field is a [`Settings`]. `module` names the hook's module (`"yew"`, `"leptos"`),
/// `send` and `open` the paths of its handle's `send` and `open` methods, for the docs;
/// `configure_example` is the last builder call of `configure`'s example.
macro_rules! settings_methods {
    (
        module: $module:literal,
        open: $open:literal,
        send: $send:literal,
        configure_example: $configure_example:literal $(,)?
    ) => {
        /// Whether the hook connects on mount and when the URL changes; default `true`
        /// (the option of the same name in leptos-use). With `false`,
        #[doc = concat!("call [`open`](", $open, ").")]
        pub fn immediate(mut self, immediate: bool) -> Self {
            self.settings.immediate = immediate;
            self
        }

        /// The subprotocols to offer, most preferred first (see
        /// [`Builder::protocols`](crate::Builder::protocols)).
        pub fn protocols<I, S>(mut self, protocols: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.settings.protocols(protocols);
            self
        }

        /// How many reconnection attempts may follow a stable connection (or the start)
        /// before the hook gives up; `None` (the default) never gives up, `Some(0)` never
        /// reconnects. See
        /// [`ReconnectPolicy::reconnect_limit`](crate::ReconnectPolicy::reconnect_limit).
        pub fn reconnect_limit(mut self, limit: Option<u32>) -> Self {
            self.settings.reconnect_limit(limit);
            self
        }

        /// Waits a random time of up to `interval` before each reconnection attempt (a
        /// constant backoff with full jitter). For an exponential backoff use
        /// [`backoff`](Self::backoff).
        pub fn reconnect_interval(mut self, interval: ::std::time::Duration) -> Self {
            self.settings.reconnect_interval(interval);
            self
        }

        /// Exponential backoff with full jitter; see
        /// [`ReconnectPolicy::backoff`](crate::ReconnectPolicy::backoff).
        pub fn backoff(
            mut self,
            initial: ::std::time::Duration,
            max: ::std::time::Duration,
            factor: f64,
        ) -> Self {
            self.settings.backoff(initial, max, factor);
            self
        }

        /// How long a connection must stay open before the attempt count starts again; see
        /// [`ReconnectPolicy::stable_after`](crate::ReconnectPolicy::stable_after).
        pub fn stable_after(mut self, duration: ::std::time::Duration) -> Self {
            self.settings.stable_after(duration);
            self
        }

        /// Whether a clean close by the server reconnects too (`false` by default); see
        /// [`ReconnectPolicy::reconnect_on_clean_close`](crate::ReconnectPolicy::reconnect_on_clean_close).
        pub fn reconnect_on_clean_close(mut self, reconnect: bool) -> Self {
            self.settings.reconnect_on_clean_close(reconnect);
            self
        }

        #[doc = concat!("Bounds what [`send`](", $send, ") accepts before it is on the wire")]
        /// (default 1024 messages, 1 MiB); see
        /// [`ReconnectPolicy::outbox_limit`](crate::ReconnectPolicy::outbox_limit).
        pub fn outbox_limit(mut self, messages: usize, bytes: usize) -> Self {
            self.settings.outbox_limit(messages, bytes);
            self
        }

        /// Further socket settings for every connection (binary type, connect timeout,
        /// heartbeat, idle timeout, ...), applied to the [`Builder`](crate::Builder) after
        /// the URL and the protocols.
        ///
        /// ```no_run
        /// use std::time::Duration;
        #[doc = concat!("use wasm_websocket::", $module, "::UseWebSocketOptions;")]
        ///
        /// let options = UseWebSocketOptions::new().configure(|builder| {
        ///     builder
        ///         .connect_timeout(Duration::from_secs(5))
        #[doc = concat!("        ", $configure_example)]
        /// });
        /// # drop(options);
        /// ```
        pub fn configure(
            mut self,
            configure: impl Fn($crate::socket::Builder) -> $crate::socket::Builder + 'static,
        ) -> Self {
            self.settings.configure(configure);
            self
        }
    };
}

pub(crate) use settings_methods;

/// Where a [`Controller`] reports to. Called from the connection's task, never while a
/// borrow of the controller's state is held, so an implementation may call back into the
/// controller (e.g. `send` from `on_open`).
pub(crate) trait Report {
    /// The ready state changed.
    fn state(&self, state: State);
    /// A connection opened (after `state(Open)`).
    fn open(&self);
    /// A message arrived.
    fn message(&self, message: Message);
    /// A connection ended, with its close event.
    fn close(&self, event: CloseEvent);
    /// An attempt failed, or the connection gave up, or a message could not be read.
    fn error(&self, error: Error);
}

/// The shared, cloneable control of a hook's connection.
#[derive(Clone)]
pub(crate) struct Controller(Rc<Inner>);

struct Inner {
    settings: RefCell<Settings>,
    /// `None` after `shutdown`, which also breaks any `Rc` cycle through user callbacks.
    report: RefCell<Option<Rc<dyn Report>>>,
    session: RefCell<Option<Session>>,
    shut_down: Cell<bool>,
}

impl fmt::Debug for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("url", &self.0.settings.borrow().url)
            .field("state", &self.state())
            .field("shut_down", &self.0.shut_down.get())
            .finish()
    }
}

impl Controller {
    pub(crate) fn new(settings: Settings, report: Rc<dyn Report>) -> Controller {
        Controller(Rc::new(Inner {
            settings: RefCell::new(settings),
            report: RefCell::new(Some(report)),
            session: RefCell::new(None),
            shut_down: Cell::new(false),
        }))
    }

    /// Replaces the settings; they apply from the next [`open`](Self::open).
    #[cfg_attr(not(feature = "yew"), allow(dead_code))]
    pub(crate) fn set_settings(&self, settings: Settings) {
        *self.0.settings.borrow_mut() = settings;
    }

    #[cfg_attr(not(feature = "yew"), allow(dead_code))]
    pub(crate) fn same(&self, other: &Controller) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    fn report(&self) -> Option<Rc<dyn Report>> {
        self.0.report.borrow().clone()
    }

    fn shared(&self) -> Option<Rc<SessionShared>> {
        let session = self.0.session.borrow();
        session.as_ref().map(|session| session.shared.clone())
    }

    /// The state of the current connection; [`State::Closed`] when there is none.
    pub(crate) fn state(&self) -> State {
        self.shared()
            .map_or(State::Closed, |shared| shared.state.get())
    }

    /// Ends the current connection, if any, and starts a new one with the current
    /// settings. Does nothing after [`shutdown`](Self::shutdown), and outside wasm32 (in
    /// server-side rendering there is no browser to connect from).
    pub(crate) fn open(&self) {
        if self.0.shut_down.get() || !cfg!(target_arch = "wasm32") {
            return;
        }
        self.drop_session();
        let Some(report) = self.report() else {
            return;
        };
        let settings = self.0.settings.borrow().clone();
        let mut builder = WebSocket::builder(settings.url).protocols(settings.protocols);
        if let Some(configure) = &settings.configure {
            builder = configure(builder);
        }
        let ws = match ReconnectingWebSocket::new(builder, settings.policy) {
            Ok(ws) => ws,
            Err(error) => {
                report.error(error);
                report.state(State::Closed);
                return;
            }
        };
        let events = ws.events();
        let state = ws.state();
        let shared = Rc::new(SessionShared {
            ws: RefCell::new(Some(ws)),
            state: Cell::new(state),
            stopped: Cell::new(false),
            waker: RefCell::new(None),
            outbox: settings.outbox,
        });
        *self.0.session.borrow_mut() = Some(Session {
            shared: shared.clone(),
        });
        report.state(state);
        wasm_bindgen_futures::spawn_local(Task {
            shared,
            events: Some(events),
            messages_done: false,
            report,
            last_attempt_error: None,
        });
    }

    /// Closes the current connection for good (no reconnects) with `code` and `reason`.
    /// The close event is reported when the closing handshake completes.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        check_reason(reason)?;
        let Some(shared) = self.shared() else {
            return Ok(());
        };
        if let Ok(ws) = shared.ws.try_borrow() {
            if let Some(ws) = ws.as_ref() {
                // The close has started; its outcome is reported by the task.
                drop(ws.close(code, reason));
            }
        }
        let state = shared.current_state();
        if let Some(report) = self.report() {
            shared.set_state(&*report, state);
        }
        Ok(())
    }

    /// Hands `message` to the current connection's outbox (sent at once while open, on the
    /// next connection while reconnecting).
    pub(crate) fn send(&self, message: Message) -> Result<(), Error> {
        let Some(shared) = self.shared() else {
            return Err(Error::NotOpen(State::Closed));
        };
        let Ok(mut slot) = shared.ws.try_borrow_mut() else {
            return Err(Error::NotOpen(shared.state.get()));
        };
        let Some(ws) = slot.as_mut() else {
            return Err(Error::NotOpen(State::Closed));
        };
        match Pin::new(&mut *ws).poll_ready(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Ok(())) => Pin::new(ws).start_send(message),
            Poll::Ready(Err(error)) => Err(error),
            // Open, and the outbox is at its limit: the browser is still sending earlier
            // messages. A UI call cannot wait, so it is refused rather than queued without
            // bound.
            Poll::Pending => Err(Error::OutboxFull {
                messages: shared.outbox.0,
                bytes: shared.outbox.1,
            }),
        }
    }

    /// The messages the last connection accepted and never sent, once it has ended.
    pub(crate) fn take_unsent(&self) -> Vec<Message> {
        let Some(shared) = self.shared() else {
            return Vec::new();
        };
        let unsent = match shared.ws.try_borrow() {
            Ok(ws) => ws.as_ref().map(ReconnectingWebSocket::take_unsent),
            Err(_) => None,
        };
        unsent.unwrap_or_default()
    }

    /// Drops the current connection (closing it with 1000 if open) and ends its task; no
    /// callback runs for it afterwards, and the state is reported as closed.
    #[cfg_attr(not(feature = "yew"), allow(dead_code))]
    pub(crate) fn stop(&self) {
        if self.drop_session() {
            if let Some(report) = self.report() {
                report.state(State::Closed);
            }
        }
    }

    /// Drops the current connection, if any, without a report; whether there was one.
    fn drop_session(&self) -> bool {
        let session = self.0.session.borrow_mut().take();
        session.is_some()
    }

    /// Drops the connection like [`stop`](Self::stop), and [`open`](Self::open) does
    /// nothing from now on: the component is gone. Releases the callbacks too.
    pub(crate) fn shutdown(&self) {
        self.0.shut_down.set(true);
        let report = self.0.report.borrow_mut().take();
        drop(report);
        self.drop_session();
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.shut_down.set(true);
    }
}

/// One connection of a controller, owned by it; dropping it stops the task and drops the
/// connection.
struct Session {
    shared: Rc<SessionShared>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.stopped.set(true);
        // Dropping the connection closes an open socket with 1000 and releases every
        // listener and timer it has.
        let ws = match self.shared.ws.try_borrow_mut() {
            Ok(mut slot) => slot.take(),
            // Only while the task polls it, which never calls out: the task drops it.
            Err(_) => None,
        };
        drop(ws);
        let waker = self.shared.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

struct SessionShared {
    ws: RefCell<Option<ReconnectingWebSocket>>,
    /// The state last reported.
    state: Cell<State>,
    stopped: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    outbox: (usize, usize),
}

impl SessionShared {
    fn set_state(&self, report: &dyn Report, state: State) {
        if self.state.replace(state) != state {
            report.state(state);
        }
    }

    fn current_state(&self) -> State {
        match self.ws.try_borrow() {
            Ok(ws) => ws
                .as_ref()
                .map_or(State::Closed, ReconnectingWebSocket::state),
            Err(_) => self.state.get(),
        }
    }
}

/// Reads the connection's messages and events and reports them, until the connection has
/// ended for good or the session is stopped.
struct Task {
    shared: Rc<SessionShared>,
    /// `None` once the events have ended.
    events: Option<ReconnectEvents>,
    messages_done: bool,
    report: Rc<dyn Report>,
    /// The last `AttemptFailed` error: when the connection gives up, its stream ends with
    /// the same error, which is not reported twice.
    last_attempt_error: Option<Error>,
}

impl Task {
    fn sync_state(&self) {
        let state = if self.messages_done && self.events.is_none() {
            State::Closed
        } else {
            self.shared.current_state()
        };
        self.shared.set_state(&*self.report, state);
    }

    /// Handles the next event, if one is ready; `false` when none is.
    fn next_event(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(events) = &mut self.events else {
            return false;
        };
        match Pin::new(events).poll_next(cx) {
            Poll::Pending => false,
            Poll::Ready(None) => {
                self.events = None;
                self.sync_state();
                true
            }
            Poll::Ready(Some(event)) => {
                self.sync_state();
                match event {
                    ReconnectEvent::Connected { .. } => self.report.open(),
                    ReconnectEvent::Disconnected { event, .. } => self.report.close(event),
                    ReconnectEvent::AttemptFailed(error)
                    | ReconnectEvent::ProviderFailed(error) => {
                        self.last_attempt_error = Some(error.clone());
                        self.report.error(error);
                    }
                    ReconnectEvent::Retrying { .. } | ReconnectEvent::GaveUp => {}
                }
                true
            }
        }
    }

    fn next_message(&mut self, cx: &mut Context<'_>) -> bool {
        if self.messages_done {
            return false;
        }
        let item = match self.shared.ws.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(ws) => Pin::new(ws).poll_next(cx),
                None => Poll::Ready(None),
            },
            Err(_) => Poll::Pending,
        };
        match item {
            Poll::Pending => false,
            Poll::Ready(None) => {
                self.messages_done = true;
                self.sync_state();
                true
            }
            Poll::Ready(Some(Ok(message))) => {
                self.report.message(message);
                true
            }
            Poll::Ready(Some(Err(error))) => {
                // The events that led to it (e.g. the failed attempt it repeats) first.
                while !self.shared.stopped.get() && self.next_event(cx) {}
                if !self.shared.stopped.get() && self.last_attempt_error.as_ref() != Some(&error) {
                    self.report.error(error);
                }
                true
            }
        }
    }
}

impl Future for Task {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        {
            let mut waker = this.shared.waker.borrow_mut();
            match &*waker {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
        }
        for _ in 0..BUDGET {
            if this.shared.stopped.get() {
                break;
            }
            // Messages first: those a connection received come before its close.
            if this.next_message(cx) || this.next_event(cx) {
                continue;
            }
            if this.messages_done && this.events.is_none() {
                break;
            }
            return Poll::Pending;
        }
        if this.shared.stopped.get() {
            // Releases the connection if the stop found it borrowed.
            let ws = this
                .shared
                .ws
                .try_borrow_mut()
                .ok()
                .and_then(|mut ws| ws.take());
            drop(ws);
        }
        if this.shared.stopped.get() || (this.messages_done && this.events.is_none()) {
            // A connection that ended by itself stays with the session: it holds no JS
            // resources any more, and `take_unsent` still reaches it.
            this.shared.waker.borrow_mut().take();
            return Poll::Ready(());
        }
        // Out of budget: let the browser render and handle input, then go on.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
