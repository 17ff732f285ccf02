//! Sign a consent receipt the way a third party would, from the wire format alone.
//!
//! ```text
//! curl -s -H 'Origin: http://127.0.0.1:8080' \
//!     'http://127.0.0.1:8080/v1/notices/newsletter?lang=en' > notice.json
//! cargo run -q -p consent-receipt --example sign-receipt -- notice.json alice@example.org newsletter-email > receipt.jws
//! ```
//!
//! Arguments: the `GET /v1/notices/{id}` answer, the contact's e-mail, then the purposes
//! to grant (every other purpose is recorded as refused). The visitor key is new each
//! time. Prints the compact JWS.

use std::process::ExitCode;

use consent_receipt::{Age, Claims, Contact, Decision, Evidence, Notice, NoticeRef, SigningKey, b64};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [notice_file, email, grants @ ..] = args.as_slice() else {
        eprintln!("usage: sign-receipt <notice.json> <email> [purpose to grant ...]");
        return ExitCode::from(2);
    };
    let answer: serde_json::Value = match std::fs::read_to_string(notice_file).map(|t| serde_json::from_str(&t)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return fail(&format!("{notice_file} is not JSON: {e}")),
        Err(e) => return fail(&format!("reading {notice_file}: {e}")),
    };
    let notice: Notice = match serde_json::from_value(answer["notice"].clone()) {
        Ok(n) => n,
        Err(e) => return fail(&format!("{notice_file} has no notice: {e}")),
    };
    for g in grants {
        if notice.purpose(g).is_none() {
            return fail(&format!("the notice has no purpose `{g}`"));
        }
    }
    let text = |k: &str| answer[k].as_str().unwrap_or_default().to_string();
    let mut seed = [0u8; 32];
    let mut jti = [0u8; 16];
    if getrandom::getrandom(&mut seed).and_then(|()| getrandom::getrandom(&mut jti)).is_err() {
        return fail("no OS random source");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let claims = Claims {
        jti: b64::encode(&jti),
        iat: now,
        aud: text("audience"),
        iss: text("origin"),
        nonce: text("nonce"),
        notice: NoticeRef {
            id: notice.id.clone(),
            version: notice.version,
            lang: notice.lang.clone(),
            digest: text("digest"),
        },
        contact: Contact { email: Some(email.clone()), phone: None },
        decisions: notice.purposes.iter().map(|p| Decision::new(p.id.clone(), grants.contains(&p.id), now)).collect(),
        evidence: Evidence { initially_unchecked: true, trusted_gesture: true, page: format!("{}/", text("origin")) },
        age: Age {
            minor: false,
            threshold: notice.age_of_consent,
            jurisdiction: notice.jurisdiction.clone(),
            guardian: None,
        },
        guardian_for: None,
    };
    println!("{}", claims.sign(&SigningKey::from_bytes(&seed)));
    ExitCode::SUCCESS
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(1)
}
