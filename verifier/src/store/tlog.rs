//! The transparency log's rows: the tree's stored hashes and its signed checkpoints
//! (the consent layer's `tlog` decides what they hold). Every row is derived from the event
//! chain, so a replica that computes a row another one wrote writes the same value: an
//! insert that finds it there changes nothing.

use sqlx::Row;

use super::bulk::{self, Value};
use super::{Store, StoreError};

impl Store {
    /// The latest signed checkpoint: the tree's size and the note.
    pub async fn latest_tlog_checkpoint(&self) -> Result<Option<(u64, String)>, StoreError> {
        let row = sqlx::query("SELECT size, note FROM tlog_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Ok::<_, sqlx::Error>((r.try_get::<i64, _>("size")? as u64, r.try_get("note")?))).transpose()?)
    }

    /// The signed checkpoint of the tree at `size`, if one was published.
    pub async fn tlog_checkpoint(&self, size: u64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT note FROM tlog_checkpoints WHERE size = $1")
            .bind(size as i64)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The stored hashes at these indexes (base64url), in the order asked; an error if one
    /// is missing (the caller asked beyond the tree it integrated).
    pub async fn tlog_hashes(&self, indexes: &[u64]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::with_capacity(indexes.len());
        for chunk in indexes.chunks(500) {
            let list = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let rows = sqlx::query(&format!("SELECT idx, hash FROM tlog_hashes WHERE idx IN ({list})"))
                .fetch_all(&self.pool)
                .await?;
            let found: std::collections::HashMap<i64, String> = rows
                .iter()
                .map(|r| Ok::<_, sqlx::Error>((r.try_get("idx")?, r.try_get("hash")?)))
                .collect::<Result<_, _>>()?;
            for i in chunk {
                let hash =
                    found.get(&(*i as i64)).ok_or_else(|| StoreError::Corrupt(format!("tlog hash {i} missing")))?;
                out.push(hash.clone());
            }
        }
        Ok(out)
    }

    /// The hashes of the events after the first `after` ones, at most `limit`, in chain order.
    pub async fn event_hashes_after(&self, after: u64, limit: u64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Stores the new stored hashes and the checkpoint of the grown tree, together.
    pub async fn append_tlog(&self, hashes: &[(u64, String)], size: u64, note: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows =
            hashes.iter().map(|(idx, hash)| vec![Value::from(*idx as i64), Value::from(hash.as_str())]).collect();
        bulk::insert_then(&mut tx, "tlog_hashes", &["idx", "hash"], rows, " ON CONFLICT (idx) DO NOTHING").await?;
        sqlx::query("INSERT INTO tlog_checkpoints (size, note) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING")
            .bind(size as i64)
            .bind(note)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The size of the last checkpoint `witness` cosigned (0: none yet).
    pub async fn witness_size(&self, witness: &str) -> Result<u64, StoreError> {
        let size: Option<i64> = sqlx::query_scalar("SELECT size FROM tlog_witnesses WHERE url = $1")
            .bind(witness)
            .fetch_optional(&self.pool)
            .await?;
        Ok(size.unwrap_or(0) as u64)
    }

    /// Adds a witness's cosignature line to the note of the checkpoint of `size`, and
    /// records that the witness has seen that size.
    pub async fn add_cosignature(&self, witness: &str, size: u64, line: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE tlog_checkpoints SET note = note || $1 WHERE size = $2")
            .bind(line)
            .bind(size as i64)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO tlog_witnesses (url, size) VALUES ($1, $2) ON CONFLICT (url) DO UPDATE SET size = EXCLUDED.size",
        )
        .bind(witness)
        .bind(size as i64)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
