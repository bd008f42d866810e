//! Route parameters from the query string. `%XX` is decoded but `+` stays a
//! literal `+` (the README promises that, so `reason=a+b` means "a+b"); the
//! first of repeated keys wins; numbers that do not parse take their default.

use http::Uri;
use percent_encoding::percent_decode_str;

/// Decoded query parameters, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a raw query string (without `?`).
    pub fn parse(query: &str) -> Params {
        Params(
            query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    /// The parameters of a request target.
    pub fn of(uri: &Uri) -> Params {
        Params::parse(uri.query().unwrap_or(""))
    }

    /// First value given for `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` parsed as a number; `default` if absent, empty or unparsable.
    pub fn num<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        self.opt_num(key).unwrap_or(default)
    }

    /// `key` parsed as a number, `None` if absent, empty or unparsable.
    pub fn opt_num<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }
}

/// Percent-decodes `s`: malformed escapes are kept literally, invalid UTF-8
/// is replaced lossily, `+` is left alone.
pub fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_but_not_plus() {
        assert_eq!(decode("a+b%20c"), "a+b c");
        assert_eq!(decode("%F0%9F%A6%80"), "🦀");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
    }

    #[test]
    fn params() {
        let uri: Uri = "/close?code=4000&reason=bye%20now+x&x&code=1"
            .parse()
            .unwrap();
        let p = Params::of(&uri);
        assert_eq!(p.get("code"), Some("4000"));
        assert_eq!(p.num("code", 0u16), 4000);
        assert_eq!(p.get("reason"), Some("bye now+x"));
        assert_eq!(p.get("x"), Some(""));
        assert_eq!(p.get("nope"), None);
        assert_eq!(p.opt_num::<u64>("x"), None);
        assert_eq!(p.num("nope", 7u8), 7);
        // Absolute-form targets (proxies, some tools) carry the same query.
        let abs: Uri = "http://h:1/echo?x=1".parse().unwrap();
        assert_eq!(
            (abs.path(), Params::of(&abs).get("x")),
            ("/echo", Some("1"))
        );
    }
}
