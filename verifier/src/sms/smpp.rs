//! The SMPP 3.4 transport: one transceiver bind to the provider's SMS centre, kept up in
//! the background (reconnect with backoff, enquire_link keep-alive), `submit_sm` with
//! registered delivery for the outbox's SMS, `deliver_sm` for what phones send back.
//!
//! Built on `rusmppc` (the client of the rusmpp project): async on tokio, one owned
//! connection task, typed PDUs, enquire_link handled, many requests in flight on one bind
//! matched by sequence number. `smpp34` was the other candidate; its client is a
//! listener-callback design that suits a server better, so the tests use its server as
//! the SMS centre, an implementation independent of ours.
//!
//! What the outbox needs from it: `Ok` only on a `submit_sm_resp` with `ESME_ROK`; a
//! dropped connection, a time-out, a throttling (`ESME_RTHROTTLED`) or queue-full answer
//! are transient (the outbox retries with backoff, and a throttling answer also pauses
//! this transport's submits); any other error status is a refusal. Submits in flight at a
//! cut fail and are retried: at least once, never zero.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use rusmpp::pdus::{BindTransceiver, DeliverSmResp, SubmitSm};
use rusmpp::types::{COctetString, OctetString};
use rusmpp::values::{DataCoding, EsmClass, Npi, RegisteredDelivery, Ton};
use rusmpp::{CommandStatus, Pdu};
use rusmppc::{Client, ConnectionBuilder};
use tokio::sync::watch;

use super::{Inbound, InboundQueue};
use crate::config::{SecretString, SmsConfig};
use crate::mail::SendError;
use crate::store::outbox::Claimed;

/// How long a throttling answer pauses submits.
const THROTTLE_PAUSE: Duration = Duration::from_secs(1);
/// How long a send waits for a bound connection before it counts as a transient failure.
const WAIT_FOR_BIND: Duration = Duration::from_secs(5);

/// The SMPP transport.
#[derive(Debug)]
pub struct SmppSms {
    bound: watch::Receiver<Option<Client>>,
    paused_until: Arc<Mutex<Option<Instant>>>,
    window: usize,
    timeout: Duration,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmppSms {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a bind needs.
#[derive(Debug, Clone)]
struct Account {
    addr: String,
    system_id: String,
    password: SecretString,
    timeout: Duration,
}

impl SmppSms {
    /// Starts keeping a bind up to the configured SMS centre; received SMS go to `inbound`.
    pub fn start(c: &SmsConfig, inbound: InboundQueue) -> anyhow::Result<SmppSms> {
        let addr = c.smpp_addr.clone().ok_or_else(|| anyhow::anyhow!("--sms-transport smpp needs --smpp-addr"))?;
        let account = Account {
            addr,
            system_id: c.smpp_system_id.clone(),
            password: c.smpp_password.clone(),
            timeout: c.smpp_timeout,
        };
        let (tx, bound) = watch::channel(None);
        let task = tokio::spawn(keep_bound(account, tx, inbound));
        Ok(SmppSms { bound, paused_until: Arc::default(), window: c.smpp_window, timeout: c.smpp_timeout, task })
    }

    /// Submits in flight at once.
    pub fn window(&self) -> usize {
        self.window
    }

    async fn client(&self) -> Result<Client, SendError> {
        let mut bound = self.bound.clone();
        let wait = bound.wait_for(|c| c.as_ref().is_some_and(|c| !c.is_closed()));
        match tokio::time::timeout(WAIT_FOR_BIND, wait).await {
            Ok(Ok(c)) => c.clone().ok_or_else(|| SendError::Transient("not bound to the SMS centre".into())),
            _ => Err(SendError::Transient("not bound to the SMS centre".into())),
        }
    }

    /// Submits one SMS.
    pub async fn send(&self, sms: &Claimed) -> Result<(), SendError> {
        let pause = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = pause.filter(|u| *u > Instant::now()) {
            tokio::time::sleep_until(until.into()).await;
        }
        let client = self.client().await?;
        let submit = submit_sm(sms)?;
        match client.response_timeout(self.timeout).submit_sm(submit).await {
            Ok(_) => Ok(()),
            Err(rusmppc::error::Error::UnexpectedResponse { response }) => {
                let status = response.status();
                if matches!(status, CommandStatus::EsmeRthrottled | CommandStatus::EsmeRmsgqful) {
                    *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(Instant::now() + THROTTLE_PAUSE);
                    return Err(SendError::Transient(format!("the SMS centre throttles: {status:?}")));
                }
                if matches!(
                    status,
                    CommandStatus::EsmeRsyserr | CommandStatus::EsmeRsubmitfail | CommandStatus::EsmeRunknownerr
                ) {
                    return Err(SendError::Transient(format!("the SMS centre failed: {status:?}")));
                }
                Err(SendError::Permanent(format!("the SMS centre refused the SMS: {status:?}")))
            }
            // Never the number: rusmppc's errors name sequence numbers and statuses only.
            Err(e) => Err(SendError::Transient(format!("SMPP: {e}"))),
        }
    }
}

/// The `submit_sm` of an outbox SMS: the sender id, the number without `+` (international
/// TON), the text as ASCII, Latin-1 or UCS-2, a delivery receipt requested.
fn submit_sm(sms: &Claimed) -> Result<SubmitSm, SendError> {
    let bad = |what: &str| SendError::Permanent(format!("the SMS cannot be encoded: {what}"));
    let (coding, bytes) = encode(&sms.message).ok_or_else(|| bad("text too long for one submit"))?;
    let alphanumeric = !sms.from.bytes().all(|b| b.is_ascii_digit());
    let (src_ton, src_npi) =
        if alphanumeric { (Ton::Alphanumeric, Npi::Unknown) } else { (Ton::International, Npi::Isdn) };
    let to = sms.to.trim_start_matches('+');
    Ok(SubmitSm::builder()
        .source_addr_ton(src_ton)
        .source_addr_npi(src_npi)
        .source_addr(COctetString::from_str(&sms.from).map_err(|_| bad("sender id"))?)
        .dest_addr_ton(Ton::International)
        .dest_addr_npi(Npi::Isdn)
        .destination_addr(COctetString::from_str(to).map_err(|_| bad("number"))?)
        .esm_class(EsmClass::from(0x00))
        .registered_delivery(RegisteredDelivery::from(0x01))
        .data_coding(coding)
        .short_message(OctetString::from_vec(bytes).map_err(|_| bad("text too long for one submit"))?)
        .build())
}

/// The text as ASCII (the SMS centre's default alphabet), Latin-1 or UCS-2, when it fits
/// one `short_message` (254 octets; the SMS centre splits it into parts).
pub fn encode(text: &str) -> Option<(DataCoding, Vec<u8>)> {
    let (coding, bytes) = if text.is_ascii() {
        (DataCoding::McSpecific, text.as_bytes().to_vec())
    } else if text.chars().all(|c| u32::from(c) <= 0xFF) {
        (DataCoding::Latin1, text.chars().map(|c| u32::from(c) as u8).collect())
    } else {
        (DataCoding::Ucs2, text.encode_utf16().flat_map(u16::to_be_bytes).collect())
    };
    (bytes.len() <= 254).then_some((coding, bytes))
}

/// The text of a `short_message` in `coding`.
pub fn decode(coding: DataCoding, bytes: &[u8]) -> String {
    match coding {
        DataCoding::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
        DataCoding::Ucs2 => {
            let units: Vec<u16> =
                bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Keeps one bind up: connect, bind, serve its events until it drops, wait, again. The
/// wait doubles from 1 s to 30 s while binds fail, and starts over after a good one.
async fn keep_bound(account: Account, bound: watch::Sender<Option<Client>>, inbound: InboundQueue) {
    let mut wait = Duration::from_secs(1);
    loop {
        match bind(&account).await {
            Ok((client, events)) => {
                tracing::info!(smsc = %account.addr, "bound to the SMS centre");
                wait = Duration::from_secs(1);
                let _ = bound.send(Some(client.clone()));
                serve(&client, events, &inbound).await;
                let _ = bound.send(None);
                tracing::warn!(smsc = %account.addr, "the SMPP connection dropped; binding again");
            }
            Err(e) => {
                tracing::warn!(smsc = %account.addr, error = %e, retry_in = ?wait, "could not bind to the SMS centre")
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

type Events = Box<dyn futures_util::Stream<Item = rusmppc::Event> + Send + Unpin>;

async fn bind(a: &Account) -> anyhow::Result<(Client, Events)> {
    // Dialled here rather than by rusmppc's URL connector, which resolves through its own
    // resolver: a plain socket address works everywhere.
    let stream = tokio::time::timeout(a.timeout, tokio::net::TcpStream::connect(&a.addr)).await??;
    let (client, events) = ConnectionBuilder::new()
        .enquire_link_interval(Duration::from_secs(30))
        .response_timeout(a.timeout)
        // SMS centres speak SMPP 3.4; rusmppc checks for 5.0 unless told not to.
        .disable_interface_version_check()
        .connected(stream);
    client
        .bind_transceiver(
            BindTransceiver::builder()
                .system_id(COctetString::from_str(&a.system_id)?)
                .password(COctetString::from_str(a.password.expose())?)
                .system_type(COctetString::empty())
                .addr_ton(Ton::Unknown)
                .addr_npi(Npi::Unknown)
                .address_range(COctetString::empty())
                .build(),
        )
        .await?;
    Ok((client, Box::new(events)))
}

/// Answers each `deliver_sm` and queues what phones sent (delivery receipts are only
/// acknowledged), until the connection ends.
async fn serve(client: &Client, mut events: Events, inbound: &InboundQueue) {
    while let Some(event) = events.next().await {
        let rusmppc::Event::Incoming(command) = event else { continue };
        let Some(Pdu::DeliverSm(d)) = command.pdu() else { continue };
        let resp = DeliverSmResp::builder().message_id(COctetString::empty()).build();
        if client.deliver_sm_resp(command.sequence_number(), resp).await.is_err() {
            break;
        }
        // esm_class bits 2-5: 0b0001 is an SMSC delivery receipt, not a message.
        if (u8::from(d.esm_class) >> 2) & 0x0F == 0x01 {
            continue;
        }
        let text = decode(d.data_coding, d.short_message().as_ref());
        let from = d.source_addr.as_str().to_string();
        if inbound.send(Inbound { from, text }).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_encoded_in_the_smallest_coding_that_holds_them_and_read_back() {
        for (text, coding) in [
            ("STOP", DataCoding::McSpecific),
            ("Atelier Lumière : répondez OUI", DataCoding::Latin1),
            ("ARRÊT €", DataCoding::Ucs2),
        ] {
            let (c, bytes) = encode(text).unwrap();
            assert_eq!(c, coding, "{text}");
            assert_eq!(decode(c, &bytes), text);
        }
        assert!(encode(&"é".repeat(255)).is_none());
    }
}
