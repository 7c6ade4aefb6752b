//! The `hotline` binary end to end: train → predict → evaluate → route on
//! small inline data, and the errors a user can make.

mod common;

use common::{hotline, ok, stderr, stdout, usage_error, TempDir};
use std::path::{Path, PathBuf};

use hotline_router::classify::model::Model;
use hotline_router::{jsonl, Router, RouterConfig};
use serde_json::Value;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Three categories of the Beijing taxonomy, eight tickets each.
const HEATING: [&str; 8] = [
    "家里暖气片一直不热，屋里才十五度",
    "供暖都半个月了暖气还是冰凉的",
    "我们小区今年暖气温度一直不达标，老人孩子都冻感冒了",
    "热力公司说管道有问题，可是一直没人来修暖气",
    "暖气不热，打了好几次电话都说排队",
    "咨询一下今年供暖费什么时候交",
    "暖气管漏水了，热力公司不来修",
    "供暖温度太低，屋里穿羽绒服",
];
const WAGES: [&str; 8] = [
    "老板拖欠我们三个月工资不发",
    "公司倒闭了，欠了我两万多元工资",
    "我在工厂上班，工资一直拖着不给",
    "欠薪半年了，找劳动监察也没有结果",
    "离职后公司不结算最后一个月工资",
    "工资被克扣，加班费也没有",
    "包工头跑了，农民工工资没人管",
    "单位拖欠绩效工资一年多",
];
const NOISE: [&str; 8] = [
    "楼下饭馆晚上噪音太大，睡不着觉",
    "工地夜间施工，噪音扰民到凌晨两点",
    "广场舞音响声音太大了，影响休息",
    "隔壁KTV每天晚上吵到半夜",
    "小区门口的商铺大喇叭一直在喊，太吵了",
    "夜里渣土车来回跑，轰鸣声不断",
    "楼上装修电钻噪音从早到晚",
    "酒吧音乐声太大，整条街都能听到",
];

fn labelled_line(text: &str, label: &str) -> String {
    serde_json::json!({ "text": text, "label": label }).to_string()
}

/// The labelled data as two files: the first with a byte-order mark, CRLF
/// line ends, a blank line and an extra field; the second plain.
fn write_training_files(dir: &TempDir) -> (PathBuf, PathBuf) {
    let mut a = String::from("\u{FEFF}");
    for t in &HEATING[..] {
        a.push_str(&labelled_line(t, "heating"));
        a.push_str("\r\n");
    }
    a.push_str("\r\n");
    for t in &WAGES[..4] {
        a.push_str(&format!(
            "{{\"id\": \"x\", \"text\": {}, \"label\": \"labor.wages\"}}\n",
            serde_json::to_string(t).unwrap()
        ));
    }
    let mut b = String::new();
    for t in &WAGES[4..] {
        b.push_str(&labelled_line(t, "labor.wages"));
        b.push('\n');
    }
    for t in &NOISE[..] {
        b.push_str(&labelled_line(t, "env.noise"));
        b.push('\n');
    }
    b.pop(); // the last line without its newline
    (dir.file("a.jsonl", a), dir.file("b.jsonl", b))
}

/// Trains a model on the two files with the CLI; returns its path.
fn train(dir: &TempDir) -> PathBuf {
    let (a, b) = write_training_files(dir);
    let model = dir.path("model.bin");
    let o = hotline(
        &[
            "train",
            "--input",
            path(&a),
            "--input",
            path(&b),
            "--output",
            path(&model),
            "--seed",
            "7",
        ],
        b"",
    );
    ok(&o);
    let report = stderr(&o);
    assert!(report.contains("24 examples, 3 labels"), "{report}");
    for what in ["features", "weights", "bytes", " s:"] {
        assert!(report.contains(what), "{what} missing from {report}");
    }
    model
}

#[test]
fn train_predict_evaluate() {
    let dir = TempDir::new("round-trip");
    let model_path = train(&dir);
    let model = Model::load(&model_path).expect("train writes a loadable model");
    assert_eq!(model.labels(), ["env.noise", "heating", "labor.wages"]);

    // predict: one line out per line in, errors as error lines.
    let input = [
        r#"{"id":"p1","text":"暖气片冰凉冰凉的，屋里太冷"}"#,
        "",
        r#"{"id":"p2","text":"老板拖欠工资不给","address":"朝阳区"}"#,
        "not json",
        r#"{"id":"p3"}"#,
        r#"{"text":"no id"}"#,
        "{\"id\":\"p4\",\"text\":\"\u{FEFF}\"}",
        r#"{"id":"p5","text":"半夜施工噪音太吵"}"#,
    ]
    .join("\r\n");
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(input.as_bytes());
    bytes.extend_from_slice(b"\n{\"id\":\"p6\",\"text\":\"\xff\xfe\"}\n");
    let out = ok(&hotline(
        &["predict", "--model", path(&model_path), "--top", "2"],
        &bytes,
    ));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    assert_eq!(lines.len(), 9, "{out}");
    for (i, line) in lines.iter().enumerate() {
        if line.get("error").is_some() {
            assert_eq!(line["line"], i as u64 + 1, "{line}");
            continue;
        }
        let confidence = line["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{line}");
        let top = line["top"].as_array().unwrap();
        assert_eq!(top.len(), 2);
        assert_eq!(top[0]["label"], line["label"]);
        assert!(top[0]["confidence"].as_f64() >= top[1]["confidence"].as_f64());
    }
    let label = |i: usize| lines[i]["label"].as_str().unwrap_or("-");
    assert_eq!(
        (label(0), label(2), label(7)),
        ("heating", "labor.wages", "env.noise")
    );
    assert_eq!(lines[0]["id"], "p1");
    assert!(lines[1]["error"].as_str().unwrap().contains("empty line"));
    assert_eq!(lines[3]["id"], Value::Null);
    assert_eq!(lines[4]["id"], "p3");
    assert!(lines[4]["error"].as_str().unwrap().contains("text"));
    assert!(lines[5]["error"].as_str().unwrap().contains("id"));
    assert_eq!(lines[6]["label"], lines[6]["top"][0]["label"]); // a BOM inside a line is text
    assert_eq!(lines[8]["line"], 9); // invalid UTF-8
    assert!(lines[8].get("error").is_some());

    // Without --top there is no "top".
    let out = ok(&hotline(
        &["predict", "--model", path(&model_path)],
        r#"{"id":"q","text":"暖气不热"}"#.as_bytes(),
    ));
    let line: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(line["label"], "heating");
    assert!(line.get("top").is_none());

    // evaluate a model: the report, then the numbers.
    let (a, b) = (dir.path("a.jsonl"), dir.path("b.jsonl"));
    let inputs = ["--input", path(&a), "--input", path(&b)];
    let model_args = ["--model", path(&model_path)];
    let report = ok(&hotline(
        &[&["evaluate"][..], &model_args, &inputs].concat(),
        b"",
    ));
    assert!(report.contains("accuracy"), "{report}");
    let json = ok(&hotline(
        &[&["evaluate", "--json"][..], &model_args, &inputs].concat(),
        b"",
    ));
    let e: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(e["total"], 24);
    assert!(e["accuracy"].as_f64().unwrap() > 0.9, "{e}");
    assert!(e["macro_f1"].as_f64().is_some());
    assert_eq!(e["labels"]["heating"]["support"], 8);
    for field in ["precision", "recall", "f1"] {
        assert!(e["labels"]["env.noise"][field].as_f64().is_some());
    }
    let confusion = e["confusion"].as_array().unwrap();
    let counted: u64 = confusion.iter().map(|c| c[2].as_u64().unwrap()).sum();
    assert_eq!(counted, 24);
    assert!(confusion
        .iter()
        .any(|c| c[0] == "heating" && c[1] == "heating"));

    // cross-validate the trainer instead.
    let report = ok(&hotline(
        &[
            &["evaluate", "--folds", "3", "--hash-bits", "16"][..],
            &inputs,
        ]
        .concat(),
        b"",
    ));
    assert!(report.contains("accuracy"), "{report}");
    let json = ok(&hotline(
        &[&["evaluate", "--folds", "3", "--json"][..], &inputs].concat(),
        b"",
    ));
    let e: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(e["total"], 24);

    // Exactly one of --model and --folds; trainer options only with --folds.
    usage_error(&hotline(
        &[&["evaluate", "--folds", "3"][..], &model_args, &inputs].concat(),
        b"",
    ));
    usage_error(&hotline(&[&["evaluate"][..], &inputs].concat(), b""));
    let m = usage_error(&hotline(
        &[&["evaluate", "--ngrams", "2"][..], &model_args, &inputs].concat(),
        b"",
    ));
    assert!(m.contains("--ngrams"), "{m}");
    let m = usage_error(&hotline(
        &[&["evaluate", "--folds", "30"][..], &inputs].concat(),
        b"",
    ));
    assert!(m.contains("30 folds"), "{m}");
}

/// Tickets with times (a ticket without one is taken as received now, and
/// its deadline would differ between two runs), with and without places,
/// and lines that cannot be routed.
fn tickets() -> Vec<u8> {
    let mut s = String::from("\u{FEFF}");
    s.push_str(concat!(
        r#"{"id":"r1","text":"家里暖气片一直不热","address":"朝阳区呼家楼街道东大桥社区","received_at":"2024-11-20T08:00:00+08:00"}"#, "\r\n",
        r#"{"id":"r2","text":"楼下饭店油烟太大","lon":116.4605,"lat":39.9230,"crs":"gcj02","received_at":"2024-11-21T09:30:00+08:00"}"#, "\n",
        "\n",
        "not json\n",
        r#"{"id":"r3","text":"","received_at":"2024-11-20T08:00:00+08:00"}"#, "\n",
        r#"{"id":"r4","text":"老板拖欠工资三个月","address":"海淀区学院路街道","channel":"app","received_at":"2024-12-31T23:00:00+08:00"}"#, "\n",
        r#"{"id":"r5","text":"电梯困人了","address":"昌平区太平庄","received_at":"2024-11-20T08:00:00+08:00"}"#,
    ));
    s.into_bytes()
}

fn route_in_process(router: &Router, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    jsonl::route_lines(router, input, &mut out).unwrap();
    out
}

#[test]
fn route_is_the_library_contract() {
    let input = tickets();
    let o = hotline(&["route"], &input);
    ok(&o);
    let expected = route_in_process(&Router::beijing(), &input);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(o.stdout, expected);
    assert_eq!(stdout(&o).lines().count(), 7);

    let o = hotline(&["route", "--no-model"], &input);
    ok(&o);
    let keywords = Router::builder()
        .without_model()
        .build(RouterConfig::beijing())
        .unwrap();
    assert_eq!(o.stdout, route_in_process(&keywords, &input));

    // A model of taxonomy categories from `hotline train` plugs in.
    let dir = TempDir::new("route");
    let model_path = train(&dir);
    let o = hotline(&["route", "--model", path(&model_path)], &input);
    ok(&o);
    let trained = Router::builder()
        .model(Model::load(&model_path).unwrap())
        .build(RouterConfig::beijing())
        .unwrap();
    assert_eq!(o.stdout, route_in_process(&trained, &input));

    // Labels that are not categories are a configuration error.
    let other = dir.file(
        "other.jsonl",
        (0..6)
            .map(|i| labelled_line(HEATING[i], if i % 2 == 0 { "warm" } else { "cold" }) + "\n")
            .collect::<String>(),
    );
    let other_model = dir.path("other.bin");
    ok(&hotline(
        &[
            "train",
            "--input",
            path(&other),
            "--output",
            path(&other_model),
        ],
        b"",
    ));
    usage_error(&hotline(&["route", "--model", path(&other_model)], &input));
    usage_error(&hotline(
        &["route", "--model", path(&other_model), "--no-model"],
        b"",
    ));
    usage_error(&hotline(
        &["route", "--taxonomy", path(&dir.path("missing.toml"))],
        b"",
    ));
}

#[test]
fn a_corrupt_model_is_an_error_not_a_panic() {
    let dir = TempDir::new("corrupt");
    let model_path = train(&dir);
    let bytes = std::fs::read(&model_path).unwrap();
    let truncated = dir.file("truncated.bin", &bytes[..bytes.len() / 2]);
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 3] ^= 0x55;
    let flipped = dir.file("flipped.bin", flipped);
    let not_a_model = dir.file("text.bin", "hello, this is not a model file at all");
    let empty = dir.file("empty.bin", "");
    let (a, _) = write_training_files(&dir);
    // What the message must say (one of), by file.
    for (file, what) in [
        (&truncated, &["truncated", "corrupt"][..]),
        (&flipped, &["corrupt", "invalid"][..]),
        (&not_a_model, &["not a hotline-router model"][..]),
        (&empty, &["truncated", "not a hotline-router model"][..]),
        (&dir.path("missing.bin"), &["missing.bin"][..]),
    ] {
        let f = path(file);
        for args in [
            vec!["predict", "--model", f],
            vec!["evaluate", "--model", f, "--input", path(&a)],
            vec!["route", "--model", f],
        ] {
            let m = usage_error(&hotline(
                &args,
                r#"{"id":"a","text":"暖气不热"}"#.as_bytes(),
            ));
            assert!(what.iter().any(|w| m.contains(w)), "{args:?}: {m}");
            assert!(m.contains(f), "the message names the file: {m}");
        }
    }
}

#[test]
fn a_malformed_training_line_is_named() {
    let dir = TempDir::new("malformed");
    let (good, _) = write_training_files(&dir);
    let model = dir.path("m.bin");
    for (name, content, at) in [
        ("missing.jsonl", "{\"text\":\"a\",\"label\":\"x\"}\n\n{\"text\":\"b\"}\n", 3),
        ("notjson.jsonl", "{\"text\":\"a\",\"label\":\"x\"}\nhello\n", 2),
        ("number.jsonl", "{\"text\":\"a\",\"label\":7}\n", 1),
        ("empty-label.jsonl", "{\"text\":\"a\",\"label\":\"x\"}\r\n{\"text\":\"a\",\"label\":\" \"}\r\n", 2),
        ("surrogate.jsonl", "{\"text\":\"a\",\"label\":\"x\"}\n{\"text\":\"b\",\"label\":\"y\"}\n{\"text\":\"c\",\"label\":\"\\ud800\"}\n", 3),
    ] {
        let bad = dir.file(name, content);
        let o = hotline(
            &["train", "--input", path(&good), "--input", path(&bad), "--output", path(&model)],
            b"",
        );
        let m = usage_error(&o);
        assert!(m.contains(&format!("{name}:{at}:")), "{m}");
        assert!(!model.exists(), "no model is written after an input error");
        let o = hotline(&["evaluate", "--folds", "2", "--input", path(&bad)], b"");
        assert!(usage_error(&o).contains(&format!("{name}:{at}:")));
    }
    let invalid_utf8 = dir.file("bytes.jsonl", b"{\"text\":\"\xff\",\"label\":\"x\"}\n");
    let m = usage_error(&hotline(
        &[
            "train",
            "--input",
            path(&invalid_utf8),
            "--output",
            path(&model),
        ],
        b"",
    ));
    assert!(m.contains("bytes.jsonl:1:"), "{m}");
    let m = usage_error(&hotline(
        &[
            "train",
            "--input",
            path(&dir.path("nope.jsonl")),
            "--output",
            path(&model),
        ],
        b"",
    ));
    assert!(m.contains("nope.jsonl"), "{m}");
    // One label: nothing to tell apart.
    let one = dir.file("one.jsonl", labelled_line("暖气不热", "heating"));
    let m = usage_error(&hotline(
        &["train", "--input", path(&one), "--output", path(&model)],
        b"",
    ));
    assert!(m.contains("2 distinct labels"), "{m}");
    let m = usage_error(&hotline(
        &[
            "train",
            "--input",
            path(&good),
            "--output",
            path(&model),
            "--ngrams",
            "9",
        ],
        b"",
    ));
    assert!(m.contains("n-grams"), "{m}");
}

#[test]
fn usage_errors_exit_2() {
    let o = hotline(&[], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage"));
    let m = usage_error(&hotline(&["frobnicate"], b""));
    assert!(m.contains("frobnicate"), "{m}");
    usage_error(&hotline(&["train", "--output", "x.bin"], b""));
    usage_error(&hotline(&["predict"], b""));
    usage_error(&hotline(
        &["predict", "--model", "m.bin", "--top", "0"],
        b"",
    ));
    usage_error(&hotline(&["route", "--streets", "s.csv"], b""));
    assert!(ok(&hotline(&["--help"], b"")).contains("route"));
    assert!(ok(&hotline(&["train", "--help"], b"")).contains("--max-passes"));
}
