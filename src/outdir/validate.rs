//! Is this directory one complete run? `dialogues` (and anything else that
//! reads extract outputs) asks before reading a byte.
//!
//! A directory that holds a sheetsift manifest is accepted only when its
//! manifests are of one run (same output options, same input list), no
//! run is unfinished (a journal), every chunk they record is there with
//! its recorded size and SHA-256, every shard of a sharded run left its
//! manifest, and no spreadsheet in it is one that no manifest lists.
//! Anything else is refused, naming every file at fault, so that a chunk
//! deleted from a shared directory, a file copied in by hand or a rerun
//! with other options never turns into a corpus quietly missing or
//! doubling rows. `--ignore-manifests` is the expert's way past it.
//!
//! [`validate`] is pure: it judges a [`Listing`] with a [`Disk`] for sizes
//! and hashes, so every verdict is unit-tested without a file system;
//! [`scan`] and [`RealDisk`] are the thin part that reads the directory.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use super::journal;
use super::record::{self, AnyManifest, ChunkRecord, Manifest, OutputOptions};

/// What a file is, as far as the verdict needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFacts {
    pub size: u64,
    /// A regular file (not a symlink, not a directory).
    pub regular: bool,
}

/// Sizes and hashes of files relative to the directory being judged.
pub trait Disk {
    /// `None` when there is no such entry (symlinks are not followed).
    fn stat(&mut self, rel: &Path) -> Option<FileFacts>;
    /// Hex SHA-256 of a file's content.
    fn sha256(&mut self, rel: &Path) -> io::Result<String>;
}

/// A directory as `dialogues` would read it.
#[derive(Debug, Default)]
pub struct Listing {
    pub dir: PathBuf,
    /// Every spreadsheet below `dir` that discovery would take, relative,
    /// in the global order.
    pub spreadsheets: Vec<PathBuf>,
    /// The `manifest*.json` files at its top, with what parsing gave.
    pub manifests: Vec<(String, Result<AnyManifest, String>)>,
    /// The `manifest*.json.journal` files at its top.
    pub journals: Vec<String>,
}

/// One reason a directory is not one complete run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Unreadable { manifest: String, reason: String },
    OldFormat { manifest: String },
    Incompatible { a: String, b: String, what: String },
    Unfinished { journal: String },
    MissingShards { n: usize, missing: Vec<usize> },
    Conflict { file: String, a: String, b: String },
    Missing { file: String, manifest: String },
    Changed { file: String, what: String },
    Unlisted { file: String },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreadable { manifest, reason } => {
                write!(f, "{manifest}: not a readable sheetsift manifest: {reason}")
            }
            Problem::OldFormat { manifest } => write!(
                f,
                "{manifest}: written by an older sheetsift, without the sizes and hashes to check the chunks against"
            ),
            Problem::Incompatible { a, b, what } => {
                write!(f, "{a} and {b} are of incompatible runs: {what}")
            }
            Problem::Unfinished { journal } => write!(
                f,
                "{journal}: a run into this directory did not finish (or is still running)"
            ),
            Problem::MissingShards { n, missing } => {
                let list: Vec<String> = missing
                    .iter()
                    .map(|k| format!("shard {k}/{n} (no manifest.shard-{k}-of-{n}.json)"))
                    .collect();
                write!(f, "{} of this sharded run missing", list.join(", "))
            }
            Problem::Conflict { file, a, b } => {
                write!(f, "{file}: recorded with different contents by {a} and {b}")
            }
            Problem::Missing { file, manifest } => {
                write!(f, "{file}: missing (listed by {manifest})")
            }
            Problem::Changed { file, what } => {
                write!(f, "{file}: changed since it was written ({what})")
            }
            Problem::Unlisted { file } => write!(f, "{file}: a file that no manifest lists"),
        }
    }
}

/// Why a directory is refused: every problem found, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub dir: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} is not one complete sheetsift run, so nothing was read:",
            self.dir.display()
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        write!(
            f,
            "rerun `sheetsift extract` into it (with --resume only what is missing or changed is redone), or pass --ignore-manifests to read it as it is"
        )
    }
}

impl std::error::Error for Refusal {}

/// An accepted directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// No manifest at all: raw exports, not extract output (`dialogues`
    /// warns that it does not filter system messages).
    pub raw: bool,
    /// Chunks the run recorded as not written (failed, no readable file):
    /// their rows are absent, which the caller reports.
    pub notes: Vec<String>,
}

fn name_of(p: &Path) -> String {
    p.display().to_string()
}

/// The first option in which two runs differ, as `key a vs b`.
fn describe_difference(a: &OutputOptions, b: &OutputOptions) -> String {
    let va = serde_json::to_value(a).unwrap_or_default();
    let vb = serde_json::to_value(b).unwrap_or_default();
    if let (Some(ma), Some(mb)) = (va.as_object(), vb.as_object()) {
        for (k, x) in ma {
            let y = mb.get(k).cloned().unwrap_or_default();
            if &y != x {
                return format!("{k} {x} vs {y}");
            }
        }
    }
    "options differ".into()
}

/// Judge a directory.
pub fn validate(listing: &Listing, disk: &mut impl Disk) -> Result<Verified, Refusal> {
    if listing.manifests.is_empty() && listing.journals.is_empty() {
        return Ok(Verified {
            raw: true,
            notes: Vec::new(),
        });
    }
    let mut problems = Vec::new();
    let mut runs: Vec<(&str, &Manifest)> = Vec::new();
    for (name, parsed) in &listing.manifests {
        match parsed {
            Ok(AnyManifest::V2(m)) => runs.push((name, m)),
            Ok(AnyManifest::V1(_)) => problems.push(Problem::OldFormat {
                manifest: name.clone(),
            }),
            Err(reason) => problems.push(Problem::Unreadable {
                manifest: name.clone(),
                reason: reason.clone(),
            }),
        }
    }
    for j in &listing.journals {
        problems.push(Problem::Unfinished { journal: j.clone() });
    }

    // One run: the same output options and the same input list.
    if let Some(&(first_name, first)) = runs.first() {
        for &(name, m) in &runs[1..] {
            let what = if m.options != first.options {
                Some(describe_difference(&first.options, &m.options))
            } else if m.inputs.fingerprint != first.inputs.fingerprint {
                Some(format!(
                    "input lists differ ({} files vs {})",
                    first.inputs.count, m.inputs.count
                ))
            } else {
                None
            };
            if let Some(what) = what {
                problems.push(Problem::Incompatible {
                    a: first_name.to_string(),
                    b: name.to_string(),
                    what,
                });
            }
        }
    }

    // Every shard of a sharded run.
    let mut shards: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (_, m) in &runs {
        if let Some((k, n)) = m.shard_of() {
            shards.entry(n).or_default().insert(k);
        }
    }
    for (n, present) in shards {
        let missing: Vec<usize> = (0..n.min(m_chunk_cap(&runs)))
            .filter(|k| !present.contains(k))
            .collect();
        if !missing.is_empty() {
            problems.push(Problem::MissingShards { n, missing });
        }
    }

    // The recorded chunks: one record per output name.
    let mut listed: BTreeMap<&str, (&str, &ChunkRecord)> = BTreeMap::new();
    let mut notes = Vec::new();
    for &(name, m) in &runs {
        for c in &m.chunks {
            if !c.is_written() {
                if c.status != "written" {
                    notes.push(format!(
                        "{}: chunk {} (files {}..{}) was not written ({}): its rows are not in this directory",
                        listing.dir.display(),
                        c.index,
                        c.first_file,
                        c.last_file,
                        c.status
                    ));
                }
                continue;
            }
            let out = c.output.as_deref().unwrap_or_default();
            match listed.get(out) {
                Some(&(other, prev)) if (prev.size, &prev.sha256) != (c.size, &c.sha256) => {
                    problems.push(Problem::Conflict {
                        file: out.to_string(),
                        a: other.to_string(),
                        b: name.to_string(),
                    });
                }
                Some(_) => {}
                None => {
                    listed.insert(out, (name, c));
                }
            }
        }
    }
    for (&out, &(manifest, c)) in &listed {
        let rel = Path::new(out);
        match disk.stat(rel) {
            None => problems.push(Problem::Missing {
                file: out.to_string(),
                manifest: manifest.to_string(),
            }),
            Some(f) if !f.regular => problems.push(Problem::Changed {
                file: out.to_string(),
                what: "not a regular file".into(),
            }),
            Some(f) if Some(f.size) != c.size => problems.push(Problem::Changed {
                file: out.to_string(),
                what: format!("size {}, recorded {}", f.size, c.size.unwrap_or(0)),
            }),
            Some(_) => match disk.sha256(rel) {
                Ok(h) if Some(&h) == c.sha256.as_ref() => {}
                Ok(_) => problems.push(Problem::Changed {
                    file: out.to_string(),
                    what: "its content differs from the recorded SHA-256".into(),
                }),
                Err(e) => problems.push(Problem::Changed {
                    file: out.to_string(),
                    what: format!("cannot read it: {e}"),
                }),
            },
        }
    }
    for s in &listing.spreadsheets {
        let key = s.to_str().unwrap_or_default();
        if !listed.contains_key(key) {
            problems.push(Problem::Unlisted { file: name_of(s) });
        }
    }

    if problems.is_empty() {
        Ok(Verified { raw: false, notes })
    } else {
        Err(Refusal {
            dir: listing.dir.clone(),
            problems,
        })
    }
}

/// Judge one file named explicitly (`dialogues clean/clean_data_0_1.xlsx`)
/// in a directory that holds manifests: it must be recorded there and
/// still be what was recorded. The rest of the directory is not judged:
/// the user asked for this chunk, not for the run.
pub fn validate_file(listing: &Listing, file: &str, disk: &mut impl Disk) -> Result<(), Refusal> {
    let refuse = |p: Problem| Refusal {
        dir: listing.dir.clone(),
        problems: vec![p],
    };
    let record = listing
        .manifests
        .iter()
        .find_map(|(name, parsed)| match parsed {
            Ok(AnyManifest::V2(m)) => m
                .chunks
                .iter()
                .find(|c| c.is_written() && c.output.as_deref() == Some(file))
                .map(|c| (name.as_str(), c)),
            _ => None,
        });
    let Some((_, c)) = record else {
        return Err(refuse(Problem::Unlisted {
            file: file.to_string(),
        }));
    };
    let changed = |what: String| {
        refuse(Problem::Changed {
            file: file.to_string(),
            what,
        })
    };
    match disk.stat(Path::new(file)) {
        None => Err(changed("it is gone".into())),
        Some(f) if !f.regular => Err(changed("not a regular file".into())),
        Some(f) if Some(f.size) != c.size => Err(changed(format!(
            "size {}, recorded {}",
            f.size,
            c.size.unwrap_or(0)
        ))),
        Some(_) => match disk.sha256(Path::new(file)) {
            Ok(h) if Some(&h) == c.sha256.as_ref() => Ok(()),
            Ok(_) => Err(changed(
                "its content differs from the recorded SHA-256".into(),
            )),
            Err(e) => Err(changed(format!("cannot read it: {e}"))),
        },
    }
}

/// Shards beyond the number of chunks have nothing to do and may write no
/// manifest: only shards below the run's chunk count are required.
fn m_chunk_cap(runs: &[(&str, &Manifest)]) -> usize {
    runs.iter().map(|(_, m)| m.chunk_count).max().unwrap_or(0)
}

/// Read a directory the way `dialogues` would: its spreadsheets (walked
/// recursively, hidden entries and `~$` lock files skipped, as discovery
/// does) and the manifests and journals at its top.
pub fn scan(dir: &Path) -> io::Result<Listing> {
    let mut listing = Listing {
        dir: dir.to_path_buf(),
        ..Listing::default()
    };
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().as_bytes().starts_with(b"."));
    for entry in walker {
        let entry = entry.map_err(io::Error::other)?;
        if entry.depth() == 0 {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let top = entry.depth() == 1;
        if top && entry.file_type().is_file() && name.starts_with("manifest") {
            if name.ends_with(".json") {
                let parsed = record::read(entry.path());
                listing.manifests.push((name, parsed));
                continue;
            }
            if journal::is_journal_name(&name) {
                listing.journals.push(name);
                continue;
            }
        }
        let kept = entry
            .path()
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| {
                crate::discover::EXTENSIONS
                    .iter()
                    .any(|k| e.eq_ignore_ascii_case(k))
            });
        // Symlinks are listed too: a chunk replaced by a link is a change.
        if kept && !name.starts_with("~$") && !entry.file_type().is_dir() {
            let rel = entry.path().strip_prefix(dir).unwrap_or(entry.path());
            listing.spreadsheets.push(rel.to_path_buf());
        }
    }
    listing
        .spreadsheets
        .sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    listing.manifests.sort_by(|a, b| a.0.cmp(&b.0));
    listing.journals.sort();
    Ok(listing)
}

/// The real directory behind a [`Listing`].
pub struct RealDisk {
    pub dir: PathBuf,
}

impl Disk for RealDisk {
    fn stat(&mut self, rel: &Path) -> Option<FileFacts> {
        std::fs::symlink_metadata(self.dir.join(rel))
            .ok()
            .map(|m| FileFacts {
                size: m.len(),
                regular: m.file_type().is_file(),
            })
    }
    fn sha256(&mut self, rel: &Path) -> io::Result<String> {
        record::hash_file(&self.dir.join(rel)).map(|(_, h)| h)
    }
}

/// Scan and judge one directory.
pub fn check_dir(dir: &Path) -> io::Result<Result<Verified, Refusal>> {
    let listing = scan(dir)?;
    Ok(validate(
        &listing,
        &mut RealDisk {
            dir: dir.to_path_buf(),
        },
    ))
}

/// A directory in memory for the unit tests of this module and of
/// `resume`: files by name, (size, hash, is a regular file).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Mem(pub std::collections::HashMap<String, (u64, String, bool)>);

#[cfg(test)]
impl Disk for Mem {
    fn stat(&mut self, rel: &Path) -> Option<FileFacts> {
        self.0
            .get(rel.to_str().unwrap())
            .map(|&(size, _, regular)| FileFacts { size, regular })
    }
    fn sha256(&mut self, rel: &Path) -> io::Result<String> {
        Ok(self.0[rel.to_str().unwrap()].1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outdir::record::{inputs, InputFile, VERSION};

    fn opts(chunk_size: usize) -> OutputOptions {
        OutputOptions {
            chunk_size,
            prefix: "clean_data".into(),
            format: "xlsx".into(),
            columns: ["a".into(), "b".into(), "c".into(), "d".into()],
            sheet: None,
            encoding: None,
            match_mode: "substring".into(),
            system_messages: vec![],
        }
    }

    fn hash_of(out: &str) -> String {
        format!("{:0>64}", out.len())
    }

    fn chunk(index: usize, first: usize, last: usize) -> ChunkRecord {
        let out = format!("clean_data_{first}_{last}.xlsx");
        ChunkRecord {
            index,
            first_file: first,
            last_file: last,
            status: "written".into(),
            size: Some(100 + index as u64),
            sha256: Some(hash_of(&out)),
            output: Some(out),
            rows: 10,
            fingerprint: "f".into(),
        }
    }

    fn manifest(shard: Option<&str>, chunk_size: usize, chunks: Vec<ChunkRecord>) -> Manifest {
        let files: Vec<InputFile> = (0..6)
            .map(|i| InputFile {
                path: format!("in/chat_{i}.xlsx").into(),
                size: 1000,
                mtime_ns: 1,
            })
            .collect();
        Manifest {
            sheetsift_manifest: VERSION,
            tool: "sheetsift 0.1.0".into(),
            chunks_selected: None,
            shard: shard.map(str::to_string),
            options: opts(chunk_size),
            compression_level: 3,
            chunk_count: 6_usize.div_ceil(chunk_size),
            inputs: inputs(files),
            chunks,
        }
    }

    /// The sharded directory of the issue: chunk size 2, shards 0/2 and 1/2.
    fn sharded() -> (Listing, Mem) {
        let m0 = manifest(Some("0/2"), 2, vec![chunk(0, 0, 1), chunk(2, 4, 5)]);
        let m1 = manifest(Some("1/2"), 2, vec![chunk(1, 2, 3)]);
        let mut disk = Mem::default();
        for c in m0.chunks.iter().chain(&m1.chunks) {
            let out = c.output.clone().unwrap();
            disk.0
                .insert(out.clone(), (c.size.unwrap(), hash_of(&out), true));
        }
        let listing = Listing {
            dir: "sh".into(),
            spreadsheets: [
                "clean_data_0_1.xlsx",
                "clean_data_2_3.xlsx",
                "clean_data_4_5.xlsx",
            ]
            .iter()
            .map(PathBuf::from)
            .collect(),
            manifests: vec![
                (
                    "manifest.shard-0-of-2.json".into(),
                    Ok(AnyManifest::V2(Box::new(m0))),
                ),
                (
                    "manifest.shard-1-of-2.json".into(),
                    Ok(AnyManifest::V2(Box::new(m1))),
                ),
            ],
            journals: vec![],
        };
        (listing, disk)
    }

    fn refused(l: &Listing, d: &mut Mem) -> Vec<Problem> {
        validate(l, d).unwrap_err().problems
    }

    #[test]
    fn a_complete_run_is_accepted_and_raw_exports_are_told_apart() {
        let (l, mut d) = sharded();
        assert_eq!(validate(&l, &mut d), Ok(Verified::default()));
        let raw = Listing {
            dir: "in".into(),
            spreadsheets: vec!["chat_0001.xlsx".into()],
            ..Listing::default()
        };
        assert!(validate(&raw, &mut d).unwrap().raw);
    }

    #[test]
    fn a_missing_chunk_is_refused_and_named() {
        let (mut l, mut d) = sharded();
        d.0.remove("clean_data_2_3.xlsx");
        l.spreadsheets.remove(1);
        let p = refused(&l, &mut d);
        assert_eq!(
            p,
            [Problem::Missing {
                file: "clean_data_2_3.xlsx".into(),
                manifest: "manifest.shard-1-of-2.json".into()
            }]
        );
        assert_eq!(
            p[0].to_string(),
            "clean_data_2_3.xlsx: missing (listed by manifest.shard-1-of-2.json)"
        );
    }

    #[test]
    fn changed_chunks_are_refused_by_size_kind_and_hash() {
        let (l, mut d) = sharded();
        d.0.insert("clean_data_0_1.xlsx".into(), (7, "x".into(), true));
        d.0.insert("clean_data_2_3.xlsx".into(), (101, "x".into(), true));
        d.0.insert("clean_data_4_5.xlsx".into(), (102, "x".into(), false));
        let p = refused(&l, &mut d);
        let text: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            text,
            [
                "clean_data_0_1.xlsx: changed since it was written (size 7, recorded 100)",
                "clean_data_2_3.xlsx: changed since it was written (its content differs from the recorded SHA-256)",
                "clean_data_4_5.xlsx: changed since it was written (not a regular file)",
            ]
        );
    }

    #[test]
    fn unlisted_files_a_missing_shard_and_an_unfinished_run_are_refused() {
        let (mut l, mut d) = sharded();
        l.spreadsheets.push("clean_data_9_9.xlsx".into());
        l.spreadsheets.push("sub/extra.csv".into());
        let p = refused(&l, &mut d);
        assert_eq!(
            p.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            [
                "clean_data_9_9.xlsx: a file that no manifest lists",
                "sub/extra.csv: a file that no manifest lists"
            ]
        );

        let (mut l, mut d) = sharded();
        l.manifests.truncate(1);
        let p = refused(&l, &mut d);
        assert_eq!(
            p,
            [
                Problem::MissingShards {
                    n: 2,
                    missing: vec![1]
                },
                Problem::Unlisted {
                    file: "clean_data_2_3.xlsx".into()
                }
            ]
        );
        assert_eq!(
            p[0].to_string(),
            "shard 1/2 (no manifest.shard-1-of-2.json) of this sharded run missing"
        );

        let (mut l, mut d) = sharded();
        l.journals.push("manifest.shard-1-of-2.json.journal".into());
        assert!(matches!(
            &refused(&l, &mut d)[..],
            [Problem::Unfinished { .. }]
        ));
    }

    #[test]
    fn mixed_runs_old_and_unreadable_manifests_are_refused() {
        let (mut l, mut d) = sharded();
        let other = manifest(None, 3, vec![chunk(0, 0, 2)]);
        d.0.insert(
            "clean_data_0_2.xlsx".into(),
            (100, hash_of("clean_data_0_2.xlsx"), true),
        );
        l.spreadsheets.insert(0, "clean_data_0_2.xlsx".into());
        l.manifests.insert(
            0,
            (
                "manifest.chunks-0-1.json".into(),
                Ok(AnyManifest::V2(Box::new(other))),
            ),
        );
        let p = refused(&l, &mut d);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            p[0].to_string(),
            "manifest.chunks-0-1.json and manifest.shard-0-of-2.json are of incompatible runs: chunk_size 3 vs 2"
        );

        // Another input list, same options.
        let (mut l, mut d) = sharded();
        if let Ok(AnyManifest::V2(m)) = &mut l.manifests[1].1 {
            m.inputs.files.pop();
            m.inputs = inputs(m.inputs.files.clone());
        }
        let p = refused(&l, &mut d);
        assert!(
            p[0].to_string()
                .ends_with("input lists differ (6 files vs 5)"),
            "{p:?}"
        );

        let (mut l, mut d) = sharded();
        l.manifests
            .push(("manifest.json".into(), Err("expected value".into())));
        assert!(refused(&l, &mut d)[0]
            .to_string()
            .starts_with("manifest.json: not a readable sheetsift manifest"));
    }

    #[test]
    fn two_records_of_one_output_must_agree() {
        let (mut l, mut d) = sharded();
        let mut again = chunk(0, 0, 1);
        again.sha256 = Some("e".repeat(64));
        if let Ok(AnyManifest::V2(m)) = &mut l.manifests[1].1 {
            m.chunks.push(again);
        }
        assert!(matches!(
            &refused(&l, &mut d)[..],
            [Problem::Conflict { .. }]
        ));
    }

    #[test]
    fn a_file_named_alone_is_checked_alone() {
        // One shard of two: the directory is refused, its chunks one by
        // one are not.
        let (mut l, mut d) = sharded();
        l.manifests.truncate(1);
        l.spreadsheets.remove(1);
        assert!(validate(&l, &mut d).is_err());
        assert_eq!(validate_file(&l, "clean_data_0_1.xlsx", &mut d), Ok(()));
        assert_eq!(validate_file(&l, "clean_data_4_5.xlsx", &mut d), Ok(()));
        let p = validate_file(&l, "clean_data_2_3.xlsx", &mut d).unwrap_err();
        assert_eq!(
            p.problems,
            [Problem::Unlisted {
                file: "clean_data_2_3.xlsx".into()
            }]
        );
        d.0.insert("clean_data_0_1.xlsx".into(), (100, "x".into(), true));
        let p = validate_file(&l, "clean_data_0_1.xlsx", &mut d).unwrap_err();
        assert!(
            p.to_string().contains("clean_data_0_1.xlsx: changed"),
            "{p}"
        );
    }

    #[test]
    fn failed_chunks_are_noted_not_refused() {
        let (mut l, mut d) = sharded();
        if let Ok(AnyManifest::V2(m)) = &mut l.manifests[1].1 {
            let c = &mut m.chunks[0];
            c.status = "no readable file".into();
            c.output = None;
            c.size = None;
            c.sha256 = None;
        }
        l.spreadsheets.remove(1);
        let v = validate(&l, &mut d).unwrap();
        assert_eq!(v.notes.len(), 1);
        assert!(v.notes[0].contains("chunk 1 (files 2..3) was not written (no readable file)"));
    }

    #[test]
    fn the_refusal_lists_every_problem_and_the_way_out() {
        let r = Refusal {
            dir: "sh".into(),
            problems: vec![Problem::Unlisted {
                file: "x.xlsx".into(),
            }],
        };
        assert_eq!(
            r.to_string(),
            "sh is not one complete sheetsift run, so nothing was read:\n  x.xlsx: a file that no manifest lists\nrerun `sheetsift extract` into it (with --resume only what is missing or changed is redone), or pass --ignore-manifests to read it as it is"
        );
    }

    #[test]
    fn scan_and_check_a_real_directory() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        let content = b"chunk bytes";
        std::fs::write(r.join("clean_data_0_5.xlsx"), content).unwrap();
        std::fs::write(r.join(".clean_data_0_5.xlsx.AbCdE12345.part"), "tmp").unwrap();
        std::fs::write(r.join("~$clean_data_0_5.xlsx"), "lock").unwrap();
        std::fs::write(r.join("notes.txt"), "not a spreadsheet").unwrap();
        let (size, sha) = record::hash_reader(&content[..]).unwrap();
        let mut c = chunk(0, 0, 5);
        c.size = Some(size);
        c.sha256 = Some(sha);
        let m = manifest(None, 25, vec![c]);
        std::fs::write(r.join("manifest.json"), record::to_json(&m).unwrap()).unwrap();
        let l = scan(r).unwrap();
        assert_eq!(l.spreadsheets, [PathBuf::from("clean_data_0_5.xlsx")]);
        assert_eq!(l.manifests.len(), 1);
        assert_eq!(check_dir(r).unwrap(), Ok(Verified::default()));
        std::fs::write(r.join("clean_data_0_5.xlsx"), b"chunk bytez").unwrap();
        let refusal = check_dir(r).unwrap().unwrap_err();
        assert!(
            refusal.to_string().contains("clean_data_0_5.xlsx: changed"),
            "{refusal}"
        );
        std::fs::write(r.join("manifest.json.journal"), "").unwrap();
        assert_eq!(scan(r).unwrap().journals, ["manifest.json.journal"]);
    }
}
