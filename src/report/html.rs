//! `--report-html FILE`: the run's [`Report`] as one self-contained HTML
//! page for a person to look at (an operator opening it from a job's
//! artifacts, often on a machine without network access).
//!
//! Self-contained on purpose: inline CSS, inline SVG charts, no script, no
//! font, no image and no link to anything outside the page, so it renders
//! the same from a mail attachment, an air-gapped host or a file:// URL,
//! and cannot leak that a report was opened. Every text from the run
//! (file names, reasons, notes, the command line) goes through [`esc`]:
//! file names are user data and can hold `<`, `&` or bytes that are not
//! UTF-8 (shown lossily, as in the JSON report).
//!
//! The page is a view of the same numbers as the JSON report, which stays
//! the machine-readable form; nothing here is meant to be parsed.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::{FileEntry, Report};
use crate::dialogue::lengths::{Bucket, Histogram};
use crate::error::Result;

/// The text `s`, safe as HTML text and inside a quoted attribute. C0
/// controls (but tab and newline) become U+FFFD: they are parse errors in
/// HTML and invisible anyway.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            '\t' | '\n' => o.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// A path as text (lossy when not UTF-8), escaped.
fn esc_path(p: &Path) -> String {
    esc(&p.to_string_lossy())
}

/// A status enum's stable word, as the JSON report writes it.
fn word<T: Serialize>(t: &T) -> String {
    match serde_json::to_value(t) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "?".into(),
    }
}

/// `1234567` -> `1.2 MiB`: beside the exact byte count.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A bucket bound, short: `512`, `2k`, `64k`, `1M`.
fn short(n: u64) -> String {
    match n {
        0..=1023 => n.to_string(),
        1024..=1_048_575 => format!("{}k", n >> 10),
        1_048_576..=1_073_741_823 => format!("{}M", n >> 20),
        _ => format!("{}G", n >> 30),
    }
}

fn opt(n: Option<u64>) -> String {
    n.map_or_else(String::new, |n| n.to_string())
}

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1d2430;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dee6;padding-bottom:4px}
.badge{display:inline-block;padding:1px 10px;border-radius:10px;color:#fff;font-weight:600;font-size:13px;vertical-align:middle}
.ok{background:#2e7d32}.partial{background:#c77700}.fatal,.usage,.interrupted{background:#c62828}
table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #d8dee6;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f1f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
code.argv{display:block;max-width:520px}
code,.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
.failed td{background:#fdecea}.err{color:#b71c1c}.muted{color:#667}
.row{display:flex;flex-wrap:wrap;gap:0 32px;align-items:flex-start}
.chart{margin:0 0 16px}.bar{fill:#2a9d8f}.bar:hover{fill:#1d6f65}
.axis{stroke:#8a94a3;stroke-width:1}.lbl{font-size:11px;fill:#3a4452}.cnt{font-size:10px;fill:#3a4452}
.k{fill:#3b6ea8}.m{fill:#e0a030}.s{fill:#8e6bbf}.d{fill:#c0504d}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
";

impl Report {
    /// The whole page.
    pub fn to_html(&self) -> String {
        let mut h = String::with_capacity(16 * 1024 + self.files.len() * 400);
        let e = &self.envelope;
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>sheetsift {cmd} report</title>\n<style>{CSS}</style>\n</head>\n<body>\n\
             <h1>sheetsift {cmd} <span class=\"badge {outcome}\">{outcome}</span></h1>\n\
             <p>{verdict} &middot; exit code {code}</p>\n",
            cmd = esc(&self.command),
            outcome = esc(self.outcome),
            verdict = esc(&self.verdict),
            code = self.exit_code,
        );
        // The run and its totals side by side, then the charts: the
        // numbers and the distributions are on the first screen.
        h.push_str("<div class=\"row\"><div>\n<h2>Run</h2>\n<table>\n");
        let row = |h: &mut String, k: &str, v: String| {
            let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
        };
        row(
            &mut h,
            "command line",
            format!("<code class=\"argv\">{}</code>", esc(&e.argv.join(" "))),
        );
        row(&mut h, "version", esc(&self.version));
        row(&mut h, "started", esc(&e.started_at));
        row(&mut h, "finished", esc(&e.finished_at));
        row(&mut h, "elapsed", format!("{:.3} s", self.elapsed_seconds));
        if let Some(s) = self.stages.stage1 {
            row(&mut h, "stage 1", format!("{:.3} s", s.seconds));
        }
        if let Some(s) = self.stages.stage2 {
            row(&mut h, "stage 2", format!("{:.3} s", s.seconds));
        }
        if let Some(err) = &self.error {
            let path = err
                .path
                .as_deref()
                .map(|p| format!(" <span class=\"path\">({})</span>", esc_path(p)))
                .unwrap_or_default();
            row(
                &mut h,
                "error",
                format!(
                    "<span class=\"err\">{}: {}</span>{path}",
                    esc(err.kind),
                    esc(&err.message)
                ),
            );
        }
        h.push_str("</table>\n</div>\n");
        if self.error.is_none() {
            self.numbers(&mut h);
        }
        h.push_str("</div>\n");
        if self.error.is_none() {
            self.charts(&mut h);
            self.files_table(&mut h);
            self.chunks_table(&mut h);
            self.outputs_table(&mut h);
        }
        if !self.notes.is_empty() {
            h.push_str("<h2>Notes</h2>\n<ul>\n");
            for n in &self.notes {
                let _ = writeln!(h, "<li>{}</li>", esc(n));
            }
            h.push_str("</ul>\n");
        }
        h.push_str(
            "<p class=\"muted\">The JSON report (<code>--report</code>) holds the same numbers \
             for programs. This page loads nothing from anywhere.</p>\n</body>\n</html>\n",
        );
        h
    }

    /// Files and rows, totals.
    fn numbers(&self, h: &mut String) {
        h.push_str("<div>\n<h2>Totals</h2>\n<table>\n");
        let row = |h: &mut String, k: &str, v: String| {
            let _ = writeln!(h, "<tr><th>{k}</th><td class=\"n\">{v}</td></tr>");
        };
        row(h, "files found", self.files_found.to_string());
        row(h, "files selected", self.files_selected.to_string());
        row(h, "files processed", self.files_processed.to_string());
        row(h, "files failed", self.files_failed.len().to_string());
        if matches!(self.command.as_str(), "extract" | "run") {
            row(h, "rows read", self.rows_read.to_string());
            row(h, "rows kept", self.rows_kept.to_string());
            row(
                h,
                "dropped: missing content",
                self.rows_dropped.missing.to_string(),
            );
            row(
                h,
                "dropped: system message",
                self.rows_dropped.system.to_string(),
            );
        }
        if let Some(d) = &self.dialogues {
            row(h, "stage 2 rows read", d.rows_read.to_string());
            row(
                h,
                "stage 2 dropped: missing value",
                d.rows_dropped_missing.to_string(),
            );
            row(
                h,
                "stage 2 dropped: duplicate",
                d.rows_dropped_duplicate.to_string(),
            );
            row(h, "dialogues", d.dialogues.to_string());
            if let (Some(t), Some(v)) = (d.train, d.val) {
                row(h, "train / val", format!("{t} / {v}"));
            }
            row(h, "messages skipped", d.messages_skipped.to_string());
            row(
                h,
                "spilled to disk",
                if d.spilled_to_disk { "yes" } else { "no" }.into(),
            );
        }
        h.push_str("</table>\n</div>\n");
    }

    /// One row per input file: rows read, kept, dropped by reason, with a
    /// stacked bar of the same numbers.
    fn files_table(&self, h: &mut String) {
        if !self.files.is_empty() {
            h.push_str(
                "<h2>Files</h2>\n<p class=\"legend\">rows:<span class=\"k\" style=\"background:#3b6ea8\"></span>kept\
                 <span style=\"background:#e0a030\"></span>dropped, missing\
                 <span style=\"background:#8e6bbf\"></span>dropped, system message\
                 <span style=\"background:#c0504d\"></span>dropped, duplicate</p>\n\
                 <table>\n<tr><th>#</th><th>file</th><th>status</th><th>read</th><th>kept</th>\
                 <th>missing</th><th>system</th><th>duplicate</th><th>seconds</th><th></th></tr>\n",
            );
            for f in &self.files {
                file_row(h, f);
            }
            h.push_str("</table>\n");
        }
        if !self.files_failed.is_empty() {
            h.push_str("<h2>Failed files</h2>\n<table>\n<tr><th>file</th><th>reason</th></tr>\n");
            for f in &self.files_failed {
                let _ = writeln!(
                    h,
                    "<tr class=\"failed\"><td class=\"path\">{}</td><td class=\"err\">{}</td></tr>",
                    esc_path(&f.path),
                    esc(&f.reason)
                );
            }
            h.push_str("</table>\n");
        }
    }

    fn chunks_table(&self, h: &mut String) {
        if self.chunks.is_empty() {
            return;
        }
        h.push_str(
            "<h2>Chunks</h2>\n<table>\n<tr><th>chunk</th><th>files</th><th>status</th>\
             <th>rows</th><th>output</th></tr>\n",
        );
        for c in &self.chunks {
            let status = word(&c.status);
            let detail = match (&c.output, &c.error) {
                (_, Some(e)) => format!("<span class=\"err\">{}</span>", esc(e)),
                (Some(p), None) => format!("<span class=\"path\">{}</span>", esc_path(p)),
                (None, None) => String::new(),
            };
            let _ = writeln!(
                h,
                "<tr{}><td class=\"n\">{}</td><td class=\"n\">{}..{}</td><td>{}</td>\
                 <td class=\"n\">{}</td><td>{detail}</td></tr>",
                if c.status.is_failure() {
                    " class=\"failed\""
                } else {
                    ""
                },
                c.index,
                c.first_file,
                c.last_file,
                esc(&status),
                c.rows,
            );
        }
        h.push_str("</table>\n");
    }

    /// Stage 2's distributions as bar charts.
    fn charts(&self, h: &mut String) {
        let Some(d) = &self.dialogues else { return };
        h.push_str("<h2>Dialogues</h2>\n");
        let Some(l) = &d.lengths else {
            h.push_str(
                "<p class=\"muted\">No length distributions: a merge reads dialogues the shards \
                 rendered (see each shard's report).</p>\n",
            );
            return;
        };
        h.push_str("<div class=\"row\"><div>\n");
        chart(
            h,
            "turns-per-dialogue",
            "Dialogue length",
            "turns per dialogue",
            "dialogues",
            &l.turns_per_dialogue,
        );
        h.push_str("</div><div>\n");
        chart(
            h,
            "chars-per-turn",
            "Turn length",
            "characters per turn",
            "turns",
            &l.chars_per_turn,
        );
        h.push_str("</div></div>\n");
    }

    fn outputs_table(&self, h: &mut String) {
        h.push_str("<h2>Outputs</h2>\n");
        if self.outputs.is_empty() {
            h.push_str("<p class=\"muted\">Nothing written.</p>\n");
            return;
        }
        h.push_str("<table>\n<tr><th>file</th><th>bytes</th><th></th><th>sha256</th></tr>\n");
        let mut total = 0u64;
        for o in &self.outputs {
            total += o.bytes;
            let _ = writeln!(
                h,
                "<tr><td class=\"path\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td><code title=\"{sha}\">{}</code></td></tr>",
                esc_path(&o.path),
                o.bytes,
                human_bytes(o.bytes),
                esc(o.sha256.get(..16).unwrap_or(&o.sha256)),
                sha = esc(&o.sha256),
            );
        }
        let _ = writeln!(
            h,
            "<tr><th>{} files</th><td class=\"n\">{total}</td><td class=\"n\">{}</td><td></td></tr>",
            self.outputs.len(),
            human_bytes(total)
        );
        h.push_str("</table>\n");
    }

    /// Write the page atomically (a reader never sees half a page).
    pub fn write_html(&self, path: &Path) -> Result<()> {
        let af = crate::fs::AtomicFile::new(path)?;
        af.write_all(self.to_html().as_bytes())?;
        af.commit()
    }
}

fn file_row(h: &mut String, f: &FileEntry) {
    let drops = f.rows_dropped.unwrap_or_default();
    let status = word(&f.status);
    let err = f
        .error
        .as_deref()
        .map(|e| format!("<div class=\"err\">{}</div>", esc(e)))
        .unwrap_or_default();
    let _ = write!(
        h,
        "<tr{}><td class=\"n\">{}</td><td class=\"path\">{}{err}</td><td>{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
        if status == "failed" {
            " class=\"failed\""
        } else {
            ""
        },
        f.number,
        esc_path(&f.path),
        esc(&status),
        opt(f.rows_read),
        opt(f.rows_kept),
        opt(drops.missing),
        opt(drops.system),
        opt(drops.duplicate),
        f.seconds.map_or_else(String::new, |s| format!("{s:.3}")),
    );
    // A stacked bar of kept and dropped rows, as shares of the file's
    // rows (kept + dropped: in stage 2 a kept row is one grouped).
    let parts = [
        ("k", f.rows_kept.unwrap_or(0)),
        ("m", drops.missing.unwrap_or(0)),
        ("s", drops.system.unwrap_or(0)),
        ("d", drops.duplicate.unwrap_or(0)),
    ];
    let total: u64 = parts.iter().map(|p| p.1).sum();
    if total > 0 {
        const W: f64 = 120.0;
        h.push_str("<svg width=\"120\" height=\"12\" role=\"img\">");
        let mut x = 0.0;
        for (class, n) in parts {
            if n == 0 {
                continue;
            }
            let w = W * n as f64 / total as f64;
            let _ = write!(
                h,
                "<rect class=\"{class}\" x=\"{x:.2}\" y=\"0\" width=\"{w:.2}\" height=\"12\"><title>{n}</title></rect>"
            );
            x += w;
        }
        h.push_str("</svg>");
    }
    h.push_str("</td></tr>\n");
}

/// One histogram as an SVG bar chart: a bar per log-2 bucket, labelled
/// with the bucket's lower bound, its count above it, the exact range and
/// count in the bar's tooltip.
fn chart(h: &mut String, id: &str, title: &str, x_label: &str, unit: &str, hist: &Histogram) {
    let buckets = hist.buckets();
    let _ = writeln!(h, "<h3>{title}</h3>");
    if buckets.is_empty() {
        let _ = writeln!(h, "<p class=\"muted\" id=\"{id}\">No {unit}.</p>");
        return;
    }
    let (left, top, bottom, bar_w) = (48.0, 18.0, 44.0, 40.0);
    let plot_h = 180.0;
    // Wide enough for the axis title under a few bars.
    let width = (left + bar_w * buckets.len() as f64 + 12.0).max(440.0);
    let height = top + plot_h + bottom;
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let _ = writeln!(
        h,
        "<svg class=\"chart\" id=\"{id}\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{title}\">\
         <title>{title}: {unit} by {x_label} ({} in all)</title>",
        hist.total()
    );
    let base = top + plot_h;
    let _ = write!(
        h,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{:.0}\" y2=\"{base}\"/>\
         <line class=\"axis\" x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{base}\"/>\
         <text class=\"lbl\" x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">{max}</text>\
         <text class=\"lbl\" x=\"{:.0}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        width - 8.0,
        left - 4.0,
        top + 4.0,
        left - 4.0,
    );
    for (
        i,
        Bucket {
            min,
            max: hi,
            count,
        },
    ) in buckets.iter().copied().enumerate()
    {
        let x = left + bar_w * i as f64;
        let bh = plot_h * count as f64 / max as f64;
        let range = if min == hi {
            min.to_string()
        } else {
            format!("{min}–{hi}")
        };
        let _ = write!(
            h,
            "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\">\
             <title>{range} {x_label}: {count} {unit}</title></rect>\
             <text class=\"lbl\" x=\"{:.1}\" y=\"{:.0}\" text-anchor=\"middle\">{}</text>",
            x + 3.0,
            base - bh,
            bar_w - 6.0,
            x + bar_w / 2.0,
            base + 14.0,
            short(min),
        );
        if count > 0 {
            let _ = write!(
                h,
                "<text class=\"cnt\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{count}</text>",
                x + bar_w / 2.0,
                base - bh - 3.0,
            );
        }
    }
    let _ = writeln!(
        h,
        "<text class=\"lbl\" x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"middle\">{x_label} \
         (log scale: a bar from its label to the next)</text></svg>",
        left + (width - left) / 2.0,
        height - 8.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            esc("a<b>&\"c'\u{1}\n"),
            "a&lt;b&gt;&amp;&quot;c&#39;\u{fffd}\n"
        );
    }

    #[test]
    fn failed_run_page_has_the_error_and_no_tables() {
        let e = crate::error::Error::Usage("--x <y>".into());
        let r = Report::failed("run", &e);
        let html = r.to_html();
        assert!(html.contains("--x &lt;y&gt;"), "{html}");
        assert!(!html.contains("<h2>Files</h2>"));
    }

    #[test]
    fn charts_have_a_bar_per_bucket() {
        let mut r = Report::new("dialogues");
        let mut l = crate::dialogue::Lengths::default();
        for n in [1, 2, 3, 9] {
            l.turns_per_dialogue.add(n);
        }
        l.chars_per_turn.add(5);
        r.dialogues = Some(super::super::DialogueReport {
            lengths: Some(l),
            ..Default::default()
        });
        let html = r.to_html();
        // turns: buckets 1, 2-3, 4-7, 8-15; chars: 4-7.
        assert_eq!(html.matches("<rect class=\"bar\"").count(), 5, "{html}");
        assert!(
            html.contains("2–3 turns per dialogue: 2 dialogues"),
            "{html}"
        );
    }
}
