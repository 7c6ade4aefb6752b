//! Criterion benches for the journal: append throughput by records per
//! `append` call (1, 16, 256) from 1 and 2 threads, under `SyncPolicy::Always`
//! and `Interval(10ms)`, each beside a baseline measured in the same run;
//! and restore (open + replay) time for journals of 10k and 100k records.
//!
//! ```text
//! cargo bench --features full --bench journal
//! ```
//!
//! The baseline is what a Rust user writes first: one `Mutex<File>`, and
//! per call frame the records (same format, same CRC), `write_all`, and
//! `sync_data` (every call under `Always`, when 10 ms have passed since the
//! last under `Interval`), all under the lock. With one thread the two
//! should be close (the journal adds a hand-off to its writer thread); with
//! two, the journal's group commit lets both threads share an `fdatasync`.
//!
//! Payloads are ~300 bytes. Every iteration, each thread makes 128 `append`
//! calls; spawning the second thread is inside the timed region. Each
//! iteration checks how many records the journal (or baseline file) gained.
//! Between iterations, outside the timed region, a snapshot deletes old
//! segments so the disk use stays bounded. Files live under Cargo's target
//! temporary directory, so numbers are those of the disk it is on.

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hotline_router::journal::{Journal, JournalError, JournalOptions, Replayed, SyncPolicy};
use parking_lot::Mutex;

const PAYLOAD: usize = 300;
const CALLS: usize = 128;
const BATCHES: [usize; 3] = [1, 16, 256];
const THREADS: [usize; 2] = [1, 2];
/// Past this much log, a snapshot between iterations deletes old segments.
const KEEP_LOG: u64 = 256 << 20;

fn bench_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("journal-bench")
        .join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("bench directory");
    dir
}

/// A payload of `PAYLOAD` bytes that differs per record.
fn payload(thread: usize, i: usize) -> Vec<u8> {
    let mut p = format!("{{\"thread\":{thread},\"seq\":{i},\"event\":\"claimed\",\"agency\":\"district:110108:ecology\"}}").into_bytes();
    p.resize(PAYLOAD, b' ');
    p
}

/// Runs `work(thread)` on `threads` threads (the first on this one) and
/// returns the wall time.
fn timed(threads: usize, work: impl Fn(usize) + Sync) -> Duration {
    let start = Instant::now();
    thread::scope(|s| {
        for t in 1..threads {
            let work = &work;
            s.spawn(move || work(t));
        }
        work(0);
    });
    start.elapsed()
}

/// The baseline: one lock over the file, a write and (optionally) a sync
/// per call.
struct Naive {
    file: Mutex<(File, Instant)>,
    policy: SyncPolicy,
}

impl Naive {
    fn open(path: &Path, policy: SyncPolicy) -> Naive {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("baseline file");
        Naive {
            file: Mutex::new((file, Instant::now())),
            policy,
        }
    }

    fn append(&self, payloads: &[&[u8]]) {
        let mut guard = self.file.lock();
        let (file, last_sync) = &mut *guard;
        let mut buf = Vec::with_capacity(payloads.len() * (16 + PAYLOAD));
        for p in payloads {
            let mut h = crc32fast::Hasher::new();
            h.update(&0u64.to_le_bytes());
            h.update(p);
            buf.extend_from_slice(&(p.len() as u32).to_le_bytes());
            buf.extend_from_slice(&h.finalize().to_le_bytes());
            buf.extend_from_slice(&0u64.to_le_bytes());
            buf.extend_from_slice(p);
        }
        file.write_all(&buf).expect("baseline write");
        let due = match self.policy {
            SyncPolicy::Interval(d) => last_sync.elapsed() >= d,
            _ => true,
        };
        if due {
            file.sync_data().expect("baseline sync");
            *last_sync = Instant::now();
        }
    }
}

fn bench_append(c: &mut Criterion) {
    let policies = [
        ("always", SyncPolicy::Always),
        (
            "interval_10ms",
            SyncPolicy::Interval(Duration::from_millis(10)),
        ),
    ];
    for (policy_name, policy) in policies {
        let mut g = c.benchmark_group(format!("journal_append/{policy_name}"));
        g.sample_size(10);
        g.warm_up_time(Duration::from_secs(1));
        g.measurement_time(Duration::from_secs(3));
        for threads in THREADS {
            for batch in BATCHES {
                let records = (threads * CALLS * batch) as u64;
                g.throughput(Throughput::Elements(records));
                let id = format!("{threads}t/batch{batch}");
                let data: Vec<Vec<Vec<u8>>> = (0..threads)
                    .map(|t| (0..batch).map(|i| payload(t, i)).collect())
                    .collect();

                let dir = bench_dir(&format!("{policy_name}-{threads}-{batch}"));
                let (journal, _) = Journal::open(&dir, JournalOptions::new().sync(policy), |_| {
                    Ok::<_, JournalError>(())
                })
                .expect("open the bench journal");
                g.bench_function(BenchmarkId::new("journal", &id), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let before = journal.next_lsn();
                            total += timed(threads, |t| {
                                let refs: Vec<&[u8]> = data[t].iter().map(Vec::as_slice).collect();
                                for _ in 0..CALLS {
                                    black_box(journal.append(&refs).expect("append"));
                                }
                            });
                            assert_eq!(
                                journal.next_lsn() - before,
                                records,
                                "every record appended"
                            );
                            if journal.stats().bytes_since_snapshot > KEEP_LOG {
                                let from = journal.begin_snapshot().expect("begin snapshot");
                                journal.write_snapshot(from, None).expect("snapshot");
                            }
                        }
                        total
                    })
                });
                drop(journal);
                let _ = fs::remove_dir_all(&dir);

                let path = bench_dir(&format!("naive-{policy_name}-{threads}-{batch}")).join("log");
                let naive = Naive::open(&path, policy);
                g.bench_function(BenchmarkId::new("mutex_file_baseline", &id), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let before = fs::metadata(&path).expect("stat").len();
                            total += timed(threads, |t| {
                                let refs: Vec<&[u8]> = data[t].iter().map(Vec::as_slice).collect();
                                for _ in 0..CALLS {
                                    naive.append(black_box(&refs));
                                }
                            });
                            let grown = fs::metadata(&path).expect("stat").len() - before;
                            assert_eq!(
                                grown,
                                records * (16 + PAYLOAD as u64),
                                "every record written"
                            );
                            if grown + before > KEEP_LOG {
                                naive
                                    .file
                                    .lock()
                                    .0
                                    .set_len(0)
                                    .expect("truncate the baseline");
                            }
                        }
                        total
                    })
                });
                let _ = fs::remove_dir_all(path.parent().expect("a directory"));
            }
        }
        g.finish();
    }
}

fn bench_restore(c: &mut Criterion) {
    let mut g = c.benchmark_group("journal_restore");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for n in [10_000u64, 100_000] {
        let dir = bench_dir(&format!("restore-{n}"));
        {
            let fast = JournalOptions::new().sync(SyncPolicy::Interval(Duration::from_secs(1)));
            let (journal, _) =
                Journal::open(&dir, fast, |_| Ok::<_, JournalError>(())).expect("open");
            let records: Vec<Vec<u8>> = (0..256).map(|i| payload(0, i)).collect();
            let refs: Vec<&[u8]> = records.iter().map(Vec::as_slice).collect();
            for start in (0..n).step_by(256) {
                let k = (n - start).min(256) as usize;
                journal.append(&refs[..k]).expect("append");
            }
            journal.sync().expect("sync");
        }
        g.throughput(Throughput::Elements(n));
        g.bench_with_input(BenchmarkId::new("open_replay", n), &n, |b, &n| {
            b.iter(|| {
                let mut bytes = 0u64;
                let (journal, recovery) = Journal::open(&dir, JournalOptions::new(), |r| {
                    if let Replayed::Log { payload, .. } = r {
                        bytes += payload.len() as u64;
                    }
                    Ok::<_, JournalError>(())
                })
                .expect("reopen");
                assert_eq!((recovery.log_records, recovery.next_lsn), (n, n));
                assert_eq!(bytes, n * PAYLOAD as u64);
                drop(journal);
                bytes
            })
        });
        let _ = fs::remove_dir_all(&dir);
    }
    g.finish();
}

criterion_group!(benches, bench_append, bench_restore);
criterion_main!(benches);
