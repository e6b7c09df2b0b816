//! The questions the engine answers (contract §10).
//!
//! Pairs are never stored: every answer is derived from the postings,
//! the containment index and the ssdeep graph when asked. The answers are
//! written once, against [`State`], and serve both the live
//! [`Engine`] and the memory-mapped
//! [`EngineSnapshot`](crate::snapshot::EngineSnapshot) (see
//! [`query_api!`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use misp_core::AttributeType;
use rayon::prelude::*;
use smallvec::SmallVec;

use super::acl::{Resolved, Viewer};
use super::engine::{Engine, flag, types};
use super::fuzzy::Node;
use super::id::Id;
use super::intern::{Canon, NONE};
use super::state::{Src, State, on_state};
use crate::{Error, Result};

/// How two attributes correlate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CorrelationKind {
    /// Equal match keys (§6).
    Exact,
    /// An address inside a network (§7.1).
    Cidr,
    /// Similar ssdeep hashes (§7.2).
    Ssdeep,
}

impl CorrelationKind {
    /// `"exact"`, `"cidr"` or `"ssdeep"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationKind::Exact => "exact",
            CorrelationKind::Cidr => "cidr",
            CorrelationKind::Ssdeep => "ssdeep",
        }
    }
}

/// A read-only view of one attribute.
#[derive(Clone, Copy)]
pub struct AttributeView<'e> {
    src: Src<'e>,
    slot: u32,
}

impl std::fmt::Debug for AttributeView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttributeView")
            .field("id", &self.id())
            .field("event", &self.event())
            .field("type", &self.ty())
            .field("value1", &self.value1())
            .field("value2", &self.value2())
            .finish()
    }
}

impl<'e> AttributeView<'e> {
    pub(crate) fn new(src: Src<'e>, slot: u32) -> Self {
        AttributeView { src, slot }
    }

    /// The attribute's identity.
    pub fn id(&self) -> Id<'e> {
        on_state!(self.src, s => State::ident_of(s, self.slot))
    }

    /// Its event's identity.
    pub fn event(&self) -> Id<'e> {
        on_state!(self.src, s => State::event_ident(s, s.event_of(self.slot)))
    }

    /// Its object's identity, if any.
    pub fn object(&self) -> Option<Id<'e>> {
        on_state!(self.src, s => {
            let o = State::rec(s, self.slot)?.object;
            if o == NONE { None } else { s.object_ident(o) }
        })
    }

    /// Its type.
    pub fn ty(&self) -> AttributeType {
        on_state!(self.src, s => s.ty_of(self.slot))
    }

    /// The normalised value1.
    pub fn value1(&self) -> Cow<'e, str> {
        on_state!(self.src, s => s.value_text(self.slot, 1).unwrap_or(Cow::Borrowed("")))
    }

    /// The normalised value2, for composite types.
    pub fn value2(&self) -> Option<Cow<'e, str>> {
        on_state!(self.src, s => s.value_text(self.slot, 2))
    }

    /// Whether the attribute takes part in correlation (§3).
    pub fn is_eligible(&self) -> bool {
        on_state!(self.src, s => State::rec(s, self.slot).is_some_and(|r| s.eligible(&r)))
    }

    /// The match keys it correlates on (§4): none if it is not eligible
    /// or every value is excluded.
    pub fn keys(&self) -> Vec<Cow<'e, str>> {
        on_state!(self.src, s => s
            .rec(self.slot)
            .map(|r| r.keys().map(|k| s.text(k)).collect())
            .unwrap_or_default())
    }
}

/// One correlation.
///
/// From [`Engine::correlations_of`], `a` is the attribute asked about and
/// `b` the other side. From [`Engine::correlations`], exact and ssdeep
/// correlations have `a` added before `b`, and a CIDR correlation has the
/// address attribute as `a` and the network attribute as `b`.
#[derive(Clone, Copy)]
pub struct Correlation<'e> {
    src: Src<'e>,
    kind: CorrelationKind,
    a: u32,
    b: u32,
    /// The key (exact, cidr) or a's value (ssdeep).
    key: u32,
    score: u8,
}

impl std::fmt::Debug for Correlation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Correlation")
            .field("kind", &self.kind)
            .field("key", &self.key())
            .field("a", &self.a().id())
            .field("b", &self.b().id())
            .field("score", &self.score())
            .finish()
    }
}

impl<'e> Correlation<'e> {
    /// Exact, CIDR or ssdeep.
    pub fn kind(&self) -> CorrelationKind {
        self.kind
    }

    /// One side.
    pub fn a(&self) -> AttributeView<'e> {
        AttributeView::new(self.src, self.a)
    }

    /// The other side.
    pub fn b(&self) -> AttributeView<'e> {
        AttributeView::new(self.src, self.b)
    }

    /// The match key correlated on; for a CIDR correlation the network's
    /// match key; for an ssdeep correlation `a`'s value (`b`'s is
    /// `b().value1()`).
    pub fn key(&self) -> Cow<'e, str> {
        on_state!(self.src, s => s.text(self.key))
    }

    /// The ssdeep score, for ssdeep correlations.
    pub fn score(&self) -> Option<u32> {
        (self.kind == CorrelationKind::Ssdeep).then_some(u32::from(self.score))
    }

    /// The same correlation seen from the other side.
    pub fn swapped(self) -> Correlation<'e> {
        let key = if self.kind == CorrelationKind::Ssdeep {
            on_state!(self.src, s => s.value_sid(self.b, 1))
        } else {
            self.key
        };
        Correlation {
            a: self.b,
            b: self.a,
            key,
            ..self
        }
    }
}

/// An event related to another, with the number of correlations between
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelatedEvent<'e> {
    /// The related event.
    pub event: Id<'e>,
    /// Correlations between the two events' attributes.
    pub correlations: u64,
}

/// An over-correlating key (§6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverCorrelating<'e> {
    /// The match key.
    pub key: Cow<'e, str>,
    /// Its occurrence count: the size of its (extended, §7.1) set.
    pub count: u64,
}

/// A key and its number of correlations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopKey<'e> {
    /// The match key.
    pub key: Cow<'e, str>,
    /// Exact correlations on the key, plus CIDR correlations whose network
    /// it is.
    pub correlations: u64,
}

/// Counts describing the engine's current result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Attributes held (eligible or not).
    pub attributes: u64,
    /// Attributes that take part in correlation (§3).
    pub eligible: u64,
    /// Distinct match keys carried by at least one attribute.
    pub keys: u64,
    /// Exact correlations.
    pub exact: u64,
    /// CIDR correlations.
    pub cidr: u64,
    /// ssdeep correlations.
    pub ssdeep: u64,
    /// Over-correlating keys.
    pub over_correlating: u64,
}

impl Summary {
    /// All correlations.
    pub fn correlations(&self) -> u64 {
        self.exact + self.cidr + self.ssdeep
    }
}

/// Which attributes carry one key.
#[derive(Clone, Copy)]
pub struct PostingView<'e> {
    src: Src<'e>,
    key: u32,
}

impl std::fmt::Debug for PostingView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostingView")
            .field("key", &self.key())
            .field("len", &self.len())
            .finish()
    }
}

impl<'e> PostingView<'e> {
    /// The match key.
    pub fn key(&self) -> Cow<'e, str> {
        on_state!(self.src, s => s.text(self.key))
    }

    /// Number of attributes carrying it.
    pub fn len(&self) -> usize {
        on_state!(self.src, s => State::posting(s, self.key).len())
    }

    /// Whether no attribute carries it.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The attributes carrying it, in the order they were added.
    pub fn attributes(&self) -> impl Iterator<Item = AttributeView<'e>> + 'e {
        let src = self.src;
        let slots: &'e [u32] = on_state!(src, s => State::posting(s, self.key));
        slots.iter().map(move |&slot| AttributeView::new(src, slot))
    }

    /// The distinct events of those attributes, with how many each has.
    pub fn events(&self) -> Vec<(Id<'e>, u64)> {
        on_state!(self.src, s => {
            let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
            for &slot in State::posting(s, self.key) {
                *counts.entry(s.event_of(slot)).or_insert(0) += 1;
            }
            counts
                .into_iter()
                .map(|(e, c)| (State::event_ident(s, e), c))
                .collect()
        })
    }

    /// Whether the key is over-correlating under the current settings.
    pub fn is_over_correlating(&self) -> bool {
        on_state!(self.src, s => s.key_over(self.key, &mut Vec::new()))
    }
}

/// Whether a live key on `attributes` attributes can make a pair or be
/// over a limit: without CIDR correlation (which can add a network's
/// attributes to an address key's set) a key on one attribute makes no
/// pair and is never over any limit. The summary counts only the keys
/// this admits.
#[inline]
pub(crate) fn key_may_count(attributes: usize, advanced: bool) -> bool {
    advanced || attributes >= 2
}

/// The query algorithms, for any [`State`].
pub(crate) trait Queries: State {
    fn corr(&self, kind: CorrelationKind, a: u32, b: u32, key: u32, score: u8) -> Correlation<'_> {
        Correlation {
            src: self.src(),
            kind,
            a,
            b,
            key,
            score,
        }
    }

    /// Whether the ssdeep attribute `slot` is over-correlating for fuzzy
    /// purposes: more than `limit` fuzzy partners in other events.
    fn fuzzy_over(&self, slot: u32) -> bool {
        let Some(limit) = self.config().limit else {
            return false;
        };
        let Some(node) = self.fuzzy_node_of(slot) else {
            return false;
        };
        let ev = self.event_of(slot);
        let mut partners = 0u64;
        for (other, _) in &node.edges {
            if let Some(o) = self.fuzzy().node(*other) {
                partners += o.attrs.iter().filter(|&&b| self.event_of(b) != ev).count() as u64;
                if partners > u64::from(limit) {
                    return true;
                }
            }
        }
        false
    }

    /// The ssdeep node `slot` belongs to (not merely one with its value:
    /// an ineligible attribute may share the value of a node).
    fn fuzzy_node_of(&self, slot: u32) -> Option<&Node> {
        self.fuzzy()
            .node(self.value_sid(slot, 1))
            .filter(|n| n.attrs.binary_search(&slot).is_ok())
    }

    /// The ssdeep partners of `slot`: (other slot, score).
    fn fuzzy_partners(&self, slot: u32) -> impl Iterator<Item = (u32, u8)> + '_ {
        let ev = self.event_of(slot);
        let active = self.config().advanced && !self.fuzzy_over(slot);
        let node = if active {
            self.fuzzy_node_of(slot)
        } else {
            None
        };
        node.into_iter().flat_map(move |n| {
            n.edges.iter().flat_map(move |&(other, score)| {
                self.fuzzy()
                    .node(other)
                    .into_iter()
                    .flat_map(move |o| o.attrs.iter().copied())
                    .filter(move |&b| self.event_of(b) != ev && !self.fuzzy_over(b))
                    .map(move |b| (b, score))
            })
        })
    }

    /// The CIDR key of `slot` if it is a CIDR attribute.
    fn cidr_key_of(&self, slot: u32) -> Option<u32> {
        let r = self.rec(slot)?;
        (types().may_be_cidr(r.ty)
            && r.has(flag::IDX1)
            && self.cidr().cidr_keys.contains_key(&r.k1))
        .then_some(r.k1)
    }

    /// The IP key of `slot` if it is an IP attribute.
    fn ip_key_of(&self, slot: u32) -> Option<u32> {
        let r = self.rec(slot)?;
        let k = self.ip_candidate(&r)?;
        (r.has_key(k) && self.cidr().ip_keys.contains_key(&k)).then_some(k)
    }

    /// CIDR correlations of CIDR attribute `slot` (key `c`): the IP
    /// attributes inside, in other events, whose keys are not
    /// over-correlating. Assumes `c` is not over-correlating.
    fn cidr_pairs_of_net(&self, slot: u32, c: u32) -> impl Iterator<Item = u32> + '_ {
        let ev = self.event_of(slot);
        let net = self.cidr().cidr_keys.get(&c).map(|k| k.net);
        net.into_iter()
            .flat_map(move |net| self.cidr().contained(net))
            .filter(move |&k| !self.key_over(k, &mut Vec::new()))
            .flat_map(move |k| {
                self.posting(k)
                    .iter()
                    .copied()
                    .filter(move |&i| self.event_of(i) != ev && self.ip_candidate_is(i, k))
            })
    }

    fn ip_candidate_is(&self, slot: u32, k: u32) -> bool {
        self.rec(slot)
            .is_some_and(|r| self.ip_candidate(&r) == Some(k))
    }

    fn cidr_candidate_is(&self, slot: u32, c: u32) -> bool {
        self.rec(slot)
            .is_some_and(|r| types().may_be_cidr(r.ty) && r.k1 == c)
    }

    /// Collects the correlations of `slot` visible to `v` into `out`.
    fn correlations_of_slot<'e>(&'e self, slot: u32, v: &Resolved, out: &mut Vec<Correlation<'e>>) {
        let Some(r) = self.rec(slot) else { return };
        if !self.visible(v, slot) {
            return;
        }
        let ev = r.event;
        let mut scratch = Vec::new();
        for k in r.keys() {
            if self.key_over(k, &mut scratch) {
                continue;
            }
            for &b in self.posting(k) {
                if self.event_of(b) != ev && self.visible(v, b) {
                    out.push(self.corr(CorrelationKind::Exact, slot, b, k, 0));
                }
            }
        }
        self.advanced_correlations_of_slot(slot, v, out);
    }

    /// The CIDR and ssdeep part of [`correlations_of_slot`]: nothing
    /// unless advanced correlation is on. Assumes `slot` is visible.
    ///
    /// [`correlations_of_slot`]: Self::correlations_of_slot
    fn advanced_correlations_of_slot<'e>(
        &'e self,
        slot: u32,
        v: &Resolved,
        out: &mut Vec<Correlation<'e>>,
    ) {
        if !self.config().advanced {
            return;
        }
        let ev = self.event_of(slot);
        let mut scratch = Vec::new();
        if let Some(k) = self.ip_key_of(slot) {
            if !self.key_over(k, &mut scratch) {
                if let Some(ip) = self.cidr().ip_keys.get(&k) {
                    let nets: SmallVec<[u32; 8]> = self.cidr().containing(ip.addr).collect();
                    for c in nets {
                        if self.key_over(c, &mut scratch) {
                            continue;
                        }
                        for &b in self.posting(c) {
                            if self.event_of(b) != ev
                                && self.cidr_candidate_is(b, c)
                                && self.visible(v, b)
                            {
                                out.push(self.corr(CorrelationKind::Cidr, slot, b, c, 0));
                            }
                        }
                    }
                }
            }
        }
        if let Some(c) = self.cidr_key_of(slot) {
            if !self.key_over(c, &mut scratch) {
                for i in self.cidr_pairs_of_net(slot, c) {
                    if self.visible(v, i) {
                        out.push(self.corr(CorrelationKind::Cidr, slot, i, c, 0));
                    }
                }
            }
        }
        let own = self.value_sid(slot, 1);
        for (b, score) in self.fuzzy_partners(slot) {
            if self.visible(v, b) {
                out.push(self.corr(CorrelationKind::Ssdeep, slot, b, own, score));
            }
        }
    }

    /// The correlations of attribute `id`, with `a` = that attribute. With
    /// a viewer (and [`AclMode::Default`](super::AclMode::Default)), only
    /// correlations whose two sides the viewer may see (§8); nothing at
    /// all if the attribute itself is hidden.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if no attribute has this id.
    fn correlations_of(&self, id: Id<'_>, viewer: Option<&Viewer>) -> Result<Vec<Correlation<'_>>> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no attribute {id}")))?;
        let v = self.resolve(viewer);
        let mut out = Vec::new();
        self.correlations_of_slot(slot, &v, &mut out);
        Ok(out)
    }

    /// The events related to event `id` for a viewer, each with the
    /// number of correlations (both sides visible) between the two events,
    /// most related first (ties by identity).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the event does not exist.
    fn related_events(&self, id: Id<'_>, viewer: Option<&Viewer>) -> Result<Vec<RelatedEvent<'_>>> {
        let e = self
            .event_slot_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no event {id}")))?;
        let v = self.resolve(viewer);
        let mut counts: BTreeMap<u32, u64> = BTreeMap::new();
        // Exact correlations are counted per key, not per pair: the event's
        // visible attributes under key k each pair with every visible
        // attribute of another event under k, so one walk of k's posting
        // adds (their number) to that event. A value shared by a million
        // attributes costs a million steps, not a million squared.
        let mut per_key: BTreeMap<u32, u64> = BTreeMap::new();
        let mut buf = Vec::new();
        for &s in self.event_attrs(e) {
            let Some(r) = self.rec(s) else { continue };
            if !self.visible(&v, s) {
                continue;
            }
            for k in r.keys() {
                *per_key.entry(k).or_insert(0) += 1;
            }
            buf.clear();
            self.advanced_correlations_of_slot(s, &v, &mut buf);
            for c in &buf {
                *counts.entry(self.event_of(c.b)).or_insert(0) += 1;
            }
        }
        let mut scratch = Vec::new();
        for (k, n) in per_key {
            if self.key_over(k, &mut scratch) {
                continue;
            }
            for &b in self.posting(k) {
                let other = self.event_of(b);
                if other != e && self.visible(&v, b) {
                    *counts.entry(other).or_insert(0) += n;
                }
            }
        }
        let mut out: Vec<RelatedEvent<'_>> = counts
            .into_iter()
            .map(|(e, n)| RelatedEvent {
                event: self.event_ident(e),
                correlations: n,
            })
            .collect();
        out.sort_by(|x, y| {
            y.correlations
                .cmp(&x.correlations)
                .then_with(|| x.event.cmp(&y.event))
        });
        Ok(out)
    }

    /// Every correlation, streamed: nothing is materialised. Order: by the
    /// attribute added first; each unordered pair (and each key of it)
    /// exactly once. No viewer filtering; see [`Engine::correlations_for`].
    fn correlations(&self) -> impl Iterator<Item = Correlation<'_>> + '_ {
        (0..self.slot_count()).flat_map(move |s| self.correlations_starting_at(s))
    }

    /// Piece `part` of [`Engine::correlations`] cut into `parts` pieces by
    /// the attribute each correlation is emitted at (equal runs of the
    /// attribute order). A `parts` of 0 counts as 1; a `part` past the
    /// last is empty.
    fn correlations_part(
        &self,
        part: usize,
        parts: usize,
    ) -> impl Iterator<Item = Correlation<'_>> + '_ {
        let slots = self.slot_count() as usize;
        let run = slots.div_ceil(parts.max(1));
        let start = part.saturating_mul(run).min(slots);
        let end = start.saturating_add(run).min(slots);
        (start as u32..end as u32).flat_map(move |s| self.correlations_starting_at(s))
    }

    /// Every correlation whose two sides `viewer` may see, streamed.
    fn correlations_for<'e>(
        &'e self,
        viewer: &Viewer,
    ) -> impl Iterator<Item = Correlation<'e>> + 'e {
        let v = self.resolve(Some(viewer));
        self.correlations()
            .filter(move |c| self.visible(&v, c.a) && self.visible(&v, c.b))
    }

    /// The correlations emitted at slot `s` in [`Engine::correlations`]:
    /// exact pairs of the keys whose first attribute is `s`, CIDR pairs of
    /// `s` as a network, ssdeep pairs of `s` with later attributes.
    fn correlations_starting_at(&self, s: u32) -> impl Iterator<Item = Correlation<'_>> + '_ {
        let r = self.rec(s);
        let keys: SmallVec<[u32; 2]> = r
            .map(|r| {
                r.keys()
                    .filter(|&k| {
                        let p = self.posting(k);
                        p.len() >= 2 && p.first() == Some(&s) && !self.key_over(k, &mut Vec::new())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let exact = keys.into_iter().flat_map(move |k| {
            let p = self.posting(k);
            p.iter().enumerate().flat_map(move |(i, &a)| {
                let ea = self.event_of(a);
                p.get(i + 1..)
                    .unwrap_or(&[])
                    .iter()
                    .filter(move |&&b| self.event_of(b) != ea)
                    .map(move |&b| self.corr(CorrelationKind::Exact, a, b, k, 0))
            })
        });
        let cidr = (self.config().advanced)
            .then(|| self.cidr_key_of(s))
            .flatten()
            .filter(|&c| !self.key_over(c, &mut Vec::new()))
            .into_iter()
            .flat_map(move |c| {
                self.cidr_pairs_of_net(s, c)
                    .map(move |i| self.corr(CorrelationKind::Cidr, i, s, c, 0))
            });
        let own = self.value_sid(s, 1);
        let fuzzy = self
            .fuzzy_partners(s)
            .filter(move |&(b, _)| b > s)
            .map(move |(b, score)| self.corr(CorrelationKind::Ssdeep, s, b, own, score));
        exact.chain(cidr).chain(fuzzy)
    }

    /// Exact correlations on key `k` (0 if it is over-correlating).
    fn exact_pairs(&self, k: u32, scratch: &mut Vec<u32>) -> u64 {
        if self.posting(k).len() < 2 || self.key_over(k, scratch) {
            return 0;
        }
        self.exact_pairs_unchecked(k, scratch)
    }

    /// Exact correlations on key `k`, assuming it is not
    /// over-correlating.
    fn exact_pairs_unchecked(&self, k: u32, scratch: &mut Vec<u32>) -> u64 {
        match self.posting(k) {
            [] | [_] => 0,
            [a, b] => u64::from(self.event_of(*a) != self.event_of(*b)),
            _ => self.plain_stats(k, scratch).pairs(),
        }
    }

    /// CIDR correlations whose network is CIDR key `c`.
    fn cidr_pairs(&self, c: u32, scratch: &mut Vec<u32>) -> u64 {
        let Some(ck) = self.cidr().cidr_keys.get(&c) else {
            return 0;
        };
        if self.key_over(c, scratch) {
            return 0;
        }
        let nets: BTreeMap<u32, u64> =
            self.cidr_attr_events(c).fold(BTreeMap::new(), |mut m, e| {
                *m.entry(e).or_insert(0) += 1;
                m
            });
        let total = u64::from(ck.attrs);
        let mut pairs = 0;
        for k in self.cidr().contained(ck.net) {
            if self.key_over(k, scratch) {
                continue;
            }
            for e in self.ip_attr_events(k) {
                pairs += total - nets.get(&e).copied().unwrap_or(0);
            }
        }
        pairs
    }

    /// Counts of the current result (cached until the next change).
    fn summary(&self) -> Summary {
        *self.summary_cache().get_or_init(|| self.compute_summary())
    }

    fn compute_summary(&self) -> Summary {
        let advanced = self.config().advanced;
        let (keys, exact, over) = self
            .live_keys()
            .map_init(Vec::new, |scratch, k| {
                // Most keys are on one attribute: decided from the one
                // posting lookup.
                if !key_may_count(self.posting(k).len(), advanced) {
                    return (1, 0, 0);
                }
                self.key_counts(k, scratch)
            })
            .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
        let eligible = (0..self.slot_count())
            .into_par_iter()
            .filter(|&s| {
                self.rec(s)
                    .is_some_and(|r| r.has(flag::LIVE) && self.eligible(&r))
            })
            .count() as u64;
        self.summary_with(eligible, keys, exact, over)
    }

    /// Live key `k`'s part of the summary: `(1, exact pairs, over)`.
    fn key_counts(&self, k: u32, scratch: &mut Vec<u32>) -> (u64, u64, u64) {
        let over = self.key_over(k, scratch);
        let pairs = if over {
            0
        } else {
            self.exact_pairs_unchecked(k, scratch)
        };
        (1, pairs, u64::from(over))
    }

    /// The summary when the keys' part is known (the number of live keys,
    /// their exact pairs and over-correlating ones) and the number of
    /// eligible attributes: adds the CIDR and ssdeep correlations.
    fn summary_with(&self, eligible: u64, keys: u64, exact: u64, over: u64) -> Summary {
        let advanced = self.config().advanced;
        let cidr = if advanced {
            let nets: Vec<u32> = self.cidr().cidr_keys.keys().copied().collect();
            nets.par_iter()
                .map_init(Vec::new, |scratch, &c| self.cidr_pairs(c, scratch))
                .sum()
        } else {
            0
        };
        let ssdeep = if advanced {
            let slots: Vec<u32> = self
                .fuzzy()
                .nodes
                .values()
                .flat_map(|n| n.attrs.iter().copied())
                .collect();
            slots
                .par_iter()
                .map(|&s| self.fuzzy_partners(s).filter(|&(b, _)| b > s).count() as u64)
                .sum()
        } else {
            0
        };
        Summary {
            attributes: self.live() as u64,
            eligible,
            keys,
            exact,
            cidr,
            ssdeep,
            over_correlating: over,
        }
    }

    /// The over-correlating keys with their occurrence counts, most
    /// frequent first (ties by key).
    fn over_correlating(&self) -> Vec<OverCorrelating<'_>> {
        let mut found: Vec<(u64, u32)> = self
            .live_keys()
            .map_init(Vec::new, |scratch, k| {
                self.key_over(k, scratch)
                    .then(|| (self.key_stats(k, scratch).n, k))
            })
            .flatten()
            .collect();
        found.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
        let mut out: Vec<OverCorrelating<'_>> = found
            .into_iter()
            .map(|(n, k)| OverCorrelating {
                key: self.text(k),
                count: n,
            })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
        out
    }

    /// The `n` keys with the most correlations (exact on the key, plus
    /// CIDR with the key as network), most first (ties by key). Keys with
    /// no correlation are not listed.
    fn top_keys(&self, n: usize) -> Vec<TopKey<'_>> {
        if n == 0 {
            return Vec::new();
        }
        let advanced = self.config().advanced;
        let mut found: Vec<(u64, u32)> = self
            .live_keys()
            .map_init(Vec::new, |scratch, k| {
                let mut c = self.exact_pairs(k, scratch);
                if advanced {
                    c += self.cidr_pairs(k, scratch);
                }
                (c > 0).then_some((c, k))
            })
            .flatten()
            .collect();
        found.sort_unstable_by_key(|x| std::cmp::Reverse(x.0));
        // Keep everything tied with the n-th, then order ties by key.
        let cut = found.get(n - 1).map_or(found.len(), |&(c, _)| {
            found.iter().take_while(|x| x.0 >= c).count()
        });
        found.truncate(cut);
        let mut out: Vec<TopKey<'_>> = found
            .into_iter()
            .map(|(c, k)| TopKey {
                key: self.text(k),
                correlations: c,
            })
            .collect();
        out.sort_by(|a, b| {
            b.correlations
                .cmp(&a.correlations)
                .then_with(|| a.key.cmp(&b.key))
        });
        out.truncate(n);
        out
    }

    /// The attributes carrying the key of `value` (its match key is
    /// computed first), if any does.
    fn posting_of(&self, value: &str) -> Option<PostingView<'_>> {
        let key = super::exclusion::match_key(value);
        let k = self.find_key(&Canon::text(&key))?;
        (!self.posting(k).is_empty()).then_some(PostingView {
            src: self.src(),
            key: k,
        })
    }

    /// Whether the value's key is over-correlating.
    fn is_over_correlating(&self, value: &str) -> bool {
        self.posting_of(value)
            .is_some_and(|p| p.is_over_correlating())
    }
}

impl<S: State> Queries for S {}

/// Generates the public query methods (contract §10) of a type that
/// implements [`State`]: [`Engine`] and
/// [`EngineSnapshot`](crate::snapshot::EngineSnapshot) get the same
/// methods, answered by the same code ([`Queries`]).
macro_rules! query_api {
    ($ty:ty) => {
        impl $ty {
            /// A view of attribute `id`.
            pub fn attribute(
                &self,
                id: $crate::correlation::Id<'_>,
            ) -> Option<$crate::correlation::AttributeView<'_>> {
                use $crate::correlation::state::State;
                State::slot_of(self, id)
                    .map(|s| $crate::correlation::AttributeView::new(State::src(self), s))
            }

            /// Number of attributes held.
            pub fn attribute_count(&self) -> usize {
                $crate::correlation::state::State::live(self)
            }

            /// The correlations of attribute `id`, with `a` = that attribute.
            /// With a viewer (and
            /// [`AclMode::Default`]($crate::correlation::AclMode::Default)),
            /// only correlations whose two sides the viewer may see (§8);
            /// nothing at all if the attribute itself is hidden.
            ///
            /// # Errors
            ///
            /// [`Error::InvalidArgument`]($crate::Error::InvalidArgument) if no
            /// attribute has this id.
            pub fn correlations_of(
                &self,
                id: $crate::correlation::Id<'_>,
                viewer: Option<&$crate::correlation::Viewer>,
            ) -> $crate::Result<Vec<$crate::correlation::Correlation<'_>>> {
                $crate::correlation::query::Queries::correlations_of(self, id, viewer)
            }

            /// The events related to event `id` for a viewer, each with the
            /// number of correlations (both sides visible) between the two
            /// events, most related first (ties by identity).
            ///
            /// # Errors
            ///
            /// [`Error::InvalidArgument`]($crate::Error::InvalidArgument) if the
            /// event does not exist.
            pub fn related_events(
                &self,
                id: $crate::correlation::Id<'_>,
                viewer: Option<&$crate::correlation::Viewer>,
            ) -> $crate::Result<Vec<$crate::correlation::RelatedEvent<'_>>> {
                $crate::correlation::query::Queries::related_events(self, id, viewer)
            }

            /// Every correlation, streamed: nothing is materialised. Order: by
            /// the attribute added first; each unordered pair (and each key of
            /// it) exactly once. No viewer filtering; see
            /// [`correlations_for`](Self::correlations_for).
            pub fn correlations(
                &self,
            ) -> impl Iterator<Item = $crate::correlation::Correlation<'_>> + '_ {
                $crate::correlation::query::Queries::correlations(self)
            }

            /// Piece `part` of [`correlations`](Self::correlations) cut
            /// into `parts` pieces by the attribute each correlation is
            /// emitted at (equal runs of the order in which attributes were
            /// added). Streaming the pieces `0..parts` one after another
            /// gives exactly `correlations()`, in its order, so the pieces
            /// can be streamed on several threads and joined in order. A
            /// `parts` of 0 counts as 1; a `part` past the last is empty.
            /// Pieces are equal in attributes, not in correlations: a
            /// key's pairs all come at its first attribute.
            pub fn correlations_part(
                &self,
                part: usize,
                parts: usize,
            ) -> impl Iterator<Item = $crate::correlation::Correlation<'_>> + '_ {
                $crate::correlation::query::Queries::correlations_part(self, part, parts)
            }

            /// Every correlation whose two sides `viewer` may see, streamed.
            pub fn correlations_for<'e>(
                &'e self,
                viewer: &$crate::correlation::Viewer,
            ) -> impl Iterator<Item = $crate::correlation::Correlation<'e>> + 'e {
                $crate::correlation::query::Queries::correlations_for(self, viewer)
            }

            /// Counts of the current result (cached until the next change).
            pub fn summary(&self) -> $crate::correlation::Summary {
                $crate::correlation::query::Queries::summary(self)
            }

            /// The over-correlating keys with their occurrence counts, most
            /// frequent first (ties by key).
            pub fn over_correlating(&self) -> Vec<$crate::correlation::OverCorrelating<'_>> {
                $crate::correlation::query::Queries::over_correlating(self)
            }

            /// The `n` keys with the most correlations (exact on the key, plus
            /// CIDR with the key as network), most first (ties by key). Keys
            /// with no correlation are not listed.
            pub fn top_keys(&self, n: usize) -> Vec<$crate::correlation::TopKey<'_>> {
                $crate::correlation::query::Queries::top_keys(self, n)
            }

            /// The attributes carrying the key of `value` (its match key is
            /// computed first), if any does.
            pub fn posting_of(&self, value: &str) -> Option<$crate::correlation::PostingView<'_>> {
                $crate::correlation::query::Queries::posting_of(self, value)
            }

            /// Whether the value's key is over-correlating.
            pub fn is_over_correlating(&self, value: &str) -> bool {
                $crate::correlation::query::Queries::is_over_correlating(self, value)
            }
        }
    };
}
pub(crate) use query_api;

query_api!(Engine);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlation::{AttributeInput, Config, EventInput};

    fn ty(n: &str) -> AttributeType {
        AttributeType::from_name(n).unwrap()
    }

    #[test]
    fn views_and_stream_agree_with_summary() {
        let mut e = Engine::new(Config::default()).unwrap();
        for ev in ["e1", "e2", "e3"] {
            e.add_event(&EventInput::new(ev)).unwrap();
        }
        e.add_attribute(&AttributeInput::new("a1", "e1", ty("domain"), "x.com"))
            .unwrap();
        e.add_attribute(&AttributeInput::new("a2", "e2", ty("text"), "X.com"))
            .unwrap();
        e.add_attribute(&AttributeInput::new("a3", "e3", ty("text"), "x.com"))
            .unwrap();
        e.add_attribute(&AttributeInput::new("a4", "e3", ty("text"), "other"))
            .unwrap();
        let all: Vec<_> = e.correlations().collect();
        assert_eq!(all.len(), 3);
        assert_eq!(e.summary().exact, 3);
        assert_eq!(e.summary().keys, 2);
        let mine = e.correlations_of(Id::Str("a2"), None).unwrap();
        assert_eq!(mine.len(), 2);
        assert!(
            mine.iter()
                .all(|c| c.a().id() == Id::Str("a2") && c.key() == "x.com")
        );
        assert_eq!(e.attribute(Id::Str("a2")).unwrap().value1(), "X.com");
        let p = e.posting_of("X.COM").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p.events().len(), 3);
        let top = e.top_keys(5);
        assert_eq!(
            top,
            vec![TopKey {
                key: "x.com".into(),
                correlations: 3
            }]
        );
        let rel = e.related_events(Id::Str("e1"), None).unwrap();
        assert_eq!(rel.len(), 2);
    }
}
