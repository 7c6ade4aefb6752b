//! Taking a snapshot: rotating the log at a point, writing the snapshot
//! file, deleting what it makes obsolete.

use std::path::Path;

use super::error::JournalError;
use super::recover;
use super::writer::Rotate;
use super::{snapshot, storage, Journal, Lsn, SnapshotReport};

impl Journal {
    /// Starts a snapshot: returns `L0`, the next LSN to be assigned, once
    /// every record below it is synced and the writer has started a new
    /// segment at `L0` (even if no record follows).
    ///
    /// Capture the state as of `L0` and pass it to
    /// [`write_snapshot`](Journal::write_snapshot). Appends may continue
    /// meanwhile; they get LSNs from `L0` on and land in the new segment.
    ///
    /// # Errors
    ///
    /// As [`sync`](Journal::sync): `Io` or `Failed`.
    ///
    /// # Example
    ///
    /// See [`write_snapshot`](Journal::write_snapshot).
    pub fn begin_snapshot(&self) -> Result<Lsn, JournalError> {
        let _serial = self.inner.snapshot.lock();
        let shared = &self.inner.shared;
        let mut st = shared.state.lock();
        if let Some(f) = &st.failure {
            return Err(f.to_failed());
        }
        let at = st.next_lsn;
        let done = st.rotations + 1;
        st.rotate = Some(Rotate {
            at,
            split: st.pending.len(),
        });
        shared.work.notify_one();
        while st.rotations < done {
            if let Some(f) = &st.failure {
                return Err(f.to_io());
            }
            shared.progress.wait(&mut st);
        }
        Ok(at)
    }

    /// Writes the snapshot at `from` (the LSN
    /// [`begin_snapshot`](Journal::begin_snapshot) returned) from `items`,
    /// then deletes every segment whose records are all below `from` (never
    /// the one being appended to) and every older snapshot.
    ///
    /// `items` is streamed to the file, never collected. The snapshot is
    /// written to a `.tmp` file, synced, renamed and the directory synced,
    /// so a crash leaves either the old snapshot or the new one, whole.
    ///
    /// # Errors
    ///
    /// * [`JournalError::SnapshotLsn`] if `from` is below the current
    ///   snapshot's LSN or above the synced log.
    /// * [`JournalError::TooLarge`] if an item is over
    ///   [`JournalOptions::max_record_bytes`](super::JournalOptions::max_record_bytes); no snapshot is written.
    /// * [`JournalError::Io`] if writing fails; no snapshot is written, and
    ///   the journal itself is unaffected. If deleting obsolete files fails
    ///   after the snapshot was renamed, the snapshot stands: calling again
    ///   with the same `from` is safe.
    /// * [`JournalError::Failed`] if the journal had failed.
    ///
    /// # Example
    ///
    /// ```
    /// use hotline_router::journal::{Journal, JournalError, JournalOptions, Replayed};
    ///
    /// let dir = std::env::temp_dir().join(format!("hotline-doc-snapshot-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let (journal, _) = Journal::open(&dir, JournalOptions::new(), |_| Ok::<_, JournalError>(()))?;
    /// let mut total = 0u64;
    /// for n in 1..=100u64 {
    ///     journal.append(&[&n.to_le_bytes()])?;
    ///     total += n;
    /// }
    /// let from = journal.begin_snapshot()?;
    /// journal.append(&[&1000u64.to_le_bytes()])?; // after the snapshot's LSN
    /// journal.write_snapshot(from, [total.to_le_bytes().to_vec()])?;
    /// drop(journal);
    ///
    /// // Restore: the snapshot's sum, then only the record after it.
    /// let mut sum = 0u64;
    /// let (_, recovery) = Journal::open(&dir, JournalOptions::new(), |r| {
    ///     let bytes = match r {
    ///         Replayed::Snapshot(item) => item,
    ///         Replayed::Log { payload, .. } => payload,
    ///         _ => return Err("unknown kind"),
    ///     };
    ///     sum += u64::from_le_bytes(bytes.try_into().map_err(|_| "not 8 bytes")?);
    ///     Ok(())
    /// })?;
    /// assert_eq!(sum, 5050 + 1000);
    /// assert_eq!((recovery.snapshot_lsn, recovery.log_records), (Some(100), 1));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), JournalError>(())
    /// ```
    pub fn write_snapshot<I>(&self, from: Lsn, items: I) -> Result<SnapshotReport, JournalError>
    where
        I: IntoIterator<Item = Vec<u8>>,
    {
        let _serial = self.inner.snapshot.lock();
        let shared = &self.inner.shared;
        {
            let st = shared.state.lock();
            if let Some(f) = &st.failure {
                return Err(f.to_failed());
            }
            let (min, max) = (st.snapshot_lsn.unwrap_or(0), st.synced);
            if from < min || from > max {
                return Err(JournalError::SnapshotLsn {
                    lsn: from,
                    min,
                    max,
                });
            }
        }
        let dir = &self.inner.dir;
        let (items, bytes) =
            snapshot::write(dir, from, items, self.inner.options.max_record_bytes)?;
        shared.state.lock().snapshot_lsn = Some(from);
        let segments_removed = remove_obsolete(dir, from)?;
        Ok(SnapshotReport {
            lsn: from,
            items,
            bytes,
            segments_removed,
        })
    }
}

/// After a snapshot at `from`: deletes segments whose successor starts at or
/// below `from` (so the newest segment is never deleted) and older
/// snapshots. Returns the number of segments deleted.
fn remove_obsolete(dir: &Path, from: Lsn) -> Result<usize, JournalError> {
    let listing = recover::list(dir)?;
    let segments = listing
        .segments
        .windows(2)
        .take_while(|w| w[1].0 <= from)
        .map(|w| &w[0].1);
    let snapshots = listing
        .snapshots
        .iter()
        .filter(|(lsn, _)| *lsn < from)
        .map(|(_, p)| p);
    let mut removed = 0;
    for path in segments.chain(snapshots) {
        std::fs::remove_file(path).map_err(|e| JournalError::io(path, "remove", e))?;
        removed += usize::from(path.extension().is_some_and(|e| e == "log"));
    }
    storage::sync_dir(dir).map_err(|e| JournalError::io(dir, "fsync directory", e))?;
    Ok(removed)
}
