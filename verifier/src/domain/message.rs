//! A composed message on its way to the outbox.

use super::MessageKind;

/// A composed mail, ready for the outbox: written in the same transaction as the event
/// that needs it, sent later by the worker from these bytes alone.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// Outbox row id (also in the Message-ID).
    pub id: String,
    /// What it is for.
    pub kind: MessageKind,
    /// `<id@host>`.
    pub message_id: String,
    /// Envelope sender.
    pub from: String,
    /// Envelope recipient.
    pub to: String,
    /// The whole RFC 5322 message.
    pub message: String,
    /// The link it carries (logged by the file transport, for the demo).
    pub link: String,
}
