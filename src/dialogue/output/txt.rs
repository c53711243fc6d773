//! `OUT/std/SET.txt`: the forward corpus, as the reference writes it
//! (turns one a line, each dialogue ended by an empty line).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::CorpusOutput;
use crate::dialogue::{turns, Turn};
use crate::error::{Error, Result};

pub(super) struct Forward {
    w: BufWriter<File>,
    path: PathBuf,
    buf: String,
}

impl Forward {
    /// Write into `f`, the open temporary named `path`.
    pub(super) fn create(f: File, path: &Path) -> Forward {
        Forward {
            w: BufWriter::with_capacity(1 << 20, f),
            path: path.to_path_buf(),
            buf: String::new(),
        }
    }
}

impl CorpusOutput for Forward {
    fn dialogue(&mut self, t: &[Turn]) -> Result<()> {
        self.buf.clear();
        turns::forward_text(t, &mut self.buf);
        self.w
            .write_all(self.buf.as_bytes())
            .map_err(|e| Error::io(&self.path, e))
    }

    fn finish(self: Box<Self>) -> Result<()> {
        let f = self
            .w
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        f.sync_all().map_err(|e| Error::io(&self.path, e))
    }
}
