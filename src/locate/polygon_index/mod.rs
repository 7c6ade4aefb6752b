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
//! fails with [`BuildErrorKind::IndexLimit`].
//!
//! Hostile layers are bounded: two edges of one region with the same
//! endpoints cancel under the even-odd rule and are dropped (a ring that
//! retraces a segment 50 times costs one edge); a cell whose edges are
//! mostly copies of one another (regions repeating one another) stays a
//! leaf, since no subdivision separates copies; and the build has a memory
//! budget (64 MiB, or 256 bytes an edge for larger layers), checked before
//! each allocation, beyond which it fails with [`BuildErrorKind::IndexLimit`]
//! giving the figures. Building uses a sweep along each
//! row of the top-level grid for the corner bits, so it takes time roughly
//! proportional to the number of edges (about 0.13 s for China's 2,891
//! districts and 421,000 vertices in release mode).

use super::region::{crosses_straddling, orient2d, Region};
use crate::error::BuildError;
// Only the docs name it; building, which returns it, lives in `build`.
#[cfg(doc)]
use crate::error::BuildErrorKind;
use std::mem::size_of;

mod budget;
mod build;
#[cfg(test)]
mod tests;

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
    /// The memory budget of the build: the index's own arrays plus the
    /// top-level grid's edge lists, in bytes. It is checked before each
    /// allocation, so a hostile layer fails with [`BuildErrorKind::IndexLimit`]
    /// instead of exhausting memory. `None`: [`default_budget`].
    pub max_bytes: Option<usize>,
}

/// The default memory budget for `edges` edges: 64 MiB, or 256 bytes an
/// edge for larger layers (the national layer of 2,891 districts and
/// 421,000 edges needs 26 MB of its 108 MB).
pub(crate) fn default_budget(edges: usize) -> usize {
    (64usize << 20).max(edges.saturating_mul(256))
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cells_per_edge: 1.0,
            max_side: 2048,
            leaf_edges: 24,
            max_sub_side: 16,
            max_depth: 6,
            max_bytes: None,
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

impl PolygonIndex {
    /// Builds the index; region `i` gets id `i`.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::IndexLimit`] if more than 64 regions meet in one
    /// place even at the finest subdivision (the error names the place), if
    /// the index would exceed its memory budget (see the
    /// [module docs](self)), or if there are more than 2³⁰ − 1 regions or
    /// 2³² edges.
    pub fn bulk_load(regions: &[Region]) -> Result<PolygonIndex, BuildError> {
        Self::bulk_load_with(regions, Params::default())
    }

    pub(crate) fn bulk_load_with(
        regions: &[Region],
        params: Params,
    ) -> Result<PolygonIndex, BuildError> {
        build::bulk_load(regions, params)
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
