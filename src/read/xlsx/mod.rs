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

mod cells;
mod fastsheet;
mod package;
mod parallel;
mod shared_strings;
mod sheet;
mod styles;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use zip::ZipArchive;

use self::cells::Ctx;
use self::package::{
    corrupt, lookup, officedocument_target, ole_kind, parse_rels, parse_workbook, rels_path,
    resolve,
};
use self::shared_strings::parse_shared_strings;
use self::sheet::read_sheet;
use self::styles::parse_styles;
use super::collect::{Collector, RowAssembler};
use crate::error::FileErrorKind;
use crate::value::Value;

pub(super) fn read(path: &Path, c: &mut Collector<'_, '_, '_>) -> Result<(), FileErrorKind> {
    let mut file = File::open(path).map_err(FileErrorKind::open)?;
    let mut magic = [0u8; 8];
    let n = file.read(&mut magic).map_err(FileErrorKind::open)?;
    if n == 8 && magic == [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] {
        return Err(ole_kind(path));
    }
    let file = File::open(path).map_err(FileErrorKind::open)?;
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
        b.header_on_row1 = true;
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
        if parse_threads > 1 && part.size() >= parallel::MIN_BYTES {
            parallel::read_sheet(part, &ctx, parse_threads, emit)
        } else {
            read_sheet(part, &ctx, true, emit)
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
        parallel::read_sheet_in_blocks(xml, ctx, threads, block, emit)
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

#[cfg(test)]
mod tests {
    use super::fastsheet::cell_ref;

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref(b"A1"), Some((0, 0)));
        assert_eq!(cell_ref(b"AB12"), Some((11, 27)));
        assert_eq!(cell_ref(b"XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref(b"1A"), None);
    }
}
