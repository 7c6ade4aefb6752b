//! Rebuilding a runtime from the events an [`Observer`] persisted.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use dashmap::mapref::entry::Entry as MapEntry;

use super::lifecycle::{Event, EventKind, State, TicketRecord, TransitionError};
use super::types::{DispatchConfig, OpError};
use super::worklist::Entry;
#[cfg(doc)]
use super::Observer;
use super::{Clock, Dispatcher};
use crate::router::Router;
use crate::rules::Priority;

impl Dispatcher {
    /// Rebuilds a runtime from persisted events (as an [`Observer`] saw
    /// them): records, work lists, leases, deadlines and escalations. Events
    /// of one ticket must come in order; tickets may interleave.
    ///
    /// # Errors
    ///
    /// An event that does not fit its ticket's history (a gap in `seq`, a
    /// first event that is not `Received`, an illegal transition).
    pub fn restore(
        router: Router,
        config: DispatchConfig,
        clock: impl Clock + 'static,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<Dispatcher, OpError> {
        let d = Dispatcher::new(router, config, clock);
        let s = &*d.shared;
        // Where each ticket last joined a work list in the event stream: the
        // live runtime's tie-break for equal times was that order too.
        let mut queued_at: HashMap<Arc<str>, u64> = HashMap::new();
        for (n, event) in events.into_iter().enumerate() {
            let key: Arc<str> = Arc::from(event.ticket.as_str());
            if matches!(
                event.kind,
                EventKind::Dispatched { .. } | EventKind::LeaseExpired
            ) {
                queued_at.insert(key.clone(), n as u64);
            }
            match s.records.entry(key) {
                MapEntry::Vacant(slot) => {
                    if event.seq != 0 {
                        return Err(OpError::UnknownTicket(event.ticket));
                    }
                    slot.insert(Box::new(TicketRecord::new(&event)?));
                }
                MapEntry::Occupied(mut slot) => {
                    let record = slot.get_mut();
                    if event.seq != record.next_seq() {
                        return Err(TransitionError {
                            ticket: event.ticket.clone(),
                            state: record.state(),
                            event: "an event out of sequence",
                        }
                        .into());
                    }
                    record.apply(event.at, &event.kind)?;
                }
            }
        }
        let mut queued: Vec<(Arc<str>, Entry)> = Vec::new();
        let mut unsent: Vec<Arc<str>> = Vec::new();
        for r in s.records.iter() {
            let key = r.key().clone();
            s.total.fetch_add(1, Ordering::AcqRel);
            if !r.state().is_open() {
                continue;
            }
            // The log ends between a ticket's Received and Dispatched (a
            // crash mid-submit): dispatch it below rather than lose it.
            if r.state() == State::Received {
                unsent.push(key);
                continue;
            }
            let seq = queued_at.get(&key).copied().unwrap_or(0);
            d.queue(r.agency()).open.fetch_add(1, Ordering::AcqRel);
            if r.is_escalated() {
                s.escalated.insert(key.clone(), ());
            } else {
                s.deadlines.insert(r.deadline(), seq, key.clone());
            }
            match r.state() {
                State::Dispatched => queued.push((
                    Arc::from(r.agency()),
                    Entry {
                        priority: r.priority(),
                        received_at: r.received_at(),
                        seq,
                        ticket: key,
                        version: r.version(),
                    },
                )),
                State::Claimed => {
                    if let Some(until) = r.lease_until() {
                        s.leases.insert((until, seq), (key, r.version()));
                    }
                }
                _ => {}
            }
        }
        let next = queued_at.values().max().map_or(0, |n| n + 1);
        s.seq.store(next, Ordering::Relaxed);
        for key in unsent {
            if let Some(mut record) = s.records.get_mut(&key) {
                let agency = d
                    .next_agency(&record, None)
                    .unwrap_or_else(|| "center:triage".into());
                let (priority, deadline) = match d.router().route(record.ticket()) {
                    Ok(decision) => (decision.priority(), decision.deadline()),
                    Err(_) => (Priority::Normal, record.received_at()),
                };
                let now = d.now();
                let dispatched = EventKind::Dispatched {
                    agency: agency.clone(),
                    priority,
                    deadline,
                };
                if d.apply_and_emit(&mut record, now, dispatched).is_ok() {
                    d.queue(&agency).open.fetch_add(1, Ordering::AcqRel);
                    d.requeue(&key, &record);
                    let seq = s.seq.fetch_add(1, Ordering::Relaxed);
                    s.deadlines.insert(deadline, seq, key.clone());
                }
            }
        }
        for (agency, entry) in queued {
            d.queue(&agency).list.push(entry);
        }
        Ok(d)
    }
}
