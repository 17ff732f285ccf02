//! Signed checkpoints of the chain head, and the guardians' receipts a proof carries.

use consent_receipt::{CheckpointClaims, SealedReceipt};
use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// The latest published checkpoint: its JWS and claims.
    pub async fn latest_checkpoint(&self) -> Result<Option<(String, CheckpointClaims)>, StoreError> {
        let row = sqlx::query("SELECT count, head, at, jws FROM checkpoints ORDER BY count DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|r| {
                Ok::<_, sqlx::Error>((
                    r.try_get("jws")?,
                    CheckpointClaims { count: r.try_get("count")?, head: r.try_get("head")?, iat: r.try_get("at")? },
                ))
            })
            .transpose()?)
    }

    /// Publishes a checkpoint; replicas may sign the same head at once, and the first
    /// one stands.
    pub async fn insert_checkpoint(&self, claims: &CheckpointClaims, jws: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (count, head, at, jws) VALUES ($1, $2, $3, $4) ON CONFLICT (count) DO NOTHING",
        )
        .bind(claims.count)
        .bind(&claims.head)
        .bind(claims.iat)
        .bind(jws)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The guardians' own sealed receipts kept beside a minor's lead, oldest first.
    pub async fn guardian_receipts(&self, lead_id: &str) -> Result<Vec<SealedReceipt>, StoreError> {
        let rows = sqlx::query("SELECT receipt, seal FROM guardian_receipts WHERE lead_id = $1 ORDER BY created_at")
            .bind(lead_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SealedReceipt {
                    receipt: r.try_get::<Option<String>, _>("receipt")?.unwrap_or_default(),
                    seal: r.try_get("seal")?,
                })
            })
            .collect()
    }
}
