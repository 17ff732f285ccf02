//! Witnesses: `consent-verifier witness` (a separate process) cosigns the verifier's log
//! checkpoints once it has checked that each one extends the last it cosigned; a bundle
//! can be required to carry k of n witnesses' cosignatures.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use consent_receipt::b64;
use consent_receipt::tlog::{Checkpoint, note_signature_line};
use consent_verifier::Settings;
use ed25519_dalek::Signer as _;

use crate::helpers::*;
use crate::proofs::bundle_of;

struct WitnessProcess(Child);

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a witness of the test verifier's log on `port`; returns it and its key.
fn start_witness(port: u16, jwks: &std::path::Path, dir: &std::path::Path) -> (WitnessProcess, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_consent-verifier"))
        .args(["witness", "--name", "witness.test", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(dir)
        .arg("--log")
        .arg(format!("verifier.test/consent-log={}", jwks.display()))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let key = first.rsplit(' ').next().unwrap().to_string();
    assert!(lines.next().unwrap().unwrap().contains("listening"), "the witness started");
    (WitnessProcess(child), key)
}

async fn post(url: &str, body: String) -> (u16, String) {
    let res = reqwest::Client::new().post(url).body(body).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn a_witness_cosigns_only_a_log_that_grows_and_a_bundle_can_require_its_cosignature() {
    let port = consent_e2e::process::free_port().unwrap();
    let url = format!("http://127.0.0.1:{port}/add-checkpoint");
    let settings = Settings { witnesses: vec![url.clone()], ..Settings::default() };
    let app = spawn_app_with(Options { settings: Some(settings), ..Options::default() }).await;
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, app.get("/.well-known/jwks.json").await.text().await.unwrap()).unwrap();
    let (_witness, key) = start_witness(port, &jwks, &dir.path().join("witness"));

    let (receipt, _) = app.valid_receipt().await;
    let body: serde_json::Value = app.post_lead(&receipt).await.json().await.unwrap();
    let lead = body["lead_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let bundle = bundle_of(&app, &lead).await;
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, serde_json::to_string(&bundle).unwrap()).unwrap();
    let verify = |args: &[&str]| {
        let out =
            Command::new(env!("CARGO_BIN_EXE_consent-verifier")).arg("verify").arg(&file).args(args).output().unwrap();
        (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let real = format!("witness.test={key}");
    let other = format!("witness.test={}", b64::encode(&[9; 32]));
    let (code, out) = verify(&["--witness", &real]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Witnessed") && out.contains("holds"), "{out}");
    let (code, out) = verify(&["--witness", &other]);
    assert_eq!(code, Some(1), "another key did not cosign: {out}");
    assert_eq!(verify(&["--witness", &real, "--witness", &other, "--witnesses-required", "1"]).0, Some(0), "1 of 2");
    assert_eq!(verify(&["--witness", &real, "--witness", &other]).0, Some(1), "2 of 2 required");
    // A cosignature edited by one byte no longer counts.
    let mut edited = bundle.clone();
    for p in edited.tlog_proofs.iter_mut() {
        let at = p.rfind("\u{2014} witness.test ").unwrap() + "\u{2014} witness.test ".len() + 20;
        let flipped = if &p[at..=at] == "A" { "B" } else { "A" };
        p.replace_range(at..=at, flipped);
    }
    std::fs::write(&file, serde_json::to_string(&edited).unwrap()).unwrap();
    assert_eq!(verify(&["--witness", &real]).0, Some(1), "a tampered cosignature is refused");
    std::fs::write(&file, serde_json::to_string(&bundle).unwrap()).unwrap();

    // The checker page's code counts the same cosignatures.
    let text = serde_json::to_string(&bundle).unwrap();
    let page =
        |w: &str| serde_json::from_str::<serde_json::Value>(&consent_receipt_wasm::check(&text, "", "", w)).unwrap();
    assert_eq!(page(&real)["witnessed"], serde_json::json!({"given": 1, "least": 1}));
    assert_eq!(page(&other)["witnessed"]["least"], 0);
    assert_eq!(page("")["cosigners"], serde_json::json!(["witness.test"]));

    // Asked directly: a checkpoint that does not extend what it cosigned is refused.
    let latest = app.get("/log/checkpoint").await.text().await.unwrap();
    let size: u64 = latest.lines().nth(1).unwrap().parse().unwrap();
    let (status, known) = post(&url, format!("old 0\n\n{latest}")).await;
    assert_eq!((status, known.trim()), (409, size.to_string().as_str()), "the witness says what it has seen");
    let keys = app.state.keys();
    let forged = Checkpoint { origin: "verifier.test/consent-log".into(), size: size + 5, root: [7; 32] };
    let text = forged.body();
    let line =
        note_signature_line(&forged.origin, &keys.active().verifying_key(), &keys.active().sign(text.as_bytes()));
    let (status, said) = post(&url, format!("old {size}\n{}\n\n{text}\n{line}", b64::encode_std(&[1; 32]))).await;
    assert_eq!(status, 422, "a history that does not extend the cosigned one: {said}");
    let unsigned = format!("old {size}\n\n{text}\n— verifier.test/consent-log {}\n", b64::encode_std(&[0; 68]));
    assert_eq!(post(&url, unsigned).await.0, 403);
    assert_eq!(post(&url, format!("old 0\n\n{}", latest.replace("verifier.test", "other.test"))).await.0, 404);
    assert_eq!(post(&url, "garbage".into()).await.0, 400);
    assert_eq!(post(&url, format!("old {}\n\n{latest}", size + 1)).await.0, 400, "an old size past the checkpoint");
    assert_eq!(post(&url, format!("old 0{size}\n\n{latest}")).await.0, 400, "a size with a leading zero");
}
