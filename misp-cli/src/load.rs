//! `misp-correlate load`.

use std::process::ExitCode;

/// Arguments of `misp-correlate load`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> Result<ExitCode, String> {
    Err("load: not implemented yet".into())
}
