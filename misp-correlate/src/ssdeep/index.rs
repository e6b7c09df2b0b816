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
/// window can only score against an equal hash, which the index finds by
/// the whole hash. Hence:
///
/// * [`candidates`](Self::candidates) contains every stored id whose hash
///   has `fuzzy_compare(query, hash) > 0`;
/// * [`partners`](Self::partners) scores only the candidates.
///
/// Updates are incremental ([`insert`](Self::insert),
/// [`remove`](Self::remove)), as the correlation engine needs when
/// attributes are saved and deleted.
///
/// Ids that store equal hashes (one sample reported in many events)
/// share one entry: its windows are posted once and it is scored once
/// per query. A distinct hash costs about 170 bytes plus about 20 bytes
/// per window (at most 116, typically 60 to 90), an id about 16 bytes.
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
/// let mut pairs: Vec<_> = index.pairs(1).collect();
/// pairs.sort_unstable();
/// assert_eq!(pairs, vec![(1, 2, 20), (1, 3, 10)]);
/// # Ok::<(), misp_correlate::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct FuzzyIndex {
    /// id → the slot of its hash.
    slot_of: HashMap<u32, u32, RandomState>,
    /// One slot per distinct hash; free slots have no ids.
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Window keys → slots.
    windows: PostingTable<u64>,
    /// 64-bit hashes of the distinct hashes → their slots, to find a
    /// stored equal hash in one lookup.
    fingerprints: PostingTable<u64>,
    /// The hasher of `fingerprints`' keys.
    fingerprint_state: RandomState,
}

/// A distinct hash and the ids that store it.
#[derive(Clone, Debug)]
struct Slot {
    hash: SsdeepHash,
    ids: IdList,
}

impl FuzzyIndex {
    /// An empty index.
    pub fn new() -> FuzzyIndex {
        FuzzyIndex::default()
    }

    /// Stores `hash` under `id`, returning the hash `id` had before, if
    /// any (which is replaced).
    pub fn insert(&mut self, id: u32, hash: &SsdeepHash) -> Option<SsdeepHash> {
        let old = match self.slot_of.get(&id) {
            Some(&slot) if self.slot_hash(slot) == Some(hash) => return Some(*hash),
            Some(_) => self.remove(id),
            None => None,
        };
        let slot = match self.find_slot(hash) {
            Some(slot) => slot,
            None => self.new_slot(hash),
        };
        if let Some(entry) = self.slots.get_mut(slot as usize) {
            entry.ids.push(id);
        }
        self.slot_of.insert(id, slot);
        old
    }

    /// Removes `id`, returning its hash if it was stored.
    pub fn remove(&mut self, id: u32) -> Option<SsdeepHash> {
        let slot = self.slot_of.remove(&id)?;
        let entry = self.slots.get_mut(slot as usize)?;
        let hash = entry.hash;
        entry.ids.remove(id);
        if entry.ids.is_empty() {
            for &key in Keys::of(&hash).as_slice() {
                self.windows.unpost(key, slot);
            }
            self.fingerprints.unpost(self.fingerprint(&hash), slot);
            self.free_slots.push(slot);
        }
        Some(hash)
    }

    /// The slot holding `hash`, if any.
    fn find_slot(&self, hash: &SsdeepHash) -> Option<u32> {
        self.fingerprints
            .get(&self.fingerprint(hash))
            .iter()
            .copied()
            .find(|&slot| self.slot_hash(slot) == Some(hash))
    }

    fn fingerprint(&self, hash: &SsdeepHash) -> u64 {
        self.fingerprint_state.hash_one(hash)
    }

    fn new_slot(&mut self, hash: &SsdeepHash) -> u32 {
        let entry = Slot {
            hash: *hash,
            ids: IdList::Empty,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                if let Some(free) = self.slots.get_mut(slot as usize) {
                    *free = entry;
                }
                slot
            }
            None => {
                self.slots.push(entry);
                // More than u32::MAX distinct hashes cannot have u32 ids.
                (self.slots.len() - 1) as u32
            }
        };
        self.fingerprints.post(self.fingerprint(hash), slot);
        for &key in Keys::of(hash).as_slice() {
            self.windows.post(key, slot);
        }
        slot
    }

    fn slot_hash(&self, slot: u32) -> Option<&SsdeepHash> {
        self.slots.get(slot as usize).map(|entry| &entry.hash)
    }

    fn slot_ids(&self, slot: u32) -> &[u32] {
        self.slots
            .get(slot as usize)
            .map(|entry| entry.ids.as_slice())
            .unwrap_or_default()
    }

    /// The hash stored under `id`.
    pub fn get(&self, id: u32) -> Option<&SsdeepHash> {
        self.slot_hash(*self.slot_of.get(&id)?)
    }

    /// The number of stored ids.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    /// Whether no id is stored.
    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// The number of distinct hashes stored (ids storing equal hashes
    /// share the hash's windows and its scores).
    pub fn distinct_hashes(&self) -> usize {
        self.slots.len() - self.free_slots.len()
    }

    /// The stored ids, in no particular order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.slot_of.keys().copied()
    }

    /// The slots, increasing, whose hash shares a window with `query` at
    /// the same block size, or equals `query`.
    fn candidate_slots(&self, query: &SsdeepHash) -> Vec<u32> {
        let keys = Keys::of(query);
        let mut slots = Vec::new();
        if keys.is_empty() {
            slots.extend(self.find_slot(query));
        }
        for key in keys.as_slice() {
            slots.extend_from_slice(self.windows.get(key));
        }
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// The ids, in increasing order and without repetition, of the stored
    /// hashes that share a 7-character window with `query` at the same
    /// block size, or equal `query`: a superset of those with
    /// `fuzzy_compare(query, hash) > 0`, including `query`'s own id if it
    /// is stored.
    pub fn candidates(&self, query: &SsdeepHash) -> Vec<u32> {
        let mut ids: Vec<u32> = self
            .candidate_slots(query)
            .into_iter()
            .flat_map(|slot| self.slot_ids(slot).iter().copied())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// `(id, score)` of every stored hash with
    /// `fuzzy_compare(query, hash) >= min_score` (and > 0), in increasing
    /// id order; `query`'s own id included if it is stored.
    ///
    /// MISP's `ssdeep_correlation_threshold` is such a `min_score`. Each
    /// distinct stored hash is scored once, however many ids store it.
    pub fn partners(&self, query: &SsdeepHash, min_score: u32) -> Vec<(u32, u32)> {
        self.scored(query, min_score, None)
    }

    /// [`partners`](Self::partners) of the hash stored under `id`, without
    /// `id` itself; `None` if `id` is not stored.
    pub fn partners_of(&self, id: u32, min_score: u32) -> Option<Vec<(u32, u32)>> {
        let hash = self.get(id)?;
        Some(self.scored(hash, min_score, Some(id)))
    }

    /// Every unordered pair of stored ids whose hashes score at least
    /// `min_score` (and > 0), once, as `(smaller id, larger id, score)`,
    /// in no particular order. Computed lazily: each pair of distinct
    /// hashes is scored once, and the pairs of ids storing them are
    /// generated as the iterator advances.
    pub fn pairs(&self, min_score: u32) -> Pairs<'_> {
        Pairs {
            index: self,
            min_score: min_score.max(1),
            next_slot: 0,
            current: 0,
            partners: Vec::new(),
            position: 0,
            left: 0,
            right: 0,
        }
    }

    fn scored(&self, query: &SsdeepHash, min_score: u32, exclude: Option<u32>) -> Vec<(u32, u32)> {
        let min_score = min_score.max(1);
        let mut partners = Vec::new();
        for slot in self.candidate_slots(query) {
            let Some(hash) = self.slot_hash(slot) else {
                continue;
            };
            let score = fuzzy_compare(query, hash);
            if score >= min_score {
                partners.extend(
                    self.slot_ids(slot)
                        .iter()
                        .filter(|&&id| Some(id) != exclude)
                        .map(|&id| (id, score)),
                );
            }
        }
        partners.sort_unstable();
        partners
    }
}

impl std::fmt::Debug for FuzzyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FuzzyIndex")
            .field("ids", &self.len())
            .field("distinct_hashes", &self.distinct_hashes())
            .field("windows", &self.windows.map.len())
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
///
/// It walks the distinct hashes; for each it scores the candidates stored
/// in later slots (and the hash itself when several ids share it), then
/// yields the id pairs of each scoring pair of hashes.
#[derive(Debug)]
pub struct Pairs<'a> {
    index: &'a FuzzyIndex,
    min_score: u32,
    /// The next slot to expand.
    next_slot: usize,
    /// The slot whose pairs are being yielded.
    current: u32,
    /// `(slot, score)` partners of `current`, in slot order (`current`
    /// itself first when present).
    partners: Vec<(u32, u32)>,
    /// Index into `partners`.
    position: usize,
    /// Index into `current`'s ids.
    left: usize,
    /// Index into the partner's ids.
    right: usize,
}

impl Pairs<'_> {
    /// Moves to the next slot with partners; false at the end.
    fn expand_next_slot(&mut self) -> bool {
        let index = self.index;
        while let Some(entry) = index.slots.get(self.next_slot) {
            let slot = self.next_slot as u32;
            self.next_slot += 1;
            if entry.ids.is_empty() {
                continue;
            }
            self.partners.clear();
            for other in index.candidate_slots(&entry.hash) {
                let others = index.slot_ids(other);
                let wanted = if other == slot {
                    others.len() > 1
                } else {
                    other > slot && !others.is_empty()
                };
                if !wanted {
                    continue;
                }
                let Some(hash) = index.slot_hash(other) else {
                    continue;
                };
                let score = fuzzy_compare(&entry.hash, hash);
                if score >= self.min_score {
                    self.partners.push((other, score));
                }
            }
            if !self.partners.is_empty() {
                self.current = slot;
                self.position = 0;
                self.start_partner();
                return true;
            }
        }
        false
    }

    fn start_partner(&mut self) {
        self.left = 0;
        // Pairs within one slot are (i, j) with i < j.
        self.right = match self.partners.get(self.position) {
            Some(&(other, _)) if other == self.current => 1,
            _ => 0,
        };
    }
}

impl Iterator for Pairs<'_> {
    type Item = (u32, u32, u32);

    fn next(&mut self) -> Option<(u32, u32, u32)> {
        loop {
            let Some(&(other, score)) = self.partners.get(self.position) else {
                if !self.expand_next_slot() {
                    return None;
                }
                continue;
            };
            let lefts = self.index.slot_ids(self.current);
            let rights = self.index.slot_ids(other);
            if self.right >= rights.len() {
                self.left += 1;
                self.right = if other == self.current {
                    self.left + 1
                } else {
                    0
                };
            }
            match (lefts.get(self.left), rights.get(self.right)) {
                (Some(&a), Some(&b)) => {
                    self.right += 1;
                    return Some((a.min(b), a.max(b), score));
                }
                _ => {
                    self.position += 1;
                    self.start_partner();
                }
            }
        }
    }
}

/// The ids of one distinct hash: almost always one.
#[derive(Clone, Debug)]
enum IdList {
    Empty,
    One(u32),
    Many(Vec<u32>),
}

impl IdList {
    fn as_slice(&self) -> &[u32] {
        match self {
            IdList::Empty => &[],
            IdList::One(id) => std::slice::from_ref(id),
            IdList::Many(ids) => ids,
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, IdList::Empty)
    }

    fn push(&mut self, id: u32) {
        match self {
            IdList::Empty => *self = IdList::One(id),
            IdList::One(first) => *self = IdList::Many(vec![*first, id]),
            IdList::Many(ids) => ids.push(id),
        }
    }

    fn remove(&mut self, id: u32) {
        match self {
            IdList::Empty => {}
            IdList::One(only) => {
                if *only == id {
                    *self = IdList::Empty;
                }
            }
            IdList::Many(ids) => {
                if let Some(position) = ids.iter().position(|&other| other == id) {
                    ids.swap_remove(position);
                }
                if let [last] = ids.as_slice() {
                    *self = IdList::One(*last);
                }
            }
        }
    }
}

/// A multimap from keys to `u32` values, compact for the usual case of
/// one value per key: 8 bytes per key, longer lists kept aside.
#[derive(Clone, Debug, Default)]
struct PostingTable<K> {
    map: HashMap<K, Posting, RandomState>,
    /// The lists of [`Posting::Many`]; unused ones are empty and listed
    /// in `free_lists`.
    lists: Vec<Vec<u32>>,
    free_lists: Vec<u32>,
}

#[derive(Clone, Copy, Debug)]
enum Posting {
    One(u32),
    /// Index into [`PostingTable::lists`].
    Many(u32),
}

impl<K: Hash + Eq> PostingTable<K> {
    fn get(&self, key: &K) -> &[u32] {
        match self.map.get(key) {
            None => &[],
            Some(Posting::One(value)) => std::slice::from_ref(value),
            Some(&Posting::Many(list)) => self
                .lists
                .get(list as usize)
                .map(Vec::as_slice)
                .unwrap_or_default(),
        }
    }

    fn post(&mut self, key: K, value: u32) {
        match self.map.entry(key) {
            Entry::Vacant(entry) => {
                entry.insert(Posting::One(value));
            }
            Entry::Occupied(mut entry) => match *entry.get() {
                Posting::One(first) => {
                    let values = vec![first, value];
                    let list = match self.free_lists.pop() {
                        Some(list) => {
                            if let Some(slot) = self.lists.get_mut(list as usize) {
                                *slot = values;
                            }
                            list
                        }
                        None => {
                            self.lists.push(values);
                            (self.lists.len() - 1) as u32
                        }
                    };
                    entry.insert(Posting::Many(list));
                }
                Posting::Many(list) => {
                    if let Some(values) = self.lists.get_mut(list as usize) {
                        values.push(value);
                    }
                }
            },
        }
    }

    fn unpost(&mut self, key: K, value: u32) {
        let Entry::Occupied(mut entry) = self.map.entry(key) else {
            return;
        };
        match *entry.get() {
            Posting::One(only) => {
                if only == value {
                    entry.remove();
                }
            }
            Posting::Many(list) => {
                let Some(values) = self.lists.get_mut(list as usize) else {
                    return;
                };
                if let Some(position) = values.iter().position(|&other| other == value) {
                    values.swap_remove(position);
                }
                if let [last] = values.as_slice() {
                    entry.insert(Posting::One(*last));
                    *values = Vec::new();
                    self.free_lists.push(list);
                }
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
        assert!(index.windows.map.is_empty() && index.fingerprints.map.is_empty());
        assert_eq!(index.distinct_hashes(), 0);
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
        assert!(index.fingerprints.map.is_empty());
    }

    #[test]
    fn equal_hashes_share_one_slot() {
        let mut index = FuzzyIndex::new();
        let a = hash("96:ABCDEFGH:");
        let b = hash("96:ABCDEFGx:");
        for id in 0..5 {
            index.insert(id, &a);
        }
        index.insert(9, &b);
        assert_eq!(index.len(), 6);
        assert_eq!(index.distinct_hashes(), 2);
        assert_eq!(index.slots.len(), 2);
        // The 2 windows of `a`, one shared with `b`, the other of `b`.
        assert_eq!(index.windows.map.len(), 3);
        assert_eq!(index.candidates(&a), vec![0, 1, 2, 3, 4, 9]);
        for id in 0..5 {
            index.remove(id);
        }
        assert_eq!(index.distinct_hashes(), 1);
        assert!(
            index
                .windows
                .map
                .values()
                .all(|posting| matches!(posting, Posting::One(1)))
        );
        assert_eq!(index.windows.free_lists.len(), 1);
        // The freed slot and list are reused.
        index.insert(20, &a);
        index.insert(21, &a);
        assert_eq!(index.slots.len(), 2);
        assert_eq!(index.windows.lists.len(), 1);
        assert_eq!(index.candidates(&b), vec![9, 20, 21]);
    }

    #[test]
    fn reinserting_the_same_hash_is_a_no_op() {
        let mut index = FuzzyIndex::new();
        let a = hash("96:ABCDEFGH:");
        index.insert(1, &a);
        assert_eq!(index.insert(1, &a), Some(a));
        assert_eq!(index.candidates(&a), vec![1]);
    }

    #[test]
    fn pairs_within_and_across_equal_hashes() {
        let mut index = FuzzyIndex::new();
        let a = hash("96:ABCDEFGH:");
        let b = hash("96:ABCDEFGHI:");
        for id in [5, 1, 3] {
            index.insert(id, &a);
        }
        for id in [4, 2] {
            index.insert(id, &b);
        }
        let score = fuzzy_compare(&a, &b);
        let mut pairs: Vec<_> = index.pairs(1).collect();
        pairs.sort_unstable();
        assert_eq!(
            pairs,
            vec![
                (1, 2, score),
                (1, 3, 100),
                (1, 4, score),
                (1, 5, 100),
                (2, 3, score),
                (2, 4, 100),
                (2, 5, score),
                (3, 4, score),
                (3, 5, 100),
                (4, 5, score),
            ]
        );
        assert_eq!(index.pairs(score + 1).count(), 4);
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
