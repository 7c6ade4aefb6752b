//! What if the rules changed? Replays the same generated tickets under the
//! default Beijing router and under a changed one, and prints which tickets
//! change agency, as an old → new matrix with examples.
//!
//! ```text
//! cargo run --release --features workload --example what_if                         # a built-in example change, 7 days
//! cargo run --release --features workload --example what_if -- --rules my_routing.toml --days 30
//! ```
//!
//! `--rules` takes a routing file in the format of `data/beijing/routing.toml`.
//! The built-in change sends noise in 朝阳区 to the district ecology bureau
//! and heating in 东城区 to the street offices.

use std::time::Instant;

use hotline_router::replay::what_if;
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::{Router, RouterConfig, RoutingConfig, RuleConfig};

fn main() {
    let mut days = 7u32;
    let mut rules: Option<String> = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match (flag.as_str(), it.next()) {
            ("--days", Some(v)) => {
                days = v.parse().unwrap_or_else(|e| fail(&format!("--days: {e}")))
            }
            ("--rules", Some(v)) => rules = Some(v),
            (other, _) => fail(&format!(
                "unknown or incomplete argument {other:?} (expected --days N, --rules FILE)"
            )),
        }
    }
    let old = Router::beijing();
    let mut config = RouterConfig::beijing();
    match &rules {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| fail(&format!("cannot read {path}: {e}")));
            config.routing =
                RoutingConfig::from_toml(&text, path).unwrap_or_else(|e| fail(&e.to_string()));
        }
        None => {
            config.routing.rules.push(RuleConfig {
                categories: vec!["env.noise".into()],
                district: Some("110105".into()),
                agency: Some("district:ecology".into()),
                note: Some("what-if: noise in 朝阳区 to the ecology bureau".into()),
                ..RuleConfig::default()
            });
            config.routing.rules.push(RuleConfig {
                categories: vec!["heating".into()],
                district: Some("110101".into()),
                agency: Some("street".into()),
                note: Some("what-if: heating in 东城区 to the street offices".into()),
                ..RuleConfig::default()
            });
        }
    }
    let new = Router::from_config(config)
        .unwrap_or_else(|e| fail(&format!("the changed rules do not build: {e}")));
    let workload = WorkloadBuilder::new(7).build(&old);
    let started = Instant::now();
    let tickets = (0..days)
        .flat_map(|d| workload.day(d))
        .filter_map(Generated::into_ticket);
    let diff = what_if(&old, &new, tickets, 3);
    println!(
        "{} tickets routed under both rule sets in {:.2} s; {} change agency ({:.2}%); {} refused by either\n",
        diff.total(),
        started.elapsed().as_secs_f64(),
        diff.changed(),
        100.0 * diff.changed() as f64 / diff.total().max(1) as f64,
        diff.errors()
    );
    println!(
        "{:<30} {:<30} {:>8}  examples",
        "old agency", "new agency", "tickets"
    );
    for m in diff.moves().iter().take(30) {
        println!(
            "{:<30} {:<30} {:>8}  {}",
            m.from,
            m.to,
            m.count,
            m.examples.join(", ")
        );
    }
}

fn fail(message: &str) -> ! {
    eprintln!("what_if: {message}");
    std::process::exit(2)
}
