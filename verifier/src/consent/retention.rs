//! Retention (rule 23): prospect data is kept three years (each notice version's
//! `retention_days`) from collection or from the prospect's last contact, then the person
//! is asked again or the data is deleted. One job, once an hour on every replica:
//!
//! - a lead whose retention ended is deleted, whatever notice it came from, a notice no
//!   longer served included, with the retention its version was served with: an active
//!   consent ends as `consent_expired`, any other lead as `purged`. Its events (which hold
//!   no contact data) and any suppression entry stay, so the chain still verifies and a
//!   withdrawal still holds;
//! - an active lead whose retention ends soon is asked, once, to renew ([`super::renewal`]);
//! - a withdrawn or refused lead, after `--erase-contacts-after`, keeps its contact only as
//!   keyed hashes (the suppression list's), without its receipt, which names it;
//! - a lead that never completed its double opt-in or its parent's approval is deleted
//!   after `--unconfirmed-after` (30 days): nobody may write to it, so nothing justifies
//!   keeping it for the three years of a consent (`purged`, reason `unconfirmed`).
//!
//! A click reported through the admin API is contact ([`super::activity`]); an open never is.

use std::time::Duration;

use consent_receipt::Email;
use tokio::sync::watch;

use super::tokens::{contact_hash, phone_hash};
use crate::domain::{EventKind, LeadStatus};
use crate::state::AppState;
use crate::store::retention::ByLastContact;
use crate::store::{Ending, Erase, Erasure, LifeOp, LifeOutcome, Purge, StoreError};

/// The retention of a notice version served before its retention was recorded: the
/// default of a notice file's `retention_days`, three years (the CNIL référentiel).
pub const DEFAULT_DAYS: i64 = 1095;

/// A day, in seconds.
pub const DAY: i64 = 86_400;

/// Leads handled per transaction.
pub(super) const BATCH: i64 = 100;

/// A retention in seconds, from the days a version was served with.
pub fn span(retention_days: Option<i64>) -> i64 {
    retention_days.unwrap_or(DEFAULT_DAYS) * DAY
}

/// When the retention of a lead last contacted at `last_contact_at` ends.
pub fn ends_at(last_contact_at: i64, retention_days: Option<i64>) -> i64 {
    last_contact_at + span(retention_days)
}

/// What one run of the job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Leads deleted at the end of their retention (expired or purged).
    pub deleted: usize,
    /// Leads asked to renew.
    pub asked: usize,
    /// Withdrawn or refused leads whose contact data was erased.
    pub erased: usize,
    /// Leads deleted because they never completed their double opt-in or approval.
    pub unconfirmed: usize,
}

/// The whole job, once: deletes what ended, asks what ends soon, erases what was withdrawn.
pub async fn run_once(state: &AppState) -> Result<Report, StoreError> {
    let deleted = purge_once(state).await?;
    let asked = super::renewal::ask_once(state).await?;
    let erased = erase_once(state).await?;
    let unconfirmed = unconfirmed_once(state).await?;
    if deleted + asked + erased + unconfirmed > 0 {
        tracing::info!(deleted, asked, erased, unconfirmed, "retention job");
    }
    Ok(Report { deleted, asked, erased, unconfirmed })
}

/// Deletes every lead past its retention, of any notice ever served; returns how many.
pub async fn purge_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let mut total = 0;
    for days in state.store.retention_periods().await? {
        total += delete_pages(state, Due::Ended { days, cutoff: now - span(days) }).await?;
    }
    Ok(total)
}

/// Deletes the leads that waited for their double opt-in or a parent longer than
/// `--unconfirmed-after`; returns how many.
pub async fn unconfirmed_once(state: &AppState) -> Result<usize, StoreError> {
    let cutoff = state.clock.now() - state.config.retention.unconfirmed_after.as_secs() as i64;
    delete_pages(state, Due::Unconfirmed { cutoff }).await
}

/// Which leads a deletion pass is for.
#[derive(Debug, Clone, Copy)]
enum Due {
    /// Those of the versions served with `days` of retention, without contact since `cutoff`.
    Ended { days: Option<i64>, cutoff: i64 },
    /// Those still waiting for a double opt-in or a parent, with no step since `cutoff`.
    Unconfirmed { cutoff: i64 },
}

/// Deletes, a page at a time, the leads `due` names (an active consent ends as
/// `consent_expired`, any other lead as `purged`), each only if it is still as it was read;
/// returns how many.
async fn delete_pages(state: &AppState, due: Due) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let (mut total, mut after) = (0, ByLastContact::start());
    loop {
        let (page, reason) = match due {
            Due::Ended { days, cutoff } => (state.store.leads_ended(days, cutoff, &after, BATCH).await?, "retention"),
            Due::Unconfirmed { cutoff } => {
                (state.store.leads_waiting_since(cutoff, &after, BATCH).await?, "unconfirmed")
            }
        };
        let Some(last) = page.last() else { return Ok(total) };
        after = ByLastContact { last_contact_at: last.last_contact_at, id: last.id.clone() };
        let leads = page
            .into_iter()
            .map(|l| Ending {
                event: if l.status == LeadStatus::Active { EventKind::ConsentExpired } else { EventKind::Purged },
                lead_id: l.id,
                expect_status: l.status,
                expect_last_contact: l.last_contact_at,
            })
            .collect();
        if let LifeOutcome::Count(n) = state.writer.life(LifeOp::Purge(Purge { leads, reason }), now).await? {
            total += n;
        }
    }
}

/// Erases the contact data of every withdrawn or refused lead that ended more than
/// `--erase-contacts-after` ago, keeping keyed hashes of its addresses; returns how many.
pub async fn erase_once(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let delay = state.config.retention.erase_contacts_after.as_secs() as i64;
    let cutoff = now - delay;
    let mut total = 0;
    let mut after = String::new();
    loop {
        let page = state.store.erasures_due(cutoff, &after, BATCH).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        let leads = page
            .into_iter()
            .map(|l| Erasure {
                // Leads stored before their hashes were kept get them now, from the same keys.
                contact_hash: l
                    .contact_hash
                    .or_else(|| l.email.as_deref().and_then(|e| Email::parse(e).ok()).map(|e| contact_hash(state, &e))),
                phone_hash: l.phone_hash.or_else(|| l.phone.as_deref().map(|p| phone_hash(state, p))),
                lead_id: l.id,
                expect_status: l.status,
            })
            .collect();
        let op = Erase { leads, after_days: delay / DAY };
        if let LifeOutcome::Count(n) = state.writer.life(LifeOp::Erase(op), now).await? {
            total += n;
        }
    }
    Ok(total)
}

/// Runs the job once an hour (and once at start) until `stop`.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = run_once(&state).await {
            tracing::warn!(error = ?anyhow::Error::from(e), "retention job failed; will retry");
        }
        if super::pause(&mut stop, Duration::from_secs(3600)).await {
            break;
        }
    }
}
