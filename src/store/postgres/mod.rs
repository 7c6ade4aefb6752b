//! PostgreSQL as the dispatcher's event store: one city's events in one
//! schema, one writing server at a time, standbys ready to take over.
//!
//! # Tables
//!
//! [`DispatcherBuilder::open_postgres`] creates, if missing, in the schema
//! named by [`PgOptions::schema`] (default `hotline`):
//!
//! * `events (pos bigserial PRIMARY KEY, record json, committed_at timestamptz)`:
//!   the log. One row per [`Change`](crate::dispatch::Change) — the events
//!   of one operation on one ticket (with the work-list number it got), or
//!   purged ids — in the journal's record format, e.g.
//!   `{"events":{"events":[{"ticket":"T1","seq":0,…}],"queued":3}}`.
//!   Read it with SQL: `SELECT pos, record->'events'->'events' FROM hotline.events`.
//!   (`json`, not `jsonb`: a citizen's text may hold `\u0000`, which
//!   `jsonb` refuses; a refused write would stop the store.)
//! * `meta (key, value)`: the format `version` (`1`).
//!
//! Opening reads `events` in `pos` order and rebuilds the runtime — work
//! lists in the exact order they had, purges, incidents — then keeps
//! writing. There are no snapshots: a restore reads the whole log.
//!
//! # Group commit: acknowledged = committed
//!
//! [`Sink::persist`](crate::dispatch::Sink::persist) is called by many
//! request threads at once. Each serializes its changes and queues them;
//! one writer thread owns the connection, takes everything queued, inserts
//! it as **one** transaction (a multi-row `INSERT … SELECT unnest($1)`),
//! commits, and wakes every caller of that batch. An operation is
//! acknowledged only once its transaction committed — with PostgreSQL's
//! default `synchronous_commit = on`, once it is on the database's disk
//! (and on a synchronous replica's, if you configure one). Under load the
//! writer commits as fast as the database syncs and every commit carries
//! what arrived meanwhile: [`PgStats`] counts transactions and changes.
//!
//! A write that fails **poisons** the store, like the journal: every later
//! operation is refused. A failed commit may or may not have landed (the
//! answer can be lost with the connection), so the runtime cannot know its
//! state: restart the server (as a standby, see below), and the restore
//! reads what is really there. An operation whose caller saw an error may
//! therefore still be in the log — never the other way round.
//!
//! # Fencing: one writer
//!
//! Before anything else, the writer's session takes
//! `pg_try_advisory_lock(key)`, the key derived from the schema's name. If
//! another server holds it, opening fails with [`PgError::Locked`]. Every
//! write goes through that lock-holding session, and PostgreSQL releases
//! the lock only when the session ends: a server whose session is gone
//! (killed, or its connection cut) cannot write any more — its next write
//! fails and poisons it, and it checks its session every second while idle
//! ([`PgStore::wait_poisoned`] tells the server). No split brain: two
//! servers never both acknowledge writes of one schema, and no ticket is
//! handled twice.
//!
//! # Standby
//!
//! A [`Standby`] follows the log (a second session reads `WHERE pos > last`
//! every 100 ms) and applies the events ahead of time, while a third
//! session waits in `pg_advisory_lock(key)`. When the active server dies,
//! PostgreSQL ends its session, the lock goes to the standby, which reads
//! the tail it had not seen, finishes the rebuild, and becomes the writer
//! on the lock-holding session. `hotline serve --postgres URL --standby`
//! binds its address only then.
//!
//! # Sharding: several cities
//!
//! One schema per city — `--schema beijing`, `--schema tianjin` — in one
//! database, or one database per city: each has its own tables and its own
//! lock, so each city has its own active server and standbys, and one
//! PostgreSQL can serve them all. (Advisory locks are per database: two
//! databases may use the same schema name.) A ticket never moves between
//! cities.

mod schema;
mod standby;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use postgres::{Client, NoTls};

pub use standby::Standby;
pub use writer::{PgStats, PgStore};

use crate::dispatch::{Dispatcher, DispatcherBuilder};
use crate::dispatch::{Rebuild, RestoreError};

/// Where a city's events live: the database and the schema.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use hotline_router::store::postgres::PgOptions;
///
/// let options = PgOptions::new("postgres://hotline@127.0.0.1/hotline")
///     .schema("beijing")
///     .poll_every(Duration::from_millis(50));
/// assert_eq!(options.schema_name(), "beijing");
/// ```
#[derive(Clone)]
pub struct PgOptions {
    url: String,
    schema: String,
    poll: Duration,
}

impl std::fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgOptions")
            .field("schema", &self.schema)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

impl PgOptions {
    /// The database at `url` (`postgres://user:password@host:port/database`,
    /// or a libpq key=value string), schema `hotline`.
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            schema: "hotline".into(),
            poll: Duration::from_millis(100),
        }
    }

    /// The schema holding this city's tables: lowercase ASCII letters,
    /// digits and `_`, not starting with a digit or `pg_` (checked when
    /// opening).
    pub fn schema(mut self, name: impl Into<String>) -> PgOptions {
        self.schema = name.into();
        self
    }

    /// How often a [`Standby`] reads the log's new rows (default 100 ms).
    pub fn poll_every(mut self, every: Duration) -> PgOptions {
        self.poll = every.max(Duration::from_millis(1));
        self
    }

    /// The schema's name.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }

    fn connect(&self) -> Result<Client, PgError> {
        Client::connect(&self.url, NoTls).map_err(PgError::Connect)
    }
}

/// Why a PostgreSQL store could not be opened, or stopped writing.
///
/// # Examples
///
/// ```
/// use hotline_router::dispatch::Dispatcher;
/// use hotline_router::store::postgres::{PgError, PgOptions};
/// use hotline_router::Router;
///
/// let options = PgOptions::new("postgres://localhost/hotline").schema("Beijing; DROP");
/// let err = Dispatcher::builder(Router::beijing()).open_postgres(&options).unwrap_err();
/// assert!(matches!(err, PgError::SchemaName(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The schema name is not a plain lowercase identifier.
    #[error(
        "invalid schema name {0:?}: use lowercase ASCII letters, digits and _, \
         at most 63, not starting with a digit or pg_"
    )]
    SchemaName(String),
    /// PostgreSQL could not be reached (or refused the login).
    #[error("cannot connect to PostgreSQL: {}", detail(.0))]
    Connect(#[source] postgres::Error),
    /// Another server is the schema's writer.
    #[error(
        "another server is writing schema {schema} (it holds advisory lock {key}); \
         run this one with --standby to take over when that one stops"
    )]
    Locked {
        /// The schema.
        schema: String,
        /// The advisory lock's key, as `pg_locks.objid` shows it (split in
        /// two 32-bit halves there: `classid` is the high one).
        key: i64,
    },
    /// The tables hold another format than this build reads.
    #[error("schema {schema} holds events of format version {found}; this build reads version 1")]
    Version {
        /// The schema.
        schema: String,
        /// The version in its `meta` table.
        found: String,
    },
    /// A row of `events` is not a log record.
    #[error("row {pos} of {schema}.events is not a log record: {source}")]
    Decode {
        /// The schema.
        schema: String,
        /// The row's position.
        pos: i64,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// The log does not fit the tickets' histories (the index is a `pos`).
    #[error(transparent)]
    Restore(#[from] RestoreError),
    /// A query failed.
    #[error("PostgreSQL: {}", detail(.0))]
    Postgres(#[from] postgres::Error),
    /// A write failed: the store is poisoned.
    #[error(
        "writing to PostgreSQL failed, every later operation is refused: {}",
        detail(.0)
    )]
    Write(#[source] postgres::Error),
    /// The writer's (or the standby's lock-waiting) session was lost: its
    /// lock is gone with it.
    #[error(
        "the PostgreSQL session holding the writer's lock was lost: {}",
        detail(.0)
    )]
    Lost(#[source] postgres::Error),
    /// A thread of the store could not be started.
    #[error("cannot start a thread: {0}")]
    Thread(#[source] std::io::Error),
    /// A standby stopped before taking over.
    #[error("the standby stopped: {0}")]
    Stopped(String),
}

/// A PostgreSQL error with what the server said (its `Display` alone is
/// "db error"), or the I/O error underneath.
fn detail(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(source) => format!("{e}: {source}"),
        None => e.to_string(),
    }
}

impl DispatcherBuilder {
    /// Opens the schema of `options` as this runtime's event store: takes
    /// the schema's writer lock (or fails with [`PgError::Locked`]),
    /// creates the tables if missing, restores the runtime from the log,
    /// and from now on acknowledges an operation once its events are
    /// committed in PostgreSQL. Replaces any [`sink`](Self::sink). See the
    /// [module docs](crate::store::postgres).
    ///
    /// # Errors
    ///
    /// [`PgError`]: a bad schema name, PostgreSQL unreachable, another
    /// writer, or a log that does not restore.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use hotline_router::dispatch::Dispatcher;
    /// use hotline_router::store::postgres::{PgError, PgOptions};
    /// use hotline_router::Router;
    ///
    /// let options = PgOptions::new("postgres://hotline@db.example/hotline");
    /// match Dispatcher::builder(Router::beijing()).open_postgres(&options) {
    ///     Ok((d, store)) => println!("{} tickets, log at {}", d.counts().total, store.stats().position),
    ///     Err(PgError::Locked { .. }) => eprintln!("another server is active: start as a standby"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_postgres(self, options: &PgOptions) -> Result<(Dispatcher, PgStore), PgError> {
        schema::check_name(&options.schema)?;
        let mut client = options.connect()?;
        schema::try_lock(&mut client, &options.schema)?;
        schema::create(&mut client, &options.schema)?;
        let mut rebuild = Rebuild::default();
        let position =
            schema::read_since(&mut client, &options.schema, 0, &mut rebuild)?.unwrap_or(0);
        let store = PgStore::start(client, &options.schema, position)?;
        let d = self.restore_rebuild(Arc::new(store.clone()), rebuild)?;
        Ok((d, store))
    }
}
