//! Life-cycle transitions, each applied inside the writer's transaction: the guard it
//! checks, the rows it changes and the events it appends commit together or not at all.
//!
//! What a transition does is decided beforehand by the `consent` layer from the state it
//! read (next status, messages, tokens, suppressions). Each transition here first checks,
//! under the chain lock, that the state is still the one the decision was made on (the
//! [`guard`]); if it is not, nothing is written and the answer is
//! [`LifeOutcome::Stale`], and the caller decides again from fresh state.
//!
//! ```text
//! refused
//! pending_confirmation --confirm--> active --withdraw--> withdrawn
//! awaiting_guardian --guardian agrees--> pending_confirmation | active
//!                   --guardian refuses--> refused_by_guardian
//! active --retention nears its end--> asked to renew --renews--> active (clock restarted)
//!        --retention ends-----------------------------------> expired (row deleted)
//! withdrawn | refused --after a delay--> contact erased (keyed hashes stay)
//! (any) --retention--> purged (row deleted; events and suppressions stay)
//! ```

mod confirm;
mod contact;
mod erase;
mod guard;
mod guardian;
mod lift;
mod object;
mod purge;
mod renew;
mod resend;
mod sent;
mod withdraw;

use sqlx::AnyConnection;

pub use confirm::Confirm;
pub use contact::RecordContact;
pub use erase::{Erase, Erasure};
pub use guardian::Guardian;
pub use object::Object;
pub use purge::{Ending, Purge};
pub use renew::{AskRenewal, Renew};
pub use resend::ResendConfirmation;
pub use withdraw::{Withdraw, WithdrawTarget};

use super::chain::Chain;
use crate::domain::LeadStatus;

/// A transition for the writer.
#[derive(Debug, Clone)]
pub enum LifeOp {
    /// The double opt-in click.
    Confirm(Confirm),
    /// A fresh confirmation message replacing an expired link.
    ResendConfirmation(ResendConfirmation),
    /// The guardian's answer, with their own signed receipt.
    Guardian(Box<Guardian>),
    /// Withdrawal of some granted purposes, or all.
    Withdraw(Withdraw),
    /// The provider accepted an outbox message.
    MailSent {
        /// Outbox row.
        outbox_id: String,
    },
    /// An objection received anywhere, and the suppressions it puts in force.
    Object(Object),
    /// Retention: delete these leads' personal data.
    Purge(Purge),
    /// A contact reported by the site's systems (a click): the retention starts again.
    RecordContact(RecordContact),
    /// Retention nears its end: ask the lead to renew, once.
    AskRenewal(Box<AskRenewal>),
    /// The renewal: a new confirmed consent, the retention starts again.
    Renew(Renew),
    /// Withdrawn or refused leads, after the delay: only keyed hashes of the contact stay.
    Erase(Erase),
    /// An event about no lead (an inbound SMS that asked for nothing we act on).
    Record {
        /// What it records.
        kind: crate::domain::EventKind,
        /// Its data (never contact data).
        data: serde_json::Value,
    },
}

/// What a transition did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifeOutcome {
    /// Applied; the lead's status now.
    Done {
        /// Lead.
        lead_id: String,
        /// Status after the transition.
        status: LeadStatus,
    },
    /// The state changed since the decision was made: nothing was written.
    Stale,
    /// A signed request or receipt id already used: nothing was written.
    Replay,
    /// How many leads a purge removed, or messages marked sent.
    Count(usize),
}

/// Applies one transition at time `now`.
pub(super) async fn apply(
    conn: &mut AnyConnection,
    chain: &mut Chain,
    op: &LifeOp,
    now: i64,
) -> Result<LifeOutcome, sqlx::Error> {
    match op {
        LifeOp::Confirm(t) => confirm::apply(conn, chain, t, now).await,
        LifeOp::ResendConfirmation(t) => resend::apply(conn, chain, t, now).await,
        LifeOp::Guardian(t) => guardian::apply(conn, chain, t, now).await,
        LifeOp::Withdraw(t) => withdraw::apply(conn, chain, t, now).await,
        LifeOp::MailSent { outbox_id } => sent::apply(conn, chain, outbox_id, now).await,
        LifeOp::Purge(t) => purge::apply(conn, chain, t, now).await,
        LifeOp::Object(t) => object::apply(conn, chain, t, now).await,
        LifeOp::RecordContact(t) => contact::apply(conn, chain, t, now).await,
        LifeOp::AskRenewal(t) => renew::ask(conn, chain, t, now).await,
        LifeOp::Renew(t) => renew::renew(conn, chain, t, now).await,
        LifeOp::Erase(t) => erase::apply(conn, chain, t, now).await,
        LifeOp::Record { kind, data } => {
            chain.append(None, None, *kind, data, now)?;
            Ok(LifeOutcome::Count(1))
        }
    }
}
