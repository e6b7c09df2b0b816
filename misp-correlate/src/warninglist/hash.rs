//! A seeded byte-string hash that can ignore ASCII case.
//!
//! Both big tables of the matcher (string entries and hostname entries) are
//! probed exactly in MISP-compatible mode and case-insensitively in some
//! improved modes. A table that is probed case-insensitively hashes the
//! ASCII-lower-cased bytes: keys that are equal ignoring case land on the
//! same probe sequence, and the caller decides how to compare. Case folding
//! is done eight bytes at a time and never needs a buffer. A table that is
//! only probed exactly skips the folding (hostname keys are lower-case
//! already, so they hash alike either way).
//!
//! The mixing step is a folded 64×64→128-bit multiply (as in foldhash and
//! wyhash). The seed is random per table so that probe sequences cannot be
//! predicted from outside.

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
const HIGHS: u64 = 0x8080_8080_8080_8080;
/// Odd constants from the fractional digits of pi.
pub(crate) const MUL_A: u64 = 0x243F_6A88_85A3_08D3;
pub(crate) const MUL_B: u64 = 0x1319_8A2E_0370_7344 | 1;

/// ASCII-lower-cases the eight bytes of `word` at once (also the
/// snapshot format's hash, `snapshot::hash`).
#[inline]
pub(crate) fn fold_ascii(word: u64) -> u64 {
    let heptets = word & !HIGHS;
    // High bit set in bytes whose low seven bits are >= b'A' / > b'Z'. No
    // carry crosses a byte because 0x7f + 0x3f < 0x100.
    let at_least_a = heptets.wrapping_add(ONES * (0x80 - 0x41));
    let above_z = heptets.wrapping_add(ONES * (0x80 - 0x5b));
    let upper = at_least_a & !above_z & !word & HIGHS;
    word | (upper >> 2)
}

/// The first eight bytes of `bytes` (zero when shorter), little-endian
/// (also the word reader of the byte searches in `host`).
#[inline(always)]
pub(crate) fn read_u64(bytes: &[u8]) -> u64 {
    bytes
        .first_chunk::<8>()
        .map_or(0, |b| u64::from_le_bytes(*b))
}

/// The first four bytes of `bytes` (zero when shorter), little-endian.
#[inline]
fn read_u32(bytes: &[u8]) -> u32 {
    bytes
        .first_chunk::<4>()
        .map_or(0, |b| u32::from_le_bytes(*b))
}

/// The folded 64×64→128-bit multiply that mixes every word.
#[inline]
pub(crate) fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// A seeded hash of byte strings, ASCII-case-insensitive when built
/// with `fold`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FoldHasher {
    seed: u64,
    fold: bool,
}

impl FoldHasher {
    /// A hasher with a random seed; `fold`: ignore ASCII case.
    pub(crate) fn random(fold: bool) -> FoldHasher {
        let seed = ahash::RandomState::new().hash_one(0x5eed_u64);
        FoldHasher { seed, fold }
    }

    /// The same seed, folding ASCII case or not.
    pub(crate) fn folding(self, fold: bool) -> FoldHasher {
        FoldHasher { fold, ..self }
    }

    /// A case-insensitive hasher with a fixed seed (tests).
    #[cfg(test)]
    pub(crate) fn with_seed(seed: u64) -> FoldHasher {
        FoldHasher { seed, fold: true }
    }

    /// Hashes `bytes`, as if every ASCII letter were lower-case when the
    /// hasher folds case.
    #[inline]
    pub(crate) fn hash(&self, bytes: &[u8]) -> u64 {
        if self.fold {
            self.hash_with(bytes, fold_ascii)
        } else {
            self.hash_with(bytes, |word| word)
        }
    }

    #[inline(always)]
    fn hash_with(&self, bytes: &[u8], fold_ascii: impl Fn(u64) -> u64) -> u64 {
        let len = bytes.len();
        let mut state = self.seed ^ (len as u64).wrapping_mul(MUL_A);
        if (8..=16).contains(&len) {
            // Most keys and host suffixes: the first and the last eight
            // bytes (overlapping when shorter than 16) in one multiply, each
            // word masked by a seed so that no chosen word can zero it.
            let first = fold_ascii(read_u64(bytes));
            let last = fold_ascii(read_u64(bytes.get(len - 8..).unwrap_or(&[])));
            state = folded_multiply(state ^ first, self.seed.rotate_left(41) ^ MUL_B ^ last);
        } else if len >= 8 {
            let mut chunks = bytes.chunks_exact(8);
            for chunk in &mut chunks {
                state = folded_multiply(state ^ fold_ascii(read_u64(chunk)), MUL_B);
            }
            if !chunks.remainder().is_empty() {
                // The last eight bytes, overlapping the previous chunk.
                let last = read_u64(bytes.get(len - 8..).unwrap_or(&[]));
                state = folded_multiply(state ^ fold_ascii(last), MUL_B);
            }
        } else if len >= 4 {
            let head = u64::from(read_u32(bytes.get(..4).unwrap_or(&[])));
            let tail = u64::from(read_u32(bytes.get(len - 4..).unwrap_or(&[])));
            state = folded_multiply(state ^ fold_ascii(head << 32 | tail), MUL_B);
        } else if let (Some(&a), Some(&b), Some(&c)) =
            (bytes.first(), bytes.get(len / 2), bytes.last())
        {
            let word = u64::from(a) | u64::from(b) << 8 | u64::from(c) << 16;
            state = folded_multiply(state ^ fold_ascii(word), MUL_B);
        }
        folded_multiply(state ^ self.seed.rotate_left(23), MUL_A)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_matches_std_for_every_byte() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b, b'A', b'z', b, 0x80, 0xC1, b'Z', b'@']);
            let expected: Vec<u8> = word
                .to_le_bytes()
                .iter()
                .map(u8::to_ascii_lowercase)
                .collect();
            assert_eq!(
                fold_ascii(word).to_le_bytes().to_vec(),
                expected,
                "byte {b:#x}"
            );
        }
    }

    #[test]
    fn case_insensitive_and_length_sensitive() {
        let h = FoldHasher::with_seed(7);
        assert_eq!(h.hash(b"WWW.Example.COM"), h.hash(b"www.example.com"));
        assert_ne!(h.hash(b"example.com"), h.hash(b"example.co"));
        assert_ne!(h.hash(b""), h.hash(b"\0"));
        assert_ne!(h.hash(b"a"), h.hash(b"a\0"));
        assert_ne!(h.hash(b"abcdefgh"), h.hash(b"abcdefgi"));
        for len in 0..40 {
            let a: Vec<u8> = (0..len as u8).map(|i| b'a' + i % 26).collect();
            for i in 0..len {
                let mut b = a.clone();
                b[i] = b'-';
                assert_ne!(h.hash(&a), h.hash(&b), "length {len}, byte {i}");
                b[i] = a[i].to_ascii_uppercase();
                assert_eq!(h.hash(&a), h.hash(&b), "length {len}, byte {i}");
            }
        }
    }

    #[test]
    fn exact_hasher_agrees_on_lower_case_only() {
        let folding = FoldHasher::with_seed(7);
        let exact = folding.folding(false);
        for key in ["", "a", "abc", "example.com", "www.example.com.0123456789"] {
            assert_eq!(exact.hash(key.as_bytes()), folding.hash(key.as_bytes()));
        }
        assert_ne!(exact.hash(b"Example.com"), exact.hash(b"example.com"));
    }

    #[test]
    fn seeds_change_hashes() {
        let a = FoldHasher::with_seed(1);
        let b = FoldHasher::with_seed(2);
        assert_ne!(a.hash(b"example.com"), b.hash(b"example.com"));
    }
}
