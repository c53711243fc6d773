//! One stage-2 unit (an input file, or a chunk in `run`) -> its dialogues,
//! as the reference does per file: `dropna()` over every column,
//! `drop_duplicates(keep='first')`, `groupby([agent, customer])` with
//! sorted keys (numbers by value before text by code point; 12 == 12.0),
//! rows in order inside a group.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::error::Result;
use crate::read::ColumnKinds;
use crate::table::Table;
use crate::value::{Key, Value};

/// The required column positions in a table: agent, customer, role,
/// content.
pub type Columns = [usize; 4];

/// What grouping one unit found.
#[derive(Debug, Default)]
pub struct Grouped {
    /// (role, content) of each dialogue's messages, in key order.
    pub dialogues: Vec<Vec<(Value, Value)>>,
    pub rows_read: u64,
    pub dropped_missing: u64,
    pub dropped_duplicate: u64,
}

/// Group a table. `cols` are positions in `table.columns()`; `convert`
/// marks columns whose text turns numeric on the way (see
/// [`reread_conversions`]).
///
/// Rows and keys are compared through their canonical byte encodings
/// ([`Value::write_canonical`]), which are equal exactly when the values
/// are equal under Python `==`: de-duplication is exact, and costs one
/// allocation per distinct row.
pub fn group(table: &mut Table, cols: Columns, reread: Option<&Reread>) -> Result<Grouped> {
    let mut grouper = Grouper::new(table.columns().len(), cols);
    let mut converted: Vec<Value> = Vec::new();
    table.for_each_row(|row| {
        let row = match reread {
            Some(r) => {
                converted.clear();
                if r.typed {
                    converted.extend(row.iter().map(reread_value));
                } else {
                    converted.extend_from_slice(row);
                }
                if let Some(c) = &r.convert {
                    ColumnKinds::convert_row(c, &mut converted);
                }
                &converted[..]
            }
            None => row,
        };
        grouper.row(row);
        Ok(())
    })?;
    Ok(grouper.finish())
}

/// [`group`] one row at a time, for rows that arrive as they are read.
pub struct Grouper {
    width: usize,
    cols: Columns,
    g: Grouped,
    seen: FxHashSet<Box<[u8]>>,
    index: FxHashMap<Box<[u8]>, usize>,
    groups: Vec<((Key, Key), Vec<(Value, Value)>)>,
    row_key: Vec<u8>,
    group_key: Vec<u8>,
}

impl Grouper {
    /// Rows of `width` columns; `cols` are the required columns' positions.
    pub fn new(width: usize, cols: Columns) -> Grouper {
        Grouper {
            width,
            cols,
            g: Grouped::default(),
            seen: FxHashSet::default(),
            index: FxHashMap::default(),
            groups: Vec::new(),
            row_key: Vec::with_capacity(256),
            group_key: Vec::with_capacity(64),
        }
    }

    /// The next row (shorter rows have missing trailing cells).
    pub fn row(&mut self, row: &[Value]) {
        let g = &mut self.g;
        g.rows_read += 1;
        if row.len() < self.width || row.iter().any(Value::is_missing) {
            g.dropped_missing += 1;
            return;
        }
        self.row_key.clear();
        for v in row {
            v.write_canonical(&mut self.row_key);
        }
        if self.seen.contains(&self.row_key[..]) {
            g.dropped_duplicate += 1;
            return;
        }
        self.seen.insert(self.row_key.as_slice().into());
        let [agent, customer, role, content] = self.cols;
        self.group_key.clear();
        row[agent].write_canonical(&mut self.group_key);
        row[customer].write_canonical(&mut self.group_key);
        let at = match self.index.get(&self.group_key[..]) {
            Some(&i) => i,
            None => {
                self.index
                    .insert(self.group_key.as_slice().into(), self.groups.len());
                self.groups
                    .push(((row[agent].key(), row[customer].key()), Vec::new()));
                self.groups.len() - 1
            }
        };
        self.groups[at]
            .1
            .push((row[role].clone(), row[content].clone()));
    }

    /// The dialogues, in pandas' sorted key order.
    pub fn finish(self) -> Grouped {
        let mut groups = self.groups;
        // pandas' sorted group keys: numbers by value, then text by code point.
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut g = self.g;
        g.dialogues = groups.into_iter().map(|(_, msgs)| msgs).collect();
        g
    }
}

/// The column conversions pandas would apply when stage 2 re-reads this
/// table from the one-sheet xlsx stage 1 writes (`run` groups the table
/// directly, and must see what `dialogues` would read).
pub fn reread_conversions(table: &mut Table) -> Result<Option<Reread>> {
    let mut kinds = ColumnKinds::default();
    let mut typed = false;
    let mut mapped: Vec<Value> = Vec::new();
    table.for_each_row(|row| {
        if row
            .iter()
            .any(|v| matches!(v, Value::Time(_) | Value::Duration(_)))
        {
            typed = true;
            mapped.clear();
            mapped.extend(row.iter().map(reread_value));
            kinds.observe(&mapped);
        } else {
            kinds.observe(row);
        }
        Ok(())
    })?;
    let convert = kinds.conversions();
    Ok((typed || convert.is_some()).then_some(Reread { convert, typed }))
}

/// How `run` must see a chunk's table so that it equals `dialogues` on the
/// chunk's xlsx: the values as stage 2 reads them back, then pandas'
/// column conversions of that re-read.
#[derive(Debug, Clone)]
pub struct Reread {
    /// Columns that become numeric on the re-read.
    pub convert: Option<Vec<bool>>,
    /// The table holds times or durations ([`reread_value`] changes them).
    pub typed: bool,
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
    use crate::read::Sheet;

    #[test]
    fn dropna_dedup_and_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = Table::new(dir.path(), 1 << 20);
        let r = |a: Value, c: &str, role: &str, m: &str| {
            vec![a, Value::text(c), Value::text(role), Value::text(m)]
        };
        t.push_sheet(Sheet {
            name: "s".into(),
            columns: ["a", "c", "r", "m"]
                .iter()
                .map(|s| crate::value::ColName::from(*s))
                .collect(),
            rows: vec![
                r(Value::text("B7"), "x", "否", "1"),
                r(Value::Int(12), "x", "否", "2"),
                r(Value::text("0012"), "x", "否", "3"),
                r(Value::Float(12.0), "x", "是", "4"),
                r(Value::Int(12), "x", "否", "2"),
                vec![
                    Value::Int(3),
                    Value::text("x"),
                    Value::Empty,
                    Value::text("5"),
                ],
                r(Value::Float(1001.5), "x", "否", "6"),
            ],
            ..Sheet::default()
        })
        .unwrap();
        let g = group(&mut t, [0, 1, 2, 3], None).unwrap();
        assert_eq!(
            (g.rows_read, g.dropped_missing, g.dropped_duplicate),
            (7, 1, 1)
        );
        let firsts: Vec<String> = g.dialogues.iter().map(|d| d[0].1.to_text()).collect();
        // 12 (two rows, 12 == 12.0), 1001.5, then "0012", "B7".
        assert_eq!(firsts, ["2", "6", "3", "1"]);
        assert_eq!(g.dialogues[0].len(), 2);
    }
}
