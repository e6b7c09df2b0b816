//! Open-addressing hash tables of `u32` values, laid out to be queried in
//! place in a memory map (engine snapshot format version 3).
//!
//! The table does not store keys: each bucket holds a `u32` (a string id,
//! a slot) and the caller checks a candidate by looking at what that value
//! names in the snapshot (the string's bytes, the slot's identity). That
//! keeps the table at five bytes per bucket and the key bytes stored once.
//!
//! ```text
//! u64 seed        the hash seed (`super::hash::hash`)
//! u64 buckets     a power of two >= 16, or 0 for an empty table
//! u64 entries     how many buckets are used (at most 3/4 of them)
//! buckets × u8    tags: 0 = empty, else 0x80 | hash >> 57
//! zero padding    to a multiple of 8
//! buckets × u32   values, little-endian
//! ```
//!
//! Lookup: bucket `hash & (buckets - 1)`, linear probing until an empty
//! tag, at most `buckets` steps even in a damaged file; a bucket whose tag
//! matches is a candidate. The writer inserts in order of home bucket, then
//! hash, then value, so the file depends only on the entries.

#![deny(unsafe_code)]

use std::ops::Range;

use super::format::{Mapped, align8, le_u32, le_u64};
use super::hash::{hash, table_buckets, tag_of};
use crate::Result;

/// Bytes before the tags: seed, bucket count, entry count.
pub(crate) const TABLE_HEADER: usize = 24;
/// The seed the writer uses ("mispkeys").
pub(crate) const SEED: u64 = 0x6d69_7370_6b65_7973;

/// Writes a table of `entries`, each `(hash with SEED, value)`.
pub(crate) fn write(mut entries: Vec<(u64, u32)>) -> Vec<u8> {
    let n = entries.len();
    let buckets = if n == 0 {
        0
    } else {
        (n + n / 3 + 1).next_power_of_two().max(16)
    };
    let mask = buckets.wrapping_sub(1);
    entries.sort_unstable_by_key(|&(h, v)| (h as usize & mask, h, v));
    let mut tags = vec![0u8; buckets];
    let mut values = vec![0u8; buckets * 4];
    for &(h, v) in &entries {
        let mut i = h as usize & mask;
        // `n < buckets`, so an empty bucket is always found.
        while tags.get(i).is_some_and(|&t| t != 0) {
            i = (i + 1) & mask;
        }
        if let (Some(t), Some(slot)) = (tags.get_mut(i), values.get_mut(i * 4..i * 4 + 4)) {
            *t = tag_of(h);
            slot.copy_from_slice(&v.to_le_bytes());
        }
    }
    let mut out = Vec::with_capacity(TABLE_HEADER + align8(buckets) + values.len());
    out.extend_from_slice(&SEED.to_le_bytes());
    out.extend_from_slice(&(buckets as u64).to_le_bytes());
    out.extend_from_slice(&(n as u64).to_le_bytes());
    out.extend_from_slice(&tags);
    out.resize(TABLE_HEADER + align8(buckets), 0);
    out.extend_from_slice(&values);
    out
}

/// A table in the file: where its parts lie in the map.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableView {
    seed: u64,
    mask: usize,
    tags: Range<usize>,
    values: Range<usize>,
    len: usize,
}

impl TableView {
    /// Checks the sizes of section `table_tag` (named `what` in errors).
    /// Reads only the header: no pass over the buckets.
    pub(crate) fn open(mapped: &Mapped, table_tag: u32, what: &str) -> Result<TableView> {
        let range = mapped.range(table_tag)?;
        let bytes = mapped.section(table_tag)?;
        let (Some(seed), Some(buckets), Some(len)) =
            (le_u64(bytes, 0), le_u64(bytes, 8), le_u64(bytes, 16))
        else {
            return Err(mapped.corrupt(format!("{what}: no table header")));
        };
        let Some(buckets) = table_buckets(buckets, TABLE_HEADER, 4, bytes.len()) else {
            return Err(mapped.corrupt(format!(
                "{what}: {buckets} buckets do not fit its {} bytes",
                bytes.len()
            )));
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > buckets {
            return Err(mapped.corrupt(format!("{what}: {len} entries in {buckets} buckets")));
        }
        let tags = range.start + TABLE_HEADER..range.start + TABLE_HEADER + buckets;
        let values = range.start + TABLE_HEADER + align8(buckets)..range.end;
        Ok(TableView {
            seed,
            mask: buckets.wrapping_sub(1),
            tags,
            values,
            len,
        })
    }

    /// The hash of `key` in this table.
    #[inline]
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        hash(self.seed, key)
    }

    /// The first value of a bucket with `hash`'s tag for which `is_it`
    /// holds.
    #[inline]
    pub(crate) fn find(
        &self,
        data: &[u8],
        hash: u64,
        mut is_it: impl FnMut(u32) -> bool,
    ) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let tags = data.get(self.tags.clone())?;
        let values = data.get(self.values.clone())?;
        let tag = tag_of(hash);
        let mut i = hash as usize & self.mask;
        // At most one pass over the table, even if a damaged file has no
        // empty bucket.
        for _ in 0..=self.mask {
            match tags.get(i) {
                Some(0) | None => return None,
                Some(&t) if t == tag => {
                    if let Some(v) = le_u32(values, i * 4).filter(|&v| is_it(v)) {
                        return Some(v);
                    }
                }
                Some(_) => {}
            }
            i = (i + 1) & self.mask;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::SnapshotKind;
    use crate::snapshot::format::Writer;

    fn mapped(table: Vec<u8>) -> Result<Mapped> {
        let mut w = Writer::default();
        w.section(7, table);
        Mapped::from_vec(
            std::path::Path::new("t.snap"),
            w.finish(SnapshotKind::Engine),
            SnapshotKind::Engine,
        )
    }

    #[test]
    fn finds_every_entry_and_nothing_else() {
        let keys: Vec<String> = (0..1000).map(|i| format!("key-{i}")).collect();
        let entries = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (hash(SEED, k.as_bytes()), i as u32))
            .collect();
        let m = mapped(write(entries)).unwrap();
        let t = TableView::open(&m, 7, "test table").unwrap();
        let find = |k: &str| {
            t.find(m.data(), t.hash(k.as_bytes()), |v| {
                keys.get(v as usize).is_some_and(|x| x == k)
            })
        };
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(find(k), Some(i as u32));
        }
        assert_eq!(find("key-1000"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn empty_and_damaged_tables() {
        let m = mapped(write(Vec::new())).unwrap();
        let t = TableView::open(&m, 7, "empty").unwrap();
        assert_eq!(t.find(m.data(), 42, |_| true), None);
        // Bucket count that does not fit the section.
        let mut bad = write(vec![(1, 1), (2, 2)]);
        bad[8] = 32;
        let m = mapped(bad).unwrap();
        assert!(TableView::open(&m, 7, "bad").is_err());
        // Every tag set (no empty bucket): lookups still end.
        let mut full = write(vec![(1, 1)]);
        for t in &mut full[TABLE_HEADER..TABLE_HEADER + 16] {
            *t = 0xff;
        }
        let m = mapped(full).unwrap();
        let t = TableView::open(&m, 7, "full").unwrap();
        assert_eq!(t.find(m.data(), u64::MAX, |_| false), None);
        // Too short for a header.
        let m = mapped(vec![0; 8]).unwrap();
        assert!(TableView::open(&m, 7, "short").is_err());
    }
}
