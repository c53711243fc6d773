//! CSV inputs: encoding detection and pandas' column type inference.
//!
//! The reference reads CSV with `pd.read_csv(path, encoding=E)`, E being
//! UTF-8 (BOM dropped) when the whole file decodes as UTF-8, else GB18030.
//! pandas then types each column from all of its values: all integers ->
//! int (`0012` -> 12), all numbers -> float, all `True`/`False` -> bool,
//! anything else -> text. Dates stay text. So a CSV is decoded and parsed
//! whole, then typed column by column, then offered row by row.

use std::path::Path;

use super::collect::{Collector, ReadOptions};
use super::encoding::decode;
use crate::error::FileErrorKind;
use crate::value::{is_na_string, Value};

pub(super) fn read(
    path: &Path,
    opts: &ReadOptions,
    c: &mut Collector<'_, '_, '_>,
) -> Result<(), FileErrorKind> {
    if !c.wants("csv") {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(FileErrorKind::open)?;
    let mut text = decode(&bytes, opts.encoding)?;
    drop(bytes);
    // pandas' C parser drops one more leading U+FEFF after decoding,
    // whatever the encoding (a GB18030 file starting 84 31 95 33, or a
    // UTF-8 file with two BOMs, still has a clean first column name).
    if text.starts_with('\u{FEFF}') {
        text.drain(..'\u{FEFF}'.len_utf8());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let mut b = c.sheet_with("csv", false);
    let header = loop {
        match records.next() {
            Some(r) => {
                let r = r.map_err(|e| FileErrorKind::Csv(e.to_string()))?;
                if !is_blank_line(&r) {
                    break r;
                }
            }
            None => {
                c.end_sheet(b);
                return Ok(());
            }
        }
    };
    let width = header.len();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); width];
    let mut lines: Vec<u64> = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| FileErrorKind::Csv(e.to_string()))?;
        if is_blank_line(&rec) {
            continue;
        }
        if rec.len() > width {
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            return Err(FileErrorKind::RaggedRow {
                line,
                expected: width,
                saw: rec.len(),
            });
        }
        for (i, col) in columns.iter_mut().enumerate() {
            let field = rec.get(i);
            col.push(field.filter(|f| !is_na_string(f)).map(str::to_owned));
        }
        lines.push(rec.position().map_or(0, |p| p.line()));
    }
    let typed: Vec<Vec<Value>> = columns.into_iter().map(type_column).collect();
    // The header row goes through the builder like any sheet's.
    let header_row = header
        .iter()
        .map(|h| {
            if h.is_empty() {
                Value::Empty
            } else {
                Value::Text(h.into())
            }
        })
        .collect();
    c.row(&mut b, header_row, 1);
    let mut iters: Vec<_> = typed.into_iter().map(Vec::into_iter).collect();
    for line in lines {
        let row: Vec<Value> = iters
            .iter_mut()
            .map(|it| it.next().unwrap_or(Value::Empty))
            .collect();
        c.row(&mut b, row, line);
    }
    c.end_sheet(b);
    Ok(())
}

/// A blank line to pandas' C tokenizer (`skip_blank_lines`): empty, or only
/// spaces and tabs (its whitespace-line state; the csv crate already drops
/// empty lines, but a line of spaces is one field of spaces to it).
fn is_blank_line(rec: &csv::StringRecord) -> bool {
    rec.len() == 1 && rec[0].bytes().all(|b| b == b' ' || b == b'\t')
}

/// pandas' inference for one column of raw fields (`None` = NA): all
/// integers -> ints (floats when a value is missing), all numeric -> floats,
/// all `True`/`False` -> booleans, else text.
fn type_column(col: Vec<Option<String>>) -> Vec<Value> {
    let present = || col.iter().flatten();
    let any_na = col.iter().any(Option::is_none);
    if present().next().is_some() && present().all(|s| parse_int(s).is_some()) {
        // pandas' C parser: int64 when every value fits; else uint64 when
        // none is negative; a value beyond uint64 or below int64 makes an
        // object column of Python ints (missing values stay missing); uint64
        // values beside a negative one leave the column as text.
        let ints = || present().map(|s| parse_int(s).expect("checked above"));
        let int64 = ints().all(|i| i64::try_from(i).is_ok());
        let python = ints().any(|i| i > u64::MAX as i128 || i < i64::MIN as i128);
        let negative = ints().any(|i| i < 0);
        if int64 || python || !negative {
            let floats = any_na && !python;
            return col
                .iter()
                .map(|f| match f {
                    None => Value::Empty,
                    Some(s) => {
                        let i = parse_int(s).expect("checked above");
                        if floats {
                            Value::number(i as f64)
                        } else {
                            Value::int(i)
                        }
                    }
                })
                .collect();
        }
        return col
            .into_iter()
            .map(|f| f.map(|s| Value::Text(s.into())).unwrap_or(Value::Empty))
            .collect();
    }
    if present().next().is_some() && present().all(|s| parse_float(s).is_some()) {
        return col
            .iter()
            .map(|f| {
                f.as_deref()
                    .and_then(parse_float)
                    .map(Value::number)
                    .unwrap_or(Value::Empty)
            })
            .collect();
    }
    if present().next().is_some() && present().all(|s| parse_bool(s).is_some()) {
        return col
            .iter()
            .map(|f| {
                f.as_deref()
                    .and_then(parse_bool)
                    .map(Value::Bool)
                    .unwrap_or(Value::Empty)
            })
            .collect();
    }
    col.into_iter()
        .map(|f| f.map(|s| Value::Text(s.into())).unwrap_or(Value::Empty))
        .collect()
}

fn parse_int(s: &str) -> Option<i128> {
    match super::parse_numeric(s)? {
        _ if s.contains(['.', 'e', 'E']) => None,
        Value::Int(i) => Some(i as i128),
        Value::BigInt(i) => Some(*i),
        _ => None,
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match super::parse_numeric(s)? {
        Value::Int(i) => Some(i as f64),
        Value::BigInt(i) => Some(*i as f64),
        Value::Float(f) => Some(f),
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "True" | "TRUE" | "true" => Some(true),
        "False" | "FALSE" | "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Encoding;

    #[test]
    fn columns_are_typed_like_pandas() {
        let col = |v: &[&str]| v.iter().map(|s| Some(s.to_string())).collect::<Vec<_>>();
        assert_eq!(
            type_column(col(&["0012", "0013", "7"])),
            [Value::Int(12), Value::Int(13), Value::Int(7)]
        );
        assert_eq!(
            type_column(col(&["1", "1.5"])),
            [Value::Int(1), Value::Float(1.5)]
        );
        assert_eq!(
            type_column(col(&["A0012", "7"])),
            [Value::Text("A0012".into()), Value::Text("7".into())]
        );
        let with_na = vec![Some("5".to_string()), None];
        assert_eq!(type_column(with_na), [Value::Int(5), Value::Empty]);
    }

    #[test]
    fn encodings_are_detected() {
        assert_eq!(decode(b"\xEF\xBB\xBFab", None).unwrap(), "ab");
        // 你好 in GBK
        assert_eq!(decode(b"\xC4\xE3\xBA\xC3", None).unwrap(), "你好");
        assert!(matches!(
            decode(b"\xC4\xE3\xBA\xC3", Some(Encoding::Utf8)),
            Err(FileErrorKind::Encoding { offset: 0, .. })
        ));
    }
}
