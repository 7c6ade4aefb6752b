//! When open incidents may expire.

use std::collections::VecDeque;

/// When incidents may expire: (deadline, slot, generation) in one queue
/// per window length, each ordered by deadline. Tickets mostly come in time
/// order, so an entry almost always goes at the back: cheaper than a heap,
/// and it stays exact for tickets out of order (they are inserted in
/// place). Entries of closed or merged incidents go stale and are skipped;
/// an incident that grew is re-queued at its new deadline when popped.
#[derive(Clone, Debug, Default)]
pub(super) struct Expiries {
    /// (window, its queue of (deadline, slot, generation)).
    pub(super) queues: Vec<(i64, VecDeque<Due>)>,
}

/// (deadline, slot, generation) of an incident that may expire.
type Due = (i64, u32, u32);

impl Expiries {
    pub(super) fn push(&mut self, window: i64, deadline: i64, slot: u32, generation: u32) {
        let q = match self.queues.iter().position(|(w, _)| *w == window) {
            Some(q) => q,
            None => {
                self.queues.push((window, VecDeque::new()));
                self.queues.len() - 1
            }
        };
        let queue = &mut self.queues[q].1;
        let entry = (deadline, slot, generation);
        if queue.back().is_none_or(|b| b.0 <= deadline) {
            queue.push_back(entry);
        } else {
            let at = queue.partition_point(|e| e.0 <= deadline);
            queue.insert(at, entry);
        }
    }

    /// Entries held.
    pub(super) fn len(&self) -> usize {
        self.queues.iter().map(|(_, q)| q.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_queue_stays_in_deadline_order() {
        let mut e = Expiries::default();
        for (window, deadline, slot) in [
            (10, 100, 0),
            (10, 110, 1),
            (20, 50, 2),
            (10, 105, 3),
            (10, 90, 4),
        ] {
            e.push(window, deadline, slot, 0);
        }
        assert_eq!(e.len(), 5);
        let tens: Vec<u32> = e.queues[0].1.iter().map(|d| d.1).collect();
        assert_eq!(tens, [4, 0, 3, 1]);
        assert_eq!(e.queues[1].1.front(), Some(&(50, 2, 0)));
    }
}
