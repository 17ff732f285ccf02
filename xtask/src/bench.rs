//! `cargo xtask demo` and `cargo xtask bench`: the release builds a person runs.

use std::env;
use std::process::Command;

use crate::tools::ensure_chromium;
use crate::{Result, cargo_with, dist::dist, root, run, say};

pub fn demo(extra: &[String]) -> Result {
    dist()?;
    say("Building the verifier (release)");
    run(cargo_with(&["build", "--release", "-p", "consent-verifier"]))?;
    let bin = root().join("target/release/consent-verifier");
    say("Starting the verifier: data in ./data, notices from ./notices, pages from ./www (Ctrl-C to stop)");
    println!("    Open http://127.0.0.1:8080/ (French demo), http://127.0.0.1:8080/en/ (English),");
    println!("    http://127.0.0.1:8080/guide.html (embedding guide).");
    let mut c = Command::new(bin);
    c.current_dir(root()).arg("serve").args(extra);
    run(c)
}

pub fn bench() -> Result {
    let built = dist()?;
    let (chromium, chromedriver) = ensure_chromium()?;
    say("Building the verifier and the load generator (release)");
    run(cargo_with(&[
        "build",
        "--release",
        "-p",
        "consent-verifier",
        "-p",
        "consent-e2e",
        "--bin",
        "consent-verifier",
        "--bin",
        "bench",
    ]))?;
    say("Running the benchmarks (about five minutes; more with PostgreSQL)");
    let mut c = Command::new(root().join("target/release/bench"));
    c.current_dir(root())
        .env("CONSENT_VERIFIER_BIN", root().join("target/release/consent-verifier"))
        .env("CHROMEDRIVER", chromedriver)
        .env("CHROMIUM", chromium)
        .env("WIDGET_GZIP_BYTES", built.total_gzip.to_string())
        .env("WIDGET_FALLBACK_GZIP_BYTES", built.fallback_gzip.to_string())
        .env("WIDGET_BUDGET_BYTES", crate::dist::BUDGET_GZIP.to_string());
    match env::var("CONSENT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            c.env("CONSENT_BENCH_POSTGRES_URL", url);
        }
        None => say("CONSENT_TEST_POSTGRES_URL is not set: the PostgreSQL figures will be skipped"),
    }
    run(c)
}
