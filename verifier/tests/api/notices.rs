//! Notices at start-up: complete (GDPR Art. 13) and immutable once served.

use crate::helpers::*;

#[tokio::test]
async fn changed_text_under_a_served_version_number_refuses_to_start() {
    let data = tempfile::tempdir().unwrap();
    let notices = test_notices();
    let app = spawn_app_with(Options {
        data_dir: Some(data.path().to_path_buf()),
        notices_dir: Some(notices.path().to_path_buf()),
        ..Options::default()
    })
    .await;
    app.stop().await;
    let path = notices.path().join("newsletter.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("About once a month", "Every day");
    std::fs::write(&path, text).unwrap();

    let err = try_spawn_app_with(Options {
        data_dir: Some(data.path().to_path_buf()),
        notices_dir: Some(notices.path().to_path_buf()),
        ..Options::default()
    })
    .await
    .err()
    .expect("the verifier refuses to start");

    let msg = format!("{err:#}");
    assert!(msg.contains("newsletter") && msg.contains("version 2") && msg.contains("immutable"), "{msg}");
}

#[tokio::test]
async fn changed_text_under_a_new_version_starts_and_keeps_the_old_version() {
    let data = tempfile::tempdir().unwrap();
    let notices = test_notices();
    let opts = || Options {
        data_dir: Some(data.path().to_path_buf()),
        notices_dir: Some(notices.path().to_path_buf()),
        ..Options::default()
    };
    let app = spawn_app_with(opts()).await;
    let old = app.session().await;
    app.stop().await;
    let path = notices.path().join("newsletter.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("About once a month", "Every week")
        .replace("version = 2", "version = 3");
    std::fs::write(&path, text).unwrap();

    let app = spawn_app_with(opts()).await;

    assert_eq!(app.session().await.notice.version, 3);
    let body = app.state.store.notice_body(&old.digest).await.unwrap().expect("the old words are kept");
    assert!(body.contains("About once a month"));
    // A visitor who loaded the page before the update can still finish signing up.
    assert_eq!(app.post_lead(&sign(&old.claims(&unique_email()))).await.status(), 201);
}

#[tokio::test]
async fn a_notice_missing_an_article_13_item_refuses_to_start_and_names_it() {
    let notices = test_notices();
    let path = notices.path().join("newsletter.toml");
    let text: String = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| if l.starts_with("complaint = \"Vous") { "complaint = \" \"" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, text).unwrap();

    let err = try_spawn_app_with(Options { notices_dir: Some(notices.path().to_path_buf()), ..Options::default() })
        .await
        .err()
        .expect("the verifier refuses to start");

    let msg = format!("{err:#}");
    assert!(msg.contains("complaint (Art. 13(2)(d))") && msg.contains("`fr`"), "{msg}");
}

#[tokio::test]
async fn a_notice_without_recipients_for_a_purpose_refuses_to_start() {
    let notices = test_notices();
    let path = notices.path().join("offers.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace("recipients = [\"Test GmbH\"]", "recipients = []");
    std::fs::write(&path, text).unwrap();

    let err = try_spawn_app_with(Options { notices_dir: Some(notices.path().to_path_buf()), ..Options::default() })
        .await
        .err()
        .expect("the verifier refuses to start");

    assert!(format!("{err:#}").contains("recipients"), "{err:#}");
}
