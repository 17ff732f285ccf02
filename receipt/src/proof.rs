//! Proof of consent: one JSON document anyone can check offline, with no trust in the
//! party that hands it over.
//!
//! A [`ProofBundle`] holds the visitor's receipt and the verifier's seal, any parent's
//! receipt and seal (joint consent), the exact notice text shown, every event of the lead
//! (each linked to the lead's previous one and to the store's chain), a signed checkpoint
//! of the store's chain that covers them, a signed statement of the lead's last event at
//! export time, and the verifier's key set. [`verify_bundle`] checks all of it: an altered
//! receipt or notice, a removed, reordered or foreign event, a truncated history, or a
//! signature by an unknown key each fail with the reason.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

mod log;

use crate::error::VerifyError;
use crate::event::{Event, GENESIS};
use crate::jwk::{Jwks, thumbprint};
use crate::jws::{self, Header};
use crate::notice::{Channel, Notice};
use crate::receipt::{VerifiedReceipt, sha256_b64};
use crate::seal::verify_seal_of;

/// `typ` of a checkpoint.
pub const CHECKPOINT_TYP: &str = "consent-checkpoint+jwt";
/// `typ` of a bundle's export statement.
pub const STATEMENT_TYP: &str = "consent-proof+jwt";
/// `format` of a bundle.
pub const BUNDLE_FORMAT: &str = "consent-proof/v1";

/// The verifier's signed view of its whole log at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointClaims {
    /// Events in the log.
    pub count: i64,
    /// Hash of the last one.
    pub head: String,
    /// When it was signed.
    pub iat: i64,
}

/// The verifier's signed statement, at export, of one lead's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementClaims {
    /// The lead.
    pub lead_id: String,
    /// Its status at export.
    pub status: String,
    /// How many events the lead has.
    pub events: usize,
    /// Hash of its last event.
    pub lead_head: String,
    /// The checkpoint this bundle carries (its `count`).
    pub checkpoint: i64,
    /// When the bundle was exported.
    pub iat: i64,
}

/// Signs `payload` as `typ` with the verifier's key (named by its thumbprint).
pub fn sign_statement<T: Serialize>(typ: &str, payload: &T, key: &SigningKey) -> String {
    let bytes = serde_json::to_vec(payload).unwrap_or_default();
    jws::sign(&Header::with_kid(typ, &thumbprint(&key.verifying_key())), &bytes, key)
}

/// Verifies a `kid`-signed token of type `typ` against a key set; returns its payload.
pub fn verify_statement<T: for<'de> Deserialize<'de>>(
    compact: &str,
    typ: &str,
    jwks: &Jwks,
) -> Result<(T, String), VerifyError> {
    let parsed = jws::parse(compact, typ)?;
    let kid = parsed.header.kid.clone().ok_or_else(|| VerifyError::UnsupportedHeader("a kid is required".into()))?;
    parsed.verify(&jwks.find(&kid)?)?;
    let claims = serde_json::from_slice(&parsed.payload).map_err(|e| VerifyError::BadPayload(alloc::format!("{e}")))?;
    Ok((claims, kid))
}

/// A receipt with its seal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedReceipt {
    /// The compact receipt.
    pub receipt: String,
    /// The verifier's seal on it.
    pub seal: String,
}

/// Everything that proves one consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofBundle {
    /// [`BUNDLE_FORMAT`].
    pub format: String,
    /// The lead.
    pub lead_id: String,
    /// The visitor's receipt and its seal.
    pub receipt: String,
    /// The seal.
    pub seal: String,
    /// A parent's receipts and seals, for a minor.
    #[serde(default)]
    pub guardian: Vec<SealedReceipt>,
    /// The notice text the receipt names.
    pub notice: Notice,
    /// Every event of the lead, in order.
    pub events: Vec<Event>,
    /// The events of the objections received elsewhere (a letter, the mailing tool, …)
    /// that withdrew the lead, each named by one of its `withdrawn` events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objections: Vec<Event>,
    /// A signed checkpoint of the store's chain covering those events.
    pub checkpoint: String,
    /// The signed export statement.
    pub statement: String,
    /// The verifier's key set when the bundle was made.
    pub jwks: Jwks,
    /// For each of `events`, in order, its inclusion proof in the transparency log (C2SP
    /// tlog-proof text, with the signed checkpoint it leads to); empty in a bundle from
    /// before the log.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tlog_proofs: Vec<String>,
}

/// What a bundle shows, once it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofReport {
    /// The lead.
    pub lead_id: String,
    /// The contact's e-mail, if any.
    pub email: Option<String>,
    /// The contact's phone, if any.
    pub phone: Option<String>,
    /// Notice id, version, language and title.
    pub notice: (String, u32, String, String),
    /// Granted purposes at consent: id and label.
    pub granted: Vec<(String, String)>,
    /// Refused purposes at consent.
    pub refused: Vec<(String, String)>,
    /// The recipients the notice names for each granted purpose (for
    /// [`ProofReport::granted_to`], the one-to-one check of a partner).
    pub recipients: Vec<(String, Vec<String>)>,
    /// When the receipt was signed, and on which page.
    pub signed: (i64, String),
    /// A minor's consent, with the parent's agreement time if given.
    pub minor: Option<Option<i64>>,
    /// Each confirmation of the double opt-in: when, how (`link`, `code` or `reply`), and
    /// the channel whose address it proved (`None` in a confirmation recorded before
    /// confirmations were kept per channel, when one stood for every channel).
    pub confirmed: Vec<(i64, String, Option<Channel>)>,
    /// Withdrawals: time, purposes, and how (`page`, `one-click`, `signed`, `sms-stop`, …).
    pub withdrawals: Vec<(i64, Vec<String>, String)>,
    /// Objections received elsewhere that withdrew the lead: when received, from where
    /// (`dpo`, `letter`, `esp`, …), their scope and channel.
    pub objections: Vec<(i64, String, String, String)>,
    /// Status at export.
    pub status: String,
    /// The events, as (time, kind).
    pub history: Vec<(i64, String)>,
    /// The checkpoint: events in the log, and when.
    pub checkpoint: (i64, i64),
    /// The key ids that signed the seal, the checkpoint and the statement.
    pub kids: Vec<String>,
    /// The purposes in force at export: granted, not withdrawn, on an active lead, and on a
    /// notice with double opt-in, of a channel whose address a confirmation proved. Only
    /// these may be used (a pending, refused or expired lead has none).
    pub in_force: Vec<String>,
    /// The transparency log every event's inclusion proof was checked against: its name
    /// and the checkpoint's size (`None`: a bundle from before the log).
    pub log: Option<(String, u64)>,
}

fn bad(why: &str) -> VerifyError {
    VerifyError::BadProof(why.to_string())
}

fn text<'a>(data: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    data.get(key).and_then(|v| v.as_str())
}

/// Checks a bundle against `jwks` (the verifier's published key set, fetched by the
/// checker; `None` trusts the set inside the bundle, which proves integrity but not who
/// signed).
pub fn verify_bundle(b: &ProofBundle, jwks: Option<&Jwks>) -> Result<ProofReport, VerifyError> {
    let jwks = jwks.unwrap_or(&b.jwks);
    if b.format != BUNDLE_FORMAT {
        return Err(bad("not a consent-proof/v1 bundle"));
    }
    // The receipt, and the words it names.
    let receipt = VerifiedReceipt::verify(&b.receipt)?;
    let c = receipt.claims();
    let digest = b.notice.digest();
    if digest != c.notice.digest {
        return Err(bad("the notice text is not the one the receipt names (digest differs)"));
    }
    receipt.check_notice_digest(&b.notice, &digest)?;
    receipt.check_decisions(&b.notice)?;
    receipt.check_age(&b.notice)?;
    // The verifier accepted exactly this receipt, for this lead.
    let seal = verify_seal_of(&b.seal, &b.receipt, jwks)?;
    if seal.claims.lead_id != b.lead_id || seal.claims.jti != c.jti {
        return Err(bad("the seal is for another lead or receipt"));
    }
    let mut kids = alloc::vec![seal.kid.clone()];
    // A parent's receipts name the child's.
    let mut parent_ok = None;
    for g in &b.guardian {
        let gr = VerifiedReceipt::verify(&g.receipt)?;
        if gr.claims().guardian_for.as_ref().map(|f| f.jti.as_str()) != Some(c.jti.as_str()) {
            return Err(bad("a parent's receipt names another child's receipt"));
        }
        let gs = verify_seal_of(&g.seal, &g.receipt, jwks)?;
        if gs.claims.lead_id != b.lead_id {
            return Err(bad("a parent's seal is for another lead"));
        }
        if gr.claims().granted().next().is_some() {
            parent_ok = Some(gs.claims.iat);
        }
    }
    // The lead's history: its own events, each linked to the previous one.
    let mut lead_prev = GENESIS.to_string();
    let mut last_seq = 0;
    for e in &b.events {
        if e.lead_id.as_deref() != Some(b.lead_id.as_str()) {
            return Err(bad(&alloc::format!("event {} belongs to another lead", e.seq)));
        }
        if !e.hash_holds() {
            return Err(bad(&alloc::format!("event {} ({}) was altered", e.seq, e.kind)));
        }
        if e.seq <= last_seq {
            return Err(bad(&alloc::format!("event {} is out of order", e.seq)));
        }
        if e.lead_prev.as_deref() != Some(lead_prev.as_str()) {
            return Err(bad(&alloc::format!("an event of the lead is missing before event {}", e.seq)));
        }
        lead_prev = e.hash.clone();
        last_seq = e.seq;
    }
    let first = b.events.first().ok_or_else(|| bad("the bundle has no event"))?;
    if first.kind != "accepted"
        || first.data.get("receipt_sha256").and_then(|v| v.as_str()) != Some(sha256_b64(&b.receipt).as_str())
    {
        return Err(bad("the first event is not the acceptance of this receipt"));
    }
    // The store's checkpoint covers the history; the statement pins its last event.
    let (cp, cp_kid): (CheckpointClaims, String) = verify_statement(&b.checkpoint, CHECKPOINT_TYP, jwks)?;
    if cp.count < last_seq {
        return Err(bad("the checkpoint does not cover the lead's events"));
    }
    let objections = check_objections(b, cp.count)?;
    let (st, st_kid): (StatementClaims, String) = verify_statement(&b.statement, STATEMENT_TYP, jwks)?;
    if st.lead_id != b.lead_id || st.checkpoint != cp.count {
        return Err(bad("the export statement is for another lead or checkpoint"));
    }
    if st.events != b.events.len() || st.lead_head != lead_prev {
        return Err(bad("events are missing from the end of the lead's history"));
    }
    kids.extend([cp_kid, st_kid]);
    let log = log::check(b, jwks)?;
    // The account.
    let label = |id: &str| b.notice.purpose(id).map_or(id.to_string(), |p| p.label.clone());
    let mut withdrawals = Vec::new();
    let mut confirmed = Vec::new();
    for e in &b.events {
        match e.kind.as_str() {
            // A confirmation event without `by` is by link (the only way before SMS).
            "confirmed" => confirmed.push((
                e.at,
                text(&e.data, "by").unwrap_or("link").to_string(),
                e.data.get("channel").and_then(|c| Channel::deserialize(c).ok()),
            )),
            "withdrawn" => withdrawals.push((
                e.at,
                e.data
                    .get("purposes")
                    .and_then(|p| p.as_array())
                    .map_or(Vec::new(), |p| p.iter().filter_map(|x| x.as_str()).map(str::to_string).collect()),
                text(&e.data, "source").unwrap_or("unknown").to_string(),
            )),
            _ => {}
        }
    }
    let in_force = in_force(b, &st.status, c.granted(), &confirmed, &withdrawals);
    Ok(ProofReport {
        in_force,
        lead_id: b.lead_id.clone(),
        email: receipt.email().map(|e| e.as_str().to_string()),
        phone: receipt.phone().map(|p| p.as_str().to_string()),
        notice: (b.notice.id.clone(), b.notice.version, b.notice.lang.clone(), b.notice.title.clone()),
        granted: c.decisions.iter().filter(|d| d.granted).map(|d| (d.purpose.clone(), label(&d.purpose))).collect(),
        refused: c.decisions.iter().filter(|d| !d.granted).map(|d| (d.purpose.clone(), label(&d.purpose))).collect(),
        recipients: c
            .granted()
            .map(|id| (id.to_string(), b.notice.purpose(id).map_or_else(Vec::new, |p| p.recipients.clone())))
            .collect(),
        signed: (c.iat, c.evidence.page.clone()),
        minor: c.age.minor.then_some(parent_ok),
        confirmed,
        withdrawals,
        objections,
        status: st.status,
        history: b.events.iter().map(|e| (e.at, e.kind.clone())).collect(),
        checkpoint: (cp.count, cp.iat),
        kids,
        log,
    })
}

/// The purposes of `granted` in force at export (see [`ProofReport::in_force`]).
fn in_force<'a>(
    b: &ProofBundle,
    status: &str,
    granted: impl Iterator<Item = &'a str>,
    confirmed: &[(i64, String, Option<Channel>)],
    withdrawals: &[(i64, Vec<String>, String)],
) -> Vec<String> {
    let withdrawn = |p: &str| withdrawals.iter().any(|(_, ps, _)| ps.iter().any(|w| w == p));
    // A confirmation recorded without its channel (before they were kept per channel) stood for all.
    let proved = |p: &str| {
        let channel = b.notice.purpose(p).and_then(|p| p.channel());
        !b.notice.double_opt_in || confirmed.iter().any(|(_, _, c)| c.is_none() || *c == channel)
    };
    granted.filter(|p| status == "active" && !withdrawn(p) && proved(p)).map(str::to_string).collect()
}

/// Each withdrawal an objection caused has that objection's event in the bundle, intact,
/// older than the withdrawal and covered by the checkpoint; and the bundle carries no other.
fn check_objections(b: &ProofBundle, covered: i64) -> Result<Vec<(i64, String, String, String)>, VerifyError> {
    let id_of = |e: &Event| text(&e.data, "objection_id").map(str::to_string);
    let mut out = Vec::new();
    for o in &b.objections {
        if o.kind != "objection_recorded" || o.lead_id.is_some() || !o.hash_holds() || o.seq > covered {
            return Err(bad(&alloc::format!("the objection at event {} is altered or not in the log", o.seq)));
        }
        let named = b.events.iter().any(|w| w.kind == "withdrawn" && w.seq > o.seq && id_of(w) == id_of(o));
        if id_of(o).is_none() || !named {
            return Err(bad(&alloc::format!("the objection at event {} withdrew nothing of this lead", o.seq)));
        }
        let field = |k: &str| text(&o.data, k).unwrap_or("").to_string();
        let received = o.data.get("received_at").and_then(|v| v.as_i64()).unwrap_or(o.at);
        out.push((received, field("source"), field("scope"), field("channel")));
    }
    for w in b.events.iter().filter(|w| w.kind == "withdrawn") {
        if let Some(id) = id_of(w)
            && !b.objections.iter().any(|o| id_of(o).as_deref() == Some(id.as_str()))
        {
            return Err(bad(&alloc::format!("the objection behind the withdrawal at event {} is missing", w.seq)));
        }
    }
    Ok(out)
}
