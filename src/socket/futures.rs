use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

#[cfg(doc)]
use super::Handle;
use std::time::Duration;

use super::WebSocket;
use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::core::connection::Connection;
use crate::error::Error;
use crate::state::State;
use crate::sync::Shared;
use crate::timer::{millis, whole_millis, Timer, MAX_DELAY_MS};

/// The future returned by [`WebSocket::close`] and [`Handle::close`]. The close has
/// already started when it is created; awaiting it waits for the close event.
#[must_use = "the close has started; await this to learn how it ended"]
pub struct CloseFuture {
    state: Result<Shared<Connection>, Option<Error>>,
}

impl CloseFuture {
    pub(super) fn start(connection: &Shared<Connection>, code: CloseCode, reason: &str) -> Self {
        CloseFuture {
            state: match connection.start_close(code, reason) {
                Ok(()) => Ok(connection.clone()),
                Err(error) => Err(Some(error)),
            },
        }
    }
}

impl fmt::Debug for CloseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseFuture").finish_non_exhaustive()
    }
}

impl Future for CloseFuture {
    type Output = Result<CloseEvent, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            Ok(connection) => connection.poll_closed(cx).map(Ok),
            // A finished future polled again gets the same error again.
            Err(error) => Poll::Ready(Err(error.clone().unwrap_or(Error::NotOpen(State::Closed)))),
        }
    }
}

/// The future returned by [`WebSocket::closed`] and [`Handle::closed`].
#[must_use = "futures do nothing unless awaited"]
pub struct ClosedFuture {
    pub(super) connection: Shared<Connection>,
}

impl fmt::Debug for ClosedFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClosedFuture").finish_non_exhaustive()
    }
}

impl Future for ClosedFuture {
    type Output = CloseEvent;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<CloseEvent> {
        self.connection.poll_closed(cx)
    }
}

/// The future returned by [`WebSocket::connect`] and [`Builder::connect`](super::Builder::connect); resolves once
/// the socket is open. Dropping it first closes the socket and removes its listeners.
#[must_use = "futures do nothing unless awaited; dropping this closes the socket"]
pub struct ConnectFuture {
    state: Result<Option<WebSocket>, Option<Error>>,
    /// Fires the connect timeout; dropping it clears the JS timer.
    timer: Option<Timer>,
}

impl fmt::Debug for ConnectFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectFuture")
            .field("socket", &self.state)
            .finish_non_exhaustive()
    }
}

impl ConnectFuture {
    /// The future of a socket just created (or of why it could not be), which
    /// `connect_timeout` bounds.
    pub(crate) fn new(opened: Result<WebSocket, Error>, connect_timeout: Option<Duration>) -> Self {
        let socket = match opened {
            Ok(socket) => socket,
            Err(error) => {
                return ConnectFuture {
                    state: Err(Some(error)),
                    timer: None,
                }
            }
        };
        // Longer than a JS timer can wait means no timeout (see `Builder::connect_timeout`).
        let timer = connect_timeout
            .filter(|timeout| whole_millis(*timeout) <= u64::from(MAX_DELAY_MS))
            .map(|timeout| {
                let weak = Shared::downgrade(&socket.connection);
                Timer::once(millis(timeout), move || {
                    if let Some(connection) = weak.upgrade() {
                        connection.time_out();
                    }
                })
            });
        ConnectFuture {
            state: Ok(Some(socket)),
            timer,
        }
    }
}

impl Future for ConnectFuture {
    type Output = Result<WebSocket, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let socket = match &mut this.state {
            Ok(Some(socket)) => socket,
            Ok(None) => return Poll::Ready(Err(Error::NotOpen(State::Closed))),
            Err(error) => {
                return Poll::Ready(Err(error.take().unwrap_or(Error::NotOpen(State::Closed))))
            }
        };
        let outcome = ready!(socket.connection.poll_open(cx));
        this.timer = None;
        let socket = this.state.as_mut().ok().and_then(Option::take);
        // On failure the socket is dropped here, which closes it and removes its listeners.
        Poll::Ready(outcome.and_then(|()| socket.ok_or(Error::NotOpen(State::Closed))))
    }
}
