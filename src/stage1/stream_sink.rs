//! The stream sink and its writer thread: `extract`'s way to disk. The
//! first readable file of a chunk fixes the header; rows go to the writer
//! in batches while the pool still reads the chunk's later files, so a
//! chunk's xlsx is compressed as it arrives and memory stays at the pool's
//! window.

use std::path::PathBuf;
use std::time::Duration;

use crossbeam_channel::{Receiver, SendTimeoutError, Sender};
use std::sync::Arc;

use super::driver::read_one;
use super::rundir::JournalWriter;
use super::table_sink::{guard_panics, write_table};
use super::{ChunkSink, ChunkTable, Output};
use crate::chunk::Chunk;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fs::{chunk_output, AtomicFile};
use crate::interrupt;
use crate::progress::Progress;
use crate::read::{Replayed, SpillTo, Workbook};
use crate::report::{ChunkReport, ChunkStatus, Report};
use crate::table::{align, Columns, Table, DEFAULT_SPILL_BYTES};
use crate::value::Value;
use crate::write::{open_sink, Sink, TableFormat};

/// Rows per message to the writer thread.
const WRITER_BATCH: usize = 4096;

/// Bytes of one file's kept rows held in memory while the file is read;
/// the rest waits in a temporary file until the file has been read
/// without error (a file failing halfway adds nothing to its chunk) and
/// pandas' column conversion of each sheet is known (it is applied as the
/// rows are read back). Why 32 MiB: with `-j 2`, two files are being read
/// and one is being handed to the writer, so rows held are 3 x 32 MiB at
/// most; with the writer's queue and its compression buffers that keeps
/// `extract -j 2` well under 256 MiB whatever the files' sizes, while
/// files of up to ~100,000 rows never touch the disk. More jobs hold more:
/// (jobs + 1) x 32 MiB.
pub const FILE_SPILL_BYTES: usize = 32 << 20;

/// [`FILE_SPILL_BYTES`], or the test-only override of the environment
/// variable `SHEETSIFT_FILE_SPILL_BYTES` (a byte count): the tests force
/// small files through the spill with it. Not a user option.
fn file_spill_bytes() -> usize {
    std::env::var("SHEETSIFT_FILE_SPILL_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(FILE_SPILL_BYTES)
}

/// What the extract writer thread is told, in order.
pub(super) enum WriterMsg {
    /// Open the chunk's output with this header.
    Start {
        chunk: usize,
        dest: PathBuf,
        columns: Vec<crate::value::ColName>,
    },
    /// Rows aligned to the header, in file then row order.
    Rows(Vec<Vec<Value>>),
    /// Complete and rename the output.
    Finish,
    /// Drop the output being written.
    Abort,
    /// Write a whole table (the fallback path).
    Table(Box<ChunkTable>, PathBuf),
}

/// The writer thread: streams rows into the open output, so the xlsx of a
/// chunk is compressed while the pool still reads its later files.
/// Returns (chunk index, output) for every committed output, each
/// recorded in `journal` as soon as it is in place.
pub(super) fn writer_thread(
    rx: Receiver<WriterMsg>,
    format: TableFormat,
    compression: u8,
    pool: Arc<rayon::ThreadPool>,
    journal: JournalWriter,
) -> Result<Vec<(usize, Output)>> {
    struct Open {
        chunk: usize,
        dest: PathBuf,
        file: AtomicFile,
        sink: Box<dyn Sink>,
        rows: u64,
    }
    let mut written = Vec::new();
    let mut open: Option<Open> = None;
    for msg in rx {
        match msg {
            WriterMsg::Start {
                chunk,
                dest,
                columns,
            } => {
                crate::progress::phase(format!("writing chunk {chunk}"));
                let file = AtomicFile::new(&dest)?;
                let mut sink = open_sink(
                    format,
                    file.try_clone()?,
                    file.tmp_path(),
                    compression,
                    Some(pool.clone()),
                )?;
                sink.header(&columns)?;
                open = Some(Open {
                    chunk,
                    dest,
                    file,
                    sink,
                    rows: 0,
                });
            }
            WriterMsg::Rows(rows) => {
                interrupt::check()?;
                let o = open.as_mut().expect("Start comes before Rows");
                let dest = o.dest.clone();
                let n = rows.len() as u64;
                guard_panics(&dest, || o.sink.rows(rows))?;
                o.rows += n;
                // One batch of the sink's rows (WRITER_BATCH at most).
                crate::progress::rows_written(n);
            }
            WriterMsg::Finish => {
                let o = open.take().expect("Start comes before Finish");
                crate::progress::phase(format!("finishing chunk {}", o.chunk));
                let dest = o.dest.clone();
                let digest = guard_panics(&dest, || o.sink.finish())?;
                let (size, sha256) = o.file.digest_unless(digest)?;
                o.file.commit()?;
                let out = Output {
                    rows: o.rows,
                    size,
                    sha256,
                };
                journal.written(o.chunk, &out)?;
                written.push((o.chunk, out));
            }
            WriterMsg::Abort => open = None,
            WriterMsg::Table(mut ct, dest) => {
                crate::progress::phase(format!("writing chunk {}", ct.chunk.index));
                let out = write_table(
                    &mut ct.table,
                    &dest,
                    format,
                    compression,
                    Some(pool.clone()),
                )?;
                journal.written(ct.chunk.index, &out)?;
                written.push((ct.chunk.index, out));
            }
        }
    }
    Ok(written)
}

/// Send to the writer: blocks while its queue is full, waking every
/// 100 ms to see a signal (the writer may be busy compressing a chunk).
fn send(tx: &Sender<WriterMsg>, msg: WriterMsg) -> Result<()> {
    let mut item = msg;
    loop {
        match tx.send_timeout(item, Duration::from_millis(100)) {
            Ok(()) => return Ok(()),
            Err(SendTimeoutError::Timeout(back)) => {
                item = back;
                interrupt::check()?;
            }
            // The writer stopped on an error; it is reported at join.
            Err(SendTimeoutError::Disconnected(_)) => return Err(Error::ThreadStopped("writer")),
        }
    }
}

/// `extract`'s sink: the first readable file of a chunk fixes the header
/// (its sheets' columns in order of appearance) and every file whose
/// columns are among them streams straight to the writer. A file with a
/// column the header lacks would change the header, which is already
/// written: then the chunk is dropped and redone through a [`Table`] (the
/// files are read again), so the output is the same either way.
pub(super) struct StreamSink<'a> {
    cfg: &'a Config,
    tx: Sender<WriterMsg>,
    columns: Option<Columns>,
    fallback: bool,
}

impl<'a> StreamSink<'a> {
    pub(super) fn new(cfg: &'a Config, tx: Sender<WriterMsg>) -> Self {
        StreamSink {
            cfg,
            tx,
            columns: None,
            fallback: false,
        }
    }
}

impl ChunkSink for StreamSink<'_> {
    fn file_spill(&self) -> Option<SpillTo> {
        Some(SpillTo {
            dir: self.cfg.out.clone(),
            budget: file_spill_bytes(),
        })
    }

    fn file(&mut self, chunk: &Chunk, book: Workbook) -> Result<()> {
        if self.fallback {
            return Ok(());
        }
        if self.columns.is_none() {
            let mut columns = Columns::default();
            for sheet in &book.sheets {
                columns.add(&sheet.columns);
            }
            let dest = chunk_output(
                &self.cfg.out,
                chunk,
                &self.cfg.prefix,
                self.cfg.table_format,
            );
            send(
                &self.tx,
                WriterMsg::Start {
                    chunk: chunk.index,
                    dest,
                    columns: columns.names().to_vec(),
                },
            )?;
            self.columns = Some(columns);
        }
        let columns = self.columns.as_ref().expect("set above");
        let (tx, fallback) = (&self.tx, &mut self.fallback);
        // Small batches: the writer's queue holds a few thousand rows,
        // not whole files, so memory is the pool's window and no more.
        let mut batch: Vec<Vec<Value>> = Vec::new();
        let mut map = Vec::new();
        book.replay(|r| {
            match r {
                Replayed::Sheet(sheet) => match columns.find(&sheet.columns) {
                    Some(m) => map = m,
                    None => {
                        *fallback = true;
                        return Ok(false);
                    }
                },
                Replayed::Row(row) => {
                    batch.push(align(row, &map));
                    if batch.len() == WRITER_BATCH {
                        send(tx, WriterMsg::Rows(std::mem::take(&mut batch)))?;
                    }
                }
            }
            Ok(true)
        })?;
        if self.fallback {
            return send(&self.tx, WriterMsg::Abort);
        }
        if !batch.is_empty() {
            send(&self.tx, WriterMsg::Rows(batch))?;
        }
        Ok(())
    }

    fn end(
        &mut self,
        chunk: &Chunk,
        paths: &[PathBuf],
        files_ok: usize,
        error: Option<String>,
        report: &mut Report,
        progress: &Progress,
    ) -> Result<()> {
        let started = self.columns.take().is_some();
        let fallback = std::mem::take(&mut self.fallback);
        let dest = chunk_output(
            &self.cfg.out,
            chunk,
            &self.cfg.prefix,
            self.cfg.table_format,
        );
        let mut entry = ChunkReport {
            index: chunk.index,
            first_file: chunk.first(),
            last_file: chunk.last(),
            status: ChunkStatus::Written,
            output: Some(dest.clone()),
            rows: 0,
            error: None,
        };
        if files_ok == 0 {
            entry.status = ChunkStatus::NoReadableFile;
            entry.output = None;
            entry.error = Some(format!("no readable file, {} not written", dest.display()));
            progress.println(&format!(
                "error: chunk {}: {}",
                chunk.index,
                entry.error.as_deref().unwrap_or("")
            ));
        } else if let Some(err) = error {
            if started && !fallback {
                send(&self.tx, WriterMsg::Abort)?;
            }
            entry.status = ChunkStatus::Failed;
            entry.output = None;
            entry.error = Some(format!("{} not written: {err}", dest.display()));
        } else if fallback {
            let table = reread_chunk(self.cfg, paths)?;
            let ct = ChunkTable {
                chunk: chunk.clone(),
                table,
                files_ok,
                error: None,
            };
            send(&self.tx, WriterMsg::Table(Box::new(ct), dest))?;
        } else {
            send(&self.tx, WriterMsg::Finish)?;
        }
        report.chunks.push(entry);
        Ok(())
    }
}

/// The fallback: a chunk's accepted files read again into one aligned
/// table (the files that failed, or whose columns did not fit, are not
/// among `paths`).
fn reread_chunk(cfg: &Config, paths: &[PathBuf]) -> Result<Table> {
    let mut table = Table::new(&cfg.out, DEFAULT_SPILL_BYTES);
    for p in paths {
        interrupt::check()?;
        if let Ok(read) = read_one(p, &cfg.read, &cfg.filter, false) {
            for sheet in read.book.sheets {
                table.push_sheet(sheet)?;
            }
        }
    }
    Ok(table)
}
