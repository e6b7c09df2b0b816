//! `misp-correlate correlate`.

use std::process::ExitCode;

/// Arguments of `misp-correlate correlate`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the subcommand.
pub fn run(_args: Args) -> Result<ExitCode, String> {
    Err("correlate: not implemented yet".into())
}
