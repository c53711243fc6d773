//! pandas' type inference, as `read_excel` and `read_csv` apply it: numeric
//! text, whole-column conversion, and the header row's column names.

use crate::value::{ColName, Value};

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
                Value::Int(_) | Value::BigInt(_) | Value::Float(_) => k.number = true,
                Value::Bool(_) => k.boolean = true,
                Value::Text(s) => {
                    if parse_numeric(s).is_some() {
                        k.numeric_text = true
                    } else {
                        k.blocked = true
                    }
                }
                Value::DateTime(_) | Value::Time(_) | Value::Duration(_) => k.blocked = true,
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
        // Integers exactly (int64, uint64 and Python ints within i128).
        return Some(match t.parse::<i128>() {
            Ok(i) => Value::int(i),
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

/// Column names from a header row, as pandas makes them: each cell's value
/// as the name (typed: the number 2023 is not the text `2023`), empty cells
/// `Unnamed: N`, duplicates mangled as pandas' readers do
/// ([`mangle_dupe_names`]).
pub(super) fn header_names(row: &[Value]) -> Vec<ColName> {
    let mut unnamed = Vec::new();
    let raw: Vec<ColName> = row
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Empty => {
                unnamed.push(i);
                ColName::from(format!("Unnamed: {i}"))
            }
            Value::Text(s) if s.is_empty() => {
                unnamed.push(i);
                ColName::from(format!("Unnamed: {i}"))
            }
            other => ColName(other.clone()),
        })
        .collect();
    mangle_dupe_names(raw, &unnamed)
}

/// pandas' `mangle_dupe_names` (pandas/io/common.py, the header mangling of
/// `read_csv` and `read_excel`): named columns first, then the unnamed
/// ones; a repeat of `col` seen `c` times becomes `col.c`, skipping a
/// `col.c` that is already one of the names (`x, x, x.1` -> `x, x.2, x.1`;
/// a literal `Unnamed: 14` keeps its name and the empty cell at 14 becomes
/// `Unnamed: 14.1`).
/// Names compare under Python `==` ([`ColName`]); a mangled name is text
/// (`f"{col}.{count}"`: the number 2023 repeated becomes `"2023.1"`).
///
/// Linear in the number of names: the order and the "is it one of the
/// names" test use hash sets, not scans of the header (a crafted header of
/// 100,000 empty or repeated names took minutes).
fn mangle_dupe_names(mut names: Vec<ColName>, unnamed: &[usize]) -> Vec<ColName> {
    use std::collections::HashMap;
    let mut is_unnamed = vec![false; names.len()];
    for &i in unnamed {
        is_unnamed[i] = true;
    }
    let order: Vec<usize> = (0..names.len())
        .filter(|&i| !is_unnamed[i])
        .chain(unnamed.iter().copied())
        .collect();
    // How many times each name is in `names` as it is now (mangled ones
    // replace their originals as the loop goes).
    let mut present: HashMap<ColName, usize> = HashMap::new();
    for n in &names {
        *present.entry(n.clone()).or_insert(0) += 1;
    }
    let mut counts: HashMap<ColName, usize> = HashMap::new();
    for i in order {
        let old = names[i].clone();
        let mut col = old.clone();
        let mut cur = *counts.get(&col).unwrap_or(&0);
        while cur > 0 {
            counts.insert(old.clone(), cur + 1);
            col = ColName::from(format!("{}.{cur}", old.to_text()));
            if present.get(&col).is_some_and(|&n| n > 0) {
                cur += 1;
            } else {
                cur = *counts.get(&col).unwrap_or(&0);
            }
        }
        counts.insert(col.clone(), cur + 1);
        if col != old {
            if let Some(n) = present.get_mut(&old) {
                *n -= 1;
            }
            *present.entry(col.clone()).or_insert(0) += 1;
        }
        names[i] = col;
    }
    names
}

/// The column kinds of rows as stage 2 reads them back from stage 1's
/// xlsx ([`reread_value`]), observed row by row: `run` watches a chunk's
/// rows as they join its table, so that grouping needs no extra pass.
#[derive(Debug, Default)]
pub struct RereadKinds {
    kinds: ColumnKinds,
    typed: bool,
    mapped: Vec<Value>,
}

impl RereadKinds {
    pub fn observe(&mut self, row: &[Value]) {
        if row
            .iter()
            .any(|v| matches!(v, Value::Time(_) | Value::Duration(_)))
        {
            self.typed = true;
            self.mapped.clear();
            self.mapped.extend(row.iter().map(reread_value));
            self.kinds.observe(&self.mapped);
        } else {
            self.kinds.observe(row);
        }
    }

    /// The columns the re-read converts to numbers, and whether any row
    /// held a value [`reread_value`] changes.
    pub fn finish(self) -> (Option<Vec<bool>>, bool) {
        (self.kinds.conversions(), self.typed)
    }
}

/// A value as stage 2 reads it back from stage 1's xlsx: a time was written
/// as its text, a duration as its number of days
/// (`write::sheetxml`'s `Cell`); every other value reads back as itself.
pub fn reread_value(v: &Value) -> Value {
    match v {
        Value::Time(_) => Value::text_owned(v.to_text()),
        Value::Duration(us) => Value::number(crate::value::duration_days(*us)),
        other => other.clone(),
    }
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
        // pandas.io.common.mangle_dupe_names on the same names.
        let names = |v: &[&str]| v.iter().map(|s| ColName::from(*s)).collect::<Vec<_>>();
        let got = mangle_dupe_names(names(&["a", "a", "a.1", "a"]), &[]);
        assert_eq!(got, ["a", "a.2", "a.1", "a.3"]);
        let got = mangle_dupe_names(names(&["x", "Unnamed: 1", "Unnamed: 1"]), &[1]);
        assert_eq!(got, ["x", "Unnamed: 1.1", "Unnamed: 1"]);
        // Typed names: the number 2023 and the text "2023" are two names.
        let got = header_names(&[
            Value::Int(2023),
            Value::text("2023"),
            Value::Int(2023),
            Value::Empty,
        ]);
        let want = [
            ColName(Value::Int(2023)),
            ColName::from("2023"),
            ColName::from("2023.1"),
            ColName::from("Unnamed: 3"),
        ];
        assert_eq!(got, want);
    }
}
