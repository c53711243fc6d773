//! What every reader shares (SPEC "Inputs"): the options, the typed sheet
//! and workbook a file yields, and the [`Collector`] that turns a reader's
//! rows into usable sheets — the first non-blank row is the header, a
//! sheet is usable only when it has every required column, blank rows are
//! skipped, and each row is offered to the caller's `keep` predicate as
//! soon as it is complete, so dropped rows are never held in memory.

use std::path::PathBuf;
use std::sync::Arc;

use super::encoding::Encoding;
use super::infer::{header_names, ColumnKinds};
use crate::error::{Error, FileErrorKind, Result};
use crate::table::{row_bytes, row_bytes_with_text, text_bytes, RowSpill, SpillReader};
use crate::value::{ColName, Value};

/// What a reader needs to know: the required columns, an optional sheet
/// name, and an optional forced CSV encoding.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Required columns, in the order agent, customer, role, content.
    pub required: [String; 4],
    pub sheet: Option<String>,
    pub encoding: Option<Encoding>,
    /// Threads parsing one large xlsx sheet (blocks of rows at once,
    /// beside the caller's thread): for runs with more cores than files
    /// (one big chunk file in `dialogues`). 0 or 1: the caller parses.
    pub parse_threads: usize,
    /// Hold at most this many bytes of a file's kept rows in memory and
    /// spill the rest to a temporary file ([`Workbook::spill`]); `None`
    /// holds them all (the callers that align a whole file at once).
    pub spill: Option<SpillTo>,
}

/// Where and past how many bytes of kept rows a file's rows spill.
#[derive(Debug, Clone)]
pub struct SpillTo {
    pub dir: PathBuf,
    pub budget: usize,
}

impl ReadOptions {
    /// Index of the content column among `required`.
    pub const CONTENT: usize = 3;
}

/// One usable sheet: its header and the rows the caller kept.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    /// Column names (typed, see [`ColName`]); rows may be shorter
    /// (missing trailing cells).
    pub columns: Vec<ColName>,
    /// Positions of the required columns in `columns`.
    pub required_idx: [usize; 4],
    /// The kept rows held in memory: those after the `spilled` ones.
    pub rows: Vec<Vec<Value>>,
    /// The sheet's first kept rows, in the file's [`Workbook::spill`]
    /// (after the earlier sheets' spilled rows).
    pub spilled: u64,
    /// pandas' column conversion, still to apply to the spilled rows as
    /// they are read back (those in `rows` are converted already).
    pub spilled_conversion: Option<Vec<bool>>,
    /// Data rows read (kept or not), blank rows excluded.
    pub rows_read: u64,
    /// 1-based row (xlsx) or line (csv) number of the row being offered.
    pub line: u64,
    /// pandas' inference turned some column numeric (see [`ColumnKinds`]):
    /// the kept rows were converted at the end of the sheet, after the
    /// caller's `keep` saw them.
    pub numeric_conversion: bool,
}

/// The usable sheets of one file, and notes about the sheets skipped.
#[derive(Debug, Default)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
    pub notes: Vec<String>,
    /// The kept rows beyond [`ReadOptions::spill`]'s budget, sheet after
    /// sheet; read back by [`Workbook::replay`]. Dropping the workbook
    /// (a file that failed later) drops them.
    pub spill: Option<RowSpill>,
}

/// What [`Workbook::replay`] hands over, in order: a sheet, then its rows.
pub enum Replayed<'s> {
    /// The next sheet (its `rows` already taken out).
    Sheet(&'s Sheet),
    /// One kept row of that sheet, converted as pandas converts it.
    Row(Vec<Value>),
}

impl Workbook {
    pub fn rows_read(&self) -> u64 {
        self.sheets.iter().map(|s| s.rows_read).sum()
    }

    /// Rows kept, spilled or not, every sheet.
    pub fn rows_kept(&self) -> u64 {
        self.sheets
            .iter()
            .map(|s| s.spilled + s.rows.len() as u64)
            .sum()
    }

    /// Hand every sheet and its kept rows to `f`, in order: the spilled
    /// rows read back (their pending conversion applied), then those in
    /// memory. `f` returns `false` to stop. A spill that cannot be read
    /// back is an I/O error (the run stops; no row is lost silently).
    pub fn replay(self, mut f: impl FnMut(Replayed<'_>) -> Result<bool>) -> Result<()> {
        let mut spill: Option<SpillReader> = self.spill.map(RowSpill::into_reader).transpose()?;
        for mut sheet in self.sheets {
            let rows = std::mem::take(&mut sheet.rows);
            if !f(Replayed::Sheet(&sheet))? {
                return Ok(());
            }
            if sheet.spilled > 0 {
                let r = spill.as_mut().ok_or_else(|| Error::Panicked {
                    what: "reading back spilled rows",
                    msg: "no spill file".into(),
                })?;
                for _ in 0..sheet.spilled {
                    let mut row = Vec::new();
                    r.next_into(&mut row)?;
                    if let Some(convert) = &sheet.spilled_conversion {
                        ColumnKinds::convert_row(convert, &mut row);
                    }
                    if !f(Replayed::Row(row))? {
                        return Ok(());
                    }
                }
            }
            for row in rows {
                if !f(Replayed::Row(row))? {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Decides, row by row, whether a row is kept. Gets the sheet (for the
/// column positions) and the row.
pub type Keep<'a> = dyn FnMut(&Sheet, &mut [Value]) -> bool + 'a;

/// Receives the sheets of one file from a reader and keeps the usable ones.
pub(crate) struct Collector<'o, 'k, 'a> {
    pub(super) opts: &'o ReadOptions,
    keep: &'k mut Keep<'a>,
    book: Workbook,
    first_problem: Option<FileErrorKind>,
    saw_named_sheet: bool,
    /// Every sheet offered, for "no sheet named X (sheets: ...)".
    sheet_names: Vec<String>,
    /// Set when a signal arrived mid-file; readers stop at the next row.
    pub interrupted: bool,
    /// Bytes of text in the rows kept so far, every sheet of the file: a
    /// reader whose cells can repeat stored text (xlsx shared strings:
    /// one 1 MiB string named by 3,000 cells is 3 GB kept from a 45 KB
    /// file) bounds it.
    pub kept_text_bytes: usize,
    /// Rows read, handed to the progress bar in batches.
    ticker: crate::progress::RowTicker,
    /// Bytes of kept rows held in memory, every sheet of the file (counted
    /// only when [`ReadOptions::spill`] is set).
    mem_bytes: usize,
    spill: Option<RowSpill>,
    /// The spill could not be written: the file fails with it.
    spill_error: Option<Error>,
}

impl<'o, 'k, 'a> Collector<'o, 'k, 'a> {
    pub(super) fn new(opts: &'o ReadOptions, keep: &'k mut Keep<'a>) -> Self {
        Collector {
            opts,
            keep,
            book: Workbook::default(),
            first_problem: None,
            saw_named_sheet: false,
            sheet_names: Vec::new(),
            interrupted: false,
            kept_text_bytes: 0,
            ticker: crate::progress::RowTicker::default(),
            mem_bytes: 0,
            spill: None,
            spill_error: None,
        }
    }

    /// Past the budget: move the sheet's rows in memory to the spill.
    /// Rows of earlier sheets stay where they are (the spill is read back
    /// in one pass, sheet after sheet); the rows of this one are the ones
    /// growing.
    fn spill_rows(&mut self, to: &SpillTo, sheet: &mut Sheet) {
        if self.spill_error.is_some() {
            return;
        }
        let spill = match self.spill.as_mut() {
            Some(s) => s,
            None => match RowSpill::create(&to.dir) {
                Ok(s) => self.spill.insert(s),
                Err(e) => {
                    self.spill_error = Some(e);
                    return;
                }
            },
        };
        for row in sheet.rows.drain(..) {
            self.mem_bytes -= row_bytes(&row);
            if let Err(e) = spill.push(&row) {
                self.spill_error = Some(e);
                return;
            }
            sheet.spilled += 1;
        }
    }

    /// Whether a sheet of this name is to be read at all (`--sheet`).
    pub fn wants(&mut self, name: &str) -> bool {
        self.sheet_names.push(name.to_string());
        match &self.opts.sheet {
            Some(want) if want != name => false,
            Some(_) => {
                self.saw_named_sheet = true;
                true
            }
            None => true,
        }
    }

    /// Start a sheet; feed its rows to the builder, then hand it back.
    /// Spreadsheet sheets get pandas' column inference at the end
    /// ([`ColumnKinds`]); CSV is typed by its own reader.
    pub fn sheet(&self, name: &str) -> SheetBuilder {
        self.sheet_with(name, true)
    }

    pub fn sheet_with(&self, name: &str, infer_numeric: bool) -> SheetBuilder {
        SheetBuilder {
            sheet: Sheet {
                name: name.to_string(),
                ..Sheet::default()
            },
            header_done: false,
            header_on_row1: false,
            raw_na: false,
            usable: false,
            kinds: infer_numeric.then(ColumnKinds::default),
        }
    }

    /// Offer one row of a sheet (values in column order, trailing empties
    /// may be omitted).
    pub fn row(&mut self, b: &mut SheetBuilder, mut row: Vec<Value>, line: u64) {
        if !b.header_done {
            if b.header_on_row1 && line != 1 {
                // Row 1 had no cells: it is still the header (pandas'
                // openpyxl reader starts at row 1), a header without names.
                row.clear();
            } else if !b.header_on_row1
                && row.iter().all(Value::is_missing)
                && !row.iter().any(|v| matches!(v, Value::Text(_)))
            {
                return;
            }
            b.header_done = true;
            b.sheet.columns = header_names(&row);
            match find_required(&b.sheet.columns, &self.opts.required) {
                Ok(idx) => {
                    b.sheet.required_idx = idx;
                    b.usable = true;
                }
                Err(column) => {
                    let which = self
                        .opts
                        .required
                        .iter()
                        .position(|c| *c == column)
                        .unwrap_or(0);
                    let kind = FileErrorKind::MissingColumn {
                        column,
                        sheet: b.sheet.name.clone(),
                        headers: b.sheet.columns.iter().map(ColName::to_text).collect(),
                        which,
                    };
                    self.book
                        .notes
                        .push(format!("sheet {} skipped: {}", b.sheet.name, kind));
                    self.first_problem.get_or_insert(kind);
                }
            }
            return;
        }
        if !b.usable {
            return;
        }
        if b.raw_na {
            for v in &mut row {
                if matches!(v, Value::Text(t) if crate::value::is_na_string(t)) {
                    *v = Value::Empty;
                }
            }
        }
        while row.last().is_some_and(Value::is_missing) {
            row.pop();
        }
        if row.is_empty() {
            return; // pandas skips blank lines
        }
        if row.len() > b.sheet.columns.len() {
            // Cells right of the header: pandas names such columns "Unnamed: N".
            for i in b.sheet.columns.len()..row.len() {
                b.sheet.columns.push(format!("Unnamed: {i}").into());
            }
        }
        b.sheet.rows_read += 1;
        self.ticker.tick();
        b.sheet.line = line;
        if b.sheet.rows_read.is_multiple_of(4096) && crate::interrupt::requested() {
            self.interrupted = true;
        }
        if let Some(k) = b.kinds.as_mut() {
            k.observe(&row);
        }
        if (self.keep)(&b.sheet, &mut row) {
            let text = text_bytes(&row);
            self.kept_text_bytes += text;
            row.shrink_to_fit();
            let opts = self.opts;
            if let Some(to) = &opts.spill {
                self.mem_bytes += row_bytes_with_text(&row, text);
                b.sheet.rows.push(row);
                if self.mem_bytes > to.budget {
                    self.spill_rows(to, &mut b.sheet);
                }
            } else {
                b.sheet.rows.push(row);
            }
        }
    }

    /// Finish a sheet: a usable one is kept, a blank one is noted.
    pub fn end_sheet(&mut self, mut b: SheetBuilder) {
        if !b.header_done {
            self.book
                .notes
                .push(format!("sheet {} skipped: empty", b.sheet.name));
            self.first_problem.get_or_insert(FileErrorKind::NoSheet);
        } else if b.usable {
            if let Some(convert) = b.kinds.take().and_then(|k| k.conversions()) {
                b.sheet.numeric_conversion = true;
                for row in &mut b.sheet.rows {
                    ColumnKinds::convert_row(&convert, row);
                }
                // The spilled rows are converted as they are read back.
                if b.sheet.spilled > 0 {
                    b.sheet.spilled_conversion = Some(convert);
                }
            }
            self.book.sheets.push(b.sheet);
        }
    }

    pub(super) fn finish(self) -> Result<Workbook, FileErrorKind> {
        if self.interrupted {
            return Err(FileErrorKind::Interrupted);
        }
        if let Some(name) = &self.opts.sheet {
            if !self.saw_named_sheet {
                return Err(FileErrorKind::NoSuchSheet {
                    name: name.clone(),
                    sheets: self.sheet_names,
                });
            }
        }
        if self.book.sheets.is_empty() {
            return Err(self.first_problem.unwrap_or(FileErrorKind::NoSheet));
        }
        if let Some(e) = self.spill_error {
            return Err(FileErrorKind::Table(Arc::new(e)));
        }
        let mut book = self.book;
        book.spill = self.spill;
        Ok(book)
    }
}

/// A sheet being read.
pub(crate) struct SheetBuilder {
    pub(super) sheet: Sheet,
    header_done: bool,
    /// The sheet's row 1 is its header whatever it holds (xlsx, as
    /// openpyxl + pandas read it); otherwise the first non-blank row is.
    pub(super) header_on_row1: bool,
    /// The reader hands NA strings (`NA`, `null`, ...) over as text: they
    /// are names in the header row (pandas keeps a header cell `NA` as the
    /// column name) and missing in data rows, where this converts them.
    pub(super) raw_na: bool,
    usable: bool,
    kinds: Option<ColumnKinds>,
}

/// Positions of the required columns in `columns`, or the first one missing.
pub fn find_required(columns: &[ColName], required: &[String; 4]) -> Result<[usize; 4], String> {
    let mut idx = [0; 4];
    for (slot, name) in idx.iter_mut().zip(required) {
        *slot = columns
            .iter()
            .position(|c| c == name.as_str())
            .ok_or_else(|| name.clone())?;
    }
    Ok(idx)
}

/// Turns a stream of (row, col, value) cells, in row order, into rows.
#[derive(Default)]
pub(crate) struct RowAssembler {
    current: Option<u32>,
    row: Vec<Value>,
}

impl RowAssembler {
    /// Inlined into the readers' cell loops (see `SheetCells::cell`).
    #[inline(always)]
    pub fn push(
        &mut self,
        c: &mut Collector<'_, '_, '_>,
        b: &mut SheetBuilder,
        r: u32,
        col: u32,
        v: Value,
    ) {
        if self.current != Some(r) {
            self.flush(c, b);
            self.current = Some(r);
        }
        if v.is_missing() {
            return;
        }
        let col = col as usize;
        // Cells can only be this far right of the data in a crafted file;
        // cap the padding so one stray cell cannot allocate gigabytes.
        if col >= 16_384 {
            return;
        }
        // Cells mostly come left to right with none skipped: a push.
        if self.row.len() < col {
            self.row.resize(col, Value::Empty);
        }
        if self.row.len() == col {
            self.row.push(v);
        } else {
            self.row[col] = v;
        }
    }

    fn flush(&mut self, c: &mut Collector<'_, '_, '_>, b: &mut SheetBuilder) {
        if self.current.is_some() {
            let line = self.current.map_or(0, |r| r as u64 + 1);
            // The next row is most likely as wide as this one: one
            // allocation for it, not a doubling for each cell.
            let width = self.row.len();
            let row = std::mem::replace(&mut self.row, Vec::with_capacity(width));
            c.row(b, row, line);
        }
    }

    pub fn finish(mut self, c: &mut Collector<'_, '_, '_>, b: &mut SheetBuilder) {
        self.flush(c, b);
    }
}
