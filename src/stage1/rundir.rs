//! One run's hold on its output directory (`extract -o`, `run
//! --keep-clean`): the selection's lock, the records `--resume` may skip
//! on, the journal of finished chunks, and at the end the manifest v2 and
//! the removal of the previous run's outputs this run replaced.
//!
//! Order at the end, idempotent under SIGKILL: stale outputs removed, then
//! the manifest written (through a safe temporary), then the journal
//! removed. Killed before the manifest, the old manifest and the journal
//! still describe everything and a rerun recomputes the same.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::plan::{tool, Plan};
use super::Output;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fs::{chunk_output, ensure_dir, AtomicFile};
use crate::manifest;
use crate::outdir::record::{self, AnyManifest, ChunkRecord, Manifest, OutputOptions};
use crate::outdir::resume::{self, Decision};
use crate::outdir::validate::RealDisk;
use crate::outdir::{journal, lock, temp};
use crate::report::{ChunkReport, ChunkStatus};

/// The stable word of a status, as the manifest records it.
fn status_word(s: ChunkStatus) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Appends a finished chunk's record to the journal (cheap to clone, for
/// the writer thread).
#[derive(Clone)]
pub struct JournalWriter {
    path: PathBuf,
    templates: Arc<HashMap<usize, ChunkRecord>>,
}

impl JournalWriter {
    /// Chunk `index` is renamed into place with these contents.
    pub fn written(&self, index: usize, out: &Output) -> Result<()> {
        let Some(t) = self.templates.get(&index) else {
            return Ok(());
        };
        let mut r = t.clone();
        r.rows = out.rows;
        r.size = Some(out.size);
        r.sha256 = Some(out.sha256.clone());
        journal::append(&self.path, &r).map_err(|e| Error::io(&self.path, e))
    }
}

/// A locked output directory for one selection.
pub struct RunDir {
    dir: PathBuf,
    manifest_path: PathBuf,
    journal: JournalWriter,
    _lock: lock::SelectionLock,
    /// This selection's previous records (its manifest and journal).
    previous: Vec<ChunkRecord>,
    /// Every record in the directory (all manifests and journals).
    candidates: Vec<ChunkRecord>,
    /// Outputs the other selections' manifests and journals list.
    listed_elsewhere: HashSet<String>,
    options: OutputOptions,
}

fn records_of(path: &Path) -> Vec<ChunkRecord> {
    match record::read(path) {
        Ok(AnyManifest::V2(m)) => m.chunks,
        _ => Vec::new(),
    }
}

impl RunDir {
    /// Create `dir`, take the selection's lock, remove a killed run's
    /// temporaries of this selection, and read what is recorded there.
    pub fn open(cfg: &Config, dir: &Path, plan: &Plan) -> Result<RunDir> {
        ensure_dir(dir)?;
        let name = manifest::file_name(cfg);
        let held = lock::try_lock(dir, &name).map_err(|e| match e {
            lock::LockError::Busy { .. } => Error::Busy(e.to_string()),
            lock::LockError::Io { .. } => Error::output(dir, e.to_string()),
        })?;
        let options = manifest::output_options(cfg);
        let mut templates = HashMap::new();
        let mut names = vec![name.clone()];
        for c in &plan.selected {
            let out = chunk_output(dir, c, &cfg.prefix, cfg.table_format);
            let file = out
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            names.push(file.clone());
            templates.insert(
                c.index,
                ChunkRecord {
                    index: c.index,
                    first_file: c.first(),
                    last_file: c.last(),
                    status: status_word(ChunkStatus::Written),
                    output: Some(file),
                    rows: 0,
                    size: None,
                    sha256: None,
                    fingerprint: plan.fingerprint(&options, cfg.compression_level, c),
                },
            );
        }
        temp::remove_stale(dir, &names).map_err(|e| Error::io(dir, e))?;
        let manifest_path = dir.join(&name);
        let journal_path = journal::path_for(&manifest_path);
        let mut previous = records_of(&manifest_path);
        previous.extend(journal::read(&journal_path).unwrap_or_default());
        let mut candidates = previous.clone();
        let mut listed_elsewhere = HashSet::new();
        for m in manifest::find(dir) {
            if m == manifest_path {
                continue;
            }
            let recs = records_of(&m);
            listed_elsewhere.extend(recs.iter().filter_map(|r| r.output.clone()));
            candidates.extend(recs);
        }
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                let n = e.file_name().to_string_lossy().into_owned();
                if journal::is_journal_name(&n) && p != journal_path {
                    let recs = journal::read(&p).unwrap_or_default();
                    listed_elsewhere.extend(recs.iter().filter_map(|r| r.output.clone()));
                    candidates.extend(recs);
                }
            }
        }
        Ok(RunDir {
            dir: dir.to_path_buf(),
            manifest_path,
            journal: JournalWriter {
                path: journal_path,
                templates: Arc::new(templates),
            },
            _lock: held,
            previous,
            candidates,
            listed_elsewhere,
            options,
        })
    }

    /// `--resume`: the selected chunks whose outputs are verified, with
    /// the records carried into the new manifest.
    pub fn verified(&self) -> HashMap<usize, ChunkRecord> {
        let mut disk = RealDisk {
            dir: self.dir.clone(),
        };
        let mut out = HashMap::new();
        for t in self.journal.templates.values() {
            let name = t.output.clone().unwrap_or_default();
            if let Decision::Skip(r) =
                resume::decide(&name, &t.fingerprint, &self.candidates, &mut disk)
            {
                out.insert(t.index, r);
            }
        }
        out
    }

    pub fn journal(&self) -> JournalWriter {
        self.journal.clone()
    }

    /// The run is complete: remove what it replaced, write the manifest,
    /// remove the journal. Returns the notes to print.
    pub fn finish(
        self,
        cfg: &Config,
        plan: &Plan,
        chunks: &[ChunkReport],
        written: &HashMap<usize, Output>,
        skipped: &HashMap<usize, ChunkRecord>,
    ) -> Result<Vec<String>> {
        let mut records = Vec::new();
        for c in chunks {
            let Some(t) = self.journal.templates.get(&c.index) else {
                continue;
            };
            let r = match (c.status, written.get(&c.index), skipped.get(&c.index)) {
                (ChunkStatus::Written, Some(o), _) => ChunkRecord {
                    rows: o.rows,
                    size: Some(o.size),
                    sha256: Some(o.sha256.clone()),
                    ..t.clone()
                },
                (ChunkStatus::Skipped, _, Some(r)) => r.clone(),
                (status, _, _) => ChunkRecord {
                    status: status_word(status),
                    output: None,
                    ..t.clone()
                },
            };
            records.push(r);
        }
        let written_now: HashSet<String> =
            records.iter().filter_map(|r| r.output.clone()).collect();
        let mut disk = RealDisk {
            dir: self.dir.clone(),
        };
        let stale = resume::stale_outputs(
            &self.previous,
            &written_now,
            &self.listed_elsewhere,
            &mut disk,
        );
        let mut notes = Vec::new();
        let mut removed = Vec::new();
        for name in &stale {
            let p = self.dir.join(name);
            match std::fs::remove_file(&p) {
                Ok(()) => removed.push(name.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&p, e)),
            }
        }
        if !removed.is_empty() {
            notes.push(format!(
                "removed {} output{} of the previous run of this selection that this run does not write: {}",
                removed.len(),
                if removed.len() == 1 { "" } else { "s" },
                removed.join(", ")
            ));
        }
        let m = Manifest {
            sheetsift_manifest: record::VERSION,
            tool: tool(),
            chunks_selected: cfg.chunk_range.map(|r| {
                format!(
                    "{}..{}",
                    r.start,
                    r.end.map_or(String::new(), |e| e.to_string())
                )
            }),
            shard: cfg.shard.map(|s| format!("{}/{}", s.index, s.count)),
            options: self.options.clone(),
            compression_level: cfg.compression_level,
            chunk_count: plan.chunk_count,
            inputs: record::inputs(plan.inputs.clone()),
            chunks: records,
        };
        let af = AtomicFile::new(&self.manifest_path)?;
        let json = record::to_json(&m).map_err(|source| Error::Json {
            path: self.manifest_path.clone(),
            source,
        })?;
        af.write_all(json.as_bytes())?;
        af.commit()?;
        journal::remove(&self.journal.path).map_err(|e| Error::io(&self.journal.path, e))?;
        Ok(notes)
    }
}
