//! The command line (clap derive). Every flag's doc says its default; the
//! types here stop at `config.rs`, which turns them into one `Config`.

use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::error::EXIT_CODES_HELP;

/// Clean customer-service chat spreadsheets and turn them into dialogue
/// corpora, byte-identical to the documented pandas workflow.
#[derive(Debug, Parser)]
#[command(name = "sheetsift", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The whole command line as clap sees it, with the exit codes appended to
/// the help of `sheetsift` and of every subcommand: a scheduler's author
/// reads `sheetsift run --help`, not the README, to learn what exit 3
/// means. The completions and the man page are generated from this same
/// value, so they cannot drift from the parser.
pub fn command() -> clap::Command {
    fn with_codes(c: clap::Command) -> clap::Command {
        c.after_help(EXIT_CODES_HELP).mut_subcommands(with_codes)
    }
    with_codes(Cli::command())
}

impl Cli {
    /// Parse the process's arguments with [`command`] (so the help carries
    /// the exit codes).
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        let matches = command().try_get_matches()?;
        Cli::from_arg_matches(&matches)
    }
}

/// `completions SHELL`: the shells clap_complete writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

/// `--dry-run[=FORMAT]`: how the plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Lines for a person.
    Text,
    /// One JSON object (files, chunks, outputs, notes).
    Json,
}

/// `--match`: how system-message phrases match the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatchArg {
    /// The content contains the phrase.
    Substring,
    /// The content is the phrase.
    Exact,
}

/// `--table-format`: the clean tables' file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormatArg {
    Xlsx,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Stage 1: drop system messages and missing content, write one clean
    /// table per chunk of input files (OUT/clean_data_FIRST_LAST.xlsx).
    Extract(ExtractArgs),
    /// Stage 2: group rows into dialogues, split train/val, write the
    /// forward (OUT/std) and reversed (OUT/mmi) corpora.
    Dialogues(DialoguesArgs),
    /// Stage 2's last step after sharded `dialogues --shard K/N -o DIR`:
    /// check that DIR/parts/ holds all N parts of one run, each with the
    /// size and SHA-256 its manifest (part-K-of-N.json) records, split them
    /// as one `dialogues` run would, and write DIR/std, DIR/mmi (and
    /// DIR/jsonl), byte-identical to that run.
    Merge(MergeArgs),
    /// Stage 1 then stage 2 in one pass, without writing the clean tables
    /// (unless --keep-clean).
    Run(RunArgs),
    /// Write synthetic chat spreadsheets of the documented schema.
    Samples(SamplesArgs),
    /// Print a shell completion script to stdout (e.g. `sheetsift
    /// completions bash > /etc/bash_completion.d/sheetsift`).
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout (e.g. `sheetsift man >
    /// ~/.local/share/man/man1/sheetsift.1`, or `sheetsift man | man -l -`).
    Man,
}

/// `sheetsift completions`' argument.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: ShellArg,
}

/// How a command runs and reports, the same for every processing command
/// and `merge`.
#[derive(Debug, Args, Clone, Default)]
pub struct ExecArgs {
    /// Worker threads. Default: the number of available cores.
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,

    /// No progress bars and no summary; errors are still printed.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also write the run summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Also write the run summary as one self-contained HTML page to FILE
    /// (inline CSS and SVG charts, nothing fetched): the numbers, rows
    /// kept and dropped per file, and stage 2's dialogue-length and
    /// turn-length distributions.
    #[arg(long, value_name = "FILE")]
    pub report_html: Option<PathBuf>,

    /// TOML file with column names, filter and stage options; flags given
    /// on the command line win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Options every processing command takes.
#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Input files and/or directories (walked recursively).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,

    /// Output directory (created when missing). The outputs are several
    /// files, so `-` (stdout) is refused.
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub run: ExecArgs,

    /// Print what the run would do and exit, touching nothing (no
    /// directory, lock, manifest or report is written; no spreadsheet is
    /// parsed): the input files with their global numbers, the chunks
    /// (index -> files -> output) the --chunks/--shard selection holds, and
    /// every output name. `--dry-run=json` prints it as one JSON object.
    #[arg(
        long,
        value_enum,
        value_name = "FORMAT",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "text"
    )]
    pub dry_run: Option<PlanFormat>,

    /// Read only the sheet with this name. Default: every sheet that has
    /// all required columns.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,

    /// Force the CSV encoding (utf-8, gb18030, gbk, ...). Default: UTF-8
    /// when the whole file is valid UTF-8, else GB18030.
    #[arg(long, value_name = "ENC")]
    pub encoding: Option<String>,

    /// Agent id column. Default: 坐席id.
    #[arg(long, value_name = "NAME")]
    pub agent_col: Option<String>,

    /// Customer id column. Default: 客户微信id.
    #[arg(long, value_name = "NAME")]
    pub customer_col: Option<String>,

    /// Role column ("is agent"). Default: 是否客服.
    #[arg(long, value_name = "NAME")]
    pub role_col: Option<String>,

    /// Message content column. Default: 消息内容.
    #[arg(long, value_name = "NAME")]
    pub content_col: Option<String>,

    /// Role value meaning "the agent spoke". Default: 是.
    #[arg(long, value_name = "TEXT")]
    pub agent_value: Option<String>,
}

/// Stage-1 options.
#[derive(Debug, Args, Clone, Default)]
pub struct Stage1Args {
    /// Files per chunk (one output per chunk). Default: 25.
    #[arg(long, value_name = "N")]
    pub chunk_size: Option<usize>,

    /// Process only chunks A..B (half-open; `3..`, `..10` allowed).
    #[arg(long, value_name = "A..B")]
    pub chunks: Option<String>,

    /// Process only chunks i with i % N == K. K may be `auto`: taken from
    /// JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// System-message phrases, one per line (blank lines ignored); replaces
    /// the five built-in phrases.
    #[arg(long, value_name = "FILE")]
    pub system_messages: Option<PathBuf>,

    /// How phrases match the content. Default: substring.
    #[arg(long = "match", value_enum, value_name = "MODE")]
    pub match_mode: Option<MatchArg>,

    /// Output file name prefix. Default: clean_data.
    #[arg(long, value_name = "TEXT")]
    pub prefix: Option<String>,

    /// Skip chunks whose output is verified: recorded in a manifest made
    /// from the same inputs (paths, sizes, mtimes) and options, with the
    /// recorded size and SHA-256. Anything else is redone. `extract` only.
    #[arg(long)]
    pub resume: bool,

    /// Deflate level of the xlsx zip container, 1-9. Default: 1, the
    /// fastest (level 2 writes files 23% smaller for about 11% more CPU;
    /// level 3 saves another 7% of the size for 14% more; see the README).
    #[arg(long, value_name = "N")]
    pub compression_level: Option<u8>,
}

/// Stage-2 options.
#[derive(Debug, Args, Clone, Default)]
pub struct Stage2Args {
    /// Validation set: a dialogue count when >= 1, a fraction when below 1.
    /// Default: 10000.
    #[arg(long, value_name = "V", allow_negative_numbers = true)]
    pub val_size: Option<f64>,

    /// Seed of the train/val shuffle (numpy RandomState). Default: 1.
    #[arg(long, value_name = "S")]
    pub seed: Option<u32>,

    /// Memory for the rendered dialogues (e.g. 512M, 2G); beyond half of
    /// it they spill to a temporary file in OUT. Files being read add about
    /// 2 x jobs x one file's rows. Default: 1G.
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<String>,

    /// Replace personal data by placeholders (<PHONE>, ...): a comma list
    /// of phone, idcard, email, url, wechat, bankcard, custom (the config
    /// file's [[scrub.patterns]]), or all. Counted per kind. Default: off.
    #[arg(long, value_name = "KINDS")]
    pub scrub: Option<String>,

    /// A system message first in every chat-format dialogue (jsonl,
    /// sharegpt, parquet). Default: none.
    #[arg(long, value_name = "TEXT")]
    pub system_prompt: Option<String>,

    /// `user`: drop the agent turns before the customer's first turn (a
    /// dialogue without any customer turn is dropped). Default: off.
    #[arg(long, value_name = "WHO", value_parser = ["user"])]
    pub start_with: Option<String>,

    /// `assistant`: drop the customer turns after the agent's last turn (a
    /// dialogue without any agent turn is dropped). Default: off.
    #[arg(long, value_name = "WHO", value_parser = ["assistant"])]
    pub end_with: Option<String>,

    /// Drop dialogues without an agent turn.
    #[arg(long)]
    pub require_assistant: bool,

    /// Drop dialogues with fewer turns than N (after the other shaping).
    #[arg(long, value_name = "N")]
    pub min_turns: Option<usize>,

    /// Split dialogues longer than N turns into windows of at most N (even
    /// N with --start-with user, so each window starts with the customer).
    #[arg(long, value_name = "N")]
    pub max_turns: Option<usize>,

    /// Remove every carriage return from the turns (the reference keeps a
    /// `\r` that ends a message).
    #[arg(long)]
    pub strip_cr: bool,

    /// Drop a dialogue equal to an earlier one after cleaning and shaping.
    #[arg(long)]
    pub dedup_dialogues: bool,

    /// Compute the corpus statistics (on whenever a corpus option is).
    #[arg(long)]
    pub stats: bool,

    /// Split a (agent, customer) group into separate dialogues where two
    /// consecutive messages were sent further apart than this (`45s`,
    /// `30m`, `2h`, `1d`). Needs the rows, so not a `merge` option.
    /// Default: off.
    #[arg(long, value_name = "DURATION")]
    pub session_gap: Option<String>,

    /// Send-time column of --session-gap. Default: 发送时间.
    #[arg(long, value_name = "NAME")]
    pub time_col: Option<String>,
}

impl Stage2Args {
    /// Whether a corpus-shaping flag was given (applied when the corpus is
    /// written: by `merge`, not by `dialogues --shard`).
    pub fn shapes(&self) -> bool {
        self.scrub.is_some()
            || self.system_prompt.is_some()
            || self.start_with.is_some()
            || self.end_with.is_some()
            || self.require_assistant
            || self.min_turns.is_some()
            || self.max_turns.is_some()
            || self.strip_cr
            || self.dedup_dialogues
            || self.stats
    }
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub stage1: Stage1Args,
    /// Output format of the clean tables. Default: xlsx. (`--format`, the
    /// alias, is kept because extract writes no other format.)
    #[arg(long, visible_alias = "format", value_enum, value_name = "FMT")]
    pub table_format: Option<TableFormatArg>,
}

#[derive(Debug, Args)]
pub struct DialoguesArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub stage2: Stage2Args,
    /// Corpus formats, comma-separated: txt (always written), jsonl,
    /// sharegpt, parquet. Default: txt. (`--format`, the alias, is kept because this command
    /// writes no other format.)
    #[arg(long, visible_alias = "format", value_name = "FMT")]
    pub corpus_format: Option<String>,
    /// Read directories as they are, without checking them against their
    /// sheetsift manifests (by default a directory holding chunk files no
    /// manifest lists, manifests of incompatible runs, or a missing or
    /// changed chunk is refused with exit 2). For experts; not settable in
    /// the config file.
    #[arg(long)]
    pub ignore_manifests: bool,

    /// Read only shard K of N's share of the input files (files K*F/N up to
    /// (K+1)*F/N of the F in the global order) and write their dialogues to
    /// OUT/parts/part-K-of-N.bin, recorded in OUT/parts/part-K-of-N.json,
    /// instead of a corpus; `sheetsift merge OUT`
    /// then writes the corpus (the split options go to the merge). K may be
    /// `auto`: taken from JOB_COMPLETION_INDEX (Kubernetes) or
    /// SLURM_ARRAY_TASK_ID (Slurm).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

/// `sheetsift merge`'s options.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The output directory the `dialogues --shard` runs wrote into; the
    /// corpus is written there too.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    #[command(flatten)]
    pub run: ExecArgs,

    #[command(flatten)]
    pub stage2: Stage2Args,

    /// Corpus formats, comma-separated: txt (always written), jsonl,
    /// sharegpt, parquet. Default: txt. (`--format`, the alias, is kept because this command
    /// writes no other format.)
    #[arg(long, visible_alias = "format", value_name = "FMT")]
    pub corpus_format: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub stage1: Stage1Args,
    #[command(flatten)]
    pub stage2: Stage2Args,
    /// Corpus formats, comma-separated: txt (always written), jsonl,
    /// sharegpt, parquet. Default: txt. (`--format`, the alias, keeps the meaning it always
    /// had in `run`; a table format given to it names --table-format.)
    #[arg(long, visible_alias = "format", value_name = "FMT")]
    pub corpus_format: Option<String>,
    /// Format of the --keep-clean tables. Default: xlsx.
    #[arg(long, value_enum, value_name = "FMT")]
    pub table_format: Option<TableFormatArg>,
    /// Also write the stage-1 clean tables into DIR.
    #[arg(long, value_name = "DIR")]
    pub keep_clean: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// Directory to write the spreadsheets into (`-` is refused).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// Number of files.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub files: usize,
    /// Rows per file.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub rows: usize,
    /// Random seed.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Write CSV (UTF-8) instead of xlsx.
    #[arg(long)]
    pub csv: bool,
    /// Write each xlsx cell's text inline (`<is>`), as streaming writers
    /// do. By default text goes to a shared-strings table, as Excel, WPS
    /// and export tools write it.
    #[arg(long)]
    pub inline_strings: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}
