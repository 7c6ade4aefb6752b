//! Every record the crate writes can be read back: serialize → deserialize
//! gives the same value, and a `hotline route` output line (written by
//! `jsonl::route_lines`, which the CLI runs) parses into a `DecisionRecord`
//! that writes back byte for byte.

use hotline_router::jsonl::{self, ErrorRecord};
use hotline_router::{
    ClassifiedBy, Crs, DecisionRecord, Language, LanguageService, LocatedBy, Router, Ticket,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Serializes, reads back, and checks the value and the bytes survive.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
    assert_eq!(&back, value, "{json}");
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn decision_records_round_trip() {
    let router = Router::beijing();
    let tickets = [
        Ticket::new("T1", "朝阳区呼家楼街道东大桥社区暖气片不热，屋里才15度").with_coordinates(
            116.4605,
            39.9230,
            Crs::Gcj02,
        ),
        Ticket::new("T2", "小区电梯坏了一个星期没人修").with_address("海淀区学院路街道"),
        Ticket::new("T3", "I lost my passport at the airport, who can help?"),
        Ticket::new(
            "T4",
            "Gostaria de saber onde posso renovar o meu visto de residência.",
        ),
        Ticket::new("T5", "楼道里着火了，有烟"),
    ];
    let mut seen = Vec::new();
    for t in &tickets {
        let record = router.route(t).unwrap().to_record(&t.id);
        round_trip(&record);
        seen.push((record.located_by, record.language_service));
    }
    // The tickets cover more than one value of the enums read back.
    assert!(seen.iter().any(|(l, _)| *l == LocatedBy::Address));
    assert!(seen.iter().any(|(l, _)| *l == LocatedBy::None));
    assert!(seen.iter().any(|(_, s)| *s == LanguageService::Interpreter));
}

#[test]
fn route_output_lines_parse_back_byte_for_byte() {
    let input = concat!(
        r#"{"id":"A1","text":"朝阳区呼家楼街道东大桥社区暖气片不热","lon":116.4605,"lat":39.9230,"crs":"gcj02","received_at":"2024-11-22T08:30:00+08:00"}"#,
        "\n",
        r#"{"id":"A2","text":"Je voudrais prolonger mon visa, à qui dois-je m'adresser ?","received_at":"2024-11-22T09:00:00+08:00"}"#,
        "\n",
        "not json\n",
    );
    let mut out = Vec::new();
    let summary = jsonl::route_lines(&Router::beijing(), input.as_bytes(), &mut out).unwrap();
    assert_eq!((summary.routed, summary.errors), (2, 1));
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    for line in &lines[..2] {
        let record: DecisionRecord = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&record).unwrap(), *line);
    }
    let first: DecisionRecord = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first.category, "heating");
    assert!(first.deadline.ends_with("+08:00"), "{}", first.deadline);
    let second: DecisionRecord = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(second.language, "fr");
    assert_eq!(second.language_service, LanguageService::Seat);
    let error: ErrorRecord = serde_json::from_str(lines[2]).unwrap();
    assert_eq!((error.id.as_deref(), error.line), (None, 3));
    assert_eq!(serde_json::to_string(&error).unwrap(), lines[2]);
}

#[test]
fn enums_round_trip_every_variant() {
    for v in [
        LocatedBy::Coordinates,
        LocatedBy::Address,
        LocatedBy::None,
        LocatedBy::Building,
    ] {
        round_trip(&v);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            format!("\"{}\"", v.as_str())
        );
    }
    for v in [
        LanguageService::Native,
        LanguageService::Seat,
        LanguageService::Interpreter,
    ] {
        round_trip(&v);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            format!("\"{}\"", v.as_str())
        );
    }
    for v in [
        ClassifiedBy::Keywords,
        ClassifiedBy::Model,
        ClassifiedBy::Both,
        ClassifiedBy::Caller,
    ] {
        round_trip(&v);
    }
    assert!(serde_json::from_str::<LocatedBy>("\"gps\"").is_err());
}

#[test]
fn languages_read_back_and_unknown_codes_are_errors() {
    let texts = [
        "小区暖气不热",
        "I lost my passport at the airport, who can help?",
        "Je voudrais prolonger mon visa, à qui dois-je m'adresser ?",
        "Gostaria de saber onde posso renovar o meu visto de residência.",
        "Здравствуйте, у нас в подъезде не работает лифт уже неделю",
        "エレベーターが壊れています",
    ];
    for text in texts {
        let lang = Language::detect(text);
        round_trip(&lang);
        assert_eq!(Language::from_code(lang.code()), Some(lang));
    }
    let err = serde_json::from_str::<Language>("\"klingon\"").unwrap_err();
    assert!(
        err.to_string().contains("unknown language code 'klingon'"),
        "{err}"
    );
}
