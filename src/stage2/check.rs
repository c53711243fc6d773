//! `dialogues` reads only directories it can trust. Each input directory
//! that holds a sheetsift manifest is checked against it
//! ([`crate::outdir::validate`]): chunk files no manifest lists, manifests
//! of incompatible runs, a missing shard, a chunk missing or changed since
//! it was written are refused (exit 2, every problem named, nothing
//! read). A chunk file named explicitly is checked against its own record
//! only. Inputs with no manifest are raw exports: `dialogues` does not
//! filter system messages, so it warns and points to `run`.
//! `--ignore-manifests` skips the checks, and says so.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::outdir::validate::{self, RealDisk};
use crate::outdir::{exclude, preflight};

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Check the discovered `files` of `cfg.inputs`. Returns the lines to
/// print and keep as notes (warnings included); a refusal is
/// `Error::Usage` naming every problem.
pub fn check_inputs(cfg: &Config, files: &[PathBuf]) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    // Directories to judge: the inputs that are directories, and every
    // directory a discovered file sits in.
    let mut dirs: BTreeSet<PathBuf> = cfg.inputs.iter().filter(|p| p.is_dir()).cloned().collect();
    let named: BTreeSet<&PathBuf> = cfg.inputs.iter().filter(|p| !p.is_dir()).collect();
    let mut named_in_run: Vec<&PathBuf> = Vec::new();
    for f in files {
        if named.contains(f) {
            named_in_run.push(f);
        } else {
            dirs.insert(parent_of(f));
        }
    }
    let mut raw: Vec<PathBuf> = Vec::new();
    let mut refusals: Vec<String> = Vec::new();
    let mut run_dirs: Vec<PathBuf> = Vec::new();
    for d in &dirs {
        if !exclude::holds_manifest(d) {
            continue;
        }
        run_dirs.push(d.clone());
        if cfg.ignore_manifests {
            continue;
        }
        match validate::check_dir(d).map_err(|e| Error::io(d, e))? {
            Ok(v) => notes.extend(v.notes),
            Err(refusal) => refusals.push(refusal.to_string()),
        }
    }
    for f in named_in_run {
        let d = parent_of(f);
        if !exclude::holds_manifest(&d) {
            raw.push(f.clone());
            continue;
        }
        if cfg.ignore_manifests {
            run_dirs.push(d);
            continue;
        }
        let listing = validate::scan(&d).map_err(|e| Error::io(&d, e))?;
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Err(refusal) = validate::validate_file(&listing, &name, &mut RealDisk { dir: d }) {
            refusals.push(refusal.to_string());
        }
    }
    if !refusals.is_empty() {
        return Err(Error::Usage(refusals.join("\n")));
    }
    // Raw exports: an input directory none of whose files sits in a
    // directory holding a manifest.
    for input in cfg.inputs.iter().filter(|p| p.is_dir()) {
        let under_run = files
            .iter()
            .filter(|f| f.starts_with(input))
            .any(|f| run_dirs.contains(&parent_of(f)));
        if !under_run {
            raw.push(input.clone());
        }
    }
    if cfg.ignore_manifests {
        run_dirs.sort();
        run_dirs.dedup();
        for d in &run_dirs {
            notes.push(format!(
                "warning: --ignore-manifests: {} is read as it is, without checking it against its manifests",
                d.display()
            ));
        }
    }
    if !raw.is_empty() {
        notes.push(preflight::raw_inputs_warning(&raw));
    }
    Ok(notes)
}
