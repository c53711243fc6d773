//! The `sheetsift` binary: parse, dispatch, print the summary or the error,
//! exit with the code `error::exit` defines. Nothing else.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use sheetsift::cli::{Cli, Command};
use sheetsift::cmd;
use sheetsift::config::Config;
use sheetsift::error::{exit, Error};
use sheetsift::report::Report;

// Reading allocates one small box per text cell; glibc malloc spent ~20% of
// stage 2 in perf profiles, mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
                exit::USAGE as u8
            } else {
                exit::OK as u8
            });
        }
    };
    if let Err(e) = sheetsift::interrupt::install() {
        eprintln!("sheetsift: cannot install signal handlers: {e}");
    }
    let (quiet, report_path, result) = dispatch(cli);
    let code = match result {
        Ok(Some(report)) => {
            if !quiet {
                eprintln!("{}", report.human());
            } else if report.exit_code != 0 {
                eprintln!("{}", report.verdict);
            }
            if let Some(p) = &report_path {
                if let Err(e) = report.write_json(p) {
                    eprintln!("sheetsift: {e}");
                    return ExitCode::from(exit::FATAL as u8);
                }
            }
            report.exit_code
        }
        Ok(None) => exit::OK,
        Err(e) => {
            // Other threads may still be writing: remove their temporaries.
            sheetsift::interrupt::remove_temporaries();
            eprintln!("sheetsift: error: {e}");
            if let Some(p) = &report_path {
                let mut r = Report::new("failed");
                r.notes.push(e.to_string());
                r.finish(std::time::Duration::ZERO, e.exit_code());
                let _ = r.write_json(p);
            }
            e.exit_code()
        }
    };
    ExitCode::from(code as u8)
}

fn dispatch(
    cli: Cli,
) -> (
    bool,
    Option<std::path::PathBuf>,
    Result<Option<Report>, Error>,
) {
    match cli.command {
        Command::Extract(a) => {
            let (q, r) = (a.common.quiet, a.common.report.clone());
            let res = Config::build(&a.common, Some(&a.stage1), None, a.format, None, None)
                .and_then(|c| cmd::extract::run(&c));
            (q, r, res.map(Some))
        }
        Command::Dialogues(a) => {
            let (q, r) = (a.common.quiet, a.common.report.clone());
            let res = Config::build(
                &a.common,
                None,
                Some(&a.stage2),
                None,
                a.format.as_deref(),
                None,
            )
            .and_then(|c| cmd::dialogues::run(&c));
            (q, r, res.map(Some))
        }
        Command::Run(a) => {
            let (q, r) = (a.common.quiet, a.common.report.clone());
            let res = Config::build(
                &a.common,
                Some(&a.stage1),
                Some(&a.stage2),
                None,
                a.format.as_deref(),
                a.keep_clean.clone(),
            )
            .and_then(|c| cmd::run::run(&c));
            (q, r, res.map(Some))
        }
        Command::Samples(a) => (a.quiet, None, cmd::samples::run(&a).map(|()| None)),
    }
}
