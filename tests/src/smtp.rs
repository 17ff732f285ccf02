//! An in-process SMTP sink for end-to-end tests: a real SMTP server on a loopback port (the
//! subset of RFC 5321 a submission client uses; no STARTTLS, no AUTH). Point the product's
//! mailer at [`SmtpSink::port`] over a plain connection, then read the messages that really
//! arrived.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use consent_e2e::smtp::SmtpSink;
//!
//! let sink = SmtpSink::start().await?;
//! // … start the verifier with its SMTP relay at 127.0.0.1:{sink.port()}, no TLS, no auth …
//! let mails = sink.wait_for(1, std::time::Duration::from_secs(10)).await?;
//! assert_eq!(mails[0].to, ["alice@example.org"]);
//! assert!(mails[0].text_part("text/plain").is_some_and(|t| t.contains("confirm")));
//! # Ok(())
//! # }
//! ```
//!
//! # Making delivery fail
//!
//! * [`SmtpSink::set_accepting`]`(false)`: the server is up but refuses mail with **4xx**
//!   replies, which every SMTP client treats as "try again later" (lettre:
//!   `Error::is_transient()`). A new connection is greeted with `421` and closed; a session
//!   already open gets `421` (and is closed) at its next `MAIL`, and a message whose DATA ends
//!   after the switch gets `451` and is dropped. Once `set_accepting(false)` has returned,
//!   nothing more is stored until `set_accepting(true)`.
//! * [`SmtpSink::stop`]: nothing listens any more (connections are refused, open sessions are
//!   cut). [`SmtpSink::restart`] listens on the same port again, keeping what was received;
//!   [`SmtpSink::start_on`] starts a fresh sink on a given port.
//!
//! The sink serves on the tokio runtime that started it: on a current-thread runtime (plain
//! `#[tokio::test]`) a test must `.await` while it waits for mail, never block the thread.
//!
//! # Limits
//!
//! Lines (commands and message text) are limited to [`MAX_LINE_BYTES`] octets CRLF included,
//! as RFC 5321 §4.5.3.1.6 says; a longer line is answered `500 5.5.2`. A message larger than
//! [`MAX_MESSAGE_BYTES`] is read to its end and refused with `552 5.3.4`. Memory per session is
//! therefore bounded however the client behaves.

use std::borrow::Cow;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::Context;
use mail_parser::{MessageParser, MimeHeaders, PartType};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

/// Largest message accepted, advertised with the `SIZE` extension.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// Longest line accepted, CRLF included (RFC 5321 §4.5.3.1.6).
pub const MAX_LINE_BYTES: usize = 1000;

/// RFC 5321 §4.5.3.1.8 asks a server to take at least 100 recipients.
const MAX_RECIPIENTS: usize = 1000;

/// RFC 5321 §4.5.3.2.7 suggests 5 minutes; it also keeps a forgotten client from pinning a task.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long a closing session keeps reading what the client still sends (see [`Session::close`]).
const LINGER: Duration = Duration::from_secs(2);

const SERVER_NAME: &str = "localhost";

/// A running SMTP sink. Dropping it stops the server.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    shared: Arc<Shared>,
    server: Option<JoinHandle<()>>,
}

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The name the client gave in `EHLO`/`HELO`.
    pub helo: String,
    /// The envelope sender (`MAIL FROM`) without angle brackets; empty for the null sender `<>`.
    pub from: String,
    /// The envelope recipients (`RCPT TO`) without angle brackets, in the order given; this
    /// includes `Bcc` recipients, which the header no longer names.
    pub to: Vec<String>,
    /// The message (header and body, CRLF line ends) as transmitted after DATA, dot-unstuffed.
    pub raw: Vec<u8>,
}

impl SmtpSink {
    /// Starts a sink on a free loopback port, accepting mail.
    pub async fn start() -> anyhow::Result<SmtpSink> {
        SmtpSink::start_on(0).await
    }

    /// Starts a sink on `127.0.0.1:port` (0 picks a free port), accepting mail.
    pub async fn start_on(port: u16) -> anyhow::Result<SmtpSink> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State { accepting: true, messages: Vec::new() }),
            arrived: Notify::new(),
        });
        let mut sink = SmtpSink { port, shared, server: None };
        sink.listen()?;
        Ok(sink)
    }

    /// The loopback port the sink listens (or listened) on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The `consent-verifier serve` flags that send mail to this sink (plain SMTP on loopback).
    pub fn verifier_args(&self) -> Vec<String> {
        smtp_args(self.port)
    }

    /// Whether the server is listening (between start or [`restart`](Self::restart) and
    /// [`stop`](Self::stop)).
    pub fn is_listening(&self) -> bool {
        self.server.as_ref().is_some_and(|server| !server.is_finished())
    }

    /// Makes the sink take mail (`true`, the default) or refuse it with 4xx replies (`false`);
    /// see the module documentation for exactly when each reply is given.
    pub fn set_accepting(&self, accepting: bool) {
        self.shared.lock().accepting = accepting;
    }

    /// Stops listening and cuts every open session, so connecting is refused. Messages already
    /// received stay readable. Does nothing if already stopped.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            // Once the aborted task has finished, its future (the listener, and the JoinSet that
            // owns every session) has been dropped: the port is closed when this returns.
            let _ = server.await;
        }
    }

    /// Listens on the same port again after [`stop`](Self::stop), keeping the messages
    /// received so far and the accepting switch.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.stop().await;
        self.listen()
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.shared.lock().messages.clone()
    }

    /// Forgets the messages received so far.
    pub fn clear(&self) {
        self.shared.lock().messages.clear();
    }

    /// Waits until at least `count` messages have arrived, then returns all of them; fails
    /// after `timeout` saying how many did arrive.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> anyhow::Result<Vec<ReceivedMail>> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so a message stored in between still wakes us.
            let arrived = self.shared.arrived.notified();
            let messages = self.messages();
            if messages.len() >= count {
                return Ok(messages);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                let messages = self.messages();
                anyhow::ensure!(
                    messages.len() >= count,
                    "expected at least {count} message(s) at the SMTP sink on port {} within {timeout:?}, got {}",
                    self.port,
                    messages.len()
                );
                return Ok(messages);
            }
        }
    }

    fn listen(&mut self) -> anyhow::Result<()> {
        let listener = bind(self.port).with_context(|| format!("SMTP sink: listen on 127.0.0.1:{}", self.port))?;
        self.port = listener.local_addr().context("SMTP sink: local address")?.port();
        self.server = Some(tokio::spawn(serve(listener, Arc::clone(&self.shared))));
        Ok(())
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

impl ReceivedMail {
    /// Every header field in order, as (name, value): the value unfolded (RFC 5322 §2.2.3)
    /// and trimmed, but not RFC 2047-decoded.
    pub fn headers(&self) -> Vec<(String, String)> {
        let end = header_end(&self.raw);
        let text = String::from_utf8_lossy(&self.raw[..end]);
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with([' ', '\t']) {
                // Unfolding removes the line break only; the white space that starts the
                // continuation line belongs to the value.
                if let Some((_, value)) = fields.last_mut() {
                    value.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                fields.push((name.trim().to_owned(), value.to_owned()));
            }
        }
        for (_, value) in &mut fields {
            *value = value.trim().to_owned();
        }
        fields
    }

    /// The first header field named `name` (any case), unfolded and trimmed, not decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers().into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// Every header field named `name` (any case), in order, unfolded and trimmed.
    pub fn headers_all(&self, name: &str) -> Vec<String> {
        self.headers().into_iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v).collect()
    }

    /// The `Message-ID`, without its angle brackets.
    pub fn message_id(&self) -> Option<String> {
        let value = self.header("Message-ID")?;
        let id = value.trim().trim_start_matches('<').trim_end_matches('>').trim();
        (!id.is_empty()).then(|| id.to_owned())
    }

    /// The `From` display name, RFC 2047 decoded, and address.
    pub fn from_header(&self) -> Option<(Option<String>, String)> {
        let message = MessageParser::new().parse(&self.raw)?;
        let addr = message.from()?.first()?;
        Some((addr.name().map(str::to_owned), addr.address()?.to_owned()))
    }

    /// The `Subject`, with RFC 2047 encoded-words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) decoded.
    pub fn subject(&self) -> Option<String> {
        MessageParser::new().parse(&self.raw)?.subject().map(str::to_owned)
    }

    /// Every text leaf of the MIME tree, in order, as (content type in lower case such as
    /// `text/plain`, body decoded from its transfer encoding and charset). Walks `multipart/*`;
    /// does not descend into attached `message/rfc822` messages.
    pub fn text_parts(&self) -> Vec<(String, String)> {
        let Some(message) = MessageParser::new().parse(&self.raw) else {
            return Vec::new();
        };
        message
            .parts
            .iter()
            .filter_map(|part| {
                let body = match &part.body {
                    PartType::Text(text) | PartType::Html(text) => text.to_string(),
                    _ => return None,
                };
                let content_type = part.content_type().map_or_else(
                    || "text/plain".to_owned(),
                    |ct| match ct.subtype() {
                        Some(subtype) => format!("{}/{}", ct.ctype(), subtype),
                        None => ct.ctype().to_owned(),
                    },
                );
                Some((content_type.to_ascii_lowercase(), body))
            })
            .collect()
    }

    /// The decoded body of the first text part of type `content_type` (e.g. `text/html`).
    pub fn text_part(&self, content_type: &str) -> Option<String> {
        self.text_parts().into_iter().find(|(ct, _)| ct.eq_ignore_ascii_case(content_type)).map(|(_, body)| body)
    }
}

/// Where the header ends: just after the CRLF of its last line, or the whole message if it has
/// no body.
fn header_end(raw: &[u8]) -> usize {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 2);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 1);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(raw.len()),
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    arrived: Notify,
}

#[derive(Debug)]
struct State {
    accepting: bool,
    messages: Vec<ReceivedMail>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take every later assertion down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn accepting(&self) -> bool {
        self.lock().accepting
    }

    /// Stores `mail` unless the sink is refusing; checked under the same lock as
    /// `set_accepting` so nothing slips in after it returns.
    fn store(&self, mail: ReceivedMail) -> bool {
        let stored = {
            let mut state = self.lock();
            if state.accepting {
                state.messages.push(mail);
            }
            state.accepting
        };
        if stored {
            self.arrived.notify_waiters();
        }
        stored
    }
}

fn bind(port: u16) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // A test that stops the sink and listens on the same port again must not wait for the
    // closed connections' TIME_WAIT to expire.
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    socket.listen(128)
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Owning the sessions here means aborting this task ends them all.
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    sessions.spawn(session(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors and the like: back off rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let session = Session { reader: BufReader::new(read), writer: write, shared, helo: None, envelope: None };
    // An I/O error only means the client went away; there is no one to tell.
    let _ = session.run().await;
}

struct Session<R, W> {
    reader: R,
    writer: W,
    shared: Arc<Shared>,
    helo: Option<String>,
    envelope: Option<Envelope>,
}

struct Envelope {
    from: String,
    to: Vec<String>,
}

enum Input {
    Line(Vec<u8>),
    TooLong,
    Closed,
    Idle,
}

enum Data {
    Complete(Vec<u8>),
    TooBig,
    LineTooLong,
    Closed,
    Idle,
}

type Reply = Cow<'static, str>;

const REFUSED: &str = "421 4.3.2 localhost Service not available, closing transmission channel";
const TIMED_OUT: &str = "421 4.4.2 localhost Idle too long, closing transmission channel";

impl<R: AsyncBufRead + Unpin, W: AsyncWrite + Unpin> Session<R, W> {
    async fn run(mut self) -> io::Result<()> {
        if !self.shared.accepting() {
            self.reply(REFUSED).await?;
            return self.close().await;
        }
        self.reply(&format!("220 {SERVER_NAME} ESMTP consent-e2e SMTP sink")).await?;
        loop {
            let line = match next_line(&mut self.reader).await? {
                Input::Line(line) => line,
                Input::TooLong => {
                    self.reply("500 5.5.2 Line too long").await?;
                    continue;
                }
                Input::Closed => return Ok(()),
                Input::Idle => {
                    self.reply(TIMED_OUT).await?;
                    return self.close().await;
                }
            };
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            let (verb, args) = text.split_once(' ').map_or((text, ""), |(verb, args)| (verb, args.trim()));
            let reply: Reply = match verb.to_ascii_uppercase().as_str() {
                "EHLO" => self.hello(args, true),
                "HELO" => self.hello(args, false),
                "MAIL" => {
                    if self.helo.is_some() && self.envelope.is_none() && !self.shared.accepting() {
                        self.reply(REFUSED).await?;
                        return self.close().await;
                    }
                    self.mail(args)
                }
                "RCPT" => self.rcpt(args),
                "DATA" => match self.data_allowed(args) {
                    Some(refusal) => refusal,
                    None => match self.data().await? {
                        Some(reply) => reply,
                        None => return self.close().await,
                    },
                },
                "RSET" => {
                    self.envelope = None;
                    "250 2.0.0 Ok".into()
                }
                "NOOP" => "250 2.0.0 Ok".into(),
                "QUIT" => {
                    self.reply(&format!("221 2.0.0 {SERVER_NAME} Bye")).await?;
                    return self.close().await;
                }
                "VRFY" | "EXPN" | "HELP" | "STARTTLS" | "AUTH" | "BDAT" | "ETRN" | "TURN" | "ATRN" => {
                    "502 5.5.1 Command not implemented".into()
                }
                _ => "500 5.5.2 Command unrecognized".into(),
            };
            self.reply(&reply).await?;
        }
    }

    fn hello(&mut self, args: &str, extended: bool) -> Reply {
        let Some(name) = args.split_whitespace().next() else {
            return "501 5.5.4 Syntax: EHLO hostname".into();
        };
        self.helo = Some(name.to_owned());
        // RFC 5321 §4.1.4: a new EHLO/HELO also abandons any transaction in progress.
        self.envelope = None;
        if extended {
            // No STARTTLS: a client that requires TLS must fail here, not silently send in clear.
            format!(
                "250-{SERVER_NAME} greets {name}\r\n250-PIPELINING\r\n250-8BITMIME\r\n\
                 250-SIZE {MAX_MESSAGE_BYTES}\r\n250 ENHANCEDSTATUSCODES"
            )
            .into()
        } else {
            format!("250 {SERVER_NAME}").into()
        }
    }

    fn mail(&mut self, args: &str) -> Reply {
        if self.helo.is_none() {
            return "503 5.5.1 Send EHLO or HELO first".into();
        }
        if self.envelope.is_some() {
            return "503 5.5.1 Nested MAIL command".into();
        }
        let Some((from, params)) = parse_path(args, "FROM:") else {
            return "501 5.5.4 Syntax: MAIL FROM:<address>".into();
        };
        for param in params.split_whitespace() {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            match key.to_ascii_uppercase().as_str() {
                "SIZE" => match value.parse::<u64>() {
                    Ok(size) if size > MAX_MESSAGE_BYTES as u64 => {
                        return "552 5.3.4 Message size exceeds fixed maximum message size".into();
                    }
                    Ok(_) => {}
                    Err(_) => return "501 5.5.4 Bad SIZE parameter".into(),
                },
                "BODY" if value.eq_ignore_ascii_case("7BIT") || value.eq_ignore_ascii_case("8BITMIME") => {}
                _ => return "555 5.5.4 MAIL parameter not recognized or not implemented".into(),
            }
        }
        self.envelope = Some(Envelope { from, to: Vec::new() });
        "250 2.1.0 Ok".into()
    }

    fn rcpt(&mut self, args: &str) -> Reply {
        let Some(envelope) = self.envelope.as_mut() else {
            return "503 5.5.1 Need MAIL command first".into();
        };
        let Some((to, params)) = parse_path(args, "TO:") else {
            return "501 5.5.4 Syntax: RCPT TO:<address>".into();
        };
        if to.is_empty() {
            return "501 5.1.3 Empty recipient address".into();
        }
        if !params.is_empty() {
            return "555 5.5.4 RCPT parameter not recognized or not implemented".into();
        }
        if envelope.to.len() >= MAX_RECIPIENTS {
            return "452 4.5.3 Too many recipients".into();
        }
        envelope.to.push(to);
        "250 2.1.5 Ok".into()
    }

    /// The refusal of a DATA command that cannot start, if any.
    fn data_allowed(&self, args: &str) -> Option<Reply> {
        match &self.envelope {
            None => Some("503 5.5.1 Need MAIL command first".into()),
            Some(envelope) if envelope.to.is_empty() => Some("503 5.5.1 Need RCPT command first".into()),
            Some(_) if !args.is_empty() => Some("501 5.5.4 Syntax: DATA".into()),
            Some(_) => None,
        }
    }

    /// Receives the message text and answers for it; `None` when the session must end.
    async fn data(&mut self) -> io::Result<Option<Reply>> {
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        // Whatever happens to the text, the transaction is over (RFC 5321 §4.1.1.4).
        let Some(Envelope { from, to }) = self.envelope.take() else {
            return Ok(Some("503 5.5.1 Need MAIL command first".into()));
        };
        let reply = match read_data(&mut self.reader).await? {
            Data::Complete(raw) => {
                let helo = self.helo.clone().unwrap_or_default();
                if self.shared.store(ReceivedMail { helo, from, to, raw }) {
                    "250 2.0.0 Ok: queued".into()
                } else {
                    "451 4.3.0 Not accepting mail now, try again later".into()
                }
            }
            Data::TooBig => "552 5.3.4 Message size exceeds fixed maximum message size".into(),
            Data::LineTooLong => "500 5.5.2 Line too long".into(),
            Data::Closed => return Ok(None),
            Data::Idle => {
                self.reply(TIMED_OUT).await?;
                return Ok(None);
            }
        };
        Ok(Some(reply))
    }

    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        self.writer.write_all(format!("{reply}\r\n").as_bytes()).await?;
        self.writer.flush().await
    }

    /// Ends the session after its last reply.
    async fn close(mut self) -> io::Result<()> {
        self.writer.shutdown().await?;
        // Closing a socket with unread input makes the kernel answer with a reset, which can
        // destroy the last reply before the client reads it (a pipelining client may have sent
        // more already); read until the client closes, for a bounded time.
        let mut scratch = [0u8; 4096];
        let drain = async {
            while self.reader.read(&mut scratch).await? > 0 {}
            Ok::<_, io::Error>(())
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
        Ok(())
    }
}

/// Splits `FROM:<path> parameters` (after `keyword`, any case) into the address between the
/// angle brackets and the parameters.
fn parse_path<'a>(args: &'a str, keyword: &str) -> Option<(String, &'a str)> {
    if !args.get(..keyword.len())?.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = args.get(keyword.len()..)?.trim_start().strip_prefix('<')?;
    let (path, params) = rest.split_once('>')?;
    // RFC 5321 §4.1.2: a source route (`@relay:user@host`) must be accepted and ignored.
    let mailbox = if path.starts_with('@') { path.split_once(':')?.1 } else { path };
    if mailbox.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    Some((mailbox.to_owned(), params.trim()))
}

async fn next_line<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Input> {
    match tokio::time::timeout(IDLE_TIMEOUT, read_line(reader, MAX_LINE_BYTES)).await {
        Ok(input) => input,
        Err(_) => Ok(Input::Idle),
    }
}

/// Reads one line, LF included. A line longer than `limit` is consumed but not kept, so a
/// client cannot make the sink buffer without bound; a last line without LF counts as closed.
async fn read_line<R: AsyncBufRead + Unpin>(reader: &mut R, limit: usize) -> io::Result<Input> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return Ok(Input::Closed);
        }
        let (taken, complete) = match available.iter().position(|&b| b == b'\n') {
            Some(newline) => (newline + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if line.len() + taken <= limit {
                line.extend_from_slice(&available[..taken]);
            } else {
                too_long = true;
                line = Vec::new();
            }
        }
        reader.consume(taken);
        if complete {
            return Ok(if too_long { Input::TooLong } else { Input::Line(line) });
        }
    }
}

/// Reads the message text up to the line holding a single dot, undoing dot-stuffing
/// (RFC 5321 §4.5.2). Only CRLF ends a line: `<CRLF>.<CRLF>` ends the text and a dot is
/// unstuffed only after CRLF, so a bare-LF variant is ordinary text (as in servers hardened
/// against SMTP smuggling, and as lettre's encoder sees it).
async fn read_data<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Data> {
    let mut raw = Vec::new();
    let mut failure = None;
    let mut line_start = true;
    loop {
        match next_line(reader).await? {
            Input::Line(line) if line_start && line == b".\r\n" => break,
            Input::Line(line) => {
                let at_start = std::mem::replace(&mut line_start, line.ends_with(b"\r\n"));
                if failure.is_some() {
                    continue;
                }
                let text = if at_start { line.strip_prefix(b".").unwrap_or(&line) } else { &line };
                if raw.len() + text.len() > MAX_MESSAGE_BYTES {
                    failure = Some(Data::TooBig);
                    raw = Vec::new();
                } else {
                    raw.extend_from_slice(text);
                }
            }
            Input::TooLong => {
                failure.get_or_insert(Data::LineTooLong);
                raw = Vec::new();
                // Whatever that line ended with, the text is refused; a line starts here.
                line_start = true;
            }
            Input::Closed => return Ok(Data::Closed),
            Input::Idle => return Ok(Data::Idle),
        }
    }
    Ok(failure.unwrap_or(Data::Complete(raw)))
}

/// The `consent-verifier serve` flags that send mail over plain SMTP to `127.0.0.1:port`.
pub fn smtp_args(port: u16) -> Vec<String> {
    ["--mail-transport", "smtp", "--smtp-host", "127.0.0.1", "--smtp-port", &port.to_string(), "--smtp-tls", "none"]
        .map(String::from)
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    use lettre::message::header::{ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue};
    use lettre::message::{Mailbox, MultiPart, SinglePart};
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

    const WAIT: Duration = Duration::from_secs(10);

    /// `List-Unsubscribe` through lettre's typed header API: any name, value RFC 2047-encoded
    /// and folded by lettre.
    #[derive(Debug, Clone)]
    struct ListUnsubscribe(String);

    impl Header for ListUnsubscribe {
        fn name() -> HeaderName {
            HeaderName::new_from_ascii_str("List-Unsubscribe")
        }

        fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
            Ok(Self(s.to_owned()))
        }

        fn display(&self) -> HeaderValue {
            HeaderValue::new(Self::name(), self.0.clone())
        }
    }

    fn mailer(port: u16) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(port)
            .timeout(Some(Duration::from_secs(10)))
            .build()
    }

    fn simple(subject: &str) -> Message {
        Message::builder()
            .from("noreply@example.org".parse().unwrap())
            .to("alice@example.net".parse().unwrap())
            .subject(subject)
            .body(String::from("Hello.\n"))
            .unwrap()
    }

    #[tokio::test]
    async fn smtp_sink_decodes_a_lettre_multipart_alternative_message() {
        let sink = SmtpSink::start().await.unwrap();
        let subject = "Bestätigen Sie Ihre Anmeldung ✓ — «confirmez» 購読";
        let unsubscribe = "<https://consent.example.org/v1/unsubscribe?token=0123456789abcdef0123456789abcdef>, \
                           <mailto:unsubscribe@consent.example.org?subject=unsubscribe>";
        let text = "Hallo Zoë,\nbitte bestätigen Sie: https://consent.example.org/c?t=abc=def\n";
        let html = "<p>Hallo Zoë, bitte <a href=\"https://consent.example.org/c?t=abc=def\">bestätigen</a>.</p>\n\
                    <p>Привет, это письмо — тест.</p>\n";
        let message = Message::builder()
            .from(Mailbox::new(Some("Zoë’s Shop".into()), "noreply@example.org".parse().unwrap()))
            .to("Zoë <zoe@example.net>".parse().unwrap())
            .cc("bob@example.net".parse().unwrap())
            .bcc("audit@example.org".parse().unwrap())
            .subject(subject)
            .message_id(Some("<lead-42.confirm@consent.example.org>".into()))
            .header(ListUnsubscribe(unsubscribe.into()))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .header(ContentTransferEncoding::QuotedPrintable)
                            .body(text.to_owned()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .header(ContentTransferEncoding::Base64)
                            .body(html.to_owned()),
                    ),
            )
            .unwrap();

        mailer(sink.port()).send(message).await.unwrap();
        let mails = sink.wait_for(1, WAIT).await.unwrap();
        assert_eq!(mails.len(), 1);
        let mail = &mails[0];
        let raw = String::from_utf8_lossy(&mail.raw);

        assert_eq!(mail.from, "noreply@example.org");
        assert_eq!(mail.to, ["zoe@example.net", "bob@example.net", "audit@example.org"]);
        assert!(!mail.helo.is_empty());
        assert_eq!(mail.header("bcc"), None, "lettre drops Bcc from the header");
        assert!(raw.contains("=?utf-8?"), "the subject went out RFC 2047-encoded:\n{raw}");
        assert_eq!(mail.subject().as_deref(), Some(subject));
        assert!(raw.contains(",\r\n <mailto:"), "lettre folded List-Unsubscribe:\n{raw}");
        assert_eq!(mail.header("list-unsubscribe").as_deref(), Some(unsubscribe));
        assert_eq!(mail.headers_all("LIST-UNSUBSCRIBE-POST"), ["List-Unsubscribe=One-Click"]);
        assert_eq!(mail.message_id().as_deref(), Some("lead-42.confirm@consent.example.org"));
        assert_eq!(mail.header("Message-ID").as_deref(), Some("<lead-42.confirm@consent.example.org>"));
        assert!(mail.header("Content-Type").unwrap().starts_with("multipart/alternative;"));
        assert!(raw.contains("Content-Transfer-Encoding: quoted-printable"));
        assert!(raw.contains("Content-Transfer-Encoding: base64"));
        // lettre writes bodies with CRLF line ends.
        assert_eq!(
            mail.text_parts(),
            [
                ("text/plain".to_owned(), text.replace('\n', "\r\n")),
                ("text/html".to_owned(), html.replace('\n', "\r\n"))
            ]
        );
        assert_eq!(mail.text_part("TEXT/HTML"), Some(html.replace('\n', "\r\n")));
    }

    #[tokio::test]
    async fn smtp_sink_decodes_lettre_default_encodings_and_long_lines() {
        let sink = SmtpSink::start().await.unwrap();
        // A 3000-character line must not reach the wire as such: lettre picks an encoding.
        let long = "consent ".repeat(375);
        let text = format!("ascii only\n{long}\n");
        let eight_bit = "Grüße, Zoë!\nÇa va?\n";
        let mailer = mailer(sink.port());
        mailer
            .send(
                Message::builder()
                    .from("noreply@example.org".parse().unwrap())
                    .to("alice@example.net".parse().unwrap())
                    .subject("plain ascii subject")
                    .multipart(MultiPart::alternative_plain_html(text.clone(), String::from("<p>hi</p>")))
                    .unwrap(),
            )
            .await
            .unwrap();
        mailer
            .send(
                Message::builder()
                    .from("noreply@example.org".parse().unwrap())
                    .to("alice@example.net".parse().unwrap())
                    .subject("8bit")
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::EightBit)
                    .body(eight_bit.to_owned())
                    .unwrap(),
            )
            .await
            .unwrap();
        let mails = sink.wait_for(2, WAIT).await.unwrap();
        assert_eq!(mails[0].subject().as_deref(), Some("plain ascii subject"));
        assert!(mails[0].raw.split(|&b| b == b'\n').all(|line| line.len() <= 78), "lettre encoded the long line");
        assert_eq!(mails[0].text_part("text/plain"), Some(text.replace('\n', "\r\n")));
        assert_eq!(mails[0].text_part("text/html").as_deref(), Some("<p>hi</p>"));
        assert_eq!(mails[0].message_id(), None, "lettre adds no Message-ID unless asked");
        assert_eq!(mails[1].header("content-transfer-encoding").as_deref(), Some("8bit"));
        // lettre sends `<CRLF>.<CRLF>` after the formatted message, whose body already ends with
        // CRLF: a single-part body arrives with one more empty line.
        assert_eq!(mails[1].text_parts(), [("text/plain".to_owned(), eight_bit.replace('\n', "\r\n") + "\r\n")]);
    }

    #[tokio::test]
    async fn smtp_sink_refusing_is_a_transient_failure_for_lettre() {
        let sink = SmtpSink::start().await.unwrap();
        let mailer = mailer(sink.port());

        sink.set_accepting(false);
        let err = mailer.send(simple("refused")).await.unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert_eq!(err.status().map(u16::from), Some(421), "{err}");
        assert!(sink.messages().is_empty());

        sink.set_accepting(true);
        mailer.send(simple("accepted")).await.unwrap();
        let mails = sink.wait_for(1, WAIT).await.unwrap();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject().as_deref(), Some("accepted"));
    }

    #[tokio::test]
    async fn smtp_sink_stopped_refuses_connections_then_listens_again_on_its_port() {
        let mut sink = SmtpSink::start().await.unwrap();
        let port = sink.port();
        let mailer = mailer(port);
        mailer.send(simple("before")).await.unwrap();

        sink.stop().await;
        assert!(!sink.is_listening());
        let err = mailer.send(simple("while stopped")).await.unwrap_err();
        assert!(!err.is_transient() && !err.is_permanent() && err.status().is_none(), "{err}");

        sink.restart().await.unwrap();
        assert_eq!(sink.port(), port);
        mailer.send(simple("after restart")).await.unwrap();
        let subjects: Vec<_> = sink.wait_for(2, WAIT).await.unwrap().iter().filter_map(ReceivedMail::subject).collect();
        assert_eq!(subjects, ["before", "after restart"]);

        sink.stop().await;
        drop(sink);
        let fresh = SmtpSink::start_on(port).await.unwrap();
        mailer.send(simple("fresh sink")).await.unwrap();
        assert_eq!(fresh.wait_for(1, WAIT).await.unwrap()[0].subject().as_deref(), Some("fresh sink"));
    }

    #[tokio::test]
    async fn smtp_sink_undoes_lettre_dot_stuffing() {
        let sink = SmtpSink::start().await.unwrap();
        let body = ".leading dot\n..two dots\n.\nmiddle\n.\n...\nlast line\n";
        let message = Message::builder()
            .from("noreply@example.org".parse().unwrap())
            .to("alice@example.net".parse().unwrap())
            .subject("dots")
            .header(ContentType::TEXT_PLAIN)
            .header(ContentTransferEncoding::SevenBit)
            .body(body.to_owned())
            .unwrap();
        let formatted = message.formatted();
        mailer(sink.port()).send(message).await.unwrap();
        let mail = sink.wait_for(1, WAIT).await.unwrap().remove(0);
        assert_eq!(mail.text_part("text/plain"), Some(body.replace('\n', "\r\n") + "\r\n"));
        // What arrived is exactly what lettre formatted, plus the CRLF it adds before the final dot.
        assert_eq!(mail.raw, [formatted.as_slice(), b"\r\n"].concat());
    }

    /// A hand-driven client, to check replies byte by byte.
    struct Raw {
        reader: BufReader<OwnedReadHalf>,
        writer: OwnedWriteHalf,
    }

    impl Raw {
        async fn connect(port: u16) -> Raw {
            let (read, writer) = TcpStream::connect(("127.0.0.1", port)).await.unwrap().into_split();
            Raw { reader: BufReader::new(read), writer }
        }

        async fn send(&mut self, text: &str) {
            self.writer.write_all(text.as_bytes()).await.unwrap();
        }

        /// One whole reply (all lines of a multi-line one); empty once the server closed.
        async fn reply(&mut self) -> String {
            let mut reply = String::new();
            loop {
                let mut line = String::new();
                let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line)).await.unwrap().unwrap();
                reply.push_str(&line);
                if n == 0 || line.as_bytes().get(3) != Some(&b'-') {
                    return reply;
                }
            }
        }

        async fn command(&mut self, command: &str) -> String {
            self.send(&format!("{command}\r\n")).await;
            self.reply().await
        }
    }

    #[tokio::test]
    async fn smtp_sink_protocol_sequence_pipelining_and_several_messages() {
        let sink = SmtpSink::start().await.unwrap();
        let mut c = Raw::connect(sink.port()).await;
        assert!(c.reply().await.starts_with("220 "));
        assert!(c.command("MAIL FROM:<a@example.org>").await.starts_with("503 "));
        assert!(c.command("FROB").await.starts_with("500 "));
        assert!(c.command("").await.starts_with("500 "));
        assert!(c.command("VRFY alice").await.starts_with("502 "));
        assert!(c.command("STARTTLS").await.starts_with("502 "));
        assert!(c.command("EHLO").await.starts_with("501 "));

        let ehlo = c.command("ehlo client.test").await;
        let lines: Vec<&str> = ehlo.lines().collect();
        assert!(lines.iter().all(|l| l.starts_with("250")), "{ehlo}");
        assert!(lines[..lines.len() - 1].iter().all(|l| l.starts_with("250-")), "{ehlo}");
        assert!(lines[lines.len() - 1].starts_with("250 "), "{ehlo}");
        assert!(lines.contains(&"250-8BITMIME") && lines.contains(&"250-PIPELINING"), "{ehlo}");
        assert!(lines.contains(&format!("250-SIZE {MAX_MESSAGE_BYTES}").as_str()), "{ehlo}");
        assert!(!ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"), "{ehlo}");

        assert!(c.command("RCPT TO:<x@example.net>").await.starts_with("503 "));
        assert!(c.command("DATA").await.starts_with("503 "));
        assert!(c.command("MAIL FROM:<a@example.org> SIZE=99999999").await.starts_with("552 "));
        assert!(c.command("MAIL FROM:<a@example.org> AUTH=<>").await.starts_with("555 "));
        assert!(c.command("MAIL FROM:a@example.org").await.starts_with("501 "));
        assert!(c.command("MAIL FROM:<a@example.org> BODY=8BITMIME SIZE=100").await.starts_with("250 "));
        assert!(c.command("MAIL FROM:<b@example.org>").await.starts_with("503 "));
        assert!(c.command("DATA").await.starts_with("503 "));
        assert!(c.command("RCPT TO:<>").await.starts_with("501 "));
        assert!(c.command("RCPT TO:<x@example.net>").await.starts_with("250 "));
        assert!(c.command("RSET").await.starts_with("250 "));
        assert!(c.command("DATA").await.starts_with("503 "), "RSET ended the transaction");
        assert!(c.command("NOOP").await.starts_with("250 "));
        let too_long = format!("NOOP {}", "x".repeat(MAX_LINE_BYTES));
        assert!(c.command(&too_long).await.starts_with("500 "));
        assert!(c.command("NOOP").await.starts_with("250 "), "the session survives a long line");

        // Pipelined (RFC 2920): everything up to DATA in one write, replies in order.
        c.send("MAIL FROM:<>\r\nRCPT TO:<one@example.net>\r\nRcpt To: <@relay.example:two@example.net>\r\nDATA\r\n")
            .await;
        for expected in ["250 ", "250 ", "250 ", "354 "] {
            let reply = c.reply().await;
            assert!(reply.starts_with(expected), "{reply}");
        }
        c.send("Subject: first\r\n\r\n..leading dot\r\n.\r\n").await;
        assert!(c.reply().await.starts_with("250 "));

        assert!(c.command("MAIL FROM:<a@example.org>").await.starts_with("250 "));
        assert!(c.command("RCPT TO:<three@example.net>").await.starts_with("250 "));
        assert!(c.command("DATA").await.starts_with("354 "));
        // Bare LF before the dot is text, not the end (no SMTP smuggling).
        c.send("Subject: second\r\n\r\n...\r\nx\n.\nstill text\r\n.\r\n").await;
        assert!(c.reply().await.starts_with("250 "));
        assert!(c.command("QUIT").await.starts_with("221 "));
        assert_eq!(c.reply().await, "", "closed after QUIT");

        let mails = sink.messages();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0].helo, "client.test");
        assert_eq!(mails[0].from, "");
        assert_eq!(mails[0].to, ["one@example.net", "two@example.net"]);
        assert_eq!(mails[0].raw, b"Subject: first\r\n\r\n.leading dot\r\n");
        assert_eq!(mails[1].from, "a@example.org");
        assert_eq!(mails[1].to, ["three@example.net"]);
        assert_eq!(mails[1].raw, b"Subject: second\r\n\r\n..\r\nx\n.\nstill text\r\n");
    }

    #[tokio::test]
    async fn smtp_sink_bounds_message_and_line_size() {
        let sink = SmtpSink::start().await.unwrap();
        let mut c = Raw::connect(sink.port()).await;
        c.reply().await;
        c.command("HELO client.test").await;

        c.command("MAIL FROM:<a@example.org>").await;
        c.command("RCPT TO:<x@example.net>").await;
        assert!(c.command("DATA").await.starts_with("354 "));
        let line = format!("{}\r\n", "y".repeat(998));
        let chunk = line.repeat(1024);
        for _ in 0..=(MAX_MESSAGE_BYTES / chunk.len()) {
            c.send(&chunk).await;
        }
        c.send(".\r\n").await;
        assert!(c.reply().await.starts_with("552 "));

        c.command("MAIL FROM:<a@example.org>").await;
        c.command("RCPT TO:<x@example.net>").await;
        assert!(c.command("DATA").await.starts_with("354 "));
        c.send(&format!("Subject: long\r\n\r\n{}\r\n.\r\n", "z".repeat(MAX_LINE_BYTES))).await;
        assert!(c.reply().await.starts_with("500 "));

        c.command("MAIL FROM:<a@example.org>").await;
        c.command("RCPT TO:<x@example.net>").await;
        assert!(c.command("DATA").await.starts_with("354 "));
        c.send(&format!("Subject: longest allowed\r\n\r\n{line}.\r\n")).await;
        assert!(c.reply().await.starts_with("250 "));

        let mails = sink.messages();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].subject().as_deref(), Some("longest allowed"));
    }

    #[tokio::test]
    async fn smtp_sink_refusing_mid_session_answers_451_then_421() {
        let sink = SmtpSink::start().await.unwrap();
        let mut c = Raw::connect(sink.port()).await;
        c.reply().await;
        c.command("EHLO client.test").await;
        c.command("MAIL FROM:<a@example.org>").await;
        c.command("RCPT TO:<x@example.net>").await;
        assert!(c.command("DATA").await.starts_with("354 "));
        c.send("Subject: in flight\r\n\r\nbody\r\n").await;
        sink.set_accepting(false);
        c.send(".\r\n").await;
        assert!(c.reply().await.starts_with("451 "));
        assert!(c.command("MAIL FROM:<a@example.org>").await.starts_with("421 "));
        assert_eq!(c.reply().await, "", "closed after 421");
        assert!(sink.messages().is_empty());

        let mut c = Raw::connect(sink.port()).await;
        assert!(c.reply().await.starts_with("421 "));
        assert_eq!(c.reply().await, "", "closed after 421");
    }

    #[tokio::test]
    async fn smtp_sink_wait_for_times_out_with_the_count() {
        let sink = SmtpSink::start().await.unwrap();
        let err = sink.wait_for(1, Duration::from_millis(50)).await.unwrap_err();
        assert!(err.to_string().contains("got 0"), "{err}");
    }

    /// The lettre API facts handed to whoever writes the product's mailer, compiled and checked.
    #[tokio::test]
    async fn smtp_sink_lettre_api_facts() {
        // (a) STARTTLS required, port 587, with credentials.
        let submission = AsyncSmtpTransport::<Tokio1Executor>::starttls_relay("smtp.example.org")
            .unwrap()
            .credentials(Credentials::new("user".into(), "secret".into()))
            .build();
        // (b) Implicit TLS, port 465.
        let submissions = AsyncSmtpTransport::<Tokio1Executor>::relay("smtp.example.org")
            .unwrap()
            .credentials(Credentials::new("user".into(), "secret".into()))
            .build();
        // The same from URLs.
        let from_url =
            AsyncSmtpTransport::<Tokio1Executor>::from_url("smtp://user:secret@smtp.example.org?tls=required")
                .unwrap()
                .build();
        let from_url_465 =
            AsyncSmtpTransport::<Tokio1Executor>::from_url("smtps://user:secret@smtp.example.org").unwrap().build();
        // (c) Plain, for a loopback relay (Tls::None is the default of builder_dangerous).
        let plain: AsyncSmtpTransport<Tokio1Executor> =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(2525).tls(Tls::None).build();
        let plain_url = AsyncSmtpTransport::<Tokio1Executor>::from_url("smtp://127.0.0.1:2525").unwrap().build();
        for (transport, port, tls) in [
            (&submission, 587, "Required"),
            (&submissions, 465, "Wrapper"),
            (&from_url, 587, "Required"),
            (&from_url_465, 465, "Wrapper"),
            (&plain, 2525, "None"),
            (&plain_url, 2525, "None"),
        ] {
            let debug = format!("{transport:?}");
            assert!(debug.contains(&format!("port: {port}, tls: {tls},")), "{debug}");
            assert!(!debug.contains("secret"), "credentials stay out of Debug: {debug}");
        }

        // A client that requires STARTTLS gives up on the sink, which does not offer it.
        let sink = SmtpSink::start().await.unwrap();
        let tls = TlsParameters::new("localhost".into()).unwrap();
        let requires_tls = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port())
            .tls(Tls::Required(tls));
        let err = requires_tls.build::<Tokio1Executor>().send(simple("must not go out in clear")).await.unwrap_err();
        assert!(err.to_string().contains("STARTTLS"), "{err}");
        assert!(sink.messages().is_empty());

        // message_id(None) generates `<random@hostname>`.
        let generated = Message::builder()
            .from("noreply@example.org".parse().unwrap())
            .to("alice@example.net".parse().unwrap())
            .message_id(None)
            .body(String::from("x"))
            .unwrap();
        let id = generated.headers().get_raw("Message-ID").unwrap().to_owned();
        assert!(id.starts_with('<') && id.ends_with('>') && id.contains('@'), "{id}");

        // AsyncFileTransport writes `<uuid>.eml` holding `formatted()`; `send` returns the uuid.
        let dir = tempfile::tempdir().unwrap();
        let message = simple("to a file");
        let id = AsyncFileTransport::<Tokio1Executor>::new(dir.path()).send(message.clone()).await.unwrap();
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [format!("{id}.eml")]);
        assert_eq!(id.len(), 36, "a hyphenated UUID: {id}");
        assert_eq!(std::fs::read(dir.path().join(format!("{id}.eml"))).unwrap(), message.formatted());
    }
}
