//! The JSON report v1 (`--report FILE`): every command in its success,
//! partial (exit 3), fatal (exit 1), usage (exit 2) and interrupted
//! (130) forms writes a report that conforms to `src/report.schema.json`
//! and means what it says. The harness (`Cmd::run`) checks every report
//! any test writes the same way (`common::check_report`: schema, exit
//! code, timestamps, output hashes, per-file sums); here the forms are
//! made on purpose and their words asserted, and the schema is shown to
//! reject what v1 forbids.

mod common;
use common::*;

use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Three good sample files of 60 rows in `in/`.
fn samples(d: &Dir) {
    d.cmd(&["samples", "-o", "in", "--files", "3", "--rows", "60", "-q"])
        .expect_code(0);
}

/// Run, expect `code`, and return the (already checked) report.
fn report(d: &Dir, args: &[&str], code: i32) -> Value {
    let r = d.cmd(args).expect_code(code);
    let path = report_arg(&d.cmd(args).cmd).expect("a --report");
    assert!(d.join(&path).is_file(), "no report\n{}", r.report(d.path()));
    // Checked again here so that a report the harness missed fails too.
    check_report(&d.join(&path), d.path(), code)
}

fn argv_tail(r: &Value) -> Vec<String> {
    r["argv"].as_array().unwrap()[1..]
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_command_reports_its_run_options_files_stages_and_outputs() {
    let d = Dir::new();
    samples(&d);

    let args = [
        "extract",
        "in",
        "-o",
        "x",
        "--chunk-size",
        "2",
        "-q",
        "--report",
        "x.json",
    ];
    let r = report(&d, &args, 0);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["command"], "extract");
    assert_eq!(r["outcome"], "ok");
    assert_eq!(argv_tail(&r), args);
    assert_eq!(r["options"]["stage1"]["chunk_size"], 2);
    assert_eq!(r["options"]["stage1"]["table_format"], "xlsx");
    assert_eq!(
        r["options"]["stage1"]["system_messages"]["source"],
        "builtin"
    );
    assert!(r["options"].get("stage2").is_none(), "{r}");
    assert!(r.get("dialogues").is_none(), "{r}");
    assert!(r["stages"]["stage1"]["seconds"].is_number(), "{r}");
    assert!(r["stages"].get("stage2").is_none(), "{r}");
    let files = r["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for (i, f) in files.iter().enumerate() {
        assert_eq!(f["number"], i);
        assert_eq!(f["status"], "ok");
        assert_eq!(f["rows_read"], 60);
        assert!(f["seconds"].is_number(), "{f}");
    }
    let outputs: Vec<&str> = r["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ["x/clean_data_0_1.xlsx", "x/clean_data_2_2.xlsx"]);

    // --resume: chunks and their files skipped, as stable words.
    let r = report(
        &d,
        &[
            "extract",
            "in",
            "-o",
            "x",
            "--chunk-size",
            "2",
            "--resume",
            "-q",
            "--report",
            "xr.json",
        ],
        0,
    );
    assert_eq!(r["options"]["stage1"]["resume"], true);
    let words: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["skipped"; 3]);
    assert_eq!(r["chunks"][0]["status"], "skipped");
    assert_eq!(r["outputs"], json!([]));

    // dialogues: no stage-1 rows_kept, the corpus files hashed.
    let r = report(
        &d,
        &[
            "dialogues",
            "x",
            "-o",
            "c",
            "--val-size",
            "0.25",
            "--seed",
            "7",
            "--format",
            "txt,jsonl",
            "-q",
            "--report",
            "c.json",
        ],
        0,
    );
    assert_eq!(r["command"], "dialogues");
    assert!(
        r.get("rows_kept").is_none() && r.get("rows_dropped").is_none(),
        "{r}"
    );
    assert_eq!(r["options"]["stage2"]["seed"], 7);
    assert_eq!(r["options"]["stage2"]["val_size"], 0.25);
    assert_eq!(
        r["options"]["stage2"]["corpus_formats"],
        json!(["txt", "jsonl"])
    );
    assert!(r["options"].get("stage1").is_none(), "{r}");
    assert!(r["files"][0]["rows_dropped"]["duplicate"].is_u64(), "{r}");
    assert_eq!(
        r["outputs"].as_array().unwrap().len(),
        6,
        "std, mmi, jsonl x train, val"
    );
    assert!(r["stages"]["stage2"]["seconds"].is_number(), "{r}");

    // Sharded stage 2: a part has no split (no train/val), the merge has
    // no input files.
    for k in 0..2 {
        let shard = format!("{k}/2");
        let json = format!("p{k}.json");
        let r = report(
            &d,
            &[
                "dialogues",
                "x",
                "-o",
                "sh",
                "--shard",
                &shard,
                "--val-size",
                "0.25",
                "-q",
                "--report",
                &json,
            ],
            0,
        );
        assert_eq!(r["options"]["stage2"]["shard"], shard.as_str());
        assert!(r["dialogues"].get("train").is_none(), "{r}");
        assert_eq!(r["outputs"].as_array().unwrap().len(), 1);
    }
    let r = report(
        &d,
        &[
            "merge",
            "sh",
            "--val-size",
            "0.25",
            "-q",
            "--report",
            "m.json",
        ],
        0,
    );
    assert_eq!(r["command"], "merge");
    assert!(
        r.get("files").is_none() && r["options"].get("inputs").is_none(),
        "{r}"
    );
    assert!(r["dialogues"]["train"].is_u64(), "{r}");

    // run: both stages, the kept tables and the corpus among the outputs.
    let r = report(
        &d,
        &[
            "run",
            "in",
            "-o",
            "r",
            "--keep-clean",
            "k",
            "--val-size",
            "0.25",
            "-q",
            "--report",
            "r.json",
        ],
        0,
    );
    assert_eq!(r["command"], "run");
    assert_eq!(r["options"]["stage1"]["keep_clean"], "k");
    assert!(r["stages"]["stage1"]["seconds"].is_number(), "{r}");
    assert!(r["stages"]["stage2"]["seconds"].is_number(), "{r}");
    assert_eq!(r["chunks"][0]["status"], "written");
    assert_eq!(r["rows_kept"], r["dialogues"]["rows_read"]);
    assert_eq!(r["outputs"].as_array().unwrap().len(), 5, "1 table + 4 txt");
}

#[test]
fn a_partial_run_names_the_failed_file_in_its_entry() {
    let d = Dir::new();
    samples(&d);
    d.write("in/zz_broken.xlsx", b"PK\x03\x04 not a workbook");
    for cmd in ["extract", "run", "dialogues"] {
        let json = format!("{cmd}.json");
        let out = format!("o_{cmd}");
        let r = report(
            &d,
            &[
                cmd,
                "in",
                "-o",
                &out,
                "--val-size",
                "0.25",
                "-q",
                "--report",
                &json,
            ]
            .iter()
            .copied()
            .filter(|a| cmd != "extract" || !["--val-size", "0.25"].contains(a))
            .collect::<Vec<_>>(),
            3,
        );
        assert_eq!(r["outcome"], "partial", "{cmd}");
        let failed: Vec<&Value> = r["files"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "failed")
            .collect();
        assert_eq!(failed.len(), 1, "{cmd}: {r}");
        assert_eq!(failed[0]["path"], "in/zz_broken.xlsx");
        assert_eq!(failed[0]["number"], 3);
        assert!(
            failed[0]["error"]
                .as_str()
                .unwrap()
                .contains("not a readable"),
            "{r}"
        );
        assert!(
            r.get("error").is_none(),
            "a partial run is not a fatal error: {r}"
        );
    }
}

#[test]
fn a_fatal_error_reports_the_command_its_options_and_an_error_object() {
    let d = Dir::new();
    samples(&d);
    // A --val-size the corpus cannot meet: exit 1 (SPEC).
    let args = [
        "dialogues",
        "in",
        "-o",
        "c",
        "--val-size",
        "100000",
        "-q",
        "--report",
        "f.json",
    ];
    let r = report(&d, &args, 1);
    assert_eq!(r["command"], "dialogues");
    assert_eq!(r["outcome"], "fatal");
    assert_eq!(r["error"]["kind"], "split");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("100000"),
        "{r}"
    );
    assert_eq!(r["options"]["stage2"]["val_size"], 100000.0);
    assert_eq!(argv_tail(&r), args);
    for absent in ["files_found", "files", "rows_read", "dialogues", "outputs"] {
        assert!(
            r.get(absent).is_none(),
            "{absent} in a failed run's report: {r}"
        );
    }
    assert!(
        !r["notes"].as_array().unwrap().iter().any(|n| n == "failed"),
        "{r}"
    );

    // A full disk (RLIMIT_FSIZE): an I/O error naming the file being
    // written (the report itself is smaller than the limit).
    d.cmd(&[
        "samples", "-o", "big", "--files", "2", "--rows", "20000", "-q",
    ])
    .expect_code(0);
    let mut cmd = d.cmd(&[]);
    cmd.cmd = std::process::Command::new("bash");
    cmd.cmd
        .args([
            "-c",
            &format!(
                "trap '' XFSZ; ulimit -f 256; exec {} extract big -o x --chunk-size 1 --compression-level 1 -q --report e.json",
                env!("CARGO_BIN_EXE_sheetsift")
            ),
        ])
        .current_dir(d.path());
    let run = cmd.timeout(Duration::from_secs(120)).run();
    assert_eq!(run.code, 1, "{}", run.report(d.path()));
    let r = check_report(&d.join("e.json"), d.path(), 1);
    assert_eq!(r["command"], "extract");
    assert!(
        ["io", "output"].contains(&r["error"]["kind"].as_str().unwrap()),
        "{r}"
    );
    let path = r["error"]["path"].as_str().unwrap();
    assert!(
        path.contains("/x/") && path.contains("clean_data_0_0.xlsx"),
        "{r}"
    );
}

#[test]
fn usage_errors_report_the_command_with_or_without_options() {
    let d = Dir::new();
    samples(&d);
    // Options resolved, the input missing.
    let r = report(
        &d,
        &["extract", "nosuch", "-o", "x", "-q", "--report", "u1.json"],
        2,
    );
    assert_eq!(
        (r["command"].as_str(), r["outcome"].as_str()),
        (Some("extract"), Some("usage"))
    );
    assert_eq!(r["error"]["kind"], "usage");
    assert_eq!(r["options"]["inputs"], json!(["nosuch"]));
    // Options that do not resolve: no options, still the command.
    let r = report(
        &d,
        &[
            "run",
            "in",
            "-o",
            "x",
            "--chunk-size",
            "0",
            "-q",
            "--report",
            "u2.json",
        ],
        2,
    );
    assert_eq!(r["command"], "run");
    assert!(r.get("options").is_none(), "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--chunk-size"),
        "{r}"
    );
    // A merge with no parts: the error names the directory.
    std::fs::create_dir(d.join("empty")).unwrap();
    let r = report(&d, &["merge", "empty", "-q", "--report", "u3.json"], 2);
    assert_eq!(r["error"]["kind"], "part");
    assert_eq!(r["error"]["path"], "empty/parts");
}

#[test]
fn an_interrupted_run_reports_interrupted() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "10", "--rows", "40000", "-q",
    ])
    .expect_code(0);
    // Five of each file: 2,000,000 rows, seconds of work however fast the
    // run (the 400,000 rows alone once finished within the 500 ms below,
    // after the speed work of 2026-12-03).
    add_copies(&d.join("in"), 4);
    let mut child = d
        .cmd(&[
            "dialogues",
            "in",
            "-o",
            "c",
            "--val-size",
            "0.1",
            "-q",
            "--report",
            "i.json",
        ])
        .spawn();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "finished before the signal"
    );
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let sent = Instant::now();
    let status = child.wait().unwrap();
    assert!(sent.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(130));
    let r = check_report(&d.join("i.json"), d.path(), 130);
    assert_eq!(r["command"], "dialogues");
    assert_eq!(r["outcome"], "interrupted");
    assert_eq!(r["error"]["kind"], "interrupted");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("SIGINT"),
        "{r}"
    );
}

/// The schema is not a formality: what v1 forbids, it rejects.
#[test]
fn the_schema_rejects_what_v1_forbids() {
    let d = Dir::new();
    samples(&d);
    let good = report(
        &d,
        &["extract", "in", "-o", "x", "-q", "--report", "g.json"],
        0,
    );
    let dia = report(
        &d,
        &[
            "dialogues",
            "x",
            "-o",
            "c",
            "--val-size",
            "0.25",
            "-q",
            "--report",
            "d.json",
        ],
        0,
    );
    assert!(schema_errors(&good).is_empty());
    let bad = |base: &Value, edit: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        edit(&mut v);
        v
    };
    let cases: Vec<(&str, Value)> = vec![
        ("unknown field", bad(&good, &|v| v["surprise"] = json!(1))),
        (
            "no schema_version",
            bad(&good, &|v| {
                v.as_object_mut().unwrap().remove("schema_version");
            }),
        ),
        (
            "schema_version 2",
            bad(&good, &|v| v["schema_version"] = json!(2)),
        ),
        (
            "prose chunk status",
            bad(&good, &|v| {
                v["chunks"][0]["status"] = json!("skipped (exists)")
            }),
        ),
        (
            "prose file status",
            bad(&good, &|v| v["files"][0]["status"] = json!("OK")),
        ),
        (
            "local time",
            bad(&good, &|v| v["started_at"] = json!("2026-12-03 08:00:00")),
        ),
        (
            "short hash",
            bad(&good, &|v| v["outputs"][0]["sha256"] = json!("abc")),
        ),
        (
            "old failed command",
            bad(&good, &|v| v["command"] = json!("failed")),
        ),
        (
            "error with counts",
            bad(&good, &|v| {
                v["error"] = json!({"kind": "io", "message": "x"});
                v["outcome"] = json!("fatal");
                v["exit_code"] = json!(1);
            }),
        ),
        (
            "error kind prose",
            bad(&good, &|v| {
                let o = v.as_object_mut().unwrap();
                for k in [
                    "files_found",
                    "files_selected",
                    "files_processed",
                    "files",
                    "files_failed",
                    "rows_read",
                    "rows_kept",
                    "rows_dropped",
                    "chunks",
                    "stages",
                    "outputs",
                ] {
                    o.remove(k);
                }
                o.insert("error".into(), json!({"kind": "it broke", "message": "x"}));
                o.insert("outcome".into(), json!("fatal"));
                o.insert("exit_code".into(), json!(1));
            }),
        ),
        (
            "failed file without its error",
            bad(&good, &|v| v["files"][0]["status"] = json!("failed")),
        ),
        (
            "dialogues with rows_kept 0",
            bad(&dia, &|v| v["rows_kept"] = json!(0)),
        ),
        (
            "extract with stage-2 options",
            bad(&good, &|v| {
                v["options"]["stage2"] = dia["options"]["stage2"].clone()
            }),
        ),
    ];
    for (what, v) in cases {
        assert!(!schema_errors(&v).is_empty(), "the schema accepts {what}");
    }
}

#[test]
fn the_binary_carries_the_schema_file() {
    let file = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report.schema.json"),
    )
    .unwrap();
    assert_eq!(sheetsift::report::SCHEMA, file);
    let schema: Value = serde_json::from_str(&file).unwrap();
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        sheetsift::report::SCHEMA_VERSION
    );
}
