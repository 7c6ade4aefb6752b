//! A rule's priority: `urgent` raises, `normal` is refused at build.

use std::error::Error;

use crate::{BuildErrorKind, Priority, Router, RouterConfig, RuleConfig, Ticket};

fn router_with(priority: Option<Priority>) -> Result<Router, crate::BuildError> {
    let mut config = RouterConfig::beijing();
    config.routing.rules.push(RuleConfig {
        categories: vec!["heating".into()],
        district: Some("110105".into()),
        priority,
        ..RuleConfig::default()
    });
    Router::from_config(config)
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
fn a_rule_cannot_force_normal_and_the_error_names_it() {
    let rules = RouterConfig::beijing().routing.rules.len();
    let err = router_with(Some(Priority::Normal)).unwrap_err();
    assert_eq!(
        err.kind(),
        &BuildErrorKind::NormalPriorityRule {
            context: format!("rule {rules}")
        }
    );
    assert!(
        err.to_string()
            .starts_with(&format!("rule {rules}: priority = \"normal\"")),
        "{err}"
    );
    assert!(err.source().is_none());
}

#[test]
fn urgent_raises_and_no_priority_leaves_the_words_to_decide() {
    let raised = router_with(Some(Priority::Urgent)).unwrap();
    let d = raised.route(&cold_radiator()).unwrap();
    assert_eq!(d.category().code(), "heating");
    assert_eq!(d.priority(), Priority::Urgent);
    assert!(d
        .explain()
        .iter()
        .any(|r| r.contains("raises every ticket to urgent")));
    // Elsewhere the rule does not apply.
    let haidian = cold_radiator().with_address("海淀区学院路街道");
    assert_eq!(raised.route(&haidian).unwrap().priority(), Priority::Normal);

    let neutral = router_with(None).unwrap();
    assert_eq!(
        neutral.route(&cold_radiator()).unwrap().priority(),
        Priority::Normal
    );
    assert_eq!(
        neutral.route(&burst_pipe()).unwrap().priority(),
        Priority::Urgent
    );
}
