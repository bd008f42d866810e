//! Ending a raw TCP connection without a WebSocket close frame, for the routes
//! that exist to show the browser such an end (`/drop`).

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Sends FIN and drains incoming bytes until EOF or `max` elapses, so the
/// kernel does not answer late client data with a RST (the browser must see
/// a plain 1006, not a reset that could lose bytes already sent to it).
pub async fn linger_close<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, max: Duration) {
    let _ = stream.shutdown().await;
    let _ = tokio::time::timeout(max, async {
        let mut sink = [0u8; 4096];
        while let Ok(n) = stream.read(&mut sink).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}
