//! Pages, from the templates in `templates/` (askama: escaped automatically), in the
//! language of the notice a person was shown.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use consent_receipt::{Channel, LegalBasis, Notice};

use crate::consent::Link;
use crate::domain::LeadStatus;
use crate::error::ApiError;
use crate::i18n::{Messages, fill, messages};

/// A rendered page, or the internal error rendering failed with.
pub(crate) fn html(page: &impl Template) -> Result<Html<String>, ApiError> {
    page.render().map(Html).map_err(ApiError::internal)
}

/// A page answering a link from a mail: never cached and never sent on as a referrer (the
/// token is in its URL).
pub(crate) fn link_page(status: StatusCode, page: &impl Template) -> Result<Response, ApiError> {
    let mut res = (status, html(page)?).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(res)
}

/// A title and one sentence.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message<'a> {
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    pub(crate) text: &'a str,
}

/// A title and one sentence, as the answer to a link.
pub(crate) fn message(status: StatusCode, lang: &str, title: &str, text: &str) -> Result<Response, ApiError> {
    link_page(status, &Message { lang, title, text })
}

/// The answer to a link whose token is unknown, used, expired or for a lead in another
/// state, worded for `step`.
pub(crate) fn refusal<T>(lang: &str, link: &Link<T>, step: Step) -> Result<Response, ApiError> {
    let t = messages(lang);
    let (status, title, text) = match (link, step) {
        (Link::Used, Step::ConfirmPage) => (StatusCode::OK, t.already_confirmed_title, t.already_confirmed_text),
        (Link::Used, Step::Confirm) => (StatusCode::CONFLICT, t.already_confirmed_title, t.link_used_text),
        (Link::Used, Step::Guardian) => (StatusCode::OK, t.guardian_answered_title, t.guardian_answered_text),
        (Link::Expired, Step::Guardian) => (StatusCode::GONE, t.link_expired_title, t.guardian_expired_text),
        (Link::Used, Step::RenewPage) => (StatusCode::OK, t.renewed_title, t.renew_used_text),
        (Link::Used, Step::Renew) => (StatusCode::CONFLICT, t.renewed_title, t.renew_used_text),
        (Link::Expired, Step::RenewPage | Step::Renew) => {
            (StatusCode::GONE, t.link_expired_title, t.renew_expired_text)
        }
        (Link::WrongState(LeadStatus::Withdrawn), Step::RenewPage | Step::Renew) => {
            (StatusCode::CONFLICT, t.nothing_to_do_title, t.nothing_to_do_withdrawn)
        }
        (Link::WrongState(s), Step::ConfirmPage | Step::Confirm) => {
            let text = match s {
                LeadStatus::Active => t.nothing_to_do_active,
                LeadStatus::Withdrawn => t.nothing_to_do_withdrawn,
                _ => t.nothing_to_do_other,
            };
            (StatusCode::CONFLICT, t.nothing_to_do_title, text)
        }
        _ => (StatusCode::NOT_FOUND, t.unknown_link_title, t.unknown_link_text),
    };
    message(status, lang, title, text)
}

/// Which step a link was used for, for the wording of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Opening the confirmation link.
    ConfirmPage,
    /// Confirming, asking for a new link.
    Confirm,
    /// The parent's page.
    Guardian,
    /// The unsubscribe page and its buttons.
    Unsubscribe,
    /// Opening a renewal link.
    RenewPage,
    /// Renewing.
    Renew,
}

/// The confirmation page.
#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage<'a> {
    pub(crate) t: &'static Messages,
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    pub(crate) token: &'a str,
    pub(crate) labels: &'a [String],
    pub(crate) sender: &'a str,
}

/// The page of a renewal link: what the person receives, the deadline, two equal buttons.
#[derive(Template)]
#[template(path = "renew.html")]
pub(crate) struct RenewPage<'a> {
    pub(crate) t: &'static Messages,
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    /// Where the buttons post: `/renew/<token>` (mail) or `/r/<token>` (SMS).
    pub(crate) action: &'a str,
    pub(crate) labels: &'a [String],
    pub(crate) deadline: String,
    pub(crate) sender: &'a str,
}

/// "Confirmed", with the way out.
#[derive(Template)]
#[template(path = "confirmed.html")]
pub(crate) struct Confirmed<'a> {
    pub(crate) t: &'static Messages,
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    pub(crate) unsubscribe: &'a str,
}

/// An expired confirmation link, with a button for a new one.
#[derive(Template)]
#[template(path = "confirm_expired.html")]
pub(crate) struct ConfirmExpired<'a> {
    pub(crate) t: &'static Messages,
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    pub(crate) token: &'a str,
}

/// The parent's page, with the widget in guardian mode.
#[derive(Template)]
#[template(path = "guardian.html")]
pub(crate) struct GuardianPage<'a> {
    pub(crate) t: &'static Messages,
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    pub(crate) intro: String,
    pub(crate) labels: Vec<&'a str>,
    pub(crate) notice_id: &'a str,
    pub(crate) token: &'a str,
    pub(crate) jti: &'a str,
    pub(crate) child: &'a str,
    pub(crate) guardian: &'a str,
    pub(crate) granted: String,
}

/// The unsubscribe page: everything at once, or one purpose.
#[derive(Template)]
#[template(path = "unsubscribe.html")]
pub(crate) struct UnsubscribePage<'a> {
    pub(crate) t: &'static Messages,
    pub(crate) lang: &'a str,
    pub(crate) title: &'a str,
    pub(crate) token: &'a str,
    pub(crate) purposes: &'a [(String, String)],
}

/// One purpose on the notice page.
pub(crate) struct PurposeView<'a> {
    label: &'a str,
    text: &'a str,
    recipients: String,
    channels: String,
    basis: &'static str,
    /// What the basis means for the person, when it is not consent (empty otherwise).
    note: &'static str,
    /// B2B: the declared topics (empty otherwise).
    topics: String,
    category: &'a str,
}

/// The full notice, for people: every GDPR Art. 13 item, per purpose.
#[derive(Template)]
#[template(path = "notice.html")]
pub(crate) struct NoticePage<'a> {
    t: &'static Messages,
    lang: &'a str,
    title: &'a str,
    n: &'a Notice,
    digest: &'a str,
    purposes: Vec<PurposeView<'a>>,
    items: Vec<(String, String)>,
}

fn note(t: &'static Messages, b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::SoftOptIn => t.basis_soft_opt_in_note,
        LegalBasis::B2b => t.basis_b2b_note,
        LegalBasis::NonCommercial => t.basis_non_commercial_note,
        LegalBasis::Consent | LegalBasis::LegitimateInterest => "",
    }
}

fn basis(t: &'static Messages, b: LegalBasis) -> &'static str {
    match b {
        LegalBasis::Consent => t.basis_consent,
        LegalBasis::SoftOptIn => t.basis_soft_opt_in,
        LegalBasis::B2b => t.basis_b2b,
        LegalBasis::NonCommercial => t.basis_non_commercial,
        LegalBasis::LegitimateInterest => t.basis_legitimate_interest,
    }
}

impl<'a> NoticePage<'a> {
    /// The page for one language of one notice version.
    pub(crate) fn new(n: &'a Notice, digest: &'a str) -> NoticePage<'a> {
        let t = messages(&n.lang);
        let purposes = n
            .purposes
            .iter()
            .map(|p| PurposeView {
                label: &p.label,
                text: &p.text,
                recipients: p.recipients.join(", "),
                channels: p
                    .channels
                    .iter()
                    .map(|c| if *c == Channel::Email { t.channel_email } else { t.channel_sms })
                    .collect::<Vec<_>>()
                    .join(", "),
                basis: basis(t, p.legal_basis),
                note: note(t, p.legal_basis),
                topics: p.topics.join(", "),
                category: &p.category,
            })
            .collect();
        let under = fill(t.notice_under_age, &[("age", &n.age_of_consent.to_string())]);
        let mut items: Vec<(String, String)> = [
            (t.notice_legitimate_interests, n.legitimate_interests.clone().unwrap_or_default()),
            (t.notice_retention, n.retention.clone()),
            (t.notice_rights, n.rights.clone()),
            (t.notice_withdrawal, n.withdrawal.clone()),
            (t.notice_complaint, n.complaint.clone()),
            (t.notice_transfers, n.transfers.clone()),
            (t.notice_provision, n.provision.clone()),
            (t.notice_automated, n.automated_decisions.clone()),
        ]
        .into_iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .map(|(heading, text)| (heading.to_string(), text))
        .collect();
        items.push((under, format!("{} ({})", n.child_guardian_text, n.jurisdiction)));
        NoticePage { t, lang: &n.lang, title: &n.title, n, digest, purposes, items }
    }
}
