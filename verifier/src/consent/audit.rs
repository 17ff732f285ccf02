//! `consent-verifier audit verify`: recompute the event hash chain from the first event
//! and report the first broken link: an edited row, a removed row, a reordered row, or a
//! head that does not match the log.

use consent_receipt::{Event, GENESIS};

use crate::store::{Store, StoreError};

/// What the audit found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audit {
    /// Every event links to the previous one and matches its hash.
    Intact {
        /// Events checked.
        events: i64,
        /// Hash of the last one.
        head: String,
    },
    /// The first link that does not hold.
    Broken {
        /// Position of the event where it breaks.
        seq: i64,
        /// What is wrong there.
        why: String,
    },
}

/// The first break in a run of events that should follow `prev_seq` / `prev_hash`.
pub fn check_run(events: &[Event], mut prev_seq: i64, mut prev_hash: String) -> Result<(i64, String), (i64, String)> {
    for e in events {
        if e.seq != prev_seq + 1 {
            return Err((
                prev_seq + 1,
                format!("event {} is missing: the log jumps from {prev_seq} to {}", prev_seq + 1, e.seq),
            ));
        }
        if e.prev != prev_hash {
            return Err((e.seq, format!("event {} does not link to event {prev_seq} (prev hash differs)", e.seq)));
        }
        if !e.hash_holds() {
            return Err((
                e.seq,
                format!("event {} ({}) was edited: its hash does not match its content", e.seq, e.kind),
            ));
        }
        prev_seq = e.seq;
        prev_hash = e.hash.clone();
    }
    Ok((prev_seq, prev_hash))
}

/// Walks the whole chain, page by page, up to the head read first: an event committed
/// while the walk runs comes after that head, so it is neither checked nor reported as a
/// break (the head and the events move in one transaction).
pub async fn verify_chain(store: &Store) -> Result<Audit, StoreError> {
    let head = store.chain_head().await?;
    let (head_seq, head_hash) = (head.seq, head.hash);
    let (mut seq, mut hash) = (0i64, GENESIS.to_string());
    while seq < head_seq {
        let mut page = store.events(seq, 1000).await?;
        if page.is_empty() {
            break;
        }
        page.retain(|e| e.seq <= head_seq);
        if page.is_empty() {
            break;
        }
        match check_run(&page, seq, hash.clone()) {
            Ok((s, h)) => (seq, hash) = (s, h),
            Err((at, why)) => return Ok(Audit::Broken { seq: at, why }),
        }
    }
    if head_seq != seq || head_hash != hash {
        return Ok(Audit::Broken {
            seq: seq + 1,
            why: format!(
                "the chain head says {head_seq} events ending in {head_hash}; the log has {seq} ending in {hash} (events were removed from the end)"
            ),
        });
    }
    Ok(Audit::Intact { events: seq, head: hash })
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_receipt::event_hash;

    fn chain(n: i64) -> Vec<Event> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let data = serde_json::json!({"n": seq});
                let hash = event_hash(seq, Some("l"), None, "k", &data, seq, &prev);
                let e = Event {
                    seq,
                    lead_id: Some("l".into()),
                    kind: "k".into(),
                    data,
                    at: seq,
                    prev: prev.clone(),
                    lead_prev: None,
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_checks() {
        assert!(check_run(&chain(5), 0, GENESIS.into()).is_ok());
    }

    #[test]
    fn an_edited_event_is_found() {
        let mut c = chain(5);
        c[2].at += 1;
        assert_eq!(check_run(&c, 0, GENESIS.into()).unwrap_err().0, 3);
    }

    #[test]
    fn a_removed_event_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(check_run(&c, 0, GENESIS.into()).unwrap_err().0, 2);
    }

    #[test]
    fn a_reordered_event_is_found() {
        let mut c = chain(5);
        c.swap(1, 2);
        assert!(check_run(&c, 0, GENESIS.into()).is_err());
    }
}
