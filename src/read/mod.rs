//! Readers: one input file -> its usable sheets, as typed rows.
//!
//! Every format sits behind [`read_file`]. A reader streams cells into a
//! [`SheetBuilder`], which owns the rules every format shares (SPEC
//! "Inputs"): the first non-blank row is the header, a sheet is usable only
//! when it has every required column, blank rows are skipped, and each row
//! is offered to the caller's `keep` predicate as soon as it is complete, so
//! dropped rows are never held in memory.

mod csv;
mod excel;
mod fastsheet;
pub mod gb18030;
mod parallel;
mod xlsx;

pub use self::xlsx::{sheet_cells_for_tests, sheet_cells_parallel_for_tests};

use std::path::Path;

use crate::error::{FileError, FileErrorKind};
use crate::value::{DateTimeParts, Value};

pub use self::csv::{decode, Encoding};

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
}

impl ReadOptions {
    /// Index of the content column among `required`.
    pub const CONTENT: usize = 3;
}

/// One usable sheet: its header and the rows the caller kept.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub name: String,
    /// Column names; rows may be shorter (missing trailing cells).
    pub columns: Vec<String>,
    /// Positions of the required columns in `columns`.
    pub required_idx: [usize; 4],
    pub rows: Vec<Vec<Value>>,
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
}

impl Workbook {
    pub fn rows_read(&self) -> u64 {
        self.sheets.iter().map(|s| s.rows_read).sum()
    }
}

/// Decides, row by row, whether a row is kept. Gets the sheet (for the
/// column positions) and the row.
pub type Keep<'a> = dyn FnMut(&Sheet, &[Value]) -> bool + 'a;

/// Read one input file. The format is chosen by extension.
pub fn read_file(
    path: &Path,
    opts: &ReadOptions,
    keep: &mut Keep<'_>,
) -> Result<Workbook, FileError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let meta = std::fs::metadata(path)
        .map_err(|e| FileError::new(path, FileErrorKind::Open(e.to_string())))?;
    if meta.len() == 0 {
        return Err(FileError::new(path, FileErrorKind::EmptyFile));
    }
    let mut collector = Collector::new(opts, keep);
    match ext.as_str() {
        "csv" => csv::read(path, opts, &mut collector),
        "xlsx" | "xlsm" => xlsx::read(path, &mut collector),
        _ => excel::read(path, &ext, &mut collector),
    }
    .map_err(|kind| FileError::new(path, kind))?;
    collector
        .finish()
        .map_err(|kind| FileError::new(path, kind))
}

/// Receives the sheets of one file from a reader and keeps the usable ones.
pub(crate) struct Collector<'o, 'k, 'a> {
    opts: &'o ReadOptions,
    keep: &'k mut Keep<'a>,
    book: Workbook,
    first_problem: Option<FileErrorKind>,
    saw_named_sheet: bool,
    /// Set when a signal arrived mid-file; readers stop at the next row.
    pub interrupted: bool,
}

impl<'o, 'k, 'a> Collector<'o, 'k, 'a> {
    fn new(opts: &'o ReadOptions, keep: &'k mut Keep<'a>) -> Self {
        Collector {
            opts,
            keep,
            book: Workbook::default(),
            first_problem: None,
            saw_named_sheet: false,
            interrupted: false,
        }
    }

    /// Whether a sheet of this name is to be read at all (`--sheet`).
    pub fn wants(&mut self, name: &str) -> bool {
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
            usable: false,
            kinds: infer_numeric.then(ColumnKinds::default),
        }
    }

    /// Offer one row of a sheet (values in column order, trailing empties
    /// may be omitted).
    pub fn row(&mut self, b: &mut SheetBuilder, mut row: Vec<Value>, line: u64) {
        if !b.header_done {
            if row.iter().all(Value::is_missing) && !row.iter().any(|v| matches!(v, Value::Text(_)))
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
                    let kind = FileErrorKind::MissingColumn {
                        column,
                        sheet: b.sheet.name.clone(),
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
        while row.last().is_some_and(Value::is_missing) {
            row.pop();
        }
        if row.is_empty() {
            return; // pandas skips blank lines
        }
        if row.len() > b.sheet.columns.len() {
            // Cells right of the header: pandas names such columns "Unnamed: N".
            for i in b.sheet.columns.len()..row.len() {
                b.sheet.columns.push(format!("Unnamed: {i}"));
            }
        }
        b.sheet.rows_read += 1;
        b.sheet.line = line;
        if b.sheet.rows_read.is_multiple_of(4096) && crate::interrupt::requested() {
            self.interrupted = true;
        }
        if let Some(k) = b.kinds.as_mut() {
            k.observe(&row);
        }
        if (self.keep)(&b.sheet, &row) {
            row.shrink_to_fit();
            b.sheet.rows.push(row);
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
            }
            self.book.sheets.push(b.sheet);
        }
    }

    fn finish(self) -> Result<Workbook, FileErrorKind> {
        if self.interrupted {
            return Err(FileErrorKind::Interrupted);
        }
        if let Some(name) = &self.opts.sheet {
            if !self.saw_named_sheet {
                return Err(FileErrorKind::NoSuchSheet(name.clone()));
            }
        }
        if self.book.sheets.is_empty() {
            return Err(self.first_problem.unwrap_or(FileErrorKind::NoSheet));
        }
        Ok(self.book)
    }
}

/// A sheet being read.
pub(crate) struct SheetBuilder {
    sheet: Sheet,
    header_done: bool,
    usable: bool,
    kinds: Option<ColumnKinds>,
}

/// pandas' type inference for a spreadsheet column (`read_excel` runs
/// `maybe_convert_numeric` on object columns): when every value of the
/// column, over all rows of the sheet (kept or dropped), is a number, a
/// boolean or numeric text, and at least one is text (or booleans mix with
/// numbers), the column becomes numeric: `'0012'` -> 12, `True` -> 1. One
/// non-numeric text or a date-time keeps the column as it is.
#[derive(Debug, Default)]
pub struct ColumnKinds {
    cols: Vec<ColumnKind>,
}

#[derive(Debug, Default, Clone, Copy)]
struct ColumnKind {
    blocked: bool,
    numeric_text: bool,
    boolean: bool,
    number: bool,
}

impl ColumnKinds {
    /// Take one row (kept or not) into account.
    pub fn observe(&mut self, row: &[Value]) {
        if self.cols.len() < row.len() {
            self.cols.resize(row.len(), ColumnKind::default());
        }
        for (k, v) in self.cols.iter_mut().zip(row) {
            if k.blocked {
                continue;
            }
            match v {
                Value::Empty => {}
                Value::Int(_) | Value::Float(_) => k.number = true,
                Value::Bool(_) => k.boolean = true,
                Value::Text(s) => {
                    if parse_numeric(s).is_some() {
                        k.numeric_text = true
                    } else {
                        k.blocked = true
                    }
                }
                Value::DateTime(_) => k.blocked = true,
            }
        }
    }

    /// Which columns become numeric; `None` when none does.
    pub fn conversions(&self) -> Option<Vec<bool>> {
        let convert: Vec<bool> = self
            .cols
            .iter()
            .map(|k| !k.blocked && (k.numeric_text || (k.boolean && k.number)))
            .collect();
        convert.contains(&true).then_some(convert)
    }

    /// Convert one row's cells in the columns `convert` marks.
    pub fn convert_row(convert: &[bool], row: &mut [Value]) {
        for (v, &c) in row.iter_mut().zip(convert) {
            if !c {
                continue;
            }
            match v {
                Value::Text(s) => *v = parse_numeric(s).unwrap_or(Value::Empty),
                Value::Bool(b) => *v = Value::Int(*b as i64),
                _ => {}
            }
        }
    }
}

/// pandas' reading of numeric text (the same for CSV and spreadsheets):
/// surrounding ASCII whitespace ignored; an optional sign and digits is an
/// integer; otherwise a decimal or exponent float, or `inf`/`infinity`.
/// No `nan` (that text is missing already, or stays text), no `_`, no `,`.
pub fn parse_numeric(s: &str) -> Option<Value> {
    let t = s.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c'));
    if t.is_empty() {
        return None;
    }
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Some(match t.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::number(t.parse::<f64>().ok()?),
        });
    }
    if digits.bytes().any(|b| b == b'_')
        || digits
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("nan"))
    {
        return None;
    }
    t.parse::<f64>().ok().map(Value::number)
}

/// Column names from a header row, as pandas makes them: text as is,
/// numbers as text, empty cells `Unnamed: N`, duplicates `name.1`, `name.2`.
fn header_names(row: &[Value]) -> Vec<String> {
    let raw: Vec<String> = row
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Empty => format!("Unnamed: {i}"),
            other => other.to_text(),
        })
        .collect();
    dedup_names(raw)
}

/// pandas' `_maybe_dedup_names`: the second `a` becomes `a.1`, and so on,
/// skipping names already taken.
fn dedup_names(names: Vec<String>) -> Vec<String> {
    use std::collections::HashMap;
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut col = name;
        let mut cur = *counts.get(&col).unwrap_or(&0);
        while cur > 0 {
            counts.insert(col.clone(), cur + 1);
            col = format!("{col}.{cur}");
            cur = *counts.get(&col).unwrap_or(&0);
        }
        counts.insert(col.clone(), cur + 1);
        out.push(col);
    }
    out
}

fn find_required(columns: &[String], required: &[String; 4]) -> Result<[usize; 4], String> {
    let mut idx = [0; 4];
    for (slot, name) in idx.iter_mut().zip(required) {
        *slot = columns
            .iter()
            .position(|c| c == name)
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
        if self.row.len() <= col {
            self.row.resize(col + 1, Value::Empty);
        }
        self.row[col] = v;
    }

    fn flush(&mut self, c: &mut Collector<'_, '_, '_>, b: &mut SheetBuilder) {
        if self.current.is_some() {
            let line = self.current.map_or(0, |r| r as u64 + 1);
            c.row(b, std::mem::take(&mut self.row), line);
        }
    }

    pub fn finish(mut self, c: &mut Collector<'_, '_, '_>, b: &mut SheetBuilder) {
        self.flush(c, b);
    }
}

/// `2023-05-01T09:30:00[.fff]` -> calendar parts.
pub(crate) fn parse_iso(s: &str) -> Option<DateTimeParts> {
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00"));
    let mut d = date.split('-');
    let year = d.next()?.parse().ok()?;
    let month = d.next()?.parse().ok()?;
    let day = d.next()?.parse().ok()?;
    let time = time.trim_end_matches('Z');
    let mut t = time.split(':');
    let hour = t.next()?.parse().ok()?;
    let minute = t.next().unwrap_or("0").parse().ok()?;
    let sec: f64 = t.next().unwrap_or("0").parse().ok()?;
    Some(DateTimeParts {
        year,
        month,
        day,
        hour,
        minute,
        second: sec.trunc() as u32,
        micro: (sec.fract() * 1e6).round() as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_text_follows_pandas() {
        for (s, want) in [
            ("-5", Some(Value::Int(-5))),
            ("+6", Some(Value::Int(6))),
            (" 12\t", Some(Value::Int(12))),
            ("00012", Some(Value::Int(12))),
            ("1e3", Some(Value::Int(1000))),
            ("1.", Some(Value::Int(1))),
            (".5", Some(Value::Float(0.5))),
            ("-.5", Some(Value::Float(-0.5))),
            ("Infinity", Some(Value::Float(f64::INFINITY))),
        ] {
            assert_eq!(parse_numeric(s), want, "{s:?}");
        }
        for s in [
            "1,000", "NAN", "1_000", "0x10", ".", "1e", "e5", "True", "１２", "\u{a0}12", "1 2",
        ] {
            assert_eq!(parse_numeric(s), None, "{s:?}");
        }
    }

    #[test]
    fn spreadsheet_columns_convert_only_when_every_value_is_numeric() {
        let mut k = ColumnKinds::default();
        let rows = vec![
            vec![
                Value::text("0012"),
                Value::text("0012"),
                Value::Bool(true),
                Value::Bool(true),
            ],
            vec![
                Value::Int(13),
                Value::text("A1"),
                Value::Int(7),
                Value::Bool(false),
            ],
        ];
        for r in &rows {
            k.observe(r);
        }
        let mut kept = rows.clone();
        let convert = k.conversions().unwrap();
        for row in &mut kept {
            ColumnKinds::convert_row(&convert, row);
        }
        assert_eq!(
            kept[0],
            [
                Value::Int(12),
                Value::text("0012"),
                Value::Int(1),
                Value::Bool(true)
            ]
        );
    }

    #[test]
    fn duplicate_headers_are_mangled_like_pandas() {
        let got = dedup_names(vec!["a".into(), "a".into(), "a.1".into(), "a".into()]);
        assert_eq!(got, ["a", "a.1", "a.1.1", "a.2"]);
    }
}
