//! A bundle's events in the transparency log: each one's inclusion proof (C2SP
//! tlog-proof) leads to the root of a checkpoint the verifier signed.

use alloc::string::String;
use alloc::vec::Vec;

use ed25519_dalek::VerifyingKey;

use super::{ProofBundle, bad};
use crate::b64;
use crate::error::VerifyError;
use crate::jwk::Jwks;
use crate::tlog::{Checkpoint, InclusionProof, leaf_hash, open_checkpoint, root_from_inclusion};

/// Checks the bundle's log proofs, if it has any: one per event, each for that event's
/// position, each leading to a checkpoint signed by a key of `jwks`. Returns the log's
/// name and the largest checkpoint size seen.
pub(super) fn check(b: &ProofBundle, jwks: &Jwks) -> Result<Option<(String, u64)>, VerifyError> {
    if b.tlog_proofs.is_empty() {
        return Ok(None);
    }
    if b.tlog_proofs.len() != b.events.len() {
        return Err(bad("the transparency log proofs do not match the events one for one"));
    }
    let keys: Vec<VerifyingKey> = jwks.keys.iter().filter_map(|k| k.verifying_key().ok()).collect();
    let mut seen: Option<(String, u64)> = None;
    for (e, text) in b.events.iter().zip(&b.tlog_proofs) {
        let fail = |what: &str| bad(&alloc::format!("event {} in the transparency log: {what}", e.seq));
        let p = InclusionProof::parse(text).ok_or_else(|| fail("the proof is not a tlog-proof"))?;
        let body = p.checkpoint.split_once("\n\n").map(|(t, _)| alloc::format!("{t}\n"));
        let origin = body.as_deref().and_then(Checkpoint::parse).map(|c| c.origin);
        let cp = origin
            .and_then(|o| open_checkpoint(&p.checkpoint, &o, &keys))
            .ok_or_else(|| fail("its checkpoint is not signed by a key of the verifier"))?;
        if u64::try_from(e.seq).ok() != p.index.checked_add(1) {
            return Err(fail("the proof is for another position"));
        }
        let leaf = leaf_hash(&b64::decode(&e.hash).map_err(|_| fail("its hash is not base64url"))?);
        if root_from_inclusion(p.index, cp.size, &leaf, &p.hashes) != Some(cp.root) {
            return Err(fail("the inclusion proof does not lead to the checkpoint's root"));
        }
        if seen.as_ref().is_none_or(|(_, size)| cp.size > *size) {
            seen = Some((cp.origin, cp.size));
        }
    }
    Ok(seen)
}
