//! The global file list cut into numbered chunks, and the selection of
//! chunks a run (or one shard of a run) processes.
//!
//! Chunk `i` holds files `i*size .. i*size+size-1`; its output is named
//! after the global numbers of its first and last file. Selection is a
//! pure function of (chunk index, `--chunks`, `--shard`), so every chunk is
//! processed by exactly one of N shards, whatever machine runs it.

use std::ops::Range;
use std::str::FromStr;

/// One chunk of the global file list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub index: usize,
    /// Global file numbers of this chunk's files.
    pub files: Range<usize>,
}

impl Chunk {
    pub fn first(&self) -> usize {
        self.files.start
    }
    pub fn last(&self) -> usize {
        self.files.end - 1
    }
    /// `PREFIX_FIRST_LAST`, without extension.
    pub fn stem(&self, prefix: &str) -> String {
        format!("{prefix}_{}_{}", self.first(), self.last())
    }
}

/// Cut `n_files` into chunks of `size`.
pub fn chunks(n_files: usize, size: usize) -> Vec<Chunk> {
    assert!(size > 0, "chunk size is validated in config");
    (0..n_files.div_ceil(size))
        .map(|i| Chunk {
            index: i,
            files: i * size..((i + 1) * size).min(n_files),
        })
        .collect()
}

/// `--shard K/N`: chunk `i` belongs to shard `i % N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("--shard takes K/N, got {s:?}"))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("--shard: N must be a number, got {n:?}"))?;
        if count == 0 {
            return Err("--shard: N must be at least 1".into());
        }
        let index: usize = resolve_shard_index(k.trim())?;
        if index >= count {
            return Err(format!("--shard: K must be below N ({index} >= {count})"));
        }
        Ok(Shard { index, count })
    }
}

/// `K` of `--shard K/N`: a number, or `auto` for the index a cluster
/// engine hands each task (Kubernetes Indexed Jobs, Slurm job arrays).
fn resolve_shard_index(k: &str) -> Result<usize, String> {
    if k != "auto" {
        return k
            .parse()
            .map_err(|_| format!("--shard: K must be a number or auto, got {k:?}"));
    }
    for var in ["JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"] {
        if let Ok(v) = std::env::var(var) {
            return v
                .trim()
                .parse()
                .map_err(|_| format!("--shard auto: {var}={v:?} is not a number"));
        }
    }
    Err("--shard auto/N: neither JOB_COMPLETION_INDEX nor SLURM_ARRAY_TASK_ID is set".into())
}

/// `--chunks A..B` (half-open; either end may be left out: `10..`, `..4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    pub start: usize,
    pub end: Option<usize>,
}

impl FromStr for ChunkRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s
            .split_once("..")
            .ok_or_else(|| format!("--chunks takes A..B, got {s:?}"))?;
        let start = if a.is_empty() {
            0
        } else {
            a.parse()
                .map_err(|_| format!("--chunks: bad start {a:?}"))?
        };
        let end = if b.is_empty() {
            None
        } else {
            Some(b.parse().map_err(|_| format!("--chunks: bad end {b:?}"))?)
        };
        if let Some(e) = end {
            if e < start {
                return Err(format!("--chunks: end {e} is before start {start}"));
            }
        }
        Ok(ChunkRange { start, end })
    }
}

/// Whether chunk `i` is selected by the range and the shard.
pub fn selected(i: usize, range: Option<ChunkRange>, shard: Option<Shard>) -> bool {
    let in_range = range.is_none_or(|r| i >= r.start && r.end.is_none_or(|e| i < e));
    let in_shard = shard.is_none_or(|s| i % s.count == s.index);
    in_range && in_shard
}

/// What became of one stage-1 chunk. Serialised as a stable lowercase
/// word in the JSON report: `written`, `grouped`, `skipped`, `failed`,
/// `no_readable_file`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkStatus {
    /// Its output file was written.
    Written,
    /// Grouped into the corpus in memory (`run` without `--keep-clean`).
    Grouped,
    /// Left alone by `--resume`: its output exists.
    #[serde(alias = "skipped (exists)")]
    Skipped,
    /// Not written: a cell too long for the output format.
    Failed,
    /// Every file of the chunk failed: nothing to write.
    #[serde(alias = "no readable file")]
    NoReadableFile,
}

impl ChunkStatus {
    /// Whether the chunk counts as a failure (exit code 3).
    pub fn is_failure(self) -> bool {
        matches!(self, ChunkStatus::Failed | ChunkStatus::NoReadableFile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_named_by_global_file_numbers() {
        let c = chunks(53, 25);
        assert_eq!(c.len(), 3);
        assert_eq!(c[1].stem("clean_data"), "clean_data_25_49");
        assert_eq!(c[2].stem("clean_data"), "clean_data_50_52");
    }

    #[test]
    fn every_chunk_belongs_to_exactly_one_shard() {
        for i in 0..100 {
            let owners = (0..7)
                .filter(|k| {
                    selected(
                        i,
                        None,
                        Some(Shard {
                            index: *k,
                            count: 7,
                        }),
                    )
                })
                .count();
            assert_eq!(owners, 1);
        }
    }

    #[test]
    fn selection_parses() {
        assert_eq!(
            "2..5".parse::<ChunkRange>().unwrap(),
            ChunkRange {
                start: 2,
                end: Some(5)
            }
        );
        assert_eq!(
            "3..".parse::<ChunkRange>().unwrap(),
            ChunkRange {
                start: 3,
                end: None
            }
        );
        assert!("5..2".parse::<ChunkRange>().is_err());
        assert_eq!(
            "1/3".parse::<Shard>().unwrap(),
            Shard { index: 1, count: 3 }
        );
        assert!("3/3".parse::<Shard>().is_err());
        assert!(selected(
            4,
            Some("2..5".parse().unwrap()),
            Some("1/3".parse().unwrap())
        ));
        assert!(!selected(5, Some("2..5".parse().unwrap()), None));
    }
}
