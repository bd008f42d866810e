use std::fmt;

/// The connection state, mirroring the browser's
/// [`readyState`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/readyState).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// The opening handshake is in progress (`CONNECTING`, 0).
    Connecting,
    /// The connection is open and ready to communicate (`OPEN`, 1).
    Open,
    /// The closing handshake has started (`CLOSING`, 2).
    Closing,
    /// The connection is closed or could not be opened (`CLOSED`, 3).
    Closed,
}

impl State {
    /// Maps a `readyState` value; anything unknown is treated as closed.
    pub(crate) fn from_ready_state(value: u16) -> Self {
        match value {
            0 => State::Connecting,
            1 => State::Open,
            2 => State::Closing,
            _ => State::Closed,
        }
    }

    /// The name the browser uses for this state, lower-cased.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::Closing => "closing",
            State::Closed => "closed",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_ready_state() {
        assert_eq!(State::from_ready_state(0), State::Connecting);
        assert_eq!(State::from_ready_state(1), State::Open);
        assert_eq!(State::from_ready_state(2), State::Closing);
        assert_eq!(State::from_ready_state(3), State::Closed);
        assert_eq!(State::from_ready_state(77), State::Closed);
        assert_eq!(State::Closing.to_string(), "closing");
    }
}
