//! One stage-2 unit (an input file, or a chunk in `run`) -> its dialogues,
//! as the reference does per file: `dropna()` over every column,
//! `drop_duplicates(keep='first')`, `groupby([agent, customer])` with
//! sorted keys (numbers by value before text by code point; 12 == 12.0),
//! rows in order inside a group.

use rustc_hash::FxHashMap;

use crate::error::Result;
pub use crate::read::reread_value;
use crate::read::{ColumnKinds, RereadKinds};
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
    group_sessions(table, cols, reread, None)
}

/// [`group`], each group then split into sessions (`--session-gap`).
pub fn group_sessions(
    table: &mut Table,
    cols: Columns,
    reread: Option<&Reread>,
    session: Option<Session>,
) -> Result<Grouped> {
    let mut grouper = Grouper::new(table.columns().len(), cols).with_session(session);
    let mut converted: Vec<Value> = Vec::new();
    table.for_each_row(|row| {
        let row = match reread {
            Some(r) => {
                converted.clear();
                converted.extend_from_slice(row);
                r.apply(&mut converted);
                &converted[..]
            }
            None => row,
        };
        grouper.row(row);
        Ok(())
    })?;
    Ok(grouper.finish())
}

/// The distinct rows seen, as their canonical bytes packed end to end in
/// 1 MiB blocks, found through their hash. One boxed copy per distinct row
/// (the set before) cost an allocation, a free and a pointer chase each.
#[derive(Default)]
struct RowSet {
    blocks: Vec<Vec<u8>>,
    /// (hash, block, start, length) of each row.
    table: hashbrown::HashTable<(u64, u32, usize, usize)>,
}

impl RowSet {
    const BLOCK: usize = 1 << 20;

    fn hash(row: &[u8]) -> u64 {
        use std::hash::Hasher;
        let mut h = rustc_hash::FxHasher::default();
        h.write(row);
        h.write_usize(row.len());
        h.finish()
    }

    /// Add `row`; false when it was there already.
    fn insert(&mut self, row: &[u8]) -> bool {
        let hash = Self::hash(row);
        let blocks = &self.blocks;
        let found = self.table.find(hash, |&(h, b, start, len)| {
            h == hash && &blocks[b as usize][start..start + len] == row
        });
        if found.is_some() {
            return false;
        }
        let fits = self
            .blocks
            .last()
            .is_some_and(|b| b.capacity() - b.len() >= row.len());
        if !fits {
            self.blocks
                .push(Vec::with_capacity(row.len().max(Self::BLOCK)));
        }
        let b = self.blocks.len() - 1;
        let block = &mut self.blocks[b];
        let start = block.len();
        block.extend_from_slice(row);
        self.table
            .insert_unique(hash, (hash, b as u32, start, row.len()), |e| e.0);
        true
    }
}

/// [`group_sessions`] on `shards` threads, draining the table.
///
/// Rows go to a shard by the hash of their (agent, customer) key, in
/// order: a group, and every copy of a row (same key), lives in one shard,
/// which sees its rows in table order. So each shard's de-duplication and
/// message order are the serial ones, and the groups of all shards, sorted
/// by their (distinct) keys, are the serial result. The calling thread
/// reads and dispatches the rows; the shards group them meanwhile.
pub fn group_sessions_sharded(
    table: &mut Table,
    cols: Columns,
    reread: Option<&Reread>,
    session: Option<Session>,
    shards: usize,
) -> Result<Grouped> {
    if shards <= 1 {
        return group_sessions(table, cols, reread, session);
    }
    const BATCH: usize = 1024;
    let width = table.columns().len();
    std::thread::scope(|s| {
        let mut txs = Vec::with_capacity(shards);
        let mut workers = Vec::with_capacity(shards);
        for i in 0..shards {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<Vec<Value>>>(4);
            txs.push(tx);
            let worker = std::thread::Builder::new()
                .name(format!("sheetsift-group-{i}"))
                .spawn_scoped(s, move || {
                    let mut g = Grouper::new(width, cols).with_session(session);
                    for batch in rx {
                        for mut row in batch {
                            g.row_taking(&mut row);
                        }
                    }
                    g
                })
                .map_err(|source| crate::error::Error::Thread {
                    what: "a grouping thread",
                    source,
                })?;
            workers.push(worker);
        }
        let mut batches: Vec<Vec<Vec<Value>>> =
            (0..shards).map(|_| Vec::with_capacity(BATCH)).collect();
        let mut key = Vec::with_capacity(64);
        let [agent, customer, _, _] = cols;
        let read = table.drain_rows(|mut row| {
            if let Some(r) = reread {
                r.apply(&mut row);
            }
            key.clear();
            for col in [agent, customer] {
                row.get(col)
                    .unwrap_or(&Value::Empty)
                    .write_canonical(&mut key);
            }
            let shard = (RowSet::hash(&key) % shards as u64) as usize;
            batches[shard].push(row);
            if batches[shard].len() == BATCH {
                let full = std::mem::replace(&mut batches[shard], Vec::with_capacity(BATCH));
                // A shard that stopped has panicked; its join reports it.
                let _ = txs[shard].send(full);
            }
            Ok(())
        });
        for (shard, batch) in batches.into_iter().enumerate() {
            if !batch.is_empty() {
                let _ = txs[shard].send(batch);
            }
        }
        // The shards end when their channels close.
        drop(txs);
        let mut groupers = Vec::with_capacity(shards);
        for w in workers {
            groupers.push(w.join().map_err(|p| crate::error::Error::Panicked {
                what: "a grouping thread",
                msg: crate::pool::panic_message(p),
            })?);
        }
        read?;
        Ok(Grouper::merge(groupers))
    })
}

/// One group: its (agent, customer) key and its (role, content) messages.
type KeyedMessages = ((Key, Key), Vec<(Value, Value)>);

/// [`group`] one row at a time, for rows that arrive as they are read.
pub struct Grouper {
    width: usize,
    cols: Columns,
    g: Grouped,
    seen: RowSet,
    index: FxHashMap<Box<[u8]>, usize>,
    groups: Vec<KeyedMessages>,
    /// With a session gap: each group's messages' send times.
    times: Vec<Vec<Option<i64>>>,
    session: Option<Session>,
    row_key: Vec<u8>,
    group_key: Vec<u8>,
}

/// `--session-gap`: where the send time is and the largest gap inside one
/// dialogue.
///
/// A group's messages (in row order, as the reference keeps them) start a
/// new dialogue wherever a message's send time is more than `gap` away
/// from the last parseable time before it in the group (either way, so
/// the rule does not depend on the rows being sorted); a message without
/// a parseable time stays with the message before it and moves nothing.
/// The split depends on the rows only, so it and the train/val split after
/// it (same seed) are deterministic; the new dialogues keep their group's
/// place in the key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// Position of the time column.
    pub col: usize,
    /// Microseconds.
    pub gap: i64,
}

/// A send time in microseconds since 1899-12-30 (Excel's day 0): an xlsx
/// date-time cell, or text `YYYY-MM-DD HH:MM[:SS[.ffffff]]` (also `/` for
/// `-`, `T` for the space, a date alone). Numbers are not taken: a number
/// could be an Excel serial or a Unix time, and guessing would split wrong.
pub fn send_time(v: &Value) -> Option<i64> {
    match v {
        Value::DateTime(serial) => Some((serial * 86_400e6).round() as i64),
        Value::Text(t) => parse_time_text(t),
        _ => None,
    }
}

fn parse_time_text(t: &str) -> Option<i64> {
    let b = t.trim().as_bytes();
    let mut i = 0;
    let num = |i: &mut usize, max: usize| -> Option<i64> {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        (*i > start).then(|| std::str::from_utf8(&b[start..*i]).ok()?.parse().ok())?
    };
    let year = num(&mut i, 4)?;
    let sep = |i: &mut usize, set: &[u8]| -> bool {
        if *i < b.len() && set.contains(&b[*i]) {
            *i += 1;
            true
        } else {
            false
        }
    };
    if !sep(&mut i, b"-/") {
        return None;
    }
    let month = num(&mut i, 2)?;
    if !sep(&mut i, b"-/") {
        return None;
    }
    let day = num(&mut i, 2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || !(1000..=9999).contains(&year) {
        return None;
    }
    let (mut h, mut m, mut sec, mut micro) = (0, 0, 0, 0);
    if i < b.len() {
        if !sep(&mut i, b" T") {
            return None;
        }
        h = num(&mut i, 2)?;
        if !sep(&mut i, b":") {
            return None;
        }
        m = num(&mut i, 2)?;
        if sep(&mut i, b":") {
            sec = num(&mut i, 2)?;
            if sep(&mut i, b".") {
                let start = i;
                let f = num(&mut i, 6)?;
                micro = f * 10i64.pow((6 - (i - start)) as u32);
            }
        }
        if i != b.len() || h > 23 || m > 59 || sec > 60 {
            return None;
        }
    }
    let days = days_from_civil(year, month, day) + 25_569;
    Some(((days * 86_400 + h * 3600 + m * 60 + sec) * 1_000_000) + micro)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Split one group's messages into sessions (see [`Session`]).
fn split_sessions(
    msgs: Vec<(Value, Value)>,
    times: &[Option<i64>],
    gap: i64,
    out: &mut Vec<Vec<(Value, Value)>>,
) {
    let mut current = Vec::new();
    let mut last: Option<i64> = None;
    for (m, t) in msgs.into_iter().zip(times) {
        if let (Some(t), Some(l)) = (t, last) {
            if (t - l).abs() > gap && !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        }
        if t.is_some() {
            last = *t;
        }
        current.push(m);
    }
    out.push(current);
}

impl Grouper {
    /// Rows of `width` columns; `cols` are the required columns' positions.
    pub fn new(width: usize, cols: Columns) -> Grouper {
        Grouper {
            width,
            cols,
            g: Grouped::default(),
            seen: RowSet::default(),
            index: FxHashMap::default(),
            groups: Vec::new(),
            times: Vec::new(),
            session: None,
            row_key: Vec::with_capacity(256),
            group_key: Vec::with_capacity(64),
        }
    }

    /// Split groups into sessions (`None`: as the reference).
    pub fn with_session(mut self, session: Option<Session>) -> Grouper {
        self.session = session;
        self
    }

    /// The next row (shorter rows have missing trailing cells).
    pub fn row(&mut self, row: &[Value]) {
        if let Some(at) = self.place(row) {
            let [_, _, role, content] = self.cols;
            self.groups[at]
                .1
                .push((row[role].clone(), row[content].clone()));
        }
    }

    /// [`Grouper::row`] for a row nobody needs after: the message's role
    /// and content are moved out of it, not copied.
    pub fn row_taking(&mut self, row: &mut [Value]) {
        if let Some(at) = self.place(row) {
            let [_, _, role, content] = self.cols;
            let c = std::mem::replace(&mut row[content], Value::Empty);
            let r = if role == content {
                c.clone()
            } else {
                std::mem::replace(&mut row[role], Value::Empty)
            };
            self.groups[at].1.push((r, c));
        }
    }

    /// Count the row, drop it if it has a missing value or was seen
    /// before, else find (or open) its group: `Some(group)` for a message
    /// to add there.
    fn place(&mut self, row: &[Value]) -> Option<usize> {
        let g = &mut self.g;
        g.rows_read += 1;
        if row.len() < self.width || row.iter().any(Value::is_missing) {
            g.dropped_missing += 1;
            return None;
        }
        self.row_key.clear();
        for v in row {
            v.write_canonical(&mut self.row_key);
        }
        if !self.seen.insert(&self.row_key) {
            g.dropped_duplicate += 1;
            return None;
        }
        let [agent, customer, _, _] = self.cols;
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
                if self.session.is_some() {
                    self.times.push(Vec::new());
                }
                self.groups.len() - 1
            }
        };
        if let Some(s) = self.session {
            self.times[at].push(send_time(&row[s.col]));
        }
        Some(at)
    }

    /// The dialogues of groupers that saw disjoint sets of keys, as one
    /// grouper that saw all their rows would give them.
    fn merge(groupers: Vec<Grouper>) -> Grouped {
        let mut all = groupers.into_iter();
        let Some(mut one) = all.next() else {
            return Grouped::default();
        };
        for g in all {
            one.g.rows_read += g.g.rows_read;
            one.g.dropped_missing += g.g.dropped_missing;
            one.g.dropped_duplicate += g.g.dropped_duplicate;
            one.groups.extend(g.groups);
            one.times.extend(g.times);
        }
        one.finish()
    }

    /// The dialogues, in pandas' sorted key order.
    pub fn finish(self) -> Grouped {
        if let Some(s) = self.session {
            let mut groups: Vec<_> = self.groups.into_iter().zip(self.times).collect();
            groups.sort_by(|a, b| a.0 .0.cmp(&b.0 .0));
            let mut g = self.g;
            for ((_, msgs), times) in groups {
                split_sessions(msgs, &times, s.gap, &mut g.dialogues);
            }
            return g;
        }
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
    let kinds = match table.take_reread() {
        Some(watched) => watched,
        None => {
            let mut kinds = RereadKinds::default();
            table.for_each_row(|row| {
                kinds.observe(row);
                Ok(())
            })?;
            kinds
        }
    };
    let (convert, typed) = kinds.finish();
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

impl Reread {
    /// A row as `dialogues` would read it back.
    pub fn apply(&self, row: &mut [Value]) {
        if self.typed {
            for v in row.iter_mut() {
                if matches!(v, Value::Time(_) | Value::Duration(_)) {
                    *v = reread_value(v);
                }
            }
        }
        if let Some(c) = &self.convert {
            ColumnKinds::convert_row(c, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Sheet;

    #[test]
    fn send_times_parse_text_and_cells() {
        let t = |s: &str| send_time(&Value::text(s));
        assert_eq!(t("2023-05-01 09:30:00"), t("2023/5/1 9:30"));
        assert_eq!(
            t("2023-05-01 09:30:01").unwrap() - t("2023-05-01 09:30:00").unwrap(),
            1_000_000
        );
        assert_eq!(t("2023-05-01T09:30:00.25").unwrap() % 1_000_000, 250_000);
        // 2023-05-01 is Excel serial 45047.
        assert_eq!(send_time(&Value::DateTime(45047.0)), t("2023-05-01"));
        for bad in ["", "昨天", "2023-13-01", "2023-05-01 25:00", "45047"] {
            assert_eq!(t(bad), None, "{bad}");
        }
        assert_eq!(send_time(&Value::Float(45047.0)), None);
    }

    #[test]
    fn sessions_split_on_gaps_and_untimed_rows_follow() {
        let m = |s: &str| (Value::text("否"), Value::text(s));
        let msgs = vec![m("a"), m("b"), m("c"), m("d"), m("e")];
        let h = 3_600_000_000;
        let times = [Some(0), None, Some(2 * h), Some(2 * h + 1), Some(h / 2)];
        let mut out = Vec::new();
        split_sessions(msgs, &times, h, &mut out);
        let texts: Vec<Vec<String>> = out
            .iter()
            .map(|d| d.iter().map(|(_, c)| c.to_text()).collect())
            .collect();
        assert_eq!(texts, [vec!["a", "b"], vec!["c", "d"], vec!["e"]]);
    }

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

    /// Sharded grouping gives the serial result, whatever the number of
    /// shards: duplicates across the table (12 == 12.0 keys too), missing
    /// values, re-read conversions, a spilled table, and sessions.
    #[test]
    fn sharded_grouping_is_the_serial_grouping() {
        let dir = tempfile::tempdir().unwrap();
        let table = |budget: usize| {
            let mut t = Table::new(dir.path(), budget);
            t.watch_reread();
            let mut rows = Vec::new();
            let mut seed = 7u64;
            for i in 0..3000u64 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let k = (seed >> 33) % 40;
                let agent = match k % 4 {
                    0 => Value::Int(k as i64),
                    1 => Value::Float(k as f64),
                    2 => Value::text(&format!("A{k}")),
                    _ => Value::text(&format!("{}", k % 7)),
                };
                let msg = (seed >> 20) % 30;
                let time = Value::text(&format!("2024-01-01 {:02}:00:00", (i / 200) % 24));
                let role = if msg.is_multiple_of(3) {
                    Value::Empty
                } else {
                    Value::text(if msg.is_multiple_of(2) { "是" } else { "否" })
                };
                rows.push(vec![
                    agent,
                    Value::text(&format!("c{}", k % 5)),
                    role,
                    Value::text(&format!("m{msg}")),
                    time,
                    // Times and durations change on the re-read.
                    match msg % 3 {
                        0 => Value::Time(3_600_000_000 * (msg % 2)),
                        1 => Value::Duration(86_400_000_000),
                        _ => Value::text("1.5"),
                    },
                ]);
            }
            t.push_sheet(Sheet {
                name: "s".into(),
                columns: ["a", "c", "r", "m", "t", "x"]
                    .iter()
                    .map(|s| crate::value::ColName::from(*s))
                    .collect(),
                rows,
                ..Sheet::default()
            })
            .unwrap();
            t
        };
        let show = |g: &Grouped| {
            let d: Vec<Vec<(String, String)>> = g
                .dialogues
                .iter()
                .map(|d| {
                    d.iter()
                        .map(|(r, c)| (format!("{r:?}"), format!("{c:?}")))
                        .collect()
                })
                .collect();
            (g.rows_read, g.dropped_missing, g.dropped_duplicate, d)
        };
        for session in [
            None,
            Some(Session {
                col: 4,
                gap: 600_000_000,
            }),
        ] {
            for budget in [1 << 30, 4096] {
                let mut t = table(budget);
                let reread = reread_conversions(&mut t).unwrap();
                let want =
                    show(&group_sessions(&mut t, [0, 1, 2, 3], reread.as_ref(), session).unwrap());
                assert!(want.2 > 0 && want.1 > 0 && want.3.len() > 10);
                for shards in [2, 3, 5] {
                    let mut t = table(budget);
                    let reread = reread_conversions(&mut t).unwrap();
                    let got = group_sessions_sharded(
                        &mut t,
                        [0, 1, 2, 3],
                        reread.as_ref(),
                        session,
                        shards,
                    )
                    .unwrap();
                    assert_eq!(
                        show(&got),
                        want,
                        "{shards} shards, budget {budget}, {session:?}"
                    );
                }
            }
        }
    }

    /// The kinds watched as rows join equal those of a pass over the rows.
    #[test]
    fn watched_reread_kinds_equal_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let sheet = || Sheet {
            name: "s".into(),
            columns: ["a", "b", "c"]
                .iter()
                .map(|s| crate::value::ColName::from(*s))
                .collect(),
            rows: vec![
                vec![
                    Value::text("12"),
                    Value::Bool(true),
                    Value::Time(3_600_000_000),
                ],
                vec![Value::text("7.5"), Value::Int(1), Value::text("x")],
            ],
            ..Sheet::default()
        };
        let mut watched = Table::new(dir.path(), 1 << 20);
        watched.watch_reread();
        watched.push_sheet(sheet()).unwrap();
        let mut plain = Table::new(dir.path(), 1 << 20);
        plain.push_sheet(sheet()).unwrap();
        let a = reread_conversions(&mut watched).unwrap().unwrap();
        let b = reread_conversions(&mut plain).unwrap().unwrap();
        assert_eq!((a.convert.clone(), a.typed), (b.convert, b.typed));
        assert_eq!(a.convert, Some(vec![true, true, false]));
        assert!(a.typed);
    }
}
