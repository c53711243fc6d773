//! The stage-1 driver: a [`Plan`]'s selected chunks' files
//! read on the ordered pool (`pool.imap` semantics), each file's rows
//! filtered as they stream by -> a [`ChunkSink`], in file order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::plan::Plan;
use super::ChunkSink;
use crate::chunk::Chunk;
use crate::config::Config;
use crate::error::{FileError, FileErrorKind, Result};
use crate::filter::{DropCounts, RowFilter};
use crate::interrupt;
use crate::pool::ordered_map;
use crate::progress::Progress;
use crate::read::{ReadOptions, Sheet, Workbook};
use crate::report::{
    seconds, ChunkReport, ChunkStatus, FailedFile, FileDrops, FileEntry, FileStatus, Report,
};
use crate::table::Columns;
use crate::value::Value;
use crate::write::{long_cell, MAX_COLUMNS, MAX_TEXT_UTF16};

/// What a worker hands back for one file.
pub(super) struct FileRead {
    pub book: Workbook,
    pub drops: DropCounts,
    pub rows_read: u64,
    /// A kept cell too long for xlsx: fails the file's chunk.
    pub too_long: Option<String>,
}

/// Read and filter the selected chunks' files and hand them to `sink`, in
/// order. `skip` drops chunks before any file is read (`--resume`). Failed
/// files are recorded in `report`.
pub fn read_chunks(
    cfg: &Config,
    plan: &Plan,
    pool: Arc<rayon::ThreadPool>,
    report: &mut Report,
    check_xlsx_limit: bool,
    skip: impl Fn(&Chunk) -> bool,
    sink: &mut dyn ChunkSink,
) -> Result<Progress> {
    let files = &plan.files;
    report.files_found = files.len();
    let mut selected = Vec::new();
    for c in plan.selected.iter().cloned() {
        if skip(&c) {
            for i in c.files.clone() {
                report.file_entry(FileEntry::new(&files[i], i, FileStatus::Skipped));
            }
            report.chunks.push(ChunkReport {
                index: c.index,
                first_file: c.first(),
                last_file: c.last(),
                status: ChunkStatus::Skipped,
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
    // Sizes now, before any read: the bar runs over the input's bytes.
    let sizes: Vec<u64> = files
        .iter()
        .map(|p| crate::progress::total_bytes([p.as_path()]))
        .collect();
    let total: u64 = work.iter().map(|(i, _)| sizes[*i]).sum();
    let mut progress = Progress::reading(sizes, total, work.len() as u64, cfg.quiet);
    progress.set_prefix("extract");
    for e in &plan.unlisted {
        progress.println(&report.fail_file(e));
    }

    let readers = pool.current_num_threads();
    let mut opts = cfg.read.clone();
    opts.spill = sink.file_spill();
    // Fewer files than workers: let each file's parsing use the idle cores.
    if work.len() < readers {
        opts.parse_threads = readers;
    }
    let opts = Arc::new(opts);
    let filter = Arc::new(cfg.filter.clone());
    let ledger = progress.ledger();
    // Each result with the seconds its worker took, for the report.
    let results = ordered_map(pool, work, readers, move |(i, path): (usize, PathBuf)| {
        // The bar's bytes move as this file is read.
        let _reading = ledger.enter(i);
        let t = std::time::Instant::now();
        let r = read_one(&path, &opts, &filter, check_xlsx_limit)
            .map_err(|kind| FileError::new(&path, kind));
        (r, seconds(t.elapsed()))
    });

    let mut results = results.zip(
        selected
            .iter()
            .flat_map(|c| c.files.clone().map(move |i| (c, i))),
    );
    for c in &selected {
        let (mut files_ok, mut error) = (0, None);
        // The chunk's header so far, when the output is xlsx: a file whose
        // columns would take it past the format's 16,384 is that file's
        // error and the chunk is written without it (the writer would
        // otherwise fail the whole run on the temporary's path).
        let mut union = check_xlsx_limit.then(Columns::default);
        let mut accepted: Vec<PathBuf> = Vec::new();
        for _ in c.files.clone() {
            let (result, (_, global)) = results.next().expect("one result per selected file");
            // Checked after the wait: a worker stopped by the signal returns
            // `Interrupted`, which is not that file's failure.
            interrupt::check()?;
            let path = &files[global];
            progress.file_done(global);
            let (result, secs) = match result {
                Ok((r, secs)) => (Ok(r), Some(secs)),
                Err(p) => (Err(p), None),
            };
            // A file whose columns would not fit the chunk's xlsx table is
            // that file's error.
            let result = result.map(|r| {
                r.and_then(|read| match union.as_mut() {
                    Some(u) => columns_fit(c, u, &read.book.sheets)
                        .map(|()| read)
                        .map_err(|kind| FileError::new(path, kind)),
                    None => Ok(read),
                })
            });
            let mut entry = FileEntry::new(path, global, FileStatus::Failed);
            entry.seconds = secs;
            if let Some(read) =
                report.take_file(path, result, |r: &FileRead| &r.book.notes, &mut progress)
            {
                report.rows_read += read.rows_read;
                report.rows_dropped.merge(&read.drops);
                let kept = read.book.rows_kept();
                report.rows_kept += kept;
                entry.status = FileStatus::Ok;
                entry.rows_read = Some(read.rows_read);
                entry.rows_kept = Some(kept);
                entry.rows_dropped = Some(FileDrops {
                    missing: Some(read.drops.missing),
                    system: Some(read.drops.system),
                    duplicate: None,
                });
                if let Some(msg) = read.too_long {
                    // Read, but its chunk is not written because of it.
                    let reason = format!("{msg}; use --table-format csv to keep it whole");
                    entry.status = FileStatus::Failed;
                    entry.error = Some(reason.clone());
                    progress.println(&format!("error: {}: {reason}", path.display()));
                    report.files_failed.push(FailedFile {
                        path: path.clone(),
                        reason: reason.clone(),
                    });
                    error.get_or_insert(format!("{}: {reason}", path.display()));
                }
                files_ok += 1;
                accepted.push(path.clone());
                progress.inc(read.rows_read);
                // A chunk with a cell too long for xlsx is not written:
                // its rows must not reach a streaming writer.
                if error.is_none() {
                    sink.file(c, read.book)?;
                }
            }
            report.file_entry(entry);
            // Everything read, files still being handed to the writer: the
            // bar runs over the rows left to write, the files not handed
            // over yet estimated at the kept share so far.
            if progress.all_read() {
                let pending = crate::progress::rows_read_so_far().saturating_sub(report.rows_read);
                let share = report.rows_kept as f64 / report.rows_read.max(1) as f64;
                progress.writing_tail(report.rows_kept + (pending as f64 * share) as u64);
            }
        }
        sink.end(c, &accepted, files_ok, error, report, &progress)?;
    }
    // The caller finishes the bar: a writer may still be compressing the
    // last chunk, and the bar keeps ticking through it.
    Ok(progress)
}

/// Whether a file's sheets fit the chunk's xlsx header: each sheet within
/// [`MAX_COLUMNS`], and the chunk's column union too once they join it
/// (then they are added to `union`). Linear in the columns.
fn columns_fit(c: &Chunk, union: &mut Columns, sheets: &[Sheet]) -> Result<(), FileErrorKind> {
    for s in sheets {
        if s.columns.len() > MAX_COLUMNS {
            return Err(FileErrorKind::Limit(format!(
                "sheet {} has {} columns, over the xlsx limit of {MAX_COLUMNS} columns a sheet; use --table-format csv to keep them",
                s.name,
                s.columns.len()
            )));
        }
    }
    let total = union.len() + union.count_new(sheets.iter().flat_map(|s| &s.columns));
    if total > MAX_COLUMNS {
        return Err(FileErrorKind::Limit(format!(
            "its columns would make chunk {}'s header {total} columns, over the xlsx limit of {MAX_COLUMNS} columns a sheet; use --table-format csv or a smaller --chunk-size",
            c.index
        )));
    }
    for s in sheets {
        union.add(&s.columns);
    }
    Ok(())
}

/// Worker body: read one file, filtering rows as they stream by.
pub(super) fn read_one(
    path: &Path,
    opts: &ReadOptions,
    filter: &RowFilter,
    check_xlsx_limit: bool,
) -> Result<FileRead, FileErrorKind> {
    let mut drops = DropCounts::default();
    let mut too_long: Option<String> = None;
    let mut keep = |sheet: &Sheet, row: &mut [Value]| {
        let row = &*row;
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
                    sheet.columns.get(col).map_or("?".into(), |c| c.to_text())
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
