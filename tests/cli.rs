//! The command line itself: completions and the man page generated from
//! the parser, exit codes in every help, no doubled defaults, one meaning
//! per flag name (`--table-format` / `--corpus-format`), `-o -` refused,
//! and `--dry-run` printing what a run writes while touching nothing.
//!
//! Inputs are made with `sheetsift samples --csv` (a few small files), so
//! every run takes a fraction of a second.

mod common;
use common::*;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every command here is small: a minute is a hang, not a slow machine.
const T: Duration = Duration::from_secs(60);

/// Every subcommand a user can type (clap's own `help` aside).
const SUBCOMMANDS: [&str; 7] = [
    "extract",
    "dialogues",
    "merge",
    "run",
    "samples",
    "completions",
    "man",
];

/// `samples --csv`: `files` CSV files of 200 rows under `dir`.
fn samples(d: &Dir, dir: &str, files: usize) {
    d.cmd(&[
        "samples",
        "-o",
        dir,
        "--files",
        &files.to_string(),
        "--rows",
        "200",
        "--csv",
        "-q",
    ])
    .timeout(T)
    .expect_code(0);
}

/// Every file below `dir` (relative to the test directory) that is not
/// hidden (locks and temporaries are hidden bookkeeping, not outputs).
fn visible_files(d: &Dir, dir: &str) -> BTreeSet<String> {
    walk(&d.join(dir))
        .into_iter()
        .filter(|p| {
            !p.strip_prefix(d.path())
                .unwrap()
                .components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        })
        .map(|p| p.strip_prefix(d.path()).unwrap().display().to_string())
        .collect()
}

/// Every file below the test directory with its bytes: a snapshot to
/// compare before and after a dry run.
fn snapshot(d: &Dir) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walk(d.path())
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(d.path()).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// `--dry-run=json`'s outputs, as a set.
fn planned_outputs(run: &Run) -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("--dry-run=json is not JSON ({e}):\n{}", run.stdout));
    v["outputs"]
        .as_array()
        .expect("outputs array")
        .iter()
        .map(|o| o.as_str().unwrap().to_string())
        .collect()
}

fn stdout_of(d: &Dir, args: &[&str]) -> String {
    d.cmd(args).timeout(T).expect_code(0).stdout
}

// ---- completions and man page ------------------------------------------

#[test]
fn completions_for_bash_parse_and_name_every_subcommand() {
    let d = Dir::new();
    let script = stdout_of(&d, &["completions", "bash"]);
    for s in SUBCOMMANDS {
        assert!(script.contains(s), "bash completion lacks {s}");
    }
    // The renamed flags are offered.
    for f in ["--table-format", "--corpus-format", "--dry-run"] {
        assert!(script.contains(f), "bash completion lacks {f}");
    }
    let path = d.write("sheetsift.bash", &script);
    let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "bash -n rejects the completion script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Sourced in a real bash, it registers a completion for sheetsift.
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p sheetsift",
            path.display()
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("sheetsift"),
        "sourcing the bash completion registers nothing: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completions_for_every_other_shell_name_every_subcommand() {
    let d = Dir::new();
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&d, &["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for s in SUBCOMMANDS {
            assert!(script.contains(s), "{shell} completion lacks {s}");
        }
        assert!(
            script.contains("table-format"),
            "{shell}: no --table-format"
        );
    }
    if let Ok(out) = Command::new("zsh").arg("--version").output() {
        if out.status.success() {
            let path = d.write("_sheetsift", stdout_of(&d, &["completions", "zsh"]));
            let out = Command::new("zsh").arg("-n").arg(&path).output().unwrap();
            assert!(out.status.success(), "zsh -n rejects the script");
        }
    }
    let r = d.cmd(&["completions", "tcsh"]).timeout(T).expect_code(2);
    assert!(r.stderr.contains("tcsh"), "{}", r.stderr);
}

#[test]
fn man_page_renders_and_lists_every_subcommand_and_exit_code() {
    let d = Dir::new();
    let page = stdout_of(&d, &["man"]);
    assert!(page.contains(".TH sheetsift 1"), "no .TH header:\n{page}");
    assert!(
        page.contains(".SH \"EXIT STATUS\""),
        "no EXIT STATUS section"
    );
    for s in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SH \"SHEETSIFT {}\"", s.to_uppercase())),
            "no section for {s}"
        );
    }
    for code in ["0", "1", "2", "3", "130/143"] {
        assert!(
            page.contains(&format!(".TP\n\\fB{code}\\fR\n")),
            "exit code {code} missing from the man page"
        );
    }
    // Options of the subcommands are documented on the one page.
    assert!(page.contains("\\-\\-table\\-format"));
    assert!(page.contains("\\-\\-dry\\-run"));
    // Rendered by man(1) when it is installed: no groff warning, and the
    // text a reader sees holds the sections.
    let man_ok = Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if man_ok {
        let mut child = Command::new("man")
            .args(["--warnings", "-l", "-"])
            .env("MANWIDTH", "100")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(page.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        // Bold and underline come as overstrikes (`X\bX`): drop them.
        let mut text = String::new();
        for c in String::from_utf8_lossy(&out.stdout).chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "man -l - failed: {err}");
        assert!(err.trim().is_empty(), "groff warnings:\n{err}");
        for s in ["EXIT STATUS", "SHEETSIFT RUN", "130/143", "SUBCOMMANDS"] {
            assert!(text.contains(s), "rendered page lacks {s}:\n{text}");
        }
    } else {
        eprintln!("man not installed: checked the roff source only");
    }
}

// ---- help text -----------------------------------------------------------

#[test]
fn every_help_lists_the_exit_codes() {
    let d = Dir::new();
    let mut commands: Vec<Vec<&str>> = vec![vec![]];
    commands.extend(SUBCOMMANDS.iter().map(|s| vec![*s]));
    for c in commands {
        for flag in ["--help", "-h"] {
            let mut args = c.clone();
            args.push(flag);
            let help = stdout_of(&d, &args);
            assert!(
                help.contains("Exit codes:"),
                "{args:?} lacks exit codes:\n{help}"
            );
            for line in ["  0 ", "  1 ", "  2 ", "  3 ", "  130/143 "] {
                assert!(help.contains(line), "{args:?} lacks exit code {line:?}");
            }
        }
    }
}

#[test]
fn no_help_doubles_a_default() {
    let d = Dir::new();
    let mut commands: Vec<Vec<&str>> = vec![vec![]];
    commands.extend(SUBCOMMANDS.iter().map(|s| vec![*s]));
    for c in commands {
        for flag in ["--help", "-h"] {
            let mut args = c.clone();
            args.push(flag);
            let help = stdout_of(&d, &args);
            assert!(
                !(help.contains("Default:") && help.contains("[default:")),
                "{args:?} says a default twice:\n{help}"
            );
        }
    }
    let help = stdout_of(&d, &["samples", "--help"]);
    assert_eq!(help.matches("[default: 4]").count(), 1, "{help}");
    assert!(!help.contains("Default: 4"), "{help}");
}

// ---- one meaning per flag name -------------------------------------------

#[test]
fn table_format_and_its_alias_write_the_same_csv_tables() {
    let d = Dir::new();
    samples(&d, "in", 3);
    d.cmd(&["extract", "in", "-o", "a", "--table-format", "csv", "-q"])
        .timeout(T)
        .expect_code(0);
    d.cmd(&["extract", "in", "-o", "b", "--format", "csv", "-q"])
        .timeout(T)
        .expect_code(0);
    let a = d.join("a/clean_data_0_2.csv");
    assert!(a.is_file(), "{:?}", d.listing());
    assert_same_bytes(&a, &d.join("b/clean_data_0_2.csv"));
    // The config file's key keeps its old name, and takes the new one.
    d.write("old.toml", "[extract]\nformat = \"csv\"\n");
    d.write("new.toml", "[extract]\ntable_format = \"csv\"\n");
    for (cfg, out) in [("old.toml", "c"), ("new.toml", "e")] {
        d.cmd(&["extract", "in", "-o", out, "--config", cfg, "-q"])
            .timeout(T)
            .expect_code(0);
        assert_same_bytes(&d.join(&format!("{out}/clean_data_0_2.csv")), &a);
    }
}

#[test]
fn corpus_format_and_its_alias_write_jsonl() {
    let d = Dir::new();
    samples(&d, "in", 3);
    for (flag, out) in [("--corpus-format", "a"), ("--format", "b")] {
        d.cmd(&[
            "dialogues",
            "in",
            "-o",
            out,
            flag,
            "txt,jsonl",
            "--val-size",
            "0.1",
            "-q",
        ])
        .timeout(T)
        .expect_code(0);
    }
    for f in ["jsonl/train.jsonl", "jsonl/val.jsonl", "std/train.txt"] {
        assert_same_bytes(&d.join(&format!("a/{f}")), &d.join(&format!("b/{f}")));
    }
    let r = d
        .cmd(&["dialogues", "in", "-o", "c", "--corpus-format", "xml", "-q"])
        .timeout(T)
        .expect_code(2);
    assert!(
        r.stderr.contains("--corpus-format") && r.stderr.contains("xml"),
        "{}",
        r.stderr
    );
}

#[test]
fn run_takes_both_formats_by_their_own_names() {
    let d = Dir::new();
    samples(&d, "in", 3);
    d.cmd(&[
        "run",
        "in",
        "-o",
        "corpus",
        "--keep-clean",
        "kc",
        "--table-format",
        "csv",
        "--corpus-format",
        "txt,jsonl",
        "--val-size",
        "0.1",
        "-q",
    ])
    .timeout(T)
    .expect_code(0);
    assert!(
        d.join("kc/clean_data_0_2.csv").is_file(),
        "{:?}",
        d.listing()
    );
    assert!(
        d.join("corpus/jsonl/train.jsonl").is_file(),
        "{:?}",
        d.listing()
    );
}

#[test]
fn run_format_keeps_its_corpus_meaning_and_a_table_format_names_the_flag() {
    let d = Dir::new();
    samples(&d, "in", 2);
    // `run --format jsonl` worked before the rename and still does: the
    // same corpus as --corpus-format.
    for (flag, out) in [("--format", "old"), ("--corpus-format", "new")] {
        d.cmd(&[
            "run",
            "in",
            "-o",
            out,
            flag,
            "txt,jsonl",
            "--val-size",
            "0.1",
            "-q",
        ])
        .timeout(T)
        .expect_code(0);
    }
    for f in ["std/train.txt", "jsonl/train.jsonl"] {
        assert_same_bytes(&d.join("old").join(f), &d.join("new").join(f));
    }
    for (value, meant) in [
        ("csv", "--table-format csv"),
        ("xlsx", "--table-format xlsx"),
    ] {
        let r = d
            .cmd(&[
                "run",
                "in",
                "-o",
                "out",
                "--format",
                value,
                "--val-size",
                "0.1",
            ])
            .timeout(T)
            .expect_code(2);
        assert!(r.stderr.contains(meant), "{value}: {}", r.stderr);
        assert!(!d.join("out").exists(), "a refused run created its output");
    }
    // `--format` is a documented alias everywhere, of the one format each
    // command had it for.
    for c in ["extract", "dialogues", "merge", "run"] {
        let help = stdout_of(&d, &[c, "--help"]);
        assert!(help.contains("alias: --format"), "{c}:\n{help}");
    }
    let help = stdout_of(&d, &["run", "--help"]);
    assert!(help.contains("--table-format") && help.contains("--corpus-format"));
}

// ---- -o - ------------------------------------------------------------------

#[test]
fn dash_as_the_output_directory_is_a_usage_error() {
    let d = Dir::new();
    samples(&d, "in", 2);
    let cases: [&[&str]; 5] = [
        &["extract", "in", "-o", "-"],
        &["dialogues", "in", "-o", "-"],
        &["run", "in", "-o", "-"],
        &["run", "in", "-o", "out", "--keep-clean", "-"],
        &["samples", "-o", "-"],
    ];
    for args in cases {
        let r = d.cmd(args).timeout(T).expect_code(2);
        assert!(
            r.stderr
                .contains(" -: the outputs are files in a directory"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            !d.join("-").exists(),
            "{args:?} created a directory named -"
        );
        assert!(!d.join("out").exists(), "{args:?} created out");
    }
    // A directory really named - is still reachable as ./-.
    d.cmd(&["extract", "in", "-o", "./-", "-q"])
        .timeout(T)
        .expect_code(0);
    assert!(d.join("-/clean_data_0_1.xlsx").is_file());
}

// ---- --dry-run -------------------------------------------------------------

#[test]
fn extract_dry_run_touches_nothing_and_names_what_the_run_writes() {
    let d = Dir::new();
    samples(&d, "in", 5);
    let before = snapshot(&d);
    let text = d
        .cmd(&[
            "extract",
            "in",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--dry-run",
        ])
        .timeout(T)
        .expect_code(0)
        .stdout;
    assert!(
        !d.join("out").exists(),
        "the dry run created the output directory"
    );
    assert_eq!(snapshot(&d), before, "the dry run changed a file");
    for want in [
        "     0  in/chat_0001.csv",
        "     4  in/chat_0005.csv",
        "chunks: 3 (2 files each), 3 selected:",
        "files 2..=3 -> out/clean_data_2_3.xlsx",
        "  out/manifest.json",
    ] {
        assert!(text.contains(want), "plan lacks {want:?}:\n{text}");
    }
    let json = d
        .cmd(&[
            "extract",
            "in",
            "-o",
            "out",
            "--chunk-size",
            "2",
            "--dry-run=json",
        ])
        .timeout(T)
        .expect_code(0);
    assert!(!d.join("out").exists());
    let planned = planned_outputs(&json);
    d.cmd(&["extract", "in", "-o", "out", "--chunk-size", "2", "-q"])
        .timeout(T)
        .expect_code(0);
    assert_eq!(planned, visible_files(&d, "out"));
}

#[test]
fn dry_run_of_a_selection_plans_only_its_chunks() {
    let d = Dir::new();
    samples(&d, "in", 5);
    let args = [
        "extract",
        "in",
        "-o",
        "out",
        "--chunk-size",
        "2",
        "--chunks",
        "1..3",
        "--shard",
        "0/2",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run=json");
    let r = d.cmd(&dry).timeout(T).expect_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let idx: Vec<u64> = v["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["index"].as_u64().unwrap())
        .collect();
    assert_eq!(idx, vec![2], "{}", r.stdout);
    assert_eq!(v["files"].as_array().unwrap().len(), 5);
    assert_eq!(v["chunk_count"], 3);
    let planned = planned_outputs(&r);
    assert!(!d.join("out").exists());
    let mut real = args.to_vec();
    real.push("-q");
    d.cmd(&real).timeout(T).expect_code(0);
    assert_eq!(planned, visible_files(&d, "out"));
    // A selection of no chunk is refused by the dry run as by the run.
    let r = d
        .cmd(&[
            "extract",
            "in",
            "-o",
            "none",
            "--chunks",
            "9..",
            "--dry-run",
        ])
        .timeout(T)
        .expect_code(2);
    assert!(r.stderr.contains("--chunks"), "{}", r.stderr);
    assert!(!d.join("none").exists());
}

#[test]
fn run_dry_run_names_the_kept_tables_and_the_shard_corpus() {
    let d = Dir::new();
    samples(&d, "in", 4);
    let args = [
        "run",
        "in",
        "-o",
        "corpus",
        "--keep-clean",
        "kc",
        "--chunk-size",
        "1",
        "--shard",
        "1/2",
        "--corpus-format",
        "txt,jsonl",
        "--val-size",
        "1",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run=json");
    let r = d.cmd(&dry).timeout(T).expect_code(0);
    assert!(!d.join("corpus").exists() && !d.join("kc").exists());
    let planned = planned_outputs(&r);
    assert!(
        planned.contains("corpus/shard-1-of-2/jsonl/val.jsonl"),
        "{planned:?}"
    );
    let mut real = args.to_vec();
    real.push("-q");
    d.cmd(&real).timeout(T).expect_code(0);
    let mut written = visible_files(&d, "kc");
    written.extend(visible_files(&d, "corpus"));
    assert_eq!(planned, written);
}

#[test]
fn dialogues_dry_run_names_the_corpus_or_the_shards_part() {
    let d = Dir::new();
    samples(&d, "in", 3);
    let r = d
        .cmd(&[
            "dialogues",
            "in",
            "-o",
            "out",
            "--corpus-format",
            "txt,jsonl",
            "--dry-run=json",
        ])
        .timeout(T)
        .expect_code(0);
    let planned = planned_outputs(&r);
    assert!(!d.join("out").exists());
    d.cmd(&[
        "dialogues",
        "in",
        "-o",
        "out",
        "--corpus-format",
        "txt,jsonl",
        "--val-size",
        "0.1",
        "-q",
    ])
    .timeout(T)
    .expect_code(0);
    assert_eq!(planned, visible_files(&d, "out"));

    let text = d
        .cmd(&["dialogues", "in", "-o", "sh", "--shard", "1/2", "--dry-run"])
        .timeout(T)
        .expect_code(0)
        .stdout;
    assert!(text.contains("--shard 1/2 reads files 1..3"), "{text}");
    assert!(text.contains("sh/parts/part-1-of-2.bin"), "{text}");
    assert!(text.contains("sh/parts/part-1-of-2.json"), "{text}");
    assert!(!d.join("sh").exists());
    d.cmd(&["dialogues", "in", "-o", "sh", "--shard", "1/2", "-q"])
        .timeout(T)
        .expect_code(0);
    // The part and its manifest entry.
    assert_eq!(
        visible_files(&d, "sh"),
        BTreeSet::from([
            "sh/parts/part-1-of-2.bin".to_string(),
            "sh/parts/part-1-of-2.json".to_string()
        ])
    );
}

#[test]
fn dry_run_over_a_finished_run_changes_no_byte_and_takes_no_lock() {
    let d = Dir::new();
    samples(&d, "in", 3);
    d.cmd(&["extract", "in", "-o", "out", "-q"])
        .timeout(T)
        .expect_code(0);
    let before = snapshot(&d);
    d.cmd(&["extract", "in", "-o", "out", "--resume", "--dry-run"])
        .timeout(T)
        .expect_code(0);
    assert_eq!(snapshot(&d), before);
    let mtime = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let m = mtime(&d.join("out"));
    d.cmd(&["extract", "in", "-o", "out", "--dry-run"])
        .timeout(T)
        .expect_code(0);
    assert_eq!(
        mtime(&d.join("out")),
        m,
        "the dry run changed the directory"
    );
}

#[test]
fn dry_run_refuses_what_the_run_refuses_and_writes_no_report() {
    let d = Dir::new();
    let r = d
        .cmd(&["extract", "missing", "-o", "out", "--dry-run"])
        .timeout(T)
        .expect_code(2);
    assert!(r.stderr.contains("missing"), "{}", r.stderr);
    assert!(!d.join("out").exists());
    samples(&d, "in", 2);
    let r = d
        .cmd(&["run", "in", "-o", "out", "--dry-run", "--report", "r.json"])
        .timeout(T)
        .expect_code(2);
    assert!(r.stderr.contains("--dry-run=json"), "{}", r.stderr);
    assert!(!d.join("r.json").exists(), "a report was written");
    assert!(!d.join("out").exists());
}
