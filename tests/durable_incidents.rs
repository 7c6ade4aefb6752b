//! Incidents across restarts and crashes: a runtime reopened from its
//! journal (log alone, or snapshot and log) has the same incidents, caller
//! counts and records, and its linker is fed the open tickets again; an
//! operation on a head cut off before its members' records (one sink call,
//! several journal records) is completed on restore, through the sink.
//!
//! Time is a `ManualClock`; nothing sleeps. Directories live under Cargo's
//! per-target temporary directory, one per test.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use hotline_router::dispatch::{
    Clock, Dispatcher, Event, EventKind, ManualClock, OpenError, State, TicketRecord,
};
use hotline_router::journal::{Journal, JournalError, JournalOptions, Replayed};
use hotline_router::Ticket;
use jiff::SignedDuration;

mod common;
use common::router;
use common::{segments, Log, PrefixLinker};

const START: &str = "2024-11-20T08:00:00+08:00";
const WATER: &str = "city:water";

fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("durable_incidents")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn linker() -> (PrefixLinker, Calls) {
    let linker = PrefixLinker::new(SignedDuration::from_hours(2), 4);
    let calls = linker.calls.clone();
    (linker, calls)
}

/// What the linker was told, call by call.
type Calls = Arc<Mutex<Vec<String>>>;

/// Opens the journal in `dir` with a fresh linker; returns the linker's
/// calls and whether a torn tail was cut, too.
fn open(dir: &Path, clock: &Arc<ManualClock>) -> Result<(Dispatcher, Calls, bool), OpenError> {
    let (linker, calls) = linker();
    let (d, recovery) = Dispatcher::builder(router())
        .clock(clock.clone())
        .linker(linker)
        .open_journal(dir, JournalOptions::new())?;
    Ok((d, calls, recovery.torn_tail.is_some()))
}

fn water(id: &str, words: &str) -> Ticket {
    Ticket::new(id, format!("水管爆了，{words}")).with_address("朝阳区呼家楼街道")
}

fn noise(id: &str) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大").with_address("朝阳区呼家楼街道")
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

/// Every record (history included), every incident and its callers.
fn state(d: &Dispatcher) -> Vec<String> {
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    d.for_each_record(|r: &TicketRecord| {
        ids.push(r.ticket().id.clone());
        lines.push(format!(
            "{} {:?} agency={} incident={:?} worker={:?} deadline={} history={:?}",
            r.ticket().id,
            r.state(),
            r.agency(),
            r.incident(),
            r.worker(),
            r.deadline(),
            r.history()
        ));
    });
    for id in ids {
        lines.push(format!(
            "{id}: {:?} callers={:?}",
            d.incident(&id),
            d.callers(&id)
        ));
    }
    lines.sort();
    lines.push(format!("{:?} open_at={}", d.counts(), d.open_at(WATER)));
    lines
}

#[test]
fn a_restart_keeps_incidents_callers_and_the_linker() {
    let dir = fresh_dir("restart");
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let (d, _, _) = open(&dir, &clock).unwrap();
    d.submit(water("T1", "门口全是水")).unwrap();
    clock.advance(mins(10));
    d.submit(water("T2", "马路上都是水")).unwrap();
    clock.advance(mins(2));
    d.submit(noise("N1")).unwrap();
    clock.advance(mins(13));
    d.submit(water("T3", "楼里停水了")).unwrap();
    d.split("T3", "lead", "another main").unwrap();
    assert_eq!(d.claim(WATER, "w1").unwrap().unwrap().callers, 2);
    let before = state(&d);
    drop(d);

    // From the log alone.
    let (d, calls, _) = open(&dir, &clock).unwrap();
    assert_eq!(state(&d), before);
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "restore T1 -",
            "restore T2 T1",
            "restore N1 -",
            "restore T3 -"
        ],
        "received order, a head before its members"
    );
    // The linker carries on where it was: T1 is the earliest open incident.
    clock.advance(mins(5));
    assert_eq!(
        d.submit(water("T5", "又冒水了"))
            .unwrap()
            .incident
            .as_deref(),
        Some("T1")
    );
    assert_eq!(d.callers("T1"), Some(3));

    // From a snapshot and the log after it.
    d.checkpoint().unwrap().unwrap();
    d.resolve("T1", "w1", "main repaired").unwrap();
    let before = state(&d);
    drop(d);
    let (d, calls, _) = open(&dir, &clock).unwrap();
    assert_eq!(state(&d), before);
    for id in ["T1", "T2", "T5"] {
        assert_eq!(d.record(id).unwrap().state(), State::Resolved, "{id}");
    }
    assert_eq!(
        *calls.lock().unwrap(),
        ["restore N1 -", "restore T3 -"],
        "open tickets only"
    );
    drop(d);
    fs::remove_dir_all(&dir).unwrap();
}

/// Lengths of the journal's log records, in order.
fn record_lengths(dir: &Path) -> Vec<usize> {
    let mut lengths = Vec::new();
    let (journal, _) = Journal::open(dir, JournalOptions::new(), |r| {
        if let Replayed::Log { payload, .. } = r {
            lengths.push(payload.len());
        }
        Ok::<_, JournalError>(())
    })
    .unwrap();
    drop(journal);
    lengths
}

#[test]
fn a_crash_between_the_head_and_its_members_records_is_completed() {
    let dir = fresh_dir("crash");
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let (d, _, _) = open(&dir, &clock).unwrap();
    d.submit(water("T1", "门口全是水")).unwrap();
    clock.advance(mins(10));
    d.submit(water("T2", "马路上都是水")).unwrap();
    d.submit(water("T3", "楼里停水了")).unwrap();
    d.claim(WATER, "w1").unwrap().unwrap();
    d.resolve("T1", "w1", "main repaired").unwrap();
    drop(d);

    // The resolution is three records written together: T1's, T2's, T3's.
    // The process dies in the middle of T2's: T1's is whole, the rest torn.
    let lengths = record_lengths(&dir);
    let frame = |len: usize| 16 + len as u64;
    let tail: u64 = lengths[lengths.len() - 2..].iter().map(|l| frame(*l)).sum();
    let segment = segments(&dir).pop().unwrap();
    let file = fs::OpenOptions::new().write(true).open(&segment).unwrap();
    let len = file.metadata().unwrap().len();
    file.set_len(len - tail + 5).unwrap();
    drop(file);

    clock.advance(mins(1));
    let (d, _, torn) = open(&dir, &clock).unwrap();
    assert!(torn, "the torn record is cut off");
    for id in ["T1", "T2", "T3"] {
        let r = d.record(id).unwrap();
        assert_eq!(
            (r.state(), r.worker()),
            (State::Resolved, Some("w1")),
            "{id}"
        );
        let last = &r.history().last().unwrap().1;
        assert!(
            matches!(last, EventKind::Resolved { outcome, .. } if outcome == "main repaired"),
            "{id}: {last:?}"
        );
    }
    assert_eq!(
        d.record("T2").unwrap().resolved_at(),
        Some(clock.now()),
        "completed on restore"
    );
    let completed = state(&d);
    drop(d);
    // The completions went to the journal: the next restore agrees.
    let (d, _, torn) = open(&dir, &clock).unwrap();
    assert!(!torn);
    assert_eq!(state(&d), completed);
    drop(d);
    fs::remove_dir_all(&dir).unwrap();
}

/// A burst of three, T1 claimed by w1, and what `act` does, on an event
/// log: the events and the runtime's state.
fn logged(act: impl FnOnce(&Dispatcher)) -> (Vec<Event>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let log = Arc::new(Log::default());
    let d = Dispatcher::builder(router())
        .clock(clock.clone())
        .sink(log.clone())
        .linker(linker().0)
        .build();
    d.submit(water("T1", "门口全是水")).unwrap();
    clock.advance(mins(10));
    d.submit(water("T2", "马路上都是水")).unwrap();
    d.submit(water("T3", "楼里停水了")).unwrap();
    d.claim(WATER, "w1").unwrap().unwrap();
    act(&d);
    (log.events(), clock)
}

/// Restores from `events` onto a fresh event log: the runtime, and what the
/// restore itself sent to the sink.
fn restore(events: Vec<Event>, clock: &ManualClock) -> (Dispatcher, Vec<Event>) {
    let log = Arc::new(Log::default());
    let d = Dispatcher::builder(router())
        .clock(ManualClock::new(clock.now()))
        .sink(log.clone())
        .restore(events)
        .unwrap();
    (d, log.events())
}

fn members_only(kind: fn(&EventKind) -> bool) -> impl Fn(&Event) -> bool {
    move |e| !(matches!(e.ticket.as_str(), "T2" | "T3") && kind(&e.kind))
}

#[test]
fn cut_off_incident_operations_are_completed_through_the_sink() {
    // Resolved: the members' events are lost.
    let (events, clock) = logged(|d| d.resolve("T1", "w1", "repaired").unwrap());
    let kept = events
        .into_iter()
        .filter(members_only(|k| matches!(k, EventKind::Resolved { .. })))
        .collect();
    let (d, sent) = restore(kept, &clock);
    for id in ["T2", "T3"] {
        let r = d.record(id).unwrap();
        assert_eq!(
            (r.state(), r.worker()),
            (State::Resolved, Some("w1")),
            "{id}"
        );
    }
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent
        .iter()
        .all(|e| matches!(&e.kind, EventKind::Resolved { outcome, .. } if outcome == "repaired")));

    // Returned: the members did not follow.
    let (events, clock) = logged(|d| drop(d.return_ticket("T1", "w1", "not ours").unwrap()));
    let kept = events
        .into_iter()
        .filter(|e| !(e.ticket != "T1" && e.seq > 1))
        .collect();
    let (d, sent) = restore(kept, &clock);
    let head = d.record("T1").unwrap();
    assert_ne!(head.agency(), WATER);
    for id in ["T2", "T3"] {
        let r = d.record(id).unwrap();
        assert_eq!(
            (r.state(), r.agency()),
            (State::Linked, head.agency()),
            "{id}"
        );
    }
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(d.callers("T1"), Some(3));

    // The head is not in the log at all: nothing to follow, the members
    // become work items of their own.
    let (events, clock) = logged(|_| {});
    let kept = events.into_iter().filter(|e| e.ticket != "T1").collect();
    let (d, sent) = restore(kept, &clock);
    for id in ["T2", "T3"] {
        let r = d.record(id).unwrap();
        assert_eq!(
            (r.state(), r.agency(), r.incident()),
            (State::Dispatched, WATER, None),
            "{id}"
        );
        assert!(matches!(&r.history()[2].1, EventKind::Split { by, .. } if by == "restore"));
    }
    assert_eq!(sent.len(), 4, "Split and Dispatched each: {sent:?}");
    let claimed = d.claim(WATER, "w2").unwrap().unwrap();
    assert_eq!((claimed.id.as_str(), claimed.callers), ("T2", 1));

    // A split cut before its Dispatched is dispatched as the split would.
    let (events, clock) = logged(|d| drop(d.split("T3", "lead", "another main").unwrap()));
    let last = events.len() - 1;
    assert!(matches!(events[last].kind, EventKind::Dispatched { .. }));
    let (d, sent) = restore(events[..last].to_vec(), &clock);
    let r = d.record("T3").unwrap();
    assert_eq!(
        (r.state(), r.agency(), r.incident()),
        (State::Dispatched, WATER, None)
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(d.callers("T1"), Some(2));
}
