//! `--resume` is exact, and a rerun replaces its own previous run.
//!
//! [`decide`] skips a chunk only when some record (the previous manifest
//! of this selection, its journal, or another manifest in the directory)
//! was made from today's fingerprint for today's output name, and the file
//! there is a regular file with the recorded size and SHA-256. A truncated,
//! emptied or replaced output, a changed input list, another mtime, other
//! options, another sheetsift version: redone.
//!
//! [`stale_outputs`] is what a finished run removes: outputs its previous
//! run of the same selection recorded, that this run did not write again
//! and no other manifest lists, and that are still exactly what was
//! recorded (anything else is left alone, and `dialogues` will name it).

use std::collections::HashSet;
use std::path::Path;

use super::record::ChunkRecord;
use super::validate::Disk;

/// What to do with one chunk of the selection.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// The output is verified: keep it, and carry this record over.
    Skip(ChunkRecord),
    /// Write it (again), and why (for the report's notes when verbose).
    Redo(&'static str),
}

/// Decide one chunk: `output` is its file name in the directory `disk`
/// reads, `fingerprint` today's [`super::record::chunk_fingerprint`].
pub fn decide(
    output: &str,
    fingerprint: &str,
    candidates: &[ChunkRecord],
    disk: &mut impl Disk,
) -> Decision {
    let matching: Vec<&ChunkRecord> = candidates
        .iter()
        .filter(|c| c.is_written() && c.output.as_deref() == Some(output))
        .collect();
    if matching.is_empty() {
        return Decision::Redo("no record of it");
    }
    let same_inputs: Vec<&&ChunkRecord> = matching
        .iter()
        .filter(|c| c.fingerprint == fingerprint)
        .collect();
    if same_inputs.is_empty() {
        return Decision::Redo("its inputs or options changed");
    }
    let Some(facts) = disk.stat(Path::new(output)) else {
        return Decision::Redo("missing");
    };
    if !facts.regular {
        return Decision::Redo("not a regular file");
    }
    let sized: Vec<&&&ChunkRecord> = same_inputs
        .iter()
        .filter(|c| c.size == Some(facts.size))
        .collect();
    if sized.is_empty() {
        return Decision::Redo("its size differs from the record");
    }
    let Ok(hash) = disk.sha256(Path::new(output)) else {
        return Decision::Redo("unreadable");
    };
    match sized
        .iter()
        .find(|c| c.sha256.as_deref() == Some(hash.as_str()))
    {
        Some(c) => Decision::Skip((***c).clone()),
        None => Decision::Redo("its content differs from the record"),
    }
}

/// Outputs of `previous` (this selection's last manifest and journal) to
/// remove once this run is complete.
pub fn stale_outputs(
    previous: &[ChunkRecord],
    written_now: &HashSet<String>,
    listed_elsewhere: &HashSet<String>,
    disk: &mut impl Disk,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in previous.iter().filter(|c| c.is_written()) {
        let name = c.output.clone().unwrap_or_default();
        if written_now.contains(&name) || listed_elsewhere.contains(&name) || out.contains(&name) {
            continue;
        }
        let unchanged = disk
            .stat(Path::new(&name))
            .is_some_and(|f| f.regular && Some(f.size) == c.size)
            && disk
                .sha256(Path::new(&name))
                .is_ok_and(|h| Some(&h) == c.sha256.as_ref());
        if unchanged {
            out.push(name);
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outdir::validate::Mem;

    fn rec(out: &str, fp: &str, size: u64, sha: &str) -> ChunkRecord {
        ChunkRecord {
            index: 0,
            first_file: 0,
            last_file: 1,
            status: "written".into(),
            output: Some(out.into()),
            rows: 1,
            size: Some(size),
            sha256: Some(sha.into()),
            fingerprint: fp.into(),
        }
    }

    #[test]
    fn only_a_verified_output_of_todays_inputs_is_skipped() {
        let out = "clean_data_0_1.xlsx";
        let mut disk = Mem::default();
        disk.0.insert(out.into(), (10, "h".into(), true));
        let good = rec(out, "F", 10, "h");
        assert_eq!(
            decide(out, "F", std::slice::from_ref(&good), &mut disk),
            Decision::Skip(good.clone())
        );
        // An older record first, today's second: today's is found.
        let old = rec(out, "OLD", 10, "h");
        assert_eq!(
            decide(out, "F", &[old.clone(), good.clone()], &mut disk),
            Decision::Skip(good.clone())
        );
        assert_eq!(
            decide(out, "F", &[old], &mut disk),
            Decision::Redo("its inputs or options changed")
        );
        assert_eq!(
            decide(out, "F", &[], &mut disk),
            Decision::Redo("no record of it")
        );
        assert_eq!(
            decide(out, "F", &[rec("other.xlsx", "F", 10, "h")], &mut disk),
            Decision::Redo("no record of it")
        );
        // Emptied, truncated, replaced, a link, gone.
        for (facts, why) in [
            (
                (0, "e".to_string(), true),
                "its size differs from the record",
            ),
            (
                (5, "t".to_string(), true),
                "its size differs from the record",
            ),
            (
                (10, "x".to_string(), true),
                "its content differs from the record",
            ),
            ((10, "h".to_string(), false), "not a regular file"),
        ] {
            disk.0.insert(out.into(), facts);
            assert_eq!(
                decide(out, "F", std::slice::from_ref(&good), &mut disk),
                Decision::Redo(why)
            );
        }
        disk.0.remove(out);
        assert_eq!(
            decide(out, "F", std::slice::from_ref(&good), &mut disk),
            Decision::Redo("missing")
        );
        // A record of a chunk that was not written is no record.
        let mut failed = good.clone();
        failed.status = "failed".into();
        assert_eq!(
            decide(out, "F", &[failed], &mut disk),
            Decision::Redo("no record of it")
        );
    }

    #[test]
    fn stale_outputs_are_the_previous_runs_own_unchanged_files() {
        let mut disk = Mem::default();
        disk.0
            .insert("clean_data_0_5.xlsx".into(), (10, "a".into(), true));
        disk.0
            .insert("clean_data_6_6.xlsx".into(), (10, "edited".into(), true));
        disk.0
            .insert("clean_data_0_1.xlsx".into(), (10, "c".into(), true));
        disk.0
            .insert("clean_data_7_7.xlsx".into(), (10, "d".into(), true));
        let previous = [
            rec("clean_data_0_5.xlsx", "F", 10, "a"), // replaced by 0_1..: stale
            rec("clean_data_6_6.xlsx", "F", 10, "b"), // edited since: kept
            rec("clean_data_0_1.xlsx", "F", 10, "c"), // written again now
            rec("clean_data_7_7.xlsx", "F", 10, "d"), // another shard lists it
            rec("clean_data_9_9.xlsx", "F", 10, "e"), // already gone
        ];
        let now: HashSet<String> = ["clean_data_0_1.xlsx".to_string()].into();
        let elsewhere: HashSet<String> = ["clean_data_7_7.xlsx".to_string()].into();
        assert_eq!(
            stale_outputs(&previous, &now, &elsewhere, &mut disk),
            ["clean_data_0_5.xlsx"]
        );
    }
}
