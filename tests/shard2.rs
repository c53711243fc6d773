//! Stage 2 sharded: `dialogues --shard K/N` (as separate processes into one
//! shared directory, the index given or taken from the engine's variable)
//! then `merge` writes, byte for byte, the corpus of one `dialogues` run,
//! txt and jsonl; a missing part and a part of another run are refused,
//! named, with exit code 2. Each part is recorded in its manifest
//! (`parts/part-K-of-N.json`: size, SHA-256, run), and a part the manifest
//! does not vouch for (none, bytes changed, truncated, manifest of another
//! run) is refused by name, with the shard to rerun, before any corpus
//! byte is written.

mod common;
use common::*;

const SETS: [&str; 6] = [
    "std/train.txt",
    "std/val.txt",
    "mmi/train.txt",
    "mmi/val.txt",
    "jsonl/train.jsonl",
    "jsonl/val.jsonl",
];

/// Generated samples extracted in small chunks (7 chunk files: ranges of
/// uneven length for N = 2 and 3), and one unsharded `dialogues` of them.
fn prepared() -> Dir {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "raw", "--files", "7", "--rows", "400", "--seed", "3", "-q",
    ])
    .expect_code(0);
    d.cmd(&["extract", "raw", "-o", "clean", "--chunk-size", "1", "-q"])
        .expect_code(0);
    d.cmd(&[
        "dialogues",
        "clean",
        "-o",
        "one",
        "--val-size",
        "0.2",
        "--format",
        "txt,jsonl",
        "-q",
    ])
    .expect_code(0);
    d
}

/// Run N shards at once into `out`; `auto` takes K from `var`.
fn shards(d: &Dir, out: &str, n: usize, auto: Option<&str>) {
    let children: Vec<_> = (0..n)
        .map(|k| {
            let spec = match auto {
                Some(_) => format!("auto/{n}"),
                None => format!("{k}/{n}"),
            };
            let mut c = d.cmd(&["dialogues", "clean", "-o", out, "--shard", &spec, "-q"]);
            if let Some(var) = auto {
                c = c.env(var, &k.to_string());
            }
            c.spawn()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// The manifest of part K of N names it and holds its true size, SHA-256,
/// K, N and the run.
fn assert_manifest_records_its_part(d: &Dir, out: &str, k: usize, n: usize) {
    use sha2::{Digest, Sha256};
    let bin = std::fs::read(d.join(&format!("{out}/parts/part-{k}-of-{n}.bin"))).unwrap();
    let text =
        std::fs::read_to_string(d.join(&format!("{out}/parts/part-{k}-of-{n}.json"))).unwrap();
    assert!(
        text.trim_start()
            .starts_with("{\n  \"sheetsift_part_manifest\": 1,"),
        "the format version comes first: {text}"
    );
    let m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sha: String = Sha256::digest(&bin)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(m["part"], format!("part-{k}-of-{n}.bin"));
    assert_eq!(m["size"], bin.len() as u64, "{text}");
    assert_eq!(m["sha256"], sha, "{text}");
    assert_eq!(
        (m["shard"].as_u64(), m["shards"].as_u64()),
        (Some(k as u64), Some(n as u64))
    );
    assert_eq!(m["run"]["shards"], n as u64);
    assert!(
        m["run"]["fingerprint"].as_str().unwrap().len() == 64,
        "{text}"
    );
    assert!(m["tool"].as_str().unwrap().starts_with("sheetsift "));
}

/// `merge s` refused with exit code 2, naming `part-1-of-3.bin` and the
/// shard to rerun, every phrase of `says` in its message, and nothing of
/// a corpus written. Run under the hostile-input limits: a damaged part
/// must be a quick refusal, never a long read or a big allocation.
fn assert_refused(d: &Dir, says: &[&str]) {
    let l = d
        .cmd(&["merge", "s", "-q"])
        .run_limited(4_000_000_000, std::time::Duration::from_secs(20));
    let r = &l.run;
    assert_eq!(r.code, 2, "{}", r.report(d.path()));
    assert!(
        r.stderr.contains("part-1-of-3.bin")
            && r.stderr.contains("rerun `sheetsift dialogues --shard 1/3`")
            && says.iter().all(|s| r.stderr.contains(s)),
        "{says:?}: {}",
        r.stderr
    );
    assert!(l.peak_rss_mib < 1024, "{} MiB", l.peak_rss_mib);
    assert!(l.elapsed.as_secs() < 10, "{:?}", l.elapsed);
    for f in ["std", "mmi", "jsonl"] {
        assert!(
            !d.join("s").join(f).exists(),
            "{f}: a refused merge writes nothing"
        );
    }
}

fn merge(d: &Dir, out: &str) {
    d.cmd(&[
        "merge",
        out,
        "--val-size",
        "0.2",
        "--format",
        "txt,jsonl",
        "-q",
    ])
    .expect_code(0);
}

#[test]
fn merged_shards_equal_one_dialogues_run() {
    let d = prepared();
    for (n, auto) in [
        (1, None),
        (2, None),
        (3, None),
        (3, Some("SLURM_ARRAY_TASK_ID")),
        (2, Some("JOB_COMPLETION_INDEX")),
    ] {
        let out = format!("sharded-{n}-{}", auto.unwrap_or("given"));
        shards(&d, &out, n, auto);
        let mut parts: Vec<String> = (0..n)
            .flat_map(|k| {
                [
                    format!("part-{k}-of-{n}.bin"),
                    format!("part-{k}-of-{n}.json"),
                ]
            })
            .collect();
        parts.sort();
        let mut listed: Vec<String> = std::fs::read_dir(d.join(&out).join("parts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        listed.sort();
        assert_eq!(
            listed, parts,
            "{out}: one part and its manifest per shard, nothing else"
        );
        for k in 0..n {
            assert_manifest_records_its_part(&d, &out, k, n);
        }
        merge(&d, &out);
        for f in SETS {
            assert_same_bytes(&d.join(&out).join(f), &d.join("one").join(f));
        }
    }
}

#[test]
fn shard_reports_count_its_files_and_merge_report_the_whole() {
    let d = prepared();
    for k in 0..2 {
        d.cmd(&[
            "dialogues",
            "clean",
            "-o",
            "s",
            "--shard",
            &format!("{k}/2"),
            "-q",
            "--report",
            &format!("r{k}.json"),
        ])
        .expect_code(0);
    }
    d.cmd(&[
        "merge",
        "s",
        "--val-size",
        "0.2",
        "-q",
        "--report",
        "m.json",
    ])
    .expect_code(0);
    let r0 = report_json(&d.join("r0.json"));
    let r1 = report_json(&d.join("r1.json"));
    // 7 files: shard 0 reads files 0..3, shard 1 files 3..7.
    assert_eq!(r0["files_selected"], 3);
    assert_eq!(r1["files_selected"], 4);
    let m = report_json(&d.join("m.json"));
    let one_d = |r: &serde_json::Value, k: &str| r["dialogues"][k].as_u64().unwrap();
    assert_eq!(
        one_d(&r0, "dialogues") + one_d(&r1, "dialogues"),
        one_d(&m, "dialogues")
    );
    assert_eq!(
        one_d(&r0, "rows_read") + one_d(&r1, "rows_read"),
        one_d(&m, "rows_read")
    );
    assert_eq!(m["files_processed"], 7);
}

#[test]
fn a_missing_part_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 3, None);
    std::fs::remove_file(d.join("s/parts/part-1-of-3.bin")).unwrap();
    let r = d.cmd(&["merge", "s", "-q"]).expect_code(2);
    assert!(
        r.stderr.contains("part-1-of-3.bin") && r.stderr.contains("missing part 1 of 3"),
        "{}",
        r.stderr
    );
    assert!(!d.join("s/std").exists(), "nothing written");
}

#[test]
fn a_foreign_part_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 3, None);
    // A part of another run (other inputs: the raw files) under a name of
    // this one.
    d.cmd(&["dialogues", "raw", "-o", "other", "--shard", "1/3", "-q"])
        .expect_code(0);
    std::fs::copy(
        d.join("other/parts/part-1-of-3.bin"),
        d.join("s/parts/part-1-of-3.bin"),
    )
    .unwrap();
    let r = d.cmd(&["merge", "s", "-q"]).expect_code(2);
    assert!(
        r.stderr.contains("part-1-of-3.bin") && r.stderr.contains("another run"),
        "{}",
        r.stderr
    );
    // Another shard count left beside the parts: named as well.
    shards(&d, "t", 2, None);
    d.cmd(&["dialogues", "clean", "-o", "t", "--shard", "2/3", "-q"])
        .expect_code(0);
    let r = d.cmd(&["merge", "t", "-q"]).expect_code(2);
    assert!(
        r.stderr.contains("part-2-of-3.bin") && r.stderr.contains("2 shards vs 3"),
        "{}",
        r.stderr
    );
    // Not a part at all.
    d.write("t/parts/notes.txt", "hello");
    let r = d.cmd(&["merge", "t", "-q"]).expect_code(2);
    assert!(r.stderr.contains("notes.txt"), "{}", r.stderr);
    assert!(!d.join("t/std").exists() && !d.join("s/std").exists());
}

#[test]
fn a_part_without_its_manifest_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 3, None);
    std::fs::remove_file(d.join("s/parts/part-1-of-3.json")).unwrap();
    assert_refused(&d, &["no manifest entry", "part-1-of-3.json is missing"]);
    // A part copied in from elsewhere without its manifest: the same.
    shards(&d, "t", 3, None);
    std::fs::rename(
        d.join("t/parts/part-1-of-3.bin"),
        d.join("s/parts/part-1-of-3.bin"),
    )
    .unwrap();
    assert_refused(&d, &["no manifest entry"]);
}

#[test]
fn a_part_with_one_byte_flipped_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 3, None);
    let p = d.join("s/parts/part-1-of-3.bin");
    let mut bytes = std::fs::read(&p).unwrap();
    // A byte of the first record (after the 8-byte signature): the header
    // and index still agree, so only the hash can tell.
    bytes[40] ^= 0x01;
    std::fs::write(&p, &bytes).unwrap();
    assert_refused(&d, &["SHA-256", "damaged"]);
    // Flipped back, the same directory merges.
    bytes[40] ^= 0x01;
    std::fs::write(&p, &bytes).unwrap();
    merge(&d, "s");
    for f in SETS {
        assert_same_bytes(&d.join("s").join(f), &d.join("one").join(f));
    }
}

#[test]
fn a_truncated_part_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 3, None);
    let p = d.join("s/parts/part-1-of-3.bin");
    let len = std::fs::metadata(&p).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    assert_refused(
        &d,
        &[
            &format!("{} bytes, but its manifest records {len}", len / 2),
            "truncated",
        ],
    );
    // Cut to nothing (a copy that never started): the same.
    std::fs::write(&p, b"").unwrap();
    assert_refused(&d, &["0 bytes, but its manifest records"]);
}

#[test]
fn a_manifest_of_another_run_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 3, None);
    // Shard 1 of another run (other inputs: the raw files): its manifest
    // over this run's part.
    d.cmd(&["dialogues", "raw", "-o", "other", "--shard", "1/3", "-q"])
        .expect_code(0);
    std::fs::copy(
        d.join("other/parts/part-1-of-3.json"),
        d.join("s/parts/part-1-of-3.json"),
    )
    .unwrap();
    assert_refused(
        &d,
        &[
            "manifest part-1-of-3.json is of another run",
            "input lists differ",
        ],
    );
    // This run's manifest of shard 0 under shard 1's name.
    std::fs::copy(
        d.join("s/parts/part-0-of-3.json"),
        d.join("s/parts/part-1-of-3.json"),
    )
    .unwrap();
    assert_refused(
        &d,
        &["of another run or part", "it records part-0-of-3.bin"],
    );
    // Rerunning the named shard repairs the directory.
    d.cmd(&["dialogues", "clean", "-o", "s", "--shard", "1/3", "-q"])
        .expect_code(0);
    d.cmd(&["merge", "s", "--val-size", "0.2", "-q"])
        .expect_code(0);
    for f in [
        "std/train.txt",
        "std/val.txt",
        "mmi/train.txt",
        "mmi/val.txt",
    ] {
        assert_same_bytes(&d.join("s").join(f), &d.join("one").join(f));
    }
}

#[test]
fn a_stray_manifest_of_another_layout_is_refused_by_name() {
    let d = prepared();
    shards(&d, "s", 2, None);
    d.cmd(&["dialogues", "clean", "-o", "s", "--shard", "2/3", "-q"])
        .expect_code(0);
    std::fs::remove_file(d.join("s/parts/part-2-of-3.bin")).unwrap();
    let r = d.cmd(&["merge", "s", "-q"]).expect_code(2);
    assert!(
        r.stderr.contains("part-2-of-3.json") && r.stderr.contains("whose part is not here"),
        "{}",
        r.stderr
    );
    assert!(!d.join("s/std").exists());
}
