//! A test SMS centre: a real SMPP 3.4 server on a loopback port (the `smpp34` crate's
//! server, an implementation independent of the verifier's client), recording every
//! `submit_sm` it takes, answering with the statuses a test asks for (an error, a
//! throttling answer, slowly), and sending `deliver_sm` from a phone. A [`Relay`] in
//! front of it can cut the connection mid-flight.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use consent_e2e::smsc::Smsc;
//!
//! let smsc = Smsc::start().await?;
//! // … start the verifier with --sms-transport smpp --smpp-addr 127.0.0.1:{smsc.port()} …
//! let got = smsc.wait_for(1, std::time::Duration::from_secs(10)).await?;
//! assert!(got[0].text.ends_with("STOP au 36111"));
//! smsc.deliver(&got[0].to, "STOP").await?;
//! # Ok(())
//! # }
//! ```

mod relay;

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
pub use relay::Relay;
use smpp34::server::ESME;
use smpp34::{
    SmppConnectionInformation, SmppError, SmppServer, SmppServerListener, bind_transceiver, bind_transceiver_resp,
    submit_sm, submit_sm_resp, unbind, unbind_resp,
};

/// The system id and password the SMS centre accepts.
pub const SYSTEM_ID: &str = "consent";
/// See [`SYSTEM_ID`].
pub const PASSWORD: &str = "secret";

/// A `submit_sm` the SMS centre accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// `source_addr`: the sender id.
    pub from: String,
    /// `destination_addr`, as sent (no `+`).
    pub to: String,
    /// The text, decoded from its data coding.
    pub text: String,
    /// `registered_delivery` (1: a delivery receipt was asked for).
    pub registered_delivery: u8,
    /// `esm_class`.
    pub esm_class: u8,
}

/// How the SMS centre answers the next `submit_sm`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `ESME_ROK`.
    Ok,
    /// `ESME_RSYSERR`: a passing failure.
    SystemError,
    /// `ESME_RTHROTTLED`.
    Throttled,
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Submitted>>,
    answers: Mutex<VecDeque<Answer>>,
    refused: Mutex<usize>,
    delay: Mutex<Duration>,
    esmes: tokio::sync::Mutex<Vec<Arc<ESME>>>,
    binds: Mutex<usize>,
}

struct Handler(Arc<State>);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Decodes a `short_message` by its data coding (SMPP 3.4 §5.2.19).
fn text_of(coding: u8, bytes: &[u8]) -> String {
    match coding {
        3 => bytes.iter().map(|b| char::from(*b)).collect(),
        8 => {
            let units: Vec<u16> =
                bytes.chunks(2).map(|p| u16::from_be_bytes([p[0], *p.get(1).unwrap_or(&0)])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[async_trait]
impl SmppServerListener for Handler {
    async fn on_bind_transceiver(
        &self,
        req: bind_transceiver,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_transceiver_resp {
        if req.system_id != SYSTEM_ID || req.password != PASSWORD {
            return req.reject(SmppError::ESME_RINVPASWD);
        }
        *lock(&self.0.binds) += 1;
        req.accept("test-smsc".to_string(), Some(0x34))
    }

    async fn on_esme_bound(&self, esme: ESME, _session_id: &String) {
        self.0.esmes.lock().await.push(Arc::new(esme));
    }

    async fn on_esme_unbound(&self, session_id: &String) {
        self.0.esmes.lock().await.retain(|e| &e.session_id != session_id);
    }

    async fn on_unbind(&self, req: unbind, _c: &SmppConnectionInformation, _s: &String) -> unbind_resp {
        // smpp34 closes the socket as soon as it has queued unbind_resp: give the writer a
        // moment so the client reads the answer rather than a reset.
        tokio::time::sleep(Duration::from_millis(20)).await;
        req.accept()
    }

    async fn on_submit_sm(&self, req: submit_sm, _c: &SmppConnectionInformation, _s: &String) -> submit_sm_resp {
        let delay = *lock(&self.0.delay);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let answer = lock(&self.0.answers).pop_front().unwrap_or(Answer::Ok);
        match answer {
            Answer::Ok => {}
            Answer::SystemError => {
                *lock(&self.0.refused) += 1;
                return req.reject(SmppError::ESME_RSYSERR);
            }
            Answer::Throttled => {
                *lock(&self.0.refused) += 1;
                return req.reject(SmppError::ESME_RTHROTTLED);
            }
        }
        let got = Submitted {
            from: req.source_addr.clone(),
            to: req.destination_addr.clone(),
            text: text_of(req.data_coding, &req.short_message),
            registered_delivery: req.registered_delivery,
            esm_class: req.esm_class,
        };
        let id = {
            let mut received = lock(&self.0.received);
            received.push(got);
            format!("msg-{}", received.len())
        };
        req.accept(id)
    }
}

/// The running SMS centre.
pub struct Smsc {
    port: u16,
    state: Arc<State>,
    server: SmppServer,
}

impl std::fmt::Debug for Smsc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smsc").field("port", &self.port).finish()
    }
}

impl Smsc {
    /// Listens on a free loopback port.
    pub async fn start() -> anyhow::Result<Smsc> {
        let port = crate::process::free_port()?;
        let state = Arc::new(State::default());
        let mut server = SmppServer::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port, Arc::new(Handler(state.clone())));
        server.start().await;
        if !server.is_alive() {
            bail!("the test SMS centre could not listen on {port}");
        }
        Ok(Smsc { port, state, server })
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every `submit_sm` accepted so far.
    pub fn received(&self) -> Vec<Submitted> {
        lock(&self.state.received).clone()
    }

    /// How many `submit_sm` it answered with an error.
    pub fn refused(&self) -> usize {
        *lock(&self.state.refused)
    }

    /// How many binds it accepted.
    pub fn binds(&self) -> usize {
        *lock(&self.state.binds)
    }

    /// Answers the next `submit_sm`s so (then `ESME_ROK` again).
    pub fn answer_next(&self, answers: &[Answer]) {
        lock(&self.state.answers).extend(answers.iter().copied());
    }

    /// Waits this long before answering each `submit_sm` (submits stay in flight).
    pub fn set_delay(&self, delay: Duration) {
        *lock(&self.state.delay) = delay;
    }

    /// Waits until at least `n` SMS were accepted, and returns them all.
    pub async fn wait_for(&self, n: usize, within: Duration) -> anyhow::Result<Vec<Submitted>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return Ok(got);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("the SMS centre received {} SMS, not {n}, within {within:?}", got.len());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until an ESME is bound.
    pub async fn wait_bound(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + within;
        while self.state.esmes.lock().await.is_empty() {
            if tokio::time::Instant::now() > deadline {
                bail!("nobody bound to the SMS centre within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Sends `text` from the phone `from` (digits, with or without `+`) to the bound
    /// ESME as a `deliver_sm`, as an operator forwards a reply; waits for its answer.
    pub async fn deliver(&self, from: &str, text: &str) -> anyhow::Result<()> {
        let esme = self.state.esmes.lock().await.first().cloned().context("no ESME is bound")?;
        let (coding, bytes): (u8, Vec<u8>) = if text.is_ascii() {
            (0, text.as_bytes().to_vec())
        } else {
            (8, text.encode_utf16().flat_map(u16::to_be_bytes).collect())
        };
        esme.deliver_sm()
            .source_addr_ton(1)
            .source_addr_npi(1)
            .source_addr(from.trim_start_matches('+'))
            .destination_addr("36111")
            .esm_class(0)
            .data_coding(coding)
            .short_message(bytes)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("deliver_sm: {e:?}"))?;
        Ok(())
    }

    /// Stops listening.
    pub async fn stop(mut self) {
        self.server.stop().await;
    }
}
