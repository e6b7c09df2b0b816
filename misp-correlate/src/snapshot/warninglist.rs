//! Warninglist snapshots: a compiled [`Matcher`] in a file, queried in place.
//!
//! The big parts of a matcher are answered straight from the mapped bytes:
//!
//! * the string and hostname tables are open-addressing hash tables laid
//!   out in the file (one tag byte per bucket, then 8-byte slots, linear
//!   probing, an ASCII-case-folding hash fixed by the format with the seed
//!   stored in the file), over a key arena and a pool of list-id sets; a
//!   query hashes all of its probes and touches their tags before looking
//!   any up; a Bloom filter per table (the matcher's, over the file's
//!   hashes, in sections of its own that older files lack) turns most
//!   probes of absent keys away before they read the tags;
//! * the CIDR interval indexes (IPv4 and IPv6) are the matcher's own arrays
//!   (networks, interval starts, member offsets, members, a 65,537-entry
//!   directory on the top 16 bits, per-list outermost entries), searched by
//!   binary search over little-endian records.
//!
//! The small parts are read at open (list metadata, a few kilobytes) or
//! compiled on first use: substring lists (Aho-Corasick) and regex lists
//! (`RegexSet`s) are stored as their entries and compiled by the matcher's
//! own compiler the first time a query needs them.

#![deny(unsafe_code)]

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use misp_core::AttributeType;

use super::format::{Cursor, Mapped, Writer, align8, le_u16, le_u32, put_str};
use super::hash::{hash, table_buckets, tag_of};
use super::{SnapshotInfo, SnapshotKind};
use crate::warninglist::parts::{
    Address, Bits, Catalogue, CidrIndex, Ctx, KeyFilter, KeyTable, ListInfo, Net, Segment,
    TouchedSuffixes, USES_CIDR, USES_HOSTS, USES_REGEX, USES_STRINGS, USES_SUBSTRINGS, compile,
    misp_host, parse_prefix, parse_value, parsed_host, php_numeric,
};
use crate::warninglist::{
    Hit, Improvements, ListId, ListStats, ListType, Matched, Matcher, Query, ToIdsGate, Warninglist,
};
use crate::{Error, Result};

const META: u32 = 0x5701;
const POOL: u32 = 0x5702;
const STRING_SLOTS: u32 = 0x5703;
const STRING_KEYS: u32 = 0x5704;
const HOST_SLOTS: u32 = 0x5705;
const HOST_KEYS: u32 = 0x5706;
/// Optional (files written before they existed lack them): the Bloom
/// filters in front of the string and hostname tables.
const STRING_FILTER: u32 = 0x5707;
const HOST_FILTER: u32 = 0x5708;
const V4_BASE: u32 = 0x5710;
const V6_BASE: u32 = 0x5720;
const LAZY: u32 = 0x5730;

/// Offsets from a CIDR family's base tag.
const NETS: u32 = 0;
const STARTS: u32 = 1;
const OFFSETS: u32 = 2;
const MEMBERS: u32 = 3;
const DIRECTORY: u32 = 4;
const BY_LIST: u32 = 5;
const KEPT: u32 = 6;

/// A list set with this bit is one list id inline; otherwise it is an
/// offset into the pool (as in the matcher).
const SINGLE: u32 = 1 << 31;
/// Bytes per hash slot: key offset, list set.
const SLOT_LEN: usize = 8;
/// Bytes before the tags of a hash table: seed, bucket count, key count,
/// bytes absent from every key.
const TABLE_HEADER: usize = 32;
/// Bytes common in values but rare in list entries; up to three that occur
/// in no key are stored with a table, and a probe containing one skips it.
const SENTINEL_CANDIDATES: [u8; 7] = [b'/', b':', b'?', b'=', b'&', b'%', b' '];
/// The hash seed written by this version (fixed, so files are reproducible).
const SEED: u64 = 0x6d69_7370_736e_6170;

fn improvements_bits(i: &Improvements) -> u32 {
    [
        i.lowercase_hosts,
        i.parse_urls,
        i.regex_global_modifier,
        i.cidr_overlap,
        i.strict_cidr_masks,
        i.dotted_strings_as_hostnames,
        i.case_insensitive_domain_strings,
        i.no_zero_label_quirk,
    ]
    .iter()
    .enumerate()
    .fold(0, |bits, (k, on)| bits | (u32::from(*on) << k))
}

fn improvements_from_bits(bits: u32) -> Improvements {
    let on = |k: u32| bits >> k & 1 == 1;
    Improvements {
        lowercase_hosts: on(0),
        parse_urls: on(1),
        regex_global_modifier: on(2),
        cidr_overlap: on(3),
        strict_cidr_masks: on(4),
        dotted_strings_as_hostnames: on(5),
        case_insensitive_domain_strings: on(6),
        no_zero_label_quirk: on(7),
    }
}

fn type_code(ty: ListType) -> u8 {
    match ty {
        ListType::String => 0,
        ListType::Substring => 1,
        ListType::Hostname => 2,
        ListType::Cidr => 3,
        ListType::Regex => 4,
    }
}

fn type_from_code(code: u8) -> Option<ListType> {
    ListType::ALL.get(usize::from(code)).copied()
}

// ---------------------------------------------------------------- writing

/// Interns list-id sets of two or more lists as `[len, id, id, …]` runs.
#[derive(Default)]
struct PoolWriter {
    ids: Vec<u16>,
    interned: HashMap<Vec<u16>, u32>,
}

impl PoolWriter {
    fn intern(&mut self, lists: &[u16]) -> Result<u32> {
        if let [single] = lists {
            return Ok(SINGLE | u32::from(*single));
        }
        if let Some(&at) = self.interned.get(lists) {
            return Ok(at);
        }
        let at = u32::try_from(self.ids.len())
            .ok()
            .filter(|at| at & SINGLE == 0)
            .ok_or_else(|| Error::InvalidArgument("snapshot: too many list sets".into()))?;
        self.ids.push(lists.len() as u16);
        self.ids.extend_from_slice(lists);
        self.interned.insert(lists.to_vec(), at);
        Ok(at)
    }

    fn bytes(&self) -> Vec<u8> {
        self.ids.iter().flat_map(|id| id.to_le_bytes()).collect()
    }
}

/// The list ids of one key (usually one or two).
type KeyLists = smallvec::SmallVec<[u16; 4]>;

/// Appends `n` as unsigned LEB128.
fn put_leb128(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Reads an unsigned LEB128 number at `at`: (value, bytes read).
#[inline]
fn read_leb128(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for k in 0..5 {
        let b = *bytes.get(at + k)?;
        value |= usize::from(b & 0x7f) << (7 * k);
        if b & 0x80 == 0 {
            return Some((value, k + 1));
        }
    }
    None
}

/// Writes a hash table of `keys` (distinct): returns (table section, key
/// arena, filter section: the matcher's Bloom filter over the file's
/// hashes). Keys are inserted in order of home bucket, then bytes, so the
/// file does not depend on the matcher's order and the inserts walk the
/// table front to back; list sets are interned in that order too.
fn write_table(
    keys: Vec<(&[u8], KeyLists)>,
    pool: &mut PoolWriter,
) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let n = keys.len();
    let buckets = if n == 0 {
        0
    } else {
        (n + n / 3).next_power_of_two().max(16)
    };
    let mask = buckets.wrapping_sub(1);
    let mut hashed: Vec<(u64, &[u8], KeyLists)> = keys
        .into_iter()
        .map(|(key, lists)| (hash(SEED, key), key, lists))
        .collect();
    hashed.sort_unstable_by(|a, b| {
        (a.0 as usize & mask)
            .cmp(&(b.0 as usize & mask))
            .then_with(|| a.1.cmp(b.1))
    });
    let mut tags = vec![0u8; buckets];
    let mut slots = vec![0u8; buckets * SLOT_LEN];
    let mut arena = Vec::with_capacity(hashed.iter().map(|(_, k, _)| k.len() + 1).sum());
    let mut present = [false; 256];
    let too_big = || Error::InvalidArgument("snapshot: more than 4 GiB of keys".into());
    for (h, key, lists) in &hashed {
        let set = pool.intern(lists)?;
        let start = u32::try_from(arena.len()).map_err(|_| too_big())?;
        put_leb128(&mut arena, key.len());
        arena.extend_from_slice(key);
        for &b in *key {
            if let Some(p) = present.get_mut(usize::from(b)) {
                *p = true;
            }
        }
        let mut i = *h as usize & mask;
        // `n < buckets`, so an empty bucket is always found.
        while tags.get(i).is_some_and(|&t| t != 0) {
            i = (i + 1) & mask;
        }
        if let (Some(tag), Some(slot)) = (
            tags.get_mut(i),
            slots.get_mut(i * SLOT_LEN..(i + 1) * SLOT_LEN),
        ) {
            *tag = tag_of(*h);
            slot[..4].copy_from_slice(&start.to_le_bytes());
            slot[4..].copy_from_slice(&set.to_le_bytes());
        }
    }
    u32::try_from(arena.len()).map_err(|_| too_big())?;
    let absent: Vec<u8> = SENTINEL_CANDIDATES
        .into_iter()
        .filter(|&b| !present.get(usize::from(b)).copied().unwrap_or(true))
        .take(3)
        .collect();
    let mut out = Vec::with_capacity(TABLE_HEADER + align8(buckets) + slots.len());
    out.extend_from_slice(&SEED.to_le_bytes());
    out.extend_from_slice(&(buckets as u64).to_le_bytes());
    out.extend_from_slice(&(n as u64).to_le_bytes());
    let mut sentinels = [0u8; 8];
    sentinels[0] = absent.len() as u8;
    for (dst, b) in sentinels[1..].iter_mut().zip(&absent) {
        *dst = *b;
    }
    out.extend_from_slice(&sentinels);
    out.extend_from_slice(&tags);
    out.resize(TABLE_HEADER + align8(buckets), 0);
    out.extend_from_slice(&slots);
    let filter = KeyFilter::build(hashed.iter().map(|(h, _, _)| *h), n).to_le_bytes();
    Ok((out, arena, filter))
}

/// The keys of one kind of table of every segment, with their list ids
/// (sorted, distinct).
fn table_keys<'m>(
    segments: &'m [Segment],
    table: impl Fn(&'m Segment) -> &'m KeyTable,
) -> Vec<(&'m [u8], KeyLists)> {
    let mut keys: Vec<(&[u8], KeyLists)> = Vec::new();
    if let [segment] = segments {
        // One segment (no custom lists): keys are already distinct.
        let table = table(segment);
        keys.reserve(table.len());
        for (key, set) in table.entries() {
            let lists = segment.pool().lists(set).map(|l| l.index() as u16);
            keys.push((key, lists.collect()));
        }
        return keys;
    }
    let mut at: ahash::HashMap<&[u8], usize> = Default::default();
    for segment in segments {
        for (key, set) in table(segment).entries() {
            let lists = segment.pool().lists(set).map(|l| l.index() as u16);
            match at.get(key) {
                Some(&i) => {
                    if let Some((_, ids)) = keys.get_mut(i) {
                        ids.extend(lists);
                        ids.sort_unstable();
                        ids.dedup();
                    }
                }
                None => {
                    at.insert(key, keys.len());
                    keys.push((key, lists.collect()));
                }
            }
        }
    }
    keys
}

/// An address family as stored in a snapshot.
trait Family: Bits {
    /// Bytes per address.
    const BYTES: usize;
    fn put(self, out: &mut Vec<u8>);
    fn read(bytes: &[u8], at: usize) -> Option<Self>;
    fn of(address: Address) -> Option<Self>;
}

impl Family for u32 {
    const BYTES: usize = 4;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read(bytes: &[u8], at: usize) -> Option<u32> {
        le_u32(bytes, at)
    }
    fn of(address: Address) -> Option<u32> {
        match address {
            Address::V4(a) => Some(a),
            Address::V6(_) => None,
        }
    }
}

impl Family for u128 {
    const BYTES: usize = 16;
    fn put(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    #[inline]
    fn read(bytes: &[u8], at: usize) -> Option<u128> {
        let b = bytes.get(at..at.checked_add(16)?)?;
        Some(u128::from_le_bytes(b.try_into().ok()?))
    }
    fn of(address: Address) -> Option<u128> {
        match address {
            Address::V6(a) => Some(a),
            Address::V4(_) => None,
        }
    }
}

/// Bytes per stored network: address, prefix, padding, list id.
const fn net_len<A: Family>() -> usize {
    A::BYTES + 4
}

fn write_cidr<A: Family>(writer: &mut Writer, base: u32, indexes: &[&CidrIndex<A>], overlap: bool) {
    // Rebuild one index from the outermost networks of every segment: the
    // same construction the matcher uses, so answers are identical.
    let mut by_list: std::collections::BTreeMap<ListId, Vec<(A, u8)>> = Default::default();
    for index in indexes {
        for net in index.parts().nets {
            by_list
                .entry(net.list)
                .or_default()
                .push((net.net, net.prefix));
        }
    }
    let index = CidrIndex::build(by_list.into_iter().collect(), overlap);
    let parts = index.parts();
    let mut nets = Vec::with_capacity(parts.nets.len() * net_len::<A>());
    for net in parts.nets {
        net.net.put(&mut nets);
        nets.push(net.prefix);
        nets.push(0);
        nets.extend_from_slice(&(net.list.index() as u16).to_le_bytes());
    }
    let mut starts = Vec::with_capacity(parts.starts.len() * A::BYTES);
    for s in parts.starts {
        s.put(&mut starts);
    }
    let u32s = |v: &[u32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let mut lists = Vec::new();
    let mut kept = Vec::new();
    for (list, members) in parts.by_list {
        for v in [list.index() as u32, kept.len() as u32, members.len() as u32] {
            lists.extend_from_slice(&v.to_le_bytes());
        }
        kept.extend_from_slice(members);
    }
    writer.section(base + NETS, nets);
    writer.section(base + STARTS, starts);
    writer.section(base + OFFSETS, u32s(parts.offsets));
    writer.section(base + MEMBERS, u32s(parts.members));
    writer.section(base + DIRECTORY, directory(parts.starts));
    writer.section(base + BY_LIST, lists);
    writer.section(base + KEPT, u32s(&kept));
}

/// Directory over the top `bits` bits of the interval starts: `u32 bits`,
/// then for every `h` in `0..=2^bits` the first interval whose start's top
/// bits are `>= h`. `bits` grows with the index (4 to 16), so a small index
/// has a small directory.
fn directory<A: Family>(starts: &[A]) -> Vec<u8> {
    if starts.is_empty() {
        return Vec::new();
    }
    let bits = (usize::BITS - starts.len().leading_zeros()).clamp(4, 16);
    let mut out = Vec::with_capacity(4 + ((1usize << bits) + 1) * 4);
    out.extend_from_slice(&bits.to_le_bytes());
    let mut next = 0usize;
    for h in 0..=(1usize << bits) {
        while starts
            .get(next)
            .is_some_and(|s| s.top16() >> (16 - bits) < h)
        {
            next += 1;
        }
        out.extend_from_slice(&(next as u32).to_le_bytes());
    }
    out
}

fn write_meta(improvements: &Improvements, lists: &[ListInfo]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&improvements_bits(improvements).to_le_bytes());
    out.extend_from_slice(&(lists.len() as u32).to_le_bytes());
    for info in lists {
        out.extend_from_slice(&(info.id().index() as u16).to_le_bytes());
        out.push(type_code(info.list_type()));
        out.push(u8::from(info.is_enabled()));
        out.push(info.uses());
        out.push(u8::from(info.source().is_some()));
        out.extend_from_slice(&info.version().to_le_bytes());
        let stats = info.stats();
        for n in [stats.total, stats.loaded, stats.dropped, stats.unusable] {
            out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        put_str(&mut out, info.name());
        put_str(&mut out, info.description());
        if let Some(source) = info.source() {
            put_str(&mut out, &source.to_string_lossy());
        }
        out.extend_from_slice(&(info.matching_attributes().len() as u32).to_le_bytes());
        for name in info.matching_attributes() {
            put_str(&mut out, name);
        }
    }
    out
}

/// Groups of lazily compiled lists: `u32 groups`, then per group `u32
/// lists`, then per list `u16 id`, `u32 entries`, entries.
fn write_lazy(groups: &[Vec<(ListId, Vec<&str>)>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(groups.len() as u32).to_le_bytes());
    for group in groups {
        out.extend_from_slice(&(group.len() as u32).to_le_bytes());
        for (id, entries) in group {
            out.extend_from_slice(&(id.index() as u16).to_le_bytes());
            out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
            for entry in entries {
                put_str(&mut out, entry);
            }
        }
    }
    out
}

/// The sections of a matcher.
pub(super) fn matcher_writer(matcher: &Matcher) -> Result<Writer> {
    let segments = matcher.segments();
    let improvements = matcher.improvements();
    let mut pool = PoolWriter::default();
    let (string_slots, string_keys, string_filter) =
        write_table(table_keys(segments, Segment::strings), &mut pool)?;
    let (host_slots, host_keys, host_filter) =
        write_table(table_keys(segments, Segment::hosts), &mut pool)?;

    let mut writer = Writer::default();
    writer.section(META, write_meta(&improvements, matcher.lists_by_id()));
    writer.section(POOL, pool.bytes());
    writer.section(STRING_SLOTS, string_slots);
    writer.section(STRING_KEYS, string_keys);
    writer.section(HOST_SLOTS, host_slots);
    writer.section(HOST_KEYS, host_keys);
    writer.section(STRING_FILTER, string_filter);
    writer.section(HOST_FILTER, host_filter);
    let v4: Vec<_> = segments.iter().map(|s| s.cidr().0).collect();
    let v6: Vec<_> = segments.iter().map(|s| s.cidr().1).collect();
    write_cidr(&mut writer, V4_BASE, &v4, improvements.cidr_overlap);
    write_cidr(&mut writer, V6_BASE, &v6, improvements.cidr_overlap);
    let lazy: Vec<Vec<(ListId, Vec<&str>)>> = segments
        .iter()
        .map(|s| {
            let mut group = s.substring_entries();
            group.extend(s.regex_entries());
            group
        })
        .filter(|g| !g.is_empty())
        .collect();
    writer.section(LAZY, write_lazy(&lazy));
    Ok(writer)
}

// ---------------------------------------------------------------- reading

/// A hash table in the file.
#[derive(Debug, Clone)]
struct TableView {
    seed: u64,
    mask: usize,
    tags: Range<usize>,
    slots: Range<usize>,
    keys: Range<usize>,
    len: usize,
    /// Bytes that occur in no key (repeated to fill), if any.
    sentinels: Option<[u8; 3]>,
    /// The Bloom filter's words, if the file has one.
    filter: Option<Range<usize>>,
}

impl TableView {
    fn open(mapped: &Mapped, table_tag: u32, keys_tag: u32, filter_tag: u32) -> Result<TableView> {
        let range = mapped.range(table_tag)?;
        let bytes = mapped.section(table_tag)?;
        let mut cursor = Cursor::new(bytes);
        let (Some(seed), Some(buckets), Some(len), Some(absent)) =
            (cursor.u64(), cursor.u64(), cursor.u64(), cursor.take(8))
        else {
            return Err(mapped.corrupt(format!("hash table {table_tag:#x}: no header")));
        };
        let Some(buckets) = table_buckets(buckets, TABLE_HEADER, SLOT_LEN, bytes.len()) else {
            return Err(mapped.corrupt(format!(
                "hash table {table_tag:#x}: {buckets} buckets do not fit its {} bytes",
                bytes.len()
            )));
        };
        // The key count is only reported (and tells empty tables apart);
        // counting the tags would touch every page of the table.
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > buckets {
            return Err(mapped.corrupt(format!(
                "hash table {table_tag:#x}: {len} keys in {buckets} buckets"
            )));
        }
        let sentinels = match absent {
            [0, ..] => None,
            [1, a, ..] => Some([*a, *a, *a]),
            [2, a, b, ..] => Some([*a, *b, *b]),
            [3, a, b, c, ..] => Some([*a, *b, *c]),
            _ => {
                return Err(
                    mapped.corrupt(format!("hash table {table_tag:#x}: bad absent-byte count"))
                );
            }
        };
        let tags = range.start + TABLE_HEADER..range.start + TABLE_HEADER + buckets;
        let slots = range.start + TABLE_HEADER + align8(buckets)..range.end;
        let filter = match mapped.range(filter_tag) {
            Err(_) => None,
            Ok(words) if words.len() >= 8 && words.len() % 8 == 0 => Some(words),
            Ok(words) => {
                return Err(mapped.corrupt(format!(
                    "filter {filter_tag:#x}: {} bytes are not whole 8-byte words",
                    words.len()
                )));
            }
        };
        Ok(TableView {
            filter,
            seed,
            mask: buckets.wrapping_sub(1),
            tags,
            slots,
            keys: mapped.range(keys_tag)?,
            len,
            sentinels,
        })
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `probe` contains a byte no key contains.
    #[inline]
    fn cannot_contain(&self, probe: &[u8]) -> bool {
        self.sentinels
            .is_some_and(|[a, b, c]| memchr::memchr3(a, b, c, probe).is_some())
    }

    #[inline]
    fn hash(&self, probe: &[u8]) -> u64 {
        hash(self.seed, probe)
    }

    /// Whether a key hashed as `hash` may be in the table (`false`: it is
    /// certainly not), by the filter when the file has one.
    #[inline]
    fn may_contain(&self, data: &[u8], hash: u64) -> bool {
        let Some(filter) = &self.filter else {
            return true;
        };
        let (word, bits) = KeyFilter::place(hash, filter.len() / 8);
        let at = filter.start.wrapping_add(word.wrapping_mul(8));
        data.get(at..at.wrapping_add(8))
            .and_then(|w| w.try_into().ok())
            .is_none_or(|w: [u8; 8]| u64::from_le_bytes(w) & bits == bits)
    }

    /// Whether a key hashed as `hash` may be in the table, by the filter;
    /// if so, loads its home tag, so that the cache misses of several
    /// probes overlap (see the matcher's `KeyTable::touch`). Only a hash
    /// admitted here (or by [`Self::may_contain`]) is worth a
    /// [`Self::probe`].
    #[inline]
    fn touch(&self, data: &[u8], hash: u64) -> bool {
        if !self.may_contain(data, hash) {
            return false;
        }
        let at = self.tags.start.wrapping_add(hash as usize & self.mask);
        std::hint::black_box(data.get(at).copied());
        true
    }

    /// Calls `found` with the keys equal to `probe` (hashed as `hash`),
    /// ignoring ASCII case when `fold`, stopping after the first exact match.
    #[inline]
    fn probe<'a>(
        &self,
        data: &'a [u8],
        probe: &[u8],
        hash: u64,
        fold: bool,
        mut found: impl FnMut(&'a [u8], u32),
    ) {
        if self.len == 0 {
            return;
        }
        let (Some(tags), Some(slots), Some(keys)) = (
            data.get(self.tags.clone()),
            data.get(self.slots.clone()),
            data.get(self.keys.clone()),
        ) else {
            return;
        };
        let tag = tag_of(hash);
        let mut i = hash as usize & self.mask;
        // At most one pass over the table, even if a damaged file has no
        // empty bucket.
        for _ in 0..=self.mask {
            match tags.get(i) {
                Some(0) | None => return,
                Some(&t) if t == tag => {
                    let start = le_u32(slots, i * SLOT_LEN).unwrap_or(0) as usize;
                    let set = le_u32(slots, i * SLOT_LEN + 4).unwrap_or(0);
                    let key = read_leb128(keys, start).and_then(|(len, skip)| {
                        let from = start + skip;
                        keys.get(from..from.checked_add(len)?)
                    });
                    if let Some(key) = key {
                        if fold {
                            if key.eq_ignore_ascii_case(probe) {
                                found(key, set);
                            }
                        } else if key == probe {
                            found(key, set);
                            return;
                        }
                    }
                }
                Some(_) => {}
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// A CIDR interval index in the file.
#[derive(Debug, Clone)]
struct CidrView {
    nets: Range<usize>,
    starts: Range<usize>,
    offsets: Range<usize>,
    members: Range<usize>,
    directory: Range<usize>,
    by_list: Range<usize>,
    kept: Range<usize>,
    net_count: usize,
    directory_bits: usize,
}

/// Whether a directory of `bytes` bytes with `bits` top bits is well
/// formed (or empty, for an empty index).
fn directory_ok(bytes: usize, bits: usize) -> bool {
    bytes == 0 || ((4..=16).contains(&bits) && bytes == 4 + ((1 << bits) + 1) * 4)
}

impl CidrView {
    fn open<A: Family>(mapped: &Mapped, base: u32) -> Result<CidrView> {
        let view = CidrView {
            nets: mapped.range(base + NETS)?,
            starts: mapped.range(base + STARTS)?,
            offsets: mapped.range(base + OFFSETS)?,
            members: mapped.range(base + MEMBERS)?,
            directory: mapped.range(base + DIRECTORY)?,
            by_list: mapped.range(base + BY_LIST)?,
            kept: mapped.range(base + KEPT)?,
            net_count: 0,
            directory_bits: 16,
        };
        let len = |r: &Range<usize>| r.end - r.start;
        let directory_bits = mapped
            .data()
            .get(view.directory.clone())
            .and_then(|d| le_u32(d, 0))
            .unwrap_or(0) as usize;
        let net_count = len(&view.nets) / net_len::<A>();
        let ok = len(&view.nets) % net_len::<A>() == 0
            && len(&view.starts) % A::BYTES == 0
            && len(&view.offsets) % 4 == 0
            && len(&view.members) % 4 == 0
            && directory_ok(len(&view.directory), directory_bits)
            && len(&view.by_list) % 12 == 0
            && len(&view.kept) % 4 == 0;
        if !ok {
            return Err(mapped.corrupt(format!(
                "CIDR index {base:#x}: array lengths do not fit their records"
            )));
        }
        Ok(CidrView {
            net_count,
            directory_bits,
            ..view
        })
    }

    fn is_empty(&self) -> bool {
        self.net_count == 0
    }

    #[inline]
    fn net<A: Family>(&self, data: &[u8], n: usize) -> Option<Net<A>> {
        let nets = data.get(self.nets.clone())?;
        let at = n.checked_mul(net_len::<A>())?;
        let net = A::read(nets, at)?;
        let prefix = *nets.get(at + A::BYTES)?;
        let list = ListId::from_index(usize::from(le_u16(nets, at + A::BYTES + 2)?))?;
        Some(Net { net, prefix, list })
    }

    #[inline]
    fn interval<A: Family>(&self, data: &[u8], addr: A) -> Option<usize> {
        let directory = data.get(self.directory.clone())?;
        let starts = data.get(self.starts.clone())?;
        let h = addr.top16() >> (16 - self.directory_bits);
        let lo = (le_u32(directory, 4 + h * 4)? as usize).saturating_sub(1);
        let hi = (le_u32(directory, 4 + (h + 1) * 4)? as usize).min(starts.len() / A::BYTES);
        // partition_point of `start <= addr` over starts[lo..hi].
        let (mut left, mut right) = (lo, hi.max(lo));
        while left < right {
            let mid = left + (right - left) / 2;
            if A::read(starts, mid * A::BYTES)? <= addr {
                left = mid + 1;
            } else {
                right = mid;
            }
        }
        (left > lo).then(|| left - 1)
    }

    /// Calls `visit` with the outermost networks containing `addr`.
    #[inline]
    fn covering<A: Family>(&self, data: &[u8], addr: A, mut visit: impl FnMut(Net<A>)) {
        let Some(i) = self.interval(data, addr) else {
            return;
        };
        let (Some(offsets), Some(members)) = (
            data.get(self.offsets.clone()),
            data.get(self.members.clone()),
        ) else {
            return;
        };
        let from = le_u32(offsets, i * 4).unwrap_or(0) as usize;
        let to = le_u32(offsets, (i + 1) * 4).unwrap_or(0) as usize;
        for k in from..to.min(members.len() / 4) {
            if let Some(net) = le_u32(members, k * 4).and_then(|n| self.net(data, n as usize)) {
                visit(net);
            }
        }
    }

    fn list_count(&self) -> usize {
        (self.by_list.end - self.by_list.start) / 12
    }

    /// The `k`-th list with entries and its outermost entries (indexes
    /// into the networks) as a range of `kept`.
    fn list_at(&self, data: &[u8], k: usize) -> Option<(ListId, usize, usize)> {
        let lists = data.get(self.by_list.clone())?;
        let id = ListId::from_index(le_u32(lists, k * 12)? as usize)?;
        let start = le_u32(lists, k * 12 + 4)? as usize;
        let len = le_u32(lists, k * 12 + 8)? as usize;
        Some((id, start, len))
    }

    /// The lowest outermost entry of the `k`-th list starting inside
    /// `first..=last`.
    fn first_inside<A: Family>(&self, data: &[u8], k: usize, first: A, last: A) -> Option<Net<A>> {
        let (_, start, len) = self.list_at(data, k)?;
        let kept = data.get(self.kept.clone())?;
        let net_at =
            |p: usize| le_u32(kept, (start + p) * 4).and_then(|n| self.net::<A>(data, n as usize));
        let (mut left, mut right) = (0, len);
        while left < right {
            let mid = left + (right - left) / 2;
            if net_at(mid)?.net < first {
                left = mid + 1;
            } else {
                right = mid;
            }
        }
        if left >= len {
            return None;
        }
        let net = net_at(left)?;
        (net.net <= last).then_some(net)
    }
}

fn read_meta(mapped: &Mapped) -> Result<(Improvements, Vec<ListInfo>)> {
    let bytes = mapped.section(META)?;
    let bad = |what: &str| mapped.corrupt(format!("list metadata: {what}"));
    let mut c = Cursor::new(bytes);
    let bits = c.u32().ok_or_else(|| bad("no improvements"))?;
    let count = c.u32().ok_or_else(|| bad("no list count"))? as usize;
    if count > ListId::LIMIT {
        return Err(bad("too many lists"));
    }
    let mut lists = Vec::with_capacity(count.min(bytes.len() / 40));
    for i in 0..count {
        let info = (|| {
            let id = ListId::from_index(usize::from(c.u16()?))?;
            let list_type = type_from_code(c.u8()?)?;
            let enabled = c.u8()? != 0;
            let uses = c.u8()?;
            let has_source = c.u8()? != 0;
            let version = c.u64()?;
            let mut n = || c.u64().and_then(|v| usize::try_from(v).ok());
            let stats = ListStats {
                total: n()?,
                loaded: n()?,
                dropped: n()?,
                unusable: n()?,
            };
            let name = c.str()?.to_owned();
            let description = c.str()?.to_owned();
            let source = if has_source {
                Some(PathBuf::from(c.str()?))
            } else {
                None
            };
            let attrs = c.u32()? as usize;
            let mut matching = Vec::with_capacity(attrs.min(64));
            for _ in 0..attrs {
                matching.push(c.str()?.to_owned());
            }
            Some(ListInfo::from_parts(
                id,
                name,
                description,
                version,
                list_type,
                matching,
                source,
                enabled,
                stats,
                uses,
            ))
        })()
        .ok_or_else(|| bad(&format!("list {i} is truncated or invalid")))?;
        if info.id().index() != i {
            return Err(bad(&format!("list {i} has id {}", info.id().index())));
        }
        lists.push(info);
    }
    if !c.is_done() {
        return Err(bad("trailing bytes"));
    }
    Ok((improvements_from_bits(bits), lists))
}

type LazyGroups = Vec<Vec<(ListId, Vec<String>)>>;

fn read_lazy(mapped: &Mapped, lists: &[ListInfo]) -> Result<LazyGroups> {
    let bytes = mapped.section(LAZY)?;
    let bad = |what: String| mapped.corrupt(format!("substring/regex lists: {what}"));
    let mut c = Cursor::new(bytes);
    let groups = c.u32().ok_or_else(|| bad("no group count".into()))? as usize;
    let mut out = Vec::with_capacity(groups.min(16));
    for g in 0..groups {
        let group = (|| {
            let n = c.u32()? as usize;
            let mut group = Vec::with_capacity(n.min(lists.len()));
            for _ in 0..n {
                let id = ListId::from_index(usize::from(c.u16()?))?;
                let entries = c.u32()? as usize;
                let mut list = Vec::with_capacity(entries.min(bytes.len() / 4));
                for _ in 0..entries {
                    list.push(c.str()?.to_owned());
                }
                group.push((id, list));
            }
            Some(group)
        })()
        .ok_or_else(|| bad(format!("group {g} is truncated or invalid")))?;
        for (id, _) in &group {
            let ty = lists.get(id.index()).map(ListInfo::list_type);
            if !matches!(ty, Some(ListType::Substring | ListType::Regex)) {
                return Err(bad(format!(
                    "list id {} is not a substring or regex list",
                    id.index()
                )));
            }
        }
        out.push(group);
    }
    if !c.is_done() {
        return Err(bad("trailing bytes".into()));
    }
    Ok(out)
}

/// A warninglist matcher opened from a snapshot file.
///
/// Answers exactly what the [`Matcher`] it was saved from answers
/// ([`check`](Self::check), [`check_query`](Self::check_query),
/// [`check_into`](Self::check_into)), and takes the same list switches
/// ([`set_enabled`](Self::set_enabled)); [`save`](Self::save) writes a new
/// snapshot with the current switches.
#[derive(Debug)]
pub struct WarninglistSnapshot {
    mapped: Mapped,
    catalogue: Catalogue,
    strings: TableView,
    hosts: TableView,
    v4: CidrView,
    v6: CidrView,
    pool: Range<usize>,
    lazy_lists: LazyGroups,
    lazy: OnceLock<Vec<Segment>>,
}

impl WarninglistSnapshot {
    /// Saves `matcher` (including custom lists and enabled switches) to
    /// `path`, replacing it atomically.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written.
    pub fn save_matcher(matcher: &Matcher, path: impl AsRef<Path>) -> Result<()> {
        matcher_writer(matcher)?.write_to(SnapshotKind::Warninglists, path.as_ref())
    }

    /// Maps and opens the snapshot at `path`. Checks the header, format
    /// version, kind, length, section table (and its checksum) and every
    /// structure's bounds; the full-file checksum is checked by
    /// [`verify`](Self::verify).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read, [`Error::Snapshot`] when
    /// it is not a warninglist snapshot of this format version or is damaged.
    pub fn open(path: impl AsRef<Path>) -> Result<WarninglistSnapshot> {
        WarninglistSnapshot::from_mapped(Mapped::open(path.as_ref(), SnapshotKind::Warninglists)?)
    }

    /// Opens a snapshot image held in memory (`name` is used in errors).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn from_bytes(bytes: Vec<u8>, name: impl AsRef<Path>) -> Result<WarninglistSnapshot> {
        WarninglistSnapshot::from_mapped(Mapped::from_vec(
            name.as_ref(),
            bytes,
            SnapshotKind::Warninglists,
        )?)
    }

    pub(super) fn from_mapped(mapped: Mapped) -> Result<WarninglistSnapshot> {
        let (improvements, lists) = read_meta(&mapped)?;
        let pool = mapped.range(POOL)?;
        if (pool.end - pool.start) % 2 != 0 {
            return Err(mapped.corrupt("list-set pool has an odd length".into()));
        }
        let strings = TableView::open(&mapped, STRING_SLOTS, STRING_KEYS, STRING_FILTER)?;
        let hosts = TableView::open(&mapped, HOST_SLOTS, HOST_KEYS, HOST_FILTER)?;
        let v4 = CidrView::open::<u32>(&mapped, V4_BASE)?;
        let v6 = CidrView::open::<u128>(&mapped, V6_BASE)?;
        let lazy_lists = read_lazy(&mapped, &lists)?;
        let catalogue = Catalogue::from_lists(improvements, lists);
        Ok(WarninglistSnapshot {
            mapped,
            catalogue,
            strings,
            hosts,
            v4,
            v6,
            pool,
            lazy_lists,
            lazy: OnceLock::new(),
        })
    }

    /// Checks the checksum of the whole file (one pass over every byte).
    ///
    /// # Errors
    ///
    /// [`Error::Snapshot`] with [`SnapshotProblem::ChecksumMismatch`](super::SnapshotProblem::ChecksumMismatch).
    pub fn verify(&self) -> Result<()> {
        self.mapped.verify()
    }

    /// Writes a snapshot of the current state (list switches included) to
    /// `path`, replacing it atomically; `path` may be the opened file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be written, [`Error::Snapshot`]
    /// when a section of the opened file cannot be read.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let mut writer = Writer::default();
        writer.section(
            META,
            write_meta(&self.catalogue.improvements(), self.catalogue.by_id()),
        );
        for (tag, _) in self.mapped.section_sizes() {
            if tag != META {
                writer.section(tag, self.mapped.section(tag)?.to_vec());
            }
        }
        writer.write_to(SnapshotKind::Warninglists, path.as_ref())
    }

    /// What the snapshot holds.
    pub fn info(&self) -> SnapshotInfo {
        let enabled = self.catalogue.lists().filter(|l| l.is_enabled()).count();
        let lazy = self.lazy_lists.iter().map(Vec::len).sum::<usize>();
        SnapshotInfo::new(
            &self.mapped,
            vec![
                ("lists", self.catalogue.list_count() as u64),
                ("enabled lists", enabled as u64),
                ("string keys", self.strings.len as u64),
                ("hostname keys", self.hosts.len as u64),
                ("IPv4 networks", self.v4.net_count as u64),
                ("IPv6 networks", self.v6.net_count as u64),
                ("substring/regex lists (compiled on first use)", lazy as u64),
            ],
        )
    }

    /// Compiles the substring and regex lists now instead of on the first
    /// query that needs them.
    pub fn prepare(&self) {
        self.lazy_segments();
    }

    fn lazy_segments(&self) -> &[Segment] {
        self.lazy.get_or_init(|| {
            self.lazy_lists
                .iter()
                .filter_map(|group| {
                    let lists: Vec<(ListId, Warninglist)> = group
                        .iter()
                        .filter_map(|(id, entries)| {
                            let info = self.catalogue.list(*id)?;
                            let mut list = Warninglist::new(info.name(), info.list_type());
                            list.set_matching_attributes(
                                info.matching_attributes().iter().cloned(),
                            );
                            for entry in entries {
                                list.push_entry(entry);
                            }
                            Some((*id, list))
                        })
                        .collect();
                    let refs: Vec<(ListId, &Warninglist)> =
                        lists.iter().map(|(id, l)| (*id, l)).collect();
                    // Compiling entries that compiled when the snapshot was
                    // written cannot fail short of memory limits; a group
                    // that does fail answers no hits.
                    compile(&refs, &self.catalogue.improvements())
                        .ok()
                        .map(|c| c.segment)
                })
                .collect()
        })
    }

    /// Checks a value of a known type, ignoring `to_ids`. Hits are sorted by
    /// list name, at most one per list (as [`Matcher::check`]).
    pub fn check<'a>(&'a self, ty: AttributeType, value: &'a str) -> Vec<Hit<'a>> {
        self.check_query(Query::new(ty, value), ToIdsGate::Off)
    }

    /// Checks one attribute (as [`Matcher::check_query`]).
    pub fn check_query<'a>(&'a self, query: Query<'a>, gate: ToIdsGate) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        self.check_into(query, gate, &mut hits);
        hits
    }

    /// Checks one attribute and appends its hits (sorted by list name) to
    /// `hits` (as [`Matcher::check_into`]).
    pub fn check_into<'a>(&'a self, query: Query<'a>, gate: ToIdsGate, hits: &mut Vec<Hit<'a>>) {
        let Some((first, second, ctx)) = self.catalogue.prepare(query, gate, hits.len()) else {
            return;
        };
        self.check_part(first, &ctx, hits);
        if let Some(second) = second {
            self.check_part(second, &ctx, hits);
        }
        if let Some(new) = hits.get_mut(ctx.first_hit..) {
            self.catalogue.sort_hits(new);
        }
    }

    fn check_part<'a>(&'a self, part: &'a str, ctx: &Ctx<'a>, hits: &mut Vec<Hit<'a>>) {
        let data = self.mapped.data();
        let uses = ctx.uses;
        let improvements = &ctx.improvements;
        let host = if uses & USES_HOSTS != 0 && !self.hosts.is_empty() {
            if improvements.parse_urls {
                Some(parsed_host(part))
            } else {
                misp_host(part)
            }
        } else {
            None
        };
        // MISP's host is the whole part only when the part has no `/` (the
        // first absent byte of a table built from the real lists): no need
        // to search the part for absent bytes; nor a part without a host
        // (as the matcher's `Segment::check_part`).
        let slash_free = !improvements.parse_urls && host.is_some_and(|h| h.len() == part.len());
        // Hash every probe and touch its bucket first, so that the cache
        // misses overlap (as the matcher's `Segment::check_part`).
        let part_hash = (uses & USES_STRINGS != 0
            && !self.strings.is_empty()
            && (slash_free || host.is_none() || !self.strings.cannot_contain(part.as_bytes())))
        .then(|| self.strings.hash(part.as_bytes()));
        let string_hash = part_hash.filter(|&hash| self.strings.touch(data, hash));
        // Both tables hash with their file's seed: when the seeds agree, the
        // suffix that is the whole part (a domain) reuses the part's hash.
        // The first suffixes are hashed and touched ahead; only those the
        // filter admits are kept for probing.
        let whole = part_hash
            .filter(|_| self.hosts.seed == self.strings.seed)
            .map(|hash| (part.len(), hash));
        let zero_quirk = !improvements.no_zero_label_quirk;
        let mut plan = TouchedSuffixes::new();
        let suffixes = host.map(|host| {
            // The file does not record which lengths its keys without a
            // dot have (finding out would read every key at open), so
            // every suffix is hashed, single labels too.
            plan.plan(
                host,
                zero_quirk,
                whole,
                u64::MAX,
                |suffix| self.hosts.hash(suffix),
                |hash| self.hosts.touch(data, hash),
            );
            &plan
        });
        if let Some(hash) = string_hash {
            self.strings
                .probe(data, part.as_bytes(), hash, ctx.fold_strings, |_, set| {
                    self.for_each_list(set, |list| {
                        ctx.offer(hits, list, Matched::Text(part), part)
                    });
                });
        }
        let check_suffix = |suffix: &str, hash: u64, hits: &mut Vec<Hit<'a>>| {
            let offer = |key: &'a [u8], set: u32| {
                if let Ok(key) = std::str::from_utf8(key) {
                    self.for_each_list(set, |list| ctx.offer(hits, list, Matched::Text(key), part));
                }
            };
            self.hosts.probe(
                data,
                suffix.as_bytes(),
                hash,
                improvements.lowercase_hosts,
                offer,
            );
        };
        if let Some(suffixes) = suffixes {
            for (suffix, hash) in suffixes.admitted() {
                check_suffix(suffix, hash, hits);
            }
            suffixes.for_each_unplanned(|suffix| {
                let hash = self.hosts.hash(suffix.as_bytes());
                if self.hosts.may_contain(data, hash) {
                    check_suffix(suffix, hash, hits);
                }
            });
        }
        if uses & USES_CIDR != 0 && !(self.v4.is_empty() && self.v6.is_empty()) {
            self.check_cidr(data, part, ctx, hits);
        }
        let lazy = uses & (USES_SUBSTRINGS | USES_REGEX);
        if lazy != 0 && !self.lazy_lists.is_empty() {
            let lazy_ctx = Ctx {
                allowed: ctx.allowed,
                names: ctx.names,
                uses: lazy,
                fold_strings: ctx.fold_strings,
                improvements: ctx.improvements,
                first_hit: ctx.first_hit,
            };
            for segment in self.lazy_segments() {
                segment.check_part(part, &lazy_ctx, hits);
            }
        }
    }

    #[inline]
    fn for_each_list(&self, set: u32, mut visit: impl FnMut(ListId)) {
        if set & SINGLE != 0 {
            if let Some(id) = ListId::from_index((set & 0xffff) as usize) {
                visit(id);
            }
            return;
        }
        let Some(pool) = self.mapped.data().get(self.pool.clone()) else {
            return;
        };
        let at = set as usize * 2;
        let len = le_u16(pool, at).map_or(0, usize::from);
        for k in 0..len {
            if let Some(id) =
                le_u16(pool, at + 2 + k * 2).and_then(|id| ListId::from_index(usize::from(id)))
            {
                visit(id);
            }
        }
    }

    fn check_cidr<'a>(
        &'a self,
        data: &'a [u8],
        part: &'a str,
        ctx: &Ctx<'a>,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let Some((address, mask)) = parse_value(part) else {
            return;
        };
        if let Some(addr) = u32::of(address) {
            cidr_hits(&self.v4, data, addr, mask, part, ctx, hits);
        } else if let Some(addr) = u128::of(address) {
            cidr_hits(&self.v6, data, addr, mask, part, ctx, hits);
        }
    }

    /// Enables or disables the list named `name` (as
    /// [`Matcher::set_enabled`]); [`save`](Self::save) keeps the change.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when no list has that name.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<()> {
        self.catalogue.set_enabled(name, enabled)
    }

    /// Enables or disables every list.
    pub fn set_all_enabled(&mut self, enabled: bool) {
        self.catalogue.set_all_enabled(enabled);
    }

    /// The id of the list named `name`.
    pub fn list_id(&self, name: &str) -> Option<ListId> {
        self.catalogue.list_id(name)
    }

    /// The list with id `id`.
    pub fn list(&self, id: ListId) -> Option<&ListInfo> {
        self.catalogue.list(id)
    }

    /// Every list, in name order.
    pub fn lists(&self) -> impl Iterator<Item = &ListInfo> + '_ {
        self.catalogue.lists()
    }

    /// Number of lists (enabled or not).
    pub fn list_count(&self) -> usize {
        self.catalogue.list_count()
    }

    /// The improvements the snapshot's matcher was built with.
    pub fn improvements(&self) -> Improvements {
        self.catalogue.improvements()
    }

    /// How every entry of every list was accounted for.
    pub fn stats(&self) -> ListStats {
        self.catalogue.stats()
    }

    /// The snapshot file's path.
    pub fn path(&self) -> &Path {
        self.mapped.path()
    }
}

/// How a CIDR value's mask restricts matches (as in the matcher).
#[derive(Clone, Copy)]
enum MaskRule {
    Any,
    AtMost(f64),
}

fn cidr_hits<'a, A: Family>(
    view: &CidrView,
    data: &'a [u8],
    addr: A,
    mask: Option<&str>,
    part: &'a str,
    ctx: &Ctx<'a>,
    hits: &mut Vec<Hit<'a>>,
) {
    let improvements = &ctx.improvements;
    let strict_prefix = mask.map(|text| parse_prefix(text, A::WIDTH));
    let rule = match mask {
        None => MaskRule::Any,
        Some(_) if improvements.strict_cidr_masks => match strict_prefix.flatten() {
            Some(prefix) => MaskRule::AtMost(f64::from(prefix)),
            None => return,
        },
        Some("" | "0") => MaskRule::Any,
        Some(text) => php_numeric(text).map_or(MaskRule::Any, MaskRule::AtMost),
    };
    view.covering(data, addr, |net: Net<A>| {
        if let MaskRule::AtMost(value_mask) = rule {
            if value_mask < f64::from(net.prefix) {
                return;
            }
        }
        if let Some(ipnet) = net.to_ipnet() {
            ctx.offer(hits, net.list, Matched::Network(ipnet), part);
        }
    });
    if let (true, MaskRule::AtMost(_), Some(Some(prefix))) =
        (improvements.cidr_overlap, rule, strict_prefix)
    {
        let first = addr.and(A::mask(prefix));
        let last = A::last_in(first, prefix);
        for k in 0..view.list_count() {
            let Some((list, _, _)) = view.list_at(data, k) else {
                continue;
            };
            if !ctx.is_open(hits, list) {
                continue;
            }
            if let Some(ipnet) = view
                .first_inside::<A>(data, k, first, last)
                .and_then(|n| n.to_ipnet())
            {
                ctx.offer(hits, list, Matched::Network(ipnet), part);
            }
        }
    }
}
