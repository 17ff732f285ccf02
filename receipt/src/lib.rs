//! # consent-receipt
//!
//! The protocol shared by the consent widget, the verifier and anyone who receives leads:
//! signed consent receipts, the verifier's seals, and the notices they point to.
//!
//! - [`Claims`] is a receipt's payload (wire format v1). [`Claims::sign`] makes the compact
//!   JWS (`alg: EdDSA`, the visitor's public key in the header's `jwk`).
//! - [`VerifiedReceipt::verify`] checks rules 1–3 (structure, strict Ed25519 signature,
//!   schema); its `check_*` methods check the rules that need only a notice, a clock and
//!   the verifier's URL.
//! - [`Notice`] is exactly what the visitor was shown; [`Notice::digest`] is the SHA-256 of
//!   its RFC 8785 canonical JSON, which the receipt names.
//! - A [`Decision`] on a purpose whose [`LegalBasis`] is soft opt-in, B2B or non-commercial
//!   records the objection box offered instead of a consent box (`objection_offered`,
//!   `objected`) and what the basis needs (`order_ref`, `job_function`);
//!   [`Notice::basis_problems`] and [`VerifiedReceipt::check_bases`] check the conditions
//!   (LAW.md rules 20–22). A decision on a consent purpose keeps the first v1 shape.
//! - [`SealClaims`] is the verifier's countersignature; [`verify_seal_of`] checks one
//!   against a [`Jwks`] (the verifier's `/.well-known/jwks.json`).
//! - [`ProofBundle`] is one lead's whole proof of consent; [`verify_bundle`] checks it
//!   offline: receipts, seals, notice text, every event, checkpoint and export statement.
//! - [`VerifyError`] has one variant per rule, each with a stable code.
//!
//! Checking a lead you bought, offline:
//!
//! ```
//! # use consent_receipt::*;
//! fn check(receipt: &str, seal: &str, notice: &Notice, jwks: &Jwks) -> Result<(), VerifyError> {
//!     let r = VerifiedReceipt::verify(receipt)?;            // rules 1-3
//!     r.check_against(notice, "https://consent.example.com")?; // rules 5 (aud), 7, 8, 9
//!     verify_seal_of(seal, receipt, jwks)?;                  // the verifier accepted it
//!     Ok(())
//! }
//! ```
//!
//! No I/O, no async: this crate builds for `wasm32-unknown-unknown` as well as natively.

#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

pub mod b64;
pub mod contact;
pub mod error;
pub mod event;
pub mod export;
pub mod jwk;
pub mod jws;
pub mod notice;
pub mod proof;
pub mod receipt;
pub mod recipient;
pub mod seal;
pub mod tlog;
pub mod withdrawal;

pub use contact::{Email, PhoneE164};
pub use error::{ErrorInfo, ErrorKind, VerifyError};
pub use event::{Event, GENESIS, event_hash};
pub use jwk::{Jwk, Jwks, thumbprint};
pub use notice::{Channel, Controller, LegalBasis, Notice, Purpose, age_of_digital_consent, is_identifier};
pub use proof::{
    BUNDLE_FORMAT, CHECKPOINT_TYP, CheckpointClaims, ProofBundle, ProofReport, STATEMENT_TYP, SealedReceipt,
    StatementClaims, sign_statement, verify_bundle, verify_statement,
};
pub use receipt::{
    Age, Claims, Contact, Decision, Evidence, GuardianContact, GuardianFor, NoticeRef, RECEIPT_TYP, VerifiedReceipt,
    VerifyStep, sha256_b64,
};
pub use seal::{SEAL_TYP, SealClaims, VerifiedSeal, verify_seal, verify_seal_of};
pub use withdrawal::{VerifiedWithdrawal, WITHDRAWAL_TYP, WithdrawalClaims, verify_withdrawal};

/// Re-exported so that callers name the same key types this crate uses.
pub use ed25519_dalek::{SigningKey, VerifyingKey};
