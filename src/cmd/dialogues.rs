//! `sheetsift dialogues`: discover -> ordered pool (read one file, align
//! its sheets, group, render its dialogues) -> corpus in file order ->
//! split -> forward corpus here, reversed corpus on the writer thread.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::dialogue::{self, group, Corpus, Rendered};
use crate::discover::discover;
use crate::error::{Error, FileError, FileErrorKind, Result};
use crate::interrupt;
use crate::pool::{ordered_map, thread_pool, PoolError};
use crate::progress::Progress;
use crate::read::{read_file, ReadOptions};
use crate::report::{DialogueReport, Report};
use crate::table::{Table, DEFAULT_SPILL_BYTES};

/// What a worker hands back for one file.
struct FileDialogues {
    rendered: Rendered,
    rows_read: u64,
    dropped_missing: u64,
    dropped_duplicate: u64,
    notes: Vec<String>,
}

/// Column positions of the required columns in a table.
pub fn required_columns(table: &Table, opts: &ReadOptions) -> Option<group::Columns> {
    let mut idx = [0; 4];
    for (slot, name) in idx.iter_mut().zip(&opts.required) {
        *slot = table.column(name)?;
    }
    Some(idx)
}

fn one_file(
    path: &std::path::Path,
    opts: &ReadOptions,
    agent_value: &str,
    spill: &std::path::Path,
) -> Result<FileDialogues, FileError> {
    // Group the rows as they are read, on the bet that the file is what
    // stage 1 writes: sheets with one same header, no column that pandas'
    // inference turns numeric. Nothing is held but the groups; where the
    // bet fails, the file is read again and grouped the general way.
    let mut bet = Speculation::default();
    let book = read_file(path, opts, &mut |sheet, row| {
        bet.offer(sheet, row);
        false
    })?;
    if let Some(g) = bet.result(&book) {
        return Ok(FileDialogues {
            rows_read: g.rows_read,
            dropped_missing: g.dropped_missing,
            dropped_duplicate: g.dropped_duplicate,
            rendered: dialogue::render(g.dialogues, agent_value),
            notes: book.notes,
        });
    }
    let book = read_file(path, opts, &mut |_, _| true)?;
    let notes = book.notes.clone();
    let mut table = Table::new(spill, DEFAULT_SPILL_BYTES);
    let fail = |e: Error| FileError::new(path, FileErrorKind::Open(e.to_string()));
    for sheet in book.sheets {
        table.push_sheet(sheet).map_err(fail)?;
    }
    let cols = required_columns(&table, opts).expect("usable sheets have every required column");
    let g = group(&mut table, cols, None).map_err(fail)?;
    let (rows_read, dropped_missing, dropped_duplicate) =
        (g.rows_read, g.dropped_missing, g.dropped_duplicate);
    Ok(FileDialogues {
        rendered: dialogue::render(g.dialogues, agent_value),
        rows_read,
        dropped_missing,
        dropped_duplicate,
        notes,
    })
}

/// Grouping rows while they are read; valid only when every usable sheet
/// has the same columns throughout and no numeric conversion (then the
/// sheets' rows, in order, are exactly the table `group` would see).
#[derive(Default)]
struct Speculation {
    columns: Option<Vec<String>>,
    sheet: String,
    grouper: Option<group::Grouper>,
    failed: bool,
}

impl Speculation {
    fn offer(&mut self, sheet: &crate::read::Sheet, row: &[crate::value::Value]) {
        if self.failed {
            return;
        }
        match (&self.columns, &mut self.grouper) {
            (Some(columns), Some(grouper)) if sheet.name == self.sheet => {
                // Cells right of the header add columns mid-sheet.
                if sheet.columns.len() != columns.len() {
                    self.failed = true;
                } else {
                    grouper.row(row);
                }
            }
            (Some(columns), Some(grouper)) => {
                if *columns != sheet.columns {
                    self.failed = true;
                } else {
                    self.sheet = sheet.name.clone();
                    grouper.row(row);
                }
            }
            _ => {
                let cols = sheet.required_idx.map(|i| {
                    let name = &sheet.columns[i];
                    sheet.columns.iter().position(|c| c == name).unwrap_or(i)
                });
                let mut grouper = group::Grouper::new(sheet.columns.len(), cols);
                grouper.row(row);
                self.columns = Some(sheet.columns.clone());
                self.sheet = sheet.name.clone();
                self.grouper = Some(grouper);
            }
        }
    }

    /// The groups, when the bet held for the whole file.
    fn result(self, book: &crate::read::Workbook) -> Option<group::Grouped> {
        let (columns, grouper) = (self.columns?, self.grouper?);
        let same = book
            .sheets
            .iter()
            .all(|s| s.columns == columns && !s.numeric_conversion);
        (!self.failed && same).then(|| grouper.finish())
    }
}

/// `sheetsift dialogues`.
pub fn run(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("dialogues");
    crate::manifest::check_compatible(&cfg.inputs)?;
    let files = discover(&cfg.inputs)?;

    report.files_found = files.len();
    report.files_selected = files.len();
    crate::cmd::extract::ensure_dir(&cfg.out)?;
    let mut progress = Progress::new(files.len() as u64, "files", cfg.quiet);
    progress.set_prefix("dialogues");

    let mut opts = cfg.read.clone();
    // Fewer files than workers (typically one big chunk file): let each
    // file's parsing take a second thread.
    if files.len() < cfg.jobs {
        opts.parse_threads = cfg.jobs;
    }
    let opts = Arc::new(opts);
    let agent_value = Arc::new(cfg.agent_value.clone());
    let spill = Arc::new(cfg.out.clone());
    let pool = thread_pool(cfg.jobs)
        .map_err(|e| Error::Other(format!("cannot start worker threads: {e}")))?;
    let results = ordered_map(pool, files.clone(), 2 * cfg.jobs, move |path: PathBuf| {
        one_file(&path, &opts, &agent_value, &spill)
    });
    let mut corpus = Corpus::new(&cfg.out, cfg.corpus_budget());
    for (result, path) in results.zip(&files) {
        interrupt::check()?;
        let result = match result {
            Ok(r) => r,
            Err(PoolError::Panicked(msg)) => Err(FileError::new(path, FileErrorKind::Panic(msg))),
        };
        match result {
            Ok(fd) => {
                for note in &fd.notes {
                    progress.println(&format!("note: {}: {note}", path.display()));
                    report.notes.push(format!("{}: {note}", path.display()));
                }
                report.files_processed += 1;
                progress.inc(fd.rows_read);
                corpus.append(
                    fd.rendered,
                    fd.rows_read,
                    fd.dropped_missing,
                    fd.dropped_duplicate,
                )?;
            }
            Err(e) => {
                progress.println(&report.fail_file(&e));
                progress.inc(0);
            }
        }
    }
    progress.finish();
    report.rows_read = corpus.rows_read;
    finish_stage2(cfg, corpus, report, started)
}

/// Split and write a corpus, fill in the stage-2 part of the report.
pub fn finish_stage2(
    cfg: &Config,
    corpus: Corpus,
    mut report: Report,
    started: Instant,
) -> Result<Report> {
    let written = dialogue::write_corpus(
        &corpus,
        &cfg.out,
        cfg.val_size,
        cfg.seed,
        cfg.jsonl,
        cfg.quiet,
    )?;
    report.dialogues = Some(DialogueReport {
        rows_read: corpus.rows_read,
        rows_dropped_missing: corpus.dropped_missing,
        rows_dropped_duplicate: corpus.dropped_duplicate,
        dialogues: corpus.len() as u64,
        train: written.train,
        val: written.val,
        messages_skipped: corpus.messages_skipped,
        spilled_to_disk: corpus.has_spilled(),
        outputs: written.outputs,
    });
    report.conclude(started.elapsed());
    Ok(report)
}
