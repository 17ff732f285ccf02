//! The legal bases other than consent (LAW.md rules 20–22): soft opt-in after a sale
//! (`orders`), B2B on declared topics (`pros`), non-commercial prospection (`charity`),
//! each with its objection box, through receipt, lead, objection and permissions.

use consent_receipt::Claims;
use consent_verifier::consent::access::create_key;

use crate::helpers::*;

async fn key(app: &TestApp) -> String {
    create_key(&app.state.store, "test", app.clock.now()).await.unwrap().1
}

/// The permissions answer for an e-mail address (and a topic, for B2B).
async fn ask(app: &TestApp, key: &str, email: &str, purpose: &str, topic: Option<&str>) -> serde_json::Value {
    let email = email.replace('+', "%2B");
    let mut path = format!("{}/v1/admin/permissions?email={email}&purpose={purpose}", app.base);
    if let Some(t) = topic {
        path.push_str(&format!("&topic={t}"));
    }
    let res = app.client.get(path).bearer_auth(key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Claims for `notice` whose one objection box is left unticked (`objected` false) or
/// ticked, signed now on the app's clock.
async fn claims(app: &TestApp, notice: &str, email: &str, objected: bool) -> Claims {
    let mut c = app.session_for(notice, "en", SHOP).await.claims(email);
    c.iat = app.clock.now();
    c.decisions[0] = consent_receipt::Decision::objection(c.decisions[0].purpose.clone(), objected, c.iat);
    c
}

async fn lead_status(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn soft_opt_in_without_an_order_reference_is_refused() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let without = claims(&app, "orders", &email, false).await;

    let body = assert_problem(app.post_lead(&sign(&without)).await, 422, "order-required").await;
    assert!(body["detail"].as_str().unwrap().contains("similar-products-email"), "{body}");
    let page = app.get("/errors/order-required").await.text().await.unwrap();
    assert!(page.contains("Creating an account is not a sale"), "the error page explains why");
    let notice = app.get("/notices/orders?lang=fr").await.text().await.unwrap();
    assert!(notice.contains("pas un achat"), "the notice page explains it too: {notice}");

    let mut with = claims(&app, "orders", &email, false).await;
    with.decisions[0].order_ref = Some("A-1042".into());
    assert_eq!(lead_status(app.post_lead(&sign(&with)).await).await, "active", "orders has no double opt-in");
    let yes = ask(&app, &k, &email, "similar-products-email", None).await;
    assert_eq!((yes["allowed"].as_bool(), yes["reason"].as_str()), (Some(true), Some("not objected")), "{yes}");
    assert_eq!(yes["basis"], "soft_opt_in");
}

#[tokio::test]
async fn an_objection_ticked_at_collection_is_honoured() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    // An earlier sale, not objected: the soft opt-in applies.
    let mut first = claims(&app, "orders", &email, false).await;
    first.decisions[0].order_ref = Some("A-1041".into());
    assert_eq!(lead_status(app.post_lead(&sign(&first)).await).await, "active");
    assert_eq!(ask(&app, &k, &email, "similar-products-email", None).await["allowed"], true);

    // The next sale: the box is ticked. No order reference is needed to object.
    app.clock.advance(10);
    let objection = claims(&app, "orders", &email, true).await;
    let res = app.post_lead(&sign(&objection)).await;
    assert_eq!(lead_status(res).await, "refused", "nothing goes ahead: the objection is the record");

    let no = ask(&app, &k, &email, "similar-products-email", None).await;
    assert_eq!((no["allowed"].as_bool(), no["reason"].as_str()), (Some(false), Some("objected")), "{no}");
    let events = app.state.store.events(0, 1000).await.unwrap();
    let recorded = events.iter().find(|e| e.kind == "objection_recorded").expect("an objection in the chain");
    assert_eq!(recorded.data["source"], "collection");
    assert!(!recorded.data.to_string().contains(&email), "no address in the chain");

    // Permanent: a later sale whose box is left unticked does not undo it.
    app.clock.advance(10);
    let mut later = claims(&app, "orders", &email, false).await;
    later.decisions[0].order_ref = Some("A-1043".into());
    assert_eq!(lead_status(app.post_lead(&sign(&later)).await).await, "active");
    assert_eq!(ask(&app, &k, &email, "similar-products-email", None).await["reason"], "objected");
}

#[tokio::test]
async fn soft_opt_in_for_a_partner_is_refused() {
    let notices = test_notices();
    let path = notices.path().join("orders.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let partner = text.replacen(
        "recipients = [\"Atelier Lumière SAS\"]",
        "recipients = [\"Éditions Papillon SARL, 5 place du Partenaire, 69002 Lyon, France\"]",
        1,
    );
    std::fs::write(&path, partner).unwrap();

    let err = try_spawn_app_with(Options { notices_dir: Some(notices.path().to_path_buf()), ..Options::default() })
        .await
        .err()
        .expect("the verifier refuses to start");

    let msg = format!("{err:#}");
    assert!(msg.contains("orders.toml"), "names the file: {msg}");
    assert!(msg.contains("purposes[similar-products-email].recipients"), "names the field: {msg}");
    assert!(msg.contains("list only \"Atelier Lumière SAS\"") && msg.contains("legal_basis = \"consent\""), "{msg}");
}

#[tokio::test]
async fn b2b_without_a_job_function_is_refused() {
    let app = spawn_app().await;
    let c = claims(&app, "pros", &unique_email(), false).await;
    assert_problem(app.post_lead(&sign(&c)).await, 422, "job-function-required").await;
}

#[tokio::test]
async fn b2b_permissions_refuse_an_undeclared_topic() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let mut c = claims(&app, "pros", &email, false).await;
    c.decisions[0].job_function = Some("Facility manager".into());
    assert_eq!(lead_status(app.post_lead(&sign(&c)).await).await, "active");

    let declared = ask(&app, &k, &email, "pro-news", Some("trade-fairs")).await;
    assert_eq!(declared["allowed"], true, "{declared}");
    assert_eq!(declared["basis"], "b2b");
    assert_eq!(declared["job_function"], "Facility manager", "the sender can judge the topic against the job");
    assert_eq!(declared["topics"], serde_json::json!(["office-lighting", "trade-fairs"]));

    let undeclared = ask(&app, &k, &email, "pro-news", Some("cooking")).await;
    assert_eq!(undeclared["allowed"], false, "{undeclared}");
    assert!(undeclared["reason"].as_str().unwrap().contains("not one the purpose declares"), "{undeclared}");
    let none = ask(&app, &k, &email, "pro-news", None).await;
    assert_eq!(none["allowed"], false);
    assert!(none["reason"].as_str().unwrap().contains("topic="), "{none}");
    let res = app
        .client
        .get(format!("{}/v1/admin/permissions?email={email}&purpose=pro-news&topic=trade%20fairs", app.base))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed-request").await;
}

#[tokio::test]
async fn a_role_address_is_flagged_as_a_company_address() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let role = format!("contact+{}@lumiere-client.example", consent_e2e::random_jti().to_lowercase());
    let person = unique_email();
    for email in [&role, &person] {
        let mut c = claims(&app, "pros", email, false).await;
        c.decisions[0].job_function = Some("Buyer".into());
        assert_eq!(lead_status(app.post_lead(&sign(&c)).await).await, "active");
    }

    let company = ask(&app, &k, &role, "pro-news", Some("office-lighting")).await;
    assert_eq!((company["allowed"].as_bool(), company["company_address"].as_bool()), (Some(true), Some(true)));
    assert_eq!(ask(&app, &k, &person, "pro-news", Some("office-lighting")).await["company_address"], false);
    let leads: serde_json::Value = app
        .client
        .get(format!("{}/v1/admin/leads?notice=pros", app.base))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let flags: Vec<bool> = leads["leads"].as_array().unwrap().iter().map(|l| l["company_address"] == true).collect();
    assert_eq!(flags, [true, false], "{leads}");
}

#[tokio::test]
async fn non_commercial_needs_the_objection_box() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let mut consent_box = app.session_for("charity", "en", SHOP).await.claims(&email);
    consent_box.decisions[0] = consent_receipt::Decision::new("foundation-news", true, consent_box.iat);
    assert_problem(app.post_lead(&sign(&consent_box)).await, 422, "objection-not-offered").await;

    let offered = claims(&app, "charity", &email, false).await;
    assert_eq!(lead_status(app.post_lead(&sign(&offered)).await).await, "active", "no sale needed");
    let yes = ask(&app, &k, &email, "foundation-news", None).await;
    assert_eq!((yes["allowed"].as_bool(), yes["basis"].as_str()), (Some(true), Some("non_commercial")), "{yes}");
}

#[tokio::test]
async fn an_objection_received_elsewhere_is_not_undone_by_an_unticked_box() {
    let app = spawn_app().await;
    let k = key(&app).await;
    let email = unique_email();
    let res = app
        .client
        .post(format!("{}/v1/admin/objections", app.base))
        .bearer_auth(&k)
        .json(&serde_json::json!({"email": email, "scope": "notice", "notice": "charity", "source": "letter"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    app.clock.advance(60);

    let after = claims(&app, "charity", &email, false).await;
    assert_eq!(lead_status(app.post_lead(&sign(&after)).await).await, "active", "signed after: accepted");
    let no = ask(&app, &k, &email, "foundation-news", None).await;
    assert_eq!((no["allowed"].as_bool(), no["reason"].as_str()), (Some(false), Some("objected")), "{no}");
}
