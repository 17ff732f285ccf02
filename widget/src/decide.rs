//! What the receipt says, from what the visitor did: pure logic, tested natively and in
//! the browser.

use crate::prelude::*;
use consent_receipt::{Age, Claims, Contact, Decision, Evidence, GuardianContact, LegalBasis, NoticeRef};

/// One box as the visitor left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxState {
    pub purpose: String,
    /// `checked` in the DOM at submission: the truth of what is sent. On an objection box
    /// (soft opt-in, B2B, non-commercial) ticked means objected.
    pub checked: bool,
    /// The purpose's legal basis.
    pub basis: LegalBasis,
    /// The last change to this box was a trusted user gesture that ticked it.
    pub ticked_by_gesture: bool,
    /// When the box last changed, if it did.
    pub changed_at: Option<i64>,
    /// The purpose's channel is SMS (otherwise e-mail): a grant needs that address.
    pub sms: bool,
}

/// The phone field as the visitor left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneField<'a> {
    /// No phone field, or nothing typed in it.
    Empty,
    /// A number read as E.164.
    Number(&'a str),
    /// Something typed that is not a phone number we can read.
    Unreadable,
}

/// The age answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeAnswer {
    Unanswered,
    Adult,
    Minor,
}

/// Everything needed to make a receipt.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub boxes: &'a [BoxState],
    pub initially_unchecked: bool,
    pub age: AgeAnswer,
    pub email: &'a str,
    pub phone: PhoneField<'a>,
    pub guardian: &'a str,
    /// The sale a soft opt-in rests on, and the person's job function for B2B (empty: none).
    pub order_ref: &'a str,
    pub job: &'a str,
    pub now: i64,
    pub page: &'a str,
}

impl BoxState {
    /// The purpose may go ahead: a consent box ticked, or an objection box left unticked.
    fn goes_ahead(&self) -> bool {
        self.checked != self.basis.offers_objection()
    }

    /// A consent box ticked: only this needs a gesture and, for a minor, a guardian.
    fn consented(&self) -> bool {
        self.checked && !self.basis.offers_objection()
    }
}

/// Why the form cannot be recorded yet; the visitor can fix each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// An e-mail purpose is ticked and there is no e-mail address.
    Email,
    /// An SMS purpose is ticked and there is no phone number.
    Phone,
    /// An SMS purpose is ticked and the phone number cannot be read.
    BadPhone,
    Age,
    Guardian,
    GuardianIsSelf,
    /// A soft opt-in goes ahead without an order reference: soft opt-in needs a sale.
    OrderRef,
    /// A B2B purpose goes ahead without the person's job function.
    Job,
}

/// What the session with the verifier fixed: who signs for whom, and which notice.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub jti: String,
    pub audience: &'a str,
    pub origin: &'a str,
    pub nonce: &'a str,
    pub notice: NoticeRef,
    pub threshold: u8,
    pub jurisdiction: &'a str,
}

/// The claims for this submission, `Ok(None)` when there is nothing to record (no
/// contact and nothing granted), or what the visitor still has to give.
pub fn claims(ctx: Context<'_>, i: &Inputs<'_>) -> Result<Option<Claims>, Missing> {
    let any_grant = i.boxes.iter().any(BoxState::goes_ahead);
    let any_consent = i.boxes.iter().any(BoxState::consented);
    let email = i.email.trim();
    let (order, job) = (i.order_ref.trim(), i.job.trim());
    // The conditions of soft opt-in and B2B (receipt rule 8, `order-required`,
    // `job-function-required`); an objection needs none.
    for b in i.boxes.iter().filter(|b| b.goes_ahead()) {
        match b.basis {
            LegalBasis::SoftOptIn if order.is_empty() => return Err(Missing::OrderRef),
            LegalBasis::B2b if job.is_empty() => return Err(Missing::Job),
            _ => {}
        }
    }
    // Each grant needs an address on its own channel (receipt rule 8, `missing-address`).
    if email.is_empty() && i.boxes.iter().any(|b| b.goes_ahead() && !b.sms) {
        return Err(Missing::Email);
    }
    let phone = match i.phone {
        PhoneField::Number(n) => Some(n),
        _ => None,
    };
    if i.boxes.iter().any(|b| b.goes_ahead() && b.sms) {
        match i.phone {
            PhoneField::Empty => return Err(Missing::Phone),
            PhoneField::Unreadable => return Err(Missing::BadPhone),
            PhoneField::Number(_) => {}
        }
    }
    if email.is_empty() && phone.is_none() {
        return if any_grant { Err(Missing::Email) } else { Ok(None) };
    }
    // The age answer matters for consents: a refusal, or an objection offered instead of
    // consent, needs no guardian.
    let minor = match i.age {
        AgeAnswer::Minor => true,
        AgeAnswer::Adult => false,
        AgeAnswer::Unanswered if any_consent => return Err(Missing::Age),
        AgeAnswer::Unanswered => false,
    };
    let guardian = if minor && any_consent {
        let g = i.guardian.trim();
        if g.is_empty() {
            return Err(Missing::Guardian);
        }
        if g.eq_ignore_ascii_case(email) {
            return Err(Missing::GuardianIsSelf);
        }
        Some(GuardianContact { email: g.to_string() })
    } else {
        None
    };
    let text = |t: &str| (!t.is_empty()).then(|| t.to_string());
    let decisions = i
        .boxes
        .iter()
        .map(|b| {
            let mut d = Decision::new(b.purpose.clone(), b.goes_ahead(), b.changed_at.unwrap_or(i.now).min(i.now));
            if b.basis.offers_objection() {
                d.objection_offered = true;
                d.objected = Some(b.checked);
                match b.basis {
                    LegalBasis::SoftOptIn => d.order_ref = text(order),
                    LegalBasis::B2b => d.job_function = text(job),
                    _ => {}
                }
            }
            d
        })
        .collect();
    Ok(Some(Claims {
        jti: ctx.jti,
        iat: i.now,
        aud: ctx.audience.to_string(),
        iss: ctx.origin.to_string(),
        nonce: ctx.nonce.to_string(),
        notice: ctx.notice,
        contact: Contact { email: (!email.is_empty()).then(|| email.to_string()), phone: phone.map(str::to_string) },
        decisions,
        evidence: Evidence {
            initially_unchecked: i.initially_unchecked,
            // A box ticked by script, not by the visitor, makes the whole receipt say so.
            trusted_gesture: i.boxes.iter().filter(|b| b.consented()).all(|b| b.ticked_by_gesture),
            page: i.page.to_string(),
        },
        age: Age { minor, threshold: ctx.threshold, jurisdiction: ctx.jurisdiction.to_string(), guardian },
        guardian_for: None,
    }))
}

/// A parent's receipt (guardian mode): the one box says yes or no to everything the
/// child asked for; every purpose is still decided, the others refused.
pub fn guardian_claims(
    ctx: Context<'_>,
    i: &Inputs<'_>,
    child_granted: &[String],
    child_jti: &str,
    purposes: &[crate::api::Purpose],
) -> Result<Option<Claims>, Missing> {
    let agreed = i.boxes.first().is_some_and(|b| b.checked);
    let by_gesture = i.boxes.first().is_some_and(|b| b.ticked_by_gesture);
    let at = i.boxes.first().and_then(|b| b.changed_at).unwrap_or(i.now).min(i.now);
    let boxes: Vec<BoxState> = purposes
        .iter()
        .map(|p| BoxState {
            purpose: p.id.clone(),
            checked: agreed && child_granted.contains(&p.id),
            ticked_by_gesture: by_gesture,
            changed_at: Some(at),
            sms: p.channel == "sms",
            // The parent's one box says yes to the child's whole request.
            basis: LegalBasis::Consent,
        })
        .collect();
    let inputs = Inputs { boxes: &boxes, age: AgeAnswer::Adult, ..i.clone() };
    let mut claims = match claims(ctx, &inputs)? {
        Some(c) => c,
        None => return Err(Missing::Email),
    };
    claims.guardian_for = Some(consent_receipt::GuardianFor { jti: child_jti.to_string() });
    Ok(Some(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context<'static> {
        Context {
            jti: "j".into(),
            audience: "https://v.example",
            origin: "https://shop.example",
            nonce: "n",
            notice: NoticeRef { id: "n".into(), version: 1, lang: "fr".into(), digest: "d".into() },
            threshold: 15,
            jurisdiction: "FR",
        }
    }

    fn boxes(checked: &[(bool, bool)]) -> Vec<BoxState> {
        checked
            .iter()
            .enumerate()
            .map(|(i, (c, g))| BoxState {
                purpose: format!("p{i}"),
                checked: *c,
                ticked_by_gesture: *g,
                changed_at: Some(90),
                sms: false,
                basis: LegalBasis::Consent,
            })
            .collect()
    }

    fn inputs<'a>(b: &'a [BoxState], age: AgeAnswer, guardian: &'a str) -> Inputs<'a> {
        Inputs {
            boxes: b,
            initially_unchecked: true,
            age,
            email: "a@example.org",
            phone: PhoneField::Empty,
            guardian,
            order_ref: "",
            job: "",
            now: 100,
            page: "https://shop.example/",
        }
    }

    #[test]
    fn every_purpose_gets_a_decision_refusals_included() {
        let b = boxes(&[(true, true), (false, false)]);
        let c = claims(ctx(), &inputs(&b, AgeAnswer::Adult, "")).unwrap().unwrap();
        assert_eq!(c.decisions.iter().map(|d| d.granted).collect::<Vec<_>>(), [true, false]);
        assert!(c.evidence.trusted_gesture);
    }

    #[test]
    fn a_box_ticked_by_script_makes_the_receipt_untrusted() {
        let b = boxes(&[(true, false)]);
        let c = claims(ctx(), &inputs(&b, AgeAnswer::Adult, "")).unwrap().unwrap();
        assert!(!c.evidence.trusted_gesture);
    }

    #[test]
    fn a_grant_needs_the_age_answer_but_a_refusal_does_not() {
        let granted = boxes(&[(true, true)]);
        assert_eq!(claims(ctx(), &inputs(&granted, AgeAnswer::Unanswered, "")).unwrap_err(), Missing::Age);
        let refused = boxes(&[(false, false)]);
        assert!(claims(ctx(), &inputs(&refused, AgeAnswer::Unanswered, "")).unwrap().is_some());
    }

    #[test]
    fn a_minor_granting_needs_a_guardian_other_than_themselves() {
        let b = boxes(&[(true, true)]);
        assert_eq!(claims(ctx(), &inputs(&b, AgeAnswer::Minor, "")).unwrap_err(), Missing::Guardian);
        assert_eq!(claims(ctx(), &inputs(&b, AgeAnswer::Minor, "A@example.org")).unwrap_err(), Missing::GuardianIsSelf);
        let c = claims(ctx(), &inputs(&b, AgeAnswer::Minor, "parent@example.org")).unwrap().unwrap();
        assert!(c.age.minor);
        assert_eq!(c.age.guardian.unwrap().email, "parent@example.org");
    }

    #[test]
    fn nothing_is_recorded_without_a_contact_when_nothing_is_granted() {
        let b = boxes(&[(false, false)]);
        let mut i = inputs(&b, AgeAnswer::Adult, "");
        i.email = " ";
        assert!(claims(ctx(), &i).unwrap().is_none());
    }

    #[test]
    fn a_grant_needs_an_address_on_its_own_channel() {
        let mut b = boxes(&[(false, false), (true, true)]);
        b[1].sms = true;
        let mut i = inputs(&b, AgeAnswer::Adult, "");
        assert_eq!(claims(ctx(), &i).unwrap_err(), Missing::Phone, "an SMS box ticked, no phone");
        i.phone = PhoneField::Unreadable;
        assert_eq!(claims(ctx(), &i).unwrap_err(), Missing::BadPhone, "an SMS box ticked, an unreadable phone");
        i.phone = PhoneField::Number("+33612345678");
        i.email = "";
        let c = claims(ctx(), &i).unwrap().unwrap();
        assert_eq!(c.contact.phone.as_deref(), Some("+33612345678"));
        assert_eq!(c.contact.email, None);
        let mut both = b.clone();
        both[0].checked = true;
        both[0].ticked_by_gesture = true;
        let i = Inputs { boxes: &both, ..i };
        assert_eq!(claims(ctx(), &i).unwrap_err(), Missing::Email, "an e-mail box ticked with a phone only");
    }

    #[test]
    fn an_unreadable_phone_does_not_block_an_e_mail_only_choice() {
        let b = boxes(&[(true, true)]);
        let mut i = inputs(&b, AgeAnswer::Adult, "");
        i.phone = PhoneField::Unreadable;
        let c = claims(ctx(), &i).unwrap().unwrap();
        assert_eq!(c.contact.phone, None, "nothing unreadable goes into the receipt");
    }

    #[test]
    fn an_objection_box_records_that_it_was_offered_and_how_it_was_left() {
        let mut b = boxes(&[(false, false), (true, false)]);
        b[0].basis = LegalBasis::NonCommercial;
        b[1].basis = LegalBasis::NonCommercial;
        let c = claims(ctx(), &inputs(&b, AgeAnswer::Unanswered, "")).unwrap().unwrap();
        let d = &c.decisions;
        assert_eq!((d[0].granted, d[0].objection_offered, d[0].objected), (true, true, Some(false)));
        assert_eq!((d[1].granted, d[1].objection_offered, d[1].objected), (false, true, Some(true)));
        assert!(c.evidence.trusted_gesture, "an objection ticked by script only restricts");
        assert!(!c.age.minor, "no consent, no age question");
    }

    #[test]
    fn a_soft_opt_in_needs_the_order_and_b2b_the_job_unless_objected() {
        let mut b = boxes(&[(false, false), (false, false)]);
        b[0].basis = LegalBasis::SoftOptIn;
        b[1].basis = LegalBasis::B2b;
        let mut i = inputs(&b, AgeAnswer::Adult, "");
        assert_eq!(claims(ctx(), &i).unwrap_err(), Missing::OrderRef);
        i.order_ref = " A-1042 ";
        assert_eq!(claims(ctx(), &i).unwrap_err(), Missing::Job);
        i.job = "Facility manager";
        let c = claims(ctx(), &i).unwrap().unwrap();
        assert_eq!(c.decisions[0].order_ref.as_deref(), Some("A-1042"));
        assert_eq!(c.decisions[1].job_function.as_deref(), Some("Facility manager"));
        let mut objected = b.clone();
        objected.iter_mut().for_each(|b| b.checked = true);
        let i = Inputs { boxes: &objected, order_ref: "", job: "", ..i };
        assert!(claims(ctx(), &i).unwrap().unwrap().decisions.iter().all(|d| d.objected == Some(true)));
    }
}
