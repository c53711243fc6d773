//! `sheetsift samples`.
use crate::cli::SamplesArgs;
use crate::error::Result;
pub fn run(_a: &SamplesArgs) -> Result<()> {
    todo!()
}
