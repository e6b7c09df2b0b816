//! `misp-gen`: writes, measures or describes a generated MISP corpus.
//!
//! ```text
//! misp-gen --attributes 1000000 --seed 1 --out DIR     # write a MISP feed
//! misp-gen --attributes 10000000 --measure              # generation speed
//! misp-gen --attributes 1000000 --stats                 # what the corpus holds
//! misp-gen --attributes 10000000 --correlate            # bulk correlation, streamed from the generator
//! misp-gen --attributes 10000000 --correlate --preload  # the same from attributes already in memory
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use misp_benches::corpus::{Corpus, CorpusConfig, CorpusStats, RealValues};
use misp_benches::correlation_input::{
    PreloadedAttributes, bulk_from_corpus, bulk_from_preloaded, peak_rss,
};
use misp_correlate::correlation::Config;
use rayon::prelude::*;

/// Generates a realistic MISP corpus (see the `misp_benches::corpus` docs).
#[derive(Parser, Debug)]
#[command(version, about)]
#[command(group(clap::ArgGroup::new("action").required(true).multiple(true).args(["out", "measure", "stats", "correlate"])))]
struct Args {
    /// Number of attributes.
    #[arg(long, default_value_t = 1_000_000)]
    attributes: u64,
    /// The seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of events (default: one per 200 attributes).
    #[arg(long)]
    events: Option<u32>,
    /// Share of attributes inside objects (default 0.04).
    #[arg(long)]
    object_share: Option<f64>,
    /// A `type<TAB>value` file of real values to draw from (e.g.
    /// tweetfeed-typed-values.tsv).
    #[arg(long)]
    real_values: Option<PathBuf>,
    /// Write the corpus as a MISP feed into this directory.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Measure the generation speed (attributes/s), sequential and parallel.
    #[arg(long)]
    measure: bool,
    /// Print what the corpus holds (type mix, reuse, CIDRs, rejections).
    #[arg(long)]
    stats: bool,
    /// Stream the corpus into the correlation engine (no JSON: the same
    /// attributes a feed written with `--out` holds) and print, as one
    /// JSON line, the bulk figures: wall and CPU seconds from the first
    /// attribute to the finished engine with its summary, peak RSS and
    /// the summary's counts. The comparison harness (benches/compare)
    /// sets this beside DuckDB's self-join on the same corpus.
    #[arg(long)]
    correlate: bool,
    /// With `--correlate`: generate every attribute into memory first
    /// (untimed; about 70 bytes per attribute), then time the engine
    /// alone from the first attribute in memory, as a database's join
    /// over a loaded table is timed. The JSON line adds `preload_s`.
    #[arg(long, requires = "correlate")]
    preload: bool,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("misp-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = CorpusConfig::realistic(args.seed, args.attributes);
    if let Some(events) = args.events {
        config.events = events;
        config.reuse.heavy_events = (events / 2).clamp(2, 2000);
    }
    if let Some(share) = args.object_share {
        config.object_share = share;
    }
    if let Some(path) = &args.real_values {
        let t = Instant::now();
        let real = RealValues::load(path)?;
        let c = real.counts();
        eprintln!(
            "real values: {} hosts, {} urls, {} IPv4s, {} md5s, {} sha256s; {} lines skipped ({:.1} s)",
            c.hosts,
            c.urls,
            c.ipv4s,
            c.md5s,
            c.sha256s,
            real.skipped_count(),
            t.elapsed().as_secs_f64()
        );
        for s in real
            .skipped()
            .iter()
            .filter(|s| !s.reason.starts_with("type not drawn"))
            .take(5)
        {
            eprintln!(
                "  {}:{}: {} {:?}: {}",
                path.display(),
                s.line,
                s.type_name,
                s.value,
                s.reason
            );
        }
        config.real_values = Some(Arc::new(real));
    }
    let corpus = Corpus::new(config)?;
    eprintln!(
        "corpus: {} attributes in {} events, seed {}",
        corpus.attribute_count(),
        corpus.event_count(),
        args.seed
    );

    if args.measure {
        measure(&corpus);
    }
    if let Some(dir) = &args.out {
        let t = Instant::now();
        let summary = corpus.write_feed(dir)?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "wrote {}: {} events, {} objects, {} attributes, {:.1} MB in {:.2} s ({:.0} attributes/s)",
            dir.display(),
            summary.events,
            summary.objects,
            summary.attributes,
            summary.bytes as f64 / 1e6,
            secs,
            summary.attributes as f64 / secs
        );
    }
    if args.correlate {
        correlate(&corpus, args.preload)?;
    }
    if args.stats {
        let t = Instant::now();
        let stats = CorpusStats::measure(&corpus);
        print!("{stats}");
        eprintln!("measured in {:.1} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Bulk correlation of the corpus in memory, printed as one JSON line:
/// streamed from the generator, or (`preload`) from attributes generated
/// into memory beforehand.
fn correlate(corpus: &Corpus, preload: bool) -> Result<(), Box<dyn std::error::Error>> {
    let (f, preload_s) = if preload {
        let t = Instant::now();
        let attributes = PreloadedAttributes::generate(corpus);
        let preload_s = t.elapsed().as_secs_f64();
        (
            bulk_from_preloaded(corpus, &attributes, Config::default())?,
            Some(preload_s),
        )
    } else {
        (bulk_from_corpus(corpus, Config::default())?, None)
    };
    let s = f.summary;
    let line = serde_json::json!({
        "preload_s": preload_s,
        "wall_s": f.wall.as_secs_f64(),
        "cpu_s": f.cpu.as_secs_f64(),
        "fed_s": f.fed.as_secs_f64(),
        "peak_rss_mib": peak_rss().map(|b| b as f64 / 1_048_576.0),
        "threads": rayon::current_num_threads(),
        "attributes": s.attributes,
        "rejected": f.rejected,
        "eligible": s.eligible,
        "keys": s.keys,
        "correlations": s.correlations(),
        "exact": s.exact,
        "cidr": s.cidr,
        "ssdeep": s.ssdeep,
        "over_correlating": s.over_correlating,
    });
    println!("{line}");
    Ok(())
}

/// Streams the corpus without writing: once sequentially, once in
/// parallel chunks; prints attributes/s and a checksum (the two agree).
fn measure(corpus: &Corpus) {
    let t = Instant::now();
    let cpu = thread_cpu_ns();
    let mut stream = corpus.attributes();
    let (mut count, mut bytes, mut checksum) = (0u64, 0u64, 0u64);
    while let Some(a) = stream.next_attribute() {
        count += 1;
        bytes += a.value.len() as u64;
        checksum = checksum.wrapping_add(fingerprint(a.index, &a.value));
    }
    let secs = t.elapsed().as_secs_f64();
    let cpu = match (cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) if b > a => {
            let ns = (b - a) as f64;
            format!(
                "; on-CPU {:.2} s: {:.0} ns/attribute, {:.2} M attributes/s per core",
                ns / 1e9,
                ns / count.max(1) as f64,
                count as f64 / ns * 1e3
            )
        }
        _ => String::new(),
    };
    println!(
        "sequential: {count} attributes, {:.1} MB of values in {secs:.2} s: {:.2} M attributes/s{cpu} (checksum {checksum:016x})",
        bytes as f64 / 1e6,
        count as f64 / secs / 1e6
    );
    let t = Instant::now();
    let chunks = corpus.chunks(rayon::current_num_threads() * 4);
    let (count, checksum) = chunks
        .into_par_iter()
        .map(|range| {
            let mut stream = corpus.attributes_range(range);
            let (mut count, mut checksum) = (0u64, 0u64);
            while let Some(a) = stream.next_attribute() {
                count += 1;
                checksum = checksum.wrapping_add(fingerprint(a.index, &a.value));
            }
            (count, checksum)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)));
    let secs = t.elapsed().as_secs_f64();
    println!(
        "parallel ({} threads): {count} attributes in {secs:.2} s: {:.2} M attributes/s (checksum {checksum:016x})",
        rayon::current_num_threads(),
        count as f64 / secs / 1e6
    );
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`): the
/// speed independent of other processes competing for the cores.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// A cheap per-attribute fingerprint (index, length, first and last
/// bytes), summed into an order-independent checksum: enough to see that
/// the parallel chunks gave the sequential stream.
fn fingerprint(index: u64, value: &str) -> u64 {
    let bytes = value.as_bytes();
    let first = bytes.first().copied().unwrap_or(0);
    let last = bytes.last().copied().unwrap_or(0);
    let x = index ^ (bytes.len() as u64) << 40 ^ u64::from(first) << 48 ^ u64::from(last) << 56;
    x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}
