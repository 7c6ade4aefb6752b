//! The ticket lifecycle as an explicit table: every reachable situation ×
//! every event kind, legal or not, and where the legal ones lead.
//!
//! The table below is the spec. It is written by hand from the diagram in
//! `src/dispatch/lifecycle.rs` and the `# Errors` sections of the
//! `Dispatcher` methods, never computed by calling `apply`:
//!
//! * submit: Received → Dispatched, and nothing else may follow Received
//!   (it exists only between the two events of one submit);
//! * claim: Dispatched → Claimed; the lease lapses: Claimed → Dispatched;
//! * respond: Claimed → Responded (only once, and only while claimed);
//! * resolve: Claimed or Responded → Resolved (`resolve` errors only when
//!   "not claimed, or claimed by another worker");
//! * return (退单): Claimed or Responded → between agencies;
//! * reassign: any open ticket on a work list (Dispatched, Claimed,
//!   Responded) → between agencies (`reassign` errors when "the ticket is
//!   closed");
//! * between agencies (right after Returned or Reassigned): only a
//!   Dispatched may follow, and a Dispatched may follow nothing else but
//!   Received;
//! * Escalated: a flag, set once, on an open ticket that is on a work list;
//!   it survives every later transition;
//! * evaluate: Resolved → Evaluated, and nothing follows Evaluated;
//! * join an incident (at submit, instead of a dispatch): Received → Linked;
//!   a member follows its own head only (Linked → Linked, same incident),
//!   is resolved with it (Linked → Resolved), or is split off: Linked →
//!   between agencies (a Dispatched follows). A member is on no work list:
//!   it is not claimed, escalated, returned or reassigned.

use hotline_router::dispatch::{
    Event, EventKind, Link, Routing, State, TicketRecord, TransitionError,
};
use hotline_router::{Priority, Ticket};
use jiff::{SignedDuration, Timestamp};

const START: &str = "2024-11-20T08:00:00+08:00";

fn at(mins: i64) -> Timestamp {
    START
        .parse::<Timestamp>()
        .unwrap()
        .checked_add(SignedDuration::from_mins(mins))
        .unwrap()
}

// ---- the events ------------------------------------------------------------

/// The event kinds in column order. `EventKind` is `#[non_exhaustive]`; a
/// new variant must get a column here (see `columns_cover_every_kind`).
const COLUMNS: [&str; 12] = [
    "received",
    "dispatched",
    "claimed",
    "lease_expired",
    "responded",
    "resolved",
    "returned",
    "reassigned",
    "escalated",
    "evaluated",
    "linked",
    "split",
];

fn received() -> EventKind {
    EventKind::Received {
        ticket: std::sync::Arc::new(Ticket::new("T1", "楼上装修噪音太大").with_received_at(at(0))),
        routing: Routing {
            category: "env.noise".into(),
            district: Some("110105".into()),
            street: Some("110105003".into()),
        },
    }
}

fn dispatched(agency: &str) -> EventKind {
    EventKind::Dispatched {
        agency: agency.into(),
        priority: Priority::Normal,
        deadline: at(60 * 24),
    }
}

fn linked(head: &str, agency: &str) -> EventKind {
    EventKind::Linked(Box::new(Link {
        incident: head.into(),
        agency: agency.into(),
        priority: Priority::Urgent,
        deadline: at(120),
        reasons: vec!["same burst".into()],
    }))
}

/// One event of each kind, in column order.
fn event(column: &str) -> EventKind {
    match column {
        "received" => received(),
        "dispatched" => dispatched("district:110105:gov"),
        "claimed" => EventKind::Claimed {
            worker: "w2".into(),
            lease_until: at(90),
        },
        "lease_expired" => EventKind::LeaseExpired,
        "responded" => EventKind::Responded {
            worker: "w1".into(),
        },
        "resolved" => EventKind::Resolved {
            worker: "w1".into(),
            outcome: "done".into(),
        },
        "returned" => EventKind::Returned {
            worker: "w1".into(),
            reason: "not ours".into(),
        },
        "reassigned" => EventKind::Reassigned {
            by: "lead".into(),
            reason: "by hand".into(),
        },
        "escalated" => EventKind::Escalated,
        "evaluated" => EventKind::Evaluated {
            responded: true,
            resolved: false,
            satisfied: false,
        },
        "linked" => linked("T0", "street:110105003"),
        "split" => EventKind::Split {
            by: "lead".into(),
            reason: "not the same problem".into(),
        },
        other => panic!("no column {other}"),
    }
}

// ---- the situations ----------------------------------------------------------

/// A reachable situation: the state, whether the ticket is between agencies
/// (the last event was Returned, Reassigned or Split), and the escalation
/// flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Situation {
    state: State,
    between: bool,
    escalated: bool,
}

/// Every situation by name, with its signature.
const SITUATIONS: &[(&str, Situation)] = {
    const fn s(state: State, between: bool, escalated: bool) -> Situation {
        Situation {
            state,
            between,
            escalated,
        }
    }
    use State::*;
    &[
        ("received", s(Received, false, false)),
        ("dispatched", s(Dispatched, false, false)),
        ("claimed", s(Claimed, false, false)),
        ("responded", s(Responded, false, false)),
        ("resolved", s(Resolved, false, false)),
        ("evaluated", s(Evaluated, false, false)),
        ("returned@claimed", s(Claimed, true, false)),
        ("returned@responded", s(Responded, true, false)),
        ("reassigned@dispatched", s(Dispatched, true, false)),
        ("reassigned@claimed", s(Claimed, true, false)),
        ("reassigned@responded", s(Responded, true, false)),
        ("dispatched+esc", s(Dispatched, false, true)),
        ("claimed+esc", s(Claimed, false, true)),
        ("responded+esc", s(Responded, false, true)),
        ("resolved+esc", s(Resolved, false, true)),
        ("evaluated+esc", s(Evaluated, false, true)),
        ("returned@claimed+esc", s(Claimed, true, true)),
        ("returned@responded+esc", s(Responded, true, true)),
        ("reassigned@dispatched+esc", s(Dispatched, true, true)),
        ("reassigned@claimed+esc", s(Claimed, true, true)),
        ("reassigned@responded+esc", s(Responded, true, true)),
        ("linked", s(Linked, false, false)),
        ("split@linked", s(Linked, true, false)),
    ]
};

fn situation(name: &str) -> Situation {
    SITUATIONS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no situation {name}"))
        .1
}

/// Ways to reach each situation (after the Received that starts every
/// record). Several paths per situation: the table row must hold for all.
const PATHS: &[(&str, &[&str])] = &[
    ("received", &[]),
    ("linked", &["linked"]),
    ("linked", &["linked", "linked"]), // the head moved
    ("split@linked", &["linked", "split"]),
    ("dispatched", &["linked", "split", "dispatched"]),
    ("resolved", &["linked", "resolved"]), // with its head
    ("evaluated", &["linked", "linked", "resolved", "evaluated"]),
    ("dispatched", &["dispatched"]),
    (
        "dispatched",
        &["dispatched", "claimed", "lease_expired"], // the lease lapsed
    ),
    (
        "dispatched",
        &["dispatched", "claimed", "returned", "dispatched"], // re-routed
    ),
    ("dispatched", &["dispatched", "reassigned", "dispatched"]),
    ("claimed", &["dispatched", "claimed"]),
    (
        "claimed",
        &["dispatched", "claimed", "lease_expired", "claimed"],
    ),
    ("responded", &["dispatched", "claimed", "responded"]),
    (
        "responded",
        &[
            "dispatched",
            "claimed",
            "responded",
            "reassigned",
            "dispatched",
            "claimed",
            "responded",
        ],
    ),
    (
        "resolved",
        &["dispatched", "claimed", "responded", "resolved"],
    ),
    ("resolved", &["dispatched", "claimed", "resolved"]),
    (
        "evaluated",
        &[
            "dispatched",
            "claimed",
            "responded",
            "resolved",
            "evaluated",
        ],
    ),
    ("returned@claimed", &["dispatched", "claimed", "returned"]),
    (
        "returned@responded",
        &["dispatched", "claimed", "responded", "returned"],
    ),
    ("reassigned@dispatched", &["dispatched", "reassigned"]),
    (
        "reassigned@claimed",
        &["dispatched", "claimed", "reassigned"],
    ),
    (
        "reassigned@responded",
        &["dispatched", "claimed", "responded", "reassigned"],
    ),
    ("dispatched+esc", &["dispatched", "escalated"]),
    (
        "dispatched+esc",
        &["dispatched", "claimed", "escalated", "lease_expired"],
    ),
    (
        "dispatched+esc",
        &["dispatched", "escalated", "reassigned", "dispatched"],
    ),
    ("claimed+esc", &["dispatched", "escalated", "claimed"]),
    ("claimed+esc", &["dispatched", "claimed", "escalated"]),
    (
        "responded+esc",
        &["dispatched", "claimed", "responded", "escalated"],
    ),
    (
        "responded+esc",
        &["dispatched", "escalated", "claimed", "responded"],
    ),
    (
        "resolved+esc",
        &["dispatched", "claimed", "escalated", "resolved"],
    ),
    (
        "evaluated+esc",
        &[
            "dispatched",
            "escalated",
            "claimed",
            "resolved",
            "evaluated",
        ],
    ),
    (
        "returned@claimed+esc",
        &["dispatched", "claimed", "escalated", "returned"],
    ),
    (
        "returned@responded+esc",
        &[
            "dispatched",
            "escalated",
            "claimed",
            "responded",
            "returned",
        ],
    ),
    (
        "reassigned@dispatched+esc",
        &["dispatched", "escalated", "reassigned"],
    ),
    (
        "reassigned@claimed+esc",
        &["dispatched", "escalated", "claimed", "reassigned"],
    ),
    (
        "reassigned@responded+esc",
        &[
            "dispatched",
            "claimed",
            "responded",
            "escalated",
            "reassigned",
        ],
    ),
];

// ---- the table -----------------------------------------------------------------

/// Illegal.
const __: Option<&str> = None;

macro_rules! to {
    ($name:literal) => {
        Some($name)
    };
}

/// Situation × event (in `COLUMNS` order) → the situation it leads to, or
/// `__` when the event must be refused.
#[rustfmt::skip]
const TABLE: &[(&str, [Option<&str>; 12])] = &[
    //                             received   dispatched              claimed              lease_expired           responded              resolved              returned                        reassigned                         escalated               evaluated              linked          split
    ("received",                  [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    to!("linked"),  __]),
    ("dispatched",                [__,        __,                     to!("claimed"),      __,                     __,                    __,                   __,                             to!("reassigned@dispatched"),      to!("dispatched+esc"),  __,                    __,             __]),
    ("claimed",                   [__,        __,                     __,                  to!("dispatched"),      to!("responded"),      to!("resolved"),      to!("returned@claimed"),        to!("reassigned@claimed"),         to!("claimed+esc"),     __,                    __,             __]),
    ("responded",                 [__,        __,                     __,                  __,                     __,                    to!("resolved"),      to!("returned@responded"),      to!("reassigned@responded"),       to!("responded+esc"),   __,                    __,             __]),
    ("resolved",                  [__,        __,                     __,                  __,                     __,                    __,                   __,                             __,                                __,                     to!("evaluated"),      __,             __]),
    ("evaluated",                 [__,        __,                     __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("returned@claimed",          [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("returned@responded",        [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("reassigned@dispatched",     [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("reassigned@claimed",        [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("reassigned@responded",      [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("dispatched+esc",            [__,        __,                     to!("claimed+esc"),  __,                     __,                    __,                   __,                             to!("reassigned@dispatched+esc"),  __,                     __,                    __,             __]),
    ("claimed+esc",               [__,        __,                     __,                  to!("dispatched+esc"),  to!("responded+esc"),  to!("resolved+esc"),  to!("returned@claimed+esc"),    to!("reassigned@claimed+esc"),     __,                     __,                    __,             __]),
    ("responded+esc",             [__,        __,                     __,                  __,                     __,                    to!("resolved+esc"),  to!("returned@responded+esc"),  to!("reassigned@responded+esc"),   __,                     __,                    __,             __]),
    ("resolved+esc",              [__,        __,                     __,                  __,                     __,                    __,                   __,                             __,                                __,                     to!("evaluated+esc"),  __,             __]),
    ("evaluated+esc",             [__,        __,                     __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("returned@claimed+esc",      [__,        to!("dispatched+esc"),  __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("returned@responded+esc",    [__,        to!("dispatched+esc"),  __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("reassigned@dispatched+esc", [__,        to!("dispatched+esc"),  __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("reassigned@claimed+esc",    [__,        to!("dispatched+esc"),  __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("reassigned@responded+esc",  [__,        to!("dispatched+esc"),  __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
    ("linked",                    [__,        __,                     __,                  __,                     __,                    to!("resolved"),      __,                             __,                                __,                     __,                    to!("linked"),  to!("split@linked")]),
    ("split@linked",              [__,        to!("dispatched"),      __,                  __,                     __,                    __,                   __,                             __,                                __,                     __,                    __,             __]),
];

fn row(name: &str) -> [Option<&'static str>; 12] {
    TABLE
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no row {name}"))
        .1
}

// ---- helpers -------------------------------------------------------------------

fn start() -> TicketRecord {
    TicketRecord::new(&Event {
        ticket: "T1".into(),
        seq: 0,
        at: at(0),
        kind: received(),
    })
    .unwrap()
}

/// The record after `path`; every step must be accepted.
fn reach(path: &[&str]) -> TicketRecord {
    let mut r = start();
    // The first dispatch goes to the street; later ones to the district
    // office, so a re-dispatch visibly changes the agency.
    let mut first = true;
    for (i, step) in path.iter().enumerate() {
        let kind = match *step {
            "dispatched" if first => dispatched("street:110105003"),
            "claimed" => EventKind::Claimed {
                worker: "w1".into(),
                lease_until: at(30),
            },
            other => event(other),
        };
        first &= *step != "dispatched";
        r.apply(at(i as i64 + 1), &kind)
            .unwrap_or_else(|e| panic!("path {path:?} step {i}: {e}"));
    }
    r
}

fn observe(r: &TicketRecord) -> Situation {
    Situation {
        state: r.state(),
        between: matches!(
            r.history().last(),
            Some((
                _,
                EventKind::Returned { .. } | EventKind::Reassigned { .. } | EventKind::Split { .. }
            ))
        ),
        escalated: r.is_escalated(),
    }
}

/// Everything a refused event must leave alone.
fn snapshot(r: &TicketRecord) -> impl PartialEq + std::fmt::Debug {
    (
        r.state(),
        r.history().to_vec(),
        r.agency().to_string(),
        r.worker().map(str::to_string),
        r.lease_until(),
        r.returned_from().to_vec(),
        r.is_escalated(),
        r.responded_at(),
        r.resolved_at(),
        r.evaluation(),
        r.dispatched_at(),
    )
}

// ---- tests ---------------------------------------------------------------------

#[test]
fn table_is_well_formed() {
    // Every situation has exactly one row, at least one path, and every
    // target names a situation.
    for (name, _) in SITUATIONS {
        assert_eq!(
            TABLE.iter().filter(|(n, _)| n == name).count(),
            1,
            "row for {name}"
        );
        assert!(
            PATHS.iter().any(|(n, _)| n == name),
            "no path reaches {name}"
        );
    }
    assert_eq!(TABLE.len(), SITUATIONS.len());
    for (name, cells) in TABLE {
        for to in cells.iter().flatten() {
            situation(to);
        }
        situation(name);
    }
    let mut names: Vec<&str> = SITUATIONS.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SITUATIONS.len(), "situation names are unique");
}

#[test]
fn columns_cover_every_kind() {
    for (i, column) in COLUMNS.iter().enumerate() {
        assert_eq!(event(column).name(), *column);
        assert_eq!(COLUMNS.iter().position(|c| c == column), Some(i));
    }
}

#[test]
fn paths_reach_their_situation() {
    for (name, path) in PATHS {
        let r = reach(path);
        assert_eq!(observe(&r), situation(name), "{name} via {path:?}");
        assert_eq!(r.history().len(), path.len() + 1);
    }
}

#[test]
fn every_situation_by_every_event() {
    let mut checked = 0;
    for (name, path) in PATHS {
        let expected_row = row(name);
        for (column, expected) in COLUMNS.iter().zip(expected_row) {
            let mut r = reach(path);
            let before = snapshot(&r);
            let len = r.history().len();
            let state = r.state();
            let kind = event(column);
            let when = at(500);
            let got = r.apply(when, &kind);
            let case = format!("{name} (via {path:?}) + {column}");
            match expected {
                None => {
                    assert_eq!(
                        got,
                        Err(TransitionError {
                            ticket: "T1".into(),
                            state,
                            event: kind.name(),
                        }),
                        "{case}: must be refused"
                    );
                    assert_eq!(r.history().len(), len, "{case}: history unchanged");
                    assert_eq!(r.state(), state, "{case}: state unchanged");
                    assert_eq!(snapshot(&r), before, "{case}: nothing changed");
                }
                Some(to) => {
                    assert_eq!(got, Ok(()), "{case}: must be accepted");
                    assert_eq!(observe(&r), situation(to), "{case} → {to}");
                    assert_eq!(r.history().len(), len + 1, "{case}");
                    assert_eq!(r.history().last(), Some(&(when, kind.clone())), "{case}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, PATHS.len() * COLUMNS.len());
}

#[test]
fn legal_events_set_what_they_say() {
    // dispatched: a new agency, no worker, no lease.
    let r = {
        let mut r = reach(&["dispatched", "claimed", "returned"]);
        r.apply(at(9), &dispatched("district:110105:gov")).unwrap();
        r
    };
    assert_eq!(r.agency(), "district:110105:gov");
    assert_eq!((r.worker(), r.lease_until()), (None, None));
    assert_eq!(r.returned_from(), ["street:110105003"]);
    assert_eq!(r.dispatched_at(), at(9));

    // claimed: worker and lease.
    let r = reach(&["dispatched", "claimed"]);
    assert_eq!((r.worker(), r.lease_until()), (Some("w1"), Some(at(30))));

    // lease_expired: back on the list, nobody holds it.
    let r = reach(&["dispatched", "claimed", "lease_expired"]);
    assert_eq!((r.worker(), r.lease_until()), (None, None));
    assert_eq!(r.agency(), "street:110105003");

    // responded: no lease any more (acting on it ends the lease), same holder.
    let r = reach(&["dispatched", "claimed", "responded"]);
    assert_eq!((r.worker(), r.lease_until()), (Some("w1"), None));
    assert_eq!(r.responded_at(), Some(at(3)));

    // resolved and evaluated.
    let r = reach(&["dispatched", "claimed", "resolved", "evaluated"]);
    assert_eq!(r.resolved_at(), Some(at(3)));
    let e = r.evaluation().unwrap();
    assert_eq!((e.responded, e.resolved, e.satisfied), (true, false, false));

    // reassigned: not a return.
    let r = reach(&["dispatched", "reassigned", "dispatched"]);
    assert!(r.returned_from().is_empty());
    assert_eq!(r.agency(), "district:110105:gov");

    // linked: the head's agency, priority and deadline, and its incident.
    let mut r = reach(&["linked"]);
    assert_eq!(
        (r.agency(), r.priority(), r.deadline()),
        ("street:110105003", Priority::Urgent, at(120))
    );
    assert_eq!(
        (r.incident(), r.worker(), r.dispatched_at()),
        (Some("T0"), None, at(1))
    );
    r.apply(at(2), &linked("T0", "district:110105:gov"))
        .unwrap();
    assert_eq!(
        (r.agency(), r.incident()),
        ("district:110105:gov", Some("T0"))
    );
    // resolved with its head: the head's worker.
    r.apply(at(3), &event("resolved")).unwrap();
    assert_eq!(
        (r.worker(), r.resolved_at(), r.incident()),
        (Some("w1"), Some(at(3)), Some("T0"))
    );

    // split: out of the incident, on its own list at its own deadline.
    let mut r = reach(&["linked", "split"]);
    assert_eq!((r.state(), r.incident()), (State::Linked, None));
    r.apply(at(9), &dispatched("city:water")).unwrap();
    assert_eq!(
        (r.state(), r.agency(), r.deadline()),
        (State::Dispatched, "city:water", at(60 * 24))
    );
    assert_eq!(r.priority(), Priority::Normal);
}

#[test]
fn a_member_follows_its_own_head_only() {
    let mut r = reach(&["linked"]);
    let other = linked("T9", "district:110105:gov");
    assert_eq!(
        r.apply(at(2), &other),
        Err(TransitionError {
            ticket: "T1".into(),
            state: State::Linked,
            event: "linked",
        })
    );
    assert_eq!(r.incident(), Some("T0"));
}

#[test]
fn new_accepts_only_received() {
    for column in COLUMNS {
        let kind = event(column);
        let got = TicketRecord::new(&Event {
            ticket: "T1".into(),
            seq: 0,
            at: at(0),
            kind: kind.clone(),
        });
        if column == "received" {
            let r = got.unwrap();
            assert_eq!(r.state(), State::Received);
            assert_eq!(r.history().len(), 1);
        } else {
            assert_eq!(
                got.unwrap_err(),
                TransitionError {
                    ticket: "T1".into(),
                    state: State::Received,
                    event: kind.name(),
                }
            );
        }
    }
}

#[test]
fn escalated_twice_is_illegal() {
    for (name, path) in PATHS {
        let mut r = reach(path);
        if r.is_escalated() || !observe(&r).state.is_open() {
            continue;
        }
        if r.apply(at(100), &EventKind::Escalated).is_err() {
            continue; // received or between agencies
        }
        let len = r.history().len();
        assert!(
            r.apply(at(101), &EventKind::Escalated).is_err(),
            "{name}: second escalation"
        );
        assert_eq!(r.history().len(), len);
        assert!(r.is_escalated());
    }
}

#[test]
fn evaluated_only_from_resolved() {
    for (name, path) in PATHS {
        let mut r = reach(path);
        let legal = r.state() == State::Resolved;
        assert_eq!(
            r.apply(at(100), &event("evaluated")).is_ok(),
            legal,
            "{name} + evaluated"
        );
    }
}

#[test]
fn dispatched_follows_returned_or_reassigned_and_nothing_else_does() {
    for (name, path) in PATHS {
        let between = situation(name).between;
        for column in COLUMNS {
            let mut r = reach(path);
            let received = r.state() == State::Received;
            let ok = r.apply(at(100), &event(column)).is_ok();
            if between {
                assert_eq!(ok, column == "dispatched", "{name} + {column}");
            } else if column == "dispatched" {
                assert_eq!(ok, received, "{name} + dispatched");
            }
        }
    }
}

#[test]
fn open_states() {
    let open = [
        State::Received,
        State::Dispatched,
        State::Claimed,
        State::Responded,
        State::Linked,
    ];
    for (_, s) in SITUATIONS {
        assert_eq!(s.state.is_open(), open.contains(&s.state));
    }
}
