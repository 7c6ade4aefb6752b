//! The enterprise line (企业服务热线): its categories, handlers and
//! working-day deadlines, the channel policy (its categories are its own;
//! a company's pothole is still a pothole), the held-out enterprise set,
//! and the configuration checks of channels.

mod common;
use common::beijing as router;

use hotline_router::{
    BuildErrorKind, Channel, ClassifiedBy, Priority, Router, RouterConfig, TaxonomyConfig, Ticket,
};
use jiff::Timestamp;

/// A Wednesday with no holiday in the next three weeks.
const WEDNESDAY: &str = "2024-11-20T10:00:00+08:00";

fn on_line(text: &str, address: &str, at: &str) -> Ticket {
    Ticket::new("E", text)
        .with_address(address)
        .with_channel(Channel::Enterprise)
        .with_received_at(at.parse::<Timestamp>().unwrap())
}

/// (text, category, agency, deadline) on the enterprise line in 海淀区
/// (110108), received on [`WEDNESDAY`]: deadlines are the end of the 3rd,
/// 5th or 10th working day after (Thursday, Friday, Monday …).
const TABLE: &[(&str, &str, &str, &str)] = &[
    (
        "我们公司是一家专精特新中小企业，想申请知识产权质押贷款，银行不认我们的专利，请问有没有贴息和担保支持？",
        "enterprise.financing",
        "district:110108:finance",
        "2024-11-28T00:00:00+08:00",
    ),
    (
        "我们餐饮公司新店的食品经营许可证提交二十个工作日了还没批下来，现场核查也没人约。",
        "enterprise.permits",
        "district:110108:gov_services",
        "2024-11-28T00:00:00+08:00",
    ),
    (
        "我们公司想在营业执照的经营范围里增加医疗器械销售，网上变更登记被驳回了。",
        "enterprise.market_access",
        "district:110108:market",
        "2024-11-26T00:00:00+08:00",
    ),
    (
        "我们是外贸企业，出口退税申报三个月了还没退下来，税务局说在函调。",
        "enterprise.tax",
        "district:110108:tax",
        "2024-11-26T00:00:00+08:00",
    ),
    (
        "我们公司今年招了五个应届博士，想申请人才引进落户指标，人社局说名额不够要排队。",
        "enterprise.talent",
        "district:110108:hr",
        "2024-11-28T00:00:00+08:00",
    ),
    (
        "我们公司要扩产，需要找三千平米的标准厂房，园区都说没有空余，请帮忙对接产业空间。",
        "enterprise.sites",
        "district:110108:commerce",
        "2024-12-05T00:00:00+08:00",
    ),
    (
        "区里承诺的专精特新企业奖励资金一年了还没兑现，经信局说财政在走流程。",
        "enterprise.policy",
        "district:110108:commerce",
        "2024-11-28T00:00:00+08:00",
    ),
    (
        "我们药企需要一批荷瘤小鼠做药效学实验，供应商排期三个月，请科委帮忙对接实验动物平台。",
        "enterprise.tech_resources",
        "district:110108:science",
        "2024-11-28T00:00:00+08:00",
    ),
];

#[test]
fn enterprise_tickets_go_to_their_bureau_with_working_day_deadlines() {
    for &(text, category, agency, deadline) in TABLE {
        let d = router()
            .route(&on_line(text, "海淀区中关村街道", WEDNESDAY))
            .unwrap();
        assert_eq!(d.category().code(), category, "{text}\n{:#?}", d.explain());
        assert_eq!(d.agency_code(), agency, "{text}");
        assert_eq!(d.priority(), Priority::Normal, "{text}");
        assert_eq!(d.deadline_local(), deadline, "{text}");
        assert!(
            d.explain().iter().any(|r| r.contains("working days")),
            "{:#?}",
            d.explain()
        );
    }
}

#[test]
fn premises_have_planning_as_co_handler() {
    let d = router()
        .route(&on_line(TABLE[5].0, "海淀区中关村街道", WEDNESDAY))
        .unwrap();
    let co: Vec<&str> = d
        .co_agencies()
        .iter()
        .map(|a| router().rules().agency(*a).code())
        .collect();
    assert_eq!(co, ["district:110108:planning"]);
}

#[test]
fn working_days_skip_the_national_day_week() {
    // Received on the eve of the 2024 National Day holiday (1–7 October);
    // Saturday 12 October is a make-up working day.
    let d = router()
        .route(&on_line(TABLE[3].0, "海淀区", "2024-09-30T10:00:00+08:00"))
        .unwrap();
    assert_eq!(d.category().code(), "enterprise.tax");
    assert_eq!(d.deadline_local(), "2024-10-11T00:00:00+08:00");
    let d = router()
        .route(&on_line(TABLE[0].0, "海淀区", "2024-09-30T10:00:00+08:00"))
        .unwrap();
    assert_eq!(d.deadline_local(), "2024-10-13T00:00:00+08:00");
}

#[test]
fn an_urgent_company_matter_is_due_in_24_hours() {
    let d = router()
        .route(&on_line(
            "银行昨天突然抽贷两千万，我们公司资金链断裂，下周工资都发不出来了，请金融办马上协调！",
            "朝阳区",
            WEDNESDAY,
        ))
        .unwrap();
    assert_eq!(d.category().code(), "enterprise.financing");
    assert_eq!(d.agency_code(), "district:110105:finance");
    assert_eq!(d.priority(), Priority::Urgent);
    assert_eq!(d.deadline_local(), "2024-11-21T10:00:00+08:00");
}

#[test]
fn the_enterprise_lines_categories_are_its_own() {
    let same_text = |text: &str| {
        let phone = Ticket::new("P", text).with_address("海淀区");
        let line = phone.clone().with_channel(Channel::Enterprise);
        let p = router().route(&phone).unwrap();
        let e = router().route(&line).unwrap();
        (
            p.category().code().to_string(),
            e.category().code().to_string(),
            e.explain(),
        )
    };
    // A shop owner on 12345 about their licence, a company on its line.
    let (p, e, _) = same_text("我的营业执照经营范围要增加一项，网上变更登记一直被驳回");
    assert_eq!(
        (p.as_str(), e.as_str()),
        ("market.regulation", "enterprise.market_access")
    );
    // On the enterprise line enterprise.tax takes the place of tax, and says so.
    let (p, e, why) = same_text("我们公司的增值税专用发票额度不够用了，申请增量三天没批");
    assert_eq!((p.as_str(), e.as_str()), ("tax", "enterprise.tax"));
    assert!(
        why.iter()
            .any(|r| r == "on the enterprise channel enterprise.tax takes the place of tax"),
        "{why:#?}"
    );
    // A category of the enterprise line alone is never the answer elsewhere.
    for (_, c) in router().categories() {
        if c.channels() == [Channel::Enterprise] && !c.allows(Channel::Phone) {
            for &(text, ..) in TABLE {
                let d = router().route(&Ticket::new("P", text)).unwrap();
                assert_ne!(d.category().code(), c.code(), "{text} on the phone");
            }
        }
    }
}

#[test]
fn companies_calling_12345_still_reach_the_open_enterprise_categories() {
    let d = router()
        .route(&Ticket::new(
            "P",
            "我们公司申报的专精特新中小企业奖励资金什么时候兑现？",
        ))
        .unwrap();
    assert_eq!(d.category().code(), "enterprise.policy");
    let d = router()
        .route(&Ticket::new(
            "P",
            "想找高校的大型科研仪器共享平台做检测，怎么预约机时？",
        ))
        .unwrap();
    assert_eq!(d.category().code(), "enterprise.tech_resources");
}

#[test]
fn a_companys_pothole_on_the_enterprise_line_routes_as_usual() {
    let d = router()
        .route(&on_line(
            "我们企业在园区里，园区门口的道路塌了一个大坑，大货车进出很危险，请尽快修路。",
            "海淀区中关村街道",
            WEDNESDAY,
        ))
        .unwrap();
    assert_eq!(d.category().code(), "transport.roads", "{:#?}", d.explain());
    assert_eq!(d.agency_code(), "district:110108:transport");
    // The default SLA: five working days.
    assert_eq!(d.deadline_local(), "2024-11-28T00:00:00+08:00");
    for (text, category, agency) in [
        (
            "我们公司所在的科技园从早上开始停电，服务器机房快撑不住了，请尽快恢复供电",
            "utilities.power",
            "city:power",
        ),
        (
            "我们公司办公楼旁边的工地每天晚上十一点以后还在打桩，噪音太大了",
            "env.noise",
            "street:110108001",
        ),
    ] {
        let d = router()
            .route(&on_line(text, "海淀区万寿路街道", WEDNESDAY))
            .unwrap();
        assert_eq!(d.category().code(), category, "{text}\n{:#?}", d.explain());
        assert_eq!(d.agency_code(), agency, "{text}");
    }
}

#[test]
fn enterprise_matters_in_the_development_zone_go_to_its_committee() {
    let d = router()
        .route(&on_line(TABLE[3].0, "北京经济技术开发区", WEDNESDAY))
        .unwrap();
    assert_eq!(d.category().code(), "enterprise.tax");
    assert_eq!(d.street_code(), Some("110115403"));
    assert_eq!(d.agency_code(), "city:etdz");
    assert!(d.co_agencies().is_empty());
    assert!(d
        .explain()
        .iter()
        .any(|r| r.contains("management committee")));
}

#[test]
fn the_route_line_keeps_its_fields() {
    let line = r#"{"id":"E9","text":"我们公司出口退税三个月没到账","address":"海淀区","channel":"enterprise","received_at":"2024-11-20T10:00:00+08:00"}"#;
    let record = hotline_router::jsonl::route_line(router(), line.as_bytes(), 1).unwrap();
    let json = serde_json::to_string(&record).unwrap();
    assert!(
        json.starts_with(
            r#"{"id":"E9","category":"enterprise.tax","domain":"economy","categories":["#
        ),
        "{json}"
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut contract = common::ROUTE_KEYS;
    keys.sort_unstable();
    contract.sort_unstable();
    assert_eq!(keys, contract);
}

/// The held-out set `tests/data/enterprise_heldout.jsonl`: tickets of the
/// enterprise line written apart from the training corpus and never
/// trained on — twelve for each new category (and a personal tax return,
/// which on this line is `enterprise.tax`), eight for each open one, and
/// seventeen companies' reports of ordinary problems (roads, power, noise,
/// wages, counterfeits …). Measured when the model was trained: 104 of 106
/// right (0.981); keywords alone 103 (0.972). The floor is 0.90, and 3 in 4
/// for each enterprise category.
#[test]
fn held_out_enterprise_tickets() {
    let lines: Vec<serde_json::Value> = include_str!("data/enterprise_heldout.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 100, "{} lines", lines.len());
    let mut wrong = Vec::new();
    let mut per_category = std::collections::BTreeMap::<&str, (u32, u32)>::new();
    for (n, l) in lines.iter().enumerate() {
        let channel: Channel = serde_json::from_value(l["channel"].clone()).unwrap();
        let label = l["category"].as_str().unwrap();
        let d = router()
            .route(&Ticket::new(format!("H{n}"), l["text"].as_str().unwrap()).with_channel(channel))
            .unwrap();
        let slot = per_category.entry(label).or_default();
        slot.1 += 1;
        if d.category().code() == label {
            slot.0 += 1;
        } else {
            wrong.push(format!("{label} → {}: {}", d.category().code(), l["text"]));
        }
    }
    let accuracy = 1.0 - wrong.len() as f64 / lines.len() as f64;
    eprintln!(
        "held-out enterprise: accuracy {accuracy:.3}\n{}",
        wrong.join("\n")
    );
    assert!(
        accuracy >= 0.90,
        "accuracy {accuracy:.3}:\n{}",
        wrong.join("\n")
    );
    for (label, (right, n)) in per_category {
        if label.starts_with("enterprise.") {
            assert!(right * 4 >= n * 3, "{label}: {right} of {n}");
        }
    }
}

#[test]
fn the_model_reads_the_enterprise_line() {
    // Not one keyword of any category: the model alone knows.
    for (text, category) in [
        (
            "公司想找几家基金投我们的B轮，有没有政府牵头的对接会？",
            "enterprise.financing",
        ),
        (
            "生产线要翻倍，现在的地方放不下了，想找个大点的地方",
            "enterprise.sites",
        ),
        (
            "我们想请几位海外回来的专家加入，他们落脚北京的事能不能帮忙",
            "enterprise.talent",
        ),
    ] {
        assert!(
            router().classifier().classify(text).matched().is_empty(),
            "{text}"
        );
        let d = router().route(&on_line(text, "海淀区", WEDNESDAY)).unwrap();
        assert_eq!(d.category().code(), category, "{text}\n{:#?}", d.explain());
        assert_eq!(d.classified_by(), ClassifiedBy::Model);
    }
}

fn taxonomy_with(extra: &str) -> Result<Router, hotline_router::BuildError> {
    let text = format!(
        r#"
        channel_bonus = 6
        [[category]]
        code = "tax"
        name = "税务"
        keywords = {{ "退税" = 7 }}
        {extra}
        [[category]]
        code = "other"
        name = "其他"
        "#
    );
    let mut config = RouterConfig::beijing();
    config.taxonomy = TaxonomyConfig::from_toml(&text, "t.toml")?;
    config
        .routing
        .handlers
        .retain(|code, _| code == "tax" || code == "other");
    config.routing.rules.clear();
    let codes: Vec<String> = config
        .taxonomy
        .categories
        .iter()
        .map(|c| c.code.clone())
        .collect();
    for code in codes.iter().filter(|c| c.starts_with("x.")) {
        config.routing.handlers.insert(
            code.clone(),
            hotline_router::HandlerConfig {
                handler: "district:tax".into(),
                co: vec![],
                sla: None,
            },
        );
    }
    Router::builder().without_model().build(config)
}

#[test]
fn channels_are_checked_when_the_router_is_built() {
    let ok = taxonomy_with(
        r#"[[category]]
        code = "x.a"
        name = "a"
        channels = ["enterprise"]
        replaces = ["tax"]
        keywords = { "出口退税" = 12 }"#,
    )
    .unwrap();
    let d = ok
        .route(&Ticket::new("t", "出口退税").with_channel(Channel::Enterprise))
        .unwrap();
    assert_eq!(d.category().code(), "x.a");
    let d = ok.route(&Ticket::new("t", "出口退税")).unwrap();
    assert_eq!(d.category().code(), "tax");

    let err = taxonomy_with(
        r#"[[category]]
        code = "x.a"
        name = "a"
        channels = ["fax"]"#,
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::Parse { source_name, .. } if source_name == "t.toml"),
        "{err}"
    );
    assert!(err.to_string().contains("fax"), "{err}");

    for (extra, says) in [
        (
            r#"[[category]]
            code = "x.a"
            name = "a"
            other_channels = true"#,
            "other_channels = true means nothing without channels",
        ),
        (
            r#"[[category]]
            code = "x.a"
            name = "a"
            channels = ["enterprise", "enterprise"]"#,
            "channel 'enterprise' is listed twice",
        ),
        (
            r#"[[category]]
            code = "x.a"
            name = "a"
            replaces = ["tax"]"#,
            "replaces needs channels",
        ),
        (
            r#"[[category]]
            code = "x.a"
            name = "a"
            channels = ["enterprise"]
            replaces = ["tax"]
            [[category]]
            code = "x.b"
            name = "b"
            channels = ["enterprise"]
            replaces = ["tax"]"#,
            "'tax' is already replaced on the same channel by 'x.a'",
        ),
    ] {
        let err = taxonomy_with(extra).unwrap_err();
        assert!(
            matches!(err.kind(), BuildErrorKind::InvalidChannels { category, .. } if category.starts_with("x.")),
            "{err}"
        );
        assert!(err.to_string().contains(says), "{err}");
    }

    let err = taxonomy_with(
        r#"[[category]]
        code = "x.a"
        name = "a"
        channels = ["enterprise"]
        replaces = ["taxes"]"#,
    )
    .unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::UnknownCategory { category, .. } if category == "taxes"),
        "{err}"
    );

    // The fallback must stay open to every channel.
    let mut config = RouterConfig::beijing();
    let other = config
        .taxonomy
        .categories
        .iter_mut()
        .find(|c| c.code == "other")
        .unwrap();
    other.channels = vec![Channel::Phone];
    let err = Router::from_config(config).unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidChannels { category, .. } if category == "other"),
        "{err}"
    );
}
