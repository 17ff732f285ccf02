//! The verifier's secrets: Ed25519 signing keys (seals) and the nonce secret.
//!
//! Both live as files in the keys directory, created on first start with mode 0600.
//! Several replicas share one keys directory (a mounted secret), which is what makes
//! their nonces and seals interchangeable.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use consent_receipt::{Jwk, Jwks, SigningKey, b64, thumbprint};
use zeroize::Zeroizing;

use crate::files::{Access, Existing, write_atomic};

/// Fills an array from the operating system's random source.
pub fn random<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf)?;
    Ok(buf)
}

/// 16 random bytes, base64url: identifiers that must not be guessable or ordered.
pub fn random_id() -> Result<String, getrandom::Error> {
    Ok(b64::encode(&random::<16>()?))
}

/// A lead id: 48 bits of milliseconds then 80 random bits, as 32 hex digits (the layout
/// of UUIDv7). Ids made close in time sort close together, so inserting a batch touches
/// a few index pages instead of one random page per lead.
pub fn lead_id(now_ms: u64) -> Result<String, getrandom::Error> {
    let random = random::<10>()?;
    let mut s = format!("{:012x}", now_ms & 0xffff_ffff_ffff);
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// The verifier's signing keys: the newest signs, all verify.
#[derive(Debug, Clone)]
pub struct KeyRing {
    active: SigningKey,
    active_kid: String,
    jwks: Jwks,
}

const KEY_SUFFIX: &str = ".ed25519";

impl KeyRing {
    /// Loads every key in `dir`, creating the directory and a first key if there is none.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<KeyRing> {
        create_private_dir(dir)?;
        let mut keys = read_keys(dir)?;
        if keys.is_empty() {
            write_new_key(dir)?;
            keys = read_keys(dir)?;
        }
        KeyRing::from_keys(keys)
    }

    /// Loads the keys in `dir` without creating anything (offline commands).
    pub fn load(dir: &Path) -> anyhow::Result<KeyRing> {
        let keys = read_keys(dir)?;
        if keys.is_empty() {
            bail!("no signing key in {}", dir.display());
        }
        KeyRing::from_keys(keys)
    }

    fn from_keys(mut keys: Vec<(String, SigningKey)>) -> anyhow::Result<KeyRing> {
        // File names start with the creation time, so the last one is the newest.
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let jwks = Jwks { keys: keys.iter().map(|(_, k)| Jwk::published(&k.verifying_key())).collect() };
        let (_, active) = keys.pop().context("no signing key")?;
        let active_kid = thumbprint(&active.verifying_key());
        Ok(KeyRing { active, active_kid, jwks })
    }

    /// Adds a new key to `dir`, which becomes the active one; returns its `kid`.
    pub fn rotate(dir: &Path) -> anyhow::Result<String> {
        create_private_dir(dir)?;
        let path = write_new_key(dir)?;
        let keys = read_keys(dir)?;
        let key = keys
            .iter()
            .find(|(name, _)| path.file_name().is_some_and(|f| f.to_string_lossy() == *name))
            .context("the new key is not readable")?;
        Ok(thumbprint(&key.1.verifying_key()))
    }

    /// The key that signs seals.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// Its `kid`.
    pub fn active_kid(&self) -> &str {
        &self.active_kid
    }

    /// Every key, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}

/// Writes `bytes` to a new file readable only by its owner, atomically (a crash leaves
/// the whole key or none, see [`crate::files`]); never overwrites.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomic(path, bytes, Access::Private, Existing::Keep).with_context(|| format!("creating {}", path.display()))
}

fn write_new_key(dir: &Path) -> anyhow::Result<PathBuf> {
    let seed = Zeroizing::new(random::<32>().context("reading the OS random source")?);
    let key = SigningKey::from_bytes(&seed);
    let created =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let kid = thumbprint(&key.verifying_key());
    let path = dir.join(format!("{created:024}-{kid}{KEY_SUFFIX}"));
    let text = Zeroizing::new(format!("{}\n", b64::encode(seed.as_slice())));
    write_private_file(&path, text.as_bytes())?;
    Ok(path)
}

fn read_keys(dir: &Path) -> anyhow::Result<Vec<(String, SigningKey)>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(KEY_SUFFIX) {
            continue;
        }
        let text = Zeroizing::new(
            fs::read_to_string(entry.path()).with_context(|| format!("reading {}", entry.path().display()))?,
        );
        let seed: Zeroizing<[u8; 32]> = Zeroizing::new(
            b64::decode_array(text.trim())
                .with_context(|| format!("{} does not hold a base64url Ed25519 seed", entry.path().display()))?,
        );
        out.push((name, SigningKey::from_bytes(&seed)));
    }
    Ok(out)
}

/// The secret that authenticates nonces (HMAC-SHA256 key).
#[derive(Clone)]
pub struct NonceSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for NonceSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NonceSecret([redacted])")
    }
}

impl NonceSecret {
    /// Loads `<dir>/nonce.secret`, creating it on first start.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<NonceSecret> {
        create_private_dir(dir)?;
        let path = dir.join("nonce.secret");
        if !path.exists() {
            let bytes = Zeroizing::new(random::<32>().context("reading the OS random source")?);
            let text = Zeroizing::new(format!("{}\n", b64::encode(bytes.as_slice())));
            match write_private_file(&path, text.as_bytes()) {
                Ok(()) => {}
                // Another replica sharing the directory created it first: use theirs.
                Err(_) if path.exists() => {}
                Err(e) => return Err(e),
            }
        }
        let text = Zeroizing::new(fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?);
        let bytes = b64::decode_array(text.trim())
            .with_context(|| format!("{} does not hold 32 bytes of base64url", path.display()))?;
        Ok(NonceSecret(Zeroizing::new(bytes)))
    }

    /// A secret from bytes (tests, and replicas that receive it another way).
    pub fn from_bytes(bytes: [u8; 32]) -> NonceSecret {
        NonceSecret(Zeroizing::new(bytes))
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_creates_a_private_key_and_the_next_start_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = KeyRing::load_or_create(dir.path()).unwrap();
        let b = KeyRing::load_or_create(dir.path()).unwrap();
        assert_eq!(a.active_kid(), b.active_kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for entry in fs::read_dir(dir.path()).unwrap() {
                let mode = entry.unwrap().metadata().unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600);
            }
        }
    }

    #[test]
    fn rotation_adds_a_key_that_signs_and_keeps_the_old_one_published() {
        let dir = tempfile::tempdir().unwrap();
        let before = KeyRing::load_or_create(dir.path()).unwrap();
        let kid = KeyRing::rotate(dir.path()).unwrap();
        let after = KeyRing::load(dir.path()).unwrap();
        assert_eq!(after.active_kid(), kid);
        assert_ne!(kid, before.active_kid());
        assert!(after.jwks().find(before.active_kid()).is_ok());
    }

    #[test]
    fn lead_ids_sort_by_time_and_stay_unique() {
        let a = lead_id(1_700_000_000_000).unwrap();
        let b = lead_id(1_700_000_000_001).unwrap();
        assert_eq!(a.len(), 32);
        assert!(a < b);
        assert_ne!(lead_id(5).unwrap(), lead_id(5).unwrap());
    }

    #[test]
    fn the_nonce_secret_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let a = NonceSecret::load_or_create(dir.path()).unwrap();
        let b = NonceSecret::load_or_create(dir.path()).unwrap();
        assert_eq!(a.bytes(), b.bytes());
    }
}
