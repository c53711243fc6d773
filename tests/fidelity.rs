//! Fidelity to the reference workflow: every fixture and oracle-made case,
//! extract values cell for cell, dialogue corpora byte for byte, and `run`
//! equal to `extract` followed by `dialogues`.

mod common;
use common::*;

const FIXTURES: [(&str, i32); 4] = [
    ("basic", 0),
    ("csv_gbk", 0),
    ("multi_sheet", 3),
    ("numeric_ids", 0),
];

#[test]
fn fixtures_extract_cell_for_cell() {
    for (case, code) in FIXTURES {
        let d = Dir::new();
        d.copy_from_tests(&format!("fixtures/{case}"), case);
        d.cmd(&["extract", &format!("{case}/input"), "-o", "out", "-q"])
            .expect_code(code);
        assert_cells(
            &d.join("out/clean_data_0_2.xlsx"),
            &d.join(&format!(
                "{case}/expected_extract/clean_data_0_2.xlsx.cells.csv"
            )),
        );
    }
}

#[test]
fn fixtures_dialogues_byte_for_byte() {
    for (case, code) in FIXTURES {
        let d = Dir::new();
        // Inputs are passed as the relative path `input`, as the fixtures were made.
        let root = d.copy_from_tests(&format!("fixtures/{case}"), case);
        let mut cmd = d.cmd(&["dialogues", "input", "-o", "out", "--val-size", "5", "-q"]);
        cmd.cmd.current_dir(&root);
        let r = cmd.run();
        assert_eq!(r.code, code, "{case}\n{}", r.report(&root));
        assert_same_corpus(&root.join("out"), &root.join("expected_dialogues"));
    }
}

/// Oracle-made cases (tests/oracle/make_cases.py): emoji classes and every
/// punctuation ending; numeric, mixed and float ids, duplicates within and
/// across files, NA strings, non-text content, multi-sheet files,
/// `--val-size` as a fraction and `--seed`; files that keep or break the
/// bet stage 2 makes while reading (one header, no numeric conversion).
#[test]
fn oracle_cases_extract_and_dialogues() {
    for case in ["emoji_punct", "ids_dups", "bets", "chain"] {
        let d = Dir::new();
        let root = d.copy_from_tests(&format!("cases/{case}"), case);
        let args = std::fs::read_to_string(root.join("ARGS")).unwrap();
        let mut argv = vec!["dialogues", "input", "-o", "out", "-q"];
        argv.extend(args.split_whitespace());
        let mut cmd = d.cmd(&argv);
        cmd.cmd.current_dir(&root);
        let r = cmd.run();
        assert_eq!(r.code, 0, "{case}\n{}", r.report(&root));
        assert_same_corpus(&root.join("out"), &root.join("expected_dialogues"));

        let mut cmd = d.cmd(&["extract", "input", "-o", "xout", "-q"]);
        cmd.cmd.current_dir(&root);
        assert_eq!(cmd.run().code, 0);
        for f in std::fs::read_dir(root.join("expected_extract")).unwrap() {
            let f = f.unwrap().path();
            let name = f
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .trim_end_matches(".cells.csv")
                .to_string();
            assert_cells(&root.join("xout").join(name), &f);
        }
    }
}

/// `run` equals the documented two steps on the reference's own
/// intermediate files (a column numeric only in the chunk output turns
/// numeric when stage 2 re-reads it), and equals sheetsift's own
/// `extract` + `dialogues`.
#[test]
fn run_equals_extract_then_dialogues() {
    let d = Dir::new();
    let root = d.copy_from_tests("cases/chain", "chain");
    let args: Vec<String> = std::fs::read_to_string(root.join("ARGS"))
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    let with = |base: &[&str]| {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        v.extend(args.iter().cloned());
        v
    };
    let run_args = with(&[
        "run",
        "chain/input",
        "-o",
        "run",
        "--chunk-size",
        "2",
        "-q",
        "--keep-clean",
        "kept",
    ]);
    d.cmd(&run_args.iter().map(String::as_str).collect::<Vec<_>>())
        .expect_code(0);
    d.cmd(&[
        "extract",
        "chain/input",
        "-o",
        "x",
        "--chunk-size",
        "2",
        "-q",
    ])
    .expect_code(0);
    let dia_args = with(&["dialogues", "x", "-o", "two", "-q"]);
    d.cmd(&dia_args.iter().map(String::as_str).collect::<Vec<_>>())
        .expect_code(0);
    assert_same_corpus(&d.join("run"), &root.join("expected_chain"));
    assert_same_corpus(&d.join("two"), &root.join("expected_chain"));
    for f in ["clean_data_0_1.xlsx", "clean_data_2_2.xlsx"] {
        assert_same_bytes(&d.join("kept").join(f), &d.join("x").join(f));
    }
}

#[test]
fn run_equals_extract_then_dialogues_on_generated_data() {
    let d = Dir::new();
    d.cmd(&[
        "samples", "-o", "in", "--files", "5", "--rows", "700", "--seed", "11", "-q",
    ])
    .expect_code(0);
    d.cmd(&[
        "run",
        "in",
        "-o",
        "run",
        "--chunk-size",
        "2",
        "--val-size",
        "0.2",
        "--seed",
        "3",
        "-q",
    ])
    .expect_code(0);
    d.cmd(&["extract", "in", "-o", "x", "--chunk-size", "2", "-q"])
        .expect_code(0);
    d.cmd(&[
        "dialogues",
        "x",
        "-o",
        "two",
        "--val-size",
        "0.2",
        "--seed",
        "3",
        "-q",
    ])
    .expect_code(0);
    assert_same_corpus(&d.join("run"), &d.join("two"));
}

/// Outputs are byte-identical whatever --jobs is, and across runs.
#[test]
fn outputs_do_not_depend_on_jobs_or_runs() {
    let d = Dir::new();
    d.cmd(&["samples", "-o", "in", "--files", "6", "--rows", "500", "-q"])
        .expect_code(0);
    for (j, out) in [("1", "a"), ("8", "b"), ("8", "c"), ("2", "d")] {
        d.cmd(&[
            "extract",
            "in",
            "-o",
            &format!("x{out}"),
            "-j",
            j,
            "--chunk-size",
            "4",
            "-q",
        ])
        .expect_code(0);
        d.cmd(&[
            "extract",
            "in",
            "-o",
            &format!("c{out}"),
            "-j",
            j,
            "--format",
            "csv",
            "-q",
        ])
        .expect_code(0);
        d.cmd(&[
            "dialogues",
            "in",
            "-o",
            &format!("d{out}"),
            "-j",
            j,
            "--val-size",
            "0.1",
            "--format",
            "txt,jsonl",
            "-q",
        ])
        .expect_code(0);
    }
    for out in ["b", "c", "d"] {
        for f in ["clean_data_0_3.xlsx", "clean_data_4_5.xlsx"] {
            assert_same_bytes(&d.join(&format!("x{out}/{f}")), &d.join(&format!("xa/{f}")));
        }
        assert_same_bytes(
            &d.join(&format!("c{out}/clean_data_0_5.csv")),
            &d.join("ca/clean_data_0_5.csv"),
        );
        assert_same_corpus(&d.join(&format!("d{out}")), &d.join("da"));
        for f in ["jsonl/train.jsonl", "jsonl/val.jsonl"] {
            assert_same_bytes(&d.join(&format!("d{out}/{f}")), &d.join(&format!("da/{f}")));
        }
    }
}
