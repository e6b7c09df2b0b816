//! Sets of list ids and the key → list-set hash table.
//!
//! All string lists of a matcher share one [`KeyTable`], and so do all
//! hostname lists: a key that occurs in several lists is stored once and maps
//! to the small set of lists that contain it. Keys live back to back in one
//! byte arena; the hash table holds 12-byte slots `(offset, length, set)`
//! and, in a separate array, one tag byte per slot, so a miss usually
//! touches only the tags. A small blocked Bloom filter ([`KeyFilter`]) in
//! front of the table turns most misses away before they touch even the
//! tags.
//!
//! A set of list ids is a [`ListSetRef`]: one list is stored inline, several
//! lists are a run in a [`ListSetPool`].
//!
//! # What a check waits for
//!
//! Behind the filters, a check of the real values is bound by instructions
//! and branches, not by memory. Measured on the 718,796 TweetFeed values
//! against the full misp-warninglists set (MISP mode, 2026-11-30):
//!
//! * `warninglist_figures cache`: the first 20,000 values repeated to
//!   718,796 (their table lines stay in the 32 MiB L3 after the first
//!   pass) check 12-17% faster than all values (5.72-5.86 against
//!   4.86-5.22 M values/s, alternating runs at load 2.3); the first 2,000
//!   (small enough for the 512 KiB L2) 30-35% faster (6.60-6.76 M/s), part
//!   of which is the branch predictor learning 2,000 values by heart. At
//!   load 5 the 20,000-value set was no faster at all (2.4-2.8 against
//!   2.5-3.1 M/s): a shared L3 is then anyone's.
//! * callgrind's cache simulation (`--D1=32768,8,64`, last level set to the
//!   L2 or the L3 size) counts per value about 1,120 instructions, 4 L1
//!   misses, 0.97 misses of a 32 MiB cache against 0.85 for the
//!   20,000-value set (whose misses are the queries and value text
//!   streaming by, which the hardware prefetches): about 0.1 table lines
//!   per value come from memory. A 512 KiB cache misses 2.8 times per
//!   value for both sets: besides the streaming, about two table lines
//!   (filter words, tags) per value come from L3. The filters (1.4 MiB)
//!   live in L3; the tags, slots and keys of hits (a third of the values)
//!   are the rare memory reads.
//! * callgrind's branch simulation: 166 conditional branches per value,
//!   13.5 of them mispredicted by its simple predictor, a third of those in
//!   the byte-scanning loops whose trip counts follow the value (dots and
//!   slashes of hosts and URLs). Since the host reading passes on the `/`
//!   it found and the suffix walk yields byte ranges: 1,085-1,092
//!   instructions, 151 branches and 12.8 mispredictions per value (first
//!   20,000 values; URLs 1,175 instructions, domains 1,335-1,345, `ip-dst`
//!   887, hashes 245-265). Since single-label host suffixes are skipped by
//!   length and a query finds its type's gate in one element: 1,049
//!   instructions, 147 branches and 12.6 mispredictions (URLs 1,134,
//!   domains 1,279, `ip-dst` 882, hashes 245). Of these, the substring
//!   lists' dot-anchored searches (scanning the whole value for dots) and
//!   their loop take about 320 per URL, 440 per domain (two lists apply)
//!   and 310 per `ip-dst`; the host's suffix walk (hashing and filtering
//!   each suffix) about 380 per URL and 310 per domain; the per-query
//!   set-up in `check_into` about 100. Since the dot-anchored groups are
//!   ruled out together by one scan against the union of their filters
//!   (index.rs, `SubstringPlan`): 937 instructions per value (URLs 1,053,
//!   domains 1,017, `ip-dst` 804). Since the byte searches (host.rs:
//!   `find_byte`, `rfind_byte`, `for_each_byte`) take their whole words
//!   from `chunks_exact` iterators, without a bounds test per word: 921
//!   (URLs 1,028, domains 1,004, `ip-dst` 809, hashes 244). Since the
//!   IPv4 reader (cidr.rs) matches each field as a slice pattern of up to
//!   three digits and reads the address before searching for a `/`: 911
//!   (`ip-dst` 736).
//! * Tried and not kept: a hash that extends label by label (the hostname
//!   table's keys hashed alike), so that the suffix walk hashes each label
//!   once instead of each suffix whole. Of the suffix planning's 272
//!   instructions per mixed value (at 937) only about 60 are hashing (27 in
//!   the hash itself, the rest slicing and set-up; the dot searches take
//!   69, the filter touches 42, the walk's bookkeeping the rest): the
//!   single-label skip and the reuse of a domain's string hash already
//!   leave most hosts one or two suffixes to hash. With the dot search
//!   fused into the hashing (one read per word for both) and the string
//!   table hashed by labels too (so that a domain's last suffix hash still
//!   serves its string look-up), URLs went 1,054 → 1,031 and domains
//!   1,016 → 1,001, but every string probe of a hash value then searches
//!   each word for a dot: hashes 245 → 425 (338 with sixteen dot-free
//!   bytes per multiply), mixed 937 → 938-952. With the string table on
//!   this hash, domains lose the reuse: 1,077, mixed 947.
//!
//! At 2.45 GHz, 5 M values/s is about 490 cycles per value for about
//! 940 instructions (1.9 per cycle). Memory costs at most a quarter of
//! that (what the L2-resident set saves, better-predicted branches
//! included); the rest is instructions and branches (callgrind's simple
//! predictor overstates what a real one mispredicts). So what pays most
//! is fewer instructions and data-dependent branches per value; denser
//! tables could save a part of that quarter.

use super::ListId;
use super::hash::{FoldHasher, MUL_B, folded_multiply};
use crate::{Error, Result};

/// A set of lists: one list inline, or a run in a [`ListSetPool`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListSetRef(u32);

const SINGLE: u32 = 1 << 31;

impl ListSetRef {
    pub(crate) fn single(list: ListId) -> ListSetRef {
        ListSetRef(SINGLE | u32::from(list.0))
    }
}

/// Interned sets of two or more list ids, each stored as
/// `[len, id, id, …]`.
#[derive(Debug, Default)]
pub(crate) struct ListSetPool {
    ids: Vec<u16>,
    interned: ahash::HashMap<Vec<u16>, u32>,
}

impl ListSetPool {
    /// Interns `lists` (sorted, deduplicated, non-empty).
    pub(crate) fn intern(&mut self, lists: &[ListId]) -> Result<ListSetRef> {
        if let [single] = lists {
            return Ok(ListSetRef::single(*single));
        }
        let key: Vec<u16> = lists.iter().map(|l| l.0).collect();
        if let Some(&offset) = self.interned.get(&key) {
            return Ok(ListSetRef(offset));
        }
        let offset = u32::try_from(self.ids.len())
            .ok()
            .filter(|o| o & SINGLE == 0)
            .ok_or_else(|| Error::InvalidArgument("warninglists: too many list sets".into()))?;
        let len = u16::try_from(key.len())
            .map_err(|_| Error::InvalidArgument("warninglists: too many lists".into()))?;
        self.ids.push(len);
        self.ids.extend_from_slice(&key);
        self.interned.insert(key, offset);
        Ok(ListSetRef(offset))
    }

    /// Drops the interning index once building is over.
    pub(crate) fn seal(&mut self) {
        self.interned = ahash::HashMap::default();
        self.ids.shrink_to_fit();
    }

    /// The lists of `set`.
    #[inline]
    pub(crate) fn lists(&self, set: ListSetRef) -> ListIter<'_> {
        if set.0 & SINGLE != 0 {
            return ListIter::One(Some(ListId(set.0 as u16)));
        }
        let start = set.0 as usize;
        let len = self.ids.get(start).map_or(0, |&n| usize::from(n));
        let run = self.ids.get(start + 1..start + 1 + len).unwrap_or(&[]);
        ListIter::Many(run.iter())
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.ids.capacity() * 2
    }
}

/// Iterator over the lists of a [`ListSetRef`].
pub(crate) enum ListIter<'a> {
    One(Option<ListId>),
    Many(std::slice::Iter<'a, u16>),
}

impl Iterator for ListIter<'_> {
    type Item = ListId;

    #[inline]
    fn next(&mut self) -> Option<ListId> {
        match self {
            ListIter::One(one) => one.take(),
            ListIter::Many(iter) => iter.next().map(|&id| ListId(id)),
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    start: u32,
    len: u32,
    set: ListSetRef,
}

impl Default for ListSetRef {
    fn default() -> Self {
        ListSetRef(SINGLE)
    }
}

/// The tag byte of a hash: never 0 (the empty marker).
#[inline]
fn tag_of(hash: u64) -> u8 {
    ((hash >> 57) as u8) | 0x80
}

/// Filter bits per key of a [`KeyFilter`]: with three bits set per key in
/// one 64-bit word, about 10% of absent keys get through (1.4 MiB for the
/// 2.35 million keys of the full misp-warninglists set).
const FILTER_BITS_PER_KEY: usize = 5;

/// A blocked Bloom filter over the hashes of a [`KeyTable`]'s keys: three
/// bits in one 64-bit word per key, at [`FILTER_BITS_PER_KEY`] bits per
/// key.
///
/// The full misp-warninglists set puts 2.35 million keys in the two
/// tables; their tag arrays take 4 MiB and their slots 48 MiB (then the
/// key bytes), more than the caches hold, so every probe of a cold key
/// waits for memory. The two filters take 1.4 MiB, small enough to stay in
/// the L3 cache (not in a 512 KiB L2: a filter word is an L3 read, see the
/// module's notes on what a check waits for), and turn away about nine in ten probes of absent keys (most
/// probes) before they touch the table. Keys equal ignoring ASCII case hash alike, so the filter
/// serves case-insensitive look-ups too.
#[derive(Debug, Default)]
pub(crate) struct KeyFilter {
    words: Vec<u64>,
}

impl KeyFilter {
    /// A filter holding `hashes` (about `keys` of them, duplicates allowed).
    pub(crate) fn build(hashes: impl Iterator<Item = u64>, keys: usize) -> KeyFilter {
        let mut words = vec![0u64; (keys * FILTER_BITS_PER_KEY).div_ceil(64).max(1)];
        for hash in hashes {
            let (word, bits) = Self::place(hash, words.len());
            if let Some(w) = words.get_mut(word) {
                *w |= bits;
            }
        }
        KeyFilter { words }
    }

    /// The word of `hash` and its three bits. The word comes from bits
    /// 32..64 of a second mix of the hash (the table's bucket uses the low
    /// bits, its tag the top seven), the bit positions from three 6-bit
    /// fields of its low half.
    #[inline]
    pub(crate) fn place(hash: u64, words: usize) -> (usize, u64) {
        let mixed = folded_multiply(hash, MUL_B);
        let word = ((mixed >> 32) * words as u64) >> 32;
        let bits = 1u64 << (mixed & 63) | 1u64 << (mixed >> 6 & 63) | 1u64 << (mixed >> 12 & 63);
        (word as usize, bits)
    }

    /// Whether a key with hash `hash` may be in the table (`false`: it is
    /// certainly not).
    #[inline]
    fn may_contain(&self, hash: u64) -> bool {
        let (word, bits) = Self::place(hash, self.words.len());
        self.words.get(word).is_some_and(|w| w & bits == bits)
    }

    fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    /// The filter's words, little-endian (a snapshot's filter section).
    pub(crate) fn to_le_bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

/// An immutable map from byte-string keys to sets of lists.
///
/// Open addressing with linear probing over two parallel arrays: one tag
/// byte per bucket (0 = empty, else seven hash bits) and one 12-byte slot
/// `(key offset, key length, list set)`, behind a [`KeyFilter`]. A miss
/// usually reads one filter word (about one in ten also reads a cache line
/// of tags); a hit reads the filter word, the tags, the slot and the key.
/// The load factor is at most 3/4.
#[derive(Debug)]
pub(crate) struct KeyTable {
    hasher: FoldHasher,
    filter: KeyFilter,
    mask: usize,
    tags: Vec<u8>,
    slots: Vec<Slot>,
    arena: Vec<u8>,
    len: usize,
    /// A byte that occurs in no key: a probe containing it cannot be a key.
    sentinel: Option<u8>,
    /// The [`length_bit`](super::host::length_bit)s of the keys without a
    /// dot.
    single_label_lengths: u64,
}

/// Bytes common in values but rare in list entries, in order of preference
/// as the [`KeyTable`] sentinel. None is an ASCII letter, so case folding
/// cannot hide one.
const SENTINEL_CANDIDATES: [u8; 7] = [b'/', b':', b'?', b'=', b'&', b'%', b' '];

impl KeyTable {
    /// Whether the table holds no key.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of distinct keys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether `probe` contains the table's sentinel, a byte that no key
    /// contains, so that it cannot be a key (cheaper than hashing and
    /// probing). One byte is searched eight at a time, and `/` (the first
    /// candidate) is what most values that are not keys (URLs) contain.
    #[inline]
    pub(crate) fn cannot_contain(&self, probe: &[u8]) -> bool {
        self.sentinel
            .is_some_and(|sentinel| super::host::find_byte(probe, sentinel).is_some())
    }

    /// [`cannot_contain`](Self::cannot_contain) for a probe already known
    /// to contain a `/` when `has_slash`: with `/` as the sentinel (as in
    /// every table built from the real lists) that answers without a
    /// search.
    #[inline]
    pub(crate) fn cannot_contain_known(&self, probe: &[u8], has_slash: bool) -> bool {
        (has_slash && self.sentinel == Some(b'/')) || self.cannot_contain(probe)
    }

    /// The lengths of the keys that contain no dot, as a set of
    /// [`length_bit`](super::host::length_bit)s: a host suffix without a
    /// dot whose length is not in it is no key, and need not be hashed or
    /// looked up. (The real hostname lists have four such keys among a
    /// million.)
    #[inline]
    pub(crate) fn single_label_lengths(&self) -> u64 {
        self.single_label_lengths
    }

    /// The hash `probe` is looked up with.
    #[inline]
    pub(crate) fn hash(&self, probe: &[u8]) -> u64 {
        self.hasher.hash(probe)
    }

    /// The table's hasher: two tables with equal hashers hash a probe
    /// alike.
    #[inline]
    pub(crate) fn hasher(&self) -> FoldHasher {
        self.hasher
    }

    #[inline]
    fn key(&self, slot: &Slot) -> &[u8] {
        let start = slot.start as usize;
        self.arena
            .get(start..start + slot.len as usize)
            .unwrap_or(&[])
    }

    #[inline]
    fn key_str(&self, slot: &Slot) -> &str {
        // Keys are copied from `&str` entries (or ASCII-lower-cased copies of
        // them), so they are always valid UTF-8.
        std::str::from_utf8(self.key(slot)).unwrap_or("")
    }

    /// Loads the filter word of `hash`, and the home tag when the filter
    /// lets the hash through, so that a later look-up finds them in cache.
    /// Issued for several probes in a row, the cache misses overlap instead
    /// of queueing. (Slots are not touched: most probes miss and never read
    /// them.) The tag goes through `black_box`: passing only the reference
    /// would let the compiler skip the load.
    ///
    /// Returns whether a key with this hash may be in the table: when not,
    /// the look-up can be skipped.
    #[inline]
    pub(crate) fn touch(&self, hash: u64) -> bool {
        let may_contain = self.filter.may_contain(hash);
        if may_contain {
            std::hint::black_box(self.tags.get(hash as usize & self.mask).copied());
        }
        may_contain
    }

    /// Calls `visit` with each occupied slot whose tag matches `hash`, along
    /// the probe sequence, until `visit` returns `true` or an empty bucket
    /// ends the sequence.
    ///
    /// The filter is not consulted here: every look-up follows a
    /// [`touch`](Self::touch) that already did (and skips the look-up when
    /// it says no), so asking again would only repeat its work.
    #[inline]
    fn probe(&self, hash: u64, mut visit: impl FnMut(&Slot) -> bool) {
        if self.len == 0 {
            return;
        }
        let tag = tag_of(hash);
        let mut i = hash as usize & self.mask;
        loop {
            match self.tags.get(i) {
                Some(0) | None => return,
                Some(&t) if t == tag => {
                    if let Some(slot) = self.slots.get(i) {
                        if visit(slot) {
                            return;
                        }
                    }
                }
                Some(_) => {}
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The lists of the key equal to `probe` byte for byte (hashed as
    /// `hash`); the key is `probe` itself. Call it when
    /// [`touch`](Self::touch) returned `true` (it is correct either way,
    /// only slower without).
    #[inline]
    pub(crate) fn get(&self, probe: &[u8], hash: u64) -> Option<ListSetRef> {
        let mut found = None;
        self.probe(hash, |slot| {
            if self.key(slot) == probe {
                found = Some(slot.set);
                true
            } else {
                false
            }
        });
        found
    }

    /// Calls `found` with every key equal to `probe` ignoring ASCII case.
    #[inline]
    pub(crate) fn for_each_ignore_case<'t>(
        &'t self,
        probe: &[u8],
        hash: u64,
        mut found: impl FnMut(&'t str, ListSetRef),
    ) {
        self.probe(hash, |slot| {
            if self.key(slot).eq_ignore_ascii_case(probe) {
                found(self.key_str(slot), slot.set);
            }
            false
        });
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.capacity()
            + self.filter.heap_bytes()
            + self.tags.capacity()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}

/// Builds a [`KeyTable`]: insert `(key, list)` pairs, lay the table out,
/// then intern its list sets.
///
/// Inserting 2.5 million keys at random places of a 30 MB table costs a
/// cache miss or two per key. So keys are only appended and hashed while
/// inserting; [`lay_out`](Self::lay_out) orders them by home bucket (a
/// counting sort on the bucket's top 16 bits) and inserts them in that
/// order, which walks the table memory front to back.
#[derive(Debug)]
pub(crate) struct KeyTableBuilder {
    hasher: FoldHasher,
    arena: Vec<u8>,
    pending: Vec<Pending>,
    /// As [`KeyTable::single_label_lengths`], of the keys inserted so far.
    single_label_lengths: u64,
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    hash: u64,
    start: u32,
    len: u32,
    list: ListId,
}

impl KeyTableBuilder {
    /// An empty builder sized for about `keys` keys of `bytes` bytes in
    /// all, whose table hashes with `hasher`.
    pub(crate) fn with_capacity(keys: usize, bytes: usize, hasher: FoldHasher) -> KeyTableBuilder {
        KeyTableBuilder {
            hasher,
            arena: Vec::with_capacity(bytes),
            pending: Vec::with_capacity(keys),
            single_label_lengths: 0,
        }
    }

    /// Adds `list` to the lists of `key`.
    pub(crate) fn insert(&mut self, key: &[u8], list: ListId) -> Result<()> {
        self.insert_with(list, |arena| arena.extend_from_slice(key))
    }

    /// Adds `list` to the lists of the ASCII-lower-cased `key`.
    pub(crate) fn insert_lowercase(&mut self, key: &[u8], list: ListId) -> Result<()> {
        // Copied, then lower-cased in place: both passes run many bytes at
        // a time, where a mapped `extend` goes byte by byte.
        self.insert_with(list, |arena| {
            let start = arena.len();
            arena.extend_from_slice(key);
            if let Some(copy) = arena.get_mut(start..) {
                copy.make_ascii_lowercase();
            }
        })
    }

    fn insert_with(&mut self, list: ListId, write: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let start = self.arena.len();
        write(&mut self.arena);
        let too_big = || Error::InvalidArgument("warninglists: more than 4 GiB of entries".into());
        let end = u32::try_from(self.arena.len()).map_err(|_| too_big())?;
        let start = u32::try_from(start).map_err(|_| too_big())?;
        let key = self.arena.get(start as usize..).unwrap_or(&[]);
        let hash = self.hasher.hash(key);
        if memchr::memchr(b'.', key).is_none() {
            self.single_label_lengths |= super::host::length_bit(key.len());
        }
        self.pending.push(Pending {
            hash,
            start,
            len: end - start,
            list,
        });
        Ok(())
    }

    /// Deduplicates the keys, interns their list sets into `pool` and
    /// returns the finished table.
    #[cfg(test)]
    pub(crate) fn finish(self, pool: &mut ListSetPool) -> Result<KeyTable> {
        self.lay_out().intern(pool)
    }

    /// Deduplicates the keys and lays the table out, leaving the sets of
    /// keys in several lists to [`LaidOutTable::intern`]. This is the
    /// costly part (hundreds of milliseconds for the full
    /// misp-warninglists set) and needs no pool, so the string and hostname
    /// tables are laid out in parallel.
    pub(crate) fn lay_out(self) -> LaidOutTable {
        let KeyTableBuilder {
            hasher,
            mut arena,
            pending,
            single_label_lengths,
        } = self;
        let buckets = (pending.len() + pending.len() / 3)
            .next_power_of_two()
            .max(16);
        let mask = buckets - 1;
        let mut tags = vec![0u8; buckets];
        let mut slots = vec![Slot::default(); buckets];
        let mut multi: Vec<(usize, Vec<ListId>)> = Vec::new();
        let mut len = 0;
        let key_of = |start: u32, len: u32| {
            arena
                .get(start as usize..(start + len) as usize)
                .unwrap_or(&[])
        };
        let ordered = bucket_order(&pending, buckets);
        let filter = KeyFilter::build(pending.iter().map(|p| p.hash), pending.len());
        drop(pending);
        for p in &ordered {
            let key = key_of(p.start, p.len);
            let tag = tag_of(p.hash);
            let mut at = p.hash as usize & mask;
            while let (Some(t), Some(slot)) = (tags.get_mut(at), slots.get_mut(at)) {
                if *t == 0 {
                    *t = tag;
                    *slot = Slot {
                        start: p.start,
                        len: p.len,
                        set: ListSetRef::single(p.list),
                    };
                    len += 1;
                    break;
                }
                if *t == tag && key_of(slot.start, slot.len) == key {
                    if slot.set.0 & SINGLE != 0 {
                        let first = ListId(slot.set.0 as u16);
                        if first != p.list {
                            slot.set = ListSetRef(multi.len() as u32);
                            multi.push((at, vec![first, p.list]));
                        }
                    } else if let Some((_, lists)) = multi.get_mut(slot.set.0 as usize) {
                        lists.push(p.list);
                    }
                    break;
                }
                at = (at + 1) & mask;
            }
        }
        drop(ordered);
        arena.shrink_to_fit();
        // A candidate that occurs is usually found within the first keys;
        // the one that does not costs one vectorised scan (a byte-by-byte
        // census of the 20 MB of keys took tens of ms).
        let sentinel = SENTINEL_CANDIDATES
            .into_iter()
            .find(|&b| memchr::memchr(b, &arena).is_none());
        LaidOutTable {
            table: KeyTable {
                hasher,
                filter,
                mask,
                tags,
                slots,
                arena,
                len,
                sentinel,
                single_label_lengths,
            },
            multi,
        }
    }
}

/// A [`KeyTable`] whose keys in several lists still point at their
/// unsorted list sets: `(bucket, lists)`, the slot's set being the index in
/// this vector.
#[derive(Debug)]
pub(crate) struct LaidOutTable {
    table: KeyTable,
    multi: Vec<(usize, Vec<ListId>)>,
}

impl LaidOutTable {
    /// Interns the sets of keys in several lists into `pool` and returns
    /// the finished table.
    pub(crate) fn intern(self, pool: &mut ListSetPool) -> Result<KeyTable> {
        let LaidOutTable { mut table, multi } = self;
        for (bucket, mut lists) in multi {
            lists.sort_unstable();
            lists.dedup();
            let set = pool.intern(&lists)?;
            if let Some(slot) = table.slots.get_mut(bucket) {
                slot.set = set;
            }
        }
        Ok(table)
    }
}

/// `pending` reordered by the top 16 bits of their home bucket (a
/// counting sort: the copy streams through memory, and so does the insert
/// pass that follows).
fn bucket_order(pending: &[Pending], buckets: usize) -> Vec<Pending> {
    let shift = buckets.trailing_zeros().saturating_sub(16);
    let mask = (buckets - 1) as u64;
    let top = |p: &Pending| ((p.hash & mask) >> shift) as usize;
    let mut counts = vec![0u32; 1 << 16];
    for p in pending {
        if let Some(c) = counts.get_mut(top(p)) {
            *c += 1;
        }
    }
    let mut next = 0u32;
    for c in &mut counts {
        let n = *c;
        *c = next;
        next += n;
    }
    let mut ordered = vec![
        Pending {
            hash: 0,
            start: 0,
            len: 0,
            list: ListId(0)
        };
        pending.len()
    ];
    for p in pending {
        if let Some(c) = counts.get_mut(top(p)) {
            if let Some(o) = ordered.get_mut(*c as usize) {
                *o = *p;
            }
            *c += 1;
        }
    }
    ordered
}

/// Raw access for snapshots.
impl KeyTable {
    /// Every key with its list set, in table order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&[u8], ListSetRef)> + '_ {
        self.tags
            .iter()
            .zip(&self.slots)
            .filter(|(tag, _)| **tag != 0)
            .map(|(_, slot)| (self.key(slot), slot.set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u16) -> ListId {
        ListId(n)
    }

    fn get<'t>(t: &'t KeyTable, key: &'t [u8]) -> Option<(&'t str, ListSetRef)> {
        t.touch(t.hash(key));
        t.get(key, t.hash(key))
            .map(|set| (std::str::from_utf8(key).unwrap(), set))
    }

    fn builder(keys: usize, bytes: usize) -> KeyTableBuilder {
        KeyTableBuilder::with_capacity(keys, bytes, FoldHasher::with_seed(5))
    }

    fn lists(pool: &ListSetPool, set: ListSetRef) -> Vec<u16> {
        pool.lists(set).map(|l| l.0).collect()
    }

    #[test]
    fn keys_map_to_sorted_list_sets() {
        let mut b = builder(4, 64);
        b.insert(b"example.com", id(3)).unwrap();
        b.insert(b"example.com", id(3)).unwrap();
        b.insert(b"example.com", id(1)).unwrap();
        b.insert(b"other.org", id(2)).unwrap();
        b.insert(b"EXAMPLE.com", id(5)).unwrap();
        let mut pool = ListSetPool::default();
        let t = b.finish(&mut pool).unwrap();
        assert_eq!(t.len(), 3);
        let (key, set) = get(&t, b"example.com").unwrap();
        assert_eq!(key, "example.com");
        assert_eq!(lists(&pool, set), [1, 3]);
        assert_eq!(lists(&pool, get(&t, b"other.org").unwrap().1), [2]);
        assert!(get(&t, b"Example.com").is_none());
        assert!(get(&t, b"example.co").is_none());

        let mut seen = Vec::new();
        t.for_each_ignore_case(b"Example.Com", t.hash(b"Example.Com"), |key, set| {
            seen.push((key.to_owned(), lists(&pool, set)));
        });
        seen.sort();
        assert_eq!(
            seen,
            [
                ("EXAMPLE.com".to_owned(), vec![5]),
                ("example.com".to_owned(), vec![1, 3])
            ]
        );
    }

    #[test]
    fn many_keys_probe_correctly() {
        let mut b = builder(0, 0);
        let key = |i: u32| format!("k{}.example", i.wrapping_mul(2_654_435_761) % 100_000);
        for i in 0..20_000u32 {
            b.insert(key(i).as_bytes(), id((i % 3) as u16)).unwrap();
        }
        let mut pool = ListSetPool::default();
        let t = b.finish(&mut pool).unwrap();
        let mut expected: std::collections::BTreeMap<String, Vec<u16>> = Default::default();
        for i in 0..20_000u32 {
            let lists = expected.entry(key(i)).or_default();
            lists.push((i % 3) as u16);
            lists.sort_unstable();
            lists.dedup();
        }
        assert_eq!(t.len(), expected.len());
        for (k, lists) in &expected {
            let (found, set) = get(&t, k.as_bytes()).unwrap();
            assert_eq!(found, k);
            assert_eq!(&super::tests::lists(&pool, set), lists);
        }
        for i in 0..1000 {
            assert!(get(&t, format!("absent{i}").as_bytes()).is_none());
        }
        // No key has '/', ':' or '?': probes with one need no look-up.
        assert!(t.cannot_contain(b"http://k1.example"));
        assert!(!t.cannot_contain(b"k1.example"));
    }

    #[test]
    fn filter_keeps_every_key_and_turns_most_others_away() {
        let hasher = FoldHasher::with_seed(11);
        let keys: Vec<u64> = (0..50_000)
            .map(|i| hasher.hash(format!("key{i}.example").as_bytes()))
            .collect();
        let filter = KeyFilter::build(keys.iter().copied(), keys.len());
        assert!(keys.iter().all(|&h| filter.may_contain(h)));
        let through = (0..50_000)
            .filter(|i| filter.may_contain(hasher.hash(format!("absent{i}.example").as_bytes())))
            .count();
        // About 10% in theory (5 bits per key, 3 bits in one word).
        assert!(
            through < 7_500,
            "{through} of 50000 absent keys got through"
        );
        assert!(through > 0, "a 5-bit-per-key filter cannot be exact");
    }

    #[test]
    fn lowercase_insert_and_interning() {
        let mut b = builder(0, 0);
        b.insert_lowercase(b"Example.COM", id(0)).unwrap();
        b.insert(b"a", id(0)).unwrap();
        b.insert(b"a", id(1)).unwrap();
        b.insert(b"b", id(0)).unwrap();
        b.insert(b"b", id(1)).unwrap();
        let mut pool = ListSetPool::default();
        let t = b.finish(&mut pool).unwrap();
        assert_eq!(get(&t, b"example.com").unwrap().0, "example.com");
        let a = get(&t, b"a").unwrap().1;
        let bb = get(&t, b"b").unwrap().1;
        assert_eq!(a, bb, "identical sets are interned once");
        assert_eq!(lists(&pool, a), [0, 1]);
    }
}
