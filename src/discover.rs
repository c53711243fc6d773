//! Input discovery: arguments -> the global file order (SPEC "Inputs").
//!
//! Directories are walked recursively; hidden entries (`.name`) and Excel
//! lock files (`~$name`) are skipped, and only spreadsheet extensions are
//! kept. Files named on the command line are always taken. The result is
//! de-duplicated and sorted by the whole path's bytes, so `a-b/x.xlsx`
//! sorts before `a/x.xlsx`, exactly as Python's `sorted()` of the paths.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Extensions kept when walking (compared lower-cased).
pub const EXTENSIONS: [&str; 6] = ["xlsx", "xlsm", "xlsb", "xls", "ods", "csv"];

fn is_hidden_or_lock(name: &std::ffi::OsStr) -> bool {
    let b = name.as_bytes();
    b.starts_with(b".") || b.starts_with(b"~$")
}

fn has_kept_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|k| e.eq_ignore_ascii_case(k)))
}

/// All input files in the global order.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut found: Vec<PathBuf> = Vec::new();
    for arg in inputs {
        let meta = std::fs::metadata(arg)
            .map_err(|_| Error::Usage(format!("input not found: {}", arg.display())))?;
        if !meta.is_dir() {
            found.push(arg.clone());
            continue;
        }
        let walker = walkdir::WalkDir::new(arg)
            .follow_links(false)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().as_bytes().starts_with(b"."));
        for entry in walker {
            let entry = entry.map_err(|e| {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| arg.clone());
                Error::io(&path, e.into())
            })?;
            if entry.file_type().is_file()
                && !is_hidden_or_lock(entry.file_name())
                && has_kept_extension(entry.path())
            {
                found.push(entry.into_path());
            }
        }
    }
    found.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    found.dedup();
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
        let got = discover(&[root.to_path_buf()]).unwrap();
        let rel: Vec<_> = got
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(rel, ["a-b/x.xlsx", "a/B.CSV", "a/x.xlsx"]);
    }
}
