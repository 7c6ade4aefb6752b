//! The dispatch runtime's operations, one behaviour per test, with a clock
//! the tests control (no sleeping).

use std::sync::Arc;

use hotline_router::dispatch::{
    Clock, DispatchConfig, Dispatcher, Evaluation, Event, EventKind, ManualClock, OpError, State,
    SubmitError,
};
use hotline_router::evaluate::{GroupBy, MonthError};
use hotline_router::{Priority, Router, Ticket};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::Log;

const START: &str = "2024-11-20T08:00:00+08:00";

fn setup(config: DispatchConfig) -> (Dispatcher, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    (
        Dispatcher::new(Router::beijing(), config, clock.clone()),
        clock,
    )
}

fn noise(id: &str, clock: &ManualClock) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(clock.now())
}

const HUJIALOU: &str = "street:110105003";

#[test]
fn smoke_submit_claim_respond_resolve_evaluate() {
    let (d, clock) = setup(DispatchConfig::default());
    let r = d.submit(noise("T1", &clock)).unwrap();
    assert_eq!(
        (r.agency.as_str(), r.priority),
        (HUJIALOU, Priority::Normal)
    );
    let c = d.claim(HUJIALOU, "w1").unwrap().unwrap();
    assert_eq!(c.id, "T1");
    assert!(
        d.claim(HUJIALOU, "w2").unwrap().is_none(),
        "one ticket, one claim"
    );
    d.respond("T1", "w1").unwrap();
    d.resolve("T1", "w1", "talked to the neighbour").unwrap();
    d.evaluate(
        "T1",
        Evaluation {
            responded: true,
            resolved: true,
            satisfied: false,
        },
    )
    .unwrap();
    let record = d.record("T1").unwrap();
    assert_eq!(record.state(), State::Evaluated);
    let names: Vec<&str> = record.history().iter().map(|(_, k)| k.name()).collect();
    assert_eq!(
        names,
        [
            "received",
            "dispatched",
            "claimed",
            "responded",
            "resolved",
            "evaluated"
        ]
    );
    assert_eq!(d.open_at(HUJIALOU), 0);
}

#[test]
fn urgent_first_then_oldest_first() {
    let (d, clock) = setup(DispatchConfig::default());
    let at = |mins: i64| {
        clock
            .now()
            .checked_sub(SignedDuration::from_mins(mins))
            .unwrap()
    };
    d.submit(noise("late", &clock).with_received_at(at(10)))
        .unwrap();
    d.submit(noise("early", &clock).with_received_at(at(30)))
        .unwrap();
    // Urgency words raise priority; elevators go to the same street office.
    d.submit(
        Ticket::new("urgent", "电梯坏了，有人被困在里面")
            .with_address("朝阳区呼家楼街道")
            .with_received_at(at(0)),
    )
    .unwrap();
    let order: Vec<String> =
        std::iter::from_fn(|| d.claim(HUJIALOU, "w").unwrap().map(|c| c.id.to_string())).collect();
    assert_eq!(order, ["urgent", "early", "late"]);
}

#[test]
fn duplicate_ids_are_refused_and_nothing_changes() {
    let (d, clock) = setup(DispatchConfig::default());
    d.submit(noise("T1", &clock)).unwrap();
    let err = d.submit(noise("T1", &clock)).unwrap_err();
    assert!(matches!(err, SubmitError::Duplicate(_)));
    assert_eq!(d.counts().total, 1);
    assert_eq!(d.open_at(HUJIALOU), 1);
}

#[test]
fn invalid_tickets_are_handed_back() {
    let (d, clock) = setup(DispatchConfig::default());
    let err = d
        .submit(Ticket::new("", "噪音").with_received_at(clock.now()))
        .unwrap_err();
    assert!(matches!(err, SubmitError::Invalid { .. }), "{err}");
    assert_eq!(err.into_ticket().text, "噪音");
    assert_eq!(d.counts().total, 0);
}

#[test]
fn capacity_per_agency_and_total() {
    let (d, clock) = setup(
        DispatchConfig::default()
            .capacity_per_agency(2)
            .capacity_total(3),
    );
    d.submit(noise("A", &clock)).unwrap();
    d.submit(noise("B", &clock)).unwrap();
    let err = d.submit(noise("C", &clock)).unwrap_err();
    assert!(
        matches!(&err, SubmitError::Full { scope, limit: 2, .. } if scope == HUJIALOU),
        "{err}"
    );
    d.submit(Ticket::new("D", "签证延期").with_received_at(clock.now()))
        .unwrap();
    let err = d
        .submit(Ticket::new("E", "签证延期").with_received_at(clock.now()))
        .unwrap_err();
    assert!(
        matches!(&err, SubmitError::Full { scope, limit: 3, .. } if scope == "the registry"),
        "{err}"
    );
    // Resolving frees the agency's capacity, not the registry's.
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "done").unwrap();
    assert_eq!(d.open_at(HUJIALOU), 1);
}

#[test]
fn only_the_holder_may_act_and_leases_expire() {
    let (d, clock) = setup(DispatchConfig::default().lease(SignedDuration::from_mins(10)));
    d.submit(noise("T1", &clock)).unwrap();
    d.claim(HUJIALOU, "w1").unwrap().unwrap();
    assert!(matches!(
        d.respond("T1", "w2"),
        Err(OpError::NotHolder { .. })
    ));
    clock.advance(SignedDuration::from_mins(11));
    // The next claim puts the lapsed one back first.
    let c = d.claim(HUJIALOU, "w2").unwrap().unwrap();
    assert_eq!(c.id, "T1");
    assert!(matches!(
        d.respond("T1", "w1"),
        Err(OpError::NotHolder { .. })
    ));
    d.respond("T1", "w2").unwrap();
    // Responding is acting on it: no expiry after that.
    clock.advance(SignedDuration::from_hours(5));
    assert_eq!(d.expire_leases(clock.now()), 0);
    assert_eq!(d.record("T1").unwrap().state(), State::Responded);
}

#[test]
fn returns_reroute_without_the_agency_then_go_to_triage() {
    let (d, clock) = setup(DispatchConfig::default().max_returns(2));
    // Elevators: street office, co-handler the district market regulator.
    d.submit(
        Ticket::new("E1", "电梯坏了一个星期没人修")
            .with_address("朝阳区呼家楼街道")
            .with_received_at(clock.now()),
    )
    .unwrap();
    d.claim(HUJIALOU, "w").unwrap().unwrap();
    let r = d
        .return_ticket("E1", "w", "elevators are the market regulator's")
        .unwrap();
    assert_eq!(r.agency, "district:110105:market");
    d.claim("district:110105:market", "m").unwrap().unwrap();
    let r = d.return_ticket("E1", "m", "not ours either").unwrap();
    assert_eq!(r.agency, "center:triage");
    let record = d.record("E1").unwrap();
    assert_eq!(record.returned_from(), [HUJIALOU, "district:110105:market"]);
    assert_eq!(d.open_at(HUJIALOU), 0);
    assert_eq!(d.open_at("center:triage"), 1);
}

#[test]
fn reassign_by_hand() {
    let (d, clock) = setup(DispatchConfig::default());
    d.submit(noise("T1", &clock)).unwrap();
    assert!(matches!(
        d.reassign("T1", "city:nowhere", "lead", "x"),
        Err(OpError::UnknownAgency(_))
    ));
    let r = d
        .reassign(
            "T1",
            "district:110105:ecology",
            "lead",
            "construction noise",
        )
        .unwrap();
    assert_eq!(r.agency, "district:110105:ecology");
    // The old list's entry is stale and skipped.
    assert!(d.claim(HUJIALOU, "w").unwrap().is_none());
    assert_eq!(
        d.claim("district:110105:ecology", "e").unwrap().unwrap().id,
        "T1"
    );
}

#[test]
fn illegal_operations_are_typed_errors() {
    let (d, clock) = setup(DispatchConfig::default());
    d.submit(noise("T1", &clock)).unwrap();
    assert!(matches!(
        d.evaluate(
            "T1",
            Evaluation {
                responded: true,
                resolved: true,
                satisfied: true
            }
        ),
        Err(OpError::Transition(_))
    ));
    assert!(matches!(
        d.resolve("T1", "w", "x"),
        Err(OpError::Transition(_))
    ));
    assert!(matches!(
        d.respond("nope", "w"),
        Err(OpError::UnknownTicket(_))
    ));
    d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve("T1", "w", "done").unwrap();
    assert!(matches!(
        d.return_ticket("T1", "w", "x"),
        Err(OpError::Transition(_))
    ));
    assert!(matches!(
        d.reassign("T1", HUJIALOU, "lead", "x"),
        Err(OpError::Transition(_))
    ));
}

#[test]
fn overdue_escalates_once_and_stays_visible_until_closed() {
    let (d, clock) = setup(DispatchConfig::default());
    let gas = d
        .submit(Ticket::new("G", "燃气泄漏").with_received_at(clock.now()))
        .unwrap();
    d.submit(noise("N", &clock)).unwrap();
    assert!(d.overdue(clock.now()).is_empty());
    clock.set(
        gas.deadline
            .checked_add(SignedDuration::from_secs(1))
            .unwrap(),
    );
    let overdue = d.overdue(clock.now());
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0].id, "G");
    assert_eq!(d.overdue(clock.now()).len(), 1, "still open, still visible");
    let escalations = d
        .record("G")
        .unwrap()
        .history()
        .iter()
        .filter(|(_, k)| matches!(k, EventKind::Escalated))
        .count();
    assert_eq!(escalations, 1);
    let c = d.claim("city:gas", "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "fixed").unwrap();
    assert!(d.overdue(clock.now()).is_empty());
}

#[test]
fn reload_changes_new_routes_only() {
    let (d, clock) = setup(DispatchConfig::default());
    d.submit(noise("before", &clock)).unwrap();
    d.reload(common::noise_to_ecology());
    let after = d.submit(noise("after", &clock)).unwrap();
    assert_eq!(after.agency, "district:110105:ecology");
    assert_eq!(d.record("before").unwrap().agency(), HUJIALOU);
}

#[test]
fn events_rebuild_the_same_state() {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let log = Arc::new(Log::default());
    let d = Dispatcher::builder(Router::beijing())
        .config(DispatchConfig::default())
        .clock(clock.clone())
        .sink(log.clone())
        .build();
    for i in 0..6 {
        d.submit(noise(&format!("T{i}"), &clock)).unwrap();
    }
    d.submit(Ticket::new("G", "燃气泄漏").with_received_at(clock.now()))
        .unwrap();
    d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.respond("T0", "w").unwrap();
    d.resolve("T0", "w", "ok").unwrap();
    d.evaluate(
        "T0",
        Evaluation {
            responded: true,
            resolved: true,
            satisfied: true,
        },
    )
    .unwrap();
    d.return_ticket("T1", "w", "no").unwrap();
    clock.advance(SignedDuration::from_hours(3));
    d.overdue(clock.now());
    let events = log.events();
    // In order per ticket, without gaps.
    for id in ["T0", "T1", "G"] {
        let seqs: Vec<u32> = events
            .iter()
            .filter(|e| e.ticket == id)
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, (0..seqs.len() as u32).collect::<Vec<_>>(), "{id}");
    }
    let restored = Dispatcher::restore(
        Router::beijing(),
        DispatchConfig::default(),
        ManualClock::new(clock.now()),
        events,
    )
    .unwrap();
    assert_eq!(restored.counts(), d.counts());
    for id in ["T0", "T1", "T2", "G"] {
        let (a, b) = (d.record(id).unwrap(), restored.record(id).unwrap());
        assert_eq!(
            (a.state(), a.agency(), a.history()),
            (b.state(), b.agency(), b.history()),
            "{id}"
        );
    }
    // Work continues on the restored runtime in the same order.
    assert_eq!(
        restored.claim(HUJIALOU, "w").unwrap().map(|c| c.id),
        d.claim(HUJIALOU, "w").unwrap().map(|c| c.id)
    );
    assert_eq!(restored.overdue(clock.now()), d.overdue(clock.now()));
}

#[test]
fn restore_rejects_broken_histories() {
    let at: Timestamp = START.parse().unwrap();
    let e = |seq, kind| Event {
        ticket: "T".into(),
        seq,
        at,
        kind,
    };
    let err = Dispatcher::restore(
        Router::beijing(),
        DispatchConfig::default(),
        ManualClock::new(at),
        [e(0, EventKind::Escalated)],
    );
    assert!(err.is_err());
    let err = Dispatcher::restore(
        Router::beijing(),
        DispatchConfig::default(),
        ManualClock::new(at),
        [e(3, EventKind::Escalated)],
    );
    assert!(err.is_err());
}

#[test]
fn rates_on_a_hand_checked_example() {
    let (d, clock) = setup(DispatchConfig::default());
    // Four noise tickets at 呼家楼: evaluated (yes,yes,yes), (yes,no,no),
    // (yes,yes,no), and one still open.
    for i in 0..4 {
        d.submit(noise(&format!("T{i}"), &clock)).unwrap();
    }
    let answers = [
        (true, true, true),
        (true, false, false),
        (true, true, false),
    ];
    for (i, (resp, res, sat)) in answers.into_iter().enumerate() {
        let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
        d.resolve(&c.id, "w", "done").unwrap();
        d.evaluate(
            &c.id,
            Evaluation {
                responded: resp,
                resolved: res,
                satisfied: sat,
            },
        )
        .unwrap();
        if i == 2 {
            clock.advance(SignedDuration::from_hours(24 * 30)); // the last one closes late
        }
    }
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "late").unwrap();
    let rows = d.rates(GroupBy::Street, Timestamp::MIN, Timestamp::MAX);
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!(
        (r.key.as_str(), r.received, r.closed, r.evaluated),
        ("110105003", 4, 4, 3)
    );
    assert_eq!(
        (r.responded, r.resolved, r.satisfied, r.on_time),
        (3, 2, 1, 3)
    );
    assert_eq!(r.response_rate(), Some(1.0));
    assert_eq!(r.resolution_rate(), Some(2.0 / 3.0));
    assert_eq!(r.satisfaction_rate(), Some(1.0 / 3.0));
    assert_eq!(r.on_time_rate(), Some(0.75));
    let ranking = d.monthly_ranking(2024, 11, 3, 1).unwrap();
    assert_eq!(ranking.bottom, [HUJIALOU]);
    assert!(d.monthly_ranking(2024, 12, 1, 1).unwrap().ranked.is_empty());
    // Once silently empty: a month that does not exist is an error.
    for month in [0, 13, -1] {
        assert_eq!(
            d.monthly_ranking(2024, month, 1, 1),
            Err(MonthError::Month { year: 2024, month })
        );
    }
    assert_eq!(
        d.monthly_ranking(10_000, 11, 1, 1),
        Err(MonthError::Year {
            year: 10_000,
            month: 11
        })
    );
}

#[test]
fn restore_dispatches_a_ticket_cut_off_mid_submit() {
    let at: Timestamp = START.parse().unwrap();
    let received = Event {
        ticket: "T".into(),
        seq: 0,
        at,
        kind: EventKind::Received {
            ticket: Arc::new(
                Ticket::new("T", "楼上装修噪音太大")
                    .with_address("朝阳区呼家楼街道")
                    .with_received_at(at),
            ),
            routing: hotline_router::dispatch::Routing {
                category: "env.noise".into(),
                district: None,
                street: None,
            },
        },
    };
    let d = Dispatcher::restore(
        Router::beijing(),
        DispatchConfig::default(),
        ManualClock::new(at),
        [received],
    )
    .unwrap();
    assert_eq!(d.record("T").unwrap().state(), State::Dispatched);
    assert_eq!(d.open_at(HUJIALOU), 1);
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "T");
}

#[test]
fn purge_closed_frees_registry_capacity_for_evaluated_tickets_only() {
    let (d, clock) = setup(DispatchConfig::default().capacity_total(2));
    d.submit(noise("A", &clock)).unwrap();
    d.submit(noise("B", &clock)).unwrap();
    assert!(matches!(
        d.submit(noise("C", &clock)),
        Err(SubmitError::Full { .. })
    ));
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "done").unwrap();
    let later = clock
        .now()
        .checked_add(SignedDuration::from_hours(1))
        .unwrap();
    assert_eq!(
        d.purge_closed(later).unwrap(),
        0,
        "resolved but not evaluated: kept"
    );
    d.evaluate(
        &c.id,
        Evaluation {
            responded: true,
            resolved: true,
            satisfied: true,
        },
    )
    .unwrap();
    assert_eq!(
        d.purge_closed(clock.now()).unwrap(),
        0,
        "received at `before` is not before it"
    );
    assert_eq!(d.purge_closed(later).unwrap(), 1);
    assert!(d.record(&c.id).is_none());
    assert_eq!(d.counts().total, 1);
    d.submit(noise("C", &clock)).unwrap();
}

#[test]
fn regression_untimed_tickets_are_received_on_the_dispatchers_clock() {
    // Ticket::new once stamped the wall clock, so a dispatcher simulating
    // 2024-11-20 counted deadlines from whenever the test ran.
    let (d, clock) = setup(DispatchConfig::default());
    let now = clock.now();
    let untimed = Ticket::new("N", "楼上装修噪音太大").with_address("朝阳区呼家楼街道");
    assert_eq!(untimed.received_at, None);
    let receipt = d.submit(untimed).unwrap();
    assert_eq!(receipt.priority, Priority::Normal);
    let due = receipt.deadline.to_zoned(d.router().time_zone().clone());
    assert_eq!(due.year(), 2024);
    assert!(matches!(due.month(), 11 | 12), "{due}");
    // Wednesday 08:00 + 5 working days: Thursday 21 … Wednesday 27, ends at midnight.
    assert_eq!(
        receipt.deadline,
        "2024-11-28T00:00:00+08:00".parse().unwrap()
    );
    let record = d.record("N").unwrap();
    assert_eq!(record.received_at(), now);
    assert_eq!(record.ticket().received_at, Some(now));

    // Urgent: hours from the dispatcher's clock, not the wall clock.
    clock.advance(SignedDuration::from_mins(30));
    let receipt = d.submit(Ticket::new("G", "楼道里燃气泄漏")).unwrap();
    assert_eq!(receipt.priority, Priority::Urgent);
    assert_eq!(
        receipt.deadline,
        "2024-11-20T09:30:00+08:00".parse().unwrap()
    );
    assert_eq!(d.record("G").unwrap().received_at(), clock.now());

    // A ticket that says when it was received keeps its time.
    let earlier: Timestamp = "2024-11-19T17:00:00+08:00".parse().unwrap();
    d.submit(noise("E", &clock).with_received_at(earlier))
        .unwrap();
    assert_eq!(d.record("E").unwrap().received_at(), earlier);
    // … and is the older on the work list.
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "E");
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "N");
}
