//! Admin API keys: `cwk_<id>.<secret>`, shown once, stored as the SHA-256 of the secret,
//! compared in constant time, revocable.

use consent_receipt::b64;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::store::{Store, StoreError};

/// What a presented key turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// A live key; its name.
    Valid(String),
    /// Unknown, malformed or wrong.
    Invalid,
    /// It was revoked.
    Revoked,
}

fn secret_hash(secret: &str) -> String {
    b64::encode(&Sha256::digest(secret.as_bytes()))
}

/// Creates a key; returns `(id, the key itself)`. The key is not stored: show it once.
pub async fn create_key(store: &Store, name: &str, now: i64) -> anyhow::Result<(String, String)> {
    let id: String = crate::keys::random::<8>()?.iter().map(|b| format!("{b:02x}")).collect();
    let secret = b64::encode(&crate::keys::random::<32>()?);
    sqlx::query("INSERT INTO api_keys (id, name, hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(name)
        .bind(secret_hash(&secret))
        .bind(now)
        .execute(store.pool())
        .await?;
    Ok((id.clone(), format!("cwk_{id}.{secret}")))
}

/// Revokes a key by id; returns whether it existed.
pub async fn revoke_key(store: &Store, id: &str, now: i64) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every key: id, name, created, revoked.
pub async fn list_keys(store: &Store) -> Result<Vec<(String, String, i64, Option<i64>)>, StoreError> {
    let rows = sqlx::query("SELECT id, name, created_at, revoked_at FROM api_keys ORDER BY created_at")
        .fetch_all(store.pool())
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok::<_, sqlx::Error>((
                r.try_get("id")?,
                r.try_get("name")?,
                r.try_get("created_at")?,
                r.try_get("revoked_at")?,
            ))
        })
        .collect::<Result<_, _>>()?)
}

/// Checks a presented key.
pub async fn check_key(store: &Store, presented: &str) -> Result<KeyCheck, StoreError> {
    let Some((id, secret)) = presented.strip_prefix("cwk_").and_then(|k| k.split_once('.')) else {
        return Ok(KeyCheck::Invalid);
    };
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(KeyCheck::Invalid);
    }
    let row = sqlx::query("SELECT name, hash, revoked_at FROM api_keys WHERE id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    let Some(row) = row else { return Ok(KeyCheck::Invalid) };
    let stored: String = row.try_get("hash")?;
    // Constant time: how much of a guess matches must not show in the answer's timing.
    if !bool::from(stored.as_bytes().ct_eq(secret_hash(secret).as_bytes())) {
        return Ok(KeyCheck::Invalid);
    }
    if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
        return Ok(KeyCheck::Revoked);
    }
    Ok(KeyCheck::Valid(row.try_get("name")?))
}
