//! File-system helpers every stage shares: the output directory, a
//! chunk's output path, and the atomic-file guard every output goes
//! through. Nothing is ever written under a final name: data goes to a
//! hidden temporary of a unique name beside it (see
//! [`crate::outdir::temp`]), written through its handle, and
//! [`AtomicFile::commit`] renames it into place. A dropped, uncommitted
//! guard removes the temporary, so an error or a signal never leaves a half
//! file.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::chunk::Chunk;
use crate::error::{Error, Result};
use crate::outdir::temp::SafeTemp;
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

/// A file written beside its final name and renamed into place: a
/// [`SafeTemp`] (unique hidden name, created with `O_EXCL`, never followed
/// through a symlink, registered with [`crate::interrupt`] while it is
/// open). Write through its handle ([`AtomicFile::file`],
/// [`AtomicFile::try_clone`]); the path is for messages only.
#[derive(Debug)]
pub struct AtomicFile {
    temp: SafeTemp,
}

impl AtomicFile {
    /// Create the temporary beside `dest` (whose directory must exist).
    pub fn new(dest: &Path) -> Result<AtomicFile> {
        SafeTemp::new(dest)
            .map(|temp| AtomicFile { temp })
            .map_err(|e| Error::io(dest, e))
    }

    pub fn tmp_path(&self) -> &Path {
        self.temp.path()
    }

    pub fn dest(&self) -> &Path {
        self.temp.dest()
    }

    /// The open temporary.
    pub fn file(&self) -> &File {
        self.temp.file()
    }

    /// A second handle on the temporary, for a writer that owns its file.
    pub fn try_clone(&self) -> Result<File> {
        self.temp
            .try_clone()
            .map_err(|e| Error::io(self.temp.path(), e))
    }

    /// Write `bytes` as the whole content.
    pub fn write_all(&self, bytes: &[u8]) -> Result<()> {
        let mut f = self.file();
        f.write_all(bytes)
            .map_err(|e| Error::io(self.temp.path(), e))
    }

    /// Size and SHA-256 of what was written: `known` when the writer
    /// computed them as it wrote (a sink's `finish`), else [`Self::digest`].
    pub fn digest_unless(&self, known: Option<(u64, String)>) -> Result<(u64, String)> {
        match known {
            Some(d) => Ok(d),
            None => self.digest(),
        }
    }

    /// Size and SHA-256 of what was written (read back through the handle
    /// with positioned reads, so no writer's offset moves; the data is in
    /// the page cache).
    pub fn digest(&self) -> Result<(u64, String)> {
        use std::os::unix::fs::FileExt;
        struct At<'a>(&'a File, u64);
        impl std::io::Read for At<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read_at(buf, self.1)?;
                self.1 += n as u64;
                Ok(n)
            }
        }
        crate::outdir::record::hash_reader(At(self.file(), 0))
            .map_err(|e| Error::io(self.temp.path(), e))
    }

    /// Flush to disk and rename over the final name.
    pub fn commit(self) -> Result<()> {
        let dest = self.temp.dest().to_path_buf();
        self.temp.commit().map_err(|e| Error::io(&dest, e))
    }
}

/// Serde `serialize_with` helpers for paths in JSON (the manifest, the
/// report, a part's header). Paths are bytes on Unix and are kept as bytes
/// everywhere else (discovery, reading, the fingerprints, which hash the
/// exact bytes); JSON needs text, and serde_json refuses a path that is not
/// UTF-8 outright, which failed the whole manifest for one odd file name.
/// So a path is written exactly when it is UTF-8, else lossily (each
/// invalid byte as U+FFFD). Read back, such a path names nothing, which is
/// fine: no record is looked up by an input's path (`--resume` compares
/// fingerprints, made from the exact bytes).
pub mod path_text {
    use std::path::{Path, PathBuf};

    use serde::Serializer;

    pub fn serialize<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&p.to_string_lossy())
    }

    /// For `Option<PathBuf>` fields.
    pub fn option<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_some(&p.to_string_lossy()),
            None => s.serialize_none(),
        }
    }

    /// For `Vec<PathBuf>` fields.
    pub fn list<S: Serializer>(v: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|p| p.to_string_lossy()))
    }

    /// For `Option<Vec<PathBuf>>` fields.
    pub fn option_list<S: Serializer>(v: &Option<Vec<PathBuf>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_seq(v.iter().map(|p| p.to_string_lossy())),
            None => s.serialize_none(),
        }
    }
}
