//! How a connection ended.

use std::fmt;

use crate::text::write_decimal;

/// The longest close reason the browser accepts, in UTF-8 bytes.
pub const MAX_REASON_BYTES: usize = 123;

/// How a connection ended: the fields of the browser's
/// [`CloseEvent`](https://developer.mozilla.org/en-US/docs/Web/API/CloseEvent).
///
/// `code` is whatever the browser reports, including codes a page may not send itself:
/// 1005 when the peer's close frame had no code, 1006 for every abnormal end (network
/// failure, refused handshake, dropped TCP connection).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseEvent {
    /// The close code.
    pub code: u16,
    /// The close reason sent by the peer (may be empty).
    pub reason: String,
    /// Whether the closing handshake completed.
    pub was_clean: bool,
}

#[cfg(target_arch = "wasm32")]
impl CloseEvent {
    pub(crate) fn from_event(event: &web_sys::CloseEvent) -> Self {
        CloseEvent {
            code: event.code(),
            reason: event.reason(),
            was_clean: event.was_clean(),
        }
    }
}

impl fmt::Display for CloseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No `write!`: see `Error`'s Display.
        f.write_str("code ")?;
        write_decimal(f, u64::from(self.code))?;
        if !self.reason.is_empty() {
            f.write_str(", reason \"")?;
            f.write_str(&self.reason)?;
            f.write_str("\"")?;
        }
        f.write_str(if self.was_clean {
            ", clean"
        } else {
            ", not clean"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let ev = CloseEvent {
            code: 4000,
            reason: "bye".into(),
            was_clean: true,
        };
        assert_eq!(ev.to_string(), "code 4000, reason \"bye\", clean");
        let ev = CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        };
        assert_eq!(ev.to_string(), "code 1006, not clean");
    }
}
