//! `sheetsift merge`: the split over a sharded stage 2's parts, one call
//! into the library.

use crate::config::Config;
use crate::error::Result;
use crate::report::Report;

/// `sheetsift merge`.
pub fn run(cfg: &Config) -> Result<Report> {
    crate::stage2::merge(cfg)
}
