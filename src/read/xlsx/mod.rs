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
//!
//! A crafted workbook meets the limits of [`limits`] (cell text, XML token
//! size, nesting depth, shared-strings size, sheet count, Excel's grid):
//! each is a named per-file error, checked before anything is allocated.

mod cells;
mod fastsheet;
mod limits;
mod package;
mod parallel;
mod shared_strings;
mod sheet;
mod styles;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use zip::ZipArchive;

use self::cells::Ctx;
use self::package::{
    corrupt, lookup, officedocument_target, ole_kind, parse_rels, parse_workbook, rels_path,
    resolve,
};
use self::shared_strings::{parse_shared_strings, SharedStrings};
use self::sheet::{read_sheet, Emit, ROW_START};
use self::styles::parse_styles;
use super::collect::{Collector, RowAssembler, SheetBuilder};
use crate::error::FileErrorKind;
use crate::progress::ByteCount;
use crate::value::Value;

pub(super) fn read(path: &Path, c: &mut Collector<'_, '_, '_>) -> Result<(), FileErrorKind> {
    let mut file = File::open(path).map_err(FileErrorKind::open)?;
    let mut magic = [0u8; 8];
    let n = file.read(&mut magic).map_err(FileErrorKind::open)?;
    if n == 8 && magic == [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] {
        return Err(ole_kind(path));
    }
    let file = File::open(path).map_err(FileErrorKind::open)?;
    let mut zip = ZipArchive::new(BufReader::new(ByteCount::new(file)))
        .map_err(|e| corrupt(format!("not a zip container ({e})")))?;
    // Entries sharing their compressed bytes — the overlapping-zip bomb,
    // every sheet part the same gigabyte — or running into the central
    // directory (a compressed size that lies). No zip writer does this.
    if zip
        .has_overlapping_files()
        .map_err(|e| corrupt(format!("not a zip container ({e})")))?
    {
        return Err(corrupt(
            "zip entries overlap (they share their data, or a declared size runs past the entry)",
        ));
    }
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
            _ => SharedStrings::default(),
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
    // A sheet part listed twice: no writer does that, and a small workbook
    // listing one part 200,000 times would read it 200,000 times.
    let mut parts_seen = HashSet::new();
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
        if !parts_seen.insert(real.clone()) {
            return Err(FileErrorKind::Limit(format!(
                "over a reading limit: sheet {name}: part {target} is listed as a sheet twice (a sheet is read once)"
            )));
        }
        let part = zip
            .by_name(&real)
            .map_err(|e| corrupt(format!("{target}: {e}")))?;
        let mut to = SheetCells {
            c: &mut *c,
            b: &mut b,
            rows: &mut rows,
            rows_seen: RowsSeen::default(),
            cells: 0,
            over_text_budget: false,
        };
        if parse_threads > 1 && part.size() >= parallel::MIN_BYTES {
            parallel::read_sheet(part, &ctx, parse_threads, |r, col, v| to.cell(r, col, v))
        } else {
            read_sheet(part, &ctx, true, &mut to)
        }
        .map_err(|e| e.within(format!("sheet {name}")).into_kind())?;
        if to.over_text_budget {
            return Err(FileErrorKind::Limit(format!(
                "over a reading limit: sheet {name}: the rows kept hold more than {} MiB of text (the limit per workbook)",
                limits::MAX_KEPT_TEXT_BYTES >> 20
            )));
        }
        if c.interrupted {
            return Err(FileErrorKind::Interrupted);
        }
        rows.finish(c, &mut b);
        c.end_sheet(b);
    }
    Ok(())
}

/// Where a sheet's cells go: the row assembly, past the checks made once
/// a cell.
struct SheetCells<'s, 'o, 'k, 'a> {
    c: &'s mut Collector<'o, 'k, 'a>,
    b: &'s mut SheetBuilder,
    rows: &'s mut RowAssembler,
    rows_seen: RowsSeen,
    cells: u32,
    over_text_budget: bool,
}

impl Emit for SheetCells<'_, '_, '_, '_> {
    /// Inlined into the fast path's cell loop (see [`Emit`]).
    #[inline(always)]
    fn cell(&mut self, r: u32, col: u32, v: Value) -> bool {
        let c = &mut *self.c;
        if c.kept_text_bytes > limits::MAX_KEPT_TEXT_BYTES {
            self.over_text_budget = true;
            return false;
        }
        // A sheet of blank rows, or of rows in an unusable sheet, never
        // reaches the collector's own check: look here too.
        self.cells = self.cells.wrapping_add(1);
        if self.cells.is_multiple_of(1 << 16) && crate::interrupt::requested() {
            c.interrupted = true;
        }
        if col == ROW_START {
            self.rows_seen.start(r);
        } else if self.rows_seen.keeps() {
            self.rows.push(c, self.b, r, col, v);
        }
        !c.interrupted
    }
}

/// Which `<row>` elements count, as openpyxl's read-only reader (pandas'
/// reader) decides: a row whose number is not above the last row kept —
/// a repeated `<row r="N">`, or one going back — is dropped whole, its
/// cells with it (openpyxl keeps the first).
#[derive(Default)]
struct RowsSeen {
    last: Option<u32>,
    dropping: bool,
}

impl RowsSeen {
    fn start(&mut self, row: u32) {
        self.dropping = self.last.is_some_and(|last| row <= last);
        if !self.dropping {
            self.last = Some(row);
        }
    }

    fn keeps(&self) -> bool {
        !self.dropping
    }
}

/// Test hook: the cells of one worksheet XML, through the fast path or the
/// general reader only (`tests/fuzz.rs` checks they agree).
#[doc(hidden)]
pub fn sheet_cells_for_tests(
    xml: &[u8],
    shared: &[&str],
    fast: bool,
) -> Result<Vec<(u32, u32, Value)>, String> {
    collect_for_tests(shared, |ctx, emit| {
        read_sheet(xml, ctx, fast, emit).map_err(|e| e.to_string())
    })
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
        parallel::read_sheet_in_blocks(xml, ctx, threads, block, emit).map_err(|e| e.to_string())
    })
}

/// The cells a sheet reader emits, with `shared` as the shared strings.
fn collect_for_tests(
    shared: &[&str],
    read: impl FnOnce(&Ctx<'_>, &mut dyn FnMut(u32, u32, Value) -> bool) -> Result<(), String>,
) -> Result<Vec<(u32, u32, Value)>, String> {
    let mut table = SharedStrings::default();
    for s in shared {
        table.push(s).map_err(|e| e.to_string())?;
    }
    let ctx = Ctx {
        shared: &table,
        date_styles: &[],
        date1904: false,
    };
    let mut out = Vec::new();
    read(&ctx, &mut |r, c, v| {
        // Row starts are the readers' bookkeeping, not cells.
        if c != ROW_START {
            out.push((r, c, v));
        }
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
        // The one-capital fast path and its edges.
        assert_eq!(cell_ref(b"Z1048576"), Some((1_048_575, 25)));
        assert_eq!(cell_ref(b"B999999999"), Some((999_999_998, 1)));
        assert_eq!(cell_ref(b"B4294967295"), Some((4_294_967_294, 1)));
        assert_eq!(cell_ref(b"B4294967296"), None);
        assert_eq!(cell_ref(b"a1"), Some((0, 0)));
        assert_eq!(cell_ref(b"A0"), None);
        assert_eq!(cell_ref(b"B"), None);
        assert_eq!(cell_ref(b"B1x"), None);
        assert_eq!(cell_ref(b"B+1"), None);
    }
}
