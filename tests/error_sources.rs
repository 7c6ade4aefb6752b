//! A configuration that does not parse is a `BuildError` whose
//! `std::error::Error::source` is the parser's own error (TOML, JSON, CSV,
//! jiff), kept whole; a problem found after parsing has no source. The
//! messages are the ones the crate always printed.

use std::error::Error;

use hotline_router::locate::geojson::{parse_feature_collection, Untidy};
use hotline_router::{
    BuildError, BuildErrorKind, Calendar, JurisdictionsConfig, ParseSource, Router, RouterConfig,
    RoutingConfig, TaxonomyConfig,
};

/// The parser's error behind a build error, checked to be the whole chain's
/// next link and to be what the message ends with.
fn parser_error(err: &BuildError) -> &(dyn Error + Send + Sync + 'static) {
    let source = err.source().unwrap_or_else(|| panic!("no source: {err}"));
    let kept = source
        .downcast_ref::<ParseSource>()
        .unwrap_or_else(|| panic!("the source is a ParseSource: {source:?}"));
    let BuildErrorKind::Parse {
        message,
        source: Some(in_kind),
        ..
    } = err.kind()
    else {
        panic!("not a parse error with a source: {err:?}");
    };
    assert_eq!(in_kind, kept);
    assert_eq!(source.to_string(), *message);
    assert!(err.to_string().ends_with(message.as_str()), "{err}");
    kept.get()
}

#[test]
fn toml_files_keep_the_toml_error() {
    let err = TaxonomyConfig::from_toml("[[category]]\ncode = 3", "t.toml").unwrap_err();
    assert!(
        err.to_string().starts_with("cannot parse t.toml: "),
        "{err}"
    );
    assert!(parser_error(&err)
        .downcast_ref::<toml::de::Error>()
        .is_some());

    let err = RoutingConfig::from_toml("handler = 3", "r.toml").unwrap_err();
    assert!(parser_error(&err)
        .downcast_ref::<toml::de::Error>()
        .is_some());

    let err = Calendar::from_toml("first_year = \"x\"", "c.toml").unwrap_err();
    assert!(parser_error(&err)
        .downcast_ref::<toml::de::Error>()
        .is_some());
}

#[test]
fn json_and_csv_keep_their_errors() {
    let err = parse_feature_collection("{\"type\": ", "d.geojson", "code", "name", Untidy::Reject)
        .unwrap_err();
    assert!(parser_error(&err)
        .downcast_ref::<serde_json::Error>()
        .is_some());

    let err = JurisdictionsConfig::from_csv("code\n1\n", "", "").unwrap_err();
    assert!(parser_error(&err).downcast_ref::<csv::Error>().is_some());
}

#[test]
fn an_offset_out_of_range_keeps_the_jiff_error() {
    let mut config = RouterConfig::beijing();
    config.routing.utc_offset_hours = 99;
    let err = Router::from_config(config).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("cannot parse routing utc_offset_hours: "));
    assert!(parser_error(&err).downcast_ref::<jiff::Error>().is_some());
}

#[test]
fn problems_found_after_parsing_have_no_source() {
    let err = parse_feature_collection(
        "{\"type\": \"Point\"}",
        "p.geojson",
        "code",
        "name",
        Untidy::Reject,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot parse p.geojson: the top level is not a GeoJSON FeatureCollection"
    );
    assert!(err.source().is_none());
    assert!(matches!(
        err.kind(),
        BuildErrorKind::Parse { source: None, .. }
    ));

    let err = BuildError::from(BuildErrorKind::MissingHandler {
        category: "heating".into(),
    });
    assert_eq!(
        err.to_string(),
        "category 'heating' has no handler: every category needs one"
    );
    assert!(err.source().is_none());
}

#[test]
fn errors_compare_and_clone_with_their_source() {
    let a = TaxonomyConfig::from_toml("[[category]]\ncode = 3", "t.toml").unwrap_err();
    let b = TaxonomyConfig::from_toml("[[category]]\ncode = 3", "t.toml").unwrap_err();
    assert_eq!(a, b, "the same file fails the same way");
    assert_eq!(a.clone(), a);
    assert_ne!(
        a.clone(),
        BuildError::from(BuildErrorKind::MissingHandler {
            category: "x".into()
        })
    );
}
