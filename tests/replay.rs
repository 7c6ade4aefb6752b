//! Replay and what-if agree with routing the same tickets one by one.

use std::collections::HashMap;

use hotline_router::replay::{replay, what_if};
use hotline_router::{Crs, Router, RouterConfig, RuleConfig, Ticket};

fn tickets() -> Vec<Ticket> {
    let texts: Vec<String> = include_str!("data/labeled_tickets.jsonl")
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let addresses = [
        "朝阳区呼家楼街道",
        "海淀区学院路街道",
        "昌平区太平庄",
        "",
        "西城区",
    ];
    let mut out = Vec::new();
    for round in 0..6 {
        for (i, text) in texts.iter().enumerate() {
            let mut t = Ticket::new(format!("R{round}-{i}"), text.as_str());
            let a = addresses[(i + round) % addresses.len()];
            if !a.is_empty() {
                t = t.with_address(a);
            }
            if i % 3 == round % 3 {
                t = t.with_coordinates(
                    116.3 + (i % 7) as f64 * 0.05,
                    39.8 + (round as f64) * 0.05,
                    Crs::Gcj02,
                );
            }
            out.push(t);
        }
    }
    out.push(Ticket::new("", "no id"));
    out.push(Ticket::new("bad", "停电").with_coordinates(f64::NAN, 40.0, Crs::Wgs84));
    out
}

#[test]
fn replay_counts_what_routing_one_by_one_counts() {
    let router = Router::beijing();
    let tickets = tickets();
    let mut expected: HashMap<(String, Option<String>, String), u64> = HashMap::new();
    let mut errors = 0;
    for t in &tickets {
        match router.route(t) {
            Ok(d) => {
                *expected
                    .entry((
                        d.category().code().to_string(),
                        d.district_code().map(str::to_string),
                        d.agency_code().to_string(),
                    ))
                    .or_default() += 1
            }
            Err(_) => errors += 1,
        }
    }
    let tally = replay(&router, tickets.into_iter());
    assert_eq!(tally.errors(), errors);
    assert_eq!(errors, 2);
    let got: HashMap<(String, Option<String>, String), u64> = tally
        .rows(&router)
        .into_iter()
        .map(|r| ((r.category, r.district, r.agency), r.count))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(tally.routed(), expected.values().sum::<u64>());
}

#[test]
fn what_if_with_the_same_rules_changes_nothing() {
    let router = Router::beijing();
    let diff = what_if(&router, &Router::beijing(), tickets().into_iter(), 3);
    assert_eq!(diff.changed(), 0);
    assert_eq!(diff.errors(), 2);
    assert!(diff.moves().is_empty());
}

#[test]
fn what_if_reports_every_moved_ticket_once() {
    let old = Router::beijing();
    let mut config = RouterConfig::beijing();
    config
        .routing
        .handlers
        .get_mut("env.noise")
        .unwrap()
        .handler = "district:ecology".into();
    config.routing.rules.push(RuleConfig {
        categories: vec!["heating".into()],
        district: Some("110105".into()),
        agency: Some("street".into()),
        ..RuleConfig::default()
    });
    let new = Router::from_config(config).unwrap();
    let tickets = tickets();
    let moved = tickets
        .iter()
        .filter(|t| matches!((old.route(t), new.route(t)), (Ok(a), Ok(b)) if a.agency_code() != b.agency_code()))
        .count() as u64;
    assert!(moved > 0);
    let diff = what_if(&old, &new, tickets.into_iter(), 2);
    assert_eq!(diff.changed(), moved);
    for m in diff.moves() {
        assert!(m.examples.len() <= 2 && !m.examples.is_empty());
        assert_ne!(m.from, m.to);
    }
}
