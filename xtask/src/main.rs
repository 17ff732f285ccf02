//! `cargo xtask <command>`: the project's two user-facing commands and their helpers.
//!
//! - `demo`  builds the widget and the verifier, then serves the demo pages.
//! - `test`  runs every check CI runs: formatting, lints, the wasm32 builds, every test
//!   (unit, API, real SMTP, headless Chromium).
//! - `dist`  builds the widget into `www/widget/` and prints sizes and SRI hashes.
//! - `bench` prints the performance figures.
//!
//! Each installs what it needs that is missing, and says what it is doing.

use std::env;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use sha2::{Digest, Sha384};

mod wasm;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  demo [serve flags]   build the widget and the verifier, then serve the demo on http://127.0.0.1:8080
  test                 formatting, lints, wasm32 builds and every test, browser included (what CI runs);
                       also on PostgreSQL when CONSENT_TEST_POSTGRES_URL is set
  dist                 build the widget (release, wasm-opt) into www/widget/; print sizes and SRI
  bench                crypto ceiling, end-to-end leads/s, latency, memory, widget size and timings
";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("dist") => dist().map(|_| ()),
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

fn cargo_with(args: &[&str]) -> Command {
    let mut c = cargo();
    c.args(args);
    c
}

fn say(what: &str) {
    println!("\n==> {what}");
}

fn shown(cmd: &Command) -> String {
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
fn run(mut cmd: Command) -> Result {
    let line = shown(&cmd);
    println!("    $ {line}");
    let status = cmd.status().map_err(|e| format!("could not run `{line}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{line}` failed ({status})")) }
}

fn output(cmd: &mut Command) -> Option<String> {
    cmd.output().ok().filter(|o| o.status.success()).map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

fn on_path(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() == "0")
}

/// Installs Debian packages when running as root; otherwise says exactly what to install.
fn apt_install(packages: &[&str], why: &str) -> Result {
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

fn ensure_wasm_target() -> Result {
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
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock.find(&needle).ok_or_else(|| format!("{package} is not in Cargo.lock"))? + needle.len();
    let end = lock[start..].find('"').ok_or("Cargo.lock is malformed")?;
    Ok(lock[start..start + end].to_string())
}

/// wasm-bindgen's CLI must be exactly the library's version.
fn ensure_wasm_bindgen() -> Result {
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

const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
];

/// Installs Debian's binaryen for `wasm-opt` when root; without it the widget is built
/// unshrunk.
fn ensure_wasm_opt() -> Result {
    if !on_path("wasm-opt") && is_root() {
        apt_install(&["binaryen"], "wasm-opt shrinks the widget")?;
    }
    Ok(())
}

fn wasm_opt_version() -> String {
    output(Command::new("wasm-opt").arg("--version")).map(|v| v.trim().to_string()).unwrap_or_default()
}

fn ensure_chromium() -> Result<(PathBuf, PathBuf)> {
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

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            out.push(if i <= c.len() { char::from(A[((n >> shift) & 63) as usize]) } else { '=' });
        }
    }
    out
}

fn sri(bytes: &[u8]) -> String {
    format!("sha384-{}", b64(&Sha384::digest(bytes)))
}

fn gzip_len(bytes: &[u8]) -> Result<usize> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).map_err(|e| e.to_string())?;
    Ok(enc.finish().map_err(|e| e.to_string())?.len())
}

/// What `dist` built.
struct Built {
    total_gzip: usize,
}

fn dist() -> Result<Built> {
    say("Building the widget for WebAssembly (release: opt-level z, LTO, panic=abort)");
    ensure_wasm_target()?;
    run(cargo_with(&["build", "-p", "consent-widget", "--target", "wasm32-unknown-unknown", "--profile", "wasm"]))?;
    ensure_wasm_bindgen()?;
    let target = root().join("target");
    let bindgen_out = target.join("widget-bindgen");
    let _ = std::fs::remove_dir_all(&bindgen_out);
    say("Generating the JavaScript glue (wasm-bindgen, classic script)");
    let mut wb = Command::new("wasm-bindgen");
    wb.arg(target.join("wasm32-unknown-unknown/wasm/consent_widget.wasm"))
        .arg("--out-dir")
        .arg(&bindgen_out)
        .args(["--target", "no-modules", "--no-modules-global", "__consentWidgetWasm", "--no-typescript"])
        .args(["--out-name", "widget"]);
    run(wb)?;
    let raw_wasm = bindgen_out.join("widget_bg.wasm");
    let opt_wasm = bindgen_out.join("widget_bg.opt.wasm");
    ensure_wasm_opt()?;
    let wasm_path = if on_path("wasm-opt") {
        say("Shrinking the wasm (wasm-opt -Oz)");
        let mut c = Command::new("wasm-opt");
        c.arg("-Oz").args(WASM_OPT_FEATURES).arg(&raw_wasm).arg("-o").arg(&opt_wasm);
        run(c)?;
        opt_wasm
    } else {
        println!("    wasm-opt not found and not root: skipping it (install Debian's binaryen for a smaller widget)");
        raw_wasm
    };
    let mut wasm = std::fs::read(&wasm_path).map_err(|e| format!("reading {}: {e}", wasm_path.display()))?;
    if wasm::fix_externref_export(&mut wasm)? {
        println!(
            "    repaired the __wbindgen_externrefs export that wasm-opt {} pointed at the wrong table",
            wasm_opt_version()
        );
    }
    let glue = std::fs::read_to_string(bindgen_out.join("widget.js")).map_err(|e| format!("reading the glue: {e}"))?;
    // Stripping indentation is only safe without multi-line template literals: every code
    // line must open and close its own.
    let code_lines = glue.lines().filter(|l| !l.trim_start().starts_with("//") && !l.trim_start().starts_with('*'));
    if code_lines.into_iter().any(|l| l.matches('`').count() % 2 == 1) {
        return Err("the wasm-bindgen glue now has template literals: review strip_comments".into());
    }
    let (wasm_before, glue) = (wasm.len(), strip_comments(&glue));
    let short_glue = wasm::minify_imports(&mut wasm, &glue, "./widget_bg.js")?;
    println!(
        "    renamed the wasm's imports to short names: {} bytes less wasm, {} bytes less glue",
        wasm_before - wasm.len(),
        glue.len() - short_glue.len()
    );
    let glue = short_glue;
    let loader =
        std::fs::read_to_string(root().join("widget/loader.js")).map_err(|e| format!("reading loader.js: {e}"))?;
    // The glue is stripped already (the import rename needs it so); only the loader is left.
    let script = format!("{glue}{}", strip_comments(&loader.replace("__WASM_SRI__", &sri(&wasm))));
    let types = std::fs::read(root().join("widget/widget.d.ts")).map_err(|e| format!("reading widget.d.ts: {e}"))?;

    let out = root().join("www/widget");
    std::fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let files: [(&str, &[u8]); 3] =
        [("widget.js", script.as_bytes()), ("widget_bg.wasm", &wasm), ("widget.d.ts", &types)];
    let mut manifest = String::from("{\n  \"files\": {\n");
    say("Widget written to www/widget/");
    println!("    {:<16} {:>9} {:>9}  SRI", "file", "bytes", "gzip");
    let mut total_gzip = 0;
    for (i, (name, bytes)) in files.iter().enumerate() {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("writing {name}: {e}"))?;
        let gz = gzip_len(bytes)?;
        if *name != "widget.d.ts" {
            total_gzip += gz;
        }
        println!("    {:<16} {:>9} {:>9}  {}", name, bytes.len(), gz, sri(bytes));
        manifest.push_str(&format!(
            "    \"{name}\": {{\"bytes\": {}, \"gzip\": {gz}, \"integrity\": \"{}\"}}{}\n",
            bytes.len(),
            sri(bytes),
            if i + 1 < files.len() { "," } else { "" }
        ));
    }
    manifest.push_str(&format!("  }},\n  \"version\": \"{}\"\n}}\n", env!("CARGO_PKG_VERSION")));
    std::fs::write(out.join("build.json"), manifest).map_err(|e| format!("writing build.json: {e}"))?;
    println!(
        "    total shipped (js + wasm, gzip): {total_gzip} bytes = {:.1} KB (budget 45 KB, target 35 KB)",
        total_gzip as f64 / 1024.0
    );
    println!(
        "    embed: <script src=\".../widget/widget.js\" integrity=\"{}\" crossorigin=\"anonymous\" async></script>",
        sri(script.as_bytes())
    );
    Ok(Built { total_gzip })
}

/// Drops comment lines, indentation and blank lines from generated JavaScript: a safe
/// subset of minification (the glue has no multi-line strings or template literals,
/// checked below), worth about 1 KB gzipped.
fn strip_comments(js: &str) -> String {
    let mut out = String::with_capacity(js.len());
    let mut in_block = false;
    for line in js.lines() {
        let t = line.trim();
        if in_block {
            in_block = !t.ends_with("*/");
            continue;
        }
        if t.starts_with("/*") {
            in_block = !t.ends_with("*/");
            continue;
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        out.push_str(t);
        out.push('\n');
    }
    out
}

/// rustfmt and clippy come with rustup's default profile, but not with its minimal one.
fn ensure_components() -> Result {
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

fn test() -> Result {
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

fn demo(extra: &[String]) -> Result {
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

fn bench() -> Result {
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
        .env("WIDGET_GZIP_BYTES", built.total_gzip.to_string());
    match env::var("CONSENT_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty()) {
        Some(url) => {
            c.env("CONSENT_BENCH_POSTGRES_URL", url);
        }
        None => say("CONSENT_TEST_POSTGRES_URL is not set: the PostgreSQL figures will be skipped"),
    }
    run(c)
}
