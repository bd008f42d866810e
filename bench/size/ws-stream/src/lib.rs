//! Connect, echo one message, close: ws_stream_wasm.
use futures::{SinkExt, StreamExt};
use wasm_bindgen::prelude::*;
use ws_stream_wasm::{WsMessage, WsMeta};

/// Connects to `url`, sends `text`, and resolves with the echo after closing.
#[wasm_bindgen]
pub async fn run(url: String, text: String) -> Result<String, JsValue> {
    let (meta, mut ws) = WsMeta::connect(url, None)
        .await
        .map_err(|e| e.to_string())?;
    ws.send(WsMessage::Text(text))
        .await
        .map_err(|e| e.to_string())?;
    let echoed = match ws.next().await {
        Some(WsMessage::Text(t)) => t,
        _ => return Err("no echo".into()),
    };
    meta.close().await.map_err(|e| e.to_string())?;
    Ok(echoed)
}
