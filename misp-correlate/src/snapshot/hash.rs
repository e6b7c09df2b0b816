//! The hash of the snapshot's key tables, fixed by the file format.
//!
//! A snapshot must hash keys the same way for as long as its format version
//! is read, so the function lives here (and in `FORMAT.md`) rather than
//! being borrowed from the in-memory matcher, whose hash may change freely.
//!
//! The bytes are read as little-endian 64-bit words (the last one padded
//! with zero bytes), each ASCII-lower-cased in place, and mixed with a
//! folded 64×64→128-bit multiply (the fold and the multiply are the
//! matcher's primitives; the pinned values in the tests guard them). Keys equal ignoring ASCII case hash
//! alike, so one probe serves exact and case-insensitive lookups.

#![deny(unsafe_code)]

use crate::warninglist::hash::{MUL_A, MUL_B, fold_ascii, folded_multiply as mix};

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

/// Tag byte of a hash in a table's tag array: never 0 (the empty bucket).
#[inline]
pub(crate) fn tag_of(hash: u64) -> u8 {
    0x80 | (hash >> 57) as u8
}

/// The bucket count of a table section of `len` bytes laid out as
/// `header` bytes, one tag byte per bucket padded to a multiple of 8, and
/// `slot_len` bytes per bucket, if `buckets` (read from the file) is 0 or
/// a power of two and the sizes match exactly.
pub(crate) fn table_buckets(
    buckets: u64,
    header: usize,
    slot_len: usize,
    len: usize,
) -> Option<usize> {
    let buckets = usize::try_from(buckets).ok()?;
    let tags = buckets.checked_add(7)? & !7;
    let expected = buckets
        .checked_mul(slot_len)?
        .checked_add(tags)?
        .checked_add(header)?;
    ((buckets == 0 || buckets.is_power_of_two()) && expected == len).then_some(buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

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
