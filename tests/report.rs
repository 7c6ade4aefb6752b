//! The monthly report end to end: its SVGs rendered with resvg, the page
//! checked for self-containment and sections, 每月一题 and 治理类 on
//! planted data, and `hotline report` on a generated month.

mod common;
use common::beijing as router;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use common::{Log, TempDir};
use hotline_router::analytics::governance::{Flag, Governance, Population, RankedBy};
use hotline_router::analytics::topics::{Place, Topics};
use hotline_router::dispatch::{Clock, Dispatcher, Evaluation, ManualClock};
use hotline_router::report::{AlertRow, IncidentRow, Report};
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::Ticket;
use jiff::Timestamp;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{self, Node, Paint};

const BIN: &str = env!("CARGO_BIN_EXE_hotline");
const SECTIONS: [&str; 10] = [
    "map",
    "daily",
    "categories",
    "streets",
    "topics",
    "governance",
    "rates",
    "incidents",
    "alerts",
    "input",
];

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// October and November 2024 of a generated workload, 150 tickets a day.
fn generated() -> impl Iterator<Item = Generated> {
    let w = WorkloadBuilder::new(5)
        .per_day(150)
        .start("2024-10-01".parse().unwrap())
        .build(router());
    (0..61).flat_map(move |d| w.day(d).collect::<Vec<_>>())
}

/// The report of November on the generated tickets, with an incident and
/// an alert, rendered once for all tests.
fn page() -> &'static (Report, String) {
    static PAGE: OnceLock<(Report, String)> = OnceLock::new();
    PAGE.get_or_init(|| {
        let report = Report::builder(router())
            .month("2024-11".parse().unwrap())
            .incidents([IncidentRow {
                incident: "D0040-000007".into(),
                category: "utilities.water".into(),
                district: Some("110105".into()),
                street: Some("110105003".into()),
                size: 5,
                first_at: ts("2024-11-09T08:00:00+08:00"),
                last_at: ts("2024-11-09T09:30:00+08:00"),
            }])
            .alerts([AlertRow {
                at: ts("2024-11-20T10:00:00+08:00"),
                category: "heating".into(),
                district: Some("110108".into()),
                street: Some("110108010".into()),
                count: 41,
                expected: 2.5,
                p_value: 1e-12,
            }])
            .tickets(generated().filter_map(Generated::into_ticket))
            .build();
        let html = report.render();
        (report, html)
    })
}

/// Every `<svg …>…</svg>` of the page, with the namespace usvg needs (the
/// page leaves it out).
fn svgs(html: &str) -> Vec<String> {
    html.match_indices("<svg")
        .map(|(start, _)| {
            let end = start + html[start..].find("</svg>").expect("a closed svg") + "</svg>".len();
            html[start..end].replacen("<svg", r#"<svg xmlns="http://www.w3.org/2000/svg""#, 1)
        })
        .collect()
}

fn render(svg: &str) -> (usvg::Tree, Pixmap) {
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default()).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(&tree, Transform::identity(), &mut pixmap.as_mut());
    (tree, pixmap)
}

/// Pixels that are neither white nor transparent.
fn inked(pixmap: &Pixmap) -> usize {
    pixmap
        .pixels()
        .iter()
        .filter(|p| p.alpha() > 0 && (p.red() < 250 || p.green() < 250 || p.blue() < 250))
        .count()
}

/// `(id, fill)` of every path with an id, in document order.
fn filled_paths(group: &usvg::Group, out: &mut Vec<(String, (u8, u8, u8))>) {
    for node in group.children() {
        match node {
            Node::Group(g) => filled_paths(g, out),
            Node::Path(p) if !p.id().is_empty() => {
                if let Some(Paint::Color(c)) = p.fill().map(|f| f.paint()) {
                    out.push((p.id().to_string(), (c.red, c.green, c.blue)));
                }
            }
            _ => {}
        }
    }
}

fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)
}

#[test]
fn every_svg_parses_and_draws_something() {
    let (_, html) = page();
    let svgs = svgs(html);
    // The map, the daily chart and the two category charts.
    assert_eq!(svgs.len(), 4, "{} SVGs", svgs.len());
    for svg in &svgs {
        let (_, pixmap) = render(svg);
        let share = inked(&pixmap) as f64 / (pixmap.width() * pixmap.height()) as f64;
        assert!(
            share > 0.02,
            "an SVG is nearly blank ({share:.3} inked): {}",
            &svg[..200]
        );
    }
}

#[test]
fn the_map_has_one_path_per_district_darker_where_busier() {
    let (report, html) = page();
    let map = svgs(html)
        .into_iter()
        .find(|s| s.contains(r#"class="map""#))
        .expect("a map");
    let (tree, _) = render(&map);
    let mut paths = Vec::new();
    filled_paths(tree.root(), &mut paths);
    let fills: BTreeMap<String, (u8, u8, u8)> = paths
        .iter()
        .filter_map(|(id, fill)| Some((id.strip_prefix("d-")?.to_string(), *fill)))
        .collect();
    assert_eq!(fills.len(), 16, "{fills:?}");
    assert_eq!(
        paths.iter().filter(|(id, _)| id.starts_with("d-")).count(),
        16
    );
    // The scale is continuous, but colours are 8-bit: two districts a few
    // tickets apart may share one. Most must still be told apart.
    let distinct: BTreeSet<_> = fills.values().collect();
    assert!(
        distinct.len() >= 12,
        "{} colours for 16 districts",
        distinct.len()
    );
    // Busiest first: the fills get lighter down the list, never darker.
    let districts = report.districts();
    assert!(districts[0].volume > districts[1].volume);
    let (first, last) = (&districts[0].code, &districts[districts.len() - 1].code);
    assert!(luminance(fills[first]) + 60.0 < luminance(fills[last]));
    for pair in districts.windows(2) {
        let (a, b) = (
            luminance(fills[&pair[0].code]),
            luminance(fills[&pair[1].code]),
        );
        assert!(
            a <= b,
            "{} ({}) is not darker than {} ({})",
            pair[0].name,
            pair[0].volume,
            pair[1].name,
            pair[1].volume
        );
    }
}

#[test]
fn the_daily_chart_has_a_bar_for_every_day() {
    let (report, html) = page();
    assert_eq!(report.days().len(), 30);
    assert!(report.days().iter().all(|(_, n)| *n > 100));
    let daily = &html[html.find(r#"id="daily""#).unwrap()..];
    let svg = svgs(daily).remove(0);
    let (_, pixmap) = render(&svg);
    // Weekday bars are #2b6cb0; weekend bars #90b8e0.
    let count = |rgb: (u8, u8, u8)| {
        pixmap
            .pixels()
            .iter()
            .filter(|p| (p.red(), p.green(), p.blue()) == rgb && p.alpha() == 255)
            .count()
    };
    assert!(count((0x2b, 0x6c, 0xb0)) > 5_000, "weekday bars");
    assert!(count((0x90, 0xb8, 0xe0)) > 1_000, "weekend bars");
}

#[test]
fn the_page_is_self_contained_and_has_every_section() {
    let (report, html) = page();
    for banned in [
        "http://",
        "https://",
        " src=",
        "<script",
        "<link",
        "@import",
        "@font-face",
    ] {
        assert!(!html.contains(banned), "the page contains {banned}");
    }
    assert!(
        !html.replace("url(#", "").contains("url("),
        "an external url()"
    );
    for id in SECTIONS {
        assert!(
            html.contains(&format!(r#"<section id="{id}">"#)),
            "no {id} section"
        );
    }
    // The inputs given show up, by name.
    assert!(html.contains("D0040-000007") && html.contains("呼家楼街道"));
    assert!(html.contains("学院路街道") && html.contains("41"));
    // No records: the 三率 section says so.
    assert!(html.contains("未提供办理记录"));
    // Generated bad tickets are counted and listed.
    assert!(report.input().bad > 0);
    assert!(html.contains("ticket has no text and no address"));
    assert_eq!(report.month().unwrap().to_string(), "2024-11");
}

#[test]
fn an_empty_report_says_none_in_every_section() {
    let html = Report::builder(router()).render();
    for id in SECTIONS {
        assert!(
            html.contains(&format!(r#"<section id="{id}">"#)),
            "no {id} section"
        );
    }
    assert!(html.contains("本月无合并工单") && html.contains("本月无预警"));
    assert!(html.contains("没有候选问题"));
}

/// Tickets of one text at one address, `n` of them in `month`.
fn planted(prefix: &str, text: &str, address: &str, month: &str, n: usize) -> Vec<Ticket> {
    (0..n)
        .map(|i| {
            Ticket::new(format!("{prefix}-{month}-{i}"), text)
                .with_address(address)
                .with_received_at(ts(&format!("{month}-{:02}T10:00:00+08:00", 1 + i % 28)))
        })
        .collect()
}

#[test]
fn a_planted_recurring_problem_ranks_first_and_a_blip_lower() {
    let r = router();
    let mut topics = Topics::new(r);
    let mut place_of: BTreeMap<String, (String, Option<String>)> = BTreeMap::new();
    let mut add = |topics: &mut Topics, t: &Ticket| {
        let d = r.route(t).unwrap();
        let month = t.received_at.unwrap().to_string()[..7].to_string();
        place_of.insert(t.id.clone(), (month, d.street_code().map(str::to_string)));
        topics.add(t, &d);
    };
    // A summer background (no heating season), 30 tickets a day.
    let w = WorkloadBuilder::new(9)
        .per_day(30)
        .start("2024-06-01".parse().unwrap())
        .build(r);
    for day in 0..92 {
        for t in w.day(day).filter_map(Generated::into_ticket) {
            if r.route(&t).is_ok() && t.received_at.is_some() {
                add(&mut topics, &t);
            }
        }
    }
    let elevator = "老楼想加装电梯，不知道需要什么手续";
    for (month, n) in [("2024-06", 8), ("2024-07", 14), ("2024-08", 24)] {
        for t in planted("P", elevator, "朝阳区呼家楼街道", month, n) {
            add(&mut topics, &t);
        }
    }
    for t in planted(
        "B",
        "楼道里一股很重的煤气味",
        "西城区德胜街道",
        "2024-08",
        30,
    ) {
        add(&mut topics, &t);
    }
    let ranked = topics.rank("2024-08".parse().unwrap());
    let first = &ranked[0];
    assert_eq!(first.category, "housing.elevator");
    assert_eq!(first.wording, "加装电梯");
    assert_eq!(first.place.code(), "110105003");
    assert_eq!(first.months_present, 3);
    assert!(first.volume >= 24 && first.suggested, "{first:?}");
    let blip = ranked
        .iter()
        .position(|c| c.category == "utilities.gas" && c.place.code() == "110102010")
        .expect("the blip is a candidate");
    assert!(blip > 0);
    assert!(
        ranked[blip].volume > first.volume,
        "the blip has more tickets, yet ranks lower"
    );
    assert!(
        !ranked[blip].suggested,
        "a one-month blip is never suggested"
    );
    assert!(ranked[blip].score.growth > first.score.growth);
    // Evidence: real tickets of that month and street.
    assert_eq!(first.evidence.len(), 3);
    for id in &first.evidence {
        let (month, street) = &place_of[id];
        assert_eq!(
            (month.as_str(), street.as_deref()),
            ("2024-08", Some("110105003")),
            "{id}"
        );
    }
}

#[test]
fn a_problem_spread_over_a_district_is_ranked_for_the_district() {
    let r = router();
    let mut topics = Topics::new(r);
    for street in ["呼家楼街道", "建外街道", "朝外街道", "三里屯街道"] {
        for t in planted(
            street,
            "小区里私装地锁占了车位",
            &format!("朝阳区{street}"),
            "2024-08",
            3,
        ) {
            topics.add(&t, &r.route(&t).unwrap());
        }
    }
    let top = &topics.rank("2024-08".parse().unwrap())[0];
    assert_eq!(
        top.place,
        Place::District {
            code: "110105".into(),
            name: "朝阳区".into()
        }
    );
    assert_eq!(
        (top.volume, top.streets, top.wording.as_str()),
        (12, 4, "私装地锁")
    );
}

/// Tickets at each address, handled and called back; the caller is
/// satisfied with the first `satisfied` of each address's tickets.
fn handled(tickets: &[(&str, usize, usize)]) -> (Dispatcher, Arc<Log>, Vec<Ticket>) {
    let log = Arc::new(Log::default());
    let clock = Arc::new(ManualClock::new(ts("2024-11-05T09:00:00+08:00")));
    let d = Dispatcher::builder(router().clone())
        .clock(clock.clone())
        .sink(log.clone())
        .build();
    let mut all = Vec::new();
    for (a, (address, n, satisfied)) in tickets.iter().enumerate() {
        for i in 0..*n {
            let t = Ticket::new(format!("R{a}-{i}"), "楼道里的垃圾好几天没人清运")
                .with_address(*address)
                .with_received_at(clock.now());
            let receipt = d.submit(t.clone()).unwrap();
            let claim = d.claim(&receipt.agency, "w").unwrap().unwrap();
            d.respond(&claim.id, "w").unwrap();
            d.resolve(&claim.id, "w", "cleared").unwrap();
            let happy = i < *satisfied;
            d.evaluate(
                &claim.id,
                Evaluation {
                    responded: true,
                    resolved: happy,
                    satisfied: happy,
                },
            )
            .unwrap();
            all.push(t);
        }
    }
    (d, log, all)
}

#[test]
fn governance_ranks_per_capita_and_flags_low_rates_from_records() {
    let r = router();
    let (d, _, tickets) = handled(&[
        ("朝阳区呼家楼街道", 12, 12),
        ("海淀区学院路街道", 20, 8),
        ("西城区德胜街道", 6, 6),
    ]);
    let population = "street_code,population\n110105003,40000\n110108010,200000\n110102010,10000\n";
    let mut g = Governance::new(r).population(Population::from_csv(population, r).unwrap());
    for t in &tickets {
        g.add(t, &r.route(t).unwrap());
    }
    d.for_each_record(|rec| {
        g.add_record(rec);
    });
    let list = g.list("2024-11".parse().unwrap());
    assert_eq!(list.ranked_by, RankedBy::PerCapita);
    // 德胜 6 per 10,000; 呼家楼 3; 学院路 1 — though 学院路 has the most tickets.
    let order: Vec<&str> = list.rows.iter().map(|row| row.name.as_str()).collect();
    assert_eq!(order, ["德胜街道", "呼家楼街道", "学院路街道"]);
    assert_eq!(list.rows[0].per_10k, Some(6.0));
    let xueyuan = &list.rows[2];
    let rates = xueyuan.rates.as_ref().unwrap();
    assert_eq!((rates.evaluated, rates.satisfied), (20, 8));
    assert_eq!(xueyuan.flags, [Flag::LowResolution, Flag::LowSatisfaction]);
    assert!(list.rows[1].flags.is_empty());
    // Fewer call-backs than the minimum: never flagged, whatever the rates.
    assert!(list.rows[0].flags.is_empty());
}

#[test]
fn records_give_the_report_its_rates() {
    let r = router();
    let (d, _, tickets) = handled(&[("朝阳区呼家楼街道", 10, 5), ("海淀区学院路街道", 10, 10)]);
    let mut builder = Report::builder(r);
    for t in &tickets {
        builder.add(t, &r.route(t).unwrap());
    }
    d.for_each_record(|rec| builder.add_record(rec));
    let report = builder.build();
    let chaoyang = report
        .districts()
        .iter()
        .find(|x| x.code == "110105")
        .unwrap();
    assert_eq!(
        chaoyang.rates.as_ref().unwrap().satisfaction_rate(),
        Some(0.5)
    );
    let html = report.render();
    assert!(html.contains("50.0%") && !html.contains("未提供办理记录"));
    let top = &report.topics()[0];
    assert_eq!(top.outcome.evaluated, 10);
    assert!(top.score.difficulty.is_some());
}

#[test]
fn hotline_report_writes_the_page_of_a_generated_month() {
    let dir = TempDir::new("cli");
    let input = dir.path("tickets.jsonl");
    let mut lines: Vec<String> = generated().map(|g| g.to_json_line()).collect();
    lines.push(r#"{"id":"U1","text":"路灯不亮"}"#.into()); // no received_at
    std::fs::write(&input, lines.join("\n")).unwrap();
    let (d, log, _) = handled(&[("朝阳区呼家楼街道", 10, 5)]);
    drop(d);
    let events: Vec<String> = log
        .events()
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let records = dir.path("events.jsonl");
    std::fs::write(&records, events.join("\n") + "\nnot an event\n").unwrap();
    let out = dir.path("report.html");
    let run = Command::new(BIN)
        .args(["report", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .arg("--records")
        .arg(&records)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(stderr.contains("report for 2024-11"), "{stderr}");
    assert!(stderr.contains("ticket U1 has no received_at"), "{stderr}");
    assert!(stderr.contains("records line"), "{stderr}");
    let html = std::fs::read_to_string(&out).unwrap();
    for id in SECTIONS {
        assert!(
            html.contains(&format!(r#"<section id="{id}">"#)),
            "no {id} section"
        );
    }
    // Bad lines: all counted, the first 50 listed (the generated input has
    // more than that before the records' bad line).
    assert!(html.contains("ticket has no text and no address"));
    assert!(html.contains("……另有"));
    assert!(html.contains("50.0%"), "the records' satisfaction rate");

    // A month that is not one: a usage error, nothing written.
    let bad = Command::new(BIN)
        .args(["report", "--month", "2024-13", "--input"])
        .arg(&input)
        .arg("--out")
        .arg(dir.path("never.html"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("hotline: "));
    assert!(!dir.path("never.html").exists());
}
