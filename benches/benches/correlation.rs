//! Correlation engine benchmarks (criterion).
//!
//! * `correlation/bulk`: from the first input to the finished engine
//!   (over-correlation decided, correlations counted), streaming the
//!   seeded realistic corpus ([`misp_benches::corpus`]) into
//!   [`EngineBuilder`]. Dropping the finished engine (about 0.1 s at 10M
//!   attributes) is not part of that span, so it happens outside the
//!   timing (`iter_with_large_drop`), as in `misp-gen --correlate`;
//! * `correlation/add`: one incremental add into a built engine;
//! * `correlation/correlations_of`: the correlations of one attribute
//!   whose keys are under the limit;
//! * `correlation/stream`: iterating every correlation.
//!
//! The corpus size is `MISP_BENCH_ATTRS` (default 1,000,000). Percentiles
//! and peak memory, which criterion does not report, come from
//! `cargo run --release -p misp-benches --example correlation_figures`.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use misp_benches::corpus::Corpus;
use misp_benches::correlation_input::feed_corpus;
use misp_correlate::correlation::{AttributeInput, Engine, EngineBuilder, Id};

fn size() -> u64 {
    std::env::var("MISP_BENCH_ATTRS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

fn build(corpus: &Corpus) -> Engine {
    let mut b = EngineBuilder::new();
    feed_corpus(corpus, &mut b).expect("capacity");
    let built = b.build().expect("build");
    black_box(built.engine.summary());
    built.engine
}

fn bulk(c: &mut Criterion) {
    let n = size();
    let corpus = Corpus::realistic(42, n).expect("corpus");
    let mut g = c.benchmark_group("correlation");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(n));
    g.bench_function(format!("bulk/{n}"), |b| {
        b.iter_with_large_drop(|| build(&corpus))
    });
    g.finish();
}

fn queries(c: &mut Criterion) {
    let n = size();
    let corpus = Corpus::realistic(42, n).expect("corpus");
    let mut engine = build(&corpus);
    let events = u64::from(corpus.event_count()).max(1);
    let mut g = c.benchmark_group("correlation");

    // Incremental adds: fresh identities, values from the same
    // distribution (another seed).
    let extra = Corpus::realistic(7, n).expect("corpus");
    let mut next = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("add/{n}"), |b| {
        b.iter_batched(
            || {
                let mut st = extra.attributes_range(next % n..next % n + 1);
                let one = st
                    .next_attribute()
                    .map(|a| (n + next, next % events, a.ty, a.value.clone()));
                next += 1;
                one
            },
            |one| {
                if let Some((id, event, ty, value)) = one {
                    engine
                        .add_attribute(&AttributeInput::new(id, event, ty, &value))
                        .expect("add");
                }
            },
            BatchSize::SmallInput,
        )
    });

    // Attributes under the limit.
    let probes: Vec<u64> = (0..n)
        .map(|i| i.wrapping_mul(0x9E37_79B9) % n)
        .filter(|&i| {
            engine
                .attribute(Id::Num(i))
                .is_some_and(|v| !v.keys().iter().any(|k| engine.is_over_correlating(k)))
        })
        .take(100_000)
        .collect();
    let mut i = 0usize;
    g.bench_function(format!("correlations_of/{n}"), |b| {
        b.iter(|| {
            i = (i + 1) % probes.len().max(1);
            let id = probes.get(i).copied().unwrap_or(0);
            black_box(
                engine
                    .correlations_of(Id::Num(id), None)
                    .map(|v| v.len())
                    .unwrap_or(0),
            )
        })
    });

    g.sample_size(10);
    g.throughput(Throughput::Elements(engine.summary().correlations()));
    g.bench_function(format!("stream/{n}"), |b| {
        b.iter(|| black_box(engine.correlations().count()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bulk, queries
}
criterion_main!(benches);
