use std::fmt;

use crate::Error;

/// The longest close reason the browser accepts, in UTF-8 bytes.
pub const MAX_REASON_BYTES: usize = 123;

/// A close code that the browser allows a page to send: 1000, or 3000..=4999.
///
/// Every other code makes the browser's `close()` throw `InvalidAccessError`, so the crate
/// refuses it up front with [`Error::InvalidCloseCode`]. See
/// [MDN: `WebSocket.close()`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/close).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000, normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);

    /// Validates a close code.
    ///
    /// # Errors
    /// [`Error::InvalidCloseCode`] for anything but 1000 and 3000..=4999.
    pub const fn new(code: u16) -> Result<CloseCode, Error> {
        match code {
            1000 | 3000..=4999 => Ok(CloseCode(code)),
            _ => Err(Error::InvalidCloseCode(code)),
        }
    }

    /// The numeric code.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for CloseCode {
    fn default() -> Self {
        CloseCode::NORMAL
    }
}

impl TryFrom<u16> for CloseCode {
    type Error = Error;

    fn try_from(code: u16) -> Result<Self, Error> {
        CloseCode::new(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> u16 {
        code.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Checks a close reason against the browser's 123-byte limit.
pub(crate) fn check_reason(reason: &str) -> Result<(), Error> {
    if reason.len() > MAX_REASON_BYTES {
        Err(Error::ReasonTooLong { len: reason.len() })
    } else {
        Ok(())
    }
}

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
        crate::error::write_decimal(f, u64::from(self.code))?;
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
    fn valid_codes() {
        for code in [1000, 3000, 3999, 4000, 4999] {
            assert_eq!(CloseCode::new(code).unwrap().get(), code);
            assert_eq!(u16::from(CloseCode::try_from(code).unwrap()), code);
        }
        assert_eq!(CloseCode::default(), CloseCode::NORMAL);
        assert_eq!(CloseCode::NORMAL.to_string(), "1000");
    }

    #[test]
    fn invalid_codes() {
        for code in [0, 999, 1001, 1005, 1006, 1015, 2999, 5000, u16::MAX] {
            assert_eq!(CloseCode::new(code), Err(Error::InvalidCloseCode(code)));
        }
        let all_valid = (0..=u16::MAX)
            .filter(|c| CloseCode::new(*c).is_ok())
            .count();
        assert_eq!(all_valid, 1 + 2000);
    }

    #[test]
    fn reason_length_counts_utf8_bytes() {
        assert!(check_reason(&"a".repeat(123)).is_ok());
        assert_eq!(
            check_reason(&"a".repeat(124)),
            Err(Error::ReasonTooLong { len: 124 })
        );
        // 41 three-byte characters are 123 bytes; one more two-byte character is 125.
        let euro = "€".repeat(41);
        assert!(check_reason(&euro).is_ok());
        assert_eq!(
            check_reason(&format!("{euro}é")),
            Err(Error::ReasonTooLong { len: 125 })
        );
    }

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
