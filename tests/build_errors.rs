//! Configuration errors are found when the router is built, each as a typed
//! error naming the offending item — never when a ticket hits them.

use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
use hotline_router::locate::polygon_index::PolygonIndex;
use hotline_router::{
    BuildErrorKind, HandlerConfig, JurisdictionsConfig, Polygon, Region, Router, RouterConfig,
    RuleConfig, Ticket,
};

fn build_err(edit: impl FnOnce(&mut RouterConfig)) -> hotline_router::BuildError {
    let mut config = RouterConfig::beijing();
    edit(&mut config);
    Router::from_config(config).expect_err("the edited configuration must not build")
}

fn rule(categories: &[&str]) -> RuleConfig {
    RuleConfig {
        categories: categories.iter().map(|c| c.to_string()).collect(),
        district: Some("110105".into()),
        ..RuleConfig::default()
    }
}

#[test]
fn the_embedded_configuration_builds() {
    assert!(Router::from_config(RouterConfig::beijing()).is_ok());
}

#[test]
fn unknown_agency_in_a_rule() {
    let err = build_err(|c| {
        let mut r = rule(&["heating"]);
        r.agency = Some("city:fire_brigade".into());
        c.routing.rules.push(r);
    });
    assert!(
        matches!(err.kind(), BuildErrorKind::UnknownAgency { agency, .. } if agency == "city:fire_brigade")
    );
    // Rules are numbered from 0: the pushed one comes after the defaults.
    let n = RouterConfig::beijing().routing.rules.len();
    assert!(err.to_string().starts_with(&format!("rule {n} ")), "{err}");
}

#[test]
fn unknown_department_in_a_handler() {
    let err = build_err(|c| {
        c.routing.handlers.get_mut("heating").unwrap().handler = "district:heating_office".into()
    });
    assert!(matches!(err.kind(), BuildErrorKind::UnknownAgency { .. }));
    assert!(err.to_string().contains("[handler.\"heating\"]"), "{err}");
}

#[test]
fn handler_that_is_not_a_spec() {
    let err =
        build_err(|c| c.routing.handlers.get_mut("heating").unwrap().co = vec!["the mayor".into()]);
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidHandler { handler, .. } if handler == "the mayor")
    );
}

#[test]
fn category_without_handler() {
    let err = build_err(|c| {
        c.routing.handlers.remove("parks.greening");
    });
    assert_eq!(
        err.kind(),
        &BuildErrorKind::MissingHandler {
            category: "parks.greening".into()
        }
    );
}

#[test]
fn handler_for_a_category_that_does_not_exist() {
    let err = build_err(|c| {
        c.routing.handlers.insert(
            "parks.fountains".into(),
            HandlerConfig {
                handler: "street".into(),
                co: vec![],
                sla: None,
            },
        );
    });
    assert!(
        matches!(err.kind(), BuildErrorKind::UnknownCategory { category, .. } if category == "parks.fountains")
    );
}

#[test]
fn rule_for_an_unknown_category_or_place() {
    let err = build_err(|c| c.routing.rules.push(rule(&["heatng"])));
    assert!(
        matches!(err.kind(), BuildErrorKind::UnknownCategory { category, .. } if category == "heatng")
    );
    let err = build_err(|c| {
        let mut r = rule(&["heating"]);
        r.district = Some("110199".into());
        c.routing.rules.push(r);
    });
    assert!(
        matches!(err.kind(), BuildErrorKind::UnknownJurisdiction { code, .. } if code == "110199")
    );
    let err = build_err(|c| {
        let mut r = rule(&["heating"]);
        r.street = Some("110105003".into());
        c.routing.rules.push(r);
    });
    assert!(
        err.to_string()
            .contains("exactly one of `district` and `street`"),
        "{err}"
    );
}

#[test]
fn two_rules_for_one_place() {
    let err = build_err(|c| {
        c.routing.rules.push(rule(&["heating", "env.noise"]));
        c.routing.rules.push(rule(&["env.noise"]));
    });
    let n = RouterConfig::beijing().routing.rules.len();
    assert_eq!(
        err.to_string(),
        format!(
            "rule {n} and rule {} both set env.noise @ district 110105: keep one",
            n + 1
        )
    );
}

#[test]
fn duplicate_codes() {
    let err = build_err(|c| {
        let dup = c.taxonomy.categories[0].clone();
        c.taxonomy.categories.push(dup);
    });
    assert_eq!(
        err.to_string(),
        "duplicate category code 'housing.old_renovation'"
    );
    let err = build_err(|c| {
        let dup = c.jurisdictions.streets[10].clone();
        c.jurisdictions.streets.push(dup);
    });
    assert!(matches!(
        err.kind(),
        BuildErrorKind::DuplicateCode { what: "street", .. }
    ));
}

#[test]
fn empty_keyword_and_unknown_fallback() {
    let err = build_err(|c| {
        c.taxonomy.categories[3].keywords.insert(" ".into(), 3);
    });
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidKeyword { category, .. } if category == "housing.elevator")
    );
    let err = build_err(|c| c.routing.fallback_category = "misc".into());
    assert!(
        matches!(err.kind(), BuildErrorKind::UnknownCategory { category, .. } if category == "misc")
    );
}

#[test]
fn broken_polygons() {
    let err = Polygon::new(vec![[116.0, 39.0], [116.1, 39.0]], vec![], "110105").unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidPolygon { .. }),
        "{err}"
    );
    let err = Polygon::new(
        vec![[116.0, 39.0], [f64::NAN, 39.0], [116.1, 39.1]],
        vec![],
        "110105",
    )
    .unwrap_err();
    assert!(err.to_string().contains("110105"), "{err}");
    let err = Region::new(vec![], "110105").unwrap_err();
    assert!(matches!(err.kind(), BuildErrorKind::InvalidPolygon { .. }));
    let mut j = JurisdictionsConfig::beijing();
    let geojson = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"110105","name":"朝阳区"},"geometry":{"type":"Polygon","coordinates":[[[116,39],[117,39]]]}}]}"#;
    let err = j
        .attach_polygons(geojson, "bad.geojson", "code")
        .unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidPolygon { .. }),
        "{err}"
    );
}

#[test]
fn a_street_matter_needs_a_gov_office_to_fall_back_to() {
    let err = build_err(|c| {
        c.routing.district_departments.remove("gov");
        for h in c.routing.handlers.values_mut() {
            if h.handler == "district:gov" {
                h.handler = "center:triage".into();
            }
        }
        for rule in &mut c.routing.rules {
            rule.agency = Some("center:triage".into());
        }
    });
    assert!(err.to_string().contains("district:<code>:gov"), "{err}");
}

#[test]
fn garbage_configuration_text() {
    for text in [
        "",
        "[[category]]",
        "category = 3",
        "\u{0}\u{1}",
        "[urgency]\nkeywords = [1]",
    ] {
        let err = hotline_router::TaxonomyConfig::from_toml(text, "fuzz.toml");
        if let Ok(t) = err {
            // An empty taxonomy parses, but no router can be built from it.
            let mut c = RouterConfig::beijing();
            c.taxonomy = t;
            assert!(Router::from_config(c).is_err(), "{text:?}");
        }
    }
}

#[test]
fn an_sla_must_say_how_long_a_normal_ticket_may_take_once() {
    let err = build_err(|c| {
        c.routing.handlers.get_mut("heating").unwrap().sla = Some(hotline_router::Sla {
            urgent_hours: 4,
            normal_hours: Some(48),
            normal_working_days: Some(2),
        })
    });
    assert_eq!(
        err.to_string(),
        "[handler.\"heating\"]: an SLA needs exactly one of normal_hours and normal_working_days"
    );
    let err = build_err(|c| {
        c.routing.default_sla = hotline_router::Sla {
            urgent_hours: 2,
            normal_hours: None,
            normal_working_days: None,
        }
    });
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidSla { context } if context == "default_sla")
    );
}

#[test]
fn a_locator_needs_one_region_per_district() {
    let config = RouterConfig::beijing();
    let j = hotline_router::Jurisdictions::new(&config.jurisdictions).unwrap();
    let region = config.jurisdictions.districts[0].region.clone().unwrap();
    let err = hotline_router::Locator::new(&j, &[], &[region]).unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::IndexLimit { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("1 regions given for 0 districts"),
        "{err}"
    );
}

#[test]
fn keyword_weights_that_could_overflow_are_refused() {
    for weight in [i32::MAX, i32::MIN, 1_000_001] {
        let err = build_err(|c| {
            c.taxonomy.categories[0]
                .keywords
                .insert("改造改造".into(), weight);
        });
        assert!(
            matches!(err.kind(), BuildErrorKind::InvalidWeight { weight: w, .. } if *w == weight),
            "{err}"
        );
        assert!(err.to_string().contains("beyond the limit"), "{err}");
    }
    // The largest allowed weight on many keywords still scores without
    // overflowing.
    let mut config = RouterConfig::beijing();
    for i in 0..3000 {
        config.taxonomy.categories[0]
            .keywords
            .insert(format!("词{i:04}"), 1_000_000);
    }
    let router = Router::builder().without_model().build(config).unwrap();
    let text: String = (0..3000).map(|i| format!("词{i:04}")).collect();
    let d = router.route(&Ticket::new("w", text)).unwrap();
    assert_eq!(d.category().code(), "housing.old_renovation");
    assert_eq!(d.classification().score(), i32::MAX);
}

// Hostile configurations (issue 11): each used to crash the process (a
// panic, or an allocation of gigabytes) instead of returning a BuildError.

fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<[f64; 2]> {
    vec![[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
}

#[test]
fn a_polygon_beyond_longitude_and_latitude_is_refused() {
    for (ring, bad) in [
        (square(-1e308, -1e308, 1e308, 1e308), "-1e308"),
        (square(116.0, 39.0, 181.0, 40.0), "181"),
        (square(116.0, 89.5, 117.0, 90.5), "90.5"),
        (square(-180.5, 39.0, 116.0, 40.0), "-180.5"),
    ] {
        let err = Polygon::new(ring, vec![], "110105").unwrap_err();
        assert!(
            matches!(err.kind(), BuildErrorKind::InvalidPolygon { jurisdiction, .. } if jurisdiction == "110105"),
            "{err}"
        );
        assert!(err.to_string().contains(bad), "{err}");
        assert!(err.to_string().contains("-180..=180"), "{err}");
    }
    // The same through GeoJSON, as a configuration file would bring it.
    let mut j = JurisdictionsConfig::beijing();
    let geojson = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"110105","name":"朝阳区"},"geometry":{"type":"Polygon","coordinates":[[[-1e308,-1e308],[1e308,-1e308],[1e308,1e308],[-1e308,1e308]]]}}]}"#;
    let err = j
        .attach_polygons(geojson, "huge.geojson", "code")
        .unwrap_err();
    assert!(err.to_string().contains("1e308"), "{err}");
    // The whole range itself is fine.
    let world = Polygon::new(square(-180.0, -90.0, 180.0, 90.0), vec![], "world").unwrap();
    let index = PolygonIndex::bulk_load(&[Region::from(world)]).unwrap();
    assert_eq!(index.locate(0.0, 0.0), Some(0));
}

/// A ring that goes back and forth along one segment `times` times, then
/// closes through a third vertex.
fn retraced(times: usize) -> Vec<[f64; 2]> {
    let (a, b) = ([116.30, 39.80], [116.60, 40.05]);
    let mut ring = Vec::new();
    for _ in 0..times {
        ring.push(a);
        ring.push(b);
    }
    ring.push([116.62, 39.81]);
    ring
}

#[test]
fn a_retraced_ring_is_indexed_or_refused_within_the_budget() {
    // 1.7 KB of GeoJSON used to ask for 8 GiB.
    let ring = retraced(50);
    let coords: Vec<String> = ring
        .iter()
        .chain(std::iter::once(&ring[0]))
        .map(|v| format!("[{},{}]", v[0], v[1]))
        .collect();
    let geojson = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"code":"110105","name":"朝阳区"}},"geometry":{{"type":"Polygon","coordinates":[[{}]]}}}}]}}"#,
        coords.join(",")
    );
    assert!(geojson.len() < 2_000, "{}", geojson.len());
    let mut config = RouterConfig::beijing();
    // The sample buildings of 朝阳区 would lie outside the retraced sliver.
    config.jurisdictions.buildings = hotline_router::BuildingsConfig::from_csv(
        "code,name,address,community_code,lon,lat\n",
        "no-buildings.csv",
    )
    .unwrap();
    for d in &mut config.jurisdictions.districts {
        if d.code == "110105" {
            d.region = None;
        }
    }
    config
        .jurisdictions
        .attach_polygons(&geojson, "retraced.geojson", "code")
        .unwrap();
    // Retraced edges cannot be told apart however fine the grid: they stay
    // in one leaf, and the router builds.
    let router = Router::from_config(config).unwrap();
    let mut t = Ticket::new("r", "路灯不亮");
    t.coordinates = Some(hotline_router::Coordinates::new(
        116.5,
        39.9,
        hotline_router::Crs::Wgs84,
    ));
    router.route(&t).unwrap();
    // The index alone, with the ring retraced many more times.
    let region = Region::from(Polygon::new(retraced(2_000), vec![], "r").unwrap());
    let index = PolygonIndex::bulk_load(&[region]).unwrap();
    assert!(index.heap_bytes() < 1 << 20, "{}", index.heap_bytes());
    // Inside the thin triangle closing the ring, and outside it.
    assert_eq!(index.locate(116.55, 39.87), Some(0));
    assert_eq!(index.locate(116.35, 39.95), None);
}

fn chaoyang() -> Region {
    let json = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/beijing/districts.geojson"
    ));
    let set = parse_feature_collection(json, "districts.geojson", "code", "name", Untidy::Reject)
        .unwrap();
    set.features
        .into_iter()
        .find(|f| f.code == "110105")
        .unwrap()
        .region
}

#[test]
fn many_identical_districts_are_indexed_or_refused_within_the_budget() {
    let region = chaoyang();
    for n in [28, 64] {
        let regions = vec![region.clone(); n];
        let index = PolygonIndex::bulk_load(&regions).unwrap();
        assert_eq!(index.locate(116.45, 39.92), Some(0));
        assert!(
            index.heap_bytes() < 256 << 20,
            "{n}: {}",
            index.heap_bytes()
        );
    }
    // 65 regions meet everywhere on the boundary: no leaf can hold them.
    let err = PolygonIndex::bulk_load(&vec![region; 65]).unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::IndexLimit { .. }),
        "{err}"
    );
}

#[test]
fn empty_or_meaningless_codes_and_names_are_refused() {
    let err = build_err(|c| c.taxonomy.categories[3].code = String::new());
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidCode { what: "category", code, .. } if code.is_empty()),
        "{err}"
    );
    let err = build_err(|c| c.taxonomy.categories[3].code = "heating system".into());
    assert!(
        matches!(
            err.kind(),
            BuildErrorKind::InvalidCode {
                what: "category",
                ..
            }
        ),
        "{err}"
    );
    let err = build_err(|c| {
        c.routing
            .city_agencies
            .insert(String::new(), "市某局".into());
    });
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidCode { what: "agency", code, .. } if code == "city:"),
        "{err}"
    );
    let err = build_err(|c| {
        c.routing
            .district_departments
            .insert("health office".into(), "卫健委".into());
    });
    assert!(
        matches!(
            err.kind(),
            BuildErrorKind::InvalidCode { what: "agency", .. }
        ),
        "{err}"
    );
    // A street named just 街道 would be found in every address.
    let err = build_err(|c| c.jurisdictions.streets[10].name = "街道".into());
    let code = RouterConfig::beijing().jurisdictions.streets[10]
        .code
        .clone();
    assert!(err.to_string().contains(&code), "{err}");
    assert!(err.to_string().contains("街道"), "{err}");
    for (edit, what) in [
        (
            Box::new(|c: &mut RouterConfig| c.jurisdictions.districts[0].name = "区".into())
                as Box<dyn Fn(&mut RouterConfig)>,
            "district",
        ),
        (
            Box::new(|c: &mut RouterConfig| c.jurisdictions.streets[0].name = " ".into()),
            "street",
        ),
        (
            Box::new(|c: &mut RouterConfig| {
                c.jurisdictions.communities[0].name = "社区居委会".into()
            }),
            "community",
        ),
    ] {
        let err = build_err(edit);
        assert!(err.to_string().contains(what), "{what}: {err}");
    }
}
