//! The transparency log: every event is a leaf of an RFC 6962 tree; bundles carry each
//! event's inclusion proof; the checkpoint, the tiles and consistency proofs are public.
//! A Python implementation of RFC 6962 (`fixtures/rfc6962.py`, standard library only)
//! checks what the verifier serves, independently of the Rust code on both sides.

use std::io::Write;
use std::process::{Command, Stdio};

use consent_receipt::tlog::{Checkpoint, InclusionProof, consistent};
use consent_receipt::{VerifyError, b64, verify_bundle};

use crate::helpers::*;
use crate::proofs::bundle_of;

/// Asks the Python check; true when it says "ok".
fn python(request: serde_json::Value) -> bool {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/rfc6962.py");
    let mut child =
        Command::new("python3").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python3");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(said == "ok" || said.starts_with("bad"), "python said {said:?}");
    said == "ok"
}

/// The checkpoint in a signed note.
fn body(note: &str) -> Checkpoint {
    Checkpoint::parse(&format!("{}\n", note.split_once("\n\n").unwrap().0)).unwrap()
}

async fn checkpoint(app: &TestApp) -> String {
    app.get("/log/checkpoint").await.text().await.unwrap()
}

async fn leads(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let (receipt, _) = app.valid_receipt().await;
        let body: serde_json::Value = app.post_lead(&receipt).await.json().await.unwrap();
        ids.push(body["lead_id"].as_str().unwrap().to_string());
    }
    ids
}

#[tokio::test]
async fn every_event_of_a_bundle_is_in_the_log_and_an_independent_rfc6962_check_agrees() {
    let app = spawn_app().await;
    let ids = leads(&app, 5).await;
    let b = bundle_of(&app, &ids[2]).await;

    let report = verify_bundle(&b, None).expect("the bundle holds");
    let (origin, size) = report.log.clone().expect("checked against the log");
    assert_eq!(origin, "verifier.test/consent-log");
    assert_eq!(b.tlog_proofs.len(), b.events.len());
    for (e, text) in b.events.iter().zip(&b.tlog_proofs) {
        let p = InclusionProof::parse(text).unwrap();
        let cp = body(&p.checkpoint);
        assert_eq!(cp.size, size);
        let proof: Vec<String> = p.hashes.iter().map(|h| b64::encode_std(h)).collect();
        let request = serde_json::json!({"mode": "inclusion", "leaf": e.hash, "index": p.index, "size": cp.size,
            "proof": proof, "root": b64::encode_std(&cp.root)});
        assert!(python(request.clone()), "event {} in the log", e.seq);
        let mut wrong = request;
        wrong["index"] = (p.index + 1).into();
        assert!(!python(wrong), "the same proof does not hold at another position");
    }
}

#[tokio::test]
async fn a_tampered_log_proof_or_checkpoint_is_refused() {
    let app = spawn_app().await;
    // Accepted then withdrawn: at least two events, so two proofs to swap.
    let (_, b) = crate::proofs::lead_with_history(&app).await;
    assert!(b.tlog_proofs.len() >= 2);
    let refused = |b: &consent_receipt::ProofBundle| match verify_bundle(b, None) {
        Err(VerifyError::BadProof(why)) => why,
        other => panic!("not refused: {other:?}"),
    };

    let mut p = InclusionProof::parse(&b.tlog_proofs[0]).unwrap();
    let mut hash = b.clone();
    p.hashes[0][0] ^= 1;
    hash.tlog_proofs[0] = p.to_text();
    assert!(refused(&hash).contains("does not lead to the checkpoint's root"));

    let mut size = b.clone();
    let cp = body(b.tlog_proofs[0].split_once("\n\n").unwrap().1);
    size.tlog_proofs[0] = b.tlog_proofs[0].replacen(&format!("\n{}\n", cp.size), &format!("\n{}\n", cp.size + 1), 1);
    assert!(refused(&size).contains("not signed by a key of the verifier"), "an edited checkpoint");

    let mut swapped = b.clone();
    swapped.tlog_proofs.swap(0, 1);
    assert!(refused(&swapped).contains("another position"));

    let mut dropped = b.clone();
    dropped.tlog_proofs.pop();
    assert!(refused(&dropped).contains("one for one"));
}

#[tokio::test]
async fn the_log_only_grows_and_a_consistency_proof_between_checkpoints_holds_in_rust_and_python() {
    let app = spawn_app().await;
    leads(&app, 3).await;
    let old = body(&checkpoint(&app).await);
    leads(&app, 6).await;
    let res: serde_json::Value = app.get(&format!("/log/consistency?from={}", old.size)).await.json().await.unwrap();
    let new = body(res["new"].as_str().unwrap());
    assert!(new.size > old.size, "the log grew: {} -> {}", old.size, new.size);
    assert_eq!(body(res["old"].as_str().unwrap()), old, "the old checkpoint as published");
    let proof: Vec<[u8; 32]> = res["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| b64::decode_std(h.as_str().unwrap()).unwrap().try_into().unwrap())
        .collect();

    assert!(consistent(old.size, &old.root, new.size, &new.root, &proof));
    let request = serde_json::json!({"mode": "consistency", "old_size": old.size, "old_root": b64::encode_std(&old.root),
        "new_size": new.size, "new_root": b64::encode_std(&new.root), "proof": res["proof"]});
    assert!(python(request.clone()));
    let mut forked = request;
    forked["old_root"] = b64::encode_std(&[7; 32]).into();
    assert!(!python(forked), "a different history is not consistent");
    assert!(!consistent(old.size, &[7; 32], new.size, &new.root, &proof));
    assert_problem(app.get("/log/consistency?from=999999").await, 404, "not-found").await;
    // From the empty tree (the first checkpoint a fresh log signs) and to the same size.
    for from in [0, new.size] {
        let res = app.get(&format!("/log/consistency?from={from}")).await;
        assert_eq!(res.status(), 200, "from {from}");
    }
}

#[tokio::test]
async fn the_tiles_are_served_at_c2sp_paths_and_hash_to_the_checkpoint_root() {
    let app = spawn_app().await;
    leads(&app, 4).await;
    let cp = body(&checkpoint(&app).await);
    assert!(cp.size > 0 && cp.size < 256, "a partial tile: {}", cp.size);

    let res = app.get(&format!("/log/tile/0/000.p/{}", cp.size)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache", "a partial tile grows");
    let tile = res.bytes().await.unwrap();
    assert_eq!(tile.len() as u64, cp.size * 32, "one hash per leaf");
    let request =
        serde_json::json!({"mode": "tile", "hashes": b64::encode_std(&tile), "root": b64::encode_std(&cp.root)});
    assert!(python(request), "the root recomputed from every leaf hash");
    let mut tampered = tile.to_vec();
    tampered[0] ^= 1;
    let request =
        serde_json::json!({"mode": "tile", "hashes": b64::encode_std(&tampered), "root": b64::encode_std(&cp.root)});
    assert!(!python(request), "a tampered tile does not hash to the root");

    // The entries themselves: each leaf's data is its event's hash, and hashes to the tile's leaf.
    let res = app.get(&format!("/log/tile/entries/000.p/{}", cp.size)).await;
    assert_eq!(res.status(), 200);
    let bundle = res.bytes().await.unwrap();
    assert_eq!(bundle.len() as u64, cp.size * 34, "a 2-byte length and 32 bytes per entry");
    for (i, entry) in bundle.chunks(34).enumerate() {
        assert_eq!(&entry[..2], &[0, 32]);
        let leaf = consent_receipt::tlog::leaf_hash(&entry[2..]);
        assert_eq!(&tile[i * 32..(i + 1) * 32], &leaf[..], "entry {i}");
    }
    for bad in [
        "/log/tile/entries/000",
        "/log/tile/entries/001.p/1",
        "/log/tile/0/000",
        "/log/tile/0/001.p/1",
        "/log/tile/9/000",
        "/log/tile/00/000",
        "/log/tile/0/../../etc",
        "/log/tile/0/000.p/0",
    ] {
        assert_problem(app.get(bad).await, 404, "not-found").await;
    }
}

#[tokio::test]
async fn verify_says_the_log_only_grew_since_a_kept_checkpoint_and_fails_on_a_rewritten_one() {
    let app = spawn_app().await;
    leads(&app, 2).await;
    let kept = checkpoint(&app).await;
    leads(&app, 3).await;
    let size = body(&kept).size;
    let answer = app.get(&format!("/log/consistency?from={size}")).await.text().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (old, fresh, keys) = (dir.path().join("old.txt"), dir.path().join("answer.json"), dir.path().join("jwks.json"));
    std::fs::write(&old, &kept).unwrap();
    std::fs::write(&fresh, &answer).unwrap();
    std::fs::write(&keys, app.get("/.well-known/jwks.json").await.text().await.unwrap()).unwrap();
    let run = |answer: &std::path::Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_consent-verifier"))
            .arg("verify")
            .arg(&old)
            .arg("--consistency")
            .arg(answer)
            .arg("--jwks")
            .arg(&keys)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).to_string())
    };

    let (code, out) = run(&fresh);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("only grew") && out.contains(&format!("the one of {size} you kept")), "{out}");

    let mut rewritten: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let first = rewritten["proof"][0].as_str().unwrap().to_string();
    rewritten["proof"][0] = b64::encode_std(&[0; 32]).into();
    assert_ne!(first, rewritten["proof"][0]);
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, rewritten.to_string()).unwrap();
    let (code, out) = run(&forged);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the log was rewritten"), "{out}");
}
