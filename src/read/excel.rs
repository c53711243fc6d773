//! xlsb, xls and ods workbooks through calamine.
//!
//! xlsb is streamed cell by cell from calamine's cells reader: nothing is
//! allocated from the sheet's declared dimension. xls and ods are read
//! through `worksheet_range` (calamine loads their containers whole anyway).

use std::io::{Read, Seek};
use std::path::Path;

use calamine::{open_workbook, Data, DataRef, Ods, Reader, Xls, Xlsb};

use super::collect::{Collector, RowAssembler, SheetBuilder};
use crate::error::FileErrorKind;
use crate::value::{excel_time, DateTimeParts, Value};

/// Where a calamine reader's cells go: straight into the [`Collector`]
/// (in process), or down a pipe to the parent ([`super::isolate`]).
pub(super) trait CellSink {
    /// The workbook has a sheet of this name; whether to read it.
    fn sheet(&mut self, name: &str) -> bool;
    /// One cell of the sheet being read, in row order. `Err` stops the
    /// read (a signal arrived, or the parent went away).
    fn cell(&mut self, r: u32, col: u32, v: Value) -> Result<(), FileErrorKind>;
    /// The sheet being read is complete.
    fn end_sheet(&mut self);
}

/// The in-process sink: cells to rows to the collector.
struct Direct<'c, 'o, 'k, 'a> {
    c: &'c mut Collector<'o, 'k, 'a>,
    open: Option<(SheetBuilder, RowAssembler)>,
}

impl CellSink for Direct<'_, '_, '_, '_> {
    fn sheet(&mut self, name: &str) -> bool {
        if !self.c.wants(name) {
            return false;
        }
        let mut b = self.c.sheet(name);
        b.raw_na = true;
        self.open = Some((b, RowAssembler::default()));
        true
    }

    fn cell(&mut self, r: u32, col: u32, v: Value) -> Result<(), FileErrorKind> {
        if let Some((b, rows)) = self.open.as_mut() {
            rows.push(self.c, b, r, col, v);
        }
        if self.c.interrupted {
            return Err(FileErrorKind::Interrupted);
        }
        Ok(())
    }

    fn end_sheet(&mut self) {
        if let Some((mut b, rows)) = self.open.take() {
            rows.finish(self.c, &mut b);
            self.c.end_sheet(b);
        }
    }
}

/// Read an xlsb, xls or ods file into the collector. In the `sheetsift`
/// binary this happens in a child process under resource limits
/// ([`super::isolate`]); elsewhere (library use, unit tests) in process.
pub(super) fn read(
    path: &Path,
    ext: &str,
    c: &mut Collector<'_, '_, '_>,
) -> Result<(), FileErrorKind> {
    if super::isolate::enabled() {
        return super::isolate::read(path, ext, c);
    }
    let mut sink = Direct { c, open: None };
    read_cells(path, ext, &mut sink)
}

/// The format name of an extension this module reads.
pub(super) fn format_of(ext: &str) -> &'static str {
    match ext {
        "xlsb" => "xlsb",
        "xls" => "xls",
        _ => "ods",
    }
}

/// Read the workbook's cells into `sink`. calamine is third-party code fed
/// untrusted bytes: a panic in it is a corrupt file, not a crash. (An
/// allocation failure or an endless loop cannot be caught here; that is
/// what the child process is for.)
pub(super) fn read_cells(
    path: &Path,
    ext: &str,
    sink: &mut dyn CellSink,
) -> Result<(), FileErrorKind> {
    let format = format_of(ext);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_inner(path, ext, sink)))
        .unwrap_or_else(|p| {
            let msg = crate::pool::panic_message(p);
            Err(corrupt(
                format,
                format!("the {format} reader failed: {msg}"),
            ))
        })
}

fn read_inner(path: &Path, ext: &str, sink: &mut dyn CellSink) -> Result<(), FileErrorKind> {
    match ext {
        "xlsb" => {
            let mut wb: Xlsb<_> = open_workbook(path).map_err(|e| corrupt("xlsb", e))?;
            for name in wb.sheet_names() {
                if !sink.sheet(&name) {
                    continue;
                }
                let mut cells = wb
                    .worksheet_cells_reader(&name)
                    .map_err(|e| corrupt("xlsb", e))?;
                while let Some(cell) = cells.next_cell().map_err(|e| corrupt("xlsb", e))? {
                    let (r, col) = cell.get_position();
                    sink.cell(r, col, from_data_ref(cell.get_value()))?;
                }
                sink.end_sheet();
            }
            Ok(())
        }
        "xls" => {
            let wb: Xls<_> = open_workbook(path).map_err(|e| match e {
                calamine::XlsError::Password => FileErrorKind::Encrypted,
                e => corrupt("xls", e),
            })?;
            read_ranges(wb, "xls", sink)
        }
        _ => {
            let wb: Ods<_> = open_workbook(path).map_err(|e| corrupt("ods", e))?;
            read_ranges(wb, "ods", sink)
        }
    }
}

fn read_ranges<R, RS>(
    mut wb: R,
    format: &'static str,
    sink: &mut dyn CellSink,
) -> Result<(), FileErrorKind>
where
    RS: Read + Seek,
    R: Reader<RS>,
    R::Error: std::fmt::Display,
{
    for name in wb.sheet_names() {
        if !sink.sheet(&name) {
            continue;
        }
        let range = wb.worksheet_range(&name).map_err(|e| corrupt(format, e))?;
        let (r0, c0) = range.start().unwrap_or((0, 0));
        for (r, col, v) in range.used_cells() {
            let value = if format == "ods" {
                ods_value(v).map_err(|e| {
                    corrupt(
                        format,
                        format!(
                            "sheet {name}: row {} column {}: {e}",
                            r0 + r as u32 + 1,
                            c0 + col as u32 + 1
                        ),
                    )
                })?
            } else {
                from_data(v)
            };
            sink.cell(r0 + r as u32, c0 + col as u32, value)?;
        }
        sink.end_sheet();
    }
    Ok(())
}

pub(super) fn corrupt(format: &'static str, e: impl std::fmt::Display) -> FileErrorKind {
    FileErrorKind::Corrupt {
        format,
        detail: e.to_string(),
    }
}

/// A text cell as it is: an NA string stays text here, for the header row
/// (the collector makes it missing in data rows, `SheetBuilder::raw_na`).
fn raw_text(s: &str) -> Value {
    if s.is_empty() {
        Value::Empty
    } else {
        Value::Text(s.into())
    }
}

fn from_data_ref(v: &DataRef<'_>) -> Value {
    match v {
        DataRef::Int(i) => Value::Int(*i),
        DataRef::Float(f) => Value::number(*f),
        DataRef::String(s) => raw_text(s),
        DataRef::SharedString(s) => raw_text(s),
        DataRef::Bool(b) => Value::Bool(*b),
        DataRef::DateTime(d) => excel_datetime(d),
        DataRef::DateTimeIso(s) => iso_datetime(s),
        DataRef::DurationIso(s) => Value::text(s),
        DataRef::Error(_) | DataRef::Empty => Value::Empty,
    }
}

fn from_data(v: &Data) -> Value {
    match v {
        Data::Int(i) => Value::Int(*i),
        Data::Float(f) => Value::number(*f),
        Data::String(s) => raw_text(s),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(d) => excel_datetime(d),
        Data::DateTimeIso(s) => iso_datetime(s),
        Data::DurationIso(s) => Value::text(s),
        Data::Error(_) | Data::Empty => Value::Empty,
    }
}

/// An ods cell as pandas' odf reader gives it, as far as calamine shows
/// the cell: `<text:tab/>` is dropped (pandas' string reader skips it;
/// calamine makes it a tab), and a time cell (calamine: its
/// `office:time-value`, `PT09H30M00S`) is a time of day — a file error when
/// its hours are 24 or more, as pandas' `Timestamp(text)` fails on the
/// displayed `26:00:00`. pandas reads both from the cell's displayed text,
/// which calamine does not expose; so do booleans (`True` iff the text is
/// `TRUE`), read here from `office:boolean-value` (README "Values, exactly",
/// deliberate differences).
fn ods_value(v: &Data) -> Result<Value, String> {
    Ok(match v {
        Data::String(s) if s.contains('\t') => raw_text(&s.replace('\t', "")),
        Data::DurationIso(s) => match iso_time_of_day(s) {
            Some(us) => Value::Time(us),
            None => return Err(format!("time cell {s:?} is not a time of day")),
        },
        other => from_data(other),
    })
}

/// `PT09H30M00S` / `PT12H00M00.5S` -> microseconds since midnight, when
/// under 24 hours.
fn iso_time_of_day(s: &str) -> Option<u64> {
    let rest = s.strip_prefix("PT")?;
    let (h, rest) = rest.split_once('H')?;
    let (m, rest) = rest.split_once('M')?;
    let sec = rest.strip_suffix('S')?;
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    let sec: f64 = sec.parse().ok()?;
    if h >= 24 || m >= 60 || !(0.0..60.0).contains(&sec) {
        return None;
    }
    let us = (sec * 1e6).round() as u64;
    Some((h * 3600 + m * 60) * 1_000_000 + us)
}

fn excel_datetime(d: &calamine::ExcelDateTime) -> Value {
    // pandas' xlrd reader: a date cell whose date is 1899-12-31 (1904:
    // 1904-01-01), i.e. a serial in [0, 1) whose ms-rounded fraction stays
    // within the day, is a `time` — under any date format, elapsed ones too
    // (xlrd has no durations).
    if let Some(us) = excel_time(d.as_f64()) {
        return Value::Time(us);
    }
    // to_ymd_hms_milli knows the workbook's epoch (1900 or 1904).
    let (year, month, day, hour, minute, second, milli) = d.to_ymd_hms_milli();
    let parts = DateTimeParts {
        year: year as i64,
        month: month as u32,
        day: day as u32,
        hour: hour as u32,
        minute: minute as u32,
        second: second as u32,
        micro: milli as u32 * 1000,
    };
    Value::DateTime(parts.to_serial())
}

/// `2023-05-01T09:30:00[.fff]` (an ISO date cell) -> date-time; anything
/// else stays text.
fn iso_datetime(s: &str) -> Value {
    DateTimeParts::parse_iso(s)
        .map(|p| Value::DateTime(p.to_serial()))
        .unwrap_or_else(|| Value::text(s))
}
