//! File-system helpers every stage shares: the output directory, a
//! chunk's output path, and the atomic-file guard every output goes
//! through. Nothing is ever written under a final name: data goes to a
//! hidden temporary beside it, and [`AtomicFile::commit`] renames it into
//! place. A dropped, uncommitted guard removes the temporary, so an error
//! or a signal never leaves a half file.

use std::path::{Path, PathBuf};

use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::write::TableFormat;

/// Create the output directory, with a clear error when it cannot be.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::output(
            dir,
            "output path exists and is not a directory",
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))
}

/// The output path of a chunk.
pub fn chunk_output(dir: &Path, c: &Chunk, prefix: &str, format: TableFormat) -> PathBuf {
    dir.join(format!("{}.{}", c.stem(prefix), format.extension()))
}

/// A file written beside its final name and renamed into place.
#[derive(Debug)]
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Reserve `dest`; the data goes to `.NAME.part` beside it (hidden, so
    /// the input walk never picks it up).
    pub fn new(dest: &Path) -> AtomicFile {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dest.with_file_name(format!(".{name}.part"));
        AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            committed: false,
        }
    }

    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flush to disk and rename into place.
    pub fn commit(mut self) -> Result<()> {
        let f = std::fs::File::open(&self.tmp).map_err(|e| Error::io(&self.tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&self.tmp, e))?;
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| Error::io(&self.dest, e))?;
        self.committed = true;
        crate::interrupt::unregister_temporary(&self.tmp);
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
            crate::interrupt::unregister_temporary(&self.tmp);
        }
    }
}
