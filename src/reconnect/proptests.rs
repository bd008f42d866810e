//! Property tests of the reconnection machine: random histories of attempts, drops (with
//! a random `bufferedAmount` at the drop), sends, hand-offs, acknowledgements (the
//! buffered amount falling), timer firings, reader backlogs, graces and closes, against
//! a model of the browser. Every step checks the rules: no message is duplicated,
//! reordered or lost, the outbox stays within its limits, every delay stays within the
//! backoff bounds, the reconnect limit holds, a stable connection resets the attempts, a
//! close the application asked for never reconnects, and a clean close by the server
//! reconnects only if the policy's rule (built-in or `should_reconnect`) says so, a
//! failed provider counts as a failed attempt, `reconnect()` in any phase starts
//! attempt 0 without backoff (an open connection first ends; one that gave up comes
//! back), coming online or a wake skips a waiting backoff, and attempts that fail while
//! offline do not count toward the limit.

use std::ops::Range;
use std::time::Duration;

use proptest::prelude::*;

use super::events::ReconnectEvent;
use super::machine::{Action, Input, Machine, Random, Ready};
use super::policy::ReconnectPolicy;
use super::triggers::Wake;
use super::READ_AHEAD;
use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::error::Error;
use crate::message::Message;

#[derive(Debug, Clone)]
enum Op {
    Open,
    Fail,
    /// The provider of the attempt's target fails.
    ProviderFail,
    /// The application calls `reconnect()`.
    Reconnect,
    Fire,
    /// Offers a message of 7 + n bytes to the `Sink`.
    Send(usize),
    /// Hands up to n messages to the open connection.
    Hand(usize),
    /// `bufferedAmount` falls to k/255 of itself.
    Ack(u8),
    /// The connection ends with k/255 of `bufferedAmount` left.
    Drop {
        left: u8,
        clean: bool,
        close_event_first: bool,
    },
    /// The socket is closing (the grace starts).
    Ending,
    Grace,
    Backlog(usize),
    Advance(u32),
    Close,
    /// The browser goes offline or comes back online.
    Network {
        online: bool,
    },
    /// The page becomes visible, is restored, or the machine woke up.
    Wake(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Open),
        2 => Just(Op::Fail),
        1 => Just(Op::ProviderFail),
        1 => Just(Op::Reconnect),
        3 => Just(Op::Fire),
        6 => (0usize..40).prop_map(Op::Send),
        4 => (0usize..6).prop_map(Op::Hand),
        3 => any::<u8>().prop_map(Op::Ack),
        2 => (any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(left, clean, close_event_first)| {
            Op::Drop { left, clean, close_event_first }
        }),
        1 => Just(Op::Ending),
        1 => Just(Op::Grace),
        1 => (0usize..130).prop_map(Op::Backlog),
        2 => (0u32..4000).prop_map(Op::Advance),
        1 => Just(Op::Close),
        1 => any::<bool>().prop_map(|online| Op::Network { online }),
        1 => (0u8..3).prop_map(Op::Wake),
    ]
}

/// The backoff as given to the policy: initial and max in ms, factor.
type Backoff = (u64, u64, f64);

/// The close rules the histories run with, and what each decides for a clean (1000) or
/// unclean (1006) close.
#[derive(Debug, Clone, Copy)]
enum RuleModel {
    /// `reconnect_on_clean_close(b)`.
    BuiltIn(bool),
    /// `should_reconnect(|e| e.code != 1006)`: only clean closes.
    CleanOnly,
    /// `should_reconnect(|_| false)`.
    Never,
}

impl RuleModel {
    fn reconnects(self, clean: bool) -> bool {
        match self {
            RuleModel::BuiltIn(b) => b || !clean,
            RuleModel::CleanOnly => clean,
            RuleModel::Never => false,
        }
    }
}

fn policy() -> impl Strategy<Value = (ReconnectPolicy, RuleModel, Backoff)> {
    (
        (0u64..2000, 0u64..60_000, 0.5f64..4.0),
        proptest::option::of(0u32..6),
        0u64..3000,
        prop_oneof![
            4 => any::<bool>().prop_map(RuleModel::BuiltIn),
            1 => Just(RuleModel::CleanOnly),
            1 => Just(RuleModel::Never),
        ],
        (1usize..8, 0usize..200),
    )
        .prop_map(|(backoff, limit, stable, rule, (messages, bytes))| {
            let (initial, max, factor) = backoff;
            let policy = ReconnectPolicy::new()
                .backoff(
                    Duration::from_millis(initial),
                    Duration::from_millis(max),
                    factor,
                )
                .reconnect_limit(limit)
                .stable_after(Duration::from_millis(stable))
                .outbox_limit(messages, bytes);
            let policy = match rule {
                RuleModel::BuiltIn(clean) => policy.reconnect_on_clean_close(clean),
                RuleModel::CleanOnly => policy.should_reconnect(|e| e.code != 1006),
                RuleModel::Never => policy.should_reconnect(|_| false),
            };
            (policy, rule, backoff)
        })
}

/// Numbers in `[0, 1)` from a seed (xorshift), the extremes included now and then.
fn random(seed: u64) -> Random {
    let mut state = seed | 1;
    Box::new(move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        match state % 16 {
            0 => 0.0,
            1 => 1.0 - f64::EPSILON,
            _ => (state >> 11) as f64 / (1u64 << 53) as f64,
        }
    })
}

fn payload(seq: u64, extra: usize) -> Message {
    Message::Text(format!("{seq:06}:{}", "x".repeat(extra)))
}

fn seq_of(message: &Message) -> u64 {
    message.as_text().expect("text")[..6]
        .parse()
        .expect("a number")
}

fn event(clean: bool) -> CloseEvent {
    CloseEvent {
        code: if clean { 1000 } else { 1006 },
        reason: String::new(),
        was_clean: clean,
    }
}

/// The browser and the application around the machine, and what the rules need to
/// remember.
struct Sim {
    m: Machine,
    policy: ReconnectPolicy,
    rule: RuleModel,
    /// `reconnect()` was called while a connection was open: its end is followed by
    /// attempt 0 at once.
    reconnect_pending: bool,
    backoff: Backoff,
    now: f64,
    attempt_pending: bool,
    timer_pending: bool,
    grace_pending: bool,
    open: bool,
    opened_at: f64,
    /// The first number the current connection must be given.
    conn_first: u64,
    /// (number, bytes) handed to the current connection, in order.
    handed: Vec<(u64, u64)>,
    buffered: u64,
    accepted: u64,
    /// Where the next connection must start: one past the last message sent.
    next_unsent: u64,
    sent: Vec<Range<u64>>,
    /// The attempt of the last `Retrying`.
    attempt: u32,
    /// Attempts since the last stable connection, counted here.
    model_attempt: u32,
    /// Of those, the ones that failed while offline (they do not count toward the
    /// limit).
    offline_attempts: u32,
    offline: bool,
    /// The reader's queue, as last reported.
    backlog: usize,
    close_requested: bool,
    finished: bool,
}

impl Sim {
    fn new(policy: ReconnectPolicy, rule: RuleModel, backoff: Backoff, seed: u64) -> Sim {
        Sim {
            m: Machine::new(policy.clone(), None, random(seed)),
            policy,
            rule,
            reconnect_pending: false,
            backoff,
            now: 0.0,
            attempt_pending: true,
            timer_pending: false,
            grace_pending: false,
            open: false,
            opened_at: 0.0,
            conn_first: 0,
            handed: Vec::new(),
            buffered: 0,
            accepted: 0,
            next_unsent: 0,
            sent: Vec::new(),
            attempt: 0,
            model_attempt: 0,
            offline_attempts: 0,
            offline: false,
            backlog: 0,
            close_requested: false,
            finished: false,
        }
    }

    /// The longest delay before `attempt` in ms, `min(max, initial * factor^(n - 1))`,
    /// from the numbers given to the policy (a factor below 1 counts as 1).
    fn bound_ms(&self, attempt: u32) -> f64 {
        let (initial, max, factor) = self.backoff;
        let grown = initial as f64 * factor.max(1.0).powi(attempt as i32 - 1);
        grown.min(max as f64)
    }

    /// Where `bufferedAmount` says the unsent part of the current connection starts.
    fn unsent_start(&self, buffered: u64) -> u64 {
        let mut remaining: u64 = self.handed.iter().map(|(_, len)| len).sum();
        for &(seq, len) in &self.handed {
            if remaining - len < buffered {
                return seq;
            }
            remaining -= len;
        }
        self.handed
            .last()
            .map_or(self.conn_first, |(seq, _)| seq + 1)
    }

    fn input(&mut self, input: Input, buffered: u64) -> Vec<Action> {
        let was_open = self.open;
        let opened_at = self.opened_at;
        // `Release` comes before `Disconnected` and forgets the connection.
        let expected_unsent = self.unsent_start(buffered);
        let handed_end = self
            .handed
            .last()
            .map_or(self.conn_first, |(seq, _)| seq + 1);
        let actions = self.m.handle(input, self.now, buffered);
        let mut disconnected = false;
        for action in &actions {
            match action {
                Action::Connect { .. } => {
                    assert!(!self.close_requested, "a connect after a close");
                    assert!(self.backlog < READ_AHEAD, "a connect while the reader lags");
                    assert!(!self.open && !self.attempt_pending);
                    self.timer_pending = false;
                    self.attempt_pending = true;
                }
                Action::Wait(delay) => {
                    assert!(!self.close_requested, "a backoff after a close");
                    self.timer_pending = true;
                    let ms = delay.as_secs_f64() * 1e3;
                    assert!(ms > 0.0 && ms <= self.bound_ms(self.attempt) + 1e-6);
                }
                Action::Close { .. } => assert!(self.open),
                Action::Grace => {
                    assert!(self.open && !self.close_requested);
                    self.grace_pending = true;
                }
                Action::Release => {
                    self.open = false;
                    self.attempt_pending = false;
                    self.timer_pending = false;
                    self.grace_pending = false;
                    self.handed.clear();
                    self.buffered = 0;
                }
                Action::Emit(ReconnectEvent::Connected { attempt }) => {
                    assert_eq!(*attempt, self.attempt);
                }
                Action::Emit(ReconnectEvent::Retrying { attempt, delay }) => {
                    assert!(!self.close_requested, "a retry after a close");
                    self.model_attempt += 1;
                    if self.offline {
                        self.offline_attempts += 1;
                    }
                    assert_eq!(*attempt, self.model_attempt);
                    if let Some(limit) = self.policy_limit() {
                        let counted = attempt - self.offline_attempts;
                        assert!(counted <= limit, "attempt {attempt} past the limit");
                    }
                    if disconnected && self.now - opened_at >= self.stable_ms() {
                        assert_eq!(*attempt, 1, "a stable connection resets the attempts");
                    }
                    let ms = delay.as_secs_f64() * 1e3;
                    assert!(
                        ms <= self.bound_ms(*attempt) + 1e-6,
                        "{ms} ms for {attempt}"
                    );
                    assert_eq!(delay.subsec_nanos() % 1_000_000, 0, "whole milliseconds");
                    self.attempt = *attempt;
                }
                Action::Emit(ReconnectEvent::Disconnected { sent, unsent, .. }) => {
                    assert!(was_open);
                    assert_eq!(
                        sent.start, self.conn_first,
                        "starts where the last one left"
                    );
                    assert_eq!(sent.end, unsent.start);
                    assert_eq!(unsent.start, expected_unsent);
                    assert_eq!(unsent.end, handed_end);
                    if self.now - opened_at >= self.stable_ms() {
                        self.model_attempt = 0;
                        self.offline_attempts = 0;
                    }
                    self.sent.push(sent.clone());
                    self.next_unsent = unsent.start;
                    disconnected = true;
                }
                Action::Emit(ReconnectEvent::GaveUp) => {
                    let limit = self.policy_limit().expect("gave up without a limit");
                    let counted = self.model_attempt + 1 - self.offline_attempts;
                    assert!(!self.offline && counted > limit, "gave up before the limit");
                }
                Action::Emit(
                    ReconnectEvent::AttemptFailed(_) | ReconnectEvent::ProviderFailed(_),
                ) => {}
                Action::Yield(error) => panic!("nothing refused messages: {error}"),
                Action::Finish => self.finished = true,
            }
        }
        actions
    }

    fn policy_limit(&self) -> Option<u32> {
        self.policy.reconnect_limit
    }

    fn stable_ms(&self) -> f64 {
        self.policy.stable_after.as_secs_f64() * 1e3
    }

    fn step(&mut self, op: &Op) {
        match *op {
            Op::Open if self.attempt_pending => {
                self.attempt_pending = false;
                self.input(Input::Opened, 0);
                self.open = true;
                self.opened_at = self.now;
                self.conn_first = self.next_unsent;
            }
            Op::Fail if self.attempt_pending => {
                self.attempt_pending = false;
                self.input(Input::AttemptFailed(Error::ConnectFailed(event(false))), 0);
            }
            Op::ProviderFail if self.attempt_pending => {
                self.attempt_pending = false;
                // Any error: only the provider knows whether trying again helps.
                let error = Error::Js {
                    name: "TypeError".into(),
                    message: "no token".into(),
                };
                let actions = self.input(Input::ProviderFailed(error.clone()), 0);
                assert_eq!(
                    actions.first(),
                    Some(&Action::Emit(ReconnectEvent::ProviderFailed(error)))
                );
                assert!(
                    self.finished
                        || self.timer_pending
                        || self.attempt_pending
                        || self.backlog >= READ_AHEAD
                );
            }
            Op::Reconnect => {
                let was_finished = self.finished;
                let was_open = self.open;
                let ending = self.m.is_ending();
                let asked = self.close_requested;
                if !asked {
                    // `reconnect()` starts the count over: the next attempt is 0.
                    self.model_attempt = 0;
                    self.offline_attempts = 0;
                    self.attempt = 0;
                }
                let actions = self.input(Input::Reconnect, self.buffered);
                assert!(
                    !actions
                        .iter()
                        .any(|a| matches!(a, Action::Wait(_) | Action::Emit(_))),
                    "no backoff, no event: {actions:?}"
                );
                if asked {
                    assert!(actions.is_empty(), "a close was asked for");
                } else if was_open {
                    self.reconnect_pending = true;
                    let close = matches!(actions[..], [Action::Close { .. }]);
                    assert!(
                        if ending { actions.is_empty() } else { close },
                        "{actions:?}"
                    );
                } else {
                    if was_finished {
                        self.finished = false;
                    }
                    assert_eq!(self.attempt_pending, self.backlog < READ_AHEAD);
                }
            }
            Op::Fire if self.timer_pending => {
                self.timer_pending = false;
                self.input(Input::TimerFired, 0);
            }
            Op::Send(extra) => match self.m.ready(true) {
                Ready::Yes => {
                    let seq = self.m.accept(payload(self.accepted, extra)).expect("ready");
                    assert_eq!(seq, self.accepted);
                    self.accepted += 1;
                    let outbox = self.m.outbox();
                    assert!(outbox.len() <= self.policy.outbox_messages);
                    assert!(outbox.bytes() <= self.policy.outbox_bytes + 7 + extra);
                }
                Ready::Wait => assert!(self.open && !self.m.outbox().has_room()),
                Ready::No(Error::OutboxFull { .. }) => {
                    assert!(!self.m.outbox().has_room());
                    assert!(!self.m.is_sending());
                }
                Ready::No(Error::NotOpen(_)) => {
                    assert!(self.close_requested || self.finished);
                }
                Ready::No(other) => panic!("{other}"),
            },
            Op::Hand(n) if self.open => {
                for _ in 0..n {
                    let Some(message) = self.m.next_to_hand() else {
                        break;
                    };
                    let seq = seq_of(message);
                    let expected = self.handed.last().map_or(self.conn_first, |(s, _)| s + 1);
                    assert_eq!(seq, expected, "handed in order, without gaps or repeats");
                    let len = message.len() as u64;
                    self.handed.push((seq, len));
                    self.buffered += len;
                    self.m.handed();
                }
            }
            Op::Ack(k) if self.open => {
                self.buffered = self.buffered * u64::from(k) / 255;
                self.m.acknowledge(self.buffered);
            }
            Op::Drop {
                left,
                clean,
                close_event_first,
            } if self.open => {
                let buffered = self.buffered * u64::from(left) / 255;
                let asked = self.close_requested;
                let inputs = if close_event_first {
                    [Input::Closed(event(clean)), Input::StreamEnded(None)]
                } else {
                    [Input::StreamEnded(None), Input::Closed(event(clean))]
                };
                let mut actions = Vec::new();
                for input in inputs {
                    actions.extend(self.input(input, buffered));
                }
                assert!(!self.open, "a closed connection ends");
                let retried = actions
                    .iter()
                    .any(|a| matches!(a, Action::Emit(ReconnectEvent::Retrying { .. })));
                let gave_up = actions
                    .iter()
                    .any(|a| matches!(a, Action::Emit(ReconnectEvent::GaveUp)));
                let reconnect = std::mem::take(&mut self.reconnect_pending);
                if asked {
                    assert!(self.finished && !retried && !gave_up);
                } else if reconnect {
                    // Attempt 0 at once (or once the reader has caught up).
                    assert!(!self.finished && !retried && !gave_up);
                    assert_eq!(self.attempt_pending, self.backlog < READ_AHEAD);
                } else if !self.rule.reconnects(clean) {
                    assert!(self.finished && !retried && !gave_up);
                } else {
                    assert!(retried || gave_up);
                }
            }
            Op::Ending if self.open => {
                self.input(Input::NotOpen, self.buffered);
            }
            Op::Grace if self.open && self.grace_pending => {
                self.grace_pending = false;
                self.reconnect_pending = false;
                self.input(Input::GraceOver, self.buffered);
                assert!(!self.open, "abandoned");
            }
            Op::Backlog(n) => {
                self.backlog = n;
                self.input(Input::Backlog(n), self.buffered);
            }
            Op::Advance(ms) => self.now += f64::from(ms),
            Op::Network { online } => {
                let waiting = self.timer_pending;
                self.offline = !online;
                let input = if online {
                    Input::Online
                } else {
                    Input::Offline
                };
                let actions = self.input(input, self.buffered);
                if online && waiting && !self.close_requested {
                    // The backoff is skipped: attempt at once, or once the reader caught up.
                    assert!(!self.timer_pending);
                    assert_eq!(self.attempt_pending, self.backlog < READ_AHEAD);
                } else {
                    assert!(actions.is_empty(), "{actions:?}");
                }
            }
            Op::Wake(kind) => {
                let waiting = self.timer_pending;
                let wake = [Wake::Visible, Wake::PageShow, Wake::Slept][usize::from(kind)];
                let actions = self.input(Input::Wake(wake), self.buffered);
                if waiting && !self.close_requested {
                    assert!(!self.timer_pending);
                    assert_eq!(self.attempt_pending, self.backlog < READ_AHEAD);
                } else {
                    // No heartbeat here: an open connection has nothing to check with.
                    assert!(actions.is_empty(), "{actions:?}");
                }
            }
            Op::Close => {
                let actions = self.input(
                    Input::Close {
                        code: CloseCode::NORMAL,
                        reason: String::new(),
                    },
                    self.buffered,
                );
                if !self.finished {
                    assert!(self.open);
                    assert!(actions.is_empty() || matches!(actions[..], [Action::Close { .. }]));
                }
                self.close_requested = true;
            }
            _ => {}
        }
        // The rules that hold after every step.
        assert_eq!(self.finished, self.m.finished());
        if self.finished {
            assert!(!self.open && !self.attempt_pending && !self.timer_pending);
        }
    }

    /// Closes for good and checks that every accepted message was sent exactly once or
    /// handed back, in order.
    fn finish(mut self) {
        if !self.finished {
            self.step(&Op::Close);
            if self.open {
                self.step(&Op::Drop {
                    left: 0,
                    clean: true,
                    close_event_first: true,
                });
            }
        }
        assert!(self.finished && self.m.finished());
        let mut next = 0;
        for range in &self.sent {
            assert_eq!(
                range.start, next,
                "sent ranges are contiguous: {:?}",
                self.sent
            );
            next = range.end;
        }
        let unsent: Vec<u64> = self.m.take_unsent().iter().map(seq_of).collect();
        let expected: Vec<u64> = (next..self.accepted).collect();
        assert_eq!(unsent, expected, "the rest comes back, in order");
    }
}

fn run((policy, rule, backoff): (ReconnectPolicy, RuleModel, Backoff), seed: u64, ops: &[Op]) {
    let mut sim = Sim::new(policy, rule, backoff, seed);
    for op in ops {
        sim.step(op);
    }
    sim.finish();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_history_keeps_every_rule(
        policy in policy(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(op(), 0..200),
    ) {
        run(policy, seed, &ops);
    }

    #[test]
    fn delays_stay_within_the_backoff_bounds(
        policy in policy(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(
            prop_oneof![Just(Op::Fail), Just(Op::Fire), Just(Op::Open),
                Just(Op::Drop { left: 0, clean: false, close_event_first: true })],
            0..300,
        ),
    ) {
        run(policy, seed, &ops);
    }

    #[test]
    fn the_outbox_stays_within_its_limits(
        policy in policy(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(
            prop_oneof![6 => (0usize..60).prop_map(Op::Send), 1 => op()],
            0..200,
        ),
    ) {
        run(policy, seed, &ops);
    }

    #[test]
    fn messages_survive_drops_in_order(
        policy in policy().prop_map(|(p, _, backoff)| {
            let p = p.reconnect_limit(None).outbox_limit(16, 1 << 20).reconnect_on_clean_close(false);
            (p, RuleModel::BuiltIn(false), backoff)
        }),
        seed in any::<u64>(),
        ops in proptest::collection::vec(
            prop_oneof![
                4 => (0usize..40).prop_map(Op::Send),
                4 => (1usize..6).prop_map(Op::Hand),
                3 => any::<u8>().prop_map(Op::Ack),
                2 => (any::<u8>(), any::<bool>()).prop_map(|(left, first)| Op::Drop {
                    left, clean: false, close_event_first: first }),
                2 => Just(Op::Open),
                2 => Just(Op::Fire),
                1 => Just(Op::Ending),
                1 => Just(Op::Grace),
            ],
            0..300,
        ),
    ) {
        run(policy, seed, &ops);
    }

    #[test]
    fn stable_connections_reset_the_attempts_and_closes_never_reconnect(
        policy in policy(),
        seed in any::<u64>(),
        ops in proptest::collection::vec(
            prop_oneof![
                3 => (0u32..6000).prop_map(Op::Advance),
                2 => Just(Op::Open),
                2 => Just(Op::Fail),
                1 => Just(Op::ProviderFail),
                1 => Just(Op::Reconnect),
                2 => Just(Op::Fire),
                2 => (any::<u8>(), any::<bool>()).prop_map(|(left, clean)| Op::Drop {
                    left, clean, close_event_first: true }),
                1 => Just(Op::Close),
                1 => Just(Op::Ending),
                1 => Just(Op::Grace),
            ],
            0..200,
        ),
    ) {
        run(policy, seed, &ops);
    }
}
