//! `cargo xtask test`: every check CI runs, with the time of each phase at the end.
//!
//! Where the time goes is compiling, not testing: the suite itself runs in about two
//! minutes. So every cargo command here selects the same packages (`--workspace`): cargo
//! unifies features per command, and a command that selected fewer packages (say
//! `-p consent-verifier`) would rebuild the shared dependencies with other features. The
//! test binaries are built once and run twice, on SQLite and on PostgreSQL.

use std::env;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::tools::{
    ensure_chromium, ensure_components, ensure_pyld, ensure_wasm_bindgen, ensure_wasm_opt, ensure_wasm_target,
};
use crate::{Result, cargo_with, dist::dist, root, run, say};

/// The phases run so far and how long each took.
struct Phases {
    done: Vec<(&'static str, Duration)>,
    current: Option<(&'static str, Instant)>,
}

impl Phases {
    fn new() -> Phases {
        Phases { done: Vec::new(), current: None }
    }

    /// Ends the phase in progress and starts `name`.
    fn start(&mut self, name: &'static str) {
        self.finish();
        self.current = Some((name, Instant::now()));
    }

    fn finish(&mut self) {
        if let Some((name, at)) = self.current.take() {
            self.done.push((name, at.elapsed()));
        }
    }

    fn report(&mut self) -> Duration {
        self.finish();
        let total: Duration = self.done.iter().map(|(_, d)| *d).sum();
        println!("\n    {:<34} {:>8}", "phase", "time");
        for (name, d) in &self.done {
            println!("    {name:<34} {:>7.0}s", d.as_secs_f64());
        }
        println!(
            "    {:<34} {:>7.0}s ({:.1} min; budget 25 min)",
            "total",
            total.as_secs_f64(),
            total.as_secs_f64() / 60.0
        );
        total
    }
}

pub fn test() -> Result {
    let mut phases = Phases::new();
    let result = run_all(&mut phases);
    let total = phases.report();
    let pg = if env::var("CONSENT_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        "SQLite and PostgreSQL"
    } else {
        "SQLite only (PostgreSQL NOT tested)"
    };
    if result.is_ok() {
        println!("\nAll checks passed in {:.0?} ({pg}).", total);
    }
    result
}

fn run_all(phases: &mut Phases) -> Result {
    // Everything this machine may lack comes first, so a fresh machine fails early or not at all.
    phases.start("install missing tools");
    say("Checking the tools the tests need (installing what is missing)");
    ensure_components()?;
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_opt()?;
    let (_, chromedriver) = ensure_chromium()?;
    let python = ensure_pyld()?;

    phases.start("format");
    say("Checking formatting (cargo fmt --check)");
    run(cargo_with(&["fmt", "--all", "--", "--check"]))?;
    // The language files are modules the build script finds, out of cargo fmt's sight.
    let mut i18n = std::process::Command::new("rustfmt");
    i18n.current_dir(root()).args(["--edition", "2024", "--check"]).args(language_files()?);
    run(i18n)?;

    phases.start("lint (native)");
    say("Linting every crate and test (clippy, warnings are errors)");
    run(cargo_with(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;

    phases.start("lint (wasm32)");
    say(
        "Linting the widget, the protocol crate and the proof checker for WebAssembly (the protocol crate must stay wasm-clean)",
    );
    // The last selection is the widget as shipped: no_std, its panic handler, and the fallback signer.
    let shipped: &[&str] =
        &["-p", "consent-widget", "-p", "consent-widget-sign", "--lib", "--features", "consent-widget/dist"];
    for selection in [
        &["-p", "consent-widget", "--all-targets"][..],
        &["-p", "consent-receipt", "-p", "consent-receipt-wasm", "--lib"],
        shipped,
    ] {
        let mut c = cargo_with(&["clippy", "--target", "wasm32-unknown-unknown"]);
        c.args(selection).args(["--", "-D", "warnings"]);
        run(c)?;
    }

    phases.start("build the widget");
    let built = dist()?;
    if built.total_gzip > crate::dist::BUDGET_GZIP {
        return Err(format!(
            "the widget ships {} bytes gzipped, over its budget of {} bytes (xtask/src/dist.rs BUDGET_GZIP): \
             make it smaller, do not raise the budget",
            built.total_gzip,
            crate::dist::BUDGET_GZIP
        ));
    }

    phases.start("build the tests");
    say("Building every test binary and the verifier they start (once, for both databases)");
    run(cargo_with(&["test", "--workspace", "--no-run"]))?;

    phases.start("tests on SQLite");
    say("Running every test (cargo test --workspace): unit, API, CLI, browser end-to-end");
    let mut all = cargo_with(&["test", "--workspace", "--no-fail-fast"]);
    all.env("CHROMEDRIVER", &chromedriver).env("CONSENT_PYTHON", &python);
    run(all)?;

    phases.start("fuzz (3 s per target)");
    say("Fuzzing every parser of outside input for 3 s each (proptest; corpus in verifier/tests/fuzz/corpus)");
    // The binary the build phase made: `cargo test --test fuzz` would select other targets,
    // unify other features, and rebuild the dependencies.
    let mut fuzz = std::process::Command::new(built_test("fuzz")?);
    fuzz.arg("--nocapture").env("CONSENT_FUZZ_SECS", "3").current_dir(root().join("verifier"));
    run(fuzz)?;

    match env::var("CONSENT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            phases.start("tests on PostgreSQL");
            say("Running the tests again on PostgreSQL (a schema per test), two replicas included");
            let clean = || {
                let mut c = std::process::Command::new(root().join("target/debug/pg-schemas"));
                c.env("CONSENT_TEST_POSTGRES_URL", &url);
                c
            };
            run(clean())?;
            // Only the suites that use the store: the unit tests, the doctest and the fuzz
            // replay do not touch a database, and running them again cost time for nothing.
            // The binaries the build phase made, from their package's directory as cargo
            // runs them.
            let mut result = Ok(());
            for (suite, dir) in [("api", "verifier"), ("browser", "tests")] {
                let mut pg = std::process::Command::new(built_test(suite)?);
                pg.arg("--include-ignored")
                    .current_dir(root().join(dir))
                    .env("CONSENT_TEST_BACKEND", "postgres")
                    .env("CONSENT_TEST_POSTGRES_URL", &url)
                    .env("CHROMEDRIVER", &chromedriver)
                    .env("CONSENT_PYTHON", &python);
                if let Err(e) = run(pg) {
                    result = Err(e);
                }
            }
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

    phases.start("widget tests in Chromium");
    say("Running the widget's unit tests in headless Chromium (wasm-bindgen-test)");
    let mut wasm_tests = cargo_with(&["test", "-p", "consent-widget", "--target", "wasm32-unknown-unknown"]);
    wasm_tests.env("CHROMEDRIVER", &chromedriver);
    run(wasm_tests)
}

/// The executable of the integration test `name`, as the build phase made it (asked of
/// cargo again, which builds nothing more).
fn built_test(name: &str) -> Result<PathBuf> {
    let mut c = cargo_with(&["test", "--workspace", "--no-run", "--message-format=json"]);
    let out = crate::output(&mut c).ok_or("cargo test --no-run failed")?;
    let wanted = format!("\"name\":\"{name}\",");
    out.lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\"") && l.contains(&wanted))
        .filter(|l| l.contains("\"kind\":[\"test\"]"))
        .find_map(|l| {
            let at = l.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = at + l[at..].find('"')?;
            Some(PathBuf::from(&l[at..end]))
        })
        .ok_or_else(|| format!("cargo built no test named {name}"))
}

/// `verifier/src/i18n/<lang>.rs`.
fn language_files() -> Result<Vec<PathBuf>> {
    let dir = root().join("verifier/src/i18n");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    Ok(files)
}
