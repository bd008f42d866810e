//! The browser front: the page's form sends lines, its log shows the chat's events and
//! `#state` the connection's state. The chat's route is on the page's own host; the
//! page's query (`?room=...`) is passed on to it.

use std::convert::Infallible;

use futures::channel::mpsc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_websocket::State;
use web_sys::{Document, Element, HtmlInputElement};

use crate::chat::{self, Event};

/// The peer's broadcast route.
const ROUTE: &str = "/chat";

/// The elements of `index.html` the chat uses.
struct Page {
    document: Document,
    form: Element,
    text: HtmlInputElement,
    state: Element,
    log: Element,
}

impl Page {
    fn find() -> Option<Page> {
        let document = web_sys::window()?.document()?;
        let element = |id: &str| document.get_element_by_id(id);
        Some(Page {
            form: element("form")?,
            text: element("text")?.dyn_into().ok()?,
            state: element("state")?,
            log: element("log")?,
            document,
        })
    }

    fn show(&self, event: &Event) {
        let (class, state) = match event {
            Event::State(state) => ("event", Some(*state)),
            Event::Received(_) => ("in", None),
            Event::Closed(_) => ("event", Some(State::Closed)),
            Event::Failed(_) => ("error", None),
        };
        if let Some(state) = state {
            self.state.set_text_content(Some(state.as_str()));
            // Errors here would mean a broken page; the log line below still shows it.
            let _ = self.state.set_attribute("data-state", state.as_str());
        }
        if let Ok(line) = self.document.create_element("li") {
            line.set_class_name(class);
            line.set_text_content(Some(&event.to_string()));
            let _ = self.log.append_child(&line);
        }
    }
}

/// Starts the chat on the page (the wasm module's `main`).
pub fn start() {
    let Some(page) = Page::find() else {
        web_sys::console::error_1(&"chat: index.html lacks #form, #text, #state or #log".into());
        return;
    };
    let query = web_sys::window()
        .and_then(|window| window.location().search().ok())
        .unwrap_or_default();
    let (lines, input) = mpsc::unbounded::<Result<String, Infallible>>();
    let text = page.text.clone();
    let on_submit = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        event.prevent_default();
        let line = text.value();
        if !line.is_empty() && lines.unbounded_send(Ok(line)).is_ok() {
            text.set_value("");
        }
    });
    if let Err(error) = page
        .form
        .add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref())
    {
        web_sys::console::error_2(&"chat: cannot listen to the form".into(), &error);
        return;
    }
    wasm_bindgen_futures::spawn_local(async move {
        chat::run(&format!("{ROUTE}{query}"), input, |event| page.show(&event)).await;
        // The chat is over: the form stops sending, and its listener goes with it.
        let _ = page
            .form
            .remove_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        page.text.set_disabled(true);
    });
}
