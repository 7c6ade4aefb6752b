//! Appending: one batch of records, durable before the call returns.

use super::format::Batch;
use super::{Journal, JournalError, Lsn};

impl Journal {
    /// Appends each payload as one record and waits until they are durable
    /// per the [`SyncPolicy`](super::SyncPolicy); returns the LSN of the last one.
    ///
    /// The records get consecutive LSNs in slice order and are never
    /// interleaved with another call's. Concurrent calls share one `write`
    /// and one `fdatasync`. Each record is atomic on a crash; the call as a
    /// whole is not (see the module docs).
    ///
    /// # Errors
    ///
    /// * [`JournalError::EmptyRecord`] for no payload or an empty one, and
    ///   [`JournalError::TooLarge`] for one over
    ///   [`JournalOptions::max_record_bytes`](super::JournalOptions::max_record_bytes): nothing is appended.
    /// * [`JournalError::Io`] if writing or syncing failed while this call
    ///   waited, and [`JournalError::Failed`] if the journal failed before:
    ///   see the module docs, *Durability*.
    ///
    /// # Example
    ///
    /// ```
    /// use hotline_router::journal::{Journal, JournalError, JournalOptions};
    ///
    /// let dir = std::env::temp_dir().join(format!("hotline-doc-append-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let options = JournalOptions::new().max_record_bytes(4);
    /// let (journal, _) = Journal::open(&dir, options, |_| Ok::<_, JournalError>(()))?;
    /// assert_eq!(journal.append(&[b"one", b"two"])?, 1);
    /// let err = journal.append(&[b"three"]).unwrap_err();
    /// assert!(matches!(err, JournalError::TooLarge { bytes: 5, limit: 4 }));
    /// assert_eq!(journal.append(&[b"four"])?, 2);
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), JournalError>(())
    /// ```
    pub fn append(&self, payloads: &[&[u8]]) -> Result<Lsn, JournalError> {
        let limit = self.inner.options.max_record_bytes;
        if payloads.is_empty() {
            return Err(JournalError::EmptyRecord);
        }
        for p in payloads {
            if p.is_empty() {
                return Err(JournalError::EmptyRecord);
            }
            if p.len() > limit as usize {
                return Err(JournalError::TooLarge {
                    bytes: p.len() as u64,
                    limit,
                });
            }
        }
        // CRCs and copies happen here, outside the lock.
        let mut batch = Batch::encode(payloads);
        let shared = &self.inner.shared;
        let mut st = shared.state.lock();
        if let Some(f) = &st.failure {
            return Err(f.to_failed());
        }
        let first = st.next_lsn;
        let Some(end) = first.checked_add(batch.len()) else {
            return Err(JournalError::Failed {
                reason: "the LSN space is exhausted".into(),
            });
        };
        batch.stamp(first);
        batch.append_to(&mut st.pending);
        st.next_lsn = end;
        shared.work.notify_one();
        let policy = self.inner.options.sync;
        while st.durable(policy) < end {
            if let Some(f) = &st.failure {
                return Err(f.to_io());
            }
            shared.progress.wait(&mut st);
        }
        Ok(end - 1)
    }

    /// Waits until every record appended so far is `fdatasync`ed, whatever
    /// the policy.
    ///
    /// # Errors
    ///
    /// As [`append`](Journal::append): `Io` if the sync failed, `Failed` if
    /// the journal had failed before.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use hotline_router::journal::{Journal, JournalError, JournalOptions, SyncPolicy};
    ///
    /// let dir = std::env::temp_dir().join(format!("hotline-doc-sync-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// let options = JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_secs(60)));
    /// let (journal, _) = Journal::open(&dir, options, |_| Ok::<_, JournalError>(()))?;
    /// journal.append(&[b"fast, in the page cache"])?;
    /// journal.sync()?; // now on disk too
    /// assert_eq!(journal.stats().syncs, 1);
    /// # drop(journal);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), JournalError>(())
    /// ```
    pub fn sync(&self) -> Result<(), JournalError> {
        let shared = &self.inner.shared;
        let mut st = shared.state.lock();
        if let Some(f) = &st.failure {
            return Err(f.to_failed());
        }
        let target = st.next_lsn;
        if st.synced >= target {
            return Ok(());
        }
        st.sync_wanted = st.sync_wanted.max(target);
        shared.work.notify_one();
        while st.synced < target {
            if let Some(f) = &st.failure {
                return Err(f.to_io());
            }
            shared.progress.wait(&mut st);
        }
        Ok(())
    }
}
