//! Values every layer shares: statuses, event kinds, token purposes and withdrawal
//! sources as enums (stored and sent as the same strings as before), and identifiers
//! parsed once at the edge ([`NoticeId`], [`Origin`]), so that nobody checks them again.

pub mod confirmation;
mod ids;
mod kinds;
mod message;
mod phone;

pub use ids::{Ident, NoticeId, Origin};
pub use kinds::{
    ConfirmedBy, EventKind, LeadStatus, MessageKind, TokenPurpose, UnknownValue, WebhookEvent, WithdrawalSource,
};
pub use message::OutgoingMail;
pub use phone::Phone;
