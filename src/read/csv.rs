//! CSV inputs: encoding detection and pandas' column type inference.
//!
//! The reference reads CSV with `pd.read_csv(path, encoding=E)`, E being
//! UTF-8 (BOM dropped) when the whole file decodes as UTF-8, else GB18030.
//! pandas then types each column from all of its values: all integers ->
//! int (`0012` -> 12), all numbers -> float, all `True`/`False` -> bool,
//! anything else -> text. Dates stay text.
//!
//! Memory: the file is decoded as a stream ([`open_text`]) under the CSV
//! parser, and the fields are kept row-major in compact blocks (one text
//! buffer and one `u32` end offset per field), because typing needs every
//! value of a column before the first row can be offered. The columns'
//! kinds are decided in one pass over the blocks, then the rows are typed
//! and offered block by block, each block freed once offered: a CSV costs
//! about its decoded text plus 4 bytes a field, not bytes + text + one
//! `String` a field.
//!
//! Limits (each a named file error, the run goes on):
//! - [`MAX_RECORD_BYTES`]: one record (a line, or several when a quoted
//!   field holds newlines) of more than 16 MiB of text. Excel holds 32,767
//!   characters a cell and 16,384 cells a row, so no spreadsheet export
//!   comes near; a record this long is a broken or hostile file (a quote
//!   that never closes swallows the rest of the file into one field), and
//!   the check bounds the memory one record can take.
//! - A quote that never closes: pandas' C parser raises "EOF inside string
//!   starting at row N" (the reference's file error); so does this reader,
//!   naming the line where the quoted field starts.

use std::io::{Cursor, Read};
use std::path::Path;

use super::collect::{Collector, ReadOptions};
#[cfg(test)]
use super::encoding::decode;
use super::encoding::{decode_error, open_text, Chosen};
use crate::error::FileErrorKind;
use crate::value::{is_na_string, Value};

/// The longest record the reader accepts, in bytes of decoded UTF-8 text
/// (delimiters and quotes included): 16 MiB, 500 times Excel's 32,767
/// characters a cell. See the module doc.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

pub(super) fn read(
    path: &Path,
    opts: &ReadOptions,
    c: &mut Collector<'_, '_, '_>,
) -> Result<(), FileErrorKind> {
    if !c.wants("csv") {
        return Ok(());
    }
    let file = std::fs::File::open(path).map_err(FileErrorKind::open)?;
    let (mut text, chosen) = open_text(file, opts.encoding)?;
    // pandas' C parser drops one more leading U+FEFF after decoding,
    // whatever the encoding (a GB18030 file starting 84 31 95 33, or a
    // UTF-8 file with two BOMs, still has a clean first column name).
    let mut head = Vec::with_capacity(3);
    if let Err(e) = text.by_ref().take(3).read_to_end(&mut head) {
        return Err(io_problem(e, &chosen));
    }
    let skip = if head == "\u{FEFF}".as_bytes() { 3 } else { 0 };
    let mut head = Cursor::new(head);
    head.set_position(skip);
    let scan = Scan::new(head.chain(text), MAX_RECORD_BYTES);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(scan);
    let e = match parse(&mut rdr, c) {
        Ok(parsed) => {
            offer(parsed, c);
            return Ok(());
        }
        Err(e) => e,
    };
    let kind = match e.into_kind() {
        csv::ErrorKind::Io(io) => io_problem(io, &chosen),
        kind => FileErrorKind::Csv(format!("{kind:?}")),
    };
    match kind {
        FileErrorKind::Encoding { .. } | FileErrorKind::Undecodable { .. } => Err(kind),
        FileErrorKind::Open(_) => Err(kind),
        // A problem of the CSV itself; yet a byte the encoding cannot
        // decode further on wins, as it did when the whole file was
        // decoded before parsing (and as for the reference, whose decoder
        // runs ahead of its parser).
        kind => Err(decode_problem(path, opts).unwrap_or(kind)),
    }
}

/// The file error for an I/O error of the decoding, scanning reader.
fn io_problem(e: std::io::Error, chosen: &Chosen) -> FileErrorKind {
    if let Some(d) = decode_error(&e) {
        return chosen.error(d);
    }
    if let Some(s) = e.get_ref().and_then(|i| i.downcast_ref::<ScanError>()) {
        return s.kind();
    }
    FileErrorKind::open(e)
}

/// The first byte of the file its encoding cannot decode, if any (a second
/// streamed pass, on the error path only).
fn decode_problem(path: &Path, opts: &ReadOptions) -> Option<FileErrorKind> {
    let file = std::fs::File::open(path).ok()?;
    let (mut text, chosen) = open_text(file, opts.encoding).ok()?;
    match std::io::copy(&mut text, &mut std::io::sink()) {
        Err(e) => decode_error(&e).map(|d| chosen.error(d)),
        Ok(_) => None,
    }
}

/// Fields in one block end at most this far into its text before the next
/// block starts (a block is freed as soon as its rows are offered).
const BLOCK_TEXT: usize = 1 << 20;
/// The flag of a missing field (NA) in [`Block::ends`]; block text stays
/// below 2 GiB (1 MiB + one record of at most 16 MiB).
const NA: u32 = 1 << 31;

/// Records in parse order: their fields' text back to back, and per field
/// its end offset (`| NA` for a missing value, which stores no text).
#[derive(Default)]
struct Block {
    text: String,
    ends: Vec<u32>,
    rows: Vec<RowMeta>,
}

struct RowMeta {
    line: u64,
    first: u32,
    fields: u32,
}

impl Block {
    fn new() -> Block {
        Block {
            text: String::with_capacity(BLOCK_TEXT + (4 << 10)),
            ..Block::default()
        }
    }

    fn push(&mut self, rec: &csv::StringRecord, line: u64) {
        self.rows.push(RowMeta {
            line,
            first: self.ends.len() as u32,
            fields: rec.len() as u32,
        });
        for f in rec {
            if is_na_string(f) {
                self.ends.push(self.text.len() as u32 | NA);
            } else {
                self.text.push_str(f);
                self.ends.push(self.text.len() as u32);
            }
        }
    }

    /// Field `i` of `row` (`None`: missing, or beyond the row's end).
    fn field(&self, row: &RowMeta, i: usize) -> Option<&str> {
        if i >= row.fields as usize {
            return None;
        }
        let k = row.first as usize + i;
        let end = self.ends[k];
        if end & NA != 0 {
            return None;
        }
        let start = if k == 0 { 0 } else { self.ends[k - 1] & !NA };
        Some(&self.text[start as usize..end as usize])
    }
}

/// A CSV parsed but not yet typed.
struct Parsed {
    header: Option<Vec<String>>,
    blocks: Vec<Block>,
    kinds: Vec<Kind>,
}

fn parse<R: Read>(
    rdr: &mut csv::Reader<R>,
    c: &mut Collector<'_, '_, '_>,
) -> Result<Parsed, csv::Error> {
    let mut rec = csv::StringRecord::new();
    let header = loop {
        if !rdr.read_record(&mut rec)? {
            return Ok(Parsed {
                header: None,
                blocks: Vec::new(),
                kinds: Vec::new(),
            });
        }
        if !is_blank_line(&rec) {
            break rec.iter().map(str::to_owned).collect::<Vec<_>>();
        }
    };
    let width = header.len();
    let mut kinds = vec![Kind::default(); width];
    let mut blocks = vec![Block::new()];
    let mut records = 0u64;
    while rdr.read_record(&mut rec)? {
        if is_blank_line(&rec) {
            continue;
        }
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() > width {
            return Err(csv::Error::from(std::io::Error::other(ScanError::Ragged {
                line,
                expected: width,
                saw: rec.len(),
            })));
        }
        for (i, k) in kinds.iter_mut().enumerate() {
            k.observe(rec.get(i).filter(|f| !is_na_string(f)));
        }
        let block = blocks.last_mut().expect("one block at least");
        block.push(&rec, line);
        if block.text.len() >= BLOCK_TEXT {
            // Sealed: no growth slack is kept for the rest of the read.
            block.text.shrink_to_fit();
            block.ends.shrink_to_fit();
            block.rows.shrink_to_fit();
            blocks.push(Block::new());
        }
        records += 1;
        if records.is_multiple_of(65_536) && crate::interrupt::requested() {
            c.interrupted = true;
            break;
        }
    }
    Ok(Parsed {
        header: Some(header),
        blocks,
        kinds,
    })
}

/// Type the parsed rows and offer them, freeing each block once offered.
fn offer(parsed: Parsed, c: &mut Collector<'_, '_, '_>) {
    let mut b = c.sheet_with("csv", false);
    let Some(header) = parsed.header else {
        c.end_sheet(b);
        return;
    };
    let typed: Vec<Typed> = parsed.kinds.iter().map(Kind::resolve).collect();
    // The header row goes through the builder like any sheet's.
    let header_row = header
        .iter()
        .map(|h| {
            if h.is_empty() {
                Value::Empty
            } else {
                Value::Text(h.as_str().into())
            }
        })
        .collect();
    c.row(&mut b, header_row, 1);
    for block in parsed.blocks {
        for meta in &block.rows {
            let row: Vec<Value> = typed
                .iter()
                .enumerate()
                .map(|(i, t)| t.convert(block.field(meta, i)))
                .collect();
            c.row(&mut b, row, meta.line);
        }
    }
    c.end_sheet(b);
}

/// A blank line to pandas' C tokenizer (`skip_blank_lines`): empty, or only
/// spaces and tabs (its whitespace-line state; the csv crate already drops
/// empty lines, but a line of spaces is one field of spaces to it).
fn is_blank_line(rec: &csv::StringRecord) -> bool {
    rec.len() == 1 && rec[0].bytes().all(|b| b == b' ' || b == b'\t')
}

/// What one column's values allow, seen one value at a time: pandas'
/// inference decided without holding the column.
#[derive(Debug, Clone, Default)]
struct Kind {
    present: bool,
    any_na: bool,
    not_int: bool,
    not_float: bool,
    not_bool: bool,
    not_int64: bool,
    /// A value beyond uint64 or below int64 (a Python int).
    python: bool,
    negative: bool,
}

/// How a column's raw fields become values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Typed {
    /// Integers; floats when a value is missing.
    Int {
        floats: bool,
    },
    Float,
    Bool,
    Text,
}

impl Kind {
    fn observe(&mut self, field: Option<&str>) {
        let Some(s) = field else {
            self.any_na = true;
            return;
        };
        self.present = true;
        if !self.not_int {
            match parse_int(s) {
                Some(i) => {
                    self.not_int64 |= i64::try_from(i).is_err();
                    self.python |= i > u64::MAX as i128 || i < i64::MIN as i128;
                    self.negative |= i < 0;
                }
                None => self.not_int = true,
            }
        }
        if !self.not_float && parse_float(s).is_none() {
            self.not_float = true;
        }
        if !self.not_bool && parse_bool(s).is_none() {
            self.not_bool = true;
        }
    }

    /// pandas' inference for the column: all integers -> ints (floats when
    /// a value is missing), all numeric -> floats, all `True`/`False` ->
    /// booleans, else text.
    fn resolve(&self) -> Typed {
        if self.present && !self.not_int {
            // pandas' C parser: int64 when every value fits; else uint64
            // when none is negative; a value beyond uint64 or below int64
            // makes an object column of Python ints (missing values stay
            // missing); uint64 values beside a negative one leave the
            // column as text.
            let int64 = !self.not_int64;
            if int64 || self.python || !self.negative {
                return Typed::Int {
                    floats: self.any_na && !self.python,
                };
            }
            return Typed::Text;
        }
        if self.present && !self.not_float {
            return Typed::Float;
        }
        if self.present && !self.not_bool {
            return Typed::Bool;
        }
        Typed::Text
    }
}

impl Typed {
    fn convert(self, field: Option<&str>) -> Value {
        let Some(s) = field else {
            return Value::Empty;
        };
        match self {
            Typed::Int { floats } => match parse_int(s) {
                Some(i) if floats => Value::number(i as f64),
                Some(i) => Value::int(i),
                None => Value::Empty,
            },
            Typed::Float => parse_float(s).map_or(Value::Empty, Value::number),
            Typed::Bool => parse_bool(s).map_or(Value::Empty, Value::Bool),
            Typed::Text => Value::Text(s.into()),
        }
    }
}

/// One column typed as pandas would (the reader's own path, column-wise).
#[cfg(test)]
fn type_column(col: Vec<Option<String>>) -> Vec<Value> {
    let mut k = Kind::default();
    for f in &col {
        k.observe(f.as_deref());
    }
    let t = k.resolve();
    col.iter().map(|f| t.convert(f.as_deref())).collect()
}

/// Why the scan of a CSV's text stopped it (carried through the csv
/// crate as an I/O error).
#[derive(Debug, Clone)]
enum ScanError {
    RecordTooLong {
        line: u64,
        limit: usize,
    },
    UnclosedQuote {
        line: u64,
    },
    Ragged {
        line: u64,
        expected: usize,
        saw: usize,
    },
}

impl ScanError {
    fn kind(&self) -> FileErrorKind {
        match *self {
            ScanError::RecordTooLong { line, limit } => FileErrorKind::Limit(format!(
                "line {line}: a CSV record longer than {} (the CSV record limit; a quote that never closes makes one)",
                human_bytes(limit)
            )),
            ScanError::UnclosedQuote { line } => FileErrorKind::Csv(format!(
                "line {line}: a quoted field starts here and never ends (EOF inside string)"
            )),
            ScanError::Ragged {
                line,
                expected,
                saw,
            } => FileErrorKind::RaggedRow {
                line,
                expected,
                saw,
            },
        }
    }
}

fn human_bytes(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind())
    }
}

impl std::error::Error for ScanError {}

/// Where the CSV tokenizer stands (csv_core's default dialect, which is
/// pandas' for these files: `,`, `"` doubled inside quotes, a quote only
/// opens a field at its start, CR, LF or CRLF end a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stand {
    StartField,
    InField,
    InQuoted,
    ClosingQuote,
}

/// The decoded text on its way to the csv crate, scanned for record
/// boundaries: a record longer than the limit, or a quote open at the end
/// of the file, stops the read with a [`ScanError`] before the csv crate
/// buffers it (the crate itself has no limit, and ends a quoted field
/// silently at the end of the file).
struct Scan<R> {
    inner: R,
    state: Stand,
    /// 1-based line of the next byte.
    line: u64,
    record_bytes: usize,
    record_line: u64,
    quote_line: u64,
    limit: usize,
    failed: Option<ScanError>,
}

impl<R: Read> Scan<R> {
    fn new(inner: R, limit: usize) -> Self {
        Scan {
            inner,
            state: Stand::StartField,
            line: 1,
            record_bytes: 0,
            record_line: 1,
            quote_line: 1,
            limit,
            failed: None,
        }
    }

    fn fail(&mut self, e: ScanError) -> std::io::Error {
        self.failed = Some(e.clone());
        std::io::Error::other(e)
    }
}

impl<R: Read> Read for Scan<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(e) = &self.failed {
            return Err(std::io::Error::other(e.clone()));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            if self.state == Stand::InQuoted {
                return Err(self.fail(ScanError::UnclosedQuote {
                    line: self.quote_line,
                }));
            }
            return Ok(0);
        }
        let mut i = 0;
        let bytes = &buf[..n];
        while i < n {
            // Runs of ordinary bytes are skipped with memchr.
            match self.state {
                Stand::InQuoted => match memchr::memchr2(b'"', b'\n', &bytes[i..]) {
                    Some(k) => {
                        self.record_bytes += k;
                        i += k;
                    }
                    None => {
                        self.record_bytes += n - i;
                        break;
                    }
                },
                Stand::InField => match memchr::memchr3(b',', b'\n', b'\r', &bytes[i..]) {
                    Some(k) => {
                        self.record_bytes += k;
                        i += k;
                    }
                    None => {
                        self.record_bytes += n - i;
                        break;
                    }
                },
                _ => {}
            }
            let b = bytes[i];
            i += 1;
            self.record_bytes += 1;
            let end = matches!(b, b'\n' | b'\r');
            self.state = match (self.state, b) {
                (Stand::InQuoted, b'"') => Stand::ClosingQuote,
                (Stand::InQuoted, _) => Stand::InQuoted,
                (Stand::StartField, b'"') => {
                    self.quote_line = self.line;
                    Stand::InQuoted
                }
                (Stand::ClosingQuote, b'"') => Stand::InQuoted,
                (_, b',') => Stand::StartField,
                (_, _) if end => Stand::StartField,
                _ => Stand::InField,
            };
            if b == b'\n' {
                self.line += 1;
            }
            if self.record_bytes > self.limit {
                return Err(self.fail(ScanError::RecordTooLong {
                    line: self.record_line,
                    limit: self.limit,
                }));
            }
            if end && self.state == Stand::StartField {
                self.record_bytes = 0;
                self.record_line = self.line;
            }
        }
        if self.record_bytes > self.limit {
            return Err(self.fail(ScanError::RecordTooLong {
                line: self.record_line,
                limit: self.limit,
            }));
        }
        Ok(n)
    }
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

    fn scan_all(text: &[u8], limit: usize) -> Result<Vec<u8>, FileErrorKind> {
        let mut out = Vec::new();
        Scan::new(text, limit).read_to_end(&mut out).map_err(|e| {
            e.get_ref()
                .unwrap()
                .downcast_ref::<ScanError>()
                .unwrap()
                .kind()
        })?;
        Ok(out)
    }

    #[test]
    fn the_scan_finds_unclosed_quotes_and_long_records() {
        assert!(scan_all(b"a,b\n1,\"x\"\"y\"\n2,z\"\n", 100).is_ok());
        let e = scan_all(b"a,b\n1,x\n2,\"y\nz\n", 100).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("bad CSV: line 3: a quoted field starts here"),
            "{e}"
        );
        // A quoted newline does not end the record; the limit counts it.
        assert!(scan_all(b"a,b\n\"1\n2\n3\",x\n", 12).is_ok());
        let e = scan_all(b"a,b\n\"1\n2\n3\",xxxxxxxx\n", 12).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 2: a CSV record longer than 12 bytes"),
            "{e}"
        );
    }

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
