//! The correlation engine's headline figures on a generated corpus: bulk
//! build time and peak memory, incremental-add and per-attribute query
//! latency percentiles.
//!
//! ```text
//! cargo run --release -p misp-benches --example correlation_figures -- [N]
//! ```
//!
//! N defaults to 10,000,000 attributes. Criterion cannot report
//! percentiles or the process's peak RSS, hence this program.

use std::time::{Duration, Instant};

use misp_benches::correlation_input::{StringCorpus, peak_rss};
use misp_correlate::correlation::{AttributeInput, EngineBuilder, EventInput, Id};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    println!(
        "{what}: n={} p50={:?} p99={:?} p99.9={:?} max={:?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
        samples.last().copied().unwrap_or_default()
    );
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(10_000_000);
    let corpus = StringCorpus::new(42, n);
    println!("threads: {}", rayon::current_num_threads());

    // Bulk: from the first attribute to the finished engine (summary
    // computed: over-correlation decided, correlations counted).
    let start = Instant::now();
    let mut b = EngineBuilder::new();
    for e in 0..corpus.events() {
        b.add_event(&EventInput::new(e)).expect("fresh event");
    }
    corpus.for_each(|g| {
        b.add(&AttributeInput::new(g.index, g.event, g.ty, g.value)).expect("capacity");
    });
    let fed = start.elapsed();
    let built = b.build().expect("build");
    let elapsed = start.elapsed();
    let engine = built.engine;
    let s = engine.summary();
    println!(
        "bulk: {n} attributes in {elapsed:?} (feeding {fed:?}); rejected {}; {s:?}; correlations {}",
        built.rejected.len(),
        s.correlations()
    );
    println!("peak RSS after bulk: {:.1} MiB", peak_rss().unwrap_or(0) as f64 / 1048576.0);
    if std::env::var_os("BULK_ONLY").is_some() {
        return;
    }

    // Incremental adds into the big engine (new identities, same value
    // distribution, so many land on existing keys).
    let mut engine = engine;
    let extra = StringCorpus::new(7, n);
    let adds = 200_000.min(n);
    let mut samples = Vec::with_capacity(adds as usize);
    extra.for_each_in(0..adds, |g| {
        let id = n + g.index;
        let event = g.index % corpus.events().max(1);
        let input = AttributeInput::new(id, event, g.ty, g.value);
        let t = Instant::now();
        engine.add_attribute(&input).expect("add");
        samples.push(t.elapsed());
    });
    report("incremental add", samples);

    // Correlations of one attribute whose keys are under the limit.
    let probes = 200_000.min(n);
    let mut samples = Vec::with_capacity(probes as usize);
    let mut found = 0usize;
    let mut i = 0u64;
    while samples.len() < probes as usize && i < n {
        let id = Id::Num(i.wrapping_mul(0x9E37_79B9) % n);
        i += 1;
        let Some(view) = engine.attribute(id) else { continue };
        if view.keys().iter().any(|k| engine.is_over_correlating(k)) {
            continue;
        }
        let t = Instant::now();
        let c = engine.correlations_of(id, None).expect("exists");
        samples.push(t.elapsed());
        found += c.len();
    }
    report("correlations_of (under the limit)", samples);
    println!("  ({found} correlations returned in total)");
    println!("peak RSS at exit: {:.1} MiB", peak_rss().unwrap_or(0) as f64 / 1048576.0);
}
