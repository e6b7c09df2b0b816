//! `misp-correlate load`: read MISP events or feeds and report what was
//! read, what MISP would reject and what could not be read.
//!
//! The counting and checking is [`misp_core::json::LoadSummary`]; this
//! module only prints it.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use misp_core::json::{LoadSummary, RejectedAttribute};
use serde::Serialize;

/// Arguments of `misp-correlate load`.
///
/// Exits with 0 when at least one event was read (even with rejected
/// attributes or unreadable files), 1 when no event could be read at all.
#[derive(clap::Args)]
pub struct Args {
    /// MISP feed directories (with manifest.json), directories of event
    /// files (read recursively), or MISP JSON event files.
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Print one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

/// The `--json` report.
#[derive(Serialize)]
struct JsonReport<'a> {
    events: usize,
    attributes: usize,
    types: &'a BTreeMap<String, usize>,
    rejected: &'a [RejectedAttribute],
    errors: Vec<JsonError>,
}

/// One unreadable file or refused event in the `--json` report.
#[derive(Serialize)]
struct JsonError {
    file: String,
    message: String,
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let summary = LoadSummary::from_paths_parallel(&args.inputs);
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let written = if args.json {
        print_json(&mut out, &summary)
    } else {
        print_text(&mut out, &summary)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| format!("load: cannot write the report: {e}"))?;
    if summary.events() == 0 {
        eprintln!("misp-correlate load: no event could be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(out: &mut impl Write, summary: &LoadSummary) -> io::Result<()> {
    let report = JsonReport {
        events: summary.events(),
        attributes: summary.attributes(),
        types: summary.types(),
        rejected: summary.rejected(),
        errors: summary
            .errors()
            .iter()
            .map(|error| JsonError {
                file: error
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
                message: error.detail(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(io::Error::from)?;
    writeln!(out)
}

fn print_text(out: &mut impl Write, summary: &LoadSummary) -> io::Result<()> {
    writeln!(out, "events:     {}", summary.events())?;
    writeln!(out, "attributes: {}", summary.attributes())?;
    let mut types: Vec<(&String, &usize)> = summary.types().iter().collect();
    types.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    writeln!(out, "types:      {}", types.len())?;
    let width = types.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    for (name, count) in types {
        writeln!(out, "  {name:<width$}  {count:>9}")?;
    }
    writeln!(out, "rejected:   {}", summary.rejected().len())?;
    for r in summary.rejected() {
        writeln!(
            out,
            "  event {} attribute {} {} {:?}: {}",
            r.event, r.attribute, r.type_name, r.value, r.reason
        )?;
    }
    writeln!(out, "errors:     {}", summary.errors().len())?;
    for error in summary.errors() {
        writeln!(out, "  {error}")?;
    }
    Ok(())
}
