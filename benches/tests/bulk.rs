//! `bulk_from_corpus` (the in-memory figure of issue #3 and of
//! `misp-gen --correlate`) correlates the same corpus as the feed
//! `misp-gen --out` writes: the comparison harness sets the in-memory
//! figure beside DuckDB's self-join over the written feed's keys, so the
//! two must count the same. `bulk_from_preloaded` (`--preload`) builds
//! the same engine from the attributes generated into memory first.

use misp_benches::corpus::Corpus;
use misp_benches::correlation_input::{PreloadedAttributes, bulk_from_corpus, bulk_from_preloaded};
use misp_correlate::correlation::{Config, Engine};

#[test]
fn in_memory_bulk_counts_what_the_written_feed_correlates() {
    let corpus = Corpus::realistic(11, 20_000).unwrap();
    let figures = bulk_from_corpus(&corpus, Config::default()).unwrap();
    assert_eq!(figures.rejected, 0);
    assert_eq!(figures.summary.attributes, 20_000);
    assert!(figures.summary.exact > 0, "{:?}", figures.summary);
    assert!(
        figures.summary.over_correlating > 0,
        "{:?}",
        figures.summary
    );

    let dir = std::env::temp_dir().join(format!("misp-bulk-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    corpus.write_feed(&dir).unwrap();
    let events = misp_core::json::load_parallel([&dir])
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let built = Engine::from_events(Config::default(), events).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(built.rejected.is_empty());
    assert_eq!(built.engine.summary(), figures.summary);
}

#[test]
fn preloaded_bulk_builds_the_streamed_engine() {
    let corpus = Corpus::realistic(12, 30_000).unwrap();
    let streamed = bulk_from_corpus(&corpus, Config::default()).unwrap();
    let preloaded = PreloadedAttributes::generate(&corpus);
    assert_eq!(preloaded.len(), 30_000);
    let mut bytes = 0;
    let mut stream = corpus.attributes();
    while let Some(a) = stream.next_attribute() {
        bytes += a.value.len();
    }
    assert_eq!(preloaded.value_bytes(), bytes);
    let from_memory = bulk_from_preloaded(&corpus, &preloaded, Config::default()).unwrap();
    assert_eq!(from_memory.rejected, streamed.rejected);
    assert_eq!(from_memory.summary, streamed.summary);
    let pairs = |engine: &Engine| -> Vec<String> {
        engine.correlations().map(|c| format!("{c:?}")).collect()
    };
    let streamed_pairs = pairs(&streamed.engine);
    assert!(!streamed_pairs.is_empty());
    assert_eq!(pairs(&from_memory.engine), streamed_pairs);
}
