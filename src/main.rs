//! The `sheetsift` binary: parse, dispatch, print the summary or the error,
//! exit with the code `error::exit` defines. Nothing else.

use std::io::Write;
use std::process::ExitCode;

use sheetsift::cli::Cli;
use sheetsift::cmd;
use sheetsift::cmd::plan::Planned;
use sheetsift::config::{Invocation, Job};
use sheetsift::error::{Error, Exit};
use sheetsift::outdir::preflight;
use sheetsift::progress::eprint_line;
use sheetsift::report::{Envelope, Report};

// Reading allocates one small box per text cell; glibc malloc spent ~20% of
// stage 2 in perf profiles, mimalloc a fraction of that. Built without its
// transparent-huge-page advice (`no_thp`): with it, every arena page purged
// and touched again was a 2 MiB fault zeroed by the kernel, 10-12% of
// `dialogues` in perf (`clear_page_erms`), sys time 0.49 s -> 0.19 s without.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The report's clock and command line, taken before anything else.
    let (started, started_at) = (std::time::Instant::now(), std::time::SystemTime::now());
    // A reader child (read/isolate.rs): xls, xlsb and ods are read in a
    // separate process under resource limits.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == sheetsift::read::isolate::CHILD_ARG)
    {
        return ExitCode::from(sheetsift::read::isolate::child_main(&args[2..]) as u8);
    }
    // A panic is a bug: say so plainly, without a backtrace dump. Worker and
    // writer threads catch theirs and report them as that file's or that
    // output's error, so the hook stays silent there.
    std::panic::set_hook(Box::new(|info| {
        let caught = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("sheetsift-"));
        if caught && std::env::var_os("SHEETSIFT_LOG_PANICS").is_none() {
            return;
        }

        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        let _ = writeln!(std::io::stderr(), "sheetsift: internal error{at}: {msg}");
    }));
    let cli = match Cli::try_parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage.code() as u8
            } else {
                Exit::Ok.code() as u8
            });
        }
    };
    if let Ok(exe) = std::env::current_exe() {
        sheetsift::read::isolate::enable(exe);
    }
    if let Err(e) = sheetsift::interrupt::install() {
        eprint_line(&format!("sheetsift: cannot install signal handlers: {e}"));
    }
    let Invocation {
        command,
        quiet,
        report,
        report_html,
        job,
    } = Invocation::from_cli(cli);
    let argv = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut envelope = Envelope::start(argv, started_at);
    envelope.options = job.as_ref().ok().and_then(|j| j.report_options());
    // Fail before working: a --report that cannot be written is a usage
    // error now, not after the whole job.
    let job = job.and_then(|job| match &report {
        Some(p) => preflight::check_report_path(p)
            .map(|()| job)
            .map_err(Error::Usage),
        None => Ok(job),
    });
    let job = job.and_then(|job| match &report_html {
        Some(p) => preflight::check_report_path_of("--report-html", p)
            .map(|()| job)
            .map_err(Error::Usage),
        None => Ok(job),
    });
    let result = job.and_then(|job| match job {
        Job::Extract(cfg) => match cfg.dry_run {
            Some(f) => cmd::plan::run(Planned::Extract, &cfg, f).map(|()| None),
            None => cmd::extract::run(&cfg).map(Some),
        },
        Job::Dialogues(cfg) => match cfg.dry_run {
            Some(f) => cmd::plan::run(Planned::Dialogues, &cfg, f).map(|()| None),
            None => cmd::dialogues::run(&cfg).map(Some),
        },
        Job::Merge(cfg) => cmd::merge::run(&cfg).map(Some),
        Job::Run(cfg) => match cfg.dry_run {
            Some(f) => cmd::plan::run(Planned::Run, &cfg, f).map(|()| None),
            None => cmd::run::run(&cfg).map(Some),
        },
        Job::Samples(cfg) => cmd::samples::run(&cfg).map(|()| None),
        Job::Completions(shell) => cmd::completions::completions(shell).map(|()| None),
        Job::Man => cmd::completions::man().map(|()| None),
    });
    let code = match result {
        Ok(Some(mut summary)) => {
            summary.stamp(envelope, started.elapsed(), std::time::SystemTime::now());
            if !quiet {
                eprint_line(&summary.human());
            } else if summary.exit_code != 0 {
                eprint_line(&summary.verdict);
            }
            if let Some(p) = &report {
                if let Err(e) = summary.write_json(p) {
                    eprint_line(&format!("sheetsift: {e}"));
                    return ExitCode::from(Exit::Fatal.code() as u8);
                }
            }
            if let Some(p) = &report_html {
                if let Err(e) = summary.write_html(p) {
                    eprint_line(&format!("sheetsift: {e}"));
                    return ExitCode::from(Exit::Fatal.code() as u8);
                }
            }
            summary.exit_code
        }
        Ok(None) => Exit::Ok.code(),
        Err(e) => {
            // Other threads may still be writing: remove their temporaries.
            sheetsift::interrupt::remove_temporaries();
            eprint_line(&format!("sheetsift: error: {e}"));
            // The report of a run that stopped still says which command
            // ran, with what, and why it stopped (`error`), and no counts.
            if report.is_some() || report_html.is_some() {
                let mut r = Report::failed(command, &e);
                r.stamp(envelope, started.elapsed(), std::time::SystemTime::now());
                // Best effort: the error itself may be that the report's
                // directory is unwritable, and it was printed above.
                if let Some(p) = &report {
                    let _ = r.write_json(p);
                }
                if let Some(p) = &report_html {
                    let _ = r.write_html(p);
                }
            }
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}
