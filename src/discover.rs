//! Input discovery: arguments -> the global file order (SPEC "Inputs").
//!
//! Directories are walked recursively; hidden entries (`.name`) and Excel
//! lock files (`~$name`) are skipped, and only spreadsheet extensions are
//! kept. Files named on the command line are always taken. The result is
//! de-duplicated and sorted by the whole path's bytes, so `a-b/x.xlsx`
//! sorts before `a/x.xlsx`, exactly as Python's `sorted()` of the paths.
//!
//! Symbolic links are taken as the reference's `os.walk(arg)` (with its
//! default `followlinks=False`) lists them, so that file numbers and chunk
//! names are the reference's:
//! - a link to a file is listed under the link's own path, and read
//!   through it;
//! - a link to a directory is not descended (`os.walk` puts it among the
//!   directories and does not enter it): no directory is entered twice,
//!   so a link cycle (`sub/up -> ..`) cannot loop the walk;
//! - a dangling link, or one that loops on itself, is listed like a file
//!   (`os.walk` decides "directory" by following the link, which fails);
//!   opening it then fails and it becomes that file's error naming it
//!   (`No such file or directory`, `Too many levels of symbolic links`).
//!
//! A directory that cannot be listed (no permission) is not the run's end:
//! `os.walk` would skip it silently; here it is kept in
//! [`Found::unlisted`], reported like a failed input file (its path, the
//! reason, exit code 3) while everything else is processed.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, FileError, FileErrorKind, Result};

/// Extensions kept when walking (compared lower-cased).
pub const EXTENSIONS: [&str; 6] = ["xlsx", "xlsm", "xlsb", "xls", "ods", "csv"];

fn is_hidden_or_lock(name: &std::ffi::OsStr) -> bool {
    let b = name.as_bytes();
    b.starts_with(b".") || b.starts_with(b"~$")
}

fn has_kept_extension(path: &Path) -> bool {
    // Bytes, not `to_str`: a name that is not UTF-8 keeps its extension.
    path.extension().is_some_and(|e| {
        EXTENSIONS
            .iter()
            .any(|k| e.as_bytes().eq_ignore_ascii_case(k.as_bytes()))
    })
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Found {
    /// The input files in the global order.
    pub files: Vec<PathBuf>,
    /// Directories below an argument that could not be listed, each as a
    /// per-input error naming the directory ([`FileErrorKind::Unlisted`]).
    pub unlisted: Vec<FileError>,
}

/// All input files in the global order, and the directories that could
/// not be listed.
pub fn discover(inputs: &[PathBuf]) -> Result<Found> {
    let mut found = Found::default();
    for arg in inputs {
        let meta = std::fs::metadata(arg)
            .map_err(|_| Error::Usage(format!("input not found: {}", arg.display())))?;
        if !meta.is_dir() {
            found.files.push(arg.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(arg)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().as_bytes().starts_with(b"."));
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    let path = e.path().map_or_else(|| arg.clone(), Path::to_path_buf);
                    let io = e
                        .into_io_error()
                        .unwrap_or_else(|| std::io::Error::other("cannot be walked"));
                    found
                        .unlisted
                        .push(FileError::new(&path, FileErrorKind::Unlisted(Arc::new(io))));
                    continue;
                }
            };
            let ft = entry.file_type();
            if !(ft.is_file() || ft.is_symlink())
                || is_hidden_or_lock(entry.file_name())
                || !has_kept_extension(entry.path())
            {
                continue;
            }
            // A link to a directory is not followed (see the module doc);
            // any other link, dangling ones too, is listed.
            if ft.is_symlink() && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            found.files.push(entry.into_path());
        }
    }
    found
        .files
        .sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    found.files.dedup();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_bytewise_and_hidden_entries_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for p in [
            "a/x.xlsx",
            "a-b/x.xlsx",
            "a/.hidden.xlsx",
            "a/~$lock.xlsx",
            ".git/y.csv",
            "a/z.txt",
            "a/B.CSV",
        ] {
            let p = root.join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
        }
        let got = discover(&[root.to_path_buf()]).unwrap().files;
        let rel: Vec<_> = got
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(rel, ["a-b/x.xlsx", "a/B.CSV", "a/x.xlsx"]);
    }

    #[test]
    fn links_are_listed_as_os_walk_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("in");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::create_dir_all(elsewhere.join("d")).unwrap();
        std::fs::write(elsewhere.join("t.csv"), b"x").unwrap();
        std::fs::write(elsewhere.join("d/u.csv"), b"x").unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, root.join(name)).unwrap()
        };
        link(&elsewhere.join("t.csv"), "file.csv");
        link(Path::new("/nonexistent/x.csv"), "dangling.csv");
        link(Path::new("self.csv"), "self.csv");
        link(&elsewhere.join("d"), "sub/dir.csv");
        link(Path::new(".."), "sub/up");
        let got = discover(std::slice::from_ref(&root)).unwrap();
        let rel: Vec<_> = got
            .files
            .iter()
            .map(|p| p.strip_prefix(&root).unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(rel, ["dangling.csv", "file.csv", "self.csv"]);
        assert!(got.unlisted.is_empty());
    }
}
