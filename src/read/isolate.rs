//! xls, xlsb and ods are read in a child process under resource limits.
//!
//! Why: these formats are parsed by calamine, third-party code that trusts
//! what a file declares. A 5 KB `.xls` whose DIMENSIONS record claims a huge
//! range makes it allocate gigabytes, an OLE sector chain that loops makes it
//! grow forever, an `.ods` whose `content.xml` never closes its table makes
//! it spin at 100% CPU. An allocation failure aborts the process (Rust cannot
//! catch it) and an endless loop cannot be interrupted from outside a
//! thread, so in process one such file would take the whole run down. The
//! fix that holds for every such bug, found or not, is to read these files
//! in a child — the same `sheetsift` binary, started with a hidden first
//! argument — limited with `setrlimit` to [`MEMORY_LIMIT`] of address space
//! and a CPU-time budget that grows with the file's size. The child streams
//! the cells it reads to the parent over a pipe; the parent turns them into
//! rows exactly as the in-process reader does. If the child dies, runs out
//! of its limits or is killed by the wall-clock watchdog, that file gets a
//! named error and the run goes on. A signal to sheetsift kills the child at
//! once. Patching calamine instead would fix only the bugs known today.
//!
//! Cost: one process start per file (about 5 ms) and a copy of the kept
//! cells through a pipe; xlsx and CSV, the formats of nearly every real
//! export, are read by sheetsift's own bounded readers and never come here.
//!
//! Progress: the child reads the file whole through calamine, so the
//! parent cannot tell how far into the file it is; the reading bar's
//! bytes for these files move when each file is done (the rows read still
//! count as the child's cells arrive). xlsx and CSV move within a file
//! ([`crate::progress::ByteCount`]).

use std::ffi::OsString;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::collect::{Collector, RowAssembler, SheetBuilder};
use super::excel::{format_of, read_cells, CellSink};
use crate::error::FileErrorKind;
use crate::value::Value;

/// The hidden first argument that makes `sheetsift` a reader child.
pub const CHILD_ARG: &str = "__read-cells";

/// Address space a reader child may use. Generous for real files (a full
/// 65,536-row `.xls` needs a fraction of it), and it keeps one hostile file
/// well under the 1 GiB a run may use per file in flight.
pub const MEMORY_LIMIT: u64 = 1 << 30;

/// CPU seconds a child gets: a base, plus this many per MiB of file.
/// calamine reads a MiB of these formats in well under a second.
pub const CPU_BASE_SECONDS: u64 = 3;
pub const CPU_SECONDS_PER_MIB: u64 = 1;

/// Wall-clock budget: a multiple of the CPU budget plus a margin. A child
/// on a machine whose cores are all busy gets a fraction of a core, and
/// must meet its CPU limit first (the reason that names the file's fault);
/// the watchdog is for a child blocked on nothing.
const WALL_FACTOR: u32 = 10;
const WALL_MARGIN: Duration = Duration::from_secs(30);

static EXE: OnceLock<PathBuf> = OnceLock::new();

/// Read xls/xlsb/ods through children of `exe` (the running binary).
/// Without this call (library use, unit tests) they are read in process.
pub fn enable(exe: PathBuf) {
    let _ = EXE.set(exe);
}

pub(super) fn enabled() -> bool {
    EXE.get().is_some()
}

// The pipe protocol: one tag byte, then the fields. Strings are a u32
// length and UTF-8 bytes; numbers are little-endian.
const SKIPPED: u8 = b'N';
const BEGIN: u8 = b'B';
const CELL: u8 = b'C';
const END: u8 = b'E';
const FAILED: u8 = b'X';
const DONE: u8 = b'Z';

/// The child's side: `sheetsift __read-cells EXT PATH [SHEET]`. Returns
/// the process exit code.
pub fn child_main(args: &[OsString]) -> i32 {
    let (Some(ext), Some(path)) = (args.first().and_then(|e| e.to_str()), args.get(1)) else {
        eprintln!("sheetsift {CHILD_ARG}: usage: EXT PATH [SHEET]");
        return 2;
    };
    let sheet = args.get(2).map(|s| s.to_string_lossy().into_owned());
    let out = std::io::stdout().lock();
    let mut sink = Pipe {
        out: BufWriter::with_capacity(1 << 16, out),
        sheet,
        broken: false,
    };
    let result = read_cells(Path::new(path), ext, &mut sink);
    let mut w = sink.out;
    let sent = match result {
        Ok(()) => w.write_all(&[DONE]),
        Err(kind) => write_error(&mut w, &kind),
    };
    if sent.and_then(|()| w.flush()).is_err() {
        return 1;
    }
    0
}

struct Pipe<W: Write> {
    out: W,
    sheet: Option<String>,
    broken: bool,
}

impl<W: Write> Pipe<W> {
    fn send(&mut self, f: impl FnOnce(&mut W) -> std::io::Result<()>) -> Result<(), FileErrorKind> {
        if f(&mut self.out).is_err() {
            // The parent went away (it was interrupted): stop reading.
            self.broken = true;
            return Err(FileErrorKind::Interrupted);
        }
        Ok(())
    }
}

impl<W: Write> CellSink for Pipe<W> {
    fn sheet(&mut self, name: &str) -> bool {
        let wanted = self.sheet.as_deref().is_none_or(|s| s == name);
        let tag = if wanted { BEGIN } else { SKIPPED };
        let _ = self.send(|w| {
            w.write_all(&[tag])?;
            write_str(w, name)
        });
        wanted && !self.broken
    }

    fn cell(&mut self, r: u32, col: u32, v: Value) -> Result<(), FileErrorKind> {
        if v.is_missing() {
            return Ok(());
        }
        self.send(|w| {
            w.write_all(&[CELL])?;
            w.write_all(&r.to_le_bytes())?;
            w.write_all(&col.to_le_bytes())?;
            write_value(w, &v)
        })
    }

    fn end_sheet(&mut self) {
        let _ = self.send(|w| w.write_all(&[END]));
    }
}

fn write_str(w: &mut impl Write, s: &str) -> std::io::Result<()> {
    w.write_all(&(s.len() as u32).to_le_bytes())?;
    w.write_all(s.as_bytes())
}

fn write_value(w: &mut impl Write, v: &Value) -> std::io::Result<()> {
    match v {
        Value::Empty => w.write_all(&[0]),
        Value::Text(s) => {
            w.write_all(&[1])?;
            write_str(w, s)
        }
        Value::Int(i) => {
            w.write_all(&[2])?;
            w.write_all(&i.to_le_bytes())
        }
        Value::BigInt(i) => {
            w.write_all(&[3])?;
            w.write_all(&i.to_le_bytes())
        }
        Value::Float(f) => {
            w.write_all(&[4])?;
            w.write_all(&f.to_le_bytes())
        }
        Value::Bool(b) => w.write_all(&[5, *b as u8]),
        Value::DateTime(f) => {
            w.write_all(&[6])?;
            w.write_all(&f.to_le_bytes())
        }
        Value::Time(us) => {
            w.write_all(&[7])?;
            w.write_all(&us.to_le_bytes())
        }
        Value::Duration(us) => {
            w.write_all(&[8])?;
            w.write_all(&us.to_le_bytes())
        }
    }
}

fn write_error(w: &mut impl Write, kind: &FileErrorKind) -> std::io::Result<()> {
    w.write_all(&[FAILED])?;
    match kind {
        FileErrorKind::Encrypted => w.write_all(&[0]),
        FileErrorKind::Corrupt { format, detail } => {
            w.write_all(&[1])?;
            write_str(w, format)?;
            write_str(w, detail)
        }
        other => {
            w.write_all(&[2])?;
            write_str(w, &other.to_string())
        }
    }
}

/// Reads the child's messages. Every length is bounded by what the child
/// could have held (it ran under [`MEMORY_LIMIT`]), and nothing is
/// reserved from a length before its bytes arrive.
struct Messages<R: Read> {
    r: R,
}

impl<R: Read> Messages<R> {
    fn tag(&mut self) -> Option<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b).ok().map(|()| b[0])
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).ok().map(|()| b)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as u64;
        if len > MEMORY_LIMIT {
            return None;
        }
        let mut buf = Vec::new();
        (&mut self.r).take(len).read_to_end(&mut buf).ok()?;
        if buf.len() as u64 != len {
            return None;
        }
        String::from_utf8(buf).ok()
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.tag()? {
            0 => Value::Empty,
            1 => Value::Text(self.string()?.into_boxed_str()),
            2 => Value::Int(i64::from_le_bytes(self.array()?)),
            3 => Value::BigInt(Box::new(i128::from_le_bytes(self.array()?))),
            4 => Value::Float(f64::from_le_bytes(self.array()?)),
            5 => Value::Bool(self.tag()? != 0),
            6 => Value::DateTime(f64::from_le_bytes(self.array()?)),
            7 => Value::Time(u64::from_le_bytes(self.array()?)),
            8 => Value::Duration(i64::from_le_bytes(self.array()?)),
            _ => return None,
        })
    }

    fn error(&mut self) -> Option<FileErrorKind> {
        Some(match self.tag()? {
            0 => FileErrorKind::Encrypted,
            1 => {
                let format = match self.string()?.as_str() {
                    "xls" => "xls",
                    "xlsb" => "xlsb",
                    _ => "ods",
                };
                FileErrorKind::Corrupt {
                    format,
                    detail: self.string()?,
                }
            }
            _ => FileErrorKind::Corrupt {
                format: "spreadsheet",
                detail: self.string()?,
            },
        })
    }
}

/// How the child's message stream ended.
enum Ended {
    Done,
    Failed(FileErrorKind),
    /// The parent stopped reading (a signal).
    Interrupted,
    /// The stream broke off: the child died; its exit status says why.
    Cut,
}

/// The parent's side: read `path` in a limited child, feeding `c`.
pub(super) fn read(
    path: &Path,
    ext: &str,
    c: &mut Collector<'_, '_, '_>,
) -> Result<(), FileErrorKind> {
    let exe = EXE.get().expect("isolation enabled");
    let format = format_of(ext);
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let cpu = CPU_BASE_SECONDS + CPU_SECONDS_PER_MIB * size.div_ceil(1 << 20);
    let wall = Duration::from_secs(cpu) * WALL_FACTOR + WALL_MARGIN;

    let mut cmd = Command::new(exe);
    cmd.arg(CHILD_ARG).arg(ext).arg(path);
    if let Some(sheet) = &c.opts.sheet {
        cmd.arg(sheet);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_BACKTRACE", "0");
    // SAFETY: only async-signal-safe calls (setrlimit) between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            limit(libc::RLIMIT_AS, MEMORY_LIMIT, MEMORY_LIMIT)?;
            // SIGXCPU at the soft limit, SIGKILL a second later.
            limit(libc::RLIMIT_CPU, cpu, cpu + 1)?;
            // An abort in the child must not leave a core file behind.
            limit(libc::RLIMIT_CORE, 0, 0)
        });
    }
    let mut child = cmd.spawn().map_err(|e| FileErrorKind::Corrupt {
        format,
        detail: format!("cannot start the isolated {format} reader: {e}"),
    })?;
    let pid = child.id() as libc::pid_t;

    // The watchdog kills the child on a signal to sheetsift or when the
    // wall-clock budget is spent. It is joined before the child is reaped,
    // so the pid it may kill is always still this child's.
    let stop = Arc::new(AtomicBool::new(false));
    let timed_out = Arc::new(AtomicBool::new(false));
    let watchdog = {
        let (stop, timed_out) = (Arc::clone(&stop), Arc::clone(&timed_out));
        std::thread::Builder::new()
            .name("sheetsift-watchdog".into())
            .spawn(move || {
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if crate::interrupt::requested() || started.elapsed() > wall {
                        timed_out.store(!crate::interrupt::requested(), Ordering::Relaxed);
                        // SAFETY: the child is not reaped before this thread ends.
                        unsafe { libc::kill(pid, libc::SIGKILL) };
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
    };

    let stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    // stderr is drained beside stdout, so a chatty child cannot block.
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = (&mut stderr).take(64 << 10).read_to_end(&mut v);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        v
    });
    let ended = relay(
        &mut Messages {
            r: BufReader::with_capacity(1 << 16, stdout),
        },
        c,
    );
    if matches!(ended, Ended::Interrupted) {
        // SAFETY: as above, the child is not reaped yet.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    stop.store(true, Ordering::Relaxed);
    if let Ok(w) = watchdog {
        let _ = w.join();
    }
    let status = child.wait();
    let stderr = err_reader.join().unwrap_or_default();
    match ended {
        Ended::Done => Ok(()),
        Ended::Failed(kind) => Err(kind),
        Ended::Interrupted => Err(FileErrorKind::Interrupted),
        Ended::Cut if crate::interrupt::requested() => Err(FileErrorKind::Interrupted),
        Ended::Cut => Err(why_it_died(
            format,
            status.ok(),
            &stderr,
            cpu,
            timed_out.load(Ordering::Relaxed).then_some(wall),
        )),
    }
}

fn limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    // SAFETY: a plain system call on a stack value.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Turn the child's messages into rows for the collector.
fn relay<R: Read>(m: &mut Messages<R>, c: &mut Collector<'_, '_, '_>) -> Ended {
    let mut open: Option<(SheetBuilder, RowAssembler)> = None;
    loop {
        let Some(tag) = m.tag() else {
            return Ended::Cut;
        };
        match tag {
            SKIPPED => {
                let Some(name) = m.string() else {
                    return Ended::Cut;
                };
                c.wants(&name);
            }
            BEGIN => {
                let Some(name) = m.string() else {
                    return Ended::Cut;
                };
                if c.wants(&name) {
                    let mut b = c.sheet(&name);
                    b.raw_na = true;
                    open = Some((b, RowAssembler::default()));
                }
            }
            CELL => {
                let (Some(r), Some(col), Some(v)) = (m.u32(), m.u32(), m.value()) else {
                    return Ended::Cut;
                };
                if let Some((b, rows)) = open.as_mut() {
                    rows.push(c, b, r, col, v);
                }
                if c.interrupted {
                    return Ended::Interrupted;
                }
            }
            END => {
                if let Some((mut b, rows)) = open.take() {
                    rows.finish(c, &mut b);
                    c.end_sheet(b);
                }
            }
            FAILED => {
                return match m.error() {
                    Some(kind) => Ended::Failed(kind),
                    None => Ended::Cut,
                }
            }
            DONE => return Ended::Done,
            _ => return Ended::Cut,
        }
    }
}

/// The error for a child that died without a last word.
fn why_it_died(
    format: &'static str,
    status: Option<std::process::ExitStatus>,
    stderr: &[u8],
    cpu: u64,
    wall: Option<Duration>,
) -> FileErrorKind {
    let said = String::from_utf8_lossy(stderr);
    // The child's first line says it (backtraces are switched off there).
    let said = said
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let signal = status.and_then(|s| s.signal());
    if let Some(wall) = wall {
        return FileErrorKind::Limit(format!(
            "the {format} reader did not finish within {} s (wall clock); the file \
             is damaged or built to make readers loop",
            wall.as_secs()
        ));
    }
    if signal == Some(libc::SIGXCPU) || signal == Some(libc::SIGKILL) {
        return FileErrorKind::Limit(format!(
            "the {format} reader used its {cpu} s of CPU time without finishing \
             (limit: {CPU_BASE_SECONDS} s + {CPU_SECONDS_PER_MIB} s per MiB of file); \
             the file is damaged or built to make readers loop"
        ));
    }
    if said.contains("memory allocation")
        || said.contains("out of memory")
        || said.contains("capacity overflow")
    {
        return FileErrorKind::Limit(format!(
            "reading it needs more than the {} MiB of memory an {format} file may use \
             ({said}); the file declares sizes far beyond its contents, or its used \
             range is too large to hold",
            MEMORY_LIMIT >> 20
        ));
    }
    let how = match (signal, status.and_then(|s| s.code())) {
        (Some(sig), _) => format!("signal {sig}"),
        (None, Some(code)) => format!("exit code {code}"),
        (None, None) => "no exit status".to_string(),
    };
    FileErrorKind::Corrupt {
        format,
        detail: if said.is_empty() {
            format!("the {format} reader crashed ({how})")
        } else {
            format!("the {format} reader crashed ({how}): {said}")
        },
    }
}
