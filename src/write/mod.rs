//! Output sinks for stage 1 (one trait, one file per format) and the
//! atomic-file guard every output goes through.
//!
//! A sink receives the header once and then the rows in order; `finish`
//! completes the file. Nothing is ever written under the final name: a sink
//! writes to a hidden temporary beside it, and [`AtomicFile::commit`]
//! renames it into place. A dropped, uncommitted guard removes the
//! temporary, so an error or a signal never leaves a half file.

mod csv;
mod sheetxml;
mod xlsx;
pub mod zipout;

use std::path::{Path, PathBuf};

pub use self::csv::CsvSink;
pub use self::xlsx::{long_cell, XlsxSink, MAX_DATA_ROWS, MAX_TEXT_UTF16};

use crate::error::{Error, Result};
use crate::value::Value;

/// Output format of stage 1.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Deserialize,
    serde::Serialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    #[default]
    Xlsx,
    Csv,
}

impl TableFormat {
    pub fn extension(&self) -> &'static str {
        match self {
            TableFormat::Xlsx => "xlsx",
            TableFormat::Csv => "csv",
        }
    }
}

/// A tabular output file being written.
pub trait Sink {
    fn header(&mut self, columns: &[String]) -> Result<()>;
    /// One row; shorter rows are padded with empty cells.
    fn row(&mut self, row: &[Value]) -> Result<()>;
    /// Rows in order, handed over.
    fn rows(&mut self, rows: Vec<Vec<Value>>) -> Result<()> {
        rows.iter().try_for_each(|r| self.row(r))
    }
    /// Complete the file at its temporary path.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Open a sink of `format` writing to `path`; an xlsx sink compresses on
/// `pool` when given.
pub fn open_sink(
    format: TableFormat,
    path: &Path,
    compression: u8,
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
) -> Result<Box<dyn Sink>> {
    Ok(match format {
        TableFormat::Xlsx => Box::new(XlsxSink::create(path, compression, pool)?),
        TableFormat::Csv => Box::new(CsvSink::create(path)?),
    })
}

/// A file written beside its final name and renamed into place.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Reserve `dest`; the data goes to `.NAME.part` beside it (hidden, so
    /// the input walk never picks it up).
    pub fn new(dest: &Path) -> AtomicFile {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.part"));
        AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        }
    }

    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flush to disk and rename into place.
    pub fn commit(mut self) -> Result<()> {
        let f = std::fs::File::open(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        self.committed = true;
        crate::interrupt::unregister_temporary(&self.tmp);
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
            crate::interrupt::unregister_temporary(&self.tmp);
        }
    }
}
