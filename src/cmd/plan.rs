//! `--dry-run` of `extract`, `dialogues` and `run`: what the run would do,
//! printed to stdout, touching nothing.
//!
//! The plan is the one the real run makes ([`crate::stage1::plan::Plan`]
//! for the stages that chunk, [`crate::stage2::plan`] for `dialogues`) and
//! the output names come from the same functions the writers use
//! ([`chunk_output`], [`crate::manifest::file_name`],
//! [`crate::dialogue::corpus_paths`], [`parts::part_path`]), so the dry run
//! cannot promise names the run does not write. Planning reads directory
//! listings, file metadata and manifests; it creates no directory, takes
//! no lock, writes no manifest and parses no spreadsheet. An error the run
//! would raise while planning (an input missing, nothing found, a
//! selection of no chunk, a directory `dialogues` refuses) is raised here
//! too, with the same exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::PlanFormat;
use crate::config::Config;
use crate::dialogue::corpus_paths;
use crate::error::{Error, Result};
use crate::fs::chunk_output;
use crate::stage1::plan::Plan;
use crate::stage2::parts;

/// The command whose run is planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    Extract,
    Dialogues,
    Run,
}

impl Planned {
    fn name(self) -> &'static str {
        match self {
            Planned::Extract => "extract",
            Planned::Dialogues => "dialogues",
            Planned::Run => "run",
        }
    }
}

/// One input file and its global number (the number in chunk names).
#[derive(Debug, Serialize)]
pub struct PlanFile {
    pub number: usize,
    pub path: String,
}

/// One selected chunk: its files and where its table goes (none for `run`
/// without `--keep-clean`: grouped in memory).
#[derive(Debug, Serialize)]
pub struct PlanChunk {
    pub index: usize,
    pub first_file: usize,
    pub last_file: usize,
    pub output: Option<String>,
}

/// What the run would do. Serialised as the `--dry-run=json` object.
#[derive(Debug, Serialize)]
pub struct DryRun {
    pub command: &'static str,
    /// Every input file in the global order.
    pub files: Vec<PlanFile>,
    /// Files per chunk (stage 1 only).
    pub chunk_size: Option<usize>,
    /// Chunks of the whole file list (stage 1 only).
    pub chunk_count: Option<usize>,
    /// `--chunks A..B` as given (stage 1 only).
    pub chunks_selection: Option<String>,
    /// `--shard K/N`.
    pub shard: Option<String>,
    /// `dialogues --shard`: the global numbers `[start, end)` of the files
    /// this shard reads.
    pub shard_files: Option<[usize; 2]>,
    /// The chunks the selection holds (stage 1 only).
    pub chunks: Vec<PlanChunk>,
    /// Every file the run writes (not its hidden lock and temporaries).
    pub outputs: Vec<String>,
    pub notes: Vec<String>,
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

/// Plan `cfg`'s run of `cmd`.
pub fn plan(cmd: Planned, cfg: &Config) -> Result<DryRun> {
    let mut dry = DryRun {
        command: cmd.name(),
        files: Vec::new(),
        chunk_size: None,
        chunk_count: None,
        chunks_selection: cfg.chunk_range.map(|r| {
            format!(
                "{}..{}",
                r.start,
                r.end.map_or(String::new(), |e| e.to_string())
            )
        }),
        shard: cfg.shard.map(|s| format!("{}/{}", s.index, s.count)),
        shard_files: None,
        chunks: Vec::new(),
        outputs: Vec::new(),
        notes: Vec::new(),
    };
    let numbered = |files: &[PathBuf]| -> Vec<PlanFile> {
        files
            .iter()
            .enumerate()
            .map(|(number, p)| PlanFile {
                number,
                path: show(p),
            })
            .collect()
    };
    if cmd == Planned::Dialogues {
        let (all, unlisted, notes) = crate::stage2::plan(cfg)?;
        dry.notes = notes;
        dry.notes.extend(unlisted.iter().map(|e| e.to_string()));
        dry.files = numbered(&all);
        match cfg.shard {
            Some(s) => {
                let r = parts::files_of(s, all.len());
                dry.shard_files = Some([r.start, r.end]);
                dry.outputs
                    .push(show(&parts::part_path(&cfg.out, s.index, s.count)));
                dry.outputs
                    .push(show(&parts::manifest_path(&cfg.out, s.index, s.count)));
            }
            None => {
                dry.outputs = corpus_paths(&cfg.out, &cfg.corpus_formats)
                    .iter()
                    .map(|p| show(p))
                    .collect();
            }
        }
        return Ok(dry);
    }
    // Stage 1: the tables go to -o (extract) or --keep-clean (run).
    let table_dir: Option<&PathBuf> = match cmd {
        Planned::Extract => Some(&cfg.out),
        _ => cfg.keep_clean.as_ref(),
    };
    let own: Vec<PathBuf> = table_dir.into_iter().cloned().collect();
    let plan = Plan::new(cfg, &own)?;
    dry.notes = plan.notes.clone();
    dry.files = numbered(&plan.files);
    dry.chunk_size = Some(cfg.chunk_size);
    dry.chunk_count = Some(plan.chunk_count);
    for c in &plan.selected {
        let output = table_dir.map(|d| chunk_output(d, c, &cfg.prefix, cfg.table_format));
        if let Some(o) = &output {
            dry.outputs.push(show(o));
        }
        dry.chunks.push(PlanChunk {
            index: c.index,
            first_file: c.first(),
            last_file: c.last(),
            output: output.as_deref().map(show),
        });
    }
    if plan.selected.is_empty() {
        // An idle shard writes nothing, not even a directory.
        return Ok(dry);
    }
    if let Some(d) = table_dir {
        dry.outputs
            .push(show(&d.join(crate::manifest::file_name(cfg))));
    }
    if cmd == Planned::Run {
        let out = crate::stage2::run::corpus_dir(cfg);
        dry.outputs.extend(
            corpus_paths(&out, &cfg.corpus_formats)
                .iter()
                .map(|p| show(p)),
        );
    }
    if cfg.resume {
        dry.notes.push(
            "--resume: chunks whose outputs verify against the manifest are skipped at run time"
                .into(),
        );
    }
    Ok(dry)
}

impl DryRun {
    /// The plan for a person: numbered files, chunk assignment, outputs.
    pub fn text(&self) -> String {
        let mut s = format!("sheetsift {}: dry run, nothing written\n", self.command);
        s.push_str(&format!(
            "input files ({}), by global number:\n",
            self.files.len()
        ));
        for f in &self.files {
            s.push_str(&format!("  {:>6}  {}\n", f.number, f.path));
        }
        if let (Some(size), Some(count)) = (self.chunk_size, self.chunk_count) {
            let mut sel = Vec::new();
            if let Some(c) = &self.chunks_selection {
                sel.push(format!("--chunks {c}"));
            }
            if let Some(k) = &self.shard {
                sel.push(format!("--shard {k}"));
            }
            let by = if sel.is_empty() {
                String::new()
            } else {
                format!(" by {}", sel.join(" "))
            };
            s.push_str(&format!(
                "chunks: {count} ({size} files each), {} selected{by}:\n",
                self.chunks.len()
            ));
            for c in &self.chunks {
                let to = c.output.as_deref().unwrap_or("grouped in memory");
                s.push_str(&format!(
                    "  chunk {:>4}: files {}..={} -> {to}\n",
                    c.index, c.first_file, c.last_file
                ));
            }
        }
        if let (Some(k), Some([a, b])) = (&self.shard, self.shard_files) {
            s.push_str(&format!("--shard {k} reads files {a}..{b} (half-open)\n"));
        }
        s.push_str(&format!("outputs ({}):\n", self.outputs.len()));
        for o in &self.outputs {
            s.push_str(&format!("  {o}\n"));
        }
        for n in &self.notes {
            if n.starts_with("warning:") {
                s.push_str(&format!("{n}\n"));
            } else {
                s.push_str(&format!("note: {n}\n"));
            }
        }
        s
    }
}

/// Plan `cfg`'s run of `cmd` and print it to stdout in `format`.
pub fn run(cmd: Planned, cfg: &Config, format: PlanFormat) -> Result<()> {
    let dry = plan(cmd, cfg)?;
    let text = match format {
        PlanFormat::Text => dry.text(),
        PlanFormat::Json => {
            let mut j = serde_json::to_string_pretty(&dry)
                .map_err(|e| Error::io(Path::new("<stdout>"), std::io::Error::other(e)))?;
            j.push('\n');
            j
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(Path::new("<stdout>"), e))
}
