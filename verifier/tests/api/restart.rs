//! Nothing accepted is lost across a restart, and the signing key stays the same.

use crate::helpers::*;

#[tokio::test]
async fn a_restart_keeps_every_accepted_lead_and_the_same_signing_key() {
    let data = tempfile::tempdir().unwrap();
    let opts = || Options { data_dir: Some(data.path().to_path_buf()), ..Options::default() };
    let app = spawn_app_with(opts()).await;
    let jwks_before: serde_json::Value = app.get("/.well-known/jwks.json").await.json().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..20 {
        let (receipt, _) = app.valid_receipt().await;
        let res = app.post_lead(&receipt).await;
        assert_eq!(res.status(), 201);
        ids.push(res.json::<serde_json::Value>().await.unwrap()["lead_id"].as_str().unwrap().to_string());
    }
    app.stop().await;

    let again = spawn_app_with(opts()).await;

    let jwks_after: serde_json::Value = again.get("/.well-known/jwks.json").await.json().await.unwrap();
    assert_eq!(jwks_before, jwks_after);
    assert_eq!(again.state.store.count_leads().await.unwrap(), 20);
    for id in ids {
        assert!(again.state.store.lead(&id).await.unwrap().is_some(), "lead {id} survived");
    }
}

#[tokio::test]
async fn a_receipt_accepted_before_a_restart_is_still_a_replay_after_it() {
    let data = tempfile::tempdir().unwrap();
    let opts = || Options { data_dir: Some(data.path().to_path_buf()), ..Options::default() };
    let app = spawn_app_with(opts()).await;
    let (receipt, _) = app.valid_receipt().await;
    assert_eq!(app.post_lead(&receipt).await.status(), 201);
    app.stop().await;

    let again = spawn_app_with(opts()).await;

    assert_problem(again.post_lead(&receipt).await, 409, "replay").await;
}
