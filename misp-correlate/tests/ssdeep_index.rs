//! `FuzzyIndex` against a naive model (all pairs through `fuzzy_compare`)
//! on random corpora whose hashes share substrings across parts and
//! block sizes.

use std::collections::{BTreeMap, BTreeSet};

use misp_correlate::ssdeep::{FuzzyIndex, SsdeepHash, fuzzy_compare};
use proptest::prelude::*;

/// Substrings that many generated hashes share, some with runs.
const MOTIFS: &[&str] = &[
    "ABCDEFGHIJ",
    "KLMNOPQRS",
    "0123456789+/",
    "abcabcabcabc",
    "zyxwvuts",
    "QQQQQQQxyz",
];

/// Block sizes: libfuzzy's, irregular ones, and ones near `u64::MAX / 2`
/// and `u64::MAX`.
const BLOCK_SIZES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    10,
    12,
    24,
    48,
    96,
    192,
    u64::MAX / 2,
    u64::MAX / 2 + 1,
    u64::MAX - 1,
    u64::MAX,
];

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(MOTIFS).prop_map(str::to_owned),
        // A motif with one character changed.
        2 => (prop::sample::select(MOTIFS), any::<prop::sample::Index>(), "[A-Za-z0-9+/]")
            .prop_map(|(motif, at, with)| {
                let mut chars: Vec<char> = motif.chars().collect();
                let at = at.index(chars.len());
                chars[at] = with.chars().next().unwrap();
                chars.into_iter().collect()
            }),
        3 => "[A-Za-z0-9+/]{0,6}",
        1 => ("[A-D]", 4..9usize).prop_map(|(c, n)| c.repeat(n)),
    ]
}

fn part() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..6).prop_map(|pieces| pieces.concat())
}

fn hash() -> impl Strategy<Value = SsdeepHash> {
    (prop::sample::select(BLOCK_SIZES), part(), part()).prop_filter_map(
        "part longer than libfuzzy compares",
        |(size, first, second)| SsdeepHash::parse(&format!("{size}:{first}:{second}")).ok(),
    )
}

/// Random hashes, some of them repeated (MISP often stores one hash in
/// many events).
fn corpus() -> impl Strategy<Value = Vec<SsdeepHash>> {
    (
        prop::collection::vec(hash(), 1..40),
        prop::collection::vec(any::<prop::sample::Index>(), 0..10),
    )
        .prop_map(|(mut hashes, repeats)| {
            for repeat in repeats {
                let hash = *repeat.get(&hashes);
                hashes.push(hash);
            }
            hashes
        })
}

/// Checks the index against the model for one query.
fn check_query(
    index: &FuzzyIndex,
    model: &BTreeMap<u32, SsdeepHash>,
    query: &SsdeepHash,
) -> Result<(), TestCaseError> {
    let candidates: BTreeSet<u32> = index.candidates(query).into_iter().collect();
    for (&id, hash) in model {
        if fuzzy_compare(query, hash) > 0 {
            prop_assert!(
                candidates.contains(&id),
                "{hash:?} (id {id}) scores {} against {query:?} but is no candidate",
                fuzzy_compare(query, hash)
            );
        }
    }
    for min_score in [0, 1, 40, 100] {
        let expected: Vec<(u32, u32)> = model
            .iter()
            .map(|(&id, hash)| (id, fuzzy_compare(query, hash)))
            .filter(|&(_, score)| score > 0 && score >= min_score)
            .collect();
        prop_assert_eq!(index.partners(query, min_score), expected);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn candidates_contain_every_positive_score(corpus in corpus(), queries in prop::collection::vec(hash(), 0..10)) {
        let index: FuzzyIndex = corpus.iter().enumerate().map(|(id, hash)| (id as u32, *hash)).collect();
        let model: BTreeMap<u32, SsdeepHash> = corpus.iter().enumerate().map(|(id, hash)| (id as u32, *hash)).collect();
        prop_assert_eq!(index.len(), model.len());
        for query in corpus.iter().chain(&queries) {
            check_query(&index, &model, query)?;
        }
        for (&id, hash) in &model {
            let expected: Vec<(u32, u32)> = model
                .iter()
                .filter(|&(&other, _)| other != id)
                .map(|(&other, other_hash)| (other, fuzzy_compare(hash, other_hash)))
                .filter(|&(_, score)| score >= 40)
                .collect();
            prop_assert_eq!(index.partners_of(id, 40), Some(expected));
        }
        let mut expected_pairs = Vec::new();
        for (&a, hash_a) in &model {
            for (&b, hash_b) in model.range(a + 1..) {
                let score = fuzzy_compare(hash_a, hash_b);
                if score >= 1 {
                    expected_pairs.push((a, b, score));
                }
            }
        }
        let mut pairs: Vec<_> = index.pairs(1).collect();
        pairs.sort_unstable();
        prop_assert_eq!(pairs, expected_pairs);
        let distinct: BTreeSet<String> = corpus.iter().map(ToString::to_string).collect();
        prop_assert_eq!(index.distinct_hashes(), distinct.len());
    }

    #[test]
    fn incremental_updates_match_the_model(
        pool in prop::collection::vec(hash(), 1..12),
        operations in prop::collection::vec(
            (0u32..16, prop::option::weighted(0.7, any::<prop::sample::Index>())),
            1..80,
        ),
        queries in prop::collection::vec(hash(), 0..5),
    ) {
        let mut index = FuzzyIndex::new();
        let mut model = BTreeMap::new();
        for (id, operation) in operations {
            match operation {
                Some(which) => {
                    let hash = *which.get(&pool);
                    prop_assert_eq!(index.insert(id, &hash), model.insert(id, hash));
                }
                None => prop_assert_eq!(index.remove(id), model.remove(&id)),
            }
        }
        prop_assert_eq!(index.len(), model.len());
        let mut ids: Vec<u32> = index.ids().collect();
        ids.sort_unstable();
        prop_assert_eq!(ids, model.keys().copied().collect::<Vec<_>>());
        for (id, hash) in &model {
            prop_assert_eq!(index.get(*id), Some(hash));
        }
        for query in model.values().chain(&queries) {
            check_query(&index, &model, query)?;
        }
        let distinct: BTreeSet<String> = model.values().map(ToString::to_string).collect();
        prop_assert_eq!(index.distinct_hashes(), distinct.len());
        let mut pairs: Vec<_> = index.pairs(40).collect();
        pairs.sort_unstable();
        let mut expected_pairs = Vec::new();
        for (&a, hash_a) in &model {
            for (&b, hash_b) in model.range(a + 1..) {
                let score = fuzzy_compare(hash_a, hash_b);
                if score >= 40 {
                    expected_pairs.push((a, b, score));
                }
            }
        }
        prop_assert_eq!(pairs, expected_pairs);
        // Removing everything leaves nothing behind.
        for id in model.keys() {
            index.remove(*id);
        }
        prop_assert!(index.is_empty());
        for query in &queries {
            prop_assert!(index.candidates(query).is_empty());
        }
    }
}

#[test]
fn a_fixed_corpus_pairs_as_libfuzzy_scores() {
    // Hashes of the shapes the generator produces; the scores are
    // libfuzzy's (testdata/ssdeep/oracle.c compare).
    let texts = [
        "3:ABCDEFGHIJKLMNOPQRS:0123456789+/",
        "6:0123456789+/x:zyxwvuts",
        "3:ABCDEFGHIJKLMNOPQRx:abcabcabcabc",
        "18446744073709551614:ABCDEFGHIJ:x",
        "9223372036854775807:y:ABCDEFGHIJ",
    ];
    let hashes: Vec<SsdeepHash> = texts.iter().map(|t| t.parse().unwrap()).collect();
    let index: FuzzyIndex = hashes
        .iter()
        .enumerate()
        .map(|(id, h)| (id as u32, *h))
        .collect();
    let mut pairs: Vec<_> = index.pairs(1).collect();
    pairs.sort_unstable();
    assert_eq!(pairs, vec![(0, 1, 24), (0, 2, 19), (3, 4, 100)]);
}
