//! Native tests of the reconnection machine: one scenario each, inputs in, actions and
//! events checked.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use super::driver::Io;
use super::driver::Shared;
use super::events::ReconnectEvent;
use super::machine::{Action, Input, Machine, Ready};
use super::policy::ReconnectPolicy;
use super::triggers::{ReconnectTriggers, Wake as Reason};
use super::READ_AHEAD;
use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::core::keepalive::KeepaliveConfig;
use crate::error::Error;
use crate::message::Message;
use crate::socket::Builder;
use crate::state::State;
use crate::sync;

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Backoff 100 ms doubling up to 1 s, stable after 5 s; jitter fixed at 0.5.
fn policy() -> ReconnectPolicy {
    ReconnectPolicy::new().backoff(ms(100), ms(1000), 2.0)
}

fn machine(policy: ReconnectPolicy) -> Machine {
    Machine::new(policy, None, Box::new(|| 0.5))
}

fn event(code: u16, was_clean: bool) -> CloseEvent {
    CloseEvent {
        code,
        reason: String::new(),
        was_clean,
    }
}

fn failed() -> Error {
    Error::ConnectFailed(event(1006, false))
}

fn events(actions: &[Action]) -> Vec<ReconnectEvent> {
    actions
        .iter()
        .filter_map(|action| match action {
            Action::Emit(event) => Some(event.clone()),
            _ => None,
        })
        .collect()
}

fn others(actions: &[Action]) -> Vec<Action> {
    actions
        .iter()
        .filter(|action| !matches!(action, Action::Emit(_)))
        .cloned()
        .collect()
}

/// Ends the open connection the way the socket reports it: close event, then the end of
/// its stream.
fn end(m: &mut Machine, close: CloseEvent, now: f64, buffered: u64) -> Vec<Action> {
    let mut actions = m.handle(Input::Closed(close), now, buffered);
    actions.extend(m.handle(Input::StreamEnded(None), now, buffered));
    actions
}

fn open(m: &mut Machine, now: f64) {
    let actions = m.handle(Input::Opened, now, 0);
    assert!(matches!(
        actions.as_slice(),
        [Action::Emit(ReconnectEvent::Connected { .. })]
    ));
}

/// Hands everything queued to the open connection.
fn hand_all(m: &mut Machine) -> Vec<Message> {
    let mut handed = Vec::new();
    while let Some(message) = m.next_to_hand() {
        handed.push(message.clone());
        m.handed();
    }
    handed
}

#[test]
fn the_first_connection_is_attempt_zero() {
    let mut m = machine(policy());
    assert_eq!(m.state(true), State::Connecting);
    let actions = m.handle(Input::Opened, 0.0, 0);
    assert_eq!(events(&actions), [ReconnectEvent::Connected { attempt: 0 }]);
    assert_eq!(m.state(true), State::Open);
    // The machine trusts the socket's own state, which changes before the driver runs.
    assert_eq!(m.state(false), State::Connecting);
}

#[test]
fn a_failed_attempt_backs_off_with_jitter() {
    let mut m = machine(policy());
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(
        events(&actions),
        [
            ReconnectEvent::AttemptFailed(failed()),
            ReconnectEvent::Retrying {
                attempt: 1,
                delay: ms(50)
            }
        ]
    );
    assert_eq!(others(&actions), [Action::Wait(ms(50))]);
    assert_eq!(
        m.handle(Input::TimerFired, 0.0, 0),
        [Action::Connect { attempt: 1 }]
    );
    let actions = m.handle(Input::AttemptFailed(Error::Timeout), 0.0, 0);
    assert!(events(&actions).contains(&ReconnectEvent::Retrying {
        attempt: 2,
        delay: ms(100)
    }));
}

#[test]
fn a_zero_delay_connects_at_once() {
    let mut m = Machine::new(policy(), None, Box::new(|| 0.0));
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(others(&actions), [Action::Connect { attempt: 1 }]);
}

#[test]
fn an_error_retrying_cannot_fix_gives_up() {
    let mut m = machine(policy());
    let error = Error::Security {
        message: "no".into(),
    };
    let actions = m.handle(Input::AttemptFailed(error.clone()), 0.0, 0);
    assert_eq!(
        events(&actions),
        [
            ReconnectEvent::AttemptFailed(error.clone()),
            ReconnectEvent::GaveUp
        ]
    );
    assert_eq!(others(&actions), [Action::Finish]);
    assert_eq!(m.state(true), State::Closed);
    assert_eq!(m.end_error(), Some(&error));
    assert_eq!(m.take_end_error(), Some(error));
    assert_eq!(m.take_end_error(), None);
}

#[test]
fn the_reconnect_limit_gives_up_with_the_last_error() {
    let mut m = machine(policy().reconnect_limit(Some(2)));
    for attempt in 1..=2 {
        let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
        assert!(matches!(
            events(&actions)[1],
            ReconnectEvent::Retrying { attempt: a, .. } if a == attempt
        ));
        m.handle(Input::TimerFired, 0.0, 0);
    }
    let actions = m.handle(Input::AttemptFailed(Error::Timeout), 0.0, 0);
    assert_eq!(
        events(&actions),
        [
            ReconnectEvent::AttemptFailed(Error::Timeout),
            ReconnectEvent::GaveUp
        ]
    );
    assert_eq!(m.take_end_error(), Some(Error::Timeout));
}

#[test]
fn a_limit_of_zero_makes_one_attempt() {
    let mut m = machine(policy().reconnect_limit(Some(0)));
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert!(events(&actions).ends_with(&[ReconnectEvent::GaveUp]));
    assert!(m.finished());
}

#[test]
fn unstable_connections_count_as_attempts() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    let actions = end(&mut m, event(1006, false), 4999.0, 0);
    assert!(events(&actions).contains(&ReconnectEvent::Retrying {
        attempt: 1,
        delay: ms(50)
    }));
    m.handle(Input::TimerFired, 5000.0, 0);
    let actions = m.handle(Input::Opened, 5000.0, 0);
    assert_eq!(events(&actions), [ReconnectEvent::Connected { attempt: 1 }]);
    let actions = end(&mut m, event(1006, false), 5100.0, 0);
    assert!(events(&actions).contains(&ReconnectEvent::Retrying {
        attempt: 2,
        delay: ms(100)
    }));
}

#[test]
fn a_stable_connection_resets_the_attempts() {
    let mut m = machine(policy().stable_after(ms(2000)));
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    m.handle(Input::TimerFired, 0.0, 0);
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    m.handle(Input::TimerFired, 0.0, 0);
    open(&mut m, 1000.0);
    let actions = end(&mut m, event(1006, false), 3000.0, 0);
    assert!(events(&actions).contains(&ReconnectEvent::Retrying {
        attempt: 1,
        delay: ms(50)
    }));
}

#[test]
fn a_clean_close_by_the_server_ends_it() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    let actions = end(&mut m, event(1001, true), 10.0, 0);
    assert_eq!(
        events(&actions),
        [ReconnectEvent::Disconnected {
            event: event(1001, true),
            sent: 0..0,
            unsent: 0..0
        }]
    );
    assert_eq!(others(&actions), [Action::Release, Action::Finish]);
    // Not an error: the stream just ends.
    assert_eq!(m.take_end_error(), None);
    assert_eq!(m.last_close(), Some(event(1001, true)));
}

#[test]
fn a_clean_close_reconnects_if_the_policy_says_so() {
    let mut m = machine(
        policy()
            .reconnect_on_clean_close(true)
            .reconnect_limit(Some(0)),
    );
    open(&mut m, 0.0);
    let actions = end(&mut m, event(1012, true), 10.0, 0);
    // The limit is reached, and a clean close is still no error.
    assert!(events(&actions).ends_with(&[ReconnectEvent::GaveUp]));
    assert_eq!(m.take_end_error(), None);

    let mut m = machine(policy().reconnect_on_clean_close(true));
    open(&mut m, 0.0);
    let actions = end(&mut m, event(1012, true), 10.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Wait(ms(50))]);
    // A new attempt clears the last close event.
    assert_eq!(m.last_close(), None);
}

#[test]
fn an_unclean_close_reconnects_and_is_the_error_if_it_gives_up() {
    let mut m = machine(policy().reconnect_limit(Some(0)));
    open(&mut m, 0.0);
    end(&mut m, event(1006, false), 10.0, 0);
    assert_eq!(
        m.take_end_error(),
        Some(Error::ConnectionLost(event(1006, false)))
    );
}

#[test]
fn an_application_close_waits_for_the_close_event_and_never_reconnects() {
    let mut m = machine(policy().reconnect_on_clean_close(true));
    open(&mut m, 0.0);
    let code = CloseCode::new(4000).unwrap();
    let actions = m.handle(
        Input::Close {
            code,
            reason: "bye".into(),
        },
        0.0,
        0,
    );
    assert_eq!(
        actions,
        [Action::Close {
            code,
            reason: "bye".into()
        }]
    );
    assert_eq!(m.state(true), State::Closing);
    // No grace: the application asked for this close.
    assert_eq!(m.handle(Input::NotOpen, 0.0, 0), []);
    let actions = end(&mut m, event(1006, false), 10.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Finish]);
    assert!(!events(&actions)
        .iter()
        .any(|e| matches!(e, ReconnectEvent::Retrying { .. })));
    assert_eq!(m.state(true), State::Closed);
    assert_eq!(m.take_end_error(), None);
}

#[test]
fn a_close_while_waiting_ends_at_once() {
    let mut m = machine(policy());
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    let actions = m.handle(
        Input::Close {
            code: CloseCode::NORMAL,
            reason: String::new(),
        },
        0.0,
        0,
    );
    assert_eq!(actions, [Action::Release, Action::Finish]);
    assert_eq!(m.last_close(), None);
    // The timer's firing, had it raced the close, changes nothing.
    assert_eq!(m.handle(Input::TimerFired, 0.0, 0), []);
    assert_eq!(m.state(true), State::Closed);
}

#[test]
fn closing_twice_starts_nothing() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    let close = || Input::Close {
        code: CloseCode::NORMAL,
        reason: String::new(),
    };
    assert_eq!(m.handle(close(), 0.0, 0).len(), 1);
    assert_eq!(m.handle(close(), 0.0, 0), []);
}

#[test]
fn dropping_releases_and_finishes_without_events() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    assert_eq!(
        m.handle(Input::Dropped, 0.0, 0),
        [Action::Release, Action::Finish]
    );
    assert_eq!(m.handle(Input::Dropped, 0.0, 0), []);
}

#[test]
fn a_full_receive_queue_is_yielded_and_reconnects() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    let error = Error::ReceiveQueueFull {
        messages: 10,
        bytes: 100,
    };
    let mut actions = m.handle(Input::StreamEnded(Some(error.clone())), 0.0, 0);
    assert_eq!(actions, [Action::Grace]);
    actions = m.handle(Input::Closed(event(4009, true)), 0.0, 0);
    assert_eq!(
        others(&actions),
        [
            Action::Release,
            Action::Yield(error.clone()),
            Action::Wait(ms(50))
        ]
    );
}

#[test]
fn the_idle_timeout_reconnects() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    m.handle(Input::StreamEnded(Some(Error::IdleTimeout)), 0.0, 0);
    let actions = m.handle(Input::Closed(event(1000, true)), 0.0, 0);
    assert!(events(&actions)
        .iter()
        .any(|e| matches!(e, ReconnectEvent::Retrying { attempt: 1, .. })));
}

/// Issue 22 item 8: the grace runs from when the connection starts ending, and abandons
/// it even though its stream has not ended (the stream ends only with the close event).
#[test]
fn the_close_grace_runs_from_the_start_of_the_end() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    assert_eq!(m.handle(Input::NotOpen, 0.0, 0), [Action::Grace]);
    assert_eq!(m.state(true), State::Connecting);
    let actions = m.handle(Input::GraceOver, 1000.0, 0);
    assert_eq!(
        events(&actions)[0],
        ReconnectEvent::Disconnected {
            event: event(1006, false),
            sent: 0..0,
            unsent: 0..0
        }
    );
    assert!(others(&actions).starts_with(&[Action::Release]));
}

#[test]
fn the_grace_is_not_needed_once_the_close_event_came() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    // The close event first: no grace, the stream's end follows.
    assert_eq!(m.handle(Input::Closed(event(1000, true)), 0.0, 0), []);
    assert_eq!(m.handle(Input::GraceOver, 0.0, 0), []);
    let actions = m.handle(Input::StreamEnded(None), 0.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Finish]);
}

/// Issue 22 item 5: with a stalled reader, the next attempt waits until the reader has
/// taken all but `READ_AHEAD` messages, so connections cannot pile up their backlogs.
#[test]
fn the_next_attempt_waits_for_the_reader() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    assert_eq!(m.handle(Input::Backlog(500), 0.0, 0), []);
    let actions = end(&mut m, event(1006, false), 10.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Wait(ms(50))]);
    assert_eq!(m.handle(Input::TimerFired, 60.0, 0), []);
    assert_eq!(m.handle(Input::Backlog(READ_AHEAD), 70.0, 0), []);
    assert_eq!(m.state(true), State::Connecting);
    assert_eq!(
        m.handle(Input::Backlog(READ_AHEAD - 1), 80.0, 0),
        [Action::Connect { attempt: 1 }]
    );
    // A reader that kept up never delays an attempt.
    let mut m = Machine::new(policy(), None, Box::new(|| 0.0));
    m.handle(Input::Backlog(READ_AHEAD - 1), 0.0, 0);
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(others(&actions), [Action::Connect { attempt: 1 }]);
}

#[test]
fn poll_ready_follows_the_outbox_limit() {
    let mut m = machine(policy().outbox_limit(2, 100));
    assert_eq!(m.ready(true), Ready::Yes);
    m.accept(Message::from("a")).unwrap();
    m.accept(Message::from("bc")).unwrap();
    // Full while disconnected: an error, not permanent.
    assert_eq!(
        m.ready(true),
        Ready::No(Error::OutboxFull {
            messages: 2,
            bytes: 3
        })
    );
    open(&mut m, 0.0);
    // Full while connected: wait for the connection to drain it.
    assert_eq!(m.ready(true), Ready::Wait);
    assert_eq!(m.next_to_hand(), Some(&Message::from("a")));
    m.handed();
    assert_eq!(m.ready(true), Ready::Yes);
    m.handle(
        Input::Close {
            code: CloseCode::NORMAL,
            reason: String::new(),
        },
        0.0,
        0,
    );
    assert_eq!(m.ready(true), Ready::No(Error::NotOpen(State::Closing)));
    assert_eq!(
        m.accept(Message::from("late")),
        Err(Error::NotOpen(State::Closing))
    );
}

#[test]
fn messages_are_numbered_and_the_unsent_ones_go_first_on_the_next_connection() {
    let mut m = machine(policy());
    for text in ["aa", "bb", "cc"] {
        m.accept(Message::from(text)).unwrap();
    }
    open(&mut m, 0.0);
    assert_eq!(hand_all(&mut m).len(), 3);
    assert_eq!(m.accept(Message::from("dd")), Ok(3));
    // 3 bytes still counted: "cc" and half of "bb" never left the browser.
    let actions = end(&mut m, event(1006, false), 10.0, 3);
    assert_eq!(
        events(&actions)[0],
        ReconnectEvent::Disconnected {
            event: event(1006, false),
            sent: 0..1,
            unsent: 1..3
        }
    );
    m.handle(Input::TimerFired, 100.0, 0);
    open(&mut m, 100.0);
    assert_eq!(
        hand_all(&mut m),
        ["bb", "cc", "dd"].map(Message::from).to_vec()
    );
    let actions = end(&mut m, event(1000, true), 200.0, 0);
    assert!(matches!(
        &events(&actions)[0],
        ReconnectEvent::Disconnected { sent, unsent, .. } if *sent == (1..4) && unsent.is_empty()
    ));
}

#[test]
fn an_ending_connection_takes_nothing_more() {
    let mut m = machine(policy());
    open(&mut m, 0.0);
    m.accept(Message::from("x")).unwrap();
    m.handle(Input::NotOpen, 0.0, 0);
    assert_eq!(m.next_to_hand(), None);
    assert!(m.is_ending() && !m.is_sending());
}

#[test]
fn flushed_once_the_browser_has_handed_everything_on() {
    let mut m = machine(policy());
    assert!(m.flushed());
    m.accept(Message::from("abc")).unwrap();
    assert!(!m.flushed());
    open(&mut m, 0.0);
    hand_all(&mut m);
    m.acknowledge(2);
    assert!(!m.flushed());
    m.acknowledge(0);
    assert!(m.flushed());
}

#[test]
fn take_unsent_only_once_it_has_ended() {
    let mut m = machine(policy());
    m.accept(Message::from("a")).unwrap();
    assert!(m.take_unsent().is_empty());
    m.handle(
        Input::Close {
            code: CloseCode::NORMAL,
            reason: String::new(),
        },
        0.0,
        0,
    );
    assert_eq!(m.take_unsent(), [Message::from("a")]);
    assert!(m.take_unsent().is_empty());
}

#[test]
fn heartbeats_follow_quiet_intervals_and_are_not_numbered() {
    let mut config = KeepaliveConfig {
        heartbeat: Some((ms(400), Message::from("hb"))),
        ..KeepaliveConfig::default()
    };
    let mut m = Machine::new(policy(), config.take_heartbeat(), Box::new(|| 0.5));
    assert_eq!(m.tick_millis(), Some(100));
    // No connection, no heartbeat.
    assert_eq!(m.tick(0, 0.0), None);
    open(&mut m, 0.0);
    let beats: Vec<usize> = (1..=8)
        .filter(|&i| m.tick(0, i as f64 * 100.0).is_some())
        .collect();
    assert_eq!(beats, [4, 8]);
    m.heartbeat_handed(Message::from("hb"));
    // Data sent resets the quiet time; something buffered holds the heartbeat back.
    m.accept(Message::from("data")).unwrap();
    hand_all(&mut m);
    let beats: Vec<usize> = (9..=13)
        .filter(|&i| m.tick(6, i as f64 * 100.0).is_some())
        .collect();
    assert!(beats.is_empty());
    let actions = end(&mut m, event(1006, false), 10.0, 6);
    // The heartbeat's bytes were counted but it is not sent again.
    assert!(matches!(
        &events(&actions)[0],
        ReconnectEvent::Disconnected { sent, unsent, .. } if *sent == (0..0) && *unsent == (0..1)
    ));
    m.handle(Input::TimerFired, 20.0, 0);
    open(&mut m, 20.0);
    assert_eq!(hand_all(&mut m), [Message::from("data")]);
}

#[test]
fn inputs_out_of_place_change_nothing() {
    let mut m = machine(policy());
    for input in [
        Input::TimerFired,
        Input::GraceOver,
        Input::NotOpen,
        Input::StreamEnded(None),
        Input::Closed(event(1000, true)),
    ] {
        assert_eq!(m.handle(input, 0.0, 0), []);
    }
    assert_eq!(m.state(true), State::Connecting);
    open(&mut m, 0.0);
    assert_eq!(m.handle(Input::Opened, 0.0, 0), []);
    assert_eq!(m.handle(Input::AttemptFailed(failed()), 0.0, 0), []);
    assert_eq!(m.handle(Input::TimerFired, 0.0, 0), []);
    assert_eq!(m.state(true), State::Open);
}

thread_local! {
    static PROBE: RefCell<Option<sync::Shared<Shared>>> = const { RefCell::new(None) };
    static REENTERED: Cell<u32> = const { Cell::new(0) };
}

/// A waker that, like an executor polling inside `wake`, borrows the shared state.
struct Reentrant;

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {
        PROBE.with(|probe| {
            if let Some(shared) = &*probe.borrow() {
                // Neither lock may still be held here.
                assert!(shared.core.try_lock().is_some());
                assert!(shared.io.try_lock().is_some());
                let _ = shared.state();
                REENTERED.with(|n| n.set(n.get() + 1));
            }
        });
    }
}

/// Issue 22 item 7: the wakers are woken after the borrows end.
#[test]
fn wakers_are_woken_after_the_borrows_end() {
    let machine = machine(policy());
    let shared = sync::Shared::new(Shared::new(machine, Io::idle(Builder::new("/x".into()))));
    let waker = Waker::from(Arc::new(Reentrant));
    let mut cx = Context::from_waker(&waker);
    {
        let mut core = shared.core.lock();
        let id = core.subscribe();
        assert!(core.poll_event(id, &mut cx).is_pending());
        core.reader = Some(waker.clone());
        core.sender = Some(waker.clone());
        core.driver = Some(waker.clone());
        core.closers.push(waker.clone());
    }
    PROBE.with(|probe| *probe.borrow_mut() = Some(shared.clone()));
    shared.input(Input::Close {
        code: CloseCode::NORMAL,
        reason: String::new(),
    });
    PROBE.with(|probe| probe.borrow_mut().take());
    // The subscriber, the reader, the sender, the closer, and the driver (for the end,
    // and for the input).
    assert_eq!(REENTERED.with(Cell::get), 6);
    assert_eq!(shared.state(), State::Closed);
}

/// Issue 22: a subscriber that never reads keeps at most `EVENTS_BEHIND` events, skipping
/// (and counting) the oldest.
#[test]
fn an_unread_subscription_is_bounded() {
    use super::shared::{Wakes, EVENTS_BEHIND};
    let machine = machine(policy());
    let shared = sync::Shared::new(Shared::new(machine, Io::idle(Builder::new("/x".into()))));
    let mut core = shared.core.lock();
    let id = core.subscribe();
    let mut wakes = Wakes::default();
    for attempt in 0..EVENTS_BEHIND as u32 + 10 {
        let io = core.apply(
            vec![Action::Emit(ReconnectEvent::Connected { attempt })],
            &mut wakes,
        );
        assert!(io.is_empty());
    }
    assert_eq!(core.skipped(id), 10);
    let mut cx = Context::from_waker(Waker::noop());
    match core.poll_event(id, &mut cx) {
        Poll::Ready(Some(ReconnectEvent::Connected { attempt })) => assert_eq!(attempt, 10),
        other => panic!("{other:?}"),
    }
}

fn js_error() -> Error {
    Error::Js {
        name: "TypeError".into(),
        message: "no token".into(),
    }
}

/// Issue 19: a provider's error counts as a failed attempt, whatever the error, and
/// backs off; at the limit it is what the stream ends with.
#[test]
fn a_failed_provider_counts_as_an_attempt_and_backs_off() {
    let mut m = machine(policy().reconnect_limit(Some(1)));
    let actions = m.handle(Input::ProviderFailed(js_error()), 0.0, 0);
    assert_eq!(
        events(&actions),
        [
            ReconnectEvent::ProviderFailed(js_error()),
            ReconnectEvent::Retrying {
                attempt: 1,
                delay: ms(50)
            }
        ]
    );
    assert_eq!(others(&actions), [Action::Wait(ms(50))]);
    assert_eq!(
        m.handle(Input::TimerFired, 0.0, 0),
        [Action::Connect { attempt: 1 }]
    );
    let actions = m.handle(Input::ProviderFailed(js_error()), 0.0, 0);
    assert_eq!(
        events(&actions),
        [
            ReconnectEvent::ProviderFailed(js_error()),
            ReconnectEvent::GaveUp
        ]
    );
    assert_eq!(m.take_end_error(), Some(js_error()));
    // Out of place (no attempt under way), it changes nothing.
    let mut m = machine(policy());
    open(&mut m, 0.0);
    assert_eq!(m.handle(Input::ProviderFailed(js_error()), 0.0, 0), []);
}

/// Issue 19: `should_reconnect` decides per close; the crate's own closes (idle timeout,
/// full queue) reconnect whatever it says.
#[test]
fn should_reconnect_decides_per_close() {
    let rule = || policy().should_reconnect(|e| e.code != 4001);
    let mut m = machine(rule());
    open(&mut m, 0.0);
    let actions = end(&mut m, event(4001, true), 10.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Finish]);
    assert_eq!(m.take_end_error(), None);

    let mut m = machine(rule());
    open(&mut m, 0.0);
    let actions = end(&mut m, event(4002, true), 10.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Wait(ms(50))]);

    // A rule that refuses an unclean close: the stream ends with ConnectionLost.
    let mut m = machine(policy().should_reconnect(|e| e.was_clean));
    open(&mut m, 0.0);
    let actions = end(&mut m, event(1006, false), 10.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Finish]);
    assert_eq!(
        m.take_end_error(),
        Some(Error::ConnectionLost(event(1006, false)))
    );

    // Never asked about the idle timeout or a full queue.
    let never = || policy().should_reconnect(|_| false);
    let mut m = machine(never());
    open(&mut m, 0.0);
    m.handle(Input::StreamEnded(Some(Error::IdleTimeout)), 0.0, 0);
    let actions = m.handle(Input::Closed(event(1000, true)), 0.0, 0);
    assert_eq!(others(&actions), [Action::Release, Action::Wait(ms(50))]);
    let mut m = machine(never());
    open(&mut m, 0.0);
    let full = Error::ReceiveQueueFull {
        messages: 1,
        bytes: 1,
    };
    m.handle(Input::StreamEnded(Some(full.clone())), 0.0, 0);
    let actions = m.handle(Input::Closed(event(4009, true)), 0.0, 0);
    assert_eq!(
        others(&actions),
        [Action::Release, Action::Yield(full), Action::Wait(ms(50))]
    );
}

/// Issue 19: `reconnect()` while open closes with 1000 "reconnect", and attempt 0
/// follows the end at once; the outbox rules are those of any end.
#[test]
fn reconnect_while_open_closes_and_connects_at_once() {
    let mut m = machine(policy());
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    m.handle(Input::TimerFired, 0.0, 0);
    open(&mut m, 0.0);
    for text in ["a", "b"] {
        m.accept(Message::from(text)).unwrap();
    }
    hand_all(&mut m);
    assert_eq!(
        m.handle(Input::Reconnect, 0.0, 0),
        [Action::Close {
            code: CloseCode::NORMAL,
            reason: "reconnect".into()
        }]
    );
    // Not asked by the application's close: the grace applies (a dead peer).
    assert_eq!(m.handle(Input::NotOpen, 0.0, 0), [Action::Grace]);
    // Asking again while it ends adds nothing.
    assert_eq!(m.handle(Input::Reconnect, 0.0, 0), []);
    let actions = end(&mut m, event(1000, true), 10.0, 0);
    assert_eq!(
        events(&actions),
        [ReconnectEvent::Disconnected {
            event: event(1000, true),
            sent: 0..2,
            unsent: 2..2
        }]
    );
    assert_eq!(
        others(&actions),
        [Action::Release, Action::Connect { attempt: 0 }]
    );
    assert_eq!(
        events(&m.handle(Input::Opened, 20.0, 0)),
        [ReconnectEvent::Connected { attempt: 0 }]
    );
}

/// Issue 19: while waiting, `reconnect()` skips the wait; while connecting, it starts
/// over; the count starts again from 0.
#[test]
fn reconnect_skips_the_backoff_and_restarts_a_pending_attempt() {
    let mut m = machine(policy());
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    m.handle(Input::TimerFired, 0.0, 0);
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(m.state(true), State::Connecting);
    assert_eq!(
        m.handle(Input::Reconnect, 0.0, 0),
        [Action::Release, Action::Connect { attempt: 0 }]
    );
    // The timer, had it raced, changes nothing.
    assert_eq!(m.handle(Input::TimerFired, 0.0, 0), []);
    assert_eq!(
        m.handle(Input::Reconnect, 0.0, 0),
        [Action::Release, Action::Connect { attempt: 0 }]
    );
    // A failure after it is attempt 1 again.
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert!(events(&actions).contains(&ReconnectEvent::Retrying {
        attempt: 1,
        delay: ms(50)
    }));
    // With a stalled reader, the attempt waits for it as any attempt does.
    m.handle(Input::Backlog(READ_AHEAD), 0.0, 0);
    assert_eq!(m.handle(Input::Reconnect, 0.0, 0), [Action::Release]);
    assert_eq!(
        m.handle(Input::Backlog(0), 0.0, 0),
        [Action::Connect { attempt: 0 }]
    );
}

/// Issue 19: after `GaveUp`, `reconnect()` brings it back with the count at 0; the
/// outbox is kept. After a close the application asked for, it is refused.
#[test]
fn reconnect_after_giving_up_starts_over() {
    let mut m = machine(policy().reconnect_limit(Some(0)));
    m.accept(Message::from("kept")).unwrap();
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert!(events(&actions).ends_with(&[ReconnectEvent::GaveUp]));
    assert!(m.finished());
    assert_eq!(m.reconnect_refused(), None);
    assert_eq!(
        m.handle(Input::Reconnect, 0.0, 0),
        [Action::Connect { attempt: 0 }]
    );
    assert!(!m.finished());
    assert_eq!(m.state(true), State::Connecting);
    // The error that ended it is gone with the end.
    assert_eq!(m.take_end_error(), None);
    assert_eq!(m.ready(true), Ready::Yes);
    open(&mut m, 0.0);
    assert_eq!(hand_all(&mut m), [Message::from("kept")]);
    // A clean close the policy does not retry can be revived too.
    end(&mut m, event(1000, true), 10.0, 0);
    assert!(m.finished());
    assert_eq!(
        m.handle(Input::Reconnect, 0.0, 0),
        [Action::Connect { attempt: 0 }]
    );

    let mut m = machine(policy());
    m.handle(
        Input::Close {
            code: CloseCode::NORMAL,
            reason: String::new(),
        },
        0.0,
        0,
    );
    assert_eq!(m.reconnect_refused(), Some(Error::NotOpen(State::Closed)));
    assert_eq!(m.handle(Input::Reconnect, 0.0, 0), []);
    let mut m = machine(policy());
    open(&mut m, 0.0);
    m.handle(
        Input::Close {
            code: CloseCode::NORMAL,
            reason: String::new(),
        },
        0.0,
        0,
    );
    assert_eq!(m.reconnect_refused(), Some(Error::NotOpen(State::Closing)));
    assert_eq!(m.handle(Input::Reconnect, 0.0, 0), []);
}

/// A machine with a 400 ms heartbeat (ticks every 100 ms) and the given triggers.
fn with_heartbeat(triggers: ReconnectTriggers) -> Machine {
    let mut config = KeepaliveConfig {
        heartbeat: Some((ms(400), Message::from("hb"))),
        ..KeepaliveConfig::default()
    };
    Machine::new(
        policy().triggers(triggers),
        config.take_heartbeat(),
        Box::new(|| 0.5),
    )
}

/// Fails the first attempt: the machine waits 50 ms (half of the 100 ms cap).
fn waiting(m: &mut Machine) {
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(others(&actions), [Action::Wait(ms(50))]);
}

#[test]
fn online_skips_the_backoff_and_keeps_the_attempt_number() {
    let mut m = machine(policy());
    waiting(&mut m);
    let actions = m.handle(Input::Online, 10.0, 0);
    assert_eq!(
        others(&actions),
        [Action::Release, Action::Connect { attempt: 1 }]
    );
    // Not waiting any more: nothing to skip.
    assert!(m.handle(Input::Online, 11.0, 0).is_empty());
    // The timer that was released cannot start a second attempt.
    assert!(m.handle(Input::TimerFired, 60.0, 0).is_empty());
}

#[test]
fn online_does_nothing_when_turned_off() {
    let mut m = machine(policy().triggers(ReconnectTriggers::all().online(false)));
    waiting(&mut m);
    assert!(m.handle(Input::Online, 10.0, 0).is_empty());
    let actions = m.handle(Input::TimerFired, 50.0, 0);
    assert_eq!(others(&actions), [Action::Connect { attempt: 1 }]);
}

#[test]
fn offline_failures_do_not_use_up_the_limit() {
    let mut m = machine(policy().reconnect_limit(Some(2)));
    m.handle(Input::Offline, 0.0, 0);
    for attempt in 1..=10 {
        let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
        assert!(
            matches!(events(&actions).last(), Some(ReconnectEvent::Retrying { attempt: a, .. }) if *a == attempt),
            "{actions:?}"
        );
        m.handle(Input::TimerFired, 0.0, 0);
    }
    // Online: the next attempt starts at once; from now on failures count again.
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    let actions = m.handle(Input::Online, 0.0, 0);
    assert_eq!(
        others(&actions),
        [Action::Release, Action::Connect { attempt: 11 }]
    );
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert!(matches!(
        events(&actions).last(),
        Some(ReconnectEvent::Retrying { attempt: 12, .. })
    ));
    m.handle(Input::TimerFired, 0.0, 0);
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert!(matches!(
        events(&actions).last(),
        Some(ReconnectEvent::Retrying { attempt: 13, .. })
    ));
    m.handle(Input::TimerFired, 0.0, 0);
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(events(&actions).last(), Some(&ReconnectEvent::GaveUp));
}

#[test]
fn offline_counts_when_turned_off() {
    let mut m = machine(
        policy()
            .reconnect_limit(Some(1))
            .triggers(ReconnectTriggers::all().offline(false)),
    );
    m.handle(Input::Offline, 0.0, 0);
    m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    m.handle(Input::TimerFired, 0.0, 0);
    let actions = m.handle(Input::AttemptFailed(failed()), 0.0, 0);
    assert_eq!(events(&actions).last(), Some(&ReconnectEvent::GaveUp));
}

#[test]
fn a_wake_starts_a_waiting_attempt_and_checks_an_open_connection() {
    for wake in [Reason::Visible, Reason::PageShow, Reason::Slept] {
        let mut m = with_heartbeat(ReconnectTriggers::all());
        waiting(&mut m);
        let actions = m.handle(Input::Wake(wake), 10.0, 0);
        assert_eq!(
            others(&actions),
            [Action::Release, Action::Connect { attempt: 1 }]
        );
        open(&mut m, 20.0);
        assert_eq!(m.take_check(0), None, "no check before a wake");
        m.handle(Input::Wake(wake), 30.0, 0);
        // The heartbeat goes out at once, once.
        assert_eq!(m.take_check(0), Some(Message::from("hb")));
        assert_eq!(m.take_check(0), None);
    }
}

#[test]
fn a_check_waits_for_nothing_else_to_test_the_connection() {
    let mut m = with_heartbeat(ReconnectTriggers::all());
    open(&mut m, 0.0);
    // Bytes still buffered test the connection already.
    m.handle(Input::Wake(Reason::Visible), 1.0, 0);
    assert_eq!(m.take_check(5), None);
    assert_eq!(m.take_check(0), None, "the check is over");
    // So does a message handed on.
    m.handle(Input::Wake(Reason::Visible), 2.0, 0);
    m.accept(Message::from("data")).unwrap();
    assert_eq!(hand_all(&mut m), [Message::from("data")]);
    assert_eq!(m.take_check(0), None);
}

#[test]
fn wakes_do_nothing_when_turned_off_or_without_a_heartbeat() {
    let off = ReconnectTriggers::all()
        .visible(false)
        .pageshow(false)
        .slept(false);
    let mut m = with_heartbeat(off);
    waiting(&mut m);
    for wake in [Reason::Visible, Reason::PageShow, Reason::Slept] {
        assert!(m.handle(Input::Wake(wake), 10.0, 0).is_empty());
    }
    m.handle(Input::TimerFired, 50.0, 0);
    open(&mut m, 60.0);
    m.handle(Input::Wake(Reason::Visible), 70.0, 0);
    assert_eq!(m.take_check(0), None);
    // Without a heartbeat there is nothing to check an open connection with.
    let mut m = machine(policy());
    open(&mut m, 0.0);
    m.handle(Input::Wake(Reason::Visible), 1.0, 0);
    assert_eq!(m.take_check(0), None);
}

#[test]
fn a_late_tick_means_the_machine_slept() {
    let mut m = with_heartbeat(ReconnectTriggers::all());
    open(&mut m, 0.0);
    // Ticks every 100 ms: quiet, and the first heartbeat is due at the fourth.
    assert_eq!(m.tick(0, 100.0), None);
    assert_eq!(
        m.tick(0, 300.0),
        None,
        "200 ms late is throttling, not sleep"
    );
    // More than two periods and a second late: the heartbeat goes out at once.
    assert_eq!(m.tick(0, 1_600.0), Some(Message::from("hb")));
    m.heartbeat_handed(Message::from("hb"));
    assert_eq!(m.tick(0, 1_700.0), None);
    // The same lateness with the trigger off waits for the quiet interval.
    let mut m = with_heartbeat(ReconnectTriggers::all().slept(false));
    open(&mut m, 0.0);
    assert_eq!(m.tick(0, 100.0), None);
    assert_eq!(m.tick(0, 1_600.0), None);
}
