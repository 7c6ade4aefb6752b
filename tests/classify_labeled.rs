//! The default taxonomy and model against a labelled set of realistic
//! tickets (`tests/data/labeled_tickets.jsonl`, written for this crate and
//! never trained on): categories, urgency and language. A line may name
//! its channel (`"channel": "enterprise"` for the enterprise line's
//! categories); the phone otherwise.

use hotline_router::{Channel, Language, Priority, Router, Ticket};
use serde::Deserialize;

#[derive(Deserialize)]
struct Labeled {
    text: String,
    category: String,
    urgent: bool,
    language: String,
    #[serde(default)]
    channel: Channel,
}

const LABELED: &str = include_str!("data/labeled_tickets.jsonl");

/// The default router (keywords and the embedded model) gets at least 95%
/// of the categories right (97.0% measured when the model was trained;
/// 97.1%, 609 of 627, with the enterprise line's categories and lines),
/// never misses an urgent ticket, and rarely raises a normal one.
#[test]
fn labeled_tickets_are_classified_as_labeled() {
    let router = Router::beijing();
    let mut wrong = Vec::new();
    let (mut count, mut missed_urgent, mut false_urgent) = (0, Vec::new(), 0);
    for (n, line) in LABELED.lines().enumerate() {
        let l: Labeled =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        count += 1;
        let d = router
            .route(&Ticket::new(format!("L{}", n + 1), l.text.as_str()).with_channel(l.channel))
            .unwrap();
        let urgent = d.priority() == Priority::Urgent;
        if l.urgent && !urgent {
            missed_urgent.push(format!("line {}: {:?}", n + 1, l.text));
        }
        false_urgent += usize::from(urgent && !l.urgent);
        if d.category().code() != l.category {
            wrong.push(format!(
                "line {}: {:?} → {}, labelled {}\n    {}",
                n + 1,
                l.text,
                d.category().code(),
                l.category,
                d.explain()[0]
            ));
        }
    }
    assert!(count >= 620, "the labelled set has {count} lines");
    eprintln!(
        "{} of {count} categories wrong, {} urgent missed, {false_urgent} raised",
        wrong.len(),
        missed_urgent.len()
    );
    assert!(
        wrong.len() * 100 <= count * 5,
        "{} of {count} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        missed_urgent.is_empty(),
        "urgent tickets missed:\n{}",
        missed_urgent.join("\n")
    );
    assert!(
        false_urgent * 100 <= count,
        "{false_urgent} normal tickets raised to urgent"
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
