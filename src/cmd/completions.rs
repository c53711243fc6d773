//! `sheetsift completions SHELL` and `sheetsift man`: generated from the
//! parser itself ([`crate::cli::command`]), so a flag added or renamed is
//! completed and documented without another edit.

use std::io::Write;
use std::path::Path;

use clap_complete::{generate, Shell};

use crate::cli::{command, ShellArg};
use crate::error::EXIT_CODES_HELP;
use crate::error::{Error, Result};

fn stdout_error(e: std::io::Error) -> Error {
    Error::io(Path::new("<stdout>"), e)
}

/// Print the completion script for `shell` to stdout.
pub fn completions(shell: ShellArg) -> Result<()> {
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
        ShellArg::Elvish => Shell::Elvish,
    };
    let mut buf = Vec::new();
    generate(shell, &mut command(), "sheetsift", &mut buf);
    let mut out = std::io::stdout().lock();
    out.write_all(&buf)
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}

/// The man page: `sheetsift`'s own (description, options, subcommands),
/// an EXIT STATUS section, then for each subcommand a section with its
/// synopsis and options, so one page documents every flag (no
/// sheetsift-extract(1) pages to install separately).
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let cmd = command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut top = Vec::new();
    man.render_title(&mut top)?;
    man.render_name_section(&mut top)?;
    man.render_synopsis_section(&mut top)?;
    man.render_description_section(&mut top)?;
    man.render_options_section(&mut top)?;
    man.render_subcommands_section(&mut top)?;
    let mut page = String::from_utf8_lossy(&top).into_owned();
    let mut names = Vec::new();
    let subs = cmd.get_subcommands().map(|s| s.get_name().to_string());
    // `help` is added by clap when the command is built.
    for name in subs.chain(["help".to_string()]) {
        // clap_mangen points to one page per subcommand; they are sections
        // of this page instead.
        page = page.replace(
            &format!("sheetsift\\-{}(1)", roff_escape(&name)),
            &format!("\\fBsheetsift {}\\fR", roff_escape(&name)),
        );
        if name != "help" && !names.contains(&name) {
            names.push(name);
        }
    }
    page.push_str(&exit_status_section());
    let mut ver = Vec::new();
    man.render_version_section(&mut ver)?;
    page.push_str(&String::from_utf8_lossy(&ver));
    for name in names {
        let Some(sub) = cmd.find_subcommand(&name) else {
            continue;
        };
        let full = format!("sheetsift {name}");
        let man = clap_mangen::Man::new(sub.clone().bin_name(full.clone()));
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        man.render_options_section(&mut part)?;
        // Its SYNOPSIS, DESCRIPTION and OPTIONS become one section with an
        // Options subsection; the string-definition preamble each render
        // repeats is said once, by the title.
        let part: String = String::from_utf8_lossy(&part)
            .lines()
            .filter(|l| {
                !l.starts_with(".ie \\n(.g .ds Aq")
                    && !l.starts_with(".el .ds Aq")
                    && *l != ".SH SYNOPSIS"
                    && *l != ".SH DESCRIPTION"
            })
            .map(|l| if l == ".SH OPTIONS" { ".SS Options" } else { l })
            .flat_map(|l| [l, "\n"])
            .collect();
        page.push_str(&format!(".SH \"{}\"\n.PP\n", full.to_uppercase()));
        page.push_str(&part);
    }
    Ok(page.into_bytes())
}

fn roff_escape(s: &str) -> String {
    s.replace('-', "\\-").replace('\'', "\\*(Aq")
}

/// [`EXIT_CODES_HELP`] as a roff EXIT STATUS section: one tagged
/// paragraph per code (the help's continuation lines joined, since roff
/// fills the text itself).
fn exit_status_section() -> String {
    let mut s = String::from(".SH \"EXIT STATUS\"\n");
    let mut entry: Option<(String, String)> = None;
    let flush = |s: &mut String, e: Option<(String, String)>| {
        if let Some((code, text)) = e {
            s.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_escape(&text)));
        }
    };
    for line in EXIT_CODES_HELP.lines().skip(1) {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        match t.split_once(char::is_whitespace) {
            Some((code, rest))
                if indent <= 2 && code.chars().next().is_some_and(|c| c.is_ascii_digit()) =>
            {
                flush(&mut s, entry.take());
                entry = Some((code.to_string(), rest.trim().to_string()));
            }
            _ => {
                if let Some((_, text)) = entry.as_mut() {
                    text.push(' ');
                    text.push_str(t);
                }
            }
        }
    }
    flush(&mut s, entry);
    s
}

/// Print the man page (roff) to stdout.
pub fn man() -> Result<()> {
    let page = man_page().map_err(stdout_error)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page)
        .and_then(|()| out.flush())
        .map_err(stdout_error)
}
