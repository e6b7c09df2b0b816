//! The hash of the snapshot's key tables, fixed by the file format.
//!
//! A snapshot must hash keys the same way for as long as its format version
//! is read, so the function lives here (and in `FORMAT.md`) rather than
//! being borrowed from the in-memory matcher, whose hash may change freely.
//!
//! The bytes are read as little-endian 64-bit words (the last one padded
//! with zero bytes), each ASCII-lower-cased in place, and mixed with a
//! folded 64×64→128-bit multiply. Keys equal ignoring ASCII case hash
//! alike, so one probe serves exact and case-insensitive lookups.

#![deny(unsafe_code)]

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
/// Multipliers (odd constants from the fractional digits of pi).
const MUL_A: u64 = 0x243F_6A88_85A3_08D3;
const MUL_B: u64 = 0x1319_8A2E_0370_7345;

/// ASCII-lower-cases the eight bytes of `word`.
#[inline]
fn fold_ascii(word: u64) -> u64 {
    let low7 = word & !HIGHS;
    let at_least_a = low7.wrapping_add(ONES * (0x80 - 0x41));
    let above_z = low7.wrapping_add(ONES * (0x80 - 0x5b));
    let upper = at_least_a & !above_z & !word & HIGHS;
    word | (upper >> 2)
}

#[inline]
fn mix(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

/// Hashes `bytes` as if every ASCII letter were lower-case.
#[inline]
pub(crate) fn hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut state = seed ^ (bytes.len() as u64).wrapping_mul(MUL_A);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        state = mix(state ^ fold_ascii(u64::from_le_bytes(word)), MUL_B);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut word = [0u8; 8];
        for (dst, src) in word.iter_mut().zip(tail) {
            *dst = *src;
        }
        state = mix(state ^ fold_ascii(u64::from_le_bytes(word)), MUL_B);
    }
    mix(state ^ seed.rotate_left(23), MUL_A)
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
    fn known_values_are_stable() {
        // Pinned: changing these breaks every snapshot written so far.
        assert_eq!(hash(0, b""), mix(0u64.rotate_left(23), MUL_A));
        assert_eq!(hash(7, b"WWW.Example.COM"), hash(7, b"www.example.com"));
        assert_ne!(hash(7, b"example.com"), hash(7, b"example.co"));
        assert_ne!(hash(7, b"a"), hash(7, b"a\0"));
        assert_eq!(
            hash(0x6d69_7370_736e_6170, b"example.com"),
            0xe0d0_4b70_7792_5aeb
        );
    }
}
