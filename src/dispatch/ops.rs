//! The operations on tickets after submit: claim, respond, resolve,
//! return, reassign, evaluate, and the time-driven ones (lease expiry,
//! escalation).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use jiff::Timestamp;
use smallvec::smallvec;

use super::{
    refuse_linked, AgencyCode, Claim, Dispatcher, Evaluation, EventKind, Held, OpError, Overdue,
    Receipt, State, TicketId, WorkerId,
};

impl Dispatcher {
    /// Claims the next ticket of `agency` for `worker`: urgent first, oldest
    /// first within a priority. Expired leases are put back first. `Ok(None)`
    /// when the list is empty.
    ///
    /// # Errors
    ///
    /// [`OpError::UnknownAgency`] for an agency the router does not know (a
    /// typo would otherwise look like an empty list); [`OpError::Sink`].
    pub fn claim(
        &self,
        agency: impl Into<AgencyCode>,
        worker: impl Into<WorkerId>,
    ) -> Result<Option<Claim>, OpError> {
        let (agency, worker) = (agency.into(), worker.into());
        let (agency, worker) = (agency.as_str(), worker.as_str());
        let s = &*self.shared;
        let now = self.now();
        self.expire_leases(now);
        let Some(queue) = s.agencies.get(agency).map(|q| q.clone()) else {
            return match self.router().rules().agency_id(agency) {
                Some(_) => Ok(None),
                None => Err(OpError::UnknownAgency(agency.to_string())),
            };
        };
        while let Some(entry) = queue.list.pop() {
            let Some(slot) = self.slot(&entry.ticket) else {
                continue;
            };
            let mut held = slot.lock();
            let Some(record) = held.record.as_mut() else {
                continue;
            };
            if record.state() != State::Dispatched
                || record.version() != entry.version
                || record.agency() != agency
            {
                continue; // stale: the ticket moved on since it was queued
            }
            let lease_until = now.checked_add(s.config.lease).unwrap_or(Timestamp::MAX);
            let claimed = EventKind::Claimed {
                worker: worker.to_string(),
                lease_until,
            };
            match self.commit(record, now, smallvec![claimed], None) {
                Ok(()) => {}
                Err(e @ OpError::Sink(_)) => {
                    queue.list.push(entry); // refused: still waiting
                    return Err(e);
                }
                Err(_) => continue,
            }
            let seq = s.seq.fetch_add(1, Ordering::Relaxed);
            s.leases
                .insert((lease_until, seq), (entry.ticket.clone(), record.version()));
            let claim = Claim {
                id: entry.ticket.clone().into(),
                ticket: record.ticket_arc().clone(),
                priority: record.priority(),
                deadline: record.deadline(),
                lease_until,
                // Under the head's lock, which members join and leave under.
                callers: s.incidents.callers(&entry.ticket),
            };
            drop(held);
            self.after_op();
            return Ok(Some(claim));
        }
        Ok(None)
    }

    /// Puts back every claim whose lease ended by `now` and was not acted
    /// on; returns how many. Costs time proportional to the leases due. A
    /// lease the sink refuses to expire stays due, for the next call.
    pub fn expire_leases(&self, now: Timestamp) -> usize {
        let s = &*self.shared;
        let mut expired = 0;
        while let Some(due) = s.leases.front() {
            if due.key().0 > now {
                break;
            }
            // Remove exactly this entry: with `pop_front` a concurrent caller
            // could have taken it meanwhile and this one the next, not yet due.
            if !due.remove() {
                continue;
            }
            let (key, version) = due.value().clone();
            let Some(slot) = self.slot(&key) else {
                continue;
            };
            let mut held = slot.lock();
            let Some(record) = held.record.as_mut() else {
                continue;
            };
            if record.state() != State::Claimed || record.version() != version {
                continue; // acted on, or claimed again since
            }
            let queued = s.seq.fetch_add(1, Ordering::Relaxed);
            match self.commit(
                record,
                now,
                smallvec![EventKind::LeaseExpired],
                Some(queued),
            ) {
                Ok(()) => {
                    expired += 1;
                    self.requeue(&key, record);
                }
                Err(OpError::Sink(_)) => {
                    s.leases.insert(*due.key(), (key, version));
                    break;
                }
                Err(_) => {}
            }
        }
        expired
    }

    /// Records that the worker contacted the caller.
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker; the sink.
    pub fn respond(
        &self,
        id: impl Into<TicketId>,
        worker: impl Into<WorkerId>,
    ) -> Result<(), OpError> {
        let (id, worker) = (id.into(), worker.into());
        let (id, worker) = (id.as_str(), worker.as_str());
        self.by_holder(id, worker, |d, record, _, now| {
            refuse_linked(record)?;
            let responded = EventKind::Responded {
                worker: worker.to_string(),
            };
            d.commit(record, now, smallvec![responded], None)
        })
    }

    /// Records that the ticket is handled — and with it every ticket
    /// linked to its incident: they are resolved by the same worker with
    /// the same outcome, in the same operation (one sink call), and each
    /// caller is then called back on its own ([`evaluate`](Self::evaluate)).
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker;
    /// [`OpError::Linked`] for a ticket linked to another's incident
    /// (resolve the head); the sink.
    pub fn resolve(
        &self,
        id: impl Into<TicketId>,
        worker: impl Into<WorkerId>,
        outcome: &str,
    ) -> Result<(), OpError> {
        let (id, worker) = (id.into(), worker.into());
        let (id, worker) = (id.as_str(), worker.as_str());
        self.by_holder(id, worker, |d, record, due, now| {
            refuse_linked(record)?;
            let resolved = EventKind::Resolved {
                worker: worker.to_string(),
                outcome: outcome.to_string(),
            };
            d.commit_incident(id, record, now, smallvec![resolved.clone()], None, |_| {
                resolved.clone()
            })?;
            d.closed(id);
            d.queue(record.agency()).open.fetch_sub(1, Ordering::AcqRel);
            // Closed: it can no longer be overdue.
            if let Some((at, seq)) = due.take() {
                d.shared.deadlines.remove(at, seq);
            }
            d.shared.escalated.remove(id);
            Ok(())
        })
    }

    /// Returns the ticket as not the agency's (退单). It is routed again
    /// without the agencies that returned it — the router's choice, then its
    /// co-handlers, then the district's 12345 office — and after
    /// `max_returns` returns it goes to `center:triage`.
    ///
    /// # Errors
    ///
    /// Unknown ticket, not claimed, or claimed by another worker;
    /// [`OpError::NoAgencyLeft`] when every candidate, triage included, has
    /// returned it (the holder keeps it); [`OpError::TooManyMoves`];
    /// [`OpError::Linked`] for a ticket linked to another's incident; the
    /// sink.
    ///
    /// The tickets linked to its incident follow it to the next agency, in
    /// the same operation.
    pub fn return_ticket(
        &self,
        id: impl Into<TicketId>,
        worker: impl Into<WorkerId>,
        reason: &str,
    ) -> Result<Receipt, OpError> {
        let (id, worker) = (id.into(), worker.into());
        let (id, worker) = (id.as_str(), worker.as_str());
        self.by_holder(id, worker, |d, record, _, now| {
            refuse_linked(record)?;
            let returned = EventKind::Returned {
                worker: worker.to_string(),
                reason: reason.to_string(),
            };
            record.check(&returned)?;
            d.check_moves(record)?;
            // Decided before anything changes, so a refused return leaves the
            // ticket with its holder.
            let next = d
                .next_agency(record, Some(record.agency()))
                .ok_or_else(|| OpError::NoAgencyLeft(id.to_string()))?;
            d.move_to(id, record, now, returned, next)
        })
    }

    /// Moves a ticket to `agency` by hand. The tickets linked to its
    /// incident follow it, in the same operation.
    ///
    /// # Errors
    ///
    /// Unknown ticket or agency, the ticket is closed, it moved too often
    /// ([`OpError::TooManyMoves`]), it is linked to another's incident
    /// ([`OpError::Linked`]: split it off first); the sink.
    pub fn reassign(
        &self,
        id: impl Into<TicketId>,
        agency: impl Into<AgencyCode>,
        by: impl Into<WorkerId>,
        reason: &str,
    ) -> Result<Receipt, OpError> {
        let (id, agency, by) = (id.into(), agency.into(), by.into());
        let (id, agency, by) = (id.as_str(), agency.as_str(), by.as_str());
        if self.router().rules().agency_id(agency).is_none() {
            return Err(OpError::UnknownAgency(agency.to_string()));
        }
        self.on_record(id, |d, record, _, now| {
            refuse_linked(record)?;
            let reassigned = EventKind::Reassigned {
                by: by.to_string(),
                reason: reason.to_string(),
            };
            record.check(&reassigned)?;
            d.check_moves(record)?;
            d.move_to(id, record, now, reassigned, agency.to_string())
        })
    }

    /// Records the call-back's answers (评). Every caller of an incident is
    /// evaluated on its own: the 三率 count callers, not work items.
    ///
    /// # Errors
    ///
    /// Unknown ticket, or not resolved yet (a linked ticket: until its head
    /// is resolved), or already evaluated; the sink.
    pub fn evaluate(&self, id: impl Into<TicketId>, evaluation: Evaluation) -> Result<(), OpError> {
        let id = id.into();
        let id = id.as_str();
        self.on_record(id, |d, record, _, now| {
            let evaluated = EventKind::Evaluated {
                responded: evaluation.responded,
                resolved: evaluation.resolved,
                satisfied: evaluation.satisfied,
            };
            d.commit(record, now, smallvec![evaluated], None)
        })
    }

    /// Escalates every open ticket whose deadline passed by `now` (an
    /// [`EventKind::Escalated`] event and a flag; the ticket stays on its
    /// list) and returns all open escalated tickets. Costs time proportional
    /// to the overdue tickets, not to all. An escalation the sink refuses
    /// stays due, for the next call.
    pub fn overdue(&self, now: Timestamp) -> Vec<Overdue> {
        let s = &*self.shared;
        for (at, seq, key) in s.deadlines.take_due(now) {
            let Some(slot) = self.slot(&key) else {
                continue;
            };
            let mut held = slot.lock();
            let Held {
                record: Some(record),
                due,
            } = &mut *held
            else {
                continue;
            };
            *due = None;
            if !record.state().is_open() || record.is_escalated() {
                continue;
            }
            match self.commit(record, now, smallvec![EventKind::Escalated], None) {
                Ok(()) => {
                    s.escalated.insert(key, ());
                }
                Err(OpError::Sink(_)) => {
                    s.deadlines.insert(at, seq, key);
                    *due = Some((at, seq));
                }
                Err(_) => {}
            }
        }
        let keys: Vec<Arc<str>> = s.escalated.iter().map(|e| e.key().clone()).collect();
        let mut out = Vec::new();
        for key in keys {
            let Some(slot) = self.slot(&key) else {
                s.escalated.remove(&key);
                continue;
            };
            let held = slot.lock();
            match &held.record {
                Some(record) if record.state().is_open() => out.push(Overdue {
                    id: key.clone().into(),
                    agency: record.agency().into(),
                    deadline: record.deadline(),
                    state: record.state(),
                }),
                _ => {
                    s.escalated.remove(&key);
                }
            }
        }
        out.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
        out
    }
}
