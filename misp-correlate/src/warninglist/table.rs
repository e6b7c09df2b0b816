//! Sets of list ids and the key → list-set hash table.
//!
//! All string lists of a matcher share one [`KeyTable`], and so do all
//! hostname lists: a key that occurs in several lists is stored once and maps
//! to the small set of lists that contain it. Keys live back to back in one
//! byte arena; the hash table holds 12-byte slots `(offset, length, set)`
//! next to one control byte each (hashbrown's layout), so a miss usually
//! touches only the control bytes.
//!
//! A set of list ids is a [`ListSetRef`]: one list is stored inline, several
//! lists are a run in a [`ListSetPool`].

use hashbrown::HashTable;

use super::ListId;
use super::hash::FoldHasher;
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

#[derive(Clone, Copy, Debug)]
struct Slot {
    start: u32,
    len: u32,
    set: ListSetRef,
}

/// An immutable map from byte-string keys to sets of lists.
#[derive(Debug)]
pub(crate) struct KeyTable {
    hasher: FoldHasher,
    arena: Vec<u8>,
    slots: HashTable<Slot>,
}

impl KeyTable {
    /// Whether the table holds no key.
    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Number of distinct keys.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    #[inline]
    fn key(&self, slot: &Slot) -> &[u8] {
        let start = slot.start as usize;
        self.arena
            .get(start..start + slot.len as usize)
            .unwrap_or(&[])
    }

    /// The key equal to `probe` byte for byte, with its lists.
    #[inline]
    pub(crate) fn get(&self, probe: &[u8]) -> Option<(&str, ListSetRef)> {
        let hash = self.hasher.hash(probe);
        let slot = self.slots.find(hash, |slot| self.key(slot) == probe)?;
        Some((self.key_str(slot), slot.set))
    }

    /// Calls `found` with every key equal to `probe` ignoring ASCII case.
    #[inline]
    pub(crate) fn for_each_ignore_case<'t>(
        &'t self,
        probe: &[u8],
        mut found: impl FnMut(&'t str, ListSetRef),
    ) {
        let hash = self.hasher.hash(probe);
        for slot in self.slots.iter_hash(hash) {
            if self.key(slot).eq_ignore_ascii_case(probe) {
                found(self.key_str(slot), slot.set);
            }
        }
    }

    #[inline]
    fn key_str(&self, slot: &Slot) -> &str {
        // Keys are copied from `&str` entries (or ASCII-lower-cased copies of
        // them), so they are always valid UTF-8.
        std::str::from_utf8(self.key(slot)).unwrap_or("")
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.slots.allocation_size()
    }
}

/// Builds a [`KeyTable`]: insert `(key, list)` pairs, then finish.
#[derive(Debug)]
pub(crate) struct KeyTableBuilder {
    hasher: FoldHasher,
    arena: Vec<u8>,
    slots: HashTable<Slot>,
    /// Sets of two or more lists, indexed by `Slot::set` while building.
    multi: Vec<Vec<ListId>>,
}

impl KeyTableBuilder {
    /// An empty builder sized for about `keys` keys.
    pub(crate) fn with_capacity(keys: usize) -> KeyTableBuilder {
        KeyTableBuilder {
            hasher: FoldHasher::random(),
            arena: Vec::with_capacity(keys * 16),
            slots: HashTable::with_capacity(keys),
            multi: Vec::new(),
        }
    }

    /// Adds `list` to the lists of `key`.
    pub(crate) fn insert(&mut self, key: &[u8], list: ListId) -> Result<()> {
        self.insert_with(list, |arena| arena.extend_from_slice(key))
    }

    /// Adds `list` to the lists of the ASCII-lower-cased `key`.
    pub(crate) fn insert_lowercase(&mut self, key: &[u8], list: ListId) -> Result<()> {
        self.insert_with(list, |arena| {
            arena.extend(key.iter().map(u8::to_ascii_lowercase))
        })
    }

    /// Writes the key at the end of the arena, then either keeps it (new
    /// key) or takes it back (known key).
    fn insert_with(&mut self, list: ListId, write: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let start = self.arena.len();
        write(&mut self.arena);
        let too_big = || Error::InvalidArgument("warninglists: more than 4 GiB of entries".into());
        let start32 = u32::try_from(start).map_err(|_| too_big())?;
        let len32 = u32::try_from(self.arena.len() - start).map_err(|_| too_big())?;
        if u32::try_from(self.arena.len()).is_err() {
            return Err(too_big());
        }
        let KeyTableBuilder {
            hasher,
            arena,
            slots,
            multi,
        } = self;
        let key = arena.get(start..).unwrap_or(&[]);
        let hash = hasher.hash(key);
        let key_of = |slot: &Slot| {
            let s = slot.start as usize;
            arena.get(s..s + slot.len as usize).unwrap_or(&[])
        };
        if let Some(slot) = slots.find_mut(hash, |slot| key_of(slot) == key) {
            if slot.set.0 & SINGLE != 0 {
                let first = ListId(slot.set.0 as u16);
                if first != list {
                    slot.set = ListSetRef(multi.len() as u32);
                    multi.push(vec![first, list]);
                }
            } else if let Some(lists) = multi.get_mut(slot.set.0 as usize) {
                // Entries of one list arrive together, so a repeat is last.
                if lists.last() != Some(&list) {
                    lists.push(list);
                }
            }
            arena.truncate(start);
            return Ok(());
        }
        let hasher = *hasher;
        slots.insert_unique(
            hash,
            Slot {
                start: start32,
                len: len32,
                set: ListSetRef::single(list),
            },
            |slot| {
                let s = slot.start as usize;
                hasher.hash(arena.get(s..s + slot.len as usize).unwrap_or(&[]))
            },
        );
        Ok(())
    }

    /// Interns the list sets into `pool` and returns the finished table.
    pub(crate) fn finish(self, pool: &mut ListSetPool) -> Result<KeyTable> {
        let KeyTableBuilder {
            hasher,
            mut arena,
            mut slots,
            multi,
        } = self;
        let mut interned = Vec::with_capacity(multi.len());
        for mut lists in multi {
            lists.sort_unstable();
            lists.dedup();
            interned.push(pool.intern(&lists)?);
        }
        for slot in slots.iter_mut() {
            if slot.set.0 & SINGLE == 0 {
                if let Some(&set) = interned.get(slot.set.0 as usize) {
                    slot.set = set;
                }
            }
        }
        arena.shrink_to_fit();
        slots.shrink_to_fit(|slot| {
            let s = slot.start as usize;
            hasher.hash(arena.get(s..s + slot.len as usize).unwrap_or(&[]))
        });
        Ok(KeyTable {
            hasher,
            arena,
            slots,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u16) -> ListId {
        ListId(n)
    }

    fn lists(pool: &ListSetPool, set: ListSetRef) -> Vec<u16> {
        pool.lists(set).map(|l| l.0).collect()
    }

    #[test]
    fn keys_map_to_sorted_list_sets() {
        let mut b = KeyTableBuilder::with_capacity(4);
        b.insert(b"example.com", id(3)).unwrap();
        b.insert(b"example.com", id(3)).unwrap();
        b.insert(b"example.com", id(1)).unwrap();
        b.insert(b"other.org", id(2)).unwrap();
        b.insert(b"EXAMPLE.com", id(5)).unwrap();
        let mut pool = ListSetPool::default();
        let t = b.finish(&mut pool).unwrap();
        assert_eq!(t.len(), 3);
        let (key, set) = t.get(b"example.com").unwrap();
        assert_eq!(key, "example.com");
        assert_eq!(lists(&pool, set), [1, 3]);
        assert_eq!(lists(&pool, t.get(b"other.org").unwrap().1), [2]);
        assert!(t.get(b"Example.com").is_none());
        assert!(t.get(b"example.co").is_none());

        let mut seen = Vec::new();
        t.for_each_ignore_case(b"Example.Com", |key, set| {
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
    fn lowercase_insert_and_interning() {
        let mut b = KeyTableBuilder::with_capacity(0);
        b.insert_lowercase(b"Example.COM", id(0)).unwrap();
        b.insert(b"a", id(0)).unwrap();
        b.insert(b"a", id(1)).unwrap();
        b.insert(b"b", id(0)).unwrap();
        b.insert(b"b", id(1)).unwrap();
        let mut pool = ListSetPool::default();
        let t = b.finish(&mut pool).unwrap();
        assert_eq!(t.get(b"example.com").unwrap().0, "example.com");
        let a = t.get(b"a").unwrap().1;
        let bb = t.get(b"b").unwrap().1;
        assert_eq!(a, bb, "identical sets are interned once");
        assert_eq!(lists(&pool, a), [0, 1]);
    }
}
