//! The receive queue: messages waiting for `poll_next`, in wire order, with the byte
//! count that [`Builder::max_queued`](crate::Builder::max_queued) bounds.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::error::Error;
use crate::message::Message;

/// A message still being read (a `Blob`); everything behind it waits, so order is kept.
#[cfg(target_arch = "wasm32")]
pub(crate) type PendingRead = Pin<Box<dyn Future<Output = Result<Message, Error>>>>;
/// Natively nothing is read asynchronously, but the queue must be `Send`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type PendingRead = Pin<Box<dyn Future<Output = Result<Message, Error>> + Send>>;

/// A received item.
pub(crate) enum Incoming {
    Ready(Result<Message, Error>),
    /// A read in progress, and the size of what it reads (browsers' Blobs only).
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Pending(PendingRead, usize),
}

impl Incoming {
    fn size(&self) -> usize {
        match self {
            Incoming::Ready(Ok(message)) => message.len(),
            Incoming::Ready(Err(_)) => 0,
            Incoming::Pending(_, size) => *size,
        }
    }
}

#[derive(Default)]
pub(crate) struct ReceiveQueue {
    items: VecDeque<Incoming>,
    bytes: usize,
    /// At most this many messages and payload bytes, if bounded.
    limit: Option<(usize, usize)>,
}

impl ReceiveQueue {
    pub(crate) fn bounded(limit: Option<(usize, usize)>) -> Self {
        ReceiveQueue {
            limit,
            ..ReceiveQueue::default()
        }
    }

    /// Queues `item`; `Err` with the queue's size when that passes the limit (the item is
    /// queued all the same: it was received and must not be lost).
    pub(crate) fn push(&mut self, item: Incoming) -> Result<(), Error> {
        self.bytes = self.bytes.saturating_add(item.size());
        self.items.push_back(item);
        match self.limit {
            Some((messages, bytes)) if self.items.len() > messages || self.bytes > bytes => {
                Err(Error::ReceiveQueueFull {
                    messages: self.items.len(),
                    bytes: self.bytes,
                })
            }
            _ => Ok(()),
        }
    }

    /// The error for a refused message of `size` bytes, counted as if it were queued.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn refused(&self, size: usize) -> Error {
        Error::ReceiveQueueFull {
            messages: self.items.len().saturating_add(1),
            bytes: self.bytes.saturating_add(size),
        }
    }

    /// The front item once it is ready; `Ready(None)` when the queue is empty.
    pub(crate) fn poll_pop(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        let result = match self.items.front_mut() {
            None => return Poll::Ready(None),
            Some(Incoming::Pending(read, _)) => match read.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => Some(result),
            },
            Some(Incoming::Ready(_)) => None,
        };
        let Some(item) = self.items.pop_front() else {
            return Poll::Ready(None);
        };
        self.bytes = self.bytes.saturating_sub(item.size());
        Poll::Ready(match (result, item) {
            (Some(result), _) => Some(result),
            (None, Incoming::Ready(result)) => Some(result),
            (None, Incoming::Pending(..)) => None,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// Empties the queue, handing the items to the caller to drop outside any borrow.
    pub(crate) fn take(&mut self) -> VecDeque<Incoming> {
        self.bytes = 0;
        std::mem::take(&mut self.items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop(queue: &mut ReceiveQueue) -> Option<Result<Message, Error>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        match queue.poll_pop(&mut cx) {
            Poll::Ready(item) => item,
            Poll::Pending => panic!("pending"),
        }
    }

    #[test]
    fn keeps_order_and_counts_bytes() {
        let mut queue = ReceiveQueue::default();
        for text in ["a", "bb", "ccc"] {
            assert!(queue.push(Incoming::Ready(Ok(Message::from(text)))).is_ok());
        }
        assert_eq!(queue.bytes, 6);
        assert_eq!(pop(&mut queue), Some(Ok(Message::from("a"))));
        assert_eq!(queue.bytes, 5);
        assert_eq!(pop(&mut queue), Some(Ok(Message::from("bb"))));
        assert_eq!(pop(&mut queue), Some(Ok(Message::from("ccc"))));
        assert_eq!(pop(&mut queue), None);
        assert_eq!(queue.bytes, 0);
    }

    #[test]
    fn a_pending_read_holds_back_what_follows() {
        let mut queue = ReceiveQueue::default();
        let (tx, rx) = futures_channel_like();
        let _ = queue.push(Incoming::Pending(rx, 4));
        let _ = queue.push(Incoming::Ready(Ok(Message::from("after"))));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(queue.poll_pop(&mut cx).is_pending());
        tx.set(Some(Message::from(vec![1, 2, 3, 4])));
        assert_eq!(pop(&mut queue), Some(Ok(Message::from(vec![1, 2, 3, 4]))));
        assert_eq!(pop(&mut queue), Some(Ok(Message::from("after"))));
    }

    #[test]
    fn passing_the_limit_reports_the_size_and_keeps_the_item() {
        let mut queue = ReceiveQueue::bounded(Some((2, 100)));
        assert!(queue.push(Incoming::Ready(Ok(Message::from("a")))).is_ok());
        assert!(queue.push(Incoming::Ready(Ok(Message::from("b")))).is_ok());
        let error = queue.push(Incoming::Ready(Ok(Message::from("c"))));
        assert!(matches!(
            error,
            Err(Error::ReceiveQueueFull {
                messages: 3,
                bytes: 3
            })
        ));
        assert_eq!(queue.len(), 3);
        assert!(matches!(
            queue.refused(200),
            Error::ReceiveQueueFull {
                messages: 4,
                bytes: 203
            }
        ));
        let mut bytes = ReceiveQueue::bounded(Some((10, 4)));
        assert!(bytes
            .push(Incoming::Ready(Ok(Message::from("abcd"))))
            .is_ok());
        assert!(bytes.push(Incoming::Ready(Ok(Message::from("e")))).is_err());
    }

    /// A read that completes when the test says so.
    fn futures_channel_like() -> (Slot, PendingRead) {
        let slot = Slot::default();
        let read = slot.clone();
        let future = std::future::poll_fn(move |_| match read.take() {
            Some(message) => Poll::Ready(Ok(message)),
            None => Poll::Pending,
        });
        (slot, Box::pin(future))
    }

    /// A message slot the test and the read share (`Send`, as the native queue needs).
    #[derive(Clone, Default)]
    struct Slot(std::sync::Arc<std::sync::Mutex<Option<Message>>>);

    impl Slot {
        fn set(&self, message: Option<Message>) {
            *self.0.lock().unwrap() = message;
        }

        fn take(&self) -> Option<Message> {
            self.0.lock().unwrap().take()
        }
    }
}
