//! A proof in the consent-record formats others read: JSON-LD in W3C DPV, shaped by the
//! DPV guide for ISO/IEC TS 27560 (one `dpv:ConsentRecord` per purpose, its state a DPV
//! consent status), and a Kantara Consent Receipt v1.1. Both carry the signed proof bundle
//! itself, so that [`bundle_of_export`] gives it back and `verify_bundle` checks it: the
//! records are a view, the bundle is the proof.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::notice::LegalBasis;
use crate::proof::{ProofBundle, ProofReport};

/// Our own terms (the embedded bundle), beside DPV's.
pub const NAMESPACE: &str = "https://consent-widget.github.io/ns#";

/// The Kantara version string.
pub const KANTARA_VERSION: &str = "KI-CR-v1.1.0";

/// Seconds since 1970 as an `xsd:dateTime` in UTC.
pub fn date_time(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Days to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    alloc::format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// The DPV consent status of a purpose, from the account of its bundle: given only while
/// it is in force (a lead still waiting for its double opt-in or its parent has asked,
/// not consented).
fn status(report: &ProofReport, purpose: &str) -> &'static str {
    let granted = report.granted.iter().any(|(id, _)| id == purpose);
    let withdrawn = report.withdrawals.iter().any(|(_, ps, _)| ps.iter().any(|p| p == purpose));
    let happened = |kind: &str| report.history.iter().any(|(_, k)| k == kind);
    let in_force = report.in_force.iter().any(|p| p == purpose);
    match (granted, withdrawn, in_force) {
        (false, _, _) => "dpv:ConsentRefused",
        (true, true, _) => "dpv:ConsentWithdrawn",
        _ if happened("consent_expired") => "dpv:ConsentExpired",
        _ if report.status == "refused_by_guardian" => "dpv:ConsentRefused",
        (true, false, false) => "dpv:ConsentRequested",
        _ if happened("consent_renewed") => "dpv:RenewedConsentGiven",
        _ => "dpv:ConsentGiven",
    }
}

/// The proof as JSON-LD in DPV (ISO/IEC TS 27560 shape), with the bundle inside.
pub fn to_dpv(bundle: &ProofBundle, report: &ProofReport) -> Value {
    let n = &bundle.notice;
    let lead = alloc::format!("urn:consent-widget:lead:{}", report.lead_id);
    let ids: Vec<&str> = [report.email.as_deref(), report.phone.as_deref()].into_iter().flatten().collect();
    let subject = json!({
        "@id": alloc::format!("{lead}:data-subject"),
        "@type": "dpv:DataSubject",
        "dct:identifier": ids,
    });
    let controller = json!({"@type": "dpv:DataController", "dpv:hasName": n.controller.name, "dpv:hasAddress": n.controller.address, "dpv:hasContact": n.controller.contact});
    let notice = json!({
        "@id": alloc::format!("urn:consent-widget:notice:{}", n.digest()),
        "@type": "dpv:ConsentNotice",
        "dct:identifier": alloc::format!("{} v{}", n.id, n.version),
        "dct:language": n.lang,
        "dct:title": n.title,
    });
    let basis = |b: LegalBasis| match b {
        LegalBasis::Consent => "dpv:Consent",
        _ => "dpv:LegitimateInterest",
    };
    let records: Vec<Value> = n
        .purposes
        .iter()
        .map(|p| {
            let mut record = json!({
                "@id": alloc::format!("{lead}:{}", p.id),
                "@type": "dpv:ConsentRecord",
                "dct:identifier": alloc::format!("{}/{}", report.lead_id, p.id),
                "dct:conformsTo": "ISO/IEC TS 27560:2023",
                "dpv:hasDataSubject": {"@id": subject["@id"]},
                "dpv:hasDataController": controller,
                "dpv:hasNotice": {"@id": notice["@id"]},
                "dpv:hasPurpose": {"@type": ["dpv:Purpose", p.category], "dct:identifier": p.id, "dct:description": p.text},
                "dpv:hasLegalBasis": {"@id": basis(p.legal_basis)},
                "dpv:hasRecipient": p.recipients.iter().map(|r| json!({"@type": "dpv:Recipient", "dpv:hasName": r})).collect::<Vec<_>>(),
                "dpv:hasJurisdiction": n.jurisdiction,
                "dpv:isIndicatedBy": {"@id": subject["@id"]},
                "dpv:isIndicatedAtTime": {"@value": date_time(report.signed.0), "@type": "xsd:dateTime"},
            });
            // A purpose offered with an objection box rests on another basis: no consent status.
            if p.legal_basis == LegalBasis::Consent {
                record["dpv:hasConsentStatus"] = json!({"@id": status(report, &p.id)});
            }
            record
        })
        .collect();
    let parts: Vec<Value> = records.iter().map(|r| json!({"@id": r["@id"]})).collect();
    let mut graph = alloc::vec![
        json!({"@id": lead, "cw:proofBundle": {"@type": "@json", "@value": bundle}, "dct:hasPart": parts}),
        subject,
        notice,
    ];
    graph.extend(records);
    json!({
        "@context": {
            "dpv": "https://w3id.org/dpv#",
            "dct": "http://purl.org/dc/terms/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "cw": NAMESPACE,
        },
        "@graph": graph,
    })
}

/// The proof as a Kantara Consent Receipt v1.1: the purposes granted and in force, with
/// the bundle inside (`consentWidgetProof`).
pub fn to_kantara(bundle: &ProofBundle, report: &ProofReport) -> Value {
    let n = &bundle.notice;
    let purposes: Vec<Value> = report
        .in_force
        .iter()
        .filter_map(|id| n.purpose(id))
        .enumerate()
        .map(|(i, p)| {
            json!({
                "purpose": p.label,
                "purposeCategory": [p.category],
                "consentType": if p.legal_basis == LegalBasis::Consent { "EXPLICIT" } else { "IMPLICIT" },
                "piiCategory": [n.data],
                "primaryPurpose": i == 0,
                "termination": n.withdrawal,
                "thirdPartyDisclosure": p.recipients.iter().any(|r| r != &n.controller.name),
                "thirdPartyName": p.recipients.join("; "),
            })
        })
        .collect();
    json!({
        "version": KANTARA_VERSION,
        "jurisdiction": n.jurisdiction,
        "consentTimestamp": report.signed.0,
        "collectionMethod": alloc::format!("web form, {}", report.signed.1),
        "consentReceiptID": bundle.lead_id,
        "language": n.lang,
        "piiPrincipalId": report.email.clone().or(report.phone.clone()).unwrap_or_default(),
        "piiControllers": [{
            "piiController": n.controller.name,
            "contact": n.controller.dpo,
            // v1.1's example writes the address as an object (a notice holds it as one line).
            "address": {"streetAddress": n.controller.address, "addressCountry": n.jurisdiction},
            "email": n.controller.contact,
            "piiControllerUrl": n.policy_url,
        }],
        "policyUrl": n.policy_url,
        "services": [{"service": n.title, "purposes": purposes}],
        "sensitive": false,
        "spiCat": [],
        "consentWidgetProof": bundle,
    })
}

/// The proof bundle a DPV or Kantara export carries, if it is one.
pub fn bundle_of_export(v: &Value) -> Option<ProofBundle> {
    let inner = match v.get("version").and_then(Value::as_str) {
        Some(KANTARA_VERSION) => v.get("consentWidgetProof")?.clone(),
        _ => v.get("@graph")?.as_array()?.iter().find_map(|node| node.get("cw:proofBundle"))?.get("@value")?.clone(),
    };
    serde_json::from_value(inner).ok()
}

/// The DPV terms [`to_dpv`] can write (for the test that each exists in DPV).
pub fn dpv_terms(bundle: &ProofBundle) -> Vec<String> {
    let mut t: Vec<String> = [
        "ConsentRecord",
        "DataSubject",
        "DataController",
        "ConsentNotice",
        "Purpose",
        "Recipient",
        "Consent",
        "LegitimateInterest",
        "ConsentGiven",
        "ConsentRefused",
        "ConsentWithdrawn",
        "ConsentExpired",
        "ConsentRequested",
        "RenewedConsentGiven",
        "hasDataSubject",
        "hasDataController",
        "hasNotice",
        "hasPurpose",
        "hasLegalBasis",
        "hasRecipient",
        "hasJurisdiction",
        "hasConsentStatus",
        "isIndicatedBy",
        "isIndicatedAtTime",
        "hasName",
        "hasAddress",
        "hasContact",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    t.extend(bundle.notice.purposes.iter().filter_map(|p| p.category.strip_prefix("dpv:")).map(str::to_string));
    t
}

#[cfg(test)]
mod tests {
    use super::date_time;

    #[test]
    fn times_are_utc_date_times() {
        assert_eq!(date_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(date_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(date_time(1_764_806_400 + 3_723), "2025-12-04T01:02:03Z");
    }
}
