//! Sharded string interning.
//!
//! Every distinct string the engine sees (normalised values, match keys,
//! attribute identities) is stored once, in the arena of one of
//! [`SHARDS`] shards chosen by the string's hash, and named by a `u32`
//! *string id* (`local << SHARD_BITS | shard`). Each shard owns its arena,
//! its spans, a per-string payload (`T`: the key's posting list, or the
//! slot of the attribute with that identity) and a `hashbrown` table of
//! local ids. Shards are independent, so the bulk builder interns in
//! parallel (one lock per shard, taken once per chunk) and later walks
//! the shards in parallel without locks.
//!
//! Strings have a *canonical encoding*:
//! * lower-case hex strings of the lengths of MISP's hash types (md5,
//!   sha1, sha224, sha256, sha384, sha512: 32 to 128 digits) are stored
//!   as fixed-size binary (half the bytes);
//! * numeric identities are stored as their 8 big-endian bytes;
//! * everything else is stored as its UTF-8 bytes.
//!
//! The tag is part of equality, so a hash and a string that happens to
//! have the same bytes never collide.

use std::borrow::Cow;

use hashbrown::HashTable;

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
    /// A numeric identity, 8 big-endian bytes.
    Num = 2,
}

impl Tag {
    fn from_bits(bits: u32) -> Tag {
        match bits {
            1 => Tag::Hex,
            2 => Tag::Num,
            _ => Tag::Raw,
        }
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
        if matches!(b.len(), 32 | 40 | 56 | 64 | 96 | 128)
            && b.iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        {
            let mut buf = [0u8; 64];
            for (out, pair) in buf.iter_mut().zip(b.chunks_exact(2)) {
                *out = (hex_val(pair[0]) << 4) | hex_val(pair[1]);
            }
            return Canon {
                tag: Tag::Hex,
                bytes: CanonBytes::Packed {
                    buf,
                    len: (b.len() / 2) as u8,
                },
            };
        }
        Canon {
            tag: Tag::Raw,
            bytes: CanonBytes::Borrowed(b),
        }
    }

    /// The canonical encoding of a numeric identity.
    pub(crate) fn num(n: u64) -> Canon<'static> {
        let mut buf = [0u8; 64];
        buf[..8].copy_from_slice(&n.to_be_bytes());
        Canon {
            tag: Tag::Num,
            bytes: CanonBytes::Packed { buf, len: 8 },
        }
    }

    /// The canonical encoding of a string identity (never packed).
    pub(crate) fn raw(s: &'a str) -> Canon<'a> {
        Canon {
            tag: Tag::Raw,
            bytes: CanonBytes::Borrowed(s.as_bytes()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.bytes {
            CanonBytes::Borrowed(b) => b,
            CanonBytes::Packed { buf, len } => &buf[..usize::from(*len)],
        }
    }
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    }
}

/// A stored string, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored<'a> {
    /// Text (raw or packed hex).
    Text(&'a [u8], Tag),
    /// A numeric identity.
    Num(u64),
}

impl<'a> Stored<'a> {
    /// The text form (hex expanded). Numeric identities print in decimal.
    pub(crate) fn to_text(self) -> Cow<'a, str> {
        match self {
            Stored::Text(b, Tag::Hex) => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                let mut s = String::with_capacity(b.len() * 2);
                for &x in b {
                    s.push(char::from(DIGITS[usize::from(x >> 4)]));
                    s.push(char::from(DIGITS[usize::from(x & 15)]));
                }
                Cow::Owned(s)
            }
            Stored::Text(b, _) => String::from_utf8_lossy(b),
            Stored::Num(n) => Cow::Owned(n.to_string()),
        }
    }

    /// The raw text, when it is stored as text (not packed, not numeric).
    pub(crate) fn as_raw_str(self) -> Option<&'a str> {
        match self {
            Stored::Text(b, Tag::Raw) => std::str::from_utf8(b).ok(),
            _ => None,
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

/// One shard: an arena of string bytes, the spans of its strings, a
/// payload per string and a hash table of local ids.
#[derive(Debug, Default)]
pub(crate) struct Shard<T> {
    arena: Vec<u8>,
    spans: Vec<Span>,
    /// Per-string payload, indexed by local id.
    pub(crate) payload: Vec<T>,
    table: HashTable<u32>,
}

impl<T: Default> Shard<T> {
    fn eq_at(arena: &[u8], spans: &[Span], local: u32, canon: &Canon<'_>) -> bool {
        match spans.get(local as usize) {
            Some(sp) => {
                sp.tag() == canon.tag
                    && arena
                        .get(sp.offset as usize..sp.offset as usize + sp.len())
                        .is_some_and(|b| b == canon.bytes())
            }
            None => false,
        }
    }

    /// The local id of `canon`, if interned.
    pub(crate) fn find(&self, hash: u64, canon: &Canon<'_>) -> Option<u32> {
        let (arena, spans) = (&self.arena, &self.spans);
        self.table
            .find(hash, |&l| Self::eq_at(arena, spans, l, canon))
            .copied()
    }

    /// The local id of `canon`, interning it if new (the flag says
    /// whether it was). `rehash` recomputes the hash of a stored string
    /// (used when the table grows).
    pub(crate) fn intern(
        &mut self,
        hash: u64,
        canon: &Canon<'_>,
        rehash: &impl Fn(Tag, &[u8]) -> u64,
    ) -> Result<(u32, bool)> {
        if let Some(l) = self.find(hash, canon) {
            return Ok((l, false));
        }
        let bytes = canon.bytes();
        let local = self.spans.len();
        if local > MAX_LOCAL as usize {
            return Err(Error::InvalidArgument(
                "too many distinct strings for one engine".into(),
            ));
        }
        let offset = u32::try_from(self.arena.len())
            .ok()
            .filter(|o| o.checked_add(bytes.len() as u32).is_some() && bytes.len() <= MAX_LEN)
            .ok_or_else(|| {
                Error::InvalidArgument("string storage of one shard exceeds 4 GiB".into())
            })?;
        self.arena.extend_from_slice(bytes);
        self.spans.push(Span {
            offset,
            len_tag: bytes.len() as u32 | ((canon.tag as u32) << 30),
        });
        self.payload.push(T::default());
        let local = local as u32;
        let (arena, spans) = (&self.arena, &self.spans);
        self.table
            .insert_unique(hash, local, |&l| match spans.get(l as usize) {
                Some(sp) => rehash(
                    sp.tag(),
                    arena
                        .get(sp.offset as usize..sp.offset as usize + sp.len())
                        .unwrap_or(&[]),
                ),
                None => 0,
            });
        Ok((local, true))
    }

    /// The stored string with local id `local`.
    pub(crate) fn get(&self, local: u32) -> Stored<'_> {
        let Some(sp) = self.spans.get(local as usize) else {
            return Stored::Text(&[], Tag::Raw);
        };
        let b = self
            .arena
            .get(sp.offset as usize..sp.offset as usize + sp.len())
            .unwrap_or(&[]);
        match sp.tag() {
            Tag::Num => {
                let mut n = [0u8; 8];
                if b.len() == 8 {
                    n.copy_from_slice(b);
                }
                Stored::Num(u64::from_be_bytes(n))
            }
            t => Stored::Text(b, t),
        }
    }
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
        let hasher = &self.hasher;
        let rehash = |t: Tag, b: &[u8]| hasher.hash_stored(t, b);
        let s = self
            .shards
            .get_mut(shard)
            .ok_or_else(|| Error::InvalidArgument("shard out of range".into()))?;
        s.intern(h, canon, &rehash).map(|(l, _)| sid(shard, l))
    }

    /// The stored string `id`.
    pub(crate) fn get(&self, id: u32) -> Stored<'_> {
        let (shard, local) = split(id);
        match self.shards.get(shard) {
            Some(s) => s.get(local),
            None => Stored::Text(&[], Tag::Raw),
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
        let c = i.intern(&Canon::num(42)).unwrap();
        assert_eq!(i.intern(&Canon::text("hello")).unwrap(), a);
        assert_eq!(i.find(&Canon::text(md5)), Some(b));
        assert_eq!(i.get(a).to_text(), "hello");
        assert_eq!(i.get(b).to_text(), md5);
        assert!(matches!(i.get(b), Stored::Text(bytes, Tag::Hex) if bytes.len() == 16));
        assert_eq!(i.get(c), Stored::Num(42));
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
        let n = i.intern(&Canon::num(7)).unwrap();
        let s = i.intern(&Canon::raw("7")).unwrap();
        assert_ne!(n, s);
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
