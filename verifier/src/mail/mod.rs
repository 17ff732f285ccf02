//! Mail: composing messages (lettre) for the outbox, and the transports that send them.
//!
//! Messages are composed when the event that needs them happens and stored, whole, in the
//! outbox in the same transaction; the [`worker`] sends them later. So a crash between
//! the two never loses a mail, and the worker needs nothing but the stored bytes.

pub mod render;
pub mod worker;

use anyhow::Context;
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{MailConfig, MailTransport, SmtpTls};
use crate::domain::{MessageKind, OutgoingMail};
use crate::keys::random_id;
use crate::store::outbox::Claimed;

pub use render::Rendered;

/// Builds the MIME message: multipart/alternative text + HTML, the controller as sender
/// name, a Message-ID, and RFC 8058 one-click unsubscribe headers.
pub fn compose(
    config: &MailConfig,
    sender_name: &str,
    to: &str,
    kind: MessageKind,
    words: Rendered,
    link: &str,
    unsubscribe_post_url: &str,
) -> anyhow::Result<OutgoingMail> {
    let id = random_id().context("random source")?;
    let host = config.from.split('@').nth(1).unwrap_or("localhost");
    let message_id = format!("<{id}@{host}>");
    let from: Address =
        config.from.parse().with_context(|| format!("--mail-from `{}` is not an address", config.from))?;
    let to_address: Address = to.parse().context("recipient address")?;
    let message = Message::builder()
        .from(Mailbox::new(Some(sender_name.to_string()), from.clone()))
        .to(Mailbox::new(None, to_address.clone()))
        .subject(words.subject)
        .message_id(Some(message_id.clone()))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{unsubscribe_post_url}>"),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_string(),
        ))
        .multipart(MultiPart::alternative_plain_html(words.text, words.html))
        .context("building the message")?;
    let message = String::from_utf8(message.formatted()).context("lettre produced non-ASCII")?;
    Ok(OutgoingMail {
        id,
        channel: consent_receipt::Channel::Email,
        kind,
        message_id,
        from: from.to_string(),
        to: to_address.to_string(),
        message,
        link: link.to_string(),
    })
}

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth retrying (network, 4xx).
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The server refused the message for good (5xx).
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// `text` with every occurrence of `address` (in any ASCII case) replaced by `<recipient>`.
fn redact(text: &str, address: &str) -> String {
    if address.is_empty() {
        return text.to_string();
    }
    let (haystack, needle) = (text.to_ascii_lowercase(), address.to_ascii_lowercase());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in haystack.match_indices(&needle) {
        out.push_str(&text[last..at]);
        out.push_str("<recipient>");
        last = at + needle.len();
    }
    out.push_str(&text[last..]);
    out
}

/// Where mail goes.
#[derive(Debug, Clone)]
pub enum Transport {
    /// `.eml` files in a directory (the demo default), one per message, named by its
    /// outbox id and written atomically: a crash never leaves an empty or partial message,
    /// and a message sent again after a crash replaces itself.
    File(std::path::PathBuf),
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// The transport the configuration asks for.
    pub fn from_config(c: &MailConfig) -> anyhow::Result<Transport> {
        match c.transport {
            MailTransport::File => {
                std::fs::create_dir_all(&c.outbox_dir)
                    .with_context(|| format!("creating the mail outbox {}", c.outbox_dir.display()))?;
                crate::files::remove_temporaries(&c.outbox_dir)
                    .with_context(|| format!("cleaning the mail outbox {}", c.outbox_dir.display()))?;
                Ok(Transport::File(c.outbox_dir.clone()))
            }
            MailTransport::Smtp => {
                let host = c.smtp_host.as_deref().context("--smtp-host is required with --mail-transport smtp")?;
                let builder = match c.smtp_tls {
                    SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .with_context(|| format!("SMTP relay {host}"))?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .with_context(|| format!("SMTP relay {host}"))?,
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                };
                let mut builder = builder.port(c.smtp_port).timeout(Some(std::time::Duration::from_secs(30)));
                if let (Some(user), Some(password)) = (&c.smtp_username, &c.smtp_password) {
                    builder = builder.credentials(Credentials::new(user.clone(), password.expose().to_string()));
                }
                Ok(Transport::Smtp(builder.build()))
            }
        }
    }

    /// Sends a claimed message's stored bytes to its envelope recipient.
    pub async fn send(&self, mail: &Claimed) -> Result<(), SendError> {
        let envelope = Envelope::new(
            Some(mail.from.parse().map_err(|e| SendError::Permanent(format!("sender: {e}")))?),
            vec![mail.to.parse().map_err(|e| SendError::Permanent(format!("recipient: {e}")))?],
        )
        .map_err(|e| SendError::Permanent(e.to_string()))?;
        match self {
            Transport::File(dir) => {
                let _ = envelope;
                let path = dir.join(format!("{}.eml", mail.id));
                crate::files::write_in_background(path.clone(), mail.message.clone().into_bytes())
                    .await
                    .map_err(|e| SendError::Transient(format!("writing {}: {e}", path.display())))?;
                // The demo has no mail server: the link goes to the log (never the address).
                tracing::info!(kind = %mail.kind, file = %path.display(), link = %mail.link, "mail written to the outbox folder");
                Ok(())
            }
            // Servers often quote the address in their refusal: it never reaches the log.
            Transport::Smtp(t) => match t.send_raw(&envelope, mail.message.as_bytes()).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(SendError::Permanent(redact(&e.to_string(), &mail.to))),
                Err(e) => Err(SendError::Transient(redact(&e.to_string(), &mail.to))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn smtp_refusals_that_quote_the_address_never_reach_the_log_with_it() {
        let said = "permanent error (550): 5.1.1 <Ada.L@Example.org>: Recipient address rejected";
        assert_eq!(
            redact(said, "ada.l@example.org"),
            "permanent error (550): 5.1.1 <<recipient>>: Recipient address rejected"
        );
        assert_eq!(redact("network error: connection refused", "ada@example.org"), "network error: connection refused");
    }
}
