//! Group commit: one task applies every chain-appending write, batching whatever is
//! queued into one transaction, and answers each caller only after the commit.
//!
//! SQLite has a single writer and `synchronous=FULL` costs an fsync per commit; sharing
//! that fsync among all writes that arrived meanwhile keeps every acknowledged write
//! durable at a rate no per-request transaction reaches. On PostgreSQL the same batching
//! saves round trips, and the lock on the chain head orders replicas' batches.

use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::accept::{AcceptOutcome, NewLead, insert_leads};
use super::chain::Chain;
use super::transitions::{self, LifeOp, LifeOutcome};
use super::wal::Checkpointer;
use super::{Backend, Store, StoreError};
use crate::stages::{self, Stage};

/// Most writes committed together.
const MAX_BATCH: usize = 512;

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
        // SQLite's WAL is checkpointed beside the writer, never inside one of its commits.
        let wal = (store.backend == Backend::Sqlite).then(|| Checkpointer::spawn(store.pool.clone()));
        let handle = tokio::spawn(stages::timed(Stage::Writer, run(store, rx, stopped)));
        (Writer { tx }, WriterTask { handle, stop, wal })
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
    wal: Option<Checkpointer>,
}

impl WriterTask {
    /// Refuses new writes, commits every queued one, and waits for the task to end.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.handle.await;
        if let Some(wal) = self.wal {
            wal.finish().await;
        }
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

async fn apply(store: &Store, jobs: &[Job]) -> Result<Vec<OpResult>, sqlx::Error> {
    let started = stages::enabled().then(Instant::now);
    let mut tx = match store.backend {
        // IMMEDIATE takes the write lock now rather than failing to upgrade later.
        Backend::Sqlite => store.pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => store.pool.begin().await?,
    };
    let mut chain = Chain::lock(&mut tx, store.backend).await?;
    let leads: Vec<&NewLead> = jobs
        .iter()
        .filter_map(|j| match &j.op {
            Op::Accept(lead) => Some(&**lead),
            Op::Life(_) => None,
        })
        .collect();
    let mut accepted = insert_leads(&mut tx, &mut chain, &leads).await?.into_iter();
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        results.push(match &job.op {
            Op::Accept(_) => OpResult::Accept(accepted.next().unwrap_or(AcceptOutcome::Replay)),
            Op::Life(op) => OpResult::Life(transitions::apply(&mut tx, &mut chain, &op.0, op.1).await?),
        });
    }
    chain.save(&mut tx).await?;
    let committing = started.map(|s| (s.elapsed(), Instant::now()));
    tx.commit().await?;
    if let Some((statements, commit)) = committing {
        stages::batch(jobs.len(), statements, commit.elapsed());
    }
    Ok(results)
}
