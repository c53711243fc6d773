//! Scale-out: shards as separate processes into one shared directory equal
//! one run; manifests describe each; `dialogues` refuses mixed runs; the
//! bounded-memory dialogue path writes the same bytes as the in-memory one.

mod common;
use common::*;

fn xlsx_names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".xlsx"))
        .collect();
    v.sort();
    v
}

#[test]
fn three_shard_processes_equal_one_run() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "10", "--rows", "300", "-q",
    ])
    .expect_code(0);
    d.cmd(&["extract", "in", "-o", "one", "--chunk-size", "2", "-q"])
        .expect_code(0);
    // Three shards at once, as a cluster engine would start them.
    let children: Vec<_> = (0..3)
        .map(|k| {
            d.cmd(&[
                "extract",
                "in",
                "-o",
                "shared",
                "--chunk-size",
                "2",
                "--shard",
                &format!("{k}/3"),
                "-q",
            ])
            .spawn()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let names = xlsx_names(&d.join("one"));
    assert_eq!(names.len(), 5);
    assert_eq!(xlsx_names(&d.join("shared")), names);
    for n in &names {
        assert_same_bytes(&d.join("shared").join(n), &d.join("one").join(n));
    }
    // Each shard recorded what it did.
    for (k, want) in [(0, vec![0, 3]), (1, vec![1, 4]), (2, vec![2])] {
        let m = report_json(&d.join(&format!("shared/manifest.shard-{k}-of-3.json")));
        let got: Vec<u64> = m["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["index"].as_u64().unwrap())
            .collect();
        assert_eq!(got, want);
        assert_eq!(m["options"]["chunk_size"], 2);
        assert_eq!(m["inputs"]["count"], 10);
    }
    // A shard rerun alone with --resume has nothing left to do.
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "shared",
        "--chunk-size",
        "2",
        "--shard",
        "1/3",
        "--resume",
        "-q",
    ])
    .expect_code(0);
    let m = report_json(&d.join("shared/manifest.shard-1-of-3.json"));
    assert_eq!(
        m["chunks"][0]["status"], "written",
        "a resumed shard keeps what it recorded"
    );
    // One dialogues over the shared directory equals one over the single run.
    d.cmd(&["dialogues", "shared", "-o", "c1", "--val-size", "0.1", "-q"])
        .expect_code(0);
    d.cmd(&["dialogues", "one", "-o", "c2", "--val-size", "0.1", "-q"])
        .expect_code(0);
    assert_same_corpus(&d.join("c1"), &d.join("c2"));

    // Outputs of another chunk size in the same directory: refused.
    d.cmd(&[
        "extract",
        "in",
        "-o",
        "shared",
        "--chunk-size",
        "3",
        "--chunks",
        "0..1",
        "-q",
    ])
    .expect_code(0);
    let r = d
        .cmd(&["dialogues", "shared", "-o", "c3", "--val-size", "0.1"])
        .expect_code(2);
    assert!(
        r.stderr.contains("incompatible runs")
            && (r.stderr.contains("chunk_size 3 vs 2") || r.stderr.contains("chunk_size 2 vs 3")),
        "{}",
        r.stderr
    );
}

#[test]
fn spilled_dialogues_write_the_same_bytes() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "3", "--rows", "2000", "-q",
    ])
    .expect_code(0);
    let common = [
        "--val-size",
        "0.2",
        "--seed",
        "5",
        "--format",
        "txt,jsonl",
        "-q",
    ];
    let mut a = vec!["dialogues", "in", "-o", "mem", "--report", "mem.json"];
    a.extend(common);
    d.cmd(&a).expect_code(0);
    let mut b = vec![
        "dialogues",
        "in",
        "-o",
        "spill",
        "--memory-limit",
        "2K",
        "--report",
        "spill.json",
    ];
    b.extend(common);
    d.cmd(&b).expect_code(0);
    assert_eq!(
        report_json(&d.join("mem.json"))["dialogues"]["spilled_to_disk"],
        false
    );
    assert_eq!(
        report_json(&d.join("spill.json"))["dialogues"]["spilled_to_disk"],
        true
    );
    assert_same_corpus(&d.join("spill"), &d.join("mem"));
    for f in ["jsonl/train.jsonl", "jsonl/val.jsonl"] {
        assert_same_bytes(&d.join("spill").join(f), &d.join("mem").join(f));
    }
    // run takes the same limit.
    d.cmd(&["run", "in", "-o", "r1", "--val-size", "0.2", "-q"])
        .expect_code(0);
    d.cmd(&[
        "run",
        "in",
        "-o",
        "r2",
        "--val-size",
        "0.2",
        "--memory-limit",
        "1k",
        "-q",
    ])
    .expect_code(0);
    assert_same_corpus(&d.join("r1"), &d.join("r2"));
    let r = d
        .cmd(&["dialogues", "in", "-o", "x", "--memory-limit", "lots"])
        .expect_code(2);
    assert!(r.stderr.contains("--memory-limit"), "{}", r.stderr);
}
