//! Loading jurisdiction polygons from a GeoJSON FeatureCollection.
//!
//! Only what jurisdiction layers need is read: each feature's code and name
//! properties and its Polygon or MultiPolygon geometry (holes included;
//! extra coordinate dimensions ignored). Real layers are untidy (features
//! without a code, boundary lines mixed in with areas), so the caller chooses
//! with [`Untidy`] whether such features are skipped and reported, or make the
//! load fail.

use super::region::{Polygon, Region};
use crate::error::{BuildError, BuildErrorKind};
use serde_json::Value;

/// What to do with a feature that cannot be used: no code, no geometry, a
/// geometry that is not a (Multi)Polygon, or an invalid polygon.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
///
/// let json = r#"{"type": "FeatureCollection", "features": [
///     {"type": "Feature", "properties": {"name": "border"}, "geometry": null}
/// ]}"#;
/// let set = parse_feature_collection(json, "layer.geojson", "code", "name", Untidy::Skip).unwrap();
/// assert_eq!(set.skipped.len(), 1);
/// assert!(parse_feature_collection(json, "layer.geojson", "code", "name", Untidy::Reject).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Untidy {
    /// Leave the feature out and list it in [`FeatureSet::skipped`].
    Skip,
    /// Fail with an error naming the feature.
    Reject,
}

/// A usable feature: a jurisdiction code, its name and its area.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
///
/// let json = r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
///     "properties": {"code": 110101, "name": "东城区"},
///     "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}]}"#;
/// let set = parse_feature_collection(json, "test", "code", "name", Untidy::Reject).unwrap();
/// let feature = &set.features[0];
/// assert_eq!((feature.code.as_str(), feature.name.as_str()), ("110101", "东城区"));
/// assert!(feature.region.contains_naive(0.9, 0.1));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GeoFeature {
    /// The code property, as text (numbers are written without a fraction).
    pub code: String,
    /// The name property, or empty if it is missing.
    pub name: String,
    /// The feature's area.
    pub region: Region,
}

/// A feature that was left out under [`Untidy::Skip`].
///
/// # Examples
///
/// ```
/// use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
///
/// let json = r#"{"type": "FeatureCollection", "features": [{"type": "Feature",
///     "properties": {"gb": "", "name": "境界线"},
///     "geometry": {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}}]}"#;
/// let set = parse_feature_collection(json, "china", "gb", "name", Untidy::Skip).unwrap();
/// let skipped = &set.skipped[0];
/// assert_eq!((skipped.index, skipped.name.as_str()), (0, "境界线"));
/// assert!(skipped.reason.contains("'gb'"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFeature {
    /// The feature's position in the `features` array (from 0).
    pub index: usize,
    /// The name property, or empty if it is missing.
    pub name: String,
    /// Why the feature was skipped.
    pub reason: String,
}

/// The result of [`parse_feature_collection`]: usable features in file order,
/// and the features that were skipped.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
///
/// let json = r#"{"type": "FeatureCollection", "features": []}"#;
/// let set = parse_feature_collection(json, "empty", "code", "name", Untidy::Reject).unwrap();
/// assert!(set.features.is_empty() && set.skipped.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureSet {
    /// The usable features, in file order.
    pub features: Vec<GeoFeature>,
    /// The features left out under [`Untidy::Skip`], in file order.
    pub skipped: Vec<SkippedFeature>,
}

/// Why one feature is unusable: a structural problem (reported as a parse
/// error) or a polygon problem (reported as an invalid polygon).
enum Problem {
    Structure(String),
    Polygon(BuildError),
}

impl Problem {
    fn reason(&self) -> String {
        match self {
            Problem::Structure(reason) => reason.clone(),
            Problem::Polygon(err) => match err.kind() {
                BuildErrorKind::InvalidPolygon { reason, .. } => reason.clone(),
                _ => err.to_string(),
            },
        }
    }
}

/// Parses a GeoJSON FeatureCollection of Polygon and MultiPolygon features.
///
/// `code_property` and `name_property` name the properties holding each
/// feature's jurisdiction code (a string or a number) and name;
/// `source_name` names the file in error messages.
///
/// # Errors
///
/// [`BuildErrorKind::Parse`] if the text is not JSON or not a
/// FeatureCollection. Under [`Untidy::Reject`], also for the first unusable
/// feature: [`BuildErrorKind::Parse`] naming the feature for a missing or empty
/// code, a missing geometry or an unsupported geometry type, and
/// [`BuildErrorKind::InvalidPolygon`] (with the jurisdiction given as
/// `code (name)`) for malformed coordinates or an invalid ring.
///
/// # Examples
///
/// ```
/// use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
/// use hotline_router::locate::polygon_index::PolygonIndex;
///
/// let json = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/beijing/districts.geojson"));
/// let set = parse_feature_collection(json, "districts.geojson", "code", "name", Untidy::Reject)?;
/// let regions: Vec<_> = set.features.iter().map(|f| f.region.clone()).collect();
/// let index = PolygonIndex::bulk_load(&regions)?;
/// let id = index.locate(116.397, 39.908).expect("Tiananmen is in Beijing");
/// assert_eq!(set.features[id as usize].name, "东城区");
/// # Ok::<(), hotline_router::BuildError>(())
/// ```
pub fn parse_feature_collection(
    json: &str,
    source_name: &str,
    code_property: &str,
    name_property: &str,
    on_untidy: Untidy,
) -> Result<FeatureSet, BuildError> {
    let root: Value = serde_json::from_str(json).map_err(|e| BuildError::parse(source_name, e))?;
    if root.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(BuildError::parse(
            source_name,
            "the top level is not a GeoJSON FeatureCollection",
        ));
    }
    let Some(features) = root.get("features").and_then(Value::as_array) else {
        return Err(BuildError::parse(
            source_name,
            "the FeatureCollection has no \"features\" array",
        ));
    };
    let mut set = FeatureSet {
        features: Vec::with_capacity(features.len()),
        skipped: Vec::new(),
    };
    for (index, feature) in features.iter().enumerate() {
        let properties = feature.get("properties");
        let name = properties
            .and_then(|p| p.get(name_property))
            .and_then(property_text)
            .unwrap_or_default();
        match parse_feature(feature, code_property, &name) {
            Ok((code, region)) => set.features.push(GeoFeature { code, name, region }),
            Err(problem) => match on_untidy {
                Untidy::Skip => set.skipped.push(SkippedFeature {
                    index,
                    name,
                    reason: problem.reason(),
                }),
                Untidy::Reject => {
                    return Err(match problem {
                        Problem::Structure(reason) => BuildError::parse(
                            source_name,
                            format!("feature {index} ({}): {reason}", describe(&name)),
                        ),
                        Problem::Polygon(err) => err,
                    })
                }
            },
        }
    }
    Ok(set)
}

fn describe(name: &str) -> String {
    if name.is_empty() {
        "no name".to_owned()
    } else {
        format!("'{name}'")
    }
}

/// A property as text: strings trimmed, integral numbers without a fraction.
fn property_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            // Codes written as 110101.0 mean 110101.
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{f:.0}"),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

fn parse_feature(
    feature: &Value,
    code_property: &str,
    name: &str,
) -> Result<(String, Region), Problem> {
    let code = feature
        .get("properties")
        .and_then(|p| p.get(code_property))
        .and_then(property_text)
        .unwrap_or_default();
    if code.is_empty() {
        return Err(Problem::Structure(format!(
            "missing or empty code property '{code_property}'"
        )));
    }
    let geometry = match feature.get("geometry") {
        None | Some(Value::Null) => {
            return Err(Problem::Structure("the feature has no geometry".to_owned()))
        }
        Some(geometry) => geometry,
    };
    let label = if name.is_empty() {
        code.clone()
    } else {
        format!("{code} ({name})")
    };
    let bad = |reason: String| {
        Problem::Polygon(
            BuildErrorKind::InvalidPolygon {
                jurisdiction: label.clone(),
                reason,
            }
            .into(),
        )
    };
    let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    let coordinates = geometry.get("coordinates");
    let polygons: Vec<&Value> = match (kind, coordinates) {
        ("Polygon", Some(c)) => vec![c],
        ("MultiPolygon", Some(Value::Array(parts))) => parts.iter().collect(),
        ("Polygon" | "MultiPolygon", _) => {
            return Err(bad(format!("the {kind} has no coordinates array")))
        }
        (other, _) => {
            return Err(Problem::Structure(format!(
                "unsupported geometry type '{other}' (expected Polygon or MultiPolygon)"
            )))
        }
    };
    if polygons.is_empty() {
        return Err(bad("the MultiPolygon has no polygons".to_owned()));
    }
    let mut parts = Vec::with_capacity(polygons.len());
    for (p, polygon) in polygons.into_iter().enumerate() {
        let Some(rings) = polygon.as_array() else {
            return Err(bad(format!("polygon {p} is not an array of rings")));
        };
        let mut rings = rings.iter().enumerate().map(|(r, ring)| {
            parse_ring(ring).ok_or_else(|| {
                bad(format!(
                    "polygon {p} ring {r} is not an array of [lon, lat] positions"
                ))
            })
        });
        let Some(exterior) = rings.next() else {
            return Err(bad(format!("polygon {p} has no rings")));
        };
        let exterior = exterior?;
        let holes = rings.collect::<Result<Vec<_>, _>>()?;
        let polygon = Polygon::new(exterior, holes, &label).map_err(|err| match err.kind() {
            BuildErrorKind::InvalidPolygon { reason, .. } => bad(format!("polygon {p}: {reason}")),
            _ => Problem::Polygon(err),
        })?;
        parts.push(polygon);
    }
    let region = Region::new(parts, &label).map_err(Problem::Polygon)?;
    Ok((code, region))
}

/// A ring as `[lon, lat]` vertices; `None` if it is not an array of arrays of
/// at least two numbers.
fn parse_ring(ring: &Value) -> Option<Vec<[f64; 2]>> {
    ring.as_array()?
        .iter()
        .map(|position| {
            let position = position.as_array()?;
            Some([position.first()?.as_f64()?, position.get(1)?.as_f64()?])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(features: &[&str]) -> String {
        format!(
            r#"{{"type": "FeatureCollection", "features": [{}]}}"#,
            features.join(",")
        )
    }

    fn feature(properties: &str, geometry: &str) -> String {
        format!(r#"{{"type": "Feature", "properties": {properties}, "geometry": {geometry}}}"#)
    }

    const SQUARE: &str = r#"{"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], [[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]}"#;
    const MULTI: &str = r#"{"type": "MultiPolygon", "coordinates": [[[[10, 0], [11, 0], [11, 1], [10, 0]]], [[[20, 0], [21, 0, 55.5], [21, 1], [20, 0]]]]}"#;

    #[test]
    fn tidy_features() {
        let json = collection(&[
            &feature(r#"{"code": "110101", "name": "东城区"}"#, SQUARE),
            &feature(r#"{"code": 110102, "name": "西城区"}"#, MULTI),
            &feature(r#"{"code": 110105.0}"#, SQUARE),
            &feature(r#"{"code": " 110106 ", "name": 7}"#, SQUARE),
        ]);
        let set = parse_feature_collection(&json, "t", "code", "name", Untidy::Reject).unwrap();
        let summary: Vec<(&str, &str)> = set
            .features
            .iter()
            .map(|f| (f.code.as_str(), f.name.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("110101", "东城区"),
                ("110102", "西城区"),
                ("110105", ""),
                ("110106", "7")
            ]
        );
        let square = &set.features[0].region;
        assert_eq!(square.polygons()[0].holes().len(), 1);
        assert!(square.contains_naive(0.5, 2.0));
        assert!(!square.contains_naive(2.0, 2.0));
        let multi = &set.features[1].region;
        assert_eq!(multi.polygons().len(), 2);
        assert_eq!(multi.vertex_count(), 6);
        assert!(multi.contains_naive(20.9, 0.1));
        assert!(set.skipped.is_empty());
    }

    #[test]
    fn untidy_features_table() {
        let cases: &[(&str, &str, &str)] = &[
            // (properties, geometry, expected reason fragment)
            (
                r#"{"name": "a"}"#,
                SQUARE,
                "missing or empty code property 'code'",
            ),
            (
                r#"{"code": "", "name": "a"}"#,
                SQUARE,
                "missing or empty code",
            ),
            (
                r#"{"code": "  ", "name": "a"}"#,
                SQUARE,
                "missing or empty code",
            ),
            (
                r#"{"code": null, "name": "a"}"#,
                SQUARE,
                "missing or empty code",
            ),
            (r#"{"code": "1", "name": "a"}"#, "null", "no geometry"),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]]]}"#,
                "unsupported geometry type 'MultiLineString'",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "Point", "coordinates": [0, 0]}"#,
                "'Point'",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "Polygon"}"#,
                "no coordinates",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "Polygon", "coordinates": []}"#,
                "no rings",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "MultiPolygon", "coordinates": []}"#,
                "no polygons",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}"#,
                "2 distinct vertices",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1]]]}"#,
                "ring 0 is not an array",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1]]]}"#,
                "ring 0 is not an array",
            ),
            (
                r#"{"code": "1", "name": "a"}"#,
                r#"{"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1]]], [[[0, 0], [1, 0], [1, 1]], []]]}"#,
                "polygon 1: hole 0 has 0 distinct",
            ),
        ];
        for (i, &(properties, geometry, reason)) in cases.iter().enumerate() {
            let good = feature(r#"{"code": "ok", "name": "good"}"#, SQUARE);
            let json = collection(&[&good, &feature(properties, geometry), &good]);
            let set = parse_feature_collection(&json, "t.geojson", "code", "name", Untidy::Skip)
                .unwrap_or_else(|e| panic!("case {i}: {e}"));
            assert_eq!(set.features.len(), 2, "case {i}");
            assert_eq!(set.skipped.len(), 1, "case {i}");
            let skipped = &set.skipped[0];
            assert_eq!((skipped.index, skipped.name.as_str()), (1, "a"), "case {i}");
            assert!(
                skipped.reason.contains(reason),
                "case {i}: {:?}",
                skipped.reason
            );

            let err = parse_feature_collection(&json, "t.geojson", "code", "name", Untidy::Reject)
                .expect_err("must reject");
            let message = err.to_string();
            assert!(message.contains(reason), "case {i}: {message}");
            match err.kind() {
                BuildErrorKind::Parse {
                    source_name,
                    message,
                    // A structural problem, found after the JSON parsed.
                    source: None,
                } => {
                    assert_eq!(source_name, "t.geojson");
                    assert!(message.contains("feature 1 ('a')"), "case {i}: {message}");
                }
                BuildErrorKind::InvalidPolygon { jurisdiction, .. } => {
                    assert_eq!(jurisdiction, "1 (a)", "case {i}");
                }
                other => panic!("case {i}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn broken_documents() {
        for (json, fragment) in [
            ("", "EOF"),
            ("{", "EOF"),
            ("[]", "not a GeoJSON FeatureCollection"),
            (r#"{"type": "Feature"}"#, "not a GeoJSON FeatureCollection"),
            (r#"{"type": "FeatureCollection"}"#, "no \"features\" array"),
            (
                r#"{"type": "FeatureCollection", "features": {}}"#,
                "no \"features\" array",
            ),
        ] {
            let err =
                parse_feature_collection(json, "broken.geojson", "code", "name", Untidy::Skip)
                    .unwrap_err();
            assert!(matches!(err.kind(), BuildErrorKind::Parse { .. }), "{json}");
            let message = err.to_string();
            assert!(
                message.contains("broken.geojson") && message.contains(fragment),
                "{message}"
            );
        }
    }

    #[test]
    fn features_that_are_not_objects_are_skipped() {
        let json = collection(&["1", "null", r#""x""#]);
        let set = parse_feature_collection(&json, "t", "code", "name", Untidy::Skip).unwrap();
        assert_eq!(set.skipped.len(), 3);
        assert!(set.skipped.iter().all(|s| s.name.is_empty()));
        let err = parse_feature_collection(&json, "t", "code", "name", Untidy::Reject).unwrap_err();
        assert!(err.to_string().contains("feature 0 (no name)"), "{err}");
    }

    #[test]
    fn beijing_layer_loads() {
        let json = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/beijing/districts.geojson"
        ));
        let set =
            parse_feature_collection(json, "districts.geojson", "code", "name", Untidy::Reject)
                .unwrap();
        assert_eq!(set.features.len(), 16);
        assert!(set
            .features
            .iter()
            .all(|f| f.code.len() == 6 && f.code.starts_with("11")));
    }
}
