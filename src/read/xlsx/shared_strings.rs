//! Shared strings and rich text: the `<si>` table, `<t>` runs without
//! phonetic runs, entities, and Excel's `_xHHHH_` escapes (decoded: the one
//! deliberate difference from openpyxl, SPEC).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use quick_xml::events::{BytesRef, Event};

use super::limits;
use super::limits::{
    cell_too_long, next, XErr, XmlReader, MAX_CELL_BYTES, MAX_SHARED_BYTES, MAX_SHARED_STRINGS,
    SHARED_ENTRY_BYTES,
};
use super::package::Zip;
use crate::error::FileErrorKind;

/// The shared-strings table: every string's text in one buffer and its
/// end offset — 4 bytes a string beside its text, not a 16-byte `Box<str>`
/// and an allocation each (a crafted part of 126 M empty `<si/>` would
/// cost 2 GB that way). Its size is bounded by [`MAX_SHARED_BYTES`].
#[derive(Default)]
pub(crate) struct SharedStrings {
    text: String,
    ends: Vec<u32>,
    /// The strings that are one of pandas' NA strings (a cell naming one
    /// is missing): decided once a string here, not once a cell.
    na: Vec<u32>,
}

impl SharedStrings {
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
    }

    /// A cell naming string `i`: its text, or missing for an NA string.
    /// Inlined: an `Option<Value>` returned through memory is stored in
    /// 8-byte parts and loaded in 16, and that load waits for the stores
    /// to retire (a store-forwarding stall, 1.5% of `extract` in
    /// `perf annotate`).
    #[inline(always)]
    pub(crate) fn value(&self, i: usize) -> Option<crate::value::Value> {
        let s = self.get(i)?;
        Some(if self.na.binary_search(&(i as u32)).is_ok() {
            crate::value::Value::Empty
        } else {
            crate::value::Value::Text(s.into())
        })
    }

    /// Append one string; over the table's budget is a limit error.
    pub(crate) fn push(&mut self, s: &str) -> Result<(), XErr> {
        let cost = (self.text.len() + s.len())
            .saturating_add(SHARED_ENTRY_BYTES.saturating_mul(self.ends.len() + 1));
        if cost > MAX_SHARED_BYTES {
            return Err(XErr::Limit(format!(
                "shared strings larger than {} MiB (their text plus {SHARED_ENTRY_BYTES} bytes a string; {} strings so far)",
                MAX_SHARED_BYTES >> 20,
                self.ends.len()
            )));
        }
        if self.ends.len() >= MAX_SHARED_STRINGS {
            return Err(XErr::Limit(format!(
                "more than {MAX_SHARED_STRINGS} shared strings"
            )));
        }
        if crate::value::is_na_string(s) {
            self.na.push(self.ends.len() as u32);
        }
        self.text.push_str(s);
        // Within the budget, so below 4 GiB.
        self.ends.push(self.text.len() as u32);
        Ok(())
    }
}

/// Text of an `<si>` / `<is>`: its `<t>` and rich-run `<t>`s, phonetic
/// runs (`<rPh>`) left out, entities resolved, `_xHHHH_` decoded. Longer
/// than [`MAX_CELL_BYTES`] is a limit error (checked as it grows, so a
/// long run of `<t>` elements cannot grow it either).
pub(super) fn read_rich_text<B: BufRead>(
    r: &mut XmlReader<B>,
    end: &str,
    buf: &mut Vec<u8>,
) -> Result<String, XErr> {
    let mut out = String::new();
    let (mut in_t, mut in_phonetic) = (false, false);
    loop {
        if out.len() > MAX_CELL_BYTES {
            return Err(cell_too_long());
        }
        buf.clear();
        match next(r, buf)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "t" => in_t = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_t = false,
                "rPh" => in_phonetic = false,
                name if name == end => break,
                _ => {}
            },
            Event::Text(t) if in_t && !in_phonetic => out.push_str(&t.xml10_content()),
            Event::CData(t) if in_t && !in_phonetic => out.push_str(&t.xml10_content()),
            Event::GeneralRef(e) if in_t && !in_phonetic => {
                push_entity(&e, &mut out).map_err(|e| XErr::Bad(e.to_string()))?
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if out.len() > MAX_CELL_BYTES {
        return Err(cell_too_long());
    }
    if out.contains("_x") {
        Ok(decode_excel_escapes(&out))
    } else {
        Ok(out)
    }
}

pub(super) fn push_entity(e: &BytesRef<'_>, out: &mut String) -> quick_xml::Result<()> {
    if let Some(s) = quick_xml::escape::resolve_xml_entity(e.as_ref()) {
        out.push_str(s);
    } else if let Some(ch) = e.resolve_char_ref()? {
        out.push(ch);
    } else {
        out.push('&');
        out.push_str(e.as_ref());
        out.push(';');
    }
    Ok(())
}

/// Excel's `_xHHHH_` escapes (UTF-16 code units; `_x005F_` is `_`).
pub fn decode_excel_escapes(s: &str) -> String {
    if !s.contains("_x") {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let parse = |i: usize| -> Option<u16> {
        if i + 7 <= b.len() && &b[i..i + 2] == b"_x" && b[i + 6] == b'_' {
            u16::from_str_radix(std::str::from_utf8(&b[i + 2..i + 6]).ok()?, 16).ok()
        } else {
            None
        }
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if let Some(unit) = parse(i) {
            let mut units = vec![unit];
            i += 7;
            while let Some(u) = parse(i) {
                units.push(u);
                i += 7;
            }
            out.extend(char::decode_utf16(units).map(|r| r.unwrap_or('\u{FFFD}')));
        } else {
            let ch = s[i..].chars().next().expect("i is on a char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Shared-strings parts up to this size are read whole and parsed by
/// [`fast_table`]; larger ones (and any part the fast path does not
/// understand) go through the streaming quick-xml reader with its limits.
/// Real exports have a few MiB per 100,000 rows, so this holds the parts
/// of files of several million rows, and costs at most this much memory
/// a file being read.
const FAST_PART_BYTES: u64 = 64 << 20;

/// The `<si>` table. Its `count`/`uniqueCount` are not trusted (nor
/// used): the table grows as strings are read, within its budget.
///
/// Excel, WPS and the export tools write every string as
/// `<si><t>text</t></si>`: such a part is parsed by a byte scan
/// ([`fast_table`], about ten times fewer instructions than the XML
/// reader). Anything else in the part — rich runs, phonetic text,
/// prefixes, comments, whitespace between elements — sends the whole part
/// to the XML reader, so every table is what the XML reader reads.
pub(super) fn parse_shared_strings(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<SharedStrings, FileErrorKind> {
    let Some(real) = super::package::lookup(names, part) else {
        return Ok(SharedStrings::default());
    };
    let mut f = zip
        .by_name(real)
        .map_err(|e| super::package::corrupt(format!("{part}: {e}")))?;
    let err = |e: XErr| e.within(part).into_kind();
    // Buffers sized once from the part's declared size, capped (the size
    // is the file's word): grown by doubling instead, a 512 MiB table
    // passed through copies of 128 and 256 MiB whose pages the allocator
    // keeps for a while, and a hostile part peaked past 1 GiB.
    let declared = f.size();
    let mut head = Vec::with_capacity(declared.min(FAST_PART_BYTES + 1) as usize);
    let read = (&mut f).take(FAST_PART_BYTES + 1).read_to_end(&mut head);
    if read.is_ok() && head.len() as u64 <= FAST_PART_BYTES {
        if let Some(table) = fast_table(&head).map_err(err)? {
            return Ok(table);
        }
    }
    // The XML reader from the start: over what was read, then the rest
    // of the part (a read error above comes back from the rest).
    let mut r = limits::xml_reader(BufReader::with_capacity(
        1 << 16,
        std::io::Cursor::new(head).chain(f),
    ));
    xml_table(&mut r, declared).map_err(err)
}

/// The table through the XML reader; `declared` bytes of XML hold at
/// most as many bytes of text.
fn xml_table<B: BufRead>(r: &mut XmlReader<B>, declared: u64) -> Result<SharedStrings, XErr> {
    let mut out = SharedStrings::default();
    out.text
        .reserve(declared.min(MAX_SHARED_BYTES as u64) as usize);
    let (mut buf, mut inner) = (Vec::new(), Vec::new());
    loop {
        match next(r, &mut buf)? {
            Event::Start(e) if e.local_name().as_ref() == "si" => {
                let s = read_rich_text(r, "si", &mut inner)
                    .map_err(|e| e.within(format!("string {}", out.ends.len())))?;
                out.push(&s)?;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// The fast path over a whole part: an XML declaration, `<sst ...>`, then
/// only `<si><t>text</t></si>` (`<t xml:space="preserve">`, `<t/>`, `<si/>`
/// too) up to `</sst>`. `Ok(None)` at the first thing that is not exactly
/// that (the caller reads the part with the XML reader); the text goes
/// through the same entity and `_xHHHH_` decoding, and the same limits
/// (cell length, table size) are errors as there.
fn fast_table(xml: &[u8]) -> Result<Option<SharedStrings>, XErr> {
    // Invalid UTF-8 anywhere: the XML reader reports it.
    let Ok(xml_text) = simdutf8::basic::from_utf8(xml) else {
        return Ok(None);
    };
    let mut out = SharedStrings::default();
    out.text.reserve(xml.len().min(MAX_SHARED_BYTES));
    let mut p = 0;
    let skip_ws = |p: &mut usize| {
        while xml.get(*p).is_some_and(u8::is_ascii_whitespace) {
            *p += 1;
        }
    };
    skip_ws(&mut p);
    if xml[p..].starts_with(b"<?xml") {
        let Some(end) = memchr::memmem::find(&xml[p..], b"?>") else {
            return Ok(None);
        };
        p += end + 2;
        skip_ws(&mut p);
    }
    if !xml[p..].starts_with(b"<sst")
        || !xml
            .get(p + 4)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'>')
    {
        return Ok(None);
    }
    // The root's attributes: namespaces and counts, never a `>` in them.
    let Some(gt) = memchr::memchr(b'>', &xml[p..]) else {
        return Ok(None);
    };
    if xml[p + gt - 1] == b'/' || xml[p + 1..p + gt].contains(&b'<') {
        return Ok(None);
    }
    p += gt + 1;
    let mut text = String::new();
    loop {
        if out.ends.len() % 65_536 == 0 && crate::interrupt::requested() {
            return Err(XErr::Interrupted);
        }
        let rest = &xml[p..];
        let t_len = if rest.starts_with(b"<si><t>") {
            7
        } else if rest.starts_with(b"<si><t xml:space=\"preserve\">") {
            28
        } else if rest.starts_with(b"<si><t/></si>") {
            out.push("")?;
            p += 13;
            continue;
        } else if rest.starts_with(b"<si/>") {
            out.push("")?;
            p += 5;
            continue;
        } else if rest.starts_with(b"</sst>") {
            return Ok(xml[p + 6..]
                .iter()
                .all(u8::is_ascii_whitespace)
                .then_some(out));
        } else {
            return Ok(None);
        };
        let start = p + t_len;
        let Some(lt) = memchr::memchr(b'<', &xml[start..]).map(|i| start + i) else {
            return Ok(None);
        };
        if !xml[lt..].starts_with(b"</t></si>") {
            return Ok(None);
        }
        let raw = &xml[start..lt];
        // Longer text: the XML reader's limits (token, cell) decide.
        if raw.len() > MAX_CELL_BYTES {
            return Ok(None);
        }
        text.clear();
        // `raw` lies between ASCII `>` and `<` of the part validated whole.
        let Some(raw) = xml_text.get(start..lt) else {
            return Ok(None);
        };
        if super::fastsheet::push_str(raw, &mut text).is_none() {
            return Ok(None);
        }
        if text.contains("_x") {
            out.push(&decode_excel_escapes(&text))?;
        } else {
            out.push(&text)?;
        }
        p = lt + 9;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_escapes_decode_including_surrogates_and_escaped_underscore() {
        assert_eq!(decode_excel_escapes("a_x000D_b"), "a\rb");
        assert_eq!(decode_excel_escapes("_xD83D__xDE00_"), "😀");
        assert_eq!(decode_excel_escapes("_x005F_x000D_"), "_x000D_");
        assert_eq!(decode_excel_escapes("_x12_ plain"), "_x12_ plain");
    }

    fn strings(t: &SharedStrings) -> Vec<String> {
        (0..t.ends.len())
            .map(|i| t.get(i).unwrap().to_string())
            .collect()
    }

    fn by_xml_reader(xml: &str) -> Vec<String> {
        let mut r = limits::xml_reader(xml.as_bytes());
        strings(&xml_table(&mut r, xml.len() as u64).unwrap())
    }

    /// The byte scan reads exactly what the XML reader reads, or declines.
    #[test]
    fn fast_table_reads_what_the_xml_reader_reads_or_declines() {
        let head = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="9" uniqueCount="9">"#;
        let read = [
            "<si><t>坐席id</t></si><si><t/></si><si/><si><t xml:space=\"preserve\"> a b </t></si>",
            "<si><t>a &amp; b &lt;c&gt; &quot;&apos; &#x4e2d;&#25991;</t></si>",
            "<si><t>line\r\nnext\rlast</t></si><si><t>_x000D_ and _x005F_x0041_</t></si>",
            "",
        ];
        for body in read {
            let xml = format!("{head}{body}</sst>\n");
            let fast = fast_table(xml.as_bytes())
                .unwrap()
                .expect("fast path reads it");
            assert_eq!(strings(&fast), by_xml_reader(&xml), "{body}");
        }
        let declined = [
            "<si><r><t>rich</t></r></si>",
            "<si><t>a</t><rPh><t>b</t></rPh></si>",
            "<si> <t>space</t></si>",
            "<x:si><x:t>prefixed</x:t></x:si>",
            "<si><t>&unknown;</t></si>",
            "<si><t>&#1;</t></si>",
            "<!-- c --><si><t>a</t></si>",
            "<si><t>a</t></si>",
        ];
        for (i, body) in declined.iter().enumerate() {
            // The last: a document that does not end with </sst>.
            let xml = if i + 1 == declined.len() {
                format!("{head}{body}")
            } else {
                format!("{head}{body}</sst>")
            };
            assert!(fast_table(xml.as_bytes()).unwrap().is_none(), "{body}");
        }
        assert!(fast_table(b"<sst/>").unwrap().is_none());
    }
}
