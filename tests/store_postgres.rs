//! PostgreSQL as the event store: a restore rebuilds exactly what was
//! acknowledged (lifecycles, work-list order, incidents, purges); group
//! commit batches concurrent operations; a second writer is refused; a
//! standby takes over when the writer's session dies, with every
//! acknowledged event, while the old writer can no longer write.
//!
//! Needs a database: `HOTLINE_TEST_POSTGRES=postgres://…` (`.ci/postgres`
//! starts a throw-away one). Without it the tests fail when `CI` is set and
//! are skipped otherwise. Each test works in its own schema, dropped at the
//! end, so they run in parallel. Time is a `ManualClock`.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hotline_router::dispatch::{
    Clock, Dispatcher, Evaluation, ManualClock, State, SubmitError, TicketRecord,
};
use hotline_router::store::postgres::{PgError, PgOptions, PgStore, Standby};
use hotline_router::{Router, Ticket};
use jiff::{SignedDuration, Timestamp};

mod common;
use common::PrefixLinker;

const START: &str = "2024-11-20T08:00:00+08:00";
const HUJIALOU: &str = "street:110105003";
const TRIAGE: &str = "center:triage";
const WATER: &str = "city:water";

fn router() -> Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(Router::beijing).clone()
}

#[path = "support/postgres.rs"]
mod postgres_support;
use postgres_support::database;

/// A schema of its own for one test, dropped when the test ends.
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(test: &str) -> Option<Schema> {
        let url = database()?;
        let name = format!("t_{test}_{}", std::process::id());
        let schema = Schema { url, name };
        schema.drop_it();
        Some(schema)
    }

    fn options(&self) -> PgOptions {
        PgOptions::new(self.url.clone())
            .schema(self.name.clone())
            .poll_every(Duration::from_millis(20))
    }

    fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test database")
    }

    fn drop_it(&self) {
        self.client()
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .unwrap();
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.drop_it();
        }
    }
}

fn clock_at(at: Timestamp) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at))
}

fn open(schema: &Schema, clock: &Arc<ManualClock>) -> Result<(Dispatcher, PgStore), PgError> {
    Dispatcher::builder(router())
        .clock(clock.clone())
        .linker(PrefixLinker::new(SignedDuration::from_hours(2), 4))
        .open_postgres(&schema.options())
}

fn twin(clock: &Arc<ManualClock>) -> Dispatcher {
    Dispatcher::builder(router())
        .clock(clock.clone())
        .linker(PrefixLinker::new(SignedDuration::from_hours(2), 4))
        .build()
}

/// A noise complaint the linker links to no other: its first characters
/// (the linker's key) are its id.
fn noise(id: &str) -> Ticket {
    Ticket::new(id, format!("{id}号楼上装修噪音太大")).with_address("朝阳区呼家楼街道")
}

fn water(id: &str, words: &str) -> Ticket {
    Ticket::new(id, format!("水管爆了，{words}")).with_address("朝阳区呼家楼街道")
}

/// Everything observable about every record and incident, sorted.
fn state(d: &Dispatcher) -> Vec<String> {
    let mut lines = Vec::new();
    let mut ids = Vec::new();
    d.for_each_record(|r: &TicketRecord| {
        ids.push(r.ticket().id.clone());
        lines.push(format!(
            "{} {:?} agency={} incident={:?} worker={:?} {:?} deadline={} lease={:?} \
             escalated={} evaluation={:?} history={:?}",
            r.ticket().id,
            r.state(),
            r.agency(),
            r.incident(),
            r.worker(),
            r.priority(),
            r.deadline(),
            r.lease_until(),
            r.is_escalated(),
            r.evaluation(),
            r.history(),
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
    lines.push(format!("{:?}", d.counts()));
    for agency in [HUJIALOU, TRIAGE, WATER] {
        lines.push(format!("open_at {agency} = {}", d.open_at(agency)));
    }
    lines
}

/// Claims everything claimable, agency by agency: the work lists' order.
fn drain(d: &Dispatcher) -> Vec<String> {
    let mut out = Vec::new();
    let mut agencies = std::collections::BTreeSet::new();
    d.for_each_record(|r| {
        agencies.insert(r.agency().to_string());
    });
    for agency in &agencies {
        while let Some(c) = d.claim(agency, "drain").unwrap() {
            out.push(format!(
                "{agency} {} {:?} callers={}",
                c.id, c.priority, c.callers
            ));
        }
    }
    out
}

/// Every kind of operation; run on the stored runtime and on an in-memory
/// twin, it must answer the same. Returns the answers.
fn workload(d: &Dispatcher, clock: &ManualClock) -> Vec<String> {
    let mut log = Vec::new();
    let mut note = |r: String| log.push(r);
    // Equal times: only the work-list numbers order these.
    for i in 0..12 {
        note(format!("{:?}", d.submit(noise(&format!("N{i:02}")))));
    }
    note(format!(
        "{:?}",
        d.submit(Ticket::new("Z0", "路灯不亮\u{0}了").with_address("朝阳区呼家楼街道"))
    ));
    clock.advance(SignedDuration::from_mins(1));
    note(format!("{:?}", d.submit(water("W1", "门口全是水"))));
    clock.advance(SignedDuration::from_mins(5));
    note(format!("{:?}", d.submit(water("W2", "马路上都是水"))));
    note(format!("{:?}", d.submit(water("W3", "楼里停水了"))));
    note(format!("{:?}", d.split("W3", "lead", "another main")));
    let mut claimed = Vec::new();
    for k in 0..8 {
        let c = d.claim(HUJIALOU, format!("w{k}")).unwrap().expect("queued");
        claimed.push((c.id, format!("w{k}")));
    }
    for (k, (id, w)) in claimed.iter().enumerate() {
        let r = match k % 4 {
            0 => d.return_ticket(id, w, "not ours").map(|_| ()),
            1 => d.reassign(id, TRIAGE, "lead", "wrong desk").map(|_| ()),
            2 => d.respond(id, w),
            _ => d
                .respond(id, w)
                .and_then(|()| d.resolve(id, w, "talked to the neighbours"))
                .and_then(|()| {
                    d.evaluate(
                        id,
                        Evaluation {
                            responded: true,
                            resolved: true,
                            satisfied: k == 3,
                        },
                    )
                }),
        };
        note(format!("{id} {r:?}"));
    }
    let head = d.claim(WATER, "plumber").unwrap().expect("the incident");
    note(format!("{} callers={}", head.id, head.callers));
    note(format!(
        "{:?}",
        d.resolve(&head.id, "plumber", "main repaired")
    ));
    clock.advance(SignedDuration::from_hours(1));
    note(format!("purged {:?}", d.purge_closed(clock.now())));
    note(format!("expired {}", d.expire_leases(clock.now())));
    log
}

#[test]
fn a_restore_rebuilds_lifecycles_incidents_work_lists_and_purges() {
    let Some(schema) = Schema::new("round_trip") else {
        return;
    };
    let (clock, twin_clock) = (
        clock_at(START.parse().unwrap()),
        clock_at(START.parse().unwrap()),
    );
    let twin = twin(&twin_clock);
    let (d, store) = open(&schema, &clock).unwrap();
    let answers = workload(&d, &clock);
    assert_eq!(answers, workload(&twin, &twin_clock));
    assert!(answers.iter().any(|a| a == "W1 callers=2"), "{answers:?}");
    assert!(answers.contains(&"purged Ok(2)".to_string()), "{answers:?}");
    assert_eq!(state(&d), state(&twin));
    let written = store.stats();
    assert!(written.changes > 40, "{written:?}");
    drop((d, store));

    let (restored, store) = open(&schema, &clock_at(twin_clock.now())).unwrap();
    assert_eq!(
        store.stats().position,
        written.position,
        "restore read the whole log"
    );
    assert_eq!(state(&restored), state(&twin));
    assert_eq!(
        restored.record("Z0").unwrap().ticket().text,
        "路灯不亮\u{0}了"
    );
    // The purged ticket stays gone, and its id refused.
    let purged = twin.submit(noise("N03")).unwrap_err();
    assert!(matches!(purged, SubmitError::Purged(_)), "{purged:?}");
    let again = restored.submit(noise("N03")).unwrap_err();
    assert_eq!(format!("{again:?}"), format!("{purged:?}"));
    // The same work, in the same order, on both.
    let order = drain(&twin);
    assert!(order.len() > 8, "{order:?}");
    assert_eq!(drain(&restored), order);
    assert_eq!(state(&restored), state(&twin));
    drop((restored, store));

    // What was done after the restore was stored too.
    let (again, _store) = open(&schema, &clock_at(twin_clock.now())).unwrap();
    assert_eq!(state(&again), state(&twin));
}

#[test]
fn concurrent_submits_share_transactions() {
    let Some(schema) = Schema::new("group_commit") else {
        return;
    };
    let clock = clock_at(START.parse().unwrap());
    let (d, store) = open(&schema, &clock).unwrap();
    const THREADS: usize = 8;
    const EACH: usize = 40;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let d = &d;
            s.spawn(move || {
                for i in 0..EACH {
                    d.submit(noise(&format!("T{t}-{i:02}"))).unwrap();
                }
            });
        }
    });
    let stats = store.stats();
    eprintln!(
        "{} submits from {THREADS} threads: {} transactions ({:.1} changes each)",
        THREADS * EACH,
        stats.transactions,
        stats.changes as f64 / stats.transactions as f64
    );
    assert_eq!(stats.changes, (THREADS * EACH) as u64);
    assert!(stats.transactions < stats.changes, "no batching: {stats:?}");
    let before = state(&d);
    drop((d, store));

    let (restored, _store) = open(&schema, &clock).unwrap();
    assert_eq!(restored.counts().total, THREADS * EACH);
    assert_eq!(state(&restored), before);
}

#[test]
fn a_second_writer_is_refused_until_the_first_is_gone() {
    let Some(schema) = Schema::new("fencing") else {
        return;
    };
    let clock = clock_at(START.parse().unwrap());
    let (d, store) = open(&schema, &clock).unwrap();
    d.submit(noise("A1")).unwrap();

    let err = open(&schema, &clock).unwrap_err();
    assert!(
        matches!(&err, PgError::Locked { schema: s, .. } if *s == schema.name),
        "{err}"
    );
    assert!(err.to_string().contains("--standby"), "{err}");
    assert!(
        store.poisoned().is_none(),
        "the refused one did not disturb the writer"
    );
    d.submit(noise("A2")).unwrap();

    // A standby waits for the lock: it gets it once the writer is gone.
    let standby = Standby::start(&schema.options()).unwrap();
    drop((d, store));
    let (d, _store) = standby
        .take_over(Dispatcher::builder(router()).clock(clock.clone()))
        .unwrap();
    assert!(d.record("A1").is_some() && d.record("A2").is_some());
}

#[test]
fn a_standby_takes_over_with_every_acknowledged_event() {
    let Some(schema) = Schema::new("takeover") else {
        return;
    };
    let clock = clock_at(START.parse().unwrap());
    let (active, store) = open(&schema, &clock).unwrap();
    for i in 0..20 {
        active.submit(noise(&format!("A{i:02}"))).unwrap();
    }
    active.submit(water("W1", "门口全是水")).unwrap();
    active.submit(water("W2", "马路上都是水")).unwrap();
    let c = active.claim(HUJIALOU, "w1").unwrap().unwrap();
    active.respond(&c.id, "w1").unwrap();
    // The standby reads what is there when it starts, then (polling once an
    // hour here) nothing more: the rest is the tail it reads on takeover.
    let standby = Standby::start(&schema.options().poll_every(Duration::from_secs(3600))).unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while standby.position() < store.stats().position {
        assert!(Instant::now() < until, "the standby never caught up");
        std::thread::sleep(Duration::from_millis(5));
    }
    // More is acknowledged that it has not seen: the tail.
    for i in 20..30 {
        active.submit(noise(&format!("A{i:02}"))).unwrap();
    }
    active.resolve(&c.id, "w1", "done").unwrap();
    let acknowledged = state(&active);

    // The active's session dies (as when its process is killed).
    let killed = Instant::now();
    let terminated: bool = schema
        .client()
        .query_one("SELECT pg_terminate_backend($1)", &[&store.backend_pid()])
        .unwrap()
        .get(0);
    assert!(terminated);
    let (d, new_store) = standby
        .take_over(
            Dispatcher::builder(router())
                .clock(clock.clone())
                .linker(PrefixLinker::new(SignedDuration::from_hours(2), 4)),
        )
        .unwrap();
    eprintln!(
        "takeover: {:?} from the kill to a restored writer",
        killed.elapsed()
    );
    assert_eq!(
        state(&d),
        acknowledged,
        "every acknowledged event, nothing else"
    );

    // The old writer is fenced off: it cannot write any more.
    let refused = active.submit(noise("OLD")).unwrap_err();
    assert!(store.poisoned().is_some(), "{refused:?}");
    assert!(active.submit(noise("OLD2")).is_err());
    // The new one writes, and a restart sees it.
    d.submit(noise("NEW")).unwrap();
    assert_eq!(d.claim(HUJIALOU, "w2").unwrap().unwrap().id, "A01");
    let after = state(&d);
    drop((d, new_store, active, store));
    let (again, _store) = open(&schema, &clock).unwrap();
    assert_eq!(state(&again), after);
    assert!(again.record("OLD").is_none());
    assert_eq!(
        again.record("A00").unwrap().state(),
        State::Resolved,
        "the first claim"
    );
}

#[test]
fn a_row_that_is_not_a_record_is_named() {
    let Some(schema) = Schema::new("decode") else {
        return;
    };
    let clock = clock_at(START.parse().unwrap());
    let (d, store) = open(&schema, &clock).unwrap();
    d.submit(noise("A1")).unwrap();
    drop((d, store));
    let pos: i64 = schema
        .client()
        .query_one(
            &format!(
                "INSERT INTO {}.events (record) VALUES ('{{\"nope\":1}}') RETURNING pos",
                schema.name
            ),
            &[],
        )
        .unwrap()
        .get(0);
    match open(&schema, &clock) {
        Err(PgError::Decode { pos: at, .. }) => assert_eq!(at, pos),
        other => panic!("expected a decode error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn schema_names_are_plain_identifiers() {
    let options = PgOptions::new("postgres://127.0.0.1:1/none").schema("a\"; DROP SCHEMA x");
    let err = Dispatcher::builder(router())
        .open_postgres(&options)
        .unwrap_err();
    assert!(matches!(err, PgError::SchemaName(_)), "{err}");
    assert!(matches!(
        Standby::start(&options),
        Err(PgError::SchemaName(_))
    ));
}
