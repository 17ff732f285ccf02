//! Inserting accepted leads, a whole batch in a few statements, with the two checks that
//! must hold under the chain lock: a receipt id is accepted once (rule 10), and a receipt
//! signed before a withdrawal of the same contact cannot undo it.

use std::collections::{HashMap, HashSet};

use consent_receipt::GENESIS;
use sqlx::{AnyConnection, Row};

use super::bulk::{self, Value};
use super::chain::Chain;
use super::{outbox, tokens};
use crate::domain::{EventKind, LeadStatus, OutgoingMail};

/// A lead to insert, with the events, tokens and messages its acceptance brings.
#[derive(Debug, Clone)]
pub struct NewLead {
    /// Lead id.
    pub id: String,
    /// Receipt id (unique: rule 10).
    pub jti: String,
    /// Notice id.
    pub notice_id: String,
    /// Notice version.
    pub notice_version: u32,
    /// Notice language.
    pub notice_lang: String,
    /// Notice digest.
    pub notice_digest: String,
    /// Compact receipt as received.
    pub receipt: String,
    /// Its SHA-256.
    pub receipt_sha256: String,
    /// The seal.
    pub seal: String,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Declared minor.
    pub minor: bool,
    /// Guardian e-mail.
    pub guardian_email: Option<String>,
    /// Granted purposes.
    pub granted: Vec<String>,
    /// Of those, the ones granted by consent (a ticked box). Only these lift an earlier
    /// withdrawal: an objection box left unticked is no new act and never undoes an
    /// objection.
    pub consented: Vec<String>,
    /// Extra form fields (JSON object).
    pub fields: serde_json::Value,
    /// Origin of the page.
    pub origin: String,
    /// Visitor's public key (base64url).
    pub visitor_key: String,
    /// Initial status.
    pub status: LeadStatus,
    /// Acceptance time.
    pub created_at: i64,
    /// The receipt's `iat`: a withdrawal after it wins over it.
    pub signed_at: i64,
    /// Keyed hash of the normalised e-mail (suppression list, withdrawal by contact).
    pub contact_hash: Option<String>,
    /// Keyed hash of the phone number, under the SMS channel's own key.
    pub phone_hash: Option<String>,
    /// Events to append.
    pub events: Vec<(EventKind, serde_json::Value)>,
    /// Tokens its messages carry (hashes only).
    pub tokens: Vec<super::NewToken>,
    /// Messages to queue in the same transaction.
    pub mails: Vec<OutgoingMail>,
}

/// What became of a lead submitted to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Stored and durable.
    Accepted,
    /// A lead with this `jti` already exists (rule 10): nothing was written.
    Replay,
    /// The contact withdrew a granted purpose after this receipt was signed: an old
    /// receipt cannot undo a withdrawal. Nothing was written.
    Suppressed,
}

/// For each lead: blocked by a later withdrawal, or the withdrawals its fresh grant lifts.
type Verdicts = Vec<Result<Vec<String>, ()>>;

/// A lead's keyed contact hashes: its e-mail's and its phone's. Each channel has its own
/// key, and a hash is suppressed only for purposes of its channel.
fn hashes(lead: &NewLead) -> impl Iterator<Item = &str> {
    lead.contact_hash.as_deref().into_iter().chain(lead.phone_hash.as_deref())
}

/// Withdrawals in force for the contacts of a batch, compared with each receipt's time.
async fn suppression_verdicts(conn: &mut AnyConnection, leads: &[&NewLead]) -> Result<Verdicts, sqlx::Error> {
    let all: Vec<&str> = leads.iter().flat_map(|l| hashes(l)).collect();
    let mut found: HashMap<(String, String), Vec<(String, i64)>> = HashMap::new();
    for chunk in all.chunks(256) {
        let sql = format!(
            "SELECT contact_hash, notice_id, purpose, created_at FROM suppressions \
             WHERE lifted_at IS NULL AND contact_hash IN ({})",
            bulk::list(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = q.bind(*h);
        }
        for row in q.fetch_all(&mut *conn).await? {
            found
                .entry((row.try_get("contact_hash")?, row.try_get("notice_id")?))
                .or_default()
                .push((row.try_get("purpose")?, row.try_get("created_at")?));
        }
    }
    Ok(leads
        .iter()
        .map(|lead| {
            let mut lifts = Vec::new();
            for hash in hashes(lead) {
                let rows = found.get(&(hash.to_string(), lead.notice_id.clone())).map_or(&[][..], Vec::as_slice);
                for (purpose, since) in rows.iter().filter(|(p, _)| lead.granted.contains(p)) {
                    if lead.signed_at <= *since {
                        return Err(());
                    }
                    if lead.consented.contains(purpose) && !lifts.contains(purpose) {
                        lifts.push(purpose.clone());
                    }
                }
            }
            Ok(lifts)
        })
        .collect())
}

/// Receipt ids of `leads` already stored. Under the chain-head lock nobody else inserts
/// meanwhile (every writer, on every replica, takes it first), so this cannot go stale;
/// the unique index stays the last word if it ever did.
async fn stored_jtis(conn: &mut AnyConnection, jtis: &[&str]) -> Result<HashSet<String>, sqlx::Error> {
    let mut stored = HashSet::new();
    for chunk in jtis.chunks(256) {
        let sql = format!("SELECT jti FROM leads WHERE jti IN ({})", bulk::list(chunk.len()));
        let mut q = sqlx::query(&sql);
        for jti in chunk {
            q = q.bind(*jti);
        }
        for row in q.fetch_all(&mut *conn).await? {
            stored.insert(row.try_get::<String, _>("jti")?);
        }
    }
    Ok(stored)
}

/// Inserts a batch of leads with their events, tokens and messages.
pub(super) async fn insert_leads(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    leads: &[&NewLead],
) -> Result<Vec<AcceptOutcome>, sqlx::Error> {
    // A jti twice in one batch: only its first submission can be new.
    let mut seen = HashSet::new();
    let fresh: Vec<bool> = leads.iter().map(|l| seen.insert(l.jti.as_str())).collect();
    let verdicts = if leads.iter().any(|l| hashes(l).next().is_some()) {
        suppression_verdicts(conn, leads).await?
    } else {
        vec![Ok(Vec::new()); leads.len()]
    };
    let candidates: Vec<&str> = leads
        .iter()
        .zip(&verdicts)
        .zip(&fresh)
        .filter(|((_, v), f)| v.is_ok() && **f)
        .map(|((l, _), _)| l.jti.as_str())
        .collect();
    let stored = stored_jtis(conn, &candidates).await?;
    let mut outcomes = Vec::with_capacity(leads.len());
    let mut rows = Vec::new();
    let mut accepted = Vec::new();
    for ((lead, verdict), fresh) in leads.iter().zip(verdicts).zip(fresh) {
        let lifts = match verdict {
            Err(()) => {
                outcomes.push(AcceptOutcome::Suppressed);
                continue;
            }
            Ok(_) if !fresh || stored.contains(&lead.jti) => {
                outcomes.push(AcceptOutcome::Replay);
                continue;
            }
            Ok(lifts) => lifts,
        };
        let mut last = GENESIS.to_string();
        for (kind, data) in &lead.events {
            last = chain.append(Some(&lead.id), Some(&last), *kind, data, lead.created_at)?;
        }
        // Only a complete consent lifts a withdrawal; a lead that still waits for its double
        // opt-in or its parent lifts it when it becomes active (`transitions::lift`).
        if !lifts.is_empty() && lead.status == LeadStatus::Active {
            lift_suppressions(conn, lead, &lifts).await?;
            let data = serde_json::json!({"purposes": lifts, "receipt_jti": lead.jti});
            last = chain.append(Some(&lead.id), Some(&last), EventKind::SuppressionLifted, &data, lead.created_at)?;
        }
        rows.push(lead_row(lead, last));
        accepted.push(*lead);
        outcomes.push(AcceptOutcome::Accepted);
    }
    bulk::insert(conn, "leads", &LEAD_COLUMNS, rows).await?;
    let token_rows =
        tokens::rows(accepted.iter().flat_map(|l| l.tokens.iter().map(|t| (l.id.as_str(), t, l.created_at))));
    tokens::insert(conn, token_rows).await?;
    let mail_rows =
        outbox::rows(accepted.iter().flat_map(|l| l.mails.iter().map(|m| (l.id.as_str(), m, l.created_at))));
    outbox::insert(conn, mail_rows).await?;
    Ok(outcomes)
}

const LEAD_COLUMNS: [&str; 23] = [
    "id",
    "jti",
    "notice_id",
    "notice_version",
    "notice_lang",
    "notice_digest",
    "receipt",
    "receipt_sha256",
    "seal",
    "email",
    "phone",
    "minor",
    "guardian_email",
    "granted",
    "fields",
    "origin",
    "visitor_key",
    "status",
    "created_at",
    "last_contact_at",
    "contact_hash",
    "last_event_hash",
    "phone_hash",
];

fn lead_row(l: &NewLead, last_event: String) -> Vec<Value> {
    vec![
        l.id.clone().into(),
        l.jti.clone().into(),
        l.notice_id.clone().into(),
        i64::from(l.notice_version).into(),
        l.notice_lang.clone().into(),
        l.notice_digest.clone().into(),
        l.receipt.clone().into(),
        l.receipt_sha256.clone().into(),
        l.seal.clone().into(),
        l.email.clone().into(),
        l.phone.clone().into(),
        i64::from(l.minor).into(),
        l.guardian_email.clone().into(),
        serde_json::to_string(&l.granted).unwrap_or_else(|_| "[]".into()).into(),
        serde_json::to_string(&l.fields).unwrap_or_else(|_| "{}".into()).into(),
        l.origin.clone().into(),
        l.visitor_key.clone().into(),
        l.status.as_str().into(),
        l.created_at.into(),
        l.created_at.into(),
        l.contact_hash.clone().into(),
        last_event.into(),
        l.phone_hash.clone().into(),
    ]
}

/// Marks the suppressions a fresh grant lifts.
async fn lift_suppressions(conn: &mut AnyConnection, lead: &NewLead, purposes: &[String]) -> Result<(), sqlx::Error> {
    for hash in hashes(lead) {
        for p in purposes {
            sqlx::query(
                "UPDATE suppressions SET lifted_at = $1 WHERE contact_hash = $2 AND notice_id = $3 AND purpose = $4",
            )
            .bind(lead.created_at)
            .bind(hash)
            .bind(&lead.notice_id)
            .bind(p)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}
