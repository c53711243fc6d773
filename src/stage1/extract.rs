//! `extract`: stage 1 to disk. The pool reads; the stream sink feeds a
//! writer thread that writes each chunk atomically; the manifest records
//! the run.

use std::sync::Arc;
use std::time::Instant;

use super::driver::read_chunks;
use super::stream_sink::{writer_thread, StreamSink, WriterMsg};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fs::{chunk_output, ensure_dir};
use crate::pool::{channel_bound, thread_pool};
use crate::report::Report;
use crate::write::TableFormat;

/// Stage 1 to disk: `sheetsift extract`.
pub fn extract(cfg: &Config) -> Result<Report> {
    let started = Instant::now();
    let mut report = Report::new("extract");
    ensure_dir(&cfg.out)?;
    let format = cfg.table_format;
    // A few batches a worker of look-ahead: rows can wait while the writer
    // compresses the previous ones; memory stays at the pool's window.
    let (tx, rx) = crossbeam_channel::bounded::<WriterMsg>(channel_bound(cfg.jobs));
    let compression = cfg.compression_level;
    // One pool of `--jobs` threads reads the files and compresses the
    // output: neither waits for a core the other holds idle.
    let pool = thread_pool(cfg.jobs)?;
    let writer_pool = Arc::clone(&pool);
    let writer = std::thread::Builder::new()
        .name("sheetsift-writer".into())
        .spawn(move || writer_thread(rx, format, compression, writer_pool))
        .map_err(Error::thread("the writer thread"))?;

    let resume = cfg.resume;
    let mut sink = StreamSink::new(cfg, tx);
    let stage = read_chunks(
        cfg,
        pool,
        &mut report,
        format == TableFormat::Xlsx,
        |c| resume && chunk_output(&cfg.out, c, &cfg.prefix, format).exists(),
        &mut sink,
    );
    drop(sink);
    if let Err(e @ Error::Interrupted { .. }) = stage {
        // Do not wait for a chunk being compressed: the caller removes its
        // temporary file and exits.
        return Err(e);
    }
    let written = writer
        .join()
        .unwrap_or_else(|_| Err(Error::ThreadStopped("writer")));
    // A writer error is the real cause when both failed.
    let (files, written) = match (stage, written) {
        (_, Err(e)) => return Err(e),
        (Err(e), _) => return Err(e),
        (Ok(files), Ok(w)) => (files, w),
    };
    for (index, rows) in written {
        if let Some(c) = report.chunks.iter_mut().find(|c| c.index == index) {
            c.rows = rows;
        }
    }
    report.chunks.sort_by_key(|c| c.index);
    crate::manifest::write(&cfg.out, cfg, &files, &report.chunks)?;
    report.conclude(started.elapsed());
    Ok(report)
}
