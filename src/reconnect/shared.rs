//! The pure state the public halves and the driver share (the machine, the received
//! backlog, the tasks' wakers), and the rule that every waker is woken only after the
//! borrows end: an executor may poll a task inside `wake`, and that
//! task would borrow the same `RefCell` again.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use super::events::ReconnectEvent;
use super::machine::{Action, Machine};
use crate::error::Error;
use crate::message::Message;
use crate::waker::{store_waker, wake};

/// The machine and what the tasks wait on.
pub(super) struct Core {
    pub(super) machine: Machine,
    /// Received from an ending connection (and errors to yield) and not yet read; the
    /// reader takes an open connection's messages straight from its socket.
    pub(super) received: VecDeque<Result<Message, Error>>,
    pub(super) driver: Option<Waker>,
    pub(super) reader: Option<Waker>,
    pub(super) sender: Option<Waker>,
    pub(super) closers: Vec<Waker>,
    subscribers: Vec<Subscriber>,
    next_subscriber: u64,
    /// Socket actions the application's side could not carry out at once.
    pub(super) deferred: Vec<Action>,
}

/// How many events a subscriber may fall behind: beyond it the oldest is skipped (and
/// counted), so a subscriber that never reads cannot grow memory across reconnects.
pub(super) const EVENTS_BEHIND: usize = 1024;

struct Subscriber {
    id: u64,
    queue: VecDeque<ReconnectEvent>,
    /// Events skipped because the queue was full.
    skipped: u64,
    waker: Option<Waker>,
}

/// Wakers collected while a `RefCell` is borrowed; they are woken when this is dropped.
/// Declare it before the borrow, so that it is dropped after it.
#[derive(Default)]
pub(super) struct Wakes(Vec<Waker>);

impl Wakes {
    pub(super) fn take(&mut self, slot: &mut Option<Waker>) {
        self.0.extend(slot.take());
    }

    /// The driver stays registered: it is woken, not taken.
    pub(super) fn driver(&mut self, core: &Core) {
        self.0.extend(core.driver.clone());
    }
}

impl Drop for Wakes {
    fn drop(&mut self) {
        for waker in self.0.drain(..) {
            wake(Some(waker));
        }
    }
}

impl Core {
    pub(super) fn new(machine: Machine) -> Core {
        Core {
            machine,
            received: VecDeque::new(),
            driver: None,
            reader: None,
            sender: None,
            closers: Vec::new(),
            subscribers: Vec::new(),
            next_subscriber: 0,
            deferred: Vec::new(),
        }
    }

    /// Carries out the actions on this state and returns those for the sockets and
    /// timers, in order.
    pub(super) fn apply(&mut self, actions: Vec<Action>, wakes: &mut Wakes) -> Vec<Action> {
        if actions.is_empty() {
            return actions;
        }
        // Any step may change what `poll_ready` and `poll_flush` answer.
        wakes.take(&mut self.sender);
        let mut io = Vec::new();
        for action in actions {
            match action {
                Action::Emit(event) => {
                    for subscriber in &mut self.subscribers {
                        if subscriber.queue.len() == EVENTS_BEHIND {
                            subscriber.queue.pop_front();
                            subscriber.skipped += 1;
                        }
                        subscriber.queue.push_back(event.clone());
                        wakes.take(&mut subscriber.waker);
                    }
                }
                Action::Yield(error) => {
                    self.received.push_back(Err(error));
                    wakes.take(&mut self.reader);
                }
                Action::Finish => {
                    wakes.take(&mut self.reader);
                    wakes.0.append(&mut self.closers);
                    for subscriber in &mut self.subscribers {
                        wakes.take(&mut subscriber.waker);
                    }
                    wakes.driver(self);
                }
                other => io.push(other),
            }
        }
        io
    }

    pub(super) fn subscribe(&mut self) -> u64 {
        let id = self.next_subscriber;
        self.next_subscriber += 1;
        self.subscribers.push(Subscriber {
            id,
            queue: VecDeque::new(),
            skipped: 0,
            waker: None,
        });
        id
    }

    /// Events subscription `id` skipped because it fell [`EVENTS_BEHIND`] behind.
    pub(super) fn skipped(&self, id: u64) -> u64 {
        self.subscribers
            .iter()
            .find(|s| s.id == id)
            .map_or(0, |s| s.skipped)
    }

    pub(super) fn unsubscribe(&mut self, id: u64) {
        self.subscribers.retain(|subscriber| subscriber.id != id);
    }

    /// The next event of subscription `id`; `None` once it has ended.
    pub(super) fn poll_event(
        &mut self,
        id: u64,
        cx: &mut Context<'_>,
    ) -> Poll<Option<ReconnectEvent>> {
        let finished = self.machine.finished();
        let Some(subscriber) = self.subscribers.iter_mut().find(|s| s.id == id) else {
            return Poll::Ready(None);
        };
        if let Some(event) = subscriber.queue.pop_front() {
            return Poll::Ready(Some(event));
        }
        if finished {
            return Poll::Ready(None);
        }
        store_waker(&mut subscriber.waker, cx.waker());
        Poll::Pending
    }
}
