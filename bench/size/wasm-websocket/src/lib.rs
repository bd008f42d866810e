//! Connect, echo one message, close: wasm-websocket.
use futures::{SinkExt, StreamExt};
use wasm_bindgen::prelude::*;
use wasm_websocket::{CloseCode, Message, WebSocket};

/// Connects to `url`, sends `text`, and resolves with the echo after closing.
#[wasm_bindgen]
pub async fn run(url: String, text: String) -> Result<String, JsValue> {
    let mut ws = WebSocket::connect(url).await.map_err(|e| e.to_string())?;
    ws.send(Message::Text(text))
        .await
        .map_err(|e| e.to_string())?;
    let echoed = match ws.next().await {
        Some(Ok(Message::Text(t))) => t,
        _ => return Err("no echo".into()),
    };
    ws.close(CloseCode::NORMAL, "")
        .await
        .map_err(|e| e.to_string())?;
    Ok(echoed)
}
