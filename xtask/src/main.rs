//! `cargo xtask <command>`: the project's two user-facing commands and their helpers.
//!
//! - `demo`  builds the widget and the verifier, then serves the demo pages.
//! - `test`  runs every check CI runs: formatting, lints, the wasm32 builds, every test
//!   (unit, API, real SMTP, headless Chromium).
//! - `dist`  builds the widget and its fallback signer into `www/widget/` (and the npm
//!   package into `target/npm/consent-widget/`), checks what they hold, and prints each
//!   part's size and SRI hash; and the proof checker of `/verify.html` into `www/verify/`.
//! - `bench` prints the performance figures.
//!
//! Each installs what it needs that is missing, and says what it is doing.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod check;
mod dist;
mod npm;
mod panics;
mod test;
mod tools;
mod verify_page;
mod wasm;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  demo [serve flags]   build the widget and the verifier, then serve the demo on http://127.0.0.1:8080
  test                 formatting, lints, wasm32 builds and every test, browser included (what CI runs);
                       also on PostgreSQL when CONSENT_TEST_POSTGRES_URL is set
  dist                 build the widget and its fallback signer (no_std, wasm-opt) into www/widget/
                       and as an npm package in target/npm/consent-widget/; fail on core::fmt in
                       them; print each part's size and SRI; build the proof checker of
                       /verify.html into www/verify/
  bench                crypto ceiling, end-to-end leads/s, latency, memory, widget size and timings
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => bench::demo(&args[1..]),
        Some("test") => test::test(),
        Some("dist") => dist::dist().map(|_| ()),
        Some("bench") => bench::bench(),
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

pub type Result<T = ()> = std::result::Result<T, String>;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

pub fn cargo() -> Command {
    let mut c = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

pub fn cargo_with(args: &[&str]) -> Command {
    let mut c = cargo();
    c.args(args);
    c
}

pub fn say(what: &str) {
    println!("\n==> {what}");
}

pub fn shown(cmd: &Command) -> String {
    let envs: String = cmd
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| format!("{}={} ", k.to_string_lossy(), v.to_string_lossy())))
        .collect();
    format!(
        "{envs}{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    )
}

/// Runs a command, echoing it, failing with a clear message.
pub fn run(mut cmd: Command) -> Result {
    let line = shown(&cmd);
    println!("    $ {line}");
    let status = cmd.status().map_err(|e| format!("could not run `{line}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{line}` failed ({status})")) }
}

pub fn output(cmd: &mut Command) -> Option<String> {
    cmd.output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}
