//! `misp-correlate normalize`.

use std::process::ExitCode;

/// Arguments of `misp-correlate normalize`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> Result<ExitCode, String> {
    Err("normalize: not implemented yet".into())
}
