//! Open tickets by deadline, for `overdue(now)`.
//!
//! Every submit inserts here, from many threads at once, with deadlines that
//! cluster (a morning's tickets are due at nearly the same time). A single
//! ordered structure makes those inserts meet at the same place; sharding by
//! submission number spreads them over independent small locks, and a scan
//! for what is due visits each shard's earliest entries only.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use parking_lot::Mutex;

const SHARDS: usize = 16;

/// One shard: tickets by (deadline, submission number).
type Shard = Mutex<BTreeMap<(Timestamp, u64), Arc<str>>>;

#[derive(Debug)]
pub(crate) struct DueIndex {
    shards: Box<[Shard]>,
}

impl Default for DueIndex {
    fn default() -> Self {
        DueIndex {
            shards: (0..SHARDS).map(|_| Mutex::new(BTreeMap::new())).collect(),
        }
    }
}

impl DueIndex {
    pub(crate) fn insert(&self, due: Timestamp, seq: u64, ticket: Arc<str>) {
        self.shards[seq as usize % SHARDS]
            .lock()
            .insert((due, seq), ticket);
    }

    /// Removes one entry (a ticket that closed), if still there.
    pub(crate) fn remove(&self, due: Timestamp, seq: u64) {
        self.shards[seq as usize % SHARDS]
            .lock()
            .remove(&(due, seq));
    }

    /// Removes and returns every entry due by `now`, earliest first. Each
    /// entry is returned to exactly one caller.
    pub(crate) fn take_due(&self, now: Timestamp) -> Vec<(Timestamp, u64, Arc<str>)> {
        let mut due = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            while let Some(entry) = shard.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                let ((at, seq), ticket) = entry.remove_entry();
                due.push((at, seq, ticket));
            }
        }
        due.sort_by_key(|(at, seq, _)| (*at, *seq));
        due
    }

    /// Entries in the index: tickets waiting for their deadline.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_exactly_what_is_due_once() {
        let index = DueIndex::default();
        let t = |s: i64| Timestamp::from_second(s).unwrap();
        for (seq, at) in [30, 10, 20, 40, 10].into_iter().enumerate() {
            index.insert(t(at), seq as u64, format!("T{seq}").into());
        }
        let due: Vec<String> = index
            .take_due(t(20))
            .into_iter()
            .map(|(_, _, k)| k.to_string())
            .collect();
        assert_eq!(due.len(), 3);
        assert!(
            due.contains(&"T1".to_string())
                && due.contains(&"T4".to_string())
                && due.contains(&"T2".to_string())
        );
        assert!(index.take_due(t(20)).is_empty());
        index.remove(t(40), 3);
        index.remove(t(40), 99); // not there: nothing happens
        assert_eq!(index.take_due(t(100)).len(), 1, "T3 was removed");
    }
}
