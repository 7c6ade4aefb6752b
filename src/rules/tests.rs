//! A rule's forced priority, seen through the router.

use crate::{Priority, Router, RouterConfig, RuleConfig, Ticket};

fn router_with(priority: Option<Priority>) -> Router {
    let mut config = RouterConfig::beijing();
    config.routing.rules.push(RuleConfig {
        categories: vec!["heating".into()],
        district: Some("110105".into()),
        priority,
        ..RuleConfig::default()
    });
    Router::from_config(config).unwrap()
}

/// Heating in 朝阳区, with its category's urgent words.
fn burst_pipe() -> Ticket {
    Ticket::new("T1", "暖气管爆裂了，水漫到楼道").with_address("朝阳区呼家楼街道")
}

/// Heating in 朝阳区, nothing urgent.
fn cold_radiator() -> Ticket {
    Ticket::new("T2", "暖气片不热，屋里才十五度").with_address("朝阳区呼家楼街道")
}

#[test]
fn a_rule_forcing_normal_lowers_an_urgent_ticket() {
    let plain = Router::beijing();
    let d = plain.route(&burst_pipe()).unwrap();
    assert_eq!(d.category().code(), "heating");
    assert_eq!(
        d.priority(),
        Priority::Urgent,
        "the words alone make it urgent"
    );

    let lowered = router_with(Some(Priority::Normal));
    let d = lowered.route(&burst_pipe()).unwrap();
    assert_eq!(d.priority(), Priority::Normal);
    assert!(
        d.explain()
            .iter()
            .any(|r| r == "normal: the rule lowers every ticket to normal"),
        "{:?}",
        d.explain()
    );
    assert!(
        !d.explain().iter().any(|r| r.starts_with("urgent")),
        "{:?}",
        d.explain()
    );
    // Elsewhere the rule does not apply: 海淀区 keeps the urgency.
    let haidian = burst_pipe().with_address("海淀区学院路街道");
    assert_eq!(
        lowered.route(&haidian).unwrap().priority(),
        Priority::Urgent
    );
}

#[test]
fn a_rule_forcing_urgent_raises_and_no_priority_leaves_the_words_to_decide() {
    let raised = router_with(Some(Priority::Urgent));
    let d = raised.route(&cold_radiator()).unwrap();
    assert_eq!(d.priority(), Priority::Urgent);
    assert!(d
        .explain()
        .iter()
        .any(|r| r.contains("raises every ticket to urgent")));

    let neutral = router_with(None);
    assert_eq!(
        neutral.route(&cold_radiator()).unwrap().priority(),
        Priority::Normal
    );
    assert_eq!(
        neutral.route(&burst_pipe()).unwrap().priority(),
        Priority::Urgent
    );
}
