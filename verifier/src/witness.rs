//! `consent-verifier witness`: a witness for other verifiers' transparency logs (C2SP
//! tlog-witness). It serves `POST /add-checkpoint`; for each checkpoint of a log it knows,
//! it checks the log's signature and that the checkpoint extends the last one it cosigned
//! (the consistency proof in the request), remembers it, and answers with its cosignature
//! (C2SP tlog-cosignature/v1). A log that shows two histories cannot get both cosigned.
//!
//! State: `witness-key` (the Ed25519 seed) and `witness-state.json` (per log, the size and
//! root last cosigned) in the data directory, both written atomically.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use consent_receipt::b64;
use consent_receipt::tlog::{Checkpoint, consistent, cosignature_line, cosignature_message, open_checkpoint};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use tokio::sync::Mutex;

use crate::files::{Access, Existing, write_atomic};

/// What a witness needs to run.
#[derive(Debug)]
pub struct Witness {
    /// Its name in cosignatures (`example.com/witness`).
    pub name: String,
    /// Where it listens.
    pub listen: SocketAddr,
    /// Where its key and state live.
    pub data_dir: PathBuf,
    /// The logs it witnesses: origin, and the keys that sign its checkpoints.
    pub logs: HashMap<String, Vec<VerifyingKey>>,
}

struct Shared {
    name: String,
    key: SigningKey,
    logs: HashMap<String, Vec<VerifyingKey>>,
    state_file: PathBuf,
    /// Per log: the size and root last cosigned.
    seen: Mutex<HashMap<String, (u64, String)>>,
}

/// The witness's key, made on first start.
fn key(data_dir: &std::path::Path) -> anyhow::Result<SigningKey> {
    let path = data_dir.join("witness-key");
    if !path.exists() {
        let seed = crate::keys::random::<32>().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        write_atomic(&path, b64::encode(&seed).as_bytes(), Access::Private, Existing::Keep)?;
    }
    let seed = b64::decode_array::<32>(std::fs::read_to_string(&path)?.trim())
        .ok_or_else(|| anyhow::anyhow!("{} is not a 32-byte base64url seed", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Runs the witness until the process is stopped.
pub async fn serve(w: Witness) -> anyhow::Result<()> {
    std::fs::create_dir_all(&w.data_dir)?;
    let key = key(&w.data_dir)?;
    let state_file = w.data_dir.join("witness-state.json");
    // Only a state that does not exist yet is empty: a witness that forgot what it
    // cosigned could cosign a fork.
    let seen = match std::fs::read_to_string(&state_file) {
        Ok(text) => serde_json::from_str(&text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
        Err(e) => anyhow::bail!("reading {}: {e}", state_file.display()),
    };
    println!("witness {} key {}", w.name, b64::encode(key.verifying_key().as_bytes()));
    let shared = Arc::new(Shared { name: w.name, key, logs: w.logs, state_file, seen: Mutex::new(seen) });
    let app = Router::new().route("/add-checkpoint", post(add_checkpoint)).with_state(shared);
    let listener = tokio::net::TcpListener::bind(w.listen).await?;
    println!("witness listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

fn answer(status: StatusCode, text: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.into()).into_response()
}

/// Reads `old <size>`, the proof's lines, a blank line, then the checkpoint note.
fn parse(body: &str) -> Option<(u64, Vec<[u8; 32]>, &str)> {
    let (head, note) = body.split_once("\n\n")?;
    let mut lines = head.lines();
    let old = lines.next()?.strip_prefix("old ")?;
    if old.len() > 1 && old.starts_with('0') {
        return None;
    }
    let old = old.parse().ok()?;
    let proof = lines.map(|l| b64::decode_std(l).ok()?.try_into().ok()).collect::<Option<Vec<_>>>()?;
    // A consistency proof of a tree of at most 2^64 leaves has at most 63 hashes.
    (proof.len() <= 63).then_some((old, proof, note))
}

async fn add_checkpoint(State(w): State<Arc<Shared>>, body: String) -> Response {
    let Some((old, proof, note)) = parse(&body) else {
        return answer(StatusCode::BAD_REQUEST, "expected `old <size>`, the proof, a blank line and a checkpoint");
    };
    let Some(text) = note.split_once("\n\n").map(|(t, _)| format!("{t}\n")) else {
        return answer(StatusCode::BAD_REQUEST, "the checkpoint is not a signed note");
    };
    let Some(origin) = Checkpoint::parse(&text).map(|c| c.origin) else {
        return answer(StatusCode::BAD_REQUEST, "not a tlog checkpoint");
    };
    let Some(keys) = w.logs.get(&origin) else {
        return answer(StatusCode::NOT_FOUND, "this witness does not know that log");
    };
    let Some(cp) = open_checkpoint(note, &origin, keys) else {
        return answer(StatusCode::FORBIDDEN, "the checkpoint is not signed by the log's key");
    };
    let mut seen = w.seen.lock().await;
    let (known, known_root) = match seen.get(&origin) {
        Some((size, root)) => (*size, b64::decode_array::<32>(root).unwrap_or([0; 32])),
        None => (0, tlog_tiles::EMPTY_HASH.0),
    };
    if old > cp.size {
        return answer(StatusCode::BAD_REQUEST, "the old size is larger than the checkpoint's");
    }
    if old != known {
        return (StatusCode::CONFLICT, [(header::CONTENT_TYPE, "text/x.tlog.size")], format!("{known}\n"))
            .into_response();
    }
    if !consistent(known, &known_root, cp.size, &cp.root, &proof) {
        return answer(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the checkpoint does not extend the last one this witness cosigned",
        );
    }
    // Kept on disk before it is kept in memory or cosigned.
    let mut next = seen.clone();
    next.insert(origin.clone(), (cp.size, b64::encode(&cp.root)));
    let saved = serde_json::to_vec(&next)
        .map_err(anyhow::Error::from)
        .and_then(|bytes| Ok(write_atomic(&w.state_file, &bytes, Access::Private, Existing::Replace)?));
    if let Err(e) = saved {
        tracing::error!(error = %e, "could not save the witness state");
        return answer(StatusCode::SERVICE_UNAVAILABLE, "the witness could not save its state");
    }
    *seen = next;
    let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let sig = w.key.sign(cosignature_message(&text, time).as_bytes());
    tracing::info!(log = %origin, size = cp.size, "checkpoint cosigned");
    answer(StatusCode::OK, cosignature_line(&w.name, &w.key.verifying_key(), time, &sig))
}
