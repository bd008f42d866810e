#[cfg(target_arch = "wasm32")]
use js_sys::Uint8Array;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen::prelude::wasm_bindgen;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
extern "C" {
    /// The bytes of `array`, copied into wasm memory in one JS call. Bound to `Object(array)`,
    /// which returns `array` itself; declared as returning `Vec<u8>`, so wasm-bindgen's glue
    /// allocates and copies before returning, with no zero-filling first and no separate
    /// `length` call. (`Uint8Array::to_vec` takes three calls and asserts the length it has
    /// just read, and that assertion's formatting code would be linked into every client.)
    #[wasm_bindgen(js_name = Object)]
    pub(crate) fn bytes_of(array: &Uint8Array) -> Vec<u8>;
}

/// How binary messages are delivered by the browser before the crate turns them into
/// [`Message::Binary`]: the socket's
/// [`binaryType`](https://developer.mozilla.org/en-US/docs/Web/API/WebSocket/binaryType).
///
/// Both produce the same messages in the same order; `ArrayBuffer` is faster because a
/// `Blob` has to be read asynchronously.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BinaryType {
    /// `"arraybuffer"`, the default.
    #[default]
    ArrayBuffer,
    /// `"blob"`: each message is read from its `Blob`, and later messages wait for it.
    Blob,
}

/// One WebSocket message, as received from or sent to the peer.
///
/// Text frames become [`Message::Text`], binary frames (`ArrayBuffer` or `Blob`) become
/// [`Message::Binary`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Message {
    /// A text message (always valid UTF-8: the browser guarantees it).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
}

impl Message {
    /// The payload length in bytes (UTF-8 bytes for text).
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// The text, if this is a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
        }
    }

    /// The payload bytes (UTF-8 bytes for text).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(text) => text.as_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }

    /// Consumes the message and returns its payload bytes (UTF-8 bytes for text).
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(bytes) => bytes,
        }
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Binary(bytes)
    }
}

impl From<&[u8]> for Message {
    fn from(bytes: &[u8]) -> Self {
        Message::Binary(bytes.to_vec())
    }
}

impl<const N: usize> From<[u8; N]> for Message {
    fn from(bytes: [u8; N]) -> Self {
        Message::Binary(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(Message::from("hi"), Message::Text("hi".into()));
        assert_eq!(
            Message::from(String::from("hi")),
            Message::Text("hi".into())
        );
        assert_eq!(Message::from(vec![1u8, 2]), Message::Binary(vec![1, 2]));
        assert_eq!(Message::from(&[3u8][..]), Message::Binary(vec![3]));
        assert_eq!(Message::from([4u8, 5]), Message::Binary(vec![4, 5]));
    }

    #[test]
    fn accessors() {
        let text = Message::from("🦀");
        assert_eq!(text.len(), 4);
        assert!(text.is_text() && !text.is_binary() && !text.is_empty());
        assert_eq!(text.as_text(), Some("🦀"));
        assert_eq!(text.as_bytes(), "🦀".as_bytes());
        let bin = Message::from(Vec::new());
        assert!(bin.is_empty() && bin.is_binary());
        assert_eq!(bin.as_text(), None);
        assert_eq!(Message::from("ab").into_bytes(), b"ab".to_vec());
    }
}
