//! The driver: a background task (spawned on the platform's executor) that runs the
//! [machine](super::machine) against real sockets and timers, using only what
//! [`WebSocket`] offers every user. It connects, hands the outbox to the socket through
//! its `Sink` (so the high-water mark applies), reads an ending socket to its end into the
//! shared queue, reports what it sees as inputs and carries out the actions. While a
//! connection is open it does not read it: the reader polls the socket itself
//! ([`Io::poll_live`]), so a message takes no extra queue and no extra task on its way. Every JS
//! resource (the socket with its listeners, the backoff, heartbeat and grace timers)
//! lives in [`Io`] and is dropped when the machine releases it, so nothing accumulates
//! across reconnects.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;

use super::machine::{Action, Input, Machine};
use super::platform::now_ms;
use super::shared::{Core, Wakes};
use super::target::{ConnectTarget, Provider, TargetFuture};
use super::{CLOSE_GRACE_MS, READ_AHEAD};
use crate::error::Error;
use crate::message::Message;
use crate::socket::Builder;
use crate::socket::{ClosedFuture, ConnectFuture, WebSocket};
use crate::state::State;
use crate::sync::{self, Flag, Lock};
use crate::timer::{millis, Alarm};
use crate::waker::store_waker;

/// The browser objects of the current phase.
pub(super) struct Io {
    pub(super) builder: Builder,
    /// Gives each attempt its URL and protocols; without it, the builder's are used.
    provider: Option<Provider>,
    phase: Phase,
    /// The listeners of the browser events the policy's triggers act on, while the
    /// driver runs.
    #[cfg(target_arch = "wasm32")]
    pub(super) wake: Option<super::wake::WakeListeners>,
}

enum Phase {
    Idle,
    /// Attempt `n` asks the provider for its target at the driver's next step.
    ToProvide(u32),
    /// The provider is computing the attempt's target.
    Providing(TargetFuture),
    Connecting(ConnectFuture),
    Waiting(Alarm),
    Open(Box<Conn>),
}

/// The browser objects [`Io::release`] took out, held only to be dropped later.
pub(super) struct Released(#[allow(dead_code)] Phase);

/// One open connection.
struct Conn {
    /// Declared before `ws` so it is dropped first, and the socket can then release its
    /// close listener too.
    closed: ClosedFuture,
    ws: WebSocket,
    heartbeat: Option<Alarm>,
    grace: Option<Alarm>,
    /// The socket's stream has ended (everything received was read).
    stream_done: bool,
    /// The reader saw the stream end, with this error: the driver reports it.
    stream_end: Option<Option<Error>>,
    close_seen: bool,
}

/// What the reader found on the open connection.
pub(super) enum Live {
    Item(Result<Message, Error>),
    /// The stream has just ended: the driver must run to report it.
    Ended,
    /// Nothing now; the reader is woken when that changes.
    Nothing,
}

impl Io {
    /// `first` is the first attempt, already started.
    pub(super) fn new(builder: Builder, first: ConnectFuture) -> Io {
        Io {
            builder,
            provider: None,
            phase: Phase::Connecting(first),
            #[cfg(target_arch = "wasm32")]
            wake: None,
        }
    }

    /// Whose attempts take their target from `provider`; the first one (0) starts now.
    pub(super) fn providing(builder: Builder, provider: Provider) -> Io {
        Io {
            builder,
            phase: Phase::ToProvide(0),
            provider: Some(provider),
            #[cfg(target_arch = "wasm32")]
            wake: None,
        }
    }

    /// The attempt's first phase: its provider's call, or the connect.
    fn start_attempt(&self, attempt: u32) -> Phase {
        match &self.provider {
            Some(_) => Phase::ToProvide(attempt),
            None => Phase::Connecting(self.builder.clone().connect()),
        }
    }

    /// Connects to `target` with the builder's other settings.
    fn connect_to(&self, target: ConnectTarget) -> ConnectFuture {
        let mut builder = self.builder.clone();
        builder.url = target.url;
        builder.protocols = target.protocols;
        builder.connect()
    }

    /// Without an attempt, for native tests of the shared state.
    #[cfg(test)]
    pub(super) fn idle(builder: Builder) -> Io {
        Io {
            builder,
            provider: None,
            phase: Phase::Idle,
            #[cfg(target_arch = "wasm32")]
            wake: None,
        }
    }

    pub(super) fn socket_open(&self) -> bool {
        match &self.phase {
            Phase::Open(conn) => conn.ws.state() == State::Open,
            _ => true,
        }
    }

    fn buffered(&self) -> u64 {
        match &self.phase {
            Phase::Open(conn) => conn.ws.buffered_amount(),
            _ => 0,
        }
    }

    /// The reader's read of the open connection, straight from its socket (the caller has
    /// checked that the machine does not consider it ending: the driver then reads it).
    /// The reader's waker is left with the socket.
    pub(super) fn poll_live(&mut self, cx: &mut Context<'_>) -> Live {
        let Phase::Open(conn) = &mut self.phase else {
            return Live::Nothing;
        };
        // An on-demand transport (`WebSocketStream`) is read ahead by the driver instead:
        // in Chromium 156 its `read()` polled from the reader's task was seen never to
        // complete while the driver's task wrote (the heartbeat suite), so it keeps the
        // path that was tested.
        if conn.stream_done || conn.ws.on_demand() {
            return Live::Nothing;
        }
        match Pin::new(&mut conn.ws).poll_next(cx) {
            Poll::Pending => Live::Nothing,
            Poll::Ready(Some(Err(error))) if conn.ws.is_terminated() => {
                conn.stream_done = true;
                conn.stream_end = Some(Some(error));
                Live::Ended
            }
            // A message, or a per-message error (a Blob that could not be read).
            Poll::Ready(Some(item)) => Live::Item(item),
            Poll::Ready(None) => {
                conn.stream_done = true;
                conn.stream_end = Some(None);
                Live::Ended
            }
        }
    }

    /// Takes the phase out: dropping an open socket closes it with 1000 and removes its
    /// listeners, dropping an attempt closes it, dropping a timer clears it. The caller
    /// drops what this returns once its borrows have ended.
    pub(super) fn release(&mut self) -> Released {
        Released(std::mem::replace(&mut self.phase, Phase::Idle))
    }

    /// [`release`](Self::release), and the listeners of the triggers too: the end.
    pub(super) fn release_all(&mut self) -> Released {
        #[cfg(target_arch = "wasm32")]
        drop(self.wake.take());
        self.release()
    }

    /// Carries out a socket or timer action of the machine.
    pub(super) fn execute(&mut self, action: Action) {
        match action {
            Action::Connect { attempt } => self.phase = self.start_attempt(attempt),
            Action::Wait(delay) => self.phase = Phase::Waiting(Alarm::once(millis(delay))),
            Action::Close { code, reason } => {
                if let Phase::Open(conn) = &self.phase {
                    if matches!(conn.ws.state(), State::Connecting | State::Open) {
                        // The handshake starts now; the close event ends the connection.
                        drop(conn.ws.close(code, &reason));
                    }
                }
            }
            Action::Grace => {
                if let Phase::Open(conn) = &mut self.phase {
                    conn.grace = Some(Alarm::once(CLOSE_GRACE_MS));
                }
            }
            Action::Release => drop(self.release()),
            Action::Emit(_) | Action::Yield(_) | Action::Finish => {}
        }
    }

    /// Calls the provider and polls its future: the application's code, which runs while
    /// the shared state is not locked, so that it may use the connection's handle (a
    /// `state()`, a `close()`). Its failure, if it failed.
    fn poll_provider(&mut self, cx: &mut Context<'_>) -> Option<Input> {
        if let (Phase::ToProvide(attempt), Some(provider)) = (&self.phase, &self.provider) {
            self.phase = Phase::Providing(provider(*attempt));
        }
        let Phase::Providing(target) = &mut self.phase else {
            return None;
        };
        match target.as_mut().poll(cx) {
            Poll::Pending => None,
            Poll::Ready(Ok(target)) => {
                self.phase = Phase::Connecting(self.connect_to(target));
                None
            }
            Poll::Ready(Err(error)) => {
                self.phase = Phase::Idle;
                Some(Input::ProviderFailed(error))
            }
        }
    }

    /// Polls the current phase; returns what happened (empty: nothing, wait for a wake).
    fn poll_inputs(
        &mut self,
        core: &mut Core,
        cx: &mut Context<'_>,
        wakes: &mut Wakes,
    ) -> Vec<Input> {
        let mut inputs = Vec::new();
        match &mut self.phase {
            Phase::Idle | Phase::ToProvide(_) | Phase::Providing(_) => {}
            Phase::Connecting(attempt) => match Pin::new(attempt).poll(cx) {
                Poll::Pending => {}
                Poll::Ready(Ok(ws)) => {
                    self.phase = Phase::Open(Box::new(Conn {
                        closed: ws.closed(),
                        ws,
                        heartbeat: core.machine.tick_millis().map(Alarm::every),
                        grace: None,
                        stream_done: false,
                        stream_end: None,
                        close_seen: false,
                    }));
                    inputs.push(Input::Opened);
                    // A reader that found no connection waits on the shared state, not on
                    // this new socket: it must come and read it.
                    wakes.take(&mut core.reader);
                }
                Poll::Ready(Err(error)) => {
                    self.phase = Phase::Idle;
                    inputs.push(Input::AttemptFailed(error));
                }
            },
            Phase::Waiting(alarm) => {
                if alarm.poll_fired(cx) > 0 {
                    self.phase = Phase::Idle;
                    inputs.push(Input::TimerFired);
                }
            }
            Phase::Open(conn) => conn.poll_inputs(core, cx, wakes, &mut inputs),
        }
        if core.received.len() != core.machine.backlog() {
            // First: the end of a connection read to its end above may schedule the next
            // attempt at once (a zero delay), which must see its backlog.
            inputs.insert(0, Input::Backlog(core.received.len()));
        }
        inputs
    }
}

impl Conn {
    fn poll_inputs(
        &mut self,
        core: &mut Core,
        cx: &mut Context<'_>,
        wakes: &mut Wakes,
        inputs: &mut Vec<Input>,
    ) {
        self.receive(core, cx, wakes, inputs);
        if !self.close_seen {
            if let Poll::Ready(event) = Pin::new(&mut self.closed).poll(cx) {
                self.close_seen = true;
                inputs.push(Input::Closed(event));
            }
        }
        if core.machine.is_sending() && self.ws.state() != State::Open {
            inputs.push(Input::NotOpen);
        }
        if core.machine.is_ending() {
            // Everything the socket had ready was read above: it may be abandoned now.
            if let Some(grace) = &mut self.grace {
                if grace.poll_fired(cx) > 0 {
                    self.grace = None;
                    inputs.push(Input::GraceOver);
                }
            }
        }
        if inputs.is_empty() && core.machine.is_sending() {
            self.send(core, cx, wakes);
        }
    }

    /// Reports the end of the stream that the reader saw; and once the connection is
    /// ending, moves everything the socket received into the shared queue, which moves
    /// messages already in memory without adding any, while the machine holds the next
    /// attempt back until the reader has caught up ([`READ_AHEAD`](super::READ_AHEAD)).
    /// While it is open the reader takes its messages straight from the socket, so
    /// [`Backend::Stream`] keeps its flow control and [`Builder::max_queued`] keeps
    /// bounding the classic socket's queue.
    ///
    /// [`Backend::Stream`]: crate::socket::Backend::Stream
    fn receive(
        &mut self,
        core: &mut Core,
        cx: &mut Context<'_>,
        wakes: &mut Wakes,
        inputs: &mut Vec<Input>,
    ) {
        if let Some(error) = self.stream_end.take() {
            inputs.push(Input::StreamEnded(error));
        }
        let ending = core.machine.is_ending();
        if !ending && !self.ws.on_demand() {
            return;
        }
        let mut any = false;
        while !self.stream_done && (ending || core.received.len() < READ_AHEAD) {
            match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => {
                    self.stream_done = true;
                    inputs.push(Input::StreamEnded(None));
                }
                Poll::Ready(Some(Ok(message))) => {
                    core.received.push_back(Ok(message));
                    any = true;
                }
                Poll::Ready(Some(Err(error))) => {
                    if self.ws.is_terminated() {
                        self.stream_done = true;
                        inputs.push(Input::StreamEnded(Some(error)));
                    } else {
                        // A per-message error (a Blob that could not be read).
                        core.received.push_back(Err(error));
                        any = true;
                    }
                }
            }
        }
        if any {
            wakes.take(&mut core.reader);
        }
    }

    /// Hands heartbeats and the outbox to the socket while its `Sink` is ready, and
    /// forgets what the browser has handed on.
    fn send(&mut self, core: &mut Core, cx: &mut Context<'_>, wakes: &mut Wakes) {
        let machine = &mut core.machine;
        if let Some(heartbeat) = machine.take_check(self.ws.buffered_amount()) {
            self.send_heartbeat(machine, heartbeat, cx);
        }
        let ticks = self
            .heartbeat
            .as_mut()
            .map_or(0, |alarm| alarm.poll_fired(cx));
        for _ in 0..ticks {
            let now = now_ms();
            if let Some(heartbeat) = machine.tick(self.ws.buffered_amount(), now) {
                self.send_heartbeat(machine, heartbeat, cx);
            }
        }
        let mut handed = false;
        while let Some(message) = machine.next_to_hand() {
            let message = message.clone();
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) | Poll::Pending => break,
            }
            if Pin::new(&mut self.ws).start_send(message).is_err() {
                break;
            }
            machine.handed();
            handed = true;
        }
        machine.acknowledge(self.ws.buffered_amount());
        if machine.outbox_is_empty() && !machine.flushed() {
            // Waits (with the socket's drain watcher) until the browser has sent it all.
            if let Poll::Ready(Ok(())) = Pin::new(&mut self.ws).poll_flush(cx) {
                machine.acknowledge(self.ws.buffered_amount());
            }
        }
        if handed || machine.flushed() {
            wakes.take(&mut core.sender);
        }
    }

    fn send_heartbeat(&mut self, machine: &mut Machine, heartbeat: Message, cx: &mut Context<'_>) {
        if let Poll::Ready(Ok(())) = Pin::new(&mut self.ws).poll_ready(cx) {
            // A failed heartbeat is not the application's data; the close that follows
            // tells the story.
            if Pin::new(&mut self.ws).start_send(heartbeat.clone()).is_ok() {
                machine.heartbeat_handed(heartbeat);
            }
        }
    }
}

/// Everything behind a [`ReconnectingWebSocket`](super::ReconnectingWebSocket): the pure
/// state in `core`, the browser objects (socket, attempt, timers) in `io`, which only the
/// driver and the application's close or drop touch.
pub(super) struct Shared {
    /// Locked after `io` by whoever needs both, never before it.
    pub(super) core: Lock<Core>,
    pub(super) io: Lock<Io>,
    /// Set when the driver is polled while its poll is running (a socket woke it
    /// synchronously, on wasm32): the running poll goes round once more.
    pub(super) again: Flag,
    /// Whether the driver task runs (it ends when the machine finishes; a
    /// [`reconnect`](super::ReconnectingWebSocket::reconnect) after that starts another).
    pub(super) driver_running: Flag,
    /// Whether the reader has seen the stream's end (`None`): from then on it stays
    /// ended, and the connection cannot be started again.
    pub(super) stream_ended: Flag,
}

impl Shared {
    pub(super) fn new(machine: Machine, io: Io) -> Shared {
        Shared {
            core: Lock::new(Core::new(machine)),
            io: Lock::new(io),
            again: Flag::default(),
            driver_running: Flag::default(),
            stream_ended: Flag::default(),
        }
    }

    /// Whether the open connection's socket is still open (the driver notices a close
    /// only when it runs; the state must say so at once).
    pub(super) fn socket_open(&self) -> bool {
        // Not waiting: the driver holds `io` while it polls the application's provider,
        // which may ask for the state; the machine's phase then decides.
        self.io.try_lock().is_none_or(|io| io.socket_open())
    }

    pub(super) fn state(&self) -> State {
        let open = self.socket_open();
        self.core.lock().machine.state(open)
    }

    /// Feeds an input from the application's side (a close, a drop) and carries out what
    /// it asks for.
    pub(super) fn input(&self, input: Input) {
        let mut wakes = Wakes::default();
        let io_actions = {
            let mut core = self.core.lock();
            let actions = core.machine.handle(input, 0.0, 0);
            let io_actions = core.apply(actions, &mut wakes);
            wakes.driver(&core);
            io_actions
        };
        if io_actions.is_empty() {
            return;
        }
        // Not waiting: the driver may hold `io` further up this stack (a provider that
        // closes), or on another thread; it then carries them out at its next step (it was
        // woken above).
        match self.io.try_lock() {
            Some(mut io) => {
                for action in io_actions {
                    io.execute(action);
                }
            }
            None => self.core.lock().deferred.extend(io_actions),
        }
    }

    pub(super) fn take_unsent(&self) -> Vec<Message> {
        self.core.lock().machine.take_unsent()
    }
}

/// The background task.
pub(super) struct Driver(pub(super) sync::Shared<Shared>);

impl Driver {
    /// Runs until nothing more happens without a wake.
    pub(super) fn step(&self, io: &mut Io, cx: &mut Context<'_>, wakes: &mut Wakes) {
        loop {
            let provided = io.poll_provider(cx);
            let mut core = self.0.core.lock();
            for action in std::mem::take(&mut core.deferred) {
                io.execute(action);
            }
            if core.machine.finished() {
                return;
            }
            let mut inputs = io.poll_inputs(&mut core, cx, wakes);
            inputs.extend(provided);
            if inputs.is_empty() {
                return;
            }
            let now = now_ms();
            for input in inputs {
                let actions = core.machine.handle(input, now, io.buffered());
                for action in core.apply(actions, wakes) {
                    io.execute(action);
                }
            }
        }
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Declared first, so the wakers are woken after every borrow below has ended.
        let mut wakes = Wakes::default();
        let shared = &self.0;
        loop {
            shared.again.set(false);
            let Some(mut io) = shared.io.enter() else {
                // Polled from inside its own poll: the running poll goes round again.
                shared.again.set(true);
                return Poll::Pending;
            };
            {
                let mut core = shared.core.lock();
                if core.machine.finished() {
                    core.driver = None;
                    drop(core);
                    let released = io.release_all();
                    drop(io);
                    drop(released);
                    return Poll::Ready(());
                }
                store_waker(&mut core.driver, cx.waker());
            }
            self.step(&mut io, cx, &mut wakes);
            drop(io);
            if !shared.again.get() {
                break;
            }
        }
        let mut core = shared.core.lock();
        if core.machine.finished() {
            core.driver = None;
            drop(core);
            let released = shared.io.enter().map(|mut io| io.release_all());
            drop(released);
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
