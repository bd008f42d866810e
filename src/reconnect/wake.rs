//! The browser events behind the [triggers](super::ReconnectTriggers): `online` and
//! `offline` on the global object (windows and workers), `visibilitychange` on the
//! document and `pageshow` on the window (windows only). Each one feeds the machine an
//! input; the listeners live while the driver runs.

use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::EventTarget;

use super::machine::Input;
use super::triggers::{ReconnectTriggers, Wake};
use crate::listeners::Listener;

/// The listeners of one run of the driver; removed when dropped.
pub(super) struct WakeListeners(#[allow(dead_code)] Vec<Listener>);

impl WakeListeners {
    /// Listens for the events that `triggers` turned on, each fed to `feed` as an input;
    /// feeds [`Input::Offline`] at once if the browser is offline now.
    pub(super) fn new(triggers: ReconnectTriggers, feed: impl Fn(Input) + 'static) -> Self {
        let feed = Rc::new(feed);
        let global = js_sys::global();
        let document = get(&global, "document").filter(JsValue::is_object);
        let mut listeners = Vec::new();
        let mut listen =
            |target: &JsValue, kind: &'static str, input: fn(&JsValue) -> Option<Input>| {
                let feed = feed.clone();
                let target: &EventTarget = target.unchecked_ref();
                listeners.push(Listener::new(target, kind, move |event: JsValue| {
                    if let Some(input) = input(&event) {
                        feed(input);
                    }
                }));
            };
        // `offline` needs `online` too, to know when it is over.
        if triggers.is_online() || triggers.is_offline() {
            listen(&global, "online", |_| Some(Input::Online));
        }
        if triggers.is_offline() {
            listen(&global, "offline", |_| Some(Input::Offline));
            let on_line = get(&global, "navigator").and_then(|navigator| get(&navigator, "onLine"));
            if on_line.and_then(|on_line| on_line.as_bool()) == Some(false) {
                feed(Input::Offline);
            }
        }
        if let Some(document) = &document {
            if triggers.is_visible() {
                listen(document, "visibilitychange", |event| {
                    let document = get(event, "target")?;
                    let state = get(&document, "visibilityState")?.as_string()?;
                    (state == "visible").then_some(Input::Wake(Wake::Visible))
                });
            }
            if triggers.is_pageshow() {
                listen(&global, "pageshow", |event| {
                    let persisted = get(event, "persisted")?.as_bool()?;
                    persisted.then_some(Input::Wake(Wake::PageShow))
                });
            }
        }
        WakeListeners(listeners)
    }
}

/// `object[key]`, if it can be read and is not `undefined`.
fn get(object: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
        .ok()
        .filter(|value| !value.is_undefined())
}
