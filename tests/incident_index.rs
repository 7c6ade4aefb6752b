//! The incident index's behaviour: recurrence after a resolution, splits,
//! merges, explanations, expiry and its memory bound, out-of-order times,
//! configuration errors, and input that must not panic.

use hotline_router::incident::{ConfigError, IncidentIndex, Link, Reach, Sighting, Thresholds};
use hotline_router::workload::WorkloadBuilder;
use hotline_router::{Crs, Router, RouterConfig, Ticket};
use jiff::{SignedDuration, Timestamp};

fn at(s: &str) -> Timestamp {
    format!("2024-11-20T{s}:00+08:00").parse().unwrap()
}

/// Routes a ticket and observes it at `time` (HH:MM on 2024-11-20).
fn observe(index: &mut IncidentIndex, router: &Router, t: &Ticket, time: &str) -> Link {
    let d = router.route(t).unwrap();
    index.observe(&Sighting::new(t, &d, at(time)))
}

fn ticket(id: &str, text: &str, address: &str) -> Ticket {
    Ticket::new(id, text).with_address(address)
}

#[test]
fn a_resolved_incident_is_never_joined_again() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "朝阳区双井街道垂杨柳西里";
    observe(
        &mut index,
        &router,
        &ticket("A", "整个小区停电了", a),
        "20:10",
    );
    let b = observe(
        &mut index,
        &router,
        &ticket("B", "我们楼也停电了", a),
        "20:15",
    );
    assert_eq!((b.incident.as_str(), b.size), ("A", 2));
    assert!(index.close("A"));
    assert!(!index.close("A"), "closed once");
    assert_eq!(index.incident_of("B"), None);
    let c = observe(&mut index, &router, &ticket("C", "又停电了", a), "21:00");
    assert_eq!((c.incident.as_str(), c.size, c.joined), ("C", 1, false));
}

#[test]
fn split_takes_a_ticket_out_and_renames_after_the_first() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "朝阳区呼家楼街道金台里社区9号楼";
    for (id, time) in [("A", "10:00"), ("B", "10:05"), ("C", "10:07")] {
        observe(
            &mut index,
            &router,
            &ticket(id, "9号楼电梯坏了，停在5层不动", a),
            time,
        );
    }
    assert_eq!(index.incident_of("C"), Some("A"));
    // A member leaves: an incident of its own.
    let b = index.split("B").unwrap();
    assert_eq!((b.incident.as_str(), b.size, b.joined), ("B", 1, false));
    assert_eq!(index.incident_of("B"), Some("B"));
    // The first ticket leaves: the rest is named after the next one.
    let a_link = index.split("A").unwrap();
    assert_eq!(a_link.incident, "A");
    assert_eq!(index.incident_of("C"), Some("C"));
    assert_eq!(index.incident_of("A"), Some("A"));
    // A ticket alone stays where it is; an unknown one has no link.
    assert_eq!(index.split("C").unwrap().incident, "C");
    assert!(index.split("nobody").is_none());
    // The rest still takes newcomers, under its new name.
    let d = observe(
        &mut index,
        &router,
        &ticket("D", "9号楼电梯还没修好", a),
        "11:00",
    );
    assert_eq!((d.incident.as_str(), d.size), ("C", 2));
    assert_eq!(index.open_incidents(), 3);
}

#[test]
fn explanations_name_the_four_tests() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let t1 = ticket(
        "A",
        "楼上装修噪音太大，电钻一直响",
        "海淀区学院路街道东王庄社区3号楼",
    );
    let t2 = ticket(
        "B",
        "3号楼有人装修，电钻声吵得没法休息",
        "学院路东王庄小区三号楼",
    );
    observe(&mut index, &router, &t1, "09:00");
    let link = observe(&mut index, &router, &t2, "11:05");
    assert!(link.joined);
    let lines = link.explain();
    assert_eq!(lines[0], "same category env.noise");
    assert_eq!(lines[1], "same building 东王庄 3号楼");
    assert_eq!(
        lines[2],
        "2 h 5 min after the first report (window 4 d from the latest)"
    );
    assert!(
        lines[3].starts_with("text similarity 0.") && lines[3].ends_with("≥ 0.10"),
        "{}",
        lines[3]
    );

    // Points: the distance and radius.
    let p1 = Ticket::new("P1", "路面冒水，像是自来水管爆了").with_coordinates(
        116.4661,
        39.9228,
        Crs::Gcj02,
    );
    let p2 = Ticket::new("P2", "马路上的水管破了，水往外冒").with_coordinates(
        116.4668,
        39.9226,
        Crs::Gcj02,
    );
    observe(&mut index, &router, &p1, "06:50");
    let link = observe(&mut index, &router, &p2, "06:55");
    assert_eq!(link.incident, "P1");
    assert!(
        link.explain()[1].ends_with("m apart (radius 400 m)"),
        "{:?}",
        link.explain()
    );

    // Alone.
    let lone = observe(
        &mut index,
        &router,
        &Ticket::new("L", "公积金怎么提取"),
        "12:00",
    );
    assert_eq!(
        lone.explain(),
        ["no open incident matched: an incident of its own"]
    );
}

#[test]
fn related_categories_join_only_when_the_words_agree() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "通州区玉桥街道玉桥北里6号楼";
    observe(
        &mut index,
        &router,
        &ticket("A", "整栋楼停电了，正做着饭呢", a),
        "18:30",
    );
    // A lift with someone in it, because of the power cut: related, and
    // the words say 停电.
    let b = observe(
        &mut index,
        &router,
        &ticket("B", "停电了 电梯也停了 我妈在电梯里", a),
        "18:45",
    );
    assert_eq!(
        router
            .route(&ticket("B", "停电了 电梯也停了 我妈在电梯里", a))
            .unwrap()
            .category()
            .code(),
        "housing.elevator"
    );
    assert_eq!(b.incident, "A");
    assert!(
        b.explain()[0].starts_with("related categories: housing.elevator joins utilities.power")
    );
    // A lift broken for its own reasons: not the power cut.
    let c = observe(
        &mut index,
        &router,
        &ticket("C", "电梯按钮失灵，门关不上", a),
        "18:50",
    );
    assert_eq!(c.incident, "C");
}

#[test]
fn other_buildings_and_same_names_elsewhere_are_other_incidents() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    // A lift is one building's problem.
    observe(
        &mut index,
        &router,
        &ticket("A", "电梯坏了，老人下不了楼", "朝阳区金台里9号楼"),
        "10:00",
    );
    let b = observe(
        &mut index,
        &router,
        &ticket("B", "电梯坏了，老人下不了楼", "朝阳区金台里15号楼"),
        "10:10",
    );
    assert_eq!(b.incident, "B");
    // 小黄庄 is a community in 东城区 and in 朝阳区.
    observe(
        &mut index,
        &router,
        &ticket("C", "小黄庄社区垃圾没人清", "朝阳区和平街街道小黄庄社区"),
        "10:00",
    );
    let d = observe(
        &mut index,
        &router,
        &ticket("D", "小黄庄社区垃圾没人清", "东城区和平里街道小黄庄社区"),
        "10:20",
    );
    assert_eq!(d.incident, "D");
    // The same problem 600 m away.
    let p = |id: &str, lon: f64| {
        Ticket::new(id, "路灯不亮，晚上黑乎乎的").with_coordinates(lon, 40.072, Crs::Wgs84)
    };
    observe(&mut index, &router, &p("E", 116.330), "21:00");
    let f = observe(&mut index, &router, &p("F", 116.337), "21:10");
    assert_eq!(f.incident, "F");
    let g = observe(&mut index, &router, &p("G", 116.3303), "21:20");
    assert_eq!(g.incident, "E");
}

#[test]
fn a_ticket_with_both_clues_merges_an_address_incident_and_a_point_incident() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = ticket(
        "A",
        "小区暖气不热，屋里才16度",
        "海淀区西三旗街道梧桐苑社区",
    );
    let b =
        Ticket::new("B", "暖气不热，摸着是凉的").with_coordinates(116.3450, 40.0500, Crs::Wgs84);
    assert_eq!(observe(&mut index, &router, &a, "07:00").incident, "A");
    assert_eq!(observe(&mut index, &router, &b, "07:10").incident, "B");
    let c = ticket("C", "梧桐苑小区暖气还是凉的", "海淀区西三旗街道梧桐苑社区").with_coordinates(
        116.3452,
        40.0501,
        Crs::Wgs84,
    );
    let link = observe(&mut index, &router, &c, "09:00");
    assert_eq!((link.incident.as_str(), link.size), ("A", 3));
    assert_eq!(link.merged, ["B"]);
    assert!(link.explain().last().unwrap().contains("merged into A"));
    assert_eq!(index.incident_of("B"), Some("A"));
    assert_eq!(index.open_incidents(), 1);
}

#[test]
fn windows_pass_and_incidents_are_dropped() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "朝阳区团结湖街道三四条社区";
    observe(&mut index, &router, &ticket("A", "小区停水了", a), "08:00");
    // Water's window is 12 h from the latest ticket.
    let b = observe(&mut index, &router, &ticket("B", "还是没水", a), "19:30");
    assert_eq!(b.incident, "A");
    assert_eq!(index.expire(at("23:59")), 0);
    assert_eq!(
        index.expire("2024-11-21T07:31:00+08:00".parse().unwrap()),
        1
    );
    assert_eq!(index.open_incidents(), 0);
    // Lazily, too: a report the next evening is a new incident.
    observe(&mut index, &router, &ticket("C", "小区停水了", a), "08:00");
    let t = ticket("D", "又停水了", a);
    let d = router.route(&t).unwrap();
    let link = index.observe(&Sighting::new(
        &t,
        &d,
        "2024-11-21T20:00:00+08:00".parse().unwrap(),
    ));
    assert_eq!((link.incident.as_str(), index.open_incidents()), ("D", 1));
}

#[test]
fn a_problem_reported_every_day_is_not_one_endless_incident() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "朝阳区劲松街道劲松中社区";
    let mut ids = Vec::new();
    // The same square dancing every evening for two weeks: each report is
    // within the noise window (4 days) of the one before.
    for day in 0..14 {
        let t = ticket(&format!("N{day}"), "楼下广场舞音响太吵了", a);
        let d = router.route(&t).unwrap();
        let at: Timestamp = format!("2024-11-{:02}T20:00:00+08:00", day + 1)
            .parse()
            .unwrap();
        ids.push(index.observe(&Sighting::new(&t, &d, at)).incident);
    }
    // One incident spans at most three windows (12 days) end to end.
    assert_eq!(ids[12], "N0");
    assert_eq!(ids[13], "N13");
}

#[test]
fn tickets_out_of_order_join_within_the_window() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "西城区月坛街道月坛社区";
    observe(
        &mut index,
        &router,
        &ticket("A", "小区停水了，没有通知", a),
        "10:00",
    );
    // Received at 09:30, it reached the stream later.
    let b = observe(&mut index, &router, &ticket("B", "家里没水了", a), "09:30");
    assert_eq!(b.incident, "A");
    assert!(
        b.explain()[2].starts_with("30 min before the first report"),
        "{:?}",
        b.explain()
    );
    // The same id again changes nothing.
    let again = observe(&mut index, &router, &ticket("B", "家里没水了", a), "09:30");
    assert_eq!((again.incident.as_str(), again.size), ("A", 2));
}

#[test]
fn restore_rebuilds_known_links_without_matching() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "朝阳区劲松街道劲松中社区";
    let tickets = [
        ticket("A", "广场舞音响太吵了", a),
        ticket("B", "楼下广场舞声音太大", a),
        ticket("C", "公积金怎么提取", a),
    ];
    // Known links, e.g. from a dispatcher's records: C was put in A by hand.
    for (t, incident) in tickets.iter().zip(["A", "A", "A"]) {
        let d = router.route(t).unwrap();
        index.restore_link(&Sighting::new(t, &d, at("20:00")), incident);
    }
    assert_eq!(index.incident_of("C"), Some("A"));
    assert_eq!(index.open_incidents(), 1);
    // A restored incident under an id that is not its first ticket's.
    let e = ticket("E", "楼上装修太吵", "海淀区学院路街道东王庄社区3号楼");
    let d = router.route(&e).unwrap();
    index.restore_link(&Sighting::new(&e, &d, at("09:00")), "GONE");
    assert_eq!(index.incident_of("E"), Some("GONE"));
    let f = observe(
        &mut index,
        &router,
        &ticket("F", "3号楼装修太吵了", "海淀区东王庄小区3号楼"),
        "09:30",
    );
    assert_eq!((f.incident.as_str(), f.size), ("GONE", 2));
}

#[test]
fn memory_holds_open_incidents_only() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let workload = WorkloadBuilder::new(11)
        .per_day(20_000)
        .start("2024-11-18".parse().unwrap())
        .build(&router);
    let (mut seen, mut peak) = (0usize, 0usize);
    let mut last = Timestamp::MIN;
    for day in 0..6 {
        for item in workload.day(day) {
            let Some(t) = item.into_ticket() else {
                continue;
            };
            let Ok(d) = router.route(&t) else { continue };
            let now = t.received_at.unwrap();
            index.observe(&Sighting::new(&t, &d, now));
            seen += 1;
            last = last.max(now);
            peak = peak.max(index.open_incidents());
        }
        let f = index.footprint();
        assert_eq!(f.incidents, index.open_incidents());
        assert!(f.keys <= 8 * f.incidents, "{f:?}");
        assert!(f.expiries <= 2 * f.slots, "{f:?}");
        assert!(f.slots <= peak, "slots are reused: {f:?}, peak {peak}");
    }
    let f = index.footprint();
    // Six days of tickets, at most four days' worth open (the longest
    // window here): old incidents were dropped as time passed.
    assert!(seen > 100_000);
    assert!(f.tickets < seen * 3 / 4, "{f:?} of {seen}");
    assert!(peak < seen * 3 / 4, "{peak} of {seen}");
    // Past every window, nothing is left.
    index.expire(last + SignedDuration::from_hours(24 * 8));
    let f = index.footprint();
    assert_eq!((f.incidents, f.tickets, f.keys), (0, 0, 0), "{f:?}");
}

#[test]
fn odd_sightings_do_not_panic() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let t = Ticket::new("X", "停电了").with_address("朝阳区呼家楼街道");
    let d = router.route(&t).unwrap();
    let base = Sighting::new(&t, &d, at("10:00"));
    let long = "停电".repeat(5_000);
    let odd = [
        Sighting {
            text: "",
            address: None,
            ..base
        },
        Sighting {
            text: "",
            address: Some(""),
            ..base
        },
        Sighting {
            point: Some((f64::NAN, 39.9)),
            ..base
        },
        Sighting {
            point: Some((f64::INFINITY, f64::NEG_INFINITY)),
            ..base
        },
        Sighting {
            point: Some((181.0, 91.0)),
            ..base
        },
        Sighting {
            point: Some((116.4, 89.99)),
            ..base
        },
        Sighting {
            building: Some(""),
            ..base
        },
        Sighting {
            building: Some("  \u{200B} "),
            ..base
        },
        Sighting {
            address: Some("号楼栋幢座十十十号楼"),
            ..base
        },
        Sighting {
            address: Some("🏠🏠3号楼"),
            text: "🏠",
            ..base
        },
        Sighting {
            text: &long,
            ..base
        },
        Sighting {
            district: None,
            street: None,
            community: None,
            ..base
        },
        Sighting {
            at: Timestamp::MIN,
            ..base
        },
        Sighting {
            at: Timestamp::MAX,
            ..base
        },
    ];
    for (i, s) in odd.iter().enumerate() {
        let id = format!("odd{i}");
        let link = index.observe(&Sighting { id: &id, ..*s });
        assert!(link.size >= 1);
        let _ = link.explain();
    }
    // Ids from a router with a smaller taxonomy and fewer places.
    let mut small = RouterConfig::beijing();
    small
        .taxonomy
        .categories
        .retain(|c| c.code == "other" || c.code == "heating");
    small.routing.rules.clear();
    if let Ok(small) = Router::from_config(small) {
        let mut other = IncidentIndex::new(&small);
        let _ = other.observe(&Sighting { id: "big", ..base });
        let _ = other.observe(&Sighting { id: "big2", ..base });
    }
    assert!(index.split("").is_none());
    assert!(!index.close(""));
}

#[test]
fn configuration_errors_are_found_when_built() {
    let router = Router::beijing();
    let build = |b: hotline_router::incident::IncidentIndexBuilder| b.build(&router).map(|_| ());
    let cases: Vec<(hotline_router::incident::IncidentIndexBuilder, &str)> = vec![
        (
            IncidentIndex::builder().window("no.such", SignedDuration::from_hours(1)),
            "unknown category 'no.such'",
        ),
        (
            IncidentIndex::builder().window("heating", SignedDuration::ZERO),
            "window of heating",
        ),
        (
            IncidentIndex::builder().window("heating", SignedDuration::from_hours(24 * 91)),
            "at most 90 days",
        ),
        (
            IncidentIndex::builder().radius("heating", f64::NAN),
            "radius of heating",
        ),
        (
            IncidentIndex::builder().default_radius(0.0),
            "radius of default",
        ),
        (
            IncidentIndex::builder().words("heating", 1.5),
            "words weight of heating",
        ),
        (
            IncidentIndex::builder().relate("heating", "heating"),
            "cannot be related to itself",
        ),
        (
            IncidentIndex::builder().thresholds(Thresholds {
                near: -0.1,
                ..Thresholds::default()
            }),
            "threshold 'near'",
        ),
    ];
    for (builder, message) in cases {
        let err = build(builder).unwrap_err();
        assert!(err.to_string().contains(message), "{err} / {message}");
    }
    assert!(matches!(
        build(IncidentIndex::builder().merge("x.y", true)),
        Err(ConfigError::UnknownCategory { .. })
    ));
    let index = IncidentIndex::builder()
        .reach("heating", Reach::Building)
        .merge("immigration.visa", true)
        .unrelate("utilities.power", "heating")
        .no_default_relations()
        .build(&router)
        .unwrap();
    let heating = index.rule(router.category_id("heating").unwrap());
    assert_eq!(heating.reach, Reach::Building);
    assert!(
        index
            .rule(router.category_id("immigration.visa").unwrap())
            .merge
    );
}

#[test]
fn personal_matters_are_never_merged() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let a = "朝阳区呼家楼街道金台里社区3号楼";
    observe(
        &mut index,
        &router,
        &ticket("A", "签证快到期了怎么延期", a),
        "10:00",
    );
    let b = observe(
        &mut index,
        &router,
        &ticket("B", "签证快到期了怎么延期", a),
        "10:01",
    );
    assert_eq!(b.incident, "B");
}

/// Found on a generated month: a greeting read as a compound ("你好楼里")
/// chained identical reports from all over a district into one incident.
/// Positions kilometres apart are two places whatever the words say.
#[test]
fn reports_kilometres_apart_are_never_one_incident() {
    let router = Router::beijing();
    let mut index = IncidentIndex::new(&router);
    let at: jiff::Timestamp = "2024-11-09T12:22:00Z".parse().unwrap();
    let text = "你好，楼里暖气管爆裂了，水流了一地，家里正在跑水";
    let a = Ticket::new("A", text).with_coordinates(116.5285, 39.9672, Crs::Gcj02);
    let b = Ticket::new("B", text).with_coordinates(116.3946, 40.0033, Crs::Gcj02);
    let c = Ticket::new("C", text).with_coordinates(116.5290, 39.9675, Crs::Gcj02);
    let mut link = |t: &Ticket| {
        let d = router.route(t).unwrap();
        index.observe(&Sighting::new(t, &d, at)).incident
    };
    assert_eq!(link(&a), "A");
    assert_eq!(link(&b), "B", "11 km away");
    assert_eq!(link(&c), "A", "60 m away");
}
