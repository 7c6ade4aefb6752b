//! Putting a [`Dispatcher`] together: configuration, clock, sink.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize};
use std::sync::Arc;

use arc_swap::ArcSwap;
use crossbeam_skiplist::SkipMap;
use dashmap::DashMap;
use parking_lot::{Mutex, RwLock};

use super::restore::{Rebuild, RestoreError};
use super::Journal;
use super::{
    Change, Clock, DispatchConfig, Dispatcher, DueIndex, Event, Hasher, Incidents, Linker, Shared,
    Sink, SinkError, SystemClock,
};
use crate::router::Router;

/// Journal bytes after which a snapshot is taken, by default: restore then
/// reads the snapshot plus at most this much log.
const SNAPSHOT_EVERY: u64 = 64 << 20;

/// Builds a [`Dispatcher`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use hotline_router::dispatch::{DispatchConfig, Dispatcher, ManualClock};
/// use hotline_router::Router;
///
/// let clock = Arc::new(ManualClock::new("2024-11-20T08:00:00+08:00".parse().unwrap()));
/// let d = Dispatcher::builder(Router::beijing())
///     .config(DispatchConfig::default().max_returns(3))
///     .clock(clock)
///     .build();
/// assert_eq!(d.counts().total, 0);
/// ```
#[must_use]
pub struct DispatcherBuilder {
    pub(super) router: Router,
    pub(super) config: DispatchConfig,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) sink: Option<Arc<dyn Sink>>,
    pub(super) snapshot_every: u64,
    pub(super) linker: Option<Box<dyn Linker>>,
    pub(super) observer: Option<Arc<Observer>>,
}

/// A function told of every change the sink accepted: see
/// [`DispatcherBuilder::observe`].
pub(super) type Observer = dyn Fn(&[Change<'_>]) + Send + Sync;

/// The sink (if any), then the observer: what the runtime persists through
/// when [`DispatcherBuilder::observe`] was called.
struct Observed {
    sink: Option<Arc<dyn Sink>>,
    observer: Arc<Observer>,
}

impl Sink for Observed {
    fn persist(&self, changes: &[Change<'_>]) -> Result<(), SinkError> {
        if let Some(sink) = &self.sink {
            sink.persist(changes)?;
        }
        (self.observer)(changes);
        Ok(())
    }
}

impl std::fmt::Debug for DispatcherBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DispatcherBuilder")
            .field("config", &self.config)
            .field("sink", &self.sink.is_some())
            .field("snapshot_every", &self.snapshot_every)
            .field("linker", &self.linker.is_some())
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl DispatcherBuilder {
    pub(super) fn new(router: Router) -> DispatcherBuilder {
        DispatcherBuilder {
            router,
            config: DispatchConfig::default(),
            clock: Arc::new(SystemClock),
            sink: None,
            snapshot_every: SNAPSHOT_EVERY,
            linker: None,
            observer: None,
        }
    }

    /// Limits and timings (default: [`DispatchConfig::default`]).
    pub fn config(mut self, config: DispatchConfig) -> Self {
        self.config = config;
        self
    }

    /// Where time comes from (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Every operation's events go to `sink` before they are applied, and a
    /// sink error refuses the operation. One sink: to feed several systems
    /// with the same guarantee, write a sink that does (and decide what a
    /// half-failed write means); or feed the others from the journal.
    /// [`open_journal`](Self::open_journal) replaces it with the journal.
    pub fn sink(mut self, sink: Arc<dyn Sink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// With a journal, take a snapshot in the background once this many
    /// journal bytes were written since the last one (default 64 MiB), so
    /// that restore time stays bounded however old the journal is.
    pub fn snapshot_every(mut self, bytes: u64) -> Self {
        self.snapshot_every = bytes.max(1);
        self
    }

    /// Links new tickets to open incidents with `linker` (default: none,
    /// every ticket is its own work item): see [`Linker`] and the
    /// [`dispatch`](super) module docs. On [`restore`](Self::restore) and
    /// [`open_journal`](Self::open_journal) it is fed the open tickets.
    pub fn linker(mut self, linker: impl Linker + 'static) -> Self {
        self.linker = Some(Box::new(linker));
        self
    }

    /// Tells `observer` of every change once the sink (the journal, if
    /// any) has accepted it — the events of each acknowledged operation,
    /// in each ticket's order — e.g. to stream lifecycle events to
    /// dashboards. A refused operation is never observed.
    ///
    /// It is called on the operating thread with the ticket's lock held,
    /// just before the change is applied and the operation acknowledged:
    /// keep it short and non-blocking (hand the events to a channel), and
    /// never call back into the dispatcher. A panic in it refuses the
    /// operation like a sink's error would.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use hotline_router::dispatch::{Change, Dispatcher};
    /// use hotline_router::{Router, Ticket};
    ///
    /// let seen = Arc::new(Mutex::new(Vec::new()));
    /// let tap = seen.clone();
    /// let d = Dispatcher::builder(Router::beijing())
    ///     .observe(move |changes: &[Change<'_>]| {
    ///         for change in changes {
    ///             if let Change::Events { events, .. } = change {
    ///                 let mut seen = tap.lock().unwrap();
    ///                 seen.extend(events.iter().map(|e| e.kind.name().to_string()));
    ///             }
    ///         }
    ///     })
    ///     .build();
    /// d.submit(Ticket::new("T1", "楼道灯坏了").with_address("朝阳区呼家楼街道")).unwrap();
    /// assert_eq!(*seen.lock().unwrap(), ["received", "dispatched"]);
    /// ```
    pub fn observe(mut self, observer: impl Fn(&[Change<'_>]) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The runtime, empty.
    pub fn build(self) -> Dispatcher {
        let sink = self.sink.clone();
        self.assemble(sink, None, 0)
    }

    /// Rebuilds a runtime from persisted events (as a [`Sink`] received
    /// them): records, work lists, leases, deadlines and escalations.
    /// Events of one ticket must come in order; tickets may interleave.
    ///
    /// An operation cut off between its events (a log that ends after a
    /// `Received`, `Returned`, `Reassigned` or `Split` without the
    /// `Dispatched` that follows) is completed: the ticket is dispatched —
    /// for a return to the next agency as a live return would, for a
    /// reassignment back to the agency that held it, for a submit or a
    /// split to its own agency — and those events go to the sink, so every
    /// ticket can be acted on again. So is an operation on an incident's
    /// head cut off before its members' events (they are separate changes
    /// of one sink call): a member still linked to a resolved head is
    /// resolved with it (same worker and outcome), one left behind by a
    /// move follows its head, and one whose head is not here is split off.
    ///
    /// # Errors
    ///
    /// [`RestoreError`], naming the event's index: an event that does not
    /// fit its ticket's history (a gap in `seq`, a first event that is not
    /// `Received`, an illegal transition), or the sink refusing a completion.
    pub fn restore(
        self,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<Dispatcher, RestoreError> {
        let mut rebuild = Rebuild::default();
        for (index, event) in events.into_iter().enumerate() {
            rebuild.event(index as u64, event, None)?;
        }
        let sink = self.sink.clone();
        let d = self.assemble(sink, None, rebuild.len());
        rebuild.install(&d)?;
        Ok(d)
    }

    /// The runtime from `rebuild` (what a store read back, with work-list
    /// numbers and purges, unlike [`restore`](Self::restore)), persisting
    /// through `sink` from now on — operations cut off mid-way are
    /// completed through it too. Replaces any [`sink`](Self::sink).
    #[cfg(feature = "postgres")]
    pub(crate) fn restore_rebuild(
        self,
        sink: Arc<dyn Sink>,
        rebuild: Rebuild,
    ) -> Result<Dispatcher, RestoreError> {
        let d = self.assemble(Some(sink), None, rebuild.len());
        rebuild.install(&d)?;
        Ok(d)
    }

    pub(super) fn assemble(
        self,
        sink: Option<Arc<dyn Sink>>,
        journal: Option<Journal>,
        tickets: usize,
    ) -> Dispatcher {
        let sink = match self.observer {
            Some(observer) => Some(Arc::new(Observed { sink, observer }) as Arc<dyn Sink>),
            None => sink,
        };
        let mut config = self.config;
        // A lease of zero would let claim/expire cycles grow a history
        // without bound in no time.
        config.lease = config.lease.max(jiff::SignedDuration::from_secs(1));
        Dispatcher {
            closer: Some(Arc::default()),
            shared: Arc::new(Shared {
                router: ArcSwap::from_pointee(self.router),
                clock: self.clock,
                latest: AtomicI64::new(i64::MIN),
                config,
                sink,
                journal,
                snapshot_every: self.snapshot_every,
                snapshotting: AtomicBool::new(false),
                ops: AtomicU64::new(1),
                // Sized for the tickets a restore brings: growing a map of a
                // million rehashes it twenty times.
                records: DashMap::with_capacity_and_hasher(tickets, Hasher::default()),
                agencies: DashMap::with_hasher(Hasher::default()),
                total: AtomicUsize::new(0),
                seq: AtomicU64::new(0),
                deadlines: DueIndex::default(),
                leases: SkipMap::new(),
                escalated: DashMap::with_hasher(Hasher::default()),
                purged: RwLock::new(Default::default()),
                maintenance: Mutex::new(()),
                incidents: Incidents::default(),
                linker: self.linker.map(Mutex::new),
            }),
        }
    }
}

impl Dispatcher {
    /// Shorthand for [`Dispatcher::builder`]`(router).config(config).clock(clock).restore(events)`.
    ///
    /// # Errors
    ///
    /// See [`DispatcherBuilder::restore`].
    pub fn restore(
        router: Router,
        config: DispatchConfig,
        clock: impl Clock + 'static,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<Dispatcher, RestoreError> {
        Dispatcher::builder(router)
            .config(config)
            .clock(clock)
            .restore(events)
    }
}
