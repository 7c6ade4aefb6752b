//! 一楼一码: the building registry, tickets located by their building code,
//! the route line that carries it, and `hotline qr` round trips.

mod common;
use common::beijing as router;

use common::{hotline, stderr};
use std::path::PathBuf;

use hotline_router::{
    jsonl, BuildErrorKind, BuildingProblem, BuildingsConfig, Channel, Crs, LocatedBy, LocationNote,
    Priority, Router, RouterConfig, Ticket,
};
use jiff::Timestamp;
use serde_json::Value;

const HEADER: &str = "code,name,address,community_code,lon,lat\n";

fn at() -> Timestamp {
    "2024-11-20T08:30:00+08:00".parse().unwrap()
}

/// A QR scan of the sample building 东大桥路8号院3号楼 (朝阳区呼家楼街道东大桥社区).
fn scan(id: &str, text: &str) -> Ticket {
    Ticket::new(id, text)
        .with_channel(Channel::Qr)
        .with_building("110105003050-03")
        .with_received_at(at())
}

#[test]
fn a_scan_is_located_by_its_building() {
    let t = scan("Q1", "电梯坏了两天了，老人上不了楼");
    let d = router().route(&t).unwrap();
    assert_eq!(d.located_by(), LocatedBy::Building);
    assert_eq!(d.building_code(), Some("110105003050-03"));
    assert_eq!(d.building().unwrap().name(), "东大桥路8号院3号楼");
    assert_eq!(
        (d.district_code(), d.street_code(), d.community_code()),
        (Some("110105"), Some("110105003"), Some("110105003050"))
    );
    assert_eq!(d.category().code(), "housing.elevator");
    // Agency, co-handlers and deadline as for the same ticket located by
    // its address: the rules are keyed on category × jurisdiction.
    let by_address = Ticket::new("A1", t.text.clone())
        .with_address("朝阳区呼家楼街道东大桥社区")
        .with_received_at(at());
    let a = router().route(&by_address).unwrap();
    assert_eq!(a.located_by(), LocatedBy::Address);
    assert_eq!(d.agency_code(), "street:110105003");
    assert_eq!(d.agency_code(), a.agency_code());
    assert_eq!(d.co_agencies(), a.co_agencies());
    assert_eq!((d.priority(), d.deadline()), (a.priority(), a.deadline()));
    assert_eq!(d.deadline_local(), "2024-11-28T00:00:00+08:00");
    let explain = d.explain();
    assert!(
        explain.contains(
            &"building 110105003050-03 东大桥路8号院3号楼 (朝阳区东大桥路8号院3号楼): \
              东大桥社区居委会 110105003050"
                .to_string()
        ),
        "{explain:#?}"
    );
    assert!(explain.contains(&"located by building: 呼家楼街道 110105003".to_string()));

    // Urgent and district-level categories follow their own rules too.
    let d = router().route(&scan("Q2", "电梯困人了，快来人")).unwrap();
    assert_eq!(
        (d.priority(), d.agency_code()),
        (Priority::Urgent, "street:110105003")
    );
    let d = router().route(&scan("Q3", "家里暖气片一直不热")).unwrap();
    assert_eq!(d.agency_code(), "district:110105:city_mgmt");
}

#[test]
fn a_street_rule_applies_to_a_building_in_that_street() {
    // 北京经济技术开发区 has no street office: a rule sends its housing
    // matters to the district's 12345 office.
    let mut config = RouterConfig::beijing();
    config.jurisdictions.buildings = BuildingsConfig::from_csv(
        &format!("{HEADER}YZ-1,亦庄某小区1号楼,,110115403498,116.5060,39.7950\n"),
        "yz.csv",
    )
    .unwrap();
    let r = Router::builder().without_model().build(config).unwrap();
    let d = r
        .route(&Ticket::new("Q", "电梯坏了").with_building("YZ-1"))
        .unwrap();
    assert_eq!(d.located_by(), LocatedBy::Building);
    assert_eq!(d.agency_code(), "district:110115:gov");
}

#[test]
fn the_building_wins_over_coordinates_in_another_district() {
    // The phone is in 海淀区 (中关村), the sticker on a building in 朝阳区.
    let t = scan("Q1", "楼道灯不亮").with_coordinates(116.3160, 39.9830, Crs::Wgs84);
    let d = router().route(&t).unwrap();
    assert_eq!(d.located_by(), LocatedBy::Building);
    assert_eq!(d.district_code(), Some("110105"));
    let haidian = router().jurisdictions().district_id("110108").unwrap();
    assert!(d
        .location()
        .notes()
        .contains(&LocationNote::PointConflict { district: haidian }));
    assert!(d.explain().contains(
        &"conflict: coordinates fall in 海淀区 110108, the building code outvotes them".to_string()
    ));
    // Coordinates that agree are noted, not conflicting.
    let t = scan("Q2", "楼道灯不亮").with_coordinates(116.4453, 39.9211, Crs::Wgs84);
    let d = router().route(&t).unwrap();
    let chaoyang = router().jurisdictions().district_id("110105").unwrap();
    assert_eq!(
        d.location().notes(),
        &[
            LocationNote::Building {
                building: d.location().building().unwrap()
            },
            LocationNote::PointIn { district: chaoyang }
        ]
    );
}

#[test]
fn an_unknown_code_is_located_from_the_other_clues() {
    let stale = |t: Ticket| t.with_channel(Channel::Qr).with_building("110105003050-99");
    // The address.
    let d = router()
        .route(&stale(
            Ticket::new("U1", "楼道灯不亮").with_address("海淀区学院路街道"),
        ))
        .unwrap();
    assert_eq!(
        (d.located_by(), d.street_code()),
        (LocatedBy::Address, Some("110108010"))
    );
    assert_eq!(d.building(), None);
    assert_eq!(d.location().unknown_building(), Some("110105003050-99"));
    assert_eq!(d.location().notes()[0], LocationNote::UnknownBuilding);
    let n = router().buildings().len();
    let note = format!(
        "building code '110105003050-99' is not in the registry ({n} buildings): located from the other clues"
    );
    assert!(d.explain().contains(&note), "{:#?}", d.explain());
    // The coordinates.
    let d = router()
        .route(&stale(Ticket::new("U2", "楼道灯不亮").with_coordinates(
            116.3975,
            39.9087,
            Crs::Wgs84,
        )))
        .unwrap();
    assert_eq!(
        (d.located_by(), d.district_code()),
        (LocatedBy::Coordinates, Some("110101"))
    );
    // Nothing else: unknown, to triage, and still explained.
    let d = router()
        .route(&stale(Ticket::new("U3", "楼道灯不亮")))
        .unwrap();
    assert_eq!(
        (d.located_by(), d.agency_code()),
        (LocatedBy::None, "center:triage")
    );
    assert!(d.explain().contains(&note));
    // The record carries no building for a code that located nothing.
    assert_eq!(d.to_record("U3").building, None);
}

#[test]
fn a_blank_code_is_no_code() {
    let plain = Ticket::new("B", "楼道灯不亮").with_address("海淀区学院路街道");
    let blank = plain.clone().with_building("  ");
    let (a, b) = (
        router().route(&plain).unwrap(),
        router().route(&blank).unwrap(),
    );
    assert_eq!(a.location(), b.location());
    assert_eq!(a.explain(), b.explain());
}

#[test]
fn a_ticket_with_a_building_round_trips_through_json() {
    let t = scan("Q1", "楼道灯不亮").with_coordinates(116.4453, 39.9211, Crs::Gcj02);
    let json = serde_json::to_string(&t).unwrap();
    assert!(json.contains(r#""building":"110105003050-03""#), "{json}");
    assert_eq!(serde_json::from_str::<Ticket>(&json).unwrap(), t);
    let none = Ticket::new("T", "x");
    assert!(!serde_json::to_string(&none).unwrap().contains("building"));
    assert!(serde_json::from_str::<Ticket>(r#"{"id":"T","text":"x","building":7}"#).is_err());
}

#[test]
fn the_route_line_carries_the_building_only_when_located_by_it() {
    let line = r#"{"id":"Q1","text":"电梯坏了","channel":"qr","building":"110105003050-03","received_at":"2024-11-20T08:30:00+08:00"}"#;
    let record = jsonl::route_line(router(), line.as_bytes(), 1).unwrap();
    let json = serde_json::to_string(&record).unwrap();
    assert!(
        json.contains(
            r#""community":"110105003050","building":"110105003050-03","located_by":"building""#
        ),
        "{json}"
    );
    for line in [
        r#"{"id":"P1","text":"电梯坏了","address":"朝阳区呼家楼街道东大桥社区"}"#,
        r#"{"id":"P2","text":"电梯坏了","building":"NOPE"}"#,
    ] {
        let record = jsonl::route_line(router(), line.as_bytes(), 1).unwrap();
        let json = serde_json::to_string(&record).unwrap();
        assert!(!json.contains("\"building\":"), "{json}");
        // The contract's keys, in the contract's order, and no other.
        let keys = common::ROUTE_KEYS;
        let value: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value.as_object().unwrap().len(), keys.len());
        let positions: Vec<usize> = keys
            .iter()
            .map(|k| json.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
    }
}

/// Builds the Beijing router with `csv` as its registry.
fn build(csv: &str) -> Result<Router, hotline_router::BuildError> {
    let mut config = RouterConfig::beijing();
    config.jurisdictions.buildings = BuildingsConfig::from_csv(csv, "b.csv")?;
    Router::builder().without_model().build(config)
}

#[test]
fn registry_errors_name_the_file_line_and_problem() {
    let good = "A-1,甲,,110105003050,116.4452,39.9212\n";
    let long = "楼".repeat(342); // 1,026 bytes
    let cases: [(String, &str); 9] = [
        (format!("{HEADER}{good}{good}"), "b.csv line 3: building 'A-1': duplicate code, first defined at b.csv line 2"),
        (format!("{HEADER}{good},乙,,110105003050,116.4452,39.9212\n"), "b.csv line 3: building '': empty building code"),
        (format!("{HEADER}A 1,甲,,110105003050,116.4452,39.9212\n"), "b.csv line 2: building 'A 1': invalid code"),
        (format!("{HEADER}A-1,甲,,110105999999,116.4452,39.9212\n"), "b.csv line 2: building 'A-1': unknown community code '110105999999'"),
        (format!("{HEADER}A-1,甲,,110105003050,NaN,39.9212\n"), "b.csv line 2: building 'A-1': invalid coordinates (NaN, 39.9212)"),
        (format!("{HEADER}A-1,甲,,110105003050,116.4452,95\n"), "b.csv line 2: building 'A-1': invalid coordinates (116.4452, 95)"),
        // 中关村, 海淀区: a typo'd point 12 km from its community.
        (format!("{HEADER}A-1,甲,,110105003050,116.3160,39.9830\n"), "b.csv line 2: building 'A-1': the point is"),
        (format!("{HEADER}A-1,{long},,110105003050,116.4452,39.9212\n"), "b.csv line 2: building 'A-1': the name is 1026 bytes, more than the limit of 1024"),
        (format!("# comment\n{HEADER}\n{good}A-2,乙,,110105003050,116.4452,39.9212,extra\nA-1,丙,,110105003050,116.4452,39.9212\n"), "b.csv line 6: building 'A-1': duplicate code, first defined at b.csv line 4"),
    ];
    for (csv, want) in &cases {
        let err = build(csv).unwrap_err();
        assert!(
            err.to_string().starts_with(want),
            "{err}\nshould start with\n{want}"
        );
        assert!(
            matches!(err.kind(), BuildErrorKind::InvalidBuilding { .. }),
            "{err:?}"
        );
    }
    let err = build(&cases[6].0).unwrap_err();
    let BuildErrorKind::InvalidBuilding {
        problem:
            BuildingProblem::OutsideDistrict {
                district,
                metres,
                tolerance,
                falls_in,
            },
        ..
    } = err.kind()
    else {
        panic!("{err:?}")
    };
    assert_eq!(
        (district.as_str(), *tolerance, falls_in.as_deref()),
        ("朝阳区 110105", 300, Some("海淀区 110108"))
    );
    assert!((3_000..20_000).contains(metres), "{metres}");
    assert!(build(&format!("{HEADER}{good}")).is_ok());
}

#[test]
fn the_tolerance_admits_a_point_just_across_the_simplified_border() {
    // 方庄: on the embedded polygons 116.4330, 39.8710 is just inside 东城区,
    // though 芳星园 is in 丰台区.
    let csv = format!("{HEADER}F-1,芳星园二区9号楼,,110106013012,116.4330,39.8710\n");
    let r = build(&csv).unwrap();
    let b = r.buildings().get("F-1").unwrap();
    assert_ne!(
        r.locator().district_at(b.lon(), b.lat()),
        Some(b.district())
    );
    let d = r
        .route(&Ticket::new("F", "电梯坏了").with_building("F-1"))
        .unwrap();
    assert_eq!(d.district_code(), Some("110106"));
    let mut config = RouterConfig::beijing();
    config.jurisdictions.buildings = BuildingsConfig::from_csv(&csv, "b.csv").unwrap();
    config.jurisdictions.buildings.tolerance_m = 0;
    let err = Router::builder().without_model().build(config).unwrap_err();
    assert!(
        err.to_string().contains("tolerance 0 m), in 东城区 110101"),
        "{err}"
    );
}

/// A fresh temp file, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &str) -> TempFile {
        let path =
            std::env::temp_dir().join(format!("hotline-buildings-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn hotline_route_takes_a_registry() {
    let registry = TempFile::new(
        "route.csv",
        &format!("{HEADER}MY-1,我的楼,,110108010002,116.3470,40.0050\n"),
    );
    let input = concat!(
        r#"{"id":"a","text":"电梯坏了","channel":"qr","building":"MY-1","received_at":"2024-11-20T08:00:00+08:00"}"#,
        "\n",
        r#"{"id":"b","text":"电梯坏了","channel":"qr","building":"110105003050-03","received_at":"2024-11-20T08:00:00+08:00"}"#,
        "\n",
    );
    let o = hotline(&["route", "--buildings", registry.path()], input.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut config = RouterConfig::beijing();
    config.jurisdictions.buildings = BuildingsConfig::from_csv(
        &std::fs::read_to_string(&registry.0).unwrap(),
        registry.path(),
    )
    .unwrap();
    let mut expected = Vec::new();
    jsonl::route_lines(
        &Router::from_config(config).unwrap(),
        input.as_bytes(),
        &mut expected,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&expected)
    );
    let lines: Vec<Value> = o
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(
        (&lines[0]["building"], &lines[0]["street"]),
        (&Value::from("MY-1"), &Value::from("110108010"))
    );
    // The sample registry is replaced, not extended.
    assert_eq!(
        (&lines[1]["building"], &lines[1]["located_by"]),
        (&Value::Null, &Value::from("none"))
    );

    // A broken registry is a configuration error naming the file and line.
    let bad = TempFile::new(
        "bad.csv",
        &format!("{HEADER}MY-1,我的楼,,110108999999,116.3470,40.0050\n"),
    );
    let o = hotline(&["route", "--buildings", bad.path()], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(&format!("hotline: {} line 2: building 'MY-1'", bad.path())),
        "{}",
        stderr(&o)
    );
}

/// Renders an SVG (resvg) and reads the QR code in it (rqrr).
fn decode_svg(svg: &str) -> String {
    let tree =
        resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
    let pixels = pixmap.data();
    // Every pixel painted: the background is an opaque white rectangle.
    assert!(pixels.chunks(4).all(|p| p[3] == 255));
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[(y * w + x) * 4]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, content) = grids[0].decode().expect("the QR code decodes");
    content
}

#[test]
fn hotline_qr_round_trips_through_a_renderer_and_a_decoder() {
    let o = hotline(&["qr", "110105003050-03"], b"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = String::from_utf8(o.stdout).unwrap();
    assert!(
        svg.contains("<title>东大桥路8号院3号楼 110105003050-03</title>"),
        "{svg}"
    );
    assert_eq!(
        decode_svg(&svg),
        "https://12345.example.org/qr/110105003050-03"
    );

    let registry = TempFile::new(
        "qr.csv",
        &format!("{HEADER}X&Y-1,<甲>&乙,,110108010002,116.3470,40.0050\n"),
    );
    let o = hotline(&["qr", "X&Y-1", "--buildings", registry.path()], b"");
    assert_eq!(o.status.code(), Some(2), "& is not a code character");
    let registry = TempFile::new(
        "qr2.csv",
        &format!("{HEADER}XY-1,<甲>&乙,,110108010002,116.3470,40.0050\n"),
    );
    let o = hotline(
        &[
            "qr",
            "XY-1",
            "--buildings",
            registry.path(),
            "--url",
            "https://hotline.example.net/s?b={code}&src=qr",
        ],
        b"",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let svg = String::from_utf8(o.stdout).unwrap();
    assert!(
        svg.contains("<title>&lt;甲&gt;&amp;乙 XY-1</title>"),
        "{svg}"
    );
    assert_eq!(
        decode_svg(&svg),
        "https://hotline.example.net/s?b=XY-1&src=qr"
    );
}

#[test]
fn hotline_qr_refuses_what_it_cannot_print() {
    let n = router().buildings().len();
    for (args, want) in [
        (
            vec!["qr", "NO-SUCH"],
            format!("hotline: unknown building code \"NO-SUCH\" ({n} buildings in the registry)\n"),
        ),
        (
            vec!["qr", "110105003050-03", "--url", "https://x.example/"],
            "hotline: --url \"https://x.example/\" has no {code} to put the building code in\n"
                .to_string(),
        ),
        (
            vec!["qr", "A", "--buildings", "/nonexistent/b.csv"],
            "hotline: cannot read /nonexistent/b.csv".to_string(),
        ),
        (
            vec!["qr"],
            "hotline: the following required arguments were not provided".to_string(),
        ),
    ] {
        let o = hotline(&args, b"");
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty());
        assert!(stderr(&o).starts_with(&want), "{args:?}: {}", stderr(&o));
    }
}
