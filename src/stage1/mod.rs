//! Stage 1: input files -> clean rows, chunk by chunk.
//!
//! [`plan::Plan`] discovers and numbers the files and selects the chunks
//! before anything is created; [`driver::read_chunks`] reads the
//! selected chunks' files on the ordered pool (the row filter applied while
//! reading) and hands each file's usable sheets, in file order, to a
//! [`ChunkSink`]. `extract` uses the [`stream_sink`] (rows go straight to a
//! writer thread), `run` the [`table_sink`] (each chunk aligned into a
//! [`Table`] and handed to stage 2).

pub mod driver;
pub mod extract;
pub mod plan;
pub mod rundir;
pub mod stream_sink;
pub mod table_sink;

use std::path::PathBuf;

use crate::chunk::Chunk;
use crate::error::Result;
use crate::progress::Progress;
use crate::read::{SpillTo, Workbook};
use crate::report::Report;
use crate::table::Table;

pub use self::driver::read_chunks;
pub use self::extract::extract;
pub use self::table_sink::{write_table, TableSink};

/// A chunk output renamed into place: its rows, and the size and SHA-256
/// of its bytes (for the manifest, read back from the temporary).
#[derive(Debug, Clone)]
pub struct Output {
    pub rows: u64,
    pub size: u64,
    pub sha256: String,
}

/// A chunk's table, ready to be written or grouped.
pub struct ChunkTable {
    pub chunk: Chunk,
    pub table: Table,
    /// Files of the chunk that were read.
    pub files_ok: usize,
    /// Why the chunk must not be written (a cell too long for xlsx).
    pub error: Option<String>,
}

/// Receives stage 1's output in order: each readable file's usable sheets
/// (rows already filtered), then the end of its chunk.
pub trait ChunkSink {
    /// One file read without error: its sheets and kept rows (see
    /// [`Workbook::replay`]).
    fn file(&mut self, chunk: &Chunk, book: Workbook) -> Result<()>;
    /// Whether the files' kept rows are to spill past a budget while they
    /// are read ([`crate::read::ReadOptions::spill`]); by default a
    /// file's rows are all held until it is handed over.
    fn file_spill(&self) -> Option<SpillTo> {
        None
    }
    /// The chunk is complete: `paths` are its files that were read and
    /// accepted (`files_ok` of them), `error` why it must not be written.
    fn end(
        &mut self,
        chunk: &Chunk,
        paths: &[PathBuf],
        files_ok: usize,
        error: Option<String>,
        report: &mut Report,
        progress: &Progress,
    ) -> Result<()>;
}
