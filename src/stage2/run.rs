//! Both stages in one pass (`sheetsift run`). Each chunk's table
//! goes straight to grouping, as the documented stage 2 would read the
//! chunk's xlsx, so the output equals `extract` then `dialogues` on its
//! outputs (the unit of grouping and de-duplication is the chunk).

use std::time::Instant;

use super::finish;
use crate::fs::{chunk_output, ensure_dir};
use crate::progress::Progress;
use crate::read::find_required;
use crate::report::ChunkStatus;
use crate::stage1::{read_chunks, write_table, ChunkTable, TableSink};

use crate::config::Config;
use crate::dialogue::group::reread_conversions;
use crate::dialogue::{group, Corpus};
use crate::error::Result;
use crate::pool::thread_pool;
use crate::report::{ChunkReport, Report};
use crate::write::TableFormat;

/// Both stages in one pass: `sheetsift run`.
pub fn run(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("run");
    ensure_dir(&cfg.out)?;
    if let Some(dir) = &cfg.keep_clean {
        ensure_dir(dir)?;
    }
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
                    let dest = chunk_output(dir, &ct.chunk, &cfg.prefix, cfg.table_format);
                    write_table(
                        &mut ct.table,
                        &dest,
                        cfg.table_format,
                        cfg.compression_level,
                        Some(write_pool.clone()),
                    )?;
                    entry.status = ChunkStatus::Written;
                    entry.output = Some(dest);
                }
                if let Ok(cols) = find_required(ct.table.columns(), &cfg.read.required) {
                    let convert = reread_conversions(&mut ct.table)?;
                    corpus.push(
                        group(&mut ct.table, cols, convert.as_ref())?,
                        &cfg.agent_value,
                    )?;
                }
            }
            report.chunks.push(entry);
            Ok(())
        },
    );
    read_chunks(cfg, pool, &mut report, check_limit, |_| false, &mut sink)?;
    drop(sink);
    finish(cfg, corpus, report, started)
}
