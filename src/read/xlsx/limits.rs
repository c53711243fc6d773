//! Limits that keep a hostile workbook a file error instead of an abort.
//!
//! An xlsx is a zip of XML parts, and deflate shrinks repeated bytes about
//! a thousand times: a file of a few MB can hold gigabytes of XML — one
//! 2 GB cell or attribute, 126 M empty shared strings, nesting two billion
//! elements deep. An allocation failure aborts the process (`catch_unwind`
//! cannot catch it), so every structure that grows with the input is
//! bounded *before* it allocates, and going over a bound is a named
//! per-file error ([`FileErrorKind::Limit`]) that says which limit and its
//! value. Declared sizes (`<dimension>`, `count`/`uniqueCount`, a zip
//! entry's sizes) are never used to size anything.
//!
//! Every bound is far above what Excel itself writes (1,048,576 rows,
//! 16,384 columns, 32,767 characters a cell, 255-character number
//! formats), so no real export hits one.

use std::io::{BufRead, Read};

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::FileErrorKind;

/// Excel's grid: a cell beyond it is an error naming the cell (openpyxl
/// would read it, Excel cannot have written it), not silently dropped.
pub(super) const MAX_ROWS: u32 = 1_048_576;
pub(super) const MAX_COLS: u32 = 16_384;

/// The text of one cell or one shared string, in UTF-8 bytes. Excel holds
/// at most 32,767 UTF-16 units a cell: at most 128 KiB of UTF-8, 229 KiB
/// written as `_xHHHH_` escapes. 1 MiB leaves room for writers that do not
/// enforce Excel's limit.
pub(super) const MAX_CELL_BYTES: usize = 1 << 20;

/// One XML token — a tag with its attributes, a run of text, a comment, a
/// CDATA section — in bytes of the part. Real tags are a few hundred bytes
/// and a text run is at most one cell's text (with its escapes), so this
/// is twice [`MAX_CELL_BYTES`]: a long cell reports the cell limit. It
/// bounds the parser's buffer, which holds one token at a time.
pub(super) const MAX_TOKEN_BYTES: u64 = 2 << 20;

/// Elements open at once. A worksheet nests about 8 deep (`worksheet`,
/// `sheetData`, `row`, `c`, `is`, `r`, `rPr`, ...), extension lists a few
/// more. The parser keeps a stack of open names (to check end tags), which
/// this bounds.
pub(super) const MAX_DEPTH: usize = 64;

/// The shared-strings table, counted as its text plus
/// [`SHARED_ENTRY_BYTES`] a string (so 126 M empty strings count too). A
/// 1,000,000-row export of unique 100-byte messages needs about 110 MiB.
pub(super) const MAX_SHARED_BYTES: usize = 512 << 20;
/// What one shared string costs beside its text (its end offset, 4 bytes,
/// rounded up for the table's growth).
pub(super) const SHARED_ENTRY_BYTES: usize = 8;
/// Shared strings of one workbook, however short: reading 126 M empty
/// `<si/>` takes a quarter of a minute even within the byte budget. 16 M
/// is 16 unique strings for each of 1,048,576 rows.
pub(super) const MAX_SHARED_STRINGS: usize = 1 << 24;

/// Sheets a workbook lists (LibreOffice's own maximum; Excel has none
/// but memory). A sheet part listed twice is an error of its own: no
/// writer does that, and a 1 MB workbook naming one 5,000-row part
/// 200,000 times would otherwise read a billion rows.
pub(super) const MAX_SHEETS: usize = 10_000;

/// Text of the rows kept from one workbook, in bytes. Cells naming a
/// shared string each get their own copy of it, so a small file can
/// multiply one long string thousands of times; this bounds that (and so
/// the memory of a file in flight). A 1,000,000-row sample export
/// (`sheetsift samples`) is read in about 360 MiB all told; 512 bytes of
/// text a row would still fit.
pub(super) const MAX_KEPT_TEXT_BYTES: usize = 512 << 20;

/// Relationships of one `.rels` part (a workbook has one a sheet plus a
/// handful), and cell formats / number formats of the styles part (Excel
/// allows 64,000 formats, number format codes of 255 characters).
pub(super) const MAX_RELATIONSHIPS: usize = 65_536;
pub(super) const MAX_STYLES: usize = 1 << 20;
pub(super) const MAX_NUMBER_FORMAT_BYTES: usize = 4096;

/// XML events between two looks at the signal flag: a part that yields no
/// rows (shared strings, a sheet of blank rows) still notices SIGINT.
const EVENTS_PER_SIGNAL_CHECK: u32 = 1 << 16;

/// Why reading a part stopped.
#[derive(Debug)]
pub(super) enum XErr {
    /// Not well-formed, or a value that cannot be read.
    Bad(String),
    /// Over one of the limits above (the message names it and its value).
    Limit(String),
    /// SIGINT/SIGTERM arrived.
    Interrupted,
}

impl XErr {
    /// The same error with `prefix: ` before its message (a part, a
    /// sheet, a cell).
    pub(super) fn within(self, prefix: impl std::fmt::Display) -> XErr {
        match self {
            XErr::Bad(m) => XErr::Bad(format!("{prefix}: {m}")),
            XErr::Limit(m) => XErr::Limit(format!("{prefix}: {m}")),
            XErr::Interrupted => XErr::Interrupted,
        }
    }

    pub(super) fn into_kind(self) -> FileErrorKind {
        match self {
            XErr::Bad(m) => super::package::corrupt(m),
            XErr::Limit(m) => FileErrorKind::Limit(format!("over a reading limit: {m}")),
            XErr::Interrupted => FileErrorKind::Interrupted,
        }
    }
}

impl From<String> for XErr {
    fn from(s: String) -> XErr {
        XErr::Bad(s)
    }
}

impl From<XErr> for FileErrorKind {
    fn from(e: XErr) -> FileErrorKind {
        e.into_kind()
    }
}

impl std::fmt::Display for XErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            XErr::Bad(m) | XErr::Limit(m) => f.write_str(m),
            XErr::Interrupted => f.write_str("interrupted"),
        }
    }
}

pub(super) fn cell_too_long() -> XErr {
    XErr::Limit(format!(
        "cell text longer than {} MiB (the limit per cell; Excel's own is 32,767 characters)",
        MAX_CELL_BYTES >> 20
    ))
}

/// A `BufRead` that refuses to deliver more than [`MAX_TOKEN_BYTES`] for
/// one XML token: quick-xml reads a token whole into its buffer, so this
/// is what bounds that buffer. [`next`] opens each token; the parser's
/// reads within it are counted. It also holds the element depth and the
/// event count for [`next`].
pub(super) struct Bounded<B> {
    inner: B,
    used: u64,
    tripped: bool,
    depth: usize,
    events: u32,
}

impl<B> Bounded<B> {
    pub(super) fn new(inner: B) -> Bounded<B> {
        Bounded {
            inner,
            used: 0,
            tripped: false,
            depth: 0,
            events: 0,
        }
    }
}

impl<B: BufRead> Read for Bounded<B> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Bounded<B> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.used > MAX_TOKEN_BYTES {
            self.tripped = true;
            return Err(std::io::Error::other("token limit"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.used += n as u64;
        self.inner.consume(n);
    }
}

/// A quick-xml reader over a bounded source.
pub(super) type XmlReader<B> = Reader<Bounded<B>>;

/// A reader configured as every xlsx part is read: text kept as is, end
/// tags checked, `<a/>` as a start and an end.
pub(super) fn xml_reader<B: BufRead>(src: B) -> XmlReader<B> {
    let mut r = Reader::from_reader(Bounded::new(src));
    let cfg = r.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;
    r
}

/// The next event, within the token and depth limits, noticing signals.
/// Every xlsx XML loop reads through this (never `read_to_end_into`,
/// which would nest without a bound: see [`skip`]).
pub(super) fn next<'b, B: BufRead>(
    r: &mut XmlReader<B>,
    buf: &'b mut Vec<u8>,
) -> Result<Event<'b>, XErr> {
    let src = r.get_mut();
    src.used = 0;
    src.events = src.events.wrapping_add(1);
    if src.events.is_multiple_of(EVENTS_PER_SIGNAL_CHECK) && crate::interrupt::requested() {
        return Err(XErr::Interrupted);
    }
    let ev = match r.read_event_into(buf) {
        Ok(ev) => ev,
        Err(_) if r.get_ref().tripped => {
            return Err(XErr::Limit(format!(
                "an XML token (a tag with its attributes, or a run of text) longer than {} MiB",
                MAX_TOKEN_BYTES >> 20
            )))
        }
        Err(e) => return Err(XErr::Bad(e.to_string())),
    };
    let src = r.get_mut();
    match &ev {
        Event::Start(_) => {
            src.depth += 1;
            if src.depth > MAX_DEPTH {
                return Err(XErr::Limit(format!(
                    "XML elements nested more than {MAX_DEPTH} deep"
                )));
            }
        }
        Event::End(_) => src.depth = src.depth.saturating_sub(1),
        _ => {}
    }
    Ok(ev)
}

/// Skip the rest of the element whose start tag was just read.
pub(super) fn skip<B: BufRead>(r: &mut XmlReader<B>, buf: &mut Vec<u8>) -> Result<(), XErr> {
    let mut open = 1usize;
    loop {
        buf.clear();
        match next(r, buf)? {
            Event::Start(_) => open += 1,
            Event::End(_) => {
                open -= 1;
                if open == 0 {
                    return Ok(());
                }
            }
            Event::Eof => return Err(XErr::Bad("unexpected end of the part".into())),
            _ => {}
        }
    }
}
