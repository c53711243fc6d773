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
}

impl Reversed {
    /// The channel holds 32 dialogues a worker: a dialogue is a few hundred
    /// bytes, and handing them over one by one would wake the writer for
    /// each; a few dozen a thread keep it busy at little memory.
    pub(super) fn spawn(file: std::fs::File, path: &Path, jobs: usize) -> Result<Reversed> {
        Ok(Reversed {
            writer: ReverseWriter::spawn(file, path, 32 * jobs.max(1))?,
        })
    }
}

impl CorpusOutput for Reversed {
    fn dialogue(&mut self, t: &[Turn]) -> Result<()> {
        let mut rev = String::with_capacity(t.iter().map(|x| x.text.len() + 8).sum());
        turns::reverse_text(t, &mut rev);
        self.writer.send(rev)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.writer.finish().map(|_| ())
    }
}
