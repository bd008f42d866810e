use std::fmt;

use crate::error::Error;

use crate::close_event::MAX_REASON_BYTES;

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

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn any_code_is_checked(code in proptest::num::u16::ANY) {
            let allowed = code == 1000 || (3000..=4999).contains(&code);
            proptest::prop_assert_eq!(CloseCode::new(code).is_ok(), allowed);
        }

        #[test]
        fn any_reason_is_checked(reason in ".{0,80}") {
            let fits = reason.len() <= MAX_REASON_BYTES;
            match check_reason(&reason) {
                Ok(()) => proptest::prop_assert!(fits),
                Err(error) => proptest::prop_assert_eq!(
                    error,
                    Error::ReasonTooLong { len: reason.len() }
                ),
            }
        }
    }
}
