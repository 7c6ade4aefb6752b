//! Unit tests of the keyword classifier.

use super::*;

fn taxonomy() -> TaxonomyConfig {
    TaxonomyConfig::from_toml(
        r#"
        [urgency]
        keywords = ["燃气泄漏", "trapped"]
        [[category]]
        code = "heating"
        name = "供暖"
        keywords = { "暖气" = 3, "暖气片不热" = 6, "heating" = 4, "燃气壁挂炉" = 2 }
        urgent = ["暖气管爆裂"]
        [[category]]
        code = "utilities.gas"
        name = "燃气"
        keywords = { "燃气" = 4, "燃气壁挂炉" = -3 }
        [[category]]
        code = "transport.ev_charging"
        name = "充电桩"
        keywords = { "充电桩" = 8, "停车位" = 1 }
        [[category]]
        code = "transport.parking"
        name = "停车"
        keywords = { "停车位" = 4, "挪车" = 6, "充电桩" = -2 }
        [[category]]
        code = "other"
        name = "其他"
        "#,
        "test",
    )
    .unwrap()
}

fn classify(text: &str) -> (String, Vec<String>, bool) {
    let c = Classifier::new(&taxonomy(), "other").unwrap();
    let r = c.classify(text);
    (
        c.category(r.primary()).code().to_string(),
        r.secondary()
            .iter()
            .map(|s| c.category(*s).code().to_string())
            .collect(),
        r.is_urgent(),
    )
}

macro_rules! cases {
    ($($name:ident: $text:expr => $primary:expr, [$($sec:expr),*], $urgent:expr;)*) => {$(
        #[test]
        fn $name() {
            let (p, s, u) = classify($text);
            assert_eq!(p, $primary, "primary of {:?}", $text);
            assert_eq!(s, vec![$($sec.to_string()),*] as Vec<String>, "secondary of {:?}", $text);
            assert_eq!(u, $urgent, "urgency of {:?}", $text);
        }
    )*};
}

cases! {
    overlapping_keywords_all_count: "暖气片不热" => "heating", [], false;
    negative_keyword_breaks_confusion: "燃气壁挂炉不出热水" => "heating", ["utilities.gas"], false;
    plain_gas: "燃气表坏了" => "utilities.gas", [], false;
    urgency_anywhere: "楼道里燃气泄漏" => "utilities.gas", [], true;
    category_urgency_only_when_primary: "暖气管爆裂了暖气片不热" => "heating", [], true;
    secondary_category: "充电桩占了停车位，没法挪车" => "transport.ev_charging", ["transport.parking"], false;
    weak_evidence_is_not_secondary: "停车位被占，没法挪车" => "transport.parking", [], false;
    ev_over_parking: "小区充电桩坏了" => "transport.ev_charging", [], false;
    nothing_matches: "表扬一下社区工作人员" => "other", [], false;
    empty_text: "" => "other", [], false;
    ascii_case_insensitive: "HEATING is off" => "heating", [], false;
    ascii_word_boundary: "preheating oven" => "other", [], false;
    ascii_next_to_cjk: "我家heating坏了" => "heating", [], false;
    urgent_word_boundary: "untrappedness" => "other", [], false;
    repeated_keyword_counts_once: "挪车挪车挪车 充电桩" => "transport.ev_charging", ["transport.parking"], false;
}

#[test]
fn ties_go_to_the_earlier_category() {
    let t = TaxonomyConfig::from_toml(
        "[[category]]\ncode='a'\nname='a'\nkeywords={'x'=2}\n[[category]]\ncode='b'\nname='b'\nkeywords={'x'=2}\n[[category]]\ncode='other'\nname='o'",
        "t",
    )
    .unwrap();
    let c = Classifier::new(&t, "other").unwrap();
    let r = c.classify("x");
    assert_eq!(c.category(r.primary()).code(), "a");
    assert_eq!(c.category(r.secondary()[0]).code(), "b");
}

#[test]
fn build_errors_name_the_item() {
    let mut t = taxonomy();
    t.categories[0].keywords.insert("  ".into(), 1);
    let err = Classifier::new(&t, "other").unwrap_err();
    assert!(
        matches!(err.kind(), BuildErrorKind::InvalidKeyword { category, .. } if category == "heating")
    );

    let mut t = taxonomy();
    t.categories[1].code = "heating".into();
    let err = Classifier::new(&t, "other").unwrap_err();
    assert_eq!(err.to_string(), "duplicate category code 'heating'");

    let err = Classifier::new(&taxonomy(), "misc").unwrap_err();
    assert!(err.to_string().contains("'misc'"));
}

#[test]
fn weights_and_keywords_are_reported() {
    let c = Classifier::new(&taxonomy(), "other").unwrap();
    let r = c.classify("燃气壁挂炉");
    let k = r.matched()[0];
    assert_eq!(c.keyword(k), "燃气");
    let heating = c.category_id("heating").unwrap();
    let wall = *r
        .matched()
        .iter()
        .find(|k| c.keyword(**k) == "燃气壁挂炉")
        .unwrap();
    assert_eq!(c.weight(wall, heating), 2);
}
