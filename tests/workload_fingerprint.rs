//! The generated workload is a reproducible contract: the same seed gives the
//! same lines, through the API and through `hotline generate`, across
//! refactorings of the generator. These fingerprints were taken before
//! `src/workload.rs` was split into `src/workload/` and before
//! `examples/workday.rs` moved onto it; a change to the generator that
//! alters its output must update them on purpose (and say so in its commit).

mod common;

use common::hotline;
use hotline_router::workload::{Generated, WorkloadBuilder};
use hotline_router::Router;

/// FNV-1a, 64 bits: a stable hash that needs no dependency.
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn the_api_gives_the_same_lines_as_before() {
    let router = Router::beijing();
    let start = "2024-11-18".parse().unwrap();
    let w = WorkloadBuilder::new(7)
        .per_day(3_000)
        .start(start)
        .cold_snap("2024-11-19".parse().unwrap())
        .build(&router);
    let mut lines = String::new();
    let (mut tickets, mut malformed) = (0, 0);
    for n in [0, 1, 40] {
        for g in w.day(n) {
            match &g {
                Generated::Ticket(_) => tickets += 1,
                Generated::Malformed(_) => malformed += 1,
            }
            lines.push_str(&g.to_json_line());
            lines.push('\n');
        }
    }
    assert_eq!((tickets, malformed, fnv1a(lines.bytes())), EXPECTED_API);
}

#[test]
fn hotline_generate_gives_the_same_lines_as_before() {
    let o = hotline(
        &[
            "generate",
            "--days",
            "2",
            "--seed",
            "7",
            "--per-day",
            "3000",
            "--start",
            "2024-11-18",
        ],
        b"",
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let lines = o.stdout.iter().filter(|b| **b == b'\n').count();
    assert_eq!((lines, fnv1a(o.stdout.iter().copied())), EXPECTED_CLI);
}

/// (tickets, malformed lines, fingerprint).
const EXPECTED_API: (usize, usize, u64) = (17_160, 89, 690_897_747_284_652_852);
/// (lines, fingerprint).
const EXPECTED_CLI: (usize, u64) = (6_345, 9_639_222_187_982_088_454);
