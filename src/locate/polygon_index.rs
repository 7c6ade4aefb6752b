//! TEMPORARY stub, replaced by the spatial work.
#![allow(missing_docs, unused_imports)]
use super::region::Region;
use crate::BuildError;
#[derive(Debug)]
pub struct PolygonIndex {
    regions: Vec<Region>,
}
impl PolygonIndex {
    pub fn bulk_load(regions: &[Region]) -> Result<PolygonIndex, BuildError> {
        Ok(PolygonIndex {
            regions: regions.to_vec(),
        })
    }
    pub fn locate(&self, lon: f64, lat: f64) -> Option<u32> {
        self.regions
            .iter()
            .position(|r| r.contains_naive(lon, lat))
            .map(|i| i as u32)
    }
    pub fn len(&self) -> usize {
        self.regions.len()
    }
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }
}
