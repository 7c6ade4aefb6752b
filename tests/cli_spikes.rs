//! `hotline generate` and `hotline alerts` end to end: generated days,
//! an injected burst piped through the detector, and the errors a user can
//! make.
mod common;

use common::{hotline, ok, stderr, usage_error};

#[path = "support/burst.rs"]
mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use hotline_router::{Router, Ticket};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use support::{burst, Problem};

const BIN: &str = env!("CARGO_BIN_EXE_hotline");

fn generate(args: &[&str]) -> String {
    let mut all = vec!["generate"];
    all.extend_from_slice(args);
    ok(&hotline(&all, b""))
}

fn ticket(line: &str) -> Option<Ticket> {
    serde_json::from_str(line).ok()
}

#[test]
fn generate_is_reproducible_and_looks_like_a_feed() {
    let args = [
        "--days",
        "2",
        "--seed",
        "7",
        "--per-day",
        "3000",
        "--start",
        "2024-11-18",
    ];
    let a = generate(&args);
    assert_eq!(a, generate(&args), "same seed, same lines");
    let mut other = args;
    other[3] = "8";
    assert_ne!(a, generate(&other));

    // Monday (×1.1) and Tuesday at 3,000 a day, ±3%.
    let lines: Vec<&str> = a.lines().collect();
    assert!((6_000..6_600).contains(&lines.len()), "{}", lines.len());
    let start: Timestamp = "2024-11-18T00:00:00+08:00".parse().unwrap();
    let end = start + SignedDuration::from_hours(48);
    let mut last = start;
    let mut bad = 0;
    for line in &lines {
        let Some(t) = ticket(line) else {
            bad += 1;
            continue;
        };
        let at = t.received_at.expect("every ticket has its time");
        assert!(at >= start && at < end, "{line}");
        assert!(at >= last, "in order of arrival: {line}");
        last = at;
    }
    // ~0.5% malformed lines, like a real feed.
    assert!(bad >= 5 && bad * 100 <= lines.len() * 2, "{bad} malformed");

    // --clean: the same tickets, without the malformed lines.
    let mut clean_args = args.to_vec();
    clean_args.push("--clean");
    let clean = generate(&clean_args);
    assert_eq!(clean.lines().count(), lines.len() - bad);
    assert!(clean.lines().all(|l| ticket(l).is_some()));
    let good: Vec<&str> = lines.into_iter().filter(|l| ticket(l).is_some()).collect();
    assert_eq!(clean.lines().collect::<Vec<_>>(), good);
}

#[test]
fn a_cold_snap_day_has_many_more_heating_tickets() {
    let out = generate(&[
        "--days",
        "2",
        "--seed",
        "3",
        "--per-day",
        "3000",
        "--start",
        "2024-12-04",
        "--cold-snap",
        "2024-12-05",
        "--clean",
    ]);
    let router = Router::beijing();
    let snap: Timestamp = "2024-12-05T00:00:00+08:00".parse().unwrap();
    let mut heating = [0u32; 2];
    for t in out.lines().filter_map(ticket) {
        if router
            .route(&t)
            .is_ok_and(|d| d.category().code() == "heating")
        {
            heating[usize::from(t.received_at.unwrap() >= snap)] += 1;
        }
    }
    assert!(heating[1] >= 5 * heating[0], "{heating:?}");
}

#[test]
fn generate_refuses_bad_arguments() {
    let run = |args: &[&str]| usage_error(&hotline(args, b""));
    assert!(run(&["generate", "--days", "0", "--seed", "1"]).contains("--days"));
    assert!(run(&[
        "generate",
        "--days",
        "1",
        "--seed",
        "1",
        "--start",
        "2024-13-01"
    ])
    .contains("--start"));
    let m = run(&[
        "generate",
        "--days",
        "2",
        "--seed",
        "1",
        "--start",
        "2024-12-01",
        "--cold-snap",
        "2024-12-05",
    ]);
    assert!(m.contains("2024-12-05") && m.contains("2024-12-02"), "{m}");
    assert!(run(&["generate", "--days", "1"]).contains("--seed"));
    assert!(run(&["generate", "--days", "9999999", "--seed", "1"]).contains("past"));
}

#[test]
fn generate_stops_quietly_when_the_reader_does() {
    let mut child = Command::new(BIN)
        .args(["generate", "--days", "365", "--seed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone (as with `| head -1`): a broken pipe, no message.
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(ticket(&first).is_some(), "{first}");
    assert_eq!(status.code(), Some(1));
    assert_eq!(err, "");
}

/// The generated lines with `extra` tickets merged in by time; malformed
/// lines stay where they were.
fn merge(generated: &str, mut extra: Vec<Ticket>) -> String {
    extra.reverse();
    let mut out = String::new();
    for line in generated.lines() {
        let at = ticket(line).and_then(|t| t.received_at);
        let due = |t: &Ticket| at.is_some_and(|at| t.received_at.unwrap() <= at);
        while extra.last().is_some_and(due) {
            let t = extra.pop().unwrap();
            out.push_str(&serde_json::to_string(&t).unwrap());
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
    }
    for t in extra.iter().rev() {
        out.push_str(&serde_json::to_string(t).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn alerts_reports_an_injected_burst() {
    let dir = std::env::temp_dir().join(format!("hotline-cli-spikes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history.jsonl");
    // Two weeks of history, then two days with a burst of 40 heating
    // tickets in 呼家楼街道 on Tuesday morning.
    let past = generate(&[
        "--days",
        "14",
        "--seed",
        "11",
        "--per-day",
        "6000",
        "--start",
        "2024-11-18",
    ]);
    std::fs::write(&history, past).unwrap();
    let days = generate(&[
        "--days",
        "2",
        "--seed",
        "12",
        "--per-day",
        "6000",
        "--start",
        "2024-12-02",
    ]);
    let start: Timestamp = "2024-12-03T10:07:00+08:00".parse().unwrap();
    let router = Router::beijing();
    let extra = burst(
        &router,
        Problem::Heating,
        "110105003",
        start,
        SignedDuration::from_hours(2),
        40,
        21,
    );
    // A ticket without its time, third: bad lines are listed up to 100.
    let merged = merge(&days, extra);
    let (head, tail) = merged.split_at(merged.match_indices('\n').nth(1).unwrap().0 + 1);
    let input = format!("{head}{{\"id\":\"no-time\",\"text\":\"暖气不热\"}}\n{tail}");
    let untimed = 3;

    let o = hotline(
        &["alerts", "--history", history.to_str().unwrap()],
        input.as_bytes(),
    );
    let out = ok(&o);
    let err = stderr(&o);
    std::fs::remove_dir_all(&dir).unwrap();
    let alerts: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for a in &alerts {
        for key in [
            "at", "category", "district", "street", "count", "expected", "p_value",
        ] {
            assert!(a.get(key).is_some(), "{key} missing in {a}");
        }
    }
    let hit = alerts
        .iter()
        .find(|a| a["category"] == "heating" && a["street"] == "110105003")
        .unwrap_or_else(|| panic!("no alert for the burst: {alerts:?}\n{err}"));
    let at: Timestamp = hit["at"].as_str().unwrap().parse().unwrap();
    assert!(hit["at"].as_str().unwrap().ends_with("+08:00"), "{hit}");
    assert!(
        at >= start && at <= start + SignedDuration::from_hours(1),
        "{hit}"
    );
    assert_eq!(hit["street_name"], "呼家楼街道");
    assert!(alerts.len() <= 4, "{alerts:?}");
    // Bad lines: reported with their number, counted, and reading went on.
    assert!(
        err.contains(&format!(
            "stdin line {untimed}: ticket no-time has no received_at"
        )),
        "{err}"
    );
    assert!(err.contains("invalid ticket"), "{err}");
    assert!(err.contains("bad lines"), "{err}");
}

#[test]
fn alerts_refuses_bad_options() {
    let m = usage_error(&hotline(
        &["alerts", "--history", "/no/such/file.jsonl"],
        b"",
    ));
    assert!(m.contains("/no/such/file.jsonl"), "{m}");
    let m = usage_error(&hotline(&["alerts", "--false-alarms-per-week", "0"], b""));
    assert!(m.contains("false_alarms_per_week"), "{m}");
    let m = usage_error(&hotline(&["alerts", "--dispersion=-1"], b""));
    assert!(m.contains("dispersion"), "{m}");
    // Without history or enough days, the detector says it is warming up.
    let o = hotline(
        &["alerts"],
        b"{\"id\":\"a\",\"text\":\"x\",\"received_at\":\"2024-12-02T08:00:00+08:00\"}\n",
    );
    assert_eq!(ok(&o), "");
    assert!(
        stderr(&o).contains("only 0 days were learned"),
        "{}",
        stderr(&o)
    );
}
