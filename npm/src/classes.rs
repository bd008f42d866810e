//! What every class the package exports gets on its prototype: the async iterator, and
//! methods that reject (instead of throwing from wasm-bindgen's glue) when called on an
//! object that is not a live instance of the class.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

// wasm-bindgen's glue passes `this.__wbg_ptr` to wasm unchecked: for a foreign `this`
// (`Socket.prototype.send.call({}, "x")`) or a freed instance that is 0 and the Rust side
// throws "null pointer passed to rust" synchronously; for an object of the same shape with
// a made-up pointer, or an instance of the other class, wasm would read (or free) memory
// that is not what it thinks. So every method and accessor of the prototype is wrapped:
// only objects this package created as an instance of that very class, and has not
// freed, reach the glue. Each class has its own set, and the sets are weak: they keep no
// object alive.
//
// Methods that return a promise (`names`, also the `closed` accessor) reject with a
// TypeError for any other `this`; other accessors throw one, as the browser's own do for
// a foreign receiver; `free()` (and `Symbol.dispose`) of a freed instance does nothing.
#[wasm_bindgen(inline_js = r#"
const live = new Map();
function instances(className) {
  let set = live.get(className);
  if (!set) {
    set = new WeakSet();
    live.set(className, set);
  }
  return set;
}
export function brand(object, className) { instances(className).add(object); }
export function guard(prototype, className, names) {
  const own = instances(className);
  const known = (self) => {
    try {
      return own.has(self);
    } catch {
      return false;
    }
  };
  const alive = (self) => {
    try {
      return own.has(self) && self.__wbg_ptr !== 0;
    } catch {
      return false;
    }
  };
  const refuse = (self, name) => {
    const what = known(self) ? `a freed ${className}` : `an object that is not a ${className}`;
    return new TypeError(`${className}.${name} was called on ${what}`);
  };
  for (const key of Reflect.ownKeys(prototype)) {
    if (key === "constructor" || (typeof key === "string" && key.startsWith("__"))) continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    const name = typeof key === "symbol" ? `[${key.description}]` : key;
    const promised = names.includes(key);
    if (typeof descriptor.get === "function") {
      const get = descriptor.get;
      const wrapped = Object.getOwnPropertyDescriptor({
        get [key]() {
          if (!alive(this)) {
            if (promised) return Promise.reject(refuse(this, name));
            throw refuse(this, name);
          }
          return get.call(this);
        },
      }, key).get;
      Object.defineProperty(prototype, key, { get: wrapped, set: descriptor.set, enumerable: descriptor.enumerable, configurable: true });
    } else if (typeof descriptor.value === "function") {
      const method = descriptor.value;
      const freeing = key === "free" || key === Symbol.dispose;
      const wrapped = {
        [key](...args) {
          if (!alive(this)) {
            if (freeing && known(this)) return undefined;
            if (promised) return Promise.reject(refuse(this, name));
            throw refuse(this, name);
          }
          return method.apply(this, args);
        },
      }[key];
      Object.defineProperty(prototype, key, { value: wrapped, writable: true, enumerable: descriptor.enumerable, configurable: true });
    }
  }
}
"#)]
extern "C" {
    /// Marks `object` as an instance of `class_name` that this package created.
    pub(crate) fn brand(object: &JsValue, class_name: &str);
    /// Wraps the methods and accessors of `prototype` (of the class `class_name`); `names`
    /// lists those that return a promise.
    #[wasm_bindgen(catch)]
    fn guard(prototype: &JsValue, class_name: &str, names: Array) -> Result<(), JsValue>;
}

/// Prepares the class of `probe`, an instance made only for this, once at start-up:
/// guards its methods and accessors (`names`: those that return a promise) and installs
/// the async iterator.
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
