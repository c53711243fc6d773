//! One module per subcommand, each with one `run`.

pub mod completions;
pub mod dialogues;
pub mod extract;
pub mod merge;
pub mod plan;
pub mod run;
pub mod samples;
