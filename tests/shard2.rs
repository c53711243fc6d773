//! Stage 2 sharded: `dialogues --shard K/N` (as separate processes into one
//! shared directory, the index given or taken from the engine's variable)
//! then `merge` writes, byte for byte, the corpus of one `dialogues` run,
//! txt and jsonl; a missing part and a part of another run are refused,
//! named, with exit code 2.

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
        let parts: Vec<String> = (0..n).map(|k| format!("part-{k}-of-{n}.bin")).collect();
        let mut listed: Vec<String> = std::fs::read_dir(d.join(&out).join("parts"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        listed.sort();
        assert_eq!(listed, parts, "{out}: one part per shard, nothing else");
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
