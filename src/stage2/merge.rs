//! `sheetsift merge DIR`: the last step of a sharded stage 2. Reads the
//! headers of `DIR/parts/part-K-of-N.bin` (see [`parts`](super::parts)),
//! refuses a missing part or one of another run, proves each part against
//! its manifest `DIR/parts/part-K-of-N.json` (it must exist, be of this
//! run and shard, and record the part's size and SHA-256), and only then
//! writes the one global split over all of them, byte-identical to one
//! unsharded `dialogues`. Every refusal names the part and says to rerun
//! its shard; a refused merge writes nothing.
//!
//! The parts, in K order, are the global dialogue order, so the corpus is
//! a [`Corpus`] over the part files ([`Corpus::over_stored`]): the writer
//! fetches each dialogue in permutation order by a positioned read, as it
//! does from a spill file. Memory: 8 bytes a dialogue for the index.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::finish;
use super::parts::{
    files_of, manifest_name_of, manifest_path, part_name_of, part_path, PartFile, PartManifest,
    PartRun,
};
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
    verify_parts(&cfg.out, &parts, cfg.jobs)?;
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
    let pool = crate::pool::thread_pool(cfg.jobs)?;
    finish(cfg, &pool, corpus, report, started, started)
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
        // Hidden: a part or manifest being written (its AtomicFile
        // temporary).
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    paths.sort();
    // Manifests are checked with their parts (verify_parts); only one
    // without a part of this run is an error of its own, below.
    let (manifests, paths): (Vec<PathBuf>, Vec<PathBuf>) = paths
        .into_iter()
        .partition(|p| manifest_name_of(&name(p)).is_some());
    let parts: Vec<PartFile> = paths
        .iter()
        .map(|p| PartFile::open(p).map_err(|e| unreadable(p, e)))
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
    // A manifest of another layout, its part gone: left from an earlier
    // run. Refused rather than ignored, as any stray file in parts/ is.
    for m in &manifests {
        let (k, n) = manifest_name_of(&name(m)).expect("partitioned on it");
        if n != run.shards || k >= n {
            return Err(Error::Part {
                path: m.clone(),
                msg: format!(
                    "the manifest of part {k} of {n}, whose part is not here, beside \
                     the {} parts of {ref_name}'s run; remove it, or rerun the shards",
                    run.shards
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

/// The advice of every refusal of a shard's own part.
fn rerun_shard(k: usize, n: usize) -> String {
    format!("rerun `sheetsift dialogues --shard {k}/{n}` into this directory, then merge again")
}

/// A part that does not open as one: truncated (most often) or
/// overwritten. When it is named as a part and its manifest records
/// another size, say so; either way, say which shard to rerun.
fn unreadable(path: &Path, e: Error) -> Error {
    let Some((k, n)) = part_name_of(&name(path)) else {
        return e;
    };
    let recorded = PartManifest::read(&manifest_path(
        path.parent()
            .and_then(Path::parent)
            .unwrap_or(Path::new(".")),
        k,
        n,
    ))
    .ok()
    .map(|m| m.size);
    let size = std::fs::metadata(path).map(|m| m.len()).ok();
    match (e, recorded, size) {
        (_, Some(recorded), Some(size)) if recorded != size => Error::Part {
            path: path.to_path_buf(),
            msg: format!(
                "{size} bytes, but its manifest records {recorded}: truncated or \
                 overwritten since its shard wrote it; {}",
                rerun_shard(k, n)
            ),
        },
        (Error::Part { path, msg }, _, _) => Error::Part {
            path,
            msg: format!("{msg}; {}", rerun_shard(k, n)),
        },
        (e, _, _) => e,
    }
}

/// Prove every part is the one its shard wrote: its manifest exists and
/// is of this run and shard, and the part has the recorded size and
/// SHA-256. All manifests are checked before any part is hashed (a missing
/// one is reported at once, not after hashing the others), and the first
/// failure in K order is reported.
///
/// The hashing pass reads every part once more before the corpus is
/// written; it is worth it, so it always runs. Measured on 2 shared cores,
/// page cache warm: `sheetsift samples -o raw --files 192 --rows 20000
/// --csv`, `dialogues raw --shard K/8` (8 parts, 103 MB), then `merge
/// --format txt,jsonl -j 2`, five runs each: the hashing pass took 0.12 to
/// 0.20 s (0.5 to 0.9 GB/s, sha2 with SHA-NI) of a 3.8 to 4.8 s
/// merge, and whole merges with and without it were within each other's
/// noise (3.3 to 4.2 s both). The merge renders every dialogue into two or
/// three corpora by random positioned reads, about 40 s a GB here, against
/// 1 to 2 s a GB for the hash: a few percent, which also warms the page
/// cache for those reads. Without it a flipped bit or swapped bytes in a
/// GB part make a silently wrong corpus with exit 0, which is what the
/// manifest exists to prevent; a size check alone catches truncation
/// only.
fn verify_parts(out: &Path, parts: &[PartFile], jobs: usize) -> Result<()> {
    let rerun = |p: &PartFile| rerun_shard(p.header.shard, p.header.run.shards);
    let mut manifests = Vec::with_capacity(parts.len());
    for p in parts {
        let h = &p.header;
        let mpath = manifest_path(out, h.shard, h.run.shards);
        let mname = name(&mpath);
        if !mpath.is_file() {
            return Err(Error::Part {
                path: p.path.clone(),
                msg: format!(
                    "no manifest entry ({mname} is missing): the shard did not finish \
                     recording its part, or the part was copied without it; {}",
                    rerun(p)
                ),
            });
        }
        let m = PartManifest::read(&mpath).map_err(|why| Error::Part {
            path: p.path.clone(),
            msg: format!("its manifest {mname} is unusable ({why}); {}", rerun(p)),
        })?;
        let same_part = m.part == name(&p.path)
            && (m.shard, m.shards) == (h.shard, h.run.shards)
            && (m.first_file, m.end_file) == (h.first_file, h.end_file)
            && m.dialogues == h.dialogues;
        if m.run != h.run || !same_part {
            let why = if m.run != h.run {
                difference(&h.run, &m.run)
            } else {
                format!(
                    "it records {} (part {} of {}, {} dialogues)",
                    m.part, m.shard, m.shards, m.dialogues
                )
            };
            return Err(Error::Part {
                path: p.path.clone(),
                msg: format!(
                    "its manifest {mname} is of another run or part ({why}); {}",
                    rerun(p)
                ),
            });
        }
        let size = p.size()?;
        if size != m.size {
            return Err(Error::Part {
                path: p.path.clone(),
                msg: format!(
                    "{size} bytes, but its manifest {mname} records {}: truncated or \
                     overwritten since its shard wrote it; {}",
                    m.size,
                    rerun(p)
                ),
            });
        }
        manifests.push(m);
    }
    let digests = hash_all(parts, jobs)?;
    for ((p, m), digest) in parts.iter().zip(&manifests).zip(digests) {
        let (_, sha) = digest?;
        if sha != m.sha256 {
            return Err(Error::Part {
                path: p.path.clone(),
                msg: format!(
                    "its bytes differ from what its shard wrote (SHA-256 {sha}, \
                     manifest {} records {}): damaged since; {}",
                    name(&manifest_path(out, p.header.shard, p.header.run.shards)),
                    m.sha256,
                    rerun(p)
                ),
            });
        }
    }
    Ok(())
}

/// A part's size and hex SHA-256, or why it could not be read.
type Digest = Result<(u64, String)>;

/// SHA-256 of every part, on up to `jobs` threads (a part a thread at a
/// time: parts are of similar size), results in K order. Each thread
/// returns what it hashed through its join handle.
fn hash_all(parts: &[PartFile], jobs: usize) -> Result<Vec<Digest>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let mut digests: Vec<Option<Digest>> = parts.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..jobs.clamp(1, parts.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(p) = parts.get(i) else { break done };
                        done.push((i, p.digest()));
                    }
                })
            })
            .collect();
        for t in threads {
            let done = t.join().map_err(|p| Error::Panicked {
                what: "hashing the parts",
                msg: crate::pool::panic_message(p),
            })?;
            for (i, d) in done {
                digests[i] = Some(d);
            }
        }
        Ok(())
    })?;
    Ok(digests
        .into_iter()
        .map(|d| d.expect("every part taken by one thread"))
        .collect())
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
    } else if a.session != b.session {
        let gap = |s: &Option<(String, i64)>| match s {
            Some((col, us)) => format!("--session-gap {}s on {col:?}", us / 1_000_000),
            None => "no --session-gap".to_string(),
        };
        format!("{} vs {}", gap(&a.session), gap(&b.session))
    } else {
        format!(
            "sheet/encoding {:?}/{:?} vs {:?}/{:?}",
            a.sheet, a.encoding, b.sheet, b.encoding
        )
    }
}
