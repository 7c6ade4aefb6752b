//! The test database of the PostgreSQL tests.

/// `HOTLINE_TEST_POSTGRES`; `None` (skip, with a message) outside CI when
/// it is not set — under CI a missing database fails the test.
pub fn database() -> Option<String> {
    match std::env::var("HOTLINE_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("HOTLINE_TEST_POSTGRES is not set: run `source .ci/postgres` first")
        }
        _ => {
            eprintln!("skipped: set HOTLINE_TEST_POSTGRES=postgres://… (see .ci/postgres)");
            None
        }
    }
}
