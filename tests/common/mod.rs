//! Helpers shared by the integration tests. Each test file compiles this
//! module on its own and uses part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[cfg(feature = "dispatch")]
mod dispatch;
#[cfg(feature = "dispatch")]
#[allow(unused_imports)] // each test file uses part of it
pub use dispatch::*;

/// Runs the `hotline` binary with `args`, `stdin` as its standard input.
pub fn hotline(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the hotline binary runs");
    let mut input = child.stdin.take().unwrap();
    let bytes = stdin.to_vec();
    // Written from another thread, so a large output cannot block the input.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

/// A run's standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A run's standard output, as text (it must be UTF-8).
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

/// Asserts a successful run and returns its standard output.
pub fn ok(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    stdout(o)
}

/// Asserts exit code 2 with a `hotline: ` message and no panic; returns
/// the message.
pub fn usage_error(o: &Output) -> String {
    let message = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {message}");
    assert!(message.starts_with("hotline: "), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    message
}

/// A fresh directory under the system's temp dir, removed when dropped.
/// Its name holds the process id, so test binaries running at once do not
/// share one.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates (or empties) the directory `hotline-test-{pid}-{name}`.
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hotline-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The directory itself.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// Writes a file in the directory and returns its path.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The path of `name` in the directory (not created).
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The keys of a `hotline route` / `examples/route` JSON line, in the
/// contract's order: no other key may appear.
pub const ROUTE_KEYS: [&str; 18] = [
    "id",
    "category",
    "domain",
    "categories",
    "confidence",
    "classified_by",
    "low_confidence",
    "district",
    "street",
    "community",
    "located_by",
    "agency",
    "co_agencies",
    "priority",
    "deadline",
    "language",
    "language_service",
    "explain",
];

/// The Beijing router with one override: noise in 朝阳 (110105) goes to the
/// district ecology bureau instead of the street office.
pub fn noise_to_ecology() -> hotline_router::Router {
    let mut config = hotline_router::RouterConfig::beijing();
    config.routing.rules.push(hotline_router::RuleConfig {
        categories: vec!["env.noise".into()],
        district: Some("110105".into()),
        agency: Some("district:ecology".into()),
        ..hotline_router::RuleConfig::default()
    });
    hotline_router::Router::from_config(config).unwrap()
}

/// The Beijing router, built once per test binary.
pub fn beijing() -> &'static hotline_router::Router {
    static ROUTER: std::sync::OnceLock<hotline_router::Router> = std::sync::OnceLock::new();
    ROUTER.get_or_init(hotline_router::Router::beijing)
}

/// A handle on the Beijing router, built once per test binary (a clone
/// shares it).
pub fn router() -> hotline_router::Router {
    beijing().clone()
}

/// The ignored long property runs: runs `check` on `cases` values of
/// `strategy` (the count from the environment variable `var` if set), with
/// no regression file, and reports the count, the time and the result on
/// stderr; panics with the minimal failing input if a case fails.
pub fn long_run<S: proptest::strategy::Strategy>(
    name: &str,
    var: &str,
    cases: u32,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), proptest::test_runner::TestCaseError>,
) {
    let cases = std::env::var(var)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let started = std::time::Instant::now();
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    });
    let result = runner.run(&strategy, check);
    eprintln!(
        "{name}: {cases} cases in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        if result.is_ok() { "ok" } else { "FAILED" }
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}
