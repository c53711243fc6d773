//! The run summary: printed for humans at the end, written as JSON with
//! `--report FILE` for scheduled jobs. Both come from one [`Report`].
//!
//! The JSON is **report v1**, described exactly by `src/report.schema.json`
//! ([`SCHEMA`]); `tests/report_schema.rs` validates the reports of every
//! command and outcome against it. A consumer checks `schema_version`
//! first: a change that removes or retypes a field bumps it, a new
//! optional field does not. Status words (`outcome`, per-file `status`,
//! chunk `status`, `error.kind`) are stable lowercase words, never prose.
//! Fields that do not apply to a command are absent rather than zero
//! (`dialogues` has no stage-1 `rows_kept`; a shard's part no split).

pub mod html;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use crate::chunk::ChunkStatus;
use crate::config::{Config, SystemMessagesSource};
use crate::error::{Error, Exit, FileError, FileErrorKind, Result};
use crate::filter::{DropCounts, MatchMode};
use crate::pool::PoolError;
use crate::progress::Progress;
use crate::write::TableFormat;

/// The JSON Schema of the report this version writes (draft 2020-12).
pub const SCHEMA: &str = include_str!("report.schema.json");

/// `schema_version` of the reports this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// A file that could not be used, with the reason in plain words.
#[derive(Debug, Clone, Serialize)]
pub struct FailedFile {
    /// Written lossily when not UTF-8 ([`crate::fs::path_text`]).
    #[serde(serialize_with = "crate::fs::path_text::serialize")]
    pub path: PathBuf,
    pub reason: String,
}

/// What became of one input file: a stable word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read; its rows counted.
    Ok,
    /// Not usable (or its chunk could not be written because of it):
    /// `error` says why.
    Failed,
    /// Not read: its chunk was left alone by `--resume`.
    Skipped,
}

/// Rows of one file dropped, by reason. Stage 1 drops `missing` content
/// and `system` messages; stage 2 rows with a `missing` value and
/// `duplicate` rows. A reason a stage does not have is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileDrops {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<u64>,
}

/// One input file of the run.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    #[serde(serialize_with = "crate::fs::path_text::serialize")]
    pub path: PathBuf,
    /// Its global file number (the numbers chunk outputs are named by).
    pub number: usize,
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_read: Option<u64>,
    /// Rows that went on: stage 1's kept rows, or stage 2's rows grouped
    /// into dialogues.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_kept: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_dropped: Option<FileDrops>,
    /// Seconds a worker spent reading (and, in `dialogues`, grouping) it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl FileEntry {
    pub fn new(path: &Path, number: usize, status: FileStatus) -> FileEntry {
        FileEntry {
            path: path.to_path_buf(),
            number,
            status,
            rows_read: None,
            rows_kept: None,
            rows_dropped: None,
            seconds: None,
            error: None,
        }
    }
}

/// A file this run wrote, as it is on disk.
#[derive(Debug, Clone, Serialize)]
pub struct OutputFile {
    #[serde(serialize_with = "crate::fs::path_text::serialize")]
    pub path: PathBuf,
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
}

impl OutputFile {
    /// Size and hash read back from the file (for the corpus files, just
    /// renamed into place: from the page cache).
    pub fn of(path: &Path) -> Result<OutputFile> {
        let (bytes, sha256) =
            crate::outdir::record::hash_file(path).map_err(|e| Error::io(path, e))?;
        Ok(OutputFile {
            path: path.to_path_buf(),
            bytes,
            sha256,
        })
    }
}

/// Seconds of one stage.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StageTime {
    pub seconds: f64,
}

/// Seconds per stage. Stage 1 is reading, filtering and writing the clean
/// tables (in `run`, also grouping each chunk as it completes); stage 2 is
/// grouping, splitting and writing the corpus (in `run`, the split and
/// the writing). A stage a command does not run is absent.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Stages {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage1: Option<StageTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage2: Option<StageTime>,
}

/// Seconds, rounded to the millisecond.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

impl StageTime {
    pub fn of(d: Duration) -> Option<StageTime> {
        Some(StageTime {
            seconds: seconds(d),
        })
    }
}

/// What happened to one stage-1 chunk.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkReport {
    pub index: usize,
    pub first_file: usize,
    pub last_file: usize,
    pub status: ChunkStatus,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::fs::path_text::option"
    )]
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
    /// Dialogues of the train and val sets; absent for a shard's part,
    /// which is not split (the merge splits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub train: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val: Option<u64>,
    /// Messages that only the second cleaning emptied (the reference
    /// crashes on them; they are skipped).
    pub messages_skipped: u64,
    /// Whether the dialogues outgrew `--memory-limit` and went through a
    /// temporary spill file.
    pub spilled_to_disk: bool,
    /// Turns per dialogue and characters per turn, on log-2 buckets
    /// (optional in v1: absent for `merge`, which reads rendered parts).
    #[serde(rename = "distributions", skip_serializing_if = "Option::is_none")]
    pub lengths: Option<crate::dialogue::Lengths>,
    /// The files written (in the report: the top-level `outputs`).
    #[serde(skip)]
    pub outputs: Vec<PathBuf>,
    /// The corpus options' counts (drops by reason, placeholders per kind)
    /// and the corpus statistics; present when any corpus option is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corpus: Option<crate::dialogue::shape::CorpusStats>,
}

/// A fatal error, in the report of a run that stopped.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    /// A stable word per kind of error ([`Error::kind`]).
    pub kind: &'static str,
    pub message: String,
    /// The file or directory the error is about, when it has one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::fs::path_text::option"
    )]
    pub path: Option<PathBuf>,
}

impl ErrorReport {
    pub fn of(e: &Error) -> ErrorReport {
        ErrorReport {
            kind: e.kind(),
            message: e.to_string(),
            path: e.path().map(Path::to_path_buf),
        }
    }
}

/// The options a command ran with, as resolved from flags, the config
/// file and the defaults: what a rerun needs to be the same run. Only the
/// options the command uses are present.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::fs::path_text::option_list"
    )]
    pub inputs: Option<Vec<PathBuf>>,
    /// `-o` (for `merge`, its directory).
    #[serde(serialize_with = "crate::fs::path_text::serialize")]
    pub out: PathBuf,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::fs::path_text::option"
    )]
    pub config: Option<PathBuf>,
    pub jobs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<InputOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage1: Option<Stage1Options>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage2: Option<Stage2Options>,
}

/// How the input files are read.
#[derive(Debug, Clone, Serialize)]
pub struct InputOptions {
    pub columns: ColumnOptions,
    /// The sheet read; absent: every usable sheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// The CSV encoding forced, or `auto` (detected per file).
    pub encoding: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnOptions {
    pub agent: String,
    pub customer: String,
    pub role: String,
    pub content: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stage1Options {
    pub chunk_size: usize,
    /// `--chunks A..B` as given (an end left out stays empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<String>,
    /// `--shard K/N`, K resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub prefix: String,
    pub table_format: TableFormat,
    /// Deflate level of xlsx outputs; absent for csv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression_level: Option<u8>,
    /// `extract --resume`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume: Option<bool>,
    /// `run --keep-clean DIR`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::fs::path_text::option"
    )]
    pub keep_clean: Option<PathBuf>,
    pub match_mode: MatchMode,
    pub system_messages: SystemMessagesOptions,
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemMessagesOptions {
    pub count: usize,
    /// `builtin`, `config` (the config file's list) or `file`.
    pub source: &'static str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::fs::path_text::option"
    )]
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stage2Options {
    /// The role value meaning the agent spoke (absent for `merge`, whose
    /// parts were rendered with their own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_value: Option<String>,
    pub val_size: f64,
    pub seed: u32,
    /// `txt`, `jsonl`: the corpus formats written.
    pub corpus_formats: Vec<&'static str>,
    /// `--memory-limit` in bytes.
    pub memory_limit: u64,
    /// `dialogues --shard K/N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    /// `dialogues --ignore-manifests`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_manifests: Option<bool>,
}

impl Options {
    /// The options `command` uses, from its resolved configuration.
    pub fn of(command: &str, cfg: &Config) -> Options {
        let stage1 = matches!(command, "extract" | "run");
        let stage2 = matches!(command, "dialogues" | "run" | "merge");
        let reads = command != "merge";
        let shard = cfg.shard.map(|s| format!("{}/{}", s.index, s.count));
        let [agent, customer, role, content] = cfg.read.required.clone();
        Options {
            inputs: reads.then(|| cfg.inputs.clone()),
            out: cfg.out.clone(),
            config: cfg.config_file.clone(),
            jobs: cfg.jobs,
            input: reads.then(|| InputOptions {
                columns: ColumnOptions {
                    agent,
                    customer,
                    role,
                    content,
                },
                sheet: cfg.read.sheet.clone(),
                encoding: cfg
                    .read
                    .encoding
                    .map_or("auto".to_string(), |e| e.name().to_string()),
            }),
            stage1: stage1.then(|| Stage1Options {
                chunk_size: cfg.chunk_size,
                chunks: cfg.chunk_range.map(|r| {
                    format!(
                        "{}..{}",
                        r.start,
                        r.end.map(|e| e.to_string()).unwrap_or_default()
                    )
                }),
                shard: shard.clone(),
                prefix: cfg.prefix.clone(),
                table_format: cfg.table_format,
                compression_level: (cfg.table_format == TableFormat::Xlsx)
                    .then_some(cfg.compression_level),
                resume: (command == "extract").then_some(cfg.resume),
                keep_clean: cfg.keep_clean.clone(),
                match_mode: cfg.filter.match_mode(),
                system_messages: SystemMessagesOptions {
                    count: cfg.filter.phrase_count(),
                    source: match &cfg.system_messages_source {
                        SystemMessagesSource::Builtin => "builtin",
                        SystemMessagesSource::Config => "config",
                        SystemMessagesSource::File(_) => "file",
                    },
                    path: match &cfg.system_messages_source {
                        SystemMessagesSource::File(p) => Some(p.clone()),
                        _ => None,
                    },
                },
            }),
            stage2: stage2.then(|| Stage2Options {
                agent_value: reads.then(|| cfg.agent_value.clone()),
                val_size: cfg.val_size,
                seed: cfg.seed,
                corpus_formats: cfg.corpus_formats.iter().map(|f| f.name()).collect(),
                memory_limit: cfg.memory_limit,
                shard: if command == "dialogues" { shard } else { None },
                ignore_manifests: (command == "dialogues").then_some(cfg.ignore_manifests),
            }),
        }
    }
}

/// The run's outcome as a stable word (the exit code says the same).
pub fn outcome(exit: Exit) -> &'static str {
    match exit {
        Exit::Ok => "ok",
        Exit::Partial => "partial",
        Exit::Usage => "usage",
        Exit::Fatal => "fatal",
        Exit::Interrupted(_) => "interrupted",
    }
}

/// What the binary knows of the invocation, for the report's envelope.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// The command line as given (lossy UTF-8).
    pub argv: Vec<String>,
    pub started_at: String,
    pub finished_at: String,
    pub options: Option<Options>,
}

impl Envelope {
    /// Stamp the start of a run: `argv` and `started_at`.
    pub fn start(argv: Vec<String>, started: SystemTime) -> Envelope {
        Envelope {
            argv,
            started_at: rfc3339(started),
            ..Envelope::default()
        }
    }
}

/// An RFC 3339 UTC timestamp with milliseconds and a `Z`
/// (`2026-12-03T07:05:07.123Z`): fixed width, so timestamps also sort as
/// strings. Written by hand (the days-to-civil-date conversion of
/// H. Hinnant's public-domain algorithms) rather than with a date crate:
/// the report needs only this one format, always in UTC, and twenty lines
/// cost less than a dependency to keep up.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let secs = d.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Days since 1970-01-01 -> (year, month, day), proleptic Gregorian.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:03}Z",
        d.subsec_millis()
    )
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub command: String,
    pub version: String,
    pub envelope: Envelope,
    pub files_found: usize,
    /// Files of the selected chunks (or all files, in `dialogues`).
    pub files_selected: usize,
    pub files_processed: usize,
    /// Each input file of the selection (and of chunks `--resume`
    /// skipped), in global order. Empty for `merge`, which reads parts.
    pub files: Vec<FileEntry>,
    pub files_failed: Vec<FailedFile>,
    pub rows_read: u64,
    pub rows_kept: u64,
    pub rows_dropped: DropCounts,
    pub chunks: Vec<ChunkReport>,
    pub dialogues: Option<DialogueReport>,
    pub stages: Stages,
    /// Every file this run wrote: chunk tables, corpus files, a part.
    pub outputs: Vec<OutputFile>,
    pub notes: Vec<String>,
    pub elapsed_seconds: f64,
    pub exit_code: i32,
    pub outcome: &'static str,
    pub verdict: String,
    /// Set when the run stopped on a fatal error: no counts then.
    pub error: Option<ErrorReport>,
}

/// The JSON shape of a [`Report`] (report v1).
#[derive(Serialize)]
struct V1<'a> {
    schema_version: u32,
    command: &'a str,
    version: &'a str,
    argv: &'a [String],
    started_at: &'a str,
    finished_at: &'a str,
    elapsed_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<&'a Options>,
    outcome: &'a str,
    exit_code: i32,
    verdict: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorReport>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    counts: Option<Counts<'a>>,
    notes: &'a [String],
}

/// The numbers of a run that finished (absent when it stopped).
#[derive(Serialize)]
struct Counts<'a> {
    files_found: usize,
    files_selected: usize,
    files_processed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    files: Option<&'a [FileEntry]>,
    files_failed: &'a [FailedFile],
    rows_read: u64,
    /// Stage-1 numbers: only the commands that filter rows have them.
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_kept: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_dropped: Option<&'a DropCounts>,
    #[serde(skip_serializing_if = "<[ChunkReport]>::is_empty")]
    chunks: &'a [ChunkReport],
    #[serde(skip_serializing_if = "Option::is_none")]
    dialogues: Option<&'a DialogueReport>,
    stages: &'a Stages,
    outputs: &'a [OutputFile],
}

impl Report {
    pub fn new(command: &str) -> Report {
        Report {
            command: command.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            outcome: "ok",
            ..Report::default()
        }
    }

    /// The report of a run that stopped on `e`: the command, the envelope
    /// and the error, no counts (the run did not finish them).
    pub fn failed(command: &str, e: &Error) -> Report {
        let mut r = Report::new(command);
        r.error = Some(ErrorReport::of(e));
        r.finish(Duration::ZERO, e.exit());
        r
    }

    /// Fill in what the binary knows: the command line, the resolved
    /// options, the timestamps, and the elapsed time of the whole process
    /// (preflight included).
    pub fn stamp(&mut self, mut envelope: Envelope, elapsed: Duration, finished: SystemTime) {
        envelope.finished_at = rfc3339(finished);
        self.envelope = envelope;
        self.elapsed_seconds = seconds(elapsed);
    }

    /// Record the output of every chunk written, with the size and hash
    /// the writer computed for the manifest.
    pub fn chunk_outputs(
        &mut self,
        written: &std::collections::HashMap<usize, crate::stage1::Output>,
    ) {
        for c in &self.chunks {
            if let (ChunkStatus::Written, Some(path), Some(o)) =
                (c.status, &c.output, written.get(&c.index))
            {
                self.outputs.push(OutputFile {
                    path: path.clone(),
                    bytes: o.size,
                    sha256: o.sha256.clone(),
                });
            }
        }
    }

    /// Record one input file's entry (after [`Report::take_file`]); a
    /// failure's reason is the one just recorded.
    pub fn file_entry(&mut self, mut entry: FileEntry) {
        if entry.status == FileStatus::Failed && entry.error.is_none() {
            entry.error = self.files_failed.last().map(|f| f.reason.clone());
        }
        self.files.push(entry);
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
        self.elapsed_seconds = seconds(elapsed);
        self.exit_code = exit.code();
        self.outcome = outcome(exit);
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
            let split = match (d.train, d.val) {
                (Some(t), Some(v)) => format!(" (train {t}, val {v})"),
                _ => String::new(),
            };
            s.push(format!(
                "dialogues: {}{split}; {} messages skipped",
                d.dialogues, d.messages_skipped
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

    /// The report v1 JSON (pretty, no trailing newline).
    pub fn to_json(&self) -> serde_json::Result<String> {
        let stage1 = matches!(self.command.as_str(), "extract" | "run");
        let counts = self.error.is_none().then(|| Counts {
            files_found: self.files_found,
            files_selected: self.files_selected,
            files_processed: self.files_processed,
            files: (self.command != "merge").then_some(&self.files[..]),
            files_failed: &self.files_failed,
            rows_read: self.rows_read,
            rows_kept: stage1.then_some(self.rows_kept),
            rows_dropped: stage1.then_some(&self.rows_dropped),
            chunks: &self.chunks,
            dialogues: self.dialogues.as_ref(),
            stages: &self.stages,
            outputs: &self.outputs,
        });
        let e = &self.envelope;
        serde_json::to_string_pretty(&V1 {
            schema_version: SCHEMA_VERSION,
            command: &self.command,
            version: &self.version,
            argv: &e.argv,
            started_at: &e.started_at,
            finished_at: &e.finished_at,
            elapsed_seconds: self.elapsed_seconds,
            options: e.options.as_ref(),
            outcome: self.outcome,
            exit_code: self.exit_code,
            verdict: &self.verdict,
            error: self.error.as_ref(),
            counts,
            notes: &self.notes,
        })
    }

    /// Write the JSON report atomically.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let json = self.to_json().map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        let af = crate::fs::AtomicFile::new(path)?;
        af.write_all((json + "\n").as_bytes())?;
        af.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, millis: u32) -> String {
        rfc3339(SystemTime::UNIX_EPOCH + Duration::new(secs, millis * 1_000_000))
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day of a century year divisible by 400).
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        // 2100 is no leap year: 28 February is followed by 1 March.
        assert_eq!(at(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_796_281_507, 123), "2026-12-03T07:05:07.123Z");
    }

    #[test]
    fn error_kinds_are_words_the_schema_lists() {
        let schema: serde_json::Value = serde_json::from_str(SCHEMA).unwrap();
        let kinds = &schema["$defs"]["error"]["properties"]["kind"]["enum"];
        for e in [
            Error::Usage("x".into()),
            Error::io(Path::new("p"), std::io::Error::other("x")),
            Error::Split("x".into()),
            Error::Interrupted {
                name: "SIGINT",
                signal: 2,
            },
            Error::ThreadStopped("writer"),
        ] {
            assert!(
                kinds.as_array().unwrap().iter().any(|k| k == e.kind()),
                "{}",
                e.kind()
            );
        }
    }
}
