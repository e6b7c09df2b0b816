//! Fuzz the warninglist loader and matcher.
//!
//! Input: `<list JSON> NUL <type name> TAB <value>`. The JSON goes through
//! `Warninglist::from_json` (any bytes: must never panic), the list is
//! compiled in MISP-compatible and improved mode (and added at run time to
//! a second matcher), and the value is checked. Invariants: at most one hit
//! per list, hits sorted by list name, each hit's value is the whole value
//! or one half of it, and batch and single checks agree.
//!
//! Wiring (for `fuzz/Cargo.toml`): a `[[bin]]` named `warninglist` with
//! `path = "fuzz_targets/warninglist.rs"`, depending on `libfuzzer-sys` and
//! `misp-correlate`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use misp_correlate::warninglist::{Improvements, MatcherBuilder, Query, ToIdsGate, Warninglist};

fuzz_target!(|data: &[u8]| {
    let (json, query) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(list) = Warninglist::from_json(json, "fuzz/list.json") else {
        return;
    };
    let query = String::from_utf8_lossy(query);
    let (ty, value) = query.split_once('\t').unwrap_or(("text", &query));

    for improvements in [Improvements::MISP, Improvements::all()] {
        let mut builder = MatcherBuilder::new();
        builder.improvements(improvements);
        if builder.add(list.clone()).is_err() {
            return;
        }
        let Ok((matcher, _problems)) = builder.build() else {
            return;
        };
        let single = matcher.check_query(Query::new(ty, value), ToIdsGate::Off);
        assert!(single.len() <= matcher.list_count());
        for pair in single.windows(2) {
            assert!(
                pair[0].list_name < pair[1].list_name,
                "sorted, one hit per list"
            );
        }
        for hit in &single {
            assert!(
                value == hit.value
                    || value
                        .split_once('|')
                        .is_some_and(|(a, b)| hit.value == a || hit.value == b)
            );
        }
        let batch = matcher.check_batch(&[Query::new(ty, value)], ToIdsGate::Off);
        assert_eq!(batch.get(0), &single[..]);

        // The same list added at run time behaves the same.
        let mut empty = MatcherBuilder::new();
        empty.improvements(improvements);
        let Ok((mut runtime, _)) = empty.build() else {
            return;
        };
        if runtime.add_list(list.clone()).is_ok() {
            let again = runtime.check_query(Query::new(ty, value), ToIdsGate::Off);
            let names = |hits: &[misp_correlate::warninglist::Hit<'_>]| -> Vec<String> {
                hits.iter()
                    .map(|h| format!("{}={}@{}", h.list_name, h.matched, h.value))
                    .collect()
            };
            assert_eq!(names(&again), names(&single));
        }
    }
});
