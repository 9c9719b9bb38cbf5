//! A started run's events, fanned out to its subscribers ([`RunEvents`]).
//!
//! Unlike a broadcast channel, sending wakes nobody: the run's events are
//! published when the poll of the run that sent them ends, with one wake
//! per waiting subscriber. A run sends its events in bursts (a turn's
//! items, a tool's output and the next turn's start come from one poll),
//! and a wake per event would hand the subscriber's task to the scheduler
//! (and often to the other worker thread) once per event. Events reach a
//! subscriber no later than the run next waits for something (a model's
//! bytes, a tool, an approval), so a streamed model call's deltas still
//! arrive as the model sends them.
//!
//! This file holds the sending side (the log, sending, publishing);
//! [`receive`] the subscribers' side.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

pub use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::handle::EVENT_BUFFER;
use super::stream::RunEvent;

mod receive;
#[cfg(test)]
mod tests;

pub use receive::RunEvents;

/// Events with how many subscribers still have to read each.
type Queue = VecDeque<(RunEvent, usize)>;

/// How many events the log makes room for when the first arrives.
const FIRST_ROOM: usize = 32;

/// The events of one started run and who still has to read them.
#[derive(Debug, Default)]
pub(crate) struct Fanout {
    log: Mutex<Log>,
    /// Subscribers alive: read without the lock to skip building events
    /// nobody receives (written under it).
    subscribers: AtomicUsize,
}

#[derive(Debug, Default)]
struct Log {
    /// Events some subscriber has not read yet, oldest first, each with
    /// how many subscribers still have to.
    events: Queue,
    /// The number of the first event in `events` (events are numbered from
    /// 0 in the order sent).
    first: u64,
    /// Whether events were sent since the last publication.
    unpublished: bool,
    /// The run has ended: no more events.
    closed: bool,
    /// Subscribers waiting for an event, by their id.
    waiting: Vec<(u64, Waker)>,
    /// The id the next subscriber gets.
    next_id: u64,
}

impl Log {
    /// The number the next event sent will get.
    fn end(&self) -> u64 {
        self.first + self.events.len() as u64
    }

    /// Drops the oldest events that every subscriber has read.
    fn trim(&mut self) {
        while self.events.front().is_some_and(|(_, unread)| *unread == 0) {
            self.events.pop_front();
            self.first += 1;
        }
    }
}

impl Fanout {
    fn lock(&self) -> MutexGuard<'_, Log> {
        // Nothing panics while the lock is held; a poisoned lock still
        // holds a valid log.
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether anyone would receive an event sent now.
    pub(crate) fn is_listened(&self) -> bool {
        self.subscribers.load(Ordering::Relaxed) > 0
    }

    /// A new subscriber, receiving the events sent from now on (none once
    /// the run has ended).
    pub(crate) fn subscribe(self: &Arc<Self>) -> RunEvents {
        let mut log = self.lock();
        let id = log.next_id;
        log.next_id += 1;
        self.subscribers.fetch_add(1, Ordering::Relaxed);
        RunEvents::new(Arc::clone(self), log.end(), id)
    }

    /// Adds `event` for every subscriber alive, without waking any (see the
    /// module docs). The oldest event goes when [`EVENT_BUFFER`] are kept.
    pub(crate) fn send(&self, event: RunEvent) {
        let mut log = self.lock();
        let subscribers = self.subscribers.load(Ordering::Relaxed);
        if subscribers == 0 || log.closed {
            return;
        }
        if log.events.len() == EVENT_BUFFER {
            log.events.pop_front();
            log.first += 1;
        } else if log.events.capacity() == 0 {
            // Room for a short run's events at once, rather than growing
            // from four.
            log.events.reserve(FIRST_ROOM);
        }
        log.events.push_back((event, subscribers));
        log.unpublished = true;
    }

    /// Wakes the waiting subscribers if events were sent since the last
    /// call; with `close`, also ends the log (subscribers then read what is
    /// left, then [`RecvError::Closed`]). Called by the run's future as
    /// each of its polls ends.
    pub(crate) fn publish(&self, close: bool) {
        let waiting = {
            let mut log = self.lock();
            log.closed |= close;
            if !log.unpublished && !close {
                return;
            }
            log.unpublished = false;
            std::mem::take(&mut log.waiting)
        };
        // Woken outside the lock: a waker may run code that subscribes or
        // reads.
        for (_, waker) in waiting {
            waker.wake();
        }
    }
}
