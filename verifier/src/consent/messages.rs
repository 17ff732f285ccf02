//! Which messages go out, composed when their event happens so that they can enter the
//! outbox in the same transaction.

use consent_receipt::Notice;

use super::tokens::{LINK_TTL_DAYS, LINK_TTL_SECS, code_hash, link, new_code, new_short_token, new_token};
use crate::domain::{MessageKind, OutgoingMail, TokenPurpose};
use crate::error::ApiError;
use crate::mail::{compose, render};
use crate::state::AppState;
use crate::store::NewToken;

/// The messages a step sends about one lead, and the tokens they carry.
#[derive(Debug)]
pub struct Outgoing<'a> {
    state: &'a AppState,
    notice: &'a Notice,
    /// The messages.
    pub mails: Vec<OutgoingMail>,
    /// Their tokens (hashes only).
    pub tokens: Vec<NewToken>,
}

impl<'a> Outgoing<'a> {
    /// Nothing yet, for a lead shown `notice`.
    pub fn new(state: &'a AppState, notice: &'a Notice) -> Outgoing<'a> {
        Outgoing { state, notice, mails: Vec::new(), tokens: Vec::new() }
    }

    /// A fresh unsubscribe token for this lead's messages; returns the token itself.
    pub fn unsubscribe_token(&mut self) -> Result<String, ApiError> {
        let (token, row) = new_token(TokenPurpose::Unsubscribe, None)?;
        self.tokens.push(row);
        Ok(token)
    }

    /// The double opt-in message, with its single-use week-long link.
    pub fn confirmation(&mut self, to: &str, granted: &[String], unsubscribe: &str, now: i64) -> Result<(), ApiError> {
        let (token, row) = new_token(TokenPurpose::Confirm, Some(now + LINK_TTL_SECS))?;
        let confirm = link(self.state, "confirm", &token);
        let page = link(self.state, "unsubscribe", unsubscribe);
        let words = render::confirmation(self.notice, granted, &confirm, &page, LINK_TTL_DAYS);
        self.push(to, MessageKind::Confirmation, words, &confirm, unsubscribe, row)
    }

    /// The double opt-in of a request: the mail to `email` if it asks for e-mail purposes,
    /// the SMS to `phone` if it asks for SMS purposes; each proves its own address.
    pub fn confirmations(
        &mut self,
        lead_id: &str,
        granted: &[String],
        (email, phone): (Option<&str>, Option<&str>),
        unsubscribe: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let on = |channel| super::asks_on(Some(self.notice), granted, channel);
        if let (true, Some(to)) = (on(consent_receipt::Channel::Email), email) {
            self.confirmation(to, granted, unsubscribe, now)?;
        }
        if let (true, Some(to)) = (on(consent_receipt::Channel::Sms), phone) {
            self.sms_confirmation(lead_id, to, now)?;
        }
        Ok(())
    }

    /// The message asking a holder of parental responsibility about what the child
    /// (`child`, shown masked) asked for, with its single-use link.
    pub fn guardian_request(
        &mut self,
        to: &str,
        child: &str,
        granted: &[String],
        unsubscribe: &str,
        now: i64,
    ) -> Result<(), ApiError> {
        let (token, row) = new_token(TokenPurpose::Guardian, Some(now + LINK_TTL_SECS))?;
        let approve = link(self.state, "guardian", &token);
        let page = link(self.state, "unsubscribe", unsubscribe);
        let child = render::mask_email(child);
        let words = render::guardian_request(self.notice, granted, &child, &approve, &page, LINK_TTL_DAYS);
        self.push(to, MessageKind::GuardianRequest, words, &approve, unsubscribe, row)
    }

    /// The SMS double opt-in: one SMS naming the sender, with a short link to the same
    /// confirmation page as the mail, a 6-digit code, and the reply word; the link and the
    /// code expire like the mail's link.
    pub fn sms_confirmation(&mut self, lead_id: &str, to: &str, now: i64) -> Result<(), ApiError> {
        let expires = Some(now + LINK_TTL_SECS);
        let who = self.sms_identity()?;
        let (token, row) = new_short_token(TokenPurpose::SmsConfirm, expires)?;
        let code = new_code()?;
        let short = link(self.state, "c", &token);
        let text =
            crate::sms::render::confirmation(&self.notice.lang, &who, &short, &code).map_err(ApiError::internal)?;
        let id = crate::keys::random_id().map_err(ApiError::internal)?;
        self.mails.push(crate::sms::compose(id, &who.sender_id, to, MessageKind::Confirmation, text, &short));
        self.tokens.push(row);
        let code_row =
            NewToken { hash: code_hash(self.state, lead_id, &code), purpose: TokenPurpose::Code, expires_at: expires };
        self.tokens.push(code_row);
        Ok(())
    }

    /// The mail asking to renew before retention ends at `ends_at`: its link works until
    /// then (the page it opens asks for a click on its button).
    pub fn renewal(&mut self, to: &str, granted: &[String], unsubscribe: &str, ends_at: i64) -> Result<(), ApiError> {
        let (token, row) = new_token(TokenPurpose::Renew, Some(ends_at))?;
        let renew = link(self.state, "renew", &token);
        let page = link(self.state, "unsubscribe", unsubscribe);
        let until = crate::i18n::date(crate::i18n::messages(&self.notice.lang), last_day(ends_at));
        let words = render::renewal(self.notice, granted, &renew, &page, &until);
        self.push(to, MessageKind::RenewalRequest, words, &renew, unsubscribe, row)
    }

    /// The SMS asking to renew: the sender, a short link (the same page), the deadline,
    /// the STOP mention.
    pub fn sms_renewal(&mut self, to: &str, ends_at: i64) -> Result<(), ApiError> {
        let who = self.sms_identity()?;
        let (token, row) = new_short_token(TokenPurpose::Renew, Some(ends_at))?;
        let short = link(self.state, "r", &token);
        let until = crate::i18n::date(crate::i18n::messages(&self.notice.lang), last_day(ends_at));
        let text = crate::sms::render::renewal(&self.notice.lang, &who, &short, &until).map_err(ApiError::internal)?;
        let id = crate::keys::random_id().map_err(ApiError::internal)?;
        self.mails.push(crate::sms::compose(id, &who.sender_id, to, MessageKind::RenewalRequest, text, &short));
        self.tokens.push(row);
        Ok(())
    }

    /// The sender and STOP number of this notice's SMS.
    fn sms_identity(&self) -> Result<crate::notices::SmsIdentity, ApiError> {
        self.state
            .notices
            .current(&self.notice.id)
            .and_then(|e| e.sms.clone())
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("notice {} has no [sms] section", self.notice.id)))
    }

    fn push(
        &mut self,
        to: &str,
        kind: MessageKind,
        words: Result<render::Rendered, askama::Error>,
        main_link: &str,
        unsubscribe: &str,
        token: NewToken,
    ) -> Result<(), ApiError> {
        let one_click = link(self.state, "v1/unsubscribe", unsubscribe);
        let words = words.map_err(ApiError::internal)?;
        let mail =
            compose(&self.state.config.mail, &self.notice.controller.name, to, kind, words, main_link, &one_click)
                .map_err(ApiError::internal)?;
        self.mails.push(mail);
        self.tokens.push(token);
        Ok(())
    }
}

/// The last whole day before `ends_at`: the date a person is told to answer by (a day
/// early, in UTC, so that it holds in any time zone).
fn last_day(ends_at: i64) -> i64 {
    ends_at - super::retention::DAY
}
