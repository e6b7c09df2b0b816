//! The generated attribute stream is pinned: a hash of every attribute
//! (all fields, value bytes included) at a few seeds and sizes, recorded
//! from the generator before any speed work on it. A faster generator
//! must yield byte-identical attributes, so that corpora, and every
//! figure measured on them, stay comparable across versions.

use misp_benches::corpus::{Corpus, CorpusConfig};

/// FNV-1a, 64 bits: stable across Rust versions and platforms (unlike
/// `std`'s `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separator, so that field boundaries count.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
    fn u64(&mut self, x: u64) {
        self.bytes(&x.to_le_bytes());
    }
}

fn stream_hash(corpus: &Corpus) -> (u64, u64) {
    let mut h = Fnv::new();
    let mut n = 0;
    let mut s = corpus.attributes();
    while let Some(a) = s.next_attribute() {
        n += 1;
        h.u64(a.index);
        h.u64(u64::from(a.event));
        h.u64(a.object.map_or(u64::MAX, u64::from));
        h.bytes(a.object_relation.unwrap_or("-").as_bytes());
        h.u64(u64::from(a.position));
        h.bytes(a.ty.name().as_bytes());
        h.bytes(format!("{:?}", a.category).as_bytes());
        h.bytes(a.value.as_bytes());
        h.u64(u64::from(a.to_ids));
        h.u64(u64::from(a.distribution));
        h.u64(a.sharing_group.map_or(u64::MAX, u64::from));
        h.u64(u64::from(a.disable_correlation));
    }
    (n, h.0)
}

#[test]
fn realistic_streams_are_pinned() {
    // (seed, attributes, hash recorded before the generator was sped up)
    let pinned: [(u64, u64, u64); 4] = [
        (1, 1_000, 0x62d56989cb25a4e2),
        (42, 50_000, 0xf43be3f2896fc995),
        (7, 200_000, 0xea6ddddc96e2d420),
        (42, 1_000_000, 0x60c582e0e87c71ef),
    ];
    let mut got = Vec::new();
    for (seed, n, _) in pinned {
        let corpus = Corpus::realistic(seed, n).unwrap();
        let (count, hash) = stream_hash(&corpus);
        assert_eq!(count, n);
        got.push((seed, n, hash));
    }
    let want: Vec<(u64, u64, u64)> = pinned.to_vec();
    assert_eq!(got, want, "the generated stream changed");
}

#[test]
fn raw_variant_streams_are_pinned() {
    // Every value written as users write them (defanged, capitalised, ...):
    // exercises the renderer's variant paths.
    let mut config = CorpusConfig::realistic(3, 100_000);
    config.raw_variant_share = 1.0;
    let corpus = Corpus::new(config).unwrap();
    let (count, hash) = stream_hash(&corpus);
    assert_eq!(count, 100_000);
    assert_eq!(hash, 0x9fb43950ec2d6619, "the generated stream changed");
}
