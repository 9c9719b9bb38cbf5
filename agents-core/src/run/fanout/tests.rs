//! The event log: publication, subscribers, lag and the end.

use std::sync::atomic::AtomicUsize;
use std::task::{Context, Wake};

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
