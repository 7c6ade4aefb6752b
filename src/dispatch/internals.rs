//! The runtime's internals: committing an operation's events through the
//! sink, slots and queues, moving a ticket between agencies.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use jiff::Timestamp;
use smallvec::{smallvec, SmallVec};

use super::worklist::{Entry, WorkList};
use super::{
    incidents, sink, AgencyQueue, Change, Dispatcher, Due, Event, EventKind, Held, OpError,
    Receipt, Slot, State, TicketRecord,
};
use crate::rules::AgencyId;

impl Dispatcher {
    /// Persists one operation's events, then applies them; refused as a
    /// whole, and then nothing changed. `queued` is the ticket's new
    /// work-list number when the operation queues it (persisted with the
    /// events, so that a restore orders the list exactly as here).
    pub(crate) fn commit(
        &self,
        record: &mut TicketRecord,
        now: Timestamp,
        kinds: SmallVec<[EventKind; 2]>,
        queued: Option<u64>,
    ) -> Result<(), OpError> {
        record.check_all(&kinds)?;
        if let Some(sink) = &self.shared.sink {
            let first = record.next_seq();
            let events: SmallVec<[Event; 2]> = kinds
                .into_iter()
                .zip(first..)
                .map(|(kind, seq)| Event {
                    ticket: record.ticket().id.clone(),
                    seq,
                    at: now,
                    kind,
                })
                .collect();
            let change = Change::Events {
                events: &events,
                queued,
            };
            sink::persist(&**sink, &[change]).map_err(OpError::Sink)?;
            for event in events {
                record.apply_owned(event.at, event.kind)?;
            }
        } else {
            for kind in kinds {
                record.apply_owned(now, kind)?;
            }
        }
        if let Some(queued) = queued {
            record.queued = queued;
        }
        Ok(())
    }

    /// Starts a snapshot in the background when the journal has grown
    /// enough since the last (checked every 1,024 operations: cheap).
    pub(super) fn after_op(&self) {
        let s = &*self.shared;
        let Some(journal) = &s.journal else {
            return;
        };
        if !s.ops.fetch_add(1, Ordering::Relaxed).is_multiple_of(1024)
            || journal.stats().bytes_since_snapshot < s.snapshot_every
            || s.snapshotting.swap(true, Ordering::AcqRel)
        {
            return;
        }
        // Not a caller's handle: it must not keep the closer alive.
        let d = Dispatcher {
            shared: self.shared.clone(),
            closer: None,
        };
        let spawned = std::thread::Builder::new()
            .name("hotline-snapshot".into())
            .spawn(move || {
                // A failed snapshot leaves the journal as it was (longer to
                // restore, nothing lost); the next trigger tries again.
                let _ = d.checkpoint();
                d.shared.snapshotting.store(false, Ordering::Release);
            });
        match (spawned, &self.closer) {
            (Ok(thread), Some(closer)) => {
                // The previous snapshot thread has finished (`snapshotting`
                // was clear): replacing its handle just detaches it.
                *closer.snapshot.lock() = Some(thread);
            }
            (Ok(_), None) => {}
            (Err(_), _) => s.snapshotting.store(false, Ordering::Release),
        }
    }

    pub(super) fn queue(&self, agency: &str) -> Arc<AgencyQueue> {
        if let Some(q) = self.shared.agencies.get(agency) {
            return q.clone();
        }
        let code: Arc<str> = Arc::from(agency);
        self.shared
            .agencies
            .entry(code.clone())
            .or_insert_with(|| {
                Arc::new(AgencyQueue {
                    code: code.into(),
                    list: WorkList::default(),
                    open: AtomicUsize::new(0),
                })
            })
            .clone()
    }

    /// The ticket's slot, cloned out so that no map lock is held while the
    /// slot is locked.
    pub(super) fn slot(&self, id: &str) -> Option<Arc<Slot>> {
        self.shared.records.get(id).map(|r| r.value().clone())
    }

    pub(super) fn slot_or_err(&self, id: &str) -> Result<Arc<Slot>, OpError> {
        self.slot(id)
            .ok_or_else(|| OpError::UnknownTicket(id.to_string()))
    }

    /// Every slot, cloned out shard by shard.
    pub(super) fn slots(&self) -> Vec<(Arc<str>, Arc<Slot>)> {
        self.shared
            .records
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect()
    }

    /// Runs `f` on the record (and its deadline entry) if `worker` holds its
    /// claim.
    pub(super) fn by_holder<T>(
        &self,
        id: &str,
        worker: &str,
        f: impl FnOnce(&Self, &mut TicketRecord, &mut Due, Timestamp) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        self.on_record(id, |d, record, due, now| {
            if matches!(record.state(), State::Claimed | State::Responded)
                && record.worker() != Some(worker)
            {
                return Err(OpError::NotHolder {
                    ticket: id.to_string(),
                    worker: worker.to_string(),
                    holder: record.worker().map(str::to_string),
                });
            }
            f(d, record, due, now)
        })
    }

    /// Runs one operation on a ticket under its lock: `f` gets the record,
    /// its deadline entry and the time.
    pub(super) fn on_record<T>(
        &self,
        id: &str,
        f: impl FnOnce(&Self, &mut TicketRecord, &mut Due, Timestamp) -> Result<T, OpError>,
    ) -> Result<T, OpError> {
        let now = self.now();
        let slot = self.slot_or_err(id)?;
        let mut held = slot.lock();
        let Held {
            record: Some(record),
            due,
        } = &mut *held
        else {
            return Err(OpError::UnknownTicket(id.to_string()));
        };
        let result = f(self, record, due, now);
        drop(held);
        if result.is_ok() {
            self.after_op();
        }
        result
    }

    pub(super) fn check_moves(&self, record: &TicketRecord) -> Result<(), OpError> {
        let limit = self.shared.config.max_moves;
        if record.moves() >= limit {
            return Err(OpError::TooManyMoves {
                ticket: record.ticket().id.clone(),
                limit,
            });
        }
        Ok(())
    }

    /// The agency a returned ticket goes to next: the router's choice, its
    /// co-handlers, then the rules' fallbacks ([`RuleSet::fallbacks_for`]:
    /// the district's 12345 office, then triage) — the first that has not
    /// returned it (`returning` is returning it now). After `max_returns`
    /// returns only the fallbacks for no district (triage) are left. `None`
    /// when every candidate has returned it.
    ///
    /// [`RuleSet::fallbacks_for`]: crate::rules::RuleSet::fallbacks_for
    pub(super) fn next_agency(
        &self,
        record: &TicketRecord,
        returning: Option<&str>,
    ) -> Option<String> {
        let router = self.router();
        let rules = router.rules();
        let refused: SmallVec<[&str; 4]> = record
            .returned_from()
            .iter()
            .map(String::as_str)
            .chain(returning)
            .collect();
        let mut candidates: SmallVec<[AgencyId; 8]> = SmallVec::new();
        let mut district = None;
        if refused.len() < self.shared.config.max_returns as usize {
            if let Ok(d) = router.route(record.ticket()) {
                candidates.push(d.agency());
                candidates.extend_from_slice(d.co_agencies());
                district = d.location().district();
            }
        }
        candidates.extend(rules.fallbacks_for(district));
        candidates
            .into_iter()
            .map(|a| rules.agency(a).code())
            .find(|code| !refused.contains(code))
            .map(str::to_string)
    }

    /// The code of the rules' human triage desk: where a ticket goes when
    /// nothing else takes it.
    pub(super) fn triage_code(&self) -> String {
        let router = self.router();
        let rules = router.rules();
        rules.agency(rules.triage()).code().to_string()
    }

    /// Moves an open ticket to `agency` (`first` is the `Returned` or
    /// `Reassigned` event) and queues it there.
    pub(super) fn move_to(
        &self,
        id: &str,
        record: &mut TicketRecord,
        now: Timestamp,
        first: EventKind,
        agency: String,
    ) -> Result<Receipt, OpError> {
        let from = record.agency().to_string();
        let (priority, deadline) = (record.priority(), record.deadline());
        let dispatched = EventKind::Dispatched {
            agency: agency.clone(),
            priority,
            deadline,
        };
        let queued = self.shared.seq.fetch_add(1, Ordering::Relaxed);
        let follow = |_: &TicketRecord| incidents::follow(id, &agency, priority, deadline);
        self.commit_incident(
            id,
            record,
            now,
            smallvec![first, dispatched],
            Some(queued),
            follow,
        )?;
        // Capacity limits intake, never a re-dispatch: a ticket in the system
        // must always have somewhere to be.
        self.queue(&from).open.fetch_sub(1, Ordering::AcqRel);
        self.queue(&agency).open.fetch_add(1, Ordering::AcqRel);
        let key: Arc<str> = Arc::from(id);
        self.requeue(&key, record);
        Ok(Receipt {
            id: key.into(),
            agency: agency.into(),
            priority,
            deadline,
            incident: None,
        })
    }

    /// Puts the ticket on its agency's list under the number its operation
    /// persisted (`commit` set it).
    pub(super) fn requeue(&self, key: &Arc<str>, record: &TicketRecord) {
        let seq = record.queued;
        self.queue(record.agency()).list.push(Entry {
            priority: record.priority(),
            received_at: record.received_at(),
            seq,
            ticket: key.clone(),
            version: record.version(),
        });
    }
}
