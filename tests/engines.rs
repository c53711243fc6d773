//! The cluster engines of the README's "Scaling out" section, checked from
//! the README's own text, so that what it shows is what runs:
//!
//! - the Kubernetes Indexed Job's YAML parses, and its container command,
//!   run as each of its pods would run it (the index in
//!   `JOB_COMPLETION_INDEX`, `$(JOB_COMPLETION_INDEX)` expanded, the volume a
//!   temp dir), writes one shard per pod and, all pods together, the bytes
//!   of one unsharded `extract`;
//! - the Slurm batch scripts it shows are, byte for byte, the files that
//!   `tests/engine/slurm.sh` submits to a real Slurm cluster.
//!
//! The real-engine scripts themselves (`tests/engine/slurm.sh`, and
//! `tests/engine/wheel.sh` for the pip route) are not run from here: they
//! install packages and start daemons as root, which `cargo test` should
//! never do behind a developer's back. CI runs them after the test suite.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{check_report, Dir};
use serde_yaml_ng::Value as Yaml;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn readme() -> String {
    std::fs::read_to_string(repo_file("README.md")).expect("README.md")
}

/// A fenced code block of a Markdown text.
struct Block {
    /// The info string after the opening fence (`sh`, `yaml`, ...).
    lang: String,
    body: String,
    /// The last non-blank line before the opening fence: where the README
    /// names the file a block shows.
    caption: String,
}

fn fenced_blocks(md: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut caption = String::new();
    let mut open: Option<Block> = None;
    for line in md.lines() {
        if let Some(b) = open.as_mut() {
            if line.trim_end() == "```" {
                blocks.extend(open.take());
            } else {
                b.body.push_str(line);
                b.body.push('\n');
            }
        } else if line.starts_with("```") {
            open = Some(Block {
                lang: line.trim_start_matches('`').trim().to_string(),
                body: String::new(),
                caption: caption.clone(),
            });
        } else if !line.trim().is_empty() {
            caption = line.to_string();
        }
    }
    assert!(open.is_none(), "README.md ends inside a code block");
    blocks
}

#[test]
fn readme_slurm_scripts_are_the_files_the_engine_test_submits() {
    let md = readme();
    // Blocks captioned with a `tests/engine/NAME.sbatch` path.
    let mut shown: BTreeMap<String, String> = BTreeMap::new();
    for b in fenced_blocks(&md) {
        let Some(start) = b.caption.find("`tests/engine/") else {
            continue;
        };
        let rest = &b.caption[start + 1..];
        let path = &rest[..rest.find('`').expect("a closing backtick")];
        if path.ends_with(".sbatch") {
            assert_eq!(b.lang, "sh", "{path} is shown as {:?}", b.lang);
            assert!(
                shown.insert(path.to_string(), b.body).is_none(),
                "{path} is shown twice"
            );
        }
    }
    let names: Vec<&str> = shown.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "tests/engine/dialogues-shard.sbatch",
            "tests/engine/extract.sbatch",
            "tests/engine/merge.sbatch"
        ],
        "the README's Slurm section shows these batch scripts"
    );
    let slurm_sh = std::fs::read_to_string(repo_file("tests/engine/slurm.sh")).expect("slurm.sh");
    for (path, body) in &shown {
        let file = std::fs::read_to_string(repo_file(path))
            .unwrap_or_else(|e| panic!("{path}, shown in the README: {e}"));
        assert_eq!(
            body, &file,
            "the README shows {path} other than the file slurm.sh submits"
        );
        let name = path.trim_start_matches("tests/engine/");
        assert!(
            slurm_sh.contains(&format!("\"$engine/{name}\"")),
            "tests/engine/slurm.sh does not submit {name}"
        );
    }
    // The submission lines the README shows are the ones slurm.sh runs,
    // with only its test-size flags added.
    assert!(md.contains("jobid=$(sbatch --parsable extract.sbatch)\n"));
    assert!(md.contains(
        "partsid=$(sbatch --parsable --dependency=afterok:$jobid dialogues-shard.sbatch)\n"
    ));
    assert!(md.contains("sbatch --dependency=afterok:$partsid merge.sbatch\n"));
    assert!(slurm_sh.contains("sbatch --parsable --array=0-2"));
    assert!(slurm_sh.contains("--dependency=\"afterok:$extract_id\" --array=0-2"));
    assert!(slurm_sh.contains("--dependency=\"afterok:$parts_id\""));
}

/// `node[key]`, failing with the path walked so far.
fn at<'a>(node: &'a Yaml, path: &[&str]) -> &'a Yaml {
    let mut n = node;
    for (i, key) in path.iter().enumerate() {
        n = match key.parse::<usize>() {
            Ok(ix) => &n[ix],
            Err(_) => &n[*key],
        };
        assert!(!n.is_null(), "the Job has no {}", path[..=i].join("."));
    }
    n
}

fn text<'a>(node: &'a Yaml, path: &[&str]) -> &'a str {
    at(node, path)
        .as_str()
        .unwrap_or_else(|| panic!("{} is not a string", path.join(".")))
}

#[test]
fn readme_kubernetes_indexed_job_parses_and_shards_by_job_completion_index() {
    let md = readme();
    let yaml: Vec<Block> = fenced_blocks(&md)
        .into_iter()
        .filter(|b| b.lang == "yaml")
        .collect();
    assert_eq!(yaml.len(), 1, "the README shows one YAML block, the Job");
    let job: Yaml = serde_yaml_ng::from_str(&yaml[0].body)
        .unwrap_or_else(|e| panic!("the README's Kubernetes Job is not valid YAML: {e}"));
    let job = &job;
    assert_eq!(text(job, &["apiVersion"]), "batch/v1");
    assert_eq!(text(job, &["kind"]), "Job");
    assert_eq!(text(job, &["spec", "completionMode"]), "Indexed");
    let pods = at(job, &["spec", "completions"])
        .as_i64()
        .expect("completions is a number") as usize;
    let parallelism = at(job, &["spec", "parallelism"]).as_i64().unwrap() as usize;
    assert!((1..=pods).contains(&parallelism));
    let restart = text(job, &["spec", "template", "spec", "restartPolicy"]);
    assert!(["OnFailure", "Never"].contains(&restart), "{restart}");
    let container = at(job, &["spec", "template", "spec", "containers", "0"]);
    let mount = text(container, &["volumeMounts", "0", "mountPath"]);
    let command: Vec<&str> = at(container, &["command"])
        .as_sequence()
        .expect("command is a list")
        .iter()
        .map(|a| a.as_str().expect("command holds strings"))
        .collect();
    assert_eq!(command[..2], ["sheetsift", "extract"], "{command:?}");
    let after = |flag: &str| {
        let i = command.iter().position(|a| *a == flag);
        command[i.unwrap_or_else(|| panic!("the Job's command has no {flag}")) + 1]
    };
    assert_eq!(after("--shard"), format!("auto/{pods}"));
    assert!(command.contains(&"--resume"));
    let report = after("--report");
    assert!(
        report.contains("$(JOB_COMPLETION_INDEX)"),
        "pods must not share one report path: {report}"
    );

    // The shared volume: a temp dir; every absolute path of the command is
    // on it. Enough files for every pod to have one chunk of 25.
    let d = Dir::new();
    let volume = d.join("volume");
    let on_volume = |arg: &str| -> String {
        match arg.strip_prefix(mount) {
            Some(rest) => format!("{}{rest}", volume.display()),
            None => {
                assert!(!arg.starts_with('/'), "{arg} is not on the volume {mount}");
                arg.to_string()
            }
        }
    };
    let raw = on_volume(command[2]);
    let files = (pods * 25).to_string();
    d.cmd(&[
        "samples", "-o", &raw, "--files", &files, "--rows", "10", "--seed", "1", "-q",
    ])
    .expect_code(0);
    // "create /data/reports/ once, beforehand"
    let report_dir = PathBuf::from(on_volume(report));
    std::fs::create_dir_all(report_dir.parent().unwrap()).unwrap();

    // pod K: the Job's command, `$(VAR)` expanded from the container's
    // environment as the kubelet does, all pods at once (parallelism).
    let pod = |k: usize| {
        let args: Vec<String> = command[1..]
            .iter()
            .map(|a| on_volume(&a.replace("$(JOB_COMPLETION_INDEX)", &k.to_string())))
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut c = d.cmd(&args).env("JOB_COMPLETION_INDEX", &k.to_string());
        c.cmd.env_remove("SLURM_ARRAY_TASK_ID");
        c.cmd.stdin(Stdio::null());
        c
    };
    let running: Vec<_> = (0..pods).map(|k| (k, pod(k).spawn())).collect();
    for (k, child) in running {
        let out = child.wait_with_output().expect("pod");
        assert!(
            out.status.success(),
            "pod {k} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let pod_report = |k: usize| -> serde_json::Value {
        let path = on_volume(&report.replace("$(JOB_COMPLETION_INDEX)", &k.to_string()));
        // Report v1, checked as the harness checks every report.
        check_report(Path::new(&path), d.path(), 0);
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
            .unwrap()
    };
    for k in 0..pods {
        let r = pod_report(k);
        let chunks: Vec<(u64, &str)> = r["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["index"].as_u64().unwrap(), c["status"].as_str().unwrap()))
            .collect();
        assert_eq!(chunks, [(k as u64, "written")], "pod {k}'s report");
    }
    // A retried pod (restartPolicy: OnFailure) resumes: its chunk is kept.
    pod(3).expect_code(0);
    assert_eq!(pod_report(3)["chunks"][0]["status"], "skipped");

    // All pods together: one extract's tables, byte for byte.
    let clean = PathBuf::from(on_volume(command[4]));
    d.cmd(&["extract", &raw, "-o", "whole", "-q"])
        .expect_code(0);
    let tables = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "xlsx"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect()
    };
    let sharded = tables(&clean);
    let whole = tables(&d.join("whole"));
    assert_eq!(sharded.len(), pods);
    assert_eq!(
        sharded.keys().collect::<Vec<_>>(),
        whole.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &whole {
        assert!(&sharded[name] == bytes, "{name} differs from one extract's");
    }
}
