//! What every class the package exports gets on its prototype: the async iterator, and
//! methods that reject (instead of throwing from wasm-bindgen's glue) when called on an
//! object that is not a live instance of the class.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// wasm-bindgen's glue passes `this.__wbg_ptr` to wasm unchecked: for a foreign `this`
// (`Socket.prototype.send.call({}, "x")`) or a freed instance that is 0 and the Rust side
// throws "null pointer passed to rust" synchronously; for an object of the same shape with
// a made-up pointer it would be worse. So each method is wrapped: only objects this package
// created and has not freed reach the glue. The set is weak: it keeps no object alive.
#[wasm_bindgen(inline_js = r#"
const live = new WeakSet();
export function brand(object) { live.add(object); }
export function guard(prototype, className, names) {
  for (const name of names) {
    const method = prototype[name];
    if (typeof method !== "function") continue;
    const wrapped = {
      [name](...args) {
        let ok = false;
        try {
          ok = live.has(this) && this.__wbg_ptr !== 0;
        } catch {}
        if (!ok) {
          const what = live.has(this) ? `a freed ${className}` : `an object that is not a ${className}`;
          return Promise.reject(new TypeError(`${className}.${name} was called on ${what}`));
        }
        return method.apply(this, args);
      },
    }[name];
    Object.defineProperty(prototype, name, { value: wrapped, writable: true, configurable: true });
  }
}
"#)]
extern "C" {
    /// Marks `object` as an instance this package created.
    pub(crate) fn brand(object: &JsValue);
    /// Wraps the methods `names` of `prototype` (of the class `class_name`).
    #[wasm_bindgen(catch)]
    fn guard(prototype: &JsValue, class_name: &str, names: Array) -> Result<(), JsValue>;
}

/// Prepares the class of `probe`, an instance made only for this, once at start-up:
/// guards the methods `names` and installs the async iterator.
pub(crate) fn prepare_class(probe: &JsValue, class_name: &str, names: &[&str]) {
    let Some(object) = probe.dyn_ref::<Object>() else {
        return;
    };
    let prototype = Object::get_prototype_of(object);
    let list = names
        .iter()
        .map(|name| JsValue::from_str(name))
        .collect::<Array>();
    // Only fails if the prototype was frozen by the page; the methods then stay unguarded.
    let _ = guard(&prototype, class_name, list);
    install_async_iterator(&prototype);
}

/// Makes `for await (const msg of socket)` work: `socket[Symbol.asyncIterator]()` must
/// return an object with `next()`, and the socket is one. `Object.prototype.valueOf`
/// returns its `this` unchanged, so it serves as that method without `eval`.
fn install_async_iterator(prototype: &Object) {
    let key = js_sys::Symbol::async_iterator();
    if !Object::has_own(prototype, &key) {
        let value_of = Reflect::get(&Object::new(), &JsValue::from_str("valueOf"))
            .unwrap_or(JsValue::UNDEFINED);
        let _ = Reflect::set(prototype, &key, &value_of);
    }
}
