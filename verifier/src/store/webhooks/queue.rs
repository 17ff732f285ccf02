//! Queuing a delivery for each (event, endpoint that takes its type), in the event's
//! transaction, with the body composed from the lead as the event left it.

use std::collections::HashMap;

use consent_receipt::b64;
use sqlx::{AnyConnection, Row};

use super::COLUMNS;
use crate::clock::rfc3339;
use crate::domain::{EventKind, LeadStatus, WebhookEvent};
use crate::store::bulk;
use crate::store::json_list;

/// An event the chain is about to insert.
pub(in crate::store) struct Queued<'a> {
    pub seq: i64,
    pub lead_id: Option<&'a str>,
    pub kind: EventKind,
    pub data: &'a str,
    pub at: i64,
    pub hash: &'a str,
}

/// Queues the deliveries of `events` for every live endpoint that takes their type.
pub(in crate::store) async fn queue(conn: &mut AnyConnection, events: &[Queued<'_>]) -> Result<(), sqlx::Error> {
    if !events.iter().any(|e| WebhookEvent::of(e.kind, None).is_some()) {
        return Ok(());
    }
    let rows = sqlx::query("SELECT id, event_types, include_contact FROM webhook_endpoints WHERE disabled_at IS NULL")
        .fetch_all(&mut *conn)
        .await?;
    let endpoints: Vec<(String, Vec<String>, bool)> = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                json_list(&r.try_get::<String, _>("event_types")?),
                r.try_get::<i64, _>("include_contact")? != 0,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let wanted: Vec<&Queued<'_>> = events.iter().filter(|e| WebhookEvent::of(e.kind, None).is_some()).collect();
    let mut ids: Vec<&str> = wanted.iter().filter_map(|e| e.lead_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let leads = leads_of(conn, &ids).await?;
    let mut out = Vec::new();
    for e in wanted {
        let lead = e.lead_id.and_then(|id| leads.get(id));
        let status = lead.as_ref().and_then(|l| l.status.parse::<LeadStatus>().ok());
        let Some(kind) = WebhookEvent::of(e.kind, status) else { continue };
        for (endpoint_id, types, contact) in &endpoints {
            if !types.is_empty() && !types.iter().any(|t| t == kind.as_str()) {
                continue;
            }
            let body = body(kind, e, lead, *contact);
            out.push(vec![
                format!("msg_{}_{endpoint_id}", e.seq).into(),
                endpoint_id.as_str().into(),
                e.seq.into(),
                kind.as_str().into(),
                e.lead_id.map(str::to_string).into(),
                body.into(),
                e.at.into(),
                0i64.into(),
                e.at.into(),
                0i64.into(),
            ]);
        }
    }
    bulk::insert(conn, "webhook_deliveries", &COLUMNS, out).await
}

/// What a delivery says of its lead, read in the event's transaction.
struct LeadNow {
    status: String,
    notice_id: String,
    notice_version: i64,
    jti: String,
    receipt: Option<String>,
    receipt_sha256: String,
    seal: String,
    granted: Vec<String>,
    email: Option<String>,
    phone: Option<String>,
}

/// The leads of a batch's events, 64 to a query.
async fn leads_of(conn: &mut AnyConnection, ids: &[&str]) -> Result<HashMap<String, LeadNow>, sqlx::Error> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(64) {
        let sql = format!(
            "SELECT id, status, notice_id, notice_version, jti, receipt, receipt_sha256, seal, granted, email, phone \
             FROM leads WHERE id IN ({})",
            bulk::list(chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let lead = LeadNow {
                status: r.try_get("status")?,
                notice_id: r.try_get("notice_id")?,
                notice_version: r.try_get("notice_version")?,
                jti: r.try_get("jti")?,
                receipt: r.try_get("receipt")?,
                receipt_sha256: r.try_get("receipt_sha256")?,
                seal: r.try_get("seal")?,
                granted: json_list(&r.try_get::<String, _>("granted")?),
                email: r.try_get("email")?,
                phone: r.try_get("phone")?,
            };
            out.insert(r.try_get("id")?, lead);
        }
    }
    Ok(out)
}

/// The receipt's decisions (every purpose, granted or refused); once the receipt is
/// erased, the purposes still granted.
fn purposes(lead: &LeadNow) -> serde_json::Value {
    let decisions = lead
        .receipt
        .as_deref()
        .and_then(|r| r.split('.').nth(1))
        .and_then(|p| b64::decode(p).ok())
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok())
        .and_then(|c| c.get("decisions").cloned())
        .and_then(|d| d.as_array().cloned());
    match decisions {
        Some(d) => d
            .iter()
            .map(|x| serde_json::json!({"purpose": x.get("purpose"), "granted": x.get("granted"), "at": x.get("at")}))
            .collect(),
        None => lead.granted.iter().map(|p| serde_json::json!({"purpose": p, "granted": true})).collect(),
    }
}

/// The body, `{type, timestamp, data}`. The receipt names the contact, so it travels only
/// with the contact; every delivery has the seal (the receipt's SHA-256, no address).
fn body(kind: WebhookEvent, e: &Queued<'_>, lead: Option<&LeadNow>, contact: bool) -> String {
    let mut data = serde_json::json!({
        "lead_id": e.lead_id,
        "event": {
            "seq": e.seq, "kind": e.kind, "hash": e.hash, "at": e.at,
            "data": serde_json::from_str::<serde_json::Value>(e.data).unwrap_or_default(),
        },
    });
    if let Some(l) = lead {
        data["status"] = l.status.clone().into();
        data["notice"] = serde_json::json!({"id": l.notice_id, "version": l.notice_version});
        data["purposes"] = purposes(l);
        data["receipt_jti"] = l.jti.clone().into();
        data["receipt_sha256"] = l.receipt_sha256.clone().into();
        data["seal"] = l.seal.clone().into();
        if contact {
            data["receipt"] = l.receipt.clone().into();
            data["contact"] = serde_json::json!({"email": l.email, "phone": l.phone});
        }
    }
    serde_json::json!({"type": kind, "timestamp": rfc3339(e.at), "data": data}).to_string()
}
