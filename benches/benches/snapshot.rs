//! Warninglist snapshot benchmarks over real data.
//!
//! * `snapshot/open`: map and open the snapshot of the full
//!   misp-warninglists set (119 lists, 2.5 M entries).
//! * `snapshot/open_first_query`: open, then answer one hostname query.
//! * `snapshot/check`: the TweetFeed values checked one by one against the
//!   in-memory matcher and against the opened snapshot (MISP mode).
//!
//! Saving is timed once and printed (wall and CPU time), not sampled.
//!
//! Data: `$MISP_WARNINGLISTS` and `$MISP_VALUES` (`type<TAB>value` lines),
//! defaulting to `../shared/data/{misp-warninglists,values/tweetfeed-typed-values.tsv}`
//! relative to the workspace root or an ancestor; without it the benchmarks
//! are skipped with a message.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use misp_core::AttributeType;
use misp_correlate::snapshot::WarninglistSnapshot;
use misp_correlate::warninglist::{self, Improvements, Query, ToIdsGate};

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

fn snapshot_benches(c: &mut Criterion) {
    let (Some(lists), Some(values)) = (
        data_path("MISP_WARNINGLISTS", "misp-warninglists"),
        data_path("MISP_VALUES", "values/tweetfeed-typed-values.tsv"),
    ) else {
        eprintln!(
            "snapshot benches skipped: set MISP_WARNINGLISTS and MISP_VALUES or put the data in ../shared/data"
        );
        return;
    };
    let Ok(loaded) = warninglist::load(&lists, Improvements::MISP) else {
        eprintln!("snapshot benches skipped: cannot load {}", lists.display());
        return;
    };
    let matcher = loaded.matcher;
    let dir = std::env::temp_dir().join(format!("misp-snapshot-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("warninglists.snap");
    let (started, cpu) = (Instant::now(), misp_benches::thread_cpu_time());
    let saved = WarninglistSnapshot::save_matcher(&matcher, &path);
    eprintln!(
        "warninglist snapshot saved in {:?} (CPU {:?}; the rest is writing and syncing the file)",
        started.elapsed(),
        misp_benches::thread_cpu_time().saturating_sub(cpu)
    );
    if let Err(e) = saved {
        eprintln!("snapshot benches skipped: {e}");
        return;
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!("warninglist snapshot: {size} bytes");

    let text = std::fs::read_to_string(&values).unwrap_or_default();
    let queries: Vec<Query<'_>> = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(ty, value)| Query::new(ty, value))
        .collect();

    let mut group = c.benchmark_group("snapshot");
    group.sample_size(20);
    group.bench_function("open", |b| {
        b.iter(|| black_box(WarninglistSnapshot::open(&path).ok()))
    });
    let domain = AttributeType::from_name("domain");
    group.bench_function("open_first_query", |b| {
        b.iter(|| {
            let snapshot = WarninglistSnapshot::open(&path).ok();
            if let (Some(s), Some(ty)) = (&snapshot, domain) {
                black_box(s.check(ty, "www.google.com").len());
            }
        })
    });

    let Ok(snapshot) = WarninglistSnapshot::open(&path) else {
        return;
    };
    let started = Instant::now();
    snapshot.prepare();
    eprintln!("substring/regex lists compiled in {:?}", started.elapsed());
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.sample_size(10);
    group.bench_function("check/in_memory", |b| {
        let mut hits = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for q in &queries {
                hits.clear();
                matcher.check_into(*q, ToIdsGate::Off, &mut hits);
                n += hits.len();
            }
            black_box(n)
        })
    });
    group.bench_function("check/snapshot", |b| {
        let mut hits = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for q in &queries {
                hits.clear();
                snapshot.check_into(*q, ToIdsGate::Off, &mut hits);
                n += hits.len();
            }
            black_box(n)
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, snapshot_benches);
criterion_main!(benches);
