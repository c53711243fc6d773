//! The run summary: printed for humans at the end, written as JSON with
//! `--report FILE` for scheduled jobs. Both come from one [`Report`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

pub use crate::chunk::ChunkStatus;
use crate::error::{Error, Exit, FileError, FileErrorKind, Result};
use crate::filter::DropCounts;
use crate::pool::PoolError;
use crate::progress::Progress;

/// A file that could not be used, with the reason in plain words.
#[derive(Debug, Clone, Serialize)]
pub struct FailedFile {
    pub path: PathBuf,
    pub reason: String,
}

/// What happened to one stage-1 chunk.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkReport {
    pub index: usize,
    pub first_file: usize,
    pub last_file: usize,
    pub status: ChunkStatus,
    pub output: Option<PathBuf>,
    pub rows: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Stage-2 numbers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DialogueReport {
    /// Rows read by stage 2 (after stage 1 in `run`).
    pub rows_read: u64,
    /// Rows with a missing value in any column (`dropna`).
    pub rows_dropped_missing: u64,
    /// Exact duplicate rows (`drop_duplicates`).
    pub rows_dropped_duplicate: u64,
    pub dialogues: u64,
    pub train: u64,
    pub val: u64,
    /// Messages that only the second cleaning emptied (the reference
    /// crashes on them; they are skipped).
    pub messages_skipped: u64,
    /// Whether the dialogues outgrew `--memory-limit` and went through a
    /// temporary spill file.
    pub spilled_to_disk: bool,
    pub outputs: Vec<PathBuf>,
    /// The corpus options' counts (drops by reason, placeholders per kind)
    /// and the corpus statistics; present when any corpus option is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corpus: Option<crate::dialogue::shape::CorpusStats>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub command: String,
    pub version: String,
    pub files_found: usize,
    /// Files of the selected chunks (or all files, in `dialogues`).
    pub files_selected: usize,
    pub files_processed: usize,
    pub files_failed: Vec<FailedFile>,
    pub rows_read: u64,
    pub rows_kept: u64,
    pub rows_dropped: DropCounts,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<ChunkReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialogues: Option<DialogueReport>,
    pub notes: Vec<String>,
    pub elapsed_seconds: f64,
    pub exit_code: i32,
    pub verdict: String,
}

impl Report {
    pub fn new(command: &str) -> Report {
        Report {
            command: command.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Report::default()
        }
    }

    /// Record an input file that could not be used; returns the line to
    /// print (`error: PATH: reason`).
    pub fn fail_file(&mut self, e: &crate::error::FileError) -> String {
        self.files_failed.push(FailedFile {
            path: e.path.clone(),
            reason: e.kind.to_string(),
        });
        format!("error: {e}")
    }

    /// Take one file's result off the pool: a caught panic becomes that
    /// file's error; a failure is recorded and printed; a success has its
    /// notes recorded and printed, counts as processed, and is returned.
    /// The one per-file result step of both stages.
    pub fn take_file<T>(
        &mut self,
        path: &Path,
        result: std::result::Result<std::result::Result<T, FileError>, PoolError>,
        notes: impl Fn(&T) -> &[String],
        progress: &mut Progress,
    ) -> Option<T> {
        let result = result.unwrap_or_else(|PoolError::Panicked(msg)| {
            Err(FileError::new(path, FileErrorKind::Panic(msg)))
        });
        match result {
            Ok(t) => {
                for note in notes(&t) {
                    progress.println(&format!("note: {}: {note}", path.display()));
                    self.notes.push(format!("{}: {note}", path.display()));
                }
                self.files_processed += 1;
                Some(t)
            }
            Err(e) => {
                progress.println(&self.fail_file(&e));
                progress.inc(0);
                None
            }
        }
    }

    /// Chunks that failed for a reason of their own (a cell too long).
    pub fn chunks_failed(&self) -> usize {
        self.chunks
            .iter()
            .filter(|c| c.status == ChunkStatus::Failed)
            .count()
    }

    /// Finish a run that completed: exit code 3 when any input file or
    /// chunk failed, else 0.
    pub fn conclude(&mut self, elapsed: Duration) {
        let failed =
            !self.files_failed.is_empty() || self.chunks.iter().any(|c| c.status.is_failure());
        self.finish(elapsed, Exit::finished(failed));
    }

    /// Set the elapsed time, exit code and the one-line verdict.
    pub fn finish(&mut self, elapsed: Duration, exit: Exit) {
        self.elapsed_seconds = (elapsed.as_secs_f64() * 1000.0).round() / 1000.0;
        self.exit_code = exit.code();
        let failed = self.files_failed.len();
        self.verdict = match (exit, failed) {
            (Exit::Ok, _) => "ok".into(),
            (Exit::Partial, n) if n > 0 => format!(
                "finished with {n} failed file{}",
                if n == 1 { "" } else { "s" }
            ),
            (Exit::Partial, _) => {
                format!("finished with {} failed chunk(s)", self.chunks_failed())
            }
            (exit, _) => format!("failed (exit code {})", exit.code()),
        };
    }

    /// The human summary (several lines, no trailing newline).
    pub fn human(&self) -> String {
        let mut s = Vec::new();
        // "found" is the files found; after a resume or with a selection,
        // the files the run read are shown beside it.
        let selected = if self.files_selected != self.files_found {
            format!(", {} selected", self.files_selected)
        } else {
            String::new()
        };
        s.push(format!(
            "files: {} found{selected}, {} processed, {} failed",
            self.files_found,
            self.files_processed,
            self.files_failed.len()
        ));
        if self.command != "dialogues" {
            s.push(format!(
                "rows: {} read, {} kept, {} dropped (missing content {}, system message {})",
                self.rows_read,
                self.rows_kept,
                self.rows_dropped.missing + self.rows_dropped.system,
                self.rows_dropped.missing,
                self.rows_dropped.system
            ));
            if !self.chunks.is_empty() {
                let count = |f: &dyn Fn(ChunkStatus) -> bool| {
                    self.chunks.iter().filter(|c| f(c.status)).count()
                };
                let mut parts = vec![format!("{} written", count(&|s| s == ChunkStatus::Written))];
                let grouped = count(&|s| s == ChunkStatus::Grouped);
                if grouped > 0 {
                    parts.push(format!("{grouped} grouped in memory"));
                }
                parts.push(format!(
                    "{} skipped (--resume)",
                    count(&|s| s == ChunkStatus::Skipped)
                ));
                parts.push(format!("{} failed", count(&|s| s.is_failure())));
                s.push(format!("chunks: {}", parts.join(", ")));
            }
            for c in &self.chunks {
                match (&c.output, c.status) {
                    (Some(p), ChunkStatus::Written) => {
                        s.push(format!("  {} ({} rows)", p.display(), c.rows))
                    }
                    (_, ChunkStatus::Skipped | ChunkStatus::Grouped) => {}
                    _ => s.push(format!(
                        "  chunk {} (files {}..{}): {}",
                        c.index,
                        c.first_file,
                        c.last_file,
                        c.error.as_deref().unwrap_or("failed")
                    )),
                }
            }
        }
        if let Some(d) = &self.dialogues {
            s.push(format!(
                "stage 2 rows: {} read, {} dropped missing, {} dropped duplicate",
                d.rows_read, d.rows_dropped_missing, d.rows_dropped_duplicate
            ));
            s.push(format!(
                "dialogues: {} (train {}, val {}); {} messages skipped",
                d.dialogues, d.train, d.val, d.messages_skipped
            ));
            if let Some(c) = &d.corpus {
                s.push(c.human());
            }
            for o in &d.outputs {
                s.push(format!("  {}", o.display()));
            }
        }
        for f in &self.files_failed {
            s.push(format!("failed: {}: {}", f.path.display(), f.reason));
        }
        s.push(format!("elapsed: {:.2}s", self.elapsed_seconds));
        s.push(self.verdict.clone());
        s.join("\n")
    }

    /// Write the JSON report atomically.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let af = crate::fs::AtomicFile::new(path)?;
        af.write_all((json + "\n").as_bytes())?;
        af.commit()
    }
}
