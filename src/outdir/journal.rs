//! The run journal: `manifest….json.journal` beside the manifest, one JSON
//! [`ChunkRecord`] per line, appended (and synced) right after each chunk
//! output is renamed into place.
//!
//! The manifest is written once, at the end of a run: rewriting it after
//! every chunk would copy the whole input list thousands of times. So a run
//! killed with SIGKILL (which nothing can catch) would lose the records of
//! the chunks it finished, and `--resume` would redo them all. The journal
//! keeps them: a resumed run takes its records like a manifest's (they are
//! checked the same way: fingerprint, size, hash). A line cut by the kill
//! is ignored. The journal is removed once the manifest is in place; one
//! left beside a directory's manifests means a run did not finish, which
//! `dialogues` refuses.
//!
//! The name ends in `.journal`, not `.json`, so neither the manifest
//! lookup nor the input walk takes it for something else.

use std::io::{self, BufRead, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::record::ChunkRecord;

/// The journal of a manifest path.
pub fn path_for(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// Whether a file name is a journal (`manifest*.json.journal`).
pub fn is_journal_name(name: &str) -> bool {
    name.starts_with("manifest") && name.ends_with(".json.journal")
}

/// Append one record and sync it. Opened with `O_NOFOLLOW`: a symlink at
/// the journal's name is an error, never a way to append elsewhere.
pub fn append(journal: &Path, record: &ChunkRecord) -> io::Result<()> {
    let mut line = serde_json::to_string(record).map_err(io::Error::other)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(journal)?;
    // A line cut by a kill is ended first, so it costs only itself.
    let len = f.metadata()?.len();
    let mut last = [b'\n'];
    if len > 0 {
        f.read_exact_at(&mut last, len - 1)?;
    }
    if last[0] != b'\n' {
        line.insert(0, '\n');
    }
    // One write of the whole line: a kill cuts at most this line.
    f.write_all(line.as_bytes())?;
    f.sync_data()
}

/// The records of a journal, in order; a missing journal has none, and a
/// line that does not parse (cut by a kill) is skipped.
pub fn read(journal: &Path) -> io::Result<Vec<ChunkRecord>> {
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(journal)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for line in io::BufReader::new(f).split(b'\n') {
        if let Ok(r) = serde_json::from_slice::<ChunkRecord>(&line?) {
            out.push(r);
        }
    }
    Ok(out)
}

/// Remove a journal once its run's manifest is in place.
pub fn remove(journal: &Path) -> io::Result<()> {
    match std::fs::remove_file(journal) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(index: usize) -> ChunkRecord {
        ChunkRecord {
            index,
            first_file: index,
            last_file: index,
            status: "written".into(),
            output: Some(format!("clean_data_{index}_{index}.xlsx")),
            rows: 7,
            size: Some(100),
            sha256: Some("ab".repeat(32)),
            fingerprint: "f".repeat(64),
        }
    }

    #[test]
    fn records_survive_a_cut_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("manifest.shard-0-of-2.json");
        let j = path_for(&m);
        assert_eq!(j.file_name().unwrap(), "manifest.shard-0-of-2.json.journal");
        assert!(is_journal_name("manifest.shard-0-of-2.json.journal"));
        assert!(!is_journal_name("manifest.json"));
        assert!(read(&j).unwrap().is_empty());
        append(&j, &rec(0)).unwrap();
        append(&j, &rec(2)).unwrap();
        // A kill in the middle of the third line.
        let mut f = std::fs::OpenOptions::new().append(true).open(&j).unwrap();
        f.write_all(br#"{"index":4,"first_fi"#).unwrap();
        drop(f);
        assert_eq!(read(&j).unwrap(), [rec(0), rec(2)]);
        // The next record starts on a line of its own.
        append(&j, &rec(6)).unwrap();
        assert_eq!(read(&j).unwrap(), [rec(0), rec(2), rec(6)]);
        remove(&j).unwrap();
        remove(&j).unwrap();
        assert!(!j.exists());
    }

    #[test]
    fn a_symlink_at_the_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let j = dir.path().join("manifest.json.journal");
        std::os::unix::fs::symlink(&victim, &j).unwrap();
        assert!(append(&j, &rec(0)).is_err());
        assert!(read(&j).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }
}
