//! `cargo xtask test`: every check CI runs.

use std::env;
use std::time::Instant;

use crate::tools::{ensure_chromium, ensure_components, ensure_wasm_bindgen, ensure_wasm_opt, ensure_wasm_target};
use crate::{Result, cargo_with, dist::dist, run, say};

pub fn test() -> Result {
    let started = Instant::now();
    // Everything this machine may lack comes first, so a fresh machine fails early or not at all.
    say("Checking the tools the tests need (installing what is missing)");
    ensure_components()?;
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_opt()?;
    let (_, chromedriver) = ensure_chromium()?;

    say("Checking formatting (cargo fmt --check)");
    run(cargo_with(&["fmt", "--all", "--", "--check"]))?;

    say("Linting every crate and test (clippy, warnings are errors)");
    run(cargo_with(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run(cargo_with(&[
        "clippy",
        "-p",
        "consent-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;

    say("Building consent-receipt for WebAssembly (the protocol crate must stay wasm-clean)");
    run(cargo_with(&["build", "-p", "consent-receipt", "--target", "wasm32-unknown-unknown"]))?;

    dist()?;

    say("Building the verifier binary that the process and browser tests start");
    run(cargo_with(&["build", "-p", "consent-verifier"]))?;

    say("Running every test (cargo test --workspace): unit, API, CLI, browser end-to-end");
    let mut all = cargo_with(&["test", "--workspace", "--no-fail-fast"]);
    all.env("CHROMEDRIVER", &chromedriver);
    run(all)?;

    match env::var("CONSENT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            say(
                "Running the verifier and browser tests again on PostgreSQL (a schema per test), two replicas included",
            );
            let clean = || {
                let mut c = cargo_with(&["run", "--quiet", "-p", "consent-e2e", "--bin", "pg-schemas"]);
                c.env("CONSENT_TEST_POSTGRES_URL", &url);
                c
            };
            run(clean())?;
            let mut pg = cargo_with(&[
                "test",
                "-p",
                "consent-verifier",
                "-p",
                "consent-e2e",
                "--no-fail-fast",
                "--",
                "--include-ignored",
            ]);
            pg.env("CONSENT_TEST_BACKEND", "postgres")
                .env("CONSENT_TEST_POSTGRES_URL", &url)
                .env("CHROMEDRIVER", &chromedriver);
            let result = run(pg);
            run(clean())?;
            result?;
        }
        None => {
            println!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            println!("!!  PostgreSQL tests DID NOT RUN: CONSENT_TEST_POSTGRES_URL is not set.");
            println!("!!  Set it (e.g. postgres://postgres@127.0.0.1:5432/test) to run the suite on PostgreSQL");
            println!("!!  and the two-replica test. .ci/run sets it.");
            println!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
        }
    }

    say("Running the widget's unit tests in headless Chromium (wasm-bindgen-test)");
    let mut wasm_tests = cargo_with(&["test", "-p", "consent-widget", "--target", "wasm32-unknown-unknown"]);
    wasm_tests.env("CHROMEDRIVER", &chromedriver);
    run(wasm_tests)?;

    let pg = if env::var("CONSENT_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        "SQLite and PostgreSQL"
    } else {
        "SQLite only (PostgreSQL NOT tested)"
    };
    println!("\nAll checks passed in {:.0?} ({pg}).", started.elapsed());
    Ok(())
}
