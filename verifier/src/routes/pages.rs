//! Human pages the verifier renders itself (`/notices/{id}`: the full notice, the
//! `policy_url` of the demo notice), and the static site in `www/` with its headers.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, Response};
use consent_receipt::{Channel, LegalBasis, Notice};
use serde::Deserialize;

use crate::problem::ApiError;
use crate::state::AppState;

/// HTML-escapes text.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A page in the site's frame.
pub fn page(lang: &str, title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><link rel=\"stylesheet\" href=\"/site.css\"></head>\
         <body><main class=\"doc\">{body}</main></body></html>",
        lang = esc(lang),
        t = esc(title)
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct LangQuery {
    lang: Option<String>,
}

fn basis(b: LegalBasis, fr: bool) -> &'static str {
    match (b, fr) {
        (LegalBasis::Consent, true) => "consentement (RGPD art. 6(1)(a), CPCE L34-5)",
        (LegalBasis::Consent, false) => "consent (GDPR Art. 6(1)(a))",
        (LegalBasis::SoftOptIn, true) => "clients existants, produits analogues (CPCE L34-5 al. 2)",
        (LegalBasis::SoftOptIn, false) => "existing customers, analogous products (soft opt-in)",
        (LegalBasis::B2b, true) => "prospection entre professionnels",
        (LegalBasis::B2b, false) => "business-to-business prospection",
        (LegalBasis::NonCommercial, true) => "prospection non commerciale",
        (LegalBasis::NonCommercial, false) => "non-commercial prospection",
        (LegalBasis::LegitimateInterest, true) => "intérêt légitime (RGPD art. 6(1)(f))",
        (LegalBasis::LegitimateInterest, false) => "legitimate interests (GDPR Art. 6(1)(f))",
    }
}

/// The full notice as a page: every GDPR Art. 13 item, per purpose.
pub fn render_notice(n: &Notice, digest: &str) -> Html<String> {
    let fr = n.lang.starts_with("fr");
    let l = |f: &'static str, e: &'static str| if fr { f } else { e };
    let mut b = format!(
        "<h1>{}</h1><p class=\"meta\">{} <code>{}</code> · version {} · {} <code>{}</code></p>",
        esc(&n.title),
        l("Notice", "Notice"),
        esc(&n.id),
        n.version,
        l("empreinte", "digest"),
        esc(digest)
    );
    b.push_str(&format!(
        "<h2>{}</h2><p>{}<br>{}<br>{} {}<br>{} {}</p>",
        l("Responsable du traitement", "Controller"),
        esc(&n.controller.name),
        esc(&n.controller.address),
        l("Contact :", "Contact:"),
        esc(&n.controller.contact),
        l("Délégué à la protection des données :", "Data protection officer:"),
        esc(&n.controller.dpo)
    ));
    b.push_str(&format!("<h2>{}</h2><p>{}</p>", l("Données utilisées", "Data used"), esc(&n.data)));
    b.push_str(&format!("<h2>{}</h2>", l("Finalités (une case chacune)", "Purposes (one box each)")));
    for p in &n.purposes {
        let channels: Vec<&str> =
            p.channels.iter().map(|c| if *c == Channel::Email { "e-mail" } else { "SMS" }).collect();
        b.push_str(&format!(
            "<section class=\"purpose\"><h3>{}</h3><p>{}</p><dl>\
             <dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd><code>{}</code></dd></dl></section>",
            esc(&p.label),
            esc(&p.text),
            l("Destinataires", "Recipients"),
            esc(&p.recipients.join(", ")),
            l("Canal", "Channel"),
            channels.join(", "),
            l("Base légale", "Legal basis"),
            basis(p.legal_basis, fr),
            l("Catégorie (W3C DPV)", "Category (W3C DPV)"),
            esc(&p.category)
        ));
    }
    let mut item = |title: &str, text: &str| {
        if !text.trim().is_empty() {
            b.push_str(&format!("<h2>{}</h2><p>{}</p>", esc(title), esc(text)));
        }
    };
    if let Some(li) = &n.legitimate_interests {
        item(l("Intérêts légitimes", "Legitimate interests"), li);
    }
    item(l("Durée de conservation", "Retention"), &n.retention);
    item(l("Vos droits", "Your rights"), &n.rights);
    item(l("Retrait du consentement", "Withdrawing consent"), &n.withdrawal);
    item(l("Réclamation", "Complaints"), &n.complaint);
    item(l("Transferts hors UE", "Transfers outside the EU"), &n.transfers);
    item(l("Caractère facultatif", "Is it required?"), &n.provision);
    item(l("Décisions automatisées", "Automated decisions"), &n.automated_decisions);
    item(
        &format!("{} {}", l("Moins de", "Under"), n.age_of_consent),
        &format!("{} ({})", n.child_guardian_text, n.jurisdiction),
    );
    page(&n.lang, &n.title, &b)
}

pub(crate) async fn notice_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Html<String>, ApiError> {
    let entry = state
        .notices
        .current(&id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown-notice", "no notice has this id"))?;
    let (notice, digest) = entry.negotiate(q.lang.as_deref());
    Ok(render_notice(notice, digest))
}

/// The strict policy every page is served with: no inline script or style anywhere, and
/// WebAssembly allowed to compile ('wasm-unsafe-eval').
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// Security and caching headers for every answer; the widget's files may be loaded (with
/// SRI) by pages on any origin.
pub(crate) async fn headers(req: Request, next: Next) -> Response {
    let widget_file = req.uri().path().starts_with("/widget/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("strict-origin-when-cross-origin"));
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if widget_file {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("public, max-age=300"));
    } else {
        h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
    }
    res
}
