//! The subscribers' side of a run's event log: [`RunEvents`] reads the
//! events the run published, each subscriber at its own pace.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::{Fanout, Log, Queue, RecvError, TryRecvError};
use crate::run::stream::RunEvent;

/// A subscriber to a started run's [`RunEvent`]s: made by
/// [`RunHandle::events`](crate::run::RunHandle::events) and
/// [`Run::start_with_events`](crate::run::Run::start_with_events).
///
/// It receives, in order, every event the run sends after it was made. A
/// slow subscriber never holds the run back: one that falls more than
/// [`EVENT_BUFFER`](crate::run::EVENT_BUFFER) events behind loses the oldest, and its next receive
/// says how many ([`RecvError::Lagged`]), then goes on with the oldest
/// kept. (A sole subscriber takes what the run has sent in one go when it
/// reads, so it may hold up to that many more, already its own.) Once the
/// run has ended (or its future was dropped) and every
/// event is read, receiving returns [`RecvError::Closed`]; a subscriber
/// made after the end receives nothing. The errors are tokio's broadcast
/// errors, with the meaning they have for a `broadcast::Receiver`.
///
/// Events are published when the poll of the run that sent them ends, not
/// one by one: see [`RunHandle::events`](crate::run::RunHandle::events).
#[derive(Debug)]
pub struct RunEvents {
    fanout: Arc<Fanout>,
    /// The number of the next event to read (in `taken`, or in the log
    /// once `taken` is empty).
    next: u64,
    id: u64,
    /// Events a sole subscriber took from the log in one go, to read
    /// without the lock (see [`take`]).
    taken: Queue,
}

impl RunEvents {
    /// A subscriber of `fanout` whose first event is numbered `next`.
    pub(super) fn new(fanout: Arc<Fanout>, next: u64, id: u64) -> Self {
        RunEvents {
            fanout,
            next,
            id,
            taken: VecDeque::new(),
        }
    }

    /// The next event, waiting for the run to publish one.
    ///
    /// # Errors
    /// [`RecvError::Lagged`]`(n)`: `n` events were lost (see the type's
    /// docs); [`RecvError::Closed`]: the run has ended and every event was
    /// read.
    pub async fn recv(&mut self) -> Result<RunEvent, RecvError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// [`recv`](Self::recv) as a poll: `Pending` registers `cx`'s waker,
    /// woken when the run publishes events or ends.
    ///
    /// # Errors
    /// As [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<RunEvent, RecvError>> {
        if let Some(event) = self.take_taken() {
            return Poll::Ready(Ok(event));
        }
        let mut log = self.fanout.lock();
        match take(&mut self.next, &mut self.taken, &self.fanout, &mut log) {
            Ok(event) => Poll::Ready(Ok(event)),
            Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
            Err(TryRecvError::Empty) => {
                // Under the same lock as the look: an event sent after it is
                // published after this registration, and wakes it.
                let waker = cx.waker();
                match log.waiting.iter_mut().find(|(id, _)| *id == self.id) {
                    Some((_, known)) => known.clone_from(waker),
                    None => log.waiting.push((self.id, waker.clone())),
                }
                Poll::Pending
            }
        }
    }

    /// The next event if there is one, without waiting.
    ///
    /// # Errors
    /// [`TryRecvError::Empty`]: nothing to read now; `Lagged` and `Closed`
    /// as for [`recv`](Self::recv).
    pub fn try_recv(&mut self) -> Result<RunEvent, TryRecvError> {
        if let Some(event) = self.take_taken() {
            return Ok(event);
        }
        let mut log = self.fanout.lock();
        take(&mut self.next, &mut self.taken, &self.fanout, &mut log)
    }

    /// The next of the events taken in one go, if any are left.
    fn take_taken(&mut self) -> Option<RunEvent> {
        let (event, _) = self.taken.pop_front()?;
        self.next += 1;
        Some(event)
    }
}

/// The event numbered `*next` for a subscriber whose `taken` is empty,
/// moving `next` on.
///
/// A sole subscriber at the head of the log takes every event in it at
/// once, swapping its empty `taken` (and that queue's room) for the log's
/// queue: one lock for a burst of events instead of one per event. The
/// events are then read, as far as the log and a later subscriber are
/// concerned (a subscriber made later starts after them anyway).
fn take(
    next: &mut u64,
    taken: &mut Queue,
    fanout: &Fanout,
    log: &mut Log,
) -> Result<RunEvent, TryRecvError> {
    if *next < log.first {
        let lost = log.first - *next;
        *next = log.first;
        return Err(TryRecvError::Lagged(lost));
    }
    if *next == log.first && log.events.len() > 1 && fanout.subscribers.load(Ordering::Relaxed) == 1
    {
        std::mem::swap(taken, &mut log.events);
        log.first += taken.len() as u64;
        let (event, _) = taken.pop_front().ok_or(TryRecvError::Empty)?;
        *next += 1;
        return Ok(event);
    }
    let index = usize::try_from(*next - log.first).unwrap_or(usize::MAX);
    match log.events.get_mut(index) {
        // The last reader of the oldest event takes it, uncloned.
        Some((_, 1)) if index == 0 => {
            let (event, _) = log.events.pop_front().ok_or(TryRecvError::Empty)?;
            log.first += 1;
            *next += 1;
            log.trim();
            Ok(event)
        }
        Some((event, unread)) => {
            let event = event.clone();
            *unread -= 1;
            *next += 1;
            log.trim();
            Ok(event)
        }
        None if log.closed => Err(TryRecvError::Closed),
        None => Err(TryRecvError::Empty),
    }
}

impl Drop for RunEvents {
    fn drop(&mut self) {
        let mut log = self.fanout.lock();
        self.fanout.subscribers.fetch_sub(1, Ordering::Relaxed);
        let start = usize::try_from(self.next.saturating_sub(log.first)).unwrap_or(usize::MAX);
        for (_, unread) in log.events.iter_mut().skip(start) {
            *unread -= 1;
        }
        log.trim();
        log.waiting.retain(|(id, _)| *id != self.id);
    }
}
