//! A substring searcher for small sets of patterns that contain a dot.
//!
//! The substring lists that apply to domains and URLs hold domain names
//! (`app.any.run`, `virustotal.com`, …). Every occurrence of such a pattern
//! in a value puts the pattern's first dot on a dot of the value, with the
//! pattern's two bytes before and after that dot around it. So the value's
//! dots are found eight bytes at a time, the four bytes around each are
//! looked up in a 4,096-bit filter of the patterns' *anchors*, and only the
//! few patterns whose anchor is exactly those four bytes are compared. A
//! value of 30 bytes with three dots costs a few dozen instructions, where
//! a general searcher (Teddy, Rabin-Karp for short values) costs hundreds.
//!
//! [`DotAnchors::find`] answers like a leftmost-first Aho-Corasick search:
//! the occurrence that starts first, and among those the pattern given
//! first.

use super::host;

/// Bits of the anchor filter's index.
const FILTER_BITS: u32 = 12;

/// The anchor of a dot at `dot` in `bytes`: the two bytes before it and
/// the two after it, or `None` when the dot has fewer on either side.
#[inline]
fn anchor(bytes: &[u8], dot: usize) -> Option<u32> {
    let around = bytes.get(dot.checked_sub(2)?..)?;
    let &[a, b, _, c, d] = around.first_chunk::<5>()?;
    Some(u32::from_le_bytes([a, b, c, d]))
}

/// The filter position of an anchor.
#[inline]
fn filter_bit(anchor: u32) -> (usize, u64) {
    let at = anchor.wrapping_mul(0x9e37_79b1) >> (32 - FILTER_BITS);
    ((at / 64) as usize, 1u64 << (at % 64))
}

/// The patterns of one searcher, indexed by the anchor of their first
/// dot.
#[derive(Clone, Debug)]
pub(crate) struct DotAnchors {
    /// One bit per filter position: some pattern's anchor maps to it.
    filter: Vec<u64>,
    /// `(anchor, offset of the anchor dot, pattern index, pattern)`,
    /// sorted by anchor.
    anchors: Vec<(u32, usize, usize, Box<[u8]>)>,
}

impl DotAnchors {
    /// A searcher for `patterns` (pattern index = position), or `None`
    /// when some pattern has no dot with two bytes on each side.
    pub(crate) fn build<'p>(patterns: impl IntoIterator<Item = &'p [u8]>) -> Option<DotAnchors> {
        let mut filter = vec![0u64; (1 << FILTER_BITS) / 64];
        let mut anchors = Vec::new();
        for (index, pattern) in patterns.into_iter().enumerate() {
            let dot = host::find_byte(pattern, b'.')?;
            let key = anchor(pattern, dot)?;
            let (word, bit) = filter_bit(key);
            if let Some(w) = filter.get_mut(word) {
                *w |= bit;
            }
            anchors.push((key, dot, index, Box::from(pattern)));
        }
        anchors.sort_by_key(|(key, _, index, _)| (*key, *index));
        Some(DotAnchors { filter, anchors })
    }

    /// The index of the pattern a leftmost-first search finds in
    /// `haystack`: the occurrence that starts first, ties going to the
    /// lower pattern index.
    #[inline]
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        // (start, pattern index) of the best occurrence so far.
        let mut best: Option<(usize, usize)> = None;
        host::for_each_byte(haystack, b'.', |dot| {
            let Some(key) = anchor(haystack, dot) else {
                return;
            };
            let (word, bit) = filter_bit(key);
            if self.filter.get(word).is_none_or(|w| w & bit == 0) {
                return;
            }
            let from = self.anchors.partition_point(|(k, ..)| *k < key);
            let same = self.anchors.get(from..).unwrap_or(&[]);
            for (_, offset, index, pattern) in same.iter().take_while(|(k, ..)| *k == key) {
                let Some(start) = dot.checked_sub(*offset) else {
                    continue;
                };
                if best.is_some_and(|b| b <= (start, *index)) {
                    continue;
                }
                if haystack.get(start..start + pattern.len()) == Some(&pattern[..]) {
                    best = Some((start, *index));
                }
            }
        });
        best.map(|(_, index)| index)
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.filter.capacity() * 8
            + self
                .anchors
                .iter()
                .map(|(.., p)| p.len() + 40)
                .sum::<usize>()
    }
}

/// The union of several searchers' anchor filters.
///
/// A value none of whose dots has its anchor in the union contains no
/// pattern of any of the searchers, so one scan of its dots rules them all
/// out (most values contain none: a domain that two lists' searchers would
/// each scan is scanned once).
#[derive(Clone, Debug, Default)]
pub(crate) struct AnchorUnion {
    /// The searchers' filters, or'ed; empty when there is none.
    filter: Vec<u64>,
}

impl AnchorUnion {
    /// Adds `searcher`'s anchors.
    pub(crate) fn add(&mut self, searcher: &DotAnchors) {
        self.filter
            .resize(searcher.filter.len().max(self.filter.len()), 0);
        for (word, theirs) in self.filter.iter_mut().zip(&searcher.filter) {
            *word |= theirs;
        }
    }

    /// Whether some searcher added could find a pattern in `haystack`:
    /// `false` only when none can.
    #[inline]
    pub(crate) fn may_match(&self, haystack: &[u8]) -> bool {
        let mut admitted = false;
        host::for_each_byte(haystack, b'.', |dot| {
            if let Some(key) = anchor(haystack, dot) {
                let (word, bit) = filter_bit(key);
                admitted |= self.filter.get(word).is_some_and(|w| w & bit != 0);
            }
        });
        admitted
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.filter.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use aho_corasick::{AhoCorasick, MatchKind};
    use proptest::prelude::*;

    use super::*;

    fn leftmost_first(patterns: &[&str], haystack: &str) -> Option<usize> {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(patterns)
            .unwrap()
            .find(haystack)
            .map(|m| m.pattern().as_usize())
    }

    fn searcher(patterns: &[&str]) -> Option<DotAnchors> {
        DotAnchors::build(patterns.iter().map(|p| p.as_bytes()))
    }

    #[test]
    fn finds_like_leftmost_first_aho_corasick() {
        let patterns = [
            "app.any.run",
            "any.run",
            "virustotal.com",
            "tria.ge",
            "52.168.52.134",
            "al.com",
            "otal.com",
        ];
        let d = searcher(&patterns).unwrap();
        for haystack in [
            "",
            "app.any.run",
            "https://app.any.run/tasks",
            "xany.run",
            "www.virustotal.com",
            "virustotal.co",
            "http://tria.ge/x.virustotal.com",
            "52.168.52.134",
            "52.168.52.13",
            "portal.com",
            "totalvirustotal.com",
            "a.b.c.d.e.f.g.h.i.j.tria.ge",
            ".......",
        ] {
            assert_eq!(
                d.find(haystack.as_bytes()),
                leftmost_first(&patterns, haystack),
                "{haystack:?}"
            );
        }
    }

    #[test]
    fn patterns_without_an_anchor_are_refused() {
        assert!(searcher(&["example.com", "nodot"]).is_none());
        assert!(searcher(&["a.com"]).is_none());
        assert!(searcher(&["example.c"]).is_none());
        assert!(searcher(&[".com"]).is_none());
        assert!(searcher(&["ab.cd"]).is_some());
    }

    proptest! {
        #[test]
        fn agrees_with_aho_corasick(
            patterns in prop::collection::vec("[ab]{2,3}\\.[ab.]{2,4}", 1..6),
            haystack in "[ab./]{0,24}",
        ) {
            let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
            let d = searcher(&refs).unwrap();
            prop_assert_eq!(d.find(haystack.as_bytes()), leftmost_first(&refs, &haystack));
        }

        #[test]
        fn a_union_admits_every_value_a_searcher_finds_in(
            first in prop::collection::vec("[ab]{2,3}\\.[ab.]{2,4}", 1..4),
            second in prop::collection::vec("[bc]{2,3}\\.[bc.]{2,4}", 1..4),
            haystack in "[abc./]{0,24}",
        ) {
            let mut union = AnchorUnion::default();
            prop_assert!(!union.may_match(haystack.as_bytes()));
            let searchers: Vec<DotAnchors> = [&first, &second]
                .iter()
                .map(|p| searcher(&p.iter().map(String::as_str).collect::<Vec<_>>()).unwrap())
                .collect();
            for s in &searchers {
                union.add(s);
            }
            let found = searchers.iter().any(|s| s.find(haystack.as_bytes()).is_some());
            prop_assert!(!found || union.may_match(haystack.as_bytes()));
        }
    }

    #[test]
    fn a_union_turns_away_values_without_a_pattern_anchor() {
        let mut union = AnchorUnion::default();
        union.add(&searcher(&["app.any.run", "tria.ge"]).unwrap());
        union.add(&searcher(&["portal.docdeliveryapp.com"]).unwrap());
        assert!(union.may_match(b"https://app.any.run/x"));
        assert!(union.may_match(b"portal.docdeliveryapp.com"));
        // The anchors `al.do`, `ia.ge`, `pp.an` are nowhere.
        assert!(!union.may_match(b"www.example.com"));
        assert!(!union.may_match(b"nodots"));
        assert!(!union.may_match(b""));
    }
}
