//! Storage: one schema on SQLite (the default, WAL, `synchronous=FULL`) and PostgreSQL,
//! through sqlx's `Any` driver with portable SQL and shared migrations.
//!
//! Reads go straight to the pool. Every write that appends to the event chain goes
//! through the [`Writer`], which commits in groups so that many acknowledged writes share
//! one fsync.

pub mod ops;
mod writer;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use consent_receipt::notice::canonical_json;
use consent_receipt::{Event, Notice};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

use crate::notices::NoticeEntry;

pub use ops::{GuardianDecision, LeadRef, LifeOp, LifeOutcome, status};
pub use writer::{AcceptOutcome, NewLead, NewToken, Writer, WriterTask};

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
}

/// The database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// A lead as stored.
#[derive(Debug, Clone)]
pub struct LeadRecord {
    /// Lead id.
    pub id: String,
    /// Receipt id.
    pub jti: String,
    /// Notice id.
    pub notice_id: String,
    /// Digest of the notice version shown.
    pub notice_digest: String,
    /// The compact receipt, exactly as received (`None` once purged).
    pub receipt: Option<String>,
    /// The seal returned at acceptance.
    pub seal: String,
    /// Contact e-mail (`None` once purged).
    pub email: Option<String>,
    /// Current status, derived from the events.
    pub status: String,
    /// Purposes granted.
    pub granted: Vec<String>,
    /// Extra form fields.
    pub fields: serde_json::Value,
    /// Acceptance time.
    pub created_at: i64,
}

/// A token and the lead it belongs to, for rendering the page a link opens.
#[derive(Debug, Clone)]
pub struct TokenLead {
    /// `confirm`, `guardian` or `unsubscribe`.
    pub purpose: String,
    /// Expiry.
    pub expires_at: Option<i64>,
    /// When it was used.
    pub used_at: Option<i64>,
    /// The lead.
    pub lead_id: String,
    /// Its receipt id.
    pub jti: String,
    /// Its status.
    pub status: String,
    /// Notice id, version digest and language shown.
    pub notice_id: String,
    /// Digest.
    pub notice_digest: String,
    /// Language.
    pub notice_lang: String,
    /// Purposes granted now.
    pub granted: Vec<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Guardian e-mail, for a minor.
    pub guardian_email: Option<String>,
}

impl Store {
    /// The token with this hash and its lead, if both exist.
    pub async fn token_lead(&self, hash: &str) -> Result<Option<TokenLead>, StoreError> {
        let row = sqlx::query(
            "SELECT t.purpose, t.expires_at, t.used_at, l.id, l.jti, l.status, l.notice_id, l.notice_digest, \
             l.notice_lang, l.granted, l.email, l.guardian_email \
             FROM tokens t JOIN leads l ON l.id = t.lead_id WHERE t.hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(TokenLead {
            purpose: r.try_get("purpose")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            lead_id: r.try_get("id")?,
            jti: r.try_get("jti")?,
            status: r.try_get("status")?,
            notice_id: r.try_get("notice_id")?,
            notice_digest: r.try_get("notice_digest")?,
            notice_lang: r.try_get("notice_lang")?,
            granted: serde_json::from_str(&r.try_get::<String, _>("granted")?).unwrap_or_default(),
            email: r.try_get("email")?,
            guardian_email: r.try_get("guardian_email")?,
        }))
    }

    /// A lead by its receipt id: `(lead id, visitor key)`.
    pub async fn lead_by_jti(&self, jti: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT id, visitor_key FROM leads WHERE jti = $1")
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("visitor_key")?))).transpose()?)
    }

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
                        conn.execute(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                             PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
                             PRAGMA temp_store=MEMORY; PRAGMA cache_size=-8192;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .context("connecting to the database")?;
        if backend == Backend::Postgres {
            if let Some(schema) = search_path(&url) {
                // `?options=-c search_path=<schema>` names where the tables live: create it
                // on first start, as SQLite creates its file.
                sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                    .execute(&pool)
                    .await
                    .with_context(|| format!("creating the schema {schema}"))?;
            }
        }
        MIGRATOR.run(&pool).await.context("migrating the database")?;
        Ok(Store { pool, backend })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for modules that own their queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Records every served notice version; refuses changed text under an existing
    /// version number. Returns every version ever served (for rule 7).
    pub async fn register_notices(&self, entries: &[NoticeEntry], now: i64) -> anyhow::Result<Vec<Notice>> {
        for entry in entries {
            for (lang, (notice, digest)) in &entry.langs {
                let body = canonical_json(&serde_json::to_value(&**notice)?)
                    .map_err(|e| anyhow::anyhow!("notice {}: {e}", entry.id))?;
                sqlx::query(
                    "INSERT INTO notice_versions (digest, notice_id, version, lang, body, first_served_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                )
                .bind(digest)
                .bind(&entry.id)
                .bind(i64::from(entry.version))
                .bind(lang)
                .bind(&body)
                .bind(now)
                .execute(&self.pool)
                .await
                .context("recording a notice version")?;
                let row = sqlx::query(
                    "SELECT digest, first_served_at FROM notice_versions WHERE notice_id = $1 AND version = $2 AND lang = $3",
                )
                .bind(&entry.id)
                .bind(i64::from(entry.version))
                .bind(lang)
                .fetch_one(&self.pool)
                .await
                .context("reading a notice version")?;
                let stored: String = row.try_get("digest")?;
                if &stored != digest {
                    let since: i64 = row.try_get("first_served_at")?;
                    bail!(
                        "notice `{}` version {} ({lang}) has changed since it was first served (at {since}, \
                         digest {stored}). A published version is immutable: give the new text a new \
                         version number in notices/{}.toml.",
                        entry.id,
                        entry.version,
                        entry.id
                    );
                }
            }
        }
        let rows = sqlx::query("SELECT body FROM notice_versions").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                serde_json::from_str(&body).context("a stored notice version does not parse")
            })
            .collect()
    }

    /// The exact stored text of a notice version (JCS), by digest.
    pub async fn notice_body(&self, digest: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT body FROM notice_versions WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("body")).transpose()?)
    }

    /// One lead.
    pub async fn lead(&self, id: &str) -> Result<Option<LeadRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, jti, notice_id, notice_digest, receipt, seal, email, status, granted, fields, created_at \
             FROM leads WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| lead_from_row(&r)).transpose()
    }

    /// Number of stored leads.
    pub async fn count_leads(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM leads").fetch_one(&self.pool).await?.try_get("n")?)
    }

    /// Events, in chain order, from `after` (exclusive), at most `limit`.
    pub async fn events(&self, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, lead_id, lead_prev, kind, data, at, prev, hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Every event of one lead, in order.
    pub async fn lead_events(&self, lead_id: &str) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, lead_id, lead_prev, kind, data, at, prev, hash FROM events WHERE lead_id = $1 ORDER BY seq",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
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

fn lead_from_row(r: &AnyRow) -> Result<LeadRecord, StoreError> {
    let granted: String = r.try_get("granted")?;
    let fields: String = r.try_get("fields")?;
    Ok(LeadRecord {
        id: r.try_get("id")?,
        jti: r.try_get("jti")?,
        notice_id: r.try_get("notice_id")?,
        notice_digest: r.try_get("notice_digest")?,
        receipt: r.try_get("receipt")?,
        seal: r.try_get("seal")?,
        email: r.try_get("email")?,
        status: r.try_get("status")?,
        granted: serde_json::from_str(&granted).unwrap_or_default(),
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        created_at: r.try_get("created_at")?,
    })
}

fn event_from_row(r: &AnyRow) -> Result<Event, StoreError> {
    let data: String = r.try_get("data")?;
    Ok(Event {
        seq: r.try_get("seq")?,
        lead_id: r.try_get("lead_id")?,
        kind: r.try_get("kind")?,
        // A row whose data no longer parses is kept as a string: the hash check then
        // reports it as broken instead of the read failing.
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::String(data)),
        at: r.try_get("at")?,
        prev: r.try_get("prev")?,
        lead_prev: r.try_get("lead_prev")?,
        hash: r.try_get("hash")?,
    })
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
