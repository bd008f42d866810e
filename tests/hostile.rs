//! Hostile and invalid input, with the browser itself as the oracle, in a real browser:
//! - every invalid-URL class of the WPT `websockets/Create-*` tests: `InvalidUrl` with the
//!   URL as given, or (where engines accept the URL) an ordinary connection outcome
//! - 1000 random subprotocol lists (valid tokens, separators, controls, non-ASCII, empty,
//!   duplicates): the crate refuses exactly what raw `new WebSocket(url, protocols)` refuses,
//!   plus case-insensitive duplicates, and names the offender
//! - 3000 random close codes and every boundary: `CloseCode::new` accepts exactly what the
//!   browser's `close(code)` accepts
//! - 500 random UTF-8 reasons: `ReasonTooLong { len }` exactly when the browser throws; a
//!   sample of accepted ones round-trips through the peer unchanged
//! - 300 random configurations (subprotocol lists, durations from zero to `Duration::MAX`,
//!   high-water marks, receive limits, binary types, backends, heartbeat payloads) and a
//!   random close code and reason for each socket built: every outcome is a socket or a
//!   typed error, and dropping them all leaves no listener behind
//! - nothing panics and no exception reaches the page throughout
//! - the close oracles' raw sockets use a blocked port (1): the browser checks the
//!   arguments synchronously and opens no connection, so thousands of them use up nothing
//! - WebKit cuts a close reason at its first NUL character (pinned; documented in README)
// Browser-only.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use futures::FutureExt;
use wasm_websocket::{live_listeners, Backend, BinaryType, CloseCode, Error, Message, WebSocket};

#[cfg(not(wasm_ws_worker))]
wasm_bindgen_test_configure!(run_in_browser);
#[cfg(wasm_ws_worker)]
wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[wasm_bindgen(inline_js = r#"
export function raw_constructor_error(url, protocols) {
    try { const ws = new WebSocket(url, protocols); ws.close(); return ""; }
    catch (e) { return e.name; }
}
export function raw_close_error(url, code, reason) {
    const ws = new WebSocket(url);
    try { ws.close(code, reason); return ""; }
    catch (e) { ws.close(); return e.name; }
}
"#)]
extern "C" {
    fn raw_constructor_error(url: &str, protocols: js_sys::Array) -> String;
    fn raw_close_error(url: &str, code: u16, reason: &str) -> String;
}

/// Where the oracle's raw sockets point: a port every browser blocks, so no connection is
/// ever attempted.
const ORACLE_URL: &str = "ws://127.0.0.1:1/";

/// xorshift32; the seed is printed with every failure.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u32) as usize]
    }
}

fn no_exception_reached_the_page(before: u32) {
    assert_eq!(uncaught_errors(), before, "an exception reached the page");
}

#[wasm_bindgen_test]
async fn wpt_invalid_url_classes() {
    bounded(async {
        install_error_counter();
        let errors = uncaught_errors();
        let host = location_host();
        // Refused by every engine: wrong scheme, fragment, bad port, unparsable.
        let always_invalid = [
            format!("ftp://{PEER}/"),
            "mailto:nobody@example.org".to_string(),
            "about:blank".to_string(),
            "data:text/plain,x".to_string(),
            "javascript:void(0)".to_string(),
            "file:///".to_string(),
            format!("ws://{PEER}/#"),
            format!("ws://{PEER}/#test"),
            format!("wss://{PEER}/path?q=1#frag"),
            "#test".to_string(),
            "ws://127.0.0.1:65536/".to_string(),
            "ws://127.0.0.1:99999999/".to_string(),
            "ws://[::1/".to_string(),
            "ws://".to_string(),
            "wss://".to_string(),
            "http://[".to_string(),
        ];
        for url in &always_invalid {
            match WebSocket::new(url.as_str()) {
                Err(Error::InvalidUrl {
                    url: given,
                    message,
                }) => {
                    assert_eq!(&given, url);
                    assert!(!message.is_empty());
                }
                other => panic!("{url:?}: expected InvalidUrl, got {other:?}"),
            }
        }
        // Engines differ on these; each must still end in a typed outcome.
        let engine_dependent = [
            "ws://foo bar.com/".to_string(),
            "wss://foo bar.com/".to_string(),
            format!("ws://{host}/with space"),
            "?test".to_string(),
            "test".to_string(),
            String::new(),
            "ws://exämple.invalid/".to_string(),
            "ws://127.0.0.1:25/".to_string(),
        ];
        for url in &engine_dependent {
            let outcome = WebSocket::builder(url.as_str())
                .connect_timeout(std::time::Duration::from_secs(5))
                .connect()
                .await;
            match outcome {
                Ok(_)
                | Err(Error::InvalidUrl { .. })
                | Err(Error::ConnectFailed(_))
                | Err(Error::Timeout) => {}
                Err(other) => panic!("{url:?}: unexpected {other:?}"),
            }
        }
        no_exception_reached_the_page(errors);
    })
    .await;
}

const TOKEN_CHARS: &[char] = &[
    'a', 'b', 'z', 'A', 'Z', '0', '9', '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_',
    '`', '|', '~',
];
const BAD_CHARS: &[char] = &[
    ' ', '\t', '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{',
    '}', '\u{7f}', '\u{0}', '\n', 'é', '🦀', '\u{a0}',
];

fn random_protocol(rng: &mut Rng) -> String {
    let len = rng.below(6);
    (0..len)
        .map(|_| {
            if rng.below(8) == 0 {
                *rng.pick(BAD_CHARS)
            } else {
                *rng.pick(TOKEN_CHARS)
            }
        })
        .collect()
}

#[wasm_bindgen_test]
async fn random_protocol_lists_match_the_browser() {
    within(120, async {
        install_error_counter();
        let errors = uncaught_errors();
        let seed = 0x5eed_0001;
        let mut rng = Rng(seed);
        // WebKit checks a blocked port before the protocols, so this oracle needs the peer.
        let target = &url("/protocol");
        let (mut refused, mut accepted) = (0, 0);
        for round in 0..1000 {
            let count = 1 + rng.below(3) as usize;
            let mut list: Vec<String> = (0..count).map(|_| random_protocol(&mut rng)).collect();
            match rng.below(10) {
                0 => list.push(list[0].clone()),
                1 => list.push(list[0].to_ascii_uppercase()),
                _ => {}
            }
            let raw: js_sys::Array = list.iter().map(|p| JsValue::from_str(p)).collect();
            let browser = raw_constructor_error(target, raw);
            let ours = WebSocket::builder(target.as_str())
                .protocols(list.iter().cloned())
                .build();
            let case_dup = (1..list.len()).any(|i| {
                list[..i]
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(&list[i]) && e != &list[i])
            });
            let context = format!("seed {seed:#x} round {round}: {list:?}");
            match ours {
                Ok(_) => {
                    assert_eq!(
                        browser, "",
                        "{context}: the browser refused what we accepted"
                    );
                    accepted += 1;
                }
                Err(Error::InvalidProtocol { protocol, .. }) => {
                    assert!(list.contains(&protocol), "{context}: offender {protocol:?}");
                    assert!(
                        browser == "SyntaxError" || case_dup,
                        "{context}: we refused what the browser accepts ({browser:?})"
                    );
                    refused += 1;
                }
                Err(other) => panic!("{context}: unexpected {other:?}"),
            }
        }
        assert!(
            refused > 100 && accepted > 100,
            "{refused} refused, {accepted} accepted"
        );
        no_exception_reached_the_page(errors);
    })
    .await;
}

#[wasm_bindgen_test]
async fn random_close_codes_match_the_browser() {
    within(120, async {
        install_error_counter();
        let errors = uncaught_errors();
        let seed = 0x5eed_0002;
        let mut rng = Rng(seed);
        let target = ORACLE_URL;
        let boundaries = [
            0, 1, 999, 1000, 1001, 1005, 1006, 1015, 2999, 3000, 4999, 5000,
        ];
        let codes: Vec<u16> = boundaries
            .into_iter()
            .chain((0..3000).map(|_| rng.below(65_536) as u16))
            .collect();
        for code in codes {
            let ours = CloseCode::new(code);
            // A valid code starts a close, so the oracle needs its own socket each time.
            let browser = raw_close_error(target, code, "");
            match ours {
                Ok(valid) => {
                    assert_eq!(valid.get(), code);
                    assert_eq!(browser, "", "seed {seed:#x}: browser refused code {code}");
                }
                Err(Error::InvalidCloseCode(c)) => {
                    assert_eq!(c, code);
                    assert_eq!(browser, "InvalidAccessError", "seed {seed:#x}: code {code}");
                }
                Err(other) => panic!("code {code}: unexpected {other:?}"),
            }
        }
        no_exception_reached_the_page(errors);
    })
    .await;
}

fn random_reason(rng: &mut Rng) -> String {
    const PIECES: &[&str] = &[
        "a",
        "Z",
        " ",
        "é",
        "€",
        "🦀",
        "中",
        "\u{0}",
        "\u{10ffff}",
        "~",
    ];
    let target_len = rng.below(200) as usize;
    let mut reason = String::new();
    while reason.len() < target_len {
        let piece = rng.pick::<&str>(PIECES);
        reason.push_str(piece);
    }
    reason
}

#[wasm_bindgen_test]
async fn random_reasons_match_the_browser_and_round_trip() {
    within(120, async {
        install_error_counter();
        let errors = uncaught_errors();
        let seed = 0x5eed_0003;
        let mut rng = Rng(seed);
        let mut round_trips = 0;
        for round in 0..500 {
            let reason = random_reason(&mut rng);
            let browser = raw_close_error(ORACLE_URL, 1000, &reason);
            let context = format!("seed {seed:#x} round {round}: {} bytes", reason.len());
            if reason.len() > 123 {
                assert_eq!(browser, "SyntaxError", "{context}");
                let ws = connect("/echo").await;
                assert_eq!(
                    ws.close(CloseCode::NORMAL, &reason).await,
                    Err(Error::ReasonTooLong { len: reason.len() }),
                    "{context}"
                );
            } else {
                assert_eq!(browser, "", "{context}");
                if round % 10 == 0 {
                    let ws = connect("/echo").await;
                    let event = ws
                        .close(CloseCode::new(4000).unwrap(), &reason)
                        .await
                        .unwrap();
                    let expected = if is_webkit() {
                        reason.split('\0').next().unwrap_or_default()
                    } else {
                        reason.as_str()
                    };
                    assert_eq!(event.reason, expected, "{context}");
                    round_trips += 1;
                }
            }
        }
        assert!(round_trips > 10);
        no_exception_reached_the_page(errors);
    })
    .await;
}

/// Zero, under a millisecond, ordinary, beyond what a JS timer can wait, or the maximum.
fn random_duration(rng: &mut Rng) -> Duration {
    match rng.below(5) {
        0 => Duration::ZERO,
        1 => Duration::from_micros(u64::from(rng.below(1000))),
        2 => Duration::from_millis(1 + u64::from(rng.below(100_000))),
        3 => Duration::from_secs(30 * 86_400 + u64::from(rng.next())),
        _ => Duration::MAX,
    }
}

#[wasm_bindgen_test]
async fn random_configurations_give_typed_outcomes() {
    within(120, async {
        let errors = uncaught_errors();
        let listeners = live_listeners();
        let sizes = [0, 1, 16, 1 << 20, usize::MAX];
        let mut rng = Rng(0x5eed_c0f1);
        let (mut built, mut refused) = (0, 0);
        for case in 0..300 {
            let seed = rng.0;
            let protocols: Vec<String> = (0..rng.below(3))
                .map(|_| random_protocol(&mut rng))
                .collect();
            let mut builder = WebSocket::builder(ORACLE_URL)
                .protocols(protocols)
                .high_water_mark(*rng.pick(&sizes))
                .binary_type(*rng.pick(&[BinaryType::ArrayBuffer, BinaryType::Blob]))
                .backend(*rng.pick(&[Backend::Classic, Backend::Auto, Backend::Stream]));
            if rng.below(2) == 0 {
                let message = if rng.below(2) == 0 {
                    Message::from(random_reason(&mut rng))
                } else {
                    Message::from(vec![0; rng.below(64) as usize])
                };
                builder = builder.heartbeat(random_duration(&mut rng), message);
            }
            if rng.below(2) == 0 {
                builder = builder.idle_timeout(random_duration(&mut rng));
            }
            if rng.below(2) == 0 {
                builder = builder.connect_timeout(random_duration(&mut rng));
            }
            if rng.below(2) == 0 {
                builder = builder.max_queued(*rng.pick(&sizes), *rng.pick(&sizes));
            }
            match builder.build() {
                Ok(ws) => {
                    built += 1;
                    let code = rng.next() as u16;
                    let reason = random_reason(&mut rng);
                    match CloseCode::new(code) {
                        // A close that starts resolves later, with the close event; only
                        // its typed refusals come at once.
                        Ok(code) => match ws.close(code, &reason).now_or_never() {
                            None => {}
                            Some(Err(Error::ReasonTooLong { len })) => {
                                assert!(len == reason.len() && len > 123, "case {case}")
                            }
                            Some(other) => panic!("case {case} seed {seed:#x}: {other:?}"),
                        },
                        Err(error) => assert_eq!(error, Error::InvalidCloseCode(code)),
                    }
                }
                Err(
                    Error::InvalidProtocol { .. }
                    | Error::InvalidOption { .. }
                    | Error::Unsupported { .. },
                ) => refused += 1,
                Err(other) => panic!("case {case} seed {seed:#x}: {other:?}"),
            }
        }
        assert!(
            built > 30 && refused > 30,
            "built {built}, refused {refused}"
        );
        assert_eq!(live_listeners(), listeners);
        no_exception_reached_the_page(errors);
    })
    .await;
}
