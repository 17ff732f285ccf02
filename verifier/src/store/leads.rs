//! Reading leads: one, a filtered page, the state a decision needs, what the permissions
//! answer looks at (the retention job's reads are in [`super::retention`]).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, json_list};
use crate::domain::confirmation::{self, Confirmed};
use crate::domain::{Ident, LeadStatus, NoticeId};

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
    /// Contact e-mail.
    pub email: Option<String>,
    /// Current status, derived from the events.
    pub status: LeadStatus,
    /// Purposes granted now.
    pub granted: Vec<String>,
    /// Extra form fields.
    pub fields: serde_json::Value,
    /// Acceptance time.
    pub created_at: i64,
    /// The visitor's public key (base64url): it alone may sign a withdrawal.
    pub visitor_key: String,
    /// Keyed hash of the contact (suppression list).
    pub contact_hash: Option<String>,
    /// The channels whose double opt-in is confirmed.
    pub confirmed: Confirmed,
}

/// What the admin list shows of a lead.
#[derive(Debug, Clone)]
pub struct LeadSummary {
    /// Lead id.
    pub id: String,
    /// Receipt id.
    pub jti: String,
    /// Status.
    pub status: LeadStatus,
    /// Notice id, version and language.
    pub notice: (String, i64, String),
    /// Purposes granted now.
    pub granted: Vec<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Declared minor.
    pub minor: bool,
    /// Acceptance time.
    pub created_at: i64,
    /// Last contact (restarts retention).
    pub last_contact_at: i64,
    /// When a withdrawn or refused lead's contact data was erased.
    pub contact_erased_at: Option<i64>,
    /// The channels whose double opt-in is confirmed.
    pub confirmed: Confirmed,
}

/// A summary with what only one lead's view and the export carry.
#[derive(Debug, Clone)]
pub struct LeadDetail {
    /// The summary.
    pub summary: LeadSummary,
    /// The compact receipt (`None` once purged).
    pub receipt: Option<String>,
    /// The seal.
    pub seal: String,
    /// Extra form fields.
    pub fields: serde_json::Value,
    /// Origin of the page.
    pub origin: String,
}

/// Which leads a list or an export takes; keyset pagination on the time-ordered id.
#[derive(Debug, Clone, Default)]
pub struct LeadFilter {
    /// Only this status.
    pub status: Option<LeadStatus>,
    /// Only this notice.
    pub notice: Option<NoticeId>,
    /// Only leads that grant this purpose now.
    pub purpose: Option<Ident>,
    /// Accepted at or after.
    pub since: Option<i64>,
    /// Accepted before.
    pub until: Option<i64>,
}

/// An active lead that grants a purpose to a contact, for the permissions answer.
#[derive(Debug, Clone)]
pub struct PermissionLead {
    /// Lead id.
    pub id: String,
    /// Receipt id.
    pub jti: String,
    /// The notice version it was given.
    pub notice_digest: String,
    /// Acceptance time.
    pub created_at: i64,
    /// Its last contact.
    pub last_contact_at: i64,
    /// The retention of its notice version (`None`: not recorded).
    pub retention_days: Option<i64>,
    /// The channels whose double opt-in is confirmed (`None`: none owed).
    pub confirmed: Confirmed,
}

enum Bind {
    Text(String),
    Int(i64),
}

const SUMMARY: &str = "id, jti, status, notice_id, notice_version, notice_lang, granted, email, phone, minor, \
                       created_at, last_contact_at, contact_erased_at, confirmed_channels";
const RECORD: &str = "id, jti, notice_id, notice_digest, receipt, seal, email, status, granted, fields, created_at, \
                      visitor_key, contact_hash, confirmed_channels";

/// `WHERE …` and its parameters.
fn where_clause(f: &LeadFilter, after: Option<&str>) -> (String, Vec<Bind>) {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    let mut push = |sql: &str, b: Bind| {
        binds.push(b);
        parts.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = f.status {
        push("status = ?", Bind::Text(s.as_str().into()));
    }
    if let Some(n) = &f.notice {
        push("notice_id = ?", Bind::Text(n.as_str().into()));
    }
    if let Some(p) = &f.purpose {
        // `granted` is a JSON array of ids, which are plain identifiers.
        push("granted LIKE ?", Bind::Text(format!("%\"{p}\"%")));
    }
    if let Some(t) = f.since {
        push("created_at >= ?", Bind::Int(t));
    }
    if let Some(t) = f.until {
        push("created_at < ?", Bind::Int(t));
    }
    if let Some(a) = after {
        push("id > ?", Bind::Text(a.into()));
    }
    let sql = if parts.is_empty() { String::new() } else { format!("WHERE {}", parts.join(" AND ")) };
    (sql, binds)
}

fn summary(r: &AnyRow) -> Result<LeadSummary, StoreError> {
    Ok(LeadSummary {
        id: r.try_get("id")?,
        jti: r.try_get("jti")?,
        status: r.try_get::<String, _>("status")?.parse()?,
        notice: (r.try_get("notice_id")?, r.try_get("notice_version")?, r.try_get("notice_lang")?),
        granted: json_list(&r.try_get::<String, _>("granted")?),
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        minor: r.try_get::<i64, _>("minor")? != 0,
        created_at: r.try_get("created_at")?,
        last_contact_at: r.try_get("last_contact_at")?,
        contact_erased_at: r.try_get("contact_erased_at")?,
        confirmed: confirmed(r)?,
    })
}

fn detail(r: &AnyRow) -> Result<LeadDetail, StoreError> {
    Ok(LeadDetail {
        summary: summary(r)?,
        receipt: r.try_get("receipt")?,
        seal: r.try_get("seal")?,
        fields: serde_json::from_str(&r.try_get::<String, _>("fields")?).unwrap_or_default(),
        origin: r.try_get("origin")?,
    })
}

impl Store {
    /// One lead.
    pub async fn lead(&self, id: &str) -> Result<Option<LeadRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD} FROM leads WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| record(&r)).transpose()
    }

    /// The lead a receipt id was accepted as.
    pub async fn lead_by_jti(&self, jti: &str) -> Result<Option<LeadRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {RECORD} FROM leads WHERE jti = $1"))
            .bind(jti)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| record(&r)).transpose()
    }

    /// Number of stored leads.
    pub async fn count_leads(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM leads").fetch_one(&self.pool).await?)
    }

    /// Up to `limit` leads matching `filter`, oldest first, after the lead id `after`.
    pub async fn leads(
        &self,
        filter: &LeadFilter,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<LeadDetail>, StoreError> {
        let (clause, binds) = where_clause(filter, after);
        let sql = format!(
            "SELECT {SUMMARY}, receipt, seal, fields, origin FROM leads {clause} ORDER BY id LIMIT {}",
            limit.max(0)
        );
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = match b {
                Bind::Text(t) => q.bind(t),
                Bind::Int(i) => q.bind(i),
            };
        }
        q.fetch_all(&self.pool).await?.iter().map(detail).collect()
    }

    /// One lead with its receipt, seal, fields and origin.
    pub async fn lead_detail(&self, id: &str) -> Result<Option<LeadDetail>, StoreError> {
        let row = sqlx::query(&format!("SELECT {SUMMARY}, receipt, seal, fields, origin FROM leads WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| detail(&r)).transpose()
    }

    /// Active leads of this contact granting `purpose`, newest first.
    pub async fn active_leads_granting(
        &self,
        contact_hash: &str,
        purpose: &Ident,
    ) -> Result<Vec<PermissionLead>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.id, l.jti, l.notice_digest, l.created_at, l.last_contact_at, v.retention_days, l.confirmed_channels \
             FROM leads l JOIN notice_versions v ON v.digest = l.notice_digest \
             WHERE (l.contact_hash = $1 OR l.phone_hash = $1) AND l.status = $2 AND l.granted LIKE $3 \
             ORDER BY l.created_at DESC",
        )
        .bind(contact_hash)
        .bind(LeadStatus::Active.as_str())
        .bind(format!("%\"{purpose}\"%"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PermissionLead {
                    id: r.try_get("id")?,
                    jti: r.try_get("jti")?,
                    notice_digest: r.try_get("notice_digest")?,
                    created_at: r.try_get("created_at")?,
                    last_contact_at: r.try_get("last_contact_at")?,
                    retention_days: r.try_get("retention_days")?,
                    confirmed: confirmed(r)?,
                })
            })
            .collect()
    }

    /// Every lead of a contact, by its keyed e-mail or phone hash, oldest first: whom an
    /// objection concerns.
    pub async fn leads_by_hash(&self, hash: &str) -> Result<Vec<LeadRecord>, StoreError> {
        let sql = format!("SELECT {RECORD} FROM leads WHERE contact_hash = $1 OR phone_hash = $1 ORDER BY created_at");
        let rows = sqlx::query(&sql).bind(hash).fetch_all(&self.pool).await?;
        rows.iter().map(record).collect()
    }

    /// Every lead of a phone number (by its keyed hash), oldest first: whom an inbound SMS
    /// concerns.
    pub async fn leads_by_phone(&self, phone_hash: &str) -> Result<Vec<LeadRecord>, StoreError> {
        let sql = format!("SELECT {RECORD} FROM leads WHERE phone_hash = $1 ORDER BY created_at");
        let rows = sqlx::query(&sql).bind(phone_hash).fetch_all(&self.pool).await?;
        rows.iter().map(record).collect()
    }

    /// When this contact's withdrawal of `purpose` (any notice) took effect, if one is in
    /// force.
    pub async fn suppressed_since(&self, contact_hash: &str, purpose: &Ident) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(created_at) FROM suppressions WHERE contact_hash = $1 AND purpose = $2 AND lifted_at IS NULL",
        )
        .bind(contact_hash)
        .bind(purpose.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Whether a lead of this contact granting `purpose` waits for its double opt-in or its
    /// parent (a newer consent that will lift a withdrawal once complete).
    pub async fn waiting_lead_granting(&self, contact_hash: &str, purpose: &Ident) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM leads WHERE (contact_hash = $1 OR phone_hash = $1) \
             AND status IN ($2, $3) AND granted LIKE $4",
        )
        .bind(contact_hash)
        .bind(LeadStatus::PendingConfirmation.as_str())
        .bind(LeadStatus::AwaitingGuardian.as_str())
        .bind(format!("%\"{purpose}\"%"))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Suppression entries kept (in force or lifted).
    pub async fn count_suppressions(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM suppressions").fetch_one(&self.pool).await?)
    }
}

fn record(r: &AnyRow) -> Result<LeadRecord, StoreError> {
    Ok(LeadRecord {
        id: r.try_get("id")?,
        jti: r.try_get("jti")?,
        notice_id: r.try_get("notice_id")?,
        notice_digest: r.try_get("notice_digest")?,
        receipt: r.try_get("receipt")?,
        seal: r.try_get("seal")?,
        email: r.try_get("email")?,
        status: r.try_get::<String, _>("status")?.parse()?,
        granted: json_list(&r.try_get::<String, _>("granted")?),
        fields: serde_json::from_str(&r.try_get::<String, _>("fields")?).unwrap_or_default(),
        created_at: r.try_get("created_at")?,
        visitor_key: r.try_get("visitor_key")?,
        contact_hash: r.try_get("contact_hash")?,
        confirmed: confirmed(r)?,
    })
}

fn confirmed(r: &AnyRow) -> Result<Confirmed, StoreError> {
    Ok(confirmation::from_column(r.try_get::<Option<String>, _>("confirmed_channels")?.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_numbered_parameters() {
        let f = LeadFilter {
            status: Some(LeadStatus::Active),
            purpose: Some(Ident::parse("newsletter-email", "purpose").unwrap()),
            ..LeadFilter::default()
        };
        let (sql, binds) = where_clause(&f, Some("01a"));
        assert_eq!(sql, "WHERE status = $1 AND granted LIKE $2 AND id > $3");
        assert_eq!(binds.len(), 3);
    }
}
