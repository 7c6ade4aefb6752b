//! Building a [`PolygonIndex`]: the top-level grid, the sweep along each of
//! its rows for the corner bits, and the leaves and sub-grids of mixed cells
//! (see the [module docs](super) for the design).

use super::budget::{cancel_pairs, shapes};
use super::{
    boundaries, default_budget, lower, Grid, Leaf, Params, PolygonIndex, MAX_LOCAL, MAX_REGIONS,
    META_ABOVE_CORNER, META_CROSSES_X1, NONE, PAYLOAD, TAG_GRID, TAG_LEAF,
};
use crate::error::{BuildError, BuildErrorKind};
use crate::locate::region::{crosses, orient2d, Region};
use std::collections::BTreeSet;
use std::mem::size_of;

/// Builds the index for [`PolygonIndex::bulk_load_with`]; region `i` gets id
/// `i`.
pub(super) fn bulk_load(regions: &[Region], params: Params) -> Result<PolygonIndex, BuildError> {
    if regions.len() > MAX_REGIONS {
        return Err(limit(format!(
            "{} regions, at most {MAX_REGIONS} are supported",
            regions.len()
        )));
    }
    let mut edges = Vec::new();
    for (id, region) in regions.iter().enumerate() {
        // Zero-length edges never cross anything.
        edges.extend(
            region
                .edges()
                .filter(|(a, b)| a != b)
                .map(|(a, b)| BuildEdge {
                    a,
                    b,
                    region: id as u32,
                }),
        );
    }
    let edges = cancel_pairs(edges);
    if u32::try_from(edges.len()).is_err() {
        return Err(limit(format!(
            "{} edges, at most {} are supported",
            edges.len(),
            u32::MAX
        )));
    }
    let shapes = shapes(&edges);
    let budget = params
        .max_bytes
        .unwrap_or_else(|| default_budget(edges.len()));
    let mut index = PolygonIndex {
        regions: regions.len(),
        bbox: [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        grids: Vec::new(),
        bounds: Vec::new(),
        cells: Vec::new(),
        leaves: Vec::new(),
        edge_xy: Vec::new(),
        edge_meta: Vec::new(),
        locals: Vec::new(),
    };
    if edges.is_empty() {
        return Ok(index);
    }
    for e in &edges {
        for v in [e.a, e.b] {
            index.bbox[0] = index.bbox[0].min(v[0]);
            index.bbox[1] = index.bbox[1].min(v[1]);
            index.bbox[2] = index.bbox[2].max(v[0]);
            index.bbox[3] = index.bbox[3].max(v[1]);
        }
    }
    Builder {
        edges: &edges,
        shapes: &shapes,
        regions: regions.len(),
        params,
        budget,
        index: &mut index,
    }
    .build_top()?;
    index.shrink();
    Ok(index)
}

impl PolygonIndex {
    fn shrink(&mut self) {
        self.grids.shrink_to_fit();
        self.bounds.shrink_to_fit();
        self.cells.shrink_to_fit();
        self.leaves.shrink_to_fit();
        self.edge_xy.shrink_to_fit();
        self.edge_meta.shrink_to_fit();
        self.locals.shrink_to_fit();
    }
}

/// An edge while building: endpoints and global region id.
#[derive(Clone, Copy, Debug)]
pub(super) struct BuildEdge {
    pub(super) a: [f64; 2],
    pub(super) b: [f64; 2],
    pub(super) region: u32,
}

/// A cell that is not constant, while building.
struct Node {
    /// Closed box `[x0, y0, x1, y1]`, taken from stored boundaries.
    bbox: [f64; 4],
    /// Global ids of the regions with edges here, ascending, all below
    /// `fallback`.
    locals: Vec<u32>,
    /// Whether `(x1, y0)` is inside each local region.
    base: Vec<bool>,
    /// Edge indices and their local region index.
    edges: Vec<(u32, u32)>,
    fallback: u32,
}

pub(super) fn limit(reason: String) -> BuildError {
    BuildErrorKind::IndexLimit { reason }.into()
}

/// The cells `[lo, hi]` whose closed intervals meet `[v0, v1]`.
fn cell_range(bounds: &[f64], v0: f64, v1: f64) -> (usize, usize) {
    let n = bounds.len() - 1;
    let lo = bounds[1..].partition_point(|&b| b < v0);
    let hi = bounds[..n].partition_point(|&b| b <= v1);
    (lo.min(n - 1), hi.saturating_sub(1))
}

/// Whether segment `a b` meets the closed box, exactly. The caller has
/// checked that the bounding boxes meet; by the separating axis theorem the
/// only other possible separator is the segment's own line.
fn segment_touches_box(a: [f64; 2], b: [f64; 2], bbox: [f64; 4]) -> bool {
    let corners = [
        [bbox[0], bbox[1]],
        [bbox[2], bbox[1]],
        [bbox[2], bbox[3]],
        [bbox[0], bbox[3]],
    ];
    let mut pos = false;
    let mut neg = false;
    for c in corners {
        let o = orient2d(a, b, c);
        pos |= o >= 0.0;
        neg |= o <= 0.0;
    }
    pos && neg
}

/// `(a, b)` ordered so that `a.x <= x1 < b.x`, if the edge crosses `x = x1`.
#[inline]
fn across(a: [f64; 2], b: [f64; 2], x1: f64) -> Option<([f64; 2], [f64; 2])> {
    match (a[0] > x1, b[0] > x1) {
        (false, true) => Some((a, b)),
        (true, false) => Some((b, a)),
        _ => None,
    }
}

pub(super) struct Builder<'a> {
    pub(super) edges: &'a [BuildEdge],
    /// Per edge, an id shared by the edges with the same endpoints (in
    /// either direction): no subdivision can separate those.
    pub(super) shapes: &'a [u32],
    pub(super) regions: usize,
    pub(super) params: Params,
    /// The memory budget in bytes (see [`Params::max_bytes`]).
    pub(super) budget: usize,
    pub(super) index: &'a mut PolygonIndex,
}

impl Builder<'_> {
    /// The distinct regions owning these edges, ascending.
    fn regions_of(&self, edges: &[u32]) -> Vec<u32> {
        let mut present: Vec<u32> = edges
            .iter()
            .map(|&i| self.edges[i as usize].region)
            .collect();
        present.sort_unstable();
        present.dedup();
        present
    }

    /// Pushes a grid with all cells `NONE`; returns its index.
    fn push_grid(&mut self, xs: &[f64], ys: &[f64]) -> Result<usize, BuildError> {
        let cols = xs.len() - 1;
        let rows = ys.len() - 1;
        let scale = |bounds: &[f64], n: usize| {
            let extent = bounds[n] - bounds[0];
            if extent > 0.0 {
                n as f64 / extent
            } else {
                0.0
            }
        };
        let index = &*self.index;
        let grid = Grid {
            x0: xs[0],
            y0: ys[0],
            x_scale: scale(xs, cols),
            y_scale: scale(ys, rows),
            cols: cols as u32,
            rows: rows as u32,
            xs: index.bounds.len() as u32,
            ys: (index.bounds.len() + xs.len()) as u32,
            cells: index.cells.len() as u32,
        };
        if index.grids.len() > PAYLOAD as usize
            || u32::try_from(index.bounds.len() + xs.len() + ys.len()).is_err()
            || u32::try_from(index.cells.len() + cols * rows).is_err()
        {
            return Err(limit(
                "the index would have more than 2³⁰ grids or cells".to_owned(),
            ));
        }
        self.reserve(
            size_of::<Grid>()
                + (xs.len() + ys.len()) * size_of::<f64>()
                + cols * rows * size_of::<u32>(),
            0,
        )?;
        let index = &mut *self.index;
        index.bounds.extend_from_slice(xs);
        index.bounds.extend_from_slice(ys);
        index.cells.resize(index.cells.len() + cols * rows, NONE);
        index.grids.push(grid);
        Ok(index.grids.len() - 1)
    }

    fn build_top(&mut self) -> Result<(), BuildError> {
        let [x0, y0, x1, y1] = self.index.bbox;
        let (width, height) = (x1 - x0, y1 - y0);
        let target = (self.edges.len() as f64 * self.params.cells_per_edge).max(1.0);
        let max_side = self.params.max_side.max(1);
        let (cols, rows) = if width > 0.0 && height > 0.0 {
            let cols = (target * width / height)
                .sqrt()
                .round()
                .clamp(1.0, max_side as f64);
            let rows = (target / cols).round().clamp(1.0, max_side as f64);
            (cols as usize, rows as usize)
        } else if width > 0.0 {
            ((target as usize).clamp(1, max_side), 1)
        } else if height > 0.0 {
            (1, (target as usize).clamp(1, max_side))
        } else {
            (1, 1)
        };
        let xs = boundaries(x0, x1, cols);
        let ys = boundaries(y0, y1, rows);
        self.push_grid(&xs, &ys)?;

        // Edges per cell and edges straddling each row's bottom line, both
        // as (key, edge) pairs grouped by a counting sort.
        let mut in_cell = Vec::new();
        let mut in_row = Vec::new();
        let pair = size_of::<(usize, u32)>();
        for (i, e) in self.edges.iter().enumerate() {
            let bbox = edge_bbox(e);
            for (r, c) in cells_touched(e, &xs, &ys) {
                if in_cell.len() == in_cell.capacity() {
                    // Growing doubles the list: check the doubled size.
                    self.reserve(0, (in_cell.len() * 2 + 4) * pair + in_row.len() * pair)?;
                }
                in_cell.push((r * cols + c, i as u32));
            }
            // Rows whose bottom line `y` has bbox[1] <= y < bbox[3].
            let first = ys[..rows].partition_point(|&y| y < bbox[1]);
            let end = ys[..rows].partition_point(|&y| y < bbox[3]);
            if in_row.len() + (end - first) > in_row.capacity() {
                self.reserve(
                    0,
                    (in_row.len() + end - first) * 2 * pair + in_cell.len() * pair,
                )?;
            }
            in_row.extend((first..end).map(|r| (r, i as u32)));
        }
        let in_cell = group(in_cell, cols * rows);
        let in_row = group(in_row, rows);

        let mut inside = vec![false; self.regions];
        let mut odd: BTreeSet<u32> = BTreeSet::new();
        let mut events: Vec<(usize, u32)> = Vec::new();
        for r in 0..rows {
            let y = ys[r];
            // For each edge crossed by rays along y = ys[r], how many column
            // corners xs[c + 1] lie strictly left of its intercept.
            events.clear();
            for &i in in_row.get(r) {
                let e = &self.edges[i as usize];
                let j = xs[1..].partition_point(|&x| crosses(e.a, e.b, x, y));
                events.push((j, e.region));
            }
            events.sort_unstable_by_key(|e| std::cmp::Reverse(e.0));
            let mut next = 0;
            for c in (0..cols).rev() {
                // Corner (xs[c + 1], y) is crossed by the edges with j > c.
                while next < events.len() && events[next].0 > c {
                    let k = events[next].1;
                    inside[k as usize] = !inside[k as usize];
                    if inside[k as usize] {
                        odd.insert(k);
                    } else {
                        odd.remove(&k);
                    }
                    next += 1;
                }
                let cell_edges = in_cell.get(r * cols + c);
                let cell = if cell_edges.is_empty() {
                    odd.first().copied().unwrap_or(NONE)
                } else {
                    let present = self.regions_of(cell_edges);
                    let fallback = odd
                        .iter()
                        .copied()
                        .find(|k| present.binary_search(k).is_err())
                        .unwrap_or(NONE);
                    let node = self.node(
                        [xs[c], y, xs[c + 1], ys[r + 1]],
                        &present,
                        |k| inside[k as usize],
                        cell_edges,
                        fallback,
                    );
                    match node {
                        Some(node) => self.finish(node, 0)?,
                        None => fallback,
                    }
                };
                self.index.cells[r * cols + c] = cell;
            }
            for &(_, k) in &events {
                inside[k as usize] = false;
            }
            odd.clear();
        }
        Ok(())
    }

    /// A node for a cell whose regions with edges are `present` (ascending);
    /// `None` if none of them is below `fallback`, which makes the cell
    /// constant. `inside(k)` is whether the corner
    /// `(x1, y0)` is in global region `k`.
    fn node(
        &self,
        bbox: [f64; 4],
        present: &[u32],
        inside: impl Fn(u32) -> bool,
        edges: &[u32],
        fallback: u32,
    ) -> Option<Node> {
        let locals: Vec<u32> = present.iter().copied().filter(|&k| k < fallback).collect();
        if locals.is_empty() {
            return None;
        }
        let base = locals.iter().map(|&k| inside(k)).collect();
        let edges = edges
            .iter()
            .filter_map(|&i| {
                let k = self.edges[i as usize].region;
                locals.binary_search(&k).ok().map(|local| (i, local as u32))
            })
            .collect();
        Some(Node {
            bbox,
            locals,
            base,
            edges,
            fallback,
        })
    }

    /// Turns a node into a cell reference: a leaf or a sub-grid.
    fn finish(&mut self, node: Node, depth: u32) -> Result<u32, BuildError> {
        // Edges with one shape (regions repeating one another) stay
        // together however fine the grid: where most edges repeat others,
        // subdividing does not help.
        let leaf_edges = self.params.leaf_edges;
        let small = node.locals.len() <= MAX_LOCAL
            && (node.edges.len() <= leaf_edges
                || self.distinct_shapes(&node.edges, leaf_edges / 4) <= leaf_edges / 4);
        if small || depth >= self.params.max_depth {
            if node.locals.len() > MAX_LOCAL {
                let [x0, y0, x1, y1] = node.bbox;
                let ids: Vec<String> = node.locals.iter().map(u32::to_string).collect();
                return Err(limit(format!(
                    "{} regions (ids {}) meet in the cell [{x0}, {x1}] × [{y0}, {y1}] even after \
                     {depth} subdivisions; at most {MAX_LOCAL} may meet in one place",
                    node.locals.len(),
                    ids.join(", ")
                )));
            }
            return self.leaf(&node);
        }
        self.subdivide(&node, depth)
    }

    fn leaf(&mut self, node: &Node) -> Result<u32, BuildError> {
        let [_, y0, x1, _] = node.bbox;
        self.reserve(
            size_of::<Leaf>()
                + node.edges.len() * (size_of::<[f64; 4]>() + 1)
                + node.locals.len() * size_of::<u32>(),
            0,
        )?;
        let index = &mut *self.index;
        if index.leaves.len() >= PAYLOAD as usize
            || u32::try_from(index.edge_xy.len() + node.edges.len()).is_err()
        {
            return Err(limit(
                "the index would have more than 2³⁰ leaves or 2³² edges".to_owned(),
            ));
        }
        let start = index.edge_xy.len() as u32;
        for &(i, k) in &node.edges {
            let e = &self.edges[i as usize];
            let mut meta = k as u8;
            let (a, b) = match across(e.a, e.b, x1) {
                Some((a, b)) => {
                    meta |= META_CROSSES_X1;
                    if !lower(a, b, x1, y0) {
                        meta |= META_ABOVE_CORNER;
                    }
                    (a, b)
                }
                None => (e.a, e.b),
            };
            index.edge_xy.push([a[0], a[1], b[0], b[1]]);
            index.edge_meta.push(meta);
        }
        let base = node
            .base
            .iter()
            .enumerate()
            .fold(0u64, |mask, (k, &inside)| mask | (u64::from(inside) << k));
        index.leaves.push(Leaf {
            x1,
            base,
            edges: start,
            edges_end: index.edge_xy.len() as u32,
            locals: index.locals.len() as u32,
            fallback: node.fallback,
        });
        index.locals.extend_from_slice(&node.locals);
        Ok(TAG_LEAF | (index.leaves.len() - 1) as u32)
    }

    /// Whether `q` (in the node's closed box) is in each local region, by the
    /// same identity a leaf query uses.
    fn inside_at(&self, node: &Node, q: [f64; 2]) -> Vec<bool> {
        let [_, y0, x1, _] = node.bbox;
        let mut inside = node.base.clone();
        for &(i, k) in &node.edges {
            let e = &self.edges[i as usize];
            let mut flip = crosses(e.a, e.b, q[0], q[1]) != crosses(e.a, e.b, x1, q[1]);
            if let Some((a, b)) = across(e.a, e.b, x1) {
                flip ^= lower(a, b, x1, q[1]) && !lower(a, b, x1, y0);
            }
            if flip {
                inside[k as usize] = !inside[k as usize];
            }
        }
        inside
    }

    fn subdivide(&mut self, node: &Node, depth: u32) -> Result<u32, BuildError> {
        let [x0, y0, x1, y1] = node.bbox;
        let side = node
            .edges
            .len()
            .div_ceil(6)
            .clamp(2, self.params.max_sub_side.max(2));
        let xs = boundaries(x0, x1, side);
        let ys = boundaries(y0, y1, side);
        let grid = self.push_grid(&xs, &ys)?;
        let cells_start = self.index.grids[grid].cells as usize;

        let mut in_cell: Vec<Vec<u32>> = vec![Vec::new(); side * side];
        for &(i, _) in &node.edges {
            for (r, c) in cells_touched(&self.edges[i as usize], &xs, &ys) {
                in_cell[r * side + c].push(i);
            }
        }
        for r in 0..side {
            for c in 0..side {
                let inside = self.inside_at(node, [xs[c + 1], ys[r]]);
                let edges = &in_cell[r * side + c];
                let present = self.regions_of(edges);
                // Local regions without edges here contain all or none of
                // the sub-cell; `locals` is ascending, so the first one that
                // contains it is the lowest.
                let fallback = node
                    .locals
                    .iter()
                    .zip(&inside)
                    .find(|&(k, &ins)| ins && present.binary_search(k).is_err())
                    .map_or(node.fallback, |(&k, _)| k.min(node.fallback));
                let inside_global = |k: u32| {
                    node.locals
                        .binary_search(&k)
                        .map(|local| inside[local])
                        .unwrap_or(false)
                };
                let sub = self.node(
                    [xs[c], ys[r], xs[c + 1], ys[r + 1]],
                    &present,
                    inside_global,
                    edges,
                    fallback,
                );
                let cell = match sub {
                    Some(sub) => self.finish(sub, depth + 1)?,
                    None => fallback,
                };
                self.index.cells[cells_start + r * side + c] = cell;
            }
        }
        Ok(TAG_GRID | grid as u32)
    }
}

/// The (row, column) cells of the grid with boundaries `xs` × `ys` whose
/// closed box the edge touches.
fn cells_touched<'a>(
    e: &BuildEdge,
    xs: &'a [f64],
    ys: &'a [f64],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let e = *e;
    let bbox = edge_bbox(&e);
    let (c0, c1) = cell_range(xs, bbox[0], bbox[2]);
    let (r0, r1) = cell_range(ys, bbox[1], bbox[3]);
    (r0..=r1)
        .flat_map(move |r| (c0..=c1).map(move |c| (r, c)))
        .filter(move |&(r, c)| segment_touches_box(e.a, e.b, [xs[c], ys[r], xs[c + 1], ys[r + 1]]))
}

fn edge_bbox(e: &BuildEdge) -> [f64; 4] {
    [
        e.a[0].min(e.b[0]),
        e.a[1].min(e.b[1]),
        e.a[0].max(e.b[0]),
        e.a[1].max(e.b[1]),
    ]
}

/// Edge lists grouped by key, as offsets into one array.
struct Groups {
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Groups {
    fn get(&self, key: usize) -> &[u32] {
        &self.items[self.starts[key]..self.starts[key + 1]]
    }
}

fn group(pairs: Vec<(usize, u32)>, keys: usize) -> Groups {
    let mut starts = vec![0usize; keys + 1];
    for &(key, _) in &pairs {
        starts[key + 1] += 1;
    }
    for k in 0..keys {
        starts[k + 1] += starts[k];
    }
    let mut fill = starts.clone();
    let mut items = vec![0u32; pairs.len()];
    for (key, item) in pairs {
        items[fill[key]] = item;
        fill[key] += 1;
    }
    Groups { starts, items }
}
