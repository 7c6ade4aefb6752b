//! One agency's work list: urgent before normal, oldest first within a
//! priority.
//!
//! A binary heap behind a `parking_lot` mutex, one per agency. A lock is
//! honestly the simplest tool here: the critical section is a heap push or
//! pop (tens of nanoseconds), and contention is only between threads working
//! the same agency. Entries are never removed from the middle: a ticket that
//! leaves the list another way (reassigned, its claim taken over) leaves a
//! stale entry behind, recognised on pop by its version and skipped.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;

use jiff::Timestamp;
use parking_lot::Mutex;

use crate::rules::Priority;

/// A work-list entry.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) priority: Priority,
    pub(crate) received_at: Timestamp,
    /// Submission order, the last tie-break: equal times pop first-in first-out.
    pub(crate) seq: u64,
    pub(crate) ticket: Arc<str>,
    /// The record's version when queued; a different one means stale.
    pub(crate) version: u32,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// The heap pops the greatest: urgent first, then the oldest, then the
    /// first submitted.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.received_at.cmp(&self.received_at))
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Default)]
pub(crate) struct WorkList {
    heap: Mutex<BinaryHeap<Entry>>,
}

impl WorkList {
    pub(crate) fn push(&self, entry: Entry) {
        self.heap.lock().push(entry);
    }

    pub(crate) fn pop(&self) -> Option<Entry> {
        self.heap.lock().pop()
    }
}

impl super::Dispatcher {
    /// Calls `f` with every open ticket `agency` holds: its work items
    /// (dispatched, claimed or responded), without the tickets linked to
    /// them — the tickets [`open_at`](super::Dispatcher::open_at) counts,
    /// in no particular order.
    ///
    /// It passes over every record, like
    /// [`for_each_record`](super::Dispatcher::for_each_record) (and `f` runs
    /// under the same rules): the work list itself keeps only the waiting
    /// tickets, and only in the order they are claimed. For the count
    /// alone, `open_at` is constant-time.
    ///
    /// # Examples
    ///
    /// ```
    /// use hotline_router::dispatch::Dispatcher;
    /// use hotline_router::{Router, Ticket};
    ///
    /// let d = Dispatcher::builder(Router::beijing()).build();
    /// d.submit(Ticket::new("T1", "挪车").with_address("海淀区学院路街道")).unwrap();
    /// d.submit(Ticket::new("T2", "挪车").with_address("海淀区学院路街道")).unwrap();
    /// d.claim("street:110108010", "w1").unwrap();
    /// let mut open = Vec::new();
    /// d.for_each_open_at("street:110108010", |r| open.push((r.ticket().id.clone(), r.state())));
    /// open.sort_by(|a, b| a.0.cmp(&b.0));
    /// assert_eq!(open.len(), d.open_at("street:110108010"));
    /// assert_eq!(open[0].1.as_str(), "claimed");
    /// assert_eq!(open[1].1.as_str(), "dispatched");
    /// ```
    pub fn for_each_open_at(&self, agency: &str, mut f: impl FnMut(&super::TicketRecord)) {
        use super::State;
        self.for_each_record(|r| {
            if r.agency() == agency
                && matches!(
                    r.state(),
                    State::Dispatched | State::Claimed | State::Responded
                )
            {
                f(r);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(priority: Priority, at: i64, seq: u64) -> Entry {
        Entry {
            priority,
            received_at: Timestamp::from_second(at).unwrap(),
            seq,
            ticket: format!("T{seq}").into(),
            version: 1,
        }
    }

    #[test]
    fn urgent_first_then_oldest_then_first_in() {
        let list = WorkList::default();
        list.push(entry(Priority::Normal, 100, 1));
        list.push(entry(Priority::Normal, 50, 2));
        list.push(entry(Priority::Urgent, 200, 3));
        list.push(entry(Priority::Normal, 50, 4));
        list.push(entry(Priority::Urgent, 150, 5));
        let order: Vec<u64> = std::iter::from_fn(|| list.pop()).map(|e| e.seq).collect();
        assert_eq!(order, [5, 3, 2, 4, 1]);
    }
}
