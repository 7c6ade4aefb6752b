use std::collections::HashSet;

use super::*;
use crate::locate::region::Polygon;
use crate::{Crs, Router};

fn router() -> &'static Router {
    static ROUTER: std::sync::OnceLock<Router> = std::sync::OnceLock::new();
    ROUTER.get_or_init(Router::beijing)
}

#[test]
fn the_sample_registry_is_strictly_inside_its_districts() {
    // The build allows 300 m of slack for the simplified polygons; the
    // sample needs none.
    let r = router();
    let j = r.jurisdictions();
    let sample = BuildingsConfig::beijing_sample();
    assert_eq!(r.buildings().len(), sample.buildings.len());
    assert!((30..=60).contains(&sample.buildings.len()));
    let mut districts = HashSet::new();
    let mut outside = Vec::new();
    for (_, b) in r.buildings().iter() {
        let at = r.locator().district_at(b.lon(), b.lat());
        if at != Some(b.district()) {
            outside.push(format!(
                "{} {} ({}, {}) is in {:?}",
                b.code(),
                b.name(),
                b.lon(),
                b.lat(),
                at.map(|d| j.district(d).name())
            ));
        }
        let district = j.district(b.district()).name();
        assert!(b.address().starts_with(district), "{}", b.address());
        districts.insert(b.district());
    }
    assert!(outside.is_empty(), "{outside:#?}");
    assert!(districts.len() >= 10, "{} districts", districts.len());
}

#[test]
fn lookups_find_every_code_and_nothing_else() {
    let registry = router().buildings();
    for (id, b) in registry.iter() {
        assert_eq!(registry.id(b.code()), Some(id));
        assert_eq!(registry.get(b.code()), Some(b));
        assert_eq!(registry.get(&format!("{}x", b.code())), None);
    }
    assert_eq!(registry.get(""), None);
    assert!(Buildings::default().get("110105003050-03").is_none());
}

#[test]
fn the_csv_form() {
    let csv = "# a comment\n\
               code , name,address,community_code,lon,lat,crs\n\
               A-1,甲,,110105003050,116.4510,39.9225,GCJ02\r\n\
               \n\
               # another\n\
               \n\
               B.2,乙,朝阳区乙,110105003050, 116.4452 ,39.9212,\n";
    let config = BuildingsConfig::from_csv(csv, "t.csv").unwrap();
    let [a, b] = &config.buildings[..] else {
        panic!("{config:?}")
    };
    assert_eq!(
        (a.code.as_str(), a.crs, a.line),
        ("A-1", Crs::Gcj02, Some(3))
    );
    assert_eq!(
        (b.code.as_str(), b.crs, b.line),
        ("B.2", Crs::Wgs84, Some(7))
    );
    assert_eq!((b.address.as_str(), b.lon), ("朝阳区乙", 116.4452));
    assert_eq!(config.at(1), "t.csv line 7");
    assert_eq!(config.tolerance_m, 300);

    for (text, want) in [
        (
            "code,name,community_code,lon,lat\nA,a,1,east,40\n",
            "line 2: column 'lon'",
        ),
        (
            "code,name,community_code,lon,lat,crs\nA,a,1,116,40,utm\n",
            "line 2: unknown coordinate system",
        ),
        (
            "code,name,community_code,lon\nA,a,1,116\n",
            "line 2: missing field `lat`",
        ),
        (
            "code,name,community_code,lon,lat\n\nA,a,1,116\n",
            "line 3: expected field, but got end of row",
        ),
    ] {
        let err = BuildingsConfig::from_csv(text, "t.csv")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot parse t.csv"), "{err}");
        assert!(err.contains(want), "{err} should contain {want:?}");
    }
}

#[test]
fn a_gcj02_point_is_stored_in_wgs84() {
    let mut config = crate::RouterConfig::beijing();
    let (lon, lat) = crate::locate::crs::wgs84_to_gcj02(116.4452, 39.9212);
    config.jurisdictions.buildings = BuildingsConfig::from_csv(
        &format!("code,name,community_code,lon,lat,crs\nG,g,110105003050,{lon},{lat},gcj02\n"),
        "g.csv",
    )
    .unwrap();
    let r = Router::builder().without_model().build(config).unwrap();
    let b = r.buildings().get("G").unwrap();
    assert!((b.lon() - 116.4452).abs() < 1e-5 && (b.lat() - 39.9212).abs() < 1e-5);
}

#[test]
#[cfg(target_pointer_width = "64")]
fn a_building_record_is_56_bytes() {
    // The figure the type's resource usage is computed from.
    assert_eq!(std::mem::size_of::<Building>(), 56);
    let registry = router().buildings();
    let text: usize = registry
        .iter()
        .map(|(_, b)| b.code().len() + b.name().len() + b.address().len())
        .sum();
    assert!(registry.heap_bytes() >= 56 * registry.len() + text);
}

#[test]
fn codes_are_url_safe() {
    for ok in ["110105003050-03", "A.b_C-9", &"9".repeat(MAX_CODE_LEN)] {
        assert_eq!(check_code(ok), Ok(()), "{ok}");
    }
    assert_eq!(check_code(""), Err(BuildingProblem::EmptyCode));
    for bad in [
        "a b",
        "a/b",
        "a?b=1",
        "楼1",
        "a:b",
        &"9".repeat(MAX_CODE_LEN + 1),
    ] {
        assert!(
            matches!(check_code(bad), Err(BuildingProblem::InvalidCode { .. })),
            "{bad}"
        );
    }
}

#[test]
fn metres_outside_a_square() {
    // A 0.01° square at 40° N: 0.01° of latitude is 1,113 m, of longitude 853 m.
    let square = Polygon::new(
        vec![
            [116.0, 40.0],
            [116.01, 40.0],
            [116.01, 40.01],
            [116.0, 40.01],
        ],
        vec![],
        "square",
    )
    .unwrap();
    let region = Region::from(square);
    let near = |got: f64, want: f64| (got - want).abs() < want * 0.01 + 0.5;
    let north = metres_outside(&region, 116.005, 40.02);
    assert!(near(north, 1_113.2), "{north}");
    let east = metres_outside(&region, 116.02, 40.005);
    assert!(near(east, 852.8), "{east}");
    let corner = metres_outside(&region, 116.02, 40.02);
    assert!(
        near(corner, (1_113.2f64.powi(2) + 852.8f64.powi(2)).sqrt()),
        "{corner}"
    );
    assert!(metres_outside(&region, 116.005, 40.0) < 1e-6);
}
