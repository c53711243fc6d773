//! The `<sheetData>` rows of a worksheet, byte for byte as rust_xlsxwriter's
//! constant-memory worksheets write them (inline strings, its escapes,
//! numbers through ryu, dates with the first cell format), so that rows can
//! be formatted on any thread and in any batch. `tests/xlsx_writer.rs`
//! checks the result against rust_xlsxwriter itself.

use crate::value::{duration_days, time_str, Value};

/// The cell format index rust_xlsxwriter gives the date format, the only
/// format sheetsift uses.
const DATE_XF: &[u8] = b" s=\"1\"";
/// What follows a text cell's reference (and format).
const INLINE: &[u8] = b" t=\"inlineStr\"><is><t";

/// The used range of the cells written: what `<dimension>` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dims {
    pub first_row: u32,
    pub last_row: u32,
    pub first_col: u16,
    pub last_col: u16,
}

impl Dims {
    pub fn merge(a: Option<Dims>, b: Option<Dims>) -> Option<Dims> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Dims {
                first_row: a.first_row.min(b.first_row),
                last_row: a.last_row.max(b.last_row),
                first_col: a.first_col.min(b.first_col),
                last_col: a.last_col.max(b.last_col),
            }),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

/// What formatting some rows found out.
#[derive(Debug, Default, Clone, Copy)]
pub struct Used {
    pub dims: Option<Dims>,
    /// A cell uses the date format (so the workbook must define it).
    pub dates: bool,
}

impl Used {
    pub fn merge(self, other: Used) -> Used {
        Used {
            dims: Dims::merge(self.dims, other.dims),
            dates: self.dates || other.dates,
        }
    }
}

/// What a cell is written as.
///
/// A time of day is written as the text `str(time)` and a duration as the
/// number of days `total_seconds() / 86400`, as pandas' `to_excel` writes
/// them: the reference's stage 2 reads its own chunk files back so (a time
/// as text, a duration as a plain number), and `dialogues` on sheetsift's
/// chunk files must give the same corpus. Typed cells (a time- or
/// `[h]:mm:ss`-formatted number) would be read back as a time and a
/// duration, which agrees for times but not for durations
/// (tests/cases/README.md, "Dump tokens").
enum Cell<'a> {
    Str(&'a str),
    /// An integer beyond 2^53, written with all its digits (an f64 would
    /// round it; pandas' openpyxl writes `'%.16g'`, rounding too).
    Int(i128),
    /// Finite.
    Num(f64),
    Bool(bool),
}

impl Cell<'_> {
    /// No xlsx number is infinite: pandas' `to_excel` writes ±inf as the
    /// text `inf` / `-inf` (its `inf_rep`), and so does sheetsift. NaN
    /// never reaches here (missing values are not written).
    fn number(f: f64) -> Cell<'static> {
        if f.is_nan() {
            Cell::Str("NAN")
        } else if f == f64::INFINITY {
            Cell::Str("inf")
        } else if f == f64::NEG_INFINITY {
            Cell::Str("-inf")
        } else {
            Cell::Num(f)
        }
    }
}

/// Append `rows` as `<row>` elements; `first_row` is the 0-based sheet row
/// of `rows[0]`. A row without cells writes nothing, as in rust_xlsxwriter.
pub fn rows_xml(rows: &[Vec<Value>], first_row: u32, out: &mut Vec<u8>) -> Used {
    let mut used = Used::default();
    let mut name = ColumnNames::default();
    let mut num = ryu::Buffer::new();
    let mut row_num = itoa::Buffer::new();
    // A time of day's text, for the cell being written.
    let mut time;
    for (i, row) in rows.iter().enumerate() {
        let r = first_row + i as u32;
        let r1 = row_num.format(r as u64 + 1);
        // What follows the column letters in this row's cells: the row
        // number and `"`, then for text ` t="inlineStr"><is><t`.
        let mut tail = Snip::<32>::default();
        tail.push(r1.as_bytes());
        tail.push(b"\"");
        let number_tail = tail;
        tail.push(INLINE);
        let (mut first, mut last) = (None, 0u16);
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            let (cell, date) = match v {
                Value::Empty => continue,
                Value::Text(s) if s.is_empty() => continue,
                Value::Text(s) => (Cell::Str(s), false),
                Value::Int(n) if n.unsigned_abs() > 1 << 53 => (Cell::Int(*n as i128), false),
                Value::Int(n) => (Cell::number(*n as f64), false),
                Value::BigInt(n) => (Cell::Int(**n), false),
                Value::Float(f) => (Cell::number(*f), false),
                Value::Bool(b) => (Cell::Bool(*b), false),
                Value::DateTime(d) => (Cell::number(*d), true),
                Value::Time(us) => {
                    time = time_str(*us);
                    (Cell::Str(&time), false)
                }
                Value::Duration(us) => (Cell::number(duration_days(*us)), false),
            };
            if first.is_none() {
                out.extend_from_slice(b"<row r=\"");
                out.extend_from_slice(r1.as_bytes());
                out.extend_from_slice(b"\">");
                first = Some(c);
            }
            last = c;
            used.dates |= date;
            // `<c r="` and the column's letters.
            name.get(c).put(out);
            // The reference's end, and the date format, as a number has it.
            let open = |out: &mut Vec<u8>| {
                number_tail.put(out);
                if date {
                    out.extend_from_slice(DATE_XF);
                }
            };
            match cell {
                Cell::Str(s) => {
                    if date {
                        // A date that is not a finite number (`inf`).
                        open(out);
                        out.extend_from_slice(INLINE);
                    } else {
                        tail.put(out);
                    }
                    inline_text(s, out);
                }
                Cell::Int(i) => {
                    open(out);
                    out.extend_from_slice(b"><v>");
                    out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
                    out.extend_from_slice(b"</v></c>");
                }
                Cell::Num(f) => {
                    open(out);
                    out.extend_from_slice(b"><v>");
                    number(f, &mut num, out);
                    out.extend_from_slice(b"</v></c>");
                }
                Cell::Bool(b) => {
                    open(out);
                    out.extend_from_slice(if b {
                        b" t=\"b\"><v>1</v></c>"
                    } else {
                        b" t=\"b\"><v>0</v></c>"
                    });
                }
            }
        }
        if let Some(first) = first {
            out.extend_from_slice(b"</row>");
            let d = Dims {
                first_row: r,
                last_row: r,
                first_col: first,
                last_col: last,
            };
            used.dims = Dims::merge(used.dims, Some(d));
        }
    }
    used
}

/// A few bytes (at most `N`) appended as one fixed-size block then cut
/// back: a copy of constant size is a few register moves, where a copy of
/// a length known only at run time is a call to `memcpy` (four of them a
/// cell before, 1.4 M calls a 100k-row file).
#[derive(Clone, Copy)]
struct Snip<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Default for Snip<N> {
    fn default() -> Self {
        Snip {
            bytes: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> Snip<N> {
    /// Add `b`; past `N` bytes is a bug of the caller.
    fn push(&mut self, b: &[u8]) {
        self.bytes[self.len..self.len + b.len()].copy_from_slice(b);
        self.len += b.len();
    }

    fn put(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
        out.truncate(out.len() - (N - self.len));
    }
}

/// A finite number as rust_xlsxwriter writes it (ryu's shortest form).
/// Whole numbers below 2^53 — ids, counts, ints read as numbers — are
/// ryu's digits and `.0`, written here with itoa at a fraction of the
/// cost; `number_is_ryu` checks the two agree.
fn number(f: f64, ryu: &mut ryu::Buffer, out: &mut Vec<u8>) {
    const EXACT: f64 = (1u64 << 53) as f64;
    if f.fract() == 0.0 && f.abs() < EXACT && !(f == 0.0 && f.is_sign_negative()) {
        out.extend_from_slice(itoa::Buffer::new().format(f as i64).as_bytes());
        out.extend_from_slice(b".0");
    } else {
        out.extend_from_slice(ryu.format_finite(f).as_bytes());
    }
}

/// What follows ` t="inlineStr"><is><t`: `>` (or ` xml:space="preserve">`),
/// the escaped text and `</t></is></c>`.
fn inline_text(s: &str, out: &mut Vec<u8>) {
    // ASCII whitespace: the first and last bytes tell (a UTF-8
    // continuation byte is never one).
    let ws = |c: Option<&u8>| matches!(c, Some(b'\t' | b'\n' | b' '));
    if ws(s.as_bytes().first()) || ws(s.as_bytes().last()) {
        out.extend_from_slice(b" xml:space=\"preserve\"");
    }
    out.push(b'>');
    escape(s, out);
    out.extend_from_slice(b"</t></is></c>");
}

/// rust_xlsxwriter's two escapes in one pass: a literal `_xHHHH_` gets its
/// underscore written as `_x005F` (so Excel does not decode it), then `&`,
/// `<`, `>`, the control characters but tab and newline (`_xHHHH_`) and
/// U+FFFE/U+FFFF are escaped.
fn escape(s: &str, out: &mut Vec<u8>) {
    let b = s.as_bytes();
    let mut done = 0;
    let mut i = 0;
    // Jump from one byte that may need rewriting to the next; most text
    // has none (an `_` of `wxid_...` is checked and passed over), and is
    // copied in one piece.
    while let Some(off) = next_look(&b[i..]) {
        i += off;
        let c = b[i];
        let rep: Option<&[u8]> = match c {
            b'&' => Some(b"&amp;"),
            b'<' => Some(b"&lt;"),
            b'>' => Some(b"&gt;"),
            b'_' if is_escape_literal(b, i) => Some(b"_x005F_"),
            0x00..=0x08 | 0x0B..=0x1F => None,
            // U+FFFE and U+FFFF: EF BF BE / EF BF BF.
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                out.extend_from_slice(&b[done..i]);
                out.extend_from_slice(if b[i + 2] == 0xBE {
                    b"_xFFFE_"
                } else {
                    b"_xFFFF_"
                });
                i += 3;
                done = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[done..i]);
        match rep {
            Some(r) => out.extend_from_slice(r),
            None => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.extend_from_slice(b"_x00");
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
                out.push(b'_');
            }
        }
        i += 1;
        done = i;
    }
    out.extend_from_slice(&b[done..]);
}

/// The first byte of `b` in [`NEEDS_LOOK`]. Eight bytes at a time: a
/// word with none of them is passed over with a few bit operations
/// (`haszero` on the word XOR each byte, and "has a byte below 0x20"),
/// where a table look-up a byte cost five instructions a byte of text.
/// A word that may hold one (tab and newline are below 0x20 too) is
/// looked at byte by byte.
fn next_look(b: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut at = 0;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("eight bytes"));
        let hit = w.wrapping_sub(ONES * 0x20) & !w & HIGH
            | zero_in(w ^ (ONES * u64::from(b'&')))
            | zero_in(w ^ (ONES * u64::from(b'<')))
            | zero_in(w ^ (ONES * u64::from(b'>')))
            | zero_in(w ^ (ONES * u64::from(b'_')))
            | zero_in(w ^ (ONES * 0xEF));
        if hit != 0 {
            if let Some(p) = b[at..at + 8].iter().position(|&c| NEEDS_LOOK[c as usize]) {
                return Some(at + p);
            }
        }
        at += 8;
    }
    let rest = words.remainder();
    rest.iter()
        .position(|&c| NEEDS_LOOK[c as usize])
        .map(|p| at + p)
}

/// The bytes [`escape`] may rewrite: `&`, `<`, `>`, `_`, the control
/// characters but tab and newline, and 0xEF (the lead byte of U+FFFE and
/// U+FFFF).
static NEEDS_LOOK: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = c != 0x09 && c != 0x0A;
        c += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'_' as usize] = true;
    t[0xEF] = true;
    t
};

/// `_xHHHH_` starts at `i` (rust_xlsxwriter's `escape_xml_escapes`).
fn is_escape_literal(b: &[u8], i: usize) -> bool {
    b.len() >= i + 7
        && b[i + 1] == b'x'
        && b[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
        && b[i + 6] == b'_'
}

/// `<c r="` and a column's letters (A..Z, then AA... up to XFD), cached.
#[derive(Default)]
struct ColumnNames {
    names: Vec<Snip<16>>,
}

impl ColumnNames {
    fn get(&mut self, col: u16) -> &Snip<16> {
        while self.names.len() <= col as usize {
            let mut s = Snip::default();
            s.push(b"<c r=\"");
            s.push(&column_name(self.names.len() as u16));
            self.names.push(s);
        }
        &self.names[col as usize]
    }
}

/// `0` -> `A`, `25` -> `Z`, `26` -> `AA`.
pub fn column_name(col: u16) -> Vec<u8> {
    let mut n = col as u32 + 1;
    let mut name = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        name.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = Vec::new();
        escape(s, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn integers_past_2_pow_53_keep_every_digit() {
        let mut out = Vec::new();
        rows_xml(
            &[vec![
                Value::Int(1_234_567_890_123_456_789),
                Value::int(u64::MAX as i128),
                Value::Int(1 << 53),
                Value::Float(f64::NEG_INFINITY),
            ]],
            1,
            &mut out,
        );
        let xml = String::from_utf8(out).unwrap();
        assert!(
            xml.contains("<c r=\"A2\"><v>1234567890123456789</v></c>"),
            "{xml}"
        );
        assert!(
            xml.contains("<c r=\"B2\"><v>18446744073709551615</v></c>"),
            "{xml}"
        );
        // 2^53 itself is exact as an f64: written as rust_xlsxwriter does.
        assert!(
            xml.contains("<c r=\"C2\"><v>9007199254740992.0</v></c>"),
            "{xml}"
        );
        assert!(xml.contains("<is><t>-inf</t></is>"), "{xml}");
    }

    #[test]
    fn number_is_ryu() {
        let mut ryu = ryu::Buffer::new();
        let mut check = |f: f64| {
            let mut out = Vec::new();
            number(f, &mut ryu::Buffer::new(), &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                ryu.format_finite(f),
                "{f:e}"
            );
        };
        let exact = (1u64 << 53) as f64;
        for f in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            10034676.0,
            1e15,
            1e16,
            exact,
            exact - 1.0,
            0.5,
            -2.5e-7,
        ] {
            check(f);
            check(-f);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            check((x >> (x % 64)) as f64);
            check(-((x >> 11) as f64));
            check(f64::from_bits(x) % 1e17);
        }
    }

    /// The word-at-a-time search finds what a byte-by-byte search finds,
    /// at every position of a word and with every byte value around it.
    #[test]
    fn next_look_is_the_first_byte_in_the_table() {
        let plain = "坐席ab12".as_bytes();
        for len in 0..40 {
            for at in 0..=len {
                for c in 0..=255u8 {
                    let mut b: Vec<u8> = plain.iter().cycle().take(len).copied().collect();
                    if at < len {
                        b[at] = c;
                    }
                    let want = b.iter().position(|&c| NEEDS_LOOK[c as usize]);
                    assert_eq!(next_look(&b), want, "{b:?}");
                }
            }
        }
    }

    /// A date that is not a finite number is written as text with the
    /// date format still on it, as before the row's reference and tail
    /// were copied in blocks (a text cell's block has no format).
    #[test]
    fn a_date_written_as_text_keeps_its_format() {
        let mut out = Vec::new();
        let rows = vec![vec![
            Value::DateTime(f64::INFINITY),
            Value::Text("x".into()),
            Value::DateTime(45000.5),
        ]];
        rows_xml(&rows, 0, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<row r=\"1\"><c r=\"A1\" s=\"1\" t=\"inlineStr\"><is><t>inf</t></is></c>\
             <c r=\"B1\" t=\"inlineStr\"><is><t>x</t></is></c>\
             <c r=\"C1\" s=\"1\"><v>45000.5</v></c></row>"
        );
    }

    #[test]
    fn escapes_as_rust_xlsxwriter() {
        assert_eq!(esc("a<b>&c"), "a&lt;b&gt;&amp;c");
        assert_eq!(esc("x\u{1}y\r\n\t"), "x_x0001_y_x000D_\n\t");
        assert_eq!(esc("_x0041_"), "_x005F_x0041_");
        assert_eq!(esc("_x00G1_ _x004"), "_x00G1_ _x004");
        assert_eq!(esc("\u{FFFE}é\u{FFFF}"), "_xFFFE_é_xFFFF_");
        assert_eq!(column_name(0), b"A");
        assert_eq!(column_name(25), b"Z");
        assert_eq!(column_name(26), b"AA");
        assert_eq!(column_name(16383), b"XFD");
    }
}
