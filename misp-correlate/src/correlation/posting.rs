//! A key's posting list: the sorted slots of the attributes carrying it.
//!
//! Most keys are carried by one to three attributes, so a posting keeps
//! up to three slots inline and only longer lists on the heap. It is 16
//! bytes, paid by every interned string.

/// Slots kept without allocating.
const INLINE: usize = 3;

/// A sorted set of attribute slots.
#[derive(Debug, Clone)]
pub(crate) enum Posting {
    /// Up to [`INLINE`] slots.
    Inline { len: u8, slots: [u32; INLINE] },
    /// More. Boxed so that the enum stays at 16 bytes (a `Vec` alone is
    /// 24); the extra indirection is paid by long postings only.
    #[allow(clippy::box_collection)]
    Heap(Box<Vec<u32>>),
}

impl Default for Posting {
    fn default() -> Self {
        Posting::Inline {
            len: 0,
            slots: [0; INLINE],
        }
    }
}

impl Posting {
    /// The slots, ascending.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Posting::Inline { len, slots } => slots.get(..usize::from(*len)).unwrap_or(&[]),
            Posting::Heap(v) => v.as_slice(),
        }
    }

    /// Number of slots.
    pub(crate) fn len(&self) -> usize {
        self.as_slice().len()
    }

    /// Whether there is none.
    pub(crate) fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }

    /// Adds `slot` (no-op if present); appending a slot larger than all
    /// is the fast path (inline; the rest is out of line).
    #[inline]
    pub(crate) fn insert(&mut self, slot: u32) {
        // Slots usually come in ascending order (always in a bulk build):
        // appended without a search or a shift.
        match self {
            Posting::Inline { len, slots } => {
                let n = usize::from(*len);
                let after_last = n == 0 || slots.get(n - 1).is_some_and(|&l| l < slot);
                if after_last && let Some(free) = slots.get_mut(n) {
                    *free = slot;
                    *len += 1;
                    return;
                }
            }
            Posting::Heap(v) => {
                if v.last().is_some_and(|&l| l < slot) {
                    v.push(slot);
                    return;
                }
            }
        }
        self.insert_slow(slot);
    }

    /// [`Posting::insert`] of a slot that does not simply go last in place.
    #[inline(never)]
    fn insert_slow(&mut self, slot: u32) {
        let at = match self.as_slice().binary_search(&slot) {
            Ok(_) => return,
            Err(i) => i,
        };
        match self {
            Posting::Inline { len, slots } if usize::from(*len) < INLINE => {
                let n = usize::from(*len);
                let mut i = n;
                while i > at {
                    slots[i] = slots[i - 1];
                    i -= 1;
                }
                slots[at] = slot;
                *len += 1;
            }
            Posting::Inline { len, slots } => {
                let mut v = Vec::with_capacity(2 * INLINE + 2);
                v.extend_from_slice(slots.get(..usize::from(*len)).unwrap_or(&[]));
                v.insert(at, slot);
                *self = Posting::Heap(Box::new(v));
            }
            Posting::Heap(v) => v.insert(at, slot),
        }
    }

    /// Removes `slot` (no-op if absent).
    pub(crate) fn remove(&mut self, slot: u32) {
        let Ok(at) = self.as_slice().binary_search(&slot) else {
            return;
        };
        match self {
            Posting::Inline { len, slots } => {
                let n = usize::from(*len);
                for i in at..n - 1 {
                    slots[i] = slots[i + 1];
                }
                *len -= 1;
            }
            Posting::Heap(v) => {
                v.remove(at);
                if v.len() <= INLINE {
                    let mut slots = [0; INLINE];
                    slots[..v.len()].copy_from_slice(v);
                    *self = Posting::Inline {
                        len: v.len() as u8,
                        slots,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size() {
        assert_eq!(std::mem::size_of::<Posting>(), 16);
    }

    #[test]
    fn stays_sorted_through_spill_and_shrink() {
        let mut p = Posting::default();
        let mut model: Vec<u32> = Vec::new();
        for (add, x) in [
            (true, 5),
            (true, 1),
            (true, 3),
            (true, 3),
            (true, 9),
            (true, 0),
            (false, 3),
            (false, 7),
            (true, 4),
            (false, 9),
            (false, 0),
            (false, 5),
            (true, 2),
        ] {
            if add {
                p.insert(x);
                if let Err(i) = model.binary_search(&x) {
                    model.insert(i, x);
                }
            } else {
                p.remove(x);
                model.retain(|&y| y != x);
            }
            assert_eq!(p.as_slice(), model.as_slice());
        }
        assert_eq!(p.len(), 3);
        assert!(matches!(p, Posting::Inline { .. }));
    }
}
