//! The xlsx package: the zip container, its relationship parts, the
//! workbook's sheet list and date system. Everything here navigates to a
//! part; what a part holds is read by the sibling modules.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;

use super::limits::{self, next, XErr, XmlReader, MAX_RELATIONSHIPS, MAX_SHEETS};
use crate::error::FileErrorKind;
use crate::progress::ByteCount;

/// The zip over the file's bytes, counted for the progress bar as they
/// are pulled from the file: the members' compressed bytes as they are
/// inflated (sheets, shared strings, wherever they are inflated, the
/// parallel reader's splitter thread included) and the zip's directory.
pub(super) type Zip = ZipArchive<Source>;
pub(super) type Source = BufReader<ByteCount<File>>;

pub(super) fn corrupt(detail: impl std::fmt::Display) -> FileErrorKind {
    FileErrorKind::Corrupt {
        format: "xlsx",
        detail: detail.to_string(),
    }
}

/// An OLE2 container named .xlsx: an encrypted workbook (Office stores
/// password-protected xlsx that way) or a legacy .xls renamed.
pub(super) fn ole_kind(path: &Path) -> FileErrorKind {
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

pub(super) type Xml<'a> = XmlReader<BufReader<zip::read::ZipFile<'a, Source>>>;

pub(super) fn lookup<'n>(names: &'n HashMap<String, String>, part: &str) -> Option<&'n String> {
    names.get(&part.trim_start_matches('/').to_ascii_lowercase())
}

pub(super) fn xml_reader<'a>(
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
    Ok(Some(limits::xml_reader(BufReader::with_capacity(
        1 << 16,
        f,
    ))))
}

pub(super) fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name || a.key.local_name().as_ref() == name)
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| a.value.clone().into_owned())
        })
}

pub(super) fn rels_path(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// A relationship target relative to `base` (or absolute `/xl/...`).
pub(super) fn resolve(base: &str, target: &str) -> String {
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

pub(super) fn officedocument_target(
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
pub(super) fn parse_rels(
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
        match next(&mut r, &mut buf).map_err(|e| e.within(part).into_kind())? {
            Event::Start(e) if e.local_name().as_ref() == "Relationship" => {
                if out.len() >= MAX_RELATIONSHIPS {
                    return Err(XErr::Limit(format!(
                        "more than {MAX_RELATIONSHIPS} relationships"
                    ))
                    .within(part)
                    .into_kind());
                }
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
pub(super) fn parse_workbook(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<(Vec<(String, String)>, bool), FileErrorKind> {
    let mut r = xml_reader(zip, names, part)?
        .ok_or_else(|| corrupt(format!("no workbook part ({part})")))?;
    let (mut sheets, mut date1904, mut buf) = (Vec::new(), false, Vec::new());
    loop {
        match next(&mut r, &mut buf).map_err(|e| e.within(part).into_kind())? {
            Event::Start(e) if e.local_name().as_ref() == "sheet" => {
                if sheets.len() >= MAX_SHEETS {
                    return Err(XErr::Limit(format!(
                        "more than {MAX_SHEETS} sheets listed (LibreOffice's maximum)"
                    ))
                    .within(part)
                    .into_kind());
                }
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
