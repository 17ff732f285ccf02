//! Which database the tests run on: SQLite in the data directory (default), or, with
//! `CONSENT_TEST_BACKEND=postgres`, a schema of its own per data directory on the server
//! at `CONSENT_TEST_POSTGRES_URL` (the verifier creates the schema on first start).

use std::path::Path;

use sha2::{Digest, Sha256};

/// Whether this run targets PostgreSQL.
pub fn postgres() -> bool {
    std::env::var("CONSENT_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The PostgreSQL server for tests, if configured.
pub fn postgres_base() -> Option<String> {
    std::env::var("CONSENT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty())
}

/// Prefix of every schema the tests create (dropped by `cargo xtask test` afterwards).
pub const SCHEMA_PREFIX: &str = "cwtest_";

/// The database URL for a verifier keeping its data in `data_dir`: the same directory
/// always names the same database, so a restart finds its data again.
pub fn database_url(data_dir: &Path) -> String {
    match (postgres(), postgres_base()) {
        (true, Some(base)) => {
            let tag: String = Sha256::digest(data_dir.to_string_lossy().as_bytes())
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}options=-c%20search_path%3D{SCHEMA_PREFIX}{tag}")
        }
        (true, None) => panic!("CONSENT_TEST_BACKEND=postgres needs CONSENT_TEST_POSTGRES_URL"),
        _ => format!("sqlite://{}", data_dir.join("consent.db").display()),
    }
}

/// An sqlx pool on the test database of `data_dir`, to read what the verifier stored.
pub async fn pool(data_dir: &Path) -> anyhow::Result<sqlx::AnyPool> {
    sqlx::any::install_default_drivers();
    Ok(sqlx::AnyPool::connect(&database_url(data_dir)).await?)
}
