//! The verifier's append-only event log, hash-chained so that a removed, reordered or
//! edited event shows.
//!
//! `hash = base64url(SHA-256(JCS({"at", "data", "kind", "lead_id", "lead_prev", "prev", "seq"})))`,
//! where `prev` is the previous event's hash in the store (or [`GENESIS`] for the first),
//! `lead_prev` the hash of the previous event of the same lead ([`GENESIS`] for its first),
//! and `data` a JSON object. The store's chain shows nothing was removed from the log; the
//! lead's chain lets a proof bundle show that none of one lead's events is missing without
//! carrying everyone else's. Events carry no contact data, so they outlive a purged lead.

use alloc::string::String;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::b64;
use crate::notice::canonical_json;

/// The `prev` of the first event: 32 zero bytes, base64url.
pub const GENESIS: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The lead it concerns, if any.
    pub lead_id: Option<String>,
    /// What happened (`accepted`, `confirmed`, `withdrawn`, ...).
    pub kind: String,
    /// Details, a JSON object without contact data.
    pub data: serde_json::Value,
    /// When, in seconds.
    pub at: i64,
    /// The previous event's hash.
    pub prev: String,
    /// The previous event of the same lead, by hash ([`GENESIS`] for its first event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_prev: Option<String>,
    /// This event's hash.
    pub hash: String,
}

/// The hash of an event with these fields.
pub fn event_hash(
    seq: i64,
    lead_id: Option<&str>,
    lead_prev: Option<&str>,
    kind: &str,
    data: &serde_json::Value,
    at: i64,
    prev: &str,
) -> String {
    let v = serde_json::json!({
        "seq": seq, "lead_id": lead_id, "lead_prev": lead_prev, "kind": kind, "data": data, "at": at, "prev": prev,
    });
    let canonical = canonical_json(&v).unwrap_or_default();
    b64::encode(&Sha256::digest(canonical.as_bytes()))
}

impl Event {
    /// Whether `hash` is the hash of the other fields.
    pub fn hash_holds(&self) -> bool {
        event_hash(
            self.seq,
            self.lead_id.as_deref(),
            self.lead_prev.as_deref(),
            &self.kind,
            &self.data,
            self.at,
            &self.prev,
        ) == self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_genesis_is_32_zero_bytes() {
        assert_eq!(b64::decode(GENESIS).unwrap(), [0u8; 32]);
    }

    #[test]
    fn an_edited_event_no_longer_matches_its_hash() {
        let data = serde_json::json!({"status": "active"});
        let mut e = Event {
            seq: 1,
            lead_id: Some("l".into()),
            kind: "accepted".into(),
            hash: event_hash(1, Some("l"), Some(GENESIS), "accepted", &data, 5, GENESIS),
            data,
            at: 5,
            prev: GENESIS.into(),
            lead_prev: Some(GENESIS.into()),
        };
        assert!(e.hash_holds());
        e.at = 6;
        assert!(!e.hash_holds());
    }
}
