//! [`FuzzyIndex`]: ssdeep hashes under caller-assigned ids, searchable for
//! fuzzy partners without comparing all pairs.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

use ahash::RandomState;

use super::{MAX_PART_LEN, Part, SsdeepHash, WINDOW, base64_value, fuzzy_compare};

/// Windows per part at most.
const MAX_WINDOWS: usize = MAX_PART_LEN - WINDOW + 1;

/// Bits of a packed 7-character window (6 per character).
const WINDOW_BITS: u32 = 6 * WINDOW as u32;

/// Bits left in a `u64` key for the block size tag.
const TAG_BITS: u32 = 64 - WINDOW_BITS;

/// ssdeep hashes under caller-assigned `u32` ids, indexed for finding the
/// hashes that score above 0 against a query.
///
/// Every 7-character window of a hash's first part is posted under its
/// block size `b`, every window of its second part under `2b`: libfuzzy
/// only compares parts of the same block size and scores 0 unless they
/// share such a window. A hash whose parts are too short to have a
/// window (it can only score against an identical hash) is posted under
/// the whole hash instead. Hence:
///
/// * [`candidates`](Self::candidates) contains every stored id whose hash
///   has `fuzzy_compare(query, hash) > 0`;
/// * [`partners`](Self::partners) scores only the candidates.
///
/// Updates are incremental ([`insert`](Self::insert),
/// [`remove`](Self::remove)), as the correlation engine needs when
/// attributes are saved and deleted. A stored hash costs its 144 bytes
/// plus about 40 bytes for each of its (at most 116) distinct windows.
///
/// ```
/// use misp_correlate::ssdeep::{FuzzyIndex, SsdeepHash};
///
/// let mut index = FuzzyIndex::new();
/// index.insert(1, &SsdeepHash::parse("3:ABCDEFGHIJ:KLMNOPQRST")?);
/// index.insert(2, &SsdeepHash::parse("6:KLMNOPQRST:abcdefghij")?);
/// index.insert(3, &SsdeepHash::parse("3:ABCDEFGHIx:ZZZ")?);
/// index.insert(4, &SsdeepHash::parse("12:KLMNOPQRST:ABCDEFGHIJ")?);
///
/// let query = SsdeepHash::parse("3:ABCDEFGHIJ:KLMNOPQRST")?;
/// assert_eq!(index.candidates(&query), vec![1, 2, 3]); // 4: block size x4
/// // Block sizes below 45 cap the score: 2 at 20, 3 at 10.
/// assert_eq!(index.partners(&query, 1), vec![(1, 100), (2, 20), (3, 10)]);
/// assert_eq!(index.partners_of(1, 15), Some(vec![(2, 20)]));
/// assert_eq!(index.pairs(1).collect::<Vec<_>>(), vec![(1, 2, 20), (1, 3, 10)]);
/// # Ok::<(), misp_correlate::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct FuzzyIndex {
    hashes: HashMap<u32, SsdeepHash, RandomState>,
    windows: HashMap<u64, Postings, RandomState>,
    short: HashMap<SsdeepHash, Postings, RandomState>,
}

impl FuzzyIndex {
    /// An empty index.
    pub fn new() -> FuzzyIndex {
        FuzzyIndex::default()
    }

    /// Stores `hash` under `id`, returning the hash `id` had before, if
    /// any (which is replaced).
    pub fn insert(&mut self, id: u32, hash: &SsdeepHash) -> Option<SsdeepHash> {
        let old = self.hashes.insert(id, *hash);
        if let Some(old) = &old {
            self.unpost(id, old);
        }
        let keys = Keys::of(hash);
        if keys.is_empty() {
            post(&mut self.short, *hash, id);
        }
        for &key in keys.as_slice() {
            post(&mut self.windows, key, id);
        }
        old
    }

    /// Removes `id`, returning its hash if it was stored.
    pub fn remove(&mut self, id: u32) -> Option<SsdeepHash> {
        let old = self.hashes.remove(&id)?;
        self.unpost(id, &old);
        Some(old)
    }

    fn unpost(&mut self, id: u32, hash: &SsdeepHash) {
        let keys = Keys::of(hash);
        if keys.is_empty() {
            unpost(&mut self.short, *hash, id);
        }
        for &key in keys.as_slice() {
            unpost(&mut self.windows, key, id);
        }
    }

    /// The hash stored under `id`.
    pub fn get(&self, id: u32) -> Option<&SsdeepHash> {
        self.hashes.get(&id)
    }

    /// The number of stored hashes.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether no hash is stored.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The stored ids, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.hashes.keys().copied()
    }

    /// The ids, in increasing order and without repetition, of the stored
    /// hashes that share a 7-character window with `query` at the same
    /// block size, or equal `query`: a superset of those with
    /// `fuzzy_compare(query, hash) > 0`, including `query`'s own id if it
    /// is stored.
    pub fn candidates(&self, query: &SsdeepHash) -> Vec<u32> {
        let mut ids = Vec::new();
        let keys = Keys::of(query);
        if keys.is_empty() {
            if let Some(postings) = self.short.get(query) {
                ids.extend_from_slice(postings.as_slice());
            }
        }
        for key in keys.as_slice() {
            if let Some(postings) = self.windows.get(key) {
                ids.extend_from_slice(postings.as_slice());
            }
        }
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// `(id, score)` of every stored hash with
    /// `fuzzy_compare(query, hash) >= min_score` (and > 0), in increasing
    /// id order; `query`'s own id included if it is stored.
    ///
    /// MISP's `ssdeep_correlation_threshold` is such a `min_score`.
    pub fn partners(&self, query: &SsdeepHash, min_score: u32) -> Vec<(u32, u32)> {
        self.scored(query, min_score, |_| true)
    }

    /// [`partners`](Self::partners) of the hash stored under `id`, without
    /// `id` itself; `None` if `id` is not stored.
    pub fn partners_of(&self, id: u32, min_score: u32) -> Option<Vec<(u32, u32)>> {
        let hash = self.hashes.get(&id)?;
        Some(self.scored(hash, min_score, |other| other != id))
    }

    /// Every unordered pair of stored hashes with a score of at least
    /// `min_score` (and > 0), once, as `(smaller id, larger id, score)`,
    /// in increasing order; computed lazily, one id at a time.
    pub fn pairs(&self, min_score: u32) -> Pairs<'_> {
        let mut ids: Vec<u32> = self.ids().collect();
        ids.sort_unstable();
        Pairs {
            index: self,
            ids: ids.into_iter(),
            min_score,
            current: 0,
            partners: Vec::new().into_iter(),
        }
    }

    fn scored(
        &self,
        query: &SsdeepHash,
        min_score: u32,
        keep: impl Fn(u32) -> bool,
    ) -> Vec<(u32, u32)> {
        let min_score = min_score.max(1);
        self.candidates(query)
            .into_iter()
            .filter(|&id| keep(id))
            .filter_map(|id| {
                let score = fuzzy_compare(query, self.hashes.get(&id)?);
                (score >= min_score).then_some((id, score))
            })
            .collect()
    }
}

impl std::fmt::Debug for FuzzyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyIndex")
            .field("hashes", &self.hashes.len())
            .field("windows", &self.windows.len())
            .field("short", &self.short.len())
            .finish()
    }
}

impl Extend<(u32, SsdeepHash)> for FuzzyIndex {
    fn extend<I: IntoIterator<Item = (u32, SsdeepHash)>>(&mut self, items: I) {
        for (id, hash) in items {
            self.insert(id, &hash);
        }
    }
}

impl FromIterator<(u32, SsdeepHash)> for FuzzyIndex {
    fn from_iter<I: IntoIterator<Item = (u32, SsdeepHash)>>(items: I) -> FuzzyIndex {
        let mut index = FuzzyIndex::new();
        index.extend(items);
        index
    }
}

/// The iterator of [`FuzzyIndex::pairs`].
#[derive(Debug)]
pub struct Pairs<'a> {
    index: &'a FuzzyIndex,
    ids: std::vec::IntoIter<u32>,
    min_score: u32,
    current: u32,
    partners: std::vec::IntoIter<(u32, u32)>,
}

impl Iterator for Pairs<'_> {
    type Item = (u32, u32, u32);

    fn next(&mut self) -> Option<(u32, u32, u32)> {
        loop {
            if let Some((other, score)) = self.partners.next() {
                return Some((self.current, other, score));
            }
            let id = self.ids.next()?;
            let Some(hash) = self.index.hashes.get(&id) else {
                continue;
            };
            self.current = id;
            self.partners = self
                .index
                .scored(hash, self.min_score, |other| other > id)
                .into_iter();
        }
    }
}

/// The ids posted under one key: almost always one.
#[derive(Clone, Debug)]
enum Postings {
    One(u32),
    Many(Vec<u32>),
}

impl Postings {
    fn as_slice(&self) -> &[u32] {
        match self {
            Postings::One(id) => std::slice::from_ref(id),
            Postings::Many(ids) => ids,
        }
    }
}

fn post<K: Hash + Eq>(map: &mut HashMap<K, Postings, RandomState>, key: K, id: u32) {
    match map.entry(key) {
        Entry::Vacant(entry) => {
            entry.insert(Postings::One(id));
        }
        Entry::Occupied(mut entry) => {
            let postings = entry.get_mut();
            match postings {
                Postings::One(first) => *postings = Postings::Many(vec![*first, id]),
                Postings::Many(ids) => ids.push(id),
            }
        }
    }
}

fn unpost<K: Hash + Eq>(map: &mut HashMap<K, Postings, RandomState>, key: K, id: u32) {
    let Entry::Occupied(mut entry) = map.entry(key) else {
        return;
    };
    match entry.get_mut() {
        Postings::One(only) => {
            if *only == id {
                entry.remove();
            }
        }
        Postings::Many(ids) => {
            if let Some(position) = ids.iter().position(|&other| other == id) {
                ids.swap_remove(position);
            }
            if let [last] = ids.as_slice() {
                let last = *last;
                *entry.get_mut() = Postings::One(last);
            }
        }
    }
}

/// The distinct keys of a hash: each window of each part, tagged with the
/// part's block size. Fixed capacity, no allocation.
struct Keys {
    keys: [u64; 2 * MAX_WINDOWS],
    len: usize,
}

impl Keys {
    fn of(hash: &SsdeepHash) -> Keys {
        let mut keys = Keys {
            keys: [0; 2 * MAX_WINDOWS],
            len: 0,
        };
        let size = hash.block_size();
        keys.add_part(hash.first(), size);
        // A second part whose block size overflows is never compared.
        if let Some(double) = size.checked_mul(2) {
            keys.add_part(hash.second(), double);
        }
        let used = keys.keys.get_mut(..keys.len).unwrap_or_default();
        used.sort_unstable();
        let mut distinct = 0;
        for i in 0..used.len() {
            let Some(&key) = used.get(i) else { break };
            if distinct == 0 || used.get(distinct - 1) != Some(&key) {
                if let Some(slot) = used.get_mut(distinct) {
                    *slot = key;
                }
                distinct += 1;
            }
        }
        keys.len = distinct;
        keys
    }

    fn add_part(&mut self, part: &Part, block_size: u64) {
        const MASK: u64 = (1 << WINDOW_BITS) - 1;
        let tag = block_size_tag(block_size) << WINDOW_BITS;
        let mut packed = 0u64;
        for (i, &byte) in part.as_bytes().iter().enumerate() {
            packed = ((packed << 6) | u64::from(base64_value(byte) & 0x3f)) & MASK;
            if i + 1 >= WINDOW {
                if let Some(slot) = self.keys.get_mut(self.len) {
                    *slot = tag | packed;
                    self.len += 1;
                }
            }
        }
    }

    fn as_slice(&self) -> &[u64] {
        self.keys.get(..self.len).unwrap_or_default()
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A 22-bit tag for a block size: exact (`k`) for the sizes `3 * 2^k`
/// that libfuzzy produces, a hash of the size for any other. Two other
/// sizes may share a tag; that only adds candidates, never loses one.
fn block_size_tag(block_size: u64) -> u64 {
    const REGULAR: u64 = 64;
    if block_size % 3 == 0 && (block_size / 3).is_power_of_two() {
        return u64::from((block_size / 3).trailing_zeros());
    }
    // splitmix64's finaliser.
    let mut z = block_size;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    REGULAR + z % ((1 << TAG_BITS) - REGULAR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> SsdeepHash {
        SsdeepHash::parse(text).unwrap()
    }

    #[test]
    fn regular_block_sizes_have_distinct_exact_tags() {
        let tags: Vec<u64> = (0..62).map(|k| block_size_tag(3 << k)).collect();
        assert_eq!(tags, (0..62).collect::<Vec<u64>>());
        for size in [0, 1, 2, 4, 5, 7, 9, 45, u64::MAX] {
            let tag = block_size_tag(size);
            assert!((64..1 << TAG_BITS).contains(&tag), "{size}: {tag}");
        }
    }

    #[test]
    fn keys_are_distinct_windows_of_both_parts() {
        // 4 + 2 windows in the first part, one repeated; 1 in the second.
        let keys = Keys::of(&hash("3:ABCDEFGHIJ:ABCDEFG"));
        assert_eq!(keys.as_slice().len(), 5);
        let keys = Keys::of(&hash("3:ABABABABAB:"));
        assert_eq!(keys.as_slice().len(), 2);
        assert!(Keys::of(&hash("3:ABCDEF:ABCDEF")).is_empty());
        // The second part of a block size above u64::MAX / 2 is ignored.
        assert!(Keys::of(&hash("9223372036854775808:ABC:ABCDEFGHIJ")).is_empty());
    }

    #[test]
    fn insert_replace_remove() {
        let mut index = FuzzyIndex::new();
        let a = hash("3:ABCDEFGHIJ:KLMNOPQRST");
        let b = hash("3:ABCDEFGHIx:KLMNOPQRSx");
        assert_eq!(index.insert(1, &a), None);
        assert_eq!(index.insert(2, &a), None);
        assert_eq!(index.candidates(&a), vec![1, 2]);
        assert_eq!(index.insert(2, &b), Some(a));
        assert_eq!(index.len(), 2);
        assert_eq!(index.get(2), Some(&b));
        assert_eq!(index.remove(1), Some(a));
        assert_eq!(index.remove(1), None);
        assert_eq!(index.candidates(&a), vec![2]);
        assert_eq!(index.remove(2), Some(b));
        assert!(index.is_empty());
        assert!(index.windows.is_empty() && index.short.is_empty());
    }

    #[test]
    fn short_hashes_are_found_only_when_identical() {
        let mut index = FuzzyIndex::new();
        index.insert(1, &hash("3:abc:def"));
        index.insert(2, &hash("3:aaaaaaabc:def"));
        index.insert(3, &hash("3:abc:deff"));
        assert_eq!(index.candidates(&hash("3:aaabc:def")), vec![2]);
        assert_eq!(index.partners(&hash("3:abc:def"), 40), vec![(1, 100)]);
        assert_eq!(index.partners_of(1, 40), Some(vec![]));
        index.remove(1);
        index.remove(2);
        index.remove(3);
        assert!(index.short.is_empty());
    }

    #[test]
    fn postings_shrink_back_to_one() {
        let mut index = FuzzyIndex::new();
        let a = hash("96:ABCDEFG:");
        for id in 0..5 {
            index.insert(id, &a);
        }
        for id in 0..4 {
            index.remove(id);
        }
        let postings: Vec<_> = index.windows.values().collect();
        assert!(matches!(postings.as_slice(), [Postings::One(4)]));
    }

    #[test]
    fn min_score_is_inclusive_and_at_least_1() {
        let mut index = FuzzyIndex::new();
        let query = hash("3:ABCDEFGHIJ:KLMNOPQRST");
        index.insert(1, &hash("6:KLMNOPQRST:abcdefghij")); // 20
        index.insert(2, &hash("3:ABCDEFGHIJKL:")); // 10, capped by block size 3
        index.insert(3, &hash("3:ABCDEFxHIJ:")); // 0: no common window
        index.insert(4, &hash("3:KLMNOPQRST:")); // 0: not the same block size
        assert_eq!(index.partners(&query, 20), vec![(1, 20)]);
        assert_eq!(index.partners(&query, 21), vec![]);
        assert_eq!(index.partners(&query, 0), vec![(1, 20), (2, 10)]);
    }
}
