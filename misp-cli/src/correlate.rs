//! `misp-correlate correlate`: load MISP events or feeds, correlate them,
//! print a summary, and optionally write every correlation (JSON lines)
//! and a report (JSON).
//!
//! The work is [`misp_correlate::correlation`]; this module reads files,
//! feeds the engine builder and formats what the engine answers.
//!
//! `--save-snapshot FILE` saves the built engine as an engine snapshot,
//! with what was read (event uuids, attribute count, rejected attributes,
//! unreadable files) as its metadata; `correlate --snapshot FILE` (no
//! INPUT) answers from it: the same summary, `--pairs` and `--report`,
//! byte for byte, without reading or building anything.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use misp_correlate::correlation::{
    Config, Correlation, Engine, EngineBuilder, Id, OverCorrelating, RelatedEvent, Summary, TopKey,
};
use misp_correlate::snapshot::EngineSnapshot;
use misp_correlate::warninglist::{self, EventWarnings, Improvements, Matcher, ToIdsGate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ordered;

/// How many keys the report and the summary rank.
const TOP_KEYS: usize = 20;

/// Arguments of `misp-correlate correlate`.
///
/// Exits with 0 when at least one event was read (even with rejected
/// attributes or unreadable files), 1 when no event could be read at all,
/// 2 on a usage or output error.
#[derive(clap::Args)]
pub struct Args {
    /// MISP feed directories (with manifest.json), directories of event
    /// files (read recursively), or MISP JSON event files.
    #[arg(required_unless_present = "snapshot", value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// The over-correlation limit: a key whose attributes see more than N
    /// attributes of other events does not correlate [default: 20].
    #[arg(long, value_name = "N", conflicts_with = "no_limit")]
    limit: Option<u32>,
    /// No over-correlation limit.
    #[arg(long)]
    no_limit: bool,
    /// Advanced correlation: IP addresses inside CIDR networks, similar
    /// ssdeep hashes (MISP's enable_advanced_correlations).
    #[arg(long)]
    advanced: bool,
    /// Correlation exclusions, one pattern per line (`%x%` contains, `%x`
    /// ends with, `x%` starts with, otherwise equal; case-sensitive).
    #[arg(long, value_name = "FILE")]
    exclusions: Option<PathBuf>,
    /// Write every correlation as one JSON object per line.
    #[arg(long, value_name = "OUT.jsonl")]
    pairs: Option<PathBuf>,
    /// Write a JSON report: counts, rejected attributes, unreadable files,
    /// over-correlating and top keys, related events.
    #[arg(long, value_name = "OUT.json")]
    report: Option<PathBuf>,
    /// Check every attribute (its stored value, `to_ids` gate off) against
    /// the warninglists under DIR and add the hits per attribute and per
    /// event to the report and the summary.
    #[arg(long, value_name = "DIR")]
    warninglists: Option<PathBuf>,
    /// After loading, save the engine (and what was read) as an engine
    /// snapshot, to be answered from later with `--snapshot`.
    #[arg(long, value_name = "FILE", conflicts_with = "snapshot")]
    save_snapshot: Option<PathBuf>,
    /// Answer from an engine snapshot instead of reading INPUTs: same
    /// summary, `--pairs` and `--report` as from the inputs it was saved
    /// from.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["inputs", "limit", "no_limit", "advanced", "exclusions", "warninglists"]
    )]
    snapshot: Option<PathBuf>,
}

/// One side of a correlation in `--pairs`.
#[derive(Serialize)]
struct Side<'a> {
    event: IdJson<'a>,
    attribute: IdJson<'a>,
}

/// One line of `--pairs`.
#[derive(Serialize)]
struct PairLine<'a> {
    kind: &'static str,
    key: std::borrow::Cow<'a, str>,
    a: Side<'a>,
    b: Side<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct RejectedEntry {
    event: String,
    attribute: String,
    #[serde(rename = "type")]
    ty: String,
    value: String,
    reason: String,
}

#[derive(Serialize, Deserialize)]
struct ErrorEntry {
    file: String,
    message: String,
}

#[derive(Serialize)]
struct KeyCount<'a> {
    key: &'a str,
    count: u64,
}

#[derive(Serialize)]
struct KeyCorrelations<'a> {
    key: &'a str,
    correlations: u64,
}

/// The `--report` document.
#[derive(Serialize)]
struct Report<'a> {
    events: usize,
    attributes: usize,
    eligible: u64,
    rejected: &'a [RejectedEntry],
    errors: &'a [ErrorEntry],
    correlations: u64,
    over_correlating: Vec<KeyCount<'a>>,
    top_keys: Vec<KeyCorrelations<'a>>,
    related_events: BTreeMap<String, Vec<String>>,
    /// Present with `--warninglists`: event uuid → hits of its attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    warninglists: Option<&'a BTreeMap<String, EventWarnings>>,
}

impl serde::Serialize for IdJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Id::Num(n) => s.serialize_u64(n),
            Id::Str(x) => s.serialize_str(x),
        }
    }
}

/// An identity as JSON: a number stays a number.
struct IdJson<'a>(Id<'a>);

/// Reads the exclusion file: one pattern per line, taken as written
/// (only the line ending is removed); empty lines are skipped.
fn read_exclusions(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "correlate: cannot read the exclusions {}: {e}",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

fn progress(files: usize) -> Option<ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(files as u64);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} files {msg}") {
        bar.set_style(style);
    }
    Some(bar)
}

/// Runs the subcommand.
pub fn run(args: Args) -> Result<ExitCode, String> {
    if let Some(path) = &args.snapshot {
        return run_from_snapshot(path, &args);
    }
    let limit = if args.no_limit {
        None
    } else {
        Some(args.limit.unwrap_or(20))
    };
    let config = Config {
        limit,
        advanced: args.advanced,
        ..Config::default()
    };
    let mut builder = EngineBuilder::with_config(config);
    if let Some(path) = &args.exclusions {
        for pattern in read_exclusions(path)? {
            builder.exclusion(&pattern);
        }
    }

    let matcher = match &args.warninglists {
        Some(dir) => Some(load_warninglists(dir)?),
        None => None,
    };
    let mut warnings: BTreeMap<String, EventWarnings> = BTreeMap::new();

    // Load.
    let mut errors: Vec<ErrorEntry> = Vec::new();
    let mut event_ids: Vec<String> = Vec::new();
    let mut attributes = 0usize;
    let files = misp_core::json::discover(&args.inputs);
    let bar = progress(files.len());
    // Files are read and parsed ahead on the pool (their events borrow
    // their strings from the file's bytes); they arrive in file order.
    let mut documents = misp_core::json::ParallelDocuments::from_files(files);
    let total_files = documents.files_remaining();
    while let Some(document) = documents.next() {
        for item in document.events() {
            match item {
                Ok(event) => {
                    attributes += event.attribute_count();
                    event_ids.push(event.uuid.to_string());
                    if let Some(matcher) = &matcher {
                        let found = matcher.check_borrowed_event(event, ToIdsGate::Off);
                        if !found.is_empty() {
                            warnings.insert(event.uuid.to_string(), found);
                        }
                    }
                    builder
                        .add_borrowed_event(event)
                        .map_err(|e| format!("correlate: {e}"))?;
                }
                Err(e) => errors.push(error_entry(e)),
            }
        }
        if let Some(bar) = &bar {
            bar.set_position((total_files - documents.files_remaining()) as u64);
        }
    }
    if let Some(bar) = &bar {
        bar.set_message("correlating");
    }
    let built = builder.build().map_err(|e| format!("correlate: {e}"))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let engine = built.engine;
    event_ids.sort();
    event_ids.dedup();
    let facts = Facts {
        events: event_ids,
        attributes,
        rejected: built
            .rejected
            .iter()
            .map(|r| RejectedEntry {
                event: r.event.to_string(),
                attribute: r.attribute.to_string(),
                ty: r.ty.clone(),
                value: r.value.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
        errors,
    };
    if let Some(path) = &args.save_snapshot {
        save_snapshot(path, &engine, &facts)?;
    }
    let warnings = matcher.as_ref().map(|_| &warnings);
    answer(&Answers::Engine(&engine), &facts, warnings, &args)
}

/// What was read besides the engine: the events (uuids, sorted), the
/// attribute count, the rejected attributes and the unreadable files. An
/// engine snapshot saved by `--save-snapshot` carries them (as JSON
/// metadata) so that `--snapshot` reports the same.
#[derive(Serialize, Deserialize)]
struct Facts {
    events: Vec<String>,
    attributes: usize,
    rejected: Vec<RejectedEntry>,
    errors: Vec<ErrorEntry>,
}

fn save_snapshot(path: &Path, engine: &Engine, facts: &Facts) -> Result<(), String> {
    let metadata = serde_json::to_vec(facts).map_err(|e| format!("correlate: {e}"))?;
    EngineSnapshot::save_engine_with_metadata(engine, &metadata, path)
        .map_err(|e| format!("correlate: cannot save the snapshot: {e}"))
}

/// `correlate --snapshot FILE`: the same answers, from a snapshot.
fn run_from_snapshot(path: &Path, args: &Args) -> Result<ExitCode, String> {
    let snapshot = EngineSnapshot::open(path).map_err(|e| format!("correlate: {e}"))?;
    let facts: Facts = if snapshot.metadata().is_empty() {
        Facts {
            events: Vec::new(),
            attributes: snapshot.attribute_count(),
            rejected: Vec::new(),
            errors: Vec::new(),
        }
    } else {
        serde_json::from_slice(snapshot.metadata()).map_err(|e| {
            format!(
                "correlate: snapshot {}: unreadable metadata: {e}",
                path.display()
            )
        })?
    };
    answer(&Answers::Snapshot(&snapshot), &facts, None, args)
}

/// Where the answers come from: a freshly built engine or a snapshot.
enum Answers<'a> {
    Engine(&'a Engine),
    Snapshot(&'a EngineSnapshot),
}

impl Answers<'_> {
    fn summary(&self) -> Summary {
        match self {
            Answers::Engine(e) => e.summary(),
            Answers::Snapshot(s) => s.summary(),
        }
    }

    fn over_correlating(&self) -> Vec<OverCorrelating<'_>> {
        match self {
            Answers::Engine(e) => e.over_correlating(),
            Answers::Snapshot(s) => s.over_correlating(),
        }
    }

    fn top_keys(&self, n: usize) -> Vec<TopKey<'_>> {
        match self {
            Answers::Engine(e) => e.top_keys(n),
            Answers::Snapshot(s) => s.top_keys(n),
        }
    }

    fn related_events(&self, id: Id<'_>) -> Option<Vec<RelatedEvent<'_>>> {
        match self {
            Answers::Engine(e) => e.related_events(id, None).ok(),
            Answers::Snapshot(s) => s.related_events(id, None).ok(),
        }
    }

    fn correlations_part(
        &self,
        part: usize,
        parts: usize,
    ) -> Box<dyn Iterator<Item = Correlation<'_>> + '_> {
        match self {
            Answers::Engine(e) => Box::new(e.correlations_part(part, parts)),
            Answers::Snapshot(s) => Box::new(s.correlations_part(part, parts)),
        }
    }

    fn attribute_count(&self) -> usize {
        match self {
            Answers::Engine(e) => e.attribute_count(),
            Answers::Snapshot(s) => s.attribute_count(),
        }
    }
}

/// Writes `--pairs`, `--report` and the summary.
fn answer(
    engine: &Answers<'_>,
    facts: &Facts,
    warnings: Option<&BTreeMap<String, EventWarnings>>,
    args: &Args,
) -> Result<ExitCode, String> {
    let event_ids = &facts.events;
    let attributes = facts.attributes;
    let errors = &facts.errors;
    if let Some(path) = &args.pairs {
        write_pairs(path, engine)?;
    }
    let over = engine.over_correlating();
    let top = engine.top_keys(TOP_KEYS);
    let summary = engine.summary();
    if let Some(path) = &args.report {
        let report = Report {
            events: event_ids.len(),
            attributes,
            eligible: summary.eligible,
            rejected: &facts.rejected,
            errors,
            correlations: summary.correlations(),
            over_correlating: over
                .iter()
                .map(|o| KeyCount {
                    key: &o.key,
                    count: o.count,
                })
                .collect(),
            top_keys: top
                .iter()
                .map(|t| KeyCorrelations {
                    key: &t.key,
                    correlations: t.correlations,
                })
                .collect(),
            related_events: related_events(engine, event_ids),
            warninglists: warnings,
        };
        write_json(path, &report)?;
    }
    // Summary on stdout.
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let written = (|| -> io::Result<()> {
        writeln!(out, "events:        {}", event_ids.len())?;
        writeln!(out, "attributes:    {attributes}")?;
        writeln!(out, "eligible:      {}", summary.eligible)?;
        writeln!(out, "rejected:      {}", facts.rejected.len())?;
        for r in &facts.rejected {
            writeln!(
                out,
                "  event {} attribute {} {} {:?}: {}",
                r.event, r.attribute, r.ty, r.value, r.reason
            )?;
        }
        writeln!(out, "errors:        {}", errors.len())?;
        for e in errors {
            writeln!(out, "  {}: {}", e.file, e.message)?;
        }
        writeln!(
            out,
            "correlations:  {} (exact {}, cidr {}, ssdeep {})",
            summary.correlations(),
            summary.exact,
            summary.cidr,
            summary.ssdeep
        )?;
        writeln!(out, "keys:          {}", summary.keys)?;
        writeln!(out, "over-correlating keys: {}", over.len())?;
        for o in over.iter().take(TOP_KEYS) {
            writeln!(out, "  {:>8}  {}", o.count, o.key)?;
        }
        writeln!(out, "top keys:")?;
        for t in &top {
            writeln!(out, "  {:>8}  {}", t.correlations, t.key)?;
        }
        if let Some(warnings) = warnings {
            let flagged: usize = warnings.values().map(|w| w.attributes.len()).sum();
            let mut per_list: BTreeMap<&str, usize> = BTreeMap::new();
            for w in warnings.values() {
                for (list, n) in &w.lists {
                    *per_list.entry(list).or_insert(0) += n;
                }
            }
            writeln!(
                out,
                "warninglists:  {flagged} attributes in {} events hit a list",
                warnings.len()
            )?;
            for (list, n) in per_list {
                writeln!(out, "  {n:>8}  {list}")?;
            }
        }
        out.flush()
    })();
    written.map_err(|e| format!("correlate: cannot write the summary: {e}"))?;
    if event_ids.is_empty() {
        eprintln!("misp-correlate correlate: no event could be read");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the warninglists in MISP-compatible mode; unusable files and
/// entries are warnings on stderr, never fatal.
fn load_warninglists(dir: &Path) -> Result<Matcher, String> {
    let loaded = warninglist::load(dir, Improvements::MISP)
        .map_err(|e| format!("correlate: warninglists: {e}"))?;
    for e in &loaded.errors {
        eprintln!("misp-correlate: warning: {e}");
    }
    if !loaded.problems.is_empty() {
        eprintln!(
            "misp-correlate: warning: {} warninglist entries can never match \
             (run `check` to list them)",
            loaded.problems.len()
        );
    }
    Ok(loaded.matcher)
}

/// An unreadable file or refused event: the file, and the message
/// without the file name (which `file` already says).
fn error_entry(e: &misp_core::Error) -> ErrorEntry {
    ErrorEntry {
        file: e
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        message: e.detail(),
    }
}

/// Related events of every event, by uuid; events with none are left out.
fn related_events(engine: &Answers<'_>, events: &[String]) -> BTreeMap<String, Vec<String>> {
    // Each event's query is independent: asked on all cores.
    events
        .par_iter()
        .filter_map(|uuid| {
            let related = engine.related_events(Id::Str(uuid))?;
            (!related.is_empty()).then(|| {
                (
                    uuid.clone(),
                    related.iter().map(|r| r.event.to_string()).collect(),
                )
            })
        })
        .collect()
}

/// Whether `a` prints after `b` in byte order, without allocating: a
/// number is compared by its decimal digits.
fn prints_after(a: Id<'_>, b: Id<'_>) -> bool {
    fn printed<'a>(id: &Id<'a>, digits: &'a mut [u8; 20]) -> &'a [u8] {
        match *id {
            Id::Str(s) => s.as_bytes(),
            Id::Num(mut n) => {
                // u64::MAX has 20 digits.
                let mut start = digits.len();
                for d in digits.iter_mut().rev() {
                    *d = b'0' + (n % 10) as u8;
                    start -= 1;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                digits.get(start..).unwrap_or_default()
            }
        }
    }
    let (mut x, mut y) = ([0u8; 20], [0u8; 20]);
    printed(&a, &mut x) > printed(&b, &mut y)
}

/// The line of one correlation, sides ordered by attribute identity
/// (byte order of the printed identity).
fn pair_line(c: Correlation<'_>) -> PairLine<'_> {
    let c = if prints_after(c.a().id(), c.b().id()) {
        c.swapped()
    } else {
        c
    };
    PairLine {
        kind: c.kind().as_str(),
        key: c.key(),
        a: Side {
            event: IdJson(c.a().event()),
            attribute: IdJson(c.a().id()),
        },
        b: Side {
            event: IdJson(c.b().event()),
            attribute: IdJson(c.b().id()),
        },
        score: c.score(),
    }
}

/// Attributes per piece of the correlation stream that one task renders
/// for `--pairs`.
const PIECE_ATTRIBUTES: usize = 16_384;

/// Bytes of JSON one task renders before it leaves the rest of its piece
/// to the writer (a key's pairs all come at its first attribute, so a
/// piece can hold any number of them): at most two waves of two pieces
/// per thread are held ([`ordered::write_in_order`]), each of at most
/// this size (and a line). A piece
/// of the 10M-attribute benchmark corpus renders to 1.2 MB on average.
const PIECE_BYTES: usize = 4 << 20;

/// The JSON lines of a piece of the correlation stream, and whether they
/// are all of it.
struct RenderedPiece {
    bytes: Vec<u8>,
    lines: usize,
    complete: bool,
}

/// Renders piece `part` of `parts`, up to about `cap` bytes.
fn render_piece(
    engine: &Answers<'_>,
    part: usize,
    parts: usize,
    cap: usize,
) -> serde_json::Result<RenderedPiece> {
    let mut piece = RenderedPiece {
        bytes: Vec::new(),
        lines: 0,
        complete: true,
    };
    for c in engine.correlations_part(part, parts) {
        if piece.bytes.len() >= cap {
            piece.complete = false;
            break;
        }
        serde_json::to_writer(&mut piece.bytes, &pair_line(c))?;
        piece.bytes.push(b'\n');
        piece.lines += 1;
    }
    Ok(piece)
}

/// Writes every correlation as a JSON line, in the engine's stream order:
/// pieces of the stream are rendered on all cores and written in order
/// ([`ordered::write_in_order`]), so the file is the same as a serial
/// writer's.
fn write_pairs(path: &Path, engine: &Answers<'_>) -> Result<(), String> {
    let fail =
        |e: &dyn std::fmt::Display| format!("correlate: cannot write {}: {e}", path.display());
    let file = File::create(path).map_err(|e| fail(&e))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    write_pair_lines(engine, &mut out, PIECE_ATTRIBUTES, PIECE_BYTES).map_err(|e| fail(&e))?;
    out.flush().map_err(|e| fail(&e))
}

/// [`write_pairs`] into `out`, in pieces of `piece_attributes` attributes
/// rendered up to about `cap` bytes each.
fn write_pair_lines(
    engine: &Answers<'_>,
    out: &mut impl Write,
    piece_attributes: usize,
    cap: usize,
) -> io::Result<()> {
    let parts = engine
        .attribute_count()
        .div_ceil(piece_attributes.max(1))
        .max(1);
    ordered::write_in_order(
        parts,
        |part| render_piece(engine, part, parts, cap),
        |part, piece| {
            let piece = piece?;
            out.write_all(&piece.bytes)?;
            // The rest of a piece its task left incomplete.
            if !piece.complete {
                for c in engine.correlations_part(part, parts).skip(piece.lines) {
                    serde_json::to_writer(&mut *out, &pair_line(c))?;
                    out.write_all(b"\n")?;
                }
            }
            Ok(())
        },
    )
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), String> {
    let fail =
        |e: &dyn std::fmt::Display| format!("correlate: cannot write {}: {e}", path.display());
    let file = File::create(path).map_err(|e| fail(&e))?;
    let mut out = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| fail(&e))?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use misp_core::AttributeType;
    use misp_correlate::correlation::{AttributeInput, Config, Engine, EventInput, Id};

    use super::*;

    /// 90 attributes in 30 events: one value in every event (435 pairs,
    /// all emitted at its first attribute, which a piece cannot split),
    /// values shared by a few attributes, and unique ones.
    fn engine() -> Engine {
        let mut engine = Engine::new(Config {
            limit: None,
            ..Config::default()
        })
        .expect("config");
        let domain = AttributeType::from_name("domain").expect("type");
        for event in 0..30u64 {
            engine
                .add_event(&EventInput::new(Id::Num(event)))
                .expect("event");
        }
        for i in 0..90u64 {
            let value = match i % 3 {
                0 => "everywhere.example".to_owned(),
                1 => format!("shared{}.example", i % 7),
                _ => format!("unique{i}.example"),
            };
            engine
                .add_attribute(&AttributeInput::new(
                    Id::Num(i),
                    Id::Num(i / 3),
                    domain,
                    &value,
                ))
                .expect("attribute");
        }
        engine
    }

    #[test]
    fn identities_compare_as_printed() {
        let ids = [
            Id::Num(0),
            Id::Num(9),
            Id::Num(10),
            Id::Num(100),
            Id::Num(u64::MAX),
            Id::Str(""),
            Id::Str("1"),
            Id::Str("10"),
            Id::Str("9"),
            Id::Str("a1b2"),
            Id::Str("\u{e9}"),
        ];
        for a in ids {
            for b in ids {
                assert_eq!(
                    prints_after(a, b),
                    a.to_string() > b.to_string(),
                    "{a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn pair_lines_are_the_serial_stream_however_cut() {
        let engine = engine();
        let answers = Answers::Engine(&engine);
        let mut serial = Vec::new();
        for c in engine.correlations() {
            serde_json::to_writer(&mut serial, &pair_line(c)).expect("render");
            serial.push(b'\n');
        }
        let lines = serial.iter().filter(|&&b| b == b'\n').count();
        assert!(lines > 435, "{lines} pairs");
        for piece_attributes in [1, 4, 89, 90, 1000] {
            for cap in [0, 1, 500, PIECE_BYTES] {
                let mut out = Vec::new();
                write_pair_lines(&answers, &mut out, piece_attributes, cap).expect("write");
                assert!(
                    out == serial,
                    "pieces of {piece_attributes} attributes, cap {cap}"
                );
            }
        }
    }
}
