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

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use misp_correlate::snapshot::WarninglistSnapshot;
use misp_correlate::warninglist::{self, Hit, Improvements, Query, ToIdsGate};
use serde::Serialize;

use crate::ordered;

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
    /// Checks `queries` in order on the calling thread and gives `f` each
    /// one's index and hits.
    fn check_each<'a>(&'a self, queries: &[Query<'a>], mut f: impl FnMut(usize, &[Hit<'a>])) {
        match self {
            Source::Matcher(matcher) => {
                let mut batch = warninglist::BatchHits::default();
                matcher.check_batch_into(queries, ToIdsGate::Off, &mut batch);
                for (i, hits) in batch.iter().enumerate() {
                    f(i, hits);
                }
            }
            Source::Snapshot(snapshot) => {
                for (i, query) in queries.iter().enumerate() {
                    f(i, &snapshot.check_query(*query, ToIdsGate::Off));
                }
            }
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

fn check_lines(source: &Source, file: Option<&PathBuf>) -> Result<ExitCode, String> {
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

    // A block's lines, back to back, and where each ends.
    let mut block = RawBlock {
        bytes: Vec::new(),
        ends: Vec::with_capacity(BLOCK),
        first_line: 1,
    };
    let mut malformed = 0usize;
    loop {
        let read = input
            .read_until(b'\n', &mut block.bytes)
            .map_err(|e| format!("{input_name}: {e}"))?;
        if read > 0 {
            block.ends.push(block.bytes.len());
        }
        if block.ends.len() == BLOCK || (read == 0 && !block.ends.is_empty()) {
            let errors = write_block(source, &block, &mut output).map_err(write_error)?;
            for (line_number, error) in &errors {
                eprintln!("misp-correlate: warning: {input_name}:{line_number}: {error}");
            }
            malformed += errors.len();
            block.first_line += block.ends.len();
            block.bytes.clear();
            block.ends.clear();
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

/// Input lines read together: their bytes (line endings included), where
/// each line ends, and the number of the first.
struct RawBlock {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    first_line: usize,
}

impl RawBlock {
    /// Line `i` of the block, with its line ending.
    fn line(&self, i: usize) -> &[u8] {
        let start = i.checked_sub(1).and_then(|p| self.ends.get(p)).copied();
        let end = self.ends.get(i).copied().unwrap_or(self.bytes.len());
        self.bytes.get(start.unwrap_or(0)..end).unwrap_or_default()
    }
}

/// One input line.
struct Line<'a> {
    ty: Cow<'a, str>,
    value: Cow<'a, str>,
    error: Option<&'static str>,
}

impl<'a> Line<'a> {
    fn parse(raw: &'a [u8]) -> Line<'a> {
        let raw = raw
            .strip_suffix(b"\n")
            .map_or(raw, |r| r.strip_suffix(b"\r").unwrap_or(r));
        match String::from_utf8_lossy(raw) {
            Cow::Borrowed(text) => match text.split_once('\t') {
                Some((ty, value)) => Line {
                    ty: Cow::Borrowed(ty),
                    value: Cow::Borrowed(value),
                    error: None,
                },
                None => Line::without_tab(Cow::Borrowed(text)),
            },
            Cow::Owned(text) => match text.split_once('\t') {
                Some((ty, value)) => Line {
                    ty: Cow::Owned(ty.to_owned()),
                    value: Cow::Owned(value.to_owned()),
                    error: Some("not UTF-8"),
                },
                None => Line::without_tab(Cow::Owned(text)),
            },
        }
    }

    fn without_tab(text: Cow<'a, str>) -> Line<'a> {
        Line {
            ty: Cow::Borrowed(""),
            value: text,
            error: Some("no TAB between type and value"),
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

/// Lines checked and rendered as JSON by one task of [`write_block`].
const PIECE: usize = 1024;

/// The output of a piece of a block: its JSON lines and its malformed
/// lines (line number, what is wrong).
struct CheckedPiece {
    bytes: Vec<u8>,
    errors: Vec<(usize, &'static str)>,
}

/// Checks and writes a block of lines: pieces of it are parsed, checked
/// and rendered on all cores, and written in order
/// ([`ordered::write_in_order`]). Returns the malformed lines (line
/// number, what is wrong), in order.
fn write_block(
    source: &Source,
    block: &RawBlock,
    output: &mut impl Write,
) -> io::Result<Vec<(usize, &'static str)>> {
    let mut errors = Vec::new();
    ordered::write_in_order(
        block.ends.len().div_ceil(PIECE),
        |piece| check_piece(source, block, piece),
        |_, piece| {
            let piece = piece?;
            output.write_all(&piece.bytes)?;
            errors.extend(piece.errors);
            Ok(())
        },
    )?;
    Ok(errors)
}

/// Parses, checks and renders lines `piece * PIECE ..` of `block`.
fn check_piece(source: &Source, block: &RawBlock, piece: usize) -> io::Result<CheckedPiece> {
    let first = piece.saturating_mul(PIECE);
    let last = first.saturating_add(PIECE).min(block.ends.len());
    let lines: Vec<Line<'_>> = (first..last).map(|i| Line::parse(block.line(i))).collect();
    let errors = (first..)
        .zip(&lines)
        .filter_map(|(i, line)| line.error.map(|e| (block.first_line + i, e)))
        .collect();
    // Malformed lines are not checked: they get no hits.
    let queries: Vec<Query<'_>> = lines
        .iter()
        .map(|line| match line.error {
            None => Query::new(line.ty.as_ref(), line.value.as_ref()),
            Some(_) => Query::new("", ""),
        })
        .collect();
    let mut bytes = Vec::with_capacity(lines.len() * 128);
    let mut rendered = Ok(());
    source.check_each(&queries, |i, hits| {
        if let (Ok(()), Some(line)) = (&rendered, lines.get(i)) {
            rendered = render(line, hits, &mut bytes);
        }
    });
    rendered.map(|()| CheckedPiece { bytes, errors })
}

/// Appends the JSON line of `line` with `hits` to `out`.
fn render(line: &Line<'_>, hits: &[Hit<'_>], out: &mut Vec<u8>) -> io::Result<()> {
    let hits = if line.error.is_some() {
        Vec::new()
    } else {
        hits.iter().map(OutputHit::from).collect()
    };
    let object = Output {
        ty: &line.ty,
        value: &line.value,
        hits,
        error: line.error,
    };
    serde_json::to_writer(&mut *out, &object)?;
    out.push(b'\n');
    Ok(())
}
