//! `sheetsift dialogues`: stage 2, one call into the library.

use crate::config::Config;
use crate::error::Result;
use crate::report::Report;

/// `sheetsift dialogues`.
pub fn run(cfg: &Config) -> Result<Report> {
    crate::stage2::dialogues(cfg)
}
