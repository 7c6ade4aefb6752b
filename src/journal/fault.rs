//! Fault injection: a [`Storage`] whose files fail or stall on demand, and
//! the tests that a failed write or sync poisons the journal, that
//! reopening recovers what was acknowledged, and that `begin_snapshot`
//! splits the writer's buffer at its LSN.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::storage::{SegmentFile, Storage};
use super::{Journal, JournalError, JournalOptions, Lsn, Replayed};

/// The next failure to inject; one-shot.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    /// The write that takes the bytes written (over all files, headers
    /// included) past `budget` writes up to it, then fails with `kind`.
    Write {
        budget: u64,
        kind: io::ErrorKind,
    },
    /// The next `fdatasync` fails, and the file loses everything written
    /// since the last good one, as a kernel may drop failed dirty pages.
    Sync,
}

#[derive(Clone)]
struct Faulty {
    fault: Arc<Mutex<Fault>>,
    gate: Arc<Gate>,
    /// `(length, synced length)` of each file when the writer closed it.
    closed: Arc<Mutex<Vec<(u64, u64)>>>,
}

/// While closed, every write waits: lets a test hold the writer mid-round.
#[derive(Default)]
struct Gate {
    closed: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn set(&self, closed: bool) {
        *self.closed.lock() = closed;
        self.opened.notify_all();
    }

    fn pass(&self) {
        let mut closed = self.closed.lock();
        while *closed {
            self.opened.wait(&mut closed);
        }
    }
}

struct FaultyFile {
    file: File,
    len: u64,
    synced_len: u64,
    fault: Arc<Mutex<Fault>>,
    gate: Arc<Gate>,
    closed: Arc<Mutex<Vec<(u64, u64)>>>,
}

impl Drop for FaultyFile {
    fn drop(&mut self) {
        self.closed.lock().push((self.len, self.synced_len));
    }
}

impl SegmentFile for FaultyFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.gate.pass();
        let mut fault = self.fault.lock();
        if let Fault::Write { budget, kind } = *fault {
            if (buf.len() as u64) > budget {
                *fault = Fault::None;
                Write::write_all(&mut self.file, &buf[..budget as usize])?;
                self.len += budget;
                return Err(io::Error::new(kind, "injected write failure"));
            }
            *fault = Fault::Write {
                budget: budget - buf.len() as u64,
                kind,
            };
        }
        Write::write_all(&mut self.file, buf)?;
        self.len += buf.len() as u64;
        Ok(())
    }

    fn sync_data(&mut self) -> io::Result<()> {
        let mut fault = self.fault.lock();
        if let Fault::Sync = *fault {
            *fault = Fault::None;
            self.file.set_len(self.synced_len)?;
            return Err(io::Error::other("injected fdatasync failure"));
        }
        self.file.sync_data()?;
        self.synced_len = self.len;
        Ok(())
    }
}

impl Storage for Faulty {
    fn create(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        Ok(Box::new(FaultyFile {
            file,
            len: 0,
            synced_len: 0,
            fault: Arc::clone(&self.fault),
            gate: Arc::clone(&self.gate),
            closed: Arc::clone(&self.closed),
        }))
    }

    fn append(&self, path: &Path) -> io::Result<Box<dyn SegmentFile>> {
        let file = OpenOptions::new().append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(Box::new(FaultyFile {
            file,
            len,
            synced_len: len,
            fault: Arc::clone(&self.fault),
            gate: Arc::clone(&self.gate),
            closed: Arc::clone(&self.closed),
        }))
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "hotline-journal-fault-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open_faulty(dir: &Path, options: JournalOptions) -> (Journal, Faulty) {
    let faulty = Faulty {
        fault: Arc::new(Mutex::new(Fault::None)),
        gate: Arc::default(),
        closed: Arc::default(),
    };
    let (journal, _) =
        Journal::open_with(dir, options, &mut |_| Ok(()), Arc::new(faulty.clone())).unwrap();
    (journal, faulty)
}

/// Reopens with the real disk; returns the log records and the recovery.
fn reopen(dir: &Path) -> (Vec<(Lsn, Vec<u8>)>, super::Recovery) {
    let mut records = Vec::new();
    let (_, recovery) = Journal::open(dir, JournalOptions::new(), |r| {
        if let Replayed::Log { lsn, payload } = r {
            records.push((lsn, payload));
        }
        Ok::<_, JournalError>(())
    })
    .unwrap();
    (records, recovery)
}

fn payload(i: u64) -> Vec<u8> {
    format!("record {i:04} {}", "x".repeat(i as usize % 50)).into_bytes()
}

/// Appends records 0..n, all acknowledged.
fn append_acknowledged(journal: &Journal, n: u64) -> Vec<(Lsn, Vec<u8>)> {
    (0..n)
        .map(|i| (journal.append(&[&payload(i)]).unwrap(), payload(i)))
        .collect()
}

/// After the failure: every call is refused, and dropping does not hang.
fn assert_poisoned(journal: Journal) {
    assert!(matches!(
        journal.append(&[b"after"]),
        Err(JournalError::Failed { .. })
    ));
    assert!(matches!(journal.sync(), Err(JournalError::Failed { .. })));
    assert!(matches!(
        journal.begin_snapshot(),
        Err(JournalError::Failed { .. })
    ));
    drop(journal);
}

#[test]
fn write_error_poisons_and_reopen_recovers_acknowledged() {
    let dir = temp_dir("write");
    let (journal, faulty) = open_faulty(&dir, JournalOptions::new());
    let acked = append_acknowledged(&journal, 10);
    *faulty.fault.lock() = Fault::Write {
        budget: 0,
        kind: io::ErrorKind::Other,
    };
    match journal.append(&[b"lost", b"too"]) {
        Err(JournalError::Io {
            op: "write to",
            source,
            ..
        }) => assert_eq!(source.kind(), io::ErrorKind::Other),
        other => panic!("expected an Io error, got {other:?}"),
    }
    assert_poisoned(journal);
    let (records, recovery) = reopen(&dir);
    assert_eq!(records, acked);
    assert_eq!(recovery.torn_tail, None);
    assert_eq!(recovery.next_lsn, 10);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sync_error_poisons_and_reopen_recovers_acknowledged() {
    let dir = temp_dir("sync");
    let (journal, faulty) = open_faulty(&dir, JournalOptions::new());
    let acked = append_acknowledged(&journal, 10);
    *faulty.fault.lock() = Fault::Sync;
    match journal.append(&[b"written, never synced"]) {
        Err(JournalError::Io {
            op: "fdatasync", ..
        }) => {}
        other => panic!("expected an Io error, got {other:?}"),
    }
    assert_poisoned(journal);
    let (records, recovery) = reopen(&dir);
    assert_eq!(records, acked);
    assert_eq!(recovery.torn_tail, None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn disk_full_partway_through_a_write_leaves_a_torn_tail() {
    let dir = temp_dir("enospc");
    let (journal, faulty) = open_faulty(&dir, JournalOptions::new());
    let acked = append_acknowledged(&journal, 10);
    // 20 bytes of a 116-byte frame reach the file, then the disk is full.
    *faulty.fault.lock() = Fault::Write {
        budget: 20,
        kind: io::ErrorKind::StorageFull,
    };
    match journal.append(&[&[7; 100]]) {
        Err(JournalError::Io { source, .. }) => {
            assert_eq!(source.kind(), io::ErrorKind::StorageFull)
        }
        other => panic!("expected an Io error, got {other:?}"),
    }
    assert_poisoned(journal);
    let segment_len = std::fs::metadata(dir.join("journal-00000000000000000000.log"))
        .unwrap()
        .len();
    let (records, recovery) = reopen(&dir);
    assert_eq!(records, acked);
    let torn = recovery
        .torn_tail
        .expect("the partial frame is a torn tail");
    assert_eq!((torn.offset, torn.bytes), (segment_len - 20, 20));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failure_during_rotation_keeps_the_old_segment_intact() {
    let dir = temp_dir("rotate");
    let (journal, faulty) = open_faulty(&dir, JournalOptions::new());
    let acked = append_acknowledged(&journal, 10);
    // The next write is the new segment's header: cut it after 10 bytes.
    *faulty.fault.lock() = Fault::Write {
        budget: 10,
        kind: io::ErrorKind::StorageFull,
    };
    assert!(matches!(
        journal.begin_snapshot(),
        Err(JournalError::Io { .. })
    ));
    assert_poisoned(journal);
    let (records, recovery) = reopen(&dir);
    assert_eq!(records, acked);
    let torn = recovery
        .torn_tail
        .expect("the half-written header is a torn tail");
    assert_eq!((torn.offset, torn.bytes), (0, 10));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn concurrent_appenders_all_see_the_failure() {
    let dir = temp_dir("concurrent");
    let (journal, faulty) = open_faulty(&dir, JournalOptions::new());
    // Somewhere in the middle of the run, partway through a write.
    *faulty.fault.lock() = Fault::Write {
        budget: 30_000,
        kind: io::ErrorKind::StorageFull,
    };
    let acked: Vec<(Lsn, Vec<u8>)> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let journal = journal.clone();
                s.spawn(move || {
                    let mut acked = Vec::new();
                    for i in 0.. {
                        let p = payload(t * 1_000_000 + i);
                        match journal.append(&[&p]) {
                            Ok(lsn) => acked.push((lsn, p)),
                            Err(JournalError::Io { .. } | JournalError::Failed { .. }) => {
                                return acked
                            }
                            Err(e) => panic!("unexpected error {e}"),
                        }
                    }
                    unreachable!()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    drop(journal);
    let mut acked = acked;
    acked.sort();
    let (records, _) = reopen(&dir);
    // Every acknowledged record is back, at its LSN; beyond them, at most a
    // prefix of the batch that failed (complete frames it wrote).
    assert!(
        acked.len() > 10,
        "the fault came too early to test anything"
    );
    assert_eq!(&records[..acked.len()], &acked[..]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Waits for a state the test cannot be told about, without a timed
/// assertion: the test hangs (and the harness reports it) if it never comes.
fn wait_until(journal: &Journal, ready: impl Fn(&super::writer::State) -> bool) {
    while !ready(&journal.inner.shared.state.lock()) {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn begin_snapshot_splits_the_pending_buffer_at_l0() {
    let dir = temp_dir("split");
    let (journal, faulty) = open_faulty(&dir, JournalOptions::new());
    faulty.gate.set(true);
    std::thread::scope(|s| {
        // The writer takes record 0 and stalls writing it.
        let a = s.spawn(|| journal.append(&[b"a"]));
        wait_until(&journal, |st| st.next_lsn == 1 && st.pending.is_empty());
        // Records 1 and 2 wait in the buffer; the snapshot starts at 3;
        // record 3 lands in the same buffer, after the split.
        let bc = s.spawn(|| journal.append(&[b"b", b"c"]));
        wait_until(&journal, |st| st.next_lsn == 3);
        let snap = s.spawn(|| journal.begin_snapshot());
        wait_until(&journal, |st| st.rotate.is_some());
        let d = s.spawn(|| journal.append(&[b"d"]));
        wait_until(&journal, |st| st.next_lsn == 4);
        faulty.gate.set(false);
        assert_eq!(a.join().unwrap().unwrap(), 0);
        assert_eq!(bc.join().unwrap().unwrap(), 2);
        assert_eq!(snap.join().unwrap().unwrap(), 3);
        assert_eq!(d.join().unwrap().unwrap(), 3);
    });
    drop(journal);
    let old = std::fs::read(dir.join("journal-00000000000000000000.log")).unwrap();
    let new = std::fs::read(dir.join("journal-00000000000000000003.log")).unwrap();
    assert_eq!(old.len(), 24 + 3 * 17, "records 0..3 in the old segment");
    assert_eq!(new.len(), 24 + 17, "record 3 in the new one");
    let (records, _) = reopen(&dir);
    let want: Vec<(Lsn, Vec<u8>)> = [b"a", b"b", b"c", b"d"]
        .iter()
        .enumerate()
        .map(|(i, p)| (i as Lsn, p.to_vec()))
        .collect();
    assert_eq!(records, want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn drop_syncs_pending_records_under_interval() {
    let dir = temp_dir("drop");
    let hour = std::time::Duration::from_secs(3600);
    let (journal, faulty) = open_faulty(
        &dir,
        JournalOptions::new().sync(super::SyncPolicy::Interval(hour)),
    );
    append_acknowledged(&journal, 3);
    assert_eq!(journal.stats().syncs, 0);
    drop(journal);
    let closed = faulty.closed.lock().clone();
    let &(len, synced) = closed.last().expect("the writer closed its segment");
    assert!(len > 24);
    assert_eq!(
        synced, len,
        "everything written was synced before the file closed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
