//! A sink that fails refuses the operation and changes nothing; the
//! runtime defects of the durability issue, one test each.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use hotline_router::dispatch::{
    Change, Clock, DispatchConfig, Dispatcher, Evaluation, Event, EventKind, ManualClock, OpError,
    Sink, SinkError, State, SubmitError,
};
use hotline_router::{Router, Ticket};
use jiff::{SignedDuration, Timestamp};

const START: &str = "2024-11-20T08:00:00+08:00";
const HUJIALOU: &str = "street:110105003";

fn noise(id: &str) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大").with_address("朝阳区呼家楼街道")
}

/// What the sink does with the next call.
const ACCEPT: u8 = 0;
const FAIL: u8 = 1;
const PANIC: u8 = 2;

/// Keeps events like a journal would, and fails or panics on demand.
#[derive(Default)]
struct Flaky {
    mode: AtomicU8,
    events: Mutex<Vec<Event>>,
}

impl Sink for Flaky {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        match self.mode.load(Ordering::SeqCst) {
            FAIL => {
                let disk = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
                Err(SinkError::from_source(disk))
            }
            PANIC => panic!("the broker is gone"),
            _ => {
                let mut log = self.events.lock().unwrap();
                for change in changes {
                    if let Change::Events { events, .. } = change {
                        log.extend(events.iter().cloned());
                    }
                }
                Ok(())
            }
        }
    }
}

fn setup() -> (Dispatcher, Arc<ManualClock>, Arc<Flaky>) {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let sink = Arc::new(Flaky::default());
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .sink(sink.clone())
        .build();
    (d, clock, sink)
}

/// Everything observable about the runtime.
fn state(d: &Dispatcher) -> String {
    let mut records = Vec::new();
    d.for_each_record(|r| {
        records.push(format!(
            "{} {:?} {} {:?} {}",
            r.ticket().id,
            r.state(),
            r.agency(),
            r.worker(),
            r.history().len()
        ))
    });
    records.sort();
    format!(
        "{records:?} {:?} {} {} {}",
        d.counts(),
        d.open_at(HUJIALOU),
        d.open_at("center:triage"),
        d.open_at("district:110105:gov"),
    )
}

/// Runs `op` with the sink failing (then panicking): refused with a sink
/// error, and nothing observable changed; the event log holds nothing new.
fn refused_without_change<T: std::fmt::Debug>(
    d: &Dispatcher,
    sink: &Flaky,
    mut op: impl FnMut() -> Result<T, OpError>,
) {
    for mode in [FAIL, PANIC] {
        let (before, logged) = (state(d), sink.events.lock().unwrap().len());
        sink.mode.store(mode, Ordering::SeqCst);
        let result = op();
        sink.mode.store(ACCEPT, Ordering::SeqCst);
        match result {
            Err(OpError::Sink(e)) => assert_eq!(e.is_panic(), mode == PANIC, "{e}"),
            other => panic!("expected a sink error, got {other:?}"),
        }
        assert_eq!(state(d), before, "mode {mode}: the runtime changed");
        assert_eq!(sink.events.lock().unwrap().len(), logged);
    }
}

#[test]
fn a_failing_sink_refuses_every_operation_and_changes_nothing() {
    let (d, clock, sink) = setup();

    // Submit: the ticket comes back, its id stays free.
    for mode in [FAIL, PANIC] {
        sink.mode.store(mode, Ordering::SeqCst);
        let err = d.submit(noise("T1")).unwrap_err();
        sink.mode.store(ACCEPT, Ordering::SeqCst);
        let SubmitError::Sink { error, ticket } = err else {
            panic!("expected a sink error");
        };
        assert_eq!(error.is_panic(), mode == PANIC);
        assert_eq!(ticket.id, "T1");
        assert!(d.record("T1").is_none());
        assert_eq!((d.counts().total, d.open_at(HUJIALOU)), (0, 0));
    }
    d.submit(noise("T1")).unwrap();
    d.submit(noise("T2")).unwrap();

    // A refused claim leaves the ticket on the list, for the next claim.
    refused_without_change(&d, &sink, || d.claim(HUJIALOU, "w"));
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "T1");
    refused_without_change(&d, &sink, || d.respond("T1", "w"));
    d.respond("T1", "w").unwrap();
    refused_without_change(&d, &sink, || d.return_ticket("T1", "w", "not ours"));
    refused_without_change(&d, &sink, || d.reassign("T1", "center:triage", "lead", "x"));
    refused_without_change(&d, &sink, || d.resolve("T1", "w", "done"));
    d.resolve("T1", "w", "done").unwrap();
    let answers = Evaluation {
        responded: true,
        resolved: true,
        satisfied: true,
    };
    refused_without_change(&d, &sink, || d.evaluate("T1", answers));
    d.evaluate("T1", answers).unwrap();

    // Escalation and lease expiry are retried after a refusal.
    d.claim(HUJIALOU, "w").unwrap().unwrap();
    clock.advance(SignedDuration::from_hours(24 * 30));
    sink.mode.store(FAIL, Ordering::SeqCst);
    assert_eq!(d.expire_leases(clock.now()), 0);
    assert!(d.overdue(clock.now()).is_empty());
    sink.mode.store(ACCEPT, Ordering::SeqCst);
    assert_eq!(d.expire_leases(clock.now()), 1, "the lease was still due");
    assert_eq!(
        d.overdue(clock.now()).len(),
        1,
        "the deadline was still due"
    );

    // Purge: refused, the ticket stays.
    sink.mode.store(FAIL, Ordering::SeqCst);
    assert!(matches!(d.purge_closed(clock.now()), Err(OpError::Sink(_))));
    sink.mode.store(ACCEPT, Ordering::SeqCst);
    assert!(d.record("T1").is_some());

    // What the sink accepted rebuilds exactly this runtime.
    let events = sink.events.lock().unwrap().clone();
    let restored = Dispatcher::builder(Router::beijing())
        .clock(ManualClock::new(clock.now()))
        .restore(events)
        .unwrap();
    assert_eq!(state(&restored), state(&d));
}

#[test]
fn a_panicking_sink_does_not_poison_the_ticket() {
    let (d, _clock, sink) = setup();
    d.submit(noise("T1")).unwrap();
    sink.mode.store(PANIC, Ordering::SeqCst);
    assert!(d.claim(HUJIALOU, "w").is_err());
    sink.mode.store(ACCEPT, Ordering::SeqCst);
    // The ticket is neither claimed without a lease nor lost.
    let claim = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&claim.id, "w", "done").unwrap();
    assert_eq!(d.record("T1").unwrap().state(), State::Resolved);
}

#[test]
fn regression_a_purged_id_cannot_be_submitted_again() {
    let (d, clock, _sink) = setup();
    d.submit(noise("T1")).unwrap();
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "done").unwrap();
    let answers = Evaluation {
        responded: true,
        resolved: true,
        satisfied: true,
    };
    d.evaluate("T1", answers).unwrap();
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(d.purge_closed(clock.now()).unwrap(), 1);
    assert!(d.record("T1").is_none());
    let err = d.submit(noise("T1")).unwrap_err();
    assert!(matches!(err, SubmitError::Purged(_)), "{err}");
    assert_eq!(d.counts().total, 0);
}

#[test]
fn regression_received_at_far_from_the_clock_is_refused() {
    let (d, clock, _sink) = setup();
    let in_1900: Timestamp = "1900-01-01T00:00:00Z".parse().unwrap();
    let err = d
        .submit(noise("old").with_received_at(in_1900))
        .unwrap_err();
    assert!(matches!(err, SubmitError::ReceivedAt { .. }), "{err}");
    let tomorrow = clock
        .now()
        .checked_add(SignedDuration::from_hours(24))
        .unwrap();
    assert!(d.submit(noise("ahead").with_received_at(tomorrow)).is_err());
    // An hour-old ticket (taken during an outage) is fine, and first in line.
    let hour_ago = clock
        .now()
        .checked_sub(SignedDuration::from_hours(1))
        .unwrap();
    d.submit(noise("now")).unwrap();
    d.submit(noise("late").with_received_at(hour_ago)).unwrap();
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "late");
    assert_eq!(d.counts().total, 2);
}

#[test]
fn regression_claim_on_an_unknown_agency_is_an_error() {
    let (d, _clock, _sink) = setup();
    assert!(matches!(
        d.claim("street:11010500З", "w"), // a Cyrillic З
        Err(OpError::UnknownAgency(_))
    ));
    // A known agency with nothing queued is just empty.
    assert!(d.claim(HUJIALOU, "w").unwrap().is_none());
}

#[test]
fn regression_a_clock_going_backwards_cannot_make_a_late_ticket_on_time() {
    let (d, clock, _sink) = setup();
    d.submit(noise("T1")).unwrap();
    let deadline = d.record("T1").unwrap().deadline();
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    clock.set(deadline.checked_add(SignedDuration::from_hours(1)).unwrap());
    d.respond(&c.id, "w").unwrap();
    clock.set(START.parse().unwrap()); // back before the ticket was received
    d.resolve(&c.id, "w", "done").unwrap();
    let r = d.record("T1").unwrap();
    assert!(r.resolved_at().unwrap() > deadline, "resolved late");
    assert!(r.resolved_at().unwrap() >= r.responded_at().unwrap());
    assert!(d.now() > deadline);
}

#[test]
fn regression_moves_per_ticket_are_bounded() {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let config = DispatchConfig::default().max_moves(5);
    let d = Dispatcher::builder(Router::beijing())
        .config(config)
        .clock(clock.clone())
        .build();
    d.submit(noise("T1")).unwrap();
    let targets = ["center:triage", HUJIALOU];
    for i in 0..5 {
        d.reassign("T1", targets[i % 2], "lead", "ping-pong")
            .unwrap();
    }
    let err = d
        .reassign("T1", "center:triage", "lead", "again")
        .unwrap_err();
    assert_eq!(
        err,
        OpError::TooManyMoves {
            ticket: "T1".into(),
            limit: 5
        }
    );
    let r = d.record("T1").unwrap();
    assert_eq!((r.moves(), r.history().len()), (5, 12));
    // The holder can still handle it.
    let agency = r.agency().to_string();
    let c = d.claim(&agency, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "done").unwrap();
}

#[test]
fn regression_a_callback_of_for_each_record_may_call_the_dispatcher() {
    let (d, _clock, _sink) = setup();
    for i in 0..50 {
        d.submit(noise(&format!("T{i}"))).unwrap();
    }
    let mut n = 0;
    d.for_each_record(|r| {
        // Submits land in the shards being walked: this deadlocked when the
        // walk held the registry's shard locks.
        d.submit(noise(&format!("{}-again", r.ticket().id)))
            .unwrap();
        assert!(d.open_at(HUJIALOU) > 0);
        n += 1;
    });
    assert!(n >= 50);
    assert!(d.counts().total >= 100);
}

/// Cut an operation off after its first event: restore completes it, and
/// the ticket can be acted on again.
#[test]
fn regression_operations_cut_off_midway_are_completed_on_restore() {
    let (d, clock, sink) = setup();
    for id in ["R", "A", "S"] {
        d.submit(noise(id)).unwrap();
    }
    for _ in 0..2 {
        d.claim(HUJIALOU, "w").unwrap().unwrap();
    }
    d.return_ticket("R", "w", "not ours").unwrap();
    d.reassign("A", "center:triage", "lead", "by hand").unwrap();
    let mut events = sink.events.lock().unwrap().clone();
    // Drop the Dispatched that follows each Returned and Reassigned, and S's.
    let mut keep = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let cut = matches!(e.kind, EventKind::Dispatched { .. })
            && (e.ticket == "S"
                || matches!(
                    events[i - 1].kind,
                    EventKind::Returned { .. } | EventKind::Reassigned { .. }
                ));
        if !cut {
            keep.push(e.clone());
        }
    }
    events = keep;
    let completed = Arc::new(Flaky::default());
    let restored = Dispatcher::builder(Router::beijing())
        .clock(ManualClock::new(clock.now()))
        .sink(completed.clone())
        .restore(events)
        .unwrap();
    for id in ["R", "A", "S"] {
        let r = restored.record(id).unwrap();
        assert_eq!(r.state(), State::Dispatched, "{id}");
    }
    // Returned: to the next agency, as a live return; reassigned: back.
    let r_agency = restored.record("R").unwrap().agency().to_string();
    assert_ne!(r_agency, HUJIALOU);
    assert_eq!(restored.record("A").unwrap().agency(), HUJIALOU);
    for agency in [r_agency.as_str(), HUJIALOU] {
        while let Some(c) = restored.claim(agency, "w2").unwrap() {
            restored.resolve(&c.id, "w2", "done").unwrap();
        }
    }
    for id in ["R", "A", "S"] {
        assert_eq!(
            restored.record(id).unwrap().state(),
            State::Resolved,
            "{id}"
        );
    }
    // The completions went to the sink, so the next restore agrees.
    let dispatched = completed
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Dispatched { .. }))
        .count();
    assert_eq!(dispatched, 3, "one completion per ticket");
}
