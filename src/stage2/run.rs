//! Both stages in one pass (`sheetsift run`). Each chunk's table
//! goes straight to grouping, as the documented stage 2 would read the
//! chunk's xlsx, so the output equals `extract` then `dialogues` on its
//! outputs (the unit of grouping and de-duplication is the chunk).
//!
//! The run is planned before anything is created (inputs, outputs of an
//! earlier `--keep-clean` excluded, selection). `--shard K/N` writes its
//! own corpus to `OUT/shard-K-of-N/` (the split is the shard's own), so
//! shards sharing one `-o` never overwrite each other. `--keep-clean DIR`
//! is an extract output directory like any other: locked per selection,
//! journaled, and described by a manifest v2.

use std::collections::HashMap;
use std::time::Instant;

use super::finish;
use crate::fs::{chunk_output, ensure_dir};
use crate::progress::Progress;
use crate::read::find_required;
use crate::report::ChunkStatus;
use crate::stage1::plan::Plan;
use crate::stage1::rundir::RunDir;
use crate::stage1::{read_chunks, write_table, ChunkTable, Output, TableSink};

use crate::config::Config;
use crate::dialogue::group::{group_sessions_sharded, reread_conversions, Session};
use crate::dialogue::Corpus;
use crate::error::Result;
use crate::pool::thread_pool;
use crate::report::{ChunkReport, Report, StageTime};
use crate::write::TableFormat;

/// Where `run` writes its corpus: `-o`, or a shard's own OUT/shard-K-of-N/.
pub fn corpus_dir(cfg: &Config) -> std::path::PathBuf {
    match cfg.shard {
        Some(s) => cfg.out.join(format!("shard-{}-of-{}", s.index, s.count)),
        None => cfg.out.clone(),
    }
}

/// Both stages in one pass: `sheetsift run`.
pub fn run(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("run");
    let own: Vec<std::path::PathBuf> = cfg.keep_clean.iter().cloned().collect();
    let plan = Plan::new(cfg, &own)?;
    crate::stage1::extract::notes(&mut report, plan.notes.clone(), cfg.quiet);
    if plan.selected.is_empty() {
        // An idle shard: nothing to do, no directory created.
        report.files_found = plan.files.len();
        report.conclude(started.elapsed());
        return Ok(report);
    }
    let out = corpus_dir(cfg);
    let mut shard_cfg;
    let cfg = if out != cfg.out {
        shard_cfg = cfg.clone();
        shard_cfg.out = out;
        &shard_cfg
    } else {
        cfg
    };
    ensure_dir(&cfg.out)?;
    let kept = match &cfg.keep_clean {
        Some(dir) => Some(RunDir::open(cfg, dir, &plan)?),
        None => None,
    };
    let journal = kept.as_ref().map(RunDir::journal);
    let mut written: HashMap<usize, Output> = HashMap::new();
    let mut corpus = Corpus::new(&cfg.out, cfg.corpus_budget());
    // The xlsx cell limit only matters when the clean tables are kept as
    // xlsx; extract would not write such a chunk, so neither is it grouped.
    let check_limit = cfg.keep_clean.is_some() && cfg.table_format == TableFormat::Xlsx;
    let pool = thread_pool(cfg.jobs)?;
    let write_pool = std::sync::Arc::clone(&pool);
    let mut sink = TableSink::new(
        &cfg.out,
        |mut ct: ChunkTable, report: &mut Report, progress: &Progress| {
            let mut entry = ChunkReport {
                index: ct.chunk.index,
                first_file: ct.chunk.first(),
                last_file: ct.chunk.last(),
                status: ChunkStatus::Grouped,
                output: None,
                rows: ct.table.len(),
                error: None,
            };
            if ct.files_ok == 0 {
                entry.status = ChunkStatus::NoReadableFile;
                progress.println(&format!(
                    "error: chunk {}: no readable file",
                    ct.chunk.index
                ));
            } else if let Some(err) = ct.error.take() {
                entry.status = ChunkStatus::Failed;
                entry.error = Some(err);
            } else {
                if let Some(dir) = &cfg.keep_clean {
                    progress.phase(format!("writing chunk {}", ct.chunk.index));
                    let dest = chunk_output(dir, &ct.chunk, &cfg.prefix, cfg.table_format);
                    let o = write_table(
                        &mut ct.table,
                        &dest,
                        cfg.table_format,
                        cfg.compression_level,
                        Some(write_pool.clone()),
                    )?;
                    if let Some(j) = &journal {
                        j.written(ct.chunk.index, &o)?;
                    }
                    written.insert(ct.chunk.index, o);
                    entry.status = ChunkStatus::Written;
                    entry.output = Some(dest);
                }
                if let Ok(cols) = find_required(ct.table.columns(), &cfg.read.required) {
                    let convert = reread_conversions(&mut ct.table)?;
                    let session = match cfg.session_gap {
                        Some(gap) => {
                            let col = ct
                                .table
                                .columns()
                                .iter()
                                .position(|c| c == cfg.time_col.as_str());
                            if col.is_none() {
                                report.notes.push(format!(
                                    "chunk {}: no time column {:?}: --session-gap does not split it",
                                    ct.chunk.index, cfg.time_col
                                ));
                            }
                            col.map(|col| Session { col, gap })
                        }
                        None => None,
                    };
                    let grouped = group_sessions_sharded(
                        &mut ct.table,
                        cols,
                        convert.as_ref(),
                        session,
                        cfg.jobs,
                    )?;
                    // Rendered on the run's workers: called from here, off
                    // the pool, rayon would use its global pool, one
                    // thread per core whatever `-j` says.
                    write_pool.install(|| corpus.push(grouped, &cfg.agent_value))?;
                }
            }
            report.chunks.push(entry);
            Ok(())
        },
    )
    .watching_reread();
    let stage1 = Instant::now();
    read_chunks(
        cfg,
        &plan,
        std::sync::Arc::clone(&pool),
        &mut report,
        check_limit,
        |_| false,
        &mut sink,
    )?
    .finish();
    drop(sink);
    report.chunk_outputs(&written);
    if let Some(dir) = kept {
        let done = dir.finish(cfg, &plan, &report.chunks, &written, &HashMap::new())?;
        crate::stage1::extract::notes(&mut report, done, cfg.quiet);
    }
    // Grouping happened chunk by chunk while reading: stage 1's time.
    report.stages.stage1 = StageTime::of(stage1.elapsed());
    finish(cfg, &pool, corpus, report, started, Instant::now())
}
