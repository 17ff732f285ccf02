//! The command line, run as a newcomer would: the real binary.

use std::process::Command;

use crate::helpers::*;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_consent-verifier"))
}

#[tokio::test]
async fn verify_checks_a_receipt_and_its_seal_offline_and_names_the_failed_rule() {
    let app = spawn_app().await;
    let (receipt, _) = app.valid_receipt().await;
    let body: serde_json::Value = app.post_lead(&receipt).await.json().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, app.get("/.well-known/jwks.json").await.text().await.unwrap()).unwrap();
    let notice = dir.path().join("notice.json");
    let notice_json = app
        .client
        .get(format!("{}/v1/notices/newsletter?lang=en", app.base))
        .header("Origin", SHOP)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(&notice, notice_json).unwrap();
    let pair = dir.path().join("lead.json");
    std::fs::write(&pair, serde_json::json!({"receipt": receipt, "seal": body["seal"]}).to_string()).unwrap();

    let ok = bin()
        .arg("verify")
        .arg(&pair)
        .arg("--jwks")
        .arg(&jwks)
        .arg("--notice")
        .arg(&notice)
        .arg("--aud")
        .arg(AUD)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}{}", String::from_utf8_lossy(&ok.stderr));
    assert!(out.contains("Seal holds") && out.contains("newsletter-email: GRANTED"), "{out}");

    let (head, rest) = receipt.split_once('.').unwrap();
    let tampered = format!("{head}.{}", rest.replacen(|c: char| c.is_ascii_alphabetic(), "A", 1).replacen('A', "B", 1));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, serde_json::json!({"receipt": tampered, "seal": body["seal"]}).to_string()).unwrap();
    let failed = bin().arg("verify").arg(&bad).arg("--jwks").arg(&jwks).output().unwrap();
    let out = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(1), "{out}");
    assert!(out.contains("FAILED rule"), "{out}");

    // The seal alone, against the live key set URL.
    let seal_file = dir.path().join("seal.jws");
    std::fs::write(&seal_file, body["seal"].as_str().unwrap()).unwrap();
    let jwks_url = format!("{}/.well-known/jwks.json", app.base);
    let seal_only = tokio::task::spawn_blocking(move || {
        bin().arg("verify").arg(&seal_file).arg("--jwks").arg(&jwks_url).output().unwrap()
    })
    .await
    .unwrap();
    assert!(seal_only.status.success(), "{}", String::from_utf8_lossy(&seal_only.stderr));
}

#[test]
fn verify_with_a_seal_from_an_unknown_key_fails() {
    let dir = tempfile::tempdir().unwrap();
    let key = consent_e2e::random_key();
    let seal = consent_receipt::SealClaims {
        receipt_sha256: "x".into(),
        jti: "j".into(),
        lead_id: "l".into(),
        status: "active".into(),
        iat: 1,
    }
    .sign(&key);
    std::fs::write(dir.path().join("seal"), seal).unwrap();
    std::fs::write(dir.path().join("jwks.json"), r#"{"keys":[]}"#).unwrap();
    let out = bin()
        .arg("verify")
        .arg(dir.path().join("seal"))
        .arg("--jwks")
        .arg(dir.path().join("jwks.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("unknown-key"));
}

#[test]
fn verify_of_a_missing_file_is_a_usage_error_not_a_verdict() {
    let out = bin().args(["verify", "/no/such/file"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/file"));
}

#[test]
fn notices_check_accepts_the_demo_notice_and_prints_digests() {
    let out = bin().args(["notices", "check"]).arg(consent_e2e::workspace_dir().join("notices")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("newsletter v2") && text.contains("fr: digest"), "{text}");
}

#[test]
fn notices_check_names_the_file_and_the_missing_item() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(consent_e2e::workspace_dir().join("notices/newsletter.toml")).unwrap();
    std::fs::write(
        dir.path().join("newsletter.toml"),
        text.replace("dpo = \"dpo@atelier-lumiere.example\"", "dpo = \"\""),
    )
    .unwrap();
    let out = bin().args(["notices", "check"]).arg(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("newsletter.toml") && err.contains("controller.dpo"), "{err}");
}

#[test]
fn notices_check_explains_that_soft_opt_in_needs_a_sale_naming_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(consent_e2e::workspace_dir().join("notices/orders.toml")).unwrap();
    std::fs::write(dir.path().join("orders.toml"), text.replace("order_field = \"order_id\"\n", "")).unwrap();
    let out = bin().args(["notices", "check"]).arg(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("orders.toml") && err.contains("purposes[similar-products-email].order_field"), "{err}");
    assert!(err.contains("Creating an account is not a sale"), "{err}");
}

#[test]
fn notices_check_warns_about_an_item_that_says_nothing_and_strict_makes_it_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(consent_e2e::workspace_dir().join("notices/newsletter.toml")).unwrap();
    let (start, end) = (text.find("\ntransfers = ").unwrap() + 1, text.find("\nretention = ").unwrap());
    let edited = format!("{}transfers = \"N/A\"{}", &text[..start], &text[end..]);
    std::fs::write(dir.path().join("newsletter.toml"), edited).unwrap();

    let lenient = bin().args(["notices", "check"]).arg(dir.path()).output().unwrap();
    let out = String::from_utf8_lossy(&lenient.stdout);
    assert!(lenient.status.success(), "a lint is a warning without --strict: {out}");
    assert!(
        out.contains("warning:") && out.contains("newsletter.toml [text.fr] transfers: \"N/A\" says nothing"),
        "{out}"
    );

    let strict = bin().args(["notices", "check", "--strict"]).arg(dir.path()).output().unwrap();
    assert_eq!(strict.status.code(), Some(2), "{}", String::from_utf8_lossy(&strict.stderr));
    assert!(String::from_utf8_lossy(&strict.stdout).contains("error:"));
}

#[test]
fn keygen_creates_private_files_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let first = bin().arg("keygen").arg("--keys-dir").arg(&keys).output().unwrap();
    assert!(first.status.success());
    let second = bin().arg("keygen").arg("--keys-dir").arg(&keys).output().unwrap();
    let text = String::from_utf8_lossy(&second.stdout);
    assert!(text.contains("nothing was overwritten"), "{text}");
    let kid = |t: &str| t.lines().find(|l| l.starts_with("Active key id")).map(str::to_string);
    assert_eq!(kid(&String::from_utf8_lossy(&first.stdout)), kid(&text));
}

#[test]
fn the_help_lists_every_command() {
    let out = bin().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for cmd in ["serve", "keygen", "keys", "verify", "notices"] {
        assert!(text.contains(cmd), "{cmd} missing from:\n{text}");
    }
    let serve = String::from_utf8_lossy(&bin().args(["serve", "--help"]).output().unwrap().stdout).to_string();
    for flag in [
        "--addr",
        "--data-dir",
        "--notices",
        "--public-url",
        "--allowed-origin",
        "CONSENT_ADDR",
        "--nonce-ttl",
        "--clock-skew",
    ] {
        assert!(serve.contains(flag), "{flag} missing from serve --help");
    }
}

#[test]
fn serve_stops_cleanly_on_sigterm_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = consent_e2e::process::VerifierProcess::start(dir.path(), &[], &[]).unwrap();
    let status = p.terminate().unwrap();
    assert!(status.success(), "{status}\n{}", p.log_text());
    assert!(p.log_text().contains("stopped"));
    if !consent_e2e::db::postgres() {
        assert!(dir.path().join("consent.db").exists());
    }
}

#[test]
fn admin_keys_made_on_the_command_line_open_and_close_the_admin_api() {
    let help =
        String::from_utf8_lossy(&bin().args(["admin", "create-key", "--help"]).output().unwrap().stdout).to_string();
    for flag in ["--name", "--data-dir", "--database-url", "--config"] {
        assert!(help.contains(flag), "{flag} missing from admin create-key --help:\n{help}");
    }
    for flag in ["--smtp-password", "--addr", "--allowed-origin", "--nonce-ttl"] {
        assert!(!help.contains(flag), "admin create-key --help offers serve's {flag}:\n{help}");
    }

    let data = tempfile::tempdir().unwrap();
    let admin = |args: &[&str]| {
        let out = bin()
            .arg("admin")
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .arg("--database-url")
            .arg(consent_e2e::db::database_url(data.path()))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, created, err) = admin(&["create-key", "--name", "crm"]);
    assert_eq!(code, Some(0), "{created}{err}");
    let key = created.split_whitespace().find(|w| w.starts_with("cwk_")).expect("the key is shown").to_string();
    let id = key.trim_start_matches("cwk_").split('.').next().unwrap().to_string();
    let (_, listed, _) = admin(&["list-keys"]);
    assert!(listed.contains(&id) && listed.contains("crm") && listed.contains("live"), "{listed}");
    assert!(!listed.contains(&key), "list-keys must never show a key: {listed}");

    // The same store named by serve's config file; a flag still wins over the file.
    let config = data.path().join("verifier.toml");
    std::fs::write(&config, format!("database-url = {:?}\n", consent_e2e::db::database_url(data.path()))).unwrap();
    let list_with = |extra: &[&std::ffi::OsStr]| {
        let out = bin()
            .args(["admin", "list-keys", "--config"])
            .arg(&config)
            .args(extra)
            .env_remove("CONSENT_DATA_DIR")
            .env_remove("CONSENT_DATABASE_URL")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(list_with(&[]).contains(&id), "--config must name the store");
    let elsewhere = tempfile::tempdir().unwrap();
    let other_url = consent_e2e::db::database_url(elsewhere.path());
    let overridden = list_with(&["--database-url".as_ref(), other_url.as_ref()]);
    assert!(!overridden.contains(&id), "--database-url must win over the config file: {overridden}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = spawn_app_with(Options { data_dir: Some(data.path().to_path_buf()), ..Options::default() }).await;
        let leads = || app.client.get(format!("{}/v1/admin/leads", app.base)).bearer_auth(&key).send();
        assert_eq!(leads().await.unwrap().status(), 200);

        let (code, revoked, err) = admin(&["revoke-key", &id]);
        assert_eq!(code, Some(0), "{revoked}{err}");
        let after = leads().await.unwrap();
        assert_eq!(after.status(), 403, "a key revoked on the command line must stop working on a running verifier");
        app.stop().await;
    });
    let (_, listed, _) = admin(&["list-keys"]);
    assert!(listed.contains("revoked"), "{listed}");
    let (code, _, err) = admin(&["revoke-key", &id]);
    assert_eq!(code, Some(2), "revoking twice is an error: {err}");
    assert!(err.contains("no live key"), "{err}");
}

/// `consent-verifier verify <file> --recipient <name>` with extra arguments: exit code and output.
fn recipient_check(file: &std::path::Path, name: &str, extra: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = bin().arg("verify").arg(file).args(extra).arg("--recipient").arg(name).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn verify_recipient_says_yes_to_the_partner_a_consent_names_and_no_once_refused_or_withdrawn() {
    const PARTNER: &str = "Éditions Papillon SARL";
    let sink = consent_e2e::smtp::SmtpSink::start().await.unwrap();
    let app = crate::channels::app(&sink).await;
    let s = app.session().await;
    let dir = tempfile::tempdir().unwrap();
    let key = consent_e2e::random_key();
    let mut shared = s.claims(&unique_email());
    shared.decisions.iter_mut().for_each(|d| d.granted = d.purpose != "offers-sms");
    let kept = s.claims(&unique_email()); // the newsletter only: partner sharing refused
    let mut withdrawn = shared.clone();
    withdrawn.jti = consent_e2e::random_jti();
    withdrawn.contact.email = Some(unique_email());
    let mut files = Vec::new();
    for (name, claims) in [("shared", &shared), ("kept", &kept), ("withdrawn", &withdrawn)] {
        let receipt = claims.sign(&key);
        let email = claims.contact.email.clone().unwrap();
        let lead = crate::channels::confirmed_lead(&app, &sink, &receipt, &email).await;
        if name == "withdrawn" {
            assert_eq!(app.withdraw(&claims.jti, &key).await.status(), 200);
        }
        let bundle = dir.path().join(format!("{name}.json"));
        std::fs::write(&bundle, serde_json::to_string(&crate::proofs::bundle_of(&app, &lead).await).unwrap()).unwrap();
        files.push((bundle, receipt));
    }

    let (code, out) = recipient_check(&files[0].0, PARTNER, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("named by the granted purpose partner-sharing"), "{out}");
    assert_eq!(recipient_check(&files[0].0, "  éditions papillon sarl ", &[]).0, Some(0), "case and spacing aside");
    let (code, out) = recipient_check(&files[0].0, "Papillon", &[]);
    assert_eq!(code, Some(3), "a part of the name is not the partner: {out}");
    let (code, out) = recipient_check(&files[1].0, PARTNER, &[]);
    assert_eq!(code, Some(3), "partner sharing refused: {out}");
    assert!(out.contains("NOT named"), "{out}");
    let (code, out) = recipient_check(&files[2].0, PARTNER, &[]);
    assert_eq!(code, Some(3), "granted, then withdrawn: {out}");

    // A receipt alone answers against the notice it names.
    let notice = dir.path().join("notice.json");
    let url = format!("{}/v1/notices/newsletter?lang=en", app.base);
    let text = app.client.get(url).header("Origin", SHOP).send().await.unwrap().text().await.unwrap();
    std::fs::write(&notice, text).unwrap();
    let receipt = dir.path().join("receipt.jws");
    std::fs::write(&receipt, &files[0].1).unwrap();
    let with_notice = [std::ffi::OsStr::new("--notice"), notice.as_os_str()];
    assert_eq!(recipient_check(&receipt, PARTNER, &with_notice).0, Some(0));
    std::fs::write(&receipt, &files[1].1).unwrap();
    assert_eq!(recipient_check(&receipt, PARTNER, &with_notice).0, Some(3));
    let (code, out) = recipient_check(&receipt, PARTNER, &[]);
    assert_eq!(code, Some(2), "without the notice the question cannot be answered: {out}");
}
