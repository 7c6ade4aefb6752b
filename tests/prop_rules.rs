//! Property tests of the compiled rule table against a naive model.
//!
//! Random jurisdictions, handlers and override rules; for every category at
//! every location level the compiled table must agree with a linear scan
//! that applies the documented precedence and fallbacks, every answer must be
//! an existing agency, and building twice must give the same table.

use std::collections::BTreeMap;

use hotline_router::{
    BuildErrorKind, CategoryConfig, Classifier, HandlerConfig, Jurisdictions, JurisdictionsConfig,
    RoutingConfig, RuleConfig, RuleSet, Sla, StreetId, TaxonomyConfig,
};
use proptest::prelude::*;

const SPECS: [&str; 6] = [
    "street",
    "district:gov",
    "district:parks",
    "city:water",
    "center:triage",
    "street:1001",
];

#[derive(Clone, Debug)]
struct Case {
    streets_per_district: Vec<usize>,
    categories: usize,
    handlers: Vec<(usize, Vec<usize>)>,
    rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
struct Rule {
    categories: Vec<usize>,
    /// Ok(district) or Err((district, street within it)).
    place: Result<usize, (usize, usize)>,
    agency: Option<usize>,
    co: Option<Vec<usize>>,
    urgent: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (prop::collection::vec(1usize..4, 1..4), 1usize..5).prop_flat_map(|(streets, categories)| {
        let d = streets.len();
        let streets2 = streets.clone();
        let place = (0..d).prop_flat_map(move |di| {
            let n = streets2[di];
            prop_oneof![Just(Ok(di)), (0..n).prop_map(move |si| Err((di, si)))]
        });
        let rule = (
            prop::collection::vec(0..categories, 1..3),
            place,
            prop::option::of(0..SPECS.len()),
            prop::option::of(prop::collection::vec(0..SPECS.len(), 0..3)),
            any::<bool>(),
        )
            .prop_map(|(categories, place, agency, co, urgent)| Rule {
                categories,
                place,
                agency,
                co,
                urgent,
            });
        (
            Just(streets),
            Just(categories),
            prop::collection::vec(
                (0..SPECS.len(), prop::collection::vec(0..SPECS.len(), 0..3)),
                categories + 1,
            ),
            prop::collection::vec(rule, 0..8),
        )
            .prop_map(|(streets_per_district, categories, handlers, rules)| Case {
                streets_per_district,
                categories,
                handlers,
                rules,
            })
    })
}

fn district_code(d: usize) -> String {
    format!("{}", 10 + d)
}
fn street_code(d: usize, s: usize) -> String {
    format!("{}{:02}", 10 + d, s + 1)
}

fn build(case: &Case) -> (Classifier, Jurisdictions, RoutingConfig) {
    let mut taxonomy = TaxonomyConfig::default();
    for c in 0..=case.categories {
        taxonomy.categories.push(CategoryConfig {
            code: if c == case.categories {
                "other".into()
            } else {
                format!("cat{c}")
            },
            domain: Default::default(),
            name: format!("c{c}"),
            name_en: String::new(),
            keywords: BTreeMap::new(),
            urgent: vec![],
            channels: vec![],
            other_channels: false,
            replaces: vec![],
        });
    }
    let classifier = Classifier::new(&taxonomy, "other").unwrap();
    let mut jc = JurisdictionsConfig::default();
    for (d, &n) in case.streets_per_district.iter().enumerate() {
        jc.districts.push(hotline_router::DistrictConfig {
            code: district_code(d),
            name: format!("D{d}区"),
            region: None,
        });
        for s in 0..n {
            jc.streets.push(hotline_router::StreetConfig {
                code: street_code(d, s),
                name: format!("D{d}S{s}街道"),
                district: district_code(d),
            });
        }
    }
    let jurisdictions = Jurisdictions::new(&jc).unwrap();
    let mut handlers = BTreeMap::new();
    for (c, (lead, co)) in case.handlers.iter().enumerate() {
        let code = if c == case.categories {
            "other".to_string()
        } else {
            format!("cat{c}")
        };
        handlers.insert(
            code,
            HandlerConfig {
                handler: SPECS[*lead].into(),
                co: co.iter().map(|i| SPECS[*i].to_string()).collect(),
                sla: Some(Sla::hours(1, 10 + c as u32)),
            },
        );
    }
    let routing = RoutingConfig {
        utc_offset_hours: 8,
        fallback_category: "other".into(),
        triage_name: "triage".into(),
        district_departments: [("gov", "政府"), ("parks", "园林")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        city_agencies: [("water".to_string(), "水务".to_string())].into(),
        default_sla: Sla::default(),
        handlers,
        rules: case
            .rules
            .iter()
            .map(|r| RuleConfig {
                categories: r.categories.iter().map(|c| format!("cat{c}")).collect(),
                district: r.place.ok().map(district_code),
                street: r.place.err().map(|(d, s)| street_code(d, s)),
                agency: r.agency.map(|a| SPECS[a].to_string()),
                co_agencies: r
                    .co
                    .as_ref()
                    .map(|co| co.iter().map(|a| SPECS[*a].to_string()).collect()),
                priority: r.urgent.then_some(hotline_router::Priority::Urgent),
                sla: None,
                note: None,
            })
            .collect(),
    };
    (classifier, jurisdictions, routing)
}

/// The documented semantics, written as plainly as possible.
fn model_agency(case: &Case, cat: usize, place: Option<(usize, Option<usize>)>) -> (String, bool) {
    let applies = |r: &Rule| -> bool {
        r.categories.contains(&cat)
            && match (r.place, place) {
                (Err((d, s)), Some((pd, Some(ps)))) => d == pd && s == ps,
                _ => false,
            }
    };
    let applies_district = |r: &Rule| -> bool {
        r.categories.contains(&cat) && matches!((r.place, place), (Ok(d), Some((pd, _))) if d == pd)
    };
    let rule = case
        .rules
        .iter()
        .find(|r| applies(r))
        .or_else(|| case.rules.iter().find(|r| applies_district(r)));
    let spec = rule.and_then(|r| r.agency).unwrap_or(case.handlers[cat].0);
    let urgent = rule.is_some_and(|r| r.urgent);
    let agency = match (SPECS[spec], place) {
        ("street", Some((d, Some(s)))) => format!("street:{}", street_code(d, s)),
        ("street", Some((d, None))) => format!("district:{}:gov", district_code(d)),
        ("district:gov", Some((d, _))) => format!("district:{}:gov", district_code(d)),
        ("district:parks", Some((d, _))) => format!("district:{}:parks", district_code(d)),
        ("street" | "district:gov" | "district:parks", None) => "center:triage".into(),
        (fixed, _) => fixed.to_string(),
    };
    (agency, urgent)
}

/// Two rules for the same category at the same place is a build error.
fn has_conflict(case: &Case) -> bool {
    let mut seen = std::collections::HashSet::new();
    case.rules.iter().any(|r| {
        let mut cats = r.categories.clone();
        cats.sort();
        cats.dedup();
        cats.into_iter().any(|c| !seen.insert((c, r.place)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compiled_table_matches_the_model(case in case()) {
        let (classifier, jurisdictions, routing) = build(&case);
        // street:1001 exists only if district 0 has a street 1001 — it does
        // (streets are numbered from 01), so every spec is valid.
        let built = RuleSet::new(&routing, &classifier, &jurisdictions);
        if has_conflict(&case) {
            let err = built.unwrap_err();
            prop_assert!(matches!(err.kind(), BuildErrorKind::ConflictingRules { .. }), "{}", err);
            return Ok(());
        }
        let rules = built.unwrap();
        let again = RuleSet::new(&routing, &classifier, &jurisdictions).unwrap();
        let mut places: Vec<Option<(usize, Option<usize>)>> = vec![None];
        for (d, &n) in case.streets_per_district.iter().enumerate() {
            places.push(Some((d, None)));
            places.extend((0..n).map(|s| Some((d, Some(s)))));
        }
        for (cat, _) in classifier.categories() {
            for &place in &places {
                let district = place.map(|(d, _)| jurisdictions.district_id(&district_code(d)).unwrap());
                let street: Option<StreetId> = place.and_then(|(d, s)| s.map(|s| jurisdictions.street_id(&street_code(d, s)).unwrap()));
                let a = rules.assignment(cat, district, street);
                let code = rules.agency(a.agency()).code();
                // Exactly one existing agency, and it is the model's.
                prop_assert_eq!(rules.agency_id(code), Some(a.agency()));
                let (expected, urgent) = model_agency(&case, cat.as_usize(), place);
                prop_assert_eq!(code, expected.as_str(), "category {} at {:?}", cat.as_usize(), place);
                prop_assert_eq!(a.forces_urgent(), urgent);
                for co in rules.co_agencies(a) {
                    prop_assert!(*co != a.agency(), "the lead is not its own co-handler");
                }
                // Deterministic: a second build answers the same.
                let b = again.assignment(cat, district, street);
                prop_assert_eq!(b.agency(), a.agency());
                prop_assert_eq!(again.co_agencies(b), rules.co_agencies(a));
            }
        }
    }
}
