//! The widget in a real browser: the real verifier binary on a free loopback port with a
//! temporary data directory, headless Chromium driven over WebDriver, and the stored
//! receipts read back from the verifier's database.

#![allow(clippy::unwrap_used)] // tests unwrap: a failure is the test failing

mod a11y;
mod bases;
mod errors;
mod flows;
mod layout;
mod lifecycle;
mod signing;
mod sms;
mod spa;
mod support;
mod verify;
