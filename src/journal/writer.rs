//! The group-commit writer: one thread that owns the current segment.
//!
//! Appenders put encoded frames in [`State::pending`] under the lock and
//! wait. The writer swaps the whole buffer out, so appenders fill a fresh
//! one while it writes, then issues one `write` and (per policy) one
//! `fdatasync` for everything it took, and wakes every waiter. The more
//! appenders wait, the more records each `fdatasync` carries.

use std::mem;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use super::error::Failure;
use super::format::{self, FILE_HEADER, SEGMENT_MAGIC};
use super::storage::{self, SegmentFile, Storage};
use super::{JournalStats, Lsn, SyncPolicy};

/// What appenders and the writer share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    /// The writer waits here for work.
    pub(crate) work: Condvar,
    /// Appenders, `sync` and `begin_snapshot` wait here for progress.
    pub(crate) progress: Condvar,
}

/// Invariant: `synced <= written <= next_lsn`, and `pending` holds the
/// frames of records `written_by_writer..next_lsn` that the writer has not
/// taken yet, in LSN order.
pub(crate) struct State {
    /// Encoded frames waiting for the writer.
    pub(crate) pending: Vec<u8>,
    /// The LSN the next appended record gets.
    pub(crate) next_lsn: Lsn,
    /// Every record below this has been written to its segment.
    pub(crate) written: Lsn,
    /// Every record below this has been `fdatasync`ed.
    pub(crate) synced: Lsn,
    /// A `sync` caller waits until `synced` reaches this.
    pub(crate) sync_wanted: Lsn,
    /// A `begin_snapshot` caller's request to start a segment.
    pub(crate) rotate: Option<Rotate>,
    /// Requests in `rotate` the writer has carried out.
    pub(crate) rotations: u64,
    /// The first LSN of the segment the writer appends to.
    pub(crate) segment_first: Lsn,
    /// The LSN of the latest snapshot, if any.
    pub(crate) snapshot_lsn: Option<Lsn>,
    /// Set once a write or sync fails; never cleared.
    pub(crate) failure: Option<Failure>,
    /// Set when the last handle is dropped: write what is pending and stop.
    pub(crate) shutdown: bool,
    pub(crate) stats: JournalStats,
}

impl State {
    /// Records below this are acknowledged under `policy`.
    pub(crate) fn durable(&self, policy: SyncPolicy) -> Lsn {
        match policy {
            SyncPolicy::Interval(_) => self.written,
            _ => self.synced,
        }
    }
}

/// Start a segment at LSN `at`, whose frames begin at byte `split` of the
/// pending buffer: bytes before it belong to the old segment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rotate {
    pub(crate) at: Lsn,
    pub(crate) split: usize,
}

/// The segment being appended to.
pub(crate) struct Segment {
    pub(crate) file: Box<dyn SegmentFile>,
    pub(crate) path: PathBuf,
    pub(crate) first: Lsn,
    pub(crate) bytes: u64,
}

/// The writer thread's own state; only it touches the files.
pub(crate) struct Writer {
    pub(crate) shared: Arc<Shared>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) dir: PathBuf,
    pub(crate) policy: SyncPolicy,
    pub(crate) segment_bytes: u64,
    pub(crate) segment: Segment,
    /// Mirrors of `State::{written, synced}`, ahead of them during a round.
    pub(crate) written: Lsn,
    pub(crate) synced: Lsn,
    pub(crate) last_sync: Instant,
    pub(crate) stats: JournalStats,
    pub(crate) rotations: u64,
    /// The buffer swapped in for `pending`, to keep its allocation.
    pub(crate) spare: Vec<u8>,
}

/// One batch of work taken under the lock.
struct Round {
    buf: Vec<u8>,
    /// LSN after the last record in `buf`.
    end: Lsn,
    rotate: Option<Rotate>,
    /// Sync even under `Interval`.
    sync: bool,
    last: bool,
}

/// Above this, the writer's buffer is shrunk after a round, so one huge
/// append does not pin its memory for the journal's life.
const KEEP_BUFFER: usize = 4 << 20;

impl Writer {
    /// The thread's body. Returns on shutdown or on the first failure.
    pub(crate) fn run(mut self) {
        // If this thread ever unwinds, waiters must not wait forever.
        let _guard = ExitGuard(Arc::clone(&self.shared), self.dir.clone());
        while let Some(mut round) = self.next_round() {
            let result = self.execute(&mut round);
            let mut st = self.shared.state.lock();
            st.written = self.written;
            st.synced = self.synced;
            st.segment_first = self.segment.first;
            st.stats = self.stats;
            st.rotations = self.rotations;
            let failed = result.is_err();
            if let Err(f) = result {
                st.failure = Some(f);
            }
            drop(st);
            self.shared.progress.notify_all();
            round.buf.clear();
            if round.buf.capacity() > KEEP_BUFFER {
                round.buf.shrink_to(KEEP_BUFFER / 4);
            }
            self.spare = round.buf;
            if failed || round.last {
                return;
            }
        }
    }

    /// Waits for work and takes it.
    fn next_round(&mut self) -> Option<Round> {
        let mut st = self.shared.state.lock();
        loop {
            if st.failure.is_some() {
                return None;
            }
            let unsynced = self.written > self.synced;
            let deadline = match self.policy {
                SyncPolicy::Interval(d) if unsynced => self.last_sync.checked_add(d),
                _ => None,
            };
            let sync_due = deadline.is_some_and(|t| Instant::now() >= t);
            let sync_wanted = st.sync_wanted > self.synced;
            if !st.pending.is_empty()
                || st.rotate.is_some()
                || sync_wanted
                || sync_due
                || st.shutdown
            {
                let buf = mem::replace(&mut st.pending, mem::take(&mut self.spare));
                return Some(Round {
                    buf,
                    end: st.next_lsn,
                    rotate: st.rotate.take(),
                    sync: sync_wanted || sync_due || st.shutdown,
                    last: st.shutdown,
                });
            }
            match deadline {
                Some(t) => {
                    self.shared.work.wait_until(&mut st, t);
                }
                None => self.shared.work.wait(&mut st),
            }
        }
    }

    /// Writes a round's records, rotating and syncing as needed. On error,
    /// `self.written`/`self.synced` still say how far it got.
    fn execute(&mut self, round: &mut Round) -> Result<(), Failure> {
        let first = self.written;
        match round.rotate {
            Some(r) => {
                // Records below `r.at` belong to the old segment, which must
                // be on disk before `begin_snapshot` returns.
                self.write_part(&round.buf[..r.split], first, r.at)?;
                if self.segment.first != r.at {
                    self.rotate_to(r.at)?;
                } else {
                    self.sync()?;
                }
                self.stats.bytes_since_snapshot = 0;
                self.rotations += 1;
                self.write_part(&round.buf[r.split..], r.at, round.end)?;
            }
            None => self.write_part(&round.buf, first, round.end)?,
        }
        if round.sync || self.policy == SyncPolicy::Always {
            self.sync()?;
        }
        Ok(())
    }

    /// Writes the frames of records `first..end`.
    fn write_part(&mut self, buf: &[u8], first: Lsn, end: Lsn) -> Result<(), Failure> {
        if buf.is_empty() {
            return Ok(());
        }
        if self.segment.bytes >= self.segment_bytes && first > self.segment.first {
            self.rotate_to(first)?;
        }
        let seg = &mut self.segment;
        seg.file
            .write_all(buf)
            .map_err(|e| Failure::new(&seg.path, "write to", &e))?;
        seg.bytes += buf.len() as u64;
        self.written = end;
        self.stats.writes += 1;
        self.stats.records += end - first;
        self.stats.bytes += buf.len() as u64;
        self.stats.bytes_since_snapshot += buf.len() as u64;
        Ok(())
    }

    /// `fdatasync`s the current segment if it holds unsynced records.
    fn sync(&mut self) -> Result<(), Failure> {
        if self.written > self.synced {
            let seg = &mut self.segment;
            seg.file
                .sync_data()
                .map_err(|e| Failure::new(&seg.path, "fdatasync", &e))?;
            self.stats.syncs += 1;
            self.synced = self.written;
            self.last_sync = Instant::now();
        }
        Ok(())
    }

    /// Syncs the current segment, then starts a new one at `first`. The
    /// new segment's header and directory entry are on disk before any of
    /// its records is acknowledged.
    fn rotate_to(&mut self, first: Lsn) -> Result<(), Failure> {
        self.sync()?;
        self.segment = create_segment(&*self.storage, &self.dir, first)?;
        self.stats.syncs += 1;
        Ok(())
    }
}

/// Creates segment `first` in `dir`: header written and synced, directory
/// synced.
pub(crate) fn create_segment(
    storage: &dyn Storage,
    dir: &Path,
    first: Lsn,
) -> Result<Segment, Failure> {
    let path = dir.join(format::segment_name(first));
    let mut file = storage
        .create(&path)
        .map_err(|e| Failure::new(&path, "create segment", &e))?;
    let header = format::file_header(SEGMENT_MAGIC, first);
    file.write_all(&header)
        .map_err(|e| Failure::new(&path, "write to", &e))?;
    file.sync_data()
        .map_err(|e| Failure::new(&path, "fdatasync", &e))?;
    storage::sync_dir(dir).map_err(|e| Failure::new(dir, "fsync directory", &e))?;
    Ok(Segment {
        file,
        path,
        first,
        bytes: FILE_HEADER as u64,
    })
}

/// Marks the journal failed if the writer thread stops without a failure or
/// a shutdown (a panic), so that no waiter sleeps forever.
struct ExitGuard(Arc<Shared>, PathBuf);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        let mut st = self.0.state.lock();
        if st.failure.is_none() && !st.shutdown {
            st.failure = Some(Failure {
                path: self.1.clone(),
                op: "run the writer thread of",
                kind: std::io::ErrorKind::Other,
                message: "the writer thread stopped unexpectedly".into(),
            });
        }
        drop(st);
        self.0.progress.notify_all();
    }
}
