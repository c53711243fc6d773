//! Safe temporaries: every output is written under a unique hidden name
//! beside its final name and renamed into place when complete.
//!
//! The old `.NAME.part` had one fixed name per output, was opened with
//! `File::create` (truncate, follow symlinks) and reopened by path: two
//! runs into one directory wrote into one file, and a symlink planted at
//! that name made sheetsift write into any file it pointed at. Here the
//! name has random characters (`.NAME.Xy12ab9Q.part`), the file is created
//! with `O_CREAT | O_EXCL` (which fails on any existing entry, a symlink
//! included, so nothing is ever followed), mode 0666 less the umask as
//! `File::create` gives, and the handle is what gets written: the path is
//! never opened again except through [`SafeTemp::reopen`], which refuses
//! anything but the very file created. [`SafeTemp::commit`] renames it over
//! the final name (`rename(2)` replaces a symlink there, it does not follow
//! it). An uncommitted temporary is removed on drop, and it is registered
//! with [`crate::interrupt`] meanwhile, so an error or a signal on another
//! thread removes it too.
//!
//! A SIGKILL cannot be caught: [`remove_stale`] lets the next run of the
//! same selection remove what a killed run left.

use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Random characters in a temporary's name: 62^10, no collision between
/// runs in practice, and `O_EXCL` makes one an error rather than a merge.
const RANDOM_CHARS: usize = 10;

/// A file being written to `dest`, under a unique temporary name.
#[derive(Debug)]
pub struct SafeTemp {
    /// `None` once committed.
    file: Option<tempfile::NamedTempFile>,
    tmp: PathBuf,
    dest: PathBuf,
}

/// The `.NAME.` prefix of `dest`'s temporaries.
fn prefix_for(dest: &Path) -> io::Result<String> {
    let name = dest.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file name", dest.display()),
        )
    })?;
    Ok(format!(".{name}."))
}

fn parent_of(dest: &Path) -> &Path {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl SafeTemp {
    /// Create a new empty temporary beside `dest` (whose directory must
    /// exist).
    pub fn new(dest: &Path) -> io::Result<SafeTemp> {
        let prefix = prefix_for(dest)?;
        let file = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".part")
            .rand_bytes(RANDOM_CHARS)
            // The mode File::create uses; the umask applies as usual.
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(parent_of(dest))?;
        let tmp = file.path().to_path_buf();
        crate::interrupt::register_temporary(&tmp);
        Ok(SafeTemp {
            file: Some(file),
            tmp,
            dest: dest.to_path_buf(),
        })
    }

    /// The temporary's path (for messages, and for writers that insist on
    /// a path: use [`SafeTemp::reopen`], not `File::create`).
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// The open file, to write through.
    pub fn file(&self) -> &File {
        self.file
            .as_ref()
            .map(|f| f.as_file())
            .expect("a SafeTemp holds its file until commit")
    }

    /// A second handle on the same open file (for a writer on another
    /// thread, or one that wants to own its `File`).
    pub fn try_clone(&self) -> io::Result<File> {
        self.file().try_clone()
    }

    /// Open the temporary's path again for writing, truncated, without
    /// following a symlink, and only if it still is the file created (same
    /// device and inode): for code that opens outputs by path.
    pub fn reopen(&self) -> io::Result<File> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&self.tmp)?;
        let (a, b) = (f.metadata()?, self.file().metadata()?);
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return Err(io::Error::other(format!(
                "{}: replaced while being written",
                self.tmp.display()
            )));
        }
        f.set_len(0)?;
        Ok(f)
    }

    /// Flush to disk and rename over `dest`.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("committed once");
        file.as_file().sync_all()?;
        match file.persist(&self.dest) {
            Ok(_) => {
                crate::interrupt::unregister_temporary(&self.tmp);
                // The rename is durable once the directory is synced; a
                // failure here leaves a complete output, so it is ignored.
                if let Ok(dir) = File::open(parent_of(&self.dest)) {
                    let _ = dir.sync_all();
                }
                Ok(())
            }
            Err(e) => {
                // Dropping the returned NamedTempFile removes the temporary.
                drop(e.file);
                crate::interrupt::unregister_temporary(&self.tmp);
                Err(e.error)
            }
        }
    }
}

impl Drop for SafeTemp {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            // NamedTempFile's own drop has removed the file.
            crate::interrupt::unregister_temporary(&self.tmp);
        }
    }
}

/// Whether `name` is a temporary of an output named `dest_name`.
pub fn is_temporary_of(name: &str, dest_name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|r| r.strip_prefix(dest_name))
        .and_then(|r| r.strip_prefix('.'))
        .and_then(|r| r.strip_suffix(".part"))
        .is_some_and(|r| r.len() == RANDOM_CHARS && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Remove the temporaries a killed run left for the outputs `dest_names`
/// in `dir`. Call it only while holding the selection's lock: no live run
/// writes those outputs then. Symlinks are removed themselves, never
/// followed. Returns what was removed.
pub fn remove_stale(dir: &Path, dest_names: &[String]) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    for entry in rd {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if dest_names.iter().any(|d| is_temporary_of(name, d)) {
            let p = entry.path();
            match std::fs::remove_file(&p) {
                Ok(()) => removed.push(p),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    removed.sort();
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_renames_a_unique_temporary_into_place() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.xlsx");
        let a = SafeTemp::new(&dest).unwrap();
        let b = SafeTemp::new(&dest).unwrap();
        assert_ne!(a.path(), b.path(), "two writers, two files");
        let name = a.path().file_name().unwrap().to_str().unwrap().to_string();
        assert!(is_temporary_of(&name, "out.xlsx"), "{name}");
        writeln!(a.file(), "from a").unwrap();
        writeln!(b.file(), "from b").unwrap();
        a.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "from a\n");
        b.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "from b\n");
        assert_eq!(names(dir.path()), ["out.xlsx"]);
        let mode = std::fs::metadata(&dest).unwrap().permissions().mode();
        assert_ne!(
            mode & 0o044,
            0,
            "readable by others as File::create makes it: {mode:o}"
        );
    }

    #[test]
    fn a_dropped_temporary_is_removed_and_the_destination_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.csv");
        std::fs::write(&dest, "old").unwrap();
        {
            let t = SafeTemp::new(&dest).unwrap();
            writeln!(t.file(), "half").unwrap();
        }
        assert_eq!(names(dir.path()), ["out.csv"]);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "old");
    }

    #[test]
    fn symlinks_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        // At the old fixed temporary name, and at the final name.
        std::os::unix::fs::symlink(&victim, out.join(".a.xlsx.part")).unwrap();
        std::os::unix::fs::symlink(&victim, out.join("a.xlsx")).unwrap();
        let t = SafeTemp::new(&out.join("a.xlsx")).unwrap();
        t.file().write_all(b"new").unwrap();
        // reopen() refuses a path swapped for a link.
        std::fs::remove_file(t.path()).unwrap();
        std::os::unix::fs::symlink(&victim, t.path()).unwrap();
        assert!(t.reopen().is_err());
        std::fs::remove_file(t.path()).unwrap();
        drop(t);
        let t = SafeTemp::new(&out.join("a.xlsx")).unwrap();
        let mut f = t.reopen().unwrap();
        f.write_all(b"new").unwrap();
        drop(f);
        t.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        let meta = std::fs::symlink_metadata(out.join("a.xlsx")).unwrap();
        assert!(
            meta.file_type().is_file(),
            "the link at the final name was replaced"
        );
        assert_eq!(std::fs::read_to_string(out.join("a.xlsx")).unwrap(), "new");
    }

    #[test]
    fn stale_temporaries_of_the_selection_are_removed_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        for n in [
            ".a.xlsx.AbCdE12345.part", // a's, killed
            ".b.xlsx.AbCdE12345.part", // another selection's
            ".a.xlsx.part",            // not ours: the old fixed name
            ".a.xlsx.short.part",
            "a.xlsx",
        ] {
            std::fs::write(p.join(n), "x").unwrap();
        }
        std::os::unix::fs::symlink("/nonexistent", p.join(".a.xlsx.ZZZZZZZZZZ.part")).unwrap();
        let removed = remove_stale(p, &["a.xlsx".to_string()]).unwrap();
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert_eq!(
            names(p),
            [
                ".a.xlsx.part",
                ".a.xlsx.short.part",
                ".b.xlsx.AbCdE12345.part",
                "a.xlsx"
            ]
        );
        assert!(remove_stale(&p.join("missing"), &[]).unwrap().is_empty());
    }
}
