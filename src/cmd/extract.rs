//! `sheetsift extract`: stage 1, one call into the library.

use crate::config::Config;
use crate::error::Result;
use crate::report::Report;

/// `sheetsift extract`.
pub fn run(cfg: &Config) -> Result<Report> {
    crate::stage1::extract(cfg)
}
