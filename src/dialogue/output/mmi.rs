//! `OUT/mmi/SET.txt`: each dialogue with its turns reversed, written by
//! the dedicated [`ReverseWriter`] thread fed over a bounded channel, as
//! the documented workflow does.

use std::path::Path;

use super::CorpusOutput;
use crate::dialogue::reverse_writer::ReverseWriter;
use crate::dialogue::{turns, Turn};
use crate::error::Result;

pub(super) struct Reversed {
    writer: ReverseWriter,
    /// Dialogues reversed and not handed over yet, and how many.
    pending: String,
    count: u64,
}

/// Bytes of reversed dialogues handed to the writer at once.
const BATCH: usize = 64 << 10;

impl Reversed {
    pub(super) fn spawn(file: std::fs::File, path: &Path, jobs: usize) -> Result<Reversed> {
        Ok(Reversed {
            writer: ReverseWriter::spawn(file, path, 4 * jobs.max(1))?,
            pending: String::with_capacity(2 * BATCH),
            count: 0,
        })
    }
}

impl CorpusOutput for Reversed {
    fn dialogue(&mut self, t: &[Turn]) -> Result<()> {
        turns::reverse_text(t, &mut self.pending);
        self.count += 1;
        if self.pending.len() >= BATCH {
            let full = std::mem::replace(&mut self.pending, String::with_capacity(2 * BATCH));
            self.writer.send(full, std::mem::take(&mut self.count))?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<()> {
        if self.count > 0 {
            let rest = std::mem::take(&mut self.pending);
            let n = std::mem::take(&mut self.count);
            self.writer.send(rest, n)?;
        }
        self.writer.finish().map(|_| ())
    }
}
