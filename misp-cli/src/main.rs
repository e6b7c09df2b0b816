//! `misp-correlate`: the command-line tool.
//!
//! A thin shell over `misp-core` and `misp-correlate`: each subcommand
//! lives in its own module, parses its arguments, calls the library and
//! prints. No matching or correlation logic lives here.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod correlate;
mod load;
mod normalize;
mod ordered;
mod snapshot;

/// MISP correlation and warninglist checks, fast.
#[derive(Parser)]
#[command(name = "misp-correlate", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load MISP events or feeds and report counts and rejected attributes.
    Load(load::Args),
    /// Normalise `type<TAB>value` lines as MISP would save them.
    Normalize(normalize::Args),
    /// Correlate MISP events or feeds.
    Correlate(correlate::Args),
    /// Check `type<TAB>value` lines against warninglists.
    Check(check::Args),
    /// Inspect snapshot files.
    Snapshot(snapshot::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Load(args) => load::run(args),
        Command::Normalize(args) => normalize::run(args),
        Command::Correlate(args) => correlate::run(args),
        Command::Check(args) => check::run(args),
        Command::Snapshot(args) => snapshot::run(args),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("misp-correlate: {message}");
            ExitCode::from(2)
        }
    }
}
