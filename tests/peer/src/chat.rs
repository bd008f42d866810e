//! `/chat?room=R`: every text and binary message a client sends goes to every client in
//! its room, the sender included, in one order for all of them.

use std::collections::HashMap;
use std::sync::Mutex;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::Ws;

/// Messages a member may fall behind by before the peer closes its connection with
/// [`LAGGED`] (a broadcast channel drops what a slow member has not taken: the peer says
/// so instead of skipping messages silently).
pub const BACKLOG: usize = 1024;

/// The close code for a member that fell [`BACKLOG`] messages behind (policy violation).
pub const LAGGED: u16 = 1008;

/// The rooms, by name; a room lives for as long as the peer runs.
#[derive(Debug, Default)]
pub struct Rooms(Mutex<HashMap<String, broadcast::Sender<Message>>>);

impl Rooms {
    /// Joins `room`: what is said there from now on, and a way to say something.
    fn join(&self, room: &str) -> (broadcast::Sender<Message>, broadcast::Receiver<Message>) {
        let mut rooms = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let sender = rooms
            .entry(room.to_string())
            .or_insert_with(|| broadcast::channel(BACKLOG).0);
        (sender.clone(), sender.subscribe())
    }
}

/// Serves one member of `room` until its connection ends.
pub async fn relay(ws: &mut Ws, rooms: &Rooms, room: &str) -> Result<(), WsError> {
    let (say, mut hear) = rooms.join(room);
    loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(message @ (Message::Text(_) | Message::Binary(_)))) => {
                    // Cannot fail: `hear` is a receiver of this very channel.
                    let _ = say.send(message);
                }
                // Tungstenite answers pings and close frames itself.
                Some(Ok(_)) => {}
                None | Some(Err(WsError::ConnectionClosed)) => return Ok(()),
                Some(Err(e)) => return Err(e),
            },
            heard = hear.recv() => match heard {
                Ok(message) => ws.send(message).await?,
                Err(RecvError::Lagged(skipped)) => {
                    let frame = CloseFrame {
                        code: CloseCode::from(LAGGED),
                        reason: format!("lagged: {skipped} messages skipped").into(),
                    };
                    return ws.send(Message::Close(Some(frame))).await;
                }
                // Not while `say` lives; nothing more can be heard anyway.
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}
