//! Connect, echo one message, close: gloo-net.
use futures::{SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message};
use wasm_bindgen::prelude::*;

/// Connects to `url`, sends `text`, and resolves with the echo after closing.
#[wasm_bindgen]
pub async fn run(url: String, text: String) -> Result<String, JsValue> {
    let mut ws = WebSocket::open(&url).map_err(|e| e.to_string())?;
    ws.send(Message::Text(text))
        .await
        .map_err(|e| e.to_string())?;
    let echoed = match ws.next().await {
        Some(Ok(Message::Text(t))) => t,
        _ => return Err("no echo".into()),
    };
    ws.close(Some(1000), None).map_err(|e| e.to_string())?;
    Ok(echoed)
}
