//! A [Leptos](https://leptos.dev) hook (crate feature `leptos`, Leptos 0.8, Rust 1.88 or
//! newer): [`use_websocket`] and [`use_websocket_with_options`].
//!
//! The hook keeps one connection per component, a [`ReconnectingWebSocket`] that
//! reconnects with backoff and keeps what is sent while it is disconnected. Its
//! [ready state](UseWebSocketReturn::ready_state) and [last message](UseWebSocketReturn::message)
//! are signals; [`on_message`](UseWebSocketOptions::on_message) sees every message. When
//! the reactive owner that called the hook is cleaned up (the component unmounts), the
//! connection is closed with 1000 and every JS listener and timer it had is released
//! ([`live_listeners`](crate::live_listeners) returns to its previous value); no callback
//! runs after that.
//!
//! The crate enables no Leptos renderer feature: the app chooses `csr` or `hydrate`. In
//! server-side rendering (outside wasm32) the hook never connects.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use wasm_websocket::leptos::{use_websocket_with_options, UseWebSocketOptions};
//! use wasm_websocket::{Message, State};
//!
//! #[component]
//! fn Chat() -> impl IntoView {
//!     let (lines, set_lines) = signal(Vec::<String>::new());
//!     let ws = use_websocket_with_options(
//!         "/chat",
//!         UseWebSocketOptions::new()
//!             .reconnect_limit(Some(5))
//!             .on_message(move |message: &Message| {
//!                 if let Some(text) = message.as_text() {
//!                     set_lines.update(|lines| lines.push(text.to_string()));
//!                 }
//!             }),
//!     );
//!     view! {
//!         <p>"state: " {move || ws.ready_state.get().to_string()}</p>
//!         <button
//!             on:click=move |_| { let _ = ws.send("hello"); }
//!             disabled=move || ws.ready_state.get() != State::Open
//!         >"say hello"</button>
//!         <ul>{move || lines.get().into_iter().map(|line| view! { <li>{line}</li> }).collect_view()}</ul>
//!     }
//! }
//! ```

use std::fmt;
use std::rc::Rc;

use ::leptos::reactive::owner::{on_cleanup, LocalStorage, StoredValue};
use ::leptos::reactive::signal::RwSignal;
use ::leptos::reactive::traits::{Set, WithValue};
use ::leptos::reactive::wrappers::read::Signal;

use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::hooks::controller::{Controller, Report, Settings};
use crate::message::Message;
use crate::state::State;

#[cfg(doc)]
use crate::reconnect::{ReconnectPolicy, ReconnectingWebSocket};

/// The options of [`use_websocket_with_options`], in the vocabulary of other Leptos
/// WebSocket hooks.
///
/// Reconnection follows a [`ReconnectPolicy`]: by default it reconnects forever, with
/// exponential backoff from 0.5 s up to 30 s, after unclean closes (not after a clean
/// close by the server, nor after [`close`](UseWebSocketReturn::close)).
/// `reconnect_limit(Some(0))` turns reconnection off.
///
/// ```no_run
/// use std::time::Duration;
/// use wasm_websocket::leptos::UseWebSocketOptions;
///
/// let options = UseWebSocketOptions::new()
///     .protocols(["chat.v1"])
///     .reconnect_limit(Some(3))
///     .reconnect_interval(Duration::from_secs(3))
///     .on_open(|| web_sys_log("open"))
///     .on_close(|event| web_sys_log(&event.to_string()))
///     .on_error(|error| web_sys_log(&error.to_string()))
///     .immediate(false);
/// # fn web_sys_log(_: &str) {}
/// # drop(options);
/// ```
#[derive(Clone, Default)]
#[must_use = "options do nothing until they are given to `use_websocket_with_options`"]
pub struct UseWebSocketOptions {
    settings: Settings,
    callbacks: Callbacks,
}

/// A callback that is given a reference to a `T`.
type Handler<T> = Option<Rc<dyn Fn(&T)>>;

#[derive(Clone, Default)]
struct Callbacks {
    on_open: Option<Rc<dyn Fn()>>,
    on_message: Handler<Message>,
    on_close: Handler<CloseEvent>,
    on_error: Handler<Error>,
}

impl fmt::Debug for UseWebSocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseWebSocketOptions")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl UseWebSocketOptions {
    /// The defaults: no subprotocols, the default [`ReconnectPolicy`], connect at once.
    pub fn new() -> Self {
        Self::default()
    }

    crate::hooks::controller::settings_methods! {
        module: "leptos",
        open: "crate::leptos::UseWebSocketReturn::open",
        send: "crate::leptos::UseWebSocketReturn::send",
        configure_example: ".idle_timeout(Duration::from_secs(60))",
    }

    /// Called each time a connection opens (after the ready state became
    /// [`State::Open`]).
    pub fn on_open(mut self, callback: impl Fn() + 'static) -> Self {
        self.callbacks.on_open = Some(Rc::new(callback));
        self
    }

    /// Called with every message, in order.
    pub fn on_message(mut self, callback: impl Fn(&Message) + 'static) -> Self {
        self.callbacks.on_message = Some(Rc::new(callback));
        self
    }

    /// Called with the close event of each connection that ended, including one ended by
    /// [`close`](UseWebSocketReturn::close) (not at cleanup).
    pub fn on_close(mut self, callback: impl Fn(&CloseEvent) + 'static) -> Self {
        self.callbacks.on_close = Some(Rc::new(callback));
        self
    }

    /// Called when an attempt to connect fails, when the hook gives up
    /// ([`Error::ConnectionLost`], [`Error::IdleTimeout`], ...), and for a message that
    /// could not be read.
    pub fn on_error(mut self, callback: impl Fn(&Error) + 'static) -> Self {
        self.callbacks.on_error = Some(Rc::new(callback));
        self
    }
}

/// What [`use_websocket`] returns: signals and controls. `Copy`, so it moves into any
/// number of closures; all copies control the same connection.
#[derive(Clone, Copy)]
pub struct UseWebSocketReturn {
    /// The ready state: [`State::Closed`] before the first open (with
    /// [`immediate(false)`](UseWebSocketOptions::immediate)), [`State::Connecting`] while
    /// connecting or waiting to reconnect, [`State::Open`], [`State::Closing`] once
    /// [`close`](Self::close) was called, and [`State::Closed`] once the connection has
    /// ended for good.
    pub ready_state: Signal<State>,
    /// The last message received.
    pub message: Signal<Option<Message>>,
    controller: StoredValue<Controller, LocalStorage>,
}

impl fmt::Debug for UseWebSocketReturn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseWebSocketReturn")
            .field("ready_state", &self.ready_state)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

impl UseWebSocketReturn {
    /// The controller, unless the owner has been cleaned up.
    fn controller(&self) -> Option<Controller> {
        self.controller.try_with_value(Clone::clone)
    }

    /// Sends `message`: at once while open, and on the next connection while
    /// reconnecting (see [`ReconnectingWebSocket`] for the delivery rules).
    ///
    /// # Errors
    /// [`Error::NotOpen`] when there is no connection (never opened, closed, given up,
    /// or cleaned up); [`Error::OutboxFull`] when the outbox is at its
    /// [limit](UseWebSocketOptions::outbox_limit) (the fields then name the limit).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        match self.controller() {
            Some(controller) => controller.send(message.into()),
            None => Err(Error::NotOpen(State::Closed)),
        }
    }

    /// Connects: ends the current connection, if any (closing it with 1000, without
    /// callbacks), and starts a new one. Does nothing after cleanup.
    pub fn open(&self) {
        if let Some(controller) = self.controller() {
            controller.open();
        }
    }

    /// Closes the connection for good with 1000; [`on_close`](UseWebSocketOptions::on_close)
    /// runs when the closing handshake completes.
    pub fn close(&self) {
        if let Some(controller) = self.controller() {
            // An empty reason is never too long.
            let _ = controller.close(CloseCode::NORMAL, "");
        }
    }

    /// Closes the connection for good with `code` and `reason`.
    ///
    /// # Errors
    /// [`Error::ReasonTooLong`] for a reason over 123 UTF-8 bytes (nothing is closed).
    pub fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        match self.controller() {
            Some(controller) => controller.close(code, reason),
            None => Ok(()),
        }
    }

    /// Once the connection has ended for good: the messages it accepted and never sent,
    /// in order (see [`ReconnectingWebSocket::take_unsent`]).
    pub fn take_unsent(&self) -> Vec<Message> {
        self.controller()
            .map(|controller| controller.take_unsent())
            .unwrap_or_default()
    }
}

/// [`use_websocket_with_options`] with the default options: connects to `url` at once
/// and reconnects forever with backoff.
///
/// ```no_run
/// use leptos::prelude::*;
/// use wasm_websocket::leptos::use_websocket;
///
/// #[component]
/// fn Status() -> impl IntoView {
///     let ws = use_websocket("wss://example.org/feed");
///     let last = move || {
///         ws.message
///             .get()
///             .and_then(|m| m.as_text().map(str::to_string))
///             .unwrap_or_default()
///     };
///     view! { <p>{move || ws.ready_state.get().to_string()} ": " {last}</p> }
/// }
/// ```
pub fn use_websocket(url: impl Into<String>) -> UseWebSocketReturn {
    use_websocket_with_options(url, UseWebSocketOptions::default())
}

/// Connects to `url` (relative and `http(s)` URLs resolve like the browser does) unless
/// [`immediate(false)`](UseWebSocketOptions::immediate), and closes the connection and
/// releases everything when the current reactive owner is cleaned up. Call it in a
/// component (or under an [`Owner`](::leptos::reactive::owner::Owner)); without an owner
/// nothing is released until [`close`](UseWebSocketReturn::close).
///
/// See the [module documentation](self) for an example.
pub fn use_websocket_with_options(
    url: impl Into<String>,
    options: UseWebSocketOptions,
) -> UseWebSocketReturn {
    let UseWebSocketOptions {
        mut settings,
        callbacks,
    } = options;
    let immediate = settings.immediate;
    settings.url = url.into();
    let ready_state = RwSignal::new(State::Closed);
    let message = RwSignal::new(None::<Message>);
    let report = LeptosReport {
        ready_state,
        message,
        callbacks,
    };
    let controller = Controller::new(settings, Rc::new(report));
    let stored = StoredValue::new_local(controller.clone());
    on_cleanup(move || {
        if let Some(controller) = stored.try_with_value(Clone::clone) {
            controller.shutdown();
        }
    });
    if immediate {
        controller.open();
    }
    UseWebSocketReturn {
        ready_state: ready_state.read_only().into(),
        message: message.read_only().into(),
        controller: stored,
    }
}

struct LeptosReport {
    ready_state: RwSignal<State>,
    message: RwSignal<Option<Message>>,
    callbacks: Callbacks,
}

impl Report for LeptosReport {
    fn state(&self, state: State) {
        // `Some` back means the signal was disposed: nothing to update.
        let _ = self.ready_state.try_set(state);
    }

    fn open(&self) {
        if let Some(callback) = &self.callbacks.on_open {
            callback();
        }
    }

    fn message(&self, message: Message) {
        // The signal first, so that the callback sees the same last message.
        match &self.callbacks.on_message {
            Some(callback) => {
                let _ = self.message.try_set(Some(message.clone()));
                callback(&message);
            }
            None => {
                let _ = self.message.try_set(Some(message));
            }
        }
    }

    fn close(&self, event: CloseEvent) {
        if let Some(callback) = &self.callbacks.on_close {
            callback(&event);
        }
    }

    fn error(&self, error: Error) {
        if let Some(callback) = &self.callbacks.on_error {
            callback(&error);
        }
    }
}
