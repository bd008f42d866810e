//! The chat itself, written once for both fronts: connect, send each line the user
//! enters, show what arrives and what happens to the connection.

use std::fmt;
use std::pin::pin;

use futures::future::{select, Either};
use futures::{SinkExt, Stream, StreamExt};
use wasm_websocket::{CloseCode, CloseEvent, Error, Message, State, WebSocket};

/// The connection the chat runs on. `WebSocket` and `ReconnectingWebSocket` are both a
/// Stream + Sink with `close`, so moving to the reconnecting socket (once it works
/// natively too) is this function alone: returning `ReconnectingWebSocket` from
/// `WebSocket::builder(url).reconnecting(ReconnectPolicy::new())`. (The chat would then
/// say `open` as soon as it is created; its `events()` tell the reconnects.)
async fn connect(url: &str) -> Result<WebSocket, Error> {
    WebSocket::connect(url).await
}

/// What the chat shows; each front puts it on its own screen.
#[derive(Debug)]
pub enum Event {
    /// The connection is connecting or open.
    State(State),
    /// A message arrived from the room (this client's own included).
    Received(String),
    /// The connection closed: the chat is over.
    Closed(CloseEvent),
    /// Something went wrong; `Closed` follows.
    Failed(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::State(state) => write!(f, "* {state}"),
            Event::Received(text) => f.write_str(text),
            Event::Closed(event) => write!(f, "* closed ({event})"),
            Event::Failed(error) => write!(f, "! {error}"),
        }
    }
}

/// What happened next: a message (or the end of the stream), or a line of input (or its
/// end).
enum Next<E> {
    Message(Option<Result<Message, Error>>),
    Line(Option<Result<String, E>>),
}

/// Runs the chat on `url` until the connection ends or `input` does (then it leaves with
/// 1000), passing every [`Event`] to `show`. Returns whether it ended well: no error and
/// a clean close.
pub async fn run<E: fmt::Display>(
    url: &str,
    input: impl Stream<Item = Result<String, E>>,
    mut show: impl FnMut(Event),
) -> bool {
    show(Event::State(State::Connecting));
    let mut ws = match connect(url).await {
        Ok(ws) => ws,
        Err(error) => {
            show(Event::Failed(error.to_string()));
            if let Error::ConnectFailed(event) = error {
                show(Event::Closed(event));
            }
            return false;
        }
    };
    show(Event::State(State::Open));
    let mut input = pin!(input);
    let failure = loop {
        let next = match select(ws.next(), input.next()).await {
            Either::Left((message, _)) => Next::Message(message),
            Either::Right((line, _)) => Next::Line(line),
        };
        match next {
            Next::Message(Some(Ok(message))) => show(Event::Received(describe(message))),
            Next::Message(Some(Err(error))) => break Some(error.to_string()),
            Next::Line(Some(Ok(line))) => {
                if let Err(error) = ws.send(Message::Text(line)).await {
                    break Some(error.to_string());
                }
            }
            Next::Line(Some(Err(error))) => break Some(format!("input: {error}")),
            // The server closed, or the user is done.
            Next::Message(None) | Next::Line(None) => break None,
        }
    };
    if let Some(error) = &failure {
        show(Event::Failed(error.clone()));
    }
    // Leaves if still open; if the connection has ended, resolves with its close event
    // (optional for the reconnecting socket: it may never have connected).
    // `Into`: a `CloseEvent` here, an `Option` from the reconnecting socket.
    #[allow(clippy::useless_conversion)]
    let closed: Result<Option<CloseEvent>, Error> =
        ws.close(CloseCode::NORMAL, "bye").await.map(Into::into);
    match closed {
        Ok(Some(event)) => {
            let clean = event.was_clean;
            show(Event::Closed(event));
            failure.is_none() && clean
        }
        Ok(None) => {
            show(Event::State(State::Closed));
            false
        }
        Err(error) => {
            show(Event::Failed(error.to_string()));
            false
        }
    }
}

/// A message as a line of the chat.
fn describe(message: Message) -> String {
    match message {
        Message::Text(text) => text,
        Message::Binary(bytes) => format!("({} bytes)", bytes.len()),
    }
}
