//! Reading objections: which ones a contact made, to say why a permission is no.

use sqlx::Row;

use super::{Store, StoreError};

impl Store {
    /// The objections recorded for this contact (its keyed e-mail or phone hash): each
    /// one's scope (`all`, `notice:<id>`, `purpose:<id>`), source and time received.
    pub async fn objections_of(&self, contact_hash: &str) -> Result<Vec<(String, String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT scope, source, received_at FROM objections WHERE contact_hash = $1")
            .bind(contact_hash)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("scope")?, r.try_get("source")?, r.try_get("received_at")?))).collect()
    }
}
