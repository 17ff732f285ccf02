//! Finding and installing the build and test tools a fresh machine lacks.

use std::env;
use std::path::PathBuf;
use std::process::Command;

use crate::{Result, cargo, cargo_with, output, root, run, say};

pub fn on_path(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0")
}

/// Installs Debian packages when running as root; otherwise says exactly what to install.
pub fn apt_install(packages: &[&str], why: &str) -> Result {
    if !is_root() {
        return Err(format!("{why}: install them with `sudo apt-get install -y {}` and run again", packages.join(" ")));
    }
    say(&format!("Installing {} with apt-get ({why})", packages.join(" ")));
    let mut update = Command::new("apt-get");
    update.arg("update").env("DEBIAN_FRONTEND", "noninteractive");
    run(update)?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "--no-install-recommends"]).args(packages).env("DEBIAN_FRONTEND", "noninteractive");
    run(install)
}

pub fn ensure_wasm_target() -> Result {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        println!("    wasm32-unknown-unknown target: installed");
        return Ok(());
    }
    say("Installing the wasm32-unknown-unknown Rust target (rustup target add)");
    let mut c = Command::new("rustup");
    c.args(["target", "add", "wasm32-unknown-unknown"]);
    run(c)
}

/// The version of a package in Cargo.lock.
pub fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).ok_or_else(|| format!("{package} is not in Cargo.lock"))? + needle.len();
    let end = lock[start..].find('"').ok_or("Cargo.lock is malformed")?;
    Ok(lock[start..start + end].to_string())
}

/// wasm-bindgen's CLI must be exactly the library's version.
pub fn ensure_wasm_bindgen() -> Result {
    let want = locked_version("wasm-bindgen")?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) && on_path("wasm-bindgen-test-runner") {
        println!("    wasm-bindgen-cli {want}: installed");
        return Ok(());
    }
    say(&format!(
        "Installing wasm-bindgen-cli {want}, the version in Cargo.lock (found: {}; takes about 3 minutes)",
        if have.is_empty() { "none".into() } else { have.trim().to_string() }
    ));
    run(cargo_with(&["install", "wasm-bindgen-cli", "--version", &want]))
}

pub const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

/// Installs Debian's binaryen for `wasm-opt` when root; without it the widget is built
/// unshrunk.
pub fn ensure_wasm_opt() -> Result {
    if !on_path("wasm-opt") && is_root() {
        apt_install(&["binaryen"], "wasm-opt shrinks the widget")?;
    }
    Ok(())
}

pub fn wasm_opt_version() -> String {
    output(Command::new("wasm-opt").arg("--version")).map(|v| v.trim().to_string()).unwrap_or_default()
}

pub fn ensure_chromium() -> Result<(PathBuf, PathBuf)> {
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let driver =
        env::var_os("CHROMEDRIVER").map(PathBuf::from).or_else(|| Some(PathBuf::from("/usr/bin/chromedriver")));
    match (chromium, driver.filter(|d| d.exists())) {
        (Some(c), Some(d)) => {
            println!("    Chromium: {}, ChromeDriver: {}", c.display(), d.display());
            Ok((c, d))
        }
        _ => {
            apt_install(&["chromium", "chromium-driver"], "the browser tests need Chromium and ChromeDriver")?;
            Ok((PathBuf::from("/usr/bin/chromium"), PathBuf::from("/usr/bin/chromedriver")))
        }
    }
}
/// rustfmt and clippy come with rustup's default profile, but not with its minimal one.
pub fn ensure_components() -> Result {
    let have = |tool: &str| cargo().args([tool, "--version"]).output().is_ok_and(|o| o.status.success());
    if have("fmt") && have("clippy") {
        println!("    rustfmt and clippy: installed");
        return Ok(());
    }
    say("Installing the rustfmt and clippy components (rustup component add)");
    let mut c = Command::new("rustup");
    c.args(["component", "add", "rustfmt", "clippy"]);
    run(c)
}

/// A Python with pyld (a JSON-LD processor, from PyPI) for the test that the DPV export
/// expands: a virtual environment of its own in `target/py`, made once. Returns its python.
pub fn ensure_pyld() -> Result<PathBuf> {
    let venv = root().join("target/py");
    let python = venv.join("bin/python");
    let has = |p: &PathBuf| Command::new(p).args(["-c", "import pyld"]).output().is_ok_and(|o| o.status.success());
    if has(&python) {
        println!("    pyld: installed in {}", venv.display());
        return Ok(python);
    }
    say("Installing pyld from PyPI into target/py (the JSON-LD export is expanded by it)");
    let mut make = Command::new("python3");
    make.arg("-m").arg("venv").arg(&venv);
    run(make)?;
    let mut pip = Command::new(venv.join("bin/pip"));
    pip.args(["install", "--quiet", "--disable-pip-version-check", "pyld==3.3.0"]);
    run(pip)?;
    Ok(python)
}
