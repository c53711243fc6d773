//! `sheetsift run`: both stages, one call into the library.

use crate::config::Config;
use crate::error::Result;
use crate::report::Report;

/// `sheetsift run`.
pub fn run(cfg: &Config) -> Result<Report> {
    crate::stage2::run(cfg)
}
