//! Group commit: one task applies every chain-appending write, batching whatever is
//! queued into one transaction, and answers each caller only after the commit.
//!
//! SQLite has a single writer and `synchronous=FULL` costs an fsync per commit; sharing
//! that fsync among all writes that arrived meanwhile keeps every acknowledged write
//! durable at a rate no per-request transaction reaches. On PostgreSQL the same batching
//! saves round trips, and the `FOR UPDATE` on the chain head orders replicas' batches.

use std::collections::{HashMap, HashSet};

use consent_receipt::event_hash;
use consent_receipt::notice::canonical_json;
use sqlx::AnyConnection;
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::ops::{LifeOp, LifeOutcome, apply_life};
use super::{Backend, Store, StoreError};
use crate::mail::OutgoingMail;

/// Most writes committed together.
const MAX_BATCH: usize = 512;

/// A lead to insert, with the events its acceptance appends.
#[derive(Debug, Clone)]
pub struct NewLead {
    /// Lead id.
    pub id: String,
    /// Receipt id (unique: rule 10).
    pub jti: String,
    /// Notice id.
    pub notice_id: String,
    /// Notice version.
    pub notice_version: u32,
    /// Notice language.
    pub notice_lang: String,
    /// Notice digest.
    pub notice_digest: String,
    /// Compact receipt as received.
    pub receipt: String,
    /// Its SHA-256.
    pub receipt_sha256: String,
    /// The seal.
    pub seal: String,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// Declared minor.
    pub minor: bool,
    /// Guardian e-mail.
    pub guardian_email: Option<String>,
    /// Granted purposes.
    pub granted: Vec<String>,
    /// Extra form fields (JSON object).
    pub fields: serde_json::Value,
    /// Origin of the page.
    pub origin: String,
    /// Visitor's public key (base64url).
    pub visitor_key: String,
    /// Initial status.
    pub status: String,
    /// Acceptance time.
    pub created_at: i64,
    /// The receipt's `iat`: a withdrawal after it wins over it.
    pub signed_at: i64,
    /// Keyed hash of the normalised e-mail (suppression list, withdrawal by contact).
    pub contact_hash: Option<String>,
    /// Events to append: kind and data.
    pub events: Vec<(String, serde_json::Value)>,
    /// Tokens its mails carry (hashes only).
    pub tokens: Vec<NewToken>,
    /// Mails to queue in the same transaction.
    pub mails: Vec<OutgoingMail>,
}

/// A token to store: only its hash.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the token, base64url.
    pub hash: String,
    /// `confirm`, `guardian` or `unsubscribe`.
    pub purpose: &'static str,
    /// Expiry, if any.
    pub expires_at: Option<i64>,
}

/// What became of a lead submitted to the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Stored and durable.
    Accepted,
    /// A lead with this `jti` already exists (rule 10): nothing was written.
    Replay,
    /// The contact withdrew a granted purpose after this receipt was signed: an old
    /// receipt cannot undo a withdrawal. Nothing was written.
    Suppressed,
}

enum Op {
    Accept(Box<NewLead>),
    Life(Box<(LifeOp, i64)>),
}

enum OpResult {
    Accept(AcceptOutcome),
    Life(LifeOutcome),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<OpResult, StoreError>>,
}

/// Handle to the writer task. Cloning shares the task.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Writer {
    /// Starts the writer task. It stops when [`WriterTask::finish`] is called (after
    /// committing what is queued) or when every handle is dropped.
    pub fn spawn(store: Store) -> (Writer, WriterTask) {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let (stop, stopped) = oneshot::channel();
        let handle = tokio::spawn(run(store, rx, stopped));
        (Writer { tx }, WriterTask { handle, stop })
    }

    /// Whether the writer task has stopped.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    async fn submit(&self, op: Op) -> Result<OpResult, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Job { op, reply }).await.map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Inserts a lead and appends its events, unless its `jti` is already stored.
    /// Returns once the write is committed.
    pub async fn accept(&self, lead: NewLead) -> Result<AcceptOutcome, StoreError> {
        match self.submit(Op::Accept(Box::new(lead))).await? {
            OpResult::Accept(outcome) => Ok(outcome),
            OpResult::Life(_) => Err(StoreError::WriterGone),
        }
    }

    /// Applies a life-cycle transition at time `now`; returns once it is committed.
    pub async fn life(&self, op: LifeOp, now: i64) -> Result<LifeOutcome, StoreError> {
        match self.submit(Op::Life(Box::new((op, now)))).await? {
            OpResult::Life(outcome) => Ok(outcome),
            OpResult::Accept(_) => Err(StoreError::WriterGone),
        }
    }
}

/// The running writer, to stop at shutdown.
#[derive(Debug)]
pub struct WriterTask {
    handle: tokio::task::JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl WriterTask {
    /// Refuses new writes, commits every queued one, and waits for the task to end.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.handle.await;
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, mut stop: oneshot::Receiver<()>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    loop {
        let received = if stopping {
            rx.recv_many(&mut batch, MAX_BATCH).await
        } else {
            tokio::select! {
                n = rx.recv_many(&mut batch, MAX_BATCH) => n,
                _ = &mut stop => {
                    // No new writes; what is already queued is still committed below.
                    rx.close();
                    stopping = true;
                    continue;
                }
            }
        };
        if received == 0 {
            break;
        }
        match apply(&store, &batch).await {
            Ok(results) => {
                for (job, result) in batch.drain(..).zip(results) {
                    let _ = job.reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size = batch.len(), "batch commit failed; retrying its writes one by one");
                for job in batch.drain(..) {
                    let result = apply(&store, std::slice::from_ref(&job)).await.and_then(|mut r| {
                        r.pop().ok_or_else(|| sqlx::Error::Protocol("a write produced no result".into()))
                    });
                    if let Err(e) = &result {
                        tracing::error!(error = %e, "a write failed");
                    }
                    let _ = job.reply.send(result.map_err(StoreError::from));
                }
            }
        }
    }
}

/// The chain head, as read under the batch's lock.
pub(super) struct Chain {
    seq: i64,
    hash: String,
}

async fn begin(pool: &AnyPool, backend: Backend) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    match backend {
        // IMMEDIATE takes the write lock now rather than failing to upgrade later.
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
        Backend::Postgres => pool.begin().await,
    }
}

async fn apply(store: &Store, jobs: &[Job]) -> Result<Vec<OpResult>, sqlx::Error> {
    let mut tx = begin(&store.pool, store.backend).await?;
    let lock = match store.backend {
        Backend::Sqlite => "SELECT seq, hash FROM chain_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE",
    };
    let head = sqlx::query(lock).fetch_one(&mut *tx).await?;
    let mut chain = Chain { seq: head.try_get("seq")?, hash: head.try_get("hash")? };
    let start = chain.seq;
    let mut events = Vec::new();
    let leads: Vec<&NewLead> = jobs
        .iter()
        .filter_map(|j| match &j.op {
            Op::Accept(lead) => Some(&**lead),
            Op::Life(_) => None,
        })
        .collect();
    let mut accepted = insert_leads(&mut tx, &mut chain, &leads, &mut events).await?.into_iter();
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(match &job.op {
            Op::Accept(_) => OpResult::Accept(accepted.next().unwrap_or(AcceptOutcome::Replay)),
            Op::Life(op) => {
                OpResult::Life(apply_life(&mut tx, &mut chain, &op.0, &mut events, store.backend, op.1).await?)
            }
        });
    }
    insert_events(&mut tx, &events).await?;
    if chain.seq != start {
        sqlx::query("UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(chain.seq)
            .bind(&chain.hash)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// An event ready to insert, its hash computed in chain order.
pub(super) struct EventRow {
    seq: i64,
    lead_id: Option<String>,
    lead_prev: Option<String>,
    kind: String,
    data: String,
    at: i64,
    prev: String,
    /// This event's hash.
    pub(super) hash: String,
}

impl Chain {
    /// Appends an event; `lead_prev` is the lead's previous event hash (its chain).
    pub(super) fn append(
        &mut self,
        lead_id: Option<&str>,
        lead_prev: Option<&str>,
        kind: &str,
        data: &serde_json::Value,
        at: i64,
    ) -> Result<EventRow, sqlx::Error> {
        let seq = self.seq + 1;
        let hash = event_hash(seq, lead_id, lead_prev, kind, data, at, &self.hash);
        let text = canonical_json(data).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let row = EventRow {
            seq,
            lead_id: lead_id.map(str::to_string),
            lead_prev: lead_prev.map(str::to_string),
            kind: kind.to_string(),
            data: text,
            at,
            prev: std::mem::replace(&mut self.hash, hash.clone()),
            hash,
        };
        self.seq = seq;
        Ok(row)
    }
}

/// Multi-row statements are prepared once per shape: batches are cut into chunks of
/// these sizes, so at most four shapes per statement exist.
fn chunk_sizes(mut n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for size in [64, 16, 4, 1] {
        while n >= size {
            out.push(size);
            n -= size;
        }
    }
    out
}

fn placeholders(rows: usize, cols: usize) -> String {
    let mut s = String::new();
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!("${}", r * cols + c + 1));
        }
        s.push(')');
    }
    s
}

const LEAD_COLUMNS: usize = 22;

/// Withdrawals still in force for the contacts of a batch, by (contact, notice).
async fn suppressions_for(
    conn: &mut AnyConnection,
    leads: &[&NewLead],
) -> Result<HashMap<(String, String), Vec<(String, i64)>>, sqlx::Error> {
    let hashes: Vec<&str> = leads.iter().filter_map(|l| l.contact_hash.as_deref()).collect();
    let mut found: HashMap<(String, String), Vec<(String, i64)>> = HashMap::new();
    for chunk in hashes.chunks(256) {
        let sql = format!(
            "SELECT contact_hash, notice_id, purpose, created_at FROM suppressions \
             WHERE lifted_at IS NULL AND contact_hash IN ({})",
            (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = q.bind(*h);
        }
        for row in q.fetch_all(&mut *conn).await? {
            found
                .entry((row.try_get("contact_hash")?, row.try_get("notice_id")?))
                .or_default()
                .push((row.try_get("purpose")?, row.try_get("created_at")?));
        }
    }
    Ok(found)
}

async fn insert_leads(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    leads: &[&NewLead],
    events: &mut Vec<EventRow>,
) -> Result<Vec<AcceptOutcome>, sqlx::Error> {
    // A jti twice in one batch: only its first submission can be new.
    let mut seen = HashSet::new();
    let fresh: Vec<bool> = leads.iter().map(|l| seen.insert(l.jti.as_str())).collect();
    let suppressed = if leads.iter().any(|l| l.contact_hash.is_some()) {
        suppressions_for(conn, leads).await?
    } else {
        HashMap::new()
    };
    // Per lead: refused by a later withdrawal, or the withdrawals its fresh grant lifts.
    let mut blocked = vec![false; leads.len()];
    let mut lifts: Vec<Vec<String>> = vec![Vec::new(); leads.len()];
    for (i, lead) in leads.iter().enumerate() {
        let Some(hash) = &lead.contact_hash else { continue };
        let Some(rows) = suppressed.get(&(hash.clone(), lead.notice_id.clone())) else { continue };
        for (purpose, since) in rows {
            if lead.granted.iter().any(|g| g == purpose) {
                if lead.signed_at <= *since {
                    blocked[i] = true;
                } else {
                    lifts[i].push(purpose.clone());
                }
            }
        }
    }
    // Receipts already stored. Under the chain-head lock nobody else inserts meanwhile
    // (every writer, on every replica, takes it first), so this check cannot go stale; the
    // unique index stays the last word if it ever did.
    let mut stored = HashSet::new();
    let ids: Vec<&str> =
        leads.iter().enumerate().filter(|(i, _)| fresh[*i] && !blocked[*i]).map(|(_, l)| l.jti.as_str()).collect();
    for chunk in ids.chunks(256) {
        let sql = format!(
            "SELECT jti FROM leads WHERE jti IN ({})",
            (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        let mut q = sqlx::query(&sql);
        for jti in chunk {
            q = q.bind(*jti);
        }
        for row in q.fetch_all(&mut *conn).await? {
            stored.insert(row.try_get::<String, _>("jti")?);
        }
    }
    let mut outcomes = Vec::with_capacity(leads.len());
    let mut accepted: Vec<(&NewLead, String)> = Vec::new();
    let (mut tokens, mut mails) = (Vec::new(), Vec::new());
    for (i, lead) in leads.iter().enumerate() {
        if blocked[i] {
            outcomes.push(AcceptOutcome::Suppressed);
            continue;
        }
        if !fresh[i] || stored.contains(&lead.jti) {
            outcomes.push(AcceptOutcome::Replay);
            continue;
        }
        let mut last = consent_receipt::GENESIS.to_string();
        for (kind, data) in &lead.events {
            let e = chain.append(Some(&lead.id), Some(&last), kind, data, lead.created_at)?;
            last = e.hash.clone();
            events.push(e);
        }
        if !lifts[i].is_empty() {
            super::ops::lift_suppressions(conn, lead, &lifts[i]).await?;
            let data = serde_json::json!({"purposes": lifts[i], "receipt_jti": lead.jti});
            let e = chain.append(Some(&lead.id), Some(&last), "suppression_lifted", &data, lead.created_at)?;
            last = e.hash.clone();
            events.push(e);
        }
        tokens.extend(lead.tokens.iter().map(|t| (*lead, t)));
        mails.extend(lead.mails.iter().map(|m| (lead.id.as_str(), m, lead.created_at)));
        accepted.push((lead, last));
        outcomes.push(AcceptOutcome::Accepted);
    }
    let mut offset = 0;
    for size in chunk_sizes(accepted.len()) {
        let chunk = &accepted[offset..offset + size];
        offset += size;
        let sql = format!(
            "INSERT INTO leads (id, jti, notice_id, notice_version, notice_lang, notice_digest, receipt, \
             receipt_sha256, seal, email, phone, minor, guardian_email, granted, fields, origin, visitor_key, \
             status, created_at, last_contact_at, contact_hash, last_event_hash) VALUES {}",
            placeholders(size, LEAD_COLUMNS)
        );
        let mut q = sqlx::query(&sql);
        for (l, last) in chunk {
            q = q
                .bind(l.id.clone())
                .bind(l.jti.clone())
                .bind(l.notice_id.clone())
                .bind(i64::from(l.notice_version))
                .bind(l.notice_lang.clone())
                .bind(l.notice_digest.clone())
                .bind(l.receipt.clone())
                .bind(l.receipt_sha256.clone())
                .bind(l.seal.clone())
                .bind(l.email.clone())
                .bind(l.phone.clone())
                .bind(i64::from(l.minor))
                .bind(l.guardian_email.clone())
                .bind(serde_json::to_string(&l.granted).unwrap_or_else(|_| "[]".into()))
                .bind(serde_json::to_string(&l.fields).unwrap_or_else(|_| "{}".into()))
                .bind(l.origin.clone())
                .bind(l.visitor_key.clone())
                .bind(l.status.clone())
                .bind(l.created_at)
                .bind(l.created_at)
                .bind(l.contact_hash.clone())
                .bind(last.clone());
        }
        q.execute(&mut *conn).await?;
    }
    insert_tokens(conn, &tokens.iter().map(|(l, t)| (l.id.as_str(), *t, l.created_at)).collect::<Vec<_>>()).await?;
    insert_mails(conn, &mails).await?;
    Ok(outcomes)
}

/// Stores token hashes: `(lead id, token, created at)`.
pub(super) async fn insert_tokens(
    conn: &mut AnyConnection,
    tokens: &[(&str, &NewToken, i64)],
) -> Result<(), sqlx::Error> {
    let mut offset = 0;
    for size in chunk_sizes(tokens.len()) {
        let sql = format!(
            "INSERT INTO tokens (hash, lead_id, purpose, created_at, expires_at) VALUES {}",
            placeholders(size, 5)
        );
        let mut q = sqlx::query(&sql);
        for (lead_id, t, at) in &tokens[offset..offset + size] {
            q = q.bind(t.hash.clone()).bind(lead_id.to_string()).bind(t.purpose).bind(*at).bind(t.expires_at);
        }
        offset += size;
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Queues composed mails: `(lead id, mail, created at)`.
pub(super) async fn insert_mails(
    conn: &mut AnyConnection,
    mails: &[(&str, &OutgoingMail, i64)],
) -> Result<(), sqlx::Error> {
    let mut offset = 0;
    for size in chunk_sizes(mails.len()) {
        let sql = format!(
            "INSERT INTO outbox (id, lead_id, kind, message_id, envelope_from, recipient, message, link, created_at, \
             attempts, next_attempt_at, claimed_until) VALUES {}",
            placeholders(size, 12)
        );
        let mut q = sqlx::query(&sql);
        for (lead_id, m, at) in &mails[offset..offset + size] {
            q = q
                .bind(m.id.clone())
                .bind(lead_id.to_string())
                .bind(m.kind.clone())
                .bind(m.message_id.clone())
                .bind(m.from.clone())
                .bind(m.to.clone())
                .bind(m.message.clone())
                .bind(m.link.clone())
                .bind(*at)
                .bind(0i64)
                .bind(*at)
                .bind(0i64);
        }
        offset += size;
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

const EVENT_COLUMNS: usize = 8;

async fn insert_events(conn: &mut AnyConnection, events: &[EventRow]) -> Result<(), sqlx::Error> {
    let mut offset = 0;
    for size in chunk_sizes(events.len()) {
        let sql = format!(
            "INSERT INTO events (seq, lead_id, lead_prev, kind, data, at, prev, hash) VALUES {}",
            placeholders(size, EVENT_COLUMNS)
        );
        let mut q = sqlx::query(&sql);
        for e in &events[offset..offset + size] {
            q = q
                .bind(e.seq)
                .bind(e.lead_id.clone())
                .bind(e.lead_prev.clone())
                .bind(e.kind.clone())
                .bind(e.data.clone())
                .bind(e.at)
                .bind(e.prev.clone())
                .bind(e.hash.clone());
        }
        offset += size;
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_few_statement_shapes() {
        assert_eq!(chunk_sizes(0), Vec::<usize>::new());
        assert_eq!(chunk_sizes(5), [4, 1]);
        assert_eq!(chunk_sizes(150), [64, 64, 16, 4, 1, 1]);
        assert_eq!(chunk_sizes(150).iter().sum::<usize>(), 150);
    }

    #[test]
    fn placeholders_number_every_parameter() {
        assert_eq!(placeholders(2, 2), "($1, $2), ($3, $4)");
    }
}
