//! Cell typing: one cell's `t`, style and text -> a [`Value`], as openpyxl
//! and pandas read it (ints unless the text has `.`/`e`, dates by style,
//! errors missing, text with its escapes decoded).

use super::fastsheet::RawCell;
use super::shared_strings::{decode_excel_escapes, SharedStrings};
use super::styles::NumKind;
use crate::value::{excel_duration, excel_time, DateTimeParts, Value};

/// What typing a cell needs from the rest of the workbook.
pub(super) struct Ctx<'a> {
    pub shared: &'a SharedStrings,
    pub date_styles: &'a [NumKind],
    pub date1904: bool,
}

/// The `t` attribute of a cell.
#[derive(Clone, Copy, PartialEq, Eq, Default, Debug)]
pub(crate) enum CellType {
    /// `n`, and a cell without `t`.
    #[default]
    Number,
    Shared,
    Inline,
    Bool,
    Error,
    Date,
    /// `str` (a formula's text result) and anything unknown: text.
    Text,
}

impl CellType {
    pub(super) fn of(t: &str) -> CellType {
        CellType::of_bytes(t.as_bytes())
    }

    pub(super) fn of_bytes(t: &[u8]) -> CellType {
        match t {
            b"n" => CellType::Number,
            b"s" => CellType::Shared,
            b"inlineStr" => CellType::Inline,
            b"b" => CellType::Bool,
            b"e" => CellType::Error,
            b"d" => CellType::Date,
            _ => CellType::Text,
        }
    }
}

/// A cell of the fast path, typed. Inlined into the readers' loops, as
/// [`SharedStrings::value`] is into it: a `Result<Value, _>` returned
/// through memory stalls the load that follows (store forwarding).
#[inline(always)]
pub(super) fn fast_cell_value(cell: &RawCell, ctx: &Ctx<'_>) -> Result<Value, String> {
    let ty = cell.ty;
    if let Some(i) = cell.shared {
        return ctx
            .shared
            .value(i as usize)
            .ok_or_else(|| at(cell.row, cell.col)(format!("shared string {i} does not exist")));
    }
    let inline = cell.has_inline.then_some(cell.inline.as_str());
    if cell.row == 0 {
        if let Some(name) = na_header_name(ty, inline, &cell.text, ctx) {
            return Ok(name);
        }
    }
    Ok(if ty == CellType::Inline {
        inline.map(Value::text).unwrap_or(Value::Empty)
    } else if cell.has_v && !cell.text.is_empty() {
        cell_value(ty, cell.style, &cell.text, ctx).map_err(at(cell.row, cell.col))?
    } else {
        Value::Empty
    })
}

/// A cell of row 1 (the header) whose text is one of pandas' NA strings:
/// pandas keeps it as the column's name (`NA`), so it is text there, not
/// missing. `None` for every other cell.
pub(super) fn na_header_name(
    ty: CellType,
    inline: Option<&str>,
    v: &str,
    ctx: &Ctx<'_>,
) -> Option<Value> {
    let text: String = match ty {
        CellType::Inline => inline?.to_string(),
        CellType::Shared => ctx.shared.get(v.trim().parse::<usize>().ok()?)?.to_string(),
        CellType::Text => decode_excel_escapes(v),
        _ => return None,
    };
    (!text.is_empty() && crate::value::is_na_string(&text)).then(|| Value::Text(text.into()))
}

/// One cell with a non-empty `<v>` as openpyxl + pandas read it.
pub(super) fn cell_value(
    ty: CellType,
    style: usize,
    v: &str,
    ctx: &Ctx<'_>,
) -> Result<Value, String> {
    let kind = ctx.date_styles.get(style).copied().unwrap_or_default();
    Ok(match ty {
        CellType::Number => {
            let trimmed = v.trim();
            let x: f64 = if trimmed.bytes().any(|b| matches!(b, b'.' | b'e' | b'E')) {
                trimmed.parse().map_err(|_| format!("bad number {v:?}"))?
            } else {
                // openpyxl: `int(v)`, any number of digits (a Python int
                // beyond int64 too; exact here within i128).
                match trimmed.parse::<i128>() {
                    Ok(i) if kind == NumKind::Number => return Ok(Value::int(i)),
                    Ok(i) => i as f64,
                    // Past i128: as a float (a documented limit).
                    Err(_)
                        if !trimmed.is_empty()
                            && trimmed.bytes().skip(1).all(|b| b.is_ascii_digit()) =>
                    {
                        trimmed.parse().map_err(|_| format!("bad number {v:?}"))?
                    }
                    Err(_) => return Err(format!("bad number {v:?}")),
                }
            };
            match kind {
                // pandas' openpyxl reader calls `int(x)` on every number
                // (to tell 3 from 3.0): for a `<v>` beyond a float's range
                // (`1.797693134862316e+308` rounds to infinity) that raises
                // OverflowError, and the reference fails the whole file.
                NumKind::Number if !x.is_finite() => {
                    return Err(format!(
                        "number {trimmed} is beyond the range of a float (pandas cannot read this file)"
                    ))
                }
                NumKind::Number => Value::number(x),
                // openpyxl: a serial beyond timedelta's range is an error
                // cell, which pandas reads as missing.
                NumKind::Duration => excel_duration(x).map_or(Value::Empty, Value::Duration),
                // A time of day is decided on the raw serial, before the
                // 1904 shift (openpyxl's `from_excel`).
                NumKind::Date => match excel_time(x) {
                    Some(us) => Value::Time(us),
                    // openpyxl: a serial outside Python's datetime range
                    // (years 1-9999) is an error cell ("outside the limits
                    // for dates"), which pandas reads as missing (NaT).
                    None if !in_datetime_range(x + if ctx.date1904 { 1462.0 } else { 0.0 }) => {
                        Value::Empty
                    }
                    None if ctx.date1904 => Value::DateTime(x + 1462.0),
                    // openpyxl reads serial 60 (Excel's phantom 1900-02-29)
                    // as 1900-02-28, the date of serial 59: keep one serial
                    // per datetime, so that it is written (and compared) as
                    // pandas' 1900-02-28.
                    None if (60.0..61.0).contains(&x) => Value::DateTime(x - 1.0),
                    None => Value::DateTime(x),
                },
            }
        }
        CellType::Shared => {
            let idx = shared_index(v).ok_or_else(|| format!("bad shared string index {v:?}"))?;
            ctx.shared
                .value(idx)
                .ok_or_else(|| format!("shared string {idx} does not exist"))?
        }
        CellType::Bool => match v.trim() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            other => return Err(format!("bad boolean {other:?}")),
        },
        CellType::Error => Value::Empty,
        CellType::Date => DateTimeParts::parse_iso(v)
            .map(|p| Value::DateTime(p.to_serial()))
            .unwrap_or_else(|| Value::text(v)),
        CellType::Inline | CellType::Text => Value::text_owned(decode_excel_escapes(v)),
    })
}

/// A shared-string index: plain digits read directly, anything else as
/// `str::trim` + `parse` read it.
fn shared_index(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    if !b.is_empty() && b.len() <= 9 && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')));
    }
    v.trim().parse().ok()
}

/// Whether openpyxl's `from_excel` gives a `datetime` for this serial
/// (1900 system, days since 1899-12-30): the whole days, plus one when the
/// fraction rounds to a full day in milliseconds, between 0001-01-01
/// (serial -693,593) and 9999-12-31 (serial 2,958,465).
fn in_datetime_range(serial: f64) -> bool {
    if !serial.is_finite() || serial.abs() > 1e7 {
        return false;
    }
    let day = serial.floor();
    let ms = ((serial - day) * 86_400_000.0).round_ties_even();
    let days = day + if ms >= 86_400_000.0 { 1.0 } else { 0.0 };
    (-693_593.0..=2_958_465.0).contains(&days)
}

/// A cell's A1 reference (`B17` for 0-based row 16, column 1).
pub(super) fn a1(row: u32, col: u32) -> String {
    let mut letters = Vec::new();
    let mut c = col as u64 + 1;
    while c > 0 {
        c -= 1;
        letters.push(b'A' + (c % 26) as u8);
        c /= 26;
    }
    letters.reverse();
    format!("{}{}", String::from_utf8_lossy(&letters), row as u64 + 1)
}

/// Prefix a cell's error with its reference, so a file error names the
/// cell: `sheet Sheet1: cell B17: bad number "x"`.
pub(super) fn at(row: u32, col: u32) -> impl FnOnce(String) -> String {
    move |e| format!("cell {}: {e}", a1(row, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_pythons_range() {
        assert!(in_datetime_range(2_958_465.5));
        assert!(!in_datetime_range(2_958_466.0));
        assert!(!in_datetime_range(2_958_465.999_999_999));
        assert!(in_datetime_range(-693_593.0));
        assert!(!in_datetime_range(-693_594.0));
        assert!(!in_datetime_range(1e12));
        assert!(!in_datetime_range(f64::INFINITY));
    }

    #[test]
    fn a1_references() {
        assert_eq!(a1(0, 0), "A1");
        assert_eq!(a1(16, 1), "B17");
        assert_eq!(a1(0, 25), "Z1");
        assert_eq!(a1(0, 26), "AA1");
        assert_eq!(a1(1_048_575, 16_383), "XFD1048576");
    }
}
