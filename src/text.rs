//! Small text helpers that keep the formatting machinery out of the smallest clients.

use std::fmt;

/// `n` in decimal, without the integer formatting machinery (and without indexing, whose
/// bounds-check panic message would link it back in).
pub(crate) fn write_decimal(f: &mut fmt::Formatter<'_>, n: u64) -> fmt::Result {
    let mut unit = 1;
    while n / unit >= 10 {
        unit *= 10;
    }
    loop {
        fmt::Write::write_char(f, char::from(b'0' + (n / unit % 10) as u8))?;
        if unit == 1 {
            return Ok(());
        }
        unit /= 10;
    }
}
