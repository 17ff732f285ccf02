//! `serve --stage-timings`: the real process counts its CPU per stage of the leads it
//! accepts, read at `GET /v1/admin/stats/stages` with an admin key; without the flag there
//! is nothing there.

use std::time::{Duration, Instant};

use consent_e2e::Session;
use consent_e2e::process::{VerifierProcess, verifier_bin};
use consent_e2e::smtp::SmtpSink;
use consent_verifier::consent::access::create_key;

use crate::helpers::*;

/// An admin API key for the process's store, made with the CLI as an operator would.
fn cli_key(v: &VerifierProcess) -> String {
    let out = std::process::Command::new(verifier_bin().unwrap())
        .args(["admin", "create-key", "--name", "stats", "--data-dir"])
        .arg(&v.data_dir)
        .arg("--database-url")
        .arg(consent_e2e::db::database_url(&v.data_dir))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split_whitespace().find(|w| w.starts_with("cwk_")).unwrap_or_else(|| panic!("no key in {text}")).to_string()
}

#[tokio::test]
async fn with_stage_timings_the_process_counts_every_stage_of_the_leads_it_accepts() {
    let sink = SmtpSink::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut args = sink.verifier_args();
    args.push("--stage-timings".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = VerifierProcess::start(data.path(), &args, &[]).unwrap();
    let client = reqwest::Client::new();
    let session = Session::fetch(&client, &v.base, "newsletter", "en", &v.base).await.unwrap();
    for _ in 0..5 {
        let receipt = sign(&session.claims(&unique_email()));
        let res = client.post(format!("{}/v1/leads", v.base)).json(&serde_json::json!({"receipt": receipt})).send();
        assert_eq!(res.await.unwrap().status(), 201);
    }
    sink.wait_for(5, Duration::from_secs(30)).await.unwrap();
    let key = cli_key(&v);
    let url = format!("{}/v1/admin/stats/stages", v.base);

    assert_problem(client.get(&url).send().await.unwrap(), 401, "unauthorized").await;
    let with_a_parameter = client.get(format!("{url}?reset=1")).bearer_auth(&key).send().await.unwrap();
    assert_problem(with_a_parameter, 400, "malformed-request").await;

    // Five leads, then each one's mail marked sent: ten writes once the marks are committed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let stats = loop {
        let res = client.get(&url).bearer_auth(&key).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let stats: serde_json::Value = res.json().await.unwrap();
        if stats["writer"]["writes"].as_u64() >= Some(10) || Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stages = vec!["http", "parse", "signature", "decide", "seal", "compose", "writer", "send"];
    if !consent_e2e::db::postgres() {
        // SQLite runs its statements on threads of its own; PostgreSQL's are elsewhere.
        stages.push("sqlite");
    }
    for stage in stages {
        assert!(stats["cpu_us"][stage].as_u64() > Some(0), "{stage} was not counted: {stats}");
    }
    assert!(stats["writer"]["writes"].as_u64() >= Some(10), "{stats}");
    assert!(stats["writer"]["batches"].as_u64() >= Some(1), "{stats}");
    assert!(stats["writer"]["commit_wall_us"].as_u64() > Some(0), "{stats}");
}

#[tokio::test]
async fn without_stage_timings_there_are_no_stage_stats_to_read() {
    let app = spawn_app().await;
    let key = create_key(&app.state.store, "test", app.clock.now()).await.unwrap().1;
    let res = app.client.get(format!("{}/v1/admin/stats/stages", app.base)).bearer_auth(&key).send().await.unwrap();
    let body = assert_problem(res, 404, "not-found").await;
    assert!(body["detail"].as_str().unwrap().contains("--stage-timings"), "{body}");
}
