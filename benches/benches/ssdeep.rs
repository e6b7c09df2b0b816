//! ssdeep: parsing, `fuzzy_compare`, and `FuzzyIndex` build and queries.
//!
//! `cargo bench -p misp-benches --bench ssdeep`
//!
//! The compare benchmark uses the libfuzzy vectors in
//! `testdata/ssdeep/compare-vectors.tsv`. The index benchmarks use a
//! synthetic corpus: hashes of unrelated files are random base64 strings,
//! so the corpus is families of 10 hashes, each a random hash and nine
//! variants with a few characters changed, at realistic block sizes.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use misp_correlate::ssdeep::{FuzzyIndex, SsdeepHash, fuzzy_compare};

const VECTORS: &str = include_str!("../../testdata/ssdeep/compare-vectors.tsv");

const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// splitmix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn part(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| BASE64[self.below(64)]).collect()
    }
}

fn vector_pairs() -> Vec<(SsdeepHash, SsdeepHash)> {
    VECTORS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let a = SsdeepHash::parse(fields.next()?).ok()?;
            let b = SsdeepHash::parse(fields.next()?).ok()?;
            Some((a, b))
        })
        .collect()
}

fn synthetic_corpus(count: usize) -> Vec<SsdeepHash> {
    let mut rng = Rng(42);
    let mut hashes = Vec::with_capacity(count);
    while hashes.len() < count {
        let block_size = 3u64 << (4 + rng.below(12));
        let first_len = 40 + rng.below(25);
        let first = rng.part(first_len);
        let second_len = 20 + rng.below(13);
        let second = rng.part(second_len);
        for variant in 0..10 {
            let (mut first, mut second) = (first.clone(), second.clone());
            for _ in 0..variant {
                let at = rng.below(first.len());
                first[at] = BASE64[rng.below(64)];
                let at = rng.below(second.len());
                second[at] = BASE64[rng.below(64)];
            }
            let text = format!(
                "{block_size}:{}:{}",
                String::from_utf8_lossy(&first),
                String::from_utf8_lossy(&second)
            );
            if let Ok(hash) = SsdeepHash::parse(&text) {
                hashes.push(hash);
            }
        }
    }
    hashes.truncate(count);
    hashes
}

fn compare(c: &mut Criterion) {
    let pairs = vector_pairs();
    let texts: Vec<&str> = VECTORS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(|line| line.split('\t').take(2))
        .collect();
    let mut group = c.benchmark_group("ssdeep");
    group.throughput(Throughput::Elements(texts.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            texts
                .iter()
                .filter(|text| SsdeepHash::parse(black_box(text)).is_ok())
                .count()
        })
    });
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function("fuzzy_compare", |b| {
        b.iter(|| {
            pairs
                .iter()
                .map(|(x, y)| u64::from(fuzzy_compare(black_box(x), black_box(y))))
                .sum::<u64>()
        })
    });
    group.finish();
}

fn index(c: &mut Criterion) {
    let corpus = synthetic_corpus(100_000);
    let mut group = c.benchmark_group("ssdeep_index_100k");
    group.sample_size(10);
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.bench_function("build", |b| {
        b.iter_batched(
            || corpus.clone(),
            |corpus| {
                corpus
                    .iter()
                    .enumerate()
                    .map(|(id, hash)| (id as u32, *hash))
                    .collect::<FuzzyIndex>()
            },
            BatchSize::LargeInput,
        )
    });
    let index: FuzzyIndex = corpus
        .iter()
        .enumerate()
        .map(|(id, hash)| (id as u32, *hash))
        .collect();
    let queries: Vec<SsdeepHash> = corpus.iter().step_by(97).copied().collect();
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("partners_40", |b| {
        b.iter(|| {
            queries
                .iter()
                .map(|query| index.partners(black_box(query), 40).len())
                .sum::<usize>()
        })
    });
    group.throughput(Throughput::Elements(corpus.len() as u64));
    group.bench_function("pairs_40", |b| b.iter(|| index.pairs(40).count()));
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("remove_insert", |b| {
        let mut index = index.clone();
        b.iter(|| {
            for (i, query) in queries.iter().enumerate() {
                let id = (i * 97) as u32;
                index.remove(id);
                index.insert(id, query);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, compare, index);
criterion_main!(benches);
