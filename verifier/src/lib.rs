//! # consent-verifier
//!
//! The server that accepts a lead only when its signed consent receipt holds up.
//!
//! - [`Application`] builds everything from a [`Config`] and serves it; `main.rs` is a
//!   thin CLI around it ([`cli`]).
//! - [`routes::router`] is the HTTP API; [`intake::check_receipt`] applies verification
//!   rules 1–9 in order; the [`store`] enforces rule 10 with a unique index and commits
//!   in groups through its writer.
//! - [`notices`] loads the site owner's notice files and keeps every version ever served;
//!   [`nonce`] issues the stateless challenges; [`keys`] holds the signing keys.

pub mod admin;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod intake;
pub mod keys;
pub mod lifecycle;
pub mod mail;
pub mod nonce;
pub mod notices;
pub mod problem;
pub mod proofs;
pub mod purge;
pub mod routes;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;

pub use config::{Config, Settings};
pub use startup::Application;
