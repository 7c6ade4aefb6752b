//! The crate's journal under the dispatcher: a runtime restored from it is
//! the runtime that was dropped (from the log alone, from a snapshot, from
//! a snapshot taken while other threads worked), checkpoints compact, purged
//! tickets leave the journal and stay refused, snapshots are taken in the
//! background, and restore time does not grow with the journal's age.
//!
//! Time is a `ManualClock`. The only sleeps wait for a background thread
//! (a snapshot, a worker), bounded, and nothing asserts how long anything
//! took. Directories live under Cargo's per-target temporary directory,
//! one per test.

mod common;
use common::router;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use hotline_router::dispatch::{
    Change, Claim, Clock, Dispatcher, Evaluation, Event, ManualClock, OpenError, Sink, SinkError,
    State, SubmitError,
};
use hotline_router::journal::{
    Journal, JournalError, JournalOptions, Recovery, Replayed, SyncPolicy,
};
use hotline_router::{Crs, Ticket};
use jiff::{SignedDuration, Timestamp};

const START: &str = "2024-11-20T08:00:00+08:00";
const HUJIALOU: &str = "street:110105003";
const TRIAGE: &str = "center:triage";
const DISTRICT: &str = "district:110105:gov";

fn clock_at(at: Timestamp) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at))
}

fn start_clock() -> Arc<ManualClock> {
    clock_at(START.parse().unwrap())
}

/// A fresh directory path for one test (the journal creates it).
fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("durable")
        .join(format!("{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn open_with(
    dir: &Path,
    clock: &Arc<ManualClock>,
    options: JournalOptions,
) -> (Dispatcher, Recovery) {
    Dispatcher::builder(router())
        .clock(clock.clone())
        .open_journal(dir, options)
        .unwrap_or_else(|e| panic!("open {}: {e}", dir.display()))
}

/// Opens with the default options: every operation synced before it is
/// acknowledged.
fn open(dir: &Path, clock: &Arc<ManualClock>) -> (Dispatcher, Recovery) {
    open_with(dir, clock, JournalOptions::new())
}

/// For the bulk tests: acknowledged once written (the page cache survives
/// a drop, which is all these tests do), synced at most hourly. Keeps a
/// thousand operations from costing a thousand `fdatasync`s.
fn fast() -> JournalOptions {
    JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_secs(3600)))
}

/// An in-memory runtime: the twin that is never restarted.
fn twin(clock: &Arc<ManualClock>) -> Dispatcher {
    Dispatcher::builder(router()).clock(clock.clone()).build()
}

fn noise(id: &str) -> Ticket {
    Ticket::new(id, "楼上装修噪音太大").with_address("朝阳区呼家楼街道")
}

fn answers(k: usize) -> Evaluation {
    Evaluation {
        responded: true,
        resolved: k.is_multiple_of(2),
        satisfied: k.is_multiple_of(3),
    }
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    out.sort();
    out
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// Copies a journal directory (not its lock): the journal as it is now,
/// to be restored while the original runtime goes on.
fn copy_journal(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "LOCK") {
            fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

/// Polls `done` up to about 30 s: for waiting on another thread, never a
/// measure of speed.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..30_000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("gave up waiting for {what}");
}

/// Everything observable about every record, one line each (sorted), then
/// the counts and every agency's open count.
fn state(d: &Dispatcher) -> Vec<String> {
    let mut lines = Vec::new();
    let mut agencies: BTreeSet<String> = [HUJIALOU, TRIAGE, DISTRICT].map(String::from).into();
    d.for_each_record(|r| {
        agencies.insert(r.agency().to_string());
        lines.push(format!(
            "{} {:?} agency={} worker={:?} {:?} deadline={} lease={:?} escalated={} \
             returned_from={:?} moves={} dispatched_at={} responded_at={:?} \
             resolved_at={:?} evaluation={:?} history={:?}",
            r.ticket().id,
            r.state(),
            r.agency(),
            r.worker(),
            r.priority(),
            r.deadline(),
            r.lease_until(),
            r.is_escalated(),
            r.returned_from(),
            r.moves(),
            r.dispatched_at(),
            r.responded_at(),
            r.resolved_at(),
            r.evaluation(),
            r.history(),
        ));
    });
    lines.sort();
    lines.push(format!("{:?}", d.counts()));
    for agency in agencies {
        lines.push(format!("open_at {agency} = {}", d.open_at(&agency)));
    }
    lines
}

/// Line-by-line comparison that names the first difference instead of
/// printing two thousand-line strings.
fn assert_same(what: &str, got: &[String], expected: &[String]) {
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g, e, "{what}: line {i} differs");
    }
    assert_eq!(
        got.len(),
        expected.len(),
        "{what}: {} lines, expected {}",
        got.len(),
        expected.len()
    );
}

/// The agencies that hold or held a ticket, sorted.
fn agencies(d: &Dispatcher) -> Vec<String> {
    let mut set: BTreeSet<String> = [HUJIALOU, TRIAGE, DISTRICT].map(String::from).into();
    d.for_each_record(|r| {
        set.insert(r.agency().to_string());
    });
    set.into_iter().collect()
}

fn describe(agency: &str, c: &Claim) -> String {
    format!(
        "{agency} {} {:?} deadline={} lease={}",
        c.id, c.priority, c.deadline, c.lease_until
    )
}

/// Claims everything claimable, agency by agency: the work lists' order.
fn drain(d: &Dispatcher, agencies: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for agency in agencies {
        while let Some(c) = d.claim(agency, "drain").unwrap() {
            out.push(describe(agency, &c));
        }
    }
    out
}

/// `restored` is `twin`: same records, counts, open counts, overdue list,
/// the same claims in the same order; then, 40 days on, the same leases
/// run out, the same deadlines pass, and the same tickets come back.
fn assert_restored(restored: &Dispatcher, twin: &Dispatcher, now: Timestamp) {
    assert_same("state", &state(restored), &state(twin));
    assert_eq!(restored.overdue(now), twin.overdue(now), "overdue");
    let agencies = agencies(twin);
    let (got, expected) = (drain(restored, &agencies), drain(twin, &agencies));
    assert!(!expected.is_empty(), "the workload leaves tickets to claim");
    assert_same("claims", &got, &expected);
    assert_same("state after the claims", &state(restored), &state(twin));

    let later = now
        .checked_add(SignedDuration::from_hours(40 * 24))
        .unwrap();
    let expired = twin.expire_leases(later);
    assert!(expired > expected.len(), "the workload's claim expires too");
    assert_eq!(restored.expire_leases(later), expired, "expired leases");
    let overdue = twin.overdue(later);
    assert_eq!(restored.overdue(later), overdue, "overdue later");
    assert_same(
        "claims after the leases ran out",
        &drain(restored, &agencies),
        &drain(twin, &agencies),
    );
    assert_same("state at the end", &state(restored), &state(twin));
}

/// What an operation answered, for comparing two runs of the workload.
fn note<T: std::fmt::Debug, E: std::fmt::Debug>(log: &mut Vec<String>, r: Result<T, E>) {
    log.push(format!("{r:?}"));
}

/// The first half of the mixed workload: submits (with equal times, so
/// submission order decides), urgent tickets, claims, responds, resolves,
/// returns, reassignments of claimed and of queued tickets, evaluations and
/// lease expiry. Run on a journaled runtime and on its twin, it must answer
/// the same; returns the answers.
fn workload_a(d: &Dispatcher, clock: &ManualClock) -> Vec<String> {
    let mut log = Vec::new();
    for i in 0..30usize {
        if i.is_multiple_of(5) {
            clock.advance(SignedDuration::from_mins(1));
        }
        note(&mut log, d.submit(noise(&format!("N{i:02}"))));
    }
    for i in 0..3 {
        let trapped = Ticket::new(format!("U{i}"), "电梯坏了，有人被困在里面")
            .with_address("朝阳区呼家楼街道");
        note(&mut log, d.submit(trapped));
        let broken =
            Ticket::new(format!("E{i}"), "电梯坏了一个星期没人修").with_address("朝阳区呼家楼街道");
        note(&mut log, d.submit(broken));
    }
    // Taken during an outage ten minutes ago: first in line among equals.
    let ten_ago = clock
        .now()
        .checked_sub(SignedDuration::from_mins(10))
        .unwrap();
    note(&mut log, d.submit(noise("LATE").with_received_at(ten_ago)));
    note(&mut log, d.submit(Ticket::new("G0", "楼道里燃气泄漏")));

    let mut claims = Vec::new();
    for k in 0..18usize {
        let worker = if k.is_multiple_of(2) { "w1" } else { "w2" };
        let c = d.claim(HUJIALOU, worker).unwrap().expect("a queued ticket");
        log.push(describe(HUJIALOU, &c));
        claims.push((c.id, worker));
    }
    for (k, (id, w)) in claims.iter().enumerate() {
        match k % 6 {
            0 => note(&mut log, d.return_ticket(id, w, "not ours")),
            1 => note(&mut log, d.reassign(id, TRIAGE, "lead", "wrong desk")),
            2 => {} // left claimed: the lease runs out below
            3 => note(&mut log, d.respond(id, w)),
            4 => {
                note(&mut log, d.respond(id, w));
                note(&mut log, d.resolve(id, w, "talked to the neighbours"));
            }
            _ => {
                note(&mut log, d.respond(id, w));
                note(&mut log, d.resolve(id, w, "work hours agreed"));
                note(&mut log, d.evaluate(id, answers(k)));
            }
        }
    }
    // Queued tickets moved by hand.
    note(
        &mut log,
        d.reassign("N29", DISTRICT, "lead", "district matter"),
    );
    note(
        &mut log,
        d.reassign("N28", DISTRICT, "lead", "district matter"),
    );
    let gas = d.claim("city:gas", "g").unwrap().expect("the gas ticket");
    note(&mut log, d.resolve(&gas.id, "g", "valve closed"));
    note(&mut log, d.evaluate(&gas.id, answers(0)));

    clock.advance(SignedDuration::from_mins(31));
    let expired = d.expire_leases(clock.now());
    assert_eq!(expired, 3, "the claims left alone");
    log.push(format!("expired {expired}"));
    let t1 = d.claim(TRIAGE, "t").unwrap().expect("a reassigned ticket");
    note(&mut log, d.respond(&t1.id, "t"));
    note(&mut log, d.resolve(&t1.id, "t", "sent on"));
    let t2 = d.claim(TRIAGE, "t").unwrap().expect("a second one");
    log.push(describe(TRIAGE, &t2)); // left claimed, lease running
    log
}

/// The second half: past the urgent tickets' deadlines (escalation), an
/// escalated ticket resolved, more submits and claims.
fn workload_b(d: &Dispatcher, clock: &ManualClock) -> Vec<String> {
    let mut log = Vec::new();
    let urgent = d.record("U0").unwrap().deadline();
    let normal = d.record("N00").unwrap().deadline();
    assert!(urgent < normal, "urgent tickets are due first");
    clock.set(urgent.checked_add(SignedDuration::from_mins(1)).unwrap());
    let overdue = d.overdue(clock.now());
    assert!(!overdue.is_empty() && overdue.len() < 6, "{overdue:?}");
    log.push(format!("{overdue:?}"));
    // The escalated urgent tickets come first on the street's list.
    let c = d.claim(HUJIALOU, "w3").unwrap().expect("queued");
    log.push(describe(HUJIALOU, &c));
    note(&mut log, d.respond(&c.id, "w3"));
    note(&mut log, d.resolve(&c.id, "w3", "rescued"));
    for i in 0..6 {
        note(&mut log, d.submit(noise(&format!("M{i}"))));
    }
    for w in ["w4", "w5"] {
        let c = d.claim(HUJIALOU, w).unwrap().expect("queued");
        log.push(describe(HUJIALOU, &c));
        note(&mut log, d.respond(&c.id, w));
    }
    // Claimed, its lease running at the end.
    let c = d.claim(HUJIALOU, "w6").unwrap().expect("queued");
    log.push(describe(HUJIALOU, &c));
    log
}

fn assert_twins(d: &Dispatcher, twin: &Dispatcher) {
    assert_same("journaled vs in-memory", &state(d), &state(twin));
}

#[test]
fn round_trip_from_the_log_alone() {
    let dir = fresh_dir("round-trip-log");
    let (clock, twin_clock) = (start_clock(), start_clock());
    let twin = twin(&twin_clock);
    let (d, recovery) = open(&dir, &clock);
    assert_eq!((recovery.snapshot_lsn, recovery.log_records), (None, 0));
    assert_eq!(workload_a(&d, &clock), workload_a(&twin, &twin_clock));
    assert_eq!(workload_b(&d, &clock), workload_b(&twin, &twin_clock));
    assert_twins(&d, &twin);
    drop(d);

    let (restored, recovery) = open(&dir, &clock_at(twin_clock.now()));
    assert_eq!(recovery.snapshot_lsn, None);
    assert!(recovery.log_records > 50, "{recovery:?}");
    assert_eq!(recovery.torn_tail, None);
    assert_restored(&restored, &twin, twin_clock.now());

    // The restored runtime kept journaling: once more, with the claims.
    drop(restored);
    let (again, _) = open(&dir, &clock_at(twin_clock.now()));
    assert_same("second restore", &state(&again), &state(&twin));
    drop(again);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn round_trip_through_a_checkpoint() {
    let dir = fresh_dir("round-trip-checkpoint");
    let (clock, twin_clock) = (start_clock(), start_clock());
    let twin = twin(&twin_clock);
    let (d, _) = open(&dir, &clock);
    assert_eq!(workload_a(&d, &clock), workload_a(&twin, &twin_clock));
    let report = d.checkpoint().unwrap().expect("a journal");
    assert_eq!(report.items as usize, d.counts().total);
    assert_eq!(workload_b(&d, &clock), workload_b(&twin, &twin_clock));
    assert_twins(&d, &twin);
    drop(d);

    let (restored, recovery) = open(&dir, &clock_at(twin_clock.now()));
    assert_eq!(recovery.snapshot_lsn, Some(report.lsn));
    assert_eq!(recovery.snapshot_items, report.items);
    assert!(recovery.log_records > 0, "workload_b is in the log");
    assert_restored(&restored, &twin, twin_clock.now());
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

/// One worker of the fuzzy-snapshot test: submits its own tickets (each
/// with its own time of receipt, so no two tie on the work list) and takes
/// what it claims a step further, until told to stop.
fn busy(d: &Dispatcher, t: usize, base: Timestamp, done: &AtomicUsize, stop: &AtomicBool) {
    let worker = format!("w{t}");
    for i in 0..5_000usize {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let id = format!("F{t}-{i:04}");
        let at = base
            .checked_sub(SignedDuration::from_secs((t * 10_000 + i) as i64))
            .unwrap();
        d.submit(noise(&id).with_received_at(at)).unwrap();
        if let Some(c) = d.claim(HUJIALOU, &worker).unwrap() {
            match i % 5 {
                0 => {
                    d.respond(&c.id, &worker).unwrap();
                    d.resolve(&c.id, &worker, "done").unwrap();
                    d.evaluate(&c.id, answers(i)).unwrap();
                }
                1 => drop(d.return_ticket(&c.id, &worker, "not ours").unwrap()),
                2 => drop(d.reassign(&c.id, TRIAGE, &worker, "by hand").unwrap()),
                3 => d.respond(&c.id, &worker).unwrap(),
                _ => {} // stays claimed
            }
        }
        done.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sets the flag when dropped, so workers stop even if the test fails.
struct StopOnDrop<'a>(&'a AtomicBool);
impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn round_trip_through_a_checkpoint_taken_while_two_threads_work() {
    let dir = fresh_dir("round-trip-fuzzy");
    let clock = start_clock();
    let (d, _) = open(&dir, &clock);
    let base = clock.now();
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut snapshot = None;
    std::thread::scope(|s| {
        let _stop = StopOnDrop(&stop);
        for t in 0..2 {
            let (d, done, stop) = (&d, &done, &stop);
            s.spawn(move || busy(d, t, base, done, stop));
        }
        wait_for("the workers to start", || done.load(Ordering::SeqCst) >= 20);
        // Retry until a checkpoint overlapped operations (nearly always the
        // first: the workers never pause).
        for _ in 0..100 {
            let before = done.load(Ordering::SeqCst);
            let report = d.checkpoint().unwrap().unwrap();
            if done.load(Ordering::SeqCst) > before {
                snapshot = Some(report);
                break;
            }
        }
        let after = done.load(Ordering::SeqCst);
        wait_for("more operations after the snapshot", || {
            done.load(Ordering::SeqCst) >= after + 20
        });
    });
    let snapshot = snapshot.expect("no checkpoint overlapped the workers' operations");
    // More operations, on one thread now.
    for i in 0..5 {
        d.submit(noise(&format!("after-{i}"))).unwrap();
    }
    let c = d.claim(TRIAGE, "t").unwrap().expect("reassigned tickets");
    d.respond(&c.id, "t").unwrap();
    d.resolve(&c.id, "t", "done").unwrap();

    // The runtime at drop: its state, and (on a copy of the journal as it
    // is now) the order its work lists hand tickets out in.
    let at_drop = state(&d);
    let copy = fresh_dir("round-trip-fuzzy-copy");
    copy_journal(&dir, &copy);
    let agencies = agencies(&d);
    let live_claims = drain(&d, &agencies);
    let after_claims = state(&d);
    drop(d);

    let (restored, recovery) = open(&copy, &clock_at(clock.now()));
    assert!(recovery.snapshot_lsn >= Some(snapshot.lsn), "{recovery:?}");
    assert!(recovery.log_records > 0, "{recovery:?}");
    assert_same("state at drop", &state(&restored), &at_drop);
    assert_same("claims", &drain(&restored, &agencies), &live_claims);
    assert_same("state after the claims", &state(&restored), &after_claims);
    drop(restored);
    let (reopened, _) = open(&dir, &clock_at(clock.now()));
    assert_same("the original journal", &state(&reopened), &after_claims);
    drop(reopened);
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&copy);
}

#[test]
fn checkpoint_deletes_the_segments_before_it_and_restore_reads_the_snapshot() {
    let dir = fresh_dir("compaction");
    let (clock, twin_clock) = (start_clock(), start_clock());
    let twin = twin(&twin_clock);
    // Small segments, so the log spans many.
    let (d, _) = open_with(&dir, &clock, JournalOptions::new().segment_bytes(4096));
    assert_eq!(workload_a(&d, &clock), workload_a(&twin, &twin_clock));
    assert_eq!(workload_b(&d, &clock), workload_b(&twin, &twin_clock));
    let before = files(&dir, "log");
    assert!(before.len() > 3, "{before:?}");
    assert!(files(&dir, "snap").is_empty());

    let report = d.checkpoint().unwrap().unwrap();
    assert_eq!(report.segments_removed, before.len());
    let after = files(&dir, "log");
    assert_eq!(
        after,
        [dir.join(format!("journal-{:020}.log", report.lsn))],
        "only the segment the snapshot starts"
    );
    assert_eq!(
        files(&dir, "snap"),
        [dir.join(format!("snapshot-{:020}.snap", report.lsn))]
    );
    assert_eq!(report.items as usize, d.counts().total);
    assert_twins(&d, &twin);
    drop(d);

    let (restored, recovery) = open(&dir, &clock_at(twin_clock.now()));
    assert_eq!(recovery.snapshot_lsn, Some(report.lsn));
    assert_eq!(recovery.snapshot_items, report.items);
    assert_eq!(recovery.log_records, 0, "everything is in the snapshot");
    assert_restored(&restored, &twin, twin_clock.now());
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

/// Takes a claimed ticket to `Evaluated`.
fn close(d: &Dispatcher, id: &str, worker: &str) {
    d.respond(id, worker).unwrap();
    d.resolve(id, worker, "done").unwrap();
    d.evaluate(id, answers(0)).unwrap();
}

#[test]
fn purge_and_checkpoint_drop_closed_tickets_from_the_journal() {
    const TICKETS: usize = 300;
    const OPEN: usize = 20;
    let dir = fresh_dir("purge-compaction");
    let clock = start_clock();
    let (d, _) = open_with(&dir, &clock, fast());
    let results = d.submit_many((0..TICKETS).map(|i| noise(&format!("P{i:03}"))));
    assert!(results.iter().all(Result::is_ok));
    for k in 0..TICKETS {
        let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
        if k < TICKETS - OPEN {
            close(&d, &c.id, "w");
        } else if k.is_multiple_of(2) {
            d.respond(&c.id, "w").unwrap();
        } // else left claimed: open either way, in w's hands
    }
    let open_ids: Vec<String> = {
        let mut ids = Vec::new();
        d.for_each_record(|r| {
            if r.state().is_open() {
                ids.push(r.ticket().id.clone());
            }
        });
        ids
    };
    assert_eq!(open_ids.len(), OPEN);
    let purged_id = "P000";
    assert_eq!(d.record(purged_id).unwrap().state(), State::Evaluated);

    let before = dir_bytes(&dir);
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(d.purge_closed(clock.now()).unwrap(), TICKETS - OPEN);
    let report = d.checkpoint().unwrap().unwrap();
    // The open tickets plus one item of purged-id fingerprints.
    assert_eq!(report.items as usize, OPEN + 1);
    let after = dir_bytes(&dir);
    assert!(
        after * 2 < before,
        "the journal shrank from {before} to {after} bytes only"
    );
    let at_drop = state(&d);
    drop(d);

    let (restored, recovery) = open_with(&dir, &clock_at(clock.now()), fast());
    assert_eq!(recovery.snapshot_lsn, Some(report.lsn));
    assert_eq!(recovery.snapshot_items, report.items);
    assert_eq!(restored.counts().total, OPEN);
    assert_same("restored", &state(&restored), &at_drop);
    let err = restored.submit(noise(purged_id)).unwrap_err();
    assert!(matches!(err, SubmitError::Purged(_)), "{err}");
    assert!(restored.record(purged_id).is_none());

    // A second purge, then a crash before any checkpoint: the marker in the
    // log keeps those ids refused too, and the snapshot's stay refused.
    let closed = &open_ids[..5];
    for id in closed {
        // Every open ticket is in w's hands, claimed or responded.
        if restored.record(id).unwrap().state() == State::Claimed {
            restored.respond(id, "w").unwrap();
        }
        restored.resolve(id, "w", "done").unwrap();
        restored.evaluate(id, answers(0)).unwrap();
    }
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(restored.purge_closed(clock.now()).unwrap(), closed.len());
    drop(restored); // no checkpoint: the purge marker is only in the log

    let (crashed, recovery) = open_with(&dir, &clock_at(clock.now()), fast());
    assert_eq!(recovery.snapshot_lsn, Some(report.lsn));
    assert!(recovery.log_records > 0);
    assert_eq!(crashed.counts().total, OPEN - closed.len());
    for id in closed.iter().map(String::as_str).chain([purged_id]) {
        assert!(crashed.record(id).is_none(), "{id}");
        let err = crashed.submit(noise(id)).unwrap_err();
        assert!(matches!(err, SubmitError::Purged(_)), "{id}: {err}");
    }
    crashed.submit(noise("fresh")).unwrap();
    drop(crashed);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_purge_before_any_checkpoint_survives_a_crash() {
    let dir = fresh_dir("purge-log-only");
    let clock = start_clock();
    let (d, _) = open(&dir, &clock);
    for i in 0..6 {
        d.submit(noise(&format!("K{i}"))).unwrap();
    }
    for _ in 0..4 {
        let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
        close(&d, &c.id, "w");
    }
    clock.advance(SignedDuration::from_hours(1));
    assert_eq!(d.purge_closed(clock.now()).unwrap(), 4);
    let at_drop = state(&d);
    drop(d);

    let (restored, recovery) = open(&dir, &clock);
    assert_eq!(recovery.snapshot_lsn, None);
    assert_same("restored", &state(&restored), &at_drop);
    assert_eq!(restored.counts().total, 2);
    for i in 0..4 {
        let err = restored.submit(noise(&format!("K{i}"))).unwrap_err();
        assert!(matches!(err, SubmitError::Purged(_)), "K{i}: {err}");
    }
    assert!(matches!(
        restored.submit(noise("K4")),
        Err(SubmitError::Duplicate(_))
    ));
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn snapshots_are_taken_in_the_background() {
    let dir = fresh_dir("background");
    let clock = start_clock();
    let (d, _) = Dispatcher::builder(router())
        .clock(clock.clone())
        .snapshot_every(16 << 10)
        .open_journal(&dir, fast())
        .unwrap();
    // The trigger is looked at every 1,024 operations; 16 KiB of log are
    // written long before the first look.
    for i in 0..400 {
        d.submit(noise(&format!("B{i:03}"))).unwrap();
        let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
        d.resolve(&c.id, "w", "done").unwrap();
    }
    wait_for("a background snapshot", || !files(&dir, "snap").is_empty());
    let at_drop = state(&d);
    drop(d);

    // The snapshot thread holds a handle until it is done: wait for it to
    // let go of the directory.
    let mut reopened = None;
    let mut locked = 0;
    wait_for("the snapshot thread to release the journal", || {
        match Dispatcher::builder(router())
            .clock(clock.clone())
            .open_journal(&dir, fast())
        {
            Ok(r) => reopened = Some(r),
            Err(OpenError::Journal(JournalError::Locked { .. })) => locked += 1,
            Err(e) => panic!("{e}"),
        }
        reopened.is_some()
    });
    if locked > 0 {
        eprintln!("the journal stayed locked for {locked} attempts after the drop");
    }
    let (restored, recovery) = reopened.unwrap();
    assert!(recovery.snapshot_lsn.is_some(), "{recovery:?}");
    assert!(recovery.snapshot_items > 0, "{recovery:?}");
    assert_same("restored", &state(&restored), &at_drop);
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn interval_sync_acknowledges_before_syncing_and_a_drop_keeps_everything() {
    let dir = fresh_dir("interval");
    let clock = start_clock();
    let (d, _) = open_with(&dir, &clock, fast());
    for i in 0..20 {
        d.submit(noise(&format!("I{i:02}"))).unwrap();
    }
    for _ in 0..10 {
        let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
        d.respond(&c.id, "w").unwrap();
    }
    let stats = d.journal().unwrap().stats();
    assert_eq!(stats.records, 40);
    assert_eq!(stats.syncs, 0, "acknowledged before any fdatasync");
    d.sync().unwrap();
    assert!(d.journal().unwrap().stats().syncs >= 1);
    // Acknowledged after the last sync: on disk only through the drop.
    for i in 20..25 {
        d.submit(noise(&format!("I{i:02}"))).unwrap();
    }
    d.resolve("I00", "w", "done").unwrap();
    let at_drop = state(&d);
    drop(d);

    let (restored, recovery) = open_with(&dir, &clock_at(clock.now()), fast());
    assert_eq!(recovery.log_records, 46);
    assert_same("restored", &state(&restored), &at_drop);
    restored.sync().unwrap();
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn a_second_runtime_cannot_open_a_journal_in_use() {
    let dir = fresh_dir("locked");
    let clock = start_clock();
    let (d, _) = open(&dir, &clock);
    d.submit(noise("L1")).unwrap();
    let second = Dispatcher::builder(router())
        .clock(clock.clone())
        .open_journal(&dir, JournalOptions::new());
    match second {
        Err(OpenError::Journal(JournalError::Locked { dir: locked })) => assert_eq!(locked, dir),
        other => panic!("expected Locked, got {:?}", other.map(|_| ())),
    }
    // The first runtime is unaffected: operations, a checkpoint, more.
    d.submit(noise("L2")).unwrap();
    let c = d.claim(HUJIALOU, "w").unwrap().unwrap();
    d.resolve(&c.id, "w", "done").unwrap();
    d.checkpoint().unwrap().unwrap();
    d.submit(noise("L3")).unwrap();
    let at_drop = state(&d);
    drop(d);

    let (restored, _) = open(&dir, &clock);
    assert_same("restored", &state(&restored), &at_drop);
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

/// The kinds of the events in one log record (a record is
/// `{"events": {"events": [Event, ...], "queued"?: n}}` or
/// `{"purged": [id, ...]}`).
fn kinds(payload: &[u8]) -> Vec<&'static str> {
    let value: serde_json::Value = serde_json::from_slice(payload).unwrap();
    match value.get("events").and_then(|op| op.get("events")) {
        Some(events) => serde_json::from_value::<Vec<Event>>(events.clone())
            .unwrap()
            .iter()
            .map(|e| e.kind.name())
            .collect(),
        None => vec!["purged"],
    }
}

#[test]
fn one_operation_is_one_journal_record() {
    let dir = fresh_dir("atomic-records");
    let clock = start_clock();
    let (d, _) = open(&dir, &clock);
    let records = || d.journal().unwrap().stats().records;
    let events = |id: &str| d.record(id).unwrap().history().len();

    let r = records();
    d.submit(noise("A")).unwrap();
    assert_eq!((records(), events("A")), (r + 1, 2), "submit");
    d.submit(noise("B")).unwrap();
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "A");
    assert_eq!(d.claim(HUJIALOU, "w").unwrap().unwrap().id, "B");
    let r = records();
    d.return_ticket("A", "w", "not ours").unwrap();
    assert_eq!((records(), events("A")), (r + 1, 5), "return");
    d.reassign("B", TRIAGE, "lead", "wrong desk").unwrap();
    assert_eq!((records(), events("B")), (r + 2, 5), "reassign");
    let r = records();
    let batch = d.submit_many([noise("C"), noise("D"), noise("E")]);
    assert!(batch.iter().all(Result::is_ok));
    assert_eq!(records(), r + 3, "one record per ticket of a batch");
    drop(d);

    // In the journal: each operation's events together, in one record.
    let mut log = Vec::new();
    Journal::open(&dir, JournalOptions::new(), |r| {
        if let Replayed::Log { payload, .. } = r {
            log.push(kinds(&payload));
        }
        Ok::<_, JournalError>(())
    })
    .unwrap();
    let submit = vec!["received", "dispatched"];
    assert_eq!(
        log,
        [
            submit.clone(),
            submit.clone(),
            vec!["claimed"],
            vec!["claimed"],
            vec!["returned", "dispatched"],
            vec!["reassigned", "dispatched"],
            submit.clone(),
            submit.clone(),
            submit,
        ]
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn restore_reads_a_bounded_journal_however_old() {
    const CYCLES: usize = 4;
    const PER_CYCLE: usize = 200;
    const LEFT_OPEN: usize = 10;
    const RECENT: usize = 20;
    let dir = fresh_dir("bounded-restore");
    let clock = start_clock();
    let (mut d, _) = open_with(&dir, &clock, fast());
    let mut recoveries = Vec::new();
    for cycle in 0..CYCLES {
        let today = format!("C{cycle}-");
        let tickets = (0..PER_CYCLE).map(|i| noise(&format!("{today}{i:03}")));
        assert!(d.submit_many(tickets).iter().all(Result::is_ok));
        // Everything claimable is closed (yesterday's leftovers first: their
        // leases ran out overnight), except a few of today's tickets.
        let mut left = 0;
        while let Some(c) = d.claim(HUJIALOU, "w").unwrap() {
            if c.id.starts_with(&today) && left < LEFT_OPEN {
                left += 1;
                continue;
            }
            close(&d, &c.id, "w");
        }
        clock.advance(SignedDuration::from_hours(1));
        let expected = PER_CYCLE - LEFT_OPEN + if cycle == 0 { 0 } else { LEFT_OPEN + RECENT };
        assert_eq!(d.purge_closed(clock.now()).unwrap(), expected);
        d.checkpoint().unwrap().unwrap();
        // Recent activity, after the snapshot.
        for i in 0..RECENT {
            d.submit(noise(&format!("R{cycle}-{i:02}"))).unwrap();
        }
        let at_drop = state(&d);
        drop(d);

        let (restored, recovery) = open_with(&dir, &clock, fast());
        assert_same("restored", &state(&restored), &at_drop);
        assert_eq!(restored.counts().total, LEFT_OPEN + RECENT);
        assert_eq!(files(&dir, "log").len(), 1, "cycle {cycle}");
        assert_eq!(files(&dir, "snap").len(), 1, "cycle {cycle}");
        recoveries.push(recovery);
        d = restored;
    }
    for (cycle, r) in recoveries.iter().enumerate() {
        // The open tickets plus one item of purged-id fingerprints; the log
        // since the snapshot. Neither grows with the number of cycles.
        assert_eq!(r.snapshot_items, (LEFT_OPEN + 1) as u64, "cycle {cycle}");
        assert_eq!(r.log_records, RECENT as u64, "cycle {cycle}");
        assert!(r.snapshot_items + r.log_records <= PER_CYCLE as u64);
    }
    drop(d);
    let _ = fs::remove_dir_all(&dir);
}

/// Signals "held" and waits for "released", across threads.
#[derive(Default)]
struct Latch {
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl Latch {
    fn hold_until_released(&self) {
        let mut st = self.state.lock().unwrap();
        st.0 = true;
        self.changed.notify_all();
        while !st.1 {
            st = self.changed.wait(st).unwrap();
        }
    }
    fn wait_held(&self) {
        let mut st = self.state.lock().unwrap();
        while !st.0 {
            st = self.changed.wait(st).unwrap();
        }
    }
    fn release(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

/// Releases a latch when dropped, so that a failing test does not hang.
struct ReleaseOnDrop<'a>(&'a Latch);
impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Two reassignments one after the other, while a checkpoint is between
/// the first ticket and the second: restored, the second comes first.
///
/// The checkpoint writes tickets in registry order (the order
/// `for_each_record` sees). X is the first, Y the last; the test holds
/// ticket B, between them, locked (inside `for_each_record`), so the
/// snapshot stops there. Once its writer has flushed its first buffer, X is
/// in the snapshot as it was; X then Y are reassigned (requeued, X before Y);
/// the snapshot goes on and captures Y as reassigned, with its new place in
/// line. On restore, X's reassignment is replayed from the log after the
/// snapshot, and a replayed requeue is numbered after *every* number in the
/// snapshot — behind Y, though it happened first.
#[test]
fn regression_a_fuzzy_snapshot_keeps_the_work_list_order() {
    let dir = fresh_dir("fuzzy-order");
    let clock = start_clock();
    let (d, _) = open_with(&dir, &clock, fast());
    // ~4 KiB tickets, all received at one instant: submission order decides.
    let text = "楼上装修噪音太大".repeat(170);
    let at = clock.now();
    let tickets = (0..400).map(|i| {
        Ticket::new(format!("Q{i:03}"), text.as_str())
            .with_address("朝阳区呼家楼街道")
            .with_received_at(at)
    });
    assert!(d.submit_many(tickets).iter().all(Result::is_ok));
    let mut order = Vec::new();
    d.for_each_record(|r| order.push(r.ticket().id.clone()));
    // B comes after more than 1 MiB of snapshot items (the writer's buffer
    // is 256 KiB): by the time the writer blocks on B it has flushed X.
    let b_index = (1 << 20) / text.len() + 1;
    let (x, b, y) = (&order[0], &order[b_index], &order[order.len() - 1]);
    assert!(b_index < order.len() - 1);

    let latch = Latch::default();
    std::thread::scope(|s| {
        let _release = ReleaseOnDrop(&latch);
        s.spawn(|| {
            d.for_each_record(|r| {
                if &r.ticket().id == b {
                    latch.hold_until_released();
                }
            })
        });
        latch.wait_held();
        let checkpoint = s.spawn(|| d.checkpoint().unwrap().unwrap());
        wait_for("the snapshot writer's first flush", || {
            files(&dir, "tmp")
                .iter()
                .any(|p| fs::metadata(p).is_ok_and(|m| m.len() > 0))
        });
        d.reassign(x, HUJIALOU, "lead", "requeue").unwrap();
        d.reassign(y, HUJIALOU, "lead", "requeue").unwrap();
        latch.release();
        checkpoint.join().unwrap();
    });

    let copy = fresh_dir("fuzzy-order-copy");
    copy_journal(&dir, &copy);
    let agencies = [HUJIALOU.to_string()];
    let live = drain(&d, &agencies);
    let last_two: Vec<&str> = live[live.len() - 2..]
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(last_two, [x.as_str(), y.as_str()], "live: X, then Y");
    drop(d);
    let (restored, recovery) = open_with(&copy, &clock_at(clock.now()), fast());
    assert!(recovery.snapshot_lsn.is_some());
    assert_same("claims", &drain(&restored, &agencies), &live);
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&copy);
}

/// Eight tickets received at one instant and claimed at one instant share a
/// lease end. Live, their leases lapse in claim order and they rejoin the
/// work list first-in first-out; restored, they must too. (Broken by
/// fa5be36, which registered restored leases in hash order; fixed by
/// d58c524. With eight tickets a hash order matches the claim order once
/// in 40,320 runs.)
#[test]
fn regression_restored_leases_lapse_in_claim_order() {
    let dir = fresh_dir("lease-order");
    let (clock, twin_clock) = (start_clock(), start_clock());
    let twin = twin(&twin_clock);
    let (d, _) = open(&dir, &clock);
    for runtime in [&d, &twin] {
        let tickets = (0..8).map(|i| noise(&format!("S{i}")));
        assert!(runtime.submit_many(tickets).iter().all(Result::is_ok));
        for _ in 0..8 {
            runtime.claim(HUJIALOU, "w").unwrap().unwrap();
        }
    }
    drop(d);
    let (restored, _) = open(&dir, &clock_at(twin_clock.now()));
    let later = twin_clock
        .now()
        .checked_add(SignedDuration::from_mins(31))
        .unwrap();
    assert_eq!(restored.expire_leases(later), 8);
    assert_eq!(twin.expire_leases(later), 8);
    let agencies = [HUJIALOU.to_string()];
    assert_same(
        "claims after the leases lapsed",
        &drain(&restored, &agencies),
        &drain(&twin, &agencies),
    );
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

/// A sink that keeps events in the order it accepted them, as the journal
/// does, and can keep one ticket's submit waiting *after* accepting it: a
/// thread descheduled between its journal write and its next instruction.
#[derive(Default)]
struct Gate {
    events: Mutex<Vec<Event>>,
    hold: Mutex<Option<String>>,
    latch: Latch,
}

impl Sink for Gate {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        let mut held = false;
        {
            let hold = self.hold.lock().unwrap();
            let mut log = self.events.lock().unwrap();
            for change in changes {
                if let Change::Events { events, .. } = change {
                    held |= events.iter().any(|e| Some(&e.ticket) == hold.as_ref());
                    log.extend(events.iter().cloned());
                }
            }
        }
        if held {
            self.latch.hold_until_released();
        }
        Ok(())
    }
}

/// T1's submit is accepted by the sink first, T2's second; T2's finishes
/// first. Both were received at the same instant, so the work list orders
/// them by the runtime's own number, which T2 got first; a restore numbers
/// them in the sink's order.
#[test]
fn regression_restore_keeps_the_order_of_concurrent_equal_time_submits() {
    let clock = start_clock();
    let at = clock.now();
    let gate = Arc::new(Gate::default());
    *gate.hold.lock().unwrap() = Some("T1".into());
    let d = Dispatcher::builder(router())
        .clock(clock.clone())
        .sink(gate.clone())
        .build();
    std::thread::scope(|s| {
        let _release = ReleaseOnDrop(&gate.latch);
        let first = s.spawn(|| d.submit(noise("T1").with_received_at(at)).unwrap());
        gate.latch.wait_held();
        d.submit(noise("T2").with_received_at(at)).unwrap();
        gate.latch.release();
        first.join().unwrap();
    });
    let persisted: Vec<String> = gate
        .events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.ticket.clone())
        .collect();
    assert_eq!(persisted, ["T1", "T1", "T2", "T2"]);
    let events = gate.events.lock().unwrap().clone();
    let restored = Dispatcher::builder(router())
        .clock(clock_at(clock.now()))
        .restore(events)
        .unwrap();
    let agencies = [HUJIALOU.to_string()];
    assert_same(
        "claims",
        &drain(&restored, &agencies),
        &drain(&d, &agencies),
    );
}

/// Coordinates as a device sends them (17 significant digits): serde_json
/// without its `float_roundtrip` feature parses some of them to the
/// neighbouring `f64`.
#[test]
fn regression_coordinates_come_back_from_the_journal_bit_for_bit() {
    let dir = fresh_dir("coordinates");
    let clock = start_clock();
    let (lon, lat) = (116.46494141423413, 39.922093154992524);
    let (d, _) = open(&dir, &clock);
    let ticket = noise("GPS")
        .with_coordinates(lon, lat, Crs::Gcj02)
        .with_received_at(clock.now());
    d.submit(ticket.clone()).unwrap();
    assert_eq!(d.record("GPS").unwrap().ticket(), &ticket);
    drop(d);
    let (restored, _) = open(&dir, &clock);
    let c = restored
        .record("GPS")
        .unwrap()
        .ticket()
        .coordinates
        .unwrap();
    assert_eq!(
        (c.lon.to_bits(), c.lat.to_bits()),
        (lon.to_bits(), lat.to_bits()),
        "submitted ({lon:?}, {lat:?}), restored ({:?}, {:?})",
        c.lon,
        c.lat
    );
    drop(restored);
    let _ = fs::remove_dir_all(&dir);
}

/// Records that pass their checksum but do not fit the tickets' histories —
/// not JSON, JSON of another shape, an event for a ticket never received,
/// an event out of sequence — refuse the open with a typed error naming
/// the file; nothing panics.
#[test]
fn well_checksummed_garbage_in_the_log_is_a_typed_error() {
    let clock = start_clock();
    let received = {
        let dir = fresh_dir("garbage-source");
        let (d, _) = open(&dir, &clock);
        d.submit(noise("G1")).unwrap();
        let json = serde_json::to_string(&d.record("G1").unwrap().history()[0].1).unwrap();
        drop(d);
        let _ = fs::remove_dir_all(&dir);
        json
    };
    let at = serde_json::to_string(&clock.now()).unwrap();
    let garbage = [
        "not json at all".to_string(),
        r#"{"events":{"events":[{"ticket":"X"}]}}"#.to_string(),
        r#"{"something_else":[]}"#.to_string(),
        format!(
            r#"{{"events":{{"events":[{{"ticket":"X","seq":0,"at":{at},"kind":"lease_expired"}}]}}}}"#
        ),
        format!(
            r#"{{"events":{{"events":[{{"ticket":"G1","seq":5,"at":{at},"kind":{received}}}]}}}}"#
        ),
    ];
    for (n, payload) in garbage.iter().enumerate() {
        let dir = fresh_dir(&format!("garbage-{n}"));
        let (journal, _) =
            Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(())).unwrap();
        journal.append(&[payload.as_bytes()]).unwrap();
        drop(journal);
        match Dispatcher::builder(router()).open_journal(&dir, JournalOptions::new()) {
            Err(OpenError::Journal(JournalError::Replay { file, .. })) => {
                assert!(file.starts_with(&dir), "{n}: {}", file.display())
            }
            Err(other) => panic!("{n}: expected a replay error, got {other}"),
            Ok(_) => panic!("{n}: {payload} was accepted"),
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
