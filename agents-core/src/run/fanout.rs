//! A started run's events, fanned out to its subscribers ([`RunEvents`]).
//!
//! Unlike a broadcast channel, sending wakes nobody: the run's events are
//! published when the poll of the run that sent them ends, with one wake
//! per waiting subscriber. A run sends its events in bursts (a turn's
//! items, a tool's output and the next turn's start come from one poll),
//! and a wake per event would hand the subscriber's task to the scheduler
//! (and often to the other worker thread) once per event. Events reach a subscriber no later than the run
//! next waits for something (a model's bytes, a tool, an approval), so a
//! streamed model call's deltas still arrive as the model sends them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

pub use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::handle::EVENT_BUFFER;
use super::stream::RunEvent;

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
    events: VecDeque<(RunEvent, usize)>,
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
        RunEvents {
            fanout: Arc::clone(self),
            next: log.end(),
            id,
            taken: VecDeque::new(),
        }
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

/// A subscriber to a started run's [`RunEvent`]s: made by
/// [`RunHandle::events`](super::RunHandle::events) and
/// [`Run::start_with_events`](super::Run::start_with_events).
///
/// It receives, in order, every event the run sends after it was made. A
/// slow subscriber never holds the run back: one that falls more than
/// [`EVENT_BUFFER`] events behind loses the oldest, and its next receive
/// says how many ([`RecvError::Lagged`]), then goes on with the oldest
/// kept. (A sole subscriber takes what the run has sent in one go when it
/// reads, so it may hold up to that many more, already its own.) Once the
/// run has ended (or its future was dropped) and every
/// event is read, receiving returns [`RecvError::Closed`]; a subscriber
/// made after the end receives nothing. The errors are tokio's broadcast
/// errors, with the meaning they have for a `broadcast::Receiver`.
///
/// Events are published when the poll of the run that sent them ends, not
/// one by one: see [`RunHandle::events`](super::RunHandle::events).
#[derive(Debug)]
pub struct RunEvents {
    fanout: Arc<Fanout>,
    /// The number of the next event to read (in `taken`, or in the log
    /// once `taken` is empty).
    next: u64,
    id: u64,
    /// Events a sole subscriber took from the log in one go, to read
    /// without the lock (see [`take`]).
    taken: VecDeque<(RunEvent, usize)>,
}

impl RunEvents {
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
    taken: &mut VecDeque<(RunEvent, usize)>,
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    fn turn(turn: u32) -> RunEvent {
        RunEvent::TurnStarted {
            agent: Arc::from("A"),
            turn,
        }
    }

    fn turn_of(event: Result<RunEvent, TryRecvError>) -> u32 {
        match event {
            Ok(RunEvent::TurnStarted { turn, .. }) => turn,
            other => panic!("expected a turn, got {other:?}"),
        }
    }

    /// Counts its wakes.
    #[derive(Default)]
    struct Wakes(AtomicUsize);

    impl Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_waiting_subscriber_is_woken_once_per_publication_not_per_event() {
        let fanout = Arc::new(Fanout::default());
        let mut events = fanout.subscribe();
        let wakes = Arc::new(Wakes::default());
        let waker = Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);
        assert!(events.poll_recv(&mut cx).is_pending());
        for n in 1..=3 {
            fanout.send(turn(n));
        }
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0, "sending wakes nobody");
        fanout.publish(false);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        fanout.publish(false);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "nothing new, no wake");
        let read: Vec<u32> = (0..3).map(|_| turn_of(events.try_recv())).collect();
        assert_eq!(read, [1, 2, 3]);
        assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
        fanout.publish(true);
        assert_eq!(events.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn each_subscriber_reads_every_event_sent_after_it_subscribed() {
        let fanout = Arc::new(Fanout::default());
        fanout.send(turn(1));
        let mut early = fanout.subscribe();
        fanout.send(turn(2));
        let mut late = fanout.subscribe();
        fanout.send(turn(3));
        fanout.publish(true);
        assert_eq!(turn_of(early.try_recv()), 2);
        assert_eq!(turn_of(late.try_recv()), 3);
        assert_eq!(turn_of(early.try_recv()), 3);
        assert_eq!(early.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(late.try_recv(), Err(TryRecvError::Closed));
        assert!(fanout.lock().events.is_empty(), "read events are dropped");
        let mut after_the_end = fanout.subscribe();
        assert_eq!(after_the_end.try_recv(), Err(TryRecvError::Closed));
    }

    #[test]
    fn a_subscriber_that_falls_behind_loses_the_oldest_and_is_told_how_many() {
        let fanout = Arc::new(Fanout::default());
        let mut slow = fanout.subscribe();
        let mut fast = fanout.subscribe();
        let sent = EVENT_BUFFER as u32 + 10;
        for n in 1..=sent {
            fanout.send(turn(n));
            assert_eq!(turn_of(fast.try_recv()), n);
        }
        assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(10)));
        assert_eq!(turn_of(slow.try_recv()), 11);
        assert_eq!(fanout.lock().events.len(), EVENT_BUFFER - 1);
    }

    #[test]
    fn a_dropped_subscriber_holds_no_events_and_none_are_kept_without_one() {
        let fanout = Arc::new(Fanout::default());
        fanout.send(turn(1));
        assert!(fanout.lock().events.is_empty(), "nobody listens");
        let mut reader = fanout.subscribe();
        let dropped = fanout.subscribe();
        fanout.send(turn(2));
        fanout.send(turn(3));
        assert_eq!(turn_of(reader.try_recv()), 2);
        assert_eq!(fanout.lock().events.len(), 2, "the other has not read them");
        drop(dropped);
        assert_eq!(fanout.lock().events.len(), 1);
        drop(reader);
        assert!(fanout.lock().events.is_empty());
        assert!(!fanout.is_listened());
    }

    #[test]
    fn a_sole_subscriber_takes_a_burst_at_once_and_reads_it_in_order() {
        let fanout = Arc::new(Fanout::default());
        let mut events = fanout.subscribe();
        for n in 1..=5 {
            fanout.send(turn(n));
        }
        assert_eq!(turn_of(events.try_recv()), 1);
        assert!(fanout.lock().events.is_empty(), "the burst was taken");
        fanout.send(turn(6));
        let mut later = fanout.subscribe();
        fanout.send(turn(7));
        let read: Vec<u32> = (0..6).map(|_| turn_of(events.try_recv())).collect();
        assert_eq!(read, [2, 3, 4, 5, 6, 7]);
        assert_eq!(turn_of(later.try_recv()), 7);
        assert_eq!(events.try_recv(), Err(TryRecvError::Empty));
        fanout.publish(true);
        assert_eq!(events.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(later.try_recv(), Err(TryRecvError::Closed));
    }
}
