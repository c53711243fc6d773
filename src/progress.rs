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
//! The row counts come from [`rows_read`] / [`rows_written`]: process-wide
//! counters the readers and writers bump in batches of [`ROW_BATCH`] rows
//! (one relaxed atomic add per batch, never per cell or per row), read by
//! the bar only when it draws. They are display-only: nothing else reads
//! them, so a fallback that reads a file twice only shows more rows.

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

/// A stage's bar.
pub struct Progress {
    bar: ProgressBar,
    /// A reading bar (position in bytes) rather than a unit bar.
    by_bytes: bool,
    files_done: Arc<AtomicU64>,
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
        Progress::build(len, &template, false, quiet)
    }

    /// A reading bar over `total_bytes` of input in `files` files, with
    /// the rows read so far and rows/s, and the rows written when the
    /// stage writes as it reads.
    pub fn reading(total_bytes: u64, files: u64, quiet: bool) -> Progress {
        let template = format!(
            "{{spinner}} {{prefix}} [{{elapsed_precise}}] {{bar:30.cyan/blue}} {{bytes}}/{{total_bytes}} · {{files}}/{files} files · {{read}}{{written}} {{phase}}ETA {{eta2}}"
        );
        Progress::build(total_bytes, &template, true, quiet)
    }

    fn build(len: u64, template: &str, by_bytes: bool, quiet: bool) -> Progress {
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
            // Nothing done yet is an unknown ETA, not "0s".
            .with_key("eta2", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                if s.pos() == 0 {
                    let _ = write!(w, "?");
                } else {
                    let _ = write!(w, "{}", HumanDuration(s.eta()));
                }
            });
        bar.set_style(style);
        if !bar.is_hidden() {
            bar.enable_steady_tick(TICK);
        }
        Progress {
            bar,
            by_bytes,
            files_done,
        }
    }

    pub fn set_prefix(&self, prefix: &str) {
        self.bar.set_prefix(prefix.to_string());
    }

    /// One unit done. A writing bar adds `rows` to the rows written; a
    /// reading bar counts a file (its rows were counted as read, its
    /// bytes come with [`Progress::file_bytes`]).
    pub fn inc(&mut self, rows: u64) {
        if self.by_bytes {
            self.files_done.fetch_add(1, Ordering::Relaxed);
        } else {
            rows_written(rows);
            self.bar.inc(1);
        }
    }

    /// A reading bar: a file of `bytes` is done (read or failed).
    pub fn file_bytes(&self, bytes: u64) {
        self.bar.inc(bytes);
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

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
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
