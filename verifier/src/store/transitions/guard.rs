//! The preamble every token-driven transition shares: is the token still what it was when
//! the decision was made, and is the lead still in the state the decision expects?

use sqlx::{AnyConnection, Row};

use super::super::json_list;
use crate::domain::confirmation::{self, Confirmed};
use crate::domain::{LeadStatus, TokenPurpose};

/// A lead's state, read inside the transaction.
pub(super) struct Snapshot {
    pub(super) status: LeadStatus,
    pub(super) granted: Vec<String>,
    pub(super) notice_id: String,
    pub(super) contact_hash: Option<String>,
    pub(super) phone_hash: Option<String>,
    pub(super) confirmed: Confirmed,
}

/// What the token must still be.
pub(super) struct TokenGuard<'a> {
    pub(super) hash: &'a str,
    pub(super) purpose: TokenPurpose,
    /// Whether an expired token still does (asking for a new link does).
    pub(super) expired_ok: bool,
}

/// The lead, if it exists.
pub(super) async fn snapshot(conn: &mut AnyConnection, lead_id: &str) -> Result<Option<Snapshot>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT status, granted, notice_id, contact_hash, phone_hash, confirmed_channels FROM leads WHERE id = $1",
    )
    .bind(lead_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let Ok(status) = r.try_get::<String, _>("status")?.parse() else { return Ok(None) };
    Ok(Some(Snapshot {
        status,
        granted: json_list(&r.try_get::<String, _>("granted")?),
        notice_id: r.try_get("notice_id")?,
        contact_hash: r.try_get("contact_hash")?,
        phone_hash: r.try_get("phone_hash")?,
        confirmed: confirmation::from_column(r.try_get::<Option<String>, _>("confirmed_channels")?.as_deref()),
    }))
}

/// The lead's state if the token is unused (and unexpired unless allowed), belongs to
/// `lead_id`, and the lead's status is `expect`; `None` otherwise.
pub(super) async fn check(
    conn: &mut AnyConnection,
    lead_id: &str,
    token: TokenGuard<'_>,
    expect: LeadStatus,
    now: i64,
) -> Result<Option<Snapshot>, sqlx::Error> {
    Ok(check_token(conn, lead_id, token, now).await?.filter(|s| s.status == expect))
}

/// The lead's state if the token is unused (and unexpired unless allowed) and belongs to
/// `lead_id`, whatever the lead's status (the caller judges it); `None` otherwise.
pub(super) async fn check_token(
    conn: &mut AnyConnection,
    lead_id: &str,
    token: TokenGuard<'_>,
    now: i64,
) -> Result<Option<Snapshot>, sqlx::Error> {
    let row = sqlx::query("SELECT lead_id, purpose, expires_at, used_at FROM tokens WHERE hash = $1")
        .bind(token.hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let fits = row.try_get::<String, _>("lead_id")? == lead_id
        && row.try_get::<String, _>("purpose")? == token.purpose.as_str()
        && row.try_get::<Option<i64>, _>("used_at")?.is_none()
        && (token.expired_ok || row.try_get::<Option<i64>, _>("expires_at")?.is_none_or(|e| e >= now));
    if !fits {
        return Ok(None);
    }
    snapshot(conn, lead_id).await
}

/// Sets a lead's status. Any step the person takes through a link is contact: it restarts
/// the retention period (an opened mail is not).
pub(super) async fn set_status(
    conn: &mut AnyConnection,
    lead_id: &str,
    status: LeadStatus,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE leads SET status = $1, last_contact_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(lead_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
