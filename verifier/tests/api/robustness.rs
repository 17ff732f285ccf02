//! Whatever arrives, the verifier answers with a 4xx problem, never a 5xx or a panic, and
//! a receipt changed anywhere is never accepted.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::helpers::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn arbitrary_bodies_never_cause_a_server_error() {
    let rt = runtime();
    let app = rt.block_on(spawn_app());
    let bodies = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[ -~]{0,200}".prop_map(String::into_bytes),
        "[A-Za-z0-9_.-]{0,300}".prop_map(|r| serde_json::json!({"receipt": r}).to_string().into_bytes()),
    ];
    TestRunner::new(Config::with_cases(300))
        .run(&bodies, |body| {
            let res = rt.block_on(app.post_raw("/v1/leads", body));
            let status = res.status().as_u16();
            prop_assert!((400..500).contains(&status), "status {}", status);
            let ctype = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            prop_assert_eq!(ctype, "application/problem+json");
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_receipt_with_any_single_byte_changed_is_never_accepted() {
    let rt = runtime();
    let app = rt.block_on(spawn_app());
    let (receipt, _) = rt.block_on(app.valid_receipt());
    let len = receipt.len();
    TestRunner::new(Config::with_cases(300))
        .run(&(0..len, any::<u8>().prop_filter("printable", |b| (0x20..0x7f).contains(b))), |(i, byte)| {
            let mut bytes = receipt.clone().into_bytes();
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            let tampered = String::from_utf8(bytes).unwrap();
            let res = rt.block_on(app.post_lead(&tampered));
            let status = res.status().as_u16();
            prop_assert!((400..500).contains(&status), "byte {} -> {:?}: status {}", i, byte as char, status);
            Ok(())
        })
        .unwrap();
    // And the untouched receipt is still accepted: the failures above were the changes.
    assert_eq!(rt.block_on(app.post_lead(&receipt)).status(), 201);
}
