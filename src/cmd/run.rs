//! `sheetsift run`.
use crate::config::Config;
use crate::error::Result;
use crate::report::Report;
pub fn run(_cfg: &Config) -> Result<Report> {
    todo!()
}
