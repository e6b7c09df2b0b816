//! `misp-correlate snapshot`: inspect snapshot files.
//!
//! `snapshot info FILE` prints the kind (warninglists or engine), format
//! version, size, counts (for an engine: attributes, keys, events,
//! settings, correlations by kind) and sections of a snapshot after checking it completely (header, section
//! table, structures and the checksum of every byte). A file that is not a
//! snapshot, was written by another format version, is truncated or
//! damaged gives a message on standard error and exit status 2.

use std::path::PathBuf;
use std::process::ExitCode;

use misp_correlate::snapshot;

/// Arguments of `misp-correlate snapshot`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print what a snapshot holds and check it completely.
    Info {
        /// The snapshot file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<ExitCode, String> {
    match args.command {
        Command::Info { file } => {
            let info = snapshot::info(&file).map_err(|e| e.to_string())?;
            print!("{info}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
