//! A fast path for the `<sheetData>` of machine-written worksheets.
//!
//! Excel, openpyxl, rust_xlsxwriter and the like write rows as a regular
//! sequence of `<row>`/`<c>`/`<v>`/`<is><t>` elements. This scanner walks
//! them with `memchr` over a refilled buffer, a whole row at a time, and
//! only emits a row once it understood all of it. Anything else — a
//! comment, CDATA, an element it does not know — stops it at that row's
//! start, and the caller hands the rest of the sheet (the unread bytes
//! chained before the rest of the stream) to the general quick-xml reader.
//! So the fast path either reads a row exactly as the general reader would,
//! or does not read it at all; `tests/fuzz.rs` checks that on mutated
//! sheets.

use std::io::Read;

use memchr::{memchr, memmem};

use super::cells::CellType;
use super::limits::{MAX_CELL_BYTES, MAX_COLS, MAX_DEPTH, MAX_ROWS};

/// One parsed cell: position, `t`, `s`, and its text (the `<v>` or the
/// inline string, entities resolved, line endings normalised).
///
/// A row's cells are kept from row to row and overwritten ([`Cells`]), so
/// their text buffers are allocated once a column, not once a cell.
#[derive(Default)]
pub(crate) struct RawCell {
    pub row: u32,
    pub col: u32,
    /// `t`, as the reader tells them apart (a cell without one is a
    /// number).
    pub ty: CellType,
    pub style: usize,
    pub has_v: bool,
    /// The cell has an `<is>`: its text is `inline`.
    pub has_inline: bool,
    pub inline: String,
    /// The `<v>` text.
    pub text: String,
    /// A shared-string cell's `<v>` of plain digits, read as its index
    /// instead of into `text` (not for row 1, whose NA names are decided
    /// on the text).
    pub shared: Option<u32>,
}

/// The cells of the row just parsed: the first `len` of `slots`; the
/// rest are spare slots whose buffers the next rows reuse.
#[derive(Default)]
pub(crate) struct Cells {
    slots: Vec<RawCell>,
    len: usize,
}

impl Cells {
    pub fn as_slice(&self) -> &[RawCell] {
        &self.slots[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// A fresh cell at (`row`, `col`), its buffers kept.
    fn push(&mut self, row: u32, col: u32) -> &mut RawCell {
        if self.len == self.slots.len() {
            self.slots.push(RawCell::default());
        }
        let c = &mut self.slots[self.len];
        self.len += 1;
        c.row = row;
        c.col = col;
        c.ty = CellType::Number;
        c.style = 0;
        c.has_v = false;
        c.has_inline = false;
        c.inline.clear();
        c.text.clear();
        c.shared = None;
        c
    }

    /// Forget the last cell pushed (it was not read after all).
    fn pop(&mut self) {
        self.len -= 1;
    }
}

pub(crate) enum Step {
    /// Cells of one row.
    Row,
    /// `</sheetData>` (or the end of the stream).
    End,
    /// Not understood: the unread bytes start at a row boundary.
    Fallback,
}

/// The tags open at `<sheetData>`: to reopen for the general reader, and
/// the sheetData name its end tag must match.
#[derive(Clone, Debug, Default)]
pub(crate) struct OpenTags {
    pub reopen: Vec<u8>,
    pub sheet_data_name: Vec<u8>,
}

impl FastSheet<std::io::Empty> {
    /// Parse one block of whole rows cut from the middle of a sheet: no
    /// refills, and every row must carry its `r`.
    pub fn block(bytes: Vec<u8>, open: &OpenTags) -> Self {
        let mut f = FastSheet::resume(std::io::empty(), bytes, open, (0, false, 0));
        f.eof = true;
        f.strict_rows = true;
        f
    }

    /// The block's bytes back.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

pub(crate) struct FastSheet<R: Read> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// The start tags open at `<sheetData>`, to reopen on a fallback.
    pub reopen: Vec<u8>,
    /// The sheetData element's name as written (`sheetData`, `x:sheetData`):
    /// its end tag must match it exactly, as the general reader checks.
    sheet_data_name: Vec<u8>,
    /// Row state shared with the general reader.
    pub row: u32,
    pub row_seen: bool,
    /// The column after the last cell read (the general reader's
    /// position for a cell without `r`).
    pub next_col: u32,
    pub cells: Cells,
    /// Every row must carry its own `r`: for a block parsed without the
    /// rows before it, whose position a row without `r` would depend on.
    strict_rows: bool,
}

const CHUNK: usize = 1 << 18;

/// Built once: a searcher per row costs more than the search.
static ROW_END: std::sync::LazyLock<memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memmem::Finder::new(b"row>"));

impl<R: Read> FastSheet<R> {
    pub fn new(src: R) -> Self {
        FastSheet {
            src,
            buf: Vec::with_capacity(CHUNK * 2),
            pos: 0,
            eof: false,
            reopen: Vec::new(),
            sheet_data_name: b"sheetData".to_vec(),
            row: 0,
            row_seen: false,
            next_col: 0,
            cells: Cells::default(),
            strict_rows: false,
        }
    }

    /// Go on at a row boundary of a sheet whose `<sheetData>` was found
    /// elsewhere: `buf` holds the first unread bytes, `src` the rest.
    pub fn resume(
        src: R,
        buf: Vec<u8>,
        open: &OpenTags,
        (row, row_seen, next_col): (u32, bool, u32),
    ) -> Self {
        FastSheet {
            src,
            buf,
            pos: 0,
            eof: false,
            reopen: open.reopen.clone(),
            sheet_data_name: open.sheet_data_name.clone(),
            row,
            row_seen,
            next_col,
            cells: Cells::default(),
            strict_rows: false,
        }
    }

    /// The start tags open at `<sheetData>` (after [`Self::seek_sheet_data`]).
    pub fn open_tags(&self) -> OpenTags {
        OpenTags {
            reopen: self.reopen.clone(),
            sheet_data_name: self.sheet_data_name.clone(),
        }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Whether everything read so far was consumed and the source is done.
    pub fn exhausted(&self) -> bool {
        self.eof && self.pos >= self.buf.len()
    }

    /// Every byte read so far, and the source: for a fallback before any
    /// row was read.
    pub fn into_all(self) -> (Vec<u8>, R) {
        (self.buf, self.src)
    }

    /// The bytes not consumed yet, and the source: for the fallback.
    pub fn into_rest(self) -> (Vec<u8>, R) {
        (self.buf[self.pos..].to_vec(), self.src)
    }

    fn fill(&mut self) -> std::io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // Into spare capacity: no zeroing of the buffer first.
        let n = (&mut self.src)
            .take(CHUNK as u64)
            .read_to_end(&mut self.buf)?;
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// Skip to just after `<sheetData ...>`. `Ok(true)`: rows follow;
    /// `Ok(false)`: `<sheetData/>`; `Err(())`: no sheetData found, or the
    /// part before it is not well-formed (the caller falls back to the
    /// general reader from the first byte, which is kept).
    pub fn seek_sheet_data(&mut self) -> std::io::Result<Result<bool, ()>> {
        let mut from = 0;
        loop {
            if let Some(i) = memmem::find(&self.buf[from..], b"sheetData") {
                let at = from + i;
                let Some(gt) = memchr(b'>', &self.buf[at..]) else {
                    if !self.fill()? {
                        return Ok(Err(()));
                    }
                    continue;
                };
                let end = at + gt + 1;
                let Some(reopen) = prefix_open_tags(&self.buf[..end]) else {
                    return Ok(Err(()));
                };
                // The last reopened tag is `<NAME>` of sheetData itself.
                let last = reopen.iter().rposition(|&b| b == b'<').unwrap_or(0);
                self.sheet_data_name = reopen[last + 1..reopen.len() - 1].to_vec();
                self.reopen = reopen;
                self.pos = end;
                return Ok(Ok(self.buf[end - 2] != b'/'));
            }
            from = self.buf.len().saturating_sub(16);
            if self.buf.len() > 64 << 20 || !self.fill()? {
                return Ok(Err(()));
            }
        }
    }

    /// Parse the next row into `self.cells`.
    pub fn next_row(&mut self) -> std::io::Result<Step> {
        loop {
            // Whitespace between rows.
            while self.pos < self.buf.len() && self.buf[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if self.pos + 64 > self.buf.len() && !self.eof {
                self.fill()?;
                continue;
            }
            if self.pos >= self.buf.len() {
                return Ok(Step::End);
            }
            let rest = &self.buf[self.pos..];
            if rest[0] != b'<' {
                return Ok(Step::Fallback);
            }
            let Some(tag_end) = find_tag_end(rest, 0) else {
                if !self.fill()? {
                    return Ok(Step::Fallback);
                }
                continue;
            };
            let tag = &rest[1..tag_end];
            if let Some(close) = tag.strip_prefix(b"/") {
                return Ok(
                    if close.trim_ascii_end() == self.sheet_data_name.as_slice() {
                        Step::End
                    } else {
                        Step::Fallback
                    },
                );
            }
            let nlen = tag_name(tag).len();
            if local(&tag[..nlen]) != b"row" {
                return Ok(Step::Fallback);
            }
            // The row ends at `/>` of its start tag or at `</row>`; `row>`
            // may also occur inside text, so check each occurrence.
            let empty = tag.last() == Some(&b'/');
            let end = if empty {
                Some(tag_end + 1)
            } else {
                ROW_END
                    .find_iter(&rest[tag_end..])
                    .map(|i| tag_end + i)
                    .find(|&at| closes_row(rest, at))
                    .map(|at| at + 4)
            };
            let Some(end) = end else {
                if self.eof || rest.len() > 64 << 20 {
                    return Ok(Step::Fallback);
                }
                self.fill()?;
                continue;
            };
            let row_bytes = &self.buf[self.pos..self.pos + end];
            // The general reader rejects invalid UTF-8 anywhere, even inside
            // tags this scanner skips: check the whole row (once: its texts
            // are slices of it).
            let Ok(row_text) = simdutf8::basic::from_utf8(row_bytes) else {
                return Ok(Step::Fallback);
            };

            let mut cells = std::mem::take(&mut self.cells);
            let (mut row, mut seen) = (self.row, self.row_seen);
            let ok = parse_row(
                row_text,
                tag_end,
                empty,
                self.strict_rows,
                &mut row,
                &mut seen,
                &mut cells,
            );
            self.cells = cells;
            if !ok {
                return Ok(Step::Fallback);
            }
            self.row = row;
            self.row_seen = seen;
            self.next_col = self.cells.as_slice().last().map_or(0, |c| c.col + 1);
            self.pos += end;
            return Ok(Step::Row);
        }
    }
}

/// Whether the `row>` at `at` ends a `</row>` or `</prefix:row>` tag.
fn closes_row(bytes: &[u8], at: usize) -> bool {
    let Some(lt) = bytes[..at].iter().rposition(|&b| b == b'<') else {
        return false;
    };
    let between = &bytes[lt + 1..at];
    between.first() == Some(&b'/')
        && (between.len() == 1
            || (between.ends_with(b":")
                && !between
                    .iter()
                    .any(|b| b.is_ascii_whitespace() || *b == b'>')))
}

/// Just past the last `</row>` in `bytes`: where a block of whole rows can
/// be cut. Only a hint: a block cut anywhere else just fails the fast parse
/// at that row, and the caller goes on serially from there.
pub(crate) fn last_row_end(bytes: &[u8]) -> Option<usize> {
    memmem::rfind_iter(bytes, b"row>")
        .find(|&at| closes_row(bytes, at))
        .map(|at| at + 4)
}

/// Just past the first `</row>` ending at or after `from`.
pub(crate) fn next_row_end(bytes: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3).min(bytes.len());
    ROW_END
        .find_iter(&bytes[start..])
        .map(|i| start + i)
        .find(|&at| closes_row(bytes, at))
        .map(|at| at + 4)
}

/// Whether the worksheet up to and including its `<sheetData>` start tag
/// parses as the general reader would parse it (it is short: sheet
/// properties, views, column widths).
/// Returns the start tags open at `<sheetData>`, itself included, to
/// reopen them for the general reader on a fallback.
fn prefix_open_tags(prefix: &[u8]) -> Option<Vec<u8>> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_reader(prefix);
    r.config_mut().check_end_names = true;
    let mut buf = Vec::new();
    let mut open: Vec<String> = Vec::new();
    loop {
        match r.read_event_into(&mut buf) {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) if e.local_name().as_ref() == "sheetData" => {
                open.push(e.name().as_ref().to_string());
                return Some(
                    open.iter()
                        .flat_map(|n| [b"<".as_slice(), n.as_bytes(), b">"].concat())
                        .collect(),
                );
            }
            // Deeper than the limit: the general reader reports it.
            Ok(Event::Start(_)) if open.len() >= MAX_DEPTH => return None,
            Ok(Event::Start(e)) => open.push(e.name().as_ref().to_string()),
            Ok(Event::End(_)) => {
                open.pop()?;
            }
            Ok(Event::Eof) | Err(_) => return None,
            _ => {}
        }
        buf.clear();
    }
}

/// The `>` that ends the tag starting at `from`, skipping quoted
/// attribute values (which may contain `>`).
fn find_tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    // Tags are short: one plain pass beats setting up SIMD searches.
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(from + 1) {
        match (quote, b) {
            // `<` is never valid inside a tag, quoted or not: a damaged
            // tag is for the general reader, whose quote tracking may run
            // past this row.
            (_, b'<') => return None,
            (None, b'>') => return Some(i),
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            _ => {}
        }
    }
    None
}

/// After optional whitespace from `p`, the next tag: its `<` and `>`
/// positions; `None` for text or anything malformed.
fn next_tag(bytes: &[u8], mut p: usize) -> Option<(usize, usize)> {
    while p < bytes.len() && bytes[p].is_ascii_whitespace() {
        p += 1;
    }
    if bytes.get(p) != Some(&b'<') {
        return None;
    }
    Some((p, find_tag_end(bytes, p)?))
}

/// The element name at the start of a tag's body (`x:c r="A1"` -> `x:c`).
fn tag_name(tag: &[u8]) -> &[u8] {
    let end = tag
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(tag.len());
    let name = &tag[..end];
    // In `<a/>` the slash closes the element; anywhere else (`<is/t>`) it
    // is part of the name, as quick-xml reads it.
    if end == tag.len() {
        name.strip_suffix(b"/").unwrap_or(name)
    } else {
        name
    }
}

/// The local part of a possibly prefixed name.
fn local(name: &[u8]) -> &[u8] {
    match name.iter().position(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Attributes of a start tag body (`name="v" name='v'`), raw values.
fn attrs<'a>(mut s: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) -> bool {
    loop {
        while let Some((&b, r)) = s.split_first() {
            if b.is_ascii_whitespace() {
                s = r;
            } else {
                break;
            }
        }
        if s.is_empty() || s == b"/" {
            return true;
        }
        let Some(eq) = s.iter().position(|&b| b == b'=') else {
            return false;
        };
        let key = s[..eq].trim_ascii();
        // Only plain ASCII names; anything else is for the general reader.
        if key.is_empty()
            || !key
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'.' | b'-'))
        {
            return false;
        }
        let after = s[eq + 1..].trim_ascii_start();
        let Some((&q, body)) = after.split_first() else {
            return false;
        };
        if q != b'"' && q != b'\'' {
            return false;
        }
        let Some(close) = body.iter().position(|&b| b == q) else {
            return false;
        };
        let value = &body[..close];
        if value.iter().any(|&b| b == b'&' || b == b'<') {
            return false; // entities in attributes: leave to quick-xml
        }
        f(local(key), value);
        s = &body[close + 1..];
    }
}

fn parse_u32(v: &[u8]) -> Option<u32> {
    parse_number(v, |s| s.trim().parse().ok())
}

/// A plain run of ASCII digits, read directly; anything else (signs,
/// Unicode spaces, overflow) through `slow`, so the result is exactly
/// what `str` parsing gives.
fn parse_number<T: TryFrom<u64>>(v: &[u8], slow: impl Fn(&str) -> Option<T>) -> Option<T> {
    if !v.is_empty() && v.len() <= 9 && v.iter().all(u8::is_ascii_digit) {
        let n = v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
        return T::try_from(n).ok();
    }
    slow(std::str::from_utf8(v).ok()?)
}

/// `B12` -> (row 11, col 1), 0-based.
pub(super) fn cell_ref(v: &[u8]) -> Option<(u32, u32)> {
    // One capital and up to nine digits, nearly every reference there is,
    // read in one go; the same numbers as the general code below.
    if let [c @ b'A'..=b'Z', digits @ ..] = v {
        if !digits.is_empty() && digits.len() <= 9 && digits.iter().all(u8::is_ascii_digit) {
            let row = digits
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            return Some((row.checked_sub(1)?, u32::from(c - b'A')));
        }
    }
    let split = v.iter().position(|b| b.is_ascii_digit())?;
    let mut col: u32 = 0;
    for &b in &v[..split] {
        if !b.is_ascii_alphabetic() {
            return None;
        }
        col = col
            .checked_mul(26)?
            .checked_add((b.to_ascii_uppercase() - b'A' + 1) as u32)?;
    }
    let row: u32 = parse_number(&v[split..], |s| s.parse().ok())?;
    Some((row.checked_sub(1)?, col.checked_sub(1)?))
}

/// A row's number as written (one to seven digits) and the `"` that ends
/// it in a cell reference, as one little-endian word and its mask: the
/// test of a cell's reference is one load and compare (a slice compare
/// was a call to `memcmp` a cell, 1% of `extract`).
#[derive(Clone, Copy)]
struct RowRef {
    word: u64,
    mask: u64,
    /// Digits and quote.
    len: usize,
}

impl RowRef {
    fn new(digits: &[u8]) -> RowRef {
        let mut bytes = [0u8; 8];
        bytes[..digits.len()].copy_from_slice(digits);
        bytes[digits.len()] = b'"';
        let len = digits.len() + 1;
        let mask = if len == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * len)) - 1
        };
        RowRef {
            word: u64::from_le_bytes(bytes),
            mask,
            len,
        }
    }

    /// Whether `next` (the eight bytes after the column letter) starts
    /// with the digits and the quote.
    fn matches(self, next: Option<&[u8]>) -> bool {
        next.and_then(|n| <[u8; 8]>::try_from(n).ok())
            .is_some_and(|n| u64::from_le_bytes(n) & self.mask == self.word)
    }
}

/// Parse one `<row>` element; false when anything is not understood.
fn parse_row(
    text: &str,
    tag_end: usize,
    empty: bool,
    strict: bool,
    row: &mut u32,
    seen: &mut bool,
    cells: &mut Cells,
) -> bool {
    let bytes = text.as_bytes();
    cells.clear();
    let name_end = bytes
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        .unwrap_or(0);
    let row_name = &bytes[1..name_end.max(1)];
    let mut r_attr = None;
    let mut r_text: &[u8] = &[];
    let attr_body = &bytes[name_end..if empty { tag_end - 1 } else { tag_end }];
    if !attrs(attr_body, |k, v| {
        if k == b"r" {
            r_attr = parse_u32(v);
            r_text = v;
        }
    }) {
        return false;
    }
    // The row's number as written, when it is plain digits: a cell
    // reference of one capital and these same digits is in this row.
    let digits = (r_attr.is_some_and(|n| n > 0)
        && (1..=7).contains(&r_text.len())
        && r_text.iter().all(u8::is_ascii_digit))
    .then(|| RowRef::new(r_text));
    *row = match r_attr {
        Some(n) if n > 0 => n - 1,
        _ if strict => return false,
        _ if *seen => *row + 1,
        _ => 0,
    };
    *seen = true;
    if empty {
        return true;
    }
    let mut next_col = 0u32;
    let mut p = tag_end + 1;
    loop {
        if bytes.get(p + 1) == Some(&b'c') && bytes[p] == b'<' {
            if let Some(next) = common_cell(text, p, *row, digits, &mut next_col, cells) {
                p = next;
                continue;
            }
        }
        let Some((lt, gt)) = next_tag(bytes, p) else {
            return false;
        };
        p = lt;
        let tag = &bytes[p + 1..gt];
        if tag.first() == Some(&b'/') {
            return tag[1..].trim_ascii_end() == row_name;
        }
        let nlen = tag_name(tag).len();
        let cell_name = &tag[..nlen];
        if local(cell_name) != b"c" {
            return false;
        }
        let self_closing = tag.last() == Some(&b'/');
        let cell = cells.push(*row, next_col);
        let mut pos_attr = None;
        let body = &tag[nlen..if self_closing {
            tag.len() - 1
        } else {
            tag.len()
        }];
        let ok = attrs(body, |k, v| match k {
            b"r" => pos_attr = Some(cell_ref(v)),
            b"t" => cell.ty = CellType::of_bytes(v),
            b"s" => cell.style = parse_number(v, |s| s.trim().parse().ok()).unwrap_or(0),
            _ => {}
        });
        if !ok {
            return false;
        }
        // An unparsable reference keeps the running position, as in the
        // general reader.
        if let Some(Some((r, c))) = pos_attr {
            cell.row = r;
            cell.col = c;
        }
        // Beyond Excel's grid: the general reader names the cell.
        if cell.row >= MAX_ROWS || cell.col >= MAX_COLS {
            return false;
        }
        next_col = cell.col + 1;
        p = gt + 1;
        if !self_closing {
            // Children until `</c>`.
            loop {
                let Some((lt, gt)) = next_tag(bytes, p) else {
                    return false;
                };
                p = lt;
                let tag = &bytes[p + 1..gt];
                if tag.first() == Some(&b'/') {
                    if tag[1..].trim_ascii_end() != cell_name {
                        return false;
                    }
                    p = gt + 1;
                    break;
                }
                let nlen = tag_name(tag).len();
                let full = &tag[..nlen];
                let closed = tag.last() == Some(&b'/');
                match local(full) {
                    b"v" => {
                        cell.has_v = true;
                        cell.text.clear();
                        if closed {
                            p = gt + 1;
                        } else {
                            let Some(next) = text_until_close(text, gt + 1, full, &mut cell.text)
                            else {
                                return false;
                            };
                            p = next;
                        }
                    }
                    b"f" => {
                        // A formula: only its cached <v> counts. Skip it.
                        if closed {
                            p = gt + 1;
                        } else {
                            let mut formula = String::new();
                            let Some(next) = text_until_close(text, gt + 1, full, &mut formula)
                            else {
                                return false;
                            };
                            p = next;
                        }
                    }
                    b"is" => {
                        // A second `<is>` replaces the first, as in the
                        // general reader.
                        cell.inline.clear();
                        if closed {
                            p = gt + 1;
                        } else {
                            let Some(next) = inline_string(text, full, gt + 1, &mut cell.inline)
                            else {
                                return false;
                            };
                            p = next;
                        }
                        cell.has_inline = true;
                    }
                    _ => return false,
                }
            }
        }
        // Over the cell limit: the general reader reports it.
        if cell.text.len() > MAX_CELL_BYTES || cell.inline.len() > MAX_CELL_BYTES {
            return false;
        }
    }
}

/// The cell as Excel and the export tools write it, read in one pass:
/// `<c` and double-quoted attributes one space apart, then `/>`, or `>`
/// with `<v>text</v>` or `<is><t>text</t></is>` children ([`common_value`],
/// [`common_inline`]) and `</c>`. Anything else — another child,
/// a prefix, whitespace, an entity in an attribute, a cell past the grid
/// or over the length limit — returns `None` having pushed nothing, and
/// [`parse_row`]'s general cell code reads the cell from the same place,
/// so a cell read here is the cell it would have read. Returns the
/// position after the cell.
fn common_cell(
    s: &str,
    p: usize,
    row: u32,
    row_ref: Option<RowRef>,
    next_col: &mut u32,
    cells: &mut Cells,
) -> Option<usize> {
    let b = s.as_bytes();
    let (mut pos, mut ty, mut style) = (None, CellType::Number, 0usize);
    let mut i = p + 2;
    // ` r="B17"` in row 17, as nearly every cell starts: its row is
    // the row's, compared as written rather than parsed (what
    // [`cell_ref`] would make of it).
    if let Some(rr) = row_ref {
        if let Some(&[b' ', b'r', b'=', b'"', col @ b'A'..=b'Z']) = b.get(i..i + 5) {
            if rr.matches(b.get(i + 5..i + 13)) {
                pos = Some(Some((row, u32::from(col - b'A'))));
                i += 5 + rr.len;
            }
        }
    }
    let self_closing = loop {
        match *b.get(i)? {
            b' ' => {
                // ` r="`, ` t="`, ` s="` (nearly every attribute there is)
                // are recognised at once, any other name checked first.
                let (key, start) = if matches!(b.get(i + 1), Some(b'r' | b't' | b's'))
                    && b.get(i + 2..i + 4) == Some(b"=\"")
                {
                    (&b[i + 1..i + 2], i + 4)
                } else {
                    let name = i + 1;
                    let eq = name + b.get(name..name + 16)?.iter().position(|&c| c == b'=')?;
                    let key = &b[name..eq];
                    if key.is_empty()
                        || !key.iter().all(|c| {
                            c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-')
                        })
                        || b.get(eq + 1) != Some(&b'"')
                    {
                        return None;
                    }
                    (local(key), eq + 2)
                };
                // The value ends at the first `"`; one with `&` or `<` is
                // left to the general code. Values are short: a plain loop.
                let mut end = start;
                loop {
                    match *b.get(end)? {
                        b'"' => break,
                        b'&' | b'<' => return None,
                        _ => end += 1,
                    }
                }
                let v = &b[start..end];
                match key {
                    b"r" => pos = Some(cell_ref(v)),
                    b"t" => ty = CellType::of_bytes(v),
                    b"s" => style = parse_number(v, |s| s.trim().parse().ok()).unwrap_or(0),
                    _ => {}
                }
                i = end + 1;
            }
            b'>' => break false,
            b'/' if b.get(i + 1) == Some(&b'>') => break true,
            _ => return None,
        }
    };
    let (r, c) = match pos {
        Some(Some(rc)) => rc,
        _ => (row, *next_col),
    };
    if r >= MAX_ROWS || c >= MAX_COLS {
        return None;
    }
    let cell = cells.push(r, c);
    cell.ty = ty;
    cell.style = style;
    let mut i = i + if self_closing { 2 } else { 1 };
    if !self_closing {
        loop {
            let rest = &b[i.min(b.len())..];
            if rest.starts_with(b"</c>") {
                i += 4;
                break;
            }
            let next = if rest.starts_with(b"<v>") {
                let direct = if ty == CellType::Shared && r != 0 {
                    plain_index(b, i + 3)
                } else {
                    None
                };
                match direct {
                    Some((index, next)) => {
                        cell.shared = Some(index);
                        cell.has_v = true;
                        cell.text.clear();
                        Some(next)
                    }
                    None => common_value(s, i + 3, cell),
                }
            } else if rest.starts_with(b"<is><t") {
                common_inline(s, i + 6, cell)
            } else {
                None
            };
            let Some(next) = next else {
                cells.pop();
                return None;
            };
            i = next;
        }
    }
    *next_col = c + 1;
    Some(i)
}

/// `text</v>` from `text` on, into the cell: the position after `</v>`.
fn common_value(s: &str, text: usize, cell: &mut RawCell) -> Option<usize> {
    let end = text_then(s, text, b"</v>", &mut cell.text)?;
    cell.has_v = true;
    // A later `<v>` replaces an earlier one, whichever way that was read.
    cell.shared = None;
    Some(end)
}

/// One to nine digits then `</v>` from `at` on: their number (read as
/// the typing of a shared-string cell reads plain digits) and the
/// position after `</v>`. Anything else is `None`, for the text path.
fn plain_index(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let digits = b
        .get(at..)?
        .iter()
        .take(10)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let end = at + digits;
    if b.get(end..end + 4) != Some(b"</v>") {
        return None;
    }
    // Ten digits or none: the text path.
    let n = parse_number(&b[at..end], |_| None)?;
    Some((n, end + 4))
}

/// An inline string as sheetsift, rust_xlsxwriter and Excel write it,
/// after its `<is><t`: `>` or ` xml:space="preserve">`, the text, then
/// `</t></is>`. The cell gets what the general `<is>` code gives it (one
/// `<t>`'s text, a second `<is>` replacing the first). Returns the
/// position after `</is>`.
fn common_inline(s: &str, after_t: usize, cell: &mut RawCell) -> Option<usize> {
    const PRESERVE: &[u8] = b" xml:space=\"preserve\">";
    let rest = s.as_bytes().get(after_t..)?;
    let text = if rest.first() == Some(&b'>') {
        after_t + 1
    } else if rest.starts_with(PRESERVE) {
        after_t + PRESERVE.len()
    } else {
        return None;
    };
    let end = text_then(s, text, b"</t></is>", &mut cell.inline)?;
    cell.has_inline = true;
    Some(end)
}

/// Character data from `text` to the next `<`, which must start `close`:
/// into `out` (cleared first), within the cell limit. Returns the position
/// after `close`.
/// Inlined, so that `close` is a constant and its comparison a few moves
/// rather than a call to `memcmp` per cell.
#[inline(always)]
fn text_then(s: &str, text: usize, close: &[u8], out: &mut String) -> Option<usize> {
    let b = s.as_bytes();
    let rest = b.get(text..)?;
    // One search finds the end of the text and whether it has an entity
    // or a CR before it; plain text (nearly all) is copied as it is.
    let hit = memchr::memchr3(b'<', b'&', b'\r', rest)?;
    let (lt, plain) = if rest[hit] == b'<' {
        (text + hit, true)
    } else {
        (text + hit + memchr(b'<', &rest[hit..])?, false)
    };
    if !b[lt..].starts_with(close) {
        return None;
    }
    out.clear();
    if plain {
        out.push_str(s.get(text..lt)?);
    } else {
        push_str(s.get(text..lt)?, out)?;
    }
    (out.len() <= MAX_CELL_BYTES).then_some(lt + close.len())
}

/// Text content up to the next tag, which must close `name`. Returns the
/// position after that closing tag.
fn text_until_close(s: &str, start: usize, name: &[u8], out: &mut String) -> Option<usize> {
    let bytes = s.as_bytes();
    let lt = memchr(b'<', &bytes[start..]).map(|i| start + i)?;
    push_str(s.get(start..lt)?, out)?;
    if bytes.get(lt + 1) != Some(&b'/') {
        return None; // CDATA, comment or child element
    }
    let gt = memchr(b'>', &bytes[lt..]).map(|i| lt + i)?;
    (bytes[lt + 2..gt].trim_ascii_end() == name).then_some(gt + 1)
}

/// `<is>`: the text of its `<t>` elements, phonetic runs (`<rPh>`) left
/// out; every other element (`<r>`, `<rPr>` and its children,
/// `<phoneticPr>`) is passed over, as the general reader does. Returns the
/// position after `</is>`.
fn inline_string(s: &str, is_name: &[u8], mut p: usize, out: &mut String) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut in_phonetic = false;
    // Elements opened inside <is> and not closed yet: closes must match.
    let mut open: Vec<&[u8]> = Vec::new();
    loop {
        let lt = memchr(b'<', &bytes[p..]).map(|i| p + i)?;
        if !bytes[p..lt].iter().all(|b| b.is_ascii_whitespace()) {
            return None; // text outside <t>
        }
        let gt = find_tag_end(bytes, lt)?;
        let tag = &bytes[lt + 1..gt];
        p = gt + 1;
        if let Some(close) = tag.strip_prefix(b"/") {
            let close = close.trim_ascii_end();
            match open.pop() {
                Some(name) if name == close => {
                    if local(name) == b"rPh" {
                        in_phonetic = false;
                    }
                }
                Some(_) => return None,
                None if close == is_name => return Some(p),
                None => return None,
            }
            continue;
        }
        if tag.first().is_some_and(|b| *b == b'!' || *b == b'?') {
            return None;
        }
        let nlen = tag_name(tag).len();
        let full = &tag[..nlen];
        let closed = tag.last() == Some(&b'/');
        match local(full) {
            b"t" if !closed => {
                if in_phonetic {
                    let mut skip = String::new();
                    p = text_until_close(s, p, full, &mut skip)?;
                } else {
                    p = text_until_close(s, p, full, out)?;
                }
            }
            name => {
                if !closed {
                    if name == b"rPh" {
                        in_phonetic = true;
                    }
                    open.push(full);
                }
            }
        }
    }
}

/// Append XML character data: entities resolved, CRLF/CR -> LF.
///
/// The text is a `str`: a slice of a row or a part validated whole once
/// (validating each short text again cost 3% of a run).
pub(super) fn push_str(s: &str, out: &mut String) -> Option<()> {
    // Byte searches: `str::find` with a set of chars decodes every char.
    let special = |t: &str| memchr::memchr2(b'&', b'\r', t.as_bytes());
    if special(s).is_none() {
        out.push_str(s);
        return Some(());
    }
    let mut rest = s;
    while let Some(i) = special(rest) {
        out.push_str(&rest[..i]);
        if rest.as_bytes()[i] == b'\r' {
            out.push('\n');
            rest = &rest[i + 1..];
            if rest.starts_with('\n') {
                rest = &rest[1..];
            }
            continue;
        }
        let semi = rest[i..].find(';')? + i;
        let ent = &rest[i + 1..semi];
        match ent {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            _ => {
                let code = if let Some(h) = ent.strip_prefix("#x") {
                    u32::from_str_radix(h, 16).ok()?
                } else {
                    ent.strip_prefix('#')?.parse().ok()?
                };
                // Control characters other than tab/LF/CR are not XML 1.0
                // characters: leave such a row to the general reader.
                if code < 0x20 && !matches!(code, 0x9 | 0xA | 0xD) {
                    return None;
                }
                out.push(char::from_u32(code)?);
            }
        }
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Some(())
}
