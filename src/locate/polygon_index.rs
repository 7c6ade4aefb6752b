//! An exact point-in-polygon index over many regions.
//!
//! # Design
//!
//! A uniform grid covers the union bounding box. Each cell is one of:
//!
//! * **constant**: no edge touches the cell's closed box, so every point in
//!   it has the same answer, worked out when the index is built;
//! * **mixed** (a leaf): the cell keeps the edges touching it, the (at most
//!   64) regions they belong to, and one bit per such region saying whether
//!   the cell's lower-right corner `(x1, y0)` is inside it;
//! * **subdivided**: the cell had too many edges or regions and holds a
//!   finer grid of the same kind (a few levels deep at most).
//!
//! Inside a mixed cell `[x0, x1] × [y0, y1]` the crossing number of region
//! `k` at `p` is the one at `(x1, p.y)` plus the edges whose intercept on
//! `p`'s ray lies in `(p.x, x1]`, all of which touch the cell; and the one at
//! `(x1, p.y)` is the stored one at `(x1, y0)` plus the boundary crossings of
//! the segment `x = x1, y0 ≤ y ≤ p.y`, which also touch the cell. Both are
//! counted with the same half-open rule as [`Region::contains_naive`] (the
//! point is read as perturbed by `(δ, ε)`, `0 < ε ≪ δ`), with
//! [`robust::orient2d`] deciding every comparison exactly, so the index and
//! `contains_naive` agree on every point, boundaries and vertices included.
//! The argument only needs the point to lie in the cell's closed box; cell
//! lookup therefore corrects the computed cell index against the stored cell
//! boundaries, so rounding never puts a point in the wrong cell.
//!
//! Regions without an edge in a cell are constant over it; the lowest such
//! region containing the cell is kept as the cell's fallback, and regions with
//! higher ids are dropped from the cell since they can never be the answer.
//!
//! The top-level grid has about as many cells as there are edges (at most
//! 2048 a side). A cell with more than 24 edges or 64 regions becomes a
//! sub-grid of up to 16 × 16 cells, at most 6 levels deep; where more than 64
//! regions meet in one point no subdivision can separate them, and building
//! fails with [`BuildErrorKind::IndexLimit`]. Building uses a sweep along each
//! row of the top-level grid for the corner bits, so it takes time roughly
//! proportional to the number of edges (about 0.13 s for China's 2,891
//! districts and 421,000 vertices in release mode).

use super::region::{crosses, crosses_straddling, orient2d, Region};
use crate::error::{BuildError, BuildErrorKind};
use std::collections::BTreeSet;
use std::mem::size_of;

/// Cell reference tags, in the top two bits of a `u32`.
const TAG_MASK: u32 = 0b11 << 30;
const TAG_CONST: u32 = 0;
const TAG_LEAF: u32 = 1 << 30;
const TAG_GRID: u32 = 2 << 30;
const PAYLOAD: u32 = !TAG_MASK;
/// "No region"; also a cell reference meaning "outside every region".
const NONE: u32 = u32::MAX;
/// Region ids must fit a constant cell's payload.
const MAX_REGIONS: usize = PAYLOAD as usize;
/// A leaf's membership mask is a `u64`.
const MAX_LOCAL: usize = 64;

/// Edge metadata: the local region index in the low six bits.
const META_LOCAL: u8 = 0b0011_1111;
/// The edge crosses the vertical line `x = x1` (stored with `a.x <= x1 < b.x`).
const META_CROSSES_X1: u8 = 1 << 6;
/// The edge crosses `x = x1` above the corner `(x1, y0)`, so walking up that
/// line from `y0` to the query's `y` may cross it.
const META_ABOVE_CORNER: u8 = 1 << 7;

/// Tuning knobs; `Default` is what [`PolygonIndex::bulk_load`] uses. Tests
/// use extreme values to exercise every code path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    /// Top-level cells per edge (before clamping).
    pub cells_per_edge: f64,
    /// Largest top-level grid side.
    pub max_side: usize,
    /// A cell with more edges than this is subdivided.
    pub leaf_edges: usize,
    /// Largest sub-grid side.
    pub max_sub_side: usize,
    /// How many times a cell may be subdivided.
    pub max_depth: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cells_per_edge: 1.0,
            max_side: 2048,
            leaf_edges: 24,
            max_sub_side: 16,
            max_depth: 6,
        }
    }
}

#[derive(Clone, Debug)]
struct Grid {
    x0: f64,
    y0: f64,
    /// Cells per unit of x and y (0 when the extent is 0).
    x_scale: f64,
    y_scale: f64,
    cols: u32,
    rows: u32,
    /// Start of the `cols + 1` x boundaries in `bounds`, then `rows + 1` y
    /// boundaries.
    xs: u32,
    ys: u32,
    /// Start of the `cols * rows` row-major cell references in `cells`.
    cells: u32,
}

#[derive(Clone, Debug)]
struct Leaf {
    x1: f64,
    /// Bit k: whether `(x1, y0)` is in local region k.
    base: u64,
    edges: u32,
    edges_end: u32,
    /// Start of the local regions' global ids in `locals`.
    locals: u32,
    /// The lowest region containing the whole cell without an edge in it.
    fallback: u32,
}

/// An immutable index answering "which region contains this point?" exactly.
///
/// Region `i` of the slice given to [`bulk_load`](Self::bulk_load) gets id
/// `i`. The answer agrees with [`Region::contains_naive`] for every point,
/// including points on edges and vertices (see the
/// [boundary rule](super::region)); where regions overlap, the lowest id
/// among those containing the point is returned. Queries do not allocate.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::polygon_index::PolygonIndex;
/// use hotline_router::locate::region::{Polygon, Region};
///
/// let square = |x0: f64, y0: f64, x1: f64, y1: f64| {
///     let ring = vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
///     Region::from(Polygon::new(ring, vec![], "square").unwrap())
/// };
/// let index = PolygonIndex::bulk_load(&[
///     square(0.0, 0.0, 1.0, 1.0),
///     square(1.0, 0.0, 2.0, 1.0),
/// ])
/// .unwrap();
/// assert_eq!(index.len(), 2);
/// assert_eq!(index.locate(0.5, 0.5), Some(0));
/// assert_eq!(index.locate(1.5, 0.5), Some(1));
/// // The shared edge belongs to exactly one side: the right-hand one.
/// assert_eq!(index.locate(1.0, 0.5), Some(1));
/// assert_eq!(index.locate(3.0, 0.5), None);
/// assert_eq!(index.locate(f64::NAN, 0.5), None);
/// ```
#[derive(Clone, Debug)]
pub struct PolygonIndex {
    regions: usize,
    /// Closed union bounding box `[x0, y0, x1, y1]`; empty when there are no
    /// regions.
    bbox: [f64; 4],
    /// `grids[0]` is the top level (absent when there are no regions).
    grids: Vec<Grid>,
    bounds: Vec<f64>,
    cells: Vec<u32>,
    leaves: Vec<Leaf>,
    /// Leaf edges, contiguous per leaf: `[a.x, a.y, b.x, b.y]`.
    edge_xy: Vec<[f64; 4]>,
    edge_meta: Vec<u8>,
    locals: Vec<u32>,
}

/// An edge while building: endpoints and global region id.
#[derive(Clone, Copy, Debug)]
struct BuildEdge {
    a: [f64; 2],
    b: [f64; 2],
    region: u32,
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

fn limit(reason: String) -> BuildError {
    BuildErrorKind::IndexLimit { reason }.into()
}

/// `n + 1` boundaries from `lo` to `hi`, exactly `lo` and `hi` at the ends
/// and never decreasing.
fn boundaries(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let extent = hi - lo;
    let mut out: Vec<f64> = (0..=n)
        .map(|i| (lo + extent * i as f64 / n as f64).clamp(lo, hi))
        .collect();
    out[0] = lo;
    out[n] = hi;
    out
}

/// Index of the cell whose closed interval `[bounds[i], bounds[i + 1]]`
/// holds `v`, which must lie in `[bounds[0], bounds[n]]`. The arithmetic
/// guess can be off by one either way after rounding; the stored boundaries
/// settle it.
#[inline]
fn slot(v: f64, v0: f64, scale: f64, bounds: &[f64]) -> usize {
    let n = bounds.len() - 1;
    let guess = (v - v0) * scale;
    // `as` saturates and maps NaN to 0.
    let mut i = (guess as usize).min(n - 1);
    while i > 0 && v < bounds[i] {
        i -= 1;
    }
    while i + 1 < n && v > bounds[i + 1] {
        i += 1;
    }
    i
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

/// Whether edge `a b`, stored with `a.x <= x1 < b.x`, crosses the line
/// `x = x1` below height `y` in the perturbed sense: its crossing height at
/// `x1 + δ` is below `y + ε`.
#[inline]
fn lower(a: [f64; 2], b: [f64; 2], x1: f64, y: f64) -> bool {
    let (min_y, max_y) = if a[1] <= b[1] {
        (a[1], b[1])
    } else {
        (b[1], a[1])
    };
    if y > max_y {
        return true;
    }
    if y < min_y {
        return false;
    }
    let o = orient2d(a, b, [x1, y]);
    // On the crossing itself the edge is below `y + ε` just right of x1
    // exactly when it does not rise.
    o > 0.0 || (o == 0.0 && b[1] <= a[1])
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

impl PolygonIndex {
    /// Builds the index; region `i` gets id `i`.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::IndexLimit`] if more than 64 regions meet in one
    /// place even at the finest subdivision (the error names the place), or
    /// if there are more than 2³⁰ − 1 regions or 2³² edges.
    pub fn bulk_load(regions: &[Region]) -> Result<PolygonIndex, BuildError> {
        Self::bulk_load_with(regions, Params::default())
    }

    pub(crate) fn bulk_load_with(
        regions: &[Region],
        params: Params,
    ) -> Result<PolygonIndex, BuildError> {
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
        if u32::try_from(edges.len()).is_err() {
            return Err(limit(format!(
                "{} edges, at most {} are supported",
                edges.len(),
                u32::MAX
            )));
        }
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
            regions: regions.len(),
            params,
            index: &mut index,
        }
        .build_top()?;
        index.shrink();
        Ok(index)
    }

    /// The id of the region containing `(lon, lat)`, the lowest one if
    /// several overlap there, or `None` if no region contains it (including
    /// NaN and infinite input).
    #[inline]
    pub fn locate(&self, lon: f64, lat: f64) -> Option<u32> {
        let [x0, y0, x1, y1] = self.bbox;
        // Written so that NaN fails the test.
        if !(lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1) {
            return None;
        }
        let mut grid = self.grids.first()?;
        loop {
            let cols = grid.cols as usize;
            let rows = grid.rows as usize;
            let xs = &self.bounds[grid.xs as usize..=grid.xs as usize + cols];
            let ys = &self.bounds[grid.ys as usize..=grid.ys as usize + rows];
            let c = slot(lon, grid.x0, grid.x_scale, xs);
            let r = slot(lat, grid.y0, grid.y_scale, ys);
            let cell = self.cells[grid.cells as usize + r * cols + c];
            match cell & TAG_MASK {
                TAG_CONST => return Some(cell),
                TAG_LEAF => {
                    return self.locate_in_leaf(&self.leaves[(cell & PAYLOAD) as usize], lon, lat)
                }
                TAG_GRID => grid = &self.grids[(cell & PAYLOAD) as usize],
                _ => return None,
            }
        }
    }

    #[inline]
    fn locate_in_leaf(&self, leaf: &Leaf, px: f64, py: f64) -> Option<u32> {
        let range = leaf.edges as usize..leaf.edges_end as usize;
        let x1 = leaf.x1;
        let mut mask = leaf.base;
        for (e, &meta) in self.edge_xy[range.clone()]
            .iter()
            .zip(&self.edge_meta[range])
        {
            let a = [e[0], e[1]];
            let b = [e[2], e[3]];
            let bit = 1u64 << (meta & META_LOCAL);
            let b_above = b[1] > py;
            if (a[1] > py) != b_above {
                let at_p = crosses_straddling(a, b, b_above, px, py);
                let at_edge =
                    meta & META_CROSSES_X1 != 0 && crosses_straddling(a, b, b_above, x1, py);
                if at_p != at_edge {
                    mask ^= bit;
                }
            }
            if meta & META_ABOVE_CORNER != 0 && lower(a, b, x1, py) {
                mask ^= bit;
            }
        }
        if mask == 0 {
            (leaf.fallback != NONE).then_some(leaf.fallback)
        } else {
            Some(self.locals[leaf.locals as usize + mask.trailing_zeros() as usize])
        }
    }

    /// The number of regions the index was built from.
    pub fn len(&self) -> usize {
        self.regions
    }

    /// Whether the index was built from no regions (then every lookup is
    /// `None`).
    pub fn is_empty(&self) -> bool {
        self.regions == 0
    }

    /// Approximate heap memory held by the index, in bytes.
    pub fn heap_bytes(&self) -> usize {
        self.grids.capacity() * size_of::<Grid>()
            + self.bounds.capacity() * size_of::<f64>()
            + self.cells.capacity() * size_of::<u32>()
            + self.leaves.capacity() * size_of::<Leaf>()
            + self.edge_xy.capacity() * size_of::<[f64; 4]>()
            + self.edge_meta.capacity()
            + self.locals.capacity() * size_of::<u32>()
    }

    fn shrink(&mut self) {
        self.grids.shrink_to_fit();
        self.bounds.shrink_to_fit();
        self.cells.shrink_to_fit();
        self.leaves.shrink_to_fit();
        self.edge_xy.shrink_to_fit();
        self.edge_meta.shrink_to_fit();
        self.locals.shrink_to_fit();
    }

    /// Structure counts, for tests and tuning: (grids, leaves, leaf edges,
    /// constant-or-empty cells).
    #[cfg(test)]
    pub(crate) fn stats(&self) -> (usize, usize, usize, usize) {
        let constant = self
            .cells
            .iter()
            .filter(|&&c| c == NONE || c & TAG_MASK == TAG_CONST)
            .count();
        (
            self.grids.len(),
            self.leaves.len(),
            self.edge_xy.len(),
            constant,
        )
    }
}

struct Builder<'a> {
    edges: &'a [BuildEdge],
    regions: usize,
    params: Params,
    index: &'a mut PolygonIndex,
}

impl Builder<'_> {
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
        let index = &mut *self.index;
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
        for (i, e) in self.edges.iter().enumerate() {
            let bbox = edge_bbox(e);
            let (c0, c1) = cell_range(&xs, bbox[0], bbox[2]);
            let (r0, r1) = cell_range(&ys, bbox[1], bbox[3]);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if segment_touches_box(e.a, e.b, [xs[c], ys[r], xs[c + 1], ys[r + 1]]) {
                        in_cell.push((r * cols + c, i as u32));
                    }
                }
            }
            // Rows whose bottom line `y` has bbox[1] <= y < bbox[3].
            let first = ys[..rows].partition_point(|&y| y < bbox[1]);
            let end = ys[..rows].partition_point(|&y| y < bbox[3]);
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
                    let mut present: Vec<u32> = cell_edges
                        .iter()
                        .map(|&i| self.edges[i as usize].region)
                        .collect();
                    present.sort_unstable();
                    present.dedup();
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
        let small = node.edges.len() <= self.params.leaf_edges && node.locals.len() <= MAX_LOCAL;
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
            let e = &self.edges[i as usize];
            let bbox = edge_bbox(e);
            let (c0, c1) = cell_range(&xs, bbox[0], bbox[2]);
            let (r0, r1) = cell_range(&ys, bbox[1], bbox[3]);
            for r in r0..=r1 {
                for c in c0..=c1 {
                    if segment_touches_box(e.a, e.b, [xs[c], ys[r], xs[c + 1], ys[r + 1]]) {
                        in_cell[r * side + c].push(i);
                    }
                }
            }
        }
        for r in 0..side {
            for c in 0..side {
                let inside = self.inside_at(node, [xs[c + 1], ys[r]]);
                let edges = &in_cell[r * side + c];
                let mut present: Vec<u32> = edges
                    .iter()
                    .map(|&i| self.edges[i as usize].region)
                    .collect();
                present.sort_unstable();
                present.dedup();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::region::Polygon;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn poly(exterior: &[[f64; 2]], holes: &[&[[f64; 2]]]) -> Polygon {
        Polygon::new(
            exterior.to_vec(),
            holes.iter().map(|h| h.to_vec()).collect(),
            "test",
        )
        .unwrap()
    }

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    fn region(parts: Vec<Polygon>) -> Region {
        Region::new(parts, "test").unwrap()
    }

    fn oracle(regions: &[Region], x: f64, y: f64) -> Option<u32> {
        regions
            .iter()
            .position(|r| r.contains_naive(x, y))
            .map(|i| i as u32)
    }

    /// Parameter sets that between them take every build path: the
    /// default, one top-level cell split in two repeatedly, a fine grid with
    /// no subdivision, and a single leaf.
    fn param_sets() -> Vec<Params> {
        vec![
            Params::default(),
            Params {
                cells_per_edge: 1e-9,
                max_side: 1,
                leaf_edges: 0,
                max_sub_side: 2,
                max_depth: 7,
            },
            Params {
                cells_per_edge: 4.0,
                max_side: 64,
                leaf_edges: usize::MAX,
                max_sub_side: 2,
                max_depth: 0,
            },
            Params {
                cells_per_edge: 1e-9,
                max_side: 1,
                leaf_edges: usize::MAX,
                max_sub_side: 2,
                max_depth: 0,
            },
            Params {
                cells_per_edge: 0.3,
                max_side: 7,
                leaf_edges: 3,
                max_sub_side: 3,
                max_depth: 4,
            },
        ]
    }

    /// Every vertex, every edge midpoint, the grid lines through them, and
    /// random points, plus exact cell boundaries of the built index.
    fn probe_points(
        regions: &[Region],
        index: &PolygonIndex,
        seed: u64,
        n: usize,
    ) -> Vec<[f64; 2]> {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut points = Vec::new();
        for r in regions {
            for (a, b) in r.edges() {
                let mid = [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0];
                points.extend([a, mid]);
                xs.extend([a[0], mid[0]]);
                ys.extend([a[1], mid[1]]);
            }
        }
        xs.extend_from_slice(&index.bounds);
        ys.extend_from_slice(&index.bounds);
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        ys.sort_by(f64::total_cmp);
        ys.dedup();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pick = |v: &[f64], rng: &mut ChaCha8Rng| v[rng.gen_range(0..v.len())];
        for _ in 0..n {
            points.push([pick(&xs, &mut rng), pick(&ys, &mut rng)]);
        }
        let [x0, y0, x1, y1] = index.bbox;
        for _ in 0..n {
            let x = x0 - 0.1 + (x1 - x0 + 0.2) * rng.gen::<f64>();
            let y = y0 - 0.1 + (y1 - y0 + 0.2) * rng.gen::<f64>();
            points.push([x, y]);
            points.push([x, pick(&ys, &mut rng)]);
            points.push([pick(&xs, &mut rng), y]);
        }
        points
    }

    fn check_agreement(name: &str, regions: &[Region], n: usize) {
        for (p, params) in param_sets().into_iter().enumerate() {
            let index = PolygonIndex::bulk_load_with(regions, params)
                .unwrap_or_else(|e| panic!("{name} params {p}: {e}"));
            assert_eq!(index.len(), regions.len());
            for [x, y] in probe_points(regions, &index, p as u64, n) {
                assert_eq!(
                    index.locate(x, y),
                    oracle(regions, x, y),
                    "{name} params {p}: ({x:?}, {y:?})"
                );
            }
        }
    }

    #[test]
    fn squares_holes_and_islands() {
        let regions = vec![
            // 0: a square with two holes
            region(vec![poly(
                &square(0.0, 0.0, 10.0, 10.0),
                &[&square(1.0, 1.0, 4.0, 4.0), &square(6.0, 6.0, 9.0, 9.0)],
            )]),
            // 1: lies in 0's first hole, touching the hole's boundary
            region(vec![poly(&square(1.0, 1.0, 3.0, 4.0), &[])]),
            // 2: a multi-part region: in 0's second hole and outside 0
            region(vec![
                poly(&square(7.0, 7.0, 8.0, 8.0), &[]),
                poly(&[[10.0, 0.0], [12.0, 5.0], [10.0, 10.0]], &[]),
            ]),
            // 3: overlaps 0 and 2 (lower ids win where they overlap)
            region(vec![poly(
                &[[5.0, 5.0], [11.5, 5.0], [11.5, 7.5], [5.0, 7.5]],
                &[],
            )]),
        ];
        check_agreement("squares", &regions, 4000);
        let index = PolygonIndex::bulk_load(&regions).unwrap();
        let cases = [
            (0.5, 0.5, Some(0)),
            (2.0, 2.0, Some(1)),
            (3.5, 2.0, None), // in 0's hole, right of 1
            (3.0, 2.0, None), // on 1's right edge: belongs to the right side
            (7.5, 7.5, Some(2)),
            (6.5, 6.5, Some(3)), // in 0's hole, inside 3
            (5.5, 5.5, Some(0)), // overlap of 0 and 3
            (10.5, 5.0, Some(2)),
            (11.3, 6.0, Some(2)), // overlap of 2 and 3
            (11.4, 7.0, Some(3)),
            (12.0, 5.0, None), // the triangle's tip
            (-0.0, 0.0, Some(0)),
            (13.0, 5.0, None),
        ];
        for (x, y, expected) in cases {
            assert_eq!(index.locate(x, y), expected, "({x}, {y})");
            assert_eq!(oracle(&regions, x, y), expected, "oracle ({x}, {y})");
        }
    }

    #[test]
    fn triangle_fan_and_shared_edges_partition() {
        // n triangles around a centre, tiling a polygon; irrational-looking
        // vertices so that the exact predicates matter.
        let n = 23;
        let c = [0.3, -0.7];
        let rim: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                [c[0] + t.cos() * 1.7, c[1] + t.sin() * 1.1]
            })
            .collect();
        let regions: Vec<Region> = (0..n as usize)
            .map(|i| region(vec![poly(&[c, rim[i], rim[(i + 1) % n as usize]], &[])]))
            .collect();
        check_agreement("fan", &regions, 4000);
        // Every point strictly inside the rim polygon, edges and the centre
        // included, is in exactly one triangle.
        let index = PolygonIndex::bulk_load(&regions).unwrap();
        let hull = Region::from(poly(&rim, &[]));
        for [x, y] in probe_points(&regions, &index, 99, 4000) {
            let count = regions.iter().filter(|r| r.contains_naive(x, y)).count();
            if hull.contains_naive(x, y) {
                assert_eq!(count, 1, "({x}, {y})");
            } else {
                assert!(count <= 1, "({x}, {y})");
            }
        }
    }

    #[test]
    fn dense_ring_forces_subdivision() {
        // A wiggly ring with thousands of vertices concentrated on one side.
        let n = 1500;
        let ring: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                // Vertices crowd near t = 0, so some cells get hundreds.
                let t = std::f64::consts::TAU * (f64::from(i) / f64::from(n)).powi(4);
                let r = 1.0
                    + 0.2 * (37.0 * t).sin() * (t / 2.0).sin().powi(8)
                    + 0.05 * (900.0 * t).sin();
                [116.0 + r * t.cos(), 40.0 + r * t.sin()]
            })
            .collect();
        let regions = vec![
            region(vec![poly(&ring, &[&square(115.8, 39.8, 116.2, 40.2)])]),
            region(vec![poly(&square(115.9, 39.9, 116.1, 40.1), &[])]),
        ];
        check_agreement("dense", &regions, 300);
        let index = PolygonIndex::bulk_load(&regions).unwrap();
        let (grids, leaves, _, _) = index.stats();
        assert!(leaves > 10 && grids >= 3, "{grids} grids, {leaves} leaves");
    }

    #[test]
    fn at_most_64_regions_meet() {
        let fan = |n: u32| -> Vec<Region> {
            let rim: Vec<[f64; 2]> = (0..n)
                .map(|i| {
                    let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                    [t.cos(), t.sin()]
                })
                .collect();
            (0..n as usize)
                .map(|i| {
                    region(vec![poly(
                        &[[0.0, 0.0], rim[i], rim[(i + 1) % n as usize]],
                        &[],
                    )])
                })
                .collect()
        };
        let regions = fan(64);
        let index = PolygonIndex::bulk_load(&regions).unwrap();
        for [x, y] in probe_points(&regions, &index, 7, 2000) {
            assert_eq!(index.locate(x, y), oracle(&regions, x, y), "({x}, {y})");
        }
        let err = PolygonIndex::bulk_load(&fan(65)).unwrap_err();
        match err.kind() {
            BuildErrorKind::IndexLimit { reason } => {
                assert!(reason.starts_with("65 regions (ids 0, 1, 2"), "{reason}");
                assert!(reason.contains("at most 64"), "{reason}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn garbage_queries_and_empty_index() {
        let regions = vec![region(vec![poly(&square(0.0, 0.0, 1.0, 1.0), &[])])];
        let index = PolygonIndex::bulk_load(&regions).unwrap();
        for (x, y) in [
            (f64::NAN, 0.5),
            (0.5, f64::NAN),
            (f64::NAN, f64::NAN),
            (f64::INFINITY, 0.5),
            (f64::NEG_INFINITY, 0.5),
            (0.5, f64::INFINITY),
            (0.5, f64::NEG_INFINITY),
            (f64::MAX, f64::MIN),
            (-1e-300, 0.5),
            (1.0 + f64::EPSILON, 0.5),
        ] {
            assert_eq!(index.locate(x, y), None, "({x}, {y})");
        }
        assert_eq!(index.locate(0.0, 0.0), Some(0));
        assert_eq!(index.locate(-0.0, -0.0), Some(0));
        assert!(!index.is_empty() && index.heap_bytes() > 0);

        let empty = PolygonIndex::bulk_load(&[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.len(), 0);
        assert_eq!(empty.locate(0.0, 0.0), None);
        assert_eq!(empty.locate(f64::NAN, 0.0), None);
    }

    #[test]
    fn degenerate_extents() {
        // Zero-area rings: the union box is a line or has tiny extent.
        let flat = vec![region(vec![poly(
            &[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]],
            &[],
        )])];
        let upright = vec![region(vec![poly(
            &[[5.0, 0.0], [5.0, 1.0], [5.0, 3.0]],
            &[],
        )])];
        let tiny = vec![
            region(vec![poly(
                &[[1.0, 1.0], [1.0 + 4e-16, 1.0], [1.0, 1.0 + 4e-16]],
                &[],
            )]),
            region(vec![poly(
                &[
                    [1.0 + 2e-16, 1.0],
                    [1.0 + 4e-16, 1.0],
                    [1.0 + 4e-16, 1.0 + 2e-16],
                ],
                &[],
            )]),
        ];
        check_agreement("flat", &flat, 1000);
        check_agreement("upright", &upright, 1000);
        check_agreement("tiny", &tiny, 1000);
        let index = PolygonIndex::bulk_load(&tiny).unwrap();
        assert_eq!(index.locate(1.0, 1.0), Some(0));
    }

    /// `f64::next_up` needs Rust 1.86; the crate supports 1.80.
    fn next_up(x: f64) -> f64 {
        match x {
            0.0 => f64::from_bits(1),
            x if x > 0.0 => f64::from_bits(x.to_bits() + 1),
            x => f64::from_bits(x.to_bits() - 1),
        }
    }

    #[test]
    fn slot_stays_in_closed_cell() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..200 {
            let lo = 116.0 + rng.gen::<f64>();
            let hi = lo + rng.gen::<f64>() * 1e-3;
            let n = rng.gen_range(1..40);
            let bounds = boundaries(lo, hi, n);
            assert!(bounds.windows(2).all(|w| w[0] <= w[1]));
            let exact = if hi > lo { n as f64 / (hi - lo) } else { 0.0 };
            // Rounding rarely makes the arithmetic guess wrong, so also try
            // scales that are off, to make sure the correction does its job.
            for scale in [exact, exact * 0.9, exact * 1.1, exact * 1.5, 0.0] {
                for &b in &bounds {
                    for v in [b, next_up(b), -next_up(-b)] {
                        if v < lo || v > hi {
                            continue;
                        }
                        let i = slot(v, lo, scale, &bounds);
                        assert!(
                            bounds[i] <= v && v <= bounds[i + 1],
                            "{v} in cell {i} of {bounds:?}"
                        );
                    }
                }
            }
        }
    }
}
