//! The chat formats load as-is in their real consumers: a test-time
//! Python venv (`tests/consumer_venv.sh`: `datasets`, `pyarrow`) reads the
//! jsonl with `datasets.load_dataset("json")`, the sharegpt files through
//! their `dataset_info.json` with LLaMA-Factory's documented converter
//! rules, and the parquet with `pyarrow.parquet.read_table` and
//! `datasets.load_dataset("parquet")` (`tests/consumer_check.py`); row
//! counts and first records must equal what sheetsift wrote.
//!
//! Without the venv (no network, no python3) the test is skipped with a
//! loud message, unless SHEETSIFT_REQUIRE_ENGINES=1 (CI), where it fails.

mod common;
use common::*;

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

/// The venv's python, or None (after saying why) when it cannot be made.
fn python() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("tests/consumer_venv.sh"))
        .arg(root.join("target/consumer-venv"))
        .output();
    let why = match out {
        Ok(o) if o.status.success() => {
            return Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        }
        Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
        Err(e) => e.to_string(),
    };
    if std::env::var("SHEETSIFT_REQUIRE_ENGINES").as_deref() == Ok("1") {
        panic!("SHEETSIFT_REQUIRE_ENGINES=1 but the consumer venv cannot be made: {why}");
    }
    eprintln!("\n!!! SKIPPED: the consumer venv (datasets, pyarrow) cannot be made: {why}\n");
    None
}

fn jsonl(d: &Dir, rel: &str) -> Vec<Value> {
    std::fs::read_to_string(d.join(rel))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn chat_formats_load_in_datasets_pyarrow_and_the_sharegpt_converter() {
    let Some(py) = python() else { return };
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "raw", "--files", "3", "--rows", "1500", "-q",
    ])
    .expect_code(0);
    d.cmd(&[
        "run",
        "raw",
        "-o",
        "out",
        "--val-size",
        "0.1",
        "--format",
        "jsonl,sharegpt,parquet",
        "--system-prompt",
        "你是客服。",
        "--start-with",
        "user",
        "--end-with",
        "assistant",
        "--scrub",
        "all",
        "--strip-cr",
        "-q",
    ])
    .expect_code(0);
    let o = Command::new(&py)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/consumer_check.py"))
        .arg(d.join("out"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    for set in ["train", "val"] {
        let lines = jsonl(&d, &format!("out/jsonl/{set}.jsonl"));
        assert!(lines.len() > 10, "{set}: {}", lines.len());
        let n = lines.len() as u64;
        let j = &got[format!("jsonl/{set}")];
        assert_eq!(j["rows"], n, "{set}");
        assert_eq!(j["first"], lines[0], "{set}");
        assert_eq!(
            lines[0]["messages"][0],
            json!({"role": "system", "content": "你是客服。"})
        );
        // parquet: same rows, same first dialogue, one `messages` column.
        let p = &got[format!("parquet/{set}")];
        assert_eq!(p["rows"], n, "{set}");
        assert_eq!(p["datasets_rows"], n, "{set}");
        assert_eq!(p["columns"], json!(["messages"]));
        assert_eq!(p["first"], lines[0], "{set}");
        assert_eq!(p["datasets_first"], lines[0], "{set}");
        // sharegpt: every conversation is one LLaMA-Factory accepts, and
        // the first converts to the jsonl's first dialogue.
        let sg = jsonl(&d, &format!("out/sharegpt/{set}.jsonl"));
        let s = &got[format!("sharegpt/sheetsift_{set}")];
        assert_eq!(s["rows"], sg.len() as u64);
        assert_eq!(
            s["valid"], n,
            "{set}: every dialogue alternates and ends with the agent"
        );
        let msgs = lines[0]["messages"].as_array().unwrap();
        assert_eq!(s["first"]["_system"], "你是客服。");
        assert_eq!(
            s["first"]["_prompt"],
            Value::Array(msgs[1..msgs.len() - 1].to_vec())
        );
        assert_eq!(s["first"]["_response"], json!([msgs[msgs.len() - 1]]));
    }
}
