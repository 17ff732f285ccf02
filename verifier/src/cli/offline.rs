//! The commands that need no database: signing keys and notice files.

use std::path::Path;

use anyhow::Context;

use crate::keys::{KeyRing, NonceSecret};

pub(crate) fn keygen(dir: &Path) -> anyhow::Result<()> {
    let existed = KeyRing::load(dir).is_ok();
    let ring = KeyRing::load_or_create(dir)?;
    NonceSecret::load_or_create(dir)?;
    if existed {
        println!("{} already holds a signing key; nothing was overwritten.", dir.display());
    } else {
        println!("Created a signing key and a nonce secret in {} (mode 0600).", dir.display());
    }
    println!("Active key id (kid): {}", ring.active_kid());
    println!("{}", serde_json::to_string_pretty(ring.jwks())?);
    Ok(())
}

pub(crate) fn rotate(dir: &Path) -> anyhow::Result<()> {
    KeyRing::load(dir).with_context(|| format!("no key to rotate in {} (run keygen first)", dir.display()))?;
    let kid = KeyRing::rotate(dir)?;
    let ring = KeyRing::load(dir)?;
    println!(
        "New signing key {kid}. It signs seals from the next start; the {} older key(s) stay in the JWKS.",
        ring.jwks().keys.len() - 1
    );
    Ok(())
}

pub(crate) fn list_keys(dir: &Path) -> anyhow::Result<()> {
    let ring = KeyRing::load(dir)?;
    println!("{}", serde_json::to_string_pretty(ring.jwks())?);
    Ok(())
}

pub(crate) fn check_notices(dir: &Path, strict: bool) -> anyhow::Result<()> {
    let entries = crate::notices::load_dir(dir)?;
    let mut findings = Vec::new();
    for entry in entries {
        println!("{} v{} (default {}):", entry.id, entry.version, entry.default_lang);
        for (lang, (notice, digest)) in &entry.langs {
            println!(
                "  {lang}: digest {digest}, {} purposes, age of consent {} ({})",
                notice.purposes.len(),
                notice.age_of_consent,
                notice.jurisdiction
            );
        }
        let file = dir.join(format!("{}.toml", entry.id));
        findings.extend(crate::lint::notice(&entry, &file.display().to_string()));
    }
    println!("All notices are complete (GDPR Art. 13 items present, every legal basis with its conditions).");
    if findings.is_empty() {
        println!("No lint findings (readability, empty items, bundled recipients).");
        return Ok(());
    }
    let level = if strict { "error" } else { "warning" };
    for f in &findings {
        println!("{level}: {f}");
    }
    if strict {
        anyhow::bail!("{} lint finding(s); fix them or drop --strict", findings.len());
    }
    println!("{} lint warning(s); `notices check --strict` fails on them.", findings.len());
    Ok(())
}
