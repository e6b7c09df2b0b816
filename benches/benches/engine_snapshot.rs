//! Engine snapshot benchmarks on a generated corpus (no JSON).
//!
//! * `engine_snapshot/open`: map and open the snapshot.
//! * `engine_snapshot/open_first_query`: open, then one `correlations_of`.
//! * `engine_snapshot/correlations_of/{memory,snapshot}`: 1,000
//!   `correlations_of` on the in-memory engine and on the opened snapshot.
//! * `engine_snapshot/posting_of/{memory,snapshot}`: 1,000 `posting_of`
//!   (key lookup by text: the engine's hash table against the snapshot's
//!   in-file hash table).
//!
//! The corpus has `$ENGINE_SNAPSHOT_N` attributes (default 1,000,000 so
//! that a bench run stays in minutes; the headline figures at 10M come from
//! `cargo run --release -p misp-benches --example engine_snapshot_figures`).
//! Building the engine and saving the snapshot are timed once and printed.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use misp_benches::corpus::Corpus;
use misp_benches::correlation_input::feed_corpus;
use misp_correlate::correlation::{Config, EngineBuilder, Id};
use misp_correlate::snapshot::EngineSnapshot;

fn engine_snapshot_benches(c: &mut Criterion) {
    let n: u64 = std::env::var("ENGINE_SNAPSHOT_N")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let Ok(corpus) = Corpus::realistic(42, n) else {
        eprintln!("engine_snapshot benches skipped: cannot generate the corpus");
        return;
    };
    let mut b = EngineBuilder::with_config(Config::default());
    if feed_corpus(&corpus, &mut b).is_err() {
        eprintln!("engine_snapshot benches skipped: cannot feed the corpus");
        return;
    }
    let Ok(built) = b.build() else {
        eprintln!("engine_snapshot benches skipped: build failed");
        return;
    };
    let engine = built.engine;
    let dir =
        std::env::temp_dir().join(format!("misp-engine-snapshot-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("engine.snap");
    let started = Instant::now();
    if let Err(e) = EngineSnapshot::save_engine(&engine, &path) {
        eprintln!("engine_snapshot benches skipped: {e}");
        return;
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "engine snapshot of {n} attributes: saved in {:?}, {:.1} MiB",
        started.elapsed(),
        size as f64 / 1048576.0
    );
    let ids: Vec<u64> = (0..1_000u64).map(|i| (i * 7_919) % n).collect();
    let values: Vec<String> = ids
        .iter()
        .filter_map(|&i| {
            engine
                .attribute(Id::Num(i))
                .map(|a| a.value1().into_owned())
        })
        .collect();

    let mut g = c.benchmark_group("engine_snapshot");
    g.bench_function("open", |bench| {
        bench.iter(|| black_box(EngineSnapshot::open(&path).map(|s| s.attribute_count())))
    });
    g.bench_function("open_first_query", |bench| {
        bench.iter(|| {
            let s = EngineSnapshot::open(&path).ok()?;
            s.correlations_of(Id::Num(ids[0]), None)
                .ok()
                .map(|c| c.len())
        })
    });
    let Ok(snap) = EngineSnapshot::open(&path) else {
        return;
    };
    g.bench_function("correlations_of/memory", |bench| {
        bench.iter(|| {
            ids.iter()
                .map(|&i| {
                    engine
                        .correlations_of(Id::Num(i), None)
                        .map_or(0, |c| c.len())
                })
                .sum::<usize>()
        })
    });
    g.bench_function("correlations_of/snapshot", |bench| {
        bench.iter(|| {
            ids.iter()
                .map(|&i| {
                    snap.correlations_of(Id::Num(i), None)
                        .map_or(0, |c| c.len())
                })
                .sum::<usize>()
        })
    });
    g.bench_function("posting_of/memory", |bench| {
        bench.iter(|| {
            values
                .iter()
                .map(|v| engine.posting_of(v).map_or(0, |p| p.len()))
                .sum::<usize>()
        })
    });
    g.bench_function("posting_of/snapshot", |bench| {
        bench.iter(|| {
            values
                .iter()
                .map(|v| snap.posting_of(v).map_or(0, |p| p.len()))
                .sum::<usize>()
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, engine_snapshot_benches);
criterion_main!(benches);
