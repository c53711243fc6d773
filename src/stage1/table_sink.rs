//! The table sink: each chunk's files aligned into one [`Table`] (the
//! column union of its sheets) and handed to a consumer — `run`'s
//! grouping, and the writer's fallback. [`write_table`] writes a table
//! atomically.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ChunkSink, ChunkTable, Output};
use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::fs::AtomicFile;
use crate::interrupt;
use crate::progress::Progress;
use crate::read::{Replayed, Workbook};
use crate::report::Report;
use crate::table::{align, Table, DEFAULT_SPILL_BYTES};
use crate::write::{open_sink, TableFormat};

/// The sink that aligns each chunk into a [`Table`] and hands it on
/// (`run`, and `extract`'s fallback).
pub struct TableSink<F: FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>> {
    spill_dir: PathBuf,
    table: Option<Table>,
    consume: F,
    watch_reread: bool,
}

impl<F: FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>> TableSink<F> {
    pub fn new(spill_dir: &Path, consume: F) -> Self {
        TableSink {
            spill_dir: spill_dir.to_path_buf(),
            table: None,
            consume,
            watch_reread: false,
        }
    }

    /// Each chunk's table watches its rows' re-read column kinds as they
    /// join ([`Table::watch_reread`]): `run` groups without a pass for them.
    pub fn watching_reread(mut self) -> Self {
        self.watch_reread = true;
        self
    }

    fn new_table(&self) -> Table {
        let mut t = Table::new(&self.spill_dir, DEFAULT_SPILL_BYTES);
        if self.watch_reread {
            t.watch_reread();
        }
        t
    }
}

impl<F: FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>> ChunkSink for TableSink<F> {
    fn file(&mut self, _: &Chunk, book: Workbook) -> Result<()> {
        if self.table.is_none() {
            self.table = Some(self.new_table());
        }
        let t = self.table.as_mut().expect("just set");
        if book.spill.is_none() {
            for sheet in book.sheets {
                t.push_sheet(sheet)?;
            }
            return Ok(());
        }
        let mut map = Vec::new();
        book.replay(|r| {
            match r {
                Replayed::Sheet(s) => map = t.add_columns(&s.columns),
                Replayed::Row(row) => t.push_aligned(align(row, &map))?,
            }
            Ok(true)
        })
    }

    fn end(
        &mut self,
        chunk: &Chunk,
        _: &[PathBuf],
        files_ok: usize,
        error: Option<String>,
        report: &mut Report,
        progress: &Progress,
    ) -> Result<()> {
        let table = match self.table.take() {
            Some(t) => t,
            None => self.new_table(),
        };
        (self.consume)(
            ChunkTable {
                chunk: chunk.clone(),
                table,
                files_ok,
                error,
            },
            report,
            progress,
        )
    }
}

/// Write one table atomically; returns the rows written and the bytes'
/// size and hash.
pub fn write_table(
    table: &mut Table,
    dest: &Path,
    format: TableFormat,
    compression: u8,
    pool: Option<Arc<rayon::ThreadPool>>,
) -> Result<Output> {
    guard_panics(dest, || {
        write_table_inner(table, dest, format, compression, pool)
    })
}

/// A panic while writing is that output's error, not the run's end.
pub(super) fn guard_panics<T>(dest: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(Error::output(
            dest,
            format!("write failed: {}", crate::pool::panic_message(p)),
        ))
    })
}

fn write_table_inner(
    table: &mut Table,
    dest: &Path,
    format: TableFormat,
    compression: u8,
    pool: Option<Arc<rayon::ThreadPool>>,
) -> Result<Output> {
    let file = AtomicFile::new(dest)?;
    let mut sink = open_sink(
        format,
        file.try_clone()?,
        file.tmp_path(),
        compression,
        pool,
    )?;
    sink.header(table.columns())?;
    let mut n = 0u64;
    table.for_each_row(|row| {
        n += 1;
        if n.is_multiple_of(crate::progress::ROW_BATCH) {
            crate::progress::rows_written(crate::progress::ROW_BATCH);
            interrupt::check()?;
        }
        sink.row(row)
    })?;
    crate::progress::rows_written(n % crate::progress::ROW_BATCH);
    interrupt::check()?;
    let (size, sha256) = file.digest_unless(sink.finish()?)?;
    file.commit()?;
    Ok(Output {
        rows: n,
        size,
        sha256,
    })
}
