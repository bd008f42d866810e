//! The reconnection state machine: events and the time in, actions out.
//!
//! It decides everything a reconnecting connection decides (when to connect, how long
//! to back off, when a connection is over, what was sent, when to give up) and owns the
//! outbox, but touches no browser object: the driver feeds it [`Input`]s with the time
//! (`Date.now()`) and `bufferedAmount`, carries out the [`Action`]s it returns, and hands
//! messages to the socket through [`Machine::next_to_hand`] and [`Machine::handed`].
//! The jitter's randomness comes from a closure given at creation. So the whole logic
//! runs, and is tested, natively.

use std::fmt;
use std::time::Duration;

use super::events::ReconnectEvent;
use super::outbox::{Entry, Inflight, Outbox};
use super::policy::ReconnectPolicy;
use super::triggers::{ReconnectTriggers, Wake};
use super::READ_AHEAD;
use crate::close::CloseCode;
use crate::close_event::CloseEvent;
use crate::core::keepalive::{Activity, Due, KeepaliveConfig};
use crate::error::Error;
use crate::message::Message;
use crate::state::State;

/// How much later than twice its period a heartbeat tick may come before the machine is
/// taken to have slept (timers in background tabs are throttled to about once a second).
const SLEPT_SLACK_MS: f64 = 1000.0;

/// What happened, as the driver or the application reports it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Input {
    /// The attempt opened a connection.
    Opened,
    /// The attempt failed.
    AttemptFailed(Error),
    /// The provider of the attempt's URL failed.
    ProviderFailed(Error),
    /// The backoff timer fired.
    TimerFired,
    /// The reader's queue now holds this many messages.
    Backlog(usize),
    /// The connection's stream ended, with the error it ended with, if any.
    StreamEnded(Option<Error>),
    /// The socket is no longer open: the connection is ending.
    NotOpen,
    /// The socket's close event.
    Closed(CloseEvent),
    /// The close grace ran out without a close event.
    GraceOver,
    /// The application asked to close for good (the reason is already checked).
    Close { code: CloseCode, reason: String },
    /// The application dropped the connection.
    Dropped,
    /// The application asked for a fresh attempt now (see [`Machine::reconnect_refused`]).
    Reconnect,
    /// The browser is online again.
    // Only the browser's events (wake.rs) feed these three.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Online,
    /// The browser went offline.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Offline,
    /// A reason to check the connection: the page came back, or the machine woke up
    /// (the machine finds [`Wake::Slept`] itself, in [`Machine::tick`]).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Wake(Wake),
}

/// What the driver (or, for events and the end, the shared state) must do.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Action {
    /// Start attempt `attempt` now (0 for the first one, and for one the application
    /// asked for; the number a provider is given).
    Connect { attempt: u32 },
    /// Start the backoff timer; [`Input::TimerFired`] when it fires.
    Wait(Duration),
    /// Start the closing handshake of the connection, if it is still open.
    Close { code: CloseCode, reason: String },
    /// Start the close grace timer; [`Input::GraceOver`] when it fires.
    Grace,
    /// Release the current connection, attempt or timer.
    Release,
    /// Tell the subscribers.
    Emit(ReconnectEvent),
    /// Give the reader this error, without ending.
    Yield(Error),
    /// Ended for good: the reader gets [`Machine::take_end_error`], then the end.
    Finish,
}

/// Whether the `Sink` may accept a message.
#[derive(Debug, PartialEq)]
pub(super) enum Ready {
    Yes,
    /// The outbox is full and a connection is draining it.
    Wait,
    No(Error),
}

#[derive(Debug)]
struct Conn {
    opened_at: f64,
    inflight: Inflight,
    activity: Activity,
    /// Closing, or closed, or its stream ended: it takes nothing more.
    ending: bool,
    /// A [check](super::ReconnectTriggers) is due: the heartbeat goes out at once.
    check: bool,
    /// When the heartbeat timer last ticked (or the connection opened).
    last_tick: f64,
    stream_ended: bool,
    end_error: Option<Error>,
    close_event: Option<CloseEvent>,
}

#[derive(Debug)]
enum Phase {
    Connecting,
    /// Backing off; `fired` once the timer has fired, and the next attempt then waits
    /// only for the reader to catch up.
    Waiting {
        fired: bool,
    },
    Open(Box<Conn>),
    Done,
}

/// The jitter's source of numbers in `[0, 1)`; `Send` natively, as the machine is.
#[cfg(target_arch = "wasm32")]
pub(super) type Random = Box<dyn FnMut() -> f64>;
/// The jitter's source of numbers in `[0, 1)`; `Send` natively, as the machine is.
#[cfg(not(target_arch = "wasm32"))]
pub(super) type Random = Box<dyn FnMut() -> f64 + Send>;

/// The reconnection state machine (see the module documentation).
pub(super) struct Machine {
    policy: ReconnectPolicy,
    random: Random,
    heartbeat: Option<KeepaliveConfig>,
    phase: Phase,
    /// Attempts since the last stable connection.
    attempt: u32,
    /// Of those, the ones that failed while offline: they do not count toward the limit.
    offline_attempts: u32,
    /// Offline, as the browser last said (only with the `offline` trigger on).
    offline: bool,
    outbox: Outbox,
    backlog: usize,
    close_requested: bool,
    /// The application asked for a fresh attempt: the connection that is ending is
    /// followed by one at once, without backoff.
    reconnect_requested: bool,
    end_error: Option<Error>,
    /// The close event of the last connection, cleared when a new attempt is scheduled.
    last_close: Option<CloseEvent>,
    actions: Vec<Action>,
}

impl fmt::Debug for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("phase", &self.phase)
            .field("attempt", &self.attempt)
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// A machine whose first attempt is under way. `random` returns numbers in `[0, 1)`
    /// for the jitter; `heartbeat` is the builder's, sent through [`Machine::tick`].
    pub(super) fn new(
        policy: ReconnectPolicy,
        heartbeat: Option<KeepaliveConfig>,
        random: Random,
    ) -> Machine {
        Machine {
            outbox: Outbox::new(policy.outbox_messages, policy.outbox_bytes),
            policy,
            random,
            heartbeat,
            phase: Phase::Connecting,
            attempt: 0,
            offline_attempts: 0,
            offline: false,
            backlog: 0,
            close_requested: false,
            reconnect_requested: false,
            end_error: None,
            last_close: None,
            actions: Vec::new(),
        }
    }

    /// Takes `input` at time `now_ms`, with `buffered` the open connection's
    /// `bufferedAmount` (0 without one), and returns what to do, in order.
    pub(super) fn handle(&mut self, input: Input, now_ms: f64, buffered: u64) -> Vec<Action> {
        match input {
            Input::Opened => self.opened(now_ms),
            Input::AttemptFailed(error) => self.attempt_failed(error),
            Input::ProviderFailed(error) => {
                if matches!(self.phase, Phase::Connecting) {
                    self.emit(ReconnectEvent::ProviderFailed(error.clone()));
                    self.retry(Some(error));
                }
            }
            Input::Reconnect => self.reconnect(),
            Input::Online => {
                self.offline = false;
                if self.policy.triggers.is_online() {
                    self.skip_backoff();
                }
            }
            Input::Offline => self.offline = self.policy.triggers.is_offline(),
            Input::Wake(wake) => {
                if self.policy.triggers.allows(wake) {
                    self.check();
                }
            }
            Input::TimerFired => {
                if let Phase::Waiting { fired } = &mut self.phase {
                    *fired = true;
                    self.connect_when_caught_up();
                }
            }
            Input::Backlog(len) => {
                self.backlog = len;
                self.connect_when_caught_up();
            }
            Input::StreamEnded(error) => {
                if let Phase::Open(conn) = &mut self.phase {
                    if !conn.stream_ended {
                        conn.stream_ended = true;
                        conn.end_error = error;
                    }
                }
                self.ending();
                self.end_if_over(false, now_ms, buffered);
            }
            Input::NotOpen => self.ending(),
            Input::Closed(event) => {
                if let Phase::Open(conn) = &mut self.phase {
                    conn.close_event.get_or_insert(event);
                }
                self.ending();
                self.end_if_over(false, now_ms, buffered);
            }
            Input::GraceOver => self.end_if_over(true, now_ms, buffered),
            Input::Close { code, reason } => self.close(code, reason),
            Input::Dropped => {
                self.close_requested = true;
                if !matches!(self.phase, Phase::Done) {
                    self.actions.push(Action::Release);
                    self.finish(None);
                }
            }
        }
        std::mem::take(&mut self.actions)
    }

    fn emit(&mut self, event: ReconnectEvent) {
        self.actions.push(Action::Emit(event));
    }

    fn finish(&mut self, error: Option<Error>) {
        self.phase = Phase::Done;
        self.end_error = error;
        self.actions.push(Action::Finish);
    }

    fn opened(&mut self, now_ms: f64) {
        if !matches!(self.phase, Phase::Connecting) {
            return;
        }
        self.emit(ReconnectEvent::Connected {
            attempt: self.attempt,
        });
        self.phase = Phase::Open(Box::new(Conn {
            opened_at: now_ms,
            inflight: Inflight::new(self.outbox.first_seq()),
            activity: Activity::default(),
            ending: false,
            check: false,
            last_tick: now_ms,
            stream_ended: false,
            end_error: None,
            close_event: None,
        }));
    }

    fn attempt_failed(&mut self, error: Error) {
        if !matches!(self.phase, Phase::Connecting) {
            return;
        }
        self.emit(ReconnectEvent::AttemptFailed(error.clone()));
        match error {
            Error::ConnectFailed(_) | Error::Timeout => self.retry(Some(error)),
            _ => {
                self.emit(ReconnectEvent::GaveUp);
                self.finish(Some(error));
            }
        }
    }

    /// Schedules the next attempt, or gives up; `error` is what the stream ends with if
    /// it gives up.
    fn retry(&mut self, error: Option<Error>) {
        self.attempt = self.attempt.saturating_add(1);
        if self.offline {
            self.offline_attempts = self.offline_attempts.saturating_add(1);
        }
        let counted = self.attempt - self.offline_attempts;
        if self
            .policy
            .reconnect_limit
            .is_some_and(|limit| counted > limit)
        {
            self.emit(ReconnectEvent::GaveUp);
            self.finish(error);
            return;
        }
        let delay = self.policy.delay(self.attempt, (self.random)());
        self.last_close = None;
        self.emit(ReconnectEvent::Retrying {
            attempt: self.attempt,
            delay,
        });
        let fired = delay.is_zero();
        self.phase = Phase::Waiting { fired };
        if fired {
            self.connect_when_caught_up();
        } else {
            self.actions.push(Action::Wait(delay));
        }
    }

    /// The next attempt starts once its delay is over and the reader has taken all but
    /// [`READ_AHEAD`] of the messages received so far: a reader that stalls stops the
    /// reconnects instead of letting every connection add its backlog.
    fn connect_when_caught_up(&mut self) {
        if matches!(self.phase, Phase::Waiting { fired: true }) && self.backlog < READ_AHEAD {
            self.phase = Phase::Connecting;
            self.actions.push(Action::Connect {
                attempt: self.attempt,
            });
        }
    }

    /// The connection starts ending: it takes no more messages, and unless the
    /// application asked for the close, its close event must come within the grace.
    fn ending(&mut self) {
        let Phase::Open(conn) = &mut self.phase else {
            return;
        };
        if conn.ending {
            return;
        }
        conn.ending = true;
        if conn.close_event.is_none() && !self.close_requested {
            self.actions.push(Action::Grace);
        }
    }

    /// Ends the connection once its stream has ended and its close event came, or, if
    /// `abandon`, now (the grace ran out; what the socket had received was read first).
    fn end_if_over(&mut self, abandon: bool, now_ms: f64, buffered: u64) {
        let Phase::Open(conn) = &self.phase else {
            return;
        };
        let over = if abandon {
            conn.ending && conn.close_event.is_none()
        } else {
            conn.stream_ended && conn.close_event.is_some()
        };
        if !over {
            return;
        }
        let Phase::Open(conn) = std::mem::replace(&mut self.phase, Phase::Connecting) else {
            unreachable!("checked above");
        };
        self.connection_ended(*conn, now_ms, buffered);
    }

    fn connection_ended(&mut self, conn: Conn, now_ms: f64, buffered: u64) {
        let split = conn.inflight.finish(buffered, &mut self.outbox);
        let event = conn.close_event.unwrap_or(CloseEvent {
            code: 1006,
            reason: String::new(),
            was_clean: false,
        });
        if now_ms - conn.opened_at >= self.policy.stable_after.as_secs_f64() * 1e3 {
            self.attempt = 0;
            self.offline_attempts = 0;
        }
        self.actions.push(Action::Release);
        self.last_close = Some(event.clone());
        self.emit(ReconnectEvent::Disconnected {
            event: event.clone(),
            sent: split.sent,
            unsent: split.unsent,
        });
        if self.close_requested {
            self.finish(None);
            return;
        }
        if let Some(error @ Error::ReceiveQueueFull { .. }) = &conn.end_error {
            // Messages were refused: the application must hear of it.
            self.actions.push(Action::Yield(error.clone()));
        }
        if std::mem::take(&mut self.reconnect_requested) {
            self.start_over();
            return;
        }
        let error = match conn.end_error {
            // The crate closed it to recover: always reconnect.
            Some(error @ (Error::ReceiveQueueFull { .. } | Error::IdleTimeout)) => Some(error),
            error => {
                let error = error
                    .or_else(|| (!event.was_clean).then(|| Error::ConnectionLost(event.clone())));
                if !self.policy.reconnects_after(&event) {
                    self.finish(error);
                    return;
                }
                error
            }
        };
        self.retry(error);
    }

    /// [`Input::Reconnect`]: a fresh attempt now, numbered 0, without backoff. An open
    /// connection is closed first (1000 "reconnect"), and the attempt follows its end; a
    /// pending attempt or backoff timer is released; a connection that gave up (or ended
    /// on a close the policy does not retry) starts again.
    fn reconnect(&mut self) {
        if self.close_requested {
            return;
        }
        match &self.phase {
            Phase::Open(conn) => {
                if !conn.ending {
                    self.actions.push(Action::Close {
                        code: CloseCode::NORMAL,
                        reason: "reconnect".into(),
                    });
                }
                self.reconnect_requested = true;
            }
            Phase::Connecting | Phase::Waiting { .. } => {
                self.actions.push(Action::Release);
                self.start_over();
            }
            Phase::Done => {
                self.end_error = None;
                self.start_over();
            }
        }
    }

    /// The attempt count starts over and attempt 0 starts as soon as the reader has
    /// caught up.
    fn start_over(&mut self) {
        self.attempt = 0;
        self.offline_attempts = 0;
        self.last_close = None;
        self.phase = Phase::Waiting { fired: true };
        self.connect_when_caught_up();
    }

    /// A waiting attempt starts now, without the rest of its backoff (once the reader has
    /// caught up, as always).
    fn skip_backoff(&mut self) {
        if let Phase::Waiting { fired: false } = self.phase {
            self.actions.push(Action::Release);
            self.phase = Phase::Waiting { fired: true };
            self.connect_when_caught_up();
        }
    }

    /// A [check](super::ReconnectTriggers): a waiting attempt starts now; an open
    /// connection sends its heartbeat at once ([`Machine::take_check`]).
    fn check(&mut self) {
        match &mut self.phase {
            Phase::Waiting { .. } => self.skip_backoff(),
            Phase::Open(conn) if !conn.ending && self.heartbeat.is_some() => conn.check = true,
            _ => {}
        }
    }

    /// Why [`Input::Reconnect`] cannot be taken: a close was asked for (or the
    /// connection was dropped).
    pub(super) fn reconnect_refused(&self) -> Option<Error> {
        self.close_requested
            .then(|| Error::NotOpen(self.state(false)))
    }

    fn close(&mut self, code: CloseCode, reason: String) {
        if self.close_requested {
            return;
        }
        // Also once ended: it must then stay ended (no `reconnect()`).
        self.close_requested = true;
        if matches!(self.phase, Phase::Done) {
            return;
        }
        if let Phase::Open(_) = self.phase {
            // The end comes with the close event.
            self.actions.push(Action::Close { code, reason });
        } else {
            // A pending attempt is closed and released, a backoff timer cleared.
            self.actions.push(Action::Release);
            self.last_close = None;
            self.finish(None);
        }
    }

    /// The state, given whether the open connection's socket is still open.
    pub(super) fn state(&self, socket_open: bool) -> State {
        match &self.phase {
            Phase::Done => State::Closed,
            _ if self.close_requested => State::Closing,
            Phase::Open(conn) if !conn.ending && socket_open => State::Open,
            _ => State::Connecting,
        }
    }

    /// The policy's triggers.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(super) fn triggers(&self) -> ReconnectTriggers {
        self.policy.triggers
    }

    pub(super) fn finished(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    pub(super) fn close_requested(&self) -> bool {
        self.close_requested
    }

    /// Whether a connection is open and takes messages.
    pub(super) fn is_sending(&self) -> bool {
        matches!(&self.phase, Phase::Open(conn) if !conn.ending)
    }

    /// Whether a connection is ending: the driver then reads all it has received.
    pub(super) fn is_ending(&self) -> bool {
        matches!(&self.phase, Phase::Open(conn) if conn.ending)
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub(super) fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The reader's queue length as last reported.
    pub(super) fn backlog(&self) -> usize {
        self.backlog
    }

    pub(super) fn outbox_is_empty(&self) -> bool {
        self.outbox.is_empty()
    }

    /// `poll_ready` of the `Sink`, given whether the socket is open.
    pub(super) fn ready(&self, socket_open: bool) -> Ready {
        if self.finished() || self.close_requested {
            Ready::No(Error::NotOpen(self.state(socket_open)))
        } else if self.outbox.has_room() {
            Ready::Yes
        } else if self.state(socket_open) == State::Open {
            Ready::Wait
        } else {
            Ready::No(self.outbox.full_error())
        }
    }

    /// `start_send` of the `Sink`: queues `message` and returns its number.
    pub(super) fn accept(&mut self, message: Message) -> Result<u64, Error> {
        if self.finished() || self.close_requested {
            return Err(Error::NotOpen(self.state(false)));
        }
        Ok(self.outbox.push(message))
    }

    /// Whether every accepted message has been handed on by the browser.
    pub(super) fn flushed(&self) -> bool {
        self.outbox.is_empty()
            && match &self.phase {
                Phase::Open(conn) => conn.inflight.is_empty(),
                _ => true,
            }
    }

    /// The message to hand to the open connection next, if it takes messages.
    pub(super) fn next_to_hand(&self) -> Option<&Message> {
        if self.is_sending() {
            self.outbox.front()
        } else {
            None
        }
    }

    /// The driver handed [`next_to_hand`](Self::next_to_hand) to the socket.
    pub(super) fn handed(&mut self) {
        if let Phase::Open(conn) = &mut self.phase {
            if let Some(entry) = self.outbox.pop() {
                // The message tests the connection as a heartbeat would.
                conn.check = false;
                conn.activity.sent += 1;
                conn.inflight.push(entry);
            }
        }
    }

    /// One tick of the heartbeat timer at `now_ms`; returns the heartbeat if it is due
    /// now (a quiet interval has passed, or a check is due, and nothing is queued or
    /// buffered). A tick far later than its period means the machine slept: a
    /// [`Wake::Slept`] check.
    pub(super) fn tick(&mut self, buffered: u64, now_ms: f64) -> Option<Message> {
        let config = self.heartbeat.as_ref()?;
        let Phase::Open(conn) = &mut self.phase else {
            return None;
        };
        let period = f64::from(config.tick_millis());
        let slept = now_ms - conn.last_tick > 2.0 * period + SLEPT_SLACK_MS;
        conn.last_tick = now_ms;
        let due = conn.activity.tick(config) == Due::Heartbeat;
        if slept && self.policy.triggers.allows(Wake::Slept) && !conn.ending {
            conn.check = true;
        }
        if due {
            self.heartbeat_if_quiet(buffered)
        } else {
            self.take_check(buffered)
        }
    }

    /// The heartbeat, if a check is due and nothing is queued or buffered (which would
    /// test the connection as well: the check is then over).
    pub(super) fn take_check(&mut self, buffered: u64) -> Option<Message> {
        match &self.phase {
            Phase::Open(conn) if conn.check => self.heartbeat_if_quiet(buffered),
            _ => None,
        }
    }

    /// The heartbeat, unless the connection is ending or something is queued or
    /// buffered; either way a pending check is over.
    fn heartbeat_if_quiet(&mut self, buffered: u64) -> Option<Message> {
        let Phase::Open(conn) = &mut self.phase else {
            return None;
        };
        conn.check = false;
        if conn.ending || !self.outbox.is_empty() || buffered != 0 {
            return None;
        }
        let (_, message) = self.heartbeat.as_ref()?.heartbeat.as_ref()?;
        Some(message.clone())
    }

    /// The heartbeat interval's timer tick, if heartbeats are sent.
    pub(super) fn tick_millis(&self) -> Option<u32> {
        self.heartbeat.as_ref().map(KeepaliveConfig::tick_millis)
    }

    /// The driver handed a heartbeat to the socket: its bytes count, it is never sent
    /// again.
    pub(super) fn heartbeat_handed(&mut self, message: Message) {
        if let Phase::Open(conn) = &mut self.phase {
            conn.activity.sent += 1;
            conn.inflight.push(Entry { seq: None, message });
        }
    }

    /// Forgets the handed messages that `buffered` no longer counts.
    pub(super) fn acknowledge(&mut self, buffered: u64) {
        if let Phase::Open(conn) = &mut self.phase {
            conn.inflight.prune(buffered);
        }
    }

    /// Once ended for good: the accepted messages that were never (completely) sent.
    pub(super) fn take_unsent(&mut self) -> Vec<Message> {
        if self.finished() {
            self.outbox.take_all()
        } else {
            Vec::new()
        }
    }

    /// The error the stream will end with, if it has ended with one.
    pub(super) fn end_error(&self) -> Option<&Error> {
        self.end_error.as_ref()
    }

    /// The error the stream ends with, once.
    pub(super) fn take_end_error(&mut self) -> Option<Error> {
        self.end_error.take()
    }

    /// The close event of the last connection, if it ended and no attempt followed.
    pub(super) fn last_close(&self) -> Option<CloseEvent> {
        self.last_close.clone()
    }
}
