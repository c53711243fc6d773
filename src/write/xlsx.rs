//! xlsx output, streamed and compressed on several threads.
//!
//! Rows are cut into pieces of a few thousand; each piece is formatted as
//! worksheet XML ([`sheetxml`], byte for byte what rust_xlsxwriter's
//! constant-memory worksheets write) and raw-deflated on the worker pool,
//! and the deflated pieces are appended in order to an anonymous temporary
//! file beside the output. Memory stays at the pieces in flight whatever
//! the row count, and no thread has to compress a whole sheet at the end.
//!
//! At `finish`, rust_xlsxwriter writes the rest of the package (content
//! types, workbook, styles, document properties, and each sheet's XML
//! around its rows: `<dimension>`, views, margins) for the same sheets and
//! the same used ranges, and [`zipout`] assembles the file: its members,
//! with each sheet's rows spliced in. Past 1,048,575 data rows the output
//! goes on in `Sheet2`, ... with the header repeated. Document dates are
//! fixed, so the bytes are the same on every run and any `--jobs`.
//!
//! [`sheetxml`]: super::sheetxml
//! [`zipout`]: super::zipout

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use super::hashed::HashedFile;
use super::sheetxml::{rows_xml, Used};
use super::zipout::{deflate_piece, ZipOut, FINAL_BLOCK};
use super::Sink;
use crate::error::{Error, Result};
use crate::value::{ColName, Value};

/// Data rows a sheet holds below its header (1,048,576 rows in all).
pub const MAX_DATA_ROWS: u32 = 1_048_575;
/// The longest text a cell holds, in UTF-16 code units.
pub const MAX_TEXT_UTF16: usize = 32_767;
/// Columns a sheet holds (A..XFD).
pub const MAX_COLUMNS: usize = 16_384;
/// A piece is cut at this many rows...
const PIECE_ROWS: usize = 4096;
/// ... or this much text, whichever comes first.
const PIECE_BYTES: usize = 4 << 20;

/// One piece's rows, formatted and deflated.
struct Packed {
    sheet: usize,
    deflated: Vec<u8>,
    crc: crc32fast::Hasher,
    size: u64,
    used: Used,
}

/// A piece of rows of one sheet, starting at 0-based row `first_row`.
struct Piece {
    sheet: usize,
    first_row: u32,
    rows: Vec<Vec<Value>>,
}

impl Piece {
    fn pack(self, level: u32) -> Packed {
        thread_local! {
            // Each thread's XML buffer, kept: pieces are megabytes, and a
            // fresh one each time is page faults and zeroed pages.
            static XML: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        XML.with_borrow_mut(|xml| {
            xml.clear();
            let used = rows_xml(&self.rows, self.first_row, xml);
            drop(self.rows);
            let mut crc = crc32fast::Hasher::new();
            crc.update(xml);
            let mut deflated = Vec::new();
            deflate_piece(xml, level, &mut deflated);
            let size = xml.len() as u64;
            // A piece of huge texts does not pin its buffer for the run.
            if xml.capacity() > 4 * PIECE_BYTES {
                *xml = Vec::new();
            }
            Packed {
                sheet: self.sheet,
                deflated,
                crc,
                size,
                used,
            }
        })
    }
}

/// A sheet's rows so far: deflated, in a temporary file.
struct SheetBody {
    file: File,
    deflated: u64,
    size: u64,
    crc: crc32fast::Hasher,
    used: Used,
}

pub struct XlsxSink {
    path: PathBuf,
    /// The file the package is written into (the open temporary).
    out: Option<File>,
    /// Where temporaries go: beside the output.
    dir: PathBuf,
    level: u32,
    pool: Option<Arc<rayon::ThreadPool>>,
    columns: Vec<ColName>,
    sheets: Vec<SheetBody>,
    /// Next 0-based row of the current sheet (0 = header).
    row: u32,
    batch: Vec<Vec<Value>>,
    batch_bytes: usize,
    pending: VecDeque<Receiver<std::thread::Result<Packed>>>,
    max_pending: usize,
    piece_rows: usize,
}

fn xerr(path: &Path, e: rust_xlsxwriter::XlsxError) -> Error {
    match e {
        rust_xlsxwriter::XlsxError::IoError(io) => Error::io(path, io),
        e => Error::output(path, e.to_string()),
    }
}

impl XlsxSink {
    /// A sink creating `path` at zip level `compression`; pieces are packed
    /// on `pool` when given, else on the caller's thread. (Tests and tools:
    /// outputs go through [`XlsxSink::to_file`].)
    pub fn create(
        path: &Path,
        compression: u8,
        pool: Option<Arc<rayon::ThreadPool>>,
    ) -> Result<XlsxSink> {
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(XlsxSink::to_file(f, path, compression, pool))
    }

    /// A sink writing into `out`, an open temporary whose name is `path`
    /// (for messages and the directory of the sheet temporaries): the
    /// temporary is never opened again by its name.
    pub fn to_file(
        out: File,
        path: &Path,
        compression: u8,
        pool: Option<Arc<rayon::ThreadPool>>,
    ) -> XlsxSink {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let max_pending = pool.as_ref().map_or(0, |p| 2 * p.current_num_threads() + 1);
        XlsxSink {
            path: path.to_path_buf(),
            out: Some(out),
            dir,
            level: compression as u32,
            pool,
            columns: Vec::new(),
            sheets: Vec::new(),
            row: 0,
            batch: Vec::new(),
            batch_bytes: 0,
            pending: VecDeque::new(),
            max_pending,
            piece_rows: PIECE_ROWS,
        }
    }

    /// Cut pieces at `n` rows (tests: many pieces from few rows).
    #[doc(hidden)]
    pub fn piece_rows(mut self, n: usize) -> Self {
        self.piece_rows = n.max(1);
        self
    }

    fn new_sheet(&mut self) -> Result<()> {
        self.cut()?;
        let file = tempfile::tempfile_in(&self.dir).map_err(|e| Error::io(&self.path, e))?;
        self.sheets.push(SheetBody {
            file,
            deflated: 0,
            size: 0,
            crc: crc32fast::Hasher::new(),
            used: Used::default(),
        });
        self.row = 0;
        // The names as the typed cells they were read from (a number, a
        // date-time, ... stays one; pandas' `to_excel` writes them so).
        let header: Vec<Value> = self.columns.iter().map(|c| c.0.clone()).collect();
        self.push(header)
    }

    /// Check a row against the xlsx limits and queue it.
    fn push(&mut self, row: Vec<Value>) -> Result<()> {
        if row.len() > MAX_COLUMNS {
            return Err(Error::output(
                &self.path,
                format!(
                    "row of {} columns is over the xlsx limit of {MAX_COLUMNS}",
                    row.len()
                ),
            ));
        }
        // One pass: the row's size for the piece, and whether a text may
        // be over the cell limit (UTF-8 bytes >= UTF-16 units).
        let mut bytes = 16 * row.len();
        let mut long = false;
        for v in &row {
            if let Value::Text(s) = v {
                bytes += s.len();
                long |= s.len() > MAX_TEXT_UTF16;
            }
        }
        if long {
            if let Some((_, units)) = long_cell(&row) {
                return Err(Error::output(
                    &self.path,
                    format!(
                        "text of {units} UTF-16 units is over the xlsx cell limit of {MAX_TEXT_UTF16}"
                    ),
                ));
            }
        }
        self.batch_bytes += bytes;
        self.batch.push(row);
        self.row += 1;
        if self.batch.len() >= self.piece_rows || self.batch_bytes >= PIECE_BYTES {
            self.cut()?;
        }
        Ok(())
    }

    /// Send the queued rows off as one piece.
    fn cut(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let piece = Piece {
            sheet: self.sheets.len() - 1,
            // The batch is the rows just before `row`, in this sheet.
            first_row: self.row - self.batch.len() as u32,
            rows: std::mem::take(&mut self.batch),
        };
        self.batch_bytes = 0;
        let level = self.level;
        match self.pool.clone() {
            None => {
                let packed = piece.pack(level);
                self.append(packed)
            }
            Some(pool) => {
                while self.pending.len() >= self.max_pending {
                    self.collect_one()?;
                }
                let (tx, rx) = sync_channel(1);
                pool.spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        piece.pack(level)
                    }));
                    // The receiver is gone only when the sink was dropped.
                    let _ = tx.send(r);
                });
                self.pending.push_back(rx);
                Ok(())
            }
        }
    }

    /// Wait for the oldest piece in flight and append it.
    fn collect_one(&mut self) -> Result<()> {
        let Some(rx) = self.pending.pop_front() else {
            return Ok(());
        };
        match rx.recv() {
            Ok(Ok(packed)) => self.append(packed),
            Ok(Err(p)) => Err(Error::output(
                &self.path,
                format!("write failed: {}", crate::pool::panic_message(p)),
            )),
            Err(_) => Err(Error::output(&self.path, "write failed: a worker stopped")),
        }
    }

    fn append(&mut self, p: Packed) -> Result<()> {
        let body = &mut self.sheets[p.sheet];
        body.file
            .write_all(&p.deflated)
            .map_err(|e| Error::io(&self.path, e))?;
        body.deflated += p.deflated.len() as u64;
        body.size += p.size;
        body.crc.combine(&p.crc);
        body.used = body.used.merge(p.used);
        Ok(())
    }

    /// The rest of the package, from rust_xlsxwriter: the same sheets with
    /// cells at the corners of each sheet's used range (so `<dimension>`
    /// matches), in the date format when the sheet has dates (so styles.xml
    /// defines it as format 1, as the rows use it).
    fn package(&self) -> Result<Vec<u8>> {
        let path = &self.path;
        let mut book = Workbook::new();
        book.set_tempdir(&self.dir).map_err(|e| xerr(path, e))?;
        let epoch = ExcelDateTime::from_ymd(2000, 1, 1).map_err(|e| xerr(path, e))?;
        book.set_properties(&DocProperties::new().set_creation_datetime(&epoch));
        let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        for body in &self.sheets {
            let ws = book
                .add_worksheet_with_constant_memory()
                .map_err(|e| xerr(path, e))?;
            if let Some(d) = body.used.dims {
                for (r, c) in [(d.first_row, d.first_col), (d.last_row, d.last_col)] {
                    if body.used.dates {
                        ws.write_number_with_format(r, c, 0, &date)
                    } else {
                        ws.write_number(r, c, 0)
                    }
                    .map_err(|e| xerr(path, e))?;
                }
            }
        }
        book.save_to_buffer().map_err(|e| xerr(path, e))
    }

    /// Write the package; returns its size and SHA-256.
    fn assemble(&mut self) -> Result<(u64, String)> {
        let path = self.path.clone();
        let package = self.package()?;
        let zerr = |e: zip::result::ZipError| Error::output(&path, format!("package: {e}"));
        let mut members = zip::ZipArchive::new(std::io::Cursor::new(package)).map_err(zerr)?;
        let file = self
            .out
            .take()
            .ok_or_else(|| Error::output(&path, "the package was already written"))?;
        let io = |e| Error::io(&path, e);
        let mut z = ZipOut::new(HashedFile::new(file).map_err(io)?);
        for i in 0..members.len() {
            let mut m = members.by_index(i).map_err(zerr)?;
            let name = m.name().map_err(zerr)?.to_string();
            let mut content = Vec::new();
            m.read_to_end(&mut content).map_err(io)?;
            let sheet = name
                .strip_prefix("xl/worksheets/sheet")
                .and_then(|s| s.strip_suffix(".xml"))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| (1..=self.sheets.len()).contains(n));
            let Some(n) = sheet else {
                z.member(&name, &content, self.level).map_err(io)?;
                continue;
            };
            let body = &mut self.sheets[n - 1];
            // The package's sheet around its placeholder rows.
            let (head, tail) = match find(&content, b"<sheetData>") {
                Some(p) => {
                    let start = p + b"<sheetData>".len();
                    let end = rfind(&content, b"</sheetData>").unwrap_or(content.len());
                    (&content[..start], &content[end.max(start)..])
                }
                None => (&content[..], &[][..]),
            };
            if body.size > 0 && tail.is_empty() {
                return Err(Error::output(&path, "package: a sheet without sheetData"));
            }
            let mut d_head = Vec::new();
            deflate_piece(head, self.level, &mut d_head);
            let mut d_tail = Vec::new();
            deflate_piece(tail, self.level, &mut d_tail);
            d_tail.extend_from_slice(&FINAL_BLOCK);
            let mut crc = crc32fast::Hasher::new();
            crc.update(head);
            crc.combine(&body.crc);
            let mut t = crc32fast::Hasher::new();
            t.update(tail);
            crc.combine(&t);
            let size = head.len() as u64 + body.size + tail.len() as u64;
            let deflated = d_head.len() as u64 + body.deflated + d_tail.len() as u64;
            z.begin(&name, crc.finalize(), deflated, size).map_err(io)?;
            z.data(&d_head).map_err(io)?;
            body.file.rewind().map_err(io)?;
            let copied = z
                .copy_with(|out| out.copy_from(&mut (&body.file).take(body.deflated)))
                .map_err(io)?;
            if copied != body.deflated {
                return Err(Error::output(&path, "the sheet's temporary data is short"));
            }
            z.data(&d_tail).map_err(io)?;
        }
        z.finish().map_err(io)?.finish().map_err(io)
    }
}

/// The first text cell longer than xlsx allows: (column, UTF-16 length).
pub fn long_cell(row: &[Value]) -> Option<(usize, usize)> {
    row.iter().enumerate().find_map(|(i, v)| match v {
        // UTF-8 bytes >= UTF-16 units, so short texts are skipped cheaply.
        Value::Text(s) if s.len() > MAX_TEXT_UTF16 => {
            let units = s.encode_utf16().count();
            (units > MAX_TEXT_UTF16).then_some((i, units))
        }
        _ => None,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(hay, needle)
}

impl Sink for XlsxSink {
    fn header(&mut self, columns: &[ColName]) -> Result<()> {
        self.columns = columns.to_vec();
        self.new_sheet()
    }

    fn row(&mut self, row: &[Value]) -> Result<()> {
        self.rows(vec![row.to_vec()])
    }

    fn rows(&mut self, rows: Vec<Vec<Value>>) -> Result<()> {
        for row in rows {
            if self.row > MAX_DATA_ROWS {
                self.new_sheet()?;
            }
            self.push(row)?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Option<(u64, String)>> {
        if self.sheets.is_empty() {
            self.header(&[])?;
        }
        self.cut()?;
        while !self.pending.is_empty() {
            self.collect_one()?;
        }
        self.assemble().map(Some)
    }
}
