//! sheetsift: customer-service chat spreadsheets -> clean extracts and
//! dialogue corpora, byte-identical to the documented pandas workflow.
//!
//! Follow one row: [`discover`] finds the files, [`chunk`] numbers them,
//! [`pool`] reads them in parallel through [`read`], [`filter`] drops
//! system messages, [`table`] aligns a chunk's columns, [`write`] puts it on
//! disk; stage 2 goes through [`dialogue`] (group, split, turns, the
//! reverse writer). [`cmd`] wires the stages per subcommand.

pub mod chunk;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod dialogue;
pub mod discover;
pub mod error;
pub mod filter;
pub mod fs;
pub mod interrupt;
pub mod manifest;
pub mod outdir;

pub mod pool;
pub mod progress;
pub mod read;
pub mod report;
pub mod samples;
pub mod stage1;
pub mod stage2;
pub mod table;
pub mod value;
pub mod write;
