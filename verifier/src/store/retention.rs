//! What the retention job reads: the retention periods notice versions were served with,
//! the leads whose retention ended, those due a renewal request, and those whose contact
//! data is due for erasure; and one lead's clock. Each list is read a page at a time
//! (`after`), so a lead the job leaves alone is not read again in the same run.
//!
//! The leads whose retention ended and those due a renewal are walked in order of last
//! contact, through the index on `last_contact_at`, from the oldest to the cutoff: the job
//! then reads the leads it acts on and no others. Walked by id, as at first, every page
//! read the whole table to find that almost no lead was due: at a million leads about a
//! second of SQLite's time at each start of the verifier and each hour (which
//! `cargo xtask bench` saw as a lower rate with a million leads stored than with ten
//! thousand).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError, json_list};
use crate::domain::LeadStatus;

/// A lead whose retention ended, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    /// Lead id.
    pub id: String,
    /// Its status.
    pub status: LeadStatus,
    /// Its last contact.
    pub last_contact_at: i64,
}

/// An active lead whose retention ends soon and that was not asked since its last contact.
#[derive(Debug, Clone)]
pub struct RenewalDue {
    /// Lead id.
    pub id: String,
    /// Notice id.
    pub notice_id: String,
    /// Digest of the notice version shown.
    pub notice_digest: String,
    /// Purposes granted now.
    pub granted: Vec<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone (E.164).
    pub phone: Option<String>,
    /// Declared minor.
    pub minor: bool,
    /// Its last contact.
    pub last_contact_at: i64,
    /// The channels whose double opt-in is confirmed (`None`: none owed).
    pub confirmed: crate::domain::confirmation::Confirmed,
}

/// A withdrawn or refused lead whose contact data is still there.
#[derive(Debug, Clone)]
pub struct ErasureDue {
    /// Lead id.
    pub id: String,
    /// Its status.
    pub status: LeadStatus,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone (E.164).
    pub phone: Option<String>,
    /// Keyed hash of the e-mail address, if recorded.
    pub contact_hash: Option<String>,
    /// Keyed hash of the phone number, if recorded.
    pub phone_hash: Option<String>,
}

/// One lead's retention clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadClock {
    /// Its status.
    pub status: LeadStatus,
    /// Acceptance time.
    pub created_at: i64,
    /// Its last contact.
    pub last_contact_at: i64,
    /// The retention of the notice version it was given (`None`: not recorded).
    pub retention_days: Option<i64>,
    /// When its contact data was erased.
    pub contact_erased_at: Option<i64>,
}

/// `AND` the lead's notice version was served with `days` of retention; `$n` is its
/// parameter when there is one.
fn served_with(days: Option<i64>, n: usize) -> String {
    match days {
        Some(_) => format!("notice_digest IN (SELECT digest FROM notice_versions WHERE retention_days = ${n})"),
        None => "notice_digest IN (SELECT digest FROM notice_versions WHERE retention_days IS NULL)".into(),
    }
}

/// Where a walk over leads in order of last contact resumes: after this lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByLastContact {
    /// The lead's last contact.
    pub last_contact_at: i64,
    /// Its id (leads contacted in the same second go by id).
    pub id: String,
}

impl ByLastContact {
    /// Before every lead.
    pub fn start() -> ByLastContact {
        ByLastContact { last_contact_at: i64::MIN, id: String::new() }
    }
}

/// How SQLite walks the leads in order of last contact. Without statistics its planner
/// takes any equality for selective, and would walk every active lead through the status
/// index to find the few due a renewal; PostgreSQL's planner has statistics and needs no
/// hint.
fn by_last_contact(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "leads INDEXED BY leads_by_last_contact",
        Backend::Postgres => "leads",
    }
}

fn status(r: &AnyRow) -> Result<LeadStatus, StoreError> {
    Ok(r.try_get::<String, _>("status")?.parse()?)
}

fn ended(r: &AnyRow) -> Result<Ended, StoreError> {
    Ok(Ended { id: r.try_get("id")?, status: status(r)?, last_contact_at: r.try_get("last_contact_at")? })
}

impl Store {
    /// Every retention the stored notice versions were served with (`None`: not recorded).
    pub async fn retention_periods(&self) -> Result<Vec<Option<i64>>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT retention_days FROM notice_versions").fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|r| r.try_get("retention_days")).collect::<Result<_, _>>()?)
    }

    /// Up to `limit` leads after `after` of the versions served with `days` of retention
    /// and without contact since `cutoff`, whatever their status, in order of last contact.
    pub async fn leads_ended(
        &self,
        days: Option<i64>,
        cutoff: i64,
        after: &ByLastContact,
        limit: i64,
    ) -> Result<Vec<Ended>, StoreError> {
        let sql = format!(
            "SELECT id, status, last_contact_at FROM {} \
             WHERE last_contact_at < $1 AND (last_contact_at, id) > ($2, $3) AND {} \
             ORDER BY last_contact_at, id LIMIT {}",
            by_last_contact(self.backend),
            served_with(days, 4),
            limit.max(0)
        );
        let mut q = sqlx::query(&sql).bind(cutoff).bind(after.last_contact_at).bind(&after.id);
        if let Some(d) = days {
            q = q.bind(d);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(ended).collect()
    }

    /// Up to `limit` leads after `after` still waiting for their double opt-in or a
    /// parent's approval, with no step since `cutoff`, in order of last contact.
    pub async fn leads_waiting_since(
        &self,
        cutoff: i64,
        after: &ByLastContact,
        limit: i64,
    ) -> Result<Vec<Ended>, StoreError> {
        let sql = format!(
            "SELECT id, status, last_contact_at FROM {} \
             WHERE last_contact_at < $1 AND (last_contact_at, id) > ($2, $3) AND status IN ($4, $5) \
             ORDER BY last_contact_at, id LIMIT {}",
            by_last_contact(self.backend),
            limit.max(0)
        );
        let rows = sqlx::query(&sql)
            .bind(cutoff)
            .bind(after.last_contact_at)
            .bind(&after.id)
            .bind(LeadStatus::PendingConfirmation.as_str())
            .bind(LeadStatus::AwaitingGuardian.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ended).collect()
    }

    /// Up to `limit` active leads after `after` of the versions served with `days` of
    /// retention, without contact since `cutoff`, and not asked to renew since their last
    /// contact, in order of last contact.
    pub async fn renewals_due(
        &self,
        days: Option<i64>,
        cutoff: i64,
        after: &ByLastContact,
        limit: i64,
    ) -> Result<Vec<RenewalDue>, StoreError> {
        let sql = format!(
            "SELECT id, notice_id, notice_digest, granted, email, phone, minor, last_contact_at, confirmed_channels FROM {} \
             WHERE last_contact_at < $1 AND (last_contact_at, id) > ($2, $3) AND status = $4 \
             AND (renewal_requested_at IS NULL OR renewal_requested_at < last_contact_at) AND {} \
             ORDER BY last_contact_at, id LIMIT {}",
            by_last_contact(self.backend),
            served_with(days, 5),
            limit.max(0)
        );
        let mut q = sqlx::query(&sql)
            .bind(cutoff)
            .bind(after.last_contact_at)
            .bind(&after.id)
            .bind(LeadStatus::Active.as_str());
        if let Some(d) = days {
            q = q.bind(d);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(RenewalDue {
                    id: r.try_get("id")?,
                    notice_id: r.try_get("notice_id")?,
                    notice_digest: r.try_get("notice_digest")?,
                    granted: json_list(&r.try_get::<String, _>("granted")?),
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                    minor: r.try_get::<i64, _>("minor")? != 0,
                    last_contact_at: r.try_get("last_contact_at")?,
                    confirmed: crate::domain::confirmation::from_column(
                        r.try_get::<Option<String>, _>("confirmed_channels")?.as_deref(),
                    ),
                })
            })
            .collect()
    }

    /// Up to `limit` withdrawn or refused leads after `after`, ended before `cutoff`, whose
    /// contact data is still there.
    pub async fn erasures_due(&self, cutoff: i64, after: &str, limit: i64) -> Result<Vec<ErasureDue>, StoreError> {
        let sql = format!(
            "SELECT id, status, email, phone, contact_hash, phone_hash FROM leads \
             WHERE last_contact_at < $1 AND id > $2 AND status IN ($3, $4, $5) AND contact_erased_at IS NULL \
             ORDER BY id LIMIT {}",
            limit.max(0)
        );
        let rows = sqlx::query(&sql)
            .bind(cutoff)
            .bind(after)
            .bind(LeadStatus::Withdrawn.as_str())
            .bind(LeadStatus::Refused.as_str())
            .bind(LeadStatus::RefusedByGuardian.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ErasureDue {
                    id: r.try_get("id")?,
                    status: status(r)?,
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                    contact_hash: r.try_get("contact_hash")?,
                    phone_hash: r.try_get("phone_hash")?,
                })
            })
            .collect()
    }

    /// A lead's retention clock, if the lead exists.
    pub async fn lead_clock(&self, id: &str) -> Result<Option<LeadClock>, StoreError> {
        let row = sqlx::query(
            "SELECT l.status, l.created_at, l.last_contact_at, l.contact_erased_at, v.retention_days \
             FROM leads l JOIN notice_versions v ON v.digest = l.notice_digest WHERE l.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LeadClock {
                status: status(&r)?,
                created_at: r.try_get("created_at")?,
                last_contact_at: r.try_get("last_contact_at")?,
                retention_days: r.try_get("retention_days")?,
                contact_erased_at: r.try_get("contact_erased_at")?,
            })
        })
        .transpose()
    }
}
