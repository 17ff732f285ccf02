//! Fuzz targets for every parser of outside input the verifier has: compact JWS, the
//! receipt payload, notice TOML, admin query strings, admin objection bodies and their CSV
//! import, inbound SMS (the signed HTTP body and the text of an SMPP `deliver_sm`). See
//! `engine.rs` for how they run: a plain test run replays the corpus;
//! `CONSENT_FUZZ_SECS=3` fuzzes each target for three seconds (`cargo xtask test` does, in
//! a phase of its own).

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod app;
mod engine;

use consent_receipt::jws::{self, Header};
use consent_receipt::{RECEIPT_TYP, SigningKey, VerifiedReceipt};
use proptest::prelude::*;

use engine::{Target, fuzz};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// Payloads that parse into valid receipts' claims (the corpus has more).
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|n| serde_json::json!(n)),
        "[ -~]{0,40}".prop_map(serde_json::Value::String),
        "[a-z]{1,10}@[a-z]{1,8}\\.[a-z]{2,3}".prop_map(serde_json::Value::String),
        "\\+33[0-9]{9}".prop_map(serde_json::Value::String),
    ];
    let names = prop_oneof![
        Just("jti"),
        Just("iat"),
        Just("aud"),
        Just("iss"),
        Just("nonce"),
        Just("notice"),
        Just("contact"),
        Just("decisions"),
        Just("evidence"),
        Just("age"),
        Just("email"),
        Just("phone"),
        Just("purpose"),
        Just("granted"),
        Just("at"),
        Just("minor"),
        Just("guardian"),
        Just("digest"),
        Just("guardian_for"),
        Just("initially_unchecked"),
        Just("trusted_gesture"),
        Just("page"),
        Just("threshold"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(names.clone().prop_map(str::to_string), inner, 0..10)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn signed(payload: &[u8]) -> String {
    jws::sign(&Header::with_jwk(RECEIPT_TYP, &key().verifying_key()), payload, &key())
}

/// The receipt, the mutated receipt, anything: only an unaltered valid receipt verifies.
#[test]
fn compact_jws() {
    let seeds: Vec<Vec<u8>> = engine::corpus("receipt-payload").iter().map(|p| signed(p).into_bytes()).collect();
    let valid: Vec<String> = seeds
        .iter()
        .map(|s| String::from_utf8(s.clone()).unwrap())
        .filter(|s| VerifiedReceipt::verify(s).is_ok())
        .collect();
    assert!(!valid.is_empty(), "the payload corpus holds valid receipts");
    let generate = (json_value(), json_value())
        .prop_map(|(h, p)| {
            let b = |v: &serde_json::Value| consent_receipt::b64::encode(v.to_string().as_bytes());
            format!("{}.{}.{}", b(&h), b(&p), consent_receipt::b64::encode(&[0u8; 64])).into_bytes()
        })
        .boxed();
    let tokens: &[&[u8]] = &[b".", b"eyJ", b"==", b"-_", b"\"alg\":\"none\"", b"\"crit\":[]", b"\"kid\":\"a\""];
    engine::fuzz_with_seeds(Target { name: "compact-jws", tokens, generate }, seeds, |input| {
        let Ok(text) = std::str::from_utf8(input) else { return Ok(()) };
        if let Ok(parsed) = jws::parse(text, RECEIPT_TYP) {
            let _ = parsed.verify_embedded();
        }
        if VerifiedReceipt::verify(text).is_ok() {
            prop_assert!(valid.iter().any(|v| v == text), "an altered receipt verified: {text}");
        }
        Ok(())
    });
}

/// Any payload, validly signed: the schema checks (rule 3) refuse or accept, never panic.
#[test]
fn receipt_payload() {
    let tokens: &[&[u8]] = &[b"{", b"}", b"[", b"]", b",", b"\"", b":", b"null", b"1e999", b"\\u0000", b"\"email\""];
    let generate = json_value().prop_map(|v| v.to_string().into_bytes()).boxed();
    fuzz(Target { name: "receipt-payload", tokens, generate }, |payload| {
        let compact = signed(payload);
        if let Ok(v) = VerifiedReceipt::verify(&compact) {
            prop_assert_eq!(v.compact(), compact.as_str());
            let _ = v.claims().granted().count();
        }
        Ok(())
    });
}

/// A notice file: parsed, compiled (the Art. 13 checks), linted, digested.
#[test]
fn notice_toml() {
    let tokens: &[&[u8]] =
        &[b"\n[", b"]]\n", b"[[purposes]]\n", b" = ", b"\"\"\"", b"'", b"\n", b"[texts.fr]\n", b"1e400"];
    let generate = "[ -~\n]{0,400}".prop_map(String::into_bytes).boxed();
    fuzz(Target { name: "notice-toml", tokens, generate }, |input| {
        let Ok(text) = std::str::from_utf8(input) else { return Ok(()) };
        if let Ok(file) = toml::from_str::<consent_verifier::notices::NoticeFile>(text)
            && let Ok(entry) = file.compile()
        {
            let _ = consent_verifier::lint::notice(&entry, "fuzz.toml");
            for (_, _, _, notice, digest) in entry.served() {
                prop_assert_eq!(notice.digest(), digest);
            }
        }
        Ok(())
    });
}

/// The admin API's query strings (list, export, permissions), with a valid key: a 4xx
/// or a 2xx, never a 5xx.
#[test]
fn admin_query() {
    let tokens: &[&[u8]] = &[b"&", b"=", b"%", b"%00", b"+", b"status=", b"since=", b"limit=", b"after=", b"format="];
    let generate = proptest::collection::vec(("[a-z_]{0,10}", "[ -~]{0,30}"), 0..6)
        .prop_map(|pairs| pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&").into_bytes())
        .boxed();
    let app = app::shared();
    fuzz(Target { name: "admin-query", tokens, generate }, |input| {
        let query = app::as_query(input);
        for path in ["/v1/admin/leads", "/v1/admin/export", "/v1/admin/permissions"] {
            if let Some(status) = app.get_admin(&format!("{path}?{query}")) {
                prop_assert!(status < 500, "{} -> {}", format!("{path}?{query}"), status);
            }
        }
        Ok(())
    });
}

/// `POST /v1/admin/objections` (an objection received elsewhere), with a valid key: a 4xx
/// or a 2xx, never a 5xx.
#[test]
fn admin_objection_body() {
    let tokens: &[&[u8]] = &[
        b"\"email\"",
        b"\"phone\"",
        b"\"scope\"",
        b"\"purpose\"",
        b"\"received_at\"",
        b"\"source\"",
        b":",
        b",",
        b"null",
    ];
    let generate = json_value().prop_map(|v| v.to_string().into_bytes()).boxed();
    let app = app::shared();
    fuzz(Target { name: "admin-objection", tokens, generate }, |body| {
        let status = app.post_admin("/v1/admin/objections", body);
        prop_assert!(status < 500, "status {}", status);
        Ok(())
    });
}

/// A CSV file of objections, imported with the real command line into the running
/// verifier: refused rows and refused files are answers (exit 1, 2), a panic is not.
#[test]
fn objections_csv_import() {
    let tokens: &[&[u8]] =
        &[b",", b"\n", b"\r\n", b"\"", b"\"\"", b"email,", b"received_at", b"2026-11-27T09:30:00Z", b"\xef\xbb\xbf"];
    let generate = proptest::collection::vec("[a-z0-9@.+:\"-]{0,12}", 0..24)
        .prop_map(|cells| {
            let mut csv = String::from("email,source,received_at,scope,purpose\n");
            for row in cells.chunks(5) {
                csv.push_str(&row.join(","));
                csv.push('\n');
            }
            csv.into_bytes()
        })
        .boxed();
    let app = app::shared();
    fuzz(Target { name: "objections-csv", tokens, generate }, |csv| {
        let code = app.import_csv(csv);
        prop_assert!((0..=2).contains(&code), "the import exited with {}", code);
        Ok(())
    });
}

/// `POST /v1/sms/inbound`, correctly signed, with any body: never a 5xx.
#[test]
fn sms_inbound_body() {
    let tokens: &[&[u8]] =
        &[b"{", b"}", b"\"from\"", b"\"text\"", b":", b",", b"\"STOP\"", b"\"+33612345678\"", b"\\u"];
    let generate = (json_value(), "[ -~]{0,20}", "[ -~]{0,30}")
        .prop_map(|(v, from, text)| {
            let body = if from.len() % 2 == 0 { serde_json::json!({"from": from, "text": text}) } else { v };
            body.to_string().into_bytes()
        })
        .boxed();
    let app = app::shared();
    fuzz(Target { name: "sms-inbound", tokens, generate }, |body| {
        let status = app.post_inbound(body);
        prop_assert!(status < 500, "status {}", status);
        Ok(())
    });
}

/// What an SMS centre delivers: a data coding, a short message, a source address; decoded
/// and acted on as the SMPP transport does.
#[test]
fn smpp_deliver_sm_text() {
    let tokens: &[&[u8]] = &[b"STOP", b"OUI", b"\xc3\x8a", b"\x00", b"\xff\xfe", b"+33612345678\x00"];
    let generate = proptest::collection::vec(any::<u8>(), 0..300).boxed();
    let app = app::shared();
    fuzz(Target { name: "smpp-text", tokens, generate }, |input| {
        // byte 0: data_coding; then the source address up to a NUL; then the message.
        let Some((coding, rest)) = input.split_first() else { return Ok(()) };
        let (from, message) = match rest.iter().position(|b| *b == 0) {
            Some(nul) => (&rest[..nul], &rest[nul + 1..]),
            None => (&b""[..], rest),
        };
        let text = consent_verifier::sms::smpp::decode(rusmpp::values::DataCoding::from(*coding), message);
        let _ = consent_verifier::sms::text::keyword(&text);
        let from = String::from_utf8_lossy(from).into_owned();
        prop_assert!(app.inbound_sms(from, text), "the inbound SMS failed with an internal error");
        Ok(())
    });
}
