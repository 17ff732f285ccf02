//! The links in mails: a token's row and the lead it belongs to.

use sqlx::Row;

use super::bulk::Value;
use super::{Store, StoreError, json_list};
use crate::domain::confirmation::{self, Confirmed};
use crate::domain::{LeadStatus, TokenPurpose};

/// A token and the lead it belongs to, for deciding what its link does.
#[derive(Debug, Clone)]
pub struct TokenLead {
    /// What the token is for.
    pub purpose: TokenPurpose,
    /// Expiry.
    pub expires_at: Option<i64>,
    /// When it was used.
    pub used_at: Option<i64>,
    /// The lead.
    pub lead_id: String,
    /// Its receipt id.
    pub jti: String,
    /// Its status.
    pub status: LeadStatus,
    /// Notice id.
    pub notice_id: String,
    /// Digest of the notice version shown.
    pub notice_digest: String,
    /// Language shown.
    pub notice_lang: String,
    /// Purposes granted now.
    pub granted: Vec<String>,
    /// Contact e-mail.
    pub email: Option<String>,
    /// Contact phone (E.164).
    pub phone: Option<String>,
    /// Guardian e-mail, for a minor.
    pub guardian_email: Option<String>,
    /// The channels whose double opt-in is confirmed.
    pub confirmed: Confirmed,
}

impl TokenLead {
    /// Whether the token can still be used at `now`.
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e < now)
    }
}

/// Wrong tries after which a lead's SMS code dies.
pub const MAX_CODE_ATTEMPTS: i64 = 5;

impl Store {
    /// Counts a wrong code against a lead's live codes; after [`MAX_CODE_ATTEMPTS`] they
    /// die, so the million codes cannot be tried one by one. (Not an event: nothing about
    /// the consent changed.)
    pub async fn wrong_code(&self, lead_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tokens SET attempts = attempts + 1 WHERE lead_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(lead_id)
        .bind(TokenPurpose::Code.as_str())
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE tokens SET used_at = $1 WHERE lead_id = $2 AND purpose = $3 AND used_at IS NULL AND attempts >= $4",
        )
        .bind(now)
        .bind(lead_id)
        .bind(TokenPurpose::Code.as_str())
        .bind(MAX_CODE_ATTEMPTS)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token with this hash and its lead, if both exist.
    pub async fn token_lead(&self, hash: &str) -> Result<Option<TokenLead>, StoreError> {
        let row = sqlx::query(
            "SELECT t.purpose, t.expires_at, t.used_at, l.id, l.jti, l.status, l.notice_id, l.notice_digest, \
             l.notice_lang, l.granted, l.email, l.phone, l.guardian_email, l.confirmed_channels \
             FROM tokens t JOIN leads l ON l.id = t.lead_id WHERE t.hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(TokenLead {
            purpose: r.try_get::<String, _>("purpose")?.parse()?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            lead_id: r.try_get("id")?,
            jti: r.try_get("jti")?,
            status: r.try_get::<String, _>("status")?.parse()?,
            notice_id: r.try_get("notice_id")?,
            notice_digest: r.try_get("notice_digest")?,
            notice_lang: r.try_get("notice_lang")?,
            granted: json_list(&r.try_get::<String, _>("granted")?),
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            guardian_email: r.try_get("guardian_email")?,
            confirmed: confirmation::from_column(r.try_get::<Option<String>, _>("confirmed_channels")?.as_deref()),
        }))
    }
}

/// A token to store: only its hash.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the token, base64url.
    pub hash: String,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// Expiry, if any.
    pub expires_at: Option<i64>,
}

/// The rows that store token hashes: `(lead id, token, created at)`.
pub(super) fn rows<'a>(tokens: impl IntoIterator<Item = (&'a str, &'a NewToken, i64)>) -> Vec<Vec<Value>> {
    tokens
        .into_iter()
        .map(|(lead_id, t, at)| {
            vec![t.hash.clone().into(), lead_id.into(), t.purpose.as_str().into(), at.into(), t.expires_at.into()]
        })
        .collect()
}

/// Stores token hashes, many leads' in one statement.
pub(super) async fn insert(conn: &mut sqlx::AnyConnection, rows: Vec<Vec<Value>>) -> Result<(), sqlx::Error> {
    super::bulk::insert(conn, "tokens", &["hash", "lead_id", "purpose", "created_at", "expires_at"], rows).await
}

/// Marks a token used (a single-use link).
pub(super) async fn use_token(conn: &mut sqlx::AnyConnection, hash: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
