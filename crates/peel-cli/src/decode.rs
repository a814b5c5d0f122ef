//! `peel decode` (being built).

use crate::{CliError, CliResult};

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> CliResult {
    Err(CliError::msg("not implemented yet"))
}
