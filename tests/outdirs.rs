//! Output directories you can trust: reruns, resumes, shards and concurrent
//! runs never duplicate, lose or clobber data. One test per case of the
//! issue that found each of them printing `ok` with exit 0, plus the
//! promises around them (fail before working, errors that say what to do).
//!
//! Every test builds small inputs with `sheetsift samples` (6 files of 300
//! rows: a run takes a fraction of a second) and compares what a run left
//! with a clean single run into a fresh directory, byte for byte.

mod common;
use common::*;

use std::path::Path;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

/// Every command here is small: a minute is a hang, not a slow machine.
const T: Duration = Duration::from_secs(60);

/// `sheetsift samples -o DIR --files N --rows 300 --seed S`.
fn samples(d: &Dir, dir: &str, files: usize, seed: u64) {
    d.cmd(&[
        "samples",
        "-o",
        dir,
        "--files",
        &files.to_string(),
        "--rows",
        "300",
        "--seed",
        &seed.to_string(),
        "-q",
    ])
    .timeout(T)
    .expect_code(0);
}

fn ok(d: &Dir, args: &[&str]) -> Run {
    d.cmd(args).timeout(T).expect_code(0)
}

/// The chunk outputs in a directory (files named PREFIX_A_B.xlsx/.csv
/// with the default prefix), sorted.
fn outputs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("clean_data_") && (n.ends_with(".xlsx") || n.ends_with(".csv")))
        .collect();
    v.sort();
    v
}

/// `got` holds exactly the chunk outputs of `want`, byte for byte.
fn assert_same_outputs(got: &Path, want: &Path) {
    let names = outputs(want);
    assert!(
        !names.is_empty(),
        "{}: no outputs to compare",
        want.display()
    );
    assert_eq!(
        outputs(got),
        names,
        "{} vs {}",
        got.display(),
        want.display()
    );
    for n in &names {
        let g = got.join(n);
        let meta = std::fs::symlink_metadata(&g).unwrap();
        assert!(
            meta.file_type().is_file(),
            "{} is not a regular file",
            g.display()
        );
        assert_same_bytes(&g, &want.join(n));
    }
}

fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The chunk statuses of a JSON report, in chunk order.
fn statuses(report: &Path) -> Vec<String> {
    report_json(report)["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].as_str().unwrap().to_string())
        .collect()
}

fn lines_with<'a>(text: &'a str, pat: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(pat)).collect()
}

fn copy(d: &Dir, from: &str, to: &str) {
    let to = d.join(to);
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(d.join(from), to).unwrap();
}

/// Wait for a spawned child, killing it (and failing) after `limit`.
fn wait_bounded(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "TIMEOUT after {limit:?}: {what}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

/// Issue case 1: `extract same -o same`, run three times, read 80,000, then
/// 157,427, then 312,281 rows: each run ingested the previous run's
/// `clean_data_*`. Outputs are never inputs; the run says so once.
#[test]
fn outputs_are_never_read_as_inputs() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    ok(&d, &["extract", "in", "-o", "ref", "-q"]);
    copy_tree(&d.join("in"), &d.join("same"));
    for n in 1..=3 {
        let report = format!("r{n}.json");
        let r = ok(&d, &["extract", "same", "-o", "same", "--report", &report]);
        let j = report_json(&d.join(&report));
        assert_eq!(j["files_found"], 6, "run {n}:\n{}", r.stderr);
        assert_eq!(
            j["rows_read"], 1800,
            "run {n} read its own outputs:\n{}",
            r.stderr
        );
        assert_eq!(outputs(&d.join("same")), ["clean_data_0_5.xlsx"], "run {n}");
        assert_same_outputs(&d.join("same"), &d.join("ref"));
        let notes = lines_with(&r.stderr, "never read as inputs");
        if n == 1 {
            assert!(notes.is_empty(), "{}", r.stderr);
        } else {
            assert_eq!(notes.len(), 1, "said once:\n{}", r.stderr);
            assert!(
                notes[0].contains("same/clean_data_0_5.xlsx"),
                "the note names what it skipped:\n{}",
                r.stderr
            );
        }
    }

    // A directory holding a sheetsift manifest is an output directory
    // wherever it sits: below the inputs, and for a later run with another -o.
    copy_tree(&d.join("in"), &d.join("data"));
    for n in 1..=2 {
        let report = format!("data{n}.json");
        ok(
            &d,
            &[
                "extract",
                "data",
                "-o",
                "data/clean",
                "--report",
                &report,
                "-q",
            ],
        );
        assert_eq!(report_json(&d.join(&report))["rows_read"], 1800, "run {n}");
    }
    ok(
        &d,
        &[
            "extract",
            "data",
            "-o",
            "elsewhere",
            "--report",
            "e.json",
            "-q",
        ],
    );
    assert_eq!(report_json(&d.join("e.json"))["files_found"], 6);
    assert_same_outputs(&d.join("elsewhere"), &d.join("ref"));

    // `run --keep-clean` below its own inputs, twice.
    copy_tree(&d.join("in"), &d.join("data2"));
    for n in 1..=2 {
        let report = format!("k{n}.json");
        ok(
            &d,
            &[
                "run",
                "data2",
                "-o",
                &format!("corpus{n}"),
                "--keep-clean",
                "data2/kept",
                "--val-size",
                "0.1",
                "--report",
                &report,
                "-q",
            ],
        );
        assert_eq!(report_json(&d.join(&report))["files_found"], 6, "run {n}");
    }
    assert_same_corpus(&d.join("corpus2"), &d.join("corpus1"));
    assert_same_outputs(&d.join("data2/kept"), &d.join("ref"));
}

/// Issue case 2: `extract in -o st`, then `extract in -o st --chunk-size 2`:
/// `dialogues st` read every row twice. A rerun of the same selection
/// replaces the previous run (its unmodified outputs are removed, and the
/// run says so); a chunk file that no manifest lists is refused.
#[test]
fn a_rerun_with_other_options_replaces_the_previous_run() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    ok(
        &d,
        &["extract", "in", "-o", "ref", "--chunk-size", "2", "-q"],
    );
    ok(
        &d,
        &[
            "dialogues",
            "ref",
            "-o",
            "cref",
            "--val-size",
            "0.1",
            "--report",
            "cref.json",
            "-q",
        ],
    );

    ok(&d, &["extract", "in", "-o", "st", "-q"]);
    let r = ok(&d, &["extract", "in", "-o", "st", "--chunk-size", "2"]);
    assert!(
        r.stderr.contains("clean_data_0_5.xlsx"),
        "the removal of the previous run's output is reported:\n{}",
        r.stderr
    );
    assert_same_outputs(&d.join("st"), &d.join("ref"));

    ok(
        &d,
        &[
            "dialogues",
            "st",
            "-o",
            "c",
            "--val-size",
            "0.1",
            "--report",
            "c.json",
            "-q",
        ],
    );
    assert_eq!(
        report_json(&d.join("c.json"))["rows_read"],
        report_json(&d.join("cref.json"))["rows_read"],
        "every row read once"
    );
    assert_same_corpus(&d.join("c"), &d.join("cref"));

    // A chunk file that no manifest lists: refused, naming it.
    copy(&d, "ref/clean_data_0_1.xlsx", "st/clean_data_9_9.xlsx");
    let r = d
        .cmd(&["dialogues", "st", "-o", "c2", "--val-size", "0.1"])
        .timeout(T)
        .expect_code(2);
    assert!(
        r.stderr.contains("clean_data_9_9.xlsx") && r.stderr.contains("no manifest lists"),
        "{}",
        r.stderr
    );
    assert!(!d.join("c2/std/train.txt").exists());
}

/// Issue case 3: `--resume` after a file was added that sorts first kept
/// the old chunks and wrote a new one. Now a chunk is skipped only when its
/// inputs (paths, sizes, mtimes) and options are those its record was made
/// from and its output still matches the record's size and hash.
#[test]
fn resume_redoes_exactly_the_chunks_whose_inputs_changed() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    samples(&d, "extra", 2, 7);
    copy_tree(&d.join("in"), &d.join("data"));
    ok(
        &d,
        &["extract", "data", "-o", "out", "--chunk-size", "2", "-q"],
    );

    // A file that sorts first shifts every chunk: all are redone.
    copy(&d, "extra/chat_0001.xlsx", "data/chat_0000.xlsx");
    let r = ok(
        &d,
        &[
            "extract",
            "data",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--resume",
            "--report",
            "r1.json",
        ],
    );
    ok(
        &d,
        &["extract", "data", "-o", "ref1", "--chunk-size", "2", "-q"],
    );
    assert_same_outputs(&d.join("out"), &d.join("ref1"));
    assert_eq!(statuses(&d.join("r1.json")), ["written"; 4]);
    assert!(r.stderr.contains("files: 7 found"), "{}", r.stderr);
    let m = report_json(&d.join("out/manifest.json"));
    assert_eq!(m["inputs"]["count"], 7);
    ok(
        &d,
        &["dialogues", "out", "-o", "c1", "--val-size", "0.1", "-q"],
    );
    ok(
        &d,
        &[
            "dialogues",
            "ref1",
            "-o",
            "c1ref",
            "--val-size",
            "0.1",
            "-q",
        ],
    );
    assert_same_corpus(&d.join("c1"), &d.join("c1ref"));

    // A file that sorts last changes only the last chunk (6_6 becomes 6_7,
    // and the old 6_6 goes).
    copy(&d, "extra/chat_0002.xlsx", "data/chat_0009.xlsx");
    ok(
        &d,
        &[
            "extract",
            "data",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--resume",
            "--report",
            "r2.json",
            "-q",
        ],
    );
    ok(
        &d,
        &["extract", "data", "-o", "ref2", "--chunk-size", "2", "-q"],
    );
    assert_same_outputs(&d.join("out"), &d.join("ref2"));
    let s = statuses(&d.join("r2.json"));
    assert!(s[..3].iter().all(|s| s.starts_with("skipped")), "{s:?}");
    assert_eq!(s[3], "written");

    // A new mtime on one input redoes its chunk only.
    let f = std::fs::File::options()
        .write(true)
        .open(d.join("data/chat_0003.xlsx"))
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    drop(f);
    ok(
        &d,
        &[
            "extract",
            "data",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--resume",
            "--report",
            "r3.json",
            "-q",
        ],
    );
    let s = statuses(&d.join("r3.json"));
    assert_eq!(s[1], "written", "{s:?}");
    assert!(
        [&s[0], &s[2], &s[3]]
            .iter()
            .all(|s| s.starts_with("skipped")),
        "{s:?}"
    );
    assert_same_outputs(&d.join("out"), &d.join("ref2"));

    // Other options are another run: nothing is skipped.
    ok(
        &d,
        &[
            "extract",
            "data",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--resume",
            "--match",
            "exact",
            "--report",
            "r4.json",
            "-q",
        ],
    );
    assert_eq!(statuses(&d.join("r4.json")), ["written"; 4]);
}

/// Issue case 4: a chunk deleted from a sharded output directory, and
/// `dialogues` read the rest without a word. A directory is one run:
/// missing, changed, unlisted chunks, missing shards and mixed runs are
/// refused with exit 2 naming the files; `--ignore-manifests` is the
/// expert's way through.
#[test]
fn dialogues_refuses_a_directory_that_is_not_one_complete_run() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    for k in 0..2 {
        ok(
            &d,
            &[
                "extract",
                "in",
                "-o",
                "sh",
                "--chunk-size",
                "2",
                "--shard",
                &format!("{k}/2"),
                "-q",
            ],
        );
    }
    ok(
        &d,
        &["extract", "in", "-o", "ref", "--chunk-size", "2", "-q"],
    );
    assert_same_outputs(&d.join("sh"), &d.join("ref"));
    ok(
        &d,
        &["dialogues", "ref", "-o", "cref", "--val-size", "0.1", "-q"],
    );
    ok(
        &d,
        &["dialogues", "sh", "-o", "c0", "--val-size", "0.1", "-q"],
    );
    assert_same_corpus(&d.join("c0"), &d.join("cref"));

    // Each manifest records its chunks' sizes and hashes.
    for k in 0..2 {
        let m = report_json(&d.join(&format!("sh/manifest.shard-{k}-of-2.json")));
        for c in m["chunks"].as_array().unwrap() {
            let file = d.join("sh").join(c["output"].as_str().unwrap());
            assert_eq!(c["size"], std::fs::metadata(&file).unwrap().len(), "{c}");
            assert_eq!(c["sha256"], sha256_hex(&file), "{c}");
        }
    }

    let refuse = |out: &str, names: &[&str]| {
        let r = d
            .cmd(&["dialogues", "sh", "-o", out, "--val-size", "0.1"])
            .timeout(T)
            .expect_code(2);
        for n in names {
            assert!(r.stderr.contains(n), "the message names {n}:\n{}", r.stderr);
        }
        assert!(!d.join(out).join("std/train.txt").exists(), "{out} written");
    };
    let chunk = d.join("sh/clean_data_2_3.xlsx");
    let aside = d.join("aside.xlsx");

    // Missing.
    std::fs::rename(&chunk, &aside).unwrap();
    refuse("c1", &["clean_data_2_3.xlsx", "missing"]);
    // Changed: another chunk's bytes under its name.
    std::fs::copy(d.join("ref/clean_data_4_5.xlsx"), &chunk).unwrap();
    refuse("c2", &["clean_data_2_3.xlsx", "changed"]);
    // Truncated.
    let bytes = std::fs::read(&aside).unwrap();
    std::fs::write(&chunk, &bytes[..bytes.len() / 2]).unwrap();
    refuse("c3", &["clean_data_2_3.xlsx", "changed"]);
    std::fs::rename(&aside, &chunk).unwrap();

    // A missing shard: its chunk is then listed by no manifest.
    let m1 = d.join("sh/manifest.shard-1-of-2.json");
    let m1_aside = d.join("m1.json");
    std::fs::rename(&m1, &m1_aside).unwrap();
    refuse("c4", &["shard 1/2", "clean_data_2_3.xlsx"]);
    std::fs::rename(&m1_aside, &m1).unwrap();

    // Outputs of another chunk size beside them: incompatible runs.
    ok(
        &d,
        &[
            "extract",
            "in",
            "-o",
            "sh",
            "--chunk-size",
            "3",
            "--chunks",
            "0..1",
            "-q",
        ],
    );
    refuse(
        "c5",
        &["incompatible", "manifest.chunks-0-1.json", "chunk_size"],
    );
    std::fs::remove_file(d.join("sh/manifest.chunks-0-1.json")).unwrap();
    std::fs::remove_file(d.join("sh/clean_data_0_2.xlsx")).unwrap();

    // Whole again: accepted, same corpus.
    ok(
        &d,
        &["dialogues", "sh", "-o", "c6", "--val-size", "0.1", "-q"],
    );
    assert_same_corpus(&d.join("c6"), &d.join("cref"));

    // The expert override reads the directory as it is, and says so.
    std::fs::remove_file(&chunk).unwrap();
    let r = ok(
        &d,
        &[
            "dialogues",
            "sh",
            "-o",
            "c7",
            "--val-size",
            "0.1",
            "--ignore-manifests",
        ],
    );
    assert!(r.stderr.contains("--ignore-manifests"), "{}", r.stderr);
    assert!(d.join("c7/std/train.txt").exists());
}

/// Issue case 5: `run --shard 0/2` then `run --shard 1/2` into one `-o`:
/// the second overwrote the first's corpus. Each shard now writes its own
/// corpus under OUT/shard-K-of-N/, equal to `extract --shard` then
/// `dialogues` of that shard, and never touches another shard's.
#[test]
fn run_shards_write_their_own_corpus() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    let shard_run = |k: usize| {
        let shard = format!("{k}/2");
        ok(
            &d,
            &[
                "run",
                "in",
                "-o",
                "r",
                "--chunk-size",
                "2",
                "--shard",
                &shard,
                "--val-size",
                "0.1",
                "-q",
            ],
        );
    };
    shard_run(0);
    let first: Vec<(String, Vec<u8>)> = CORPUS
        .iter()
        .map(|f| {
            let p = d.join("r/shard-0-of-2").join(f);
            (
                f.to_string(),
                std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
            )
        })
        .collect();
    shard_run(1);
    for (f, bytes) in &first {
        assert_eq!(
            &std::fs::read(d.join("r/shard-0-of-2").join(f)).unwrap(),
            bytes,
            "shard 1 changed shard 0's {f}"
        );
    }
    assert!(
        !d.join("r/std").exists(),
        "no corpus outside the shard directories"
    );
    for k in 0..2 {
        let e = format!("e{k}");
        ok(
            &d,
            &[
                "extract",
                "in",
                "-o",
                &e,
                "--chunk-size",
                "2",
                "--shard",
                &format!("{k}/2"),
                "-q",
            ],
        );
        // The shard's chunks named one by one: a directory holding one
        // shard of two is refused as a whole (its sibling is missing), but
        // chunks named explicitly are checked one by one.
        let chunks: Vec<String> = outputs(&d.join(&e))
            .iter()
            .map(|n| format!("{e}/{n}"))
            .collect();
        let c = format!("c{k}");
        let mut args = vec!["dialogues"];
        args.extend(chunks.iter().map(String::as_str));
        args.extend(["-o", &c, "--val-size", "0.1", "-q"]);
        ok(&d, &args);
        assert_same_corpus(&d.join(&format!("r/shard-{k}-of-2")), &d.join(&c));
    }
    // The directory of one shard alone is refused.
    let r = d
        .cmd(&["dialogues", "e0", "-o", "c-all", "--val-size", "0.1"])
        .timeout(T)
        .expect_code(2);
    assert!(r.stderr.contains("shard 1/2"), "{}", r.stderr);
}

/// Issue case 6: no spreadsheet found, or `--chunks 10..20` when 3 chunks
/// exist: "files: 0 found ... ok", exit 0. Nothing selected is exit 2 with
/// a message saying why, and no output directory.
#[test]
fn nothing_selected_is_not_success() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    std::fs::create_dir_all(d.join("empty")).unwrap();
    d.write("texts/readme.txt", "no spreadsheet here");
    for (cmd, input, out) in [
        ("extract", "empty", "o1"),
        ("extract", "texts", "o2"),
        ("dialogues", "empty", "o3"),
        ("run", "empty", "o4"),
    ] {
        let r = d.cmd(&[cmd, input, "-o", out]).timeout(T).expect_code(2);
        assert!(
            r.stderr.contains("no input file found") && r.stderr.contains(input),
            "{cmd} {input}:\n{}",
            r.stderr
        );
        assert!(!r.stderr.contains("\nok"), "{}", r.stderr);
        assert!(!d.join(out).exists(), "{cmd} created {out}");
    }
    for cmd in ["extract", "run"] {
        let out = format!("{cmd}-none");
        let r = d
            .cmd(&[
                cmd,
                "in",
                "-o",
                &out,
                "--chunk-size",
                "2",
                "--chunks",
                "10..20",
            ])
            .timeout(T)
            .expect_code(2);
        assert!(
            r.stderr.contains("10..20") && r.stderr.contains("3 chunks"),
            "{cmd}: the message names the selection and what exists:\n{}",
            r.stderr
        );
        assert!(!d.join(&out).exists(), "{cmd} created {out}");
    }
}

/// Issue case 7: two `extract` runs into one directory at once left a file
/// whose first 23 MB were the other run's output, one run exiting 0. Each
/// output must be complete and from exactly one run, the manifest must
/// describe the chunk beside it (or the second run refuses with the lock,
/// exit 1), and no temporary is left. Different inputs make a mixture
/// visible in the bytes.
#[test]
fn concurrent_extracts_into_one_directory_never_mix() {
    let d = Dir::new();
    samples(&d, "inA", 6, 1);
    samples(&d, "inB", 6, 2);
    ok(&d, &["extract", "inA", "-o", "refA", "-q"]);
    ok(&d, &["extract", "inB", "-o", "refB", "-q"]);
    let chunk = "clean_data_0_5.xlsx";
    let a = std::fs::read(d.join("refA").join(chunk)).unwrap();
    let b = std::fs::read(d.join("refB").join(chunk)).unwrap();
    assert_ne!(a, b);
    let started = Instant::now();
    for pair in 0..20 {
        let out = format!("cc{pair}");
        let spawn = |input: &str| d.cmd(&["extract", input, "-o", &out, "-q"]).spawn();
        let (ca, cb) = (spawn("inA"), spawn("inB"));
        let oa = wait_bounded(ca, T, "extract inA");
        let ob = wait_bounded(cb, T, "extract inB");
        let mut winners = Vec::new();
        for (name, o) in [("A", &oa), ("B", &ob)] {
            let err = String::from_utf8_lossy(&o.stderr);
            match o.status.code() {
                Some(0) => winners.push(name),
                Some(1) if err.contains("another sheetsift run") => {}
                other => panic!("pair {pair}: run {name} exited {other:?}:\n{err}"),
            }
        }
        assert!(!winners.is_empty(), "pair {pair}: neither run finished");
        let got = std::fs::read(d.join(&out).join(chunk)).unwrap();
        let from = if got == a {
            "A"
        } else if got == b {
            "B"
        } else {
            panic!(
                "pair {pair}: {chunk} is from neither run alone ({} bytes)",
                got.len()
            )
        };
        if winners.len() == 1 {
            assert_eq!(
                from, winners[0],
                "pair {pair}: the refused run's output survived"
            );
        }
        let m = report_json(&d.join(&out).join("manifest.json"));
        let first_input = m["inputs"]["files"][0]["path"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            first_input.starts_with(&format!("in{from}")),
            "pair {pair}: {chunk} is from run {from} but the manifest from {first_input}"
        );
        let left: Vec<String> = walk(&d.join(&out))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .filter(|n| n != chunk && n != "manifest.json" && !n.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "pair {pair}: left behind {left:?}");
        assert_eq!(
            m["chunks"][0]["sha256"],
            sha256_hex(&d.join(&out).join(chunk)),
            "pair {pair}: the manifest records the chunk's hash"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(240));
}

/// Issue case 7, second half: temporaries had a fixed name and were
/// followed through symlinks, so a link planted at `out/.NAME.part` made
/// `extract` (and `dialogues`) write into any file. Now the victim is
/// untouched and every output is a regular file with the right bytes.
#[test]
fn planted_symlinks_at_temporary_names_are_never_followed() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    ok(&d, &["extract", "in", "-o", "ref", "-q"]);
    ok(
        &d,
        &["dialogues", "in", "-o", "cref", "--val-size", "0.1", "-q"],
    );
    let victim = d.write("victim.txt", "precious\n");
    let plant = |link: &str| {
        let p = d.join(link);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&victim, &p).unwrap();
    };
    let untouched = || {
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious\n",
            "written through a link"
        );
    };

    for link in [
        "out/.clean_data_0_5.xlsx.part",
        "out/.manifest.json.part",
        "out/.manifest.json.journal.part",
        ".r.json.part",
    ] {
        plant(link);
    }
    ok(
        &d,
        &["extract", "in", "-o", "out", "--report", "r.json", "-q"],
    );
    untouched();
    assert_same_outputs(&d.join("out"), &d.join("ref"));
    for f in ["out/manifest.json", "r.json"] {
        let meta = std::fs::symlink_metadata(d.join(f)).unwrap();
        assert!(meta.file_type().is_file(), "{f} is not a regular file");
    }
    assert_eq!(report_json(&d.join("r.json"))["exit_code"], 0);

    // A link at a final name is replaced, not written through.
    std::fs::remove_file(d.join("out/clean_data_0_5.xlsx")).unwrap();
    plant("out/clean_data_0_5.xlsx");
    ok(&d, &["extract", "in", "-o", "out", "-q"]);
    untouched();
    assert_same_outputs(&d.join("out"), &d.join("ref"));

    for link in [
        "c/std/.train.txt.part",
        "c/std/.val.txt.part",
        "c/mmi/.train.txt.part",
        "c/mmi/.val.txt.part",
    ] {
        plant(link);
    }
    ok(
        &d,
        &["dialogues", "in", "-o", "c", "--val-size", "0.1", "-q"],
    );
    untouched();
    assert_same_corpus(&d.join("c"), &d.join("cref"));
    for f in CORPUS {
        let meta = std::fs::symlink_metadata(d.join("c").join(f)).unwrap();
        assert!(meta.file_type().is_file(), "c/{f} is not a regular file");
    }

    for link in [
        "k/.clean_data_0_5.xlsx.part",
        "k/.manifest.json.part",
        "rc/std/.train.txt.part",
    ] {
        plant(link);
    }
    ok(
        &d,
        &[
            "run",
            "in",
            "-o",
            "rc",
            "--keep-clean",
            "k",
            "--val-size",
            "0.1",
            "-q",
        ],
    );
    untouched();
    assert_same_outputs(&d.join("k"), &d.join("ref"));
}

/// Issue case 8: `--resume` skipped a chunk whose output existed even when
/// it was truncated or empty.
#[test]
fn resume_redoes_truncated_empty_and_replaced_outputs() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    ok(
        &d,
        &["extract", "in", "-o", "ref", "--chunk-size", "2", "-q"],
    );
    ok(
        &d,
        &["extract", "in", "-o", "out", "--chunk-size", "2", "-q"],
    );
    std::fs::write(d.join("out/clean_data_0_1.xlsx"), b"").unwrap();
    let whole = std::fs::read(d.join("ref/clean_data_2_3.xlsx")).unwrap();
    std::fs::write(d.join("out/clean_data_2_3.xlsx"), &whole[..1000]).unwrap();
    ok(
        &d,
        &[
            "extract",
            "in",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--resume",
            "--report",
            "r.json",
            "-q",
        ],
    );
    let s = statuses(&d.join("r.json"));
    assert_eq!(&s[..2], ["written", "written"], "{s:?}");
    assert!(s[2].starts_with("skipped"), "{s:?}");
    assert_same_outputs(&d.join("out"), &d.join("ref"));

    // A valid workbook of the same size but other bytes: the hash decides.
    let mut other = std::fs::read(d.join("ref/clean_data_4_5.xlsx")).unwrap();
    let last = other.len() - 1;
    other[last] ^= 0x20; // the zip comment length's high byte: still a file of that size
    std::fs::write(d.join("out/clean_data_4_5.xlsx"), &other).unwrap();
    ok(
        &d,
        &[
            "extract",
            "in",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--resume",
            "--report",
            "r2.json",
            "-q",
        ],
    );
    let s = statuses(&d.join("r2.json"));
    assert_eq!(s[2], "written", "{s:?}");
    assert!(s[..2].iter().all(|s| s.starts_with("skipped")), "{s:?}");
    assert_same_outputs(&d.join("out"), &d.join("ref"));
}

/// A SIGKILL can land anywhere (mid-chunk, between a rename and its record,
/// while the manifest is written): `--resume` afterwards gives the bytes of
/// an uninterrupted run, and leaves no temporary behind.
#[test]
fn resume_after_sigkill_at_any_point_gives_the_uninterrupted_bytes() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "8", "--rows", "3000", "-q",
    ])
    .timeout(T)
    .expect_code(0);
    let args = ["extract", "in", "--chunk-size", "1", "-j", "2", "-q"];
    let mut full = args.to_vec();
    full.extend(["-o", "ref"]);
    let started = Instant::now();
    ok(&d, &full);
    let whole = started.elapsed();
    let mut killed_mid_run = 0;
    for (i, frac) in [0.05, 0.2, 0.4, 0.6, 0.8, 0.95].iter().enumerate() {
        let out = format!("k{i}");
        let mut a = args.to_vec();
        a.extend(["-o", &out]);
        let mut child = d.cmd(&a).spawn();
        std::thread::sleep(whole.mul_f64(*frac));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        // A run that already finished is not there to kill: quietly so.
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        wait_bounded(child, T, "killed extract");
        let mut resume = a.clone();
        resume.push("--resume");
        ok(&d, &resume);
        assert_same_outputs(&d.join(&out), &d.join("ref"));
        let left: Vec<String> = walk(&d.join(&out))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') && !n.ends_with(".lock"))
            .collect();
        assert!(left.is_empty(), "after a kill at {frac}: left {left:?}");
        ok(
            &d,
            &[
                "dialogues",
                &out,
                "-o",
                &format!("c{i}"),
                "--val-size",
                "0.1",
                "-q",
            ],
        );
    }
    assert!(
        killed_mid_run >= 3,
        "only {killed_mid_run} of 6 runs were still running when killed"
    );
}

/// Which standard stream to hand over with its reading end already closed.
#[derive(Clone, Copy, Debug)]
enum Closed {
    Stdout,
    Stderr,
}

/// Run with `which` connected to a pipe nobody reads: writes to it fail
/// with EPIPE. Returns the exit code and the other stream.
fn run_closed(d: &Dir, args: &[&str], which: Closed) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = d.cmd(args).cmd;
    match which {
        Closed::Stdout => cmd.stdout(Stdio::from(writer)).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stderr(Stdio::from(writer)).stdout(Stdio::piped()),
    };
    let child = cmd.spawn().unwrap();
    drop(cmd); // the parent's copy of the write end
    let out = wait_bounded(child, T, &format!("{args:?} with {which:?} closed"));
    let other = match which {
        Closed::Stdout => String::from_utf8_lossy(&out.stderr).into_owned(),
        Closed::Stderr => String::from_utf8_lossy(&out.stdout).into_owned(),
    };
    (out.status.code().unwrap_or(-1), other)
}

/// Issue case 9: `extract bp/in -o out -q 2>&1 | head -2` exited 101 with
/// nothing written (a closed pipe on stderr panicked). Diagnostics are
/// best-effort: the run finishes its files and exits with its normal code.
#[test]
fn closed_pipes_never_panic_nor_lose_outputs() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    // Three bad files among the good: error lines to write (exit 3).
    d.write("in/bad_1.xlsx", b"");
    d.write("in/bad_2.xlsx", b"junk");
    d.write("in/bad_3.csv", "a,b\n1,2\n");
    d.cmd(&["extract", "in", "-o", "ref", "-q"])
        .timeout(T)
        .expect_code(3);
    d.cmd(&["dialogues", "in", "-o", "cref", "--val-size", "0.1", "-q"])
        .timeout(T)
        .expect_code(3);
    let mut n = 0;
    for which in [Closed::Stderr, Closed::Stdout] {
        for quiet in [true, false] {
            n += 1;
            let out = format!("x{n}");
            let mut args = vec!["extract", "in", "-o", &out];
            if quiet {
                args.push("-q");
            }
            let (code, other) = run_closed(&d, &args, which);
            assert_eq!(code, 3, "{args:?} with {which:?} closed:\n{other}");
            assert_same_outputs(&d.join(&out), &d.join("ref"));
            assert!(d.join(&out).join("manifest.json").exists());

            let c = format!("c{n}");
            let (code, other) = run_closed(
                &d,
                &["dialogues", "in", "-o", &c, "--val-size", "0.1"],
                which,
            );
            assert_eq!(code, 3, "dialogues with {which:?} closed:\n{other}");
            assert_same_corpus(&d.join(&c), &d.join("cref"));

            let r = format!("r{n}");
            let (code, other) = run_closed(
                &d,
                &[
                    "run",
                    "in",
                    "-o",
                    &r,
                    "--val-size",
                    "0.1",
                    "--report",
                    &format!("{r}.json"),
                ],
                which,
            );
            assert_eq!(code, 3, "run with {which:?} closed:\n{other}");
            assert!(d.join(&r).join("std/train.txt").exists());
            assert_eq!(report_json(&d.join(&format!("{r}.json")))["exit_code"], 3);
        }
    }
}

/// Issue case 10: everything checkable up front is checked before any file
/// is read or any directory created.
#[test]
fn fail_before_working() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);
    // A file that is an error when read: its error line would show that
    // the run read inputs before checking --report.
    let junk = d.write("in/junk.xlsx", "junk");
    for cmd in ["extract", "dialogues", "run"] {
        let out = format!("{cmd}-out");
        let r = d
            .cmd(&[cmd, "in", "-o", &out, "--report", "no/such/dir/r.json"])
            .timeout(Duration::from_secs(20))
            .expect_code(2);
        assert!(
            r.stderr.contains("--report") && r.stderr.contains("no/such/dir"),
            "{cmd}:\n{}",
            r.stderr
        );
        assert!(
            !r.stderr.contains("junk.xlsx"),
            "{cmd} read inputs:\n{}",
            r.stderr
        );
        assert!(!d.join(&out).exists(), "{cmd} created its output directory");
    }
    std::fs::remove_file(&junk).unwrap();

    // A missing input: reported, and no output directory created.
    for cmd in ["extract", "dialogues", "run"] {
        let r = d.cmd(&[cmd, "nope/", "-o", "y"]).timeout(T).expect_code(2);
        assert!(r.stderr.contains("input not found: nope/"), "{}", r.stderr);
        assert!(!d.join("y").exists(), "{cmd} created y/");
    }
}

/// Issue case 10, last part, and the other error texts: each says what
/// to do.
#[test]
fn errors_say_what_to_do() {
    let d = Dir::new();
    samples(&d, "in", 6, 1);

    // The shipped samples with the default --val-size: exit 1 as the
    // reference (SPEC), stating the dialogue count and suggesting a fraction.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    copy_tree(&shipped, &d.join("shipped"));
    let r = d
        .cmd(&["run", "shipped", "-o", "out"])
        .timeout(T)
        .expect_code(1);
    assert!(
        r.stderr.contains("168 dialogues") && r.stderr.contains("--val-size 0."),
        "{}",
        r.stderr
    );
    assert!(!d.join("out/std/train.txt").exists());

    // Missing column: the headers found and the flag or config key to set.
    let headers = "坐席id, 客户微信id, 是否客服, 消息内容, 发送时间, 消息id";
    let r = d
        .cmd(&["extract", "in", "-o", "x1", "--content-col", "内容"])
        .timeout(T)
        .expect_code(3);
    let line = lines_with(&r.stderr, "missing column 内容 in sheet Sheet1");
    assert!(!line.is_empty(), "{}", r.stderr);
    assert!(
        line[0].contains(headers)
            && line[0].contains("--content-col")
            && line[0].contains("[columns]"),
        "{}",
        line[0]
    );
    d.write("cols.toml", "[columns]\nagent = \"客服\"\n");
    let r = d
        .cmd(&["extract", "in", "-o", "x2", "--config", "cols.toml"])
        .timeout(T)
        .expect_code(3);
    let line = lines_with(&r.stderr, "missing column 客服 in sheet Sheet1");
    assert!(
        !line.is_empty() && line[0].contains("--agent-col") && line[0].contains("agent"),
        "{}",
        r.stderr
    );

    // No sheet named: the sheets there are.
    let r = d
        .cmd(&["extract", "in", "-o", "x3", "--sheet", "Nope"])
        .timeout(T)
        .expect_code(3);
    let line = lines_with(&r.stderr, "no sheet named Nope");
    assert!(
        !line.is_empty() && line[0].contains("Sheet1"),
        "{}",
        r.stderr
    );

    // dialogues on raw inputs: it does not filter system messages; `run` does.
    let r = ok(&d, &["dialogues", "in", "-o", "c", "--val-size", "0.1"]);
    assert_eq!(
        lines_with(&r.stderr, "does not filter system messages").len(),
        1,
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("sheetsift run"), "{}", r.stderr);
    ok(&d, &["extract", "in", "-o", "st", "-q"]);
    let r = ok(&d, &["dialogues", "st", "-o", "c2", "--val-size", "0.1"]);
    assert!(
        !r.stderr.contains("does not filter system messages"),
        "{}",
        r.stderr
    );

    // The summary's "found" is the files found, also after a resume.
    let r = ok(&d, &["extract", "in", "-o", "st", "--resume"]);
    assert!(r.stderr.contains("files: 6 found"), "{}", r.stderr);
}
