//! SMS over a real SMPP 3.4 conversation on loopback: the SMS centre is the test's own
//! SMPP server (`consent_e2e::smsc`, on the `smpp34` crate), the verifier binds to it as a
//! transceiver. Bind, the confirmation submit and its text, a deliver_sm STOP that
//! withdraws, a connection cut with submits in flight that loses no SMS, an error answer
//! that is retried, a throttling answer.

use std::time::Duration;

use consent_e2e::smsc::{Answer, PASSWORD, Relay, SYSTEM_ID, Smsc};
use consent_verifier::Settings;
use consent_verifier::config::{SmsSettings, SmsTransport};

use crate::helpers::*;
use crate::sms::{lead_of, link_and_code, sms_claims, status, unique_mobile};

const WAIT: Duration = Duration::from_secs(20);

fn smpp_settings(port: u16) -> Settings {
    Settings {
        sms: SmsSettings {
            sms_transport: Some(SmsTransport::Smpp),
            smpp_addr: Some(format!("127.0.0.1:{port}")),
            smpp_system_id: Some(SYSTEM_ID.into()),
            smpp_password: Some(PASSWORD.parse().unwrap()),
            smpp_timeout: Some("3s".parse().unwrap()),
            ..SmsSettings::default()
        },
        ..Settings::default()
    }
}

async fn app_on(port: u16) -> TestApp {
    spawn_app_with(Options { settings: Some(smpp_settings(port)), ..Options::default() }).await
}

/// Waits until the lead's events include `kind`.
async fn wait_event(app: &TestApp, lead: &str, kind: &str) {
    for _ in 0..400 {
        let kinds: Vec<String> = app.state.store.lead_events(lead).await.unwrap().into_iter().map(|e| e.kind).collect();
        if kinds.iter().any(|k| k == kind) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("lead {lead} has no {kind} event");
}

#[tokio::test]
async fn the_verifier_binds_and_submits_the_confirmation_with_its_text() {
    let smsc = Smsc::start().await.unwrap();
    let app = app_on(smsc.port()).await;
    smsc.wait_bound(WAIT).await.unwrap();
    let s = app.session().await;
    let phone = unique_mobile();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;

    let got = smsc.wait_for(1, WAIT).await.unwrap();
    assert_eq!(smsc.binds(), 1);
    let sms = &got[0];
    assert_eq!((sms.from.as_str(), sms.to.as_str()), ("ATLUMIERE", phone.trim_start_matches('+')));
    assert_eq!((sms.registered_delivery, sms.esm_class), (1, 0), "a delivery receipt is asked for");
    assert!(sms.text.starts_with("Atelier Lumière") && sms.text.ends_with("STOP au 36111"), "{}", sms.text);
    link_and_code(&sms.text);
    wait_event(&app, &lead, "confirmation_sent").await;
}

#[tokio::test]
async fn a_deliver_sm_stop_from_the_phone_withdraws_its_sms_consent() {
    let smsc = Smsc::start().await.unwrap();
    let app = app_on(smsc.port()).await;
    let s = app.session().await;
    let phone = unique_mobile();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await;
    let got = smsc.wait_for(1, WAIT).await.unwrap();
    smsc.deliver(&phone, "oui").await.unwrap();
    for _ in 0..100 {
        if status(&app, &lead).await == "active" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&app, &lead).await, "active", "OUI by SMS confirms");
    assert_eq!(got.len(), 1, "nothing else was sent before the confirmation");

    smsc.deliver(&phone, "Stop").await.unwrap();

    for _ in 0..100 {
        if status(&app, &lead).await == "withdrawn" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status(&app, &lead).await, "withdrawn");
    wait_event(&app, &lead, "suppressed").await;
}

#[tokio::test]
async fn a_connection_cut_with_submits_in_flight_loses_no_sms() {
    let smsc = Smsc::start().await.unwrap();
    let relay = Relay::start(smsc.port()).await.unwrap();
    let app = app_on(relay.port()).await;
    smsc.wait_bound(WAIT).await.unwrap();
    smsc.set_delay(Duration::from_millis(400));
    let s = app.session().await;
    let mut leads = Vec::new();
    let mut phones = Vec::new();
    for _ in 0..5 {
        let phone = unique_mobile();
        leads.push(lead_of(app.post_lead(&sign(&sms_claims(&s, &phone))).await).await);
        phones.push(phone);
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // the submits are on the wire, unanswered

    relay.cut();
    smsc.set_delay(Duration::ZERO);

    for lead in &leads {
        wait_event(&app, lead, "confirmation_sent").await;
    }
    let got = smsc.received();
    for phone in &phones {
        assert!(got.iter().any(|g| g.to == phone.trim_start_matches('+')), "no SMS reached {phone}");
    }
    assert!(smsc.binds() >= 2, "the verifier bound again after the cut");
}

#[tokio::test]
async fn an_error_answer_is_retried_until_the_sms_centre_takes_it() {
    let smsc = Smsc::start().await.unwrap();
    let app = app_on(smsc.port()).await;
    smsc.wait_bound(WAIT).await.unwrap();
    smsc.answer_next(&[Answer::SystemError]);
    let s = app.session().await;
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &unique_mobile()))).await).await;

    smsc.wait_for(1, WAIT).await.unwrap();
    wait_event(&app, &lead, "confirmation_sent").await;
    assert_eq!(smsc.refused(), 1);
    assert_eq!(smsc.received().len(), 1);
}

#[tokio::test]
async fn a_throttling_answer_holds_the_sms_back_and_it_goes_later() {
    let smsc = Smsc::start().await.unwrap();
    let app = app_on(smsc.port()).await;
    smsc.wait_bound(WAIT).await.unwrap();
    smsc.answer_next(&[Answer::Throttled, Answer::Throttled]);
    let s = app.session().await;
    let started = std::time::Instant::now();
    let lead = lead_of(app.post_lead(&sign(&sms_claims(&s, &unique_mobile()))).await).await;

    smsc.wait_for(1, WAIT).await.unwrap();
    wait_event(&app, &lead, "confirmation_sent").await;
    assert_eq!(smsc.refused(), 2);
    assert!(started.elapsed() >= Duration::from_secs(2), "the retries waited: {:?}", started.elapsed());
}
