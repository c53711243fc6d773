//! The `sheetsift` binary: parse, dispatch, print the summary or the error,
//! exit with the code `error::exit` defines. Nothing else.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use sheetsift::cli::Cli;
use sheetsift::cmd;
use sheetsift::config::{Invocation, Job};
use sheetsift::error::{Error, Exit};
use sheetsift::outdir::preflight;
use sheetsift::progress::eprint_line;
use sheetsift::report::Report;

// Reading allocates one small box per text cell; glibc malloc spent ~20% of
// stage 2 in perf profiles, mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // A reader child (read/isolate.rs): xls, xlsb and ods are read in a
    // separate process under resource limits.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == sheetsift::read::isolate::CHILD_ARG) {
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
    let cli = match Cli::try_parse() {
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
    let Invocation { quiet, report, job } = Invocation::from_cli(cli);
    // Fail before working: a --report that cannot be written is a usage
    // error now, not after the whole job.
    let job = job.and_then(|job| match &report {
        Some(p) => preflight::check_report_path(p)
            .map(|()| job)
            .map_err(Error::Usage),
        None => Ok(job),
    });
    let result = job.and_then(|job| match job {
        Job::Extract(cfg) => cmd::extract::run(&cfg).map(Some),
        Job::Dialogues(cfg) => cmd::dialogues::run(&cfg).map(Some),
        Job::Merge(cfg) => cmd::merge::run(&cfg).map(Some),
        Job::Run(cfg) => cmd::run::run(&cfg).map(Some),
        Job::Samples(cfg) => cmd::samples::run(&cfg).map(|()| None),
    });
    let code = match result {
        Ok(Some(summary)) => {
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
            summary.exit_code
        }
        Ok(None) => Exit::Ok.code(),
        Err(e) => {
            // Other threads may still be writing: remove their temporaries.
            sheetsift::interrupt::remove_temporaries();
            eprint_line(&format!("sheetsift: error: {e}"));
            if let Some(p) = &report {
                let mut r = Report::new("failed");
                r.notes.push(e.to_string());
                r.finish(std::time::Duration::ZERO, e.exit());
                let _ = r.write_json(p);
            }
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}
