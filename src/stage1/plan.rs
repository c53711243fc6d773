//! A stage-1 run planned before anything is created: the inputs checked,
//! discovered and freed of sheetsift's own outputs, fingerprinted, cut into
//! chunks and the selection made. Every error a user can fix (an input
//! missing, nothing found, a `--chunks` range that selects nothing, `-o`
//! a file) is raised here, before any directory is created or any file
//! read, so a failed run leaves nothing behind.

use std::path::PathBuf;

use crate::chunk::{self, Chunk};
use crate::config::Config;
use crate::discover::discover;
use crate::error::{Error, Result};
use crate::outdir::record::{self, InputFile, OutputOptions};
use crate::outdir::{exclude, preflight};

/// What a stage-1 run will do.
pub struct Plan {
    /// The input files in the global order (outputs excluded).
    pub files: Vec<PathBuf>,
    /// Directories that could not be listed: reported as failed inputs.
    pub unlisted: Vec<crate::error::FileError>,
    /// Their size and modification time (the fingerprint's material).
    pub inputs: Vec<InputFile>,
    /// Chunks of the whole input list.
    pub chunk_count: usize,
    /// The chunks this run's selection holds.
    pub selected: Vec<Chunk>,
    /// Lines to print and keep in the report's notes (the excluded
    /// outputs, an idle shard).
    pub notes: Vec<String>,
}

/// The tool string every record carries.
pub fn tool() -> String {
    format!("sheetsift {}", env!("CARGO_PKG_VERSION"))
}

impl Plan {
    /// Plan a run whose chunk outputs go to `own_dirs` (`-o` of
    /// `extract`, `--keep-clean` of `run`).
    pub fn new(cfg: &Config, own_dirs: &[PathBuf]) -> Result<Plan> {
        preflight::check_inputs_exist(&cfg.inputs).map_err(Error::Usage)?;
        // `-o` a file stays an output error (exit 1), raised up front.
        for d in std::iter::once(&cfg.out).chain(own_dirs) {
            if preflight::check_out_dir(d).is_err() {
                return Err(Error::output(
                    d,
                    "output path exists and is not a directory",
                ));
            }
        }
        let found = discover(&cfg.inputs)?;
        let (files, excluded) = exclude::split_outputs(found.files, own_dirs, &cfg.prefix);
        let mut notes: Vec<String> = excluded.note().into_iter().collect();
        if files.is_empty() {
            let mut msg = preflight::nothing_found(&cfg.inputs);
            for e in &found.unlisted {
                msg.push_str(&format!("\n{e}"));
            }
            return Err(Error::Usage(msg));
        }
        let inputs = record::input_files(&files).map_err(|e| Error::Usage(e.to_string()))?;
        let all = chunk::chunks(files.len(), cfg.chunk_size);
        let chunk_count = all.len();
        let selected: Vec<Chunk> = all
            .into_iter()
            .filter(|c| chunk::selected(c.index, cfg.chunk_range, cfg.shard))
            .collect();
        if selected.is_empty() {
            if let Some(r) = cfg.chunk_range {
                let flag = format!(
                    "--chunks {}..{}",
                    r.start,
                    r.end.map_or(String::new(), |e| e.to_string())
                );
                return Err(Error::Usage(preflight::nothing_selected(
                    &flag,
                    files.len(),
                    cfg.chunk_size,
                    chunk_count,
                )));
            }
            // A shard with no chunk of its own is idle, not wrong: an
            // Indexed Job of N pods over a varying input must not fail them.
            if let Some(s) = cfg.shard {
                notes.push(format!(
                    "--shard {}/{} has no chunk: the {} input files make {chunk_count} chunk(s); nothing to do",
                    s.index,
                    s.count,
                    files.len()
                ));
            }
        }
        Ok(Plan {
            files,
            unlisted: found.unlisted,
            inputs,
            chunk_count,
            selected,
            notes,
        })
    }

    /// Today's fingerprint of a chunk's output.
    pub fn fingerprint(&self, options: &OutputOptions, compression: u8, c: &Chunk) -> String {
        record::chunk_fingerprint(
            &tool(),
            options,
            compression,
            c.first(),
            c.last(),
            &self.inputs[c.files.clone()],
        )
    }
}
