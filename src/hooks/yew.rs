//! A [Yew](https://yew.rs) hook (crate feature `yew`, Yew 0.23, Rust 1.84 or newer):
//! [`use_websocket`].
//!
//! The hook keeps one connection per component, a [`ReconnectingWebSocket`] that
//! reconnects with backoff and keeps what is sent while it is disconnected. The component
//! re-renders when the [ready state](UseWebSocketHandle::ready_state) changes and when a
//! message arrives ([`message`](UseWebSocketHandle::message) holds the last one; use
//! [`on_message`](UseWebSocketOptions::on_message) to see every one). When the component
//! unmounts, the connection is closed with 1000 and every JS listener and timer it had is
//! released ([`live_listeners`](crate::live_listeners) returns to its previous value); no
//! callback runs after that.
//!
//! ```no_run
//! use std::time::Duration;
//! use wasm_websocket::yew::{use_websocket, UseWebSocketOptions};
//! use wasm_websocket::{Message, State};
//! use yew::prelude::*;
//!
//! #[function_component]
//! fn Chat() -> Html {
//!     let lines = use_state(Vec::<String>::new);
//!     let options = {
//!         let lines = lines.clone();
//!         UseWebSocketOptions::new()
//!             .reconnect_limit(Some(5))
//!             .reconnect_interval(Duration::from_secs(2))
//!             .on_message(move |message: Message| {
//!                 if let Some(text) = message.as_text() {
//!                     let mut next = (*lines).clone();
//!                     next.push(text.to_string());
//!                     lines.set(next);
//!                 }
//!             })
//!     };
//!     let ws = use_websocket("/chat", options);
//!     let onclick = {
//!         let ws = ws.clone();
//!         Callback::from(move |_| {
//!             // Queued while reconnecting; refused (Err) once closed.
//!             let _ = ws.send("hello");
//!         })
//!     };
//!     html! {
//!         <div>
//!             <p>{ format!("state: {}", *ws.ready_state) }</p>
//!             <button {onclick} disabled={*ws.ready_state != State::Open}>{ "say hello" }</button>
//!             <ul>{ for lines.iter().map(|line| html! { <li>{ line }</li> }) }</ul>
//!         </div>
//!     }
//! }
//! ```

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use ::yew::functional::{
    hook, use_effect_with, use_mut_ref, use_state, use_state_eq, UseStateHandle, UseStateSetter,
};
use ::yew::Callback;

use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::hooks::controller::{Controller, Report, Settings};
use crate::message::Message;
use crate::state::State;

#[cfg(doc)]
use crate::reconnect::{ReconnectPolicy, ReconnectingWebSocket};

/// The options of [`use_websocket`], in the vocabulary of other Yew WebSocket hooks.
///
/// Reconnection follows a [`ReconnectPolicy`]: by default it reconnects forever, with
/// exponential backoff from 0.5 s up to 30 s, after unclean closes (not after a clean
/// close by the server, nor after [`close`](UseWebSocketHandle::close)).
/// `reconnect_limit(Some(0))` turns reconnection off.
///
/// The connection settings apply from the next (re)open; the callbacks are taken from
/// every render, so they may capture the latest state.
///
/// ```no_run
/// use std::time::Duration;
/// use wasm_websocket::yew::UseWebSocketOptions;
/// use wasm_websocket::{CloseEvent, Error};
///
/// let options = UseWebSocketOptions::new()
///     .protocols(["chat.v1"])
///     .reconnect_limit(Some(3))
///     .reconnect_interval(Duration::from_secs(3))
///     .on_open(|()| web_sys_log("open"))
///     .on_close(|event: CloseEvent| web_sys_log(&event.to_string()))
///     .on_error(|error: Error| web_sys_log(&error.to_string()))
///     .immediate(false);
/// # fn web_sys_log(_: &str) {}
/// # drop(options);
/// ```
#[derive(Clone, Default)]
#[must_use = "options do nothing until they are given to `use_websocket`"]
pub struct UseWebSocketOptions {
    settings: Settings,
    callbacks: Callbacks,
}

#[derive(Clone, Default)]
struct Callbacks {
    on_open: Option<Callback<()>>,
    on_message: Option<Callback<Message>>,
    on_close: Option<Callback<CloseEvent>>,
    on_error: Option<Callback<Error>>,
}

impl fmt::Debug for UseWebSocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseWebSocketOptions")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl UseWebSocketOptions {
    /// The defaults: no subprotocols, the default [`ReconnectPolicy`], connect on mount.
    pub fn new() -> Self {
        Self::default()
    }

    crate::hooks::controller::settings_methods! {
        module: "yew",
        open: "crate::yew::UseWebSocketHandle::open",
        send: "crate::yew::UseWebSocketHandle::send",
        configure_example: ".heartbeat(Duration::from_secs(20), \"ping\")",
    }

    /// Called each time a connection opens (after the ready state became
    /// [`State::Open`]).
    pub fn on_open(mut self, callback: impl Into<Callback<()>>) -> Self {
        self.callbacks.on_open = Some(callback.into());
        self
    }

    /// Called with every message, in order.
    pub fn on_message(mut self, callback: impl Into<Callback<Message>>) -> Self {
        self.callbacks.on_message = Some(callback.into());
        self
    }

    /// Called with the close event of each connection that ended, including one ended by
    /// [`close`](UseWebSocketHandle::close) (not at unmount).
    pub fn on_close(mut self, callback: impl Into<Callback<CloseEvent>>) -> Self {
        self.callbacks.on_close = Some(callback.into());
        self
    }

    /// Called when an attempt to connect fails, when the hook gives up
    /// ([`Error::ConnectionLost`], [`Error::IdleTimeout`], ...), and for a message that
    /// could not be read.
    pub fn on_error(mut self, callback: impl Into<Callback<Error>>) -> Self {
        self.callbacks.on_error = Some(callback.into());
        self
    }

    /// `manual(true)` is `immediate(false)`.
    #[deprecated(
        since = "0.2.0",
        note = "use `immediate(!manual)`, as in the Leptos hook"
    )]
    pub fn manual(self, manual: bool) -> Self {
        self.immediate(!manual)
    }
}

/// What [`use_websocket`] returns: the state as of this render, and the controls. Cheap to
/// clone; clones control the same connection.
///
/// `ready_state` and `message` are fields, as in the Leptos hook (there they are signals,
/// here Yew state handles that dereference to the value as of this render).
#[derive(Clone)]
pub struct UseWebSocketHandle {
    /// The ready state: [`State::Closed`] before the first open (with
    /// [`immediate(false)`](UseWebSocketOptions::immediate)), [`State::Connecting`] while
    /// connecting or waiting to reconnect, [`State::Open`], [`State::Closing`] once
    /// [`close`](Self::close) was called, and [`State::Closed`] once the connection has
    /// ended for good.
    pub ready_state: UseStateHandle<State>,
    /// The last message received.
    pub message: UseStateHandle<Option<Message>>,
    controller: Controller,
}

impl fmt::Debug for UseWebSocketHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseWebSocketHandle")
            .field("ready_state", &*self.ready_state)
            .field("message", &*self.message)
            .finish_non_exhaustive()
    }
}

impl PartialEq for UseWebSocketHandle {
    fn eq(&self, other: &Self) -> bool {
        *self.ready_state == *other.ready_state
            && *self.message == *other.message
            && self.controller.same(&other.controller)
    }
}

impl UseWebSocketHandle {
    /// The ready state as of this render.
    #[deprecated(
        since = "0.2.0",
        note = "read the `ready_state` field, as in the Leptos hook"
    )]
    pub fn ready_state(&self) -> State {
        *self.ready_state
    }

    /// The last message received, as of this render.
    #[deprecated(
        since = "0.2.0",
        note = "read the `message` field, as in the Leptos hook"
    )]
    pub fn message(&self) -> Option<&Message> {
        (*self.message).as_ref()
    }

    /// Sends `message`: at once while open, and on the next connection while
    /// reconnecting (see [`ReconnectingWebSocket`] for the delivery rules).
    ///
    /// # Errors
    /// [`Error::NotOpen`] when there is no connection (never opened, closed, or given
    /// up); [`Error::OutboxFull`] when the outbox is at its
    /// [limit](UseWebSocketOptions::outbox_limit) (the fields then name the limit).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.controller.send(message.into())
    }

    /// Connects: ends the current connection, if any (closing it with 1000, without
    /// callbacks), and starts a new one with the current options.
    pub fn open(&self) {
        self.controller.open();
    }

    /// Closes the connection for good with 1000; [`on_close`](UseWebSocketOptions::on_close)
    /// runs when the closing handshake completes.
    pub fn close(&self) {
        // An empty reason is never too long.
        let _ = self.controller.close(CloseCode::NORMAL, "");
    }

    /// Closes the connection for good with `code` and `reason`.
    ///
    /// # Errors
    /// [`Error::ReasonTooLong`] for a reason over 123 UTF-8 bytes (nothing is closed).
    pub fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.controller.close(code, reason)
    }

    /// Once the connection has ended for good: the messages it accepted and never sent,
    /// in order (see [`ReconnectingWebSocket::take_unsent`]).
    pub fn take_unsent(&self) -> Vec<Message> {
        self.controller.take_unsent()
    }
}

/// Connects to `url` (relative and `http(s)` URLs resolve like the browser does) when the
/// component mounts, unless [`immediate(false)`](UseWebSocketOptions::immediate), and again when `url`
/// changes; closes the connection and releases everything when it unmounts.
///
/// ```no_run
/// use wasm_websocket::yew::{use_websocket, UseWebSocketOptions};
/// use yew::prelude::*;
///
/// #[function_component]
/// fn Status() -> Html {
///     let ws = use_websocket("wss://example.org/feed", UseWebSocketOptions::new());
///     let last = ws.message.as_ref().and_then(|m| m.as_text()).unwrap_or("").to_string();
///     html! { <p>{ format!("{}: {last}", *ws.ready_state) }</p> }
/// }
/// ```
#[hook]
pub fn use_websocket(url: impl Into<String>, options: UseWebSocketOptions) -> UseWebSocketHandle {
    let url: String = url.into();
    let UseWebSocketOptions {
        mut settings,
        callbacks,
    } = options;
    let immediate = settings.immediate;
    settings.url = url.clone();

    // Connecting from the first render: the effect below opens right after it.
    let ready_state = use_state_eq(|| {
        if !immediate || !cfg!(target_arch = "wasm32") {
            State::Closed
        } else {
            State::Connecting
        }
    });
    let message = use_state(|| None::<Message>);
    let latest = use_mut_ref(Callbacks::default);
    // The latest callbacks, for the task to call; never borrowed while one runs.
    *latest.borrow_mut() = callbacks;

    let controller = {
        let report = YewReport {
            ready_state: ready_state.setter(),
            message: message.setter(),
            callbacks: latest.clone(),
        };
        let settings = settings.clone();
        let cell = use_mut_ref(move || Controller::new(settings, Rc::new(report)));
        let controller = cell.borrow().clone();
        controller
    };
    controller.set_settings(settings);

    {
        let controller = controller.clone();
        use_effect_with(url, move |_| {
            if immediate {
                controller.open();
            }
            move || controller.stop()
        });
    }
    {
        let controller = controller.clone();
        use_effect_with((), move |()| move || controller.shutdown());
    }

    UseWebSocketHandle {
        ready_state,
        message,
        controller,
    }
}

struct YewReport {
    ready_state: UseStateSetter<State>,
    message: UseStateSetter<Option<Message>>,
    callbacks: Rc<RefCell<Callbacks>>,
}

impl YewReport {
    /// A clone of one callback, so that none is borrowed while it runs (a re-render
    /// replaces them).
    fn callback<T>(&self, pick: impl Fn(&Callbacks) -> Option<T>) -> Option<T> {
        self.callbacks.try_borrow().ok().and_then(|c| pick(&c))
    }
}

impl Report for YewReport {
    fn state(&self, state: State) {
        self.ready_state.set(state);
    }

    fn open(&self) {
        if let Some(callback) = self.callback(|c| c.on_open.clone()) {
            callback.emit(());
        }
    }

    fn message(&self, message: Message) {
        let callback = self.callback(|c| c.on_message.clone());
        self.message.set(Some(message.clone()));
        if let Some(callback) = callback {
            callback.emit(message);
        }
    }

    fn close(&self, event: CloseEvent) {
        if let Some(callback) = self.callback(|c| c.on_close.clone()) {
            callback.emit(event);
        }
    }

    fn error(&self, error: Error) {
        if let Some(callback) = self.callback(|c| c.on_error.clone()) {
            callback.emit(error);
        }
    }
}
