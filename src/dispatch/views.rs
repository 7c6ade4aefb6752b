//! Reading the runtime (records, counts, the 三率) and purging closed
//! tickets.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use jiff::Timestamp;

use super::{
    fingerprint, sink, submit, AgencyCode, Change, Counts, Dispatcher, OpError, Slot, State,
    TicketId, TicketRecord, PURGE_CHUNK,
};
use crate::evaluate::{
    month_window, rank, Evaluation, GroupBy, MonthError, Ranking, RateRecord, RateTable, Rates,
};

impl Dispatcher {
    /// The 三率 and counts per group for tickets received in `[from, to)`
    /// (see [`crate::evaluate::rates`]).
    pub fn rates(&self, group: GroupBy, from: Timestamp, to: Timestamp) -> Vec<Rates> {
        let mut table = RateTable::new(group, from, to);
        self.for_each_record(|r| table.add(r));
        table.finish()
    }

    /// The agency ranking for tickets received in a month of the router's
    /// time zone (see [`crate::evaluate::rank`]).
    ///
    /// # Errors
    ///
    /// A month outside 1–12 or a year out of range.
    pub fn monthly_ranking(
        &self,
        year: i16,
        month: i8,
        min_evaluated: u64,
        bottom: usize,
    ) -> Result<Ranking, MonthError> {
        let (from, to) = month_window(year, month, self.router().time_zone())?;
        Ok(rank(
            year,
            month,
            self.rates(GroupBy::Agency, from, to),
            min_evaluated,
            bottom,
        ))
    }

    /// A copy of a ticket's record: state, agency, history.
    pub fn record(&self, id: impl Into<TicketId>) -> Option<TicketRecord> {
        let id = id.into();
        let id = id.as_str();
        let slot = self.slot(id)?;
        let held = slot.lock();
        held.record.clone()
    }

    /// Calls `f` with every record, one ticket at a time (see the module
    /// docs on consistency).
    ///
    /// `f` runs while the ticket it is given is locked: it may call the
    /// dispatcher, but not about that ticket or its incident (resolving or
    /// moving a head locks its members), and not `for_each_record` again
    /// (either would wait for itself). A ticket submitted from `f` does not
    /// wait for a busy incident head: it stands alone instead.
    pub fn for_each_record(&self, mut f: impl FnMut(&TicketRecord)) {
        let _scope = submit::CallbackScope::enter();
        for (_, slot) in self.slots() {
            let held = slot.lock();
            if let Some(record) = &held.record {
                f(record);
            }
        }
    }

    /// How many tickets are where.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        self.for_each_record(|r| {
            c.total += 1;
            match r.state() {
                State::Received | State::Dispatched => c.dispatched += 1,
                State::Linked => c.linked += 1,
                State::Claimed | State::Responded => c.in_hand += 1,
                State::Resolved => c.resolved += 1,
                State::Evaluated => c.evaluated += 1,
            }
            if r.state().is_open() && r.is_escalated() {
                c.escalated += 1;
            }
        });
        c
    }

    /// Open tickets held by an agency: its work items (dispatched, claimed
    /// or responded), without the tickets linked to them.
    pub fn open_at(&self, agency: impl Into<AgencyCode>) -> usize {
        let agency = agency.into();
        let agency = agency.as_str();
        self.shared
            .agencies
            .get(agency)
            .map_or(0, |q| q.open.load(Ordering::Acquire))
    }

    /// Drops evaluated tickets received before `before` from memory, and
    /// (at the next snapshot) from the journal; returns how many. Their ids
    /// are remembered (8 bytes each) and refused if submitted again
    /// ([`SubmitError::Purged`](super::SubmitError::Purged)).
    ///
    /// # Errors
    ///
    /// [`OpError::Sink`]: the sink refused a purge marker; tickets purged by
    /// earlier markers of this call stay purged.
    pub fn purge_closed(&self, before: Timestamp) -> Result<usize, OpError> {
        let s = &*self.shared;
        let _maintenance = s.maintenance.lock();
        let closed: Vec<(Arc<str>, Arc<Slot>)> = self
            .slots()
            .into_iter()
            .filter(|(_, slot)| {
                slot.lock()
                    .record
                    .as_ref()
                    .is_some_and(|r| r.state() == State::Evaluated && r.received_at() < before)
            })
            .collect();
        let mut purged = 0;
        for chunk in closed.chunks(PURGE_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|(k, _)| k.to_string()).collect();
            if let Some(sink) = &s.sink {
                sink::persist(&**sink, &[Change::Purged(&ids)]).map_err(OpError::Sink)?;
            }
            s.purged
                .write()
                .extend(ids.iter().map(|id| fingerprint(id)));
            for (key, slot) in chunk {
                s.records.remove_if(key, |_, v| Arc::ptr_eq(v, slot));
            }
            s.incidents.forget(chunk.iter().map(|(key, _)| key));
            s.total.fetch_sub(chunk.len(), Ordering::AcqRel);
            purged += chunk.len();
        }
        if purged > 0 {
            s.records.shrink_to_fit();
        }
        Ok(purged)
    }
}

/// The 三率 read a record through [`RateRecord`]: evaluation is fed by the
/// runtime, and knows nothing of it.
impl RateRecord for TicketRecord {
    fn received_at(&self) -> Timestamp {
        TicketRecord::received_at(self)
    }
    fn is_routed(&self) -> bool {
        self.state() != State::Received
    }
    fn agency(&self) -> &str {
        TicketRecord::agency(self)
    }
    fn street(&self) -> Option<&str> {
        self.routing().street.as_deref()
    }
    fn district(&self) -> Option<&str> {
        self.routing().district.as_deref()
    }
    fn deadline(&self) -> Timestamp {
        TicketRecord::deadline(self)
    }
    fn resolved_at(&self) -> Option<Timestamp> {
        TicketRecord::resolved_at(self)
    }
    fn evaluation(&self) -> Option<Evaluation> {
        TicketRecord::evaluation(self)
    }
    fn is_escalated(&self) -> bool {
        TicketRecord::is_escalated(self)
    }
}
