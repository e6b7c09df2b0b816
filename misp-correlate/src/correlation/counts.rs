//! Per-event counts of a set of attributes, and what follows from them.
//!
//! For a key k with attribute set S (contract §6), the over-correlation
//! test needs `max over a in S of |others(a)|`, where `others(a)` are the
//! members of S in other events. That maximum is `|S| - c_min`, `c_min`
//! the smallest number of members any one event present in S has. The
//! number of cross-event pairs is `(|S|² - Σ_e c_e²) / 2`. So three
//! numbers describe a set completely for our purposes: [`SetStats`].
//!
//! Small sets get their stats by a scan ([`SetStats::from_events`]); big
//! ones keep [`EventCounts`] up to date, a per-event count map plus a
//! histogram of counts, which gives `c_min` in `O(log)` after any change.

use std::collections::BTreeMap;

use ahash::AHashMap;

/// Size, smallest per-event count and sum of squared per-event counts of
/// a set of attributes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SetStats {
    /// Members.
    pub(crate) n: u64,
    /// Smallest per-event count among the events present (0 when empty).
    pub(crate) min_count: u64,
    /// Σ over events of count².
    pub(crate) sum_sq: u64,
}

impl SetStats {
    /// Stats of a set given its members' events (in any order). `scratch`
    /// is reused to avoid allocating.
    pub(crate) fn from_events(
        events: impl Iterator<Item = u32>,
        scratch: &mut Vec<u32>,
    ) -> SetStats {
        scratch.clear();
        scratch.extend(events);
        scratch.sort_unstable();
        let mut stats = SetStats {
            n: scratch.len() as u64,
            min_count: 0,
            sum_sq: 0,
        };
        let mut i = 0;
        while i < scratch.len() {
            let e = scratch[i];
            let mut j = i + 1;
            while j < scratch.len() && scratch[j] == e {
                j += 1;
            }
            let c = (j - i) as u64;
            stats.sum_sq += c * c;
            stats.min_count = if stats.min_count == 0 {
                c
            } else {
                stats.min_count.min(c)
            };
            i = j;
        }
        stats
    }

    /// `max over a of |others(a)|`.
    pub(crate) fn max_others(&self) -> u64 {
        self.n - self.min_count
    }

    /// Whether the set is over-correlating under `limit` (§6).
    pub(crate) fn over(&self, limit: Option<u32>) -> bool {
        limit.is_some_and(|l| self.max_others() > u64::from(l))
    }

    /// Number of unordered cross-event pairs.
    pub(crate) fn pairs(&self) -> u64 {
        (self.n * self.n - self.sum_sq) / 2
    }
}

/// Incrementally maintained per-event counts of a set of attributes.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventCounts {
    counts: AHashMap<u32, u32>,
    /// count → number of events with that count.
    histogram: BTreeMap<u32, u32>,
    n: u64,
    sum_sq: u64,
}

impl EventCounts {
    /// Counts of the given members' events.
    pub(crate) fn from_events(events: impl Iterator<Item = u32>) -> EventCounts {
        let mut c = EventCounts::default();
        for e in events {
            *c.counts.entry(e).or_insert(0) += 1;
        }
        for &k in c.counts.values() {
            *c.histogram.entry(k).or_insert(0) += 1;
            c.n += u64::from(k);
            c.sum_sq += u64::from(k) * u64::from(k);
        }
        c
    }

    fn hist_dec(&mut self, count: u32) {
        if let Some(h) = self.histogram.get_mut(&count) {
            *h -= 1;
            if *h == 0 {
                self.histogram.remove(&count);
            }
        }
    }

    /// A member in `event` joins.
    pub(crate) fn add(&mut self, event: u32) {
        let c = self.counts.entry(event).or_insert(0);
        let old = *c;
        *c += 1;
        if old > 0 {
            self.hist_dec(old);
        }
        *self.histogram.entry(old + 1).or_insert(0) += 1;
        self.n += 1;
        self.sum_sq += 2 * u64::from(old) + 1;
    }

    /// A member in `event` leaves (no-op if the event has none).
    pub(crate) fn remove(&mut self, event: u32) {
        let Some(c) = self.counts.get_mut(&event) else {
            return;
        };
        let old = *c;
        *c -= 1;
        if *c == 0 {
            self.counts.remove(&event);
        }
        self.hist_dec(old);
        if old > 1 {
            *self.histogram.entry(old - 1).or_insert(0) += 1;
        }
        self.n -= 1;
        self.sum_sq -= 2 * u64::from(old) - 1;
    }

    /// The stats of the set.
    pub(crate) fn stats(&self) -> SetStats {
        SetStats {
            n: self.n,
            min_count: self.histogram.keys().next().map_or(0, |&c| u64::from(c)),
            sum_sq: self.sum_sq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_by_scan() {
        let mut s = Vec::new();
        let st = SetStats::from_events([1, 2, 2, 3, 3, 3].into_iter(), &mut s);
        assert_eq!(
            st,
            SetStats {
                n: 6,
                min_count: 1,
                sum_sq: 1 + 4 + 9
            }
        );
        assert_eq!(st.max_others(), 5);
        assert_eq!(st.pairs(), 2 + 3 + 6);
        assert!(st.over(Some(4)));
        assert!(!st.over(Some(5)));
        assert!(!st.over(None));
        let empty = SetStats::from_events(std::iter::empty(), &mut s);
        assert_eq!(empty.pairs(), 0);
        assert!(!empty.over(Some(0)));
    }

    #[test]
    fn same_event_members_never_over_correlate() {
        let mut s = Vec::new();
        let st = SetStats::from_events([9; 50].into_iter(), &mut s);
        assert_eq!(st.max_others(), 0);
        assert_eq!(st.pairs(), 0);
        assert!(!st.over(Some(0)));
    }

    #[test]
    fn incremental_counts_match_scan() {
        let ops: Vec<(bool, u32)> = vec![
            (true, 1),
            (true, 1),
            (true, 2),
            (true, 3),
            (true, 3),
            (true, 3),
            (false, 2),
            (false, 3),
            (true, 2),
            (false, 1),
            (false, 1),
            (false, 7),
        ];
        let mut inc = EventCounts::default();
        let mut members: Vec<u32> = Vec::new();
        let mut s = Vec::new();
        for (add, e) in ops {
            if add {
                inc.add(e);
                members.push(e);
            } else {
                inc.remove(e);
                if let Some(p) = members.iter().position(|&x| x == e) {
                    members.swap_remove(p);
                }
            }
            assert_eq!(
                inc.stats(),
                SetStats::from_events(members.iter().copied(), &mut s)
            );
            assert_eq!(
                EventCounts::from_events(members.iter().copied()).stats(),
                inc.stats()
            );
        }
    }
}
