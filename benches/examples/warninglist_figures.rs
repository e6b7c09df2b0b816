//! Warninglist figures criterion does not give: build time split into
//! reading and compiling, resident memory, per-type check cost on the real
//! values, and snapshot save time and size. Also a convenient target for
//! `perf record`.
//!
//! ```text
//! cargo run --release -p misp-benches --example warninglist_figures -- [build|check|check-misp|batch|snapshot|all] [runs]
//! cargo run --release -p misp-benches --example warninglist_figures -- dump FILE
//! cargo run --release -p misp-benches --example warninglist_figures -- cache [runs] [subset]
//! ```
//!
//! `dump FILE` writes every hit of every value, in MISP mode and with every
//! improvement, one line per value (`mode, index, list, type, match,
//! part`), so that two builds can be compared byte for byte.
//!
//! `cache` tells memory latency from instructions: the MISP-mode `check`
//! loop over all values against the same loop over the first `subset`
//! values (default 20,000) repeated to the same count, whose table lines
//! stay in cache after the first pass. Same instructions per value (same
//! mix of types), so the gap between the two rates is what cache misses
//! cost.
//!
//! Data as for the criterion benches: `$MISP_WARNINGLISTS`, `$MISP_VALUES`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use misp_core::AttributeType;
use misp_correlate::snapshot::WarninglistSnapshot;
use misp_correlate::warninglist::{self, Improvements, MatcherBuilder, Query, ToIdsGate};

fn data(variable: &str, default: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

/// Resident set size in bytes (Linux; 0 elsewhere).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(0)
        * 4096
}

fn best(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut fastest = Duration::MAX;
    let mut out = 0;
    for _ in 0..runs {
        let (cpu, wall) = (misp_benches::thread_cpu_time(), Instant::now());
        out = black_box(f());
        let spent = misp_benches::thread_cpu_time().saturating_sub(cpu);
        let spent = if spent.is_zero() {
            wall.elapsed()
        } else {
            spent
        };
        fastest = fastest.min(spent);
    }
    (fastest, out)
}

/// Fastest wall time of `runs` calls: the thread CPU clock
/// (`/proc/thread-self/schedstat`) advances in scheduler ticks on some
/// kernels, too coarse for the few milliseconds of one value type.
fn best_wall(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut fastest = Duration::MAX;
    let mut out = 0;
    for _ in 0..runs {
        let wall = Instant::now();
        out = black_box(f());
        fastest = fastest.min(wall.elapsed());
    }
    (fastest, out)
}

/// Checks `queries` one by one with `m` and returns the number of hits.
fn check_each(m: &warninglist::Matcher, queries: &[Query<'_>]) -> usize {
    let mut hits = Vec::new();
    let mut n = 0;
    for q in queries {
        hits.clear();
        m.check_into(*q, ToIdsGate::Off, &mut hits);
        n += hits.len();
    }
    n
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    // `check-misp`: the `check` figures of MISP mode only.
    let misp_only = what == "check-misp";
    let what = if misp_only { "check".to_owned() } else { what };
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let lists_path = data("MISP_WARNINGLISTS", "/work/shared/data/misp-warninglists");
    let values_path = data(
        "MISP_VALUES",
        "/work/shared/data/values/tweetfeed-typed-values.tsv",
    );
    let all = what == "all";

    let baseline = rss();
    let started = Instant::now();
    let loaded = warninglist::load_lists(&lists_path).expect("lists");
    let read = started.elapsed();
    let mut builder = MatcherBuilder::new();
    for list in loaded.lists {
        builder.add(list).expect("add");
    }
    let compile_start = Instant::now();
    let (matcher, problems) = builder.build().expect("build");
    let compile = compile_start.elapsed();
    println!(
        "build: read {:.1} ms + compile {:.1} ms = {:.1} ms; {} problems; RSS +{:.1} MiB; counted {:.1} MiB",
        read.as_secs_f64() * 1e3,
        compile.as_secs_f64() * 1e3,
        started.elapsed().as_secs_f64() * 1e3,
        problems.len(),
        rss().saturating_sub(baseline) as f64 / 1048576.0,
        matcher.memory_usage() as f64 / 1048576.0
    );
    if what == "build" {
        for _ in 1..runs {
            let started = Instant::now();
            let loaded = warninglist::load(&lists_path, Improvements::MISP).expect("load");
            println!("build: {:.1} ms", started.elapsed().as_secs_f64() * 1e3);
            black_box(loaded);
        }
        return;
    }

    let text = std::fs::read_to_string(&values_path).expect("values");
    let values: Vec<(AttributeType, &str)> = text
        .lines()
        .filter_map(|line| {
            let (ty, value) = line.split_once('\t')?;
            Some((AttributeType::from_name(ty)?, value))
        })
        .collect();
    let queries: Vec<Query<'_>> = values.iter().map(|(t, v)| Query::new(*t, v)).collect();
    if what == "dump" {
        let out = std::env::args().nth(2).expect("dump FILE");
        let improved = warninglist::load(&lists_path, Improvements::all())
            .expect("load")
            .matcher;
        let mut text = String::new();
        let mut hits = Vec::new();
        for (mode, m) in [("misp", &matcher), ("improved", &improved)] {
            for (i, q) in queries.iter().enumerate() {
                hits.clear();
                m.check_into(*q, ToIdsGate::Off, &mut hits);
                for hit in &hits {
                    use std::fmt::Write;
                    let _ = writeln!(
                        text,
                        "{mode}\t{i}\t{}\t{}\t{}\t{}",
                        hit.list_name, hit.list_type, hit.matched, hit.value
                    );
                }
            }
        }
        std::fs::write(&out, text).expect("write dump");
        return;
    }
    if what == "cache" {
        let subset: usize = std::env::args()
            .nth(3)
            .and_then(|r| r.parse().ok())
            .unwrap_or(20_000)
            .min(queries.len());
        let resident: Vec<Query<'_>> = queries
            .iter()
            .take(subset)
            .cycle()
            .take(queries.len())
            .copied()
            .collect();
        let rate = |qs: &[Query<'_>]| {
            let (t, n) = best(runs, || check_each(&matcher, qs));
            (qs.len() as f64 / t.as_secs_f64() / 1e6, t, n)
        };
        // Alternate, so that both see the same moment of a noisy machine.
        for _ in 0..2 {
            for (label, qs) in [
                ("all values".to_owned(), &queries),
                (format!("first {subset} values repeated"), &resident),
            ] {
                let (rate, t, n) = rate(qs);
                println!(
                    "check misp, {label}: {} checks in {:.1} ms = {rate:.2} M values/s, {n} hits",
                    qs.len(),
                    t.as_secs_f64() * 1e3,
                );
            }
        }
        return;
    }
    if all || what == "check" {
        for (mode, improvements) in [
            ("misp", Improvements::MISP),
            ("improved", Improvements::all()),
        ] {
            if misp_only && improvements != Improvements::MISP {
                continue;
            }
            let m = if improvements == Improvements::MISP {
                None
            } else {
                Some(
                    warninglist::load(&lists_path, improvements)
                        .expect("load")
                        .matcher,
                )
            };
            let m = m.as_ref().unwrap_or(&matcher);
            let (t, n) = best(runs, || check_each(m, &queries));
            println!(
                "check {mode}: {} values in {:.1} ms = {:.2} M values/s, {n} hits",
                queries.len(),
                t.as_secs_f64() * 1e3,
                queries.len() as f64 / t.as_secs_f64() / 1e6
            );
            let (t, n) = best(runs, || {
                let mut batch = warninglist::BatchHits::default();
                let mut n = 0;
                for chunk in queries.chunks(4096) {
                    m.check_batch_into(chunk, ToIdsGate::Off, &mut batch);
                    n += batch.hit_count();
                }
                n
            });
            println!(
                "check_batch_into {mode} (one core): {:.1} ms = {:.2} M values/s, {n} hits",
                t.as_secs_f64() * 1e3,
                queries.len() as f64 / t.as_secs_f64() / 1e6
            );
            let mut by_type: BTreeMap<&str, Vec<Query<'_>>> = BTreeMap::new();
            for q in &queries {
                by_type.entry(q.ty.name()).or_default().push(*q);
            }
            for (ty, qs) in &by_type {
                let (t, n) = best_wall(runs, || check_each(m, qs));
                println!(
                    "  {ty:>8}: {:>7} values, {:6.1} ns/value (wall), {n} hits",
                    qs.len(),
                    t.as_secs_f64() * 1e9 / qs.len() as f64
                );
            }
        }
    }
    if all || what == "batch" {
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            let mut fastest = Duration::MAX;
            let mut n = 0;
            for _ in 0..runs {
                let wall = Instant::now();
                n = pool.install(|| matcher.check_batch(&queries, ToIdsGate::Off).hit_count());
                fastest = fastest.min(wall.elapsed());
            }
            println!(
                "check_batch {threads} threads: wall {:.1} ms = {:.2} M values/s, {n} hits",
                fastest.as_secs_f64() * 1e3,
                queries.len() as f64 / fastest.as_secs_f64() / 1e6,
            );
        }
    }
    if all || what == "snapshot" {
        let dir = std::env::temp_dir().join(format!("wl-figures-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("w.snap");
        let started = Instant::now();
        WarninglistSnapshot::save_matcher(&matcher, &path).expect("save");
        println!(
            "snapshot save: {:.1} ms, {} bytes",
            started.elapsed().as_secs_f64() * 1e3,
            std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0)
        );
        let (t, _) = best(runs.max(20), || {
            WarninglistSnapshot::open(&path)
                .map(|s| s.list_count())
                .unwrap_or(0)
        });
        println!("snapshot open: {:.3} ms", t.as_secs_f64() * 1e3);
        let snapshot = WarninglistSnapshot::open(&path).expect("open");
        snapshot.prepare();
        let (tm, _) = best(runs, || check_each(&matcher, &queries));
        let (ts, _) = best(runs, || {
            let mut hits = Vec::new();
            let mut n = 0;
            for q in &queries {
                hits.clear();
                snapshot.check_into(*q, ToIdsGate::Off, &mut hits);
                n += hits.len();
            }
            n
        });
        println!(
            "snapshot check: in memory {:.1} ms, snapshot {:.1} ms ({:.0}% of in-memory speed)",
            tm.as_secs_f64() * 1e3,
            ts.as_secs_f64() * 1e3,
            tm.as_secs_f64() / ts.as_secs_f64() * 100.0
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
