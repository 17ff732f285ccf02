//! The proof in the consent-record formats others read: DPV JSON-LD (ISO/IEC TS 27560) and
//! a Kantara Consent Receipt v1.1, each carrying the signed bundle that `verify` checks.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use consent_e2e::smtp::SmtpSink;
use consent_receipt::export::bundle_of_export;
use consent_verifier::consent::access::create_key;

use crate::helpers::*;

/// The Python with pyld that `cargo xtask test` installs (`CONSENT_PYTHON`).
fn pyld_python() -> PathBuf {
    let python = std::env::var_os("CONSENT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| consent_e2e::workspace_dir().join("target/py/bin/python"));
    assert!(
        python.exists(),
        "{} is missing: `cargo xtask test` installs pyld there (or set CONSENT_PYTHON to a Python with pyld)",
        python.display()
    );
    python
}

async fn export(app: &TestApp, lead: &str, format: &str) -> reqwest::Response {
    let k = create_key(&app.state.store, "export", app.clock.now()).await.unwrap().1;
    let url = format!("{}/v1/admin/leads/{lead}/proof?format={format}", app.base);
    app.client.get(url).bearer_auth(k).send().await.unwrap()
}

/// Consent records' statuses, purpose by purpose.
fn statuses(doc: &serde_json::Value) -> Vec<&str> {
    let records = doc["@graph"].as_array().unwrap().iter().filter(|n| n["@type"] == "dpv:ConsentRecord");
    records.map(|n| n["dpv:hasConsentStatus"]["@id"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_dpv_export_expands_with_a_json_ld_processor_and_every_dpv_term_exists_in_dpv() {
    let sink = SmtpSink::start().await.unwrap();
    let app = crate::channels::app(&sink).await;
    let email = unique_email();
    let mut c = app.session().await.claims(&email);
    c.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "offers-sms");
    let body: serde_json::Value = app.post_lead(&sign(&c)).await.json().await.unwrap();
    let id = body["lead_id"].as_str().unwrap().to_string();
    let pending: serde_json::Value = export(&app, &id, "dpv").await.json().await.unwrap();
    assert_eq!(
        statuses(&pending),
        ["dpv:ConsentRequested", "dpv:ConsentRequested", "dpv:ConsentRefused"],
        "asked, not given"
    );
    let link = crate::retention::link_in(&app, &crate::retention::mail_to(&sink, &email).await, "confirm");
    assert_eq!(app.client.post(link).send().await.unwrap().status(), 200);

    let res = export(&app, &id, "dpv").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/ld+json");
    let doc: serde_json::Value = res.json().await.unwrap();

    let terms = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/dpv-2.2-terms.txt");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/fixtures/jsonld_check.py");
    let mut child = Command::new(pyld_python())
        .arg(script)
        .arg(terms)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(doc.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("ok 3 records"), "pyld: {said}{}", String::from_utf8_lossy(&out.stderr));

    assert_eq!(statuses(&doc), ["dpv:ConsentGiven", "dpv:ConsentGiven", "dpv:ConsentRefused"], "confirmed");
    let bundle = bundle_of_export(&doc).expect("the export carries the bundle");
    assert_eq!(consent_receipt::verify_bundle(&bundle, None).unwrap().lead_id, id);
}

#[tokio::test]
async fn a_withdrawal_shows_as_consent_withdrawn_and_the_kantara_receipt_lists_only_what_is_in_force() {
    let sink = SmtpSink::start().await.unwrap();
    let app = crate::channels::app(&sink).await;
    let key = consent_e2e::random_key();
    let email = unique_email();
    let mut c = app.session().await.claims(&email);
    c.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "offers-sms");
    let id = crate::channels::confirmed_lead(&app, &sink, &c.sign(&key), &email).await;
    let kantara: serde_json::Value = export(&app, &id, "kantara").await.json().await.unwrap();
    assert_eq!(kantara["version"], "KI-CR-v1.1.0");
    assert_eq!(kantara["piiControllers"][0]["address"]["addressCountry"], "FR");
    assert_eq!(kantara["services"][0]["purposes"].as_array().unwrap().len(), 2, "{kantara}");
    assert_eq!(kantara["services"][0]["purposes"][1]["thirdPartyDisclosure"], true, "partner sharing discloses");

    assert_eq!(app.withdraw(&c.jti, &key).await.status(), 200);
    let doc: serde_json::Value = export(&app, &id, "dpv").await.json().await.unwrap();
    let withdrawn =
        doc["@graph"].as_array().unwrap().iter().filter(|n| n["dpv:hasConsentStatus"]["@id"] == "dpv:ConsentWithdrawn");
    assert_eq!(withdrawn.count(), 2);
    let kantara: serde_json::Value = export(&app, &id, "kantara").await.json().await.unwrap();
    assert_eq!(kantara["services"][0]["purposes"].as_array().unwrap().len(), 0, "nothing in force");

    // `verify` reads an export back: it checks the bundle inside.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kantara.json");
    std::fs::write(&file, kantara.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_consent-verifier")).arg("verify").arg(&file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("holds") && text.contains("WITHDRAWN"), "{text}");
    assert_problem(export(&app, &id, "rdf").await, 400, "malformed-request").await;
}
