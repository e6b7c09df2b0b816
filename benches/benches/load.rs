//! Feed loading throughput: the whole TweetFeed MISP feed (365 event
//! files, 110,682 attributes, 31.6 MB of JSON) parsed into the model.
//!
//! The feed is read from `$MISP_TWEETFEED`, by default
//! `../shared/data/feeds/tweetfeed` next to the workspace root; the bench
//! prints a message and does nothing when it is absent. Criterion reports
//! MB/s of JSON (manifest and event files). `single-thread` is the
//! per-core figure; `parallel` reads files on the rayon pool and keeps
//! every event; `read-ahead` is what `misp-correlate correlate` does: a
//! window of files parsed ahead on the pool, events handed over one by
//! one in file order and dropped by the consumer.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use misp_core::json;

/// The feed directory, if present.
fn feed_dir() -> Option<PathBuf> {
    let path = match std::env::var_os("MISP_TWEETFEED") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/feeds/tweetfeed"),
    };
    if path.join("manifest.json").is_file() {
        Some(path)
    } else {
        eprintln!(
            "load bench skipped: no MISP feed at {} (set MISP_TWEETFEED to TweetFeed's MISP feed directory)",
            path.display()
        );
        None
    }
}

/// Bytes of JSON a load of `dir` reads: the manifest and every event file.
fn feed_bytes(dir: &Path) -> u64 {
    let manifest = std::fs::metadata(dir.join("manifest.json")).map_or(0, |m| m.len());
    let events: u64 = json::discover([dir])
        .iter()
        .filter_map(|file| file.as_ref().ok())
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|m| m.len())
        .sum();
    manifest + events
}

fn load(c: &mut Criterion) {
    let Some(dir) = feed_dir() else {
        return;
    };
    let mut group = c.benchmark_group("load/tweetfeed");
    group.throughput(Throughput::Bytes(feed_bytes(&dir)));
    group.sample_size(20);
    group.bench_function("single-thread", |b| {
        b.iter(|| {
            let mut attributes = 0;
            for event in json::load([&dir]).flatten() {
                attributes += event.attribute_count();
            }
            black_box(attributes)
        })
    });
    group.bench_function("parallel", |b| {
        b.iter(|| black_box(json::load_parallel([&dir]).len()))
    });
    group.bench_function("read-ahead", |b| {
        b.iter(|| {
            let mut attributes = 0;
            for event in json::ParallelInputs::new([&dir]).flatten() {
                attributes += event.attribute_count();
            }
            black_box(attributes)
        })
    });
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
