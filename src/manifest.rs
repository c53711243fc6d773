//! The run manifest: what an `extract` wrote into its output directory, and
//! with which options, so a directory can be understood later and so that
//! `dialogues` can refuse a directory that mixes outputs of incompatible
//! runs (other chunk size, other columns, other input list...).
//!
//! One file per selection, so that shards running at the same time into
//! one shared directory never write the same file: `manifest.json` for a
//! whole run, `manifest.shard-K-of-N.json`, `manifest.chunks-A-B.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::report::{ChunkReport, ChunkStatus};

/// The options that shape stage-1 output: two runs agree on them or their
/// outputs must not be mixed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputOptions {
    pub chunk_size: usize,
    pub prefix: String,
    pub format: String,
    pub columns: [String; 4],
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    #[serde(rename = "match")]
    pub match_mode: String,
    pub system_messages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputFile {
    pub path: PathBuf,
    pub size: u64,
    /// Seconds since the epoch.
    pub mtime: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inputs {
    pub count: usize,
    /// FNV-1a 64 of every (path, size) in the global order: shards of one
    /// run see the same file list, so the same fingerprint.
    pub fingerprint: String,
    pub files: Vec<InputFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestChunk {
    pub index: usize,
    pub first_file: usize,
    pub last_file: usize,
    pub status: ChunkStatus,
    /// File name in this directory.
    pub output: Option<String>,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub chunks_selected: Option<String>,
    pub shard: Option<String>,
    pub options: OutputOptions,
    pub inputs: Inputs,
    pub chunks: Vec<ManifestChunk>,
}

/// The manifest file name for a run's selection.
pub fn file_name(cfg: &Config) -> String {
    let mut name = String::from("manifest");
    if let Some(r) = cfg.chunk_range {
        name.push_str(&format!(
            ".chunks-{}-{}",
            r.start,
            r.end.map_or("end".to_string(), |e| e.to_string())
        ));
    }
    if let Some(s) = cfg.shard {
        name.push_str(&format!(".shard-{}-of-{}", s.index, s.count));
    }
    name + ".json"
}

pub fn output_options(cfg: &Config) -> OutputOptions {
    OutputOptions {
        chunk_size: cfg.chunk_size,
        prefix: cfg.prefix.clone(),
        format: cfg.table_format.extension().to_string(),
        columns: cfg.read.required.clone(),
        sheet: cfg.read.sheet.clone(),
        encoding: cfg.read.encoding.map(|e| e.name().to_string()),
        match_mode: format!("{:?}", cfg.filter.mode()).to_lowercase(),
        system_messages: cfg.filter.phrases().to_vec(),
    }
}

/// Describe the global input list.
pub fn inputs(files: &[PathBuf]) -> Inputs {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut list = Vec::with_capacity(files.len());
    for p in files {
        let meta = std::fs::metadata(p).ok();
        let size = meta.as_ref().map_or(0, |m| m.len());
        let mtime = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        for b in p
            .as_os_str()
            .as_encoded_bytes()
            .iter()
            .chain(&[0])
            .chain(size.to_le_bytes().iter())
        {
            h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        list.push(InputFile {
            path: p.clone(),
            size,
            mtime,
        });
    }
    Inputs {
        count: files.len(),
        fingerprint: format!("{h:016x}"),
        files: list,
    }
}

/// Write `dir/NAME` atomically. Chunks this run skipped (`--resume`) keep
/// the entries a previous manifest of the same name recorded for them.
pub fn write(
    dir: &Path,
    cfg: &Config,
    files: &[PathBuf],
    chunks: &[ChunkReport],
) -> Result<PathBuf> {
    let path = dir.join(file_name(cfg));
    let previous: Option<Manifest> = read(&path).ok();
    let entries = chunks
        .iter()
        .map(|c| {
            let kept = previous
                .as_ref()
                .filter(|_| c.status == ChunkStatus::Skipped)
                .and_then(|m| m.chunks.iter().find(|p| p.index == c.index).cloned());
            kept.unwrap_or_else(|| ManifestChunk {
                index: c.index,
                first_file: c.first_file,
                last_file: c.last_file,
                status: c.status,
                output: c
                    .output
                    .as_ref()
                    .and_then(|o| o.file_name())
                    .map(|n| n.to_string_lossy().into_owned()),
                rows: c.rows,
            })
        })
        .collect();
    let m = Manifest {
        tool: format!("sheetsift {}", env!("CARGO_PKG_VERSION")),
        chunks_selected: cfg.chunk_range.map(|r| {
            format!(
                "{}..{}",
                r.start,
                r.end.map_or(String::new(), |e| e.to_string())
            )
        }),
        shard: cfg.shard.map(|s| format!("{}/{}", s.index, s.count)),
        options: output_options(cfg),
        inputs: inputs(files),
        chunks: entries,
    };
    let json = serde_json::to_string_pretty(&m).map_err(|source| Error::Json {
        path: path.clone(),
        source,
    })?;
    let af = crate::fs::AtomicFile::new(&path);
    std::fs::write(af.tmp_path(), json + "\n").map_err(|e| Error::io(af.tmp_path(), e))?;
    af.commit()?;
    Ok(path)
}

pub fn read(path: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::Manifest {
        path: path.to_path_buf(),
        msg: format!("not a sheetsift manifest: {e}"),
    })
}

/// The manifests at the top of a directory.
pub fn find(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("manifest") && n.ends_with(".json"))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Refuse directories whose manifests disagree on what shapes the output.
pub fn check_compatible(dirs: &[PathBuf]) -> Result<()> {
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let manifests: Vec<(PathBuf, Manifest)> = find(dir)
            .into_iter()
            .map(|p| read(&p).map(|m| (p, m)))
            .collect::<Result<_>>()?;
        let Some((first_path, first)) = manifests.first() else {
            continue;
        };
        for (path, m) in &manifests[1..] {
            let differs = if m.options != first.options {
                Some(describe_difference(&first.options, &m.options))
            } else if m.inputs.fingerprint != first.inputs.fingerprint {
                Some(format!(
                    "input lists differ ({} files vs {})",
                    first.inputs.count, m.inputs.count
                ))
            } else {
                None
            };
            if let Some(what) = differs {
                return Err(Error::MixedRuns {
                    dir: dir.to_path_buf(),
                    detail: format!(
                        "{} and {}: {what}",
                        first_path.file_name().unwrap_or_default().to_string_lossy(),
                        path.file_name().unwrap_or_default().to_string_lossy(),
                    ),
                });
            }
        }
    }
    Ok(())
}

fn describe_difference(a: &OutputOptions, b: &OutputOptions) -> String {
    let va = serde_json::to_value(a).unwrap_or_default();
    let vb = serde_json::to_value(b).unwrap_or_default();
    if let (Some(ma), Some(mb)) = (va.as_object(), vb.as_object()) {
        for (k, x) in ma {
            if mb.get(k) != Some(x) {
                return format!("{k} {} vs {}", x, mb.get(k).cloned().unwrap_or_default());
            }
        }
    }
    "options differ".into()
}
