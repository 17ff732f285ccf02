//! `consent-verifier verify <checkpoint> --consistency <file>`: that the transparency log
//! only grew between a checkpoint someone kept and a later one, offline: both signed by a
//! key of the verifier's set, the same log, and the consistency proof (the JSON answer of
//! `GET /log/consistency?from=N`) leading from the first tree to the second.

use std::path::Path;
use std::process::ExitCode;

use consent_receipt::tlog::{Checkpoint, consistent, open_checkpoint};
use consent_receipt::{Jwks, b64};
use ed25519_dalek::VerifyingKey;

fn open(note: &str, keys: &[VerifyingKey]) -> Result<Checkpoint, String> {
    let body = note.split_once("\n\n").map(|(t, _)| format!("{t}\n")).ok_or("not a signed note")?;
    let origin = Checkpoint::parse(&body).ok_or("not a tlog checkpoint")?.origin;
    open_checkpoint(note, &origin, keys)
        .ok_or_else(|| format!("the checkpoint of {origin} is not signed by a key of the set"))
}

fn check(old_note: &str, answer: &serde_json::Value, jwks: &Jwks) -> Result<(Checkpoint, Checkpoint), String> {
    let keys: Vec<VerifyingKey> = jwks.keys.iter().filter_map(|k| k.verifying_key().ok()).collect();
    let old = open(old_note, &keys).map_err(|e| format!("the kept checkpoint: {e}"))?;
    let new_note =
        answer.get("new").and_then(|v| v.as_str()).ok_or("the consistency file has no \"new\" checkpoint")?;
    let new = open(new_note, &keys).map_err(|e| format!("the new checkpoint: {e}"))?;
    if new.origin != old.origin {
        return Err(format!("the checkpoints are of two logs: {} and {}", old.origin, new.origin));
    }
    let proof = answer
        .get("proof")
        .and_then(|v| v.as_array())
        .ok_or("the consistency file has no \"proof\"")?
        .iter()
        .map(|h| h.as_str().and_then(|h| b64::decode_std(h).ok()).and_then(|h| h.try_into().ok()))
        .collect::<Option<Vec<[u8; 32]>>>()
        .ok_or("a hash of the proof is not 32 bytes of base64")?;
    if !consistent(old.size, &old.root, new.size, &new.root, &proof) {
        return Err(format!(
            "the tree of {} leaves does not extend the kept tree of {}: the log was rewritten",
            new.size, old.size
        ));
    }
    Ok((old, new))
}

pub(crate) fn verify_log(old_note: &str, consistency: &Path, jwks: Option<&Jwks>) -> ExitCode {
    let Some(jwks) = jwks else {
        eprintln!("error: checking checkpoints needs the verifier's key set: --jwks <file|url>");
        return ExitCode::from(2);
    };
    let answer = match std::fs::read_to_string(consistency).map(|t| serde_json::from_str::<serde_json::Value>(&t)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            eprintln!("error: {} is not JSON: {e}", consistency.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: reading {}: {e}", consistency.display());
            return ExitCode::from(2);
        }
    };
    match check(old_note, &answer, jwks) {
        Ok((old, new)) => {
            println!(
                "The log {} only grew: its checkpoint of {} leaves extends the one of {} you kept (consistency proof holds).",
                new.origin, new.size, old.size
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            println!("FAILED (bad-proof): {why}");
            ExitCode::from(1)
        }
    }
}

/// With `--witness`: every log checkpoint of the bundle carries the cosignatures of at
/// least `required` (default: all) of these witnesses; prints the failure otherwise.
pub(crate) fn witnessed(
    bundle: &consent_receipt::ProofBundle,
    (given, required): (&[String], Option<usize>),
) -> Result<(), ExitCode> {
    if given.is_empty() && required.is_none() {
        return Ok(());
    }
    let mut witnesses = Vec::new();
    for w in given {
        match consent_receipt::tlog::parse_witness(w) {
            Some(k) => witnesses.push(k),
            None => {
                eprintln!("error: --witness takes NAME=KEY (the base64url Ed25519 key the witness prints), not {w:?}");
                return Err(ExitCode::from(2));
            }
        }
    }
    let k = required.unwrap_or(witnesses.len());
    if k > witnesses.len() {
        eprintln!("error: --witnesses-required {k} is more than the {} --witness given", witnesses.len());
        return Err(ExitCode::from(2));
    }
    if bundle.tlog_proofs.is_empty() && k > 0 {
        println!("FAILED (bad-proof): the bundle has no transparency-log proofs, so no witness cosigned them");
        return Err(ExitCode::from(1));
    }
    for (e, text) in bundle.events.iter().zip(&bundle.tlog_proofs) {
        let note = consent_receipt::tlog::InclusionProof::parse(text).map(|p| p.checkpoint).unwrap_or_default();
        let n = consent_receipt::tlog::cosigned_by(&note, &witnesses);
        if n < k {
            println!(
                "FAILED (bad-proof): the log checkpoint proving event {} is cosigned by {n} of the witnesses, {k} required",
                e.seq
            );
            return Err(ExitCode::from(1));
        }
    }
    println!(
        "Witnessed: every log checkpoint of the bundle is cosigned by at least {k} of the {} witnesses given.",
        witnesses.len()
    );
    Ok(())
}
