//! `sheetsift merge DIR`: the last step of a sharded stage 2. Reads the
//! headers of `DIR/parts/part-K-of-N.bin` (see [`parts`](super::parts)),
//! refuses a missing part or one of another run, and writes the one global
//! split over all of them, byte-identical to one unsharded `dialogues`.
//!
//! The parts, in K order, are the global dialogue order, so the corpus is
//! a [`Corpus`] over the part files ([`Corpus::over_stored`]): the writer
//! fetches each dialogue in permutation order by a positioned read, as it
//! does from a spill file. Memory: 8 bytes a dialogue for the index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::finish;
use super::parts::{files_of, part_path, PartFile, PartRun};
use crate::chunk::Shard;
use crate::config::Config;
use crate::dialogue::Corpus;
use crate::error::{Error, Result};
use crate::report::{FailedFile, Report};

/// `sheetsift merge DIR` (`cfg.out` is DIR).
pub fn merge(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("merge");
    let parts = check_parts(&cfg.out)?;
    let run = parts[0].header.run.clone();
    report.files_found = run.files;
    report.files_selected = run.files;
    let mut counts = [0u64; 4];
    let mut stored = Vec::with_capacity(parts.len());
    for p in parts {
        let h = &p.header;
        counts[0] += h.rows_read;
        counts[1] += h.rows_dropped_missing;
        counts[2] += h.rows_dropped_duplicate;
        counts[3] += h.messages_skipped;
        report.files_processed += h.per_file.len() - h.files_failed.len();
        report
            .files_failed
            .extend(h.files_failed.iter().map(|f| FailedFile {
                path: f.path.clone(),
                reason: f.reason.clone(),
            }));
        report.notes.extend(h.notes.iter().cloned());
        stored.push(p.into_stored()?);
    }
    let mut corpus = Corpus::over_stored(&cfg.out, cfg.corpus_budget(), stored);
    [
        corpus.rows_read,
        corpus.dropped_missing,
        corpus.dropped_duplicate,
        corpus.messages_skipped,
    ] = counts;
    report.rows_read = corpus.rows_read;
    finish(cfg, corpus, report, started, started)
}

/// Every part of `out/parts/`, in K order, all of one run and none
/// missing; else the error names the part.
fn check_parts(out: &Path) -> Result<Vec<PartFile>> {
    let dir = out.join("parts");
    let none = || Error::Part {
        path: dir.clone(),
        msg: "no stage-2 parts here: run `sheetsift dialogues --shard K/N -o DIR` first".into(),
    };
    let rd = std::fs::read_dir(&dir).map_err(|_| none())?;
    let mut paths: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        // Hidden: a part being written (its AtomicFile temporary).
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    let parts: Vec<PartFile> = paths
        .iter()
        .map(|p| PartFile::open(p))
        .collect::<Result<_>>()?;
    if parts.is_empty() {
        return Err(none());
    }
    // The run most parts agree on is the merge's; the first in name order
    // breaks a tie. Any part of another run is foreign.
    let mut votes: BTreeMap<usize, usize> = BTreeMap::new();
    for p in &parts {
        let first = parts
            .iter()
            .position(|q| q.header.run == p.header.run)
            .expect("p itself");
        *votes.entry(first).or_default() += 1;
    }
    let (&reference, _) = votes
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .expect("at least one part");
    let run = parts[reference].header.run.clone();
    let ref_name = name(&parts[reference].path);
    for p in &parts {
        let h = &p.header;
        if h.run != run {
            return Err(Error::Part {
                path: p.path.clone(),
                msg: format!(
                    "a part of another run than {ref_name}: {}; remove it, or rerun the shards",
                    difference(&run, &h.run)
                ),
            });
        }
        let shard = Shard {
            index: h.shard,
            count: run.shards,
        };
        let expected = part_path(out, h.shard, run.shards);
        let range = files_of(shard, run.files);
        if h.shard >= run.shards
            || expected.file_name() != p.path.file_name()
            || (h.first_file, h.end_file) != (range.start, range.end)
            || h.per_file.len() != range.len()
        {
            return Err(Error::Part {
                path: p.path.clone(),
                msg: format!(
                    "holds part {} of {} (files {}..{}), which its name or the run's \
                     file list contradict; remove it, or rerun the shards",
                    h.shard, run.shards, h.first_file, h.end_file
                ),
            });
        }
    }
    let mut by_k: Vec<Option<PartFile>> = (0..run.shards).map(|_| None).collect();
    for p in parts {
        let k = p.header.shard;
        by_k[k] = Some(p);
    }
    by_k.into_iter()
        .enumerate()
        .map(|(k, p)| {
            p.ok_or_else(|| Error::Part {
                path: part_path(out, k, run.shards),
                msg: format!(
                    "missing part {k} of {}: run `sheetsift dialogues --shard {k}/{}` \
                     into this directory, then merge again",
                    run.shards, run.shards
                ),
            })
        })
        .collect()
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The first thing two runs disagree on, in words.
fn difference(a: &PartRun, b: &PartRun) -> String {
    if a.shards != b.shards {
        format!("{} shards vs {}", a.shards, b.shards)
    } else if a.fingerprint != b.fingerprint || a.files != b.files {
        format!(
            "input lists differ ({} files, fingerprint {} vs {} files, fingerprint {})",
            a.files, a.fingerprint, b.files, b.fingerprint
        )
    } else if a.columns != b.columns {
        format!("columns {:?} vs {:?}", a.columns, b.columns)
    } else if a.agent_value != b.agent_value {
        format!("agent value {:?} vs {:?}", a.agent_value, b.agent_value)
    } else {
        format!(
            "sheet/encoding {:?}/{:?} vs {:?}/{:?}",
            a.sheet, a.encoding, b.sheet, b.encoding
        )
    }
}
