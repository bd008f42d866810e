//! The outbox and what each connection was given: numbering, limits, and which messages
//! `bufferedAmount` says never left the browser. Pure: the driver passes
//! `bufferedAmount` in, so all of it runs and is tested natively.

use std::collections::VecDeque;
use std::ops::Range;

use crate::error::Error;
use crate::message::Message;

/// A message accepted by the `Sink`; `seq` is `None` for heartbeats.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Entry {
    pub(super) seq: Option<u64>,
    pub(super) message: Message,
}

/// Messages accepted and not yet handed to a connection, numbered in the order accepted.
#[derive(Debug)]
pub(super) struct Outbox {
    queue: VecDeque<Entry>,
    bytes: usize,
    next_seq: u64,
    max_messages: usize,
    max_bytes: usize,
}

impl Outbox {
    pub(super) fn new(max_messages: usize, max_bytes: usize) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            bytes: 0,
            next_seq: 0,
            max_messages,
            max_bytes,
        }
    }

    /// Whether the `Sink` may accept one more message: fewer than the message limit and
    /// at most the byte limit (so one message may take it past the byte limit).
    pub(super) fn has_room(&self) -> bool {
        self.queue.len() < self.max_messages && self.bytes <= self.max_bytes
    }

    pub(super) fn full_error(&self) -> Error {
        Error::OutboxFull {
            messages: self.queue.len(),
            bytes: self.bytes,
        }
    }

    /// Queues `message` and returns its number.
    pub(super) fn push(&mut self, message: Message) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.bytes += message.len();
        self.queue.push_back(Entry {
            seq: Some(seq),
            message,
        });
        seq
    }

    pub(super) fn front(&self) -> Option<&Message> {
        self.queue.front().map(|entry| &entry.message)
    }

    pub(super) fn pop(&mut self) -> Option<Entry> {
        let entry = self.queue.pop_front()?;
        self.bytes -= entry.message.len();
        Some(entry)
    }

    /// The number the next connection starts at: the first queued message's, or the next
    /// one to be accepted.
    pub(super) fn first_seq(&self) -> u64 {
        self.queue
            .front()
            .and_then(|entry| entry.seq)
            .unwrap_or(self.next_seq)
    }

    /// Puts numbered messages back at the front, in their order (heartbeats are dropped).
    pub(super) fn requeue(&mut self, entries: impl DoubleEndedIterator<Item = Entry>) {
        for entry in entries.rev().filter(|entry| entry.seq.is_some()) {
            self.bytes += entry.message.len();
            self.queue.push_front(entry);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(super) fn take_all(&mut self) -> Vec<Message> {
        self.bytes = 0;
        self.queue.drain(..).map(|entry| entry.message).collect()
    }
}

/// What one connection was given, and which of it `bufferedAmount` may still count.
#[derive(Debug)]
pub(super) struct Inflight {
    /// Handed to the socket, oldest first; their bytes may still be in `bufferedAmount`.
    entries: VecDeque<Entry>,
    bytes: u64,
    /// The number of the first message handed to this connection.
    first_seq: u64,
    /// One past the number of the last message handed to this connection.
    handed_end: u64,
}

/// How a connection's messages ended: `sent` left the browser, `unsent` goes to the next
/// connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Split {
    pub(super) sent: Range<u64>,
    pub(super) unsent: Range<u64>,
}

impl Inflight {
    pub(super) fn new(first_seq: u64) -> Inflight {
        Inflight {
            entries: VecDeque::new(),
            bytes: 0,
            first_seq,
            handed_end: first_seq,
        }
    }

    /// Records `entry` as handed to the socket (the copy stays until the browser has
    /// handed it on, to be sent again if the connection ends first).
    pub(super) fn push(&mut self, entry: Entry) {
        self.bytes += entry.message.len() as u64;
        if let Some(seq) = entry.seq {
            self.handed_end = seq + 1;
        }
        self.entries.push_back(entry);
    }

    /// Forgets the messages whose bytes `buffered` no longer counts: those the browser
    /// has handed on. Text counts in UTF-8 bytes, like `Message::len`.
    pub(super) fn prune(&mut self, buffered: u64) {
        while let Some(front) = self.entries.front() {
            let len = front.message.len() as u64;
            if self.bytes - len < buffered {
                break;
            }
            self.bytes -= len;
            self.entries.pop_front();
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Ends the connection with `buffered` still counted (it no longer falls once the
    /// close event has fired): moves what was not (completely) sent back to the front of
    /// `outbox` and says which messages went where.
    pub(super) fn finish(mut self, buffered: u64, outbox: &mut Outbox) -> Split {
        self.prune(buffered);
        let unsent_start = self
            .entries
            .iter()
            .find_map(|entry| entry.seq)
            .unwrap_or(self.handed_end);
        outbox.requeue(self.entries.into_iter());
        Split {
            sent: self.first_seq..unsent_start,
            unsent: unsent_start..self.handed_end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Message {
        Message::from(s)
    }

    #[test]
    fn numbers_in_order_and_limits() {
        let mut outbox = Outbox::new(2, 10);
        assert!(outbox.has_room());
        assert_eq!(outbox.push(text("0123456789")), 0);
        assert!(outbox.has_room());
        assert_eq!(outbox.push(text("x")), 1);
        assert!(!outbox.has_room());
        assert_eq!(
            outbox.full_error(),
            Error::OutboxFull {
                messages: 2,
                bytes: 11
            }
        );
        assert_eq!(outbox.pop().and_then(|e| e.seq), Some(0));
        assert_eq!((outbox.len(), outbox.bytes()), (1, 1));
        assert_eq!(outbox.first_seq(), 1);
        assert_eq!(outbox.take_all(), [text("x")]);
        assert_eq!((outbox.first_seq(), outbox.bytes()), (2, 0));
    }

    #[test]
    fn one_big_message_may_pass_the_byte_limit() {
        let mut outbox = Outbox::new(10, 4);
        outbox.push(text("abcd"));
        assert!(outbox.has_room());
        outbox.push(text("e"));
        assert!(!outbox.has_room());
    }

    #[test]
    fn prune_forgets_what_the_browser_handed_on() {
        let mut outbox = Outbox::new(10, 100);
        for s in ["aa", "bbb", "c"] {
            outbox.push(text(s));
        }
        let mut inflight = Inflight::new(outbox.first_seq());
        while let Some(entry) = outbox.pop() {
            inflight.push(entry);
        }
        inflight.prune(6);
        assert_eq!(inflight.entries.len(), 3);
        // 4 bytes left: "aa" is gone, part of "bbb" is not.
        inflight.prune(4);
        assert_eq!(inflight.entries.len(), 2);
        inflight.prune(1);
        assert_eq!(inflight.entries.len(), 1);
        inflight.prune(0);
        assert!(inflight.is_empty());
    }

    #[test]
    fn finish_requeues_the_unsent_part_first_and_in_order() {
        let mut outbox = Outbox::new(10, 100);
        for s in ["a", "bb", "ccc"] {
            outbox.push(text(s));
        }
        let mut inflight = Inflight::new(outbox.first_seq());
        for _ in 0..2 {
            inflight.push(outbox.pop().unwrap());
        }
        inflight.push(Entry {
            seq: None,
            message: text("hb"),
        });
        // "bb" (1 byte left) and the heartbeat are still counted.
        let split = inflight.finish(3, &mut outbox);
        assert_eq!(
            split,
            Split {
                sent: 0..1,
                unsent: 1..2
            }
        );
        assert_eq!(outbox.first_seq(), 1);
        assert_eq!(outbox.bytes(), 5);
        assert_eq!(outbox.take_all(), [text("bb"), text("ccc")]);
    }

    #[test]
    fn a_connection_given_nothing_splits_empty() {
        let mut outbox = Outbox::new(10, 100);
        outbox.push(text("a"));
        let inflight = Inflight::new(outbox.first_seq());
        assert_eq!(
            inflight.finish(0, &mut outbox),
            Split {
                sent: 0..0,
                unsent: 0..0
            }
        );
        assert_eq!(outbox.len(), 1);
    }
}
