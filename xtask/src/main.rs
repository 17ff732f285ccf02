//! `cargo xtask <command>`: the project's two user-facing commands and their helpers.
//!
//! - `demo`  builds what is needed and runs the verifier with the demo pages.
//! - `test`  runs every check CI runs: formatting, lints, the wasm32 build, every test.
//! - `bench` prints the performance figures.
//!
//! Each installs what it needs that is missing, and says what it is doing.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  demo [serve flags]   build, then run the verifier with the demo pages (Ctrl-C to stop)
  test                 formatting, lints, wasm32 build, and every test (what CI runs)
  bench                crypto ceiling, end-to-end leads/s, latency and memory
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn say(what: &str) {
    println!("\n==> {what}");
}

/// Runs a command, echoing it, failing with a clear message.
fn run(mut cmd: Command) -> Result {
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    println!("    $ {shown}");
    let status = cmd.status().map_err(|e| format!("could not run `{shown}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{shown}` failed ({status})")) }
}

fn output(cmd: &mut Command) -> Option<String> {
    cmd.output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

fn ensure_wasm_target() -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        println!("    wasm32-unknown-unknown target: installed");
        return Ok(());
    }
    say("Installing the wasm32-unknown-unknown Rust target (rustup target add)");
    run({
        let mut c = Command::new("rustup");
        c.args(["target", "add", "wasm32-unknown-unknown"]);
        c
    })
}

fn test() -> Result {
    let started = Instant::now();
    say("Checking formatting (cargo fmt --check)");
    run({
        let mut c = cargo();
        c.args(["fmt", "--all", "--", "--check"]);
        c
    })?;

    say("Linting every crate and test (clippy, warnings are errors)");
    run({
        let mut c = cargo();
        c.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
        c
    })?;

    say("Building consent-receipt for WebAssembly (the widget's protocol crate must stay wasm-clean)");
    ensure_wasm_target()?;
    run({
        let mut c = cargo();
        c.args(["build", "-p", "consent-receipt", "--target", "wasm32-unknown-unknown"]);
        c
    })?;

    say("Building the verifier binary that the process tests start");
    run({
        let mut c = cargo();
        c.args(["build", "-p", "consent-verifier"]);
        c
    })?;

    say("Running every test (cargo test --workspace)");
    run({
        let mut c = cargo();
        c.args(["test", "--workspace", "--no-fail-fast"]);
        c
    })?;

    println!("\nAll checks passed in {:.0?}.", started.elapsed());
    Ok(())
}

fn demo(extra: &[String]) -> Result {
    say("Building the verifier (release)");
    run({
        let mut c = cargo();
        c.args(["build", "--release", "-p", "consent-verifier"]);
        c
    })?;
    let bin = root().join("target/release/consent-verifier");
    say("Starting the verifier: data in ./data, notices from ./notices (Ctrl-C to stop)");
    println!("    Try it:");
    println!("      curl -s 'http://127.0.0.1:8080/v1/notices/newsletter?lang=fr' | head -c 400");
    println!("      curl -s http://127.0.0.1:8080/.well-known/jwks.json");
    println!("    The README walks through notice -> signed receipt -> lead -> seal -> verify.");
    let mut c = Command::new(bin);
    c.current_dir(root()).arg("serve").args(extra);
    run(c)
}

fn bench() -> Result {
    say("Building the verifier and the load generator (release)");
    run({
        let mut c = cargo();
        c.args([
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
        ]);
        c
    })?;
    say("Running the benchmarks (about a minute)");
    let mut c = Command::new(root().join("target/release/bench"));
    c.current_dir(root()).env("CONSENT_VERIFIER_BIN", root().join("target/release/consent-verifier"));
    run(c)
}
