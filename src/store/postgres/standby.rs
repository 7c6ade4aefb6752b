//! A standby: follows a schema's log while another server writes it, and
//! takes over when that server's session ends.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use postgres::{CancelToken, Client, NoTls};

use super::schema::{self, lock_key};
use super::{PgError, PgOptions, PgStore};
use crate::dispatch::Rebuild;
use crate::dispatch::{Dispatcher, DispatcherBuilder};

/// A server-in-waiting for one schema: a thread applies the writer's
/// events as they are committed (polling every
/// [`PgOptions::poll_every`]), another waits for the writer's lock; when
/// the writer's session ends — its process died, or it was stopped — the
/// lock is this one's, and [`take_over`](Self::take_over) reads the few
/// events it had not seen and becomes the writer.
///
/// # Examples
///
/// ```no_run
/// use hotline_router::dispatch::Dispatcher;
/// use hotline_router::store::postgres::{PgOptions, Standby};
/// use hotline_router::Router;
///
/// let options = PgOptions::new("postgres://hotline@db.example/hotline").schema("beijing");
/// let standby = Standby::start(&options)?;
/// // Blocks until the active server is gone, then restores and writes.
/// let (d, store) = standby.take_over(Dispatcher::builder(Router::beijing()))?;
/// println!("writer of {} from position {}", store.schema(), store.stats().position);
/// # drop(d);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Standby {
    schema: String,
    /// The lock-holding connection, once the lock is taken.
    locked: mpsc::Receiver<Result<Client, postgres::Error>>,
    lock_cancel: CancelToken,
    lock_thread: Option<JoinHandle<()>>,
    follow: Follow,
}

/// The thread following the log, and what it has applied.
#[derive(Debug)]
struct Follow {
    stop: Arc<AtomicBool>,
    position: Arc<AtomicI64>,
    thread: Option<JoinHandle<Followed>>,
}

/// What the follower hands over: the records rebuilt so far and the last
/// position applied, or why it stopped following.
struct Followed {
    rebuild: Rebuild,
    position: i64,
    failed: Option<PgError>,
}

impl std::fmt::Debug for Standby {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Standby")
            .field("schema", &self.schema)
            .field("position", &self.position())
            .finish_non_exhaustive()
    }
}

impl Standby {
    /// Connects twice — one session to follow the log, one to wait for the
    /// writer's lock — and starts following. The schema's tables need not
    /// exist yet.
    ///
    /// # Errors
    ///
    /// [`PgError`]: a bad schema name, or PostgreSQL unreachable.
    pub fn start(options: &PgOptions) -> Result<Standby, PgError> {
        let schema = options.schema.clone();
        schema::check_name(&schema)?;
        let follower = options.connect()?;
        let mut locker = options.connect()?;
        let lock_cancel = locker.cancel_token();
        let (send, locked) = mpsc::channel();
        let key = lock_key(&schema);
        let lock_thread = std::thread::Builder::new()
            .name(format!("hotline-pg-lock-{schema}"))
            .spawn(move || {
                let got = locker
                    .execute("SELECT pg_advisory_lock($1)", &[&key])
                    .map(|_| locker);
                // Nobody listens once the standby was dropped.
                let _ = send.send(got);
            })
            .map_err(PgError::Thread)?;
        let stop = Arc::new(AtomicBool::new(false));
        let position = Arc::new(AtomicI64::new(0));
        let thread = {
            let (stop, position, schema, poll) =
                (stop.clone(), position.clone(), schema.clone(), options.poll);
            std::thread::Builder::new()
                .name(format!("hotline-pg-follow-{schema}"))
                .spawn(move || follow(follower, &schema, poll, &stop, &position))
                .map_err(PgError::Thread)?
        };
        Ok(Standby {
            schema,
            locked,
            lock_cancel,
            lock_thread: Some(lock_thread),
            follow: Follow {
                stop,
                position,
                thread: Some(thread),
            },
        })
    }

    /// The position of the last event applied ahead of a takeover: compare
    /// with the writer's [`PgStats::position`](super::PgStats::position) to
    /// see how far behind the standby is.
    pub fn position(&self) -> i64 {
        self.follow.position.load(Ordering::Acquire)
    }

    /// The schema followed.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Waits for the writer's lock (as long as the active server lives),
    /// then reads the events the follower had not applied yet, builds the
    /// dispatcher from all of them — completing operations the dead writer
    /// cut off, through the new store — and returns it, writing to
    /// PostgreSQL through the lock-holding session.
    ///
    /// # Errors
    ///
    /// [`PgError`]: the session waiting for the lock was lost, the tables
    /// are of another version, or the log does not restore.
    pub fn take_over(
        mut self,
        builder: DispatcherBuilder,
    ) -> Result<(Dispatcher, PgStore), PgError> {
        let mut client = match self.locked.recv() {
            Ok(got) => got.map_err(PgError::Lost)?,
            Err(_) => return Err(PgError::Stopped("the lock thread ended".into())),
        };
        let followed = self.follow.finish();
        schema::create(&mut client, &self.schema)?;
        // What the follower applied is kept unless it failed midway: then
        // the log is read again from the start.
        let (mut rebuild, after) = match followed {
            Some(Followed {
                rebuild,
                position,
                failed: None,
            }) => (rebuild, position),
            _ => (Rebuild::default(), 0),
        };
        let position =
            schema::read_since(&mut client, &self.schema, after, &mut rebuild)?.unwrap_or(after);
        let store = PgStore::start(client, &self.schema, position)?;
        let d = builder.restore_rebuild(Arc::new(store.clone()), rebuild)?;
        Ok((d, store))
    }
}

impl Follow {
    fn finish(&mut self) -> Option<Followed> {
        self.stop.store(true, Ordering::Release);
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        self.follow.finish();
        if let Some(thread) = self.lock_thread.take() {
            if !thread.is_finished() {
                // Ends the wait for the lock; if the lock was just taken,
                // the session ends with the thread, releasing it.
                let _ = self.lock_cancel.cancel_query(NoTls);
            }
            let _ = thread.join();
        }
    }
}

/// Applies the log as it grows, every `poll`, until `stop`.
fn follow(
    mut client: Client,
    schema: &str,
    poll: std::time::Duration,
    stop: &AtomicBool,
    position: &AtomicI64,
) -> Followed {
    let mut followed = Followed {
        rebuild: Rebuild::default(),
        position: 0,
        failed: None,
    };
    while !stop.load(Ordering::Acquire) {
        match schema::read_since(
            &mut client,
            schema,
            followed.position,
            &mut followed.rebuild,
        ) {
            Ok(last) => {
                followed.position = last.unwrap_or(followed.position);
                position.store(followed.position, Ordering::Release);
            }
            Err(e) => {
                followed.failed = Some(e);
                return followed;
            }
        }
        // Short sleeps, so that a takeover does not wait out a whole poll.
        let until = std::time::Instant::now() + poll;
        while !stop.load(Ordering::Acquire) && std::time::Instant::now() < until {
            std::thread::sleep(poll.min(std::time::Duration::from_millis(10)));
        }
    }
    followed
}
