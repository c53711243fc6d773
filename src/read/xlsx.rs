//! xlsx / xlsm: a streaming reader with openpyxl's value semantics.
//!
//! calamine reads the other formats; for xlsx the reference's reader is
//! openpyxl, and a few of its rules decide output bytes: text is kept
//! exactly as stored (no whitespace trimming, so a message of one space
//! stays one space), XML line endings are normalised, numbers are ints
//! unless they carry `.`/`e`, and a number is a date only when its style's
//! format is a date by openpyxl's `is_date_format` (unknown built-in ids,
//! e.g. 27-36, are not dates). Excel's `_xHHHH_` escapes are decoded, the
//! one deliberate difference (SPEC). Cells are streamed row by row from the
//! zip entry: nothing is sized from the sheet's declared dimension.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use std::path::Path;

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;
use zip::ZipArchive;

use super::fastsheet::{cell_ref, FastSheet, RawCell, Step};
use super::{Collector, RowAssembler};
use crate::error::FileErrorKind;
use crate::value::Value;

type Zip = ZipArchive<BufReader<File>>;

fn corrupt(detail: impl std::fmt::Display) -> FileErrorKind {
    FileErrorKind::Corrupt {
        format: "xlsx",
        detail: detail.to_string(),
    }
}

pub(super) fn read(path: &Path, c: &mut Collector<'_, '_, '_>) -> Result<(), FileErrorKind> {
    let mut file = File::open(path).map_err(|e| FileErrorKind::Open(e.to_string()))?;
    let mut magic = [0u8; 8];
    let n = file
        .read(&mut magic)
        .map_err(|e| FileErrorKind::Open(e.to_string()))?;
    if n == 8 && magic == [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] {
        return Err(ole_kind(path));
    }
    let file = File::open(path).map_err(|e| FileErrorKind::Open(e.to_string()))?;
    let mut zip = ZipArchive::new(BufReader::new(file))
        .map_err(|e| corrupt(format!("not a zip container ({e})")))?;
    let names: HashMap<String, String> = zip
        .file_names()
        .flatten()
        .map(|n| (n.to_ascii_lowercase(), n.into_owned()))
        .collect();

    let workbook_part =
        officedocument_target(&mut zip, &names)?.unwrap_or_else(|| "xl/workbook.xml".into());
    let (sheets, date1904) = parse_workbook(&mut zip, &names, &workbook_part)?;
    let rels = parse_rels(&mut zip, &names, &rels_path(&workbook_part))?;
    let base = workbook_part
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let by_type = |suffix: &str| {
        rels.values()
            .find(|(t, _)| t.ends_with(suffix))
            .map(|(_, target)| resolve(&base, target))
    };
    let shared =
        match by_type("/sharedStrings").or_else(|| Some(format!("{base}/sharedStrings.xml"))) {
            Some(p) if lookup(&names, &p).is_some() => parse_shared_strings(&mut zip, &names, &p)?,
            _ => Vec::new(),
        };
    let date_styles = match by_type("/styles").or_else(|| Some(format!("{base}/styles.xml"))) {
        Some(p) if lookup(&names, &p).is_some() => parse_styles(&mut zip, &names, &p)?,
        _ => Vec::new(),
    };
    let ctx = Ctx {
        shared: &shared,
        date_styles: &date_styles,
        date1904,
    };

    let parse_threads = c.opts.parse_threads;
    for (name, rid) in sheets {
        if !c.wants(&name) {
            continue;
        }
        let target = rels
            .get(&rid)
            .map(|(_, t)| resolve(&base, t))
            .ok_or_else(|| corrupt(format!("sheet {name}: no relationship {rid}")))?;
        let mut b = c.sheet(&name);
        let mut rows = RowAssembler::default();
        let real = lookup(&names, &target)
            .cloned()
            .ok_or_else(|| corrupt(format!("sheet {name}: part {target} is missing")))?;
        let part = zip
            .by_name(&real)
            .map_err(|e| corrupt(format!("{target}: {e}")))?;
        let emit = |r, col, v| {
            rows.push(c, &mut b, r, col, v);
            !c.interrupted
        };
        if parse_threads > 1 && part.size() >= super::parallel::MIN_BYTES {
            super::parallel::read_sheet(part, &ctx, parse_threads, emit)
        } else {
            read_sheet(part, &ctx, FAST_PATH, emit)
        }
        .map_err(|e| corrupt(format!("sheet {name}: {e}")))?;
        if c.interrupted {
            return Err(FileErrorKind::Interrupted);
        }
        rows.finish(c, &mut b);
        c.end_sheet(b);
    }
    Ok(())
}

/// An OLE2 container named .xlsx: an encrypted workbook (Office stores
/// password-protected xlsx that way) or a legacy .xls renamed.
fn ole_kind(path: &Path) -> FileErrorKind {
    let needle: Vec<u8> = "EncryptedPackage"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let encrypted = std::fs::read(path)
        .map(|d| d.windows(needle.len()).any(|w| w == needle))
        .unwrap_or(false);
    if encrypted {
        FileErrorKind::Encrypted
    } else {
        corrupt("an OLE2 (legacy .xls) file named .xlsx; rename it to .xls")
    }
}

pub(super) struct Ctx<'a> {
    shared: &'a [Box<str>],
    date_styles: &'a [bool],
    date1904: bool,
}

type Xml<'a> = Reader<BufReader<zip::read::ZipFile<'a, BufReader<File>>>>;

fn lookup<'n>(names: &'n HashMap<String, String>, part: &str) -> Option<&'n String> {
    names.get(&part.trim_start_matches('/').to_ascii_lowercase())
}

fn xml_reader<'a>(
    zip: &'a mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<Option<Xml<'a>>, FileErrorKind> {
    let Some(real) = lookup(names, part) else {
        return Ok(None);
    };
    let f = zip
        .by_name(real)
        .map_err(|e| corrupt(format!("{part}: {e}")))?;
    let mut r = Reader::from_reader(BufReader::with_capacity(1 << 16, f));
    let cfg = r.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;
    Ok(Some(r))
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name || a.key.local_name().as_ref() == name)
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
}

fn rels_path(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// A relationship target relative to `base` (or absolute `/xl/...`).
fn resolve(base: &str, target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = if base.is_empty() {
        Vec::new()
    } else {
        base.split('/').collect()
    };
    for seg in target.split('/') {
        match seg {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn officedocument_target(
    zip: &mut Zip,
    names: &HashMap<String, String>,
) -> Result<Option<String>, FileErrorKind> {
    let rels = parse_rels(zip, names, "_rels/.rels")?;
    Ok(rels
        .values()
        .find(|(t, _)| t.ends_with("/officeDocument"))
        .map(|(_, target)| resolve("", target)))
}

/// Id -> (Type, Target) of a .rels part (empty when the part is missing).
fn parse_rels(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<HashMap<String, (String, String)>, FileErrorKind> {
    let mut out = HashMap::new();
    let Some(mut r) = xml_reader(zip, names, part)? else {
        return Ok(out);
    };
    let mut buf = Vec::new();
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(format!("{part}: {e}")))?
        {
            Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                if let (Some(id), Some(target)) = (attr(&e, "Id"), attr(&e, "Target")) {
                    out.insert(id, (attr(&e, "Type").unwrap_or_default(), target));
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// The sheets (name, relationship id) in workbook order, and the 1904 flag.
fn parse_workbook(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<(Vec<(String, String)>, bool), FileErrorKind> {
    let mut r = xml_reader(zip, names, part)?
        .ok_or_else(|| corrupt(format!("no workbook part ({part})")))?;
    let (mut sheets, mut date1904, mut buf) = (Vec::new(), false, Vec::new());
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(format!("{part}: {e}")))?
        {
            Event::Start(e) if e.local_name().as_ref() == "sheet" => {
                let name = attr(&e, "name").unwrap_or_default();
                let rid = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key.local_name().as_ref() == "id")
                    .map(|a| a.value.clone().into_owned())
                    .unwrap_or_default();
                sheets.push((name, rid));
            }
            Event::Start(e) if e.local_name().as_ref() == "workbookPr" => {
                date1904 = matches!(attr(&e, "date1904").as_deref(), Some("1" | "true"));
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok((sheets, date1904))
}

/// Text of an `<si>` / `<is>`: its `<t>` and rich-run `<t>`s, phonetic
/// runs (`<rPh>`) left out, entities resolved, `_xHHHH_` decoded.
fn read_rich_text<B: BufRead>(
    r: &mut Reader<B>,
    end: &str,
    buf: &mut Vec<u8>,
) -> quick_xml::Result<String> {
    let mut out = String::new();
    let (mut in_t, mut in_phonetic) = (false, false);
    loop {
        buf.clear();
        match r.read_event_into(buf)? {
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
            Event::GeneralRef(e) if in_t && !in_phonetic => push_entity(&e, &mut out)?,
            Event::Eof => break,
            _ => {}
        }
    }
    if out.contains("_x") {
        Ok(decode_excel_escapes(&out))
    } else {
        Ok(out)
    }
}

fn push_entity(e: &BytesRef<'_>, out: &mut String) -> quick_xml::Result<()> {
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

fn parse_shared_strings(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<Vec<Box<str>>, FileErrorKind> {
    let Some(mut r) = xml_reader(zip, names, part)? else {
        return Ok(Vec::new());
    };
    let (mut out, mut buf, mut inner) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(format!("{part}: {e}")))?
        {
            Event::Start(e) if e.local_name().as_ref() == "si" => {
                let s = read_rich_text(&mut r, "si", &mut inner)
                    .map_err(|e| corrupt(format!("{part}: {e}")))?;
                out.push(s.into_boxed_str());
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// For each cell style (`cellXfs` index): whether openpyxl reads its
/// numbers as dates.
fn parse_styles(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<Vec<bool>, FileErrorKind> {
    let Some(mut r) = xml_reader(zip, names, part)? else {
        return Ok(Vec::new());
    };
    let (mut custom, mut xf_ids, mut buf) = (HashMap::new(), Vec::new(), Vec::new());
    let mut in_cell_xfs = false;
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(|e| corrupt(format!("{part}: {e}")))?
        {
            Event::Start(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    if let (Some(id), Some(code)) = (attr(&e, "numFmtId"), attr(&e, "formatCode")) {
                        if let Ok(id) = id.trim().parse::<u32>() {
                            custom.insert(id, code);
                        }
                    }
                }
                "cellXfs" => in_cell_xfs = true,
                "xf" if in_cell_xfs => {
                    xf_ids.push(
                        attr(&e, "numFmtId")
                            .and_then(|v| v.trim().parse::<u32>().ok())
                            .unwrap_or(0),
                    );
                    r.read_to_end_into(e.name(), &mut Vec::new())
                        .map_err(|e| corrupt(format!("{part}: {e}")))?;
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(xf_ids
        .into_iter()
        .map(|id| {
            let code = custom
                .get(&id)
                .map(String::as_str)
                .or_else(|| builtin_format(id));
            code.is_some_and(|c| is_date_format(c) && !is_timedelta_format(c))
        })
        .collect())
}

/// openpyxl's `BUILTIN_FORMATS` entries that matter: the date ones (other
/// known ids are numbers; unknown ids are General).
fn builtin_format(id: u32) -> Option<&'static str> {
    Some(match id {
        14 => "mm-dd-yy",
        15 => "d-mmm-yy",
        16 => "d-mmm",
        17 => "mmm-yy",
        18 => "h:mm AM/PM",
        19 => "h:mm:ss AM/PM",
        20 => "h:mm",
        21 => "h:mm:ss",
        22 => "m/d/yy h:mm",
        45 => "mm:ss",
        46 => "[h]:mm:ss",
        47 => "mmss.0",
        _ => return None,
    })
}

/// openpyxl's `is_date_format`: first section, quoted literals and
/// `[...]` groups (except `[h]`, `[mm]`, `[ss]`) removed, then any of
/// `dmhys` not preceded by `_` or `\`.
pub fn is_date_format(fmt: &str) -> bool {
    let first = fmt.split(';').next().unwrap_or("");
    let chars: Vec<char> = first.chars().collect();
    let mut kept = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => match chars[i + 1..].iter().position(|&c| c == '"') {
                Some(p) => i += p + 2,
                None => {
                    kept.push('"');
                    i += 1;
                }
            },
            '[' => {
                let close = chars[i + 1..].iter().position(|&c| c == ']');
                let inner: String = close
                    .map(|p| chars[i + 1..i + 1 + p].iter().collect())
                    .unwrap_or_default();
                let is_elapsed = matches!(
                    inner.to_ascii_lowercase().as_str(),
                    "h" | "hh" | "m" | "mm" | "s" | "ss"
                );
                match close {
                    Some(p) if !is_elapsed => i += p + 2,
                    _ => {
                        kept.push('[');
                        i += 1;
                    }
                }
            }
            c => {
                kept.push(c);
                i += 1;
            }
        }
    }
    kept.iter()
        .enumerate()
        .any(|(i, c)| "dmhysDMHYS".contains(*c) && (i == 0 || !matches!(kept[i - 1], '_' | '\\')))
}

/// openpyxl's `is_timedelta_format`: `[h]`, `[mm]`, `[ss]` elapsed formats.
fn is_timedelta_format(fmt: &str) -> bool {
    let first = fmt.split(';').next().unwrap_or("").to_ascii_lowercase();
    ["[h]", "[hh]", "[m]", "[mm]", "[s]", "[ss]"]
        .iter()
        .any(|p| first.contains(p))
}

/// Whether worksheets go through the byte-level fast path first.
const FAST_PATH: bool = true;

/// Stream one worksheet's cells to `emit`: the fast path while the rows
/// are regular, the general quick-xml reader from the first row it does not
/// understand (or for the whole sheet when `fast` is false).
fn read_sheet<R: Read>(
    src: R,
    ctx: &Ctx<'_>,
    fast: bool,
    mut emit: impl FnMut(u32, u32, Value) -> bool,
) -> Result<(), String> {
    if !fast {
        return general(Vec::new(), src, ctx, (0, false, 0), &mut emit);
    }
    let mut f = FastSheet::new(src);
    match f.seek_sheet_data().map_err(|e| e.to_string())? {
        Ok(true) => fast_rows(f, ctx, &mut emit),
        Ok(false) => Ok(()),
        Err(()) => {
            let (all, src) = f.into_all();
            general(all, src, ctx, (0, false, 0), &mut emit)
        }
    }
}

/// The general quick-xml reader over `head` then `src`, from row state
/// `state` (row, row seen, next column).
pub(super) fn general<R: Read>(
    head: Vec<u8>,
    src: R,
    ctx: &Ctx<'_>,
    state: (u32, bool, u32),
    emit: &mut dyn FnMut(u32, u32, Value) -> bool,
) -> Result<(), String> {
    let mut r = Reader::from_reader(BufReader::with_capacity(
        1 << 16,
        std::io::Cursor::new(head).chain(src),
    ));
    let cfg = r.config_mut();
    cfg.trim_text(false);
    cfg.check_end_names = true;
    cfg.expand_empty_elements = true;
    stream_sheet(&mut r, ctx, state, emit)
}

/// The fast path from a row boundary to the end of the sheet, handing over
/// to the general reader at the first row it does not understand.
pub(super) fn fast_rows<R: Read>(
    mut f: FastSheet<R>,
    ctx: &Ctx<'_>,
    emit: &mut dyn FnMut(u32, u32, Value) -> bool,
) -> Result<(), String> {
    loop {
        match f.next_row().map_err(|e| e.to_string())? {
            Step::Row => {
                for cell in f.cells.drain(..) {
                    let (row, col) = (cell.row, cell.col);
                    if !emit(row, col, fast_cell_value(cell, ctx)?) {
                        return Ok(());
                    }
                }
            }
            Step::End => return Ok(()),
            Step::Fallback => {
                let state = (f.row, f.row_seen, f.next_col);
                let mut reopened = std::mem::take(&mut f.reopen);
                let (rest, src) = f.into_rest();
                // The fast path consumed `<sheetData>` and its ancestors:
                // open them again, so the general reader sees the document
                // as it is (and checks its end tags against them).
                reopened.extend_from_slice(&rest);
                return general(reopened, src, ctx, state, emit);
            }
        }
    }
}

/// A cell of the fast path, typed.
pub(super) fn fast_cell_value(cell: RawCell, ctx: &Ctx<'_>) -> Result<Value, String> {
    let ty = CellType::of(cell.ty.unwrap_or("n"));
    Ok(if ty == CellType::Inline {
        cell.inline.map(Value::text_owned).unwrap_or(Value::Empty)
    } else if cell.has_v && !cell.text.is_empty() {
        cell_value(ty, cell.style, &cell.text, ctx)?
    } else {
        Value::Empty
    })
}

/// Test hook: the cells of one worksheet XML, through the fast path or the
/// general reader only (`tests/fuzz.rs` checks they agree).
#[doc(hidden)]
pub fn sheet_cells_for_tests(
    xml: &[u8],
    shared: &[&str],
    fast: bool,
) -> Result<Vec<(u32, u32, Value)>, String> {
    collect_for_tests(shared, |ctx, emit| read_sheet(xml, ctx, fast, emit))
}

/// Test hook: the cells of one worksheet XML through the parallel reader,
/// with blocks of about `block` bytes (`tests/fuzz.rs` checks it agrees
/// with the serial one).
#[doc(hidden)]
pub fn sheet_cells_parallel_for_tests(
    xml: &[u8],
    shared: &[&str],
    threads: usize,
    block: usize,
) -> Result<Vec<(u32, u32, Value)>, String> {
    collect_for_tests(shared, |ctx, emit| {
        super::parallel::read_sheet_in_blocks(xml, ctx, threads, block, emit)
    })
}

/// The cells a sheet reader emits, with `shared` as the shared strings.
fn collect_for_tests(
    shared: &[&str],
    read: impl FnOnce(&Ctx<'_>, &mut dyn FnMut(u32, u32, Value) -> bool) -> Result<(), String>,
) -> Result<Vec<(u32, u32, Value)>, String> {
    let shared: Vec<Box<str>> = shared.iter().map(|s| (*s).into()).collect();
    let ctx = Ctx {
        shared: &shared,
        date_styles: &[],
        date1904: false,
    };
    let mut out = Vec::new();
    read(&ctx, &mut |r, c, v| {
        out.push((r, c, v));
        true
    })?;
    Ok(out)
}

/// The `t` attribute of a cell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CellType {
    Number,
    Shared,
    Inline,
    Bool,
    Error,
    Date,
    /// `str` (a formula's text result) and anything unknown: text.
    Text,
}

impl CellType {
    fn of(t: &str) -> CellType {
        match t {
            "n" => CellType::Number,
            "s" => CellType::Shared,
            "inlineStr" => CellType::Inline,
            "b" => CellType::Bool,
            "e" => CellType::Error,
            "d" => CellType::Date,
            _ => CellType::Text,
        }
    }
}

/// Stream `<sheetData>` cells to `emit(row, col, value)` in order, until
/// the end of the sheet or until `emit` returns false. This is the hot loop
/// of xlsx reading: buffers are reused, attributes are read raw in one pass
/// (the cell's `r`, `s`, `t` are ASCII tokens), and text is allocated once.
fn stream_sheet<B: BufRead>(
    r: &mut Reader<B>,
    ctx: &Ctx<'_>,
    (mut row, mut row_seen, mut next_col): (u32, bool, u32),
    emit: &mut dyn FnMut(u32, u32, Value) -> bool,
) -> Result<(), String> {
    let mut buf = Vec::with_capacity(1024);
    let mut inner = Vec::with_capacity(256);
    let mut vbuf = Vec::with_capacity(256);
    let mut text = String::new();
    loop {
        buf.clear();
        let (cr, cc, ty, style) = match r.read_event_into(&mut buf).map_err(|e| e.to_string())? {
            Event::Start(e) if e.local_name().as_ref() == "row" => {
                let mut n = None;
                for a in e.attributes().with_checks(false).flatten() {
                    if a.key.as_ref() == "r" {
                        n = a.value.trim().parse::<u32>().ok();
                    }
                }
                row = match n {
                    Some(n) if n > 0 => n - 1,
                    _ if row_seen => row + 1,
                    _ => 0,
                };
                row_seen = true;
                next_col = 0;
                continue;
            }
            Event::Start(e) if e.local_name().as_ref() == "c" => {
                let (mut pos, mut ty, mut style) = (None, CellType::Number, 0usize);
                for a in e.attributes().with_checks(false).flatten() {
                    match a.key.as_ref() {
                        "r" => pos = cell_ref(a.value.as_bytes()),
                        "t" => ty = CellType::of(&a.value),
                        "s" => style = a.value.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                }
                let (cr, cc) = pos.unwrap_or((row, next_col));
                next_col = cc + 1;
                (cr, cc, ty, style)
            }
            Event::End(e) if e.local_name().as_ref() == "sheetData" => return Ok(()),
            Event::Eof => return Ok(()),
            _ => continue,
        };
        // The cell's children: <v>, <is>, <f> (ignored: cached values only).
        let (mut has_v, mut inline): (bool, Option<String>) = (false, None);
        loop {
            inner.clear();
            match r.read_event_into(&mut inner).map_err(|e| e.to_string())? {
                Event::Start(ch) => match ch.local_name().as_ref() {
                    "v" => {
                        text.clear();
                        loop {
                            vbuf.clear();
                            match r.read_event_into(&mut vbuf).map_err(|e| e.to_string())? {
                                Event::Text(t) => text.push_str(&t.xml10_content()),
                                Event::CData(t) => text.push_str(&t.xml10_content()),
                                Event::GeneralRef(g) => {
                                    push_entity(&g, &mut text).map_err(|e| e.to_string())?
                                }
                                Event::End(_) | Event::Eof => break,
                                _ => {}
                            }
                        }
                        has_v = true;
                    }
                    "is" => {
                        inline =
                            Some(read_rich_text(r, "is", &mut vbuf).map_err(|e| e.to_string())?)
                    }
                    _ => {
                        let name = ch.name().as_ref().to_string();
                        r.read_to_end_into(quick_xml::name::QName(&name), &mut vbuf)
                            .map_err(|e| e.to_string())?;
                    }
                },
                Event::End(ch) if ch.local_name().as_ref() == "c" => break,
                Event::Eof => return Err("unexpected end inside a cell".into()),
                _ => {}
            }
        }
        let value = if ty == CellType::Inline {
            inline.map(Value::text_owned).unwrap_or(Value::Empty)
        } else if has_v && !text.is_empty() {
            cell_value(ty, style, &text, ctx)?
        } else {
            Value::Empty
        };
        if !emit(cr, cc, value) {
            return Ok(());
        }
    }
}

/// One cell with a non-empty `<v>` as openpyxl + pandas read it.
fn cell_value(ty: CellType, style: usize, v: &str, ctx: &Ctx<'_>) -> Result<Value, String> {
    let is_date = || ctx.date_styles.get(style).copied().unwrap_or(false);
    Ok(match ty {
        CellType::Number => {
            let trimmed = v.trim();
            let x: f64 = if trimmed.contains(['.', 'e', 'E']) {
                trimmed.parse().map_err(|_| format!("bad number {v:?}"))?
            } else {
                let i: i64 = trimmed.parse().map_err(|_| format!("bad number {v:?}"))?;
                if !is_date() {
                    return Ok(Value::Int(i));
                }
                i as f64
            };
            if is_date() {
                Value::DateTime(if ctx.date1904 { x + 1462.0 } else { x })
            } else {
                Value::number(x)
            }
        }
        CellType::Shared => {
            let idx: usize = v
                .trim()
                .parse()
                .map_err(|_| format!("bad shared string index {v:?}"))?;
            let s = ctx
                .shared
                .get(idx)
                .ok_or_else(|| format!("shared string {idx} does not exist"))?;
            Value::text(s)
        }
        CellType::Bool => match v.trim() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            other => return Err(format!("bad boolean {other:?}")),
        },
        CellType::Error => Value::Empty,
        CellType::Date => super::parse_iso(v)
            .map(|p| Value::DateTime(p.to_serial()))
            .unwrap_or_else(|| Value::text(v)),
        CellType::Inline | CellType::Text => Value::text_owned(decode_excel_escapes(v)),
    })
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

    #[test]
    fn date_formats_follow_openpyxl() {
        for f in [
            "yyyy-mm-dd",
            "mm-dd-yy",
            "[h]:mm:ss",
            "yyyy\"年\"m\"月\"d\"日\"",
        ] {
            assert!(is_date_format(f), "{f}");
        }
        for f in [
            "General",
            "0.00",
            "\"day\"0",
            "[Red]0",
            "#,##0_);[Red](#,##0)",
            "@",
            "0_s",
        ] {
            assert!(!is_date_format(f), "{f}");
        }
    }

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref(b"A1"), Some((0, 0)));
        assert_eq!(cell_ref(b"AB12"), Some((11, 27)));
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref(b"1A"), None);
    }
}
