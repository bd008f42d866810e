//! JS values in and out: results and errors made for JS, and values read from JS without
//! running into JS exceptions (strings, binary data, option fields).

use std::time::Duration;

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_websocket::{BinaryType, CloseEvent, Error, Message};

// One call per received message instead of three (`Object::new` and two `Reflect::set`s,
// each with a key string to convert), which shows in message rates.
#[wasm_bindgen(inline_js = "export function iterResult(value, done) { return { value, done }; }")]
extern "C" {
    #[wasm_bindgen(js_name = iterResult)]
    pub(crate) fn iter_result(value: &JsValue, done: bool) -> JsValue;
}

pub(crate) fn set(target: &Object, key: &str, value: &JsValue) {
    // Setting a data property on a plain object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

pub(crate) fn close_result(event: &CloseEvent) -> JsValue {
    let result = Object::new();
    set_close_fields(&result, event);
    result.into()
}

pub(crate) fn set_close_fields(target: &Object, event: &CloseEvent) {
    set(target, "code", &JsValue::from(event.code));
    set(target, "reason", &JsValue::from_str(&event.reason));
    set(target, "wasClean", &JsValue::from_bool(event.was_clean));
}

pub(crate) fn message_to_js(message: Message) -> JsValue {
    match message {
        Message::Text(text) => JsValue::from_str(&text),
        Message::Binary(bytes) => Uint8Array::from(bytes.as_slice()).into(),
    }
}

/// The JS error for a crate error: an `Error` whose `name` is the variant's name, whose
/// `message` is the `Display` text, and whose extra properties are the variant's fields.
pub(crate) fn error_to_js(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    match error {
        Error::InvalidUrl { url, .. } => set(&js, "url", &JsValue::from_str(url)),
        Error::InvalidProtocol { protocol, .. } => {
            set(&js, "protocol", &JsValue::from_str(protocol));
        }
        Error::ConnectFailed(event) | Error::ConnectionLost(event) => set_close_fields(&js, event),
        Error::InvalidCloseCode(code) => set(&js, "code", &JsValue::from(*code)),
        Error::ReasonTooLong { len } => set(&js, "len", &JsValue::from(*len as f64)),
        Error::NotOpen(state) => set(&js, "state", &JsValue::from_str(state.as_str())),
        Error::ReceiveQueueFull { messages, bytes } => {
            set(&js, "messages", &JsValue::from(*messages as f64));
            set(&js, "bytes", &JsValue::from(*bytes as f64));
        }
        Error::OutboxFull { messages, bytes } => {
            set(&js, "messages", &JsValue::from(*messages as f64));
            set(&js, "bytes", &JsValue::from(*bytes as f64));
        }
        Error::Unsupported { feature } => set(&js, "feature", &JsValue::from_str(feature)),
        Error::Js { name, .. } => set(&js, "jsName", &JsValue::from_str(name)),
        // Variants without fields (and any added later) carry only their name.
        _ => {}
    }
    js.set_name(&variant_name(error));
    js.into()
}

/// The variant's name, e.g. `NotOpen`: the leading identifier of the derived `Debug` text,
/// so every variant, also one added later, gets its own name without a table to keep.
pub(crate) fn variant_name(error: &Error) -> String {
    let debug = format!("{error:?}");
    let end = debug
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(debug.len());
    if end == 0 {
        "Error".to_owned()
    } else {
        debug[..end].to_owned()
    }
}

pub(crate) fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

pub(crate) fn range_error(message: &str) -> JsValue {
    js_sys::RangeError::new(message).into()
}

/// What kind of value this is, for error messages: its constructor's name for objects
/// (`Blob`, `Array`), its `typeof` otherwise (`number`, `undefined`).
pub(crate) fn describe(value: &JsValue) -> String {
    if value.is_null() {
        return "null".into();
    }
    if value.is_object() {
        // `Reflect.get` is bound with `catch`: a Proxy trap or getter that throws only
        // costs the name.
        let name = Reflect::get(value, &JsValue::from_str("constructor"))
            .ok()
            .filter(|constructor| constructor.is_function())
            .and_then(|constructor| Reflect::get(&constructor, &JsValue::from_str("name")).ok())
            .and_then(|name| short_string(&name))
            .filter(|name| !name.is_empty());
        if let Some(name) = name {
            return name;
        }
    }
    value
        .js_typeof()
        .as_string()
        .unwrap_or_else(|| "value".into())
}

// ---------------------------------------------------------------------------------------
// Reading JS values without running into JS exceptions
//
// A JS exception thrown while wasm is on the stack unwinds through it without running
// destructors: wasm-bindgen's borrow of the `Socket` stays taken (later calls and `free()`
// fail, the socket is never closed), and so do our own `RefCell` borrows. So every JS call
// made on a value that comes from the caller either cannot run the caller's code (intrinsic
// accessors with brand checks, `typeof`-based checks) or is bound with `catch`.

#[wasm_bindgen]
extern "C" {
    /// `Array.isArray`, which throws for a revoked Proxy.
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    pub(crate) fn is_array(value: &JsValue) -> Result<bool, JsValue>;

    /// Calls `getter` with `this` set to `target` (an intrinsic accessor on any value).
    #[wasm_bindgen(catch, js_namespace = Reflect, js_name = apply)]
    fn apply_getter(getter: &JsValue, target: &JsValue, args: &Array) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Object, js_name = getOwnPropertyDescriptor)]
    fn own_descriptor(target: &JsValue, key: &str) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(catch, js_namespace = Object, js_name = getPrototypeOf)]
    fn prototype_of(value: &JsValue) -> Result<JsValue, JsValue>;
}

/// The built-in accessors that read a buffer's or a view's internal slots. Unlike
/// `value.byteLength`, they cannot be shadowed by the value's own properties, run no user
/// code (not even for a Proxy) and throw a TypeError for anything of another type.
struct Intrinsics {
    array_buffer_byte_length: JsValue,
    /// `None` where the page has no `SharedArrayBuffer` constructor.
    shared_array_buffer_byte_length: Option<JsValue>,
    typed_array_buffer: JsValue,
    typed_array_byte_offset: JsValue,
    typed_array_byte_length: JsValue,
    data_view_buffer: JsValue,
    data_view_byte_offset: JsValue,
    data_view_byte_length: JsValue,
    /// `ArrayBuffer.prototype.detached`, `None` in engines that lack it (before 2024).
    array_buffer_detached: Option<JsValue>,
    /// `ArrayBuffer.prototype.slice`, which throws for a detached buffer: the check where
    /// `detached` is missing.
    array_buffer_slice: JsValue,
    no_args: Array,
}

impl Intrinsics {
    fn load() -> Option<Intrinsics> {
        let getter = |prototype: &JsValue, key: &str| -> Option<JsValue> {
            let descriptor = own_descriptor(prototype, key).ok()?;
            let get = Reflect::get(&descriptor, &JsValue::from_str("get")).ok()?;
            get.is_function().then_some(get)
        };
        let array_buffer = prototype_of(&ArrayBuffer::new(0)).ok()?;
        // %TypedArray%.prototype, the prototype of Uint8Array.prototype and its siblings.
        let typed_array =
            prototype_of(&prototype_of(&Uint8Array::new_with_length(0)).ok()?).ok()?;
        let data_view = prototype_of(&js_sys::DataView::new(&ArrayBuffer::new(0), 0, 0)).ok()?;
        let shared_array_buffer =
            shared_array_buffer_prototype().and_then(|prototype| getter(&prototype, "byteLength"));
        Some(Intrinsics {
            array_buffer_byte_length: getter(&array_buffer, "byteLength")?,
            shared_array_buffer_byte_length: shared_array_buffer,
            typed_array_buffer: getter(&typed_array, "buffer")?,
            typed_array_byte_offset: getter(&typed_array, "byteOffset")?,
            typed_array_byte_length: getter(&typed_array, "byteLength")?,
            data_view_buffer: getter(&data_view, "buffer")?,
            data_view_byte_offset: getter(&data_view, "byteOffset")?,
            data_view_byte_length: getter(&data_view, "byteLength")?,
            array_buffer_detached: getter(&array_buffer, "detached"),
            array_buffer_slice: Reflect::get(&array_buffer, &JsValue::from_str("slice"))
                .ok()
                .filter(JsValue::is_function)?,
            no_args: Array::new(),
        })
    }

    /// `getter` applied to `value`: `None` if it threw (`value` has another type).
    fn read(&self, getter: &JsValue, value: &JsValue) -> Option<JsValue> {
        apply_getter(getter, value, &self.no_args).ok()
    }

    fn read_number(&self, getter: &JsValue, value: &JsValue) -> Option<f64> {
        self.read(getter, value).and_then(|v| v.as_f64())
    }

    /// Whether `buffer` is a detached `ArrayBuffer` (e.g. transferred by `structuredClone`
    /// or `postMessage`). Shared buffers cannot be detached.
    fn is_detached(&self, buffer: &JsValue) -> bool {
        if self.read(&self.array_buffer_byte_length, buffer).is_none() {
            return false; // not an ArrayBuffer
        }
        match &self.array_buffer_detached {
            Some(getter) => self.read(getter, buffer).is_some_and(|v| v.is_truthy()),
            None => {
                let args = Array::of2(&JsValue::from(0), &JsValue::from(0));
                apply_getter(&self.array_buffer_slice, buffer, &args).is_err()
            }
        }
    }

    /// `(buffer, byte offset, byte length)` of an `ArrayBuffer`, a `SharedArrayBuffer` or a
    /// view on one, as the engine knows them; `None` for any other value. A detached or
    /// out-of-bounds view covers 0 bytes.
    fn binary_parts(&self, data: &JsValue) -> Option<(JsValue, f64, f64)> {
        // `isView` checks an internal slot: no user code, false for a Proxy.
        if ArrayBuffer::is_view(data) {
            if let Some(length) = self.read_number(&self.typed_array_byte_length, data) {
                let offset = self.read_number(&self.typed_array_byte_offset, data)?;
                let buffer = self.read(&self.typed_array_buffer, data)?;
                return Some((buffer, offset, length));
            }
            let buffer = self.read(&self.data_view_buffer, data)?;
            // A DataView on a detached buffer throws for its offset and length.
            return Some(
                match (
                    self.read_number(&self.data_view_byte_offset, data),
                    self.read_number(&self.data_view_byte_length, data),
                ) {
                    (Some(offset), Some(length)) => (buffer, offset, length),
                    _ => (buffer, 0.0, 0.0),
                },
            );
        }
        if let Some(length) = self.read_number(&self.array_buffer_byte_length, data) {
            return Some((data.clone(), 0.0, length));
        }
        let shared = self.shared_array_buffer_byte_length.as_ref()?;
        let length = self.read_number(shared, data)?;
        Some((data.clone(), 0.0, length))
    }
}

thread_local! {
    static INTRINSICS: Option<Intrinsics> = Intrinsics::load();
}

/// `SharedArrayBuffer.prototype`. Without cross-origin isolation the constructor is not a
/// global, yet shared WebAssembly memory still hands out such buffers.
fn shared_array_buffer_prototype() -> Option<JsValue> {
    let constructor = Reflect::get(&js_sys::global(), &"SharedArrayBuffer".into()).ok()?;
    if constructor.is_function() {
        return Reflect::get(&constructor, &"prototype".into()).ok();
    }
    let descriptor = Object::new();
    set(&descriptor, "initial", &JsValue::from(0));
    set(&descriptor, "maximum", &JsValue::from(0));
    set(&descriptor, "shared", &JsValue::TRUE);
    let memory = js_sys::WebAssembly::Memory::new(&descriptor).ok()?;
    prototype_of(&memory.buffer()).ok()
}

/// The largest allocation wasm32 can make (`isize::MAX` bytes).
const MAX_ALLOCATION: f64 = i32::MAX as f64;

/// The `RangeError` for data that cannot be copied into wasm memory.
pub(crate) fn too_large(what: &str, bytes: f64) -> JsValue {
    range_error(&format!(
        "{what} of {bytes} bytes does not fit in wasm memory"
    ))
}

/// Copies `length` bytes at `offset` in `buffer` into wasm memory. The sizes are the
/// engine's own (from [`Intrinsics::binary_parts`]), and the allocation is checked first:
/// data larger than wasm memory can grow to is a `RangeError`, not a trap in `malloc`.
fn copy_bytes(buffer: &JsValue, offset: f64, length: f64, what: &str) -> Result<Vec<u8>, JsValue> {
    if length < 1.0 {
        // Also what a detached buffer reports; nothing to read.
        return Ok(Vec::new());
    }
    if length > MAX_ALLOCATION {
        return Err(too_large(what, length));
    }
    let (Some(offset), Some(len)) = (to_u32(offset), to_u32(length)) else {
        return Err(too_large(what, length));
    };
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len as usize)
        .map_err(|_| too_large(what, length))?;
    bytes.resize(len as usize, 0);
    // Cannot throw: the range lies inside the buffer, as the engine reported it just now,
    // and no user code ran since.
    let view = Uint8Array::new_with_byte_offset_and_length(buffer, offset, len);
    view.copy_to(&mut bytes);
    Ok(bytes)
}

fn to_u32(value: f64) -> Option<u32> {
    (value.is_finite() && value >= 0.0 && value <= f64::from(u32::MAX)).then_some(value as u32)
}

/// Strings longer than this (in UTF-16 units) are checked against the memory that is left
/// before wasm-bindgen copies them (its allocation failure is a trap).
const LARGE_STRING: u32 = 1 << 20;

/// `value` as a Rust string if it is a string of at most 200 UTF-16 units (for error
/// messages, which quote what they were given).
pub(crate) fn short_string(value: &JsValue) -> Option<String> {
    let short = value.is_string() && js_sys::JsString::unchecked_from_js_ref(value).length() <= 200;
    short.then(|| value.as_string()).flatten()
}

/// `value` as a Rust string if it is a JS string: wasm-bindgen's copy of a string that does
/// not fit in wasm memory would trap, so a long one is measured first (`what` names it in
/// the `RangeError`).
pub(crate) fn checked_string(value: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if !value.is_string() {
        return Ok(None);
    }
    // The length of a string primitive cannot be faked.
    let units = js_sys::JsString::unchecked_from_js_ref(value).length();
    if units > LARGE_STRING {
        // UTF-8 takes at most 3 bytes per UTF-16 unit. Reserving that much and letting it
        // go leaves room for wasm-bindgen's own allocation.
        let worst = f64::from(units) * 3.0;
        if worst > MAX_ALLOCATION || Vec::<u8>::new().try_reserve_exact(worst as usize).is_err() {
            return Err(too_large(what, worst));
        }
    }
    Ok(value.as_string())
}

/// The message for `send(data)` or a heartbeat (`what` names it in errors): a string as
/// text, binary data as bytes. A `TypeError` for anything else and for a detached buffer
/// (it has no bytes left, and sending an empty message instead would lose the data
/// silently), a `RangeError` for data that wasm memory cannot hold.
pub(crate) fn message_from_js(data: &JsValue, what: &str) -> Result<Message, JsValue> {
    if let Some(text) = checked_string(data, what)? {
        return Ok(Message::Text(text));
    }
    let parts = INTRINSICS.with(|intrinsics| {
        let intrinsics = intrinsics.as_ref()?;
        let (buffer, offset, length) = intrinsics.binary_parts(data)?;
        // A detached buffer, and every view on one, reports 0 bytes.
        let detached = length < 1.0 && intrinsics.is_detached(&buffer);
        Some((buffer, offset, length, detached))
    });
    match parts {
        Some((_, _, _, true)) => Err(type_error(&format!(
            "{what} is a detached ArrayBuffer (or a view on one): its bytes were transferred"
        ))),
        Some((buffer, offset, length, false)) => {
            copy_bytes(&buffer, offset, length, what).map(Message::Binary)
        }
        None => Err(type_error(&format!(
            "{what} must be a string, an ArrayBuffer or an ArrayBufferView such as Uint8Array, not {}",
            describe(data)
        ))),
    }
}

pub(crate) fn binary_type_name(binary_type: BinaryType) -> &'static str {
    match binary_type {
        BinaryType::ArrayBuffer => "arraybuffer",
        BinaryType::Blob => "blob",
    }
}

/// `object[key]` (`label` names it in errors). A getter or Proxy trap that throws gives a
/// `TypeError` saying so, with the thrown value as its `cause`.
pub(crate) fn option(object: &JsValue, key: &str, label: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &JsValue::from_str(key)).map_err(|thrown| {
        let error = js_sys::TypeError::new(&format!(
            "{label} could not be read: {}",
            thrown_text(&thrown)
        ));
        set(&error, "cause", &thrown);
        error.into()
    })
}

/// What a thrown value says: its `message`, or what kind of value it is.
pub(crate) fn thrown_text(thrown: &JsValue) -> String {
    if let Some(text) = short_string(thrown) {
        return text;
    }
    if thrown.is_object() {
        if let Some(message) = Reflect::get(thrown, &JsValue::from_str("message"))
            .ok()
            .and_then(|message| short_string(&message))
        {
            return message;
        }
    }
    describe(thrown)
}

/// `object[key]` as a number (`label` names it in errors, `kind` says what was expected):
/// `None` when absent (undefined or null), a `TypeError` for a non-number. Returns the
/// value too, for the range errors of the callers.
pub(crate) fn number_option(
    object: &JsValue,
    key: &str,
    label: &str,
    kind: &str,
) -> Result<Option<(f64, JsValue)>, JsValue> {
    let value = option(object, key, label)?;
    if value.is_null_or_undefined() {
        return Ok(None);
    }
    match value.as_f64() {
        Some(number) => Ok(Some((number, value))),
        None => Err(type_error(&format!(
            "{label} must be {kind}, not {}",
            describe(&value)
        ))),
    }
}

/// `object[key]` as a nested options object (`shape` lists its fields for the error):
/// `None` when absent, a `TypeError` for a non-object.
pub(crate) fn object_option(
    object: &JsValue,
    key: &str,
    label: &str,
    shape: &str,
) -> Result<Option<JsValue>, JsValue> {
    let value = option(object, key, label)?;
    if value.is_null_or_undefined() {
        return Ok(None);
    }
    if !value.is_object() {
        return Err(type_error(&format!(
            "{label} must be an object {shape}, not {}",
            describe(&value)
        )));
    }
    Ok(Some(value))
}

/// The longest duration option, in milliseconds: what `setTimeout` can wait (a longer delay
/// fires at once in browsers).
const MAX_MILLIS: f64 = i32::MAX as f64;

/// A duration option in milliseconds (`label` names it in errors): `None` when absent,
/// a `TypeError` for a non-number, a `RangeError` for anything outside 1..=[`MAX_MILLIS`]
/// (0, negatives, NaN, infinities, and fractions of a millisecond, which timers cannot
/// keep apart from 0).
pub(crate) fn millis_option(
    object: &JsValue,
    key: &str,
    label: &str,
) -> Result<Option<Duration>, JsValue> {
    milliseconds_from(object, key, label, 1.0)
}

/// A delay option in milliseconds (`label` names it in errors): `None` when absent, a
/// `TypeError` for a non-number, a `RangeError` for anything outside 0..=[`MAX_MILLIS`]
/// (negatives, NaN, infinities). Unlike [`millis_option`], 0 is allowed: no wait.
pub(crate) fn delay_option(
    object: &JsValue,
    key: &str,
    label: &str,
) -> Result<Option<Duration>, JsValue> {
    milliseconds_from(object, key, label, 0.0)
}

/// A milliseconds option from `min` to [`MAX_MILLIS`].
fn milliseconds_from(
    object: &JsValue,
    key: &str,
    label: &str,
    min: f64,
) -> Result<Option<Duration>, JsValue> {
    let Some((millis, value)) = number_option(object, key, label, "a number of milliseconds")?
    else {
        return Ok(None);
    };
    if !(min..=MAX_MILLIS).contains(&millis) {
        return Err(range_error(&format!(
            "{label} must be from {min} to {MAX_MILLIS} milliseconds, not {}",
            describe_value(&value)
        )));
    }
    Ok(Some(
        Duration::try_from_secs_f64(millis / 1000.0).unwrap_or(Duration::MAX),
    ))
}

/// A count option (`label` names it in errors, `unit` follows "0 or more"): `None` when
/// absent, a `TypeError` for a non-number, a `RangeError` for NaN, negatives and
/// fractions. Saturates: `Infinity` (or anything above `usize::MAX`) means no limit.
pub(crate) fn count_option(
    object: &JsValue,
    key: &str,
    label: &str,
    unit: &str,
) -> Result<Option<usize>, JsValue> {
    let Some((count, value)) = number_option(object, key, label, "a number")? else {
        return Ok(None);
    };
    let whole = count == f64::INFINITY || count.fract() == 0.0;
    if count.is_nan() || count < 0.0 || !whole {
        return Err(range_error(&format!(
            "{label} must be a whole number, 0 or more{unit}, not {}",
            describe_value(&value)
        )));
    }
    Ok(Some(count as usize))
}

/// A value as JS would print it in an error message (`1.5`, `NaN`, `"text"`).
pub(crate) fn describe_value(value: &JsValue) -> String {
    if value.is_string() {
        return match short_string(value) {
            Some(text) => format!("{text:?}"),
            None => "a long string".into(),
        };
    }
    if value.as_f64().is_some() {
        if let Ok(text) = js_sys::Number::unchecked_from_js_ref(value).to_string_with_radix(10) {
            return String::from(text);
        }
    }
    describe(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_websocket::State;

    #[test]
    fn variant_names() {
        let event = CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        };
        for (error, name) in [
            (
                Error::InvalidUrl {
                    url: "x".into(),
                    message: "m".into(),
                },
                "InvalidUrl",
            ),
            (
                Error::InvalidProtocol {
                    protocol: "a b".into(),
                    message: "m".into(),
                },
                "InvalidProtocol",
            ),
            (
                Error::Security {
                    message: "m".into(),
                },
                "Security",
            ),
            (Error::ConnectFailed(event.clone()), "ConnectFailed"),
            (Error::Timeout, "Timeout"),
            (Error::InvalidCloseCode(1001), "InvalidCloseCode"),
            (Error::ReasonTooLong { len: 124 }, "ReasonTooLong"),
            (Error::NotOpen(State::Closed), "NotOpen"),
            (Error::ConnectionLost(event), "ConnectionLost"),
            (
                Error::Js {
                    name: "TypeError".into(),
                    message: "m".into(),
                },
                "Js",
            ),
        ] {
            assert_eq!(variant_name(&error), name);
        }
    }

    #[test]
    fn state_names() {
        for (state, name) in [
            (State::Connecting, "connecting"),
            (State::Open, "open"),
            (State::Closing, "closing"),
            (State::Closed, "closed"),
        ] {
            assert_eq!(state.as_str(), name);
        }
    }
}
