//! The one place progress bars are built. Bars go to stderr and are hidden
//! when stderr is not a terminal (indicatif checks) or with `--quiet`.
//! Every line sheetsift prints goes through [`eprint_line`], which never
//! panics on a closed stderr.
//!
//! One bar a stage. A reading bar runs over the input files' bytes (their
//! total is known before the first is opened) and shows the rows read so
//! far and rows/s; a writing bar runs over its units (dialogues) and shows
//! the rows written. Both tick on their own (a steady tick), so a stage
//! busy inside one big file or compressing a chunk still shows its clock,
//! its spinner and its row counts moving.
//!
//! A reading bar's position moves within a file, not only when one ends:
//! the readers wrap the bytes they pull from the file in a [`ByteCount`],
//! which reports them to the run's [`ByteLedger`] in batches of
//! [`BYTE_BATCH`]. The ETA is indicatif's, over that position and the
//! total bytes, so it moves during one big file too. In-file counts are
//! provisional: each file's count is capped at its size, and when the
//! file is done (read or failed) its count is replaced by its size, so
//! the bar lands exactly on the finished files' bytes and never goes past
//! the total or backwards (a file read twice, or failing halfway, only
//! stops short of its size until it is done).
//!
//! The row counts come from [`rows_read`] / [`rows_written`]: process-wide
//! counters the readers and writers bump in batches of [`ROW_BATCH`] rows
//! (one relaxed atomic add per batch, never per cell or per row), read by
//! the bar only when it draws. They are display-only: nothing else reads
//! them, so a fallback that reads a file twice only shows more rows. The
//! same holds for the byte ledger: only the bar reads it.

use std::cell::RefCell;
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{HumanCount, HumanDuration, ProgressBar, ProgressDrawTarget};
use indicatif::{ProgressState, ProgressStyle};

/// Rows counted locally before one atomic add to the shared counter.
pub const ROW_BATCH: u64 = 4096;

/// How often a visible bar redraws by itself.
const TICK: Duration = Duration::from_millis(150);

static ROWS_READ: AtomicU64 = AtomicU64::new(0);
static ROWS_WRITTEN: AtomicU64 = AtomicU64::new(0);
/// What the stage is doing beyond its bar ("writing chunk 3"), set by
/// threads that hold no bar (the extract writer).
static PHASE: Mutex<String> = Mutex::new(String::new());

/// Add `n` rows read to the bar's count (call once per batch).
pub fn rows_read(n: u64) {
    ROWS_READ.fetch_add(n, Ordering::Relaxed);
}

/// Rows read so far, every reader (display only: batched, so behind by
/// at most a batch a thread).
pub fn rows_read_so_far() -> u64 {
    ROWS_READ.load(Ordering::Relaxed)
}

/// Add `n` rows written to the bar's count (call once per batch).
pub fn rows_written(n: u64) {
    ROWS_WRITTEN.fetch_add(n, Ordering::Relaxed);
}

/// Say what the stage is doing now (shown after the counts).
pub fn phase(text: impl Into<String>) {
    if let Ok(mut p) = PHASE.lock() {
        *p = text.into();
    }
}

/// Counts rows one by one and hands them to [`rows_read`] in batches; the
/// rest is handed over when it is dropped.
#[derive(Default)]
pub struct RowTicker {
    pending: u64,
}

impl RowTicker {
    #[inline]
    pub fn tick(&mut self) {
        self.pending += 1;
        if self.pending == ROW_BATCH {
            rows_read(ROW_BATCH);
            self.pending = 0;
        }
    }
}

impl Drop for RowTicker {
    fn drop(&mut self) {
        if self.pending > 0 {
            rows_read(self.pending);
        }
    }
}

/// Bytes counted locally by a [`ByteCount`] before one add to the ledger.
pub const BYTE_BATCH: u64 = 256 << 10;

/// Past any real count: a done file's count is swapped to this, so that a
/// late add cannot count again (adds stay far from overflowing).
const DONE: u64 = 1 << 62;

/// A reading bar's byte accounting: per file, the bytes read so far
/// (provisional, capped at the file's size) until the file is done, then
/// its size. `position` is their sum, and only ever grows. Lock-free:
/// concurrent adds to one file (the parallel sheet reader) each count
/// their own part below the cap.
pub struct ByteLedger {
    position: AtomicU64,
    sizes: Box<[u64]>,
    seen: Box<[AtomicU64]>,
}

impl ByteLedger {
    /// A ledger over files of these sizes (a file's index is its place).
    pub fn new(sizes: Vec<u64>) -> ByteLedger {
        let seen = sizes.iter().map(|_| AtomicU64::new(0)).collect();
        ByteLedger {
            position: AtomicU64::new(0),
            sizes: sizes.into_boxed_slice(),
            seen,
        }
    }

    /// `n` more bytes of file `file` read (provisional).
    pub fn add(&self, file: usize, n: u64) {
        let (Some(&size), Some(seen)) = (self.sizes.get(file), self.seen.get(file)) else {
            return;
        };
        let old = seen.fetch_add(n, Ordering::Relaxed);
        // This add's share below the cap (none once the file is done).
        let counted = old
            .saturating_add(n)
            .min(size)
            .saturating_sub(old.min(size));
        if counted > 0 {
            self.position.fetch_add(counted, Ordering::Relaxed);
        }
    }

    /// File `file` is done (read or failed): its provisional count becomes
    /// its size. A second call does nothing.
    pub fn finish(&self, file: usize) {
        let (Some(&size), Some(seen)) = (self.sizes.get(file), self.seen.get(file)) else {
            return;
        };
        let old = seen.swap(DONE, Ordering::Relaxed);
        if old < DONE {
            self.position
                .fetch_add(size - old.min(size), Ordering::Relaxed);
        }
    }

    /// The bytes read so far, as the bar shows them.
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Relaxed)
    }

    /// Count the reads of file `file` on this thread until the guard is
    /// dropped: the [`ByteCount`]s made meanwhile report to it (and keep
    /// doing so on whatever thread they are moved to).
    pub fn enter(self: &Arc<Self>, file: usize) -> Reading {
        let prev = CURRENT.with(|c| c.replace(Some((Arc::clone(self), file))));
        Reading { prev }
    }
}

type Meter = (Arc<ByteLedger>, usize);

thread_local! {
    /// The file this thread is reading, set by [`ByteLedger::enter`].
    static CURRENT: RefCell<Option<Meter>> = const { RefCell::new(None) };
}

/// While alive, this thread's reads count for a file; see
/// [`ByteLedger::enter`].
pub struct Reading {
    prev: Option<Meter>,
}

impl Drop for Reading {
    fn drop(&mut self) {
        let prev = self.prev.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// A reader counting the bytes pulled through it for the file its thread
/// was reading when it was made ([`ByteLedger::enter`]); with none, it
/// only passes reads on. The count goes to the ledger every
/// [`BYTE_BATCH`] bytes (one or two relaxed atomic adds) and the rest when
/// it is dropped. Readers wrap what they pull from the file itself (the
/// zip's compressed bytes, a CSV's encoded bytes), so the count is in the
/// unit of the files' sizes.
pub struct ByteCount<R> {
    inner: R,
    meter: Option<Meter>,
    pending: u64,
}

impl<R> ByteCount<R> {
    pub fn new(inner: R) -> ByteCount<R> {
        ByteCount {
            inner,
            meter: CURRENT.with(|c| c.borrow().clone()),
            pending: 0,
        }
    }

    fn flush(&mut self) {
        if let Some((ledger, file)) = &self.meter {
            ledger.add(*file, self.pending);
        }
        self.pending = 0;
    }
}

impl<R: Read> Read for ByteCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending += n as u64;
        if self.pending >= BYTE_BATCH {
            self.flush();
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for ByteCount<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

impl<R> Drop for ByteCount<R> {
    fn drop(&mut self) {
        if self.pending > 0 {
            self.flush();
        }
    }
}

/// A stage's bar.
pub struct Progress {
    bar: ProgressBar,
    /// A reading bar's bytes (position in bytes) rather than a unit bar.
    ledger: Option<Arc<ByteLedger>>,
    /// Held while the bar's position is set from the ledger, so that two
    /// threads setting it cannot move it backwards (each sets the
    /// ledger's latest value, which only grows), and while it finishes.
    /// True once the bar shows the writing that is left
    /// ([`Progress::writing_tail`]): the ledger no longer moves it.
    moving: Arc<Mutex<bool>>,
    files_done: Arc<AtomicU64>,
}

/// Set the bar to the ledger's position (and not after it is finished:
/// a finished bar stays cleared).
fn follow(bar: &ProgressBar, ledger: &ByteLedger, moving: &Mutex<bool>) {
    let tail = moving.lock().unwrap_or_else(|p| p.into_inner());
    if !bar.is_finished() && !*tail {
        bar.set_position(ledger.position());
    }
}

fn rate(n: u64, state: &ProgressState) -> String {
    let secs = state.elapsed().as_secs_f64().max(1e-3);
    format!("{}/s", HumanCount((n as f64 / secs) as u64))
}

impl Progress {
    /// A writing bar over `len` units (dialogues, files) with the rows
    /// written so far and rows/s.
    pub fn new(len: u64, unit: &str, quiet: bool) -> Progress {
        let template = format!(
            "{{spinner}} {{prefix}} [{{elapsed_precise}}] {{bar:30.cyan/blue}} {{pos}}/{{len}} {unit} · {{written}} {{phase}}ETA {{eta2}}"
        );
        Progress::build(len, &template, None, quiet)
    }

    /// A reading bar over `total_bytes` of input in `files` files, with
    /// the rows read so far and rows/s, and the rows written when the
    /// stage writes as it reads. `sizes` are the sizes of the files by
    /// the index the stage gives them ([`Progress::ledger`],
    /// [`Progress::file_done`]); `total_bytes` is the sum over those it
    /// reads.
    pub fn reading(sizes: Vec<u64>, total_bytes: u64, files: u64, quiet: bool) -> Progress {
        let template = format!(
            "{{spinner}} {{prefix}} [{{elapsed_precise}}] {{bar:30.cyan/blue}} {{bytes}}/{{total_bytes}} · {{files}}/{files} files · {{read}}{{written}} {{phase}}ETA {{eta2}}"
        );
        let ledger = Arc::new(ByteLedger::new(sizes));
        Progress::build(total_bytes, &template, Some(ledger), quiet)
    }

    fn build(len: u64, template: &str, ledger: Option<Arc<ByteLedger>>, quiet: bool) -> Progress {
        let by_bytes = ledger.is_some();
        ROWS_READ.store(0, Ordering::Relaxed);
        ROWS_WRITTEN.store(0, Ordering::Relaxed);
        phase("");
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        };
        let files_done = Arc::new(AtomicU64::new(0));
        let files = Arc::clone(&files_done);
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
            .with_key(
                "files",
                move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", files.load(Ordering::Relaxed));
                },
            )
            .with_key("read", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let n = ROWS_READ.load(Ordering::Relaxed);
                let _ = write!(w, "{} rows read ({})", HumanCount(n), rate(n, s));
            })
            .with_key(
                "written",
                move |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let n = ROWS_WRITTEN.load(Ordering::Relaxed);
                    if n > 0 || !by_bytes {
                        let sep = if by_bytes { " · " } else { "" };
                        let _ = write!(w, "{sep}{} rows written ({})", HumanCount(n), rate(n, s));
                    }
                },
            )
            .with_key("phase", |_: &ProgressState, w: &mut dyn std::fmt::Write| {
                if let Ok(p) = PHASE.lock() {
                    if !p.is_empty() {
                        let _ = write!(w, "· {p} ");
                    }
                }
            })
            // Nothing done yet, or no rate yet, is an unknown ETA, not
            // "0 seconds".
            .with_key("eta2", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let eta = s.eta();
                let done = s.len().is_some_and(|len| s.pos() >= len);
                if s.pos() == 0 || (eta.is_zero() && !done) {
                    let _ = write!(w, "?");
                } else {
                    let _ = write!(w, "{}", HumanDuration(eta));
                }
            });
        bar.set_style(style);
        let moving = Arc::new(Mutex::new(false));
        if !bar.is_hidden() {
            bar.enable_steady_tick(TICK);
            if let Some(ledger) = &ledger {
                follow_ledger(&bar, ledger, &moving);
            }
        }
        Progress {
            bar,
            ledger,
            moving,
            files_done,
        }
    }

    /// The byte ledger of a reading bar, for its workers to
    /// [`ByteLedger::enter`] (a unit bar's is an empty one).
    pub fn ledger(&self) -> Arc<ByteLedger> {
        self.ledger
            .clone()
            .unwrap_or_else(|| Arc::new(ByteLedger::new(Vec::new())))
    }

    pub fn set_prefix(&self, prefix: &str) {
        self.bar.set_prefix(prefix.to_string());
    }

    /// One unit done. A writing bar adds `rows` to the rows written; a
    /// reading bar counts a file (its rows were counted as read, its
    /// bytes come with [`Progress::file_bytes`]).
    pub fn inc(&mut self, rows: u64) {
        if self.ledger.is_some() {
            self.files_done.fetch_add(1, Ordering::Relaxed);
        } else {
            rows_written(rows);
            self.bar.inc(1);
        }
    }

    /// A reading bar: file `file` is done (read or failed); the bar
    /// lands on the bytes of the files done so far plus the provisional
    /// bytes of those being read.
    pub fn file_done(&self, file: usize) {
        if let Some(ledger) = &self.ledger {
            ledger.finish(file);
            follow(&self.bar, ledger, &self.moving);
        }
    }

    /// A reading bar: every byte of its input has been read (files may
    /// still be handed to the writer).
    pub fn all_read(&self) -> bool {
        self.ledger
            .as_ref()
            .is_some_and(|l| self.bar.length().is_some_and(|len| l.position() >= len))
    }

    /// Say what the stage is doing now.
    pub fn phase(&self, text: impl Into<String>) {
        phase(text);
    }

    /// Print a line above the bar (or plainly when it is hidden).
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprint_line(line);
        } else {
            self.bar.suspend(|| eprint_line(line));
        }
    }

    /// A reading bar whose input is all read while its writer still
    /// writes `rows_total` rows in all (`extract`'s last chunk): from now
    /// on the bar runs over the rows written, so its rate and ETA keep
    /// moving through the writing.
    /// Called again, it only sets the total (an estimate made while files
    /// are still being handed over becomes the exact count).
    pub fn writing_tail(&self, rows_total: u64) {
        if self.ledger.is_none() || self.bar.is_hidden() {
            return;
        }
        let mut tail = self.moving.lock().unwrap_or_else(|p| p.into_inner());
        if self.bar.is_finished() {
            return;
        }
        if *tail {
            let written = ROWS_WRITTEN.load(Ordering::Relaxed);
            self.bar.set_length(rows_total.max(written).max(1));
        } else {
            *tail = true;
            enter_tail(&self.bar, rows_total);
        }
    }

    pub fn finish(&self) {
        let _g = self.moving.lock().unwrap_or_else(|p| p.into_inner());
        self.bar.finish_and_clear();
    }
}

/// Turn a reading bar into one over `rows_total` rows to write (the
/// caller holds the bar's lock and has set its tail flag). The style
/// changes first: a frame drawn in between shows a full bar of rows, never
/// rows counted as bytes.
fn enter_tail(bar: &ProgressBar, rows_total: u64) {
    let style = ProgressStyle::with_template(
        "{spinner} {prefix} [{elapsed_precise}] {bar:30.cyan/blue} {human_pos}/{human_len} rows written · {phase}ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ")
    .with_key("phase", |_: &ProgressState, w: &mut dyn std::fmt::Write| {
        if let Ok(p) = PHASE.lock() {
            if !p.is_empty() {
                let _ = write!(w, "{p} · ");
            }
        }
    });
    bar.set_style(style);
    bar.set_length(rows_total.max(1));
    bar.set_position(ROWS_WRITTEN.load(Ordering::Relaxed).min(rows_total));
    bar.reset_eta();
}

/// A visible reading bar follows its ledger on a thread of its own, at
/// the bar's tick: the position moves (and indicatif's rate and ETA with
/// it) while workers are inside their files. The thread ends when the bar
/// is finished or dropped.
fn follow_ledger(bar: &ProgressBar, ledger: &Arc<ByteLedger>, moving: &Arc<Mutex<bool>>) {
    let (weak, ledger, moving) = (bar.downgrade(), Arc::clone(ledger), Arc::clone(moving));
    // Without the thread the bar still moves at each file's end.
    let _ = std::thread::Builder::new()
        .name("sheetsift-progress".into())
        .spawn(move || loop {
            std::thread::sleep(TICK);
            let Some(bar) = weak.upgrade() else { return };
            if bar.is_finished() {
                return;
            }
            follow(&bar, &ledger, &moving);
            // Every byte read: what is left is writing (the files' rows
            // handed over, the last chunk compressed). Until the stage
            // knows how many rows it keeps, the rows read bound them.
            let mut tail = moving.lock().unwrap_or_else(|p| p.into_inner());
            if bar.is_finished() {
                return;
            }
            let len = bar.length().unwrap_or(0);
            if *tail {
                bar.set_position(ROWS_WRITTEN.load(Ordering::Relaxed).min(len));
            } else if len > 0 && ledger.position() >= len {
                *tail = true;
                enter_tail(&bar, ROWS_READ.load(Ordering::Relaxed));
            }
        });
}

/// The bytes of `paths` that can be seen now (a file that cannot be
/// stat'ed counts 0: its read will name the error).
pub fn total_bytes<'a>(paths: impl IntoIterator<Item = &'a std::path::Path>) -> u64 {
    paths
        .into_iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// Write one line to stderr. A closed or failing stderr is ignored: the
/// diagnostics are not the product, the files are. SIGPIPE stays ignored
/// (as Rust sets it), so a write returns EPIPE instead of killing the run
/// between a temporary and its rename; the run finishes its files and
/// exits with its normal code.
pub fn eprint_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_replaces_provisional_bytes_and_the_total_is_never_passed() {
        let l = ByteLedger::new(vec![100, 50, 0]);
        l.add(0, 30);
        assert_eq!(l.position(), 30);
        // A file read twice (or a count past its size) stops at its size.
        l.add(0, 60);
        l.add(0, 60);
        assert_eq!(l.position(), 100);
        l.finish(0);
        assert_eq!(l.position(), 100);
        // Failing halfway: done is its size, not what was read.
        l.add(1, 20);
        assert_eq!(l.position(), 120);
        l.finish(1);
        assert_eq!(l.position(), 150);
        // Done is done: later adds and a second finish change nothing.
        l.add(1, 10);
        l.finish(1);
        l.add(0, 1 << 40);
        assert_eq!(l.position(), 150);
        // An empty file, and an index out of range.
        l.add(2, 5);
        l.finish(2);
        l.add(7, 5);
        l.finish(7);
        assert_eq!(l.position(), 150);
    }

    #[test]
    fn concurrent_adds_to_one_file_count_up_to_its_size() {
        let l = Arc::new(ByteLedger::new(vec![1_000_000, 10]));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let l = Arc::clone(&l);
                std::thread::spawn(move || {
                    let mut last = 0;
                    for _ in 0..1000 {
                        l.add(0, 333);
                        let p = l.position();
                        assert!(p >= last && p <= 1_000_010, "{p} after {last}");
                        last = p;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // 4 x 1000 x 333 bytes offered: capped at the file's size.
        assert_eq!(l.position(), 1_000_000);
        l.finish(0);
        l.finish(1);
        assert_eq!(l.position(), 1_000_010);
    }

    #[test]
    fn a_byte_count_reports_in_batches_for_the_file_entered() {
        let l = Arc::new(ByteLedger::new(vec![10 << 20, 10 << 20]));
        let data = vec![7u8; (BYTE_BATCH + 1000) as usize];
        // Made outside any file: counts nothing.
        let mut r = ByteCount::new(&data[..]);
        std::io::copy(&mut r, &mut std::io::sink()).unwrap();
        drop(r);
        assert_eq!(l.position(), 0);
        let guard = l.enter(1);
        let mut r = ByteCount::new(&data[..]);
        drop(guard);
        // Counted for file 1 on another thread too: a batch as soon as one
        // is full, the rest when dropped.
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut buf = vec![0; 4096];
                let mut got = 0;
                while got < BYTE_BATCH {
                    got += r.read(&mut buf).unwrap() as u64;
                }
                assert_eq!(l.position(), got);
                std::io::copy(&mut r, &mut std::io::sink()).unwrap();
                assert_eq!(l.position(), got);
                drop(r);
                assert_eq!(l.position(), BYTE_BATCH + 1000);
            });
        });
        l.finish(1);
        l.finish(0);
        assert_eq!(l.position(), 20 << 20);
    }
}
