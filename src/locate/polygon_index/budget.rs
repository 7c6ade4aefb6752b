//! What bounds the build against hostile layers: retraced edge pairs
//! cancel, copies of one shape are counted once, and a memory budget is
//! checked before each allocation (see the [module docs](super)).

use super::build::{limit, BuildEdge, Builder};
use super::{Grid, Leaf};
use crate::error::BuildError;
use std::mem::size_of;

/// Drops pairs of edges of one region with the same endpoints (a ring
/// retracing itself): under the even-odd rule a ray crosses both or
/// neither, so they cancel exactly. One edge of an odd count stays, in its
/// first place.
pub(super) fn cancel_pairs(edges: Vec<BuildEdge>) -> Vec<BuildEdge> {
    let shapes = shapes(&edges);
    let mut count: std::collections::HashMap<(u32, u32), usize> = Default::default();
    for (e, &s) in edges.iter().zip(&shapes) {
        *count.entry((e.region, s)).or_default() += 1;
    }
    if count.len() == edges.len() {
        return edges;
    }
    edges
        .into_iter()
        .zip(&shapes)
        .filter(|(e, &s)| match count.get_mut(&(e.region, s)) {
            Some(n) if *n % 2 == 1 => {
                *n = 0;
                true
            }
            _ => false,
        })
        .map(|(e, _)| e)
        .collect()
}

/// The shape id of each edge: edges with the same two endpoints share one.
pub(super) fn shapes(edges: &[BuildEdge]) -> Vec<u32> {
    let key = |e: &BuildEdge| {
        let (a, b) = if (e.a[0], e.a[1]) <= (e.b[0], e.b[1]) {
            (e.a, e.b)
        } else {
            (e.b, e.a)
        };
        [
            a[0].to_bits(),
            a[1].to_bits(),
            b[0].to_bits(),
            b[1].to_bits(),
        ]
    };
    let mut order: Vec<u32> = (0..edges.len() as u32).collect();
    order.sort_unstable_by_key(|&i| key(&edges[i as usize]));
    let mut shapes = vec![0u32; edges.len()];
    let mut id = 0u32;
    for w in 0..order.len() {
        let i = order[w] as usize;
        if w > 0 && key(&edges[order[w - 1] as usize]) != key(&edges[i]) {
            id += 1;
        }
        shapes[i] = id;
    }
    shapes
}

impl Builder<'_> {
    /// The index's heap bytes so far, as counted against the budget.
    pub(super) fn used(&self) -> usize {
        let i = &*self.index;
        i.grids.len() * size_of::<Grid>()
            + i.bounds.len() * size_of::<f64>()
            + i.cells.len() * size_of::<u32>()
            + i.leaves.len() * size_of::<Leaf>()
            + i.edge_xy.len() * (size_of::<[f64; 4]>() + 1)
            + i.locals.len() * size_of::<u32>()
    }

    /// Fails unless `more` bytes (plus `held` bytes of work lists) still fit
    /// the budget.
    pub(super) fn reserve(&self, more: usize, held: usize) -> Result<(), BuildError> {
        let used = self.used();
        if used.saturating_add(more).saturating_add(held) > self.budget {
            return Err(limit(format!(
                "the index of {} edges would need more than its memory budget of {} bytes \
                 ({used} bytes built, {held} bytes of work lists, {more} bytes more asked for); \
                 are rings retracing themselves or many regions repeating one another?",
                self.edges.len(),
                self.budget
            )));
        }
        Ok(())
    }

    /// How many of these edges have different shapes (exactly when there
    /// are more than `enough` edges, else their number).
    pub(super) fn distinct_shapes(&self, edges: &[(u32, u32)], enough: usize) -> usize {
        if edges.len() <= enough {
            return edges.len();
        }
        let mut ids: Vec<u32> = edges
            .iter()
            .map(|&(i, _)| self.shapes[i as usize])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }
}
