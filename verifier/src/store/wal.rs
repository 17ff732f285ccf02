//! SQLite's WAL checkpoints, off the writer's path.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1000 pages: that
//! commit copies the WAL's pages into the database file and fsyncs it, and every write of
//! the group-commit batch waits meanwhile. Each accepted lead dirties a page of each index
//! keyed by a random value (its receipt id, its contact hash, its tokens), so a checkpoint
//! came every few batches, and cost more the larger the store, the pages it wrote being
//! scattered over more of the file (`cargo xtask bench`: 0.4 ms more commit per batch with
//! a million leads stored than with ten thousand). So connections do not checkpoint
//! (`wal_autocheckpoint=0`, set in [`super::Store::connect`]) and this task does, on a pool
//! connection beside the writer's, as SQLite's documentation suggests for applications
//! that mind commit latency. A PASSIVE checkpoint never blocks the writer.
//!
//! Durability is unchanged: every commit still fsyncs the WAL (`synchronous=FULL`) before
//! it is acknowledged; a checkpoint only copies committed pages into the database file
//! (and fsyncs it before the WAL is reused). Should the writer outrun the checkpoints so
//! that the WAL grows past [`RESTART_FRAMES`], a RESTART checkpoint waits for the batch in
//! hand and starts the WAL over.

use std::time::Duration;

use sqlx::{AnyPool, Row};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the WAL is checkpointed.
const EVERY: Duration = Duration::from_millis(100);

/// WAL frames (pages of 4 KiB: 64 MiB) past which the checkpoint waits for the writer.
const RESTART_FRAMES: i64 = 16_384;

/// The running checkpointer.
#[derive(Debug)]
pub(super) struct Checkpointer {
    handle: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Checkpointer {
    /// Starts checkpointing `pool`'s database.
    pub(super) fn spawn(pool: AnyPool) -> Checkpointer {
        let (stop, stopped) = watch::channel(false);
        Checkpointer { handle: tokio::spawn(run(pool, stopped)), stop }
    }

    /// Stops after the checkpoint in hand (closing the pool checkpoints what is left).
    pub(super) async fn finish(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

async fn run(pool: AnyPool, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => break,
        }
        let done = match checkpoint(&pool, "PASSIVE").await {
            Ok(frames) if frames > RESTART_FRAMES => checkpoint(&pool, "RESTART").await.map(|_| ()),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "a WAL checkpoint failed; trying again shortly");
        }
    }
}

/// Runs one checkpoint in `mode`; returns the WAL's length in frames.
async fn checkpoint(pool: &AnyPool, mode: &str) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(&format!("PRAGMA wal_checkpoint({mode})")).fetch_one(pool).await?;
    row.try_get::<i64, _>(1)
}
