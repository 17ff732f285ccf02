//! The demo transport: one JSON file per SMS in `<data-dir>/sms-outbox/`, written
//! atomically and durably ([`crate::files::write_atomic`]), named by the message id so
//! that a message sent twice is one file. The link goes to the log, never the number.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::mail::SendError;
use crate::store::outbox::Claimed;

/// Writes SMS as files.
#[derive(Debug, Clone)]
pub struct FileSms {
    dir: PathBuf,
}

impl FileSms {
    /// Creates the folder if needed.
    pub fn new(dir: &Path) -> anyhow::Result<FileSms> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating the SMS outbox {}", dir.display()))?;
        crate::files::remove_temporaries(dir).with_context(|| format!("cleaning the SMS outbox {}", dir.display()))?;
        Ok(FileSms { dir: dir.to_path_buf() })
    }

    /// Writes one SMS.
    pub async fn send(&self, sms: &Claimed) -> Result<(), SendError> {
        let body = serde_json::json!({"id": sms.id, "from": sms.from, "to": sms.to, "text": sms.message});
        let path = self.dir.join(format!("{}.json", sms.id));
        crate::files::write_in_background(path.clone(), body.to_string().into_bytes())
            .await
            .map_err(|e| SendError::Transient(format!("writing {}: {e}", path.display())))?;
        tracing::info!(kind = %sms.kind, file = %path.display(), link = %sms.link, "SMS written to the outbox folder");
        Ok(())
    }
}
