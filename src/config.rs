//! CLI flags + optional TOML file -> one validated [`Config`]. The only
//! place defaults live. Flags win over the file.
//!
//! The file format (every key optional):
//!
//! ```toml
//! jobs = 4
//! [columns]
//! agent = "坐席id"
//! customer = "客户微信id"
//! role = "是否客服"
//! content = "消息内容"
//! agent_value = "是"
//! [input]
//! sheet = "Sheet1"
//! encoding = "gb18030"
//! [filter]
//! match = "substring"            # or "exact"
//! system_messages = ["微信红包"]  # replaces the built-in phrases
//! system_messages_file = "sys.txt"
//! [extract]
//! chunk_size = 25
//! prefix = "clean_data"
//! format = "xlsx"                # or "csv" (alias key: table_format)
//! compression_level = 1
//! [dialogues]
//! val_size = 10000
//! seed = 1
//! format = "txt,jsonl"          # also sharegpt, parquet (alias key: corpus_format)
//! scrub = "phone,idcard"         # or "all"; see --scrub
//! system_prompt = "你是客服。"
//! start_with = "user"
//! end_with = "assistant"
//! require_assistant = true
//! min_turns = 2
//! max_turns = 16
//! strip_cr = true
//! dedup_dialogues = true
//! stats = true
//! session_gap = "30m"
//! time_column = "发送时间"
//! [[scrub.patterns]]             # --scrub custom (or all)
//! name = "order"                 # placeholder <ORDER>
//! pattern = '订单号[:：]?(\d{10,20})'
//! ```
//!
//! On the command line the two formats have two names, `--table-format`
//! and `--corpus-format`, because `run` takes both; `--format` stays an
//! alias where a command has only one of them (extract: table; dialogues,
//! merge: corpus) and in `run`, where it always meant the corpus format
//! (a table format given to it is refused, naming --table-format). The
//! file keeps its `format` keys: each sits in its stage's
//! section, so it was never ambiguous there.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::chunk::{ChunkRange, Shard};
use crate::cli::{
    Cli, Command, CommonArgs, MatchArg, PlanFormat, SamplesArgs, ShellArg, Stage1Args, Stage2Args,
    TableFormatArg,
};
use crate::dialogue::scrub::{CustomPattern, ScrubConfig};
use crate::dialogue::shape::CorpusOptions;
use crate::dialogue::CorpusFormat;
use crate::error::{Error, Result};
use crate::filter::{MatchMode, RowFilter, DEFAULT_SYSTEM_MESSAGES};
use crate::read::{Encoding, ReadOptions};
use crate::write::TableFormat;

/// The documented schema's columns: agent, customer, role, content.
pub const DEFAULT_COLUMNS: [&str; 4] = ["坐席id", "客户微信id", "是否客服", "消息内容"];

/// The documented schema's send-time column (not required by the
/// reference; `--session-gap` reads it).
pub const DEFAULT_TIME_COLUMN: &str = "发送时间";

/// Reading options with every default (the documented columns, every
/// usable sheet, the CSV encoding detected): what a library caller (a
/// bench, a test) reads with when it has no command line.
pub fn default_read_options() -> ReadOptions {
    ReadOptions {
        required: DEFAULT_COLUMNS.map(String::from),
        sheet: None,
        encoding: None,
        parse_threads: 0,
        spill: None,
    }
}

/// One parsed command line: the job to do, and what the binary needs to
/// know even when the job's options are invalid (whether to be quiet,
/// where the JSON report goes).
pub struct Invocation {
    /// The subcommand's name (`extract`, ...), for the report of a run
    /// whose options could not even be resolved.
    pub command: &'static str,
    pub quiet: bool,
    pub report: Option<PathBuf>,
    /// Where the HTML report goes (`--report-html`), under the same rules.
    pub report_html: Option<PathBuf>,
    pub job: Result<Job>,
}

/// A command with its validated configuration.
pub enum Job {
    Extract(Config),
    Dialogues(Config),
    /// `merge DIR`: `out` is DIR.
    Merge(Config),
    Run(Config),
    Samples(SamplesConfig),
    /// `completions SHELL`: print the script.
    Completions(ShellArg),
    /// `man`: print the man page.
    Man,
}

/// `-o -` would create a directory named `-`: every command's outputs
/// are several files in a directory, so there is no stream to send to
/// stdout. Refused as a usage error before anything is touched.
fn check_not_stdout(flag: &str, dir: &Path) -> Result<()> {
    if dir.as_os_str() == "-" {
        return Err(Error::Usage(format!(
            "{flag} -: the outputs are files in a directory, not a stream; give a directory \
             (use ./- for a directory really named -)"
        )));
    }
    Ok(())
}

/// Checks of the flags every processing command shares, before any
/// config is built: `-o -` refused, and `--dry-run` with `--report`
/// refused (a dry run writes nothing, not even the report;
/// `--dry-run=json` is its machine-readable form).
fn check_common(a: &CommonArgs) -> Result<()> {
    check_not_stdout("-o", &a.out)?;
    if a.dry_run.is_some() && a.run.report.is_some() {
        return Err(Error::Usage(
            "--dry-run writes nothing, not even --report; use --dry-run=json for a machine-readable plan"
                .into(),
        ));
    }
    if a.dry_run.is_some() && a.run.report_html.is_some() {
        return Err(Error::Usage(
            "--dry-run writes nothing, not even --report-html; use --dry-run=json for a machine-readable plan"
                .into(),
        ));
    }
    Ok(())
}

/// Where the JSON report goes: nowhere on a dry run, not even the
/// failure report of a refused `--dry-run --report`.
fn report_of(a: &CommonArgs) -> Option<PathBuf> {
    match a.dry_run {
        Some(_) => None,
        None => a.run.report.clone(),
    }
}

/// Where the HTML report goes: as [`report_of`].
fn report_html_of(a: &CommonArgs) -> Option<PathBuf> {
    match a.dry_run {
        Some(_) => None,
        None => a.run.report_html.clone(),
    }
}

impl Job {
    /// The resolved options the report records (`samples` writes none).
    pub fn report_options(&self) -> Option<crate::report::Options> {
        let (command, cfg) = match self {
            Job::Extract(c) => ("extract", c),
            Job::Dialogues(c) => ("dialogues", c),
            Job::Merge(c) => ("merge", c),
            Job::Run(c) => ("run", c),
            Job::Samples(_) | Job::Completions(_) | Job::Man => return None,
        };
        Some(crate::report::Options::of(command, cfg))
    }
}

/// `sheetsift samples`' options.
#[derive(Debug, Clone)]
pub struct SamplesConfig {
    pub out: PathBuf,
    pub files: usize,
    pub rows: usize,
    pub seed: u64,
    pub csv: bool,
    /// xlsx text inline instead of in a shared-strings table.
    pub inline_strings: bool,
    pub quiet: bool,
}

impl Invocation {
    /// The command line, turned into a job: the only place clap's types
    /// become the library's.
    pub fn from_cli(cli: Cli) -> Invocation {
        match cli.command {
            Command::Extract(a) => Invocation {
                command: "extract",
                quiet: a.common.run.quiet,
                report: report_of(&a.common),
                report_html: report_html_of(&a.common),
                job: check_common(&a.common)
                    .and_then(|()| {
                        Config::build(
                            &a.common,
                            Some(&a.stage1),
                            None,
                            a.table_format.map(TableFormatArg::into),
                            None,
                            None,
                        )
                    })
                    .map(Job::Extract),
            },
            Command::Dialogues(a) => Invocation {
                command: "dialogues",
                quiet: a.common.run.quiet,
                report: report_of(&a.common),
                report_html: report_html_of(&a.common),
                job: check_common(&a.common)
                    .and_then(|()| {
                        Config::build(
                            &a.common,
                            // Only --shard of the stage-1 options: the rest
                            // keep their defaults, as with no stage-1
                            // options at all.
                            Some(&Stage1Args {
                                shard: a.shard.clone(),
                                ..Stage1Args::default()
                            }),
                            Some(&a.stage2),
                            None,
                            a.corpus_format.as_deref(),
                            None,
                        )
                    })
                    .and_then(|mut c| {
                        c.ignore_manifests = a.ignore_manifests;
                        if a.shard.is_some() {
                            if a.stage2.shapes() {
                                return Err(Error::Usage(
                                    "--scrub, --system-prompt, --start-with, --end-with, --require-assistant, --min-turns, --max-turns, --strip-cr, --dedup-dialogues and --stats apply when the corpus is written: give them to `sheetsift merge` (a shard writes unshaped dialogues)".into(),
                                ));
                            }
                            // From the config file: the merge applies them.
                            c.corpus = CorpusOptions::default();
                        }
                        Ok(Job::Dialogues(c))
                    }),
            },
            Command::Run(a) => Invocation {
                command: "run",
                quiet: a.common.run.quiet,
                report: report_of(&a.common),
                report_html: report_html_of(&a.common),
                job: if a.stage1.resume {
                    // Accepted and ignored before: `run` has no per-chunk
                    // outputs of its own to resume.
                    Err(Error::Usage(
                        "--resume applies to `extract`; `run` has no per-chunk outputs to resume (run `extract --resume`, then `dialogues`)".into(),
                    ))
                } else {
                    check_common(&a.common)
                        .and_then(|()| match &a.keep_clean {
                            Some(d) => check_not_stdout("--keep-clean", d),
                            None => Ok(()),
                        })
                        .and_then(|()| {
                            Config::build(
                                &a.common,
                                Some(&a.stage1),
                                Some(&a.stage2),
                                a.table_format.map(TableFormatArg::into),
                                a.corpus_format.as_deref(),
                                a.keep_clean.clone(),
                            )
                        })
                        .map(Job::Run)
                },
            },
            Command::Merge(a) => {
                // The merge reads no spreadsheet: its one directory is both
                // where the parts are and where the corpus goes.
                let common = CommonArgs {
                    inputs: vec![a.dir.clone()],
                    out: a.dir.clone(),
                    run: a.run.clone(),
                    dry_run: None,
                    sheet: None,
                    encoding: None,
                    agent_col: None,
                    customer_col: None,
                    role_col: None,
                    content_col: None,
                    agent_value: None,
                };
                Invocation {
                    command: "merge",
                    quiet: a.run.quiet,
                    report: a.run.report.clone(),
                    report_html: a.run.report_html.clone(),
                    job: if a.stage2.session_gap.is_some() || a.stage2.time_col.is_some() {
                        Err(Error::Usage(
                            "--session-gap needs the rows' send times: give it to each `dialogues --shard` run, not to `merge`".into(),
                        ))
                    } else {
                        Config::build(
                            &common,
                            None,
                            Some(&a.stage2),
                            None,
                            a.corpus_format.as_deref(),
                            None,
                        )
                        .map(Job::Merge)
                    },
                }
            }
            Command::Samples(a) => Invocation {
                command: "samples",
                quiet: a.quiet,
                report: None,
                report_html: None,
                job: check_not_stdout("-o", &a.out)
                    .map(|()| Job::Samples(SamplesConfig::from_args(&a))),
            },
            Command::Completions(a) => Invocation {
                command: "completions",
                quiet: true,
                report: None,
                report_html: None,
                job: Ok(Job::Completions(a.shell)),
            },
            Command::Man => Invocation {
                command: "man",
                quiet: true,
                report: None,
                report_html: None,
                job: Ok(Job::Man),
            },
        }
    }
}

impl SamplesConfig {
    fn from_args(a: &SamplesArgs) -> SamplesConfig {
        SamplesConfig {
            out: a.out.clone(),
            files: a.files,
            rows: a.rows,
            seed: a.seed,
            csv: a.csv,
            inline_strings: a.inline_strings,
            quiet: a.quiet,
        }
    }
}

impl From<MatchArg> for MatchMode {
    fn from(a: MatchArg) -> MatchMode {
        match a {
            MatchArg::Substring => MatchMode::Substring,
            MatchArg::Exact => MatchMode::Exact,
        }
    }
}

impl From<TableFormatArg> for TableFormat {
    fn from(a: TableFormatArg) -> TableFormat {
        match a {
            TableFormatArg::Xlsx => TableFormat::Xlsx,
            TableFormatArg::Csv => TableFormat::Csv,
        }
    }
}

/// Everything a command needs, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub jobs: usize,
    pub quiet: bool,
    pub report: Option<PathBuf>,
    pub read: ReadOptions,
    /// Role value meaning the agent spoke.
    pub agent_value: String,
    pub filter: RowFilter,
    pub chunk_size: usize,
    pub chunk_range: Option<ChunkRange>,
    pub shard: Option<Shard>,
    pub prefix: String,
    pub table_format: TableFormat,
    pub resume: bool,
    pub compression_level: u8,
    pub val_size: f64,
    pub seed: u32,
    /// Corpus formats of stage 2 (txt always first).
    pub corpus_formats: Vec<CorpusFormat>,
    pub keep_clean: Option<PathBuf>,
    /// `dialogues --ignore-manifests`: read directories unchecked.
    pub ignore_manifests: bool,
    /// `--memory-limit` in bytes.
    pub memory_limit: u64,
    /// `--dry-run`: print the plan in this format instead of running.
    pub dry_run: Option<PlanFormat>,
    /// `--config FILE`, for the report.
    pub config_file: Option<PathBuf>,
    /// Where the system-message phrases came from, for the report.
    pub system_messages_source: SystemMessagesSource,
    /// Scrubbing, chat shaping, dedup, statistics (applied when the corpus
    /// is written).
    pub corpus: CorpusOptions,
    /// `--session-gap` in microseconds (applied while grouping).
    pub session_gap: Option<i64>,
    /// The send-time column `--session-gap` reads.
    pub time_col: String,
}

/// Where the system-message phrases of the filter came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SystemMessagesSource {
    /// The built-in list.
    #[default]
    Builtin,
    /// The config file's `system_messages` list.
    Config,
    /// A file of one phrase a line (`--system-messages` or the config
    /// file's `system_messages_file`).
    File(PathBuf),
}

impl Config {
    /// Bytes of rendered dialogues kept in memory before spilling: half
    /// the limit, the other half being for the files in flight.
    pub fn corpus_budget(&self) -> usize {
        (self.memory_limit / 2) as usize
    }
}

/// `512M`, `2G`, `64k`, `1.5GiB`, `1000000` -> bytes.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("--memory-limit: bad size {s:?}"))?;
    let mult: f64 = match unit
        .trim()
        .to_ascii_lowercase()
        .trim_end_matches("ib")
        .trim_end_matches('b')
    {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0f64.powi(4),
        _ => {
            return Err(format!(
                "--memory-limit: unknown unit in {s:?} (K, M, G, T)"
            ))
        }
    };
    Ok((n * mult) as u64)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    jobs: Option<usize>,
    #[serde(default)]
    columns: Columns,
    #[serde(default)]
    input: InputSection,
    #[serde(default)]
    filter: FilterSection,
    #[serde(default)]
    extract: ExtractSection,
    #[serde(default)]
    dialogues: DialoguesSection,
    #[serde(default)]
    scrub: ScrubSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScrubSection {
    #[serde(default)]
    patterns: Vec<CustomPattern>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    agent: Option<String>,
    customer: Option<String>,
    role: Option<String>,
    content: Option<String>,
    agent_value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputSection {
    sheet: Option<String>,
    encoding: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterSection {
    #[serde(rename = "match")]
    match_mode: Option<MatchMode>,
    system_messages: Option<Vec<String>>,
    system_messages_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtractSection {
    chunk_size: Option<usize>,
    prefix: Option<String>,
    #[serde(alias = "table_format")]
    format: Option<TableFormat>,
    compression_level: Option<u8>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DialoguesSection {
    val_size: Option<f64>,
    seed: Option<u32>,
    #[serde(alias = "corpus_format")]
    format: Option<String>,
    memory_limit: Option<String>,
    scrub: Option<String>,
    system_prompt: Option<String>,
    start_with: Option<String>,
    end_with: Option<String>,
    require_assistant: Option<bool>,
    min_turns: Option<usize>,
    max_turns: Option<usize>,
    strip_cr: Option<bool>,
    dedup_dialogues: Option<bool>,
    stats: Option<bool>,
    session_gap: Option<String>,
    time_column: Option<String>,
}

/// `45s`, `30m`, `2h`, `1d`, `1h30m` -> microseconds (at least 1 s).
pub fn parse_duration(s: &str) -> std::result::Result<i64, String> {
    let bad = || format!("--session-gap: bad duration {s:?} (e.g. 45s, 30m, 2h, 1d, 1h30m)");
    let mut total: f64 = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let num: f64 = rest[..n].parse().map_err(|_| bad())?;
        let unit_len = rest[n..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - n);
        let secs = match &rest[n..n + unit_len] {
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        total += num * secs;
        rest = &rest[n + unit_len..];
    }
    if !(1.0..1e12).contains(&total) {
        return Err(format!("--session-gap: {s:?} must be at least 1s"));
    }
    Ok((total * 1e6).round() as i64)
}

/// The corpus options from the flags, else the file.
fn corpus_options(s2: &Stage2Args, file: &FileConfig) -> Result<CorpusOptions> {
    let d = &file.dialogues;
    let scrub = match s2.scrub.as_deref().or(d.scrub.as_deref()) {
        Some(k) => {
            // `all` takes custom only when patterns are configured: the
            // built-in kinds need no configuration.
            let all = if file.scrub.patterns.is_empty() {
                "phone,idcard,email,url,wechat,bankcard"
            } else {
                "phone,idcard,email,url,wechat,bankcard,custom"
            };
            let k: String = k
                .split(',')
                .map(|p| {
                    if p.trim().eq_ignore_ascii_case("all") {
                        all
                    } else {
                        p
                    }
                })
                .collect::<Vec<_>>()
                .join(",");
            let kinds = k
                .parse()
                .map_err(|e: crate::dialogue::scrub::ScrubError| Error::Usage(e.to_string()))?;
            let config = ScrubConfig {
                kinds,
                custom: file.scrub.patterns.clone(),
            };
            // Validate now: a bad pattern is a usage error before any work.
            crate::dialogue::scrub::Scrubber::new(&config)
                .map_err(|e| Error::Usage(e.to_string()))?;
            Some(config)
        }
        None => None,
    };
    let start_with = s2.start_with.clone().or(d.start_with.clone());
    if let Some(w) = &start_with {
        if w != "user" {
            return Err(Error::Usage(format!(
                "--start-with: {w:?} is not supported (user)"
            )));
        }
    }
    let end_with = s2.end_with.clone().or(d.end_with.clone());
    if let Some(w) = &end_with {
        if w != "assistant" {
            return Err(Error::Usage(format!(
                "--end-with: {w:?} is not supported (assistant)"
            )));
        }
    }
    let (min_turns, max_turns) = (s2.min_turns.or(d.min_turns), s2.max_turns.or(d.max_turns));
    if max_turns == Some(0) {
        return Err(Error::Usage("--max-turns must be at least 1".into()));
    }
    Ok(CorpusOptions {
        scrub,
        system_prompt: s2.system_prompt.clone().or(d.system_prompt.clone()),
        start_with_user: start_with.is_some(),
        end_with_assistant: end_with.is_some(),
        require_assistant: s2.require_assistant || d.require_assistant == Some(true),
        min_turns,
        max_turns,
        strip_cr: s2.strip_cr || d.strip_cr == Some(true),
        dedup: s2.dedup_dialogues || d.dedup_dialogues == Some(true),
        stats: s2.stats || d.stats == Some(true),
    })
}

fn load_file(path: &Path) -> Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("--config {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| Error::Config(format!("--config {}: {e}", path.display())))
}

/// One phrase per line, blank lines ignored, line endings stripped.
fn read_phrases(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("--system-messages {}: {e}", path.display())))?;
    Ok(text
        .split('\n')
        .map(|l| l.trim_end_matches(['\r', '\n']).to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// `txt`, `jsonl` or `txt,jsonl` -> the formats, txt always first.
fn parse_corpus_format(s: &str) -> Result<Vec<CorpusFormat>> {
    let mut formats = vec![CorpusFormat::Txt];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let f = match part {
            "txt" => CorpusFormat::Txt,
            "jsonl" => CorpusFormat::Jsonl,
            "sharegpt" => CorpusFormat::ShareGpt,
            "parquet" => CorpusFormat::Parquet,
            // A table format given where a corpus format is meant (`run
            // --format csv`: `--format` is the corpus format's alias there,
            // as it always was): name the flag that takes it.
            other @ ("xlsx" | "csv") => {
                return Err(Error::Usage(format!(
                    "--corpus-format: {other:?} is a table format, not a corpus format (txt, jsonl, sharegpt, parquet); the tables' format is --table-format {other}"
                )))
            }
            other => {
                return Err(Error::Usage(format!(
                    "--corpus-format: unknown corpus format {other:?} (txt, jsonl, sharegpt, parquet)"
                )))
            }
        };
        if !formats.contains(&f) {
            formats.push(f);
        }
    }
    Ok(formats)
}

impl Config {
    /// Build a config from the parsed command line of any processing
    /// command; the stage arguments a command lacks are `None`.
    pub fn build(
        common: &CommonArgs,
        stage1: Option<&Stage1Args>,
        stage2: Option<&Stage2Args>,
        table_format: Option<TableFormat>,
        corpus_format: Option<&str>,
        keep_clean: Option<PathBuf>,
    ) -> Result<Config> {
        let file = match &common.run.config {
            Some(p) => load_file(p)?,
            None => FileConfig::default(),
        };
        let s1 = stage1.cloned().unwrap_or_default();
        let s2 = stage2.cloned().unwrap_or_default();
        let pick = |flag: &Option<String>, file: &Option<String>, default: &str| -> String {
            flag.clone()
                .or_else(|| file.clone())
                .unwrap_or_else(|| default.to_string())
        };
        let [agent, customer, role, content] = DEFAULT_COLUMNS;
        let required = [
            pick(&common.agent_col, &file.columns.agent, agent),
            pick(&common.customer_col, &file.columns.customer, customer),
            pick(&common.role_col, &file.columns.role, role),
            pick(&common.content_col, &file.columns.content, content),
        ];
        let encoding =
            match common.encoding.clone().or(file.input.encoding.clone()) {
                Some(label) => Some(Encoding::from_label(&label).ok_or_else(|| {
                    Error::Usage(format!("--encoding: unknown encoding {label:?}"))
                })?),
                None => None,
            };
        let jobs = common.run.jobs.or(file.jobs).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        });
        if jobs == 0 {
            return Err(Error::Usage("--jobs must be at least 1".into()));
        }
        let (phrases, system_messages_source) = if let Some(p) = &s1.system_messages {
            (read_phrases(p)?, SystemMessagesSource::File(p.clone()))
        } else if let Some(list) = &file.filter.system_messages {
            (list.clone(), SystemMessagesSource::Config)
        } else if let Some(p) = &file.filter.system_messages_file {
            (read_phrases(p)?, SystemMessagesSource::File(p.clone()))
        } else {
            (
                DEFAULT_SYSTEM_MESSAGES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                SystemMessagesSource::Builtin,
            )
        };
        let match_mode = s1
            .match_mode
            .map(MatchArg::into)
            .or(file.filter.match_mode)
            .unwrap_or_default();
        let chunk_size = s1.chunk_size.or(file.extract.chunk_size).unwrap_or(25);
        if chunk_size == 0 {
            return Err(Error::Usage("--chunk-size must be at least 1".into()));
        }
        let chunk_range = s1
            .chunks
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(Error::Usage)?;
        let shard = s1
            .shard
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(Error::Usage)?;
        let compression_level = s1
            .compression_level
            .or(file.extract.compression_level)
            // Level 1 (zlib-rs' `deflate_quick`): measured on Excel-shaped
            // exports, level 2 (`deflate_fast`) costs 11% more of the whole
            // run's CPU for files 23% smaller, level 3 more again for 7%
            // less. The clean tables are an intermediate product, read
            // once more by `dialogues`; speed wins. README, "Zip level",
            // and `benches/compression.sh`.
            .unwrap_or(1);
        if !(1..=9).contains(&compression_level) {
            return Err(Error::Usage("--compression-level takes 1 to 9".into()));
        }
        let val_size = s2.val_size.or(file.dialogues.val_size).unwrap_or(10_000.0);
        if !val_size.is_finite() {
            return Err(Error::Usage("--val-size must be a number".into()));
        }
        let corpus = corpus_format
            .map(str::to_string)
            .or(file.dialogues.format.clone())
            .unwrap_or_else(|| "txt".into());
        let corpus_opts = corpus_options(&s2, &file)?;
        let session_gap = s2
            .session_gap
            .as_deref()
            .or(file.dialogues.session_gap.as_deref())
            .map(parse_duration)
            .transpose()
            .map_err(Error::Usage)?;
        let time_col = s2
            .time_col
            .clone()
            .or(file.dialogues.time_column.clone())
            .unwrap_or_else(|| DEFAULT_TIME_COLUMN.to_string());
        Ok(Config {
            corpus: corpus_opts,
            session_gap,
            time_col,
            inputs: common.inputs.clone(),
            out: common.out.clone(),
            jobs,
            quiet: common.run.quiet,
            report: common.run.report.clone(),
            read: ReadOptions {
                required,
                sheet: common.sheet.clone().or(file.input.sheet),
                encoding,
                parse_threads: 0,
                spill: None,
            },
            agent_value: pick(&common.agent_value, &file.columns.agent_value, "是"),
            filter: RowFilter::new(phrases, match_mode),
            chunk_size,
            chunk_range,
            shard,
            prefix: s1
                .prefix
                .clone()
                .or(file.extract.prefix)
                .unwrap_or_else(|| "clean_data".into()),
            table_format: table_format.or(file.extract.format).unwrap_or_default(),
            resume: s1.resume,
            compression_level,
            val_size,
            seed: s2.seed.or(file.dialogues.seed).unwrap_or(1),
            corpus_formats: parse_corpus_format(&corpus)?,
            keep_clean,
            ignore_manifests: false,
            dry_run: common.dry_run,
            memory_limit: parse_size(
                s2.memory_limit
                    .as_deref()
                    .or(file.dialogues.memory_limit.as_deref())
                    .unwrap_or("1G"),
            )
            .map_err(Error::Usage)?,
            config_file: common.run.config.clone(),
            system_messages_source,
        })
    }
}
