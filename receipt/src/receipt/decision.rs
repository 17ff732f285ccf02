//! One purpose's decision in a receipt, and what an objection box adds to it.

use alloc::string::String;

use serde::{Deserialize, Serialize};

/// One purpose's decision. Refusals are recorded as carefully as grants.
///
/// On a purpose whose legal basis is consent only `purpose`, `granted` and `at` are
/// present (wire format v1 as first published, byte for byte). On `soft_opt_in`, `b2b` and
/// `non_commercial` (see [`LegalBasis::offers_objection`](crate::LegalBasis::offers_objection))
/// the person was offered an objection box instead of a consent box: `objection_offered` is
/// `true`, `objected` says whether they ticked it, and `granted` is `!objected` (the purpose
/// may go ahead on its basis, not on consent). `soft_opt_in` adds the sale's `order_ref`,
/// `b2b` the person's `job_function`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Purpose id from the notice.
    pub purpose: String,
    /// Whether the visitor ticked the box (for an objection box: did not tick it).
    pub granted: bool,
    /// When the box was last changed (or, for an untouched box, when the form was sent).
    pub at: i64,
    /// An objection box ("I do not want to receive …", unticked) was shown for this purpose.
    #[serde(default, skip_serializing_if = "core::ops::Not::not")]
    pub objection_offered: bool,
    /// Whether the person ticked the objection box; present exactly when one was offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objected: Option<bool>,
    /// `soft_opt_in`: the reference of the sale during which the address was collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ref: Option<String>,
    /// `b2b`: the person's job function, as they gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_function: Option<String>,
}

impl Decision {
    /// A decision on a consent purpose: ticked (`granted`) or not, at `at`.
    pub fn new(purpose: impl Into<String>, granted: bool, at: i64) -> Decision {
        Decision {
            purpose: purpose.into(),
            granted,
            at,
            objection_offered: false,
            objected: None,
            order_ref: None,
            job_function: None,
        }
    }

    /// A decision on a purpose offered with an objection box, ticked (`objected`) or not.
    pub fn objection(purpose: impl Into<String>, objected: bool, at: i64) -> Decision {
        Decision { objection_offered: true, objected: Some(objected), ..Decision::new(purpose, !objected, at) }
    }
}

/// What the decisions of a receipt say, purpose by purpose.
impl super::Claims {
    /// Purposes the visitor granted: ticked consent boxes, and purposes whose objection box
    /// was left unticked.
    pub fn granted(&self) -> impl Iterator<Item = &str> {
        self.decisions.iter().filter(|d| d.granted).map(|d| d.purpose.as_str())
    }

    /// Purposes granted by consent: ticked boxes, not objection boxes left unticked. Only
    /// these need a trusted gesture and a minor's guardian, and only these lift an earlier
    /// withdrawal.
    pub fn consented(&self) -> impl Iterator<Item = &str> {
        self.decisions.iter().filter(|d| d.granted && !d.objection_offered).map(|d| d.purpose.as_str())
    }

    /// Purposes whose objection box the person ticked.
    pub fn objected(&self) -> impl Iterator<Item = &str> {
        self.decisions.iter().filter(|d| d.objected == Some(true)).map(|d| d.purpose.as_str())
    }
}
