//! The transparency log: every event of the chain is also a leaf of an append-only RFC 6962
//! Merkle tree (leaf i is event i + 1's hash). A job integrates new events every second
//! and publishes a checkpoint (C2SP tlog-checkpoint in a signed note, signed by the active
//! key); proof bundles carry each event's inclusion proof (C2SP tlog-proof); anyone can
//! fetch the checkpoint, the tree's tiles (C2SP tlog-tiles) and a consistency proof
//! between two sizes, and so watch that the log only grows.
//!
//! The tree arithmetic is `tlog_tiles`' (Cloudflare's port of Go's sumdb/tlog); its
//! `HashReader` is synchronous, so each computation runs twice: once to learn which stored
//! hashes it reads, then, once they are fetched, for real.

use std::collections::HashMap;
use std::time::Duration;

use consent_receipt::b64;
use consent_receipt::tlog::{Checkpoint, InclusionProof, note_signature_line};
use ed25519_dalek::Signer as _;
use tlog_tiles::{Hash, HashReader, record_hash, stored_hash_index, stored_hashes_for_record_hash, sub_tree_index};
use tokio::sync::watch;

use crate::state::AppState;
use crate::store::StoreError;

/// Events integrated per round.
const BATCH: u64 = 4096;

/// A reader over hashes fetched beforehand; with `record`, it notes what is asked and
/// answers zeros (the first of the two runs).
#[derive(Default)]
struct Hashes {
    known: HashMap<u64, Hash>,
    asked: std::sync::Mutex<Vec<u64>>,
    record: bool,
}

impl HashReader for Hashes {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
        if self.record {
            if let Ok(mut asked) = self.asked.lock() {
                asked.extend_from_slice(indexes);
            }
            return Ok(vec![Hash([0; 32]); indexes.len()]);
        }
        indexes.iter().map(|i| self.known.get(i).copied().ok_or(tlog_tiles::Error::InvalidProof)).collect()
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("transparency log: {e}"))
}

/// Runs `f` over the stored hashes it needs: first to learn which, then for real.
async fn with_hashes<T>(
    state: &AppState,
    f: impl Fn(&Hashes) -> Result<T, tlog_tiles::Error>,
) -> Result<T, StoreError> {
    let probe = Hashes { record: true, ..Hashes::default() };
    f(&probe).map_err(corrupt)?;
    let asked = probe.asked.into_inner().unwrap_or_default();
    let mut known = HashMap::new();
    for (i, h) in asked.iter().zip(state.store.tlog_hashes(&asked).await?) {
        known.insert(*i, Hash(b64::decode_array(&h).ok_or_else(|| corrupt("a stored hash is not 32 bytes"))?));
    }
    f(&Hashes { known, ..Hashes::default() }).map_err(corrupt)
}

/// The log's name in its checkpoints: the public URL's host and path, and `/consent-log`.
pub fn origin(state: &AppState) -> String {
    let url = &state.config.public_url;
    let bare = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
    format!("{}/consent-log", bare.trim_end_matches('/'))
}

/// The signed note of the checkpoint of a tree of `size` leaves with this root.
fn sign(state: &AppState, size: u64, root: [u8; 32]) -> String {
    let name = origin(state);
    let body = Checkpoint { origin: name.clone(), size, root }.body();
    let keys = state.keys();
    let key = keys.active();
    let line = note_signature_line(&name, &key.verifying_key(), &key.sign(body.as_bytes()));
    format!("{body}\n{line}")
}

/// One integration at a time in this process (replicas write the same rows anyway).
static ROUND: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Integrates every event not in the tree yet, then asks each witness to cosign the latest
/// checkpoint if it has not yet; returns that checkpoint (size, note). For the job and the
/// proof export; public readers take [`latest`].
pub async fn integrate(state: &AppState) -> Result<(u64, String), StoreError> {
    let latest = {
        let _one = ROUND.lock().await;
        while round(state).await? {}
        state.store.latest_tlog_checkpoint().await?.unwrap_or_default()
    };
    for url in &state.config.witnesses {
        match state.store.witness_size(url).await {
            Ok(seen) if seen >= latest.0 => continue,
            Ok(_) => {}
            Err(e) => return Err(e),
        }
        if let Err(e) = cosign(state, url, latest.0, &latest.1).await {
            tracing::warn!(witness = %url, error = %e, "a witness did not cosign; it is asked again with the next checkpoint");
        }
    }
    Ok(state.store.latest_tlog_checkpoint().await?.unwrap_or(latest))
}

/// The latest checkpoint for a public reader: one round of integration if none is running
/// (never more, and never a witness call, whatever a client asks), then what is published.
pub async fn latest(state: &AppState) -> Result<(u64, String), StoreError> {
    if let Ok(_one) = ROUND.try_lock() {
        round(state).await?;
    }
    match state.store.latest_tlog_checkpoint().await? {
        Some(latest) => Ok(latest),
        None => integrate(state).await,
    }
}

/// Integrates up to [`BATCH`] new events and publishes the grown tree's checkpoint (the
/// empty tree's at first); returns whether it did anything.
async fn round(state: &AppState) -> Result<bool, StoreError> {
    let (size, note) = state.store.latest_tlog_checkpoint().await?.unwrap_or_default();
    let new = state.store.event_hashes_after(size, BATCH).await?;
    if new.is_empty() {
        if note.is_empty() {
            state.store.append_tlog(&[], 0, &sign(state, 0, tlog_tiles::EMPTY_HASH.0)).await?;
        }
        return Ok(false);
    }
    // The frontier of the tree so far: every new stored hash hangs off it.
    let frontier = sub_tree_index(0, size, vec![]);
    let mut reader = Hashes::default();
    for (i, h) in frontier.iter().zip(state.store.tlog_hashes(&frontier).await?) {
        reader.known.insert(*i, Hash(b64::decode_array(&h).ok_or_else(|| corrupt("a stored hash is not 32 bytes"))?));
    }
    let mut rows = Vec::new();
    for (k, event_hash) in new.iter().enumerate() {
        let n = size + k as u64;
        let data = b64::decode(event_hash).map_err(corrupt)?;
        let hashes = stored_hashes_for_record_hash(n, record_hash(&data), &reader).map_err(corrupt)?;
        let first = stored_hash_index(0, n);
        for (j, h) in hashes.into_iter().enumerate() {
            reader.known.insert(first + j as u64, h);
            rows.push((first + j as u64, b64::encode(&h.0)));
        }
    }
    let grown = size + new.len() as u64;
    let root = tlog_tiles::tree_hash(grown, &reader).map_err(corrupt)?;
    state.store.append_tlog(&rows, grown, &sign(state, grown, root.0)).await?;
    Ok(true)
}

/// Asks a witness to cosign the checkpoint of `size` (C2SP tlog-witness `add-checkpoint`):
/// the note, and the proof that it extends the last checkpoint the witness cosigned. A
/// witness that knows another size says which (409) and is asked again from there.
async fn cosign(state: &AppState, url: &str, size: u64, note: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build()?;
    let mut old = state.store.witness_size(url).await?;
    for _ in 0..2 {
        if old > size {
            anyhow::bail!("the witness has seen {old} leaves, more than this checkpoint's {size}");
        }
        let proof = match old {
            0 => Vec::new(),
            _ => with_hashes(state, |r| tlog_tiles::prove_tree(size, old, r)).await?,
        };
        let mut body = format!("old {old}\n");
        for h in &proof {
            body.push_str(&b64::encode_std(&h.0));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(note);
        let res = client.post(url).body(body).send().await?;
        let status = res.status();
        let text = res.text().await?;
        match status.as_u16() {
            200 if text.len() <= 4096 && !text.is_empty() && text.lines().all(cosignature_shaped) => {
                let line = if text.ends_with('\n') { text } else { format!("{text}\n") };
                state.store.add_cosignature(url, size, &line).await?;
                return Ok(());
            }
            409 => old = text.trim().parse()?,
            _ => anyhow::bail!("the witness answered {status}: {}", text.chars().take(200).collect::<String>()),
        }
    }
    anyhow::bail!("the witness kept answering with another size")
}

/// The inclusion proof of event `seq` (from 1) against the latest checkpoint, as C2SP
/// tlog-proof text, after integrating what is new.
pub async fn inclusion(state: &AppState, seqs: &[i64]) -> Result<Vec<String>, StoreError> {
    let (size, note) = integrate(state).await?;
    let mut out = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let index = u64::try_from(*seq - 1).map_err(corrupt)?;
        let hashes = with_hashes(state, |r| tlog_tiles::prove_record(size, index, r)).await?;
        let hashes = hashes.into_iter().map(|h| h.0).collect();
        out.push(InclusionProof { index, hashes, checkpoint: note.clone() }.to_text());
    }
    Ok(out)
}

/// A consistency proof from the tree of `old` leaves to the latest, with both notes.
pub async fn consistency(state: &AppState, old: u64) -> Result<Option<(String, String, Vec<String>)>, StoreError> {
    let (size, note) = latest(state).await?;
    let published = state.store.tlog_checkpoint(old).await?.filter(|_| old <= size);
    // Every log starts from the empty tree, whether or not it published that checkpoint.
    let Some(old_note) = published.or_else(|| (old == 0).then(|| sign(state, 0, tlog_tiles::EMPTY_HASH.0))) else {
        return Ok(None);
    };
    // From the empty tree, or to the same tree, the proof is empty (RFC 9162 §2.1.4).
    let proof = match old {
        0 => Vec::new(),
        _ if old == size => Vec::new(),
        _ => with_hashes(state, |r| tlog_tiles::prove_tree(size, old, r)).await?,
    };
    Ok(Some((old_note, note, proof.iter().map(|h| b64::encode_std(&h.0)).collect())))
}

/// A hash tile (C2SP tlog-tiles, height 8) of the latest tree: level, index and width (a
/// partial tile's), or `None` when the tree does not have it.
pub async fn tile(state: &AppState, level: u8, index: u64, width: Option<u32>) -> Result<Option<Vec<u8>>, StoreError> {
    let (size, _) = latest(state).await?;
    let w = width.unwrap_or(256);
    // The complete hashes at this level; a full tile holds 256 of them. A partial tile of
    // any width the tree has reached is served (its hashes never change): a client asks
    // for the width its checkpoint implies, and the tree may have grown since.
    let count = if u32::from(level) * 8 >= 64 { 0 } else { size >> (8 * u32::from(level)) };
    if first_of(index, w, count).is_none() {
        return Ok(None);
    }
    let tile = tlog_tiles::Tile::new(8, level, index, w, false);
    Ok(Some(with_hashes(state, |r| tile.read_data(r)).await?))
}

/// The position of the first of a tile's `width` hashes (1 to 256) at `index`, if the
/// `count` the tree has at that level reaches its last one (without overflow).
fn first_of(index: u64, width: u32, count: u64) -> Option<u64> {
    let start = index.checked_mul(256)?;
    ((1..=256).contains(&width) && start.checked_add(u64::from(width))? <= count).then_some(start)
}

/// Whether a line a witness answered has the shape of a C2SP cosignature: `— <name>
/// <base64 of key id, time and signature>` (76 bytes). Who signed is for the readers of the
/// note to check, with the witnesses' keys; this keeps anything else out of it.
fn cosignature_shaped(line: &str) -> bool {
    let parts = line.strip_prefix("\u{2014} ").and_then(|rest| rest.split_once(' '));
    parts.is_some_and(|(name, blob)| {
        !name.is_empty() && !name.contains(char::is_whitespace) && b64::decode_std(blob).is_ok_and(|b| b.len() == 76)
    })
}

/// An entry bundle (C2SP tlog-tiles `tile/entries/…`): the leaves `index × 256` on, `width`
/// of them (256 for a full bundle), each a big-endian 16-bit length and the leaf's data (the
/// event's 32-byte hash); `None` when the tree does not have them.
pub async fn entries(state: &AppState, index: u64, width: Option<u32>) -> Result<Option<Vec<u8>>, StoreError> {
    let (size, _) = latest(state).await?;
    let w = width.unwrap_or(256);
    let Some(start) = first_of(index, w, size) else { return Ok(None) };
    let w = u64::from(w);
    let mut out = Vec::with_capacity(w as usize * 34);
    for hash in state.store.event_hashes_after(start, w).await? {
        let data = b64::decode(&hash).map_err(corrupt)?;
        out.extend_from_slice(&u16::try_from(data.len()).map_err(corrupt)?.to_be_bytes());
        out.extend_from_slice(&data);
    }
    Ok(Some(out))
}

/// Integrates new events every second.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = integrate(&state).await {
            tracing::warn!(error = ?anyhow::Error::from(e), "could not extend the transparency log; will retry");
        }
        if super::pause(&mut stop, Duration::from_secs(1)).await {
            break;
        }
    }
}
