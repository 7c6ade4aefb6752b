//! Jurisdiction geometry: validated polygons and multi-polygons, and the
//! reference point-in-polygon test the spatial index is checked against.
//!
//! # The boundary rule
//!
//! Containment is decided by the even-odd rule (the parity of how many
//! boundary edges a ray from the point towards +x crosses) with a half-open
//! convention: an edge `a → b` is crossed by the ray from `q` when
//! `(a.y > q.y) != (b.y > q.y)` and `q.x` is strictly less than the edge's
//! x-intercept at `q.y`, the latter decided exactly with
//! [`robust::orient2d`]. This equals containment of the point moved by an
//! infinitesimal `(δ, ε)` with `0 < ε ≪ δ`, so a point on a boundary belongs
//! to the region on its upper-right side. In a tiling of the plane every
//! point, edges and vertices included, therefore belongs to exactly one tile.
//!
//! Exactness assumes coordinates whose differences and products neither
//! overflow nor underflow to subnormals, which holds for anything resembling
//! longitude and latitude.

use crate::error::{BuildError, BuildErrorKind};

/// One polygon: an exterior ring and any number of holes.
///
/// Rings are `[lon, lat]` vertex lists. A closing vertex that repeats the
/// first one is dropped, as are consecutive duplicates (they carry no
/// information), so `exterior()[0]` is not repeated at the end. Orientation
/// does not matter: containment is decided by the even-odd rule.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::region::{Polygon, Region};
///
/// let square = vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]];
/// let hole = vec![[1.0, 1.0], [3.0, 1.0], [3.0, 3.0], [1.0, 3.0]];
/// let polygon = Polygon::new(square, vec![hole], "110101").unwrap();
/// assert_eq!(polygon.exterior().len(), 4);
///
/// let region = Region::from(polygon);
/// assert!(region.contains_naive(0.5, 0.5));
/// assert!(!region.contains_naive(2.0, 2.0)); // in the hole
///
/// // A ring needs three distinct vertices.
/// assert!(Polygon::new(vec![[0.0, 0.0], [1.0, 1.0]], vec![], "110101").is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Polygon {
    exterior: Vec<[f64; 2]>,
    holes: Vec<Vec<[f64; 2]>>,
}

/// A jurisdiction's area: one or more polygons (a GeoJSON MultiPolygon).
///
/// Containment is the even-odd rule over all rings of all parts (see the
/// [module documentation](self)), so parts are expected not to overlap; where
/// two parts do overlap, the overlap is outside.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::region::{Polygon, Region};
///
/// let a = Polygon::new(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]], vec![], "A").unwrap();
/// let b = Polygon::new(vec![[5.0, 0.0], [6.0, 0.0], [6.0, 1.0]], vec![], "A").unwrap();
/// let region = Region::new(vec![a, b], "A").unwrap();
/// assert_eq!(region.bbox(), [0.0, 0.0, 6.0, 1.0]);
/// assert_eq!(region.vertex_count(), 7);
/// assert!(region.contains_naive(5.9, 0.5));
/// assert!(!region.contains_naive(3.0, 0.5));
/// // The half-open rule: the lower and left sides are inside, the upper and
/// // right sides outside.
/// assert!(region.contains_naive(0.5, 0.0));
/// assert!(region.contains_naive(0.0, 0.5));
/// assert!(!region.contains_naive(0.5, 1.0));
/// assert!(!region.contains_naive(1.0, 0.5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    polygons: Vec<Polygon>,
}

fn invalid(label: &str, reason: String) -> BuildError {
    BuildErrorKind::InvalidPolygon {
        jurisdiction: label.to_owned(),
        reason,
    }
    .into()
}

/// Cleans and validates one ring; `which` says which ring it is for messages.
fn tidy_ring(
    mut ring: Vec<[f64; 2]>,
    label: &str,
    which: &str,
) -> Result<Vec<[f64; 2]>, BuildError> {
    // Written so that NaN fails the test. The range also keeps every
    // difference and product the index computes far from overflow.
    if let Some(i) = ring
        .iter()
        .position(|v| !((-180.0..=180.0).contains(&v[0]) && (-90.0..=90.0).contains(&v[1])))
    {
        return Err(invalid(
            label,
            format!(
                "{which} vertex {i} ({:?}, {:?}) is not a coordinate: longitude must be in \
                 -180..=180 and latitude in -90..=90",
                ring[i][0], ring[i][1]
            ),
        ));
    }
    ring.dedup();
    while ring.len() > 1 && ring.first() == ring.last() {
        ring.pop();
    }
    let mut distinct = ring.clone();
    distinct.sort_by(|p, q| p[0].total_cmp(&q[0]).then(p[1].total_cmp(&q[1])));
    distinct.dedup();
    if distinct.len() < 3 {
        return Err(invalid(
            label,
            format!(
                "{which} has {} distinct vertices, at least 3 are needed",
                distinct.len()
            ),
        ));
    }
    Ok(ring)
}

impl Polygon {
    /// Builds a polygon from its exterior ring and holes (`[lon, lat]`
    /// vertices), dropping a repeated closing vertex and consecutive
    /// duplicates.
    ///
    /// `label` names the jurisdiction in error messages.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::InvalidPolygon`] if a ring has fewer than three
    /// distinct vertices, or a longitude is not in `-180..=180` or a
    /// latitude not in `-90..=90` (NaN and infinities included).
    pub fn new(
        exterior: Vec<[f64; 2]>,
        holes: Vec<Vec<[f64; 2]>>,
        label: &str,
    ) -> Result<Polygon, BuildError> {
        let exterior = tidy_ring(exterior, label, "exterior ring")?;
        let holes = holes
            .into_iter()
            .enumerate()
            .map(|(i, hole)| tidy_ring(hole, label, &format!("hole {i}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Polygon { exterior, holes })
    }

    /// The exterior ring, without a repeated closing vertex.
    pub fn exterior(&self) -> &[[f64; 2]] {
        &self.exterior
    }

    /// The holes, each without a repeated closing vertex.
    pub fn holes(&self) -> &[Vec<[f64; 2]>] {
        &self.holes
    }

    /// All rings: the exterior first, then the holes.
    pub fn rings(&self) -> impl Iterator<Item = &[[f64; 2]]> {
        std::iter::once(self.exterior.as_slice()).chain(self.holes.iter().map(Vec::as_slice))
    }
}

impl Region {
    /// Builds a region from its polygons.
    ///
    /// `label` names the jurisdiction in error messages.
    ///
    /// # Errors
    ///
    /// [`BuildErrorKind::InvalidPolygon`] if `polygons` is empty.
    pub fn new(polygons: Vec<Polygon>, label: &str) -> Result<Region, BuildError> {
        if polygons.is_empty() {
            return Err(invalid(label, "the region has no polygons".to_owned()));
        }
        Ok(Region { polygons })
    }

    /// The polygons (at least one).
    pub fn polygons(&self) -> &[Polygon] {
        &self.polygons
    }

    /// All rings of all polygons.
    pub fn rings(&self) -> impl Iterator<Item = &[[f64; 2]]> {
        self.polygons.iter().flat_map(Polygon::rings)
    }

    /// All edges `(a, b)` of all rings, each ring closed.
    pub(crate) fn edges(&self) -> impl Iterator<Item = ([f64; 2], [f64; 2])> + '_ {
        self.rings().flat_map(|ring| {
            ring.iter()
                .zip(ring.iter().cycle().skip(1))
                .map(|(&a, &b)| (a, b))
        })
    }

    /// The bounding box `[min_lon, min_lat, max_lon, max_lat]` of all
    /// vertices.
    pub fn bbox(&self) -> [f64; 4] {
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for v in self.rings().flatten() {
            bbox[0] = bbox[0].min(v[0]);
            bbox[1] = bbox[1].min(v[1]);
            bbox[2] = bbox[2].max(v[0]);
            bbox[3] = bbox[3].max(v[1]);
        }
        bbox
    }

    /// The number of vertices over all rings (closing vertices not repeated).
    pub fn vertex_count(&self) -> usize {
        self.rings().map(<[_]>::len).sum()
    }

    /// Whether the point is inside, by the even-odd rule over every edge of
    /// every ring, with the half-open boundary rule described in the
    /// [module documentation](self).
    ///
    /// This is the slow reference the [`PolygonIndex`](super::polygon_index::PolygonIndex)
    /// agrees with exactly. NaN coordinates are never inside.
    pub fn contains_naive(&self, lon: f64, lat: f64) -> bool {
        let mut inside = false;
        for (a, b) in self.edges() {
            if crosses(a, b, lon, lat) {
                inside = !inside;
            }
        }
        inside
    }
}

impl From<Polygon> for Region {
    fn from(polygon: Polygon) -> Region {
        Region {
            polygons: vec![polygon],
        }
    }
}

/// Whether the ray from `(qx, qy)` towards +x crosses edge `a → b` under the
/// half-open rule: the edge straddles `qy` (vertices at exactly `qy` count as
/// below) and `qx` is strictly left of the edge's intercept at `qy`.
#[inline]
pub(crate) fn crosses(a: [f64; 2], b: [f64; 2], qx: f64, qy: f64) -> bool {
    let b_above = b[1] > qy;
    if (a[1] > qy) == b_above {
        return false;
    }
    crosses_straddling(a, b, b_above, qx, qy)
}

/// [`crosses`] for an edge already known to straddle `qy`; `b_above` is
/// `b.y > qy`.
#[inline]
pub(crate) fn crosses_straddling(
    a: [f64; 2],
    b: [f64; 2],
    b_above: bool,
    qx: f64,
    qy: f64,
) -> bool {
    // The intercept lies between the endpoints' x, which settles most cases
    // without the exact predicate.
    let (min_x, max_x) = if a[0] <= b[0] {
        (a[0], b[0])
    } else {
        (b[0], a[0])
    };
    if qx < min_x {
        return true;
    }
    if qx >= max_x {
        return false;
    }
    let o = orient2d(a, b, [qx, qy]);
    // Left of the upward-directed edge means left of the intercept.
    if b_above {
        o > 0.0
    } else {
        o < 0.0
    }
}

/// Exact orientation: positive if `c` is left of the directed line `a → b`.
#[inline]
pub(crate) fn orient2d(a: [f64; 2], b: [f64; 2], c: [f64; 2]) -> f64 {
    robust::orient2d(
        robust::Coord { x: a[0], y: a[1] },
        robust::Coord { x: b[0], y: b[1] },
        robust::Coord { x: c[0], y: c[1] },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
        vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    }

    fn region(exterior: Vec<[f64; 2]>, holes: Vec<Vec<[f64; 2]>>) -> Region {
        Region::from(Polygon::new(exterior, holes, "test").unwrap())
    }

    #[test]
    fn square_with_hole_table() {
        let r = region(square(0.0, 0.0, 4.0, 4.0), vec![square(1.0, 1.0, 3.0, 3.0)]);
        let cases = [
            // (x, y, inside, why)
            (0.5, 0.5, true, "interior"),
            (2.0, 2.0, false, "hole interior"),
            (5.0, 2.0, false, "right of everything"),
            (-1.0, 2.0, false, "left of everything"),
            (2.0, 0.0, true, "bottom edge"),
            (0.0, 2.0, true, "left edge"),
            (4.0, 2.0, false, "right edge"),
            (2.0, 4.0, false, "top edge"),
            (0.0, 0.0, true, "lower-left vertex"),
            (4.0, 0.0, false, "lower-right vertex"),
            (0.0, 4.0, false, "upper-left vertex"),
            (4.0, 4.0, false, "upper-right vertex"),
            (2.0, 1.0, false, "hole bottom edge: the hole is above"),
            (2.0, 3.0, true, "hole top edge: the region is above"),
            (1.0, 2.0, false, "hole left edge: the hole is right"),
            (3.0, 2.0, true, "hole right edge: the region is right"),
            (1.0, 1.0, false, "hole lower-left vertex"),
            (3.0, 3.0, true, "hole upper-right vertex"),
            (f64::NAN, 2.0, false, "NaN x"),
            (2.0, f64::NAN, false, "NaN y"),
            (f64::INFINITY, 2.0, false, "+inf x"),
            (f64::NEG_INFINITY, 2.0, false, "-inf x"),
        ];
        for (x, y, expected, why) in cases {
            assert_eq!(r.contains_naive(x, y), expected, "{why} ({x}, {y})");
        }
    }

    #[test]
    fn shared_edges_partition() {
        // Four unit squares meeting at (1, 1), plus a triangle fan around a
        // vertex, so that vertices and diagonal edges are shared too.
        let tiles = [
            region(square(0.0, 0.0, 1.0, 1.0), vec![]),
            region(square(1.0, 0.0, 2.0, 1.0), vec![]),
            region(square(0.0, 1.0, 1.0, 2.0), vec![]),
            region(vec![[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]], vec![]),
        ];
        let inner = [0.0, 0.25, 0.5, 1.0, 1.5, 1.75];
        for &x in &inner {
            for &y in &inner {
                let n = tiles.iter().filter(|t| t.contains_naive(x, y)).count();
                assert_eq!(n, 1, "({x}, {y}) is in {n} tiles");
            }
        }
        // Split the square diagonally both ways into four triangles.
        let c = [0.5, 0.5];
        let corners = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]];
        let triangles: Vec<Region> = (0..4)
            .map(|i| region(vec![corners[i], corners[(i + 1) % 4], c], vec![]))
            .collect();
        // The union's right and top sides are outside it.
        for i in 0..8 {
            for j in 0..8 {
                let (x, y) = (f64::from(i) / 8.0, f64::from(j) / 8.0);
                let n = triangles.iter().filter(|t| t.contains_naive(x, y)).count();
                assert_eq!(n, 1, "({x}, {y}) is in {n} triangles");
            }
        }
    }

    #[test]
    fn multipolygon_parts_and_nested_island() {
        // A square with a hole, and an island inside the hole as a second part.
        let outer = Polygon::new(
            square(0.0, 0.0, 6.0, 6.0),
            vec![square(1.0, 1.0, 5.0, 5.0)],
            "m",
        )
        .unwrap();
        let island = Polygon::new(square(2.0, 2.0, 4.0, 4.0), vec![], "m").unwrap();
        let r = Region::new(vec![outer, island], "m").unwrap();
        assert!(r.contains_naive(0.5, 3.0));
        assert!(!r.contains_naive(1.5, 3.0));
        assert!(r.contains_naive(3.0, 3.0));
        assert_eq!(r.vertex_count(), 12);
        assert_eq!(r.bbox(), [0.0, 0.0, 6.0, 6.0]);
        assert_eq!(r.rings().count(), 3);
        assert_eq!(r.edges().count(), 12);
    }

    #[test]
    fn cleaning_and_validation() {
        let p = Polygon::new(
            vec![
                [0.0, 0.0],
                [0.0, 0.0],
                [1.0, 0.0],
                [1.0, 1.0],
                [0.0, 0.0],
                [0.0, 0.0],
            ],
            vec![],
            "c",
        )
        .unwrap();
        assert_eq!(p.exterior(), &[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]);

        type Ring = Vec<[f64; 2]>;
        let bad: Vec<(Ring, Vec<Ring>, &str)> = vec![
            (vec![], vec![], "0 distinct"),
            (vec![[0.0, 0.0]], vec![], "1 distinct"),
            (vec![[0.0, 0.0], [1.0, 1.0]], vec![], "2 distinct"),
            (
                vec![[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [1.0, 1.0]],
                vec![],
                "2 distinct",
            ),
            (
                vec![[0.0, 0.0], [1.0, 0.0], [f64::NAN, 1.0]],
                vec![],
                "is not a coordinate",
            ),
            (
                vec![[0.0, 0.0], [f64::INFINITY, 0.0], [1.0, 1.0]],
                vec![],
                "is not a coordinate",
            ),
            (
                vec![[0.0, 0.0], [1.0, 0.0], [1.0, f64::NEG_INFINITY]],
                vec![],
                "is not a coordinate",
            ),
            (
                square(0.0, 0.0, 1.0, 1.0),
                vec![vec![]],
                "hole 0 has 0 distinct",
            ),
            (
                square(0.0, 0.0, 1.0, 1.0),
                vec![square(0.2, 0.2, 0.4, 0.4), vec![[0.5, 0.5], [0.6, 0.6]]],
                "hole 1 has 2 distinct",
            ),
        ];
        for (exterior, holes, message) in bad {
            let err = Polygon::new(exterior, holes, "110105").unwrap_err();
            match err.kind() {
                BuildErrorKind::InvalidPolygon {
                    jurisdiction,
                    reason,
                } => {
                    assert_eq!(jurisdiction, "110105");
                    assert!(reason.contains(message), "{reason:?} lacks {message:?}");
                }
                other => panic!("unexpected error {other:?}"),
            }
        }
        let err = Region::new(vec![], "110105").unwrap_err();
        assert!(err.to_string().contains("'110105'"), "{err}");
    }

    #[test]
    fn crossing_rule_on_slanted_edges() {
        // A thin sliver whose edges are not representable lines: the exact
        // predicate must still be consistent with the partition property.
        let a = [0.1, 0.1];
        let b = [0.7, 0.30000000000000004];
        let c = [0.3, 0.9];
        let left = region(vec![a, b, c], vec![]);
        let right = region(vec![a, [1.0, 0.0], [1.0, 1.0], c, b], vec![]);
        for i in 0..=100 {
            let t = f64::from(i) / 100.0;
            // Points on the shared edges, as close as f64 allows.
            for (p, q) in [(a, b), (b, c)] {
                let x = p[0] + (q[0] - p[0]) * t;
                let y = p[1] + (q[1] - p[1]) * t;
                let n = usize::from(left.contains_naive(x, y))
                    + usize::from(right.contains_naive(x, y));
                // Inside the union (away from its outer boundary) exactly one.
                if y > 0.1 && y < 0.9 && x > 0.1 {
                    assert_eq!(n, 1, "({x}, {y})");
                }
            }
        }
    }
}
