//! Cell styles as openpyxl reads them: which `cellXfs` entries format
//! their numbers as dates (openpyxl's `is_date_format`, built-in ids) and
//! which of those as durations (elapsed-time formats, `is_timedelta_format`):
//! openpyxl turns the first into `datetime`/`time`, the second into
//! `timedelta`.

use std::collections::HashMap;

use quick_xml::events::Event;

use super::limits::{next, skip, XErr, MAX_NUMBER_FORMAT_BYTES, MAX_STYLES};
use super::package::{attr, xml_reader, Zip};
use crate::error::FileErrorKind;

/// How openpyxl reads a number cell of a style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumKind {
    /// A number (`int` or `float`).
    #[default]
    Number,
    /// `from_excel`: a `datetime`, or a `time` for a value in [0, 1).
    Date,
    /// `from_excel(..., timedelta=True)`: a `timedelta`.
    Duration,
}

/// For each cell style (`cellXfs` index): how openpyxl reads its numbers.
pub(super) fn parse_styles(
    zip: &mut Zip,
    names: &HashMap<String, String>,
    part: &str,
) -> Result<Vec<NumKind>, FileErrorKind> {
    let Some(mut r) = xml_reader(zip, names, part)? else {
        return Ok(Vec::new());
    };
    let (mut custom, mut xf_ids, mut buf) = (HashMap::new(), Vec::new(), Vec::new());
    let mut in_cell_xfs = false;
    let err = |e: XErr| e.within(part).into_kind();
    let over = |what: String| err(XErr::Limit(what));
    loop {
        match next(&mut r, &mut buf).map_err(err)? {
            Event::Start(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    if custom.len() >= MAX_STYLES {
                        return Err(over(format!("more than {MAX_STYLES} number formats")));
                    }
                    if let (Some(id), Some(code)) = (attr(&e, "numFmtId"), attr(&e, "formatCode")) {
                        if code.len() > MAX_NUMBER_FORMAT_BYTES {
                            return Err(over(format!(
                                "a number format longer than {MAX_NUMBER_FORMAT_BYTES} bytes (Excel's limit: 255 characters)"
                            )));
                        }
                        if let Ok(id) = id.trim().parse::<u32>() {
                            custom.insert(id, code);
                        }
                    }
                }
                "cellXfs" => in_cell_xfs = true,
                "xf" if in_cell_xfs => {
                    if xf_ids.len() >= MAX_STYLES {
                        return Err(over(format!("more than {MAX_STYLES} cell formats")));
                    }
                    xf_ids.push(
                        attr(&e, "numFmtId")
                            .and_then(|v| v.trim().parse::<u32>().ok())
                            .unwrap_or(0),
                    );
                    skip(&mut r, &mut Vec::new()).map_err(err)?;
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
            match code {
                Some(c) if is_date_format(c) && is_timedelta_format(c) => NumKind::Duration,
                Some(c) if is_date_format(c) => NumKind::Date,
                _ => NumKind::Number,
            }
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

/// openpyxl's `is_timedelta_format`: its regex
/// `\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?`
/// (case-insensitive) searched in the first section — which amounts to one
/// of `[h]`, `[hh]`, `[m]`, `[mm]`, `[s]`, `[ss]` anywhere in it (the
/// optional tails never decide a match).
pub fn is_timedelta_format(fmt: &str) -> bool {
    let first = fmt.split(';').next().unwrap_or("").to_ascii_lowercase();
    ["[h]", "[hh]", "[m]", "[mm]", "[s]", "[ss]"]
        .iter()
        .any(|p| first.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
