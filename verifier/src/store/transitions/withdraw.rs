//! Withdrawal of granted purposes, and the suppression that keeps it in force.

use sqlx::AnyConnection;

use super::guard;
use super::{Chain, LifeOutcome};
use crate::domain::{EventKind, LeadStatus, WithdrawalSource};

/// Withdraw purposes of a lead, as decided from its state `expect_*`.
#[derive(Debug, Clone)]
pub struct Withdraw {
    /// The lead.
    pub lead_id: String,
    /// The status the decision was made on.
    pub expect_status: LeadStatus,
    /// The granted purposes the decision was made on.
    pub expect_granted: Vec<String>,
    /// What is withdrawn (empty only for a signed request whose id must still be spent).
    pub withdrawn: Vec<String>,
    /// Those of them on the SMS channel: the phone number is suppressed for these, the
    /// e-mail address for the others.
    pub sms_purposes: Vec<String>,
    /// The status after it.
    pub next: LeadStatus,
    /// How it came.
    pub source: WithdrawalSource,
    /// For a request signed by the visitor's key, its id (single-use).
    pub signed_jti: Option<String>,
    /// For a withdrawal an objection caused, the objection's id (shown in the proof).
    pub objection: Option<String>,
    /// What else follows.
    pub target: WithdrawTarget,
}

/// What the withdrawal also ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WithdrawTarget {
    /// Nothing is left granted: the pending links and unsent messages die too.
    pub cancel_pending: bool,
    /// The contact goes on the suppression list for the withdrawn purposes.
    pub suppress: bool,
}

pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    t: &Withdraw,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    if let Some(jti) = &t.signed_jti {
        let fresh = sqlx::query(
            "INSERT INTO withdrawal_receipts (jti, lead_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING",
        )
        .bind(jti)
        .bind(&t.lead_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if fresh.rows_affected() == 0 {
            return Ok(LifeOutcome::Replay);
        }
    }
    let Some(lead) = guard::snapshot(conn, &t.lead_id).await? else { return Ok(LifeOutcome::Stale) };
    if lead.status != t.expect_status || lead.granted != t.expect_granted {
        return Ok(LifeOutcome::Stale);
    }
    if t.withdrawn.is_empty() {
        // A signed request for what is already withdrawn: its id is spent, nothing else.
        return Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: lead.status });
    }
    let remaining: Vec<&String> = lead.granted.iter().filter(|g| !t.withdrawn.contains(g)).collect();
    sqlx::query("UPDATE leads SET granted = $1, status = $2, last_contact_at = $3 WHERE id = $4")
        .bind(serde_json::to_string(&remaining).unwrap_or_else(|_| "[]".into()))
        .bind(t.next.as_str())
        .bind(now)
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    if t.target.cancel_pending {
        sqlx::query(
            "UPDATE tokens SET used_at = $1 WHERE lead_id = $2 AND purpose <> 'unsubscribe' AND used_at IS NULL",
        )
        .bind(now)
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE outbox SET failed_at = $1, last_error = 'withdrawn before sending', message = NULL, \
             recipient = NULL, link = NULL WHERE lead_id = $2 AND sent_at IS NULL AND failed_at IS NULL",
        )
        .bind(now)
        .bind(&t.lead_id)
        .execute(&mut *conn)
        .await?;
    }
    let mut data = serde_json::json!({
        "purposes": t.withdrawn, "source": t.source, "signed_jti": t.signed_jti, "status": t.next,
    });
    if let Some(objection) = &t.objection {
        data["objection_id"] = objection.as_str().into();
    }
    chain.append_for_lead(conn, &t.lead_id, EventKind::Withdrawn, &data, now).await?;
    if t.target.suppress {
        let (sms, email): (Vec<&String>, Vec<&String>) = t.withdrawn.iter().partition(|p| t.sms_purposes.contains(p));
        let mut suppressed = Vec::new();
        for (hash, purposes) in [(&lead.contact_hash, email), (&lead.phone_hash, sms)] {
            let Some(hash) = hash else { continue };
            for p in purposes {
                suppress(conn, hash, &lead.notice_id, p, now).await?;
                suppressed.push(p);
            }
        }
        if !suppressed.is_empty() {
            let data = serde_json::json!({"purposes": suppressed});
            chain.append_for_lead(conn, &t.lead_id, EventKind::Suppressed, &data, now).await?;
        }
    }
    Ok(LifeOutcome::Done { lead_id: t.lead_id.clone(), status: t.next })
}

/// Puts a contact's keyed hash on the suppression list for one purpose of a notice.
pub(super) async fn suppress(
    conn: &mut AnyConnection,
    hash: &str,
    notice_id: &str,
    purpose: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO suppressions (contact_hash, notice_id, purpose, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (contact_hash, notice_id, purpose) DO UPDATE SET created_at = $4, lifted_at = NULL",
    )
    .bind(hash)
    .bind(notice_id)
    .bind(purpose)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
