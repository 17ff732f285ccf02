//! The single-page app of the browser tests: `tests/npm-app/` (Vite + React 18 in
//! StrictMode), with the npm package `cargo xtask dist` wrote installed the way a site
//! would install it (`npm pack`, then `npm install` of the tarball), and the guide's
//! TypeScript snippets checked with `tsc --strict` against the package's types.
//!
//! The app's dependencies are installed once into `target/npm-app/node_modules` (`npm ci`
//! from the committed lockfile) and reused while the lockfile is unchanged; only the
//! widget's own tarball is installed on every run, offline.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

static BUILDING: Mutex<()> = Mutex::new(());

/// What [`build`] made.
#[derive(Debug)]
pub struct SpaBuild {
    /// The app as built by Vite, to be served.
    pub dist: PathBuf,
    /// How long each step took, for the test's output.
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

fn run(what: &str, cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd.output().with_context(|| format!("{what}: could not run it (Node.js 18+ and npm are needed)"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The TypeScript snippets of the guide: every `<code data-ts>` (`data-ts="tsx"` for JSX),
/// each its own module.
pub fn guide_snippets(guide_html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, part) in guide_html.split("<code data-ts").skip(1).enumerate() {
        let ext = if part.starts_with("=\"tsx\"") { "tsx" } else { "ts" };
        let Some(start) = part.find('>') else { continue };
        let Some(end) = part.find("</code>") else { continue };
        let code = part[start + 1..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        found.push((format!("guide-{}.{ext}", i + 1), format!("{code}\nexport {{}};\n")));
    }
    found
}

/// Installs, type-checks and builds the app; fails with what to do when npm cannot.
pub fn build() -> anyhow::Result<SpaBuild> {
    let _guard = BUILDING.lock().unwrap_or_else(|p| p.into_inner());
    let ws = crate::workspace_dir();
    let package = ws.join("target/npm/consent-widget");
    if !package.join("package.json").exists() {
        bail!("{} is missing: build the widget with `cargo xtask dist`", package.display());
    }
    let app = ws.join("target/npm-app");
    copy_dir(&ws.join("tests/npm-app"), &app)?;
    let mut timings = Vec::new();

    let lock = std::fs::read(app.join("package-lock.json")).context("tests/npm-app/package-lock.json")?;
    let stamp_file = app.join(".installed-lockfile-sha256");
    let stamp = format!("{:x}", Sha256::digest(&lock));
    if !app.join("node_modules").is_dir() || std::fs::read_to_string(&stamp_file).ok().as_deref() != Some(&stamp) {
        let t = std::time::Instant::now();
        run(
            "npm ci (Vite, React 18, TypeScript for the single-page app test; this needs the npm registry once, \
             then target/npm-app/node_modules is reused)",
            Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefer-offline"]).current_dir(&app),
        )?;
        std::fs::write(&stamp_file, stamp)?;
        timings.push(("npm ci", t.elapsed()));
    }

    let t = std::time::Instant::now();
    let packed = run(
        "npm pack target/npm/consent-widget",
        Command::new("npm")
            .arg("pack")
            .arg(&package)
            .args(["--json", "--pack-destination"])
            .arg(&app)
            .current_dir(&app),
    )?;
    let packed: serde_json::Value = serde_json::from_str(&packed).context("npm pack --json output")?;
    let tarball = packed[0]["filename"].as_str().context("npm pack: no filename")?.to_string();
    run(
        "npm install of the packed widget",
        Command::new("npm")
            .args(["install", "--no-save", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"])
            .arg(format!("./{tarball}"))
            .current_dir(&app),
    )?;
    timings.push(("npm pack + install", t.elapsed()));

    let t = std::time::Instant::now();
    let guide = std::fs::read_to_string(ws.join("www/guide.html")).context("reading www/guide.html")?;
    let snippets = guide_snippets(&guide);
    if snippets.len() < 3 {
        bail!("www/guide.html has {} <code data-ts> snippets; expected the API, events and React ones", snippets.len());
    }
    let dir = app.join("snippets");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    for (name, code) in &snippets {
        std::fs::write(dir.join(name), code)?;
    }
    run(
        "tsc --strict on the guide's snippets",
        Command::new("node_modules/.bin/tsc").arg("-p").arg(".").current_dir(&app),
    )?;
    timings.push(("tsc --strict", t.elapsed()));

    // React's development build: StrictMode mounts every effect twice only there.
    let t = std::time::Instant::now();
    run(
        "vite build",
        Command::new("node_modules/.bin/vite")
            .args(["build", "--logLevel", "warn", "--emptyOutDir"])
            .env("NODE_ENV", "development")
            .current_dir(&app),
    )?;
    timings.push(("vite build", t.elapsed()));
    Ok(SpaBuild { dist: app.join("dist"), timings })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guides_typescript_snippets_are_read_unescaped_each_as_a_module() {
        let html = r#"<pre><code data-ts>a &lt; b &amp;&amp; c</code></pre><code>x</code>
            <pre><code data-ts="tsx">return &lt;div /&gt;;</code></pre>"#;
        let found = super::guide_snippets(html);
        assert_eq!(
            found,
            [
                ("guide-1.ts".to_string(), "a < b && c\nexport {};\n".to_string()),
                ("guide-2.tsx".to_string(), "return <div />;\nexport {};\n".to_string()),
            ]
        );
    }
}
