//! The dedicated writer of the reversed (MMI) corpus: a thread that
//! receives reversed dialogues over a bounded channel and writes them. A
//! message carries a run of whole dialogues (the caller batches about
//! 64 KiB): one message a dialogue spent more on waking the thread than on
//! writing.
//!
//! Closing the channel (dropping the writer handle's sender) ends the
//! thread, which returns its `Result` through the join handle. If the
//! thread fails, its receiver is dropped, so the next `send` fails at once
//! instead of blocking: a writer failure can never hang the run.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// Test hook: make the writer fail after this many dialogues, to prove a
/// writer failure stops the run cleanly. Not for production use.
const FAIL_AFTER_ENV: &str = "SHEETSIFT_TEST_FAIL_REVERSE_AFTER";

pub struct ReverseWriter {
    tx: Option<SyncSender<(String, u64)>>,
    handle: Option<JoinHandle<Result<u64>>>,
    path: PathBuf,
}

impl ReverseWriter {
    /// Start the thread writing into `file` (the open temporary named
    /// `path`), with a channel of `bound` dialogues.
    pub fn spawn(file: File, path: &Path, bound: usize) -> Result<ReverseWriter> {
        let (tx, rx) = sync_channel::<(String, u64)>(bound.max(1));
        let p = path.to_path_buf();
        let fail_after: Option<u64> = std::env::var(FAIL_AFTER_ENV)
            .ok()
            .and_then(|v| v.parse().ok());
        let handle = std::thread::Builder::new()
            .name("sheetsift-mmi-writer".into())
            .spawn(move || -> Result<u64> {
                let mut w = BufWriter::with_capacity(1 << 20, file);
                let mut n = 0u64;
                for (text, dialogues) in rx {
                    if fail_after.is_some_and(|k| n + dialogues > k) {
                        return Err(Error::output(&p, "simulated write failure (test hook)"));
                    }
                    w.write_all(text.as_bytes()).map_err(|e| Error::io(&p, e))?;
                    n += dialogues;
                }
                let f = w.into_inner().map_err(|e| Error::io(&p, e.into_error()))?;
                f.sync_all().map_err(|e| Error::io(&p, e))?;
                Ok(n)
            })
            .map_err(|e| Error::io(path, e))?;
        Ok(ReverseWriter {
            tx: Some(tx),
            handle: Some(handle),
            path: path.to_path_buf(),
        })
    }

    /// Hand one reversed dialogue to the writer.
    /// Hand over `text`, the reversed text of `dialogues` whole dialogues.
    pub fn send(&mut self, text: String, dialogues: u64) -> Result<()> {
        let tx = self.tx.as_ref().expect("sender lives until finish");
        if tx.send((text, dialogues)).is_err() {
            // The thread is gone: its own error says why.
            return Err(self
                .join()
                .err()
                .unwrap_or_else(|| Error::output(&self.path, "reverse writer stopped")));
        }
        Ok(())
    }

    /// Close the channel and wait for the thread; the dialogues written.
    pub fn finish(mut self) -> Result<u64> {
        self.join()
    }

    fn join(&mut self) -> Result<u64> {
        self.tx.take();
        match self.handle.take() {
            Some(h) => h.join().unwrap_or_else(|_| {
                Err(Error::output(&self.path, "reverse writer thread panicked"))
            }),
            None => Err(Error::output(&self.path, "reverse writer already finished")),
        }
    }
}

impl Drop for ReverseWriter {
    fn drop(&mut self) {
        // Never leave the thread blocked on a channel nobody will close.
        self.tx.take();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
