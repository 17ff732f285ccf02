//! Admin API keys: `cwk_<id>.<secret>`, shown once, stored as the SHA-256 of the secret,
//! compared in constant time, revocable.

use consent_receipt::b64;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::api_keys::ApiKeyRow;
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
    store.insert_api_key(&id, name, &secret_hash(&secret), now).await?;
    Ok((id.clone(), format!("cwk_{id}.{secret}")))
}

/// Revokes a key by id; returns whether it existed.
pub async fn revoke_key(store: &Store, id: &str, now: i64) -> Result<bool, StoreError> {
    store.revoke_api_key(id, now).await
}

/// Every key (ids, names and times; the stored hashes stay in the store).
pub async fn list_keys(store: &Store) -> Result<Vec<ApiKeyRow>, StoreError> {
    store.api_keys().await
}

/// Checks a presented key.
pub async fn check_key(store: &Store, presented: &str) -> Result<KeyCheck, StoreError> {
    let Some((id, secret)) = presented.strip_prefix("cwk_").and_then(|k| k.split_once('.')) else {
        return Ok(KeyCheck::Invalid);
    };
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(KeyCheck::Invalid);
    }
    let Some(row) = store.api_key(id).await? else { return Ok(KeyCheck::Invalid) };
    // Constant time: how much of a guess matches must not show in the answer's timing.
    if !bool::from(row.hash.as_bytes().ct_eq(secret_hash(secret).as_bytes())) {
        return Ok(KeyCheck::Invalid);
    }
    if row.revoked_at.is_some() {
        return Ok(KeyCheck::Revoked);
    }
    Ok(KeyCheck::Valid(row.name))
}
