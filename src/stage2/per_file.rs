//! Stage 2 on one input file, as the documented workflow reads it: the
//! file's usable sheets concatenated, rows with a missing value dropped,
//! exact duplicates dropped, rows grouped by (agent, customer), each group
//! rendered into turns. Runs on a pool worker.

use std::sync::Arc;

use crate::dialogue::group::Session;
use crate::dialogue::{self, group, Rendered};
use crate::error::{Error, FileError, FileErrorKind};
use crate::read::{find_required, read_file, ReadOptions, Sheet, Workbook};
use crate::table::{Table, DEFAULT_SPILL_BYTES};
use crate::value::Value;

/// What a worker hands back for one file.
pub(super) struct FileDialogues {
    pub rendered: Rendered,
    pub rows_read: u64,
    pub dropped_missing: u64,
    pub dropped_duplicate: u64,
    pub notes: Vec<String>,
}

pub(super) fn one_file(
    path: &std::path::Path,
    opts: &ReadOptions,
    agent_value: &str,
    spill: &std::path::Path,
    session: Option<&(String, i64)>,
) -> Result<FileDialogues, FileError> {
    // Group the rows as they are read, on the bet that the file is what
    // stage 1 writes: sheets with one same header, no column that pandas'
    // inference turns numeric. Nothing is held but the groups; where the
    // bet fails, the file is read again and grouped the general way.
    let mut bet = Speculation {
        session: session.cloned(),
        ..Speculation::default()
    };
    let book = read_file(path, opts, &mut |sheet, row| {
        bet.offer(sheet, row);
        false
    })?;
    let no_time = bet.no_time;
    let mut notes = book.notes.clone();
    if let (Some((name, _)), true) = (session, no_time) {
        notes.push(format!(
            "no time column {name:?}: --session-gap does not split this file"
        ));
    }
    if let Some(g) = bet.result(&book) {
        return Ok(FileDialogues {
            rows_read: g.rows_read,
            dropped_missing: g.dropped_missing,
            dropped_duplicate: g.dropped_duplicate,
            rendered: dialogue::render(g.dialogues, agent_value),
            notes,
        });
    }
    let book = read_file(path, opts, &mut |_, _| true)?;
    let mut notes = book.notes.clone();
    let mut table = Table::new(spill, DEFAULT_SPILL_BYTES);
    let fail = |e: Error| FileError::new(path, FileErrorKind::Table(Arc::new(e)));
    for sheet in book.sheets {
        table.push_sheet(sheet).map_err(fail)?;
    }
    let cols = find_required(table.columns(), &opts.required)
        .expect("usable sheets have every required column");
    let session = session.and_then(|(name, gap)| {
        let col = table.columns().iter().position(|c| c == name.as_str());
        if col.is_none() {
            notes.push(format!(
                "no time column {name:?}: --session-gap does not split this file"
            ));
        }
        Some(Session {
            col: col?,
            gap: *gap,
        })
    });
    let g = group::group_sessions(&mut table, cols, None, session).map_err(fail)?;
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
    columns: Option<Vec<crate::value::ColName>>,
    sheet: String,
    grouper: Option<group::Grouper>,
    failed: bool,
    /// `--session-gap`'s column name and gap.
    session: Option<(String, i64)>,
    /// The first sheet lacks the time column.
    no_time: bool,
}

impl Speculation {
    fn offer(&mut self, sheet: &Sheet, row: &mut [Value]) {
        if self.failed {
            return;
        }
        match (&self.columns, &mut self.grouper) {
            (Some(columns), Some(grouper)) if sheet.name == self.sheet => {
                // Cells right of the header add columns mid-sheet.
                if sheet.columns.len() != columns.len() {
                    self.failed = true;
                } else {
                    grouper.row_taking(row);
                }
            }
            (Some(columns), Some(grouper)) => {
                if *columns != sheet.columns {
                    self.failed = true;
                } else {
                    self.sheet = sheet.name.clone();
                    grouper.row_taking(row);
                }
            }
            _ => {
                let cols = sheet.required_idx.map(|i| {
                    let name = &sheet.columns[i];
                    sheet.columns.iter().position(|c| c == name).unwrap_or(i)
                });
                let session = self.session.as_ref().and_then(|(name, gap)| {
                    let col = sheet.columns.iter().position(|c| c == name.as_str());
                    self.no_time = col.is_none();
                    Some(Session {
                        col: col?,
                        gap: *gap,
                    })
                });
                let mut grouper =
                    group::Grouper::new(sheet.columns.len(), cols).with_session(session);
                grouper.row_taking(row);
                self.columns = Some(sheet.columns.clone());
                self.sheet = sheet.name.clone();
                self.grouper = Some(grouper);
            }
        }
    }

    /// The groups, when the bet held for the whole file.
    fn result(self, book: &Workbook) -> Option<group::Grouped> {
        let (columns, grouper) = (self.columns?, self.grouper?);
        let same = book
            .sheets
            .iter()
            .all(|s| s.columns == columns && !s.numeric_conversion);
        (!self.failed && same).then(|| grouper.finish())
    }
}
