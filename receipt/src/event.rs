//! The verifier's append-only event log, hash-chained so that a removed, reordered or
//! edited event shows.
//!
//! `hash = base64url(SHA-256(JCS({"at", "data", "kind", "lead_id", "prev", "seq"})))`,
//! where `prev` is the previous event's hash (or [`GENESIS`] for the first) and `data` is
//! a JSON object. Events carry no contact data, so they can outlive a purged lead.

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
    /// This event's hash.
    pub hash: String,
}

/// The hash of an event with these fields.
pub fn event_hash(
    seq: i64,
    lead_id: Option<&str>,
    kind: &str,
    data: &serde_json::Value,
    at: i64,
    prev: &str,
) -> String {
    let v = serde_json::json!({
        "seq": seq, "lead_id": lead_id, "kind": kind, "data": data, "at": at, "prev": prev,
    });
    let canonical = canonical_json(&v).unwrap_or_default();
    b64::encode(&Sha256::digest(canonical.as_bytes()))
}

impl Event {
    /// Whether `hash` is the hash of the other fields.
    pub fn hash_holds(&self) -> bool {
        event_hash(self.seq, self.lead_id.as_deref(), &self.kind, &self.data, self.at, &self.prev) == self.hash
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
            hash: event_hash(1, Some("l"), "accepted", &data, 5, GENESIS),
            data,
            at: 5,
            prev: GENESIS.into(),
        };
        assert!(e.hash_holds());
        e.at = 6;
        assert!(!e.hash_holds());
    }
}
