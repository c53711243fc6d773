//! A column-aligned concatenation of sheets: the unit that is written as one
//! stage-1 output (a chunk) and grouped as one stage-2 input (a file, or a
//! chunk in `run`).
//!
//! Columns are the union of the sheets' headers in order of first
//! appearance (pandas `concat(sort=False)`); a sheet adds its columns even
//! when all its rows were dropped. Rows stay in memory up to a byte budget
//! and then spill to an anonymous temporary file, so a chunk of 25 files of
//! a million rows each costs a bounded amount of memory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::read::{RereadKinds, Sheet};
use crate::value::{ColName, Value};

/// Default in-memory budget before a table spills to disk.
pub const DEFAULT_SPILL_BYTES: usize = 64 << 20;

/// The union of sheets' headers in order of first appearance, and how a
/// sheet's columns land in it: the one place columns are aligned (the
/// table and the stream sink both use it). Linear in the column count.
#[derive(Debug, Default, Clone)]
pub struct Columns {
    names: Vec<ColName>,
    index: HashMap<ColName, usize>,
}

impl Columns {
    pub fn names(&self) -> &[ColName] {
        &self.names
    }

    /// Position of a text-named column, if any sheet had it.
    pub fn get(&self, name: &str) -> Option<usize> {
        self.index.get(&ColName::from(name)).copied()
    }

    /// Positions of `names` in the union, adding the new ones at the end.
    pub fn add(&mut self, names: &[ColName]) -> Vec<usize> {
        names
            .iter()
            .map(|name| {
                *self.index.entry(name.clone()).or_insert_with(|| {
                    self.names.push(name.clone());
                    self.names.len() - 1
                })
            })
            .collect()
    }

    /// How many columns the union has.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// How many columns `names` would add to the union (a repeated new
    /// name once), without adding them.
    pub fn count_new<'n>(&self, names: impl IntoIterator<Item = &'n ColName>) -> usize {
        let mut new = std::collections::HashSet::new();
        names
            .into_iter()
            .filter(|n| !self.index.contains_key(*n) && new.insert(*n))
            .count()
    }

    /// Positions of `names` in the union, or `None` when one is new.
    pub fn find(&self, names: &[ColName]) -> Option<Vec<usize>> {
        names.iter().map(|n| self.index.get(n).copied()).collect()
    }
}

/// A row moved to the union's positions (`map` from [`Columns::add`]).
/// Rows are returned as they are when the map is the identity.
pub fn align(row: Vec<Value>, map: &[usize]) -> Vec<Value> {
    if is_identity(map) {
        return row;
    }
    let width = map
        .iter()
        .take(row.len())
        .map(|&m| m + 1)
        .max()
        .unwrap_or(0);
    let mut aligned = vec![Value::Empty; width];
    for (v, &m) in row.into_iter().zip(map) {
        aligned[m] = v;
    }
    aligned
}

/// Whether a column map leaves every column where it is.
pub fn is_identity(map: &[usize]) -> bool {
    map.iter().enumerate().all(|(i, &m)| i == m)
}

pub struct Table {
    columns: Columns,
    mem: Vec<Vec<Value>>,
    mem_bytes: usize,
    budget: usize,
    spill_dir: PathBuf,
    spill: Option<BufWriter<File>>,
    spilled_rows: u64,
    rows: u64,
    /// Column kinds of the rows pushed, when watched ([`Table::watch_reread`]).
    reread: Option<RereadKinds>,
}

impl Table {
    /// An empty table that spills into `spill_dir` past `budget` bytes.
    pub fn new(spill_dir: &Path, budget: usize) -> Table {
        Table {
            columns: Columns::default(),
            mem: Vec::new(),
            mem_bytes: 0,
            budget,
            spill_dir: spill_dir.to_path_buf(),
            spill: None,
            spilled_rows: 0,
            rows: 0,
            reread: None,
        }
    }

    /// Observe every row pushed from now on for `run`'s re-read column
    /// kinds (see [`RereadKinds`]); only an empty table starts watching,
    /// so that what [`Table::take_reread`] returns saw every row.
    pub fn watch_reread(&mut self) {
        if self.rows == 0 {
            self.reread = Some(RereadKinds::default());
        }
    }

    /// The kinds watched since the table was empty, if it was watched.
    pub fn take_reread(&mut self) -> Option<RereadKinds> {
        self.reread.take()
    }

    pub fn columns(&self) -> &[ColName] {
        self.columns.names()
    }

    pub fn len(&self) -> u64 {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Position of a column, if any sheet had it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.get(name)
    }

    /// Columns joining the union: where they land (for [`align`]).
    pub fn add_columns(&mut self, names: &[ColName]) -> Vec<usize> {
        self.columns.add(names)
    }

    /// Append a row already aligned to [`Table::add_columns`]' union.
    pub fn push_aligned(&mut self, row: Vec<Value>) -> Result<()> {
        self.push_row(row)
            .map_err(|e| Error::io(&self.spill_dir, e))
    }

    /// Append a sheet: its columns join the union, its rows are aligned.
    pub fn push_sheet(&mut self, sheet: Sheet) -> Result<()> {
        let map = self.columns.add(&sheet.columns);
        for row in sheet.rows {
            self.push_row(align(row, &map))
                .map_err(|e| Error::io(&self.spill_dir, e))?;
        }
        Ok(())
    }

    fn push_row(&mut self, row: Vec<Value>) -> io::Result<()> {
        if let Some(w) = self.reread.as_mut() {
            w.observe(&row);
        }
        self.rows += 1;
        self.mem_bytes += row_bytes(&row);
        self.mem.push(row);
        if self.mem_bytes > self.budget {
            self.spill_mem()?;
        }
        Ok(())
    }

    fn spill_mem(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            let f = tempfile::tempfile_in(&self.spill_dir)?;
            self.spill = Some(BufWriter::with_capacity(1 << 20, f));
        }
        let w = self.spill.as_mut().expect("just set");
        for row in self.mem.drain(..) {
            encode_row(w, &row)?;
            self.spilled_rows += 1;
        }
        self.mem_bytes = 0;
        Ok(())
    }

    /// Hand every row over in order (spilled rows first, then those in
    /// memory), leaving the table empty: for a last pass that needs the
    /// rows themselves, not copies.
    pub fn drain_rows(&mut self, mut f: impl FnMut(Vec<Value>) -> Result<()>) -> Result<()> {
        let dir = self.spill_dir.clone();
        let ioe = |e: io::Error| Error::io(&dir, e);
        if let Some(mut w) = self.spill.take() {
            w.flush().map_err(ioe)?;
            let mut file = w.into_inner().map_err(|e| ioe(e.into_error()))?;
            file.seek(SeekFrom::Start(0)).map_err(ioe)?;
            let mut r = BufReader::with_capacity(1 << 20, file);
            for _ in 0..std::mem::take(&mut self.spilled_rows) {
                let mut row = Vec::new();
                decode_row(&mut r, &mut row).map_err(ioe)?;
                f(row)?;
            }
        }
        self.mem_bytes = 0;
        self.rows = 0;
        for row in std::mem::take(&mut self.mem) {
            f(row)?;
        }
        Ok(())
    }

    /// Visit every row in order (spilled rows first, then those in memory).
    /// Can be called more than once.
    pub fn for_each_row(&mut self, mut f: impl FnMut(&[Value]) -> Result<()>) -> Result<()> {
        let dir = self.spill_dir.clone();
        let ioe = |e: io::Error| Error::io(&dir, e);
        if let Some(w) = self.spill.as_mut() {
            w.flush().map_err(ioe)?;
            let mut file = w.get_ref().try_clone().map_err(ioe)?;
            file.seek(SeekFrom::Start(0)).map_err(ioe)?;
            let mut r = BufReader::with_capacity(1 << 20, file);
            let mut row = Vec::new();
            for _ in 0..self.spilled_rows {
                decode_row(&mut r, &mut row).map_err(ioe)?;
                f(&row)?;
            }
            // Leave the shared file offset at the end for later appends.
            w.get_ref()
                .try_clone()
                .and_then(|mut f| f.seek(SeekFrom::End(0)))
                .map_err(ioe)?;
        }
        for row in &self.mem {
            f(row)?;
        }
        Ok(())
    }
}

/// Kept rows written, in order, to an anonymous temporary file (nothing
/// to remove: it has no name and goes with its last handle), and read
/// back once, in the same order: a file's rows beyond the stream sink's
/// budget while the file is still being read ([`crate::read::Workbook`]).
/// The encoding is the [`Table`]'s.
#[derive(Debug)]
pub struct RowSpill {
    dir: PathBuf,
    w: BufWriter<File>,
    rows: u64,
}

impl RowSpill {
    /// A new empty spill file in `dir`.
    pub fn create(dir: &Path) -> Result<RowSpill> {
        let f = tempfile::tempfile_in(dir).map_err(|e| spill_error(dir, "create", e))?;
        Ok(RowSpill {
            dir: dir.to_path_buf(),
            w: BufWriter::with_capacity(1 << 20, f),
            rows: 0,
        })
    }

    /// Append one row.
    pub fn push(&mut self, row: &[Value]) -> Result<()> {
        encode_row(&mut self.w, row).map_err(|e| spill_error(&self.dir, "write", e))?;
        self.rows += 1;
        Ok(())
    }

    /// Rows appended so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Done writing: read the rows back from the start.
    pub fn into_reader(self) -> Result<SpillReader> {
        let dir = self.dir;
        let mut f = self
            .w
            .into_inner()
            .map_err(|e| spill_error(&dir, "write", e.into_error()))?;
        f.seek(SeekFrom::Start(0))
            .map_err(|e| spill_error(&dir, "read", e))?;
        Ok(SpillReader {
            r: BufReader::with_capacity(1 << 20, f),
            left: self.rows,
            dir,
        })
    }
}

/// A [`RowSpill`] being read back.
pub struct SpillReader {
    dir: PathBuf,
    r: BufReader<File>,
    left: u64,
}

impl SpillReader {
    /// The next row into `row`. A short or unreadable file is an I/O
    /// error naming the spill's directory: the run stops, it never passes
    /// fewer rows on.
    pub fn next_into(&mut self, row: &mut Vec<Value>) -> Result<()> {
        if self.left == 0 {
            let e = io::Error::new(io::ErrorKind::UnexpectedEof, "more rows asked than spilled");
            return Err(spill_error(&self.dir, "read", e));
        }
        decode_row(&mut self.r, row).map_err(|e| spill_error(&self.dir, "read", e))?;
        self.left -= 1;
        Ok(())
    }
}

fn spill_error(dir: &Path, what: &str, e: io::Error) -> Error {
    let kind = e.kind();
    Error::io(
        dir,
        io::Error::new(
            kind,
            format!("cannot {what} a temporary spill file here: {e}"),
        ),
    )
}

/// The memory a row takes, roughly: what the spill budgets count.
pub fn row_bytes(row: &[Value]) -> usize {
    row_bytes_with_text(row, text_bytes(row))
}

/// [`row_bytes`] when the row's [`text_bytes`] are known already.
pub fn row_bytes_with_text(row: &[Value], text: usize) -> usize {
    24 + std::mem::size_of_val(row) + text
}

/// Bytes of text in a row's cells.
pub fn text_bytes(row: &[Value]) -> usize {
    row.iter()
        .map(|v| if let Value::Text(s) = v { s.len() } else { 0 })
        .sum()
}

fn encode_row(w: &mut impl Write, row: &[Value]) -> io::Result<()> {
    w.write_all(&(row.len() as u32).to_le_bytes())?;
    for v in row {
        match v {
            Value::Empty => w.write_all(&[0])?,
            Value::Text(s) => {
                w.write_all(&[1])?;
                w.write_all(&(s.len() as u32).to_le_bytes())?;
                w.write_all(s.as_bytes())?;
            }
            Value::Int(i) => {
                w.write_all(&[2])?;
                w.write_all(&i.to_le_bytes())?;
            }
            Value::Float(x) => {
                w.write_all(&[3])?;
                w.write_all(&x.to_le_bytes())?;
            }
            Value::Bool(b) => w.write_all(&[4, *b as u8])?,
            Value::DateTime(x) => {
                w.write_all(&[5])?;
                w.write_all(&x.to_le_bytes())?;
            }
            Value::BigInt(i) => {
                w.write_all(&[8])?;
                w.write_all(&i.to_le_bytes())?;
            }
            Value::Time(us) => {
                w.write_all(&[6])?;
                w.write_all(&us.to_le_bytes())?;
            }
            Value::Duration(us) => {
                w.write_all(&[7])?;
                w.write_all(&us.to_le_bytes())?;
            }
        }
    }
    Ok(())
}

fn decode_row(r: &mut impl Read, row: &mut Vec<Value>) -> io::Result<()> {
    let mut b4 = [0u8; 4];
    let mut b8 = [0u8; 8];
    r.read_exact(&mut b4)?;
    let n = u32::from_le_bytes(b4) as usize;
    row.clear();
    for _ in 0..n {
        let mut tag = [0u8; 1];
        r.read_exact(&mut tag)?;
        row.push(match tag[0] {
            0 => Value::Empty,
            1 => {
                r.read_exact(&mut b4)?;
                let mut s = vec![0u8; u32::from_le_bytes(b4) as usize];
                r.read_exact(&mut s)?;
                let s = String::from_utf8(s)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                Value::Text(s.into_boxed_str())
            }
            2 => {
                r.read_exact(&mut b8)?;
                Value::Int(i64::from_le_bytes(b8))
            }
            3 => {
                r.read_exact(&mut b8)?;
                Value::Float(f64::from_le_bytes(b8))
            }
            4 => {
                r.read_exact(&mut tag)?;
                Value::Bool(tag[0] != 0)
            }
            5 => {
                r.read_exact(&mut b8)?;
                Value::DateTime(f64::from_le_bytes(b8))
            }
            6 => {
                r.read_exact(&mut b8)?;
                Value::Time(u64::from_le_bytes(b8))
            }
            8 => {
                let mut b16 = [0u8; 16];
                r.read_exact(&mut b16)?;
                Value::BigInt(Box::new(i128::from_le_bytes(b16)))
            }
            7 => {
                r.read_exact(&mut b8)?;
                Value::Duration(i64::from_le_bytes(b8))
            }
            t => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad spool tag {t}"),
                ))
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(cols: &[&str], rows: Vec<Vec<Value>>) -> Sheet {
        Sheet {
            name: "s".into(),
            columns: cols.iter().map(|s| ColName::from(*s)).collect(),
            rows,
            ..Sheet::default()
        }
    }

    #[test]
    fn row_spill_reads_back_in_order_and_a_short_file_is_an_io_error() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![
            vec![Value::text("0012"), Value::Empty, Value::Int(-3)],
            vec![],
            vec![Value::Float(2.5), Value::int(u64::MAX as i128)],
        ];
        let mut s = RowSpill::create(dir.path()).unwrap();
        for r in &rows {
            s.push(r).unwrap();
        }
        assert_eq!(s.rows(), 3);
        let mut r = s.into_reader().unwrap();
        let mut got = Vec::new();
        for want in &rows {
            r.next_into(&mut got).unwrap();
            assert_eq!(&got, want);
        }
        let e = r.next_into(&mut got).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");

        // The file cut short under the reader: an error naming the
        // directory, never a panic or fewer rows.
        let mut s = RowSpill::create(dir.path()).unwrap();
        for r in &rows {
            s.push(r).unwrap();
        }
        s.w.flush().unwrap();
        s.w.get_ref().set_len(7).unwrap();
        let mut r = s.into_reader().unwrap();
        let e = r.next_into(&mut got).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, Error::Io { ref path, .. } if path == dir.path())
                && msg.contains("spill file"),
            "{msg}"
        );
    }

    #[test]
    fn columns_union_in_order_of_first_appearance_and_spill_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        // A tiny budget forces every row through the spill file.
        let mut t = Table::new(dir.path(), 1);
        t.push_sheet(sheet(
            &["a", "b"],
            vec![vec![Value::Int(1), Value::text("x")]],
        ))
        .unwrap();
        t.push_sheet(sheet(&["c", "a"], vec![])).unwrap();
        t.push_sheet(sheet(
            &["b", "a"],
            vec![vec![Value::text("y"), Value::Float(2.5)]],
        ))
        .unwrap();
        t.push_sheet(sheet(
            &["d", "e"],
            vec![
                vec![Value::Bool(true), Value::Time(34_200_000_000)],
                vec![Value::DateTime(45000.5), Value::Duration(-43_200_000_000)],
                vec![Value::int(u64::MAX as i128)],
            ],
        ))
        .unwrap();
        assert_eq!(t.columns(), ["a", "b", "c", "d", "e"]);
        let mut got = Vec::new();
        t.for_each_row(|r| {
            got.push(r.to_vec());
            Ok(())
        })
        .unwrap();
        let e = Value::Empty;
        assert_eq!(
            got,
            vec![
                vec![Value::Int(1), Value::text("x")],
                vec![Value::Float(2.5), Value::text("y")],
                vec![
                    e.clone(),
                    e.clone(),
                    e.clone(),
                    Value::Bool(true),
                    Value::Time(34_200_000_000)
                ],
                vec![
                    e.clone(),
                    e.clone(),
                    e.clone(),
                    Value::DateTime(45000.5),
                    Value::Duration(-43_200_000_000)
                ],
                vec![e.clone(), e.clone(), e, Value::int(u64::MAX as i128)],
            ]
        );
        // A second pass sees the same rows.
        let mut n = 0;
        t.for_each_row(|_| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 5);
    }
}
