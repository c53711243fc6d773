//! Stage 2 sharded: the part file one `dialogues --shard K/N` writes, and
//! reading it back for the merge.
//!
//! Shard K of N takes a contiguous range of the global file order, files
//! `K*F/N .. (K+1)*F/N` of F. Contiguous rather than `i % N` (stage 1's
//! rule for chunks) because then the parts, taken in K order, *are* the
//! global dialogue order: the merge is a concatenation, and its corpus a
//! list of part files with no per-file interleaving to undo. Stage-1 chunks
//! are all of one size but the last, so the ranges are as balanced as the
//! modulo would be.
//!
//! `OUT/parts/part-K-of-N.bin`, written through [`AtomicFile`] so that a
//! part either exists whole or not at all:
//!
//! ```text
//! MAGIC                      8 bytes, "SSPART1\n"
//! records                    one per dialogue, in global order
//!                            (dialogue::encode_dialogue, the spill format)
//! offsets                    u64 LE per record start, plus the records' end
//! header                     JSON: PartHeader
//! header length, offsets at  u64 LE each
//! MAGIC
//! ```
//!
//! The header comes last because its counts are known only at the end; it
//! names the run (input fingerprint, file count, N, and the options that
//! shape the rendered bytes: columns, sheet, encoding, agent value) so the
//! merge refuses a part of another run, and carries the shard's counts.
//!
//! ## The part's manifest
//!
//! The header describes the part but cannot vouch for it: a part truncated,
//! swapped or with a flipped bit after it was written keeps a plausible
//! header, and the merge would build a corpus from damaged bytes. So once
//! the part is renamed into place the shard records it in
//! `OUT/parts/part-K-of-N.json` ([`PartManifest`], also through
//! [`AtomicFile`]): its file name, size and SHA-256 (hashed as the bytes
//! were written, never read back), the tool, the [`PartRun`], K, N and the
//! counts. One manifest per shard rather than one shared file, so N shards
//! finishing at once on a cluster never contend for it (no lock on a shared
//! volume, no read-modify-write). The part is committed first and its
//! manifest second, so every crash point is safe: a part without a
//! manifest (killed between the two renames), or a rerun's new part beside
//! the previous run's manifest, is refused by the merge until the shard
//! is rerun to completion.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::per_file::FileDialogues;
use crate::chunk::Shard;
use crate::config::Config;
use crate::dialogue::{encode_dialogue, Stored};
use crate::error::{Error, Result};
use crate::fs::{ensure_dir, AtomicFile};
use crate::outdir::record::HashingWriter;
use crate::report::FailedFile;

const MAGIC: &[u8; 8] = b"SSPART1\n";
/// Header length, offsets position, magic.
const TRAILER: u64 = 24;

/// The files of the global order (of `n_files`) that shard `s` reads.
pub fn files_of(s: Shard, n_files: usize) -> Range<usize> {
    let at = |k: usize| k * n_files / s.count;
    at(s.index)..at(s.index + 1)
}

/// `parts/part-K-of-N.bin` under the output directory.
pub fn part_path(out: &Path, index: usize, count: usize) -> PathBuf {
    out.join("parts")
        .join(format!("part-{index}-of-{count}.bin"))
}

/// `parts/part-K-of-N.json`: the manifest recording the part of the same
/// stem.
pub fn manifest_path(out: &Path, index: usize, count: usize) -> PathBuf {
    out.join("parts")
        .join(format!("part-{index}-of-{count}.json"))
}

/// `(K, N)` of a `part-K-of-N.json` name, if it is one.
pub fn manifest_name_of(name: &str) -> Option<(usize, usize)> {
    k_of_n(name.strip_suffix(".json")?)
}

/// `(K, N)` of a `part-K-of-N.bin` name, if it is one.
pub fn part_name_of(name: &str) -> Option<(usize, usize)> {
    k_of_n(name.strip_suffix(".bin")?)
}

fn k_of_n(stem: &str) -> Option<(usize, usize)> {
    let (k, n) = stem.strip_prefix("part-")?.split_once("-of-")?;
    Some((k.parse().ok()?, n.parse().ok()?))
}

/// The part-manifest format this module writes.
pub const MANIFEST_VERSION: u32 = 1;

/// `parts/part-K-of-N.json`: what the shard wrote, so the merge can prove
/// the part's bytes are the ones written.
///
/// Its first key is its format version, as the stage-1 manifest's
/// `sheetsift_manifest` is, but under its own name: a part manifest is not
/// a stage-1 manifest (it lists no chunks), and stage 1's reader and
/// [`looks_like_manifest`](crate::outdir::record::looks_like_manifest)
/// must never take one for one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartManifest {
    /// Always [`MANIFEST_VERSION`]; first, so the file announces itself.
    pub sheetsift_part_manifest: u32,
    /// The part's file name, in this manifest's directory.
    pub part: String,
    /// The part's size in bytes.
    pub size: u64,
    /// Lower-case hex SHA-256 of the part's bytes.
    pub sha256: String,
    pub tool: String,
    pub run: PartRun,
    /// K and N of `--shard K/N`.
    pub shard: usize,
    pub shards: usize,
    pub first_file: usize,
    pub end_file: usize,
    pub dialogues: u64,
    pub rows_read: u64,
    pub rows_dropped_missing: u64,
    pub rows_dropped_duplicate: u64,
    pub messages_skipped: u64,
    pub files_failed: usize,
}

impl PartManifest {
    /// Read a part's manifest; the error says what is wrong in words.
    pub fn read(path: &Path) -> std::result::Result<PartManifest, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("not JSON: {e}"))?;
        match value
            .get("sheetsift_part_manifest")
            .and_then(|v| v.as_u64())
        {
            Some(v) if v == MANIFEST_VERSION as u64 => {
                serde_json::from_value(value).map_err(|e| e.to_string())
            }
            Some(v) => Err(format!(
                "part manifest format {v}, this sheetsift reads {MANIFEST_VERSION}"
            )),
            None => Err("not a sheetsift part manifest".into()),
        }
    }
}

/// What every part of one run agrees on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRun {
    /// The input list's fingerprint (as the stage-1 manifest computes it).
    pub fingerprint: String,
    /// Files in the global order.
    pub files: usize,
    /// N of `--shard K/N`.
    pub shards: usize,
    pub columns: [String; 4],
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    pub agent_value: String,
    /// `--session-gap` (time column, microseconds): every shard must split
    /// alike. Absent in parts written without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<(String, i64)>,
}

/// One file that failed in a shard, for the merge's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartFailed {
    #[serde(serialize_with = "crate::fs::path_text::serialize")]
    pub path: PathBuf,
    pub reason: String,
}

/// A part's header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartHeader {
    pub tool: String,
    pub run: PartRun,
    /// K of `--shard K/N`.
    pub shard: usize,
    /// The global file numbers this shard read.
    pub first_file: usize,
    pub end_file: usize,
    pub dialogues: u64,
    pub rows_read: u64,
    pub rows_dropped_missing: u64,
    pub rows_dropped_duplicate: u64,
    pub messages_skipped: u64,
    /// Dialogues of each of its files, in order (0 for a failed file).
    pub per_file: Vec<u64>,
    pub files_failed: Vec<PartFailed>,
    pub notes: Vec<String>,
}

/// The run description of this configuration over this file list.
pub fn part_run(cfg: &Config, files: &[PathBuf], shards: usize) -> PartRun {
    PartRun {
        fingerprint: crate::outdir::record::input_files(files)
            .map(|f| crate::outdir::record::inputs_fingerprint(&f))
            .unwrap_or_default(),
        files: files.len(),
        shards,
        columns: cfg.read.required.clone(),
        sheet: cfg.read.sheet.clone(),
        encoding: cfg.read.encoding.map(|e| e.name().to_string()),
        agent_value: cfg.agent_value.clone(),
        session: cfg.session_gap.map(|g| (cfg.time_col.clone(), g)),
    }
}

/// A part being written, one file's dialogues at a time.
pub struct PartWriter {
    file: AtomicFile,
    /// Hashes the bytes on their way to the file, in the buffer's 1 MiB
    /// blocks: the manifest's size and SHA-256 without reading a GB part
    /// back.
    w: BufWriter<HashingWriter<File>>,
    offsets: Vec<u64>,
    header: PartHeader,
    rec: Vec<u8>,
    /// The part's distributions, for its run's report (not stored in the
    /// part: the merge's report has none).
    lengths: crate::dialogue::Lengths,
}

impl PartWriter {
    pub fn create(out: &Path, run: PartRun, shard: usize, range: Range<usize>) -> Result<Self> {
        let dest = part_path(out, shard, run.shards);
        ensure_dir(dest.parent().expect("parts/ has a parent"))?;
        let file = AtomicFile::new(&dest)?;
        let f = file.try_clone()?;
        let mut w = BufWriter::with_capacity(1 << 20, HashingWriter::new(f));
        w.write_all(MAGIC)
            .map_err(|e| Error::io(file.tmp_path(), e))?;
        Ok(PartWriter {
            file,
            w,
            offsets: vec![MAGIC.len() as u64],
            header: PartHeader {
                tool: format!("sheetsift {}", env!("CARGO_PKG_VERSION")),
                run,
                shard,
                first_file: range.start,
                end_file: range.end,
                dialogues: 0,
                rows_read: 0,
                rows_dropped_missing: 0,
                rows_dropped_duplicate: 0,
                messages_skipped: 0,
                per_file: Vec::new(),
                files_failed: Vec::new(),
                notes: Vec::new(),
            },
            rec: Vec::new(),
            lengths: crate::dialogue::Lengths::default(),
        })
    }

    /// The next file's dialogues (`None`: the file failed).
    pub(super) fn file(&mut self, fd: Option<FileDialogues>) -> Result<()> {
        let Some(fd) = fd else {
            self.header.per_file.push(0);
            return Ok(());
        };
        let h = &mut self.header;
        h.rows_read += fd.rows_read;
        h.rows_dropped_missing += fd.dropped_missing;
        h.rows_dropped_duplicate += fd.dropped_duplicate;
        h.messages_skipped += fd.rendered.skipped;
        self.lengths.merge(&fd.rendered.lengths);
        h.per_file.push(fd.rendered.dialogues.len() as u64);
        h.dialogues += fd.rendered.dialogues.len() as u64;
        let mut end = *self.offsets.last().expect("starts with the magic's end");
        for d in &fd.rendered.dialogues {
            self.rec.clear();
            encode_dialogue(d, &mut self.rec);
            self.w
                .write_all(&self.rec)
                .map_err(|e| Error::io(self.file.tmp_path(), e))?;
            end += self.rec.len() as u64;
            self.offsets.push(end);
        }
        Ok(())
    }

    pub fn header(&self) -> &PartHeader {
        &self.header
    }

    pub fn lengths(&self) -> &crate::dialogue::Lengths {
        &self.lengths
    }

    /// Write the index and header, rename the part into place, then record
    /// it in its manifest. Returns the part's and the manifest's paths.
    pub fn finish(mut self, failed: &[FailedFile], notes: &[String]) -> Result<(PathBuf, PathBuf)> {
        self.header.files_failed = failed
            .iter()
            .map(|f| PartFailed {
                path: f.path.clone(),
                reason: f.reason.clone(),
            })
            .collect();
        self.header.notes = notes.to_vec();
        let tmp = self.file.tmp_path().to_path_buf();
        let io = |e| Error::io(&tmp, e);
        let offsets_at = *self.offsets.last().expect("never empty");
        for o in &self.offsets {
            self.w.write_all(&o.to_le_bytes()).map_err(io)?;
        }
        let json = serde_json::to_vec(&self.header).map_err(|source| Error::Json {
            path: tmp.clone(),
            source,
        })?;
        self.w.write_all(&json).map_err(io)?;
        self.w
            .write_all(&(json.len() as u64).to_le_bytes())
            .map_err(io)?;
        self.w.write_all(&offsets_at.to_le_bytes()).map_err(io)?;
        self.w.write_all(MAGIC).map_err(io)?;
        let (_, size, sha256) = self
            .w
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?
            .finish();
        let dest = self.file.dest().to_path_buf();
        self.file.commit()?;
        let h = self.header;
        let manifest = PartManifest {
            sheetsift_part_manifest: MANIFEST_VERSION,
            part: dest
                .file_name()
                .expect("part-K-of-N.bin")
                .to_string_lossy()
                .into_owned(),
            size,
            sha256,
            tool: h.tool,
            shards: h.run.shards,
            run: h.run,
            shard: h.shard,
            first_file: h.first_file,
            end_file: h.end_file,
            dialogues: h.dialogues,
            rows_read: h.rows_read,
            rows_dropped_missing: h.rows_dropped_missing,
            rows_dropped_duplicate: h.rows_dropped_duplicate,
            messages_skipped: h.messages_skipped,
            files_failed: h.files_failed.len(),
        };
        let mpath = dest.with_extension("json");
        let mfile = AtomicFile::new(&mpath)?;
        // A struct of strings, numbers and paths: serialising cannot fail.
        let json = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
        mfile.write_all(json.as_bytes())?;
        mfile.commit()?;
        Ok((dest, mpath))
    }
}

/// A part file opened for the merge: its header, and where its offsets are.
pub struct PartFile {
    pub path: PathBuf,
    pub header: PartHeader,
    file: File,
    offsets_at: u64,
}

fn foreign(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Part {
        path: path.to_path_buf(),
        msg: format!("not a sheetsift stage-2 part ({why})"),
    }
}

impl PartFile {
    /// Open a part and read its header (not its index).
    pub fn open(path: &Path) -> Result<PartFile> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len < MAGIC.len() as u64 + TRAILER {
            return Err(foreign(path, "too short"));
        }
        let mut head = [0u8; 8];
        let mut tail = [0u8; TRAILER as usize];
        file.read_exact_at(&mut head, 0)
            .map_err(|e| Error::io(path, e))?;
        file.read_exact_at(&mut tail, len - TRAILER)
            .map_err(|e| Error::io(path, e))?;
        if &head != MAGIC || &tail[16..] != MAGIC {
            return Err(foreign(path, "no part signature"));
        }
        let json_len = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let offsets_at = u64::from_le_bytes(tail[8..16].try_into().expect("8 bytes"));
        let json_at = (len - TRAILER)
            .checked_sub(json_len)
            .ok_or_else(|| foreign(path, "bad header length"))?;
        let mut json = vec![0u8; json_len as usize];
        file.read_exact_at(&mut json, json_at)
            .map_err(|e| Error::io(path, e))?;
        let header: PartHeader = serde_json::from_slice(&json).map_err(|e| foreign(path, e))?;
        if offsets_at + 8 * (header.dialogues + 1) != json_at {
            return Err(foreign(path, "index and header disagree"));
        }
        Ok(PartFile {
            path: path.to_path_buf(),
            header,
            file,
            offsets_at,
        })
    }

    /// Size and SHA-256 of the part, through the handle the merge will
    /// read the records by: a part renamed over after this check is not
    /// the one read (an in-place rewrite still would be; nothing short of
    /// hashing every record as it is copied closes that).
    pub fn digest(&self) -> Result<(u64, String)> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0u64;
        loop {
            // A GB part takes a second or so: a signal stops it between
            // blocks, as the stages stop between rows.
            crate::interrupt::check()?;
            let n = match self.file.read_at(&mut buf, at) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            };
            hasher.update(&buf[..n]);
            at += n as u64;
        }
        Ok((at, crate::outdir::record::hex(&hasher.finalize())))
    }

    /// The part's size now, through its open handle.
    pub fn size(&self) -> Result<u64> {
        Ok(self
            .file
            .metadata()
            .map_err(|e| Error::io(&self.path, e))?
            .len())
    }

    /// Read the record index (8 bytes a dialogue) and hand the part over
    /// as stored records for the merge's corpus.
    pub fn into_stored(self) -> Result<Stored> {
        let n = self.header.dialogues as usize + 1;
        let mut raw = vec![0u8; 8 * n];
        self.file
            .read_exact_at(&mut raw, self.offsets_at)
            .map_err(|e| Error::io(&self.path, e))?;
        let offsets: Vec<u64> = raw
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        let sane = offsets.first() == Some(&(MAGIC.len() as u64))
            && offsets.last() == Some(&self.offsets_at)
            && offsets.windows(2).all(|w| w[0] <= w[1]);
        if !sane {
            return Err(foreign(&self.path, "corrupt record index"));
        }
        Ok(Stored {
            file: self.file,
            path: self.path,
            offsets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_names_round_trip() {
        let m = manifest_path(Path::new("o"), 3, 8);
        assert_eq!(m, Path::new("o/parts/part-3-of-8.json"));
        assert_eq!(
            m.with_extension("bin"),
            part_path(Path::new("o"), 3, 8),
            "a part and its manifest share a stem"
        );
        assert_eq!(manifest_name_of("part-3-of-8.json"), Some((3, 8)));
        assert_eq!(manifest_name_of("part-3-of-8.bin"), None);
        assert_eq!(manifest_name_of("manifest.json"), None);
        assert_eq!(part_name_of("part-3-of-8.bin"), Some((3, 8)));
        assert_eq!(part_name_of("part-x-of-8.bin"), None);
    }

    #[test]
    fn a_part_manifest_is_not_a_stage1_manifest() {
        let json = r#"{"sheetsift_part_manifest": 1, "part": "x"}"#;
        assert!(!crate::outdir::record::looks_like_manifest(json.as_bytes()));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.json");
        std::fs::write(&p, r#"{"sheetsift_part_manifest": 9}"#).unwrap();
        let e = PartManifest::read(&p).unwrap_err();
        assert!(e.contains("format 9"), "{e}");
        std::fs::write(&p, r#"{"sheetsift_manifest": 2}"#).unwrap();
        let e = PartManifest::read(&p).unwrap_err();
        assert!(e.contains("not a sheetsift part manifest"), "{e}");
    }

    #[test]
    fn shards_tile_the_file_order() {
        for n_files in 0..20 {
            for count in 1..7 {
                let mut next = 0;
                for index in 0..count {
                    let r = files_of(Shard { index, count }, n_files);
                    assert_eq!(r.start, next);
                    next = r.end;
                }
                assert_eq!(next, n_files);
            }
        }
    }
}
