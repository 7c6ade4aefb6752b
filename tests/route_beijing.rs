//! Table-driven routing cases over the embedded Beijing router: real names
//! to their streets, ambiguous names to what is certain, coordinates in
//! every coordinate system to their district, and the brief's fallbacks.

mod common;
use common::beijing as router;

use hotline_router::{Crs, LocatedBy, Priority, Router, RouterConfig, Ticket, TicketError};

struct Expect {
    district: Option<&'static str>,
    street: Option<&'static str>,
    located_by: LocatedBy,
    agency: &'static str,
}

macro_rules! t {
    ($name:ident, $ticket:expr, $district:expr, $street:expr, $by:ident, $agency:expr) => {
        #[test]
        fn $name() {
            let ticket: Ticket = $ticket;
            let expect = Expect {
                district: $district,
                street: $street,
                located_by: LocatedBy::$by,
                agency: $agency,
            };
            let d = router().route(&ticket).unwrap();
            let why = d.explain().join("\n  ");
            assert_eq!(d.district_code(), expect.district, "district\n  {why}");
            assert_eq!(d.street_code(), expect.street, "street\n  {why}");
            assert_eq!(d.located_by(), expect.located_by, "located_by\n  {why}");
            assert_eq!(d.agency_code(), expect.agency, "agency\n  {why}");
        }
    };
}

fn noise(address: &str) -> Ticket {
    Ticket::new("N", "楼上装修噪音太大，晚上十点还在砸墙").with_address(address)
}

fn sanitation_at(lon: f64, lat: f64, crs: Crs) -> Ticket {
    Ticket::new("S", "小区门口垃圾堆了好几天没人清理").with_coordinates(lon, lat, crs)
}

// Real community and street names → their streets.
t!(
    community_with_full_address,
    noise("朝阳区呼家楼街道东大桥社区3号楼"),
    Some("110105"),
    Some("110105003"),
    Address,
    "street:110105003"
);
t!(
    community_alone,
    noise("东大桥社区"),
    Some("110105"),
    Some("110105003"),
    Address,
    "street:110105003"
);
t!(
    community_official_name,
    noise("多福巷社区居委会"),
    Some("110101"),
    Some("110101001"),
    Address,
    "street:110101001"
);
t!(
    street_bare_name,
    noise("海淀区学院路"),
    Some("110108"),
    Some("110108010"),
    Address,
    "street:110108010"
);
t!(
    street_name_beats_village_of_same_name,
    noise("望京"),
    Some("110105"),
    Some("110105026"),
    Address,
    "street:110105026"
);
t!(
    suffix_tells_community_from_village,
    noise("大郊亭村"),
    Some("110105"),
    Some("110105021"),
    Address,
    "street:110105021"
);

// Ambiguous names → only what is certain.
t!(
    name_in_two_streets_of_one_district,
    noise("大郊亭"),
    Some("110105"),
    None,
    Address,
    "district:110105:gov"
);
t!(
    name_in_eight_places_with_district,
    noise("昌平区太平庄"),
    Some("110114"),
    None,
    Address,
    "district:110114:gov"
);
t!(
    name_in_eight_places_alone,
    noise("太平庄"),
    None,
    None,
    None,
    "center:triage"
);
t!(
    street_name_in_two_districts,
    noise("八里庄街道"),
    None,
    None,
    None,
    "center:triage"
);
t!(
    street_name_with_its_district,
    noise("海淀区八里庄街道"),
    Some("110108"),
    Some("110108005"),
    Address,
    "street:110108005"
);

// Coordinates → district (no street polygons exist).
t!(
    tiananmen_wgs84,
    sanitation_at(116.3975, 39.9087, Crs::Wgs84),
    Some("110101"),
    None,
    Coordinates,
    "district:110101:gov"
);
t!(
    zhongguancun_wgs84,
    sanitation_at(116.3162, 39.9834, Crs::Wgs84),
    Some("110108"),
    None,
    Coordinates,
    "district:110108:gov"
);
t!(
    yanqing_wgs84,
    sanitation_at(115.9748, 40.4567, Crs::Wgs84),
    Some("110119"),
    None,
    Coordinates,
    "district:110119:gov"
);
t!(
    outside_beijing,
    sanitation_at(117.2, 39.13, Crs::Wgs84),
    None,
    None,
    None,
    "center:triage"
);

// Points a few hundred metres inside a district whose raw GCJ-02 / BD-09
// values fall in the neighbour: only a correct conversion finds the district.
// WGS-84 (116.42454, 39.90652) is in 东城区; unconverted it reads as 朝阳区.
t!(
    gcj02_near_boundary,
    sanitation_at(116.43077135593214, 39.90791584255573, Crs::Gcj02),
    Some("110101"),
    None,
    Coordinates,
    "district:110101:gov"
);
t!(
    bd09_near_boundary,
    sanitation_at(116.43726857102175, 39.91389912763907, Crs::Bd09),
    Some("110101"),
    None,
    Coordinates,
    "district:110101:gov"
);
// WGS-84 (116.23754, 39.80709) is in 房山区; unconverted it reads as 丰台区.
t!(
    gcj02_near_boundary_west,
    sanitation_at(116.2435681664173, 39.80829939907914, Crs::Gcj02),
    Some("110111"),
    None,
    Coordinates,
    "district:110111:gov"
);
t!(
    bd09_near_boundary_west,
    sanitation_at(116.25008878286458, 39.81417771038495, Crs::Bd09),
    Some("110111"),
    None,
    Coordinates,
    "district:110111:gov"
);

// Clues together.
t!(
    coordinates_break_a_tie,
    noise("太平庄").with_coordinates(116.2, 40.2, Crs::Wgs84),
    Some("110114"),
    None,
    Coordinates,
    "district:110114:gov"
);
t!(
    address_outvotes_coordinates_next_door,
    noise("朝阳区呼家楼街道").with_coordinates(116.3975, 39.9087, Crs::Wgs84),
    Some("110105"),
    Some("110105003"),
    Address,
    "street:110105003"
);
t!(
    place_in_text_when_no_address,
    Ticket::new("X", "朝阳区呼家楼街道有人在小区里私搭乱建"),
    Some("110105"),
    Some("110105003"),
    Address,
    "street:110105003"
);

// Rules: zones without a street office, municipal matters need no place.
t!(
    zone_without_street_office,
    noise("北京经济技术开发区"),
    Some("110115"),
    Some("110115403"),
    Address,
    "district:110115:gov"
);
t!(
    municipal_needs_no_location,
    Ticket::new("V", "I need to extend my visa, where should I go?"),
    None,
    None,
    None,
    "city:exit_entry"
);

#[test]
fn tie_and_conflict_are_explained() {
    let d = router().route(&noise("太平庄")).unwrap();
    assert!(
        d.explain()
            .iter()
            .any(|r| r.contains("tie between 7 districts")),
        "{:?}",
        d.explain()
    );
    let t = noise("朝阳区呼家楼街道").with_coordinates(116.3975, 39.9087, Crs::Wgs84);
    let d = router().route(&t).unwrap();
    assert!(
        d.explain()
            .iter()
            .any(|r| r.starts_with("conflict: coordinates fall in 东城区")),
        "{:?}",
        d.explain()
    );
}

#[test]
fn urgent_words_raise_priority_and_shorten_the_deadline() {
    let at: jiff::Timestamp = "2024-11-20T08:00:00+08:00".parse().unwrap();
    let t = Ticket::new("G", "楼道里燃气泄漏，味道很大").with_received_at(at);
    let d = router().route(&t).unwrap();
    assert_eq!(d.category().code(), "utilities.gas");
    assert_eq!(d.priority(), Priority::Urgent);
    assert_eq!(d.agency_code(), "city:gas");
    assert_eq!(d.deadline_local(), "2024-11-20T09:00:00+08:00");
    let t = Ticket::new("G2", "燃气费怎么交").with_received_at(at);
    let d = router().route(&t).unwrap();
    assert_eq!(d.priority(), Priority::Normal);
    // Two working days after Wednesday: the end of Friday.
    assert_eq!(d.deadline_local(), "2024-11-23T00:00:00+08:00");
}

#[test]
fn untimed_tickets_count_from_the_wall_clock_at_routing() {
    let t = Ticket::new("G", "楼道里燃气泄漏，味道很大");
    assert_eq!(t.received_at, None);
    let before = jiff::Timestamp::now();
    let d = router().route(&t).unwrap();
    let after = jiff::Timestamp::now();
    assert_eq!(d.priority(), Priority::Urgent);
    // One hour (the gas SLA) from some instant during the call.
    let hour = jiff::SignedDuration::from_hours(1);
    assert!(
        before + hour <= d.deadline() && d.deadline() <= after + hour,
        "{before} .. {after}: {}",
        d.deadline()
    );
}

#[test]
fn normal_deadlines_count_working_days_on_the_china_calendar() {
    // Received the Monday before the National Day week: five working days
    // are 8, 9, 10, 11 October and Saturday 12 October, a make-up working day.
    let at: jiff::Timestamp = "2024-09-30T10:00:00+08:00".parse().unwrap();
    let d = router().route(&noise("N").with_received_at(at)).unwrap();
    assert_eq!(d.priority(), Priority::Normal);
    assert_eq!(d.deadline_local(), "2024-10-13T00:00:00+08:00");
    assert!(
        d.explain().iter().any(|r| r.contains("5 working days")),
        "{:?}",
        d.explain()
    );
}

/// The deadline of a 5-working-day SLA for a ticket received at `at`,
/// counted by hand in `tz`: the end of the fifth Monday-to-Friday after the
/// local day of `at` (no public holiday falls in the weeks used below).
fn five_weekdays_later(at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> jiff::Timestamp {
    use jiff::civil::Weekday;
    let mut day = at.to_zoned(tz.clone()).date();
    let mut counted = 0;
    while counted < 5 {
        day = day.tomorrow().unwrap();
        if !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) {
            counted += 1;
        }
    }
    day.tomorrow()
        .unwrap()
        .to_zoned(tz.clone())
        .unwrap()
        .timestamp()
}

#[test]
fn regression_working_days_are_counted_in_the_routers_zone() {
    // Thursday 21 November 2024, 20:00 UTC: still Thursday in UTC, already
    // Friday 04:00 in Beijing. The calendar once counted days at +08:00
    // whatever the router's offset, so a UTC router put this deadline at
    // 16:00 UTC on a Friday instead of at midnight.
    let at: jiff::Timestamp = "2024-11-21T20:00:00Z".parse().unwrap();
    let ticket = noise("朝阳区呼家楼街道").with_received_at(at);

    let mut config = RouterConfig::beijing();
    config.routing.utc_offset_hours = 0;
    let utc = Router::from_config(config).unwrap();
    assert_eq!(utc.calendar().utc_offset(), jiff::tz::Offset::UTC);
    let d = utc.route(&ticket).unwrap();
    assert_eq!(d.priority(), Priority::Normal);
    assert!(
        d.explain().iter().any(|r| r.contains("5 working days")),
        "{:?}",
        d.explain()
    );
    // Thursday 21 → Fri 22, Mon 25, Tue 26, Wed 27, Thu 28: the end of Thursday 28.
    let expected = five_weekdays_later(at, &jiff::tz::TimeZone::UTC);
    assert_eq!(expected, "2024-11-29T00:00:00Z".parse().unwrap());
    assert_eq!(d.deadline(), expected);
    assert_eq!(d.deadline_local(), "2024-11-29T00:00:00+00:00");

    // The same ticket in Beijing: Friday 22 → Mon 25 … Fri 29, as before.
    let d = router().route(&ticket).unwrap();
    let expected = five_weekdays_later(at, &jiff::tz::TimeZone::fixed(jiff::tz::offset(8)));
    assert_eq!(d.deadline(), expected);
    assert_eq!(d.deadline_local(), "2024-11-30T00:00:00+08:00");
}

#[test]
fn co_handlers_are_reported() {
    let t = Ticket::new("E", "电梯坏了一个星期没人修").with_address("朝阳区呼家楼街道");
    let d = router().route(&t).unwrap();
    let rules = router().rules();
    let co: Vec<&str> = d
        .co_agencies()
        .iter()
        .map(|a| rules.agency(*a).code())
        .collect();
    assert_eq!(co, ["district:110105:market"]);
}

#[test]
fn bad_tickets_are_typed_errors() {
    let r = router();
    assert_eq!(
        r.route(&Ticket::new("", "暖气不热")).unwrap_err(),
        TicketError::EmptyId
    );
    assert_eq!(
        r.route(&Ticket::new("a", "  ")).unwrap_err(),
        TicketError::Empty
    );
    for (lon, lat) in [
        (f64::NAN, 39.9),
        (116.0, f64::INFINITY),
        (181.0, 39.9),
        (116.0, -91.0),
    ] {
        let t = Ticket::new("a", "暖气不热").with_coordinates(lon, lat, Crs::Gcj02);
        assert!(matches!(
            r.route(&t),
            Err(TicketError::InvalidCoordinates { .. })
        ));
    }
    let huge = Ticket::new("a", "噪".repeat(100_000));
    assert!(matches!(r.route(&huge), Err(TicketError::TooLong { .. })));
}

#[test]
fn garbage_text_routes_to_triage_without_panicking() {
    let r = router();
    for text in [
        "\u{0}\u{1}\u{fffd}",
        "🙂🙂🙂",
        "a",
        "区",
        "街道社区村",
        "%%%%",
        "\u{202e}abc",
    ] {
        let d = r.route(&Ticket::new("g", text)).unwrap();
        assert_eq!(d.category().code(), "other", "{text:?}");
    }
}
