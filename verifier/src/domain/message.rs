//! A composed message on its way to the outbox.

use consent_receipt::Channel;

use super::MessageKind;

/// A composed message (a mail or an SMS), ready for the outbox: written in the same
/// transaction as the event that needs it, sent later by its channel's worker from these
/// bytes alone.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Outbox row id (also in the Message-ID, and the SMS's stable message id).
    pub id: String,
    /// E-mail or SMS: which worker sends it.
    pub channel: Channel,
    /// What it is for.
    pub kind: MessageKind,
    /// `<id@host>` for a mail; the outbox id for an SMS (receivers drop duplicates by it).
    pub message_id: String,
    /// Envelope sender; for an SMS, the sender id the phone shows.
    pub from: String,
    /// Envelope recipient; for an SMS, the E.164 number.
    pub to: String,
    /// The whole RFC 5322 message; for an SMS, its text.
    pub message: String,
    /// The link it carries (logged by the file transport, for the demo).
    pub link: String,
}
