//! Routes a ticket, submits it, claims, responds, resolves, evaluates and
//! reads the 三率 — with only the `dispatch` feature of hotline-router.

use std::sync::Arc;

use hotline_router::dispatch::{Clock, Dispatcher, Evaluation, ManualClock, State};
use hotline_router::evaluate::GroupBy;
use hotline_router::jiff::SignedDuration;
use hotline_router::{Router, Ticket};

fn main() {
    let router = Router::beijing();
    let ticket =
        Ticket::new("E1", "楼下饭店油烟太大，窗户都不敢开").with_address("海淀区学院路街道");
    let agency = router
        .route(&ticket)
        .expect("routable")
        .agency_code()
        .to_string();
    assert_eq!(agency, "district:110108:ecology");

    let clock = Arc::new(ManualClock::new(
        "2024-11-20T08:00:00+08:00".parse().unwrap(),
    ));
    let d = Dispatcher::builder(router).clock(clock.clone()).build();
    let from = clock.now();
    assert_eq!(d.submit(ticket).expect("accepted").agency, agency);

    let claim = d
        .claim(&agency, "w1")
        .unwrap()
        .expect("a ticket on the list");
    assert_eq!(claim.id, "E1");
    clock.advance(SignedDuration::from_hours(2));
    d.respond(&claim.id, "w1").unwrap();
    d.resolve(&claim.id, "w1", "hood cleaned, filter fitted")
        .unwrap();
    let answers = Evaluation {
        responded: true,
        resolved: true,
        satisfied: true,
    };
    d.evaluate(&claim.id, answers).unwrap();
    assert_eq!(d.record("E1").unwrap().state(), State::Evaluated);

    let rates = d.rates(GroupBy::Agency, from, clock.now());
    let r = rates
        .iter()
        .find(|r| r.key == agency)
        .expect("the agency is rated");
    assert_eq!((r.received, r.evaluated), (1, 1));
    assert_eq!(r.satisfaction_rate(), Some(1.0));
    assert_eq!(r.on_time_rate(), Some(1.0));
    println!("{agency}: received 1, 三率 score {:?}", r.score());
}
