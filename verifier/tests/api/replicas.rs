//! Two verifier processes on one PostgreSQL: stateless replicas behind a load balancer.

use std::collections::BTreeMap;
use std::time::Duration;

use consent_e2e::Session;
use consent_e2e::process::VerifierProcess;
use consent_e2e::smtp::SmtpSink;

const PUBLIC: &str = "http://replicas.test";

#[tokio::test]
#[ignore = "needs PostgreSQL: runs in the PostgreSQL pass of `cargo xtask test`"]
async fn two_replicas_on_one_postgresql_share_replay_protection_tokens_and_the_outbox() {
    assert!(consent_e2e::db::postgres(), "run with CONSENT_TEST_BACKEND=postgres and CONSENT_TEST_POSTGRES_URL");
    let sink = SmtpSink::start().await.unwrap();
    let (keys, data_a, data_b) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let database = consent_e2e::db::database_url(data_a.path());
    let keys_dir = keys.path().to_string_lossy().to_string();
    let mut args = vec![
        "--database-url".to_string(),
        database,
        "--keys-dir".into(),
        keys_dir,
        "--public-url".into(),
        PUBLIC.into(),
    ];
    args.extend(sink.verifier_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let a = VerifierProcess::start(data_a.path(), &args, &[]).unwrap();
    // The second replica waits for the first to have created the schema.
    let b = VerifierProcess::start(data_b.path(), &args, &[]).unwrap();
    let client = reqwest::Client::new();
    let post = |base: &str, receipt: &str| {
        client
            .post(format!("{base}/v1/leads"))
            .header("Origin", PUBLIC)
            .json(&serde_json::json!({"receipt": receipt}))
            .send()
    };

    // Replay protection holds across replicas: one unique index.
    let session = Session::fetch(&client, &a.base, "newsletter", "en", PUBLIC).await.unwrap();
    let receipt = session.claims("replica@example.org").sign(&consent_e2e::random_key());
    assert_eq!(post(&a.base, &receipt).await.unwrap().status(), 201);
    let replay = post(&b.base, &receipt).await.unwrap();
    assert_eq!(replay.status(), 409);
    assert_eq!(replay.json::<serde_json::Value>().await.unwrap()["code"], "replay");

    // A nonce from one replica and a token from the other's mail work anywhere.
    let from_b = Session::fetch(&client, &b.base, "newsletter", "en", PUBLIC).await.unwrap();
    assert_eq!(
        post(&a.base, &from_b.claims("cross@example.org").sign(&consent_e2e::random_key())).await.unwrap().status(),
        201
    );
    let mails = sink.wait_for(1, Duration::from_secs(15)).await.unwrap();
    let mail = mails.iter().find(|m| m.to == ["replica@example.org"]).unwrap();
    let text = mail.text_part("text/plain").unwrap();
    let confirm = text[text.find(&format!("{PUBLIC}/confirm/")).unwrap()..]
        .split_whitespace()
        .next()
        .unwrap()
        .replace(PUBLIC, &b.base);
    assert_eq!(client.post(&confirm).send().await.unwrap().status(), 200, "B confirms a token A issued");

    // Under concurrent load on both, each mail leaves exactly once.
    let mut sends = Vec::new();
    for i in 0..40 {
        let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
        let r = session.claims(&format!("load-{i}@example.org")).sign(&consent_e2e::random_key());
        let client = client.clone();
        sends.push(tokio::spawn(async move {
            client
                .post(format!("{base}/v1/leads"))
                .header("Origin", PUBLIC)
                .json(&serde_json::json!({"receipt": r}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for s in sends {
        assert_eq!(s.await.unwrap(), 201);
    }
    let received = sink.wait_for(42, Duration::from_secs(30)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = if sink.messages().len() > received.len() { sink.messages() } else { received };
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for m in &received {
        *by_id.entry(m.message_id().unwrap()).or_default() += 1;
    }
    assert_eq!(by_id.len(), 42, "every mail arrived");
    assert!(by_id.values().all(|n| *n == 1), "no mail was sent twice: {by_id:?}");
    drop((a, b));
}
