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
