//! `bulk_from_corpus` (the in-memory figure of issue #3 and of
//! `misp-gen --correlate`) correlates the same corpus as the feed
//! `misp-gen --out` writes: the comparison harness sets the in-memory
//! figure beside DuckDB's self-join over the written feed's keys, so the
//! two must count the same.

use misp_benches::corpus::Corpus;
use misp_benches::correlation_input::bulk_from_corpus;
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
