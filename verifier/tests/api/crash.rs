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
