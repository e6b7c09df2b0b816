//! Correlation engine benchmarks (criterion).
//!
//! * `correlation/bulk`: from the first attribute to the finished engine
//!   (over-correlation decided, correlations counted), streaming a seeded
//!   corpus of string values into [`EngineBuilder`];
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
use misp_benches::correlation_input::StringCorpus;
use misp_correlate::correlation::{AttributeInput, Engine, EngineBuilder, EventInput, Id};

fn size() -> u64 {
    std::env::var("MISP_BENCH_ATTRS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(1_000_000)
}

fn build(corpus: &StringCorpus) -> Engine {
    let mut b = EngineBuilder::new();
    for e in 0..corpus.events() {
        b.add_event(&EventInput::new(e)).expect("fresh event");
    }
    corpus.for_each(|g| {
        b.add(&AttributeInput::new(g.index, g.event, g.ty, g.value))
            .expect("capacity");
    });
    let built = b.build().expect("build");
    black_box(built.engine.summary());
    built.engine
}

fn bulk(c: &mut Criterion) {
    let n = size();
    let corpus = StringCorpus::new(42, n);
    let mut g = c.benchmark_group("correlation");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(n));
    g.bench_function(format!("bulk/{n}"), |b| b.iter(|| build(&corpus)));
    g.finish();
}

fn queries(c: &mut Criterion) {
    let n = size();
    let corpus = StringCorpus::new(42, n);
    let mut engine = build(&corpus);
    let mut g = c.benchmark_group("correlation");

    // Incremental adds: fresh identities, same value distribution.
    let extra = StringCorpus::new(7, n);
    let mut next = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("add/{n}"), |b| {
        b.iter_batched(
            || {
                let mut one = None;
                extra.for_each_in(next..next + 1, |x| {
                    one = Some((
                        n + x.index,
                        x.event % corpus.events().max(1),
                        x.ty,
                        x.value.to_owned(),
                    ))
                });
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
