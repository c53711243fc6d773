//! One large worksheet parsed on several threads.
//!
//! A splitter thread inflates the sheet and cuts it into blocks of whole
//! rows (at a `</row>`); parser threads run the fast path over blocks at
//! once; the caller's thread takes the parsed blocks back in order and
//! emits their cells. The cells, their order and the errors are exactly
//! those of the serial reader:
//!
//! - a block is parsed without the rows before it, so each of its rows
//!   must carry its own `r` (every writer we know sets it); a row without
//!   one, or anything else the fast path does not understand, stops the
//!   block there;
//! - from such a row on, the caller reads the rest of the sheet serially:
//!   the unparsed part of that block, then the bytes of every later block,
//!   then the rest of the stream, through the same fast path and general
//!   reader as [`super::sheet`] uses, from the row state reached so far.
//!
//! Memory is bounded: at most [`window`] blocks are cut ahead of the caller.
//! Their buffers go round: the caller hands each block's bytes back to the
//! splitter and its cell list back to the parsers once it has emitted
//! them. Without that, every block was a fresh 1 MiB allocation grown by
//! doubling, and a fresh cell list grown push by push: a fifth of
//! `dialogues`' time went to reallocating and to the kernel zeroing the
//! new pages.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::cells::{fast_cell_value, Ctx};
use super::fastsheet::{last_row_end, next_row_end, FastSheet, OpenTags, Step};
use super::limits::XErr;
use super::sheet::{fast_rows, general, ROW_START};
use crate::value::Value;

/// Sheets smaller than this (uncompressed) are parsed by the caller alone.
pub(super) const MIN_BYTES: u64 = 4 << 20;
/// Bytes per block (cut at the next row end below it).
const BLOCK: usize = 1 << 20;
/// Blocks cut ahead of the caller: four a parser thread (one being
/// parsed, one parsed and waiting for the caller, two cut ahead so a
/// parser never waits for the splitter), 8 MiB of XML at two threads.
fn window(threads: usize) -> usize {
    4 * threads.max(1)
}
/// A block with no row end in this many bytes is handed over as it is
/// (its parse fails, and the caller goes on serially).
const MAX_BLOCK: usize = 64 << 20;

type Cells = Vec<(u32, u32, Value)>;
type State = (u32, bool, u32);

/// What the splitter sends the caller, in stream order.
enum Item {
    /// The sheet's rows start (the fast path found `<sheetData>`).
    Rows(OpenTags),
    /// `<sheetData/>`: no rows.
    NoRows,
    /// No `<sheetData>` the fast path understands: the raw bytes follow,
    /// for the general reader from the first byte.
    Whole,
    /// Raw bytes (after `Whole`).
    Raw(Vec<u8>),
    /// A block being parsed; its result comes back on this channel.
    Block(Receiver<Parsed>),
    /// Reading the stream failed.
    Failed(String),
}

/// A parsed block.
struct Parsed {
    /// The block's bytes, handed back for a serial continuation.
    bytes: Vec<u8>,
    cells: Cells,
    /// The row state after the last whole row parsed (`None`: no row).
    state: Option<State>,
    outcome: Outcome,
}

enum Outcome {
    /// Every row of the block was read.
    Done,
    /// `</sheetData>`: the sheet ends in this block.
    End,
    /// Not understood from byte `at` (a row boundary) on.
    Stopped { at: usize },
    /// A cell could not be typed (after `cells`).
    Error(String),
}

type Job = (Vec<u8>, Arc<OpenTags>, SyncSender<Parsed>);

/// Buffers handed back for reuse: byte blocks to the splitter, cell lists
/// to the parsers. Bounded by the window; a buffer that finds the pool
/// full is freed.
struct Pools {
    bytes: (
        crossbeam_channel::Sender<Vec<u8>>,
        crossbeam_channel::Receiver<Vec<u8>>,
    ),
    cells: (
        crossbeam_channel::Sender<Cells>,
        crossbeam_channel::Receiver<Cells>,
    ),
}

impl Pools {
    fn new(window: usize) -> Pools {
        Pools {
            bytes: crossbeam_channel::bounded(window + 2),
            cells: crossbeam_channel::bounded(window + 2),
        }
    }

    /// An empty byte buffer holding at least `cap` bytes without growing.
    fn bytes(&self, cap: usize) -> Vec<u8> {
        let mut b = self.bytes.1.try_recv().unwrap_or_default();
        b.clear();
        b.reserve(cap);
        b
    }

    fn cells(&self) -> Cells {
        let mut c = self.cells.1.try_recv().unwrap_or_default();
        c.clear();
        c
    }

    fn give_bytes(&self, b: Vec<u8>) {
        let _ = self.bytes.0.try_send(b);
    }

    fn give_cells(&self, c: Cells) {
        let _ = self.cells.0.try_send(c);
    }
}

/// Read one worksheet with `threads` parser threads; see the module docs.
pub(super) fn read_sheet<R: Read + Send>(
    src: R,
    ctx: &Ctx<'_>,
    threads: usize,
    emit: impl FnMut(u32, u32, Value) -> bool,
) -> Result<(), XErr> {
    read_sheet_in_blocks(src, ctx, threads, BLOCK, emit)
}

/// [`read_sheet`] with blocks of about `block` bytes (tests use tiny ones,
/// so that cuts fall everywhere).
pub(super) fn read_sheet_in_blocks<R: Read + Send>(
    src: R,
    ctx: &Ctx<'_>,
    threads: usize,
    block: usize,
    mut emit: impl FnMut(u32, u32, Value) -> bool,
) -> Result<(), XErr> {
    let block = block.max(1);
    let (items_tx, items_rx) = sync_channel::<Item>(window(threads));
    let (jobs_tx, jobs_rx) = sync_channel::<Job>(window(threads));
    let jobs_rx = Mutex::new(jobs_rx);
    let pools = Pools::new(window(threads));
    // Set once the caller reads serially: parsing more blocks is useless.
    let serial = AtomicBool::new(false);
    std::thread::scope(|s| {
        let pools = &pools;
        std::thread::Builder::new()
            .name("sheetsift-split".into())
            .spawn_scoped(s, move || split(src, block, items_tx, jobs_tx, pools))
            .map_err(|e| XErr::Bad(format!("cannot start a reader thread: {e}")))?;
        for i in 0..threads.max(1) {
            let (jobs_rx, serial) = (&jobs_rx, &serial);
            let parser = move || loop {
                // A poisoned lock still guards a usable receiver.
                let job = jobs_rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((bytes, open, reply)) = job else {
                    return;
                };
                let parsed = if serial.load(Ordering::Relaxed) {
                    Parsed {
                        bytes,
                        cells: Vec::new(),
                        state: None,
                        outcome: Outcome::Stopped { at: 0 },
                    }
                } else {
                    parse_block(bytes, &open, ctx, pools.cells())
                };
                let _ = reply.send(parsed);
            };
            std::thread::Builder::new()
                .name(format!("sheetsift-parse-{i}"))
                .spawn_scoped(s, parser)
                .map_err(|e| XErr::Bad(format!("cannot start a parser thread: {e}")))?;
        }
        let result = consume(items_rx, ctx, &serial, pools, &mut emit);
        // Dropping the receiver (in `consume`) stops the splitter, whose
        // end stops the parsers; the scope waits for them all.
        result
    })
}

/// The splitter: inflate, find `<sheetData>`, cut blocks of whole rows.
fn split<R: Read>(
    src: R,
    block: usize,
    items: SyncSender<Item>,
    jobs: SyncSender<Job>,
    pools: &Pools,
) {
    let fail = |e: std::io::Error| {
        let _ = items.send(Item::Failed(e.to_string()));
    };
    let mut f = FastSheet::new(src);
    let open;
    let (mut buf, mut src) = match f.seek_sheet_data() {
        Err(e) => return fail(e),
        Ok(Ok(false)) => {
            let _ = items.send(Item::NoRows);
            return;
        }
        Ok(Err(())) => {
            let (all, mut src) = f.into_all();
            if items.send(Item::Whole).is_err() || items.send(Item::Raw(all)).is_err() {
                return;
            }
            loop {
                let mut chunk = Vec::with_capacity(block);
                match (&mut src).take(block as u64).read_to_end(&mut chunk) {
                    Ok(0) => return,
                    Ok(_) => {
                        if items.send(Item::Raw(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(e) => return fail(e),
                }
            }
        }
        Ok(Ok(true)) => {
            open = Arc::new(f.open_tags());
            if items.send(Item::Rows(OpenTags::clone(&open))).is_err() {
                return;
            }
            f.into_rest()
        }
    };
    let mut eof = false;
    // Row ends are looked for from here on (no rescans of a long row).
    let mut from = 0;
    loop {
        while !eof && buf.len() < block {
            // Into spare capacity: no zeroing first.
            match (&mut src).take(block as u64).read_to_end(&mut buf) {
                Ok(n) => eof = n == 0,
                Err(e) => return fail(e),
            }
        }
        // The last row end within a block's bytes, or else the first one
        // after them (a row longer than a block).
        let found = if buf.len() >= block {
            last_row_end(&buf[..block]).or_else(|| next_row_end(&buf, from.max(block)))
        } else {
            None
        };
        let cut = match found {
            Some(cut) => cut,
            None if eof || buf.len() >= MAX_BLOCK => buf.len(),
            None => {
                from = buf.len().saturating_sub(8);
                match (&mut src).take(block as u64).read_to_end(&mut buf) {
                    Ok(n) => eof = n == 0,
                    Err(e) => return fail(e),
                }
                continue;
            }
        };
        from = 0;
        // The rest goes to a recycled buffer with room for a whole block
        // more (read into spare capacity: no growing, no zeroing).
        let mut rest = pools.bytes(2 * block + 64);
        rest.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let bytes = std::mem::replace(&mut buf, rest);
        let (reply, result) = sync_channel(1);
        let job = (bytes, Arc::clone(&open), reply);
        if jobs.send(job).is_err() || items.send(Item::Block(result)).is_err() {
            return;
        }
        if eof && buf.is_empty() {
            return;
        }
    }
}

/// The fast path over one block; a panic is that block's error.
fn parse_block(bytes: Vec<u8>, open: &OpenTags, ctx: &Ctx<'_>, mut cells: Cells) -> Parsed {
    let mut f = FastSheet::block(bytes, open);
    let mut state = None;
    let outcome = catch_unwind(AssertUnwindSafe(|| loop {
        match f.next_row() {
            Ok(Step::Row) => {
                cells.push((f.row, ROW_START, Value::Empty));
                for cell in f.cells.as_slice() {
                    let (row, col) = (cell.row, cell.col);
                    match fast_cell_value(cell, ctx) {
                        Ok(v) => cells.push((row, col, v)),
                        Err(e) => return Outcome::Error(e),
                    }
                }
                state = Some((f.row, f.row_seen, f.next_col));
            }
            // The end of the block's bytes is not the end of the sheet.
            Ok(Step::End) if f.exhausted() => return Outcome::Done,
            Ok(Step::End) => return Outcome::End,
            Ok(Step::Fallback) => return Outcome::Stopped { at: f.position() },
            Err(e) => return Outcome::Error(e.to_string()),
        }
    }))
    .unwrap_or_else(|p| {
        Outcome::Error(format!("parser failed: {}", crate::pool::panic_message(p)))
    });
    Parsed {
        bytes: f.into_bytes(),
        cells,
        state,
        outcome,
    }
}

/// The caller's side: emit parsed blocks in order; go serial at the first
/// block that stopped.
fn consume(
    items: Receiver<Item>,
    ctx: &Ctx<'_>,
    serial: &AtomicBool,
    pools: &Pools,
    emit: &mut dyn FnMut(u32, u32, Value) -> bool,
) -> Result<(), XErr> {
    let open = match items.recv() {
        Ok(Item::Rows(open)) => open,
        Ok(Item::NoRows) => return Ok(()),
        Ok(Item::Whole) => {
            return general(Vec::new(), Rest::new(items), ctx, (0, false, 0), emit);
        }
        Ok(Item::Failed(e)) => return Err(XErr::Bad(e)),
        Ok(_) => return Err(XErr::Bad("reader out of step".into())),
        // The splitter died without a word: only a panic does that.
        Err(_) => return Err(XErr::Bad("reader thread failed".into())),
    };
    let mut state: State = (0, false, 0);
    loop {
        let parsed = match items.recv() {
            Ok(Item::Block(result)) => result
                .recv()
                .map_err(|_| "parser thread failed".to_string())?,
            Ok(Item::Failed(e)) => return Err(XErr::Bad(e)),
            Ok(_) => return Err(XErr::Bad("reader out of step".into())),
            Err(_) => return Ok(()), // the stream ended after a whole row
        };
        let mut cells = parsed.cells;
        for (r, c, v) in cells.drain(..) {
            if !emit(r, c, v) {
                return Ok(());
            }
        }
        pools.give_cells(cells);
        if let Some(s) = parsed.state {
            state = s;
        }
        match parsed.outcome {
            Outcome::Done => pools.give_bytes(parsed.bytes),
            Outcome::End => return Ok(()),
            Outcome::Error(e) => return Err(XErr::Bad(e)),
            Outcome::Stopped { at } => {
                serial.store(true, Ordering::Relaxed);
                let mut bytes = parsed.bytes;
                bytes.drain(..at);
                let f = FastSheet::resume(Rest::new(items), bytes, &open, state);
                return fast_rows(f, ctx, emit);
            }
        }
    }
}

/// The bytes of the items still to come, as one stream.
struct Rest {
    items: Receiver<Item>,
    current: Vec<u8>,
    pos: usize,
}

impl Rest {
    fn new(items: Receiver<Item>) -> Rest {
        Rest {
            items,
            current: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Rest {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            self.current = match self.items.recv() {
                Ok(Item::Raw(bytes)) => bytes,
                Ok(Item::Block(result)) => {
                    result
                        .recv()
                        .map_err(|_| std::io::Error::other("parser thread failed"))?
                        .bytes
                }
                Ok(Item::Failed(e)) => return Err(std::io::Error::other(e)),
                Ok(_) => continue,
                Err(_) => return Ok(0),
            };
            self.pos = 0;
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
