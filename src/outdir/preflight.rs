//! Fail before working, and say what to do.
//!
//! Everything checkable up front is checked before any input is read or
//! any directory created: the inputs exist, `-o` is not a file, the
//! `--report` file can be created. A run that could only fail at its end
//! (the report's directory missing) wasted the whole job; a run that
//! created its output directory before finding its input missing left an
//! empty directory behind.
//!
//! The texts of the errors a user can fix themselves live here too, each
//! naming the flag (or config key) that fixes it: nothing selected, a
//! `--val-size` the corpus cannot meet, a missing column, a missing sheet,
//! `dialogues` pointed at raw exports.

use std::path::{Path, PathBuf};

fn parent_dir(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Every input argument exists (no walk, nothing opened).
pub fn check_inputs_exist(inputs: &[PathBuf]) -> Result<(), String> {
    for i in inputs {
        if std::fs::metadata(i).is_err() {
            return Err(format!("input not found: {}", i.display()));
        }
    }
    Ok(())
}

/// `-o DIR` is a directory or can become one (not created here).
pub fn check_out_dir(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if !m.is_dir() => Err(format!(
            "{}: output path exists and is not a directory",
            dir.display()
        )),
        _ => Ok(()),
    }
}

/// `--report FILE` can be written: its directory exists and takes a new
/// file (probed with a temporary that is removed at once), and FILE is
/// not a directory.
pub fn check_report_path(path: &Path) -> Result<(), String> {
    check_report_path_of("--report", path)
}

/// [`check_report_path`] for the report flag `flag` (`--report-html`).
pub fn check_report_path_of(flag: &str, path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("{flag} {}: is a directory", path.display()));
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(format!(
            "{flag} {}: directory {} does not exist; create it first",
            path.display(),
            dir.display()
        ));
    }
    tempfile::Builder::new()
        .prefix(".sheetsift-report-probe.")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| {
            format!(
                "{flag} {}: cannot write in {}: {e}",
                path.display(),
                dir.display()
            )
        })
}

/// No spreadsheet among the inputs.
pub fn nothing_found(inputs: &[PathBuf]) -> String {
    let list: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    format!(
        "no input file found in {} (kept: .xlsx .xlsm .xlsb .xls .ods .csv; hidden files, ~$ lock files and sheetsift's own outputs are skipped)",
        list.join(", ")
    )
}

/// A `--chunks`/`--shard` selection that matches no chunk. `selection` is
/// the flag as given (`--chunks 10..20`).
pub fn nothing_selected(selection: &str, files: usize, chunk_size: usize, chunks: usize) -> String {
    format!(
        "{selection} selects no chunk: the {files} input file{} make{} {chunks} chunk{} of --chunk-size {chunk_size} (0..{chunks})",
        if files == 1 { "" } else { "s" },
        if files == 1 { "s" } else { "" },
        if chunks == 1 { "" } else { "s" },
    )
}

/// A `--val-size` that leaves no split of `n` dialogues: the count, and a
/// fraction that works.
pub fn val_size_advice(val_size: f64, n: usize) -> String {
    if n < 2 {
        return format!(
            "--val-size {val_size}: only {n} dialogue{} found, and a train/val split needs at least 2",
            if n == 1 { " was" } else { "s were" }
        );
    }
    let fraction = 0.1;
    let val = ((fraction * n as f64).ceil() as usize).clamp(1, n - 1);
    let what = if val_size <= 0.0 {
        "must be above 0".to_string()
    } else {
        format!("leaves no training set with the {n} dialogues found")
    };
    format!(
        "--val-size {val_size} {what}: give a count below {n} or a fraction, e.g. --val-size {fraction} ({val} dialogue{} for validation)",
        if val == 1 { "" } else { "s" }
    )
}

/// The flag and config key of each required column, in the order of
/// `ReadOptions::required` (agent, customer, role, content).
pub const COLUMN_SETTINGS: [(&str, &str); 4] = [
    ("--agent-col", "agent"),
    ("--customer-col", "customer"),
    ("--role-col", "role"),
    ("--content-col", "content"),
];

/// "missing column X in sheet S", with the sheet's headers and where to
/// set the name. `which` is the column's place in `COLUMN_SETTINGS`.
pub fn missing_column(column: &str, sheet: &str, headers: &[String], which: usize) -> String {
    let (flag, key) = COLUMN_SETTINGS[which.min(3)];
    format!(
        "missing column {column} in sheet {sheet} (its columns: {}); set {flag} or `{key}` in [columns] of --config",
        headers.join(", ")
    )
}

/// "no sheet named X", with the sheets there are.
pub fn no_such_sheet(name: &str, sheets: &[String]) -> String {
    format!("no sheet named {name} (sheets: {})", sheets.join(", "))
}

/// `dialogues` on directories or files that no extract wrote.
pub fn raw_inputs_warning(raw: &[PathBuf]) -> String {
    let list: Vec<String> = raw.iter().map(|p| p.display().to_string()).collect();
    format!(
        "warning: {} {} not extract output (no sheetsift manifest): dialogues does not filter system messages; for raw exports use `sheetsift run` (or `sheetsift extract` first)",
        list.join(", "),
        if raw.len() == 1 { "is" } else { "are" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        assert!(check_report_path(&r.join("r.json")).is_ok());
        assert!(
            std::fs::read_dir(r).unwrap().next().is_none(),
            "the probe is gone"
        );
        let e = check_report_path(&r.join("no/such/dir/r.json")).unwrap_err();
        assert!(
            e.starts_with("--report ") && e.contains("no/such/dir"),
            "{e}"
        );
        assert!(check_report_path(r).unwrap_err().contains("is a directory"));
        std::fs::write(r.join("file"), "x").unwrap();
        assert!(check_report_path(&r.join("file/r.json")).is_err());
        assert!(check_out_dir(&r.join("file"))
            .unwrap_err()
            .contains("not a directory"));
        assert!(check_out_dir(&r.join("new")).is_ok());
        assert!(!r.join("new").exists(), "checked, not created");
        assert!(check_inputs_exist(&[r.join("file"), r.to_path_buf()]).is_ok());
        assert_eq!(
            check_inputs_exist(&[PathBuf::from("nope/")]).unwrap_err(),
            "input not found: nope/"
        );
    }

    #[test]
    fn texts_name_what_to_do() {
        assert_eq!(
            nothing_selected("--chunks 10..20", 6, 2, 3),
            "--chunks 10..20 selects no chunk: the 6 input files make 3 chunks of --chunk-size 2 (0..3)"
        );
        assert!(nothing_found(&["empty".into()]).starts_with("no input file found in empty ("));
        let v = val_size_advice(10000.0, 168);
        assert_eq!(
            v,
            "--val-size 10000 leaves no training set with the 168 dialogues found: give a count below 168 or a fraction, e.g. --val-size 0.1 (17 dialogues for validation)"
        );
        assert!(val_size_advice(0.0, 168).starts_with("--val-size 0 must be above 0"));
        assert!(val_size_advice(0.5, 1).contains("only 1 dialogue was found"));
        assert!(val_size_advice(3.0, 2).contains("(1 dialogue for validation)"));
        let headers: Vec<String> = ["坐席id", "客户微信id", "是否客服", "消息内容"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            missing_column("内容", "Sheet1", &headers, 3),
            "missing column 内容 in sheet Sheet1 (its columns: 坐席id, 客户微信id, 是否客服, 消息内容); set --content-col or `content` in [columns] of --config"
        );
        assert_eq!(
            no_such_sheet("Nope", &["Sheet1".into(), "说明".into()]),
            "no sheet named Nope (sheets: Sheet1, 说明)"
        );
        let w = raw_inputs_warning(&["in".into()]);
        assert!(
            w.contains("in is not extract output") && w.contains("`sheetsift run`"),
            "{w}"
        );
    }
}
