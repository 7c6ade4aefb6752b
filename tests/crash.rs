//! `kill -9` at random moments under full load, many times over one
//! journal: every operation the runtime acknowledged is there after
//! restore, and every ticket can be acted on. Then a torn tail and a flipped
//! byte, as `durable_load` reports them.
//!
//! The child process is this test binary itself, running the ignored test
//! `child` with `examples/durable_load.rs` (included below) as its body, so
//! that no other build step is needed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use clap::Parser;
use hotline_router::dispatch::{Dispatcher, EventKind, OpenError, State};
use hotline_router::journal::{Journal, JournalError, JournalOptions};
use hotline_router::Router;
use rand::{Rng, SeedableRng};

#[path = "../examples/durable_load.rs"]
mod durable_load;

mod common;
use common::segments;

/// The child's `durable_load` arguments, space-separated.
const CHILD_ARGS: &str = "HOTLINE_CRASH_CHILD_ARGS";

/// Not a test: the child process the tests below start (and kill).
#[test]
#[ignore = "the child process of the crash tests"]
fn child() {
    let Ok(args) = std::env::var(CHILD_ARGS) else {
        return;
    };
    let args = durable_load::Args::parse_from(
        std::iter::once("durable_load").chain(args.split_whitespace()),
    );
    let code = durable_load::run(args);
    std::process::exit(if code == std::process::ExitCode::SUCCESS {
        0
    } else {
        2
    });
}

fn child_command(args: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ARGS, args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The acknowledged operations in a child's stdout: complete lines only
/// (a kill can cut the last one), and only `<op> <id>` lines (the test
/// harness prints its own).
fn acknowledged(stdout: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(stdout);
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter_map(|line| {
            let (op, id) = line.split_once(' ')?;
            let known = [
                "submit", "claim", "respond", "resolve", "return", "reassign", "evaluate",
            ];
            (known.contains(&op) && !id.contains(' ')).then(|| (op.to_string(), id.to_string()))
        })
        .collect()
}

/// The event an acknowledged operation must have left in the history.
fn event_of(op: &str) -> &'static str {
    match op {
        "submit" => "received",
        "claim" => "claimed",
        "respond" => "responded",
        "resolve" => "resolved",
        "return" => "returned",
        "reassign" => "reassigned",
        "evaluate" => "evaluated",
        other => panic!("unknown op {other}"),
    }
}

fn open(dir: &Path) -> Result<Dispatcher, OpenError> {
    Dispatcher::builder(Router::beijing())
        .open_journal(dir, JournalOptions::new())
        .map(|(d, _)| d)
}

/// Every acknowledged operation is in its ticket's history (at least as
/// often as acknowledged), and every ticket can be acted on.
fn check(d: &Dispatcher, acked: &[(String, String)]) {
    let mut expected: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for (op, id) in acked {
        *expected
            .entry(id)
            .or_default()
            .entry(event_of(op))
            .or_default() += 1;
    }
    for (id, events) in &expected {
        let record = d
            .record(*id)
            .unwrap_or_else(|| panic!("acknowledged ticket {id} lost"));
        for (event, n) in events {
            let found = record
                .history()
                .iter()
                .filter(|(_, k)| k.name() == *event)
                .count();
            assert!(
                found >= *n,
                "{id}: {n} × {event} acknowledged, {found} restored"
            );
        }
    }
    d.for_each_record(|r| {
        assert_ne!(
            r.state(),
            State::Received,
            "{} cut off mid-submit",
            r.ticket().id
        );
        let last = &r.history().last().unwrap().1;
        assert!(
            !matches!(
                last,
                EventKind::Returned { .. } | EventKind::Reassigned { .. }
            ),
            "{} cut off mid-move",
            r.ticket().id
        );
    });
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_operation() {
    let dir = fresh_dir("crash");
    let cycles: u64 = std::env::var("HOTLINE_CRASH_CYCLES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(12);
    let mut rng = rand::rngs::StdRng::seed_from_u64(12345);
    let mut acked = Vec::new();
    let mut killed_with_work = 0;
    for cycle in 0..cycles {
        let mut child = child_command(&format!("--journal {} --seed {cycle}", dir.display()))
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stdout.read_to_end(&mut buf);
            buf
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(150..1200)));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "cycle {cycle}: the child ended by itself"
        );
        let new = acknowledged(&reader.join().unwrap());
        killed_with_work += usize::from(!new.is_empty());
        acked.extend(new);
        let d = open(&dir).unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
        check(&d, &acked);
    }
    assert!(
        killed_with_work * 2 >= cycles as usize,
        "most children must be killed mid-work: {killed_with_work} of {cycles}"
    );
    assert!(acked.iter().any(|(op, _)| op == "evaluate"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the child to completion.
fn run_child(args: &str) -> (i32, String, String) {
    let out = child_command(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_torn_tail_is_cut_and_a_flipped_byte_is_reported_with_file_and_offset() {
    let dir = fresh_dir("corrupt");
    let (code, stdout, stderr) = run_child(&format!(
        "--journal {} --tickets 40 --threads 1",
        dir.display()
    ));
    assert_eq!(code, 0, "{stderr}");
    let acked = acknowledged(stdout.as_bytes());
    assert!(acked.len() > 40);

    // A torn tail: the last record half written.
    let last = segments(&dir).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    file.set_len(len - 5).unwrap();
    drop(file);
    let (d, recovery) = Dispatcher::builder(Router::beijing())
        .open_journal(&dir, JournalOptions::new())
        .unwrap();
    let torn = recovery.torn_tail.expect("the cut record is reported");
    assert_eq!(torn.file, last);
    // Only the last acknowledged operation can be the one cut (it was never
    // acknowledged as far as a real crash is concerned).
    check(&d, &acked[..acked.len() - 1]);
    drop(d);

    // A flipped byte in the middle of the log.
    let bytes = std::fs::read(&last).unwrap();
    let at = bytes.len() / 2;
    let mut flipped = bytes.clone();
    flipped[at] ^= 0x20;
    std::fs::write(&last, &flipped).unwrap();
    let offset = match open(&dir) {
        Err(OpenError::Journal(JournalError::Corrupt { file, offset, .. })) => {
            assert_eq!(file, last);
            assert!(
                offset <= at as u64,
                "the record holding byte {at} starts at {offset}"
            );
            offset
        }
        other => panic!("expected corruption, got {:?}", other.map(|_| ())),
    };
    let (code, _, stderr) = run_child(&format!("--journal {} --dump", dir.display()));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(&last.display().to_string()) && stderr.contains(&offset.to_string()),
        "{stderr}"
    );

    // Repair cuts there and says how much; the journal opens again.
    let report = Journal::repair(&dir).unwrap();
    assert!(report.bytes_dropped > 0);
    let d = open(&dir).unwrap();
    assert!(d.counts().total > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
