//! The default taxonomy against a labelled set of realistic tickets
//! (`tests/data/labeled_tickets.jsonl`): every line must get its category,
//! its urgency and its language.

use hotline_router::{Language, Priority, Router, Ticket};
use serde::Deserialize;

#[derive(Deserialize)]
struct Labeled {
    text: String,
    category: String,
    urgent: bool,
    language: String,
}

const LABELED: &str = include_str!("data/labeled_tickets.jsonl");

#[test]
fn every_labeled_ticket_is_classified_as_labeled() {
    let router = Router::beijing();
    let mut wrong = Vec::new();
    let mut count = 0;
    for (n, line) in LABELED.lines().enumerate() {
        let l: Labeled =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        count += 1;
        let d = router
            .route(&Ticket::new(format!("L{}", n + 1), l.text.as_str()))
            .unwrap();
        let urgent = d.priority() == Priority::Urgent;
        if d.category().code() != l.category || urgent != l.urgent {
            wrong.push(format!(
                "line {}: {:?} → {} urgent={urgent}, labelled {} urgent={}\n    {}",
                n + 1,
                l.text,
                d.category().code(),
                l.category,
                l.urgent,
                d.explain()[0]
            ));
        }
    }
    assert!(count >= 280, "the labelled set has {count} lines");
    assert!(
        wrong.is_empty(),
        "{} of {count} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_labeled_ticket_gets_its_language() {
    let mut wrong = Vec::new();
    for (n, line) in LABELED.lines().enumerate() {
        let l: Labeled = serde_json::from_str(line).unwrap();
        let got = Language::detect(&l.text).code();
        if got != l.language {
            wrong.push(format!(
                "line {}: {:?} → {got}, labelled {}",
                n + 1,
                l.text,
                l.language
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_category_is_covered_by_the_labeled_set() {
    let router = Router::beijing();
    for (_, c) in router.categories() {
        let n = LABELED
            .lines()
            .filter(|l| serde_json::from_str::<Labeled>(l).unwrap().category == c.code())
            .count();
        assert!(n >= 5, "category {} has {n} labelled tickets", c.code());
    }
}
