//! Connect, echo one message, close: the browser's WebSocket through web-sys, no wrapper.
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// Connects to `url`, sends `text`, and resolves with the echo after closing.
#[wasm_bindgen]
pub async fn run(url: String, text: String) -> Result<String, JsValue> {
    let ws = WebSocket::new(&url)?;
    ws.set_binary_type(BinaryType::Arraybuffer);
    let opened = Promise::new(&mut |resolve, reject| {
        ws.set_onopen(Some(&resolve));
        ws.set_onerror(Some(&reject));
    });
    JsFuture::from(opened).await?;
    let echoed = Promise::new(&mut |resolve, _| ws.set_onmessage(Some(&resolve)));
    ws.send_with_str(&text)?;
    let event: MessageEvent = JsFuture::from(echoed).await?.unchecked_into();
    let closed = Promise::new(&mut |resolve, _| ws.set_onclose(Some(&resolve)));
    ws.close()?;
    JsFuture::from(closed).await?;
    event.data().as_string().ok_or_else(|| "not text".into())
}
