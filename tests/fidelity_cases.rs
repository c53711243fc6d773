//! Fidelity on what real exports contain: the oracle-made cases of
//! tests/cases/README.md (times and durations, 1904 workbooks, header rows,
//! CSV forms, GB18030, 64-bit ids, xls and ods values), one test each.
//!
//! A case directory holds `input/`, `ARGS` (the dialogues options),
//! `expected_dialogues/`, `expected_extract/*.cells.csv` (the reference's
//! DataFrame dump, with the `t:`/`D:` tokens of
//! tests/oracle/dump_cells_ext.py), an `EXIT` file when the reference does
//! not exit 0, and `expected_chain/` when the reference's stage 2 on its own
//! chunk files differs in kind (`run` must give that). Each test checks all
//! of its parts and reports every failing one, not only the first.

mod common;
use common::*;

use std::path::Path;

/// The expected exit codes (extract, dialogues): `EXIT` holds one code for
/// both, or `extract N` / `dialogues N` lines; no file means 0.
fn expected_exit(root: &Path) -> (i32, i32) {
    let Ok(text) = std::fs::read_to_string(root.join("EXIT")) else {
        return (0, 0);
    };
    let (mut x, mut d) = (0, 0);
    for line in text.lines() {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            [n] => {
                let n = n.parse().expect("EXIT code");
                return (n, n);
            }
            ["extract", n] => x = n.parse().expect("EXIT extract code"),
            ["dialogues", n] => d = n.parse().expect("EXIT dialogues code"),
            [] => {}
            _ => panic!("bad EXIT line {line:?}"),
        }
    }
    (x, d)
}

/// Run one part of a case, keeping its panic message instead of stopping.
fn part(failures: &mut Vec<String>, name: &str, f: impl FnOnce()) {
    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        failures.push(format!("--- {name}:\n{msg}"));
    }
}

fn run_case(case: &str) {
    let d = Dir::new();
    let root = d.copy_from_tests(&format!("cases/{case}"), case);
    let args = std::fs::read_to_string(root.join("ARGS")).expect("ARGS");
    let args: Vec<&str> = args.split_whitespace().collect();
    let (want_extract, want_dialogues) = expected_exit(&root);
    let mut failures = Vec::new();

    part(&mut failures, "dialogues", || {
        let mut argv = vec!["dialogues", "input", "-o", "out", "-q"];
        argv.extend(&args);
        let mut cmd = d.cmd(&argv);
        cmd.cmd.current_dir(&root);
        let r = cmd.run();
        assert_eq!(r.code, want_dialogues, "{case}\n{}", r.report(&root));
        if root.join("expected_dialogues").is_dir() {
            assert_same_corpus(&root.join("out"), &root.join("expected_dialogues"));
        } else {
            // The reference wrote no corpus: neither may sheetsift.
            let written: Vec<_> = common::walk(&root.join("out"))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "txt" || e == "jsonl"))
                .collect();
            assert!(written.is_empty(), "{case}: corpus written: {written:?}");
        }
    });

    part(&mut failures, "extract", || {
        let mut cmd = d.cmd(&["extract", "input", "-o", "xout", "-q"]);
        cmd.cmd.current_dir(&root);
        let r = cmd.run();
        assert_eq!(r.code, want_extract, "{case}\n{}", r.report(&root));
        // No expected_extract directory: the reference wrote no chunk (git
        // keeps no empty directory).
        let mut want: Vec<String> = std::fs::read_dir(root.join("expected_extract"))
            .into_iter()
            .flatten()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|n| n.strip_suffix(".cells.csv").map(String::from))
            .collect();
        want.sort();
        let mut got: Vec<String> = std::fs::read_dir(root.join("xout"))
            .map(|rd| {
                rd.map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".xlsx"))
                    .collect()
            })
            .unwrap_or_default();
        got.sort();
        assert_eq!(got, want, "{case}: extract outputs");
        for name in &want {
            assert_cells(
                &root.join("xout").join(name),
                &root
                    .join("expected_extract")
                    .join(format!("{name}.cells.csv")),
            );
        }
    });

    if root.join("expected_chain").is_dir() {
        // The reference's two steps on its own chunk files (make_cases.py
        // run_chain: --chunk-size 2), which `run` must equal.
        part(&mut failures, "run (chain)", || {
            let mut argv = vec!["run", "input", "-o", "run", "--chunk-size", "2", "-q"];
            argv.extend(&args);
            let mut cmd = d.cmd(&argv);
            cmd.cmd.current_dir(&root);
            let r = cmd.run();
            assert_eq!(r.code, want_dialogues, "{case}\n{}", r.report(&root));
            assert_same_corpus(&root.join("run"), &root.join("expected_chain"));
        });
    }

    assert!(
        failures.is_empty(),
        "case {case}: {} part(s) differ from the reference\n{}",
        failures.len(),
        failures.join("\n")
    );
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_case(stringify!($name));
            }
        )*
        const CASES: &[&str] = &[$(stringify!($name)),*];
    };
}

cases!(
    times,
    date1904,
    header_blank,
    header_types,
    csv_blank_lines,
    csv_forms,
    csv_trailing_comma,
    gb18030_map,
    gb18030_invalid,
    ids64,
    xls_types,
    ods_types,
    chain_floats,
    // Found by tests/oracle/prop_compare.py (seed 7), kept as cases:
    // an xlsx number beyond a float's range fails the file in pandas;
    prop_xlsx_float_overflow,
    // an ods header cell `NA` is the column name `NA`;
    prop_ods_header_na,
    // a --val-size one dialogue cannot meet exits 1 as sklearn's error.
    prop_val_size_one_dialogue,
);

/// Every case directory with the fidelity layout has a test above (the four
/// older cases are run by tests/fidelity.rs).
#[test]
fn every_case_directory_is_tested() {
    let older = ["emoji_punct", "ids_dups", "bets", "chain"];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("ARGS").exists())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| !older.contains(&n.as_str()))
        .collect();
    found.sort();
    let mut listed: Vec<String> = CASES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "tests/cases directories vs the cases! list");
}

#[test]
fn duration_tokens_map_to_what_to_excel_writes() {
    assert_eq!(written_token("D:1 day, 2:00:00"), "n:1.0833333333333333");
    assert_eq!(written_token("D:-1 day, 12:00:00"), "n:-0.5");
    assert_eq!(written_token("D:2 days, 0:00:00"), "n:2");
    assert_eq!(written_token("D:0:00:00.500000"), "n:5.787037037037037e-06");
    assert_eq!(written_token("t:09:30:00"), "s:09:30:00");
    assert_eq!(written_token("n:-inf"), "s:-inf");
    assert_eq!(written_token("n:12"), "n:12");
}

/// The deliberate difference of `csv_trailing_comma` (README "Values,
/// exactly"): rows with one field more than the header are a file error
/// that names the file and the line, where pandas would shift every column
/// name one place right.
#[test]
fn trailing_comma_rows_are_a_file_error_naming_the_file() {
    let d = Dir::new();
    let root = d.copy_from_tests("cases/csv_trailing_comma", "case");
    let mut cmd = d.cmd(&["extract", "input", "-o", "xout"]);
    cmd.cmd.current_dir(&root);
    let r = cmd.run();
    assert_eq!(r.code, 3, "{}", r.report(&root));
    assert!(
        r.stderr
            .contains("a_rows_only.csv: line 2: expected 6 fields, saw 7"),
        "{}",
        r.report(&root)
    );
}
