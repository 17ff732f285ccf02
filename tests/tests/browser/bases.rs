//! Soft opt-in in a browser (notices/orders.toml, www/order.html): after a sale the
//! customer is offered an objection box, not asked for consent; ticking it is an objection
//! the permissions answer honours.

use crate::support::*;

async fn permission(site: &Site, key: &str, email: &str) -> serde_json::Value {
    let url = format!("{}/v1/admin/permissions?email={email}&purpose=similar-products-email", site.verifier.base);
    reqwest::Client::new().get(url).bearer_auth(key).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn after_an_order_the_objection_box_is_shown_unticked_and_ticking_it_means_no() {
    let site = Site::start().await;
    let key = create_key(&site);
    site.open("/order.html").await;
    let label = site.text("label[for=cw-1-p0]").await;
    assert!(label.starts_with("Je ne veux pas recevoir les offres d'Atelier Lumière"), "{label}");
    let start =
        site.js("const b = document.getElementById('cw-1-p0'); return [b.checked, b.hasAttribute('checked')]").await;
    assert_eq!(start, serde_json::json!([false, false]), "unticked: no objection");
    let violations = axe_violations(&site).await;
    assert!(violations.is_empty(), "/order.html: {}", serde_json::to_string_pretty(&violations).unwrap());

    // A first customer leaves it unticked: the soft opt-in applies, with the order named.
    site.type_into("#email", "paul@example.org").await;
    site.submit_and_wait_for_result().await;
    let yes = permission(&site, &key, "paul@example.org").await;
    assert_eq!((yes["allowed"].as_bool(), yes["basis"].as_str()), (Some(true), Some("soft_opt_in")), "{yes}");

    // A second one ticks it.
    site.open("/order.html").await;
    site.type_into("#email", "zoe@example.org").await;
    site.click("#cw-1-p0").await;
    site.submit_and_wait_for_result().await;

    let stored = site.stored().await;
    assert_eq!(stored.len(), 2);
    let (kept, objected) = (&stored[0].claims.decisions[0], &stored[1].claims.decisions[0]);
    assert_eq!((kept.objected, kept.order_ref.as_deref()), (Some(false), Some("A-1042")));
    assert_eq!((objected.objection_offered, objected.objected, objected.granted), (true, Some(true), false));
    assert_eq!(stored[1].status, "refused");
    let no = permission(&site, &key, "zoe@example.org").await;
    assert_eq!((no["allowed"].as_bool(), no["reason"].as_str()), (Some(false), Some("objected")), "{no}");
    site.close().await;
}
