//! `misp-correlate check`.

use std::process::ExitCode;

/// Arguments of `misp-correlate check`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> Result<ExitCode, String> {
    Err("check: not implemented yet".into())
}
