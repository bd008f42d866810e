//! Waiting in line: first come, first served, in JS call order.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

/// A first-come, first-served line: each caller takes a [`Ticket`] synchronously (so the
/// order is the JS call order), waits for its turn, and passes the turn on by dropping it.
#[derive(Debug, Default)]
pub(crate) struct Line {
    inner: RefCell<LineInner>,
}

#[derive(Debug, Default)]
struct LineInner {
    /// The number of the ticket at the front of `slots`.
    front: u64,
    /// One slot per ticket not yet gone, in ticket order.
    slots: VecDeque<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    waker: Option<Waker>,
    gone: bool,
}

impl Line {
    pub(crate) fn join(line: &Rc<Line>) -> Ticket {
        let mut inner = line.inner.borrow_mut();
        inner.slots.push_back(Slot::default());
        let number = inner.front + inner.slots.len() as u64 - 1;
        Ticket {
            line: line.clone(),
            number,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Ticket {
    line: Rc<Line>,
    number: u64,
}

impl Ticket {
    /// Resolves when every earlier ticket is gone.
    pub(crate) fn turn(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            let mut inner = self.line.inner.borrow_mut();
            let index = self.number.saturating_sub(inner.front) as usize;
            if index == 0 {
                return Poll::Ready(());
            }
            if let Some(slot) = inner.slots.get_mut(index) {
                match &slot.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => slot.waker = Some(cx.waker().clone()),
                }
            }
            Poll::Pending
        })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let next = {
            let mut inner = self.line.inner.borrow_mut();
            let index = self.number.saturating_sub(inner.front) as usize;
            if let Some(slot) = inner.slots.get_mut(index) {
                slot.gone = true;
            }
            let mut advanced = false;
            while inner.slots.front().is_some_and(|slot| slot.gone) {
                inner.slots.pop_front();
                inner.front += 1;
                advanced = true;
            }
            if advanced {
                inner.slots.front_mut().and_then(|slot| slot.waker.take())
            } else {
                None
            }
        };
        if let Some(waker) = next {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::{Context, Waker};

    #[test]
    fn line_serves_in_order_and_skips_the_gone() {
        let line = Rc::new(Line::default());
        let a = Line::join(&line);
        let b = Line::join(&line);
        let c = Line::join(&line);
        let mut cx = Context::from_waker(Waker::noop());
        let ready = |t: &Ticket, cx: &mut Context<'_>| {
            let mut turn = Box::pin(t.turn());
            turn.as_mut().poll(cx).is_ready()
        };
        assert!(ready(&a, &mut cx));
        assert!(!ready(&b, &mut cx));
        assert!(!ready(&c, &mut cx));
        drop(b); // gone before its turn: c still waits for a
        assert!(!ready(&c, &mut cx));
        drop(a);
        assert!(ready(&c, &mut cx));
        drop(c);
        assert!(line.inner.borrow().slots.is_empty());
        let d = Line::join(&line);
        assert!(ready(&d, &mut cx));
    }
}
