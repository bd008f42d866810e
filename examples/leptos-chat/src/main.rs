//! A small chat in Leptos on `wasm_websocket::leptos::use_websocket_with_options`, talking
//! to an echo server at `/echo` on the page's own host (the test peer serves both).
//!
//! Build: `cargo build --target wasm32-unknown-unknown -p leptos-chat`, then
//! `wasm-bindgen --target web --out-dir pkg --out-name app <target>/wasm32-unknown-unknown/debug/leptos-chat.wasm`
//! next to `index.html` (`cargo xtask test` does this and smoke-tests the result).

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_websocket::leptos::{use_websocket_with_options, UseWebSocketOptions};
use wasm_websocket::{Message, State};

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

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => text.clone(),
        Message::Binary(bytes) => format!("({} bytes)", bytes.len()),
    }
}

#[component]
fn Chat() -> impl IntoView {
    let (log, set_log) = signal(Vec::<Line>::new());
    let push = move |line: Line| set_log.update(|lines| lines.push(line));
    let (text, set_text) = signal(String::new());

    let ws = use_websocket_with_options(
        "/echo",
        UseWebSocketOptions::new()
            .reconnect_limit(Some(5))
            .on_open(move || push(Line::Event("connected".into())))
            .on_message(move |message| push(Line::In(describe(message))))
            .on_close(move |event| push(Line::Event(format!("closed ({})", event.code))))
            .on_error(move |error| push(Line::Event(format!("error: {error}")))),
    );

    let send = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let value = text.get_untracked();
        if value.is_empty() {
            return;
        }
        match ws.send(value.as_str()) {
            Ok(()) => {
                push(Line::Out(value));
                set_text.set(String::new());
            }
            Err(error) => push(Line::Event(format!("not sent: {error}"))),
        }
    };
    let state = move || ws.ready_state.get();

    view! {
        <section class="chat">
            <p>"connection: "
                <span id="state" data-state=move || state().as_str()>{move || state().as_str()}</span>
            </p>
            <ul id="log">
                {move || log.get().into_iter().map(|line| match line {
                    Line::In(text) => view! { <li class="in">{text}</li> },
                    Line::Out(text) => view! { <li class="out">{text}</li> },
                    Line::Event(text) => view! { <li class="event">{text}</li> },
                }).collect_view()}
            </ul>
            <form on:submit=send>
                <input id="text" placeholder="say something" autocomplete="off"
                    prop:value=text
                    on:input=move |event| set_text.set(event_target_value(&event)) />
                <button id="send" type="submit" disabled=move || state() != State::Open>"Send"</button>
            </form>
            <button id="disconnect" on:click=move |_| ws.close() disabled=move || state() != State::Open>
                "Disconnect"
            </button>
            <button id="connect" on:click=move |_| ws.open() disabled=move || state() != State::Closed>
                "Connect"
            </button>
        </section>
    }
}

#[component]
fn App() -> impl IntoView {
    let (joined, set_joined) = signal(true);
    view! {
        <main>
            <h1>"leptos-chat"</h1>
            // Leaving unmounts the chat: its socket closes and its listeners are released.
            <button id="toggle" on:click=move |_| set_joined.update(|joined| *joined = !*joined)>
                {move || if joined.get() { "Leave" } else { "Join" }}
            </button>
            <Show when=move || joined.get()>
                <Chat />
            </Show>
        </main>
    }
}

/// For the smoke test: the crate's count of live JS listeners and timers.
#[wasm_bindgen]
pub fn live_listeners() -> u32 {
    u32::try_from(wasm_websocket::live_listeners()).unwrap_or(u32::MAX)
}

fn main() {
    let root = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.get_element_by_id("app"))
        .and_then(|element| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(element).ok());
    match root {
        Some(root) => leptos::mount::mount_to(root, App).forget(),
        None => leptos::mount::mount_to_body(App),
    }
}
