//! TEMPORARY stub, replaced by the spatial work.
#![allow(missing_docs, unused_imports)]
use super::region::{Polygon, Region};
use crate::BuildError;
use serde_json::Value;
pub enum Untidy {
    Skip,
    Reject,
}
pub struct GeoFeature {
    pub code: String,
    pub name: String,
    pub region: Region,
}
pub struct SkippedFeature {
    pub index: usize,
    pub name: String,
    pub reason: String,
}
pub struct FeatureSet {
    pub features: Vec<GeoFeature>,
    pub skipped: Vec<SkippedFeature>,
}
pub fn parse_feature_collection(
    json: &str,
    source_name: &str,
    code_property: &str,
    name_property: &str,
    _on_untidy: Untidy,
) -> Result<FeatureSet, BuildError> {
    let v: Value = serde_json::from_str(json).map_err(|e| BuildError::parse(source_name, e))?;
    let mut features = Vec::new();
    for f in v["features"].as_array().unwrap() {
        let code = f["properties"][code_property].as_str().unwrap().to_string();
        let name = f["properties"][name_property].as_str().unwrap().to_string();
        let ring = |r: &Value| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()])
                .collect::<Vec<_>>()
        };
        let polys = f["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let rings = p.as_array().unwrap();
                Polygon {
                    exterior: ring(&rings[0]),
                    holes: rings[1..].iter().map(ring).collect(),
                }
            })
            .collect();
        features.push(GeoFeature {
            code,
            name,
            region: Region { polygons: polys },
        });
    }
    Ok(FeatureSet {
        features,
        skipped: vec![],
    })
}
