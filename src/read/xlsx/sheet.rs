//! The worksheet engine: `<sheetData>` cells streamed in order, through
//! the byte-level fast path ([`super::fastsheet`]) while rows are regular
//! and the general quick-xml reader from the first row it does not
//! understand.

use std::io::{BufRead, BufReader, Read};

use quick_xml::events::Event;

use super::cells::{a1, at, cell_value, fast_cell_value, na_header_name, CellType, Ctx};
use super::fastsheet::{cell_ref, FastSheet, Step};
use super::limits::{
    cell_too_long, next, skip, xml_reader, XErr, XmlReader, MAX_CELL_BYTES, MAX_COLS, MAX_ROWS,
};
use super::shared_strings::{push_entity, read_rich_text};
use crate::value::Value;

/// The column readers emit, with an empty value, at the start of each
/// `<row>` element (before its cells): the row number of the element, so
/// that the caller can drop a repeated or out-of-order row as openpyxl
/// does. Never a real column (those are below [`MAX_COLS`]).
pub(crate) const ROW_START: u32 = u32::MAX;

/// A cell beyond Excel's grid: an error naming it.
pub(super) fn beyond_grid(row: u32, col: u32) -> XErr {
    XErr::Limit(format!(
        "cell {} is beyond Excel's {MAX_ROWS} rows and {MAX_COLS} columns",
        a1(row, col)
    ))
}

/// Where a sheet reader hands its cells: `cell(row, col, value)`, or
/// `(row, ROW_START, Empty)` at each `<row>`; false stops the reading.
/// Any `FnMut(u32, u32, Value) -> bool` is one. The fast path is generic
/// over it: the receiver's code inlines into the cell loop, and a typed
/// value is not passed through memory, where loading a `Value` stored in
/// parts stalls on store forwarding (1.5% of `extract` in `perf annotate`).
pub(super) trait Emit {
    fn cell(&mut self, row: u32, col: u32, v: Value) -> bool;
}

impl<F: FnMut(u32, u32, Value) -> bool + ?Sized> Emit for F {
    #[inline(always)]
    fn cell(&mut self, row: u32, col: u32, v: Value) -> bool {
        self(row, col, v)
    }
}

/// Stream one worksheet's cells to `emit`: the fast path while the rows
/// are regular, the general quick-xml reader from the first row it does not
/// understand (or for the whole sheet when `fast` is false).
pub(super) fn read_sheet<R: Read, E: Emit + ?Sized>(
    src: R,
    ctx: &Ctx<'_>,
    fast: bool,
    emit: &mut E,
) -> Result<(), XErr> {
    if !fast {
        return general(Vec::new(), src, ctx, (0, false, 0), &mut |r, c, v| {
            emit.cell(r, c, v)
        });
    }
    let mut f = FastSheet::new(src);
    match f.seek_sheet_data().map_err(|e| XErr::Bad(e.to_string()))? {
        Ok(true) => fast_rows(f, ctx, emit),
        Ok(false) => Ok(()),
        Err(()) => {
            let (all, src) = f.into_all();
            general(all, src, ctx, (0, false, 0), &mut |r, c, v| {
                emit.cell(r, c, v)
            })
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
) -> Result<(), XErr> {
    let mut r = xml_reader(BufReader::with_capacity(
        1 << 16,
        std::io::Cursor::new(head).chain(src),
    ));
    stream_sheet(&mut r, ctx, state, emit)
}

/// The fast path from a row boundary to the end of the sheet, handing over
/// to the general reader at the first row it does not understand.
pub(super) fn fast_rows<R: Read, E: Emit + ?Sized>(
    mut f: FastSheet<R>,
    ctx: &Ctx<'_>,
    emit: &mut E,
) -> Result<(), XErr> {
    loop {
        match f.next_row().map_err(|e| XErr::Bad(e.to_string()))? {
            Step::Row => {
                if !emit.cell(f.row, ROW_START, Value::Empty) {
                    return Ok(());
                }
                for cell in f.cells.as_slice() {
                    let (row, col) = (cell.row, cell.col);
                    if !emit.cell(row, col, fast_cell_value(cell, ctx)?) {
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
                return general(reopened, src, ctx, state, &mut |r, c, v| emit.cell(r, c, v));
            }
        }
    }
}

/// Stream `<sheetData>` cells to `emit(row, col, value)` in order, until
/// the end of the sheet or until `emit` returns false. This is the hot loop
/// of xlsx reading: buffers are reused, attributes are read raw in one pass
/// (the cell's `r`, `s`, `t` are ASCII tokens), and text is allocated once.
fn stream_sheet<B: BufRead>(
    r: &mut XmlReader<B>,
    ctx: &Ctx<'_>,
    (mut row, mut row_seen, mut next_col): (u32, bool, u32),
    emit: &mut dyn FnMut(u32, u32, Value) -> bool,
) -> Result<(), XErr> {
    let mut buf = Vec::with_capacity(1024);
    let mut inner = Vec::with_capacity(256);
    let mut vbuf = Vec::with_capacity(256);
    let mut text = String::new();
    loop {
        buf.clear();
        let (cr, cc, ty, style) = match next(r, &mut buf)? {
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
                if !emit(row, ROW_START, Value::Empty) {
                    return Ok(());
                }
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
                if cr >= MAX_ROWS || cc >= MAX_COLS {
                    return Err(beyond_grid(cr, cc));
                }
                next_col = cc + 1;
                (cr, cc, ty, style)
            }
            Event::End(e) if e.local_name().as_ref() == "sheetData" => return Ok(()),
            Event::Eof => return Ok(()),
            _ => continue,
        };
        // The cell's children: <v>, <is>, <f> (ignored: cached values only).
        let (mut has_v, mut inline): (bool, Option<String>) = (false, None);
        let in_cell = |e: XErr| e.within(format!("cell {}", a1(cr, cc)));
        loop {
            inner.clear();
            match next(r, &mut inner).map_err(in_cell)? {
                Event::Start(ch) => match ch.local_name().as_ref() {
                    "v" => {
                        text.clear();
                        loop {
                            if text.len() > MAX_CELL_BYTES {
                                return Err(in_cell(cell_too_long()));
                            }
                            vbuf.clear();
                            match next(r, &mut vbuf).map_err(in_cell)? {
                                Event::Text(t) => text.push_str(&t.xml10_content()),
                                Event::CData(t) => text.push_str(&t.xml10_content()),
                                Event::GeneralRef(g) => push_entity(&g, &mut text)
                                    .map_err(|e| in_cell(XErr::Bad(e.to_string())))?,
                                Event::End(_) | Event::Eof => break,
                                _ => {}
                            }
                        }
                        has_v = true;
                    }
                    "is" => inline = Some(read_rich_text(r, "is", &mut vbuf).map_err(in_cell)?),
                    _ => skip(r, &mut vbuf).map_err(in_cell)?,
                },
                Event::End(ch) if ch.local_name().as_ref() == "c" => break,
                Event::Eof => return Err(XErr::Bad("unexpected end inside a cell".into())),
                _ => {}
            }
        }
        let header_na = if cr == 0 {
            na_header_name(ty, inline.as_deref(), &text, ctx)
        } else {
            None
        };
        let value = if let Some(name) = header_na {
            name
        } else if ty == CellType::Inline {
            inline.map(Value::text_owned).unwrap_or(Value::Empty)
        } else if has_v && !text.is_empty() {
            cell_value(ty, style, &text, ctx).map_err(at(cr, cc))?
        } else {
            Value::Empty
        };
        if !emit(cr, cc, value) {
            return Ok(());
        }
    }
}
