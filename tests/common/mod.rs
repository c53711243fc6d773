//! The integration-test harness: runs the real `sheetsift` binary in a
//! temporary directory, and on failure prints the command, the directory
//! listing, stdout and stderr (as ripgrep's and fd's harnesses do).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A temporary working directory for one test.
pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// Copy a tree from the repository's tests/ into this directory.
    pub fn copy_from_tests(&self, from: &str, to: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join(from);
        let dst = self.join(to);
        copy_tree(&src, &dst);
        dst
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// `sheetsift ARGS` run with this directory as the working directory.
    pub fn cmd(&self, args: &[&str]) -> Cmd {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sheetsift"));
        c.args(args).current_dir(self.path());
        Cmd {
            cmd: c,
            dir: self.path().to_path_buf(),
            timeout: Duration::from_secs(300),
        }
    }

    /// Every file below this directory, relative, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut v: Vec<String> = walk(self.path())
            .into_iter()
            .map(|p| p.strip_prefix(self.path()).unwrap().display().to_string())
            .collect();
        v.sort();
        v
    }
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// `copies` more copies of every file in `dir` (`NAME-copyK.EXT`): input
/// that takes seconds to process, whatever the machine, for a test that
/// must signal a run while it works.
#[allow(dead_code)]
pub fn add_copies(dir: &Path, copies: usize) {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for p in files {
        let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
        let ext = p
            .extension()
            .map_or(String::new(), |e| format!(".{}", e.to_str().unwrap()));
        for k in 1..=copies {
            std::fs::copy(&p, p.with_file_name(format!("{stem}-copy{k}{ext}"))).unwrap();
        }
    }
}

pub fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
            let mut perm = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).unwrap();
        }
    }
}

/// A command about to run.
pub struct Cmd {
    pub cmd: Command,
    dir: PathBuf,
    timeout: Duration,
}

/// What a run produced.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub description: String,
}

impl Cmd {
    pub fn env(mut self, k: &str, v: &str) -> Cmd {
        self.cmd.env(k, v);
        self
    }

    pub fn timeout(mut self, d: Duration) -> Cmd {
        self.timeout = d;
        self
    }

    /// Start without waiting (stdout/stderr piped).
    pub fn spawn(mut self) -> std::process::Child {
        use std::process::Stdio;
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sheetsift")
    }

    /// Run to completion (killed after the timeout, which fails the test).
    pub fn run(mut self) -> Run {
        use std::process::Stdio;
        let description = format!("{:?}", self.cmd);
        let mut child = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sheetsift");
        let started = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "TIMEOUT after {:?}: {description}\nstderr:\n{}",
                    self.timeout,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let out: Output = child.wait_with_output().unwrap();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            description,
        };
        assert!(
            !run.stderr.contains("panicked at") && !run.stderr.contains("internal error"),
            "a panic reached the user:\n{}",
            run.report(&self.dir)
        );
        // Every JSON report a test makes the binary write is checked
        // against the schema and its semantics, right after the run (its
        // outputs are as the run left them).
        let cwd = self
            .cmd
            .get_current_dir()
            .map_or_else(|| self.dir.clone(), Path::to_path_buf);
        if let Some(rel) = report_arg(&self.cmd) {
            let path = cwd.join(rel);
            if path.is_file() {
                check_report(&path, &cwd, run.code);
            }
        }
        run
    }

    /// Run and assert the exit code.
    pub fn expect_code(self, code: i32) -> Run {
        let dir = self.dir.clone();
        let r = self.run();
        if r.code != code {
            panic!(
                "expected exit code {code}, got {}\n{}",
                r.code,
                r.report(&dir)
            );
        }
        r
    }
}

impl Run {
    pub fn report(&self, dir: &Path) -> String {
        let listing: Vec<String> = walk(dir)
            .iter()
            .map(|p| p.strip_prefix(dir).unwrap_or(p).display().to_string())
            .collect();
        format!(
            "command: {}\ncwd: {}\nexit code: {}\nfiles:\n  {}\nstdout:\n{}\nstderr:\n{}",
            self.description,
            dir.display(),
            self.code,
            listing.join("\n  "),
            self.stdout,
            self.stderr
        )
    }
}

/// Assert two files are byte-identical, showing the first differing line.
pub fn assert_same_bytes(got: &Path, want: &Path) {
    let g = std::fs::read(got).unwrap_or_else(|e| panic!("{}: {e}", got.display()));
    let w = std::fs::read(want).unwrap_or_else(|e| panic!("{}: {e}", want.display()));
    if g != w {
        let gs = String::from_utf8_lossy(&g);
        let ws = String::from_utf8_lossy(&w);
        let line = gs
            .lines()
            .zip(ws.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(gs.lines().count().min(ws.lines().count()));
        panic!(
            "{} differs from {} at line {}:\n got: {:?}\nwant: {:?}",
            got.display(),
            want.display(),
            line + 1,
            gs.lines().nth(line),
            ws.lines().nth(line)
        );
    }
}

/// The four corpus files of a dialogues output, relative to its root.
pub const CORPUS: [&str; 4] = [
    "std/train.txt",
    "std/val.txt",
    "mmi/train.txt",
    "mmi/val.txt",
];

pub fn assert_same_corpus(got: &Path, want: &Path) {
    for f in CORPUS {
        assert_same_bytes(&got.join(f), &want.join(f));
    }
}

/// A typed dump of an xlsx (all sheets' data rows concatenated, header
/// once), in the token format of the reference's `dump_cells.py`, read
/// with calamine: an independent reader of what sheetsift wrote.
pub fn dump_xlsx(path: &Path) -> Vec<Vec<String>> {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut wb: Xlsx<_> = open_workbook(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<Vec<String>> = Vec::new();
    for name in wb.sheet_names() {
        let range = wb.worksheet_range(&name).unwrap();
        let width = range.width();
        for (i, row) in range.rows().enumerate() {
            if i == 0 && !out.is_empty() {
                continue; // the header repeats on overflow sheets
            }
            let mut r: Vec<String> = row.iter().map(token).collect();
            r.resize(width, String::new());
            out.push(r);
        }
        fn token(c: &Data) -> String {
            match c {
                Data::Empty => String::new(),
                Data::String(s) => format!("s:{}", escape(s)),
                Data::Int(i) => format!("n:{i}"),
                Data::Float(f) => {
                    if f.fract() == 0.0 && f.abs() < 9.2e18 {
                        format!("n:{}", *f as i64)
                    } else {
                        format!("n:{}", sheetsift::value::py_float_repr(*f))
                    }
                }
                Data::Bool(b) => if *b { "b:TRUE" } else { "b:FALSE" }.into(),
                Data::DateTime(d) => {
                    let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
                    let mut t = format!("d:{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}");
                    if ms != 0 {
                        t.push_str(&format!(".{ms:03}"));
                    }
                    t
                }
                other => format!("?:{other:?}"),
            }
        }
    }
    out
}

/// `dump_cells.py`'s text escaping.
pub fn escape(s: &str) -> String {
    let mut o = String::new();
    for ch in s.chars() {
        match ch {
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                o.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}

/// Rows of a `.cells.csv` dump.
pub fn read_cells_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The token an xlsx cell must dump as, for a token of the reference's
/// DataFrame dump. The `t:` (time of day) and `D:` (duration) tokens of
/// tests/oracle/dump_cells_ext.py are mapped to what pandas' `to_excel`
/// writes for them, which is what the reference's own chunk file holds and
/// what its stage 2 re-reads: a time as the text `str(time)`, a duration
/// as the number `total_seconds() / 86400`, and an infinite number (which
/// no xlsx cell can hold) as the text `inf` / `-inf` (`inf_rep`). Every
/// other token is itself.
pub fn written_token(want: &str) -> String {
    if let Some(t) = want.strip_prefix("t:") {
        return format!("s:{t}");
    }
    if want == "n:inf" || want == "n:-inf" {
        return format!("s:{}", &want[2..]);
    }
    if let Some(d) = want.strip_prefix("D:") {
        let micros = parse_py_timedelta(d).unwrap_or_else(|| panic!("bad duration token {want:?}"));
        // Python's total_seconds() is micros / 10**6, correctly rounded;
        // f64 division is too while micros is below 2^53 (104 days).
        let days = micros as f64 / 1e6 / 86400.0;
        return if days.fract() == 0.0 && days.abs() < 9.2e18 {
            format!("n:{}", days as i64)
        } else {
            format!("n:{}", sheetsift::value::py_float_repr(days))
        };
    }
    want.to_string()
}

/// Microseconds of a Python `str(datetime.timedelta)`:
/// `[-]D day[s], H:MM:SS[.ffffff]` or `H:MM:SS[.ffffff]`.
pub fn parse_py_timedelta(s: &str) -> Option<i128> {
    let (days, clock) = match s.split_once(", ") {
        Some((d, rest)) => {
            let n = d.strip_suffix(" days").or_else(|| d.strip_suffix(" day"))?;
            (n.parse::<i128>().ok()?, rest)
        }
        None => (0, s),
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) if f.len() == 6 => (a, f.parse::<i128>().ok()?),
        Some(_) => return None,
        None => (clock, 0),
    };
    let mut parts = hms.split(':').map(|p| p.parse::<i128>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some() {
        return None;
    }
    Some(((days * 24 + h) * 60 + m) * 60_000_000 + sec * 1_000_000 + frac)
}

/// Assert an xlsx output holds exactly the cells of a dump, cell for cell
/// (`t:` and `D:` tokens as [`written_token`] maps them).
pub fn assert_cells(xlsx: &Path, cells_csv: &Path) {
    let got = dump_xlsx(xlsx);
    let want: Vec<Vec<String>> = read_cells_csv(cells_csv)
        .iter()
        .map(|r| r.iter().map(String::as_str).map(written_token).collect())
        .collect();
    assert_eq!(
        got.len(),
        want.len(),
        "{}: row count differs from {}",
        xlsx.display(),
        cells_csv.display()
    );
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "{}: row {} differs from {}",
            xlsx.display(),
            i + 1,
            cells_csv.display()
        );
    }
}

/// The JSON report of a run.
/// The `--report FILE` of a command line (also inside a `bash -c`
/// script).
pub fn report_arg(cmd: &Command) -> Option<String> {
    let words: Vec<String> = cmd
        .get_args()
        .flat_map(|a| {
            a.to_string_lossy()
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if w == "--report" {
            words.get(i + 1).cloned()
        } else {
            w.strip_prefix("--report=").map(str::to_string)
        }
    })
}

/// The report v1 schema, compiled once.
pub fn report_validator() -> &'static jsonschema::Validator {
    static V: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("src/report.schema.json"),
        )
        .unwrap();
        let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the report schema compiles")
    })
}

/// Why a report breaks the schema (empty: it conforms).
pub fn schema_errors(report: &serde_json::Value) -> Vec<String> {
    report_validator()
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Lowercase hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Check one JSON report: it conforms to the schema, and what the schema
/// cannot say holds: the exit code is the process's, the timestamps are
/// in order, each output's bytes and hash are the file's (paths relative
/// to `cwd`), every written chunk is among the outputs, and the per-file
/// rows sum to the totals. Returns the report.
pub fn check_report(path: &Path, cwd: &Path, code: i32) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let errors = schema_errors(&r);
    assert!(
        errors.is_empty(),
        "{} breaks the report schema:\n{}\n{text}",
        path.display(),
        errors.join("\n")
    );
    assert_eq!(r["exit_code"], code, "{text}");
    let (start, end) = (
        r["started_at"].as_str().unwrap(),
        r["finished_at"].as_str().unwrap(),
    );
    // Fixed-width RFC 3339 UTC (the schema's pattern): order as strings.
    assert!(start <= end, "finished before it started: {text}");
    let u = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    for o in r["outputs"].as_array().into_iter().flatten() {
        let file = cwd.join(o["path"].as_str().unwrap());
        assert_eq!(o["bytes"], std::fs::metadata(&file).unwrap().len(), "{o}");
        assert_eq!(o["sha256"], sha256_file(&file), "{o}");
    }
    for c in r["chunks"].as_array().into_iter().flatten() {
        if c["status"] == "written" {
            assert!(
                r["outputs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|o| o["path"] == c["output"]),
                "written chunk not among the outputs: {c}"
            );
        }
    }
    if let Some(files) = r["files"].as_array() {
        let sum = |f: &dyn Fn(&serde_json::Value) -> &serde_json::Value| -> u64 {
            files.iter().map(|e| u(f(e))).sum()
        };
        assert_eq!(
            sum(&|e| &e["rows_read"]),
            u(&r["rows_read"]),
            "rows_read: {text}"
        );
        let read = files.iter().filter(|e| e["status"] != "skipped").count();
        assert_eq!(read as u64, u(&r["files_selected"]), "files read: {text}");
        let failed = files.iter().filter(|e| e["status"] == "failed").count();
        assert_eq!(
            failed,
            r["files_failed"].as_array().unwrap().len(),
            "{text}"
        );
        if r.get("rows_kept").is_some() {
            assert_eq!(sum(&|e| &e["rows_kept"]), u(&r["rows_kept"]), "{text}");
            for reason in ["missing", "system"] {
                assert_eq!(
                    sum(&|e| &e["rows_dropped"][reason]),
                    u(&r["rows_dropped"][reason]),
                    "dropped {reason}: {text}"
                );
            }
        } else {
            let d = &r["dialogues"];
            assert_eq!(sum(&|e| &e["rows_read"]), u(&d["rows_read"]), "{text}");
            for (reason, total) in [
                ("missing", "rows_dropped_missing"),
                ("duplicate", "rows_dropped_duplicate"),
            ] {
                assert_eq!(
                    sum(&|e| &e["rows_dropped"][reason]),
                    u(&d[total]),
                    "dropped {reason}: {text}"
                );
            }
        }
    }
    r
}

pub fn report_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The members of a zip, in order: (name, inflated bytes).
pub fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut v = Vec::new();
            f.read_to_end(&mut v).unwrap();
            (f.name().unwrap().into_owned(), v)
        })
        .collect()
}

/// What a run under limits produced: the run, its peak resident set
/// (the process and every child it waited for, from `wait4`), and its
/// wall time.
pub struct Limited {
    pub run: Run,
    pub peak_rss_mib: u64,
    pub elapsed: Duration,
}

impl Cmd {
    /// Run under an address-space limit (`setrlimit(RLIMIT_AS)`, as
    /// `prlimit --as` does) and a wall-clock timeout; report peak RSS.
    /// A hostile input must not take the run down even so: the caller
    /// asserts the exit code, the time and the memory.
    pub fn run_limited(mut self, address_space: u64, timeout: Duration) -> Limited {
        use std::os::unix::process::CommandExt;
        use std::process::Stdio;
        self.timeout = timeout;
        let description = format!("{:?}", self.cmd);
        unsafe {
            self.cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: address_space as libc::rlim_t,
                    rlim_max: address_space as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = self
            .cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sheetsift");
        let pid = child.id() as libc::pid_t;
        let started = Instant::now();
        // Drain the pipes on threads so a chatty run cannot block.
        let mut child = child;
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let t_out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut out, &mut v);
            v
        });
        let t_err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = std::io::Read::read_to_end(&mut err, &mut v);
            v
        });
        let mut status: libc::c_int = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let mut timed_out = false;
        loop {
            let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
            if r == pid {
                break;
            }
            assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
            if !timed_out && started.elapsed() > self.timeout {
                timed_out = true;
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&t_out.join().unwrap()).into_owned();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            128 + libc::WTERMSIG(status)
        };
        let run = Run {
            code,
            stdout,
            stderr,
            description,
        };
        assert!(
            !timed_out,
            "TIMEOUT after {:?}\n{}",
            self.timeout,
            run.report(&self.dir)
        );
        assert!(
            !run.stderr.contains("panicked at") && !run.stderr.contains("internal error"),
            "a panic reached the user:\n{}",
            run.report(&self.dir)
        );
        Limited {
            run,
            peak_rss_mib: usage.ru_maxrss as u64 / 1024,
            elapsed,
        }
    }
}
