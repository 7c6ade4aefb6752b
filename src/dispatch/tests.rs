//! Internals the public API cannot see: the deadline index, the escalated
//! set, the registry and its capacity count shrink as tickets close, are
//! purged or are refused, and a restore builds them as the live runtime has
//! them. Scenario tests of the public API live in `tests/`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex as StdMutex};

use jiff::SignedDuration;

use super::*;
use crate::router::Router;
use crate::ticket::Ticket;

const START: &str = "2024-11-20T08:00:00+08:00";
const HUJIALOU: &str = "street:110105003";
const TRIAGE: &str = "center:triage";

fn setup(config: DispatchConfig) -> (Dispatcher, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let d = Dispatcher::builder(Router::beijing())
        .config(config)
        .clock(clock.clone())
        .build();
    (d, clock)
}

fn noise(id: &str) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大").with_address("朝阳区呼家楼街道")
}

fn answers() -> Evaluation {
    Evaluation {
        responded: true,
        resolved: true,
        satisfied: false,
    }
}

/// Entries in the deadline index.
fn deadlines(d: &Dispatcher) -> usize {
    d.shared.deadlines.len()
}

/// Tickets in the escalated set.
fn escalated(d: &Dispatcher) -> usize {
    d.shared.escalated.len()
}

/// Slots in the registry.
fn registry(d: &Dispatcher) -> usize {
    d.shared.records.len()
}

/// The registry's capacity count.
fn total(d: &Dispatcher) -> usize {
    d.shared.total.load(Ordering::Acquire)
}

/// Open tickets per agency, as the agencies' counters say.
fn open_counts(d: &Dispatcher) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = d
        .shared
        .agencies
        .iter()
        .map(|q| (q.key().to_string(), q.open.load(Ordering::Acquire)))
        .filter(|(_, n)| *n > 0)
        .collect();
    counts.sort();
    counts
}

/// Leases that still count: those of claimed tickets, at their version.
fn live_leases(d: &Dispatcher) -> usize {
    d.shared
        .leases
        .iter()
        .filter(|e| {
            let (key, version) = e.value();
            d.record(key).is_some_and(|r| {
                r.state() == State::Claimed
                    && r.version() == *version
                    && r.lease_until() == Some(e.key().0)
            })
        })
        .count()
}

#[test]
fn closed_tickets_leave_the_deadline_index() {
    const N: usize = 40;
    let (d, _clock) = setup(DispatchConfig::default());
    for i in 0..N {
        d.submit(noise(&format!("T{i:02}"))).unwrap();
    }
    assert_eq!(deadlines(&d), N);
    // Moving a ticket keeps its one entry (its deadline does not change).
    for i in 0..5 {
        d.reassign(format!("T{i:02}"), TRIAGE, "lead", "triage it")
            .unwrap();
    }
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.return_ticket(&c.id, "w", "not ours").unwrap();
    assert_eq!(deadlines(&d), N);

    let mut closed = 0usize;
    let agencies: Vec<String> = d
        .shared
        .agencies
        .iter()
        .map(|q| q.key().to_string())
        .collect();
    for agency in &agencies {
        while let Some(c) = d.claim(agency, "w").unwrap() {
            if closed.is_multiple_of(2) {
                d.respond(&c.id, "w").unwrap();
            }
            d.resolve(&c.id, "w", "done").unwrap();
            closed += 1;
            assert_eq!(
                deadlines(&d),
                N - closed,
                "resolving {} left its entry",
                c.id
            );
            if closed.is_multiple_of(3) {
                d.evaluate(&c.id, answers()).unwrap();
                assert_eq!(deadlines(&d), N - closed, "evaluate adds nothing");
            }
        }
    }
    assert_eq!(closed, N);
    assert_eq!(deadlines(&d), 0);
    // Nothing left for a scan far in the future to clean up.
    let far = d
        .now()
        .checked_add(SignedDuration::from_hours(24 * 365))
        .unwrap();
    assert!(d.overdue(far).is_empty());
    assert_eq!(escalated(&d), 0);
}

#[test]
fn a_resolved_escalated_ticket_leaves_the_escalated_set() {
    let (d, clock) = setup(DispatchConfig::default());
    for id in ["A", "B", "C"] {
        d.submit(noise(id)).unwrap();
    }
    let deadline = d.record("A").unwrap().deadline();
    clock.set(deadline.checked_add(SignedDuration::from_mins(1)).unwrap());
    assert_eq!(d.overdue(clock.now()).len(), 3);
    assert_eq!((deadlines(&d), escalated(&d)), (0, 3));

    let a = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&a.id, "w", "done").unwrap();
    assert_eq!(
        escalated(&d),
        2,
        "resolved: gone at once, not at the next scan"
    );
    // A move keeps it open, and escalated.
    let b = d.claim(HUJIALOU, "w").unwrap().unwrap();
    let moved = d.return_ticket(&b.id, "w", "not ours").unwrap();
    assert_eq!(escalated(&d), 2);
    let b = d.claim(&moved.agency, "w2").unwrap().unwrap();
    d.respond(&b.id, "w2").unwrap();
    d.resolve(&b.id, "w2", "done").unwrap();
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "done").unwrap();
    assert_eq!((deadlines(&d), escalated(&d)), (0, 0));
    assert!(d.overdue(clock.now()).is_empty());
}

#[test]
fn purged_tickets_free_their_registry_entries_and_capacity() {
    const N: usize = 30;
    let (d, clock) = setup(DispatchConfig {
        capacity_total: N,
        ..DispatchConfig::default()
    });
    for i in 0..N {
        d.submit(noise(&format!("P{i:02}"))).unwrap();
    }
    assert!(matches!(
        d.submit(noise("over")),
        Err(SubmitError::Full { .. })
    ));
    while let Some(c) = d.claim(HUJIALOU, "w").unwrap() {
        d.resolve(&c.id, "w", "done").unwrap();
        d.evaluate(&c.id, answers()).unwrap();
    }
    assert_eq!(
        (registry(&d), total(&d)),
        (N, N),
        "closed tickets still count"
    );

    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(d.purge_closed(clock.now()).unwrap(), N);
    assert_eq!((registry(&d), total(&d)), (0, 0));
    assert_eq!((deadlines(&d), escalated(&d)), (0, 0));
    assert!(open_counts(&d).is_empty());
    assert_eq!(d.shared.purged.read().len(), N);

    // The room is there again, exactly N tickets of it.
    for i in 0..N {
        d.submit(noise(&format!("Q{i:02}"))).unwrap();
    }
    assert!(matches!(
        d.submit(noise("over again")),
        Err(SubmitError::Full { .. })
    ));
    assert_eq!((registry(&d), total(&d)), (N, N));
}

/// Refuses everything after `budget` calls.
struct Budget(StdMutex<usize>);

impl Sink for Budget {
    fn persist(&self, _changes: &[Change<'_>]) -> Result<(), SinkError> {
        let mut left = self.0.lock().unwrap();
        if *left == 0 {
            return Err(SinkError::new("out of budget"));
        }
        *left -= 1;
        Ok(())
    }
}

#[test]
fn a_refused_submit_frees_its_slot_and_capacity() {
    let d = Dispatcher::builder(Router::beijing())
        .clock(ManualClock::new(START.parse().unwrap()))
        .sink(Arc::new(Budget(StdMutex::new(1))))
        .build();
    d.submit(noise("A")).unwrap();
    let refused = d.submit_many([noise("B"), noise("C")]);
    assert!(
        refused.iter().all(Result::is_err),
        "one persist: both refused"
    );
    assert!(matches!(
        d.submit(noise("D")),
        Err(SubmitError::Sink { .. })
    ));
    assert_eq!((registry(&d), total(&d), deadlines(&d)), (1, 1, 1));
    assert_eq!(open_counts(&d), [(HUJIALOU.to_string(), 1)]);
}

/// Keeps every event, as a journal would.
#[derive(Default)]
struct Keep(StdMutex<Vec<Event>>);

impl Sink for Keep {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        let mut log = self.0.lock().unwrap();
        for change in changes {
            if let Change::Events { events, .. } = change {
                log.extend(events.iter().cloned());
            }
        }
        Ok(())
    }
}

#[test]
fn a_restore_builds_the_indexes_the_live_runtime_has() {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let keep = Arc::new(Keep::default());
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .sink(keep.clone())
        .build();
    for i in 0..12 {
        d.submit(noise(&format!("N{i:02}"))).unwrap();
    }
    for i in 0..3 {
        let urgent = Ticket::new(format!("U{i}"), "电梯坏了，有人被困在里面")
            .with_address("朝阳区呼家楼街道");
        d.submit(urgent).unwrap();
    }
    // Claimed, responded, resolved, evaluated, moved, and a lease that ran
    // out; then the urgent tickets' deadlines pass.
    let claims: Vec<Claim> = (0..9)
        .map(|_| d.claim(HUJIALOU, "w").unwrap().unwrap())
        .collect();
    for (k, c) in claims.iter().enumerate() {
        match k % 5 {
            0 => d.respond(&c.id, "w").unwrap(),
            1 => d.resolve(&c.id, "w", "done").unwrap(),
            2 => {
                d.resolve(&c.id, "w", "done").unwrap();
                d.evaluate(&c.id, answers()).unwrap();
            }
            3 => drop(d.reassign(&c.id, TRIAGE, "lead", "x").unwrap()),
            _ => {}
        }
    }
    clock.advance(SignedDuration::from_mins(31));
    assert!(d.expire_leases(clock.now()) > 0);
    d.claim(HUJIALOU, "w2").unwrap().unwrap(); // a lease still running
    let urgent = d.record("U0").unwrap().deadline();
    clock.set(urgent.checked_add(SignedDuration::from_mins(1)).unwrap());
    assert!(!d.overdue(clock.now()).is_empty());

    let events = keep.0.lock().unwrap().clone();
    let restored = Dispatcher::builder(Router::beijing())
        .clock(ManualClock::new(clock.now()))
        .restore(events)
        .unwrap();
    let indexes = |d: &Dispatcher| {
        (
            registry(d),
            total(d),
            deadlines(d),
            escalated(d),
            live_leases(d),
            open_counts(d),
        )
    };
    let live = indexes(&d);
    assert!(live.2 > 0 && live.3 > 0 && live.4 > 0, "{live:?}");
    assert_eq!(indexes(&restored), live);
    // Both scan the same deadlines the same way from here on.
    let later = clock
        .now()
        .checked_add(SignedDuration::from_hours(24 * 30))
        .unwrap();
    assert_eq!(restored.overdue(later), d.overdue(later));
    assert_eq!(indexes(&restored), indexes(&d));
}

/// The last handle is dropped while a background snapshot is still
/// running: the snapshot thread's clone keeps the journal, and its lock,
/// alive, and reopening the directory fails with `Locked`.
///
/// The snapshot is held on ticket X's slot, locked here without any handle
/// on the runtime (as an operation in flight holds it). The drop and the
/// reopen run on their own thread, so that a fix that makes the drop wait
/// for the snapshot does not deadlock with the slot held here.
#[test]
#[cfg(feature = "journal")]
fn regression_the_journal_is_released_when_the_last_handle_is_dropped() {
    use crate::journal::{JournalOptions, SyncPolicy};
    use std::time::Duration;

    let dir = std::env::temp_dir().join(format!("hotline-unit-release-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let options = JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_secs(3600)));
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let (d, _) = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .snapshot_every(1)
        .open_journal(&dir, options.clone())
        .unwrap();
    d.submit(noise("X")).unwrap();
    let slot = d.slot("X").unwrap();
    let guard = slot.lock_arc();
    // The trigger is looked at every 1,024 operations.
    for i in 0..5_000 {
        if d.shared.snapshotting.load(Ordering::Acquire) {
            break;
        }
        d.submit(noise(&format!("T{i}"))).unwrap();
    }
    assert!(d.shared.snapshotting.load(Ordering::Acquire));

    let reopen = {
        let dir = dir.clone();
        std::thread::spawn(move || {
            drop(d);
            Dispatcher::builder(Router::beijing())
                .clock(clock)
                .open_journal(&dir, options)
                .map(drop)
                .map_err(|e| e.to_string())
        })
    };
    // Either the reopen answers at once, or the drop waits for the
    // snapshot, which waits for X: give it a moment to show which.
    for _ in 0..1_000 {
        if reopen.is_finished() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(guard);
    let result = reopen.join().unwrap();
    // Let the snapshot thread finish before the directory goes.
    wait_until_unlocked(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(result, Ok(()), "reopened after the last handle was dropped");
}

/// Waits (bounded) until no runtime holds the journal in `dir`.
#[cfg(feature = "journal")]
fn wait_until_unlocked(dir: &std::path::Path) {
    use crate::journal::{Journal, JournalError, JournalOptions};
    for _ in 0..30_000 {
        match Journal::open(dir, JournalOptions::new(), |_| Ok::<_, JournalError>(())) {
            Err(JournalError::Locked { .. }) => {
                std::thread::sleep(std::time::Duration::from_millis(1))
            }
            _ => return,
        }
    }
    panic!("the journal in {} stayed locked", dir.display());
}
