//! The group-commit writer: one thread owns the lock-holding connection
//! and writes whatever is pending as one transaction.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use postgres::{Client, Statement};

use super::PgError;
use crate::dispatch::LogRecord;
use crate::dispatch::{Change, Sink, SinkError};

/// How long the writer may sit idle before it checks that its session (and
/// so the lock) is still there: a writer whose session was killed learns it
/// within this, not at the next request.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// A schema's event store in PostgreSQL, as the dispatcher's [`Sink`]: one
/// writer thread, group commit, acknowledged = committed. Cheap to clone;
/// the writer stops (and its session, releasing the lock, ends) when the
/// last clone and the dispatcher holding it are dropped.
///
/// Made by [`DispatcherBuilder::open_postgres`](crate::dispatch::DispatcherBuilder::open_postgres)
/// or [`Standby::take_over`](super::Standby::take_over).
///
/// # Examples
///
/// ```no_run
/// use hotline_router::dispatch::Dispatcher;
/// use hotline_router::store::postgres::PgOptions;
/// use hotline_router::{Router, Ticket};
///
/// let options = PgOptions::new("postgres://hotline@db.example/hotline").schema("beijing");
/// let (d, store) = Dispatcher::builder(Router::beijing()).open_postgres(&options)?;
/// d.submit(Ticket::new("T1", "楼道灯坏了"))?; // committed in PostgreSQL now
/// let stats = store.stats();
/// assert!(stats.transactions <= stats.changes);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct PgStore {
    handle: Arc<Handle>,
}

/// What a [`PgStore`] has written since it was opened.
///
/// # Examples
///
/// ```
/// use hotline_router::store::postgres::PgStats;
///
/// let stats = PgStats::default();
/// // Changes per transaction: how well group commit batches.
/// let per_commit = stats.changes as f64 / stats.transactions.max(1) as f64;
/// assert_eq!(per_commit, 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgStats {
    /// Transactions committed.
    pub transactions: u64,
    /// Changes (rows of `events`) committed: a change is the events of one
    /// operation on one ticket, or a batch of purged ids.
    pub changes: u64,
    /// The position of the last row committed (or read on restore); 0 for
    /// an empty log.
    pub position: i64,
}

#[derive(Debug)]
struct Handle {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    schema: String,
    backend_pid: i32,
    queue: Mutex<Queue>,
    /// Wakes the writer: something is pending, or the store is closing.
    work: Condvar,
    /// Wakes callers: a batch was committed, or the store is poisoned.
    done: Condvar,
    transactions: AtomicU64,
    changes: AtomicU64,
    position: AtomicI64,
}

#[derive(Debug, Default)]
struct Queue {
    /// Records of the batch being filled, in the order they arrived.
    pending: Vec<String>,
    /// The number of the batch being filled (from 1).
    filling: u64,
    /// Every batch up to this one is committed.
    committed: u64,
    poisoned: Option<SinkError>,
    closing: bool,
}

impl PgStore {
    /// Starts the writer on `client`, which holds the schema's lock;
    /// `position` is the last row restored.
    pub(crate) fn start(
        mut client: Client,
        schema: &str,
        position: i64,
    ) -> Result<PgStore, PgError> {
        let backend_pid: i32 = client.query_one("SELECT pg_backend_pid()", &[])?.get(0);
        let insert = client.prepare(&format!(
            "INSERT INTO {schema}.events (record)
             SELECT r::json FROM unnest($1::text[]) WITH ORDINALITY AS t(r, n) ORDER BY n
             RETURNING pos"
        ))?;
        let shared = Arc::new(Shared {
            schema: schema.to_string(),
            backend_pid,
            queue: Mutex::new(Queue {
                filling: 1,
                ..Queue::default()
            }),
            work: Condvar::new(),
            done: Condvar::new(),
            transactions: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            position: AtomicI64::new(position),
        });
        let writer = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("hotline-pg-{schema}"))
            .spawn(move || write_loop(&writer, client, &insert))
            .map_err(PgError::Thread)?;
        Ok(PgStore {
            handle: Arc::new(Handle {
                shared,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// What was written so far.
    pub fn stats(&self) -> PgStats {
        let s = &self.handle.shared;
        PgStats {
            transactions: s.transactions.load(Ordering::Acquire),
            changes: s.changes.load(Ordering::Acquire),
            position: s.position.load(Ordering::Acquire),
        }
    }

    /// The schema written to.
    pub fn schema(&self) -> &str {
        &self.handle.shared.schema
    }

    /// The process id of the writer's PostgreSQL session (the one holding
    /// the lock), as `pg_stat_activity` shows it.
    pub fn backend_pid(&self) -> i32 {
        self.handle.shared.backend_pid
    }

    /// Why the store refuses every change, once a write failed or its
    /// session was lost; `None` while it works.
    pub fn poisoned(&self) -> Option<SinkError> {
        self.handle.shared.queue.lock().poisoned.clone()
    }

    /// Blocks until the store is poisoned, and returns why: e.g. for a
    /// server to exit once it can no longer write (a standby has taken or
    /// will take over).
    pub fn wait_poisoned(&self) -> SinkError {
        let s = &self.handle.shared;
        let mut queue = s.queue.lock();
        loop {
            if let Some(e) = &queue.poisoned {
                return e.clone();
            }
            s.done.wait(&mut queue);
        }
    }
}

impl Sink for PgStore {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        if changes.is_empty() {
            return Ok(());
        }
        // Serialized here, on the callers' threads, not on the one writer.
        let records = changes
            .iter()
            .map(|c| serde_json::to_string(&LogRecord::of(c)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(SinkError::from_source)?;
        let s = &self.handle.shared;
        let mut queue = s.queue.lock();
        if let Some(e) = &queue.poisoned {
            return Err(e.clone());
        }
        queue.pending.extend(records);
        let batch = queue.filling;
        s.work.notify_one();
        loop {
            if queue.committed >= batch {
                return Ok(());
            }
            if let Some(e) = &queue.poisoned {
                return Err(e.clone());
            }
            s.done.wait(&mut queue);
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.shared.queue.lock().closing = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.lock().take() {
            // A panicking writer has poisoned nothing more to report here.
            let _ = thread.join();
        }
    }
}

/// Takes everything pending, writes it as one transaction, wakes its
/// callers; until closed (what is pending is written first, then the lock
/// released) or poisoned (the session, and with it the lock, ends when
/// `client` drops).
fn write_loop(s: &Shared, mut client: Client, insert: &Statement) {
    loop {
        let (batch, records) = {
            let mut queue = s.queue.lock();
            while queue.pending.is_empty() && !queue.closing {
                if s.work.wait_for(&mut queue, IDLE_CHECK).timed_out() && queue.pending.is_empty() {
                    drop(queue);
                    let alive = client.is_valid(IDLE_CHECK);
                    queue = s.queue.lock();
                    if let Err(e) = alive {
                        poison(s, &mut queue, PgError::Lost(e));
                        return;
                    }
                }
            }
            if queue.pending.is_empty() {
                drop(queue);
                // Closed with everything written: release the lock now,
                // not when the server gets round to ending the session, so
                // that a restart right after finds it free.
                let _ = client.execute("SELECT pg_advisory_unlock_all()", &[]);
                return;
            }
            let batch = queue.filling;
            queue.filling += 1;
            (batch, std::mem::take(&mut queue.pending))
        };
        let written = write(&mut client, insert, &records);
        let mut queue = s.queue.lock();
        match written {
            Ok(last) => {
                s.transactions.fetch_add(1, Ordering::AcqRel);
                s.changes.fetch_add(records.len() as u64, Ordering::AcqRel);
                s.position.fetch_max(last, Ordering::AcqRel);
                queue.committed = batch;
                s.done.notify_all();
            }
            Err(e) => {
                poison(s, &mut queue, PgError::Write(e));
                return;
            }
        }
    }
}

/// From now on every change is refused: the failed commit may or may not
/// have landed, and only a restore can tell.
fn poison(s: &Shared, queue: &mut Queue, error: PgError) {
    queue.poisoned = Some(SinkError::from_source(error));
    queue.pending.clear();
    s.done.notify_all();
}

/// One transaction: the records in order, then COMMIT (synchronous_commit
/// as the server has it: on by default, so committed = on disk).
fn write(
    client: &mut Client,
    insert: &Statement,
    records: &[String],
) -> Result<i64, postgres::Error> {
    let mut tx = client.transaction()?;
    let rows = tx.query(insert, &[&records])?;
    tx.commit()?;
    Ok(rows.iter().map(|r| r.get::<_, i64>(0)).max().unwrap_or(0))
}
