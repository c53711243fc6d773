//! Typed errors and the exit-code contract (SPEC "Everywhere"), the one
//! place both live.
//!
//! Two kinds of failure exist. A [`FileError`] belongs to one input file: it
//! is reported with the file's path, the file is skipped and the run goes
//! on, and the run ends with [`Exit::Partial`] (3). An [`Error`] stops the
//! run: [`Exit::Fatal`] (1), [`Exit::Usage`] (2), or [`Exit::Interrupted`]
//! (130 / 143).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a run ends, as the process exit code says it.
///
/// Outcomes merge to the worst of them ([`Exit::merge`]), in this order:
/// ok < partial < usage < fatal < interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exit {
    /// 0: everything done.
    Ok,
    /// 3: finished, but some input files (or chunks) failed.
    Partial,
    /// 2: a bad flag, config or input path, nothing found or selected, a
    /// directory `dialogues` refuses; nothing was done.
    Usage,
    /// 1: the run stopped (unwritable output, split impossible, writer
    /// failure); nothing half-written is left.
    Fatal,
    /// 128 + signal: SIGINT (130) or SIGTERM (143); temporaries removed.
    Interrupted(i32),
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Fatal => 1,
            Exit::Usage => 2,
            Exit::Partial => 3,
            Exit::Interrupted(sig) => 128 + sig,
        }
    }

    /// The worse of two outcomes.
    pub fn merge(self, other: Exit) -> Exit {
        self.max(other)
    }

    /// The outcome of a finished run: partial when anything failed.
    pub fn finished(any_failed: bool) -> Exit {
        if any_failed {
            Exit::Partial
        } else {
            Exit::Ok
        }
    }
}

/// The help text's table of exit codes (`sheetsift --help`).
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0        ok
  1        fatal error (unwritable output, another run holds the output's lock, no
           dialogues, a --val-size the corpus cannot meet); nothing half-written
           left
  2        usage error: bad flag or config (`-o -`, `run --format`), missing
           input, --report not writable, no input file found, a selection of
           no chunk, a directory dialogues refuses (not one complete run)
  3        finished, but some input files or chunks failed (see the summary / --report)
  130/143  interrupted by SIGINT/SIGTERM; temporaries removed, finished outputs kept";

/// Why one input file could not be used. Displayed as plain words; the path
/// is carried by [`FileError`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum FileErrorKind {
    #[error("cannot open: {0}")]
    Open(#[source] Arc<std::io::Error>),
    /// A directory below an input argument that could not be listed: its
    /// files are not in the run (reported as a failed input, exit 3).
    #[error("cannot list this directory, its files are not in this run: {0}")]
    Unlisted(#[source] Arc<std::io::Error>),
    #[error("empty file (0 bytes)")]
    EmptyFile,
    #[error("encrypted (password-protected) workbook: remove the password and export again")]
    Encrypted,
    #[error("not a readable {format} workbook: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    /// Says which headers the sheet has and which flag / config key names
    /// the column (`which`: its place in `ReadOptions::required`).
    #[error("{}", crate::outdir::preflight::missing_column(.column, .sheet, .headers, *.which))]
    MissingColumn {
        column: String,
        sheet: String,
        headers: Vec<String>,
        which: usize,
    },
    /// Lists the sheets the workbook has.
    #[error("{}", crate::outdir::preflight::no_such_sheet(.name, .sheets))]
    NoSuchSheet { name: String, sheets: Vec<String> },
    #[error("no sheet with a header row")]
    NoSheet,
    #[error("cannot decode as {encoding} (byte {offset}); use --encoding to force one")]
    Encoding {
        encoding: &'static str,
        offset: usize,
    },
    /// The reference's rule tried both: the file is not all UTF-8, and
    /// its GB18030 fallback fails too (CPython's reasons).
    #[error("cannot decode as gb18030 (byte {gb18030}: {gb18030_reason}), the fallback after UTF-8 failed (byte {utf8}: {utf8_reason}); use --encoding to force one")]
    Undecodable {
        utf8: u64,
        utf8_reason: &'static str,
        gb18030: u64,
        gb18030_reason: &'static str,
    },
    #[error("unknown encoding {0} (try utf-8, gb18030, gbk)")]
    UnknownEncoding(String),
    #[error("line {line}: expected {expected} fields, saw {saw}")]
    RaggedRow {
        line: u64,
        expected: usize,
        saw: usize,
    },
    #[error("bad CSV: {0}")]
    Csv(String),
    #[error("{0}")]
    Limit(String),
    #[error("cannot hold its rows: {0}")]
    Table(#[source] Arc<Error>),
    #[error("internal error while reading (please report): {0}")]
    Panic(String),
    #[error("interrupted")]
    Interrupted,
}

/// One input file's failure: `PATH: reason`.
#[derive(Debug, Clone)]
pub struct FileError {
    pub path: PathBuf,
    pub kind: FileErrorKind,
}

impl FileError {
    pub fn new(path: &Path, kind: FileErrorKind) -> FileError {
        FileError {
            path: path.to_path_buf(),
            kind,
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.kind)
    }
}

impl std::error::Error for FileError {}

impl FileErrorKind {
    /// An I/O failure opening or reading the file.
    pub fn open(e: std::io::Error) -> FileErrorKind {
        FileErrorKind::Open(Arc::new(e))
    }
}

/// A failure that stops the run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Config(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {msg}")]
    Output { path: PathBuf, msg: String },
    #[error("{path}: cannot write JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Split(String),
    #[error("{path}: {msg}")]
    Manifest { path: PathBuf, msg: String },
    #[error("cannot start {what}: {source}")]
    Thread {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the {0} thread stopped")]
    ThreadStopped(&'static str),
    #[error("{what} failed: {msg}")]
    Panicked { what: &'static str, msg: String },
    /// A stage-2 part the merge cannot use (missing, foreign, corrupt):
    /// a usage error, as a wrong input path is.
    #[error("{}: {msg}", path.display())]
    Part { path: PathBuf, msg: String },
    #[error("{path}: corrupt spill file (record {record})")]
    Spill { path: PathBuf, record: usize },
    #[error("interrupted by {name}")]
    Interrupted { name: &'static str, signal: i32 },
    /// Another run holds the selection's lock (exit 1: worth a retry).
    #[error("{0}")]
    Busy(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn output(path: &Path, msg: impl Into<String>) -> Error {
        Error::Output {
            path: path.to_path_buf(),
            msg: msg.into(),
        }
    }

    pub fn thread(what: &'static str) -> impl FnOnce(std::io::Error) -> Error {
        move |source| Error::Thread { what, source }
    }

    /// A stable word for this kind of error: the report's `error.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::Config(_) => "config",
            Error::Io { .. } => "io",
            Error::Output { .. } => "output",
            Error::Json { .. } => "json",
            Error::Split(_) => "split",
            Error::Manifest { .. } => "manifest",
            Error::Thread { .. } => "thread",
            Error::ThreadStopped(_) => "thread_stopped",
            Error::Panicked { .. } => "panic",
            Error::Part { .. } => "part",
            Error::Spill { .. } => "spill",
            Error::Interrupted { .. } => "interrupted",
            Error::Busy(_) => "busy",
        }
    }

    /// The file or directory the error is about, when it names one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::Io { path, .. }
            | Error::Output { path, .. }
            | Error::Json { path, .. }
            | Error::Manifest { path, .. }
            | Error::Part { path, .. }
            | Error::Spill { path, .. } => Some(path),
            _ => None,
        }
    }

    /// How the run ends on this error.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) | Error::Config(_) | Error::Part { .. } => Exit::Usage,
            Error::Interrupted { signal, .. } => Exit::Interrupted(*signal),
            _ => Exit::Fatal,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        self.exit().code()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_merge_to_the_worst() {
        assert_eq!(Exit::Ok.merge(Exit::Partial), Exit::Partial);
        assert_eq!(Exit::Partial.merge(Exit::Fatal), Exit::Fatal);
        assert_eq!(
            Exit::Fatal.merge(Exit::Interrupted(2)),
            Exit::Interrupted(2)
        );
        assert_eq!(Exit::Interrupted(15).code(), 143);
        assert_eq!(Exit::Interrupted(2).code(), 130);
        assert_eq!(Exit::finished(true).code(), 3);
    }
}
