//! A restore that fails names where: the event's index and its ticket, both
//! from [`Dispatcher::restore`] and from a journal.

use std::sync::Arc;

use hotline_router::dispatch::{
    Change, Clock, DispatchConfig, Dispatcher, Event, EventKind, ManualClock, OpenError,
    RestoreError, Sink, SinkError,
};
use hotline_router::journal::{Journal, JournalError, JournalOptions};
use hotline_router::{Router, Ticket};
use parking_lot::Mutex;

const START: &str = "2024-11-20T08:00:00+08:00";
const HUJIALOU: &str = "street:110105003";

/// Keeps every event a runtime persists, in order.
#[derive(Default)]
struct Events(Mutex<Vec<Event>>);

impl Sink for Events {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        for change in changes {
            if let Change::Events { events, .. } = change {
                self.0.lock().extend(events.iter().cloned());
            }
        }
        Ok(())
    }
}

fn noise(id: &str, clock: &ManualClock) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(clock.now())
}

/// A real history: T1 and T2 submitted, T1 claimed by `w`.
fn history() -> Vec<Event> {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let events = Arc::new(Events::default());
    let d = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .sink(events.clone())
        .build();
    d.submit(noise("T1", &clock)).unwrap();
    d.submit(noise("T2", &clock)).unwrap();
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "T1");
    let events = events.0.lock().clone();
    events
}

fn restore(events: Vec<Event>) -> Result<Dispatcher, RestoreError> {
    let at = START.parse().unwrap();
    Dispatcher::restore(
        Router::beijing(),
        DispatchConfig::default(),
        ManualClock::new(at),
        events,
    )
}

#[test]
fn the_untouched_history_restores() {
    let events = history();
    assert_eq!(events.len(), 5, "received+dispatched twice, claimed");
    let d = restore(events).unwrap();
    assert_eq!(d.record("T1").unwrap().worker(), Some("w"));
}

#[test]
fn an_illegal_transition_names_its_index_and_ticket() {
    let mut events = history();
    // T2 is dispatched, not claimed: it cannot be responded to.
    let bad = Event {
        ticket: "T2".into(),
        seq: 2,
        at: events[4].at,
        kind: EventKind::Responded { worker: "w".into() },
    };
    events.insert(4, bad);
    let err = restore(events).unwrap_err();
    assert_eq!((err.index, err.ticket.as_str()), (4, "T2"));
    assert!(err.to_string().contains("event 4 (ticket T2)"), "{err}");
}

#[test]
fn an_event_out_of_sequence_names_its_index_and_ticket() {
    let mut events = history();
    // T1's claim renumbered past a gap.
    let last = events.len() - 1;
    events[last].seq += 1;
    let err = restore(events).unwrap_err();
    assert_eq!((err.index, err.ticket.as_str()), (last as u64, "T1"));
}

#[test]
fn an_event_for_an_unknown_ticket_names_its_index_and_ticket() {
    let mut events = history();
    let mut stray = events[1].clone();
    stray.ticket = "T9".into();
    events.insert(2, stray);
    let err = restore(events).unwrap_err();
    assert_eq!((err.index, err.ticket.as_str()), (2, "T9"));
}

#[test]
fn a_journal_record_that_does_not_fit_names_its_index_file_and_offset() {
    let dir =
        std::env::temp_dir().join(format!("hotline-test-restore-index-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let (d, _) = Dispatcher::builder(Router::beijing())
        .clock(clock.clone())
        .open_journal(&dir, JournalOptions::new())
        .unwrap();
    d.submit(noise("T1", &clock)).unwrap();
    d.submit(noise("T2", &clock)).unwrap();
    let at = d.record("T2").unwrap().received_at();
    drop(d);

    // A record in the journal's own shape whose event skips T1's history.
    let bad = Event {
        ticket: "T1".into(),
        seq: 7,
        at,
        kind: EventKind::Escalated,
    };
    let payload =
        serde_json::to_vec(&serde_json::json!({ "events": { "events": [bad] } })).unwrap();
    let (journal, _) =
        Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(())).unwrap();
    let lsn = journal.append(&[&payload]).unwrap();
    drop(journal);

    let err = Dispatcher::builder(Router::beijing())
        .clock(clock)
        .open_journal(&dir, JournalOptions::new())
        .unwrap_err();
    let OpenError::Journal(JournalError::Replay {
        file,
        offset,
        source,
    }) = &err
    else {
        panic!("expected a replay error, got {err:?}");
    };
    assert!(file.starts_with(&dir) && *offset > 0, "{err}");
    let restore = source
        .downcast_ref::<RestoreError>()
        .unwrap_or_else(|| panic!("no RestoreError under {err:?}"));
    // No snapshot: every record before it is one replayed item.
    assert_eq!((restore.index, restore.ticket.as_str()), (lsn, "T1"));
    std::fs::remove_dir_all(&dir).unwrap();
}
