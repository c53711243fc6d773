//! `extract`: stage 1 to disk. The run is planned before anything is
//! created ([`Plan`]); then the output directory is taken for this
//! selection ([`RunDir`]: lock, records), `--resume` skips the chunks
//! whose outputs are verified, the pool reads, the stream sink feeds a
//! writer thread that writes each chunk atomically and journals it, and
//! the manifest records the run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use super::driver::read_chunks;
use super::plan::Plan;
use super::rundir::RunDir;
use super::stream_sink::{writer_thread, StreamSink, WriterMsg};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::pool::{channel_bound, thread_pool};
use crate::progress::eprint_line;
use crate::report::{Report, StageTime};
use crate::write::TableFormat;

/// Print a run's notes (unless `quiet`) and keep them in the report.
pub fn notes(report: &mut Report, notes: Vec<String>, quiet: bool) {
    for n in notes {
        if !quiet {
            eprint_line(&format!("note: {n}"));
        }
        report.notes.push(n);
    }
}

/// Stage 1 to disk: `sheetsift extract`.
pub fn extract(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("extract");
    let plan = Plan::new(cfg, std::slice::from_ref(&cfg.out))?;
    notes(&mut report, plan.notes.clone(), cfg.quiet);
    if plan.selected.is_empty() {
        // An idle shard: nothing to write, no directory created.
        report.files_found = plan.files.len();
        report.conclude(started.elapsed());
        return Ok(report);
    }
    let dir = RunDir::open(cfg, &cfg.out, &plan)?;
    let skipped = if cfg.resume {
        dir.verified()
    } else {
        HashMap::new()
    };
    let format = cfg.table_format;
    // A few batches a worker of look-ahead: rows can wait while the writer
    // compresses the previous ones; memory stays at the pool's window.
    let (tx, rx) = crossbeam_channel::bounded::<WriterMsg>(channel_bound(cfg.jobs));
    let compression = cfg.compression_level;
    // One pool of `--jobs` threads reads the files and compresses the
    // output: neither waits for a core the other holds idle.
    let pool = thread_pool(cfg.jobs)?;
    let writer_pool = Arc::clone(&pool);
    let journal = dir.journal();
    let writer = std::thread::Builder::new()
        .name("sheetsift-writer".into())
        .spawn(move || writer_thread(rx, format, compression, writer_pool, journal))
        .map_err(Error::thread("the writer thread"))?;

    let mut sink = StreamSink::new(cfg, tx);
    let stage1 = Instant::now();
    let stage = read_chunks(
        cfg,
        &plan,
        pool,
        &mut report,
        format == TableFormat::Xlsx,
        |c| skipped.contains_key(&c.index),
        &mut sink,
    );
    drop(sink);
    if let Err(e @ Error::Interrupted { .. }) = stage {
        // Do not wait for a chunk being compressed: the caller removes its
        // temporary file and exits.
        return Err(e);
    }
    // The writer may still be compressing the last chunk: the bar keeps
    // ticking (and counting rows written) until it is done.
    if let Ok(p) = &stage {
        p.phase("finishing the last chunk");
        p.writing_tail(report.rows_kept);
    }
    let written = writer.join().unwrap_or(Err(Error::ThreadStopped("writer")));
    // A writer error is the real cause when both failed.
    let stage = stage.map(|p| p.finish());
    let written = match (stage, written) {
        (_, Err(e)) => return Err(e),
        (Err(e), _) => return Err(e),
        (Ok(()), Ok(w)) => w,
    };
    let written: HashMap<usize, super::Output> = written.into_iter().collect();
    for c in report.chunks.iter_mut() {
        if let Some(o) = written.get(&c.index) {
            c.rows = o.rows;
        }
    }
    report.chunks.sort_by_key(|c| c.index);
    report.chunk_outputs(&written);
    report.stages.stage1 = StageTime::of(stage1.elapsed());
    let done = dir.finish(cfg, &plan, &report.chunks, &written, &skipped)?;
    notes(&mut report, done, cfg.quiet);
    report.conclude(started.elapsed());
    Ok(report)
}
