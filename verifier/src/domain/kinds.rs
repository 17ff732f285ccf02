//! Closed sets of values that are stored as text and appear on the wire.

use std::fmt;
use std::str::FromStr;

/// A stored or received string that is not one of a set's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a known {what}")]
pub struct UnknownValue {
    /// What kind of value was expected.
    pub what: &'static str,
    /// What was found (never contact data: these are codes).
    pub value: String,
}

/// An enum whose every variant has one string, used in the database and on the wire.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident ($what:literal) { $($(#[doc = $doc:literal])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The string stored and sent.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(UnknownValue { what: $what, value: s.chars().take(64).collect() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum! {
    /// Where a lead stands in its life cycle, derived from its events.
    LeadStatus ("lead status") {
        /// Waiting for the double opt-in click.
        PendingConfirmation = "pending_confirmation",
        /// A minor's lead waiting for a holder of parental responsibility.
        AwaitingGuardian = "awaiting_guardian",
        /// Marketing allowed for the granted purposes.
        Active = "active",
        /// Nothing was granted: the refusal is the record.
        Refused = "refused",
        /// The guardian refused.
        RefusedByGuardian = "refused_by_guardian",
        /// Every granted purpose was withdrawn.
        Withdrawn = "withdrawn",
    }
}

string_enum! {
    /// What an event of the chain records.
    EventKind ("event kind") {
        /// The receipt passed every rule and the lead was stored.
        Accepted = "accepted",
        /// The double opt-in message was accepted by the provider.
        ConfirmationSent = "confirmation_sent",
        /// The message to the guardian was accepted by the provider.
        GuardianRequested = "guardian_requested",
        /// The double opt-in link was used.
        Confirmed = "confirmed",
        /// A new confirmation message replaced an expired link.
        ConfirmationRequeued = "confirmation_requeued",
        /// The guardian signed their own receipt and agreed.
        GuardianApproved = "guardian_approved",
        /// The guardian refused.
        GuardianRefused = "guardian_refused",
        /// Purposes were withdrawn.
        Withdrawn = "withdrawn",
        /// The contact went on the suppression list for those purposes.
        Suppressed = "suppressed",
        /// A newer consent lifted a suppression.
        SuppressionLifted = "suppression_lifted",
        /// Retention ended: the lead's personal data was deleted.
        Purged = "purged",
        /// An objection received elsewhere (the mailing tool, the DPO, a letter, a call,
        /// a refusal at the source), recorded without the address.
        ObjectionRecorded = "objection_recorded",
        /// An inbound SMS that asked for nothing we act on (recorded without its text).
        InboundIgnored = "inbound_ignored",
        /// A contact reported by the site's systems (a click in a marketing message): the
        /// retention period starts again. An open never is one.
        ContactRecorded = "contact_recorded",
        /// Retention nears its end: the messages asking to renew were queued.
        RenewalRequested = "renewal_requested",
        /// The provider accepted a message asking to renew.
        RenewalSent = "renewal_sent",
        /// The person renewed their consent through the link of that message (a new
        /// confirmed consent): the retention period starts again.
        ConsentRenewed = "consent_renewed",
        /// Retention ended without renewal: the active lead's personal data was deleted.
        ConsentExpired = "consent_expired",
        /// A withdrawn or refused lead's contact data was erased after the configured
        /// delay; only keyed hashes of the addresses stay.
        ContactErased = "contact_erased",
    }
}

string_enum! {
    /// What a link's token is for.
    TokenPurpose ("token purpose") {
        /// The double opt-in link of the mail (it proves the e-mail address).
        Confirm = "confirm",
        /// The double opt-in short link of the SMS (it proves the phone number).
        SmsConfirm = "confirm_sms",
        /// The guardian's link.
        Guardian = "guardian",
        /// The unsubscribe link (it keeps working).
        Unsubscribe = "unsubscribe",
        /// The 6-digit code of the SMS double opt-in (its hash is keyed and bound to the lead).
        Code = "code",
        /// The link of a message asking to renew a consent before its retention ends.
        Renew = "renew",
    }
}

string_enum! {
    /// How a withdrawal reached the verifier.
    WithdrawalSource ("withdrawal source") {
        /// RFC 8058 one-click POST from the mailbox provider.
        OneClick = "one-click",
        /// The unsubscribe page's button.
        Page = "page",
        /// A request signed by the visitor's own key (the widget).
        Signed = "signed",
        /// "No thanks" on the confirmation page.
        Declined = "declined",
        /// STOP (or ARRET, UNSUBSCRIBE, …) sent by SMS from the lead's number.
        SmsStop = "sms-stop",
        /// An objection recorded through the admin API, the CSV import or a refusal at the source.
        Objection = "objection",
    }
}

string_enum! {
    /// How a double opt-in was confirmed.
    ConfirmedBy ("confirmation means") {
        /// The link in the mail or in the SMS, then the page's button.
        Link = "link",
        /// The 6-digit code of the SMS.
        Code = "code",
        /// OUI or YES in reply to the SMS.
        Reply = "reply",
    }
}

string_enum! {
    /// What a message in the outbox is for.
    MessageKind ("message kind") {
        /// Double opt-in.
        Confirmation = "confirmation",
        /// Joint consent: the guardian is asked.
        GuardianRequest = "guardian_request",
        /// Retention nears its end: the person is asked whether to renew.
        RenewalRequest = "renewal_request",
    }
}

impl MessageKind {
    /// The event recorded once the provider accepted the message.
    pub const fn sent_event(self) -> EventKind {
        match self {
            MessageKind::Confirmation => EventKind::ConfirmationSent,
            MessageKind::GuardianRequest => EventKind::GuardianRequested,
            MessageKind::RenewalRequest => EventKind::RenewalSent,
        }
    }
}

string_enum! {
    /// The `type` of a webhook: the life-cycle steps a lead's downstream systems act on.
    WebhookEvent ("webhook event type") {
        /// A lead was accepted (pending confirmation, awaiting a guardian, or active).
        LeadAccepted = "lead.accepted",
        /// A receipt that granted nothing was recorded: the refusal is the record.
        LeadRefused = "lead.refused",
        /// The double opt-in was confirmed (on one channel).
        LeadConfirmed = "lead.confirmed",
        /// A holder of parental responsibility agreed.
        GuardianApproved = "lead.guardian_approved",
        /// A holder of parental responsibility refused.
        GuardianRefused = "lead.guardian_refused",
        /// Purposes were withdrawn.
        LeadWithdrawn = "lead.withdrawn",
        /// The person renewed their consent before retention ended.
        LeadRenewed = "lead.renewed",
        /// Retention ended without renewal: the lead's personal data was deleted.
        LeadExpired = "lead.expired",
        /// Retention ended (three years without contact): the lead's personal data was deleted.
        LeadPurged = "lead.purged",
        /// A withdrawn or refused lead's contact data was erased: erase it downstream too.
        ContactErased = "lead.contact_erased",
        /// An objection was recorded (without the address).
        ObjectionRecorded = "objection.recorded",
        /// A newer, complete consent lifted a suppression.
        SuppressionLifted = "suppression.lifted",
        /// Sent on demand by `POST /v1/admin/webhooks/{id}/test`; never a life-cycle step.
        Test = "webhook.test",
    }
}

impl WebhookEvent {
    /// The webhook an event of the chain gives, if any: `status` is its lead's status
    /// (an `accepted` event of a lead that granted nothing is a refusal).
    pub const fn of(kind: EventKind, status: Option<LeadStatus>) -> Option<WebhookEvent> {
        Some(match kind {
            EventKind::Accepted if matches!(status, Some(LeadStatus::Refused)) => WebhookEvent::LeadRefused,
            EventKind::Accepted => WebhookEvent::LeadAccepted,
            EventKind::Confirmed => WebhookEvent::LeadConfirmed,
            EventKind::GuardianApproved => WebhookEvent::GuardianApproved,
            EventKind::GuardianRefused => WebhookEvent::GuardianRefused,
            EventKind::Withdrawn => WebhookEvent::LeadWithdrawn,
            EventKind::ConsentRenewed => WebhookEvent::LeadRenewed,
            EventKind::ConsentExpired => WebhookEvent::LeadExpired,
            EventKind::Purged => WebhookEvent::LeadPurged,
            EventKind::ContactErased => WebhookEvent::ContactErased,
            EventKind::ObjectionRecorded => WebhookEvent::ObjectionRecorded,
            EventKind::SuppressionLifted => WebhookEvent::SuppressionLifted,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_strings_read_back_as_the_same_value() {
        for s in LeadStatus::ALL {
            assert_eq!(s.as_str().parse::<LeadStatus>(), Ok(*s));
        }
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>(), Ok(*k));
        }
        assert_eq!(serde_json::to_value(WithdrawalSource::OneClick).unwrap(), "one-click");
        assert_eq!(serde_json::from_value::<TokenPurpose>("guardian".into()).unwrap(), TokenPurpose::Guardian);
    }

    #[test]
    fn every_webhook_type_but_the_test_comes_from_an_event_of_the_chain() {
        let statuses = [None, Some(LeadStatus::Refused)];
        for w in WebhookEvent::ALL.iter().filter(|w| **w != WebhookEvent::Test) {
            let from = EventKind::ALL.iter().any(|k| statuses.iter().any(|s| WebhookEvent::of(*k, *s) == Some(*w)));
            assert!(from, "{w} is never sent");
        }
        assert_eq!(WebhookEvent::of(EventKind::Accepted, Some(LeadStatus::Refused)), Some(WebhookEvent::LeadRefused));
        assert_eq!(WebhookEvent::of(EventKind::Accepted, Some(LeadStatus::Active)), Some(WebhookEvent::LeadAccepted));
        assert_eq!(WebhookEvent::of(EventKind::ConfirmationSent, None), None, "a mail sent is no life-cycle step");
    }

    #[test]
    fn an_unknown_string_is_refused_naming_the_set() {
        let e = "archived".parse::<LeadStatus>().unwrap_err();
        assert_eq!(e.to_string(), "`archived` is not a known lead status");
    }
}
