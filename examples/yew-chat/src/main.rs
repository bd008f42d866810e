//! A small chat in Yew on `wasm_websocket::yew::use_websocket`, talking to an echo server
//! at `/echo` on the page's own host (the test peer serves both).
//!
//! Build: `cargo build --target wasm32-unknown-unknown -p yew-chat`, then
//! `wasm-bindgen --target web --out-dir pkg --out-name app <target>/wasm32-unknown-unknown/debug/yew-chat.wasm`
//! next to `index.html` (`cargo xtask test` does this and smoke-tests the result).

use std::rc::Rc;

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_websocket::yew::{use_websocket, UseWebSocketOptions};
use wasm_websocket::{CloseEvent, Error, Message, State};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// One line of the chat log.
#[derive(Clone, PartialEq)]
enum Line {
    /// A message from the server.
    In(String),
    /// A message we sent.
    Out(String),
    /// Something that happened to the connection.
    Event(String),
}

#[derive(Default, PartialEq)]
struct Log(Vec<Line>);

impl Reducible for Log {
    type Action = Line;

    fn reduce(self: Rc<Self>, line: Line) -> Rc<Self> {
        let mut lines = self.0.clone();
        lines.push(line);
        Rc::new(Log(lines))
    }
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => text.clone(),
        Message::Binary(bytes) => format!("({} bytes)", bytes.len()),
    }
}

#[function_component]
fn Chat() -> Html {
    let log = use_reducer(Log::default);
    let input = use_node_ref();

    let options = {
        let (opened, received, closed, failed) = (
            log.dispatcher(),
            log.dispatcher(),
            log.dispatcher(),
            log.dispatcher(),
        );
        UseWebSocketOptions::new()
            .reconnect_limit(Some(5))
            .on_open(move |()| opened.dispatch(Line::Event("connected".into())))
            .on_message(move |message: Message| received.dispatch(Line::In(describe(&message))))
            .on_close(move |event: CloseEvent| {
                closed.dispatch(Line::Event(format!("closed ({})", event.code)));
            })
            .on_error(move |error: Error| failed.dispatch(Line::Event(format!("error: {error}"))))
    };
    let ws = use_websocket("/echo", options);

    let onsubmit = {
        let (ws, log, input) = (ws.clone(), log.clone(), input.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(field) = input.cast::<HtmlInputElement>() else {
                return;
            };
            let text = field.value();
            if text.is_empty() {
                return;
            }
            match ws.send(text.as_str()) {
                Ok(()) => {
                    log.dispatch(Line::Out(text));
                    field.set_value("");
                }
                Err(error) => log.dispatch(Line::Event(format!("not sent: {error}"))),
            }
        })
    };
    let connect = {
        let ws = ws.clone();
        Callback::from(move |_: MouseEvent| ws.open())
    };
    let disconnect = {
        let ws = ws.clone();
        Callback::from(move |_: MouseEvent| ws.close())
    };

    let state = *ws.ready_state;
    html! {
        <section class="chat">
            <p>{ "connection: " }<span id="state" data-state={state.as_str()}>{ state.as_str() }</span></p>
            <ul id="log">
                { for log.0.iter().map(|line| match line {
                    Line::In(text) => html! { <li class="in">{ text }</li> },
                    Line::Out(text) => html! { <li class="out">{ text }</li> },
                    Line::Event(text) => html! { <li class="event">{ text }</li> },
                }) }
            </ul>
            <form {onsubmit}>
                <input id="text" ref={input} placeholder="say something" autocomplete="off" />
                <button id="send" type="submit" disabled={state != State::Open}>{ "Send" }</button>
            </form>
            <button id="disconnect" onclick={disconnect} disabled={state != State::Open}>{ "Disconnect" }</button>
            <button id="connect" onclick={connect} disabled={state != State::Closed}>{ "Connect" }</button>
        </section>
    }
}

#[function_component]
fn App() -> Html {
    let joined = use_state(|| true);
    let toggle = {
        let joined = joined.clone();
        Callback::from(move |_: MouseEvent| joined.set(!*joined))
    };
    html! {
        <main>
            <h1>{ "yew-chat" }</h1>
            // Leaving unmounts the chat: its socket closes and its listeners are released.
            <button id="toggle" onclick={toggle}>{ if *joined { "Leave" } else { "Join" } }</button>
            if *joined { <Chat /> }
        </main>
    }
}

/// For the smoke test: the crate's count of live JS listeners and timers.
#[wasm_bindgen]
pub fn live_listeners() -> u32 {
    u32::try_from(wasm_websocket::live_listeners()).unwrap_or(u32::MAX)
}

fn main() {
    match app_root() {
        Some(root) => yew::Renderer::<App>::with_root(root).render(),
        None => yew::Renderer::<App>::new().render(),
    };
}

/// The page's `#app` element, if it has one.
fn app_root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id("app")
}
