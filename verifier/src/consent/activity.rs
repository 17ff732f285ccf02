//! Contact reported by the site's systems (rule 23): a click in a marketing message is the
//! prospect's contact and starts the retention period again; opening a message never is
//! one (the CNIL counts a click, not an open, and an open is a pixel that mail programs and
//! privacy protections load on their own), so an open is refused and recorded nowhere.

use consent_receipt::Channel;

use super::retention::ends_at;
use super::{settle, settled};
use crate::domain::LeadStatus;
use crate::error::{ApiError, Code};
use crate::state::AppState;
use crate::store::{LifeOp, RecordContact};

/// What a caller reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// A click on a link of a message.
    Click,
    /// An open (a tracking pixel loaded): not contact.
    Open,
}

impl Activity {
    /// `click` or `open`.
    pub fn parse(kind: &str) -> Result<Activity, ApiError> {
        match kind {
            "click" => Ok(Activity::Click),
            "open" => Ok(Activity::Open),
            _ => Err(ApiError::malformed("kind must be click (an open is not contact, and is refused)")),
        }
    }
}

/// A contact recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The lead.
    pub lead_id: String,
    /// When the click happened.
    pub at: i64,
    /// The lead's last contact now.
    pub last_contact_at: i64,
    /// When its retention ends now.
    pub retention_ends_at: i64,
}

/// Records `activity` of lead `lead_id` at `at` (now when `None`), in a message of `channel`.
pub async fn record(
    state: &AppState,
    lead_id: &str,
    activity: Activity,
    at: Option<i64>,
    channel: Option<Channel>,
) -> Result<Recorded, ApiError> {
    if activity == Activity::Open {
        return Err(ApiError::new(
            Code::OpenIsNotContact,
            "opening a message is not contact: only a click restarts the retention period; nothing was recorded",
        ));
    }
    let now = state.clock.now();
    let at = at.unwrap_or(now);
    let not_found = || ApiError::not_found("no lead has this id, or its data was deleted");
    let clock = state.store.lead_clock(lead_id).await?.ok_or_else(not_found)?;
    if at > now + state.config.clock_skew.as_secs() as i64 {
        return Err(ApiError::malformed("at is in the future"));
    }
    if at < clock.created_at {
        return Err(ApiError::malformed("at is before the lead was accepted"));
    }
    settle(|| async move {
        let clock = state.store.lead_clock(lead_id).await?.ok_or_else(not_found)?;
        if clock.status != LeadStatus::Active {
            return Err(ApiError::new(
                Code::WrongState,
                format!("the lead is {}: a click restarts the retention of an active consent only", clock.status),
            ));
        }
        let end = ends_at(clock.last_contact_at, clock.retention_days);
        if at >= end {
            return Err(ApiError::new(
                Code::WrongState,
                "the lead's retention ended before this click: its consent expired and its data is being deleted",
            ));
        }
        let op = RecordContact { lead_id: lead_id.to_string(), kind: "click", at, channel };
        let last_contact_at = clock.last_contact_at.max(at);
        Ok(settled(state.writer.life(LifeOp::RecordContact(op), now).await?).map(|_| Recorded {
            lead_id: lead_id.to_string(),
            at,
            last_contact_at,
            retention_ends_at: ends_at(last_contact_at, clock.retention_days),
        }))
    })
    .await
}
