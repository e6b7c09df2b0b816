//! `misp-correlate check`: check `type<TAB>value` lines against
//! warninglists.
//!
//! Each input line is `type<TAB>value` (the value is everything after the
//! first TAB); only the line ending (`\n` or `\r\n`) is removed, nothing is
//! trimmed. For each line, in order, one JSON object is written to standard
//! output (warninglist contract §4):
//!
//! ```text
//! {"type":T,"value":V,"hits":[{"list":NAME,"list_type":TYPE,"match":M,"value":PART},…]}
//! ```
//!
//! with hits sorted by list name. The `to_ids` gate is off. Type names are
//! gated as MISP does (exact string comparison with `matching_attributes`),
//! so a type MISP does not know sees only lists that apply to every type.
//!
//! The lists come from a misp-warninglists directory (`--warninglists DIR`)
//! or from a snapshot (`--snapshot FILE`, opened in milliseconds; see
//! `FORMAT.md`). `--warninglists DIR --save-snapshot FILE` writes the
//! compiled lists to a snapshot (and checks FILE lines only if an input file
//! is given).
//!
//! Lines without a TAB, or that are not UTF-8, still get an object (with the
//! text decoded lossily, no hits and an `"error"` field) and a warning on
//! standard error; the exit status is then 1. Problems in the lists do not
//! change the exit status: a file that cannot be used is a warning on
//! standard error, and entries that can never match (a regex PHP rejects, a
//! CIDR MISP cannot match, …) are summed up in one warning line with a
//! count per list; `--verbose` prints one line per entry instead.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use misp_correlate::snapshot::WarninglistSnapshot;
use misp_correlate::warninglist::{self, Hit, Improvements, Query, ToIdsGate};
use serde::Serialize;

/// Arguments of `misp-correlate check`.
#[derive(clap::Args)]
pub struct Args {
    /// A misp-warninglists directory (every `list.json` below it is a list)
    /// or a single list file.
    #[arg(long, value_name = "DIR", required_unless_present = "snapshot")]
    warninglists: Option<PathBuf>,
    /// Check against a warninglist snapshot instead of a directory.
    #[arg(long, value_name = "SNAPSHOT", conflicts_with_all = ["warninglists", "improved", "save_snapshot"])]
    snapshot: Option<PathBuf>,
    /// Save the compiled lists to this snapshot file; without an input
    /// FILE nothing is checked.
    #[arg(long, value_name = "SNAPSHOT", requires = "warninglists")]
    save_snapshot: Option<PathBuf>,
    /// Apply every improvement over MISP's matching (lower-cased hosts, URL
    /// parsing, `g` regexes, CIDR overlap, …) instead of MISP's behaviour.
    #[arg(long)]
    improved: bool,
    /// Print every list entry that can never match, one warning line each,
    /// instead of one summary line with a count per list.
    #[arg(long, short)]
    verbose: bool,
    /// Input file of `type<TAB>value` lines (default: standard input).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
}

/// Lines checked together (in parallel) before their output is written.
const BLOCK: usize = 16_384;

/// Runs the subcommand.
pub fn run(args: Args) -> Result<ExitCode, String> {
    let source = match (&args.snapshot, &args.warninglists) {
        (Some(path), _) => Source::Snapshot(Box::new(
            WarninglistSnapshot::open(path).map_err(|e| format!("cannot open snapshot: {e}"))?,
        )),
        (None, Some(dir)) => {
            Source::Matcher(Box::new(load_matcher(dir, args.improved, args.verbose)?))
        }
        (None, None) => return Err("give --warninglists DIR or --snapshot FILE".into()),
    };
    if let (Some(path), Source::Matcher(matcher)) = (&args.save_snapshot, &source) {
        WarninglistSnapshot::save_matcher(matcher, path)
            .map_err(|e| format!("cannot save snapshot: {e}"))?;
        if args.file.is_none() {
            return Ok(ExitCode::SUCCESS);
        }
    }
    check_lines(&source, args.file.as_ref())
}

/// Where the compiled lists come from.
enum Source {
    Matcher(Box<warninglist::Matcher>),
    Snapshot(Box<WarninglistSnapshot>),
}

impl Source {
    /// The hits of each query, in order.
    fn check_block<'a>(&'a self, queries: &[Query<'a>]) -> Vec<Vec<Hit<'a>>> {
        match self {
            Source::Matcher(matcher) => matcher
                .check_batch(queries, ToIdsGate::Off)
                .iter()
                .map(<[Hit<'a>]>::to_vec)
                .collect(),
            Source::Snapshot(snapshot) => queries
                .iter()
                .map(|q| snapshot.check_query(*q, ToIdsGate::Off))
                .collect(),
        }
    }
}

fn load_matcher(
    dir: &std::path::Path,
    improved: bool,
    verbose: bool,
) -> Result<warninglist::Matcher, String> {
    let improvements = if improved {
        Improvements::all()
    } else {
        Improvements::MISP
    };
    let loaded = warninglist::load(dir, improvements)
        .map_err(|e| format!("cannot load warninglists: {e}"))?;
    for error in &loaded.errors {
        eprintln!("misp-correlate: warning: {error}");
    }
    if verbose {
        for problem in &loaded.problems {
            eprintln!("misp-correlate: warning: {problem}");
        }
    } else if let Some(summary) = problem_summary(&loaded.problems) {
        eprintln!("misp-correlate: warning: {summary}");
    }
    Ok(loaded.matcher)
}

/// One line counting the unusable entries per list (in list-name order),
/// or `None` when there are none.
fn problem_summary(problems: &[warninglist::EntryProblem]) -> Option<String> {
    let mut per_list: std::collections::BTreeMap<&str, usize> = Default::default();
    for problem in problems {
        *per_list.entry(problem.list.as_str()).or_insert(0) += 1;
    }
    if per_list.is_empty() {
        return None;
    }
    let counts: Vec<String> = per_list
        .iter()
        .map(|(list, n)| format!("{list:?} {n}"))
        .collect();
    Some(format!(
        "{} list entries can never match ({}); --verbose lists them",
        problems.len(),
        counts.join(", ")
    ))
}

fn check_lines(matcher: &Source, file: Option<&PathBuf>) -> Result<ExitCode, String> {
    let (mut input, input_name): (Box<dyn BufRead>, String) = match file {
        Some(path) => {
            let file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
            (Box::new(BufReader::new(file)), path.display().to_string())
        }
        None => (Box::new(io::stdin().lock()), "<stdin>".to_owned()),
    };
    let stdout = io::stdout();
    let mut output = BufWriter::new(stdout.lock());
    let write_error = |e: io::Error| format!("cannot write output: {e}");

    let mut line_number = 0usize;
    let mut malformed = 0usize;
    let mut block: Vec<Line> = Vec::with_capacity(BLOCK);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        let read = input
            .read_until(b'\n', &mut buffer)
            .map_err(|e| format!("{input_name}: {e}"))?;
        if read > 0 {
            line_number += 1;
            let line = Line::parse(&buffer);
            if let Some(error) = &line.error {
                malformed += 1;
                eprintln!("misp-correlate: warning: {input_name}:{line_number}: {error}");
            }
            block.push(line);
        }
        if block.len() == BLOCK || (read == 0 && !block.is_empty()) {
            write_block(matcher, &block, &mut output).map_err(write_error)?;
            block.clear();
        }
        if read == 0 {
            break;
        }
    }
    output.flush().map_err(write_error)?;
    Ok(if malformed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// One input line.
struct Line {
    ty: String,
    value: String,
    error: Option<String>,
}

impl Line {
    fn parse(raw: &[u8]) -> Line {
        let raw = raw
            .strip_suffix(b"\n")
            .map_or(raw, |r| r.strip_suffix(b"\r").unwrap_or(r));
        let text = String::from_utf8_lossy(raw);
        let not_utf8 = matches!(text, std::borrow::Cow::Owned(_));
        match text.split_once('\t') {
            Some((ty, value)) => Line {
                ty: ty.to_owned(),
                value: value.to_owned(),
                error: not_utf8.then(|| "not UTF-8".to_owned()),
            },
            None => Line {
                ty: String::new(),
                value: text.into_owned(),
                error: Some("no TAB between type and value".to_owned()),
            },
        }
    }
}

#[derive(Serialize)]
struct Output<'a> {
    #[serde(rename = "type")]
    ty: &'a str,
    value: &'a str,
    hits: Vec<OutputHit<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct OutputHit<'a> {
    list: &'a str,
    list_type: &'static str,
    #[serde(rename = "match")]
    matched: String,
    value: &'a str,
}

impl<'a> From<&Hit<'a>> for OutputHit<'a> {
    fn from(hit: &Hit<'a>) -> Self {
        OutputHit {
            list: hit.list_name,
            list_type: hit.list_type.as_str(),
            matched: hit.matched.to_string(),
            value: hit.value,
        }
    }
}

fn write_block(matcher: &Source, block: &[Line], output: &mut impl Write) -> io::Result<()> {
    // Malformed lines are not checked: they get no hits.
    let queries: Vec<Query<'_>> = block
        .iter()
        .map(|line| match line.error {
            None => Query::new(line.ty.as_str(), &line.value),
            Some(_) => Query::new("", ""),
        })
        .collect();
    let hits = matcher.check_block(&queries);
    for (line, hits) in block.iter().zip(hits.iter()) {
        let hits = if line.error.is_some() {
            Vec::new()
        } else {
            hits.iter().map(OutputHit::from).collect()
        };
        let object = Output {
            ty: &line.ty,
            value: &line.value,
            hits,
            error: line.error.as_deref(),
        };
        serde_json::to_writer(&mut *output, &object)?;
        output.write_all(b"\n")?;
    }
    Ok(())
}
