//! Every notice version ever served, with its exact text.

use anyhow::{Context, bail};
use consent_receipt::Notice;
use consent_receipt::notice::canonical_json;
use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// Records every version in `served` (id, version, language, notice, digest); refuses
    /// changed text under an existing version number. Returns every version ever served
    /// (for rule 7).
    pub async fn register_notices<'a>(
        &self,
        served: impl IntoIterator<Item = (&'a str, u32, &'a str, &'a Notice, &'a str)>,
        now: i64,
    ) -> anyhow::Result<Vec<Notice>> {
        for (id, version, lang, notice, digest) in served {
            let body =
                canonical_json(&serde_json::to_value(notice)?).map_err(|e| anyhow::anyhow!("notice {id}: {e}"))?;
            sqlx::query(
                "INSERT INTO notice_versions (digest, notice_id, version, lang, body, first_served_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(digest)
            .bind(id)
            .bind(i64::from(version))
            .bind(lang)
            .bind(&body)
            .bind(now)
            .execute(&self.pool)
            .await
            .context("recording a notice version")?;
            let row = sqlx::query(
                "SELECT digest, first_served_at FROM notice_versions WHERE notice_id = $1 AND version = $2 AND lang = $3",
            )
            .bind(id)
            .bind(i64::from(version))
            .bind(lang)
            .fetch_one(&self.pool)
            .await
            .context("reading a notice version")?;
            let stored: String = row.try_get("digest")?;
            if stored != digest {
                let since: i64 = row.try_get("first_served_at")?;
                bail!(
                    "notice `{id}` version {version} ({lang}) has changed since it was first served (at {since}, \
                     digest {stored}). A published version is immutable: give the new text a new version number \
                     in notices/{id}.toml."
                );
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

    /// Records the retention (`retention_days`) each served version was served with:
    /// `(notice id, digest, days)`. A version keeps the retention it was first served
    /// with, since the people who consented under it were told it: a changed value under
    /// the same version is refused, as changed text is. Earlier versions of the same
    /// notice served before retention was recorded take the current value.
    pub async fn record_retention<'a>(
        &self,
        served: impl IntoIterator<Item = (&'a str, &'a str, u32)>,
    ) -> anyhow::Result<()> {
        for (id, digest, days) in served {
            let days = i64::from(days);
            sqlx::query("UPDATE notice_versions SET retention_days = $1 WHERE digest = $2 AND retention_days IS NULL")
                .bind(days)
                .bind(digest)
                .execute(&self.pool)
                .await
                .context("recording a retention")?;
            sqlx::query(
                "UPDATE notice_versions SET retention_days = $1 WHERE notice_id = $2 AND retention_days IS NULL",
            )
            .bind(days)
            .bind(id)
            .execute(&self.pool)
            .await
            .context("recording the retention of earlier versions")?;
            let row = sqlx::query("SELECT version, retention_days FROM notice_versions WHERE digest = $1")
                .bind(digest)
                .fetch_one(&self.pool)
                .await
                .context("reading a notice version's retention")?;
            let stored: Option<i64> = row.try_get("retention_days")?;
            if stored != Some(days) {
                let version: i64 = row.try_get("version")?;
                bail!(
                    "notice `{id}` version {version} was served with retention_days = {}; it now says {days}. \
                     The people who consented under this version were told its retention: give the new value a \
                     new version number in notices/{id}.toml.",
                    stored.map_or_else(|| "?".into(), |d| d.to_string())
                );
            }
        }
        Ok(())
    }

    /// The exact stored text of a notice version (JCS), by digest.
    pub async fn notice_body(&self, digest: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT body FROM notice_versions WHERE digest = $1")
            .bind(digest)
            .fetch_optional(&self.pool)
            .await?)
    }
}
