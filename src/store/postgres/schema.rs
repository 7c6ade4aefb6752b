//! The tables, the lock key and reading the log: what the writer and the
//! standby share.

use postgres::error::SqlState;
use postgres::Client;

use super::PgError;
use crate::dispatch::OwnedLogRecord;
use crate::dispatch::Rebuild;

/// The format of the `events` rows this build writes and reads (in `meta`).
pub(crate) const VERSION: &str = "1";

/// Rows read per query while restoring or following.
const READ_BATCH: i64 = 10_000;

/// A schema name fit to be spliced into SQL unquoted-safe: PostgreSQL's
/// plain identifiers, lowercase so that they mean the same quoted or not.
pub(crate) fn check_name(schema: &str) -> Result<(), PgError> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 63 && !schema.starts_with("pg_") {
        Ok(())
    } else {
        Err(PgError::SchemaName(schema.to_string()))
    }
}

/// The advisory lock key of a schema's writer: stable across builds and
/// machines (FNV-1a of the name), so every server of a city agrees on it.
pub(crate) fn lock_key(schema: &str) -> i64 {
    crate::hash::fnv1a(format!("hotline-router/{schema}").as_bytes()) as i64
}

/// Creates the schema's tables if missing and checks their version. Run by
/// the lock holder only, so two servers never race to create them.
pub(crate) fn create(client: &mut Client, schema: &str) -> Result<(), PgError> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {schema}.meta (
             key text PRIMARY KEY,
             value text NOT NULL);
         INSERT INTO {schema}.meta (key, value) VALUES ('version', '{VERSION}')
             ON CONFLICT (key) DO NOTHING;
         CREATE TABLE IF NOT EXISTS {schema}.events (
             pos bigserial PRIMARY KEY,
             record json NOT NULL,
             committed_at timestamptz NOT NULL DEFAULT now());"
    ))?;
    let found: String = tx
        .query_one(
            &format!("SELECT value FROM {schema}.meta WHERE key = 'version'"),
            &[],
        )?
        .get(0);
    tx.commit()?;
    if found != VERSION {
        return Err(PgError::Version {
            schema: schema.to_string(),
            found,
        });
    }
    Ok(())
}

/// The log after position `after`, applied to `rebuild` in position order;
/// returns the last position read (`after` if none). `Ok(None)` when the
/// tables do not exist yet (a standby started before any writer).
pub(crate) fn read_since(
    client: &mut Client,
    schema: &str,
    after: i64,
    rebuild: &mut Rebuild,
) -> Result<Option<i64>, PgError> {
    let query = format!(
        "SELECT pos, record::text FROM {schema}.events WHERE pos > $1 ORDER BY pos LIMIT {READ_BATCH}"
    );
    let statement = match client.prepare(&query) {
        Ok(statement) => statement,
        Err(e) if is_missing(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut last = after;
    loop {
        let rows = client.query(&statement, &[&last])?;
        let got = rows.len();
        for row in rows {
            let pos: i64 = row.get(0);
            let text: &str = row.get(1);
            let record: OwnedLogRecord =
                serde_json::from_str(text).map_err(|source| PgError::Decode {
                    schema: schema.to_string(),
                    pos,
                    source,
                })?;
            record.apply(pos as u64, rebuild)?;
            last = pos;
        }
        if (got as i64) < READ_BATCH {
            return Ok(Some(last));
        }
    }
}

/// The schema or its tables are not there (yet).
fn is_missing(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::UNDEFINED_TABLE || *c == SqlState::INVALID_SCHEMA_NAME
    )
}

/// Takes the schema's writer lock on `client`'s session if it is free.
pub(crate) fn try_lock(client: &mut Client, schema: &str) -> Result<(), PgError> {
    let key = lock_key(schema);
    let got: bool = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
        .get(0);
    if got {
        Ok(())
    } else {
        Err(PgError::Locked {
            schema: schema.to_string(),
            key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_inject_sql() {
        for ok in ["hotline", "beijing_2024", "_x"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Beijing",
            "a-b",
            "1city",
            "x; DROP TABLE y",
            "a\"b",
            "pg_catalog",
        ] {
            assert!(
                matches!(check_name(bad), Err(PgError::SchemaName(_))),
                "{bad}"
            );
        }
        assert!(check_name(&"a".repeat(64)).is_err());
    }

    #[test]
    fn lock_keys_differ_per_schema_and_are_stable() {
        assert_ne!(lock_key("beijing"), lock_key("shanghai"));
        assert_eq!(lock_key("beijing"), lock_key("beijing"));
    }
}
