//! Output sinks for stage 1 (one trait, one file per format).
//!
//! A sink receives the header once and then the rows in order; `finish`
//! completes the file. A sink writes into the open temporary of a
//! [`crate::fs::AtomicFile`], never under the final name, and never
//! reopens it by name.

mod csv;
mod hashed;
mod sheetxml;
mod xlsx;
pub mod zipout;

use std::path::Path;

pub use self::csv::CsvSink;
pub use self::xlsx::{long_cell, XlsxSink, MAX_COLUMNS, MAX_DATA_ROWS, MAX_TEXT_UTF16};

use crate::error::Result;
use crate::value::Value;

/// Output format of stage 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
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
    fn header(&mut self, columns: &[crate::value::ColName]) -> Result<()>;
    /// One row; shorter rows are padded with empty cells.
    fn row(&mut self, row: &[Value]) -> Result<()>;
    /// Rows in order, handed over.
    fn rows(&mut self, rows: Vec<Vec<Value>>) -> Result<()> {
        rows.iter().try_for_each(|r| self.row(r))
    }
    /// Complete the file at its temporary path. Returns its size and
    /// SHA-256 when the sink computed them as it wrote; `None`: read the
    /// file back for them.
    fn finish(self: Box<Self>) -> Result<Option<(u64, String)>>;
}

/// Open a sink of `format` writing into `file`, the open temporary named
/// `path` (for messages); an xlsx sink compresses on `pool` when given.
pub fn open_sink(
    format: TableFormat,
    file: std::fs::File,
    path: &Path,
    compression: u8,
    pool: Option<std::sync::Arc<rayon::ThreadPool>>,
) -> Result<Box<dyn Sink>> {
    Ok(match format {
        TableFormat::Xlsx => Box::new(XlsxSink::to_file(file, path, compression, pool)),
        TableFormat::Csv => Box::new(CsvSink::to_file(file, path)),
    })
}
