//! Property tests: building from random, degenerate and extreme input —
//! huge, tiny, NaN and infinite coordinates, repeated points, retraced
//! rings, many identical regions; random category codes, keyword tables,
//! department and street names — returns a value or a `BuildError`, never
//! a panic, and stays within the index's memory budget.
//!
//! `cargo test --test prop_build` runs a few hundred cases. The long run,
//! ignored by default — 100,000 polygon sets and 10,000 router
//! configurations (each a full build of the Beijing router) — is
//!
//! ```text
//! cargo test --release --test prop_build -- --ignored
//! ```
//!
//! with `PROP_BUILD_CASES=N` and `PROP_BUILD_ROUTER_CASES=N` to choose
//! other counts.

mod common;

use common::long_run;
use hotline_router::locate::polygon_index::PolygonIndex;
use hotline_router::locate::region::{Polygon, Region};
use hotline_router::{Router, RouterConfig};
use proptest::prelude::*;

/// A coordinate: mostly ordinary, sometimes extreme.
fn coord() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => -180.0f64..=180.0,
        2 => 116.0f64..116.001,
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e308, -1e308, 0.0, -0.0,
            1e-300, -1e-300, 180.0, -180.0, 90.0, -90.0, 180.000001, f64::MIN_POSITIVE,
        ]),
    ]
}

/// A ring: random vertices, possibly repeated, possibly retraced.
fn ring() -> impl Strategy<Value = Vec<[f64; 2]>> {
    (
        prop::collection::vec((coord(), coord()).prop_map(|(x, y)| [x, y]), 0..8),
        0usize..40,
        any::<bool>(),
    )
        .prop_map(|(mut ring, retrace, repeat_first)| {
            if ring.len() >= 2 {
                let (a, b) = (ring[0], ring[1]);
                for _ in 0..retrace {
                    ring.push(a);
                    ring.push(b);
                }
            }
            if repeat_first && !ring.is_empty() {
                ring.push(ring[0]);
            }
            ring
        })
}

fn regions() -> impl Strategy<Value = Vec<Region>> {
    (
        prop::collection::vec((ring(), prop::collection::vec(ring(), 0..2)), 1..5),
        0usize..80,
    )
        .prop_map(|(polygons, copies)| {
            let mut regions: Vec<Region> = polygons
                .into_iter()
                .filter_map(|(exterior, holes)| Polygon::new(exterior, holes, "p").ok())
                .map(Region::from)
                .collect();
            if let Some(first) = regions.first().cloned() {
                regions.extend(std::iter::repeat_n(first, copies));
            }
            regions
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn an_index_builds_or_refuses(regions in regions()) {
        check_index(regions)?;
    }
}

/// A value within the budget, or a `BuildError` that says something.
fn check_index(regions: Vec<Region>) -> Result<(), TestCaseError> {
    match PolygonIndex::bulk_load(&regions) {
        Ok(index) => {
            prop_assert_eq!(index.len(), regions.len());
            prop_assert!(index.heap_bytes() <= 64 << 20);
            for r in &regions {
                let [x0, y0, x1, y1] = r.bbox();
                let _ = index.locate((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            }
        }
        Err(err) => prop_assert!(!err.to_string().is_empty()),
    }
    Ok(())
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("街道".to_owned()),
        Just(" ".to_owned()),
        Just(":".to_owned()),
        "[a-z.:_ ]{0,6}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_router_builds_or_refuses(edits in edits()) {
        check_router(edits);
    }
}

/// A category code, a city department, a street name and keyword weights
/// to put into the Beijing configuration.
type Edits = (String, String, String, Vec<(String, i32)>);

fn edits() -> impl Strategy<Value = Edits> {
    (
        text(),
        text(),
        text(),
        prop::collection::vec(("[a-zA-Z热水]{1,4}", any::<i32>()), 0..6),
    )
}

/// Builds the edited configuration: a router that routes, or a
/// `BuildError` (a panic fails the case).
fn check_router((code, dept, street, weights): Edits) {
    let mut config = RouterConfig::beijing();
    config.taxonomy.categories[1].code = code;
    config.routing.city_agencies.insert(dept, "某局".into());
    config.jurisdictions.streets[3].name = street;
    for (word, weight) in weights {
        config.taxonomy.categories[2].keywords.insert(word, weight);
    }
    if let Ok(router) = Router::from_config(config) {
        let ticket = hotline_router::Ticket::new("p", "热水热水 HOT 街道");
        let _ = router.route(&ticket);
    }
}

/// The long run: `cargo test --release --test prop_build -- --ignored`.
#[test]
#[ignore = "long: 100,000 polygon sets; run in release by hand"]
fn an_index_builds_or_refuses_long() {
    long_run(
        "an_index_builds_or_refuses",
        "PROP_BUILD_CASES",
        100_000,
        regions(),
        check_index,
    );
}

/// The long run of router builds (10,000: each builds Beijing, about 14 ms in release).
#[test]
#[ignore = "long: 10,000 router builds; run in release by hand"]
fn a_router_builds_or_refuses_long() {
    long_run(
        "a_router_builds_or_refuses",
        "PROP_BUILD_ROUTER_CASES",
        10_000,
        edits(),
        |e| {
            check_router(e);
            Ok(())
        },
    );
}
