//! `sheetsift extract`: discover -> chunk -> ordered pool of readers (with
//! the row filter applied while reading) -> one column-aligned table per
//! chunk -> a writer thread that writes each table atomically.
//!
//! The chunk-table part ([`stage1`]) is shared with `run`, which hands the
//! tables to stage 2 instead of (or besides) writing them.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, TrySendError};

use std::sync::Arc;
use std::time::Instant;

use crate::chunk::{self, Chunk};
use crate::config::Config;
use crate::discover::discover;
use crate::error::{exit, Error, FileError, FileErrorKind, Result};
use crate::filter::DropCounts;
use crate::interrupt;
use crate::pool::{ordered_map, thread_pool, PoolError};
use crate::progress::Progress;
use crate::read::{ReadOptions, Workbook};
use crate::report::{ChunkReport, FailedFile, Report};
use crate::table::{Table, DEFAULT_SPILL_BYTES};
use crate::value::Value;
use crate::write::{open_sink, AtomicFile, TableFormat, MAX_TEXT_UTF16};

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

/// Read and filter the selected chunks' files and hand each chunk's table
/// to `consume`, in chunk order. `skip` drops chunks before any file is
/// read (`--resume`). Failed files are recorded in `report`.
pub fn stage1(
    cfg: &Config,
    report: &mut Report,
    check_xlsx_limit: bool,
    skip: impl Fn(&Chunk) -> bool,
    mut consume: impl FnMut(ChunkTable, &mut Report, &Progress) -> Result<()>,
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

    let opts = Arc::new(cfg.read.clone());
    let filter = Arc::new(cfg.filter.clone());
    let pool = thread_pool(cfg.jobs)
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let results = ordered_map(
        pool,
        work,
        2 * cfg.jobs,
        move |(_, path): (usize, PathBuf)| {
            read_one(&path, &opts, &filter, check_xlsx_limit)
                .map_err(|kind| FileError::new(&path, kind))
        },
    );

    let mut results = results.zip(
        selected
            .iter()
            .flat_map(|c| c.files.clone().map(move |i| (c, i))),
    );
    for c in &selected {
        let mut table = Table::new(&cfg.out, DEFAULT_SPILL_BYTES);
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
                    for sheet in read.book.sheets {
                        table.push_sheet(sheet)?;
                    }
                    progress.inc(read.rows_read);
                }
                Err(e) => {
                    progress.println(&format!("error: {e}"));
                    report.files_failed.push(FailedFile {
                        path: e.path.clone(),
                        reason: e.kind.to_string(),
                    });
                    progress.inc(0);
                }
            }
        }
        consume(
            ChunkTable {
                chunk: c.clone(),
                table,
                files_ok,
                error,
            },
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

/// The first text cell longer than xlsx allows: (column, UTF-16 length).
fn long_cell(row: &[Value]) -> Option<(usize, usize)> {
    row.iter().enumerate().find_map(|(i, v)| match v {
        // UTF-8 bytes >= UTF-16 units, so short texts are skipped cheaply.
        Value::Text(s) if s.len() > MAX_TEXT_UTF16 => {
            let units = s.encode_utf16().count();
            (units > MAX_TEXT_UTF16).then_some((i, units))
        }
        _ => None,
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
) -> Result<u64> {
    // rust_xlsxwriter's constant-memory worksheets `expect` their writes to
    // succeed, so a full disk panics inside it: that is an output error.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        write_table_inner(table, dest, format, compression)
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
) -> Result<u64> {
    let file = AtomicFile::new(dest);

    let mut sink = open_sink(format, file.tmp_path(), compression)?;
    sink.header(table.columns())?;
    let mut n = 0u64;
    table.for_each_row(|row| {
        n += 1;
        if n % 8192 == 0 {
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

/// `sheetsift extract`.
pub fn run(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("extract");
    ensure_dir(&cfg.out)?;
    let format = cfg.table_format;
    let (tx, rx) = sync_channel::<(ChunkTable, PathBuf)>(1);
    let compression = cfg.compression_level;
    // The writer thread compresses chunk i while the pool reads chunk i+1.
    let writer = std::thread::Builder::new()
        .name("sheetsift-writer".into())
        .spawn(move || -> Result<Vec<(usize, u64)>> {
            let mut written = Vec::new();
            for (mut ct, dest) in rx {
                let rows = write_table(&mut ct.table, &dest, format, compression)?;
                written.push((ct.chunk.index, rows));
            }
            Ok(written)
        })
        .map_err(|e| Error::Other(format!("cannot start the writer thread: {e}")))?;

    let resume = cfg.resume;
    let stage = stage1(
        cfg,
        &mut report,
        format == TableFormat::Xlsx,
        |c| resume && chunk_output(&cfg.out, c, &cfg.prefix, format).exists(),
        |ct, report, progress| {
            let dest = chunk_output(&cfg.out, &ct.chunk, &cfg.prefix, format);
            let mut entry = ChunkReport {
                index: ct.chunk.index,
                first_file: ct.chunk.first(),
                last_file: ct.chunk.last(),
                status: "written".into(),
                output: Some(dest.clone()),
                rows: ct.table.len(),
                error: None,
            };
            if ct.files_ok == 0 {
                entry.status = "no readable file".into();
                entry.output = None;
                entry.error = Some(format!("no readable file, {} not written", dest.display()));
                progress.println(&format!(
                    "error: chunk {}: {}",
                    ct.chunk.index,
                    entry.error.as_deref().unwrap_or("")
                ));
            } else if let Some(err) = &ct.error {
                entry.status = "failed".into();
                entry.output = None;
                entry.error = Some(format!("{} not written: {err}", dest.display()));
            } else {
                // Wait for the writer without missing a signal meanwhile.
                let mut item = (ct, dest);
                loop {
                    match tx.try_send(item) {
                        Ok(()) => break,
                        Err(TrySendError::Full(back)) => {
                            item = back;
                            interrupt::check()?;
                            std::thread::sleep(std::time::Duration::from_millis(5));
                        }
                        // The writer stopped on an error; it is reported at join.
                        Err(TrySendError::Disconnected(_)) => {
                            return Err(Error::Other("writer stopped".into()))
                        }
                    }
                }
            }
            report.chunks.push(entry);
            Ok(())
        },
    );
    drop(tx);
    if let Err(e @ Error::Interrupted { .. }) = stage {
        // Do not wait for a chunk being compressed: the caller removes its
        // temporary file and exits.
        return Err(e);
    }
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(Error::Other("the writer thread panicked".into())));
    // A writer error is the real cause when both failed.
    let written = match (stage, written) {
        (_, Err(e)) => return Err(e),
        (Err(e), _) => return Err(e),
        (Ok(files), Ok(w)) => (files, w),
    };
    let (files, written) = written;
    for (index, rows) in written {
        if let Some(c) = report.chunks.iter_mut().find(|c| c.index == index) {
            c.rows = rows;
        }
    }
    report.chunks.sort_by_key(|c| c.index);
    crate::manifest::write(&cfg.out, cfg, &files, &report.chunks)?;
    let failed = !report.files_failed.is_empty()
        || report
            .chunks
            .iter()
            .any(|c| c.status == "failed" || c.status == "no readable file");
    report.finish(
        started.elapsed(),
        if failed { exit::PARTIAL } else { exit::OK },
    );
    Ok(report)
}
