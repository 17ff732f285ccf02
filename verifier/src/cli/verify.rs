//! `consent-verifier verify`: a proof bundle, a receipt, a seal, or a pair, checked
//! offline; it prints who consented to what, or the first thing that fails.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use consent_receipt::{
    Channel, Jwks, Notice, SEAL_TYP, VerifiedReceipt, VerifyError, b64, jws, verify_seal, verify_seal_of,
};

use crate::clock::rfc3339;

/// The questions beyond "does it hold": the one-to-one check, and the log's growth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra<'a> {
    /// `--recipient`.
    pub recipient: Option<&'a str>,
    /// `--consistency`.
    pub consistency: Option<&'a Path>,
    /// `--witness` (NAME=KEY) and `--witnesses-required`.
    pub witnesses: (&'a [String], Option<usize>),
}

fn read_input(file: &Path) -> anyhow::Result<String> {
    if file == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
    }
}

/// Reads a key set from a file or an http(s) URL.
pub fn load_jwks(source: &str) -> anyhow::Result<Jwks> {
    let text = if source.starts_with("http://") || source.starts_with("https://") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async {
            let res = reqwest::get(source).await.with_context(|| format!("fetching {source}"))?;
            let res = res.error_for_status().with_context(|| format!("fetching {source}"))?;
            res.text().await.with_context(|| format!("reading {source}"))
        })?
    } else {
        std::fs::read_to_string(source).with_context(|| format!("reading {source}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source} is not a JWKS"))
}

fn fail(e: &VerifyError) -> ExitCode {
    let info = e.kind().info();
    match info.rule {
        Some(r) => println!("FAILED rule {r} ({}: {}): {e}", info.code, info.title),
        None => println!("FAILED ({}): {e}", info.code),
    }
    ExitCode::from(1)
}

pub(crate) fn verify(
    file: &Path,
    seal_file: Option<&Path>,
    jwks: Option<&str>,
    notice: Option<&Path>,
    aud: Option<&str>,
    extra: Extra<'_>,
) -> ExitCode {
    let Extra { recipient, consistency, witnesses } = extra;
    let loaded = (|| -> anyhow::Result<_> {
        let input = read_input(file)?;
        let seal_text = seal_file.map(read_input).transpose()?;
        let jwks = jwks.map(load_jwks).transpose()?;
        let notice: Option<Notice> = match notice {
            Some(p) => {
                let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
                let v: serde_json::Value =
                    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", p.display()))?;
                // Accept either the bare notice or the whole GET /v1/notices answer.
                let v = v.get("notice").cloned().unwrap_or(v);
                Some(serde_json::from_value(v).with_context(|| format!("{} is not a notice", p.display()))?)
            }
            None => None,
        };
        Ok((input, seal_text, jwks, notice))
    })();
    let (input, seal_text, jwks, notice) = match loaded {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    if let Some(answer) = consistency {
        return super::log::verify_log(&input, answer, jwks.as_ref());
    }
    let input = input.trim();
    if let Ok(bundle) = serde_json::from_str::<consent_receipt::ProofBundle>(input) {
        return match super::log::witnessed(&bundle, witnesses) {
            Ok(()) => verify_proof(&bundle, jwks.as_ref(), recipient),
            Err(code) => code,
        };
    }
    // A DPV (JSON-LD) or Kantara export carries the bundle: that is what is checked.
    let export = serde_json::from_str::<serde_json::Value>(input).ok();
    if let Some(bundle) = export.as_ref().and_then(consent_receipt::export::bundle_of_export) {
        println!("An export in a consent-record format: checking the proof bundle it carries.");
        return match super::log::witnessed(&bundle, witnesses) {
            Ok(()) => verify_proof(&bundle, jwks.as_ref(), recipient),
            Err(code) => code,
        };
    }
    if input.contains("\"consent-proof/v1\"") {
        eprintln!("error: the bundle does not have the consent-proof/v1 shape");
        return ExitCode::from(2);
    }
    let (receipt, seal) = if input.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(input) {
            Ok(v) => (
                v.get("receipt").and_then(|r| r.as_str()).map(str::to_string),
                v.get("seal").and_then(|r| r.as_str()).map(str::to_string),
            ),
            Err(e) => {
                eprintln!("error: the input is neither a compact JWS nor JSON: {e}");
                return ExitCode::from(2);
            }
        }
    } else if is_seal(input) {
        (None, Some(input.to_string()))
    } else {
        (Some(input.to_string()), None)
    };
    // A separate --seal file: the compact seal, or the JSON answer of POST /v1/leads.
    let seal = match seal_text.as_deref().map(str::trim) {
        Some(t) if t.starts_with('{') => match serde_json::from_str::<serde_json::Value>(t) {
            Ok(v) => v.get("seal").and_then(|s| s.as_str()).map(str::to_string).or(seal),
            Err(e) => {
                eprintln!("error: the --seal file is neither a compact JWS nor JSON: {e}");
                return ExitCode::from(2);
            }
        },
        Some(t) => Some(t.to_string()),
        None => seal,
    };
    if recipient.is_some() && (receipt.is_none() || notice.is_none()) {
        eprintln!("error: --recipient needs a receipt and its --notice, or a proof bundle (which carries both)");
        return ExitCode::from(2);
    }
    let mut named = None;
    if let Some(receipt) = &receipt {
        let verified = match VerifiedReceipt::verify(receipt) {
            Ok(v) => v,
            Err(e) => return fail(&e),
        };
        let c = verified.claims();
        if let Some(aud) = aud
            && let Err(e) = verified.check_audience(aud)
        {
            return fail(&e);
        }
        if let Some(n) = &notice {
            let checks = verified
                .check_notice(n)
                .and_then(|()| verified.check_decisions(n))
                .and_then(|()| verified.check_age(n));
            if let Err(e) = checks {
                return fail(&e);
            }
        }
        println!(
            "Receipt {} holds (rules 1-3: signature by visitor key {}, schema).",
            c.jti,
            b64::encode(verified.key().as_bytes())
        );
        println!("  signed at {} on {} ({}) for {}", rfc3339(c.iat), c.iss, c.evidence.page, c.aud);
        println!("  notice {} v{} ({}), digest {}", c.notice.id, c.notice.version, c.notice.lang, c.notice.digest);
        for d in &c.decisions {
            let what = match d.objected {
                None if d.granted => "GRANTED",
                None => "refused",
                Some(false) => "not objected (objection box offered, left unticked)",
                Some(true) => "OBJECTED (objection box ticked)",
            };
            let order = d.order_ref.as_deref().map(|o| format!(", order {o}")).unwrap_or_default();
            let job = d.job_function.as_deref().map(|j| format!(", job function \"{j}\"")).unwrap_or_default();
            println!("  {}: {what} at {}{order}{job}", d.purpose, rfc3339(d.at));
        }
        println!(
            "  boxes started unticked: {}; grants from a user gesture: {}; minor: {}",
            c.evidence.initially_unchecked, c.evidence.trusted_gesture, c.age.minor
        );
        if notice.is_some() {
            println!(
                "  checked against the notice: decisions, unticked start, gestures and age rule hold (rules 7-9)."
            );
        } else {
            println!("  (give --notice to check the decisions against the notice text)");
        }
        if let (Some(r), Some(n)) = (recipient, &notice) {
            match verified.granted_to(n, r) {
                Ok(purposes) => named = Some((r, purposes)),
                Err(e) => return fail(&e),
            }
        }
    }
    if let Some(seal) = &seal {
        let Some(jwks) = &jwks else {
            eprintln!("error: checking a seal needs --jwks <file|url>");
            return ExitCode::from(2);
        };
        let checked = match &receipt {
            Some(r) => verify_seal_of(seal, r, jwks),
            None => verify_seal(seal, jwks),
        };
        match checked {
            Ok(s) => {
                println!(
                    "Seal holds: signed by verifier key {}; lead {}, status {} at {}{}",
                    s.kid,
                    s.claims.lead_id,
                    s.claims.status,
                    rfc3339(s.claims.iat),
                    if receipt.is_some() { ", and it seals exactly this receipt." } else { "." }
                );
            }
            Err(e) => return fail(&e),
        }
    }
    if receipt.is_none() && seal.is_none() {
        eprintln!("error: the JSON holds neither \"receipt\" nor \"seal\"");
        return ExitCode::from(2);
    }
    match named {
        Some((r, purposes)) => {
            let yes = " (a receipt alone does not show a later withdrawal: check its proof bundle)";
            recipient_answer(r, &purposes, yes, "")
        }
        None => ExitCode::SUCCESS,
    }
}

/// The one-to-one answer: exit 0 when a granted purpose names the recipient, 3 when none does.
fn recipient_answer(recipient: &str, purposes: &[String], yes: &str, no: &str) -> ExitCode {
    if purposes.is_empty() {
        println!("RECIPIENT \"{recipient}\": NOT named by any purpose this consent grants{no}");
        ExitCode::from(3)
    } else {
        println!("RECIPIENT \"{recipient}\": named by the granted purpose {}{yes}", purposes.join(", "));
        ExitCode::SUCCESS
    }
}

fn verify_proof(bundle: &consent_receipt::ProofBundle, jwks: Option<&Jwks>, recipient: Option<&str>) -> ExitCode {
    let report = match consent_receipt::verify_bundle(bundle, jwks) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let (id, version, lang, title) = &report.notice;
    println!("Proof of consent for lead {} holds.", report.lead_id);
    let who = [report.email.as_deref(), report.phone.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    println!("  who:     {who}");
    println!("  shown:   notice {id} v{version} ({lang}) \"{title}\", exact text in the bundle");
    println!("  when:    signed {} on {}", rfc3339(report.signed.0), report.signed.1);
    for (p, label) in &report.granted {
        println!("  granted: {p} — {label}");
    }
    for (p, label) in &report.refused {
        println!("  refused: {p} — {label}");
    }
    if let Some(parent) = report.minor {
        match parent {
            Some(t) => println!("  minor:   a holder of parental responsibility agreed at {}", rfc3339(t)),
            None => println!("  minor:   no parent's agreement"),
        }
    }
    if report.confirmed.is_empty() {
        println!("  double opt-in not confirmed");
    }
    for (t, by, channel) in &report.confirmed {
        let proved = match channel {
            Some(Channel::Email) => ", proves the e-mail address",
            Some(Channel::Sms) => ", proves the phone number",
            None => "",
        };
        println!("  double opt-in confirmed at {} ({}{proved})", rfc3339(*t), confirmed_by(by));
    }
    for (t, purposes, source) in &report.withdrawals {
        println!("  WITHDRAWN at {}: {} ({})", rfc3339(*t), purposes.join(", "), withdrawn_by(source));
    }
    for (received, source, scope, channel) in &report.objections {
        println!(
            "  OBJECTION received at {} from {} ({}), scope {scope}, {channel}",
            rfc3339(*received),
            objected_through(source),
            source
        );
    }
    println!("  status at export: {}", report.status);
    println!(
        "  history: {}",
        report.history.iter().map(|(t, k)| format!("{k} ({})", rfc3339(*t))).collect::<Vec<_>>().join(" → ")
    );
    println!(
        "  covered by checkpoint of {} events at {}; signed by key(s) {}",
        report.checkpoint.0,
        rfc3339(report.checkpoint.1),
        report
            .kids
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some((origin, size)) = &report.log {
        println!(
            "  in the transparency log {origin}: every event's inclusion proof leads to its checkpoint of {size} leaves"
        );
    }
    if jwks.is_none() {
        println!("  (checked against the key set inside the bundle; give --jwks <url> to check who signed)");
    }
    match recipient {
        Some(r) => recipient_answer(r, &report.granted_to(r), ", not withdrawn at export", " now (see above)"),
        None => ExitCode::SUCCESS,
    }
}

fn confirmed_by(by: &str) -> &str {
    match by {
        "link" => "by the link",
        "code" => "by the code sent by SMS",
        "reply" => "by an SMS reply OUI/YES",
        other => other,
    }
}

fn withdrawn_by(source: &str) -> &str {
    match source {
        "sms-stop" => "STOP by SMS",
        "one-click" => "one-click unsubscribe",
        "page" => "the unsubscribe page",
        "signed" => "signed in the browser",
        "declined" => "\"no thanks\" on the confirmation page",
        "objection" => "an objection received elsewhere",
        other => other,
    }
}

fn objected_through(source: &str) -> &str {
    match source {
        "esp" => "the mailing tool",
        "dpo" => "the data protection officer",
        "letter" => "a letter",
        "phone" => "a phone call",
        "sms-stop" => "STOP by SMS",
        "source" => "a refusal stated where the lead came from",
        _ => "elsewhere",
    }
}

fn is_seal(compact: &str) -> bool {
    jws::parse(compact, SEAL_TYP).is_ok()
}
