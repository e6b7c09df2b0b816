//! Sharded string interning.
//!
//! Every distinct string the engine sees (normalised values, match keys,
//! string identities) is stored once, in the arena of one of [`SHARDS`]
//! shards chosen by the string's hash, and named by a `u32` *string id*
//! (`local << SHARD_BITS | shard`). Each shard owns its arena (in pages:
//! growing never copies), its spans, a per-string payload (`T`: the key's
//! posting list, or the slot of the attribute with that identity) and a
//! `hashbrown` table of local ids. Shards are independent, so the bulk
//! builder interns one shard per task without locks, and queries walk the
//! shards in parallel.
//!
//! Strings have a *canonical encoding*:
//! * lower-case hex strings of the lengths of MISP's hash types (md5,
//!   sha1, sha224, sha256, sha384, sha512: 32 to 128 digits) are stored
//!   as fixed-size binary (half the bytes);
//! * everything else is stored as its UTF-8 bytes.
//!
//! The tag is part of equality, so a hash and a string that happens to
//! have the same bytes never collide.
//!
//! A shard keeps the low 32 bits of every string's hash beside its span,
//! and its table is keyed by those bits (see [`table_hash`]): growing the
//! table then never reads (or re-hashes) the strings themselves, which
//! would touch the whole arena in random order.

use std::borrow::Cow;

use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::{Error, Result};

/// Number of bits of a string id that select the shard.
pub(crate) const SHARD_BITS: u32 = 6;
/// Number of shards.
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;
/// "No string" / "no slot".
pub(crate) const NONE: u32 = u32::MAX;

/// The payload of an identity string: the slot of the attribute that has
/// it, or [`NONE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotRef(pub(crate) u32);

impl Default for SlotRef {
    fn default() -> Self {
        SlotRef(NONE)
    }
}

/// Largest local id a shard hands out (ids must stay below [`NONE`]).
const MAX_LOCAL: u32 = (u32::MAX >> SHARD_BITS) - 1;
/// Largest string length (the top two bits of a span's length hold the tag).
const MAX_LEN: usize = (1 << 30) - 1;

/// How a string is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Tag {
    /// UTF-8 bytes.
    Raw = 0,
    /// Lower-case hex, stored as binary.
    Hex = 1,
}

impl Tag {
    fn from_bits(bits: u32) -> Tag {
        if bits == 1 { Tag::Hex } else { Tag::Raw }
    }
}

/// A string in its canonical (stored) encoding, ready to hash and compare.
#[derive(Debug, Clone)]
pub(crate) struct Canon<'a> {
    tag: Tag,
    bytes: CanonBytes<'a>,
}

#[derive(Debug, Clone)]
enum CanonBytes<'a> {
    Borrowed(&'a [u8]),
    Packed { buf: [u8; 64], len: u8 },
}

impl<'a> Canon<'a> {
    /// The canonical encoding of a text string (hex hashes packed).
    pub(crate) fn text(s: &'a str) -> Canon<'a> {
        let b = s.as_bytes();
        if matches!(b.len(), 32 | 40 | 56 | 64 | 96 | 128) {
            // Checked and packed in one pass: a digit that is not
            // lower-case hex sets a bit above the nibble.
            let mut buf = [0u8; 64];
            let mut seen = 0u8;
            for (out, pair) in buf.iter_mut().zip(b.chunks_exact(2)) {
                let (hi, lo) = (
                    HEX_VALUE[usize::from(pair[0])],
                    HEX_VALUE[usize::from(pair[1])],
                );
                seen |= hi | lo;
                *out = (hi << 4) | (lo & 0x0F);
            }
            if seen & !0x0F == 0 {
                return Canon {
                    tag: Tag::Hex,
                    bytes: CanonBytes::Packed {
                        buf,
                        len: (b.len() / 2) as u8,
                    },
                };
            }
        }
        Canon {
            tag: Tag::Raw,
            bytes: CanonBytes::Borrowed(b),
        }
    }

    /// The canonical encoding of a string identity (never packed).
    pub(crate) fn raw(s: &'a str) -> Canon<'a> {
        Canon {
            tag: Tag::Raw,
            bytes: CanonBytes::Borrowed(s.as_bytes()),
        }
    }

    /// The stored encoding.
    pub(crate) fn tag(&self) -> Tag {
        self.tag
    }

    /// The stored bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match &self.bytes {
            CanonBytes::Borrowed(b) => b,
            CanonBytes::Packed { buf, len } => &buf[..usize::from(*len)],
        }
    }
}

/// The value of every lower-case hex digit; [`NOT_HEX`] for every other
/// byte.
const HEX_VALUE: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        t[b'a' as usize + c] = 10 + c as u8;
        c += 1;
    }
    t
};

/// [`HEX_VALUE`] of a byte that is not a lower-case hex digit (any bit
/// above the nibble would do).
const NOT_HEX: u8 = 0x10;

/// A stored string: its bytes and how they encode the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored<'a>(pub(crate) &'a [u8], pub(crate) Tag);

impl<'a> Stored<'a> {
    /// The text form (hex expanded).
    pub(crate) fn to_text(self) -> Cow<'a, str> {
        match self {
            Stored(b, Tag::Hex) => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut s = String::with_capacity(b.len() * 2);
                for &x in b {
                    s.push(char::from(DIGITS[usize::from(x >> 4)]));
                    s.push(char::from(DIGITS[usize::from(x & 15)]));
                }
                Cow::Owned(s)
            }
            Stored(b, Tag::Raw) => String::from_utf8_lossy(b),
        }
    }

    /// The text, when it is stored as is (not packed).
    pub(crate) fn as_raw_str(self) -> Option<&'a str> {
        match self {
            Stored(b, Tag::Raw) => std::str::from_utf8(b).ok(),
            Stored(_, Tag::Hex) => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u32,
    /// Length in the low 30 bits, [`Tag`] in the top 2.
    len_tag: u32,
}

impl Span {
    fn len(self) -> usize {
        (self.len_tag & (MAX_LEN as u32)) as usize
    }
    fn tag(self) -> Tag {
        Tag::from_bits(self.len_tag >> 30)
    }
}

/// Bytes per arena page. Strings never straddle pages, so growing the
/// arena never moves (copies) what is already stored.
const PAGE: usize = 1 << 20;

/// String bytes in pages of [`PAGE`] bytes, addressed by a `u32` offset
/// (`page * PAGE + position`). A string longer than a page gets pages of
/// its own (the first holds it all, the others stay empty).
#[derive(Debug, Default)]
struct Arena {
    pages: Vec<Vec<u8>>,
}

impl Arena {
    /// Stores `bytes`; returns their offset, or `None` past 4 GiB.
    #[inline]
    fn push(&mut self, bytes: &[u8]) -> Option<u32> {
        // Usually the last page has room.
        let last = self.pages.len().wrapping_sub(1);
        if let Some(page) = self.pages.last_mut()
            && page.capacity() - page.len() >= bytes.len()
        {
            let offset = last * PAGE + page.len();
            page.extend_from_slice(bytes);
            return u32::try_from(offset).ok();
        }
        self.push_on_new_pages(bytes)
    }

    /// [`Arena::push`] of `bytes` that do not fit the last page: they
    /// start a new one (or a run of pages, if longer than one).
    #[cold]
    #[inline(never)]
    fn push_on_new_pages(&mut self, bytes: &[u8]) -> Option<u32> {
        let pages = bytes.len().div_ceil(PAGE).max(1);
        if (self.pages.len() + pages) * PAGE > u32::MAX as usize {
            return None;
        }
        let first = self.pages.len();
        let mut page = Vec::with_capacity(PAGE.max(bytes.len()));
        page.extend_from_slice(bytes);
        self.pages.push(page);
        for _ in 1..pages {
            self.pages.push(Vec::new());
        }
        u32::try_from(first * PAGE).ok()
    }

    fn get(&self, offset: u32, len: usize) -> Option<&[u8]> {
        let (page, at) = (offset as usize / PAGE, offset as usize % PAGE);
        self.pages.get(page)?.get(at..at + len)
    }
}

/// One shard: an arena of string bytes, the spans of its strings, a
/// payload per string and a hash table of local ids.
#[derive(Debug, Default)]
pub(crate) struct Shard<T> {
    arena: Arena,
    spans: Vec<Span>,
    /// Per-string payload, indexed by local id.
    pub(crate) payload: Vec<T>,
    /// The low 32 bits of each string's hash, indexed by local id.
    hashes: Vec<u32>,
    table: HashTable<u32>,
}

/// The hash a shard's table uses for a string whose full hash is `hash`:
/// a function of its low 32 bits only, so that the table can grow from
/// the stored bits. hashbrown takes the bucket from the low bits and the
/// control byte from the top seven, so both halves carry the bits.
#[inline]
fn table_hash(hash: u64) -> u64 {
    let low = hash & 0xFFFF_FFFF;
    low | (low << 32)
}

impl<T: Default> Shard<T> {
    fn bytes_at<'a>(arena: &'a Arena, spans: &[Span], local: u32) -> Option<(Tag, &'a [u8])> {
        let sp = spans.get(local as usize)?;
        Some((sp.tag(), arena.get(sp.offset, sp.len())?))
    }

    /// The local id of `canon`, if interned.
    pub(crate) fn find(&self, hash: u64, canon: &Canon<'_>) -> Option<u32> {
        let (arena, spans) = (&self.arena, &self.spans);
        let want = canon.bytes();
        self.table
            .find(table_hash(hash), |&l| {
                Self::bytes_at(arena, spans, l).is_some_and(|(t, b)| t == canon.tag && b == want)
            })
            .copied()
    }

    /// The local id of `canon`, interning it if new (the flag says
    /// whether it was).
    pub(crate) fn intern(&mut self, hash: u64, canon: &Canon<'_>) -> Result<(u32, bool)> {
        self.intern_bytes(hash, canon.tag, canon.bytes())
    }

    /// [`Shard::intern`] for a string already in its canonical encoding.
    #[inline]
    pub(crate) fn intern_bytes(
        &mut self,
        hash: u64,
        tag: Tag,
        bytes: &[u8],
    ) -> Result<(u32, bool)> {
        let (arena, spans, hashes) = (&self.arena, &self.spans, &self.hashes);
        // One probe: a miss leaves the slot where the new id goes.
        let entry = self.table.entry(
            table_hash(hash),
            |&l| Self::bytes_at(arena, spans, l).is_some_and(|(t, b)| t == tag && b == bytes),
            |&l| stored_hash(hashes, l),
        );
        let vacant = match entry {
            Entry::Occupied(o) => return Ok((*o.get(), false)),
            Entry::Vacant(v) => v,
        };
        let local = self.spans.len();
        if local > MAX_LOCAL as usize || bytes.len() > MAX_LEN {
            return Err(Error::InvalidArgument(
                "too many or too long distinct strings for one engine".into(),
            ));
        }
        let offset = self.arena.push(bytes).ok_or_else(|| {
            Error::InvalidArgument("string storage of one shard exceeds 4 GiB".into())
        })?;
        self.spans.push(Span {
            offset,
            len_tag: bytes.len() as u32 | ((tag as u32) << 30),
        });
        self.payload.push(T::default());
        self.hashes.push(hash as u32);
        let local = local as u32;
        vacant.insert(local);
        Ok((local, true))
    }

    /// Makes room for `additional` more strings (at most), so that a
    /// batch of insertions grows the table once. Best effort: never more
    /// than the shard's id space, and if the memory is not there the
    /// insertions grow the shard as they go.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let room = (MAX_LOCAL as usize + 1).saturating_sub(self.spans.len());
        let additional = additional.min(room);
        let hashes = &self.hashes;
        let _ = self
            .table
            .try_reserve(additional, |&l| stored_hash(hashes, l));
        let _ = self.spans.try_reserve(additional);
        let _ = self.payload.try_reserve(additional);
        let _ = self.hashes.try_reserve(additional);
    }

    /// The stored string with local id `local`.
    pub(crate) fn get(&self, local: u32) -> Stored<'_> {
        match Self::bytes_at(&self.arena, &self.spans, local) {
            Some((t, b)) => Stored(b, t),
            None => Stored(&[], Tag::Raw),
        }
    }
}

/// The table hash of local id `l`, from its stored bits.
#[inline]
fn stored_hash(hashes: &[u32], l: u32) -> u64 {
    hashes
        .get(l as usize)
        .map_or(0, |&h| table_hash(u64::from(h)))
}

/// Hashing shared by the interners of one engine.
#[derive(Debug, Clone)]
pub(crate) struct Hasher(ahash::RandomState);

impl Hasher {
    pub(crate) fn new() -> Hasher {
        Hasher(ahash::RandomState::new())
    }

    /// Hash of a stored string.
    pub(crate) fn hash_stored(&self, tag: Tag, bytes: &[u8]) -> u64 {
        self.0.hash_one(bytes) ^ (tag as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// Hash of a canonical string.
    pub(crate) fn hash(&self, canon: &Canon<'_>) -> u64 {
        self.hash_stored(canon.tag, canon.bytes())
    }

    /// The shard a hash belongs to. Uses bits that hashbrown uses neither
    /// for the bucket index (low bits) nor for the control byte (top 7).
    pub(crate) fn shard_of(hash: u64) -> usize {
        ((hash >> 40) as usize) & (SHARDS - 1)
    }
}

/// Packs a shard and a local id into a string id.
pub(crate) fn sid(shard: usize, local: u32) -> u32 {
    (local << SHARD_BITS) | shard as u32
}

/// Splits a string id into its shard and local id.
pub(crate) fn split(sid: u32) -> (usize, u32) {
    ((sid as usize) & (SHARDS - 1), sid >> SHARD_BITS)
}

/// A sharded interner.
#[derive(Debug)]
pub(crate) struct Interner<T> {
    pub(crate) hasher: Hasher,
    pub(crate) shards: Vec<Shard<T>>,
}

impl<T: Default> Interner<T> {
    pub(crate) fn new(hasher: Hasher) -> Interner<T> {
        Interner {
            hasher,
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }

    /// The string id of `canon`, if interned.
    pub(crate) fn find(&self, canon: &Canon<'_>) -> Option<u32> {
        let h = self.hasher.hash(canon);
        let shard = Hasher::shard_of(h);
        self.shards
            .get(shard)?
            .find(h, canon)
            .map(|l| sid(shard, l))
    }

    /// The string id of `canon`, interning it if new.
    pub(crate) fn intern(&mut self, canon: &Canon<'_>) -> Result<u32> {
        let h = self.hasher.hash(canon);
        let shard = Hasher::shard_of(h);
        let s = self
            .shards
            .get_mut(shard)
            .ok_or_else(|| Error::InvalidArgument("shard out of range".into()))?;
        s.intern(h, canon).map(|(l, _)| sid(shard, l))
    }

    /// The stored string `id`.
    pub(crate) fn get(&self, id: u32) -> Stored<'_> {
        let (shard, local) = split(id);
        match self.shards.get(shard) {
            Some(s) => s.get(local),
            None => Stored(&[], Tag::Raw),
        }
    }

    /// The payload of string `id`.
    pub(crate) fn payload(&self, id: u32) -> Option<&T> {
        let (shard, local) = split(id);
        self.shards.get(shard)?.payload.get(local as usize)
    }

    /// The payload of string `id`, mutably.
    pub(crate) fn payload_mut(&mut self, id: u32) -> Option<&mut T> {
        let (shard, local) = split(id);
        self.shards.get_mut(shard)?.payload.get_mut(local as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_idempotent_and_round_trips() {
        let mut i: Interner<SlotRef> = Interner::new(Hasher::new());
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let a = i.intern(&Canon::text("hello")).unwrap();
        let b = i.intern(&Canon::text(md5)).unwrap();
        assert_eq!(i.intern(&Canon::text("hello")).unwrap(), a);
        assert_eq!(i.find(&Canon::text(md5)), Some(b));
        assert_eq!(i.get(a).to_text(), "hello");
        assert_eq!(i.get(b).to_text(), md5);
        assert!(matches!(i.get(b), Stored(bytes, Tag::Hex) if bytes.len() == 16));
        assert_eq!(i.find(&Canon::text("nope")), None);
    }

    #[test]
    fn tags_keep_encodings_apart() {
        let mut i: Interner<()> = Interner::new(Hasher::new());
        // Upper-case hex is not packed; the packed bytes of a hash never
        // equal a raw string with the same bytes.
        let upper = "D41D8CD98F00B204E9800998ECF8427E";
        let lower = "d41d8cd98f00b204e9800998ecf8427e";
        let a = i.intern(&Canon::text(upper)).unwrap();
        let b = i.intern(&Canon::text(lower)).unwrap();
        assert_ne!(a, b);
        let packed_bytes = String::from_utf8_lossy(&[0xd4u8, 0x1d][..]).into_owned();
        let c = i.intern(&Canon::raw(&packed_bytes)).unwrap();
        assert_ne!(c, b);
    }

    #[test]
    fn only_lower_case_hex_of_hash_lengths_is_packed() {
        // Every byte value at every position of every hash length: packed
        // exactly when the string stays lower-case hex, and then to the
        // digits' values.
        let digits = b"0123456789abcdef";
        for len in [32, 40, 56, 64, 96, 128] {
            let hex: Vec<u8> = (0..len).map(|i| digits[(i * 7) % 16]).collect();
            for pos in [0, 1, len / 2, len - 1] {
                for byte in 0..=127u8 {
                    let mut v = hex.clone();
                    v[pos] = byte;
                    let text = String::from_utf8(v.clone()).unwrap();
                    let c = Canon::text(&text);
                    let is_hex = v.iter().all(|b| digits.contains(b));
                    assert_eq!(c.tag() == Tag::Hex, is_hex, "{text:?}");
                    if is_hex {
                        let want: Vec<u8> = v
                            .chunks(2)
                            .map(|p| {
                                let val =
                                    |d: u8| digits.iter().position(|&x| x == d).unwrap() as u8;
                                val(p[0]) << 4 | val(p[1])
                            })
                            .collect();
                        assert_eq!(c.bytes(), &want[..]);
                    } else {
                        assert_eq!(c.bytes(), text.as_bytes());
                    }
                }
            }
            // Other lengths never pack; a non-ASCII character never does.
            let short = String::from_utf8(hex[..len - 2].to_vec()).unwrap();
            assert_eq!(Canon::text(&short).tag(), Tag::Raw);
            let accented = format!("{}\u{e9}", &short);
            assert_eq!(accented.len(), len);
            assert_eq!(Canon::text(&accented).tag(), Tag::Raw);
        }
    }

    #[test]
    fn long_strings_get_their_own_pages() {
        let mut i: Interner<()> = Interner::new(Hasher::new());
        let long = "x".repeat(PAGE * 2 + 5);
        let a = i.intern(&Canon::text("before")).unwrap();
        let b = i.intern(&Canon::text(&long)).unwrap();
        let c = i.intern(&Canon::text("after")).unwrap();
        assert_eq!(i.get(a).to_text(), "before");
        assert_eq!(i.get(b).to_text(), long);
        assert_eq!(i.get(c).to_text(), "after");
        assert_eq!(i.find(&Canon::text(&long)), Some(b));
    }

    #[test]
    fn reserving_changes_nothing_but_capacity() {
        let mut i: Interner<u32> = Interner::new(Hasher::new());
        let before = i.intern(&Canon::text("before")).unwrap();
        for s in &mut i.shards {
            s.reserve(1000);
        }
        let ids: Vec<u32> = (0..5_000)
            .map(|n| i.intern(&Canon::text(&format!("v{n}"))).unwrap())
            .collect();
        assert_eq!(i.find(&Canon::text("before")), Some(before));
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(i.find(&Canon::text(&format!("v{n}"))), Some(*id));
        }
    }

    #[test]
    fn many_strings_survive_growth() {
        let mut i: Interner<u32> = Interner::new(Hasher::new());
        let ids: Vec<u32> = (0..20_000)
            .map(|n| i.intern(&Canon::text(&format!("v{n}"))).unwrap())
            .collect();
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(i.find(&Canon::text(&format!("v{n}"))), Some(*id));
            assert_eq!(i.get(*id).to_text(), format!("v{n}"));
        }
    }
}
