//! Attribute identities ↔ slots.
//!
//! Every slot's identity is one `u64` in the `ext` column: the number
//! itself for a numeric identity, or the string id of a string identity
//! (flag [`EXT_STR`](super::engine::flag::EXT_STR) of the record says
//! which). The reverse maps:
//!
//! * string identities (uuids) are interned; a string's payload is its
//!   slot;
//! * numeric identities need no second copy in the common case where they
//!   ascend with the slots (MISP's database ids, generated corpora): the
//!   column itself is binary-searched. Otherwise a permutation of the
//!   slots sorted by number is kept (4 bytes per attribute), and numbers
//!   added out of order later go to a small overlay map.

use ahash::AHashMap;
use rayon::prelude::*;

use super::intern::NONE;

/// Index from numeric identities to slots.
#[derive(Debug, Default)]
pub(crate) struct NumIndex {
    /// Slots `0..covered` are found through the base index.
    covered: u32,
    /// `None`: the numeric identities of slots `0..covered` strictly
    /// ascend with the slot (and no slot there has a string identity).
    /// `Some(order)`: the numeric slots of `0..covered`, sorted by
    /// (identity, slot).
    order: Option<Vec<u32>>,
    /// Identities added later that do not extend the ascending column.
    overlay: AHashMap<u64, u32>,
}

impl NumIndex {
    /// Builds the index over `ext[..]` (with `is_num(slot)` telling the
    /// numeric slots and `live(slot)` the ones that hold an attribute).
    /// Returns the live slots whose identity an earlier live slot already
    /// has.
    pub(crate) fn build(
        ext: &[u64],
        is_num: impl Fn(usize) -> bool + Sync,
        live: impl Fn(usize) -> bool + Sync,
    ) -> (NumIndex, Vec<u32>) {
        let n = ext.len();
        let ascending = (0..n)
            .into_par_iter()
            .all(|s| is_num(s) && (s == 0 || ext[s - 1] < ext[s]));
        if ascending {
            let covered = u32::try_from(n).unwrap_or(NONE);
            return (
                NumIndex {
                    covered,
                    order: None,
                    overlay: AHashMap::new(),
                },
                Vec::new(),
            );
        }
        let mut order: Vec<u32> = (0..n as u32)
            .into_par_iter()
            .filter(|&s| is_num(s as usize) && live(s as usize))
            .collect();
        order.par_sort_unstable_by_key(|&s| (ext.get(s as usize).copied().unwrap_or(u64::MAX), s));
        let mut losers = Vec::new();
        let mut kept = Vec::with_capacity(order.len());
        let mut last: Option<u64> = None;
        for s in order {
            let id = ext.get(s as usize).copied().unwrap_or(u64::MAX);
            if last == Some(id) {
                losers.push(s);
            } else {
                kept.push(s);
                last = Some(id);
            }
        }
        let covered = u32::try_from(n).unwrap_or(NONE);
        (
            NumIndex {
                covered,
                order: Some(kept),
                overlay: AHashMap::new(),
            },
            losers,
        )
    }

    /// The slot last given identity `id`, if any (the caller checks that
    /// it is still live).
    pub(crate) fn find(&self, id: u64, ext: &[u64]) -> Option<u32> {
        if let Some(&s) = self.overlay.get(&id) {
            return Some(s);
        }
        let covered = ext.get(..self.covered as usize)?;
        match &self.order {
            None => covered.binary_search(&id).ok().map(|i| i as u32),
            Some(order) => {
                let at = order
                    .partition_point(|&s| ext.get(s as usize).copied().unwrap_or(u64::MAX) < id);
                order
                    .get(at)
                    .copied()
                    .filter(|&s| ext.get(s as usize) == Some(&id))
            }
        }
    }

    /// Records that `slot` (the newest, `== ext.len() - 1`) has `id`.
    pub(crate) fn push(&mut self, id: u64, slot: u32, ext: &[u64]) {
        let extends = self.order.is_none()
            && slot == self.covered
            && self.overlay.is_empty()
            && (slot == 0 || ext.get(slot as usize - 1).is_some_and(|&prev| prev < id));
        if extends {
            self.covered += 1;
        } else {
            self.overlay.insert(id, slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascending_column_needs_no_copy() {
        let ext = vec![3, 5, 9];
        let (ix, losers) = NumIndex::build(&ext, |_| true, |_| true);
        assert!(losers.is_empty() && ix.order.is_none());
        assert_eq!(ix.find(5, &ext), Some(1));
        assert_eq!(ix.find(4, &ext), None);
    }

    #[test]
    fn unordered_and_duplicates() {
        let ext = vec![9, 3, 9, 5];
        let (ix, losers) = NumIndex::build(&ext, |_| true, |_| true);
        assert_eq!(losers, vec![2]);
        assert_eq!(ix.find(9, &ext), Some(0));
        assert_eq!(ix.find(5, &ext), Some(3));
        assert_eq!(ix.find(1, &ext), None);
    }

    #[test]
    fn pushes_extend_or_overlay() {
        let mut ext = vec![1, 2];
        let (mut ix, _) = NumIndex::build(&ext, |_| true, |_| true);
        ext.push(10);
        ix.push(10, 2, &ext);
        assert!(ix.overlay.is_empty());
        ext.push(4);
        ix.push(4, 3, &ext);
        assert_eq!(ix.find(4, &ext), Some(3));
        assert_eq!(ix.find(10, &ext), Some(2));
        // Re-adding an identity later: the newest slot wins.
        ext.push(1);
        ix.push(1, 4, &ext);
        assert_eq!(ix.find(1, &ext), Some(4));
    }
}
