//! Double opt-in per channel: a confirmation proves one address, so it makes only that
//! channel's purposes contactable. The mail's link proves the e-mail address; the SMS's
//! link, its code and a reply to it prove the phone number.

use consent_receipt::Channel;

use super::{LeadStatus, TokenPurpose};

/// The channels of a lead's double opt-in that are confirmed, as stored: each confirmation
/// adds its own. `None` on an active lead means it owes none (no double opt-in on its
/// notice; leads confirmed before confirmations were kept per channel got theirs from
/// their confirmation event, migration 0009); on a lead still waiting it means nothing is
/// confirmed yet.
pub type Confirmed = Option<Vec<Channel>>;

/// The channel whose address a confirmation token proves, for the tokens that confirm.
pub fn proved_by(purpose: TokenPurpose) -> Option<Channel> {
    match purpose {
        TokenPurpose::Confirm => Some(Channel::Email),
        TokenPurpose::SmsConfirm | TokenPurpose::Code => Some(Channel::Sms),
        TokenPurpose::Guardian | TokenPurpose::Unsubscribe | TokenPurpose::Renew => None,
    }
}

/// Whether a lead in `status` still waits for the double opt-in of `channel`: before any
/// confirmation, or active with that channel not yet confirmed.
pub fn awaits(status: LeadStatus, confirmed: Option<&[Channel]>, channel: Channel) -> bool {
    match status {
        LeadStatus::PendingConfirmation => true,
        LeadStatus::Active => confirmed.is_some_and(|c| !c.contains(&channel)),
        _ => false,
    }
}

/// Whether `channel` may be used for an active lead: no double opt-in owed, or this
/// channel's confirmed.
pub fn channel_confirmed(confirmed: Option<&[Channel]>, channel: Channel) -> bool {
    confirmed.is_none_or(|c| c.contains(&channel))
}

/// The stored text of a set of confirmed channels (a JSON array, or NULL).
pub fn to_column(confirmed: &Confirmed) -> Option<String> {
    confirmed.as_ref().map(|c| serde_json::to_string(c).unwrap_or_else(|_| "[]".into()))
}

/// The confirmed channels once `channel` is confirmed too.
pub fn with(confirmed: Confirmed, channel: Channel) -> Vec<Channel> {
    let mut c = confirmed.unwrap_or_default();
    if !c.contains(&channel) {
        c.push(channel);
        c.sort();
    }
    c
}

/// Reads the stored text back; an unreadable value counts as nothing confirmed (the safe
/// side: the answer stays no).
pub fn from_column(text: Option<&str>) -> Confirmed {
    text.map(|t| serde_json::from_str(t).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmed_mail_leaves_the_sms_waiting() {
        let email = [Channel::Email];
        assert!(!awaits(LeadStatus::Active, Some(&email), Channel::Email));
        assert!(awaits(LeadStatus::Active, Some(&email), Channel::Sms));
        assert!(channel_confirmed(Some(&email), Channel::Email));
        assert!(!channel_confirmed(Some(&email), Channel::Sms));
    }

    #[test]
    fn a_lead_without_double_opt_in_waits_for_nothing() {
        assert!(!awaits(LeadStatus::Active, None, Channel::Sms));
        assert!(channel_confirmed(None, Channel::Sms));
        assert!(!awaits(LeadStatus::Withdrawn, Some(&[]), Channel::Sms));
        assert!(awaits(LeadStatus::PendingConfirmation, Some(&[]), Channel::Email));
    }

    #[test]
    fn the_column_round_trips_and_garbage_confirms_nothing() {
        let c: Confirmed = Some(vec![Channel::Sms]);
        assert_eq!(from_column(to_column(&c).as_deref()), c);
        assert_eq!(from_column(None), None);
        assert_eq!(from_column(Some("not json")), Some(vec![]));
        assert_eq!(with(None, Channel::Sms), [Channel::Sms]);
        assert_eq!(with(Some(vec![Channel::Sms]), Channel::Email), [Channel::Email, Channel::Sms]);
    }

    #[test]
    fn each_confirmation_token_proves_its_own_channel() {
        assert_eq!(proved_by(TokenPurpose::Confirm), Some(Channel::Email));
        assert_eq!(proved_by(TokenPurpose::SmsConfirm), Some(Channel::Sms));
        assert_eq!(proved_by(TokenPurpose::Code), Some(Channel::Sms));
        assert_eq!(proved_by(TokenPurpose::Unsubscribe), None);
    }
}
