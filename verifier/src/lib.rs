//! # consent-verifier
//!
//! The server that accepts a lead only when its signed consent receipt holds up. Three
//! layers, arrows pointing down only:
//!
//! - [`routes`] parses HTTP and renders (JSON, or pages from `templates/` in the words of
//!   [`i18n`]); [`routes::router`] assembles it.
//! - [`consent`] decides, one file per use case: rules 1–9 on a receipt
//!   ([`consent::verify`]), accepting a lead, confirming, a guardian's answer,
//!   withdrawing, retention, the permissions answer, proofs. It returns typed outcomes and
//!   [`error::ApiError`]s from the one table of [`error::Code`]s.
//! - [`store`] persists: SQLite or PostgreSQL, every chain-appending write through the
//!   group-commit [`store::Writer`], one file per life-cycle transition.
//!
//! Beside them: [`domain`] (statuses, event kinds, identifiers shared by all layers),
//! [`mail`] (composing and sending mail, the outbox worker of every channel), [`sms`]
//! (composing SMS, their transports, inbound STOP and OUI), [`webhooks`] (signing and
//! posting Standard Webhooks, the targets allowed), [`notices`] (the site
//! owner's notice files), [`nonce`] and [`keys`] (the verifier's secrets), [`files`] (files written atomically), [`config`],
//! [`startup`] ([`Application`]), [`connections`] (serving sockets with timeouts, caps and
//! a shutdown deadline), [`limits`] (client addresses and request rates), [`stages`] (CPU
//! per stage of the work, for the benchmarks) and [`cli`].

pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod consent;
pub mod domain;
pub mod error;
pub mod files;
pub mod i18n;
pub mod keys;
pub mod limits;
pub mod lint;
pub mod mail;
pub mod nonce;
pub mod notices;
pub mod routes;
pub mod sms;
pub mod stages;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod webhooks;
pub mod witness;

pub use config::{Config, Settings};
pub use startup::Application;
