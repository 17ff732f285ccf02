//! The proof checker of `/verify.html`: the same checks as `consent-verifier verify`, run
//! by the `consent-receipt` crate compiled to WebAssembly, entirely in the page (no
//! network: a key set comes from the bundle, or from the person when they ask for one).
//!
//! [`check`] takes what the person dropped or pasted and answers with one JSON document:
//! the account (`"ok": true`) or the first thing that fails (`"ok": false`, with the
//! stable error code, the rule and the human text of the receipt crate's error table).
//! The page renders it; the words are the page's.

use consent_receipt::{Jwks, ProofBundle, VerifiedReceipt, VerifyError, b64, verify_seal, verify_seal_of};
use serde_json::{Value, json};
use wasm_bindgen::prelude::wasm_bindgen;

/// Checks `input` (a proof bundle, a compact receipt, a compact seal, or JSON with
/// `"receipt"` and `"seal"`), with an optional separate `seal`, key set `jwks` and
/// `witnesses` (lines `NAME=KEY`: whose cosignatures of the log checkpoints to count);
/// empty strings for none. Answers with the account or the failure, as JSON text.
#[wasm_bindgen]
pub fn check(input: &str, seal: &str, jwks: &str, witnesses: &str) -> String {
    let answer = match account(input.trim(), seal.trim(), jwks.trim(), witnesses) {
        Ok(v) => v,
        Err(Failure::Verify(e)) => failed(&e),
        Err(Failure::Input(message)) => json!({"ok": false, "code": "bad-input", "message": message}),
    };
    answer.to_string()
}

enum Failure {
    /// A check failed.
    Verify(VerifyError),
    /// The input is none of the shapes the page takes.
    Input(&'static str),
}

impl From<VerifyError> for Failure {
    fn from(e: VerifyError) -> Failure {
        Failure::Verify(e)
    }
}

fn failed(e: &VerifyError) -> Value {
    let info = e.kind().info();
    json!({"ok": false, "code": info.code, "rule": info.rule, "title": info.title, "text": info.text, "message": e.to_string()})
}

/// The witnesses given as `NAME=KEY` lines (base64url Ed25519 keys).
fn witness_keys(text: &str) -> Result<Vec<(String, consent_receipt::VerifyingKey)>, Failure> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            consent_receipt::tlog::parse_witness(l)
                .ok_or(Failure::Input("a witness is NAME=KEY, its key 32 bytes of base64url"))
        })
        .collect()
}

fn account(input: &str, seal: &str, jwks: &str, witnesses: &str) -> Result<Value, Failure> {
    let witnesses = witness_keys(witnesses)?;
    let jwks: Option<Jwks> = match jwks {
        "" => None,
        text => Some(serde_json::from_str(text).map_err(|_| Failure::Input("the key set is not a JWKS"))?),
    };
    if let Ok(bundle) = serde_json::from_str::<ProofBundle>(input) {
        return bundle_account(&bundle, jwks.as_ref(), &witnesses);
    }
    if input.contains("\"consent-proof/v1\"") {
        return Err(Failure::Input("the bundle does not have the consent-proof/v1 shape"));
    }
    let (receipt, inner_seal) = if input.starts_with('{') {
        let v: Value = serde_json::from_str(input).map_err(|_| Failure::Input("the input is neither JWS nor JSON"))?;
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        (text("receipt"), text("seal"))
    } else if input.is_empty() {
        (None, None)
    } else if is_seal(input) {
        (None, Some(input.to_string()))
    } else {
        (Some(input.to_string()), None)
    };
    let seal = if seal.is_empty() { inner_seal } else { Some(seal.to_string()) };
    if receipt.is_none() && seal.is_none() {
        return Err(Failure::Input("nothing to check: drop a proof bundle, or paste a receipt and its seal"));
    }
    let receipt_account = receipt.as_deref().map(receipt_account).transpose()?;
    let seal_account = match (&seal, &jwks) {
        (Some(s), Some(keys)) => Some(seal_account(s, receipt.as_deref(), keys)?),
        (Some(_), None) => Some(json!({"checked": false})),
        (None, _) => None,
    };
    Ok(json!({"ok": true, "kind": "receipt", "receipt": receipt_account, "seal": seal_account}))
}

/// Whether a compact JWS is a seal (its header's `typ`), not a receipt.
fn is_seal(compact: &str) -> bool {
    let header = compact.split('.').next().and_then(|h| b64::decode(h).ok());
    let typ = header.and_then(|h| serde_json::from_slice::<Value>(&h).ok()).and_then(|h| h.get("typ").cloned());
    typ.and_then(|t| t.as_str().map(|t| t == consent_receipt::SEAL_TYP)).unwrap_or(false)
}

fn receipt_account(compact: &str) -> Result<Value, Failure> {
    let verified = VerifiedReceipt::verify(compact)?;
    let c = verified.claims();
    Ok(json!({
        "jti": c.jti,
        "key": b64::encode(verified.key().as_bytes()),
        "signed": {"at": c.iat, "page": c.evidence.page, "iss": c.iss, "aud": c.aud},
        "who": [verified.email().map(|e| e.as_str().to_string()), verified.phone().map(|p| p.as_str().to_string())],
        "notice": {"id": c.notice.id, "version": c.notice.version, "lang": c.notice.lang, "digest": c.notice.digest},
        "decisions": c.decisions.iter().map(|d| json!({
            "purpose": d.purpose, "granted": d.granted, "objected": d.objected, "at": d.at,
        })).collect::<Vec<_>>(),
        "unticked": c.evidence.initially_unchecked,
        "gesture": c.evidence.trusted_gesture,
        "minor": c.age.minor,
    }))
}

fn seal_account(seal: &str, receipt: Option<&str>, jwks: &Jwks) -> Result<Value, Failure> {
    let s = match receipt {
        Some(r) => verify_seal_of(seal, r, jwks)?,
        None => verify_seal(seal, jwks)?,
    };
    Ok(json!({
        "checked": true, "kid": s.kid, "lead_id": s.claims.lead_id, "status": s.claims.status,
        "at": s.claims.iat, "of_this_receipt": receipt.is_some(),
    }))
}

fn bundle_account(
    bundle: &ProofBundle,
    jwks: Option<&Jwks>,
    witnesses: &[(String, consent_receipt::VerifyingKey)],
) -> Result<Value, Failure> {
    let r = consent_receipt::verify_bundle(bundle, jwks)?;
    let notes: Vec<String> = bundle
        .tlog_proofs
        .iter()
        .filter_map(|p| consent_receipt::tlog::InclusionProof::parse(p).map(|p| p.checkpoint))
        .collect();
    let log_name = r.log.as_ref().map(|(o, _)| o.clone()).unwrap_or_default();
    let mut cosigners: Vec<String> =
        notes.iter().flat_map(|n| consent_receipt::tlog::signers(n)).filter(|n| n != &log_name).collect();
    cosigners.sort();
    cosigners.dedup();
    let least = notes.iter().map(|n| consent_receipt::tlog::cosigned_by(n, witnesses)).min().unwrap_or(0);
    let pairs =
        |v: &[(String, String)]| v.iter().map(|(id, label)| json!({"id": id, "label": label})).collect::<Vec<_>>();
    let mut kids = r.kids.clone();
    kids.sort();
    kids.dedup();
    Ok(json!({
        "ok": true,
        "kind": "bundle",
        "lead_id": r.lead_id,
        "who": [r.email, r.phone],
        "notice": bundle.notice,
        "signed": {"at": r.signed.0, "page": r.signed.1},
        "granted": pairs(&r.granted),
        "refused": pairs(&r.refused),
        "minor": r.minor.map(|parent| json!({"parent_agreed_at": parent})),
        "confirmed": r.confirmed.iter().map(|(at, by, channel)| json!({"at": at, "by": by, "channel": channel})).collect::<Vec<_>>(),
        "withdrawals": r.withdrawals.iter().map(|(at, purposes, source)| json!({"at": at, "purposes": purposes, "source": source})).collect::<Vec<_>>(),
        "objections": r.objections.iter().map(|(at, source, scope, channel)| json!({"at": at, "source": source, "scope": scope, "channel": channel})).collect::<Vec<_>>(),
        "status": r.status,
        "history": r.history.iter().map(|(at, kind)| json!({"at": at, "kind": kind})).collect::<Vec<_>>(),
        "checkpoint": {"events": r.checkpoint.0, "at": r.checkpoint.1},
        "kids": kids,
        "keys_from_bundle": jwks.is_none(),
        "log": r.log.as_ref().map(|(origin, size)| json!({"origin": origin, "size": size})),
        "cosigners": cosigners,
        "witnessed": json!({"given": witnesses.len(), "least": least}),
    }))
}

#[cfg(test)]
mod tests {
    use super::check;

    fn answer(input: &str, seal: &str, jwks: &str) -> serde_json::Value {
        serde_json::from_str(&check(input, seal, jwks, "")).unwrap()
    }

    #[test]
    fn garbage_gets_a_clear_answer_not_a_panic() {
        for input in ["", "{", "{}", "a.b.c", "{\"format\":\"consent-proof/v1\"}", "\u{0}"] {
            let a = answer(input, "", "");
            assert_eq!(a["ok"], false, "{input}: {a}");
            assert!(a["message"].as_str().is_some_and(|m| !m.is_empty()), "{input}: {a}");
        }
        assert_eq!(answer("x", "", "not json")["code"], "bad-input");
        let bad_witness: serde_json::Value = serde_json::from_str(&check("x", "", "", "no-equals-sign")).unwrap();
        assert_eq!(bad_witness["code"], "bad-input");
    }
}
