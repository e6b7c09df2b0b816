//! The correlation engine's headline figures on a generated corpus: bulk
//! build time and peak memory, incremental-add and per-attribute query
//! latency percentiles.
//!
//! ```text
//! cargo run --release -p misp-benches --example correlation_figures -- [N] [realistic|simple] [advanced] [seed=S]
//! ```
//!
//! N defaults to 10,000,000 attributes; the corpus to the realistic
//! generator ([`misp_benches::corpus`]), `simple` is
//! [`StringCorpus`]; the seed to 42. Criterion cannot report percentiles or the process's
//! peak RSS, hence this program. Set `BULK_ONLY` to stop after the bulk
//! build.

use std::time::{Duration, Instant};

use misp_benches::corpus::Corpus;
use misp_benches::correlation_input::{StringCorpus, bulk_from_corpus, cpu_time, peak_rss};
use misp_correlate::correlation::{AttributeInput, Config, Engine, EngineBuilder, EventInput, Id};

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
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let simple = args.iter().any(|a| a == "simple");
    let advanced = args.iter().any(|a| a == "advanced");
    let seed: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("seed=")?.parse().ok())
        .unwrap_or(42);
    println!(
        "threads: {}; corpus: {}, seed {seed}; advanced: {advanced}",
        rayon::current_num_threads(),
        if simple { "simple" } else { "realistic" }
    );
    let config = Config {
        advanced,
        ..Config::default()
    };

    // Generation alone, to separate its cost from the engine's.
    let realistic = (!simple).then(|| Corpus::realistic(seed, n).expect("corpus"));
    let simple_corpus = StringCorpus::new(seed, n);
    let (cpu0, t0) = (cpu_time(), Instant::now());
    let mut bytes = 0usize;
    match &realistic {
        Some(c) => {
            let mut s = c.attributes();
            while let Some(a) = s.next_attribute() {
                bytes += a.value.len();
            }
        }
        None => simple_corpus.for_each(|g| bytes += g.value.len()),
    }
    println!(
        "generation alone: {:?} wall, {:?} CPU ({bytes} value bytes)",
        t0.elapsed(),
        cpu_time() - cpu0
    );

    // Bulk: from the first input to the finished engine (summary
    // computed: over-correlation decided, correlations counted).
    let (engine, elapsed, cpu, fed, rejected, s) = match &realistic {
        Some(c) => {
            let f = bulk_from_corpus(c, config).expect("feed");
            (f.engine, f.wall, f.cpu, f.fed, f.rejected, f.summary)
        }
        None => {
            let (cpu0, start) = (cpu_time(), Instant::now());
            let mut b = EngineBuilder::with_config(config);
            for e in 0..simple_corpus.events() {
                b.add_event(&EventInput::new(e)).expect("fresh event");
            }
            simple_corpus.for_each(|g| {
                b.add(&AttributeInput::new(g.index, g.event, g.ty, g.value))
                    .expect("capacity");
            });
            let fed = start.elapsed();
            let built = b.build().expect("build");
            let s = built.engine.summary();
            let rejected = built.rejected.len();
            (
                built.engine,
                start.elapsed(),
                cpu_time() - cpu0,
                fed,
                rejected,
                s,
            )
        }
    };
    println!(
        "bulk: {n} attributes in {elapsed:?} wall, {cpu:?} CPU (feeding ended at {fed:?}); rejected {rejected}; {s:?}; correlations {}",
        s.correlations()
    );
    println!(
        "peak RSS after bulk: {:.1} MiB",
        peak_rss().unwrap_or(0) as f64 / 1048576.0
    );
    if std::env::var_os("BULK_ONLY").is_some() {
        return;
    }

    // Incremental adds into the big engine (new identities, values from
    // the same distribution, so many land on existing keys).
    let mut engine = engine;
    let adds = 200_000.min(n);
    let mut samples = Vec::with_capacity(adds as usize);
    let events = engine_events(&realistic, &simple_corpus);
    let mut add_one = |i: u64, ty, value: &str, engine: &mut Engine| {
        let input = AttributeInput::new(n + i, i % events, ty, value);
        let t = Instant::now();
        engine.add_attribute(&input).expect("add");
        samples.push(t.elapsed());
    };
    match &realistic {
        Some(_) => {
            let extra = Corpus::realistic(7, n).expect("corpus");
            let mut st = extra.attributes_range(0..adds);
            let mut i = 0;
            while let Some(a) = st.next_attribute() {
                add_one(i, a.ty, &a.value, &mut engine);
                i += 1;
            }
        }
        None => StringCorpus::new(7, n)
            .for_each_in(0..adds, |g| add_one(g.index, g.ty, g.value, &mut engine)),
    }
    report("incremental add", samples);

    // Correlations of one attribute whose keys are under the limit.
    let probes = 200_000.min(n);
    let mut samples = Vec::with_capacity(probes as usize);
    let mut found = 0usize;
    let mut i = 0u64;
    while samples.len() < probes as usize && i < n {
        let id = Id::Num(i.wrapping_mul(0x9E37_79B9) % n);
        i += 1;
        let Some(view) = engine.attribute(id) else {
            continue;
        };
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
    println!(
        "peak RSS at exit: {:.1} MiB",
        peak_rss().unwrap_or(0) as f64 / 1048576.0
    );
}

fn engine_events(realistic: &Option<Corpus>, simple: &StringCorpus) -> u64 {
    match realistic {
        Some(c) => u64::from(c.event_count()).max(1),
        None => simple.events().max(1),
    }
}
