//! sheetsift against the reference workflow on random small inputs
//! (tests/oracle/prop_compare.py): xlsx, ods and CSV files drawn from a
//! seeded generator — value types, typed and duplicate headers, blank
//! lines, encodings, the 1904 date system — run through the reference
//! (tests/oracle/reference, in a Python environment made at test time by
//! tests/oracle/venv.sh from its pinned requirements) and through
//! sheetsift; extract values cell for cell, corpora byte for byte and exit
//! codes must be equal.
//!
//! CI runs a fixed seed and a bounded number of cases. Locally, run longer:
//! `SHEETSIFT_PROP_SEED=7 SHEETSIFT_PROP_CASES=2000 cargo test --release --test oracle_prop`.
//! Without Python or PyPI the test skips loudly, unless
//! `SHEETSIFT_REQUIRE_ENGINES=1` (as in CI), where a skip is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn skip_or_fail(why: &str) {
    if std::env::var("SHEETSIFT_REQUIRE_ENGINES").as_deref() == Ok("1") {
        panic!("the oracle environment is required (SHEETSIFT_REQUIRE_ENGINES=1): {why}");
    }
    eprintln!("\n*** SKIPPED: the reference could not run here: {why} ***\n");
}

/// The test-time Python environment with the reference's packages.
fn python() -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(root().join("tests/oracle/venv.sh"))
        .arg(root().join("target/oracle-venv"))
        .output()
        .map_err(|e| format!("bash: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "tests/oracle/venv.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn sheetsift_matches_the_reference_on_random_inputs() {
    let python = match python() {
        Ok(p) => p,
        Err(why) => return skip_or_fail(&why),
    };
    let seed = std::env::var("SHEETSIFT_PROP_SEED").unwrap_or_else(|_| "20261203".into());
    let cases = std::env::var("SHEETSIFT_PROP_CASES").unwrap_or_else(|_| "200".into());
    let keep = tempfile::tempdir().unwrap();
    let out = Command::new(&python)
        .arg(root().join("tests/oracle/prop_compare.py"))
        .args(["--seed", &seed, "--cases", &cases])
        .arg("--sheetsift")
        .arg(env!("CARGO_BIN_EXE_sheetsift"))
        .arg("--reference")
        .arg(root().join("tests/oracle/reference"))
        .arg("--keep")
        .arg(keep.path())
        .output()
        .expect("run prop_compare.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = stdout.lines().filter(|l| !l.contains(" same [")).collect();
    eprintln!("{}", summary.join("\n"));
    if !out.status.success() {
        let mut diffs = String::new();
        for e in std::fs::read_dir(keep.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(d) = std::fs::read_to_string(e.path().join("DIFFS.txt")) {
                diffs.push_str(&format!(
                    "== {}\n{}\n",
                    e.path().display(),
                    d.chars().take(3000).collect::<String>()
                ));
            }
        }
        panic!(
            "sheetsift differs from the reference (seed {seed}, {cases} cases):\n{}\n{diffs}\nstderr:\n{}",
            summary.join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(
        stdout.contains(&format!("{cases} cases (seed {seed}), 0 differ")),
        "the summary names every case:\n{stdout}"
    );
}

/// The reference kept in the repository is the shared one, byte for byte,
/// wherever the shared one is present (a development checkout).
#[test]
fn the_kept_reference_is_the_shared_one() {
    let shared = root().join("../shared/reference");
    if !shared.is_dir() {
        eprintln!("no ../shared/reference here; nothing to compare the kept copy with");
        return;
    }
    for f in ["workflow.py", "dump_cells.py", "requirements.txt"] {
        let kept = std::fs::read(root().join("tests/oracle/reference").join(f)).unwrap();
        let theirs = std::fs::read(shared.join(f)).unwrap();
        assert!(
            kept == theirs,
            "tests/oracle/reference/{f} differs from ../shared/reference/{f}: copy it again"
        );
    }
}
