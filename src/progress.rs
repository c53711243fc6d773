//! The one place progress bars are built. Bars go to stderr and are hidden
//! when stderr is not a terminal (indicatif checks) or with `--quiet`.
//! Every line sheetsift prints goes through [`eprint_line`], which never
//! panics on a closed stderr.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `len` units (files, dialogues) that also shows rows/s.
pub struct Progress {
    bar: ProgressBar,
    rows: u64,
    started: Instant,
}

impl Progress {
    pub fn new(len: u64, unit: &str, quiet: bool) -> Progress {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr())
        };
        let template = format!(
            "{{spinner}} {{prefix}} [{{elapsed_precise}}] {{bar:30.cyan/blue}} {{pos}}/{{len}} {unit} {{msg}} ETA {{eta}}"
        );
        bar.set_style(
            ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Progress {
            bar,
            rows: 0,
            started: Instant::now(),
        }
    }

    pub fn set_prefix(&self, prefix: &str) {
        self.bar.set_prefix(prefix.to_string());
    }

    /// One unit done, with the rows it held.
    pub fn inc(&mut self, rows: u64) {
        self.rows += rows;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{} rows ({:.0} rows/s)",
            self.rows,
            self.rows as f64 / secs
        ));
        self.bar.inc(1);
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

/// Write one line to stderr. A closed or failing stderr is ignored: the
/// diagnostics are not the product, the files are. SIGPIPE stays ignored
/// (as Rust sets it), so a write returns EPIPE instead of killing the run
/// between a temporary and its rename; the run finishes its files and
/// exits with its normal code.
pub fn eprint_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
