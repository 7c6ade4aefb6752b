//! The journal through its public API: round trips, group commit, rotation,
//! snapshots and their crash leftovers, truncation at every byte, a flipped
//! byte at every offset, locking, repair.
//!
//! No assertion depends on timing. Directories live under Cargo's
//! per-target temporary directory, one per test.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hotline_router::journal::{
    Journal, JournalError, JournalOptions, Lsn, Recovery, Replayed, SyncPolicy,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod common;
use common::segments;

/// A fresh, empty directory for one test.
fn temp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("journal")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// What a replay produced.
#[derive(Debug, Default, PartialEq)]
struct Replay {
    snapshot: Vec<Vec<u8>>,
    log: Vec<(Lsn, Vec<u8>)>,
}

fn open_with(
    dir: &Path,
    options: JournalOptions,
) -> Result<(Journal, Replay, Recovery), JournalError> {
    let mut replay = Replay::default();
    let (journal, recovery) = Journal::open(dir, options, |r| {
        match r {
            Replayed::Snapshot(item) => {
                assert!(replay.log.is_empty(), "a snapshot item after a log record");
                replay.snapshot.push(item);
            }
            Replayed::Log { lsn, payload } => replay.log.push((lsn, payload)),
            other => panic!("unknown replay kind {other:?}"),
        }
        Ok::<_, JournalError>(())
    })?;
    Ok((journal, replay, recovery))
}

fn open(dir: &Path) -> (Journal, Replay, Recovery) {
    open_with(dir, JournalOptions::new()).unwrap()
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn round_trip() {
    let dir = temp("round_trip");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (journal, replay, recovery) = open(&dir);
    assert_eq!(replay, Replay::default());
    assert_eq!(recovery.next_lsn, 0);
    let mut want = Vec::new();
    while want.len() < 300 {
        let n = if rng.gen_bool(0.3) {
            rng.gen_range(2..6)
        } else {
            1
        };
        let batch: Vec<Vec<u8>> = (0..n)
            .map(|_| (0..rng.gen_range(1..=20_000)).map(|_| rng.gen()).collect())
            .collect();
        let refs: Vec<&[u8]> = batch.iter().map(Vec::as_slice).collect();
        let last = journal.append(&refs).unwrap();
        assert_eq!(last, (want.len() + n - 1) as Lsn, "consecutive LSNs");
        want.extend(
            batch
                .into_iter()
                .enumerate()
                .map(|(i, p)| (last + 1 - n as Lsn + i as Lsn, p)),
        );
    }
    assert_eq!(journal.stats().records, want.len() as u64);
    drop(journal);

    let (journal, replay, recovery) = open(&dir);
    assert_eq!(replay.log, want);
    assert!(replay.snapshot.is_empty());
    assert_eq!(recovery.next_lsn, want.len() as Lsn);
    assert_eq!(
        (recovery.log_records, recovery.torn_tail),
        (want.len() as u64, None)
    );
    assert_eq!(
        journal.append(&[b"after reopen"]).unwrap(),
        want.len() as Lsn
    );
    drop(journal);
    let (_, replay, _) = open(&dir);
    assert_eq!(
        replay.log.last().unwrap(),
        &(want.len() as Lsn, b"after reopen".to_vec())
    );
}

#[test]
fn group_commit_mpmc() {
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 500;
    let dir = temp("group_commit");
    let (journal, _, _) = open(&dir);
    let acked: Vec<Vec<Lsn>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let journal = journal.clone();
                s.spawn(move || {
                    (0..PER_THREAD)
                        .map(|i| journal.append(&[format!("{t}:{i}").as_bytes()]).unwrap())
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stats = journal.stats();
    let total = THREADS * PER_THREAD;
    assert_eq!(stats.records, total);
    // Each thread waits for its own sync, so fewer syncs than records means
    // some syncs carried the records of several threads: group commit.
    assert!(stats.syncs < stats.records, "{stats:?}");
    drop(journal);

    let (_, replay, _) = open(&dir);
    assert_eq!(replay.log.len() as u64, total);
    for (t, lsns) in acked.iter().enumerate() {
        assert!(
            lsns.windows(2).all(|w| w[0] < w[1]),
            "a thread's LSNs increase"
        );
        for (i, &lsn) in lsns.iter().enumerate() {
            assert_eq!(
                replay.log[lsn as usize],
                (lsn, format!("{t}:{i}").into_bytes())
            );
        }
    }
}

#[test]
fn rotation_with_tiny_segments() {
    let dir = temp("rotation");
    let options = JournalOptions::new().segment_bytes(4096);
    let (journal, _, _) = open_with(&dir, options.clone()).unwrap();
    let want: Vec<(Lsn, Vec<u8>)> = (0..2000u64)
        .map(|i| {
            let p = format!("record {i} {}", "r".repeat((i % 97) as usize)).into_bytes();
            (journal.append(&[&p]).unwrap(), p)
        })
        .collect();
    drop(journal);
    let files = segments(&dir);
    assert!(files.len() > 20, "{} segments", files.len());
    for f in &files {
        // A segment reaches 4096 bytes plus at most one group commit.
        assert!(fs::metadata(f).unwrap().len() < 4096 + 200, "{f:?}");
    }
    let (_, replay, recovery) = open_with(&dir, options).unwrap();
    assert_eq!(replay.log, want);
    assert_eq!(recovery.torn_tail, None);
}

#[test]
fn snapshot_then_restore_replays_items_then_later_records() {
    let dir = temp("snapshot");
    let (journal, _, _) = open_with(&dir, JournalOptions::new().segment_bytes(1024)).unwrap();
    for i in 0..100u64 {
        journal.append(&[&i.to_le_bytes()]).unwrap();
    }
    let l0 = journal.begin_snapshot().unwrap();
    assert_eq!(l0, 100);
    assert!(
        dir.join(format!("journal-{l0:020}.log")).exists(),
        "a segment starts at L0"
    );
    let report = std::thread::scope(|s| {
        // Appends continue while the snapshot is written.
        let appender = s.spawn(|| {
            for i in 100..150u64 {
                journal.append(&[&i.to_le_bytes()]).unwrap();
            }
        });
        let items = (0..l0).map(|i| format!("state {i}").into_bytes());
        let report = journal.write_snapshot(l0, items).unwrap();
        appender.join().unwrap();
        report
    });
    assert_eq!((report.lsn, report.items), (l0, 100));
    assert!(report.segments_removed >= 2, "{report:?}");
    assert_eq!(
        report.bytes,
        fs::metadata(dir.join(format!("snapshot-{l0:020}.snap")))
            .unwrap()
            .len()
    );
    let first_segment = segments(&dir)[0].clone();
    assert_eq!(
        first_segment,
        dir.join(format!("journal-{l0:020}.log")),
        "older segments deleted"
    );
    // Snapshot counting starts over at L0.
    assert!(journal.stats().bytes_since_snapshot < 50 * 30);
    drop(journal);

    let (journal, replay, recovery) = open(&dir);
    let want_items: Vec<Vec<u8>> = (0..l0).map(|i| format!("state {i}").into_bytes()).collect();
    assert_eq!(replay.snapshot, want_items);
    let want_log: Vec<(Lsn, Vec<u8>)> = (100..150u64)
        .map(|i| (i, i.to_le_bytes().to_vec()))
        .collect();
    assert_eq!(replay.log, want_log);
    assert_eq!(recovery.snapshot_lsn, Some(l0));
    assert_eq!(
        (
            recovery.snapshot_items,
            recovery.log_records,
            recovery.next_lsn
        ),
        (100, 50, 150)
    );

    // A second snapshot replaces the first.
    let l1 = journal.begin_snapshot().unwrap();
    journal.write_snapshot(l1, [b"all".to_vec()]).unwrap();
    let snaps: Vec<String> = names(&dir)
        .into_iter()
        .filter(|n| n.ends_with(".snap"))
        .collect();
    assert_eq!(snaps, [format!("snapshot-{l1:020}.snap")]);
    drop(journal);
    let (_, replay, _) = open(&dir);
    assert_eq!(
        replay,
        Replay {
            snapshot: vec![b"all".to_vec()],
            log: vec![]
        }
    );
}

#[test]
fn snapshot_crash_leftovers_are_cleaned_at_open() {
    let dir = temp("snapshot_crash");
    let (journal, _, _) = open(&dir);
    journal.append(&[b"a", b"b"]).unwrap();
    let l0 = journal.begin_snapshot().unwrap();
    journal.write_snapshot(l0, [b"ab".to_vec()]).unwrap();
    journal.append(&[b"c"]).unwrap();
    // Keep the segment and snapshot that the next snapshot deletes, to put
    // them back as a crash between its rename and its cleanup would.
    let keep: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), fs::read(&p).unwrap()))
        .collect();
    let l1 = journal.begin_snapshot().unwrap();
    journal.append(&[b"d"]).unwrap();
    journal.write_snapshot(l1, [b"abc".to_vec()]).unwrap();
    drop(journal);
    for (path, bytes) in keep {
        if !path.exists() {
            fs::write(path, bytes).unwrap();
        }
    }
    // And a snapshot that was being written when the process died.
    fs::write(
        dir.join("snapshot-00000000000000000009.tmp"),
        b"half a snapshot",
    )
    .unwrap();
    let before = names(&dir);
    assert!(before.contains(&format!("snapshot-{l0:020}.snap")));
    assert!(before.contains(&format!("journal-{l0:020}.log")));

    let (_, replay, recovery) = open(&dir);
    assert_eq!(
        replay,
        Replay {
            snapshot: vec![b"abc".to_vec()],
            log: vec![(3, b"d".to_vec())]
        }
    );
    assert_eq!(recovery.snapshot_lsn, Some(l1));
    let after = names(&dir);
    let want: BTreeSet<String> = [
        "LOCK".to_string(),
        format!("journal-{l1:020}.log"),
        format!("snapshot-{l1:020}.snap"),
    ]
    .into_iter()
    .collect();
    assert_eq!(after, want);
}

/// Files as `(name, bytes)`.
type Files = Vec<(String, Vec<u8>)>;
/// Log records as replayed.
type Records = Vec<(Lsn, Vec<u8>)>;

/// A journal of two segments with 10 small records each, and its records.
fn two_segments(name: &str) -> (Files, Records) {
    let dir = temp(name);
    let (journal, _, _) = open(&dir);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut records = Vec::new();
    for i in 0..20u64 {
        if i == 10 {
            assert_eq!(journal.begin_snapshot().unwrap(), 10);
        }
        let p: Vec<u8> = (0..rng.gen_range(1..=24)).map(|_| rng.gen()).collect();
        records.push((journal.append(&[&p]).unwrap(), p));
    }
    drop(journal);
    let files = segments(&dir)
        .into_iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                fs::read(&p).unwrap(),
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(files.len(), 2);
    (files, records)
}

/// Record start offsets in a segment's bytes, then the segment's length.
fn boundaries(segment: &[u8]) -> Vec<usize> {
    let mut at = vec![24];
    while *at.last().unwrap() < segment.len() {
        let pos = *at.last().unwrap();
        let len = u32::from_le_bytes(segment[pos..pos + 4].try_into().unwrap()) as usize;
        at.push(pos + 16 + len);
    }
    at
}

fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn truncation_at_every_byte_replays_a_prefix() {
    let (files, records) = two_segments("truncate_src");
    let dir = temp("truncate");
    let [(name1, seg1), (name2, seg2)] = &files[..] else {
        unreachable!()
    };
    let (bounds1, bounds2) = (boundaries(seg1), boundaries(seg2));
    // Cut the journal (segment 1 then segment 2) after `cut` bytes. Cutting
    // inside segment 1 means segment 2 was never created.
    type Case<'a> = (usize, Vec<(&'a str, &'a [u8])>);
    let mut cases: Vec<Case> = (0..=seg1.len())
        .map(|cut| (cut, vec![(name1.as_str(), &seg1[..cut])]))
        .collect();
    cases.extend((0..seg2.len()).map(|cut| {
        (
            seg1.len() + cut,
            vec![(name1.as_str(), &seg1[..]), (name2.as_str(), &seg2[..cut])],
        )
    }));
    for (cut, case) in cases {
        write_files(&dir, &case);
        let (last_name, last) = *case.last().unwrap();
        let (journal, replay, recovery) =
            open_with(&dir, JournalOptions::new()).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        // Complete records survive, and nothing else.
        let bounds = if case.len() == 1 { &bounds1 } else { &bounds2 };
        let complete = bounds
            .iter()
            .filter(|&&b| b > 24 && b <= last.len())
            .count();
        let kept = if case.len() == 1 {
            complete
        } else {
            10 + complete
        };
        assert_eq!(replay.log, records[..kept], "cut at {cut}");
        assert_eq!(recovery.next_lsn, kept as Lsn);
        // A torn tail iff the cut is inside the header or a record.
        let clean_end = if last.len() < 24 {
            None
        } else {
            bounds.iter().copied().filter(|&b| b <= last.len()).max()
        };
        match (recovery.torn_tail.clone(), clean_end) {
            (None, Some(end)) => assert_eq!(end, last.len(), "cut at {cut}: missed a torn tail"),
            (Some(torn), Some(end)) => {
                assert_eq!(
                    (torn.offset, torn.bytes),
                    (end as u64, (last.len() - end) as u64),
                    "cut at {cut}"
                );
                assert_ne!(end, last.len(), "cut at {cut}: a clean end reported torn");
            }
            (Some(torn), None) => assert_eq!(
                (torn.offset, torn.bytes),
                (0, last.len() as u64),
                "cut at {cut}"
            ),
            (None, None) => panic!("cut at {cut}: a torn header not reported"),
        }
        if let Some(torn) = &recovery.torn_tail {
            assert_eq!(torn.file, dir.join(last_name));
        }
        // The journal goes on from there.
        assert_eq!(
            journal.append(&[b"next"]).unwrap(),
            kept as Lsn,
            "cut at {cut}"
        );
    }
}

#[test]
fn flipped_byte_in_a_non_final_record_is_corruption_until_repaired() {
    let (files, records) = two_segments("flip_src");
    let dir = temp("flip");
    let [(name1, seg1), (name2, seg2)] = &files[..] else {
        unreachable!()
    };
    let (bounds1, bounds2) = (boundaries(seg1), boundaries(seg2));
    let last_record = bounds2[bounds2.len() - 2];
    let total = (seg1.len() + seg2.len()) as u64;
    // Every byte of segment 1, and of segment 2 up to its last record.
    let targets = (0..seg1.len())
        .map(|at| (0, at))
        .chain((0..last_record).map(|at| (1, at)));
    for (seg, at) in targets {
        let (mut s1, mut s2) = (seg1.clone(), seg2.clone());
        let (damaged, bounds) = if seg == 0 {
            (&mut s1, &bounds1)
        } else {
            (&mut s2, &bounds2)
        };
        damaged[at] ^= 0xff;
        write_files(&dir, &[(name1, &s1), (name2, &s2)]);
        let file = dir.join(if seg == 0 { name1 } else { name2 });
        // The record the byte belongs to (0 for the header).
        let start = bounds
            .iter()
            .copied()
            .filter(|&b| b <= at)
            .max()
            .map_or(0, |b| if at < 24 { 0 } else { b });
        let err = open_with(&dir, JournalOptions::new())
            .map(|_| ())
            .unwrap_err();
        match &err {
            JournalError::Corrupt {
                file: f, offset, ..
            } => {
                assert_eq!(
                    (f, *offset),
                    (&file, start as u64),
                    "byte {at} of segment {seg}: {err}"
                )
            }
            JournalError::Version { file: f, .. } | JournalError::Gap { file: f, .. } => {
                assert_eq!(f, &file, "byte {at} of segment {seg}: {err}");
                assert!(at < 24, "byte {at} of segment {seg}: {err}");
            }
            other => panic!("byte {at} of segment {seg}: unexpected {other}"),
        }
        assert!(err.to_string().contains("Journal::repair"), "{err}");
        // Nothing was changed by the failed open.
        assert_eq!(dir_bytes(&dir), total, "byte {at} of segment {seg}");

        let report = Journal::repair(&dir).unwrap();
        assert_eq!(
            report.file.as_ref(),
            Some(&file),
            "byte {at} of segment {seg}"
        );
        assert_eq!(report.offset, if start < 24 { 0 } else { start as u64 });
        assert_eq!(
            report.bytes_dropped,
            total - dir_bytes(&dir),
            "byte {at} of segment {seg}"
        );
        let (_, replay, recovery) = open(&dir);
        let kept = if seg == 0 {
            bounds1.iter().filter(|&&b| b > 24 && b <= start).count()
        } else {
            10 + bounds2.iter().filter(|&&b| b > 24 && b <= start).count()
        };
        assert_eq!(replay.log, records[..kept], "byte {at} of segment {seg}");
        assert_eq!(recovery.torn_tail, None);
        // A second repair has nothing left to do.
        assert_eq!(Journal::repair(&dir).unwrap().file, None);
    }
}

#[test]
fn flipped_byte_in_the_last_record_is_a_torn_tail() {
    // The last record's damage cannot be told from a torn write: it is cut
    // and reported, not treated as corruption.
    let (files, records) = two_segments("flip_last_src");
    let dir = temp("flip_last");
    let [(name1, seg1), (name2, seg2)] = &files[..] else {
        unreachable!()
    };
    let bounds2 = boundaries(seg2);
    let last_record = bounds2[bounds2.len() - 2];
    for at in last_record..seg2.len() {
        let mut s2 = seg2.clone();
        s2[at] ^= 0x01;
        write_files(&dir, &[(name1, seg1), (name2, &s2)]);
        let (_, replay, recovery) = open(&dir);
        assert_eq!(replay.log, records[..19], "byte {at}");
        let torn = recovery
            .torn_tail
            .unwrap_or_else(|| panic!("byte {at}: no torn tail"));
        assert_eq!(
            (torn.file, torn.offset, torn.bytes),
            (
                dir.join(name2),
                last_record as u64,
                (seg2.len() - last_record) as u64
            )
        );
    }
}

#[test]
fn locked_while_open() {
    let dir = temp("locked");
    let (journal, _, _) = open(&dir);
    assert!(
        matches!(open_with(&dir, JournalOptions::new()), Err(JournalError::Locked { dir: d }) if d == dir)
    );
    assert!(matches!(
        Journal::repair(&dir),
        Err(JournalError::Locked { .. })
    ));
    // A clone shares the lock; the last drop releases it.
    let clone = journal.clone();
    drop(journal);
    assert!(matches!(
        open_with(&dir, JournalOptions::new()),
        Err(JournalError::Locked { .. })
    ));
    drop(clone);
    open(&dir);
}

#[test]
fn drop_syncs_pending_under_interval() {
    let dir = temp("drop_interval");
    let options = JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_secs(3600)));
    let (journal, _, _) = open_with(&dir, options.clone()).unwrap();
    journal.append(&[b"one", b"two"]).unwrap();
    assert_eq!(
        journal.stats().syncs,
        0,
        "acknowledged before any fdatasync"
    );
    drop(journal);
    let (_, replay, _) = open_with(&dir, options).unwrap();
    assert_eq!(replay.log, [(0, b"one".to_vec()), (1, b"two".to_vec())]);
}

#[test]
fn interval_huge_duration_never_panics() {
    let dir = temp("interval_max");
    let options = JournalOptions::new().sync(SyncPolicy::Interval(Duration::MAX));
    let (journal, _, _) = open_with(&dir, options).unwrap();
    journal.append(&[b"x"]).unwrap();
    journal.sync().unwrap();
    assert_eq!(journal.stats().syncs, 1);
}

#[test]
fn bad_appends_are_refused_and_change_nothing() {
    let dir = temp("bad_appends");
    let (journal, _, _) = open_with(&dir, JournalOptions::new().max_record_bytes(8)).unwrap();
    assert!(matches!(
        journal.append(&[]),
        Err(JournalError::EmptyRecord)
    ));
    assert!(matches!(
        journal.append(&[b"ok", b""]),
        Err(JournalError::EmptyRecord)
    ));
    assert!(matches!(
        journal.append(&[b"ok", b"123456789"]),
        Err(JournalError::TooLarge { bytes: 9, limit: 8 })
    ));
    assert_eq!(journal.next_lsn(), 0);
    assert_eq!(journal.append(&[b"12345678"]).unwrap(), 0);
    // Snapshot LSNs outside what the log covers.
    assert!(matches!(
        journal.write_snapshot(2, Vec::new()),
        Err(JournalError::SnapshotLsn {
            lsn: 2,
            min: 0,
            max: 1
        })
    ));
    assert!(matches!(
        journal.write_snapshot(1, [vec![0; 9]]),
        Err(JournalError::TooLarge { .. })
    ));
    assert!(
        !names(&dir).iter().any(|n| n.starts_with("snapshot")),
        "a refused snapshot leaves no file"
    );
    journal.write_snapshot(1, Vec::new()).unwrap();
    assert!(matches!(
        journal.write_snapshot(0, Vec::new()),
        Err(JournalError::SnapshotLsn { lsn: 0, min: 1, .. })
    ));
}

#[test]
fn replay_error_names_the_record_and_changes_nothing() {
    let dir = temp("replay_error");
    let (journal, _, _) = open(&dir);
    journal.append(&[b"good", b"bad"]).unwrap();
    drop(journal);
    // A torn tail too: the failed open must not cut it.
    let seg = segments(&dir)[0].clone();
    let mut bytes = fs::read(&seg).unwrap();
    bytes.extend([1, 2, 3]);
    fs::write(&seg, &bytes).unwrap();
    let err = Journal::open(&dir, JournalOptions::new(), |r| match r {
        Replayed::Log { payload, .. } if payload == b"bad" => Err("refused"),
        _ => Ok(()),
    })
    .unwrap_err();
    match err {
        JournalError::Replay {
            file,
            offset,
            source,
        } => {
            assert_eq!((file, offset), (seg.clone(), 24 + 16 + 4));
            assert_eq!(source.to_string(), "refused");
        }
        other => panic!("{other}"),
    }
    assert_eq!(fs::read(&seg).unwrap(), bytes);
}

#[test]
fn damaged_snapshot_is_reported_not_skipped() {
    let dir = temp("bad_snapshot");
    let (journal, _, _) = open(&dir);
    journal.append(&[b"a"]).unwrap();
    let l0 = journal.begin_snapshot().unwrap();
    journal
        .write_snapshot(l0, [b"item one".to_vec(), b"item two".to_vec()])
        .unwrap();
    drop(journal);
    let snap = dir.join(format!("snapshot-{l0:020}.snap"));
    let good = fs::read(&snap).unwrap();
    // Without its footer (incomplete), a flipped byte in each item, the
    // footer, the header.
    let mut cases: Vec<(Vec<u8>, u64)> =
        vec![(good[..good.len() - 16].to_vec(), good.len() as u64 - 16)];
    for (at, offset) in [
        (24 + 20, 24),
        (24 + 24 + 20, 24 + 24),
        (good.len() - 10, good.len() - 16),
        (3, 0),
    ] {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        cases.push((bad, offset as u64));
    }
    for (bytes, offset) in cases {
        fs::write(&snap, &bytes).unwrap();
        match open_with(&dir, JournalOptions::new())
            .map(|_| ())
            .unwrap_err()
        {
            JournalError::Corrupt {
                file, offset: o, ..
            } => assert_eq!((file, o), (snap.clone(), offset)),
            other => panic!("{other}"),
        }
        // Repair does not touch snapshots.
        assert!(matches!(
            Journal::repair(&dir),
            Err(JournalError::Corrupt { .. })
        ));
        assert_eq!(fs::read(&snap).unwrap(), bytes);
    }
}

#[test]
fn missing_segment_is_a_gap() {
    let dir = temp("gap");
    let (journal, _, _) = open(&dir);
    for i in 0..3u8 {
        journal.append(&[&[i]]).unwrap();
        journal.begin_snapshot().unwrap(); // a segment per record
    }
    drop(journal);
    let files = segments(&dir);
    assert_eq!(files.len(), 4);
    fs::remove_file(&files[1]).unwrap();
    match open_with(&dir, JournalOptions::new())
        .map(|_| ())
        .unwrap_err()
    {
        JournalError::Gap {
            file,
            expected,
            found,
        } => assert_eq!((file, expected, found), (files[2].clone(), 1, 2)),
        other => panic!("{other}"),
    }
    let report = Journal::repair(&dir).unwrap();
    assert_eq!(
        report.segments_removed,
        [files[2].clone(), files[3].clone()]
    );
    let (_, replay, _) = open(&dir);
    assert_eq!(replay.log, [(0, vec![0])]);
}

#[test]
fn repair_refuses_a_journal_of_another_version() {
    let dir = temp("version");
    let (journal, _, _) = open(&dir);
    journal.append(&[b"a"]).unwrap();
    drop(journal);
    let seg = segments(&dir)[0].clone();
    let mut bytes = fs::read(&seg).unwrap();
    bytes[8] = 2; // version 2 in every segment: written by another build
    fs::write(&seg, &bytes).unwrap();
    assert!(matches!(
        open_with(&dir, JournalOptions::new()),
        Err(JournalError::Version { found: 2, .. })
    ));
    assert!(matches!(
        Journal::repair(&dir),
        Err(JournalError::Version { found: 2, .. })
    ));
    assert_eq!(fs::read(&seg).unwrap(), bytes);
}

#[test]
fn begin_snapshot_splits_concurrent_appends_at_l0() {
    let dir = temp("split");
    let options = JournalOptions::new().segment_bytes(2048);
    let (journal, _, _) = open_with(&dir, options.clone()).unwrap();
    let (acked, starts) = std::thread::scope(|s| {
        let appenders: Vec<_> = (0..3u8)
            .map(|t| {
                let journal = journal.clone();
                s.spawn(move || {
                    (0..300u32)
                        .map(|i| {
                            let p = [&[t][..], &i.to_le_bytes()].concat();
                            let n = 1 + (i % 3) as usize;
                            let payloads = vec![p.as_slice(); n];
                            (journal.append(&payloads).unwrap(), p, n)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let starts: Vec<Lsn> = (0..20).map(|_| journal.begin_snapshot().unwrap()).collect();
        (
            appenders
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<_>>(),
            starts,
        )
    });
    for l0 in &starts {
        assert!(
            dir.join(format!("journal-{l0:020}.log")).exists(),
            "no segment at {l0}"
        );
    }
    let total = journal.next_lsn();
    drop(journal);
    // Reopening checks that every segment starts where the previous ends.
    let (_, replay, _) = open_with(&dir, options).unwrap();
    assert_eq!(replay.log.len() as Lsn, total);
    for (last, p, n) in acked {
        for k in 0..n as Lsn {
            assert_eq!(replay.log[(last - k) as usize].1, p);
        }
    }
}
