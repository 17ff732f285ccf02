//! The verifier's API tests: the real router on a loopback port (in-process), and the
//! real binary where a process matters. One test binary, a module per feature.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod admin;
mod bases;
mod channels;
mod cli;
mod compliance;
mod connections;
mod crash;
mod exports;
mod helpers;
mod http;
mod layers;
mod lifecycle;
mod notices;
mod objections;
mod proofs;
mod rate_limits;
mod replicas;
mod restart;
mod retention;
mod retention_ends;
mod robustness;
mod rules;
mod smpp;
mod sms;
mod stages;
mod tlog;
mod webhooks;
mod witness;
