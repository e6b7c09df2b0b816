//! Warninglist matcher benchmarks over real data.
//!
//! * `warninglist/build`: read and compile the full misp-warninglists set
//!   (119 lists, 2,510,044 entries) from JSON (the built matcher is
//!   dropped outside the timing).
//! * `warninglist/check`: check the 718,796 TweetFeed values on one core
//!   (MISP-compatible and improved mode), one by one with
//!   [`Matcher::check_into`] (`one-core`) and through
//!   [`Matcher::check_batch_into`] (`one-core-batch`, whose queries' memory
//!   accesses overlap).
//! * `warninglist/check_batch`: the same values through
//!   [`Matcher::check_batch`] on rayon pools of 1 and 2 threads.
//!
//! Data: `$MISP_WARNINGLISTS` (a misp-warninglists directory) and
//! `$MISP_VALUES` (`type<TAB>value` lines), defaulting to
//! `../shared/data/{misp-warninglists,values/tweetfeed-typed-values.tsv}`
//! relative to the workspace root (or an ancestor of it). Without the data
//! the benchmarks are skipped with a message. Obtain the lists from PyPI
//! (`pymispwarninglists`) or GitHub (MISP/misp-warninglists), and TweetFeed
//! from GitHub (0xDanielLopez/TweetFeed).
//!
//! Before the benchmarks run, the resident memory of a built matcher is
//! printed: process RSS after loading and building (lists dropped) minus the
//! RSS before, and the bytes the matcher counts itself. With glibc, run with
//! `MALLOC_MMAP_THRESHOLD_=131072` for an exact RSS figure: otherwise glibc
//! keeps the freed parse buffers mapped and the delta includes them.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use misp_core::AttributeType;
use misp_correlate::warninglist::{
    self, BatchHits, Improvements, LoadedLists, Matcher, MatcherBuilder, Query, ToIdsGate,
};

fn data_path(variable: &str, relative: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = manifest.parent()?.to_path_buf();
    root.ancestors()
        .skip(1)
        .map(|dir| dir.join("shared/data").join(relative))
        .find(|p| p.exists())
}

fn warninglists() -> Option<PathBuf> {
    let path = data_path("MISP_WARNINGLISTS", "misp-warninglists");
    if path.is_none() {
        eprintln!(
            "warninglist benches skipped: set MISP_WARNINGLISTS or put the data in ../shared/data"
        );
    }
    path
}

fn values() -> Option<Vec<(AttributeType, String)>> {
    let Some(path) = data_path("MISP_VALUES", "values/tweetfeed-typed-values.tsv") else {
        eprintln!(
            "warninglist check benches skipped: set MISP_VALUES or put the data in ../shared/data"
        );
        return None;
    };
    let text = std::fs::read_to_string(&path).ok()?;
    let values: Vec<(AttributeType, String)> = text
        .lines()
        .filter_map(|line| {
            let (ty, value) = line.split_once('\t')?;
            Some((AttributeType::from_name(ty)?, value.to_owned()))
        })
        .collect();
    Some(values)
}

fn load(path: &Path, improvements: Improvements) -> Matcher {
    match warninglist::load(path, improvements) {
        Ok(loaded) => loaded.matcher,
        Err(error) => panic!("cannot load {}: {error}", path.display()),
    }
}

/// Resident set size in bytes (Linux; 0 elsewhere).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn report_memory(path: &Path) {
    let baseline = rss();
    let started = Instant::now();
    let LoadedLists { lists, .. } = match warninglist::load_lists(path) {
        Ok(loaded) => loaded,
        Err(error) => panic!("cannot load {}: {error}", path.display()),
    };
    let mut builder = MatcherBuilder::new();
    for list in lists {
        if let Err(error) = builder.add(list) {
            eprintln!("{error}");
        }
    }
    let matcher = match builder.build() {
        Ok((matcher, _)) => matcher,
        Err(error) => panic!("cannot build: {error}"),
    };
    let elapsed = started.elapsed();
    let built = rss();
    let (strings, hosts) = matcher.distinct_keys();
    eprintln!(
        "warninglist matcher: first build {:.3} s; RSS {:.1} MiB over baseline with the lists dropped \
         (exact with MALLOC_MMAP_THRESHOLD_=131072, else glibc keeps freed parse buffers); \
         counted {:.1} MiB; {strings} distinct string keys, {hosts} distinct hostname keys",
        elapsed.as_secs_f64(),
        built.saturating_sub(baseline) as f64 / 1048576.0,
        matcher.memory_usage() as f64 / 1048576.0,
    );
}

fn bench_build(c: &mut Criterion) {
    let Some(path) = warninglists() else { return };
    report_memory(&path);
    let mut group = c.benchmark_group("warninglist/build");
    group.sample_size(10);
    group.throughput(Throughput::Elements(2_510_044));
    group.bench_function("misp-warninglists", |b| {
        b.iter_with_large_drop(|| load(&path, Improvements::MISP))
    });
    group.finish();
}

fn bench_check(c: &mut Criterion) {
    let (Some(path), Some(values)) = (warninglists(), values()) else {
        return;
    };
    let queries: Vec<Query<'_>> = values
        .iter()
        .map(|(ty, value)| Query::new(*ty, value))
        .collect();
    let mut group = c.benchmark_group("warninglist/check");
    group.sample_size(10);
    group.throughput(Throughput::Elements(queries.len() as u64));
    for (mode, improvements) in [
        ("misp", Improvements::MISP),
        ("improved", Improvements::all()),
    ] {
        let matcher = load(&path, improvements);
        group.bench_function(BenchmarkId::new("one-core", mode), |b| {
            let mut hits = Vec::new();
            b.iter(|| {
                let mut total = 0;
                for query in &queries {
                    hits.clear();
                    matcher.check_into(*query, ToIdsGate::Off, &mut hits);
                    total += hits.len();
                }
                black_box(total)
            });
        });
        group.bench_function(BenchmarkId::new("one-core-batch", mode), |b| {
            let mut batch = BatchHits::default();
            b.iter(|| {
                let mut total = 0;
                for chunk in queries.chunks(4096) {
                    matcher.check_batch_into(chunk, ToIdsGate::Off, &mut batch);
                    total += batch.hit_count();
                }
                black_box(total)
            });
        });
    }
    group.finish();

    let matcher = load(&path, Improvements::MISP);
    let mut group = c.benchmark_group("warninglist/check_batch");
    group.sample_size(10);
    group.throughput(Throughput::Elements(queries.len() as u64));
    for threads in [1, 2] {
        let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(threads).build() else {
            continue;
        };
        group.bench_function(
            BenchmarkId::new("misp", format!("{threads}-threads")),
            |b| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(matcher.check_batch(&queries, ToIdsGate::Off).hit_count())
                    })
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench_build, bench_check);
criterion_main!(benches);
