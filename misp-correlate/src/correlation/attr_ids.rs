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

use super::engine::{AttrRec, flag};
use super::intern::NONE;
use super::paged::Paged;

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
    /// Builds the index over the identities of the slots in `ext`,
    /// reading from `attrs` which slots are numeric and live. Returns the
    /// live slots whose identity an earlier live slot already has.
    pub(crate) fn build(ext: &Paged<u64>, attrs: &Paged<AttrRec>) -> (NumIndex, Vec<u32>) {
        let n = ext.len();
        let is_num = |s: usize| attrs.get(s).is_some_and(|r| !r.has(flag::EXT_STR));
        let live = |s: usize| attrs.get(s).is_some_and(|r| r.has(flag::LIVE));
        let id = |s: usize| ext.get(s).copied().unwrap_or(u64::MAX);
        // Page by page (both columns have pages of the same size): every
        // slot numeric, every identity above the one before it.
        let ascending = attrs.len() == n
            && ext
                .par_pages()
                .zip(attrs.par_pages())
                .all(|((first, ids), (_, recs))| {
                    // One pass: numeric, and above the identity before.
                    let mut before = first.checked_sub(1).map(id);
                    ids.len() == recs.len()
                        && ids.iter().zip(recs).all(|(&v, r)| {
                            let ok = !r.has(flag::EXT_STR) && before.is_none_or(|b| b < v);
                            before = Some(v);
                            ok
                        })
                });
        let covered = u32::try_from(n).unwrap_or(NONE);
        if ascending {
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
        order.par_sort_unstable_by_key(|&s| (id(s as usize), s));
        let mut losers = Vec::new();
        let mut kept = Vec::with_capacity(order.len());
        let mut last: Option<u64> = None;
        for s in order {
            let v = id(s as usize);
            if last == Some(v) {
                losers.push(s);
            } else {
                kept.push(s);
                last = Some(v);
            }
        }
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
    pub(crate) fn find(&self, id: u64, ext: &Paged<u64>) -> Option<u32> {
        if let Some(&s) = self.overlay.get(&id) {
            return Some(s);
        }
        let value = |s: u32| ext.get(s as usize).copied().unwrap_or(u64::MAX);
        match &self.order {
            None => interpolation_search(ext, self.covered as usize, id),
            Some(order) => {
                let at = order.partition_point(|&s| value(s) < id);
                order.get(at).copied().filter(|&s| value(s) == id)
            }
        }
    }

    /// Records that `slot` (the newest, `== ext.len() - 1`) has `id`.
    pub(crate) fn push(&mut self, id: u64, slot: u32, ext: &Paged<u64>) {
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

/// The position of `id` in the strictly ascending `ext[..end]`.
fn interpolation_search(ext: &Paged<u64>, end: usize, id: u64) -> Option<u32> {
    let at = interpolation_search_by(end, id, |i| ext.get(i).copied().unwrap_or(u64::MAX))?;
    u32::try_from(at).ok()
}

/// The position of `id` among the strictly ascending values
/// `value(0..end)`. Identities are usually dense (database ids, counters),
/// so the position is first guessed by interpolation, which needs one or
/// two probes where a binary search over millions of slots would need
/// twenty-odd (each a cache miss); a few guesses that do not converge fall
/// back to binary search. Values that do not ascend (a damaged snapshot)
/// give a wrong answer or `None`, never a panic or an endless loop.
pub(crate) fn interpolation_search_by(
    end: usize,
    id: u64,
    value: impl Fn(usize) -> u64,
) -> Option<usize> {
    if end == 0 || id < value(0) || id > value(end - 1) {
        return None;
    }
    let (mut lo, mut hi) = (0usize, end - 1);
    for _ in 0..4 {
        let (vlo, vhi) = (value(lo), value(hi));
        if id == vlo {
            return Some(lo);
        }
        if id == vhi {
            return Some(hi);
        }
        if hi - lo < 2 || vhi <= vlo || id < vlo || id > vhi {
            return None;
        }
        // lo < guess < hi, strictly inside because vlo < id < vhi.
        let span = (hi - lo) as u128;
        let guess = lo + ((u128::from(id - vlo) * span) / u128::from(vhi - vlo)) as usize;
        let guess = guess.clamp(lo + 1, hi - 1);
        let v = value(guess);
        if v == id {
            return Some(guess);
        }
        if v < id {
            lo = guess;
        } else {
            hi = guess;
        }
    }
    // Binary search of (lo, hi): value(lo) < id < value(hi).
    let (mut a, mut b) = (lo + 1, hi);
    while a < b {
        let mid = a + (b - a) / 2;
        if value(mid) < id {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    (a < hi && value(a) == id).then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use misp_core::AttributeType;

    fn columns(ids: &[u64]) -> (Paged<u64>, Paged<AttrRec>) {
        let mut ext = Paged::default();
        let mut attrs = Paged::default();
        let ty = AttributeType::from_name("text").unwrap();
        for &i in ids {
            ext.push(i);
            attrs.push(AttrRec {
                event: 0,
                object: NONE,
                k1: NONE,
                k2: NONE,
                sg: NONE,
                ty,
                distribution: 5,
                flags: flag::LIVE,
            });
        }
        (ext, attrs)
    }

    #[test]
    fn ascending_column_needs_no_copy() {
        let (ext, attrs) = columns(&[3, 5, 9]);
        let (ix, losers) = NumIndex::build(&ext, &attrs);
        assert!(losers.is_empty() && ix.order.is_none());
        assert_eq!(ix.find(5, &ext), Some(1));
        assert_eq!(ix.find(4, &ext), None);
        assert_eq!(ix.find(10, &ext), None);
    }

    #[test]
    fn interpolation_finds_every_identity() {
        // Dense, gapped, and skewed ascending identities.
        for ids in [
            (0..1000).collect::<Vec<u64>>(),
            (0..1000).map(|i| i * 7 + 3).collect(),
            (0..1000).map(|i| i * i * i).collect(),
            vec![5],
            vec![1, u64::MAX - 1],
        ] {
            let (ext, attrs) = columns(&ids);
            let (ix, _) = NumIndex::build(&ext, &attrs);
            for (slot, &id) in ids.iter().enumerate() {
                assert_eq!(ix.find(id, &ext), Some(slot as u32), "{id}");
                if id > 0 && !ids.contains(&(id - 1)) {
                    assert_eq!(ix.find(id - 1, &ext), None);
                }
                if !ids.contains(&(id + 1)) {
                    assert_eq!(ix.find(id + 1, &ext), None);
                }
            }
        }
    }

    #[test]
    fn ascent_is_checked_across_pages() {
        let page = crate::correlation::paged::PAGE as u64;
        let ids: Vec<u64> = (0..page + 5).map(|i| i * 2).collect();
        let (ext, attrs) = columns(&ids);
        let (ix, _) = NumIndex::build(&ext, &attrs);
        assert!(ix.order.is_none());
        // The first identity of the second page repeats the last of the
        // first page: not ascending, and that slot loses.
        let mut repeated = ids.clone();
        repeated[page as usize] = repeated[page as usize - 1];
        let (ext, attrs) = columns(&repeated);
        let (ix, losers) = NumIndex::build(&ext, &attrs);
        assert!(ix.order.is_some());
        assert_eq!(losers, vec![page as u32]);
        assert_eq!(ix.find(ids[page as usize + 1], &ext), Some(page as u32 + 1));
    }

    #[test]
    fn unordered_and_duplicates() {
        let (ext, attrs) = columns(&[9, 3, 9, 5]);
        let (ix, losers) = NumIndex::build(&ext, &attrs);
        assert_eq!(losers, vec![2]);
        assert_eq!(ix.find(9, &ext), Some(0));
        assert_eq!(ix.find(5, &ext), Some(3));
        assert_eq!(ix.find(1, &ext), None);
    }

    #[test]
    fn pushes_extend_or_overlay() {
        let (mut ext, attrs) = columns(&[1, 2]);
        let (mut ix, _) = NumIndex::build(&ext, &attrs);
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
