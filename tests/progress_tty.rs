//! The progress bar on a real terminal: sheetsift runs inside tmux on
//! generated samples big enough to take a few seconds, the pane is
//! captured several times while it runs, and the bar must show bytes,
//! files, rows read with rows/s, and move between captures. On one big
//! file its bytes and ETA must move while that file is being read. With
//! `-q`, or with stderr piped, nothing but the summary and errors appears.
//!
//! tmux comes from tests/engine/tmux.sh (installed with apt-get when
//! missing). Where it cannot be had the tests skip loudly;
//! SHEETSIFT_REQUIRE_ENGINES=1 turns the skip into a failure.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Dir;

/// tmux's path, or None after a loud skip message.
fn tmux() -> Option<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/engine/tmux.sh");
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("run tmux.sh");
    match out.status.code() {
        Some(0) => Some(String::from_utf8_lossy(&out.stdout).trim().to_string()),
        Some(3) => {
            let why = String::from_utf8_lossy(&out.stderr);
            if std::env::var("SHEETSIFT_REQUIRE_ENGINES").as_deref() == Ok("1") {
                panic!("tmux unavailable and SHEETSIFT_REQUIRE_ENGINES=1: {why}");
            }
            eprintln!("################################################################");
            eprintln!("# progress_tty: SKIPPED: tmux unavailable: {}", why.trim());
            eprintln!("# The progress bar was NOT checked on a terminal.");
            eprintln!("################################################################");
            None
        }
        c => panic!(
            "tmux.sh failed ({c:?}): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A tmux server of its own (its own socket), killed when dropped.
struct Tmux {
    bin: String,
    socket: String,
}

impl Tmux {
    fn start(bin: String, name: &str, cwd: &Path, shell_cmd: &str) -> Tmux {
        let socket = format!("sheetsift-{name}-{}", std::process::id());
        let t = Tmux { bin, socket };
        let st = Command::new(&t.bin)
            .args(["-L", &t.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "220", "-y", "20", "-c"])
            .arg(cwd)
            .arg(shell_cmd)
            .env("TERM", "xterm-256color")
            .status()
            .expect("start tmux");
        assert!(st.success(), "tmux new-session failed");
        t
    }

    fn capture(&self) -> String {
        let out = Command::new(&self.bin)
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Capture every 200 ms until `done` appears in the pane; all captures.
    fn watch(&self, done: &str, limit: Duration) -> Vec<String> {
        self.watch_every(Duration::from_millis(200), done, limit)
    }

    /// Capture every `every` until `done` appears in the pane; all captures.
    fn watch_every(&self, every: Duration, done: &str, limit: Duration) -> Vec<String> {
        let t0 = Instant::now();
        let mut caps = Vec::new();
        loop {
            std::thread::sleep(every);
            let c = self.capture();
            let finished = c.contains(done);
            caps.push(c);
            if finished {
                return caps;
            }
            assert!(
                t0.elapsed() < limit,
                "no {done:?} after {limit:?}; last pane:\n{}",
                caps.last().unwrap()
            );
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.bin)
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// Three 600,000-row xlsx files (~110 MB, more than a second to extract:
/// at 200,000 rows a file, extract got fast enough to finish between two
/// of the 200 ms captures).
fn samples(dir: &Dir) {
    dir.cmd(&[
        "samples", "-q", "-o", "in", "--files", "3", "--rows", "600000",
    ])
    .expect_code(0);
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sheetsift")
}

/// The bar's lines among the captures (the pane row holding "rows read").
fn bar_lines(caps: &[String], prefix: &str) -> Vec<String> {
    caps.iter()
        .flat_map(|c| c.lines())
        .filter(|l| l.contains(prefix) && l.contains("rows read"))
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn bar_moves_by_rows_on_a_terminal_through_both_stages() {
    let Some(tmux) = tmux() else { return };
    let dir = Dir::new();
    samples(&dir);
    let cmd = format!(
        "{b} extract -o out in; echo EXIT1=$?; {b} dialogues -o corpus out; echo EXIT2=$?; sleep 60",
        b = bin()
    );
    let t = Tmux::start(tmux, "moves", dir.path(), &cmd);
    let caps = t.watch("EXIT2=", Duration::from_secs(120));
    let last = caps.last().unwrap();
    assert!(last.contains("EXIT1=0"), "extract failed:\n{last}");
    assert!(last.contains("EXIT2=0"), "dialogues failed:\n{last}");

    let bars = bar_lines(&caps, "extract");
    eprintln!("extract bar captures:\n{}", bars.join("\n"));
    assert!(
        bars.len() >= 3,
        "too few captures of the extract bar: {bars:#?}"
    );
    for l in &bars {
        assert!(l.contains("rows read ("), "no rows read: {l}");
        assert!(l.contains("/s)"), "no rows/s: {l}");
        assert!(l.contains("MiB"), "no bytes: {l}");
        assert!(l.contains("/3 files"), "no files: {l}");
    }
    let mut distinct = bars.clone();
    distinct.dedup();
    assert!(
        distinct.len() >= 3,
        "the bar did not move between captures: {bars:#?}"
    );
    // Rows read grow from one capture to a later one.
    let count = |l: &str| -> u64 {
        let i = l.find(" rows read").unwrap();
        let head = &l[..i];
        let num = head.rsplit(' ').next().unwrap().replace(',', "");
        num.parse().unwrap()
    };
    assert!(
        count(bars.last().unwrap()) > count(&bars[0]),
        "rows read did not grow: {bars:#?}"
    );
    // The writer's rows show while the chunk is written.
    assert!(
        bars.iter()
            .any(|l| l.contains("rows written") && l.contains("writing chunk")),
        "no capture shows the chunk being written: {bars:#?}"
    );
    // Stage 2 has its bar too (a short stage: seen at least once).
    let d = bar_lines(&caps, "dialogues");
    eprintln!("dialogues bar captures:\n{}", d.join("\n"));
    assert!(!d.is_empty(), "no capture of the dialogues bar");
    // The bar is cleared at the end: the summary stays, the bar does not.
    assert!(!last.contains("rows read ("), "bar left on screen:\n{last}");
    assert!(last.contains("elapsed:"), "no summary:\n{last}");
}

#[test]
fn quiet_on_a_terminal_shows_no_bar_and_no_summary() {
    let Some(tmux) = tmux() else { return };
    let dir = Dir::new();
    samples(&dir);
    let cmd = format!("{} extract -q -o out in; echo EXIT=$?; sleep 60", bin());
    let t = Tmux::start(tmux, "quiet", dir.path(), &cmd);
    let caps = t.watch("EXIT=", Duration::from_secs(120));
    for c in &caps {
        let shown: Vec<&str> = c.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(
            shown.is_empty() || shown == ["EXIT=0"],
            "-q showed something on the terminal: {shown:#?}"
        );
    }
    assert!(caps.last().unwrap().contains("EXIT=0"));
}

#[test]
fn piped_stderr_gets_the_summary_only() {
    let dir = Dir::new();
    dir.cmd(&[
        "samples", "-q", "-o", "in", "--files", "2", "--rows", "30000",
    ])
    .expect_code(0);
    let run = dir.cmd(&["extract", "-o", "out", "in"]).expect_code(0);
    assert!(
        !run.stderr.contains("rows read ("),
        "bar on a pipe:\n{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\r') && !run.stderr.contains('\x1b'),
        "terminal codes on a pipe:\n{:?}",
        run.stderr
    );
    let first = run.stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("files: 2 found"),
        "stderr is not the summary:\n{}",
        run.stderr
    );
    let run = dir
        .cmd(&["dialogues", "--val-size", "0.1", "-o", "corpus", "out"])
        .expect_code(0);
    assert!(
        !run.stderr.contains("rows read (") && !run.stderr.contains('\x1b'),
        "bar on a pipe:\n{}",
        run.stderr
    );
}

/// A reading bar's line, parsed: bytes read, total bytes, files done, the
/// ETA's text.
#[derive(Debug, Clone, PartialEq)]
struct Reading {
    pos: f64,
    total: f64,
    files_done: String,
    eta: String,
}

/// `12.34 MiB` (indicatif's HumanBytes) in bytes.
fn bytes(text: &str) -> f64 {
    let mut it = text.split_whitespace();
    let (n, unit) = (it.next().unwrap(), it.next().unwrap());
    let n: f64 = n
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {text:?}"));
    let scale = match unit {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        u => panic!("unit {u:?} in {text:?}"),
    };
    n * scale
}

/// `⠚ extract [00:00:00] ===>   14.26 MiB/61.65 MiB · 0/1 files · ... ETA 2 seconds`
fn parse_reading(line: &str) -> Reading {
    let parts: Vec<&str> = line.split(" · ").collect();
    let (left, total) = parts[0].rsplit_once('/').expect("bytes/total");
    let words: Vec<&str> = left.split_whitespace().collect();
    let pos = words[words.len() - 2..].join(" ");
    let files_done = parts[1].split('/').next().unwrap().trim().to_string();
    let eta = line.rsplit_once("ETA ").expect("ETA").1.trim().to_string();
    Reading {
        pos: bytes(&pos),
        total: bytes(total),
        files_done,
        eta,
    }
}

/// The captures of `prefix`'s reading bar taken while its one file was
/// being read: some bytes read, not all, no file done yet.
fn inside_the_file(caps: &[String], prefix: &str) -> Vec<Reading> {
    let lines = bar_lines(caps, prefix);
    eprintln!("{prefix} bar captures:\n{}", lines.join("\n"));
    let all: Vec<Reading> = lines.iter().map(|l| parse_reading(l)).collect();
    for r in &all {
        assert!(r.pos <= r.total, "past the total: {r:?}");
    }
    // Never backwards.
    for w in all.windows(2) {
        assert!(w[1].pos >= w[0].pos, "the bar went back: {w:?}");
    }
    all.into_iter()
        .filter(|r| r.files_done == "0" && r.pos > 0.0 && r.pos < r.total)
        .collect()
}

/// The checks on one big file's reading bar.
fn moves_within_the_file(caps: &[String], prefix: &str) {
    let inside = inside_the_file(caps, prefix);
    assert!(
        !inside.is_empty(),
        "no capture of {prefix} with part of its one file read"
    );
    let mut positions: Vec<u64> = inside.iter().map(|r| r.pos as u64).collect();
    positions.dedup();
    assert!(
        positions.len() >= 2,
        "{prefix}'s bytes did not move while its one file was read: {inside:#?}"
    );
    assert!(
        inside
            .iter()
            .any(|r| r.eta != "?" && !r.eta.starts_with("0 ")),
        "no ETA while {prefix}'s one file was read: {inside:#?}"
    );
}

#[test]
fn one_big_file_moves_by_bytes_and_eta_while_it_is_read() {
    let Some(tmux) = tmux() else { return };
    let dir = Dir::new();
    // One file of about 60 MB: a second or more of reading, each stage,
    // read by one job. With two, the one file's sheet is parsed on both
    // cores and read in under a second now, so the ETA never shows a
    // whole second (this test failed so once extract got faster).
    dir.cmd(&[
        "samples", "-q", "-o", "in", "--files", "1", "--rows", "1000000",
    ])
    .expect_code(0);
    let cmd = format!(
        "{b} extract -j 1 -o out in; echo EXIT1=$?; {b} dialogues -j 1 -o corpus out; echo EXIT2=$?; sleep 60",
        b = bin()
    );
    let t = Tmux::start(tmux, "onefile", dir.path(), &cmd);
    let caps = t.watch_every(
        Duration::from_millis(100),
        "EXIT2=",
        Duration::from_secs(120),
    );
    let last = caps.last().unwrap();
    assert!(last.contains("EXIT1=0"), "extract failed:\n{last}");
    assert!(last.contains("EXIT2=0"), "dialogues failed:\n{last}");
    moves_within_the_file(&caps, "extract");
    moves_within_the_file(&caps, "dialogues");
    // Done, the bar stood on the whole file.
    let done: Vec<Reading> = bar_lines(&caps, "extract")
        .iter()
        .map(|l| parse_reading(l))
        .filter(|r| r.files_done == "1")
        .collect();
    for r in &done {
        assert_eq!(r.pos, r.total, "a done file short of its size: {r:?}");
    }
    writing_moves_after_reading(&caps, "extract");
}

/// Once every byte is read, the bar runs over the rows written (the
/// file's rows handed over, the chunk compressed): its count and ETA keep
/// moving to the end.
fn writing_moves_after_reading(caps: &[String], prefix: &str) {
    let lines: Vec<&str> = caps
        .iter()
        .flat_map(|c| c.lines())
        .filter(|l| l.contains(prefix) && l.contains(" rows written · "))
        .collect();
    eprintln!("{prefix} writing captures:\n{}", lines.join("\n"));
    let number = |t: &str| t.replace(',', "").parse::<u64>().ok();
    let counts: Vec<(u64, u64)> = lines
        .iter()
        .filter_map(|l| {
            let head = l.split_once(" rows written · ")?.0;
            let (written, total) = head.rsplit_once(' ')?.1.split_once('/')?;
            Some((number(written)?, number(total)?))
        })
        .collect();
    let moving: Vec<&(u64, u64)> = counts.iter().filter(|(w, t)| w < t).collect();
    assert!(
        moving.len() >= 2 && moving.first() != moving.last(),
        "no capture of {prefix} with its rows being written after the read:\n{}",
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|l| {
            let eta = l.rsplit_once("ETA ").map_or("", |e| e.1.trim());
            !eta.is_empty() && eta != "0s" && eta != "?"
        }),
        "no ETA while {prefix} was writing:\n{}",
        lines.join("\n")
    );
}
