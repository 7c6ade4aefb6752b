//! Every one of Beijing's 7,535 communities, located from its name alone and
//! with its district and street: the full address always finds it; the name
//! alone finds its street exactly when the name is unique, and otherwise
//! stops at what is certain — it never names a wrong street or district.

use std::collections::HashMap;

use hotline_router::{Router, Ticket};

#[test]
fn every_community_with_full_address_finds_its_street_and_community() {
    let router = Router::beijing();
    let j = router.jurisdictions();
    let mut failures = Vec::new();
    for (id, c) in j.communities() {
        let s = j.street(c.street());
        let d = j.district(s.district());
        let address = format!("{}{}{}5号楼2单元", d.name(), s.name(), c.name());
        let loc = router
            .locator()
            .locate(&Ticket::new("x", "路灯坏了").with_address(address.as_str()));
        if loc.street() != Some(c.street()) || loc.community() != Some(id) {
            failures.push(address);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 7535 failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

#[test]
fn a_community_name_alone_never_guesses() {
    let router = Router::beijing();
    let j = router.jurisdictions();
    let mut by_name: HashMap<&str, Vec<_>> = HashMap::new();
    for (id, c) in j.communities() {
        by_name.entry(c.name()).or_default().push(id);
    }
    let (mut exact, mut partial) = (0, 0);
    for (name, ids) in &by_name {
        let loc = router
            .locator()
            .locate(&Ticket::new("x", "路灯坏了").with_address(*name));
        let streets: Vec<_> = ids.iter().map(|c| j.community(*c).street()).collect();
        let districts: Vec<_> = streets.iter().map(|s| j.street(*s).district()).collect();
        if ids.len() == 1 {
            // A unique official name could still be shadowed by a street of
            // the same spelling; it must then not claim a wrong street.
            if loc.street() == Some(streets[0]) {
                exact += 1;
                continue;
            }
        }
        partial += 1;
        if let Some(s) = loc.street() {
            assert!(
                streets.contains(&s),
                "{name}: street {} is none of its own",
                j.street(s).code()
            );
            assert!(
                ids.len() == 1 || streets.iter().all(|x| *x == s),
                "{name}: guessed between streets"
            );
        }
        if let Some(d) = loc.district() {
            assert!(
                districts.contains(&d),
                "{name}: district {} is none of its own",
                j.district(d).code()
            );
            assert!(
                districts.iter().all(|x| *x == d),
                "{name}: guessed between districts"
            );
        }
    }
    // Most names are unique; some official names differ only by a suffix
    // from another place's (东营房社区 / 东营房社区居委会) and rightly stay
    // ambiguous.
    assert!(
        exact * 10 > by_name.len() * 9,
        "only {exact} of {} names located exactly ({partial} partial)",
        by_name.len()
    );
}
