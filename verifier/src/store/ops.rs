//! Life-cycle transitions, each applied inside the writer's transaction: the state it
//! reads, the rows it changes and the events it appends commit together or not at all.
//!
//! ```text
//! refused
//! pending_confirmation --confirm--> active --withdraw--> withdrawn
//! awaiting_guardian --guardian agrees--> pending_confirmation | active
//!                   --guardian refuses--> refused_by_guardian
//! (any) --retention--> purged (row deleted; events and suppressions stay)
//! ```

use sqlx::{AnyConnection, Row};

use super::Backend;
use super::writer::{Chain, EventRow, NewLead, NewToken, insert_mails, insert_tokens};
use crate::mail::OutgoingMail;

/// Lead statuses.
pub mod status {
    /// Waiting for the double opt-in click.
    pub const PENDING_CONFIRMATION: &str = "pending_confirmation";
    /// A minor's lead waiting for a holder of parental responsibility.
    pub const AWAITING_GUARDIAN: &str = "awaiting_guardian";
    /// Marketing allowed for the granted purposes.
    pub const ACTIVE: &str = "active";
    /// Nothing was granted: the refusal is the record.
    pub const REFUSED: &str = "refused";
    /// The guardian refused.
    pub const REFUSED_BY_GUARDIAN: &str = "refused_by_guardian";
    /// Every granted purpose was withdrawn.
    pub const WITHDRAWN: &str = "withdrawn";
}

/// Which lead an operation is about.
#[derive(Debug, Clone)]
pub enum LeadRef {
    /// The lead an unsubscribe token belongs to (hash of the token).
    UnsubscribeToken(String),
    /// The lead a confirmation token belongs to ("no thanks" on the confirmation page).
    ConfirmToken(String),
    /// A lead by id (signed withdrawal, admin).
    Lead(String),
}

/// The guardian's answer, with their own signed receipt.
#[derive(Debug, Clone)]
pub struct GuardianDecision {
    /// Hash of the guardian token from the mail.
    pub token_hash: String,
    /// The guardian receipt's `jti`.
    pub jti: String,
    /// The guardian receipt, as received.
    pub receipt: String,
    /// Its SHA-256.
    pub receipt_sha256: String,
    /// The verifier's seal on it.
    pub seal: String,
    /// Whether the guardian agreed.
    pub approved: bool,
    /// Status of the lead if they agreed.
    pub next_status: &'static str,
    /// Mails the approval triggers (the child's confirmation), with their tokens.
    pub mails: Vec<OutgoingMail>,
    /// Tokens those mails carry.
    pub tokens: Vec<NewToken>,
}

/// A transition for the writer.
#[derive(Debug, Clone)]
pub enum LifeOp {
    /// The double opt-in click.
    Confirm {
        /// Hash of the token.
        token_hash: String,
        /// A fresh unsubscribe token for the page that says "confirmed".
        unsubscribe: NewToken,
    },
    /// A fresh confirmation mail replacing an expired link.
    ResendConfirmation {
        /// Hash of the old token.
        token_hash: String,
        /// The new tokens (confirm, unsubscribe).
        tokens: Vec<NewToken>,
        /// The new mail.
        mail: OutgoingMail,
    },
    /// The guardian's decision.
    Guardian(Box<GuardianDecision>),
    /// Withdrawal of some granted purposes, or all.
    Withdraw {
        /// Which lead.
        lead: LeadRef,
        /// Purposes to withdraw; `None` for every granted one.
        purposes: Option<Vec<String>>,
        /// How: `one-click`, `page`, `signed`.
        source: &'static str,
        /// For a signed withdrawal, its id (single-use).
        signed_jti: Option<String>,
    },
    /// The mail worker's send was accepted by the server.
    MailSent {
        /// Outbox row.
        outbox_id: String,
    },
    /// Retention: delete these leads' personal data.
    Purge {
        /// Leads to delete.
        lead_ids: Vec<String>,
    },
}

/// What a transition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifeOutcome {
    /// Applied (or already in that state); the lead's status now.
    Done {
        /// Lead.
        lead_id: String,
        /// Status after the transition.
        status: String,
    },
    /// The token was already used.
    TokenUsed {
        /// Its lead.
        lead_id: String,
    },
    /// The token has expired.
    TokenExpired {
        /// Its lead.
        lead_id: String,
    },
    /// No such token (or lead).
    Unknown,
    /// The lead is not in a state this transition applies to.
    WrongState {
        /// Lead.
        lead_id: String,
        /// Its status.
        status: String,
    },
    /// A signed request or receipt id already used.
    Replay,
    /// How many leads a purge removed, or mails marked sent.
    Count(usize),
}

enum TokenCheck {
    Valid(String),
    Used(String),
    Expired(String),
    Unknown,
}

async fn check_token(conn: &mut AnyConnection, hash: &str, purpose: &str, now: i64) -> Result<TokenCheck, sqlx::Error> {
    let row = sqlx::query("SELECT lead_id, purpose, expires_at, used_at FROM tokens WHERE hash = $1")
        .bind(hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(TokenCheck::Unknown) };
    let lead: String = row.try_get("lead_id")?;
    if row.try_get::<String, _>("purpose")? != purpose {
        return Ok(TokenCheck::Unknown);
    }
    if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
        return Ok(TokenCheck::Used(lead));
    }
    if row.try_get::<Option<i64>, _>("expires_at")?.is_some_and(|e| e < now) {
        return Ok(TokenCheck::Expired(lead));
    }
    Ok(TokenCheck::Valid(lead))
}

async fn use_token(conn: &mut AnyConnection, hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

struct LeadState {
    status: String,
    granted: Vec<String>,
    notice_id: String,
    contact_hash: Option<String>,
}

async fn lead_state(conn: &mut AnyConnection, id: &str) -> Result<Option<LeadState>, sqlx::Error> {
    let row = sqlx::query("SELECT status, granted, notice_id, contact_hash FROM leads WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| {
        Ok(LeadState {
            status: r.try_get("status")?,
            granted: serde_json::from_str(&r.try_get::<String, _>("granted")?).unwrap_or_default(),
            notice_id: r.try_get("notice_id")?,
            contact_hash: r.try_get("contact_hash")?,
        })
    })
    .transpose()
}

/// Appends an event of a lead, linking it to the lead's previous event, and records it as
/// the lead's last.
async fn lead_event(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    events: &mut Vec<EventRow>,
    lead_id: &str,
    kind: &str,
    data: &serde_json::Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    let last: Option<Option<String>> = sqlx::query_scalar("SELECT last_event_hash FROM leads WHERE id = $1")
        .bind(lead_id)
        .fetch_optional(&mut *conn)
        .await?;
    let last = last.flatten().unwrap_or_else(|| consent_receipt::GENESIS.to_string());
    let e = chain.append(Some(lead_id), Some(&last), kind, data, now)?;
    sqlx::query("UPDATE leads SET last_event_hash = $1 WHERE id = $2")
        .bind(&e.hash)
        .bind(lead_id)
        .execute(&mut *conn)
        .await?;
    events.push(e);
    Ok(())
}

async fn set_status(conn: &mut AnyConnection, id: &str, status: &str, now: i64) -> Result<(), sqlx::Error> {
    // A click in a mail is contact (it restarts the retention period); an open is not.
    sqlx::query("UPDATE leads SET status = $1, last_contact_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Marks the suppressions a fresh grant lifts.
pub(super) async fn lift_suppressions(
    conn: &mut AnyConnection,
    lead: &NewLead,
    purposes: &[String],
) -> Result<(), sqlx::Error> {
    for p in purposes {
        sqlx::query(
            "UPDATE suppressions SET lifted_at = $1 WHERE contact_hash = $2 AND notice_id = $3 AND purpose = $4",
        )
        .bind(lead.created_at)
        .bind(lead.contact_hash.clone())
        .bind(&lead.notice_id)
        .bind(p)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Applies one transition at time `now`.
pub(super) async fn apply_life(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    op: &LifeOp,
    events: &mut Vec<EventRow>,
    backend: Backend,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    let _ = backend;
    match op {
        LifeOp::Confirm { token_hash, unsubscribe } => {
            let lead_id = match check_token(conn, token_hash, "confirm", now).await? {
                TokenCheck::Valid(l) => l,
                TokenCheck::Used(lead_id) => return Ok(LifeOutcome::TokenUsed { lead_id }),
                TokenCheck::Expired(lead_id) => return Ok(LifeOutcome::TokenExpired { lead_id }),
                TokenCheck::Unknown => return Ok(LifeOutcome::Unknown),
            };
            let Some(lead) = lead_state(conn, &lead_id).await? else { return Ok(LifeOutcome::Unknown) };
            if lead.status != status::PENDING_CONFIRMATION {
                return Ok(LifeOutcome::WrongState { lead_id, status: lead.status });
            }
            use_token(conn, token_hash, now).await?;
            insert_tokens(conn, &[(lead_id.as_str(), unsubscribe, now)]).await?;
            set_status(conn, &lead_id, status::ACTIVE, now).await?;
            lead_event(conn, chain, events, &lead_id, "confirmed", &serde_json::json!({"status": status::ACTIVE}), now)
                .await?;
            Ok(LifeOutcome::Done { lead_id, status: status::ACTIVE.into() })
        }
        LifeOp::ResendConfirmation { token_hash, tokens, mail } => {
            let lead_id = match check_token(conn, token_hash, "confirm", now).await? {
                TokenCheck::Valid(l) | TokenCheck::Expired(l) => l,
                TokenCheck::Used(lead_id) => return Ok(LifeOutcome::TokenUsed { lead_id }),
                TokenCheck::Unknown => return Ok(LifeOutcome::Unknown),
            };
            let Some(lead) = lead_state(conn, &lead_id).await? else { return Ok(LifeOutcome::Unknown) };
            if lead.status != status::PENDING_CONFIRMATION {
                return Ok(LifeOutcome::WrongState { lead_id, status: lead.status });
            }
            // The old link dies with the new one's birth: one live link at a time.
            use_token(conn, token_hash, now).await?;
            insert_tokens(conn, &tokens.iter().map(|t| (lead_id.as_str(), t, now)).collect::<Vec<_>>()).await?;
            insert_mails(conn, &[(lead_id.as_str(), mail, now)]).await?;
            lead_event(
                conn,
                chain,
                events,
                &lead_id,
                "confirmation_requeued",
                &serde_json::json!({"outbox_id": mail.id}),
                now,
            )
            .await?;
            Ok(LifeOutcome::Done { lead_id, status: lead.status })
        }
        LifeOp::Guardian(d) => {
            let lead_id = match check_token(conn, &d.token_hash, "guardian", now).await? {
                TokenCheck::Valid(l) => l,
                TokenCheck::Used(lead_id) => return Ok(LifeOutcome::TokenUsed { lead_id }),
                TokenCheck::Expired(lead_id) => return Ok(LifeOutcome::TokenExpired { lead_id }),
                TokenCheck::Unknown => return Ok(LifeOutcome::Unknown),
            };
            let Some(lead) = lead_state(conn, &lead_id).await? else { return Ok(LifeOutcome::Unknown) };
            if lead.status != status::AWAITING_GUARDIAN {
                return Ok(LifeOutcome::WrongState { lead_id, status: lead.status });
            }
            let stored = sqlx::query(
                "INSERT INTO guardian_receipts (jti, lead_id, receipt, receipt_sha256, seal, approved, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (jti) DO NOTHING",
            )
            .bind(&d.jti)
            .bind(&lead_id)
            .bind(&d.receipt)
            .bind(&d.receipt_sha256)
            .bind(&d.seal)
            .bind(i64::from(d.approved))
            .bind(now)
            .execute(&mut *conn)
            .await?;
            if stored.rows_affected() == 0 {
                return Ok(LifeOutcome::Replay);
            }
            use_token(conn, &d.token_hash, now).await?;
            let next = if d.approved { d.next_status } else { status::REFUSED_BY_GUARDIAN };
            set_status(conn, &lead_id, next, now).await?;
            if d.approved {
                insert_tokens(conn, &d.tokens.iter().map(|t| (lead_id.as_str(), t, now)).collect::<Vec<_>>()).await?;
                insert_mails(conn, &d.mails.iter().map(|m| (lead_id.as_str(), m, now)).collect::<Vec<_>>()).await?;
            }
            let kind = if d.approved { "guardian_approved" } else { "guardian_refused" };
            let data = serde_json::json!({"receipt_sha256": d.receipt_sha256, "jti": d.jti, "status": next});
            lead_event(conn, chain, events, &lead_id, kind, &data, now).await?;
            Ok(LifeOutcome::Done { lead_id, status: next.into() })
        }
        LifeOp::Withdraw { lead, purposes, source, signed_jti } => {
            let lead_id = match lead {
                LeadRef::Lead(id) => id.clone(),
                LeadRef::UnsubscribeToken(hash) => match check_token(conn, hash, "unsubscribe", now).await? {
                    // An unsubscribe link keeps working: it is not consumed.
                    TokenCheck::Valid(l) | TokenCheck::Used(l) | TokenCheck::Expired(l) => l,
                    TokenCheck::Unknown => return Ok(LifeOutcome::Unknown),
                },
                LeadRef::ConfirmToken(hash) => match check_token(conn, hash, "confirm", now).await? {
                    TokenCheck::Valid(l) | TokenCheck::Used(l) | TokenCheck::Expired(l) => l,
                    TokenCheck::Unknown => return Ok(LifeOutcome::Unknown),
                },
            };
            if let Some(jti) = signed_jti {
                let fresh = sqlx::query(
                    "INSERT INTO withdrawal_receipts (jti, lead_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(&lead_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                if fresh.rows_affected() == 0 {
                    return Ok(LifeOutcome::Replay);
                }
            }
            let Some(state) = lead_state(conn, &lead_id).await? else { return Ok(LifeOutcome::Unknown) };
            let withdrawn: Vec<String> = match purposes {
                None => state.granted.clone(),
                Some(list) => state.granted.iter().filter(|g| list.contains(g)).cloned().collect(),
            };
            if withdrawn.is_empty() {
                // Already withdrawn: the same answer, no new event.
                return Ok(LifeOutcome::Done { lead_id, status: state.status });
            }
            let remaining: Vec<String> = state.granted.iter().filter(|g| !withdrawn.contains(g)).cloned().collect();
            let next = if remaining.is_empty() { status::WITHDRAWN.to_string() } else { state.status.clone() };
            sqlx::query("UPDATE leads SET granted = $1, status = $2, last_contact_at = $3 WHERE id = $4")
                .bind(serde_json::to_string(&remaining).unwrap_or_else(|_| "[]".into()))
                .bind(&next)
                .bind(now)
                .bind(&lead_id)
                .execute(&mut *conn)
                .await?;
            if remaining.is_empty() {
                // Nothing left to confirm or approve: the pending links and mails die too.
                sqlx::query("UPDATE tokens SET used_at = $1 WHERE lead_id = $2 AND purpose <> 'unsubscribe' AND used_at IS NULL")
                    .bind(now)
                    .bind(&lead_id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(
                    "UPDATE outbox SET failed_at = $1, last_error = 'withdrawn before sending', message = NULL, \
                     recipient = NULL, link = NULL WHERE lead_id = $2 AND sent_at IS NULL AND failed_at IS NULL",
                )
                .bind(now)
                .bind(&lead_id)
                .execute(&mut *conn)
                .await?;
            }
            let data =
                serde_json::json!({"purposes": withdrawn, "source": source, "signed_jti": signed_jti, "status": next});
            lead_event(conn, chain, events, &lead_id, "withdrawn", &data, now).await?;
            if let Some(hash) = &state.contact_hash {
                for p in &withdrawn {
                    sqlx::query(
                        "INSERT INTO suppressions (contact_hash, notice_id, purpose, created_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (contact_hash, notice_id, purpose) DO UPDATE SET created_at = $4, lifted_at = NULL",
                    )
                    .bind(hash)
                    .bind(&state.notice_id)
                    .bind(p)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                }
                lead_event(
                    conn,
                    chain,
                    events,
                    &lead_id,
                    "suppressed",
                    &serde_json::json!({"purposes": withdrawn}),
                    now,
                )
                .await?;
            }
            Ok(LifeOutcome::Done { lead_id, status: next })
        }
        LifeOp::MailSent { outbox_id } => {
            let row = sqlx::query("SELECT lead_id, kind, message_id FROM outbox WHERE id = $1 AND sent_at IS NULL")
                .bind(outbox_id)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else { return Ok(LifeOutcome::Count(0)) };
            // Sent: the token-bearing message and the address leave the outbox.
            sqlx::query("UPDATE outbox SET sent_at = $1, message = NULL, recipient = NULL, link = NULL WHERE id = $2")
                .bind(now)
                .bind(outbox_id)
                .execute(&mut *conn)
                .await?;
            let lead_id: Option<String> = row.try_get("lead_id")?;
            let kind: String = row.try_get("kind")?;
            let event = if kind == "guardian_request" { "guardian_requested" } else { "confirmation_sent" };
            let data =
                serde_json::json!({"outbox_id": outbox_id, "message_id": row.try_get::<String, _>("message_id")?});
            match lead_id.as_deref() {
                Some(lead) => lead_event(conn, chain, events, lead, event, &data, now).await?,
                None => events.push(chain.append(None, None, event, &data, now)?),
            }
            Ok(LifeOutcome::Count(1))
        }
        LifeOp::Purge { lead_ids } => {
            let mut n = 0;
            for id in lead_ids {
                for sql in [
                    "DELETE FROM tokens WHERE lead_id = $1",
                    "DELETE FROM outbox WHERE lead_id = $1",
                    "DELETE FROM guardian_receipts WHERE lead_id = $1",
                    "DELETE FROM withdrawal_receipts WHERE lead_id = $1",
                ] {
                    sqlx::query(sql).bind(id).execute(&mut *conn).await?;
                }
                // The purged event is the last of the lead's chain: link it before the row goes.
                let last: Option<Option<String>> =
                    sqlx::query_scalar("SELECT last_event_hash FROM leads WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let gone = sqlx::query("DELETE FROM leads WHERE id = $1").bind(id).execute(&mut *conn).await?;
                if gone.rows_affected() == 1 {
                    n += 1;
                    let last = last.flatten().unwrap_or_else(|| consent_receipt::GENESIS.to_string());
                    let data = serde_json::json!({"reason": "retention"});
                    events.push(chain.append(Some(id), Some(&last), "purged", &data, now)?);
                }
            }
            Ok(LifeOutcome::Count(n))
        }
    }
}
