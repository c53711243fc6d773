//! Typed errors and the exit-code contract (SPEC "Everywhere").
//!
//! Two kinds of failure exist. A [`FileError`] belongs to one input file: it
//! is reported with the file's path, the file is skipped and the run goes
//! on, and the run ends with exit code 3. An [`Error`] stops the run (exit
//! code 1, or 2 for usage errors, 130/143 for signals).

use std::fmt;
use std::path::{Path, PathBuf};

/// Exit codes, the one place they are defined.
pub mod exit {
    pub const OK: i32 = 0;
    pub const FATAL: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const PARTIAL: i32 = 3;
    pub const SIGINT: i32 = 130;
    pub const SIGTERM: i32 = 143;
}

/// Why one input file could not be used. Displayed as plain words; the path
/// is carried by [`FileError`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum FileErrorKind {
    #[error("cannot open: {0}")]
    Open(String),
    #[error("empty file (0 bytes)")]
    EmptyFile,
    #[error("encrypted (password-protected) workbook: remove the password and export again")]
    Encrypted,
    #[error("not a readable {format} workbook: {detail}")]
    Corrupt {
        format: &'static str,
        detail: String,
    },
    #[error("missing column {column} in sheet {sheet}")]
    MissingColumn { column: String, sheet: String },
    #[error("no sheet named {0}")]
    NoSuchSheet(String),
    #[error("no sheet with a header row")]
    NoSheet,
    #[error("cannot decode as {encoding} (byte {offset}); use --encoding to force one")]
    Encoding {
        encoding: &'static str,
        offset: usize,
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

/// A failure that stops the run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {msg}")]
    Output { path: PathBuf, msg: String },
    #[error("{0}")]
    Split(String),
    #[error("{0}")]
    Config(String),
    #[error("interrupted by {name}")]
    Interrupted { name: &'static str, code: i32 },
    #[error("{0}")]
    Other(String),
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

    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Config(_) => exit::USAGE,
            Error::Interrupted { code, .. } => *code,
            _ => exit::FATAL,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
