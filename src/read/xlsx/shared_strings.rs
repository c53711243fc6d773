//! Shared strings and rich text: the `<si>` table, `<t>` runs without
//! phonetic runs, entities, and Excel's `_xHHHH_` escapes (decoded: the one
//! deliberate difference from openpyxl, SPEC).

use std::collections::HashMap;
use std::io::BufRead;

use quick_xml::events::{BytesRef, Event};

use super::limits::{
    cell_too_long, next, XErr, XmlReader, MAX_CELL_BYTES, MAX_SHARED_BYTES, MAX_SHARED_STRINGS,
    SHARED_ENTRY_BYTES,
};
use super::package::{xml_reader, Zip};
use crate::error::FileErrorKind;

/// The shared-strings table: every string's text in one buffer and its
/// end offset — 4 bytes a string beside its text, not a 16-byte `Box<str>`
/// and an allocation each (a crafted part of 126 M empty `<si/>` would
/// cost 2 GB that way). Its size is bounded by [`MAX_SHARED_BYTES`].
#[derive(Default)]
pub(crate) struct SharedStrings {
    text: String,
    ends: Vec<u32>,
}

impl SharedStrings {
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.text[start..end])
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

/// The `<si>` table. Its `count`/`uniqueCount` are not trusted (nor
/// used): the table grows as strings are read, within its budget.
pub(super) fn parse_shared_strings(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<SharedStrings, FileErrorKind> {
    let mut out = SharedStrings::default();
    let Some(mut r) = xml_reader(zip, names, part)? else {
        return Ok(out);
    };
    let (mut buf, mut inner) = (Vec::new(), Vec::new());
    let err = |e: XErr| e.within(part).into_kind();
    loop {
        match next(&mut r, &mut buf).map_err(err)? {
            Event::Start(e) if e.local_name().as_ref() == "si" => {
                let s = read_rich_text(&mut r, "si", &mut inner)
                    .map_err(|e| e.within(format!("string {}", out.ends.len())))
                    .map_err(err)?;
                out.push(&s).map_err(err)?;
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
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
}
