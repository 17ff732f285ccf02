//! SMS, the second channel: composing messages for the outbox ([`compose`]), their words
//! ([`render`]), the transports that send them ([`Transport`]: a folder, an HTTP gateway,
//! an SMS centre over SMPP), and the inbound messages (STOP, OUI) they bring back.
//!
//! Like mail, an SMS is composed when its event happens and stored whole in the outbox in
//! the same transaction; the SMS worker (the outbox worker with this module's
//! [`Transport`] as its [`Sender`]) sends it later. Inbound messages go through an
//! [`InboundQueue`] to whoever acts on them, so transports never decide anything.

pub mod file;
pub mod http;
pub mod render;
pub mod smpp;
pub mod text;

use consent_receipt::Channel;
use tokio::sync::mpsc;

use crate::config::{SmsConfig, SmsTransport};
use crate::domain::{MessageKind, OutgoingMail};
use crate::mail::SendError;
use crate::mail::worker::Sender;
use crate::store::outbox::Claimed;

/// An SMS received from a phone: its number (E.164) and its text. Personal data: Debug
/// prints neither.
#[derive(Clone)]
pub struct Inbound {
    /// The sender's number, E.164.
    pub from: String,
    /// What they wrote.
    pub text: String,
}

impl std::fmt::Debug for Inbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Inbound(<redacted>)")
    }
}

/// Where transports put the SMS they receive.
pub type InboundQueue = mpsc::Sender<Inbound>;

/// An SMS for the outbox. `id` is its outbox id and its stable message id (a transport
/// that sends it twice after a crash sends the same id).
pub fn compose(id: String, sender_id: &str, to: &str, kind: MessageKind, text: String, link: &str) -> OutgoingMail {
    OutgoingMail {
        message_id: id.clone(),
        id,
        channel: Channel::Sms,
        kind,
        from: sender_id.to_string(),
        to: to.to_string(),
        message: text,
        link: link.to_string(),
    }
}

/// Where SMS go.
#[derive(Debug)]
pub enum Transport {
    /// One JSON file per SMS in a folder (the demo default).
    File(file::FileSms),
    /// A JSON POST per SMS to a gateway.
    Http(http::HttpSms),
    /// An SMS centre over SMPP 3.4.
    Smpp(smpp::SmppSms),
}

impl Transport {
    /// The transport the configuration asks for; inbound SMS (SMPP `deliver_sm`) go to
    /// `inbound`.
    pub fn from_config(c: &SmsConfig, inbound: InboundQueue) -> anyhow::Result<Transport> {
        Ok(match c.transport {
            SmsTransport::File => Transport::File(file::FileSms::new(&c.outbox_dir)?),
            SmsTransport::Http => Transport::Http(http::HttpSms::new(c)?),
            SmsTransport::Smpp => Transport::Smpp(smpp::SmppSms::start(c, inbound)?),
        })
    }
}

impl Sender for Transport {
    fn channel(&self) -> Channel {
        Channel::Sms
    }

    async fn send(&self, message: &Claimed) -> Result<(), SendError> {
        match self {
            Transport::File(t) => t.send(message).await,
            Transport::Http(t) => t.send(message).await,
            Transport::Smpp(t) => t.send(message).await,
        }
    }

    fn in_flight(&self) -> usize {
        match self {
            Transport::Smpp(t) => t.window(),
            _ => 16,
        }
    }
}
