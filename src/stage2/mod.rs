//! Stage 2: dialogue corpora.
//!
//! [`dialogues`] reads its inputs one file at a time in the global order
//! ([`per_file`], on the ordered pool), appends each file's rendered
//! dialogues to the [`Corpus`], then [`finish`] splits and writes it.
//! [`run`](run::run) feeds the corpus from stage 1's chunks instead.
//!
//! Sharded (`dialogues --shard K/N`), a process reads only its range of
//! the files and writes their rendered dialogues to a part
//! ([`parts`]) instead of splitting; [`merge`](merge::merge) splits the
//! parts together.

pub mod check;
pub mod merge;
pub mod parts;
pub mod per_file;
pub mod run;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use self::parts::PartWriter;
use self::per_file::{one_file, FileDialogues};
use crate::config::Config;
use crate::dialogue::{self, Corpus};
use crate::discover::discover;
use crate::error::{Error, FileError, Result};
use crate::fs::ensure_dir;
use crate::interrupt;
use crate::outdir::preflight;
use crate::pool::{ordered_map, thread_pool};
use crate::progress::eprint_line;
use crate::progress::Progress;
use crate::report::{
    seconds, DialogueReport, FileDrops, FileEntry, FileStatus, OutputFile, Report, StageTime,
};

pub use self::merge::merge;
pub use self::run::run;

/// Stage 2 on files: `sheetsift dialogues`.
pub fn dialogues(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("dialogues");
    let (all, unlisted, notes) = plan(cfg)?;
    // A directory that could not be listed is a failed input (exit 3).
    for e in &unlisted {
        // Errors are printed even with --quiet.
        eprintln!("{}", report.fail_file(e));
    }
    print_notes(&mut report, notes, cfg.quiet);
    report.files_found = all.len();
    ensure_dir(&cfg.out)?;
    // `first`: the global number of the first file read.
    let (files, first, mut part) = match cfg.shard {
        Some(s) => {
            let range = parts::files_of(s, all.len());
            let run = parts::part_run(cfg, &all, s.count);
            let w = PartWriter::create(&cfg.out, run, s.index, range.clone())?;
            (all[range.clone()].to_vec(), range.start, Some(w))
        }
        None => (all, 0, None),
    };
    report.files_selected = files.len();
    let sizes: Vec<u64> = files
        .iter()
        .map(|p| crate::progress::total_bytes([p.as_path()]))
        .collect();
    let total = sizes.iter().sum();
    let mut progress = Progress::reading(sizes, total, files.len() as u64, cfg.quiet);
    progress.set_prefix("dialogues");

    let mut opts = cfg.read.clone();
    // Fewer files than workers (typically one big chunk file): let each
    // file's parsing take a second thread.
    if files.len() < cfg.jobs {
        opts.parse_threads = cfg.jobs;
    }
    let opts = Arc::new(opts);
    let agent_value = Arc::new(cfg.agent_value.clone());
    let spill = Arc::new(cfg.out.clone());
    let session = Arc::new(cfg.session_gap.map(|g| (cfg.time_col.clone(), g)));
    let pool = thread_pool(cfg.jobs)?;
    let ledger = progress.ledger();
    let work: Vec<(usize, PathBuf)> = files.iter().cloned().enumerate().collect();
    // Each result with the seconds its worker took, for the report.
    let results = ordered_map(Arc::clone(&pool), work, 2 * cfg.jobs, move |(i, path)| {
        // The bar's bytes move as this file is read.
        let _reading = ledger.enter(i);
        let t = Instant::now();
        let r = one_file(
            &path,
            &opts,
            &agent_value,
            &spill,
            session.as_ref().as_ref(),
        );
        (r, seconds(t.elapsed()))
    });
    let mut corpus = Corpus::new(&cfg.out, cfg.corpus_budget());
    for (i, (result, path)) in results.zip(&files).enumerate() {
        interrupt::check()?;
        progress.file_done(i);
        let (result, secs) = match result {
            Ok((r, secs)) => (Ok(r), Some(secs)),
            Err(p) => (Err(p), None),
        };
        let fd = report.take_file(path, result, |f: &FileDialogues| &f.notes, &mut progress);
        let mut entry = FileEntry::new(path, first + i, FileStatus::Failed);
        entry.seconds = secs;
        if let Some(fd) = &fd {
            entry.status = FileStatus::Ok;
            entry.rows_read = Some(fd.rows_read);
            entry.rows_kept = Some(fd.rows_read - fd.dropped_missing - fd.dropped_duplicate);
            entry.rows_dropped = Some(FileDrops {
                missing: Some(fd.dropped_missing),
                system: None,
                duplicate: Some(fd.dropped_duplicate),
            });
        }
        report.file_entry(entry);
        if let Some(p) = part.as_mut() {
            if let Some(fd) = &fd {
                progress.inc(fd.rows_read);
            }
            p.file(fd)?;
        } else if let Some(fd) = fd {
            progress.inc(fd.rows_read);
            corpus.append(
                fd.rendered,
                fd.rows_read,
                fd.dropped_missing,
                fd.dropped_duplicate,
            )?;
        }
    }
    progress.finish();
    if let Some(p) = part {
        return finish_part(p, report, started);
    }
    report.rows_read = corpus.rows_read;
    finish(cfg, &pool, corpus, report, started, started)
}

/// `dialogues` planned before anything is created: the inputs exist, `-o`
/// is not a file, the files discovered in the global order, and the
/// directories checked against their manifests (a refusal is exit 2).
/// Returns the files, the directories that could not be listed (failed
/// inputs, exit 3) and the notes to print. Shared with the dry run, so
/// that it refuses what the run would refuse.
pub fn plan(cfg: &Config) -> Result<(Vec<PathBuf>, Vec<FileError>, Vec<String>)> {
    preflight::check_inputs_exist(&cfg.inputs).map_err(Error::Usage)?;
    if preflight::check_out_dir(&cfg.out).is_err() {
        return Err(Error::output(
            &cfg.out,
            "output path exists and is not a directory",
        ));
    }
    let found = discover(&cfg.inputs)?;
    let all = found.files;
    if all.is_empty() {
        let mut msg = preflight::nothing_found(&cfg.inputs);
        for e in &found.unlisted {
            msg.push_str(&format!("\n{e}"));
        }
        return Err(Error::Usage(msg));
    }
    let notes = check::check_inputs(cfg, &all)?;
    Ok((all, found.unlisted, notes))
}

/// Print notes (unless `quiet`) and warnings (always), and keep them in
/// the report.
pub fn print_notes(report: &mut Report, notes: Vec<String>, quiet: bool) {
    for n in notes {
        if n.starts_with("warning:") {
            eprint_line(&n);
        } else if !quiet {
            eprint_line(&format!("note: {n}"));
        }
        report.notes.push(n);
    }
}

/// Complete a shard's part and report its counts (no split: the merge
/// makes it).
fn finish_part(p: PartWriter, mut report: Report, started: Instant) -> Result<Report> {
    let h = p.header().clone();
    let lengths = p.lengths().clone();
    let (path, manifest) = p.finish(&report.files_failed, &report.notes)?;
    report.rows_read = h.rows_read;
    report.outputs.push(OutputFile::of(&path)?);
    report.dialogues = Some(DialogueReport {
        rows_read: h.rows_read,
        rows_dropped_missing: h.rows_dropped_missing,
        rows_dropped_duplicate: h.rows_dropped_duplicate,
        dialogues: h.dialogues,
        train: None,
        val: None,
        messages_skipped: h.messages_skipped,
        spilled_to_disk: false,
        lengths: Some(lengths),
        outputs: vec![path, manifest],
        corpus: None,
    });
    report.stages.stage2 = StageTime::of(started.elapsed());
    report.conclude(started.elapsed());
    Ok(report)
}

/// Split and write a corpus, fill in the stage-2 part of the report.
/// `stage2`: when stage 2 began (in `run`, now: its grouping was timed
/// with stage 1). `pool`: the run's `-j` workers, which shape the corpus
/// and hash the outputs (called off the pool, rayon would use its global
/// one, a thread per core).
pub fn finish(
    cfg: &Config,
    pool: &rayon::ThreadPool,
    corpus: Corpus,
    mut report: Report,
    started: Instant,
    stage2: Instant,
) -> Result<Report> {
    // The corpus options shape the whole corpus, in the global order,
    // before the split (see `dialogue::shape`); without them this is
    // skipped and every byte stays as the reference's.
    let (corpus, stats) = if cfg.corpus.shapes() {
        let shaper = dialogue::shape::Shaper::new(&cfg.corpus)?;
        let (c, s) = pool.install(|| shaper.corpus(corpus, &cfg.out, cfg.corpus_budget()))?;
        (c, Some(s))
    } else {
        (corpus, None)
    };
    let spec = dialogue::CorpusSpec {
        val_size: cfg.val_size,
        seed: cfg.seed,
        formats: &cfg.corpus_formats,
        system: cfg.corpus.system_prompt.as_deref(),
    };
    let written = dialogue::write_corpus(&corpus, &cfg.out, &spec, cfg.jobs, cfg.quiet)?;
    report.dialogues = Some(DialogueReport {
        rows_read: corpus.rows_read,
        rows_dropped_missing: corpus.dropped_missing,
        rows_dropped_duplicate: corpus.dropped_duplicate,
        dialogues: corpus.len() as u64,
        train: Some(written.train),
        val: Some(written.val),
        messages_skipped: corpus.messages_skipped,
        spilled_to_disk: corpus.has_spilled(),
        // A merge's dialogues were rendered by the shards: its corpus
        // counted none of them, so it reports no distributions.
        lengths: (!corpus.has_stored()).then(|| corpus.lengths.clone()),
        outputs: written.outputs,
        corpus: stats,
    });
    // Hashed after the rename, from the page cache: the corpus writers
    // stay as they are (byte-identical outputs), for one extra read. On the
    // pool, in the listed order: the files are independent, and hashing
    // them one after the other was the run's last serial step.
    // The corpus (every rendered dialogue) is freed meanwhile.
    let hashed: Vec<Result<OutputFile>> = {
        use rayon::prelude::*;
        let outputs = &report.dialogues.as_ref().expect("just set").outputs;
        pool.install(move || {
            let hash = || outputs.par_iter().map(|p| OutputFile::of(p)).collect();
            rayon::join(move || drop(corpus), hash).1
        })
    };
    for o in hashed {
        report.outputs.push(o?);
    }
    report.stages.stage2 = StageTime::of(stage2.elapsed());
    report.conclude(started.elapsed());
    Ok(report)
}
