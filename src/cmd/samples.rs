//! `sheetsift samples`: synthetic spreadsheets, one call into the library.

use crate::config::SamplesConfig;
use crate::error::Result;

/// `sheetsift samples`.
pub fn run(cfg: &SamplesConfig) -> Result<()> {
    crate::samples::write_samples(cfg)
}
