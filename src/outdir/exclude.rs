//! Outputs are never inputs. `extract same -o same` read its previous
//! outputs as inputs, run after run; so did `extract data -o data/clean`.
//!
//! A discovered file is taken for a sheetsift output, and not read, when
//! its directory holds a sheetsift manifest (or journal) that lists it or
//! whose prefix names it (`PREFIX_A_B.xlsx`), or when its directory is one
//! this run writes to (`-o`, `--keep-clean`) and its name is one of this
//! run's chunk names. The user's own files in such a directory are still
//! read: `extract same -o same` works, and reads the same inputs each time.
//! Only the file level is judged, not the directory: a manifest's
//! directory may well hold the exports it was made from.
//!
//! Directories are compared by device and inode, so `out`, `./out` and a
//! symlink to it are one directory.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::record::{self, AnyManifest};
use super::{is_chunk_name, journal};

/// What one directory says about the files in it.
#[derive(Debug, Default)]
struct DirOutputs {
    /// Output names its manifests and journals list.
    listed: HashSet<String>,
    /// Prefixes of the runs whose manifests are here.
    prefixes: Vec<String>,
    /// This run writes here.
    own: bool,
}

impl DirOutputs {
    fn is_output(&self, name: &str, own_prefix: &str) -> bool {
        self.listed.contains(name)
            || self.prefixes.iter().any(|p| is_chunk_name(name, p))
            || (self.own && is_chunk_name(name, own_prefix))
    }
}

fn dir_id(p: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// Read what `dir`'s manifests and journals say. Unreadable ones are
/// passed over: discovery must not fail on them (`dialogues` reports them).
fn scan(dir: &Path) -> DirOutputs {
    let mut out = DirOutputs::default();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_manifest = name.starts_with("manifest") && name.ends_with(".json");
        if !is_manifest && !journal::is_journal_name(name) {
            continue;
        }
        // A symlink or a directory named like a manifest is not one.
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        if journal::is_journal_name(name) {
            for r in journal::read(&entry.path()).unwrap_or_default() {
                out.listed.extend(r.output);
            }
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        if !record::looks_like_manifest(text.as_bytes()) {
            continue;
        }
        match record::parse(&text) {
            Ok(AnyManifest::V2(m)) => {
                out.prefixes.push(m.options.prefix.clone());
                out.listed
                    .extend(m.chunks.iter().filter_map(|c| c.output.clone()));
            }
            Ok(AnyManifest::V1(m)) => {
                out.prefixes.push(m.options.prefix.clone());
                out.listed
                    .extend(m.chunks.iter().filter_map(|c| c.output.clone()));
            }
            Err(_) => {}
        }
    }
    out
}

/// The files a run will not read because sheetsift wrote them.
#[derive(Debug, Default, PartialEq)]
pub struct Excluded {
    pub files: Vec<PathBuf>,
}

impl Excluded {
    /// The one line the run prints (and keeps in the report's notes), or
    /// none when nothing was excluded.
    pub fn note(&self) -> Option<String> {
        const SHOWN: usize = 3;
        let n = self.files.len();
        if n == 0 {
            return None;
        }
        let mut names: Vec<String> = self
            .files
            .iter()
            .take(SHOWN)
            .map(|p| p.display().to_string())
            .collect();
        if n > SHOWN {
            names.push(format!("and {} more", n - SHOWN));
        }
        Some(format!(
            "not reading {n} file{} that sheetsift wrote ({}): outputs are never read as inputs",
            if n == 1 { "" } else { "s" },
            names.join(", ")
        ))
    }
}

/// Split the discovered `files` (global order kept) into inputs and
/// sheetsift outputs. `own_dirs` are the directories this run writes
/// chunk outputs to (`-o` of `extract`, `--keep-clean` of `run`; they may
/// not exist yet), `prefix` this run's output prefix.
pub fn split_outputs(
    files: Vec<PathBuf>,
    own_dirs: &[PathBuf],
    prefix: &str,
) -> (Vec<PathBuf>, Excluded) {
    let own: Vec<(u64, u64)> = own_dirs.iter().filter_map(|d| dir_id(d)).collect();
    let mut dirs: HashMap<PathBuf, DirOutputs> = HashMap::new();
    let mut inputs = Vec::with_capacity(files.len());
    let mut excluded = Excluded::default();
    for f in files {
        let parent = match f.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let info = dirs.entry(parent).or_insert_with_key(|p| {
            let mut d = scan(p);
            d.own = dir_id(p).is_some_and(|id| own.contains(&id));
            d
        });
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if info.is_output(name, prefix) {
            excluded.files.push(f);
        } else {
            inputs.push(f);
        }
    }
    (inputs, excluded)
}

/// Whether `dir` holds a sheetsift manifest or journal (then `dialogues`
/// reads it as an extract output; otherwise its files are raw exports).
pub fn holds_manifest(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.flatten().any(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if journal::is_journal_name(&name) {
            return true;
        }
        if !(name.starts_with("manifest") && name.ends_with(".json")) {
            return false;
        }
        let mut head = [0u8; 256];
        std::fs::File::open(e.path())
            .and_then(|mut f| {
                use std::io::Read;
                let n = f.read(&mut head)?;
                Ok(record::looks_like_manifest(&head[..n]))
            })
            .unwrap_or(false)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }

    const V1: &str = r#"{
  "tool": "sheetsift 0.1.0", "chunks_selected": null, "shard": null,
  "options": {"chunk_size": 2, "prefix": "part", "format": "xlsx",
    "columns": ["a","b","c","d"], "sheet": null, "encoding": null,
    "match": "substring", "system_messages": []},
  "inputs": {"count": 0, "fingerprint": "0", "files": []},
  "chunks": [{"index": 0, "first_file": 0, "last_file": 1, "status": "written",
    "output": "renamed_by_hand.xlsx", "rows": 3}]
}"#;

    #[test]
    fn outputs_are_told_from_the_users_files() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        // `extract same -o same` after one run: no manifest needed to see
        // this run's own chunk name in its own output directory.
        for f in [
            "same/chat_0001.xlsx",
            "same/clean_data_0_5.xlsx",
            "same/clean_data_notes.xlsx",
            // An older run's directory below the inputs, with a v1 manifest.
            "data/old/part_0_1.xlsx",
            "data/old/renamed_by_hand.xlsx",
            "data/old/clean_data_0_1.xlsx",
            "data/old/export.xlsx",
            "data/x.xlsx",
        ] {
            touch(&r.join(f));
        }
        std::fs::write(r.join("data/old/manifest.json"), V1).unwrap();
        let files: Vec<PathBuf> = [
            "data/old/clean_data_0_1.xlsx",
            "data/old/export.xlsx",
            "data/old/part_0_1.xlsx",
            "data/old/renamed_by_hand.xlsx",
            "data/x.xlsx",
            "same/chat_0001.xlsx",
            "same/clean_data_0_5.xlsx",
            "same/clean_data_notes.xlsx",
        ]
        .iter()
        .map(|f| r.join(f))
        .collect();
        let (inputs, excluded) = split_outputs(files, &[r.join("same/../same")], "clean_data");
        let rel = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|p| p.strip_prefix(r).unwrap().display().to_string())
                .collect()
        };
        assert_eq!(
            rel(&inputs),
            [
                // Not this run's output directory, not the old run's prefix.
                "data/old/clean_data_0_1.xlsx",
                "data/old/export.xlsx",
                "data/x.xlsx",
                "same/chat_0001.xlsx",
                "same/clean_data_notes.xlsx",
            ]
        );
        assert_eq!(
            rel(&excluded.files),
            [
                "data/old/part_0_1.xlsx",
                "data/old/renamed_by_hand.xlsx",
                "same/clean_data_0_5.xlsx",
            ]
        );
        let note = excluded.note().unwrap();
        assert!(
            note.starts_with("not reading 3 files that sheetsift wrote ("),
            "{note}"
        );
        assert!(
            note.ends_with("): outputs are never read as inputs"),
            "{note}"
        );
        assert!(holds_manifest(&r.join("data/old")));
        assert!(!holds_manifest(&r.join("same")));
        assert!(!holds_manifest(&r.join("nowhere")));
    }

    #[test]
    fn the_note_names_three_and_counts_the_rest() {
        let e = Excluded {
            files: (0..5)
                .map(|i| PathBuf::from(format!("o/c_{i}_{i}.xlsx")))
                .collect(),
        };
        assert_eq!(
            e.note().unwrap(),
            "not reading 5 files that sheetsift wrote (o/c_0_0.xlsx, o/c_1_1.xlsx, o/c_2_2.xlsx, and 2 more): outputs are never read as inputs"
        );
        assert_eq!(Excluded::default().note(), None);
        let one = Excluded {
            files: vec![PathBuf::from("same/clean_data_0_5.xlsx")],
        };
        assert_eq!(
            one.note().unwrap(),
            "not reading 1 file that sheetsift wrote (same/clean_data_0_5.xlsx): outputs are never read as inputs"
        );
    }

    #[test]
    fn a_json_that_is_not_ours_makes_no_output_directory() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        touch(&r.join("in/clean_data_0_1.xlsx"));
        std::fs::write(r.join("in/manifest.json"), r#"{"name": "npm"}"#).unwrap();
        let (inputs, excluded) =
            split_outputs(vec![r.join("in/clean_data_0_1.xlsx")], &[], "clean_data");
        assert_eq!(inputs.len(), 1);
        assert!(excluded.files.is_empty());
        assert!(!holds_manifest(&r.join("in")));
    }
}
