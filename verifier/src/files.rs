//! Files that a crash leaves whole or absent, never in part: the mail and SMS outbox
//! folders and every key file go through [`write_atomic`].
//!
//! The bytes go to a temporary file in the same folder, which is flushed to the disk
//! (`fsync`), then takes the final name in one step (`rename`, or a hard link when an
//! existing file must be kept), and the folder itself is flushed so that the new name
//! survives a power cut too. A reader of the folder sees the old file, the new file, or a
//! hidden `.…tmp` left by a crash (removed by [`remove_temporaries`] at the next start),
//! never a 0-byte or half-written message.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What to do when the file exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (a message written again after a crash: the same bytes).
    Replace,
    /// Keep it and fail with [`io::ErrorKind::AlreadyExists`] (a key another replica
    /// created first).
    Keep,
}

/// Who may read the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Its owner only (0600): secrets.
    Private,
    /// As the process's umask allows.
    Default,
}

const TEMP_SUFFIX: &str = ".tmp";

fn temporary_name(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name =
        path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a file path needs a file name"))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(path.with_file_name(format!(".{}.{}-{n}{TEMP_SUFFIX}", name.to_string_lossy(), std::process::id())))
}

/// Writes `bytes` to `path` atomically and durably (see the module's documentation).
pub fn write_atomic(path: &Path, bytes: &[u8], access: Access, existing: Existing) -> io::Result<()> {
    let tmp = temporary_name(path)?;
    let written = write_then_link(&tmp, path, bytes, access, existing);
    if written.is_err() || existing == Existing::Keep {
        // After a link the temporary name is a second name of the same file; after a
        // failure it is debris.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

fn write_then_link(tmp: &Path, path: &Path, bytes: &[u8], access: Access, existing: Existing) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if access == Access::Private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = access;
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    match existing {
        Existing::Replace => fs::rename(tmp, path),
        // A hard link never replaces: the one atomic "create if absent" with full content.
        Existing::Keep => fs::hard_link(tmp, path),
    }
}

/// [`write_atomic`] (replacing, default access) on a blocking thread, for async callers
/// (the outbox transports).
pub async fn write_in_background(path: PathBuf, bytes: Vec<u8>) -> io::Result<()> {
    tokio::task::spawn_blocking(move || write_atomic(&path, &bytes, Access::Default, Existing::Replace))
        .await
        .map_err(io::Error::other)?
}

/// Flushes a folder's entries (a new or renamed name) to the disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Removes the temporary files a crash left in `dir`; returns how many.
pub fn remove_temporaries(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(TEMP_SUFFIX) && entry.file_type()?.is_file() {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.eml");
        write_atomic(&path, b"first", Access::Default, Existing::Replace).unwrap();
        write_atomic(&path, b"second", Access::Default, Existing::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_kept_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nonce.secret");
        write_atomic(&path, b"mine", Access::Private, Existing::Keep).unwrap();
        let again = write_atomic(&path, b"theirs", Access::Private, Existing::Keep).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"mine");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn the_temporaries_a_crash_left_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".a.eml.1-0.tmp"), b"").unwrap();
        fs::write(dir.path().join("b.eml"), b"x").unwrap();
        assert_eq!(remove_temporaries(dir.path()).unwrap(), 1);
        assert!(dir.path().join("b.eml").exists());
    }
}
