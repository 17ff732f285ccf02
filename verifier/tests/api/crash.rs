//! No mail is lost: the real verifier process is killed (SIGKILL) while the mail server
//! refuses, restarted, and every queued mail arrives once the server accepts.

use std::collections::BTreeSet;
use std::time::Duration;

use consent_e2e::Session;
use consent_e2e::process::VerifierProcess;
use consent_e2e::smtp::SmtpSink;

#[tokio::test]
async fn no_mail_is_lost_when_the_verifier_is_killed_while_the_mail_server_refuses() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_accepting(false);
    let data = tempfile::tempdir().unwrap();
    let args = sink.verifier_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut verifier = VerifierProcess::start(data.path(), &args, &[]).unwrap();
    let client = reqwest::Client::new();
    let session = Session::fetch(&client, &verifier.base, "newsletter", "en", &verifier.base).await.unwrap();
    let mut addresses = BTreeSet::new();
    for i in 0..6 {
        let email =
            format!("crash-{i}-{}@example.org", consent_e2e::random_jti().to_lowercase().replace(['-', '_'], "x"));
        addresses.insert(email.clone());
        let receipt = session.claims(&email).sign(&consent_e2e::random_key());
        let res = client
            .post(format!("{}/v1/leads", verifier.base))
            .json(&serde_json::json!({"receipt": receipt}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    // Let the worker try (and fail) at least once, then kill it without warning.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink.messages().is_empty());
    verifier.kill().unwrap();

    let verifier = VerifierProcess::start_on(verifier.port, data.path(), &args, &[]).unwrap();
    sink.set_accepting(true);
    let received =
        sink.wait_for(6, Duration::from_secs(40)).await.unwrap_or_else(|e| panic!("{e}\n{}", verifier.log_text()));

    // Delivery is at least once; a receiver drops duplicates by Message-ID. None is missing.
    let mut by_id = std::collections::BTreeMap::new();
    for m in &received {
        by_id.insert(m.message_id().unwrap(), m.to.clone());
    }
    let delivered: BTreeSet<String> = by_id.values().flatten().cloned().collect();
    assert_eq!(delivered, addresses, "every queued mail arrived");
    assert_eq!(by_id.len(), 6);
}

/// Leads posted by concurrent clients; the acknowledged ones (201), with their addresses.
type Acknowledged = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

async fn post_until_it_dies(base: String, session: Session, acknowledged: Acknowledged) {
    let client = reqwest::Client::new();
    loop {
        let email = format!("crash-{}@example.org", consent_e2e::random_jti().to_lowercase().replace(['-', '_'], "x"));
        let receipt = session.claims(&email).sign(&consent_e2e::random_key());
        let sent = client.post(format!("{base}/v1/leads")).json(&serde_json::json!({"receipt": receipt})).send().await;
        let Ok(res) = sent else { return }; // killed
        if res.status() != 201 {
            continue;
        }
        // The acknowledgement is the answer's body: a lead whose body never arrived was
        // not acknowledged.
        let Ok(body) = res.json::<serde_json::Value>().await else { return };
        let id = body["lead_id"].as_str().unwrap().to_string();
        acknowledged.lock().unwrap().push((id, email));
    }
}

/// The addresses of the `.eml` files in `dir`; panics on an empty or cut-off file.
fn mailed_addresses(dir: &std::path::Path) -> BTreeSet<String> {
    let mut to = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".eml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // A whole message ends with the closing boundary of its multipart body.
        assert!(text.trim_end().ends_with("--"), "{name} is empty or cut off: {} bytes", text.len());
        let line = text.lines().find(|l| l.starts_with("To: ")).unwrap_or_else(|| panic!("{name} has no To:"));
        to.insert(line["To: ".len()..].trim().trim_matches(['<', '>']).to_string());
    }
    to
}

/// kill -9 under concurrent load, three times, on the database under test (SQLite, or
/// PostgreSQL with `CONSENT_TEST_BACKEND=postgres`): afterwards every acknowledged lead is
/// stored, every one of their confirmation mails was written whole (the file transport:
/// at least once, a resend replaces its own file), and `audit verify` finds the chain
/// intact.
#[test]
fn every_acknowledged_lead_and_its_mail_survive_kill_9_under_concurrent_load() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let data = tempfile::tempdir().unwrap();
    // A dead replica's claims are free again after a second, not thirty (PostgreSQL).
    let args = ["--outbox-lease", "1s", "--client-rate", "off", "--origin-rate", "off"];
    let acknowledged: Acknowledged = Default::default();
    for cycle in 0..3 {
        let mut verifier = VerifierProcess::start(data.path(), &args, &[]).unwrap();
        rt.block_on(async {
            let client = reqwest::Client::new();
            let session = Session::fetch(&client, &verifier.base, "newsletter", "en", &verifier.base).await.unwrap();
            let clients: Vec<_> = (0..8)
                .map(|_| tokio::spawn(post_until_it_dies(verifier.base.clone(), session.clone(), acknowledged.clone())))
                .collect();
            tokio::time::sleep(Duration::from_millis(1200)).await;
            verifier.kill().unwrap();
            for c in clients {
                c.await.unwrap();
            }
        });
        assert!(!acknowledged.lock().unwrap().is_empty(), "cycle {cycle}: no lead was acknowledged");
    }

    let mut verifier = VerifierProcess::start(data.path(), &args, &[]).unwrap();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let owed: BTreeSet<String> = acknowledged.iter().map(|(_, e)| e.clone()).collect();
    let outbox = data.path().join("outbox");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut mailed = mailed_addresses(&outbox);
    while !owed.is_subset(&mailed) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        mailed = mailed_addresses(&outbox);
    }
    let missing: Vec<&String> = owed.difference(&mailed).collect();
    assert!(missing.is_empty(), "{} of {} owed mails missing, e.g. {:?}", missing.len(), owed.len(), &missing[..1]);

    let stored: BTreeSet<String> = rt.block_on(async {
        let pool = consent_e2e::db::pool(data.path()).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM leads").fetch_all(&pool).await.unwrap();
        rows.into_iter().map(|(id,)| id).collect()
    });
    for (id, _) in &acknowledged {
        assert!(stored.contains(id), "acknowledged lead {id} is not stored ({} acknowledged)", acknowledged.len());
    }
    assert!(verifier.terminate().unwrap().success(), "{}", verifier.log_text());
    let audit = std::process::Command::new(env!("CARGO_BIN_EXE_consent-verifier"))
        .args(["audit", "verify", "--data-dir"])
        .arg(data.path())
        .arg("--database-url")
        .arg(consent_e2e::db::database_url(data.path()))
        .output()
        .unwrap();
    assert!(audit.status.success(), "audit verify: {}", String::from_utf8_lossy(&audit.stdout));
    println!("crash test: {} leads acknowledged over 3 kill -9 cycles, all stored and mailed", acknowledged.len());
}
