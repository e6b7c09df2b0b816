//! libfuzzy's `fuzzy_compare` on parsed hashes, without allocation.
//!
//! The steps are described in the [module overview](super). The edit
//! distance is libfuzzy's insert/delete distance (a substitution costs 2),
//! computed from the longest common subsequence with the bit-parallel
//! algorithm of Allison and Dix (one 64-bit word, since parts have at most
//! 64 characters).

use super::{MAX_PART_LEN, Part, SsdeepHash, WINDOW, base64_value};

/// Block sizes from this one up are never capped
/// (`(99 + ROLLING_WINDOW) / ROLLING_WINDOW * MIN_BLOCKSIZE` in libfuzzy).
const UNCAPPED_BLOCK_SIZE: u64 = (99 + WINDOW as u64) / WINDOW as u64 * MIN_BLOCK_SIZE;

/// libfuzzy's smallest block size (`MIN_BLOCKSIZE`).
const MIN_BLOCK_SIZE: u64 = 3;

/// The score 0..=100 that libfuzzy 2.14.1's `fuzzy_compare` returns for
/// the two hashes' strings.
///
/// 0 when the block sizes are not equal or one twice the other, 100 for
/// identical hashes, otherwise the edit-distance score of the parts of
/// equal block size (see the [module overview](super)). Symmetric.
///
/// ```
/// use misp_correlate::ssdeep::{SsdeepHash, fuzzy_compare};
///
/// let a = SsdeepHash::parse("3:ABCDEFGHIJ:KLMNOPQRST")?;
/// let b = SsdeepHash::parse("6:KLMNOPQRST:abcdefghij")?;
/// // a's second part and b's first part both have block size 6; they are
/// // identical, but block size 6 caps the score at 6 / 3 * 10.
/// assert_eq!(fuzzy_compare(&a, &b), 20);
/// # Ok::<(), misp_correlate::Error>(())
/// ```
pub fn fuzzy_compare(a: &SsdeepHash, b: &SsdeepHash) -> u32 {
    let (size_a, size_b) = (a.block_size, b.block_size);
    // `checked_mul` is libfuzzy's `size <= ULONG_MAX / 2` guard.
    let b_is_double = size_a.checked_mul(2) == Some(size_b);
    let b_is_half = size_a % 2 == 0 && size_a / 2 == size_b;
    if size_a != size_b && !b_is_double && !b_is_half {
        return 0;
    }
    if size_a == size_b && a.first == b.first && a.second == b.second {
        return 100;
    }
    if size_a == size_b {
        let first = score_parts(&a.first, &b.first, size_a);
        match size_a.checked_mul(2) {
            Some(double) => first.max(score_parts(&a.second, &b.second, double)),
            None => first,
        }
    } else if b_is_double {
        score_parts(&b.first, &a.second, size_b)
    } else {
        score_parts(&a.first, &b.second, size_a)
    }
}

/// libfuzzy's `score_strings`: two parts of the same block size.
fn score_parts(a: &Part, b: &Part, block_size: u64) -> u32 {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() < WINDOW || b.len() < WINDOW || !has_common_window(a, b) {
        return 0;
    }
    // Both lengths are at most 64, so every product below fits in u32.
    let total = (a.len() + b.len()) as u32;
    let distance = total - 2 * longest_common_subsequence(a, b);
    let scaled = distance * MAX_PART_LEN as u32 / total;
    let score = 100 - 100 * scaled / MAX_PART_LEN as u32;
    if block_size >= UNCAPPED_BLOCK_SIZE {
        return score;
    }
    // block_size < 45 and lengths <= 64: the cap is below 1000.
    let cap = (block_size / MIN_BLOCK_SIZE) * a.len().min(b.len()) as u64;
    score.min(cap as u32)
}

/// The 7-character window ending at each position, packed 6 bits per
/// character into the low 42 bits.
fn windows(part: &[u8]) -> impl Iterator<Item = u64> + '_ {
    const MASK: u64 = (1 << (6 * WINDOW)) - 1;
    part.iter()
        .scan(0u64, |packed, &byte| {
            *packed = ((*packed << 6) | u64::from(base64_value(byte) & 0x3f)) & MASK;
            Some(*packed)
        })
        .skip(WINDOW - 1)
}

/// Whether `a` and `b` share a substring of [`WINDOW`] characters.
/// Both have at most 64 characters of the base64 alphabet.
///
/// `a`'s windows go into a 1024-bit filter (10 bits of a multiplicative
/// hash); only `b`'s windows that hit it are looked up among them.
fn has_common_window(a: &[u8], b: &[u8]) -> bool {
    let mut seen = [0u64; MAX_PART_LEN];
    let mut filter = [0u64; 16];
    let mut count = 0;
    for (slot, window) in seen.iter_mut().zip(windows(a)) {
        *slot = window;
        let bit = filter_bit(window);
        if let Some(word) = filter.get_mut(bit / 64) {
            *word |= 1 << (bit % 64);
        }
        count += 1;
    }
    let seen = seen.get(..count).unwrap_or_default();
    windows(b).any(|window| {
        let bit = filter_bit(window);
        filter
            .get(bit / 64)
            .is_some_and(|word| word & (1 << (bit % 64)) != 0)
            && seen.contains(&window)
    })
}

/// The filter bit (0..1024) of a packed window.
fn filter_bit(window: u64) -> usize {
    (window.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) as usize
}

/// Length of the longest common subsequence of `a` (at most 64 bytes) and
/// `b`, both over the base64 alphabet.
///
/// Bit `i` of `columns` is 0 when the LCS of `a[..=i]` and the prefix of
/// `b` read so far is one longer than that of `a[..i]`; the number of
/// 0 bits is the LCS length.
pub(crate) fn longest_common_subsequence(a: &[u8], b: &[u8]) -> u32 {
    // matches[v]: the positions in `a` of the character with base64 value
    // v (a byte outside the alphabet gets no entry and matches nothing).
    let mut matches = [0u64; 64];
    for (i, &byte) in a.iter().take(MAX_PART_LEN).enumerate() {
        if let Some(mask) = matches.get_mut(usize::from(base64_value(byte))) {
            *mask |= 1 << i;
        }
    }
    let mut columns = !0u64;
    for &byte in b {
        let mask = matches
            .get(usize::from(base64_value(byte)))
            .copied()
            .unwrap_or_default();
        let hits = columns & mask;
        columns = columns.wrapping_add(hits) | (columns - hits);
    }
    let used = match a.len().min(MAX_PART_LEN) {
        MAX_PART_LEN => !0u64,
        len => (1u64 << len) - 1,
    };
    (!columns & used).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hash(text: &str) -> SsdeepHash {
        SsdeepHash::parse(text).unwrap()
    }

    fn score(a: &str, b: &str) -> u32 {
        let (a, b) = (hash(a), hash(b));
        let forward = fuzzy_compare(&a, &b);
        assert_eq!(forward, fuzzy_compare(&b, &a), "not symmetric");
        forward
    }

    /// Textbook dynamic programme: insertion and deletion cost 1,
    /// substitution 2.
    fn naive_distance(a: &[u8], b: &[u8]) -> u32 {
        let mut row: Vec<u32> = (0..=b.len() as u32).collect();
        for (i, &x) in a.iter().enumerate() {
            let mut diagonal = row[0];
            row[0] = i as u32 + 1;
            for (j, &y) in b.iter().enumerate() {
                let substitute = diagonal + if x == y { 0 } else { 2 };
                diagonal = row[j + 1];
                row[j + 1] = substitute.min(row[j + 1] + 1).min(row[j] + 1);
            }
        }
        row[b.len()]
    }

    fn naive_common_window(a: &[u8], b: &[u8]) -> bool {
        a.windows(WINDOW).any(|w| b.windows(WINDOW).any(|v| v == w))
    }

    /// A base64 string over a small alphabet (so that matches are common)
    /// or the whole one.
    fn part(max: usize) -> impl Strategy<Value = Vec<u8>> {
        let small = proptest::collection::vec(prop::sample::select(b"ABCD".to_vec()), 0..=max);
        let full = proptest::collection::vec(
            prop::sample::select(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".to_vec(),
            ),
            0..=max,
        );
        prop_oneof![small, full]
    }

    proptest! {
        #[test]
        fn lcs_distance_matches_the_dynamic_programme(a in part(64), b in part(64)) {
            let lcs = longest_common_subsequence(&a, &b);
            prop_assert_eq!(
                a.len() as u32 + b.len() as u32 - 2 * lcs,
                naive_distance(&a, &b)
            );
        }

        #[test]
        fn common_window_matches_the_naive_search(a in part(64), b in part(64)) {
            prop_assert_eq!(has_common_window(&a, &b), naive_common_window(&a, &b));
        }
    }

    #[test]
    fn identical_hashes_score_100_even_without_a_window() {
        assert_eq!(score("3:a:b", "3:a:b"), 100);
        assert_eq!(score("3::", "3::"), 100);
        assert_eq!(score("0:x:y", "0:x:y"), 100);
        assert_eq!(score("3:aaaaaaab:c", "3:aaab:c"), 100);
        assert_eq!(
            score(
                "99999999999999999999:ABC:DEF",
                "88888888888888888888:ABC:DEF"
            ),
            100
        );
    }

    #[test]
    fn incompatible_block_sizes_score_0() {
        assert_eq!(
            score("3:ABCDEFGHIJ:KLMNOPQRST", "12:KLMNOPQRST:ABCDEFGHIJ"),
            0
        );
        assert_eq!(
            score("3:ABCDEFGHIJ:KLMNOPQRST", "4:ABCDEFGHIJ:KLMNOPQRST"),
            0
        );
        assert_eq!(score("7:ABCDEFGHIJ:KLMNOPQRST", "3:x:ABCDEFGHIJ"), 0);
        // u64::MAX is odd: its half does not count.
        assert_eq!(
            score(
                "18446744073709551615:ABCDEFGHIJ:KLMNOPQRST",
                "9223372036854775807:x:ABCDEFGHIJ"
            ),
            0
        );
    }

    #[test]
    fn doubled_block_size_compares_across_parts() {
        assert_eq!(
            score("3:ABCDEFGHIJ:KLMNOPQRST", "6:KLMNOPQRST:abcdefghij"),
            20
        );
        assert_eq!(score("5:ABCDEFGHIJ:KLMNOPQRST", "10:KLMNOPQRST:x"), 30);
        assert_eq!(
            score(
                "18446744073709551614:ABCDEFGHIJ:KLMNOPQRST",
                "9223372036854775807:KLMNOPQRSx:ABCDEFGHIJ"
            ),
            100
        );
    }

    #[test]
    fn second_parts_are_skipped_when_their_block_size_overflows() {
        // Block size 2^63: the second parts (block size 2^64) are ignored.
        assert_eq!(
            score(
                "9223372036854775808:ABCDEFGHIJ:KLMNOPQRST",
                "9223372036854775808:ABCDEFGHIx:KLMNOPQRST"
            ),
            91
        );
        assert_eq!(
            score(
                "9223372036854775807:ABCDEFGHIJ:KLMNOPQRST",
                "9223372036854775807:ABCDEFGHIx:KLMNOPQRST"
            ),
            100
        );
    }

    #[test]
    fn a_common_window_of_7_is_required() {
        assert_eq!(score("96:ABCDEFxyz:", "96:ABCDEFuvw:"), 0);
        assert_eq!(score("96:ABCDEFGxyz:", "96:ABCDEFGuvw:"), 71);
        assert_eq!(score("96:qABCDEFGxyz:", "96:ABCDEFGuvw:"), 68);
        assert_eq!(score("96:abcdef:ABCDEF", "96:abcdef:ABCDEF0"), 0);
    }

    #[test]
    fn small_block_sizes_cap_the_score() {
        let a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn:UVWXYZabcdefghijklmnopqrstuvwx";
        let b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmx:UVWXYZabcdefghijklmnopqrstuvwx";
        assert_eq!(score(&format!("3:{a}"), &format!("3:{b}")), 60);
        assert_eq!(score(&format!("6:{a}"), &format!("6:{b}")), 100);
        assert_eq!(score("3:ABCDEFG:", "3:ABCDEFGH:"), 7);
        assert_eq!(
            score("0:ABCDEFGHIJ:KLMNOPQRST", "0:ABCDEFGHIJ:KLMNOPQRSx"),
            0
        );
    }

    #[test]
    fn misp_reference_hash_against_variants() {
        let reference = "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO";
        assert_eq!(
            score(
                reference,
                "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSy:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO"
            ),
            100
        );
        assert_eq!(
            score(reference, "192:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO:xyz"),
            100
        );
    }
}
