//! `sheetsift extract`: discover -> chunk -> ordered pool of readers (with
//! the row filter applied while reading) -> one column-aligned table per
//! chunk -> a writer thread that writes each table atomically.
//!
//! The chunk-table part ([`stage1`]) is shared with `run`, which hands the
//! tables to stage 2 instead of (or besides) writing them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use std::sync::Arc;
use std::time::Instant;

use crate::chunk::{self, Chunk};
use crate::config::Config;
use crate::discover::discover;
use crate::error::{Error, FileError, FileErrorKind, Result};
use crate::filter::DropCounts;
use crate::interrupt;
use crate::pool::{ordered_map, thread_pool, PoolError};
use crate::progress::Progress;
use crate::read::{ReadOptions, Sheet, Workbook};
use crate::report::{ChunkReport, FailedFile, Report};
use crate::table::{Table, DEFAULT_SPILL_BYTES};
use crate::value::Value;
use crate::write::{long_cell, open_sink, AtomicFile, Sink, TableFormat, MAX_TEXT_UTF16};

/// What a worker hands back for one file.
struct FileRead {
    book: Workbook,
    drops: DropCounts,
    rows_read: u64,
    /// A kept cell too long for xlsx: fails the file's chunk.
    too_long: Option<String>,
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
    fn file(&mut self, chunk: &Chunk, sheets: Vec<Sheet>) -> Result<()>;
    /// The chunk is complete: `paths` are its files, `files_ok` how many
    /// were read, `error` why it must not be written.
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

/// The sink that aligns each chunk into a [`Table`] and hands it on
/// (`run`, and `extract`'s fallback).
pub struct TableSink<F: FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>> {
    spill_dir: PathBuf,
    table: Option<Table>,
    consume: F,
}

impl<F: FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>> TableSink<F> {
    pub fn new(spill_dir: &Path, consume: F) -> Self {
        TableSink {
            spill_dir: spill_dir.to_path_buf(),
            table: None,
            consume,
        }
    }
}

impl<F: FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>> ChunkSink for TableSink<F> {
    fn file(&mut self, _: &Chunk, sheets: Vec<Sheet>) -> Result<()> {
        let t = self
            .table
            .get_or_insert_with(|| Table::new(&self.spill_dir, DEFAULT_SPILL_BYTES));
        for sheet in sheets {
            t.push_sheet(sheet)?;
        }
        Ok(())
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
        let table = self
            .table
            .take()
            .unwrap_or_else(|| Table::new(&self.spill_dir, DEFAULT_SPILL_BYTES));
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

/// Read and filter the selected chunks' files and hand them to `sink`, in
/// order. `skip` drops chunks before any file is read (`--resume`). Failed
/// files are recorded in `report`.
pub fn stage1(
    cfg: &Config,
    pool: Arc<rayon::ThreadPool>,
    report: &mut Report,
    check_xlsx_limit: bool,
    skip: impl Fn(&Chunk) -> bool,
    sink: &mut dyn ChunkSink,
) -> Result<Vec<PathBuf>> {
    let files = discover(&cfg.inputs)?;
    report.files_found = files.len();
    let all = chunk::chunks(files.len(), cfg.chunk_size);
    let mut selected = Vec::new();
    for c in all
        .into_iter()
        .filter(|c| chunk::selected(c.index, cfg.chunk_range, cfg.shard))
    {
        if skip(&c) {
            report.chunks.push(ChunkReport {
                index: c.index,
                first_file: c.first(),
                last_file: c.last(),
                status: "skipped (exists)".into(),
                output: None,
                rows: 0,
                error: None,
            });
        } else {
            selected.push(c);
        }
    }
    let work: Vec<(usize, PathBuf)> = selected
        .iter()
        .flat_map(|c| c.files.clone())
        .map(|i| (i, files[i].clone()))
        .collect();
    report.files_selected = work.len();
    let mut progress = Progress::new(work.len() as u64, "files", cfg.quiet);
    progress.set_prefix("extract");

    let readers = pool.current_num_threads();
    let mut opts = cfg.read.clone();
    // Fewer files than workers: let each file's parsing use the idle cores.
    if work.len() < readers {
        opts.parse_threads = readers;
    }
    let opts = Arc::new(opts);
    let filter = Arc::new(cfg.filter.clone());
    let results = ordered_map(pool, work, readers, move |(_, path): (usize, PathBuf)| {
        read_one(&path, &opts, &filter, check_xlsx_limit)
            .map_err(|kind| FileError::new(&path, kind))
    });

    let mut results = results.zip(
        selected
            .iter()
            .flat_map(|c| c.files.clone().map(move |i| (c, i))),
    );
    for c in &selected {
        let (mut files_ok, mut error) = (0, None);
        for _ in c.files.clone() {
            let (result, (_, global)) = results.next().expect("one result per selected file");
            // Checked after the wait: a worker stopped by the signal returns
            // `Interrupted`, which is not that file's failure.
            interrupt::check()?;
            let path = &files[global];
            let result = match result {
                Ok(r) => r,
                Err(PoolError::Panicked(msg)) => {
                    Err(FileError::new(path, FileErrorKind::Panic(msg)))
                }
            };
            match result {
                Ok(read) => {
                    for note in &read.book.notes {
                        progress.println(&format!("note: {}: {note}", path.display()));
                        report.notes.push(format!("{}: {note}", path.display()));
                    }
                    report.files_processed += 1;
                    report.rows_read += read.rows_read;
                    report.rows_dropped.merge(&read.drops);
                    let kept: u64 = read.book.sheets.iter().map(|s| s.rows.len() as u64).sum();
                    report.rows_kept += kept;
                    if let Some(msg) = read.too_long {
                        let reason = format!("{msg}; use --format csv to keep it whole");
                        progress.println(&format!("error: {}: {reason}", path.display()));
                        report.files_failed.push(FailedFile {
                            path: path.clone(),
                            reason: reason.clone(),
                        });
                        error.get_or_insert(format!("{}: {reason}", path.display()));
                    }
                    files_ok += 1;
                    progress.inc(read.rows_read);
                    // A chunk with a cell too long for xlsx is not written:
                    // its rows must not reach a streaming writer.
                    if error.is_none() {
                        sink.file(c, read.book.sheets)?;
                    }
                }
                Err(e) => {
                    progress.println(&report.fail_file(&e));
                    progress.inc(0);
                }
            }
        }
        sink.end(
            c,
            &files[c.files.clone()],
            files_ok,
            error,
            report,
            &progress,
        )?;
    }
    progress.finish();
    Ok(files)
}

/// Worker body: read one file, filtering rows as they stream by.
fn read_one(
    path: &Path,
    opts: &ReadOptions,
    filter: &crate::filter::RowFilter,
    check_xlsx_limit: bool,
) -> Result<FileRead, FileErrorKind> {
    let mut drops = DropCounts::default();
    let mut too_long: Option<String> = None;
    let mut keep = |sheet: &crate::read::Sheet, row: &[Value]| {
        let content = row.get(sheet.required_idx[ReadOptions::CONTENT]);
        if let Some(reason) = filter.check(content) {
            drops.add(reason);
            return false;
        }
        if check_xlsx_limit && too_long.is_none() {
            if let Some((col, units)) = long_cell(row) {
                too_long = Some(format!(
                    "sheet {} row {} column {}: text of {units} UTF-16 units is over the xlsx cell limit of {MAX_TEXT_UTF16}",
                    sheet.name,
                    sheet.line,
                    sheet.columns.get(col).map(String::as_str).unwrap_or("?")
                ));
            }
        }
        true
    };
    let book = crate::read::read_file(path, opts, &mut keep).map_err(|e| e.kind)?;
    let rows_read = book.rows_read();
    Ok(FileRead {
        book,
        drops,
        rows_read,
        too_long,
    })
}

/// The output path of a chunk.
pub fn chunk_output(dir: &Path, c: &Chunk, prefix: &str, format: TableFormat) -> PathBuf {
    dir.join(format!("{}.{}", c.stem(prefix), format.extension()))
}

/// Write one table atomically; returns the rows written.
pub fn write_table(
    table: &mut Table,
    dest: &Path,
    format: TableFormat,
    compression: u8,
    pool: Option<Arc<rayon::ThreadPool>>,
) -> Result<u64> {
    // A panic while writing is that output's error, not the run's end.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_table_inner(table, dest, format, compression, pool)
    }))
    .unwrap_or_else(|p| {
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
) -> Result<u64> {
    let file = AtomicFile::new(dest);

    let mut sink = open_sink(format, file.tmp_path(), compression, pool)?;
    sink.header(table.columns())?;
    let mut n = 0u64;
    table.for_each_row(|row| {
        n += 1;
        if n.is_multiple_of(8192) {
            interrupt::check()?;
        }
        sink.row(row)
    })?;
    interrupt::check()?;
    sink.finish()?;
    file.commit()?;
    Ok(n)
}

/// Create the output directory, with a clear error when it cannot be.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::output(
            dir,
            "output path exists and is not a directory",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// Rows per message to the writer thread.
const WRITER_BATCH: usize = 4096;

/// What the extract writer thread is told, in order.
enum WriterMsg {
    /// Open the chunk's output with this header.
    Start {
        chunk: usize,
        dest: PathBuf,
        columns: Vec<String>,
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
/// Returns (chunk index, rows written) for every committed output.
fn writer_thread(
    rx: Receiver<WriterMsg>,
    format: TableFormat,
    compression: u8,
    pool: Arc<rayon::ThreadPool>,
) -> Result<Vec<(usize, u64)>> {
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
                let file = AtomicFile::new(&dest);
                let mut sink = open_sink(format, file.tmp_path(), compression, Some(pool.clone()))?;
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
            }
            WriterMsg::Finish => {
                let o = open.take().expect("Start comes before Finish");
                let dest = o.dest.clone();
                guard_panics(&dest, || o.sink.finish())?;
                o.file.commit()?;
                written.push((o.chunk, o.rows));
            }
            WriterMsg::Abort => open = None,
            WriterMsg::Table(mut ct, dest) => {
                let rows = write_table(
                    &mut ct.table,
                    &dest,
                    format,
                    compression,
                    Some(pool.clone()),
                )?;
                written.push((ct.chunk.index, rows));
            }
        }
    }
    Ok(written)
}

/// A panic while writing is that output's error (see [`write_table`]).
fn guard_panics<T>(dest: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        Err(Error::output(
            dest,
            format!("write failed: {}", crate::pool::panic_message(p)),
        ))
    })
}

/// Send to the writer without missing a signal while it is busy.
fn send(tx: &SyncSender<WriterMsg>, msg: WriterMsg) -> Result<()> {
    let mut item = msg;
    loop {
        match tx.try_send(item) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => {
                item = back;
                interrupt::check()?;
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            // The writer stopped on an error; it is reported at join.
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::Other("writer stopped".into()))
            }
        }
    }
}

/// `extract`'s sink: the first readable file of a chunk fixes the header
/// (its sheets' columns in order of appearance) and every file whose
/// columns are among them streams straight to the writer. A file with a
/// column the header lacks would change the header, which is already
/// written: then the chunk is dropped and redone through a [`Table`] (the
/// files are read again), so the output is the same either way.
struct StreamSink<'a> {
    cfg: &'a Config,
    tx: SyncSender<WriterMsg>,
    columns: Option<(Vec<String>, HashMap<String, usize>)>,
    fallback: bool,
}

impl ChunkSink for StreamSink<'_> {
    fn file(&mut self, chunk: &Chunk, sheets: Vec<Sheet>) -> Result<()> {
        if self.fallback {
            return Ok(());
        }
        if self.columns.is_none() {
            let mut names: Vec<String> = Vec::new();
            for s in &sheets {
                for c in &s.columns {
                    if !names.contains(c) {
                        names.push(c.clone());
                    }
                }
            }
            let index = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect();
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
                    columns: names.clone(),
                },
            )?;
            self.columns = Some((names, index));
        }
        let (_, index) = self.columns.as_ref().expect("set above");
        for sheet in sheets {
            let Some(map) = sheet
                .columns
                .iter()
                .map(|c| index.get(c).copied())
                .collect::<Option<Vec<usize>>>()
            else {
                self.fallback = true;
                return send(&self.tx, WriterMsg::Abort);
            };
            let identity = map.iter().enumerate().all(|(i, &m)| i == m);
            let rows = if identity {
                sheet.rows
            } else {
                sheet
                    .rows
                    .into_iter()
                    .map(|row| {
                        let width = map
                            .iter()
                            .take(row.len())
                            .map(|&m| m + 1)
                            .max()
                            .unwrap_or(0);
                        let mut aligned = vec![Value::Empty; width];
                        for (v, &m) in row.into_iter().zip(&map) {
                            aligned[m] = v;
                        }
                        aligned
                    })
                    .collect()
            };
            // Small batches: the writer's queue holds a few thousand rows,
            // not whole files, so memory is the pool's window and no more.
            let mut rows = rows.into_iter().peekable();
            while rows.peek().is_some() {
                let batch: Vec<Vec<Value>> = rows.by_ref().take(WRITER_BATCH).collect();
                send(&self.tx, WriterMsg::Rows(batch))?;
            }
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
            status: "written".into(),
            output: Some(dest.clone()),
            rows: 0,
            error: None,
        };
        if files_ok == 0 {
            entry.status = "no readable file".into();
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
            entry.status = "failed".into();
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

/// The fallback: a chunk's files read again into one aligned table.
fn reread_chunk(cfg: &Config, paths: &[PathBuf]) -> Result<Table> {
    let mut table = Table::new(&cfg.out, DEFAULT_SPILL_BYTES);
    for p in paths {
        interrupt::check()?;
        // Files that failed the first time fail again and add nothing.
        if let Ok(read) = read_one(p, &cfg.read, &cfg.filter, false) {
            for sheet in read.book.sheets {
                table.push_sheet(sheet)?;
            }
        }
    }
    Ok(table)
}

/// `sheetsift extract`.
pub fn run(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("extract");
    ensure_dir(&cfg.out)?;
    let format = cfg.table_format;
    // A few batches of look-ahead: rows can wait while the writer
    // compresses the previous ones; memory stays at a few files.
    let (tx, rx) = sync_channel::<WriterMsg>(4);
    let compression = cfg.compression_level;
    // One pool of `--jobs` threads reads the files and compresses the
    // output: neither waits for a core the other holds idle.
    let pool = thread_pool(cfg.jobs)
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let writer_pool = Arc::clone(&pool);
    let writer = std::thread::Builder::new()
        .name("sheetsift-writer".into())
        .spawn(move || writer_thread(rx, format, compression, writer_pool))
        .map_err(|e| Error::Other(format!("cannot start the writer thread: {e}")))?;

    let resume = cfg.resume;
    let mut sink = StreamSink {
        cfg,
        tx,
        columns: None,
        fallback: false,
    };
    let stage = stage1(
        cfg,
        pool,
        &mut report,
        format == TableFormat::Xlsx,
        |c| resume && chunk_output(&cfg.out, c, &cfg.prefix, format).exists(),
        &mut sink,
    );
    drop(sink);
    if let Err(e @ Error::Interrupted { .. }) = stage {
        // Do not wait for a chunk being compressed: the caller removes its
        // temporary file and exits.
        return Err(e);
    }
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(Error::Other("the writer thread panicked".into())));
    // A writer error is the real cause when both failed.
    let (files, written) = match (stage, written) {
        (_, Err(e)) => return Err(e),
        (Err(e), _) => return Err(e),
        (Ok(files), Ok(w)) => (files, w),
    };
    for (index, rows) in written {
        if let Some(c) = report.chunks.iter_mut().find(|c| c.index == index) {
            c.rows = rows;
        }
    }
    report.chunks.sort_by_key(|c| c.index);
    crate::manifest::write(&cfg.out, cfg, &files, &report.chunks)?;
    report.conclude(started.elapsed());
    Ok(report)
}
