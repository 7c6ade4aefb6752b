//! One incident, many callers: a burst of reports of one problem is one
//! work item with its caller count; resolving it resolves every caller, who
//! are evaluated one by one; a wrong merge is split off with its own
//! deadline; members follow their head when it moves; the linker's answers
//! are checked, never trusted. The same runtime under threads: no member is
//! left linked to a resolved head, and nothing deadlocks.
//!
//! Restarts and crashes are in `tests/durable_incidents.rs`. Time is a
//! `ManualClock`; nothing sleeps.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};

use hotline_router::dispatch::{
    Change, Clock, Dispatcher, Evaluation, EventKind, Linker, ManualClock, OpError, Sink,
    SinkError, State, TransitionError,
};
use hotline_router::evaluate::GroupBy;
use hotline_router::{Decision, Priority, Ticket};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::router;
use common::{Log, PrefixLinker};

const START: &str = "2024-11-20T08:00:00+08:00";
const WATER: &str = "city:water";
const HUJIALOU: &str = "street:110105003";

/// The linker of these tests: same category and first four characters,
/// within two hours.
fn linker() -> (PrefixLinker, Arc<Mutex<Vec<String>>>) {
    let linker = PrefixLinker::new(SignedDuration::from_hours(2), 4);
    let calls = linker.calls.clone();
    (linker, calls)
}

fn setup_at(start: &str) -> (Dispatcher, Arc<ManualClock>, Arc<Mutex<Vec<String>>>) {
    let clock = Arc::new(ManualClock::new(start.parse().unwrap()));
    let (linker, calls) = linker();
    let d = Dispatcher::builder(router())
        .clock(clock.clone())
        .linker(linker)
        .build();
    (d, clock, calls)
}

fn setup() -> (Dispatcher, Arc<ManualClock>, Arc<Mutex<Vec<String>>>) {
    setup_at(START)
}

/// A report of the burst water main at 呼家楼 (city water company).
fn water(id: &str, words: &str) -> Ticket {
    Ticket::new(id, format!("水管爆了，{words}")).with_address("朝阳区呼家楼街道")
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

fn answers(satisfied: bool) -> Evaluation {
    Evaluation {
        responded: true,
        resolved: true,
        satisfied,
    }
}

/// Submits the three reports of the burst: at 0, 10 and 25 minutes.
fn burst(d: &Dispatcher, clock: &ManualClock) {
    d.submit(water("T1", "门口全是水")).unwrap();
    clock.advance(mins(10));
    d.submit(water("T2", "马路上都是水")).unwrap();
    clock.advance(mins(15));
    d.submit(water("T3", "楼里停水了")).unwrap();
}

#[test]
fn a_burst_is_one_work_item_and_every_caller_is_evaluated() {
    let (d, clock, calls) = setup();
    let first = d.submit(water("T1", "门口全是水")).unwrap();
    clock.advance(mins(10));
    let second = d.submit(water("T2", "马路上都是水")).unwrap();
    clock.advance(mins(15));
    let third = d.submit(water("T3", "楼里停水了")).unwrap();
    assert_eq!(first.incident, None);
    for r in [&second, &third] {
        assert_eq!(r.incident.as_deref(), Some("T1"));
        assert_eq!((r.agency.as_str(), r.deadline), (WATER, first.deadline));
    }
    let counts = d.counts();
    assert_eq!((counts.dispatched, counts.linked), (1, 2));
    assert_eq!(d.open_at(WATER), 1, "one work item");
    let view = d.incident("T3").unwrap();
    assert_eq!(
        (view.head.as_str(), view.members.clone()),
        ("T1", vec!["T2".into(), "T3".into()])
    );
    assert_eq!((d.callers("T1"), d.callers("T2")), (Some(3), Some(3)));

    // Why T2 joined: the linker's reasons, in its history.
    let t2 = d.record("T2").unwrap();
    assert_eq!(
        (t2.state(), t2.incident(), t2.agency()),
        (State::Linked, Some("T1"), WATER)
    );
    let EventKind::Linked(link) = &t2.history()[1].1 else {
        panic!("T2 joined: {:?}", t2.history());
    };
    assert_eq!(
        link.reasons,
        ["same category (utilities.water) and words (\"水管爆了\") as T1, 10 min apart"]
    );

    // A member is handled through its head only.
    let linked = |id: &str| OpError::Linked {
        ticket: id.into(),
        incident: "T1".into(),
    };
    assert_eq!(d.resolve("T2", "w1", "done"), Err(linked("T2")));
    assert_eq!(d.respond("T2", "w1"), Err(linked("T2")));
    assert_eq!(d.return_ticket("T2", "w1", "x").unwrap_err(), linked("T2"));
    assert_eq!(
        d.reassign("T2", HUJIALOU, "lead", "x").unwrap_err(),
        linked("T2")
    );
    assert_eq!(
        d.evaluate("T2", answers(true)),
        Err(OpError::Transition(TransitionError {
            ticket: "T2".into(),
            state: State::Linked,
            event: "evaluated",
        }))
    );

    // Past the deadline: the work item escalates, its members do not.
    clock.set(first.deadline.checked_add(mins(1)).unwrap());
    let overdue: Vec<String> = d
        .overdue(clock.now())
        .into_iter()
        .map(|o| o.id.to_string())
        .collect();
    assert_eq!(overdue, ["T1"]);

    let claim = d.claim(WATER, "w1").unwrap().unwrap();
    assert_eq!((claim.id.as_str(), claim.callers), ("T1", 3));
    assert!(
        d.claim(WATER, "w2").unwrap().is_none(),
        "the members are not work items"
    );
    d.respond("T1", "w1").unwrap();
    d.resolve("T1", "w1", "main repaired").unwrap();
    for id in ["T1", "T2", "T3"] {
        let r = d.record(id).unwrap();
        assert_eq!(
            (r.state(), r.worker()),
            (State::Resolved, Some("w1")),
            "{id}"
        );
        assert_eq!(r.resolved_at(), Some(clock.now()), "{id}");
    }
    assert!(calls.lock().unwrap().contains(&"closed T1".to_string()));
    assert!(!d.incident("T2").unwrap().open);
    assert_eq!(d.open_at(WATER), 0);
    assert!(d.overdue(clock.now()).is_empty());

    // Each caller is called back: three evaluations for the water company.
    for (id, satisfied) in [("T1", true), ("T2", false), ("T3", true)] {
        d.evaluate(id, answers(satisfied)).unwrap();
    }
    let rates = d.rates(GroupBy::Agency, Timestamp::MIN, Timestamp::MAX);
    assert_eq!(rates.len(), 1);
    let water = &rates[0];
    assert_eq!(water.key, WATER);
    assert_eq!((water.received, water.closed, water.evaluated), (3, 3, 3));
    assert_eq!(
        (water.responded, water.resolved, water.satisfied),
        (3, 3, 2)
    );
    assert_eq!(water.on_time, 0, "resolved after the incident's deadline");
    assert_eq!(water.escalated, 1, "the work item, not its callers");

    // Purged, the incident is gone; a member purged with it says so too.
    clock.advance(mins(1));
    assert_eq!(d.purge_closed(clock.now()).unwrap(), 3);
    assert_eq!(d.incident("T1"), None);
}

#[test]
fn a_wrong_merge_is_split_into_its_own_work_item() {
    // Late in the evening: T2 and T3 arrive after midnight, so their own
    // deadlines are a working day after T1's.
    let (d, clock, calls) = setup_at("2024-11-20T23:55:00+08:00");
    burst(&d, &clock);
    clock.advance(mins(20));
    let head = d.record("T1").unwrap();
    let t2_own = router()
        .route(d.record("T2").unwrap().ticket())
        .unwrap()
        .deadline();
    assert!(t2_own > head.deadline(), "received on the next day");
    assert_eq!(
        d.record("T2").unwrap().deadline(),
        head.deadline(),
        "linked: the head's"
    );

    let receipt = d
        .split("T2", "lead", "another main, another street")
        .unwrap();
    assert_eq!(receipt.incident, None);
    assert_eq!((receipt.agency.as_str(), receipt.deadline), (WATER, t2_own));
    assert_eq!(
        calls.lock().unwrap().last().map(String::as_str),
        Some("split T2")
    );
    let t2 = d.record("T2").unwrap();
    assert_eq!((t2.state(), t2.incident()), (State::Dispatched, None));
    assert!(matches!(&t2.history()[2].1, EventKind::Split { by, .. } if by == "lead"));
    assert_eq!(d.incident("T1").unwrap().members, ["T3"]);
    assert_eq!(d.open_at(WATER), 2);

    // Nothing else can be split.
    for id in ["T1", "T2"] {
        assert_eq!(d.split(id, "lead", "x"), Err(OpError::NotLinked(id.into())));
    }
    assert_eq!(
        d.split("T9", "lead", "x"),
        Err(OpError::UnknownTicket("T9".into()))
    );

    // Two work items, oldest first, each with its callers.
    let a = d.claim(WATER, "w1").unwrap().unwrap();
    let b = d.claim(WATER, "w2").unwrap().unwrap();
    assert_eq!(
        (a.id.as_str(), a.callers, b.id.as_str(), b.callers),
        ("T1", 2, "T2", 1)
    );
    assert_eq!(b.deadline, t2_own);

    // Each deadline on its own: between the two, only T1 is overdue.
    clock.set(head.deadline().checked_add(mins(1)).unwrap());
    let ids = |d: &Dispatcher, at| d.overdue(at).into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&d, clock.now()), ["T1"]);
    clock.set(t2_own.checked_add(mins(1)).unwrap());
    assert_eq!(ids(&d, clock.now()), ["T1", "T2"]);

    // Resolving T1 no longer drags T2 along.
    d.resolve("T1", "w1", "repaired").unwrap();
    assert_eq!(d.record("T3").unwrap().state(), State::Resolved);
    assert_eq!(d.record("T2").unwrap().state(), State::Claimed);
}

/// A sink that keeps, per call, the tickets of each change: to see which
/// events travel together.
#[derive(Default)]
struct Calls(Mutex<Vec<Vec<String>>>);

impl Sink for Calls {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        let tickets = changes
            .iter()
            .filter_map(|c| match c {
                Change::Events { events, .. } => Some(events[0].ticket.clone()),
                _ => None,
            })
            .collect();
        self.0.lock().unwrap().push(tickets);
        Ok(())
    }
}

impl Calls {
    fn last(&self) -> Vec<String> {
        self.0.lock().unwrap().last().cloned().unwrap_or_default()
    }
}

#[test]
fn members_follow_their_head_in_the_same_sink_call() {
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let sink = Arc::new(Calls::default());
    let d = Dispatcher::builder(router())
        .clock(clock.clone())
        .sink(sink.clone())
        .linker(linker().0)
        .build();
    burst(&d, &clock);
    let t = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    d.claim(WATER, "w1").unwrap().unwrap();
    let returned = d
        .return_ticket("T1", "w1", "a private pipe, not ours")
        .unwrap();
    assert_ne!(returned.agency, WATER);
    assert_eq!(
        sink.last(),
        t(&["T1", "T2", "T3"]),
        "head first, then members"
    );
    for id in ["T2", "T3"] {
        let r = d.record(id).unwrap();
        assert_eq!(
            (r.state(), r.agency()),
            (State::Linked, returned.agency.as_str()),
            "{id}"
        );
        assert_eq!(r.deadline(), returned.deadline);
    }
    d.reassign("T1", HUJIALOU, "lead", "the street office handles it")
        .unwrap();
    assert_eq!(sink.last(), t(&["T1", "T2", "T3"]));
    assert_eq!(d.record("T3").unwrap().agency(), HUJIALOU);
    assert_eq!((d.open_at(HUJIALOU), d.open_at(&returned.agency)), (1, 0));

    let claim = d.claim(HUJIALOU, "w2").unwrap().unwrap();
    assert_eq!(claim.callers, 3);
    d.resolve("T1", "w2", "valve closed").unwrap();
    assert_eq!(sink.last(), t(&["T1", "T2", "T3"]));
    for id in ["T1", "T2", "T3"] {
        d.evaluate(id, answers(true)).unwrap();
    }
    // The agency that handled the incident gets the credit, per caller.
    let rates: BTreeMap<String, u64> = d
        .rates(GroupBy::Agency, Timestamp::MIN, Timestamp::MAX)
        .into_iter()
        .map(|r| (r.key, r.evaluated))
        .collect();
    assert_eq!(rates, BTreeMap::from([(HUJIALOU.to_string(), 3)]));

    // Without members an operation is one change, as before.
    d.submit(water("T4", "又爆了")).unwrap();
    d.claim(WATER, "w1").unwrap().unwrap();
    d.resolve("T4", "w1", "done").unwrap();
    assert_eq!(sink.last(), t(&["T4"]));
}

#[test]
fn an_urgent_report_does_not_join_a_normal_incident() {
    let (d, clock, calls) = setup();
    let broken =
        |id: &str| Ticket::new(id, "电梯坏了一个星期没人修").with_address("朝阳区呼家楼街道");
    let trapped =
        |id: &str| Ticket::new(id, "电梯坏了，有人被困在里面").with_address("朝阳区呼家楼街道");
    d.submit(broken("N1")).unwrap();
    clock.advance(mins(5));
    let urgent = d.submit(trapped("U1")).unwrap();
    assert_eq!((urgent.incident, urgent.priority), (None, Priority::Urgent));
    assert!(calls
        .lock()
        .unwrap()
        .ends_with(&["link U1 -> N1".into(), "split U1".into()]));
    // The other way round it joins, under the urgent head's deadline.
    clock.advance(mins(5));
    let normal = d.submit(broken("N2")).unwrap();
    assert_eq!(
        normal.incident.as_deref(),
        Some("N1"),
        "the earliest open incident"
    );
    let (d, clock, _) = setup();
    let head = d.submit(trapped("U1")).unwrap();
    clock.advance(mins(5));
    let member = d.submit(broken("N1")).unwrap();
    assert_eq!(member.incident.as_deref(), Some("U1"));
    assert_eq!(
        (member.priority, member.deadline),
        (Priority::Urgent, head.deadline)
    );
}

/// Answers whatever it was told to, and keeps what it was told.
struct Scripted {
    answers: Vec<Option<&'static str>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl Linker for Scripted {
    fn link(&mut self, t: &Ticket, _: &Decision, _: Timestamp) -> Option<(String, Vec<String>)> {
        let answer = self.answers.remove(0);
        self.calls
            .lock()
            .unwrap()
            .push(format!("link {} -> {answer:?}", t.id));
        answer.map(|head| (head.to_string(), vec!["scripted".into()]))
    }
    fn closed(&mut self, head: &str) {
        self.calls.lock().unwrap().push(format!("closed {head}"));
    }
    fn split(&mut self, ticket: &str) {
        self.calls.lock().unwrap().push(format!("split {ticket}"));
    }
    fn restore(&mut self, _: &Ticket, _: &Decision, _: Timestamp, _: Option<&str>) {}
}

#[test]
fn the_linkers_answers_are_checked() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let linker = Scripted {
        // A: alone. B: itself. C: nobody. D: A (joins). E: D, a member.
        // Then A is resolved: F names A, closed.
        answers: vec![
            None,
            Some("B"),
            Some("nobody"),
            Some("A"),
            Some("D"),
            Some("A"),
        ],
        calls: calls.clone(),
    };
    let d = Dispatcher::builder(router())
        .clock(ManualClock::new(START.parse().unwrap()))
        .linker(linker)
        .build();
    for id in ["A", "B", "C", "D", "E"] {
        d.submit(water(id, "门口全是水")).unwrap();
    }
    let incident = |id: &str| d.record(id).unwrap().incident().map(str::to_string);
    assert_eq!(
        ["A", "B", "C", "D", "E"].map(incident),
        [None, None, None, Some("A".into()), None]
    );
    d.claim(WATER, "w").unwrap().unwrap();
    d.resolve("A", "w", "done").unwrap();
    let f = d.submit(water("F", "门口全是水")).unwrap();
    assert_eq!(f.incident, None, "A is resolved");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        [
            "link A -> None",
            "link B -> Some(\"B\")",
            "split B",
            "link C -> Some(\"nobody\")",
            "closed nobody",
            "split C",
            "link D -> Some(\"A\")",
            "link E -> Some(\"D\")",
            "split E",
            "closed A",
            "link F -> Some(\"A\")",
            "closed A",
            "split F",
        ]
    );
}

#[test]
fn submit_many_links_within_a_batch() {
    let (d, clock, _) = setup();
    let results = d.submit_many([
        water("T1", "门口全是水"),
        water("T2", "马路上都是水"),
        Ticket::new("N1", "楼上装修噪音太大").with_address("朝阳区呼家楼街道"),
        water("T3", "楼里停水了"),
        water("T1", "重复"),
    ]);
    let incidents: Vec<_> = results
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|r| r.incident.clone())
                .map_err(|e| e.to_string())
        })
        .collect();
    assert_eq!(
        incidents[..4],
        [
            Ok(None),
            Ok(Some("T1".into())),
            Ok(None),
            Ok(Some("T1".into()))
        ]
    );
    assert!(incidents[4].is_err(), "a duplicate in a batch is refused");
    assert_eq!(d.callers("T1"), Some(3));
    clock.advance(mins(1));
    assert_eq!(d.claim(WATER, "w").unwrap().unwrap().callers, 3);
}

/// The event log, taking its time: yields while it persists, so that other
/// threads run while a ticket's operation is between its checks and its
/// acknowledgement (where the races are).
#[derive(Default)]
struct Slow(Log);

impl Sink for Slow {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        for _ in 0..20 {
            std::thread::yield_now();
        }
        self.0.persist(changes)
    }
}

/// Threads submit reports of one burst (one by one and in batches) while
/// another claims, returns and finally resolves the head. Whatever the
/// interleaving: no member is left linked to a resolved head, every member
/// of the resolved incident was resolved with it, and the event log
/// rebuilds the same runtime.
#[test]
fn linearizable_linking_and_resolving_leave_no_member_behind() {
    const ROUNDS: usize = if cfg!(miri) { 2 } else { 40 };
    const PER_THREAD: usize = 12;
    let mut joined = 0;
    for round in 0..ROUNDS {
        let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
        let log = Arc::new(Slow::default());
        let d = Dispatcher::builder(router())
            .clock(clock.clone())
            .sink(log.clone())
            .linker(linker().0)
            .build();
        d.submit(water("H", "门口全是水")).unwrap();
        let start = Arc::new(Barrier::new(4));
        let mut threads = Vec::new();
        for t in 0..3 {
            let (d, start) = (d.clone(), start.clone());
            threads.push(std::thread::spawn(move || {
                start.wait();
                let ticket = |i: usize| water(&format!("R{round}-{t}-{i:02}"), "又有水");
                if t == 2 {
                    for chunk in (0..PER_THREAD).collect::<Vec<_>>().chunks(4) {
                        for r in d.submit_many(chunk.iter().map(|i| ticket(*i))) {
                            r.unwrap();
                        }
                    }
                } else {
                    for i in 0..PER_THREAD {
                        d.submit(ticket(i)).unwrap();
                    }
                }
            }));
        }
        {
            let (d, start) = (d.clone(), start.clone());
            threads.push(std::thread::spawn(move || {
                start.wait();
                let c = d.claim(WATER, "w").unwrap().unwrap();
                let moved = d.return_ticket(&c.id, "w", "not ours").unwrap();
                d.claim(&moved.agency, "w").unwrap().unwrap();
                d.resolve("H", "w", "repaired").unwrap();
            }));
        }
        for t in threads {
            t.join().unwrap();
        }
        let head = d.record("H").unwrap();
        assert_eq!(head.state(), State::Resolved);
        let members = d.incident("H").unwrap().members;
        let mut linked = 0;
        d.for_each_record(|r| {
            let id = &r.ticket().id;
            if r.incident() == Some("H") {
                assert_eq!(
                    r.state(),
                    State::Resolved,
                    "round {round}: {id} left behind"
                );
                assert_eq!(r.agency(), head.agency(), "{id} followed its head");
                assert!(members.contains(id));
                linked += 1;
            } else if id != "H" {
                // Came after the resolution (or while the head was busy
                // inside a batch): its own work item, or in the next
                // incident.
                assert_ne!(r.state(), State::Resolved, "{id}");
            }
        });
        assert_eq!(linked, members.len());
        joined += linked;
        let restored = Dispatcher::builder(router())
            .clock(ManualClock::new(clock.now()))
            .restore(log.0.events())
            .unwrap();
        assert_eq!(restored.incident("H"), d.incident("H"), "round {round}");
        assert_eq!(restored.counts(), d.counts(), "round {round}");
    }
    assert!(
        joined > 0,
        "no report ever joined the incident: the test tests nothing"
    );
}

/// The event log, refusing everything while `refuse` is set.
#[derive(Default)]
struct Refusing {
    log: Log,
    refuse: std::sync::atomic::AtomicBool,
}

impl Sink for Refusing {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        if self.refuse.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SinkError::new("disk full"));
        }
        self.log.persist(changes)
    }
}

#[test]
fn a_refusing_sink_changes_no_incident() {
    use std::sync::atomic::Ordering::SeqCst;
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let sink = Arc::new(Refusing::default());
    let (linker, calls) = linker();
    let d = Dispatcher::builder(router())
        .clock(clock.clone())
        .sink(sink.clone())
        .linker(linker)
        .build();
    burst(&d, &clock);
    let before = |d: &Dispatcher| {
        let ids = ["T1", "T2", "T3", "T4"];
        (
            ids.map(|id| d.record(id).map(|r| (r.state(), r.agency().to_string()))),
            d.incident("T1"),
            d.counts(),
            d.open_at(WATER),
        )
    };
    let was = before(&d);
    sink.refuse.store(true, SeqCst);
    assert!(d.submit(water("T4", "还在冒水")).is_err());
    assert_eq!(
        before(&d),
        was,
        "a refused member leaves its incident as it was"
    );
    sink.refuse.store(false, SeqCst);
    d.claim(WATER, "w1").unwrap().unwrap();
    let was = before(&d);
    sink.refuse.store(true, SeqCst);
    assert!(matches!(
        d.resolve("T1", "w1", "done"),
        Err(OpError::Sink(_))
    ));
    assert!(matches!(
        d.return_ticket("T1", "w1", "x"),
        Err(OpError::Sink(_))
    ));
    assert_eq!(before(&d), was, "head and members unchanged");
    sink.refuse.store(false, SeqCst);
    d.resolve("T1", "w1", "done").unwrap();
    assert_eq!(d.record("T3").unwrap().state(), State::Resolved);

    // A head the sink refused is not here: the linker is told when it names
    // it, and the next report joins the one that stood alone instead.
    clock.advance(SignedDuration::from_hours(5));
    sink.refuse.store(true, SeqCst);
    assert!(d.submit(water("X1", "门口全是水")).is_err());
    sink.refuse.store(false, SeqCst);
    assert_eq!(d.submit(water("X2", "门口全是水")).unwrap().incident, None);
    assert_eq!(
        d.submit(water("X3", "门口全是水"))
            .unwrap()
            .incident
            .as_deref(),
        Some("X2")
    );
    let calls = calls.lock().unwrap();
    let tail: Vec<&str> = calls[calls.len() - 5..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "link X1 -> -",
            "link X2 -> X1",
            "closed X1",
            "split X2",
            "link X3 -> X2"
        ]
    );
}
