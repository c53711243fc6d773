//! One module per subcommand, each with one `run`.

pub mod dialogues;
pub mod extract;
pub mod merge;
pub mod run;
pub mod samples;
