//! One run per selection at a time: an advisory lock on
//! `OUT/.manifest….json.lock`, taken before any work and held to the end.
//!
//! Two runs of one selection into one directory (a cron job that overran,
//! a retried pod whose first attempt still runs) would otherwise both
//! write every chunk and the manifest, and the directory would end with
//! one run's chunk beside the other's manifest. The second run refuses
//! instead (exit 1: worth a retry once the first is done). Shards and
//! `--chunks` ranges have their own manifest, so their own lock: they run
//! side by side into one directory as before.
//!
//! `flock(2)` is released by the kernel when the process dies, however it
//! dies, so a SIGKILL never leaves a stale lock; the file itself stays (a
//! hidden, empty-ish file; removing it would race with the next run). On
//! NFS, Linux emulates `flock` with byte-range locks, which NFSv4 servers
//! honour across machines.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct SelectionLock {
    // Held for its lock; closing the descriptor releases it.
    _file: File,
    path: PathBuf,
}

impl SelectionLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another sheetsift run{} is writing {manifest} in {dir} (lock {lock}): wait for it to finish, or write to another -o", holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Busy {
        dir: String,
        manifest: String,
        lock: String,
        /// What the holder wrote into the lock file (`pid N`).
        holder: Option<String>,
    },
    #[error("{path}: cannot lock: {source}")]
    Io { path: String, source: io::Error },
}

/// The lock file of a manifest name.
pub fn path_for(dir: &Path, manifest_name: &str) -> PathBuf {
    dir.join(format!(".{manifest_name}.lock"))
}

/// Take the lock of `manifest_name` in `dir` without waiting.
pub fn try_lock(dir: &Path, manifest_name: &str) -> Result<SelectionLock, LockError> {
    let path = path_for(dir, manifest_name);
    let io_err = |source| LockError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o666)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(io_err)?;
    // SAFETY: flock on a descriptor this function owns; no memory involved.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::WouldBlock {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Busy {
                dir: dir.display().to_string(),
                manifest: manifest_name.to_string(),
                lock: path.display().to_string(),
                holder: (!holder.is_empty()).then(|| holder.to_string()),
            });
        }
        return Err(io_err(e));
    }
    // Who holds it, for the message of a run that finds it taken.
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| writeln!(file, "pid {}", std::process::id()));
    Ok(SelectionLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_selection_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let a = try_lock(dir.path(), "manifest.json").unwrap();
        assert_eq!(
            a.path().file_name().unwrap(),
            ".manifest.json.lock",
            "hidden: the input walk skips it"
        );
        match try_lock(dir.path(), "manifest.json") {
            Err(e @ LockError::Busy { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("another sheetsift run"), "{msg}");
                assert!(
                    msg.contains(&format!("pid {}", std::process::id())),
                    "{msg}"
                );
                assert!(msg.contains("manifest.json"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
        // Another selection is another lock.
        let b = try_lock(dir.path(), "manifest.shard-1-of-2.json").unwrap();
        drop(a);
        let _a = try_lock(dir.path(), "manifest.json").unwrap();
        drop(b);
    }

    #[test]
    fn a_symlink_at_the_lock_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, path_for(dir.path(), "manifest.json")).unwrap();
        assert!(matches!(
            try_lock(dir.path(), "manifest.json"),
            Err(LockError::Io { .. })
        ));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}
