//! Third-party test fixtures fetched from their registry at test time, checked against a
//! pinned integrity hash, and kept out of git (`tests/fixtures/vendor/`).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, bail};

/// axe-core, the accessibility rules engine the browser tests run in the page.
pub const AXE_VERSION: &str = "4.14.1";
const AXE_INTEGRITY: &str =
    "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==";

static VENDORING: Mutex<()> = Mutex::new(());

/// The source of `axe.min.js`, from the npm registry on first use.
pub fn axe_source() -> anyhow::Result<String> {
    let _guard = VENDORING.lock().unwrap_or_else(|p| p.into_inner());
    let dir = crate::workspace_dir().join("tests/fixtures/vendor");
    let file = dir.join(format!("axe-core-{AXE_VERSION}.min.js"));
    if !file.exists() {
        vendor_axe(&dir, &file)?;
    }
    std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))
}

fn vendor_axe(dir: &std::path::Path, file: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::tempdir_in(dir)?;
    let out = Command::new("npm")
        .args(["pack", &format!("axe-core@{AXE_VERSION}"), "--json", "--pack-destination"])
        .arg(tmp.path())
        .output()
        .context("running `npm pack axe-core` (Node.js and npm are needed to fetch axe-core)")?;
    if !out.status.success() {
        bail!("npm pack axe-core failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let packed: serde_json::Value = serde_json::from_slice(&out.stdout).context("npm pack --json output")?;
    let entry = &packed[0];
    if entry["integrity"].as_str() != Some(AXE_INTEGRITY) {
        bail!(
            "axe-core {AXE_VERSION} from the registry has integrity {} (expected {AXE_INTEGRITY})",
            entry["integrity"]
        );
    }
    let tarball: PathBuf = tmp.path().join(entry["filename"].as_str().context("npm pack filename")?);
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(tmp.path())
        .arg("package/axe.min.js")
        .status()
        .context("running tar")?;
    if !status.success() {
        bail!("could not extract axe.min.js from {}", tarball.display());
    }
    std::fs::rename(tmp.path().join("package/axe.min.js"), file).context("placing axe.min.js")?;
    Ok(())
}
