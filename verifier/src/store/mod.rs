//! Storage: one schema on SQLite (the default, WAL, `synchronous=FULL`) and PostgreSQL,
//! through sqlx's `Any` driver with portable SQL and shared migrations. Only this module
//! writes SQL; the rest of the verifier calls the narrow API below.
//!
//! - reads go straight to the pool: [`leads`], [`tokens`], [`notices`], [`events`],
//!   [`outbox`], [`webhooks`], [`api_keys`], [`checkpoints`], [`objections`], [`retention`] (what the
//!   retention job looks at);
//! - every write that appends to the event chain goes through the [`Writer`], which
//!   commits in groups (many acknowledged writes share one fsync): accepting a lead
//!   ([`accept`]) and each life-cycle transition ([`transitions`], one file each);
//! - [`chain`] owns the chain head and the events a transaction appends; [`bulk`] writes
//!   multi-row inserts.

mod accept;
pub mod api_keys;
mod bulk;
mod chain;
pub mod checkpoints;
pub mod events;
pub mod leads;
pub mod notices;
pub mod objections;
pub mod outbox;
pub mod retention;
pub mod tlog;
pub mod tokens;
mod transitions;
mod wal;
pub mod webhooks;
mod writer;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Executor};

pub use accept::{AcceptOutcome, NewLead};
pub use chain::Head;
pub use leads::{LeadDetail, LeadFilter, LeadRecord, LeadSummary, PermissionLead};
pub use tokens::{NewToken, TokenLead};
pub use transitions::{
    AskRenewal, Confirm, Ending, Erase, Erasure, Guardian, LifeOp, LifeOutcome, Object, Purge, RecordContact, Renew,
    ResendConfirmation, Withdraw, WithdrawTarget,
};
pub use writer::{Writer, WriterTask};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A storage failure; the client sees "unavailable", the log sees the chain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error")]
    Db(#[from] sqlx::Error),
    /// The writer task is gone (shutting down).
    #[error("the store writer has stopped")]
    WriterGone,
    /// A stored value does not read back as its type (a hand-edited row).
    #[error("a stored value is not valid: {0}")]
    Corrupt(String),
}

impl From<crate::domain::UnknownValue> for StoreError {
    fn from(e: crate::domain::UnknownValue) -> StoreError {
        StoreError::Corrupt(e.to_string())
    }
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects (creating a SQLite file and its directory if needed) and migrates.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or(path);
            if let Some(parent) = Path::new(file).parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            }
            let url = if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            bail!("unsupported database URL (sqlite:… or postgres://…)");
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL makes every
                        // acknowledged commit durable, which group commit keeps affordable.
                        // Statement journals of multi-row inserts stay in memory instead
                        // of temporary files; 8 MB of page cache keeps index pages hot.
                        // No commit checkpoints the WAL: [`wal`] does, beside the writer.
                        conn.execute(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                             PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
                             PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192; \
                             PRAGMA wal_autocheckpoint=0;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .context("connecting to the database")?;
        if backend == Backend::Postgres
            && let Some(schema) = search_path(&url)
        {
            // `?options=-c search_path=<schema>` names where the tables live: create it
            // on first start, as SQLite creates its file.
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .execute(&pool)
                .await
                .with_context(|| format!("creating the schema {schema}"))?;
        }
        MIGRATOR.run(&pool).await.context("migrating the database")?;
        Ok(Store { pool, backend })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The head of the event chain as committed.
    pub async fn chain_head(&self) -> Result<Head, StoreError> {
        Ok(chain::read_head(&self.pool, self.backend, false).await?)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The schema a PostgreSQL URL selects with `options=-c search_path=<schema>`, if it is a
/// plain identifier.
fn search_path(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    let options = query.split('&').find_map(|kv| kv.strip_prefix("options="))?;
    let decoded = options.replace("%20", " ").replace("%3D", "=").replace("%3d", "=").replace('+', " ");
    let schema = decoded.split("search_path=").nth(1)?.split([' ', ',']).next()?;
    (!schema.is_empty() && schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')).then(|| schema.to_string())
}

/// A JSON array of ids as stored in `granted`; a row that does not parse reads as empty.
fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::search_path;

    #[test]
    fn the_schema_is_read_from_the_options_parameter() {
        assert_eq!(search_path("postgres://u@h/db?options=-c%20search_path%3Dconsent").as_deref(), Some("consent"));
        assert_eq!(search_path("postgres://u@h/db?sslmode=disable&options=-c+search_path=t_1"), Some("t_1".into()));
        assert_eq!(search_path("postgres://u@h/db"), None);
        assert_eq!(search_path("postgres://u@h/db?options=-c%20search_path%3Dx;drop"), None);
    }
}
