//! The run manifest's names and options: what an `extract` wrote into its
//! output directory, and with which options. The records themselves
//! (format 2: sizes, hashes, fingerprints) are [`crate::outdir::record`];
//! the first format's structs stay here so an old manifest is recognised
//! (and refused by `dialogues`, having no hashes to check).
//!
//! One file per selection, so that shards running at the same time into
//! one shared directory never write the same file: `manifest.json` for a
//! whole run, `manifest.shard-K-of-N.json`, `manifest.chunks-A-B.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chunk::ChunkStatus;
use crate::config::Config;

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
