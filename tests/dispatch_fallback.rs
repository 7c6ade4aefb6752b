//! Where a returned ticket goes once its handlers refused it comes from the
//! rules ([`RuleSet::fallbacks_for`]), not from the dispatcher.

use std::sync::Arc;

use hotline_router::dispatch::{Clock, DispatchConfig, Dispatcher, ManualClock, OpError};
use hotline_router::{Router, RuleSet, Ticket};

const START: &str = "2024-11-20T08:00:00+08:00";

fn codes(rules: &RuleSet, district: Option<hotline_router::DistrictId>) -> Vec<String> {
    rules
        .fallbacks_for(district)
        .map(|a| rules.agency(a).code().to_string())
        .collect()
}

/// Returns `id` from every agency it reaches, returning the agencies in
/// order, until no agency is left.
fn return_until_refused(d: &Dispatcher, id: &str, first: &str) -> Vec<String> {
    let mut chain = vec![first.to_string()];
    loop {
        let agency = chain.last().unwrap().clone();
        let claim = d.claim(agency.as_str(), "w").unwrap().unwrap();
        assert_eq!(claim.id, id);
        match d.return_ticket(id, "w", "not ours") {
            Ok(receipt) => chain.push(receipt.agency.to_string()),
            Err(OpError::NoAgencyLeft(t)) => {
                assert_eq!(t, id);
                return chain;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn a_returned_ticket_tries_its_handlers_then_the_rules_fallbacks() {
    let router = Router::beijing();
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let d = Dispatcher::new(
        router.clone(),
        DispatchConfig::default().max_returns(10),
        clock.clone(),
    );
    let ticket = Ticket::new("E1", "电梯坏了一个星期没人修")
        .with_address("朝阳区呼家楼街道")
        .with_received_at(clock.now());
    let decision = router.route(&ticket).unwrap();
    let receipt = d.submit(ticket).unwrap();
    let chain = return_until_refused(&d, "E1", &receipt.agency);

    let rules = router.rules();
    let mut expected = vec![decision.agency_code().to_string()];
    expected.extend(
        decision
            .co_agencies()
            .iter()
            .map(|a| rules.agency(*a).code().to_string()),
    );
    expected.extend(codes(rules, decision.location().district()));
    assert_eq!(chain, expected);
    // The hand-checked chain, so that the test fails if the rules change it.
    assert_eq!(
        chain,
        [
            "street:110105003",
            "district:110105:market",
            "district:110105:gov",
            "center:triage"
        ]
    );
}

#[test]
fn after_max_returns_only_the_fallbacks_without_a_district_are_left() {
    let router = Router::beijing();
    let clock = Arc::new(ManualClock::new(START.parse().unwrap()));
    let d = Dispatcher::new(
        router.clone(),
        DispatchConfig::default().max_returns(1),
        clock.clone(),
    );
    let receipt = d
        .submit(
            Ticket::new("E1", "电梯坏了一个星期没人修")
                .with_address("朝阳区呼家楼街道")
                .with_received_at(clock.now()),
        )
        .unwrap();
    let chain = return_until_refused(&d, "E1", &receipt.agency);
    let mut expected = vec![receipt.agency.to_string()];
    expected.extend(codes(router.rules(), None));
    assert_eq!(chain, expected);
    assert_eq!(expected.last().map(String::as_str), Some("center:triage"));
}
