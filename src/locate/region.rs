//! TEMPORARY stub, replaced by the spatial work.
#![allow(missing_docs, unused_imports)]
use crate::BuildError;
#[derive(Clone, Debug)]
pub struct Polygon {
    pub exterior: Vec<[f64; 2]>,
    pub holes: Vec<Vec<[f64; 2]>>,
}
#[derive(Clone, Debug)]
pub struct Region {
    pub polygons: Vec<Polygon>,
}
impl Region {
    pub fn contains_naive(&self, lon: f64, lat: f64) -> bool {
        let mut inside = false;
        for p in &self.polygons {
            for ring in std::iter::once(&p.exterior).chain(p.holes.iter()) {
                let n = ring.len();
                for i in 0..n {
                    let a = ring[i];
                    let b = ring[(i + 1) % n];
                    if (a[1] > lat) != (b[1] > lat) {
                        let x = a[0] + (lat - a[1]) * (b[0] - a[0]) / (b[1] - a[1]);
                        if lon < x {
                            inside = !inside;
                        }
                    }
                }
            }
        }
        inside
    }
}
