//! The read-only state every query is computed from.
//!
//! The engine's questions (contract §10) are answered by one
//! implementation, written against [`State`]: a small set of accessors
//! (attribute records, postings, interned strings, identities, events,
//! objects, the containment index and the ssdeep graph). Two types
//! implement it: the live [`Engine`] and the memory-mapped
//! [`EngineSnapshot`]. A snapshot therefore answers exactly as the engine
//! it was saved from, by construction rather than by a second
//! implementation.
//!
//! The derived helpers that both queries and the engine's incremental
//! maintenance use (eligibility §3, over-correlation §6/§7.1, visibility
//! §8) are default methods here, so they too exist once.

use std::borrow::Cow;
use std::sync::OnceLock;

use ahash::AHashMap;
use misp_core::AttributeType;
use rayon::prelude::*;
use smallvec::SmallVec;

use super::acl::{AclMode, Resolved, Viewer, open_level};
pub(crate) use super::attr_ids::interpolation_search_by;
pub(crate) use super::counts::{EventCounts, SetStats};
pub(crate) use super::engine::{AttrRec, BIG, Config, Engine, EventRec, ObjRec, flag, types};
pub(crate) use super::fuzzy::FuzzyGraph;
use super::id::Id;
pub(crate) use super::id::IdTable;
use super::intern::Interner;
pub(crate) use super::intern::{Canon, Hasher, NONE, SlotRef, Stored, Tag, sid, split};
pub(crate) use super::net::CidrIndex;
use super::net::{Addr, CidrKey, IpKey, Net};
use super::paged::PAGE;
use super::query::Summary;
use crate::snapshot::EngineSnapshot;

/// The settings of one event that queries read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventInfo {
    /// Added (not merely referenced by an attribute).
    pub(crate) exists: bool,
    pub(crate) org: u32,
    pub(crate) distribution: u8,
    pub(crate) sg: u32,
    pub(crate) disable_correlation: bool,
}

/// The settings of one object that queries read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectInfo {
    pub(crate) exists: bool,
    pub(crate) event: u32,
    pub(crate) distribution: u8,
    pub(crate) sg: u32,
    pub(crate) deleted: bool,
}

/// Which state a result view reads from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Src<'e> {
    /// The live engine.
    Engine(&'e Engine),
    /// A memory-mapped engine snapshot.
    Snapshot(&'e EngineSnapshot),
}

/// Runs `$body` with `$s` bound to the state behind a [`Src`].
macro_rules! on_state {
    ($src:expr, $s:ident => $body:expr) => {
        match $src {
            $crate::correlation::state::Src::Engine($s) => $body,
            $crate::correlation::state::Src::Snapshot($s) => $body,
        }
    };
}
pub(crate) use on_state;

/// Read access to an engine's state. See the module documentation.
pub(crate) trait State: Sync + Sized {
    /// This state as a view source.
    fn src(&self) -> Src<'_>;
    /// The settings.
    fn config(&self) -> &Config;
    /// Attributes held (live slots).
    fn live(&self) -> usize;
    /// Number of slots (live or not).
    fn slot_count(&self) -> u32;
    /// The record of `slot`.
    fn rec(&self, slot: u32) -> Option<AttrRec>;
    /// The type of `slot` (views are only made for existing slots).
    fn ty_of(&self, slot: u32) -> AttributeType;
    /// The sorted slots indexed under key `key`.
    fn posting(&self, key: u32) -> &[u32];
    /// The stats of a key whose per-event counts are kept (long postings).
    fn big_stats(&self, key: u32) -> Option<SetStats>;
    /// Every key id that carries at least one attribute.
    fn live_keys(&self) -> impl ParallelIterator<Item = u32> + '_;
    /// The stored string `sid` of the key interner.
    fn stored(&self, sid: u32) -> Stored<'_>;
    /// The string id of `canon` in the key interner.
    fn find_key(&self, canon: &Canon<'_>) -> Option<u32>;
    /// The string ids of `slot`'s values when they differ from their keys.
    fn diff(&self, slot: u32) -> Option<[u32; 2]>;
    /// The identity of `slot`.
    fn ident_of(&self, slot: u32) -> Id<'_>;
    /// The live slot of attribute `id`.
    fn slot_of(&self, id: Id<'_>) -> Option<u32>;
    /// Event `e`'s settings.
    fn event(&self, e: u32) -> Option<EventInfo>;
    /// The live slots of event `e` (in no particular order).
    fn event_attrs(&self, e: u32) -> &[u32];
    /// The internal number of event `id` (existing or merely referenced).
    fn event_number(&self, id: Id<'_>) -> Option<u32>;
    /// The identity of event number `e`.
    fn event_ident(&self, e: u32) -> Id<'_>;
    /// Object `o`'s settings.
    fn object(&self, o: u32) -> Option<ObjectInfo>;
    /// The identity of object number `o`.
    fn object_ident(&self, o: u32) -> Option<Id<'_>>;
    /// The internal number of organisation `id`.
    fn org_number(&self, id: Id<'_>) -> Option<u32>;
    /// The internal number of sharing group `g`.
    fn group_number(&self, g: u64) -> Option<u32>;
    /// The containment index (empty unless advanced correlation is on).
    fn cidr(&self) -> &CidrIndex;
    /// The ssdeep graph (empty unless advanced correlation is on).
    fn fuzzy(&self) -> &FuzzyGraph;
    /// The cached summary.
    fn summary_cache(&self) -> &OnceLock<Summary>;
    /// Every organisation and sharing-group identity, in internal order.
    fn org_and_group_idents(&self) -> (Vec<Id<'_>>, Vec<Id<'_>>);

    // ----- derived ---------------------------------------------------------

    /// The event of `slot`.
    fn event_of(&self, slot: u32) -> u32 {
        self.rec(slot).map_or(NONE, |r| r.event)
    }

    /// Text of string `sid` in the key interner.
    fn text(&self, sid: u32) -> Cow<'_, str> {
        if sid == NONE {
            Cow::Borrowed("")
        } else {
            self.stored(sid).to_text()
        }
    }

    /// String id of the normalised value of `half` (1 or 2), `NONE` if
    /// there is no such value or it is empty.
    fn value_sid(&self, slot: u32, half: u8) -> u32 {
        let Some(r) = self.rec(slot) else { return NONE };
        let (diff, key) = if half == 1 {
            (flag::DIFF1, r.k1)
        } else {
            (flag::DIFF2, r.k2)
        };
        if r.has(diff) {
            self.diff(slot).map_or(NONE, |d| d[usize::from(half != 1)])
        } else {
            key
        }
    }

    /// The normalised value of `half`.
    fn value_text(&self, slot: u32, half: u8) -> Option<Cow<'_, str>> {
        let r = self.rec(slot)?;
        if half == 2 && !r.has(flag::HAS_V2) {
            return None;
        }
        Some(self.text(self.value_sid(slot, half)))
    }

    /// The number of an existing event.
    fn event_slot_of(&self, id: Id<'_>) -> Option<u32> {
        self.event_number(id)
            .filter(|&e| self.event(e).is_some_and(|r| r.exists))
    }

    /// Contract §3.
    fn eligible(&self, r: &AttrRec) -> bool {
        if !r.has(flag::LIVE) || r.has(flag::DELETED) || r.has(flag::NO_CORR) || !r.ty.correlates()
        {
            return false;
        }
        let Some(e) = self.event(r.event) else {
            return false;
        };
        if !e.exists || e.disable_correlation {
            return false;
        }
        if r.object != NONE {
            match self.object(r.object) {
                Some(o) if o.exists && !o.deleted => {}
                _ => return false,
            }
        }
        true
    }

    /// The IP key that makes `r` an IP attribute (§7.1), assuming it is
    /// indexed under that key.
    fn ip_candidate(&self, r: &AttrRec) -> Option<u32> {
        match types().ip_half(r.ty)? {
            1 => Some(r.k1),
            _ => (r.k2 != NONE).then_some(r.k2),
        }
    }

    /// The address key `key` holds, if it is one.
    fn parse_addr(&self, key: u32) -> Option<Addr> {
        match self.stored(key) {
            Stored(b, Tag::Raw) => std::str::from_utf8(b).ok().and_then(Addr::parse),
            _ => None,
        }
    }

    /// The network key `key` holds, if it is one.
    fn parse_net(&self, key: u32) -> Option<Net> {
        match self.stored(key) {
            Stored(b, Tag::Raw) => std::str::from_utf8(b).ok().and_then(Net::parse),
            _ => None,
        }
    }

    /// Events of the IP attributes carrying IP key `k`.
    fn ip_attr_events(&self, k: u32) -> impl Iterator<Item = u32> + '_ {
        self.posting(k)
            .iter()
            .filter(move |&&s| {
                self.rec(s)
                    .is_some_and(|r| self.ip_candidate(&r) == Some(k))
            })
            .map(|&s| self.event_of(s))
    }

    /// Events of the CIDR attributes carrying CIDR key `c`.
    fn cidr_attr_events(&self, c: u32) -> impl Iterator<Item = u32> + '_ {
        self.posting(c)
            .iter()
            .filter(move |&&s| {
                self.rec(s)
                    .is_some_and(|r| types().may_be_cidr(r.ty) && r.k1 == c)
            })
            .map(|&s| self.event_of(s))
    }

    /// The stats of key `k`'s set A(k), ignoring CIDR.
    fn plain_stats(&self, k: u32, scratch: &mut Vec<u32>) -> SetStats {
        if let Some(b) = self.big_stats(k) {
            return b;
        }
        SetStats::from_events(self.posting(k).iter().map(|&s| self.event_of(s)), scratch)
    }

    /// The stats of key `k`'s set under the current settings: with
    /// advanced correlation, a CIDR key's set includes the IP attributes
    /// it contains and an IP key's set the CIDR attributes containing it
    /// (§7.1).
    fn key_stats(&self, k: u32, scratch: &mut Vec<u32>) -> SetStats {
        if self.config().advanced {
            let cidr = self.cidr();
            if let Some(c) = cidr.cidr_keys.get(&k) {
                return c.ext.stats();
            }
            if let Some(ip) = cidr.ip_keys.get(&k) {
                if cidr.has_nets() {
                    let own = self.posting(k).iter().map(|&s| self.event_of(s));
                    let nets: SmallVec<[u32; 8]> = cidr.containing(ip.addr).collect();
                    if nets.is_empty() {
                        return self.plain_stats(k, scratch);
                    }
                    let theirs = nets.iter().flat_map(|&c| self.cidr_attr_events(c));
                    return SetStats::from_events(own.chain(theirs), scratch);
                }
            }
        }
        self.plain_stats(k, scratch)
    }

    /// Whether key `k` is over-correlating (§6, §7.1).
    fn key_over(&self, k: u32, scratch: &mut Vec<u32>) -> bool {
        let Some(limit) = self.config().limit else {
            return false;
        };
        // Cheap bound: a set of at most limit+1 members never exceeds it.
        let mut bound = self.posting(k).len() as u64;
        if self.config().advanced {
            let cidr = self.cidr();
            if let Some(c) = cidr.cidr_keys.get(&k) {
                bound = c.ext.stats().n;
            } else if let Some(ip) = cidr.ip_keys.get(&k) {
                for c in cidr.containing(ip.addr) {
                    bound += cidr.cidr_keys.get(&c).map_or(0, |c| u64::from(c.attrs));
                }
            }
        }
        if bound <= u64::from(limit) + 1 {
            return false;
        }
        self.key_stats(k, scratch).over(Some(limit))
    }

    /// A viewer in internal numbers.
    fn resolve(&self, viewer: Option<&Viewer>) -> Resolved {
        match viewer {
            None => Resolved::everything(),
            Some(_) if self.config().mode == AclMode::NoAcl => Resolved::everything(),
            Some(v) if v.site_admin => Resolved::everything(),
            Some(v) => {
                let mut groups: Vec<u32> = v
                    .sharing_groups
                    .iter()
                    .filter_map(|&g| self.group_number(g))
                    .collect();
                groups.sort_unstable();
                groups.dedup();
                Resolved {
                    all: false,
                    org: v.org.as_ref().and_then(|o| self.org_number(o.as_id())),
                    groups,
                }
            }
        }
    }

    /// Whether the viewer may see attribute `slot` (§8).
    fn visible(&self, v: &Resolved, slot: u32) -> bool {
        if v.all {
            return true;
        }
        let Some(r) = self.rec(slot) else {
            return false;
        };
        let Some(e) = self.event(r.event) else {
            return false;
        };
        if !e.exists {
            return false;
        }
        let own = v.org.is_some_and(|o| o == e.org && e.org != NONE);
        let group_ok = |d: u8, sg: u32| d == 4 && sg != NONE && v.has_group(sg);
        if !(own || open_level(e.distribution, false) || group_ok(e.distribution, e.sg)) {
            return false;
        }
        if r.object != NONE {
            let Some(o) = self.object(r.object).filter(|o| o.exists) else {
                return false;
            };
            if !(own || open_level(o.distribution, true) || group_ok(o.distribution, o.sg)) {
                return false;
            }
        }
        own || open_level(r.distribution, true) || group_ok(r.distribution, r.sg)
    }
}

/// Per-event counts of CIDR key `c`'s extended set, from scratch, against
/// the containment index `index`.
pub(crate) fn cidr_ext_from_scratch<S: State>(
    s: &S,
    index: &CidrIndex,
    c: u32,
    net: Net,
) -> EventCounts {
    let own = s.posting(c).iter().map(|&x| s.event_of(x));
    let contained = index.contained(net).flat_map(|k| s.ip_attr_events(k));
    EventCounts::from_events(own.chain(contained))
}

/// Builds the containment index of the indexed attributes of `s`.
pub(crate) fn build_cidr<S: State>(s: &S) -> CidrIndex {
    let mut index = CidrIndex::default();
    let t = types();
    for slot in 0..s.slot_count() {
        let Some(r) = s.rec(slot) else { continue };
        if !t.is_ip_family(r.ty) || r.flags & (flag::IDX1 | flag::IDX2) == 0 {
            continue;
        }
        if let Some(k) = s.ip_candidate(&r).filter(|&k| r.has_key(k)) {
            if let Some(ip) = index.ip_keys.get_mut(&k) {
                ip.attrs += 1;
            } else if let Some(addr) = s.parse_addr(k) {
                index.insert_addr(k, addr);
                index.ip_keys.insert(k, IpKey { addr, attrs: 1 });
            }
        }
        if t.may_be_cidr(r.ty) && r.has(flag::IDX1) {
            let c = r.k1;
            if let Some(ck) = index.cidr_keys.get_mut(&c) {
                ck.attrs += 1;
            } else if let Some(net) = s.parse_net(c) {
                index.insert_net(c, net);
                index.cidr_keys.insert(
                    c,
                    CidrKey {
                        net,
                        attrs: 1,
                        ext: EventCounts::default(),
                    },
                );
            }
        }
    }
    let nets: Vec<(u32, Net)> = index.cidr_keys.iter().map(|(&c, k)| (c, k.net)).collect();
    let exts: Vec<(u32, EventCounts)> = {
        let index = &index;
        nets.par_iter()
            .map(|&(c, net)| (c, cidr_ext_from_scratch(s, index, c, net)))
            .collect()
    };
    for (c, ext) in exts {
        if let Some(k) = index.cidr_keys.get_mut(&c) {
            k.ext = ext;
        }
    }
    index
}

/// Builds the ssdeep graph of the indexed ssdeep attributes of `s`.
pub(crate) fn build_fuzzy<S: State>(s: &S) -> FuzzyGraph {
    let mut g = FuzzyGraph::default();
    let Some(ssdeep) = types().ssdeep else {
        return g;
    };
    let members: Vec<(u32, u32, u32)> = (0..s.slot_count())
        .filter_map(|slot| {
            let r = s.rec(slot)?;
            (r.ty == ssdeep && r.has(flag::IDX1)).then(|| (s.value_sid(slot, 1), r.k1, slot))
        })
        .collect();
    let texts: AHashMap<u32, String> = members
        .iter()
        .map(|&(sid, _, _)| (sid, s.text(sid).into_owned()))
        .collect();
    g.build(&members, &texts, s.config().ssdeep_threshold);
    g
}

/// The canonical form (encoding, bytes) the engine interns key `sid` of
/// `s` under: the stored form itself when it is canonical (always, for an
/// undamaged snapshot), else what `Canon::text` makes of its text.
fn canonical_key<S: State>(s: &S, sid: u32) -> (Tag, Cow<'_, [u8]>) {
    const HEX_LENGTHS: [usize; 6] = [16, 20, 28, 32, 48, 64];
    match s.stored(sid) {
        Stored(b, Tag::Hex) if HEX_LENGTHS.contains(&b.len()) => (Tag::Hex, Cow::Borrowed(b)),
        Stored(b, Tag::Raw)
            if std::str::from_utf8(b).is_ok_and(|t| Canon::text(t).tag() == Tag::Raw) =>
        {
            (Tag::Raw, Cow::Borrowed(b))
        }
        stored => {
            let text = stored.to_text();
            let c = Canon::text(&text);
            (c.tag(), Cow::Owned(c.bytes().to_vec()))
        }
    }
}

/// Interns `strings` into `interner`, its shards in parallel (each shard
/// takes its strings in input order); returns each string's id, in input
/// order.
fn intern_all<T: Default + Send>(
    interner: &mut Interner<T>,
    strings: &[(Tag, Cow<'_, [u8]>)],
) -> crate::Result<Vec<u32>> {
    let hasher = &interner.hasher;
    let hashes: Vec<u64> = strings
        .par_iter()
        .map(|(tag, bytes)| hasher.hash_stored(*tag, bytes))
        .collect();
    let mut by_shard: Vec<Vec<usize>> = vec![Vec::new(); interner.shards.len()];
    for (i, &h) in hashes.iter().enumerate() {
        if let Some(v) = by_shard.get_mut(Hasher::shard_of(h)) {
            v.push(i);
        }
    }
    let interned: Vec<crate::Result<Vec<(usize, u32)>>> = interner
        .shards
        .par_iter_mut()
        .zip(by_shard.par_iter())
        .enumerate()
        .map(|(shard_no, (shard, items))| {
            shard.reserve(items.len());
            items
                .iter()
                .filter_map(|&i| Some((i, strings.get(i)?, *hashes.get(i)?)))
                .map(|(i, (tag, bytes), h)| {
                    let (local, _) = shard.intern_bytes(h, *tag, bytes)?;
                    Ok((i, sid(shard_no, local)))
                })
                .collect()
        })
        .collect();
    let mut out = vec![NONE; strings.len()];
    for shard in interned {
        for (i, id) in shard? {
            if let Some(o) = out.get_mut(i) {
                *o = id;
            }
        }
    }
    Ok(out)
}

/// A new in-memory engine holding the same attributes, events, objects,
/// settings and exclusions as `s` (string ids are renumbered).
///
/// The strings (keys and string identities) are interned shard by shard
/// in parallel, and the records and postings are rebuilt in parallel; the
/// events and objects (about 1 % of the attributes) are copied in order.
///
/// # Errors
///
/// [`Error::InvalidArgument`](crate::Error::InvalidArgument) if a string
/// cannot be interned (limits of one engine).
pub(crate) fn to_engine<S: State>(s: &S, exclusions: &[String]) -> crate::Result<Engine> {
    let config = *s.config();
    let mut e = Engine::empty(
        Config {
            advanced: false,
            ..config
        },
        Hasher::new(),
    );
    for p in exclusions {
        e.exclusions.insert(p);
    }
    // Every slot's record (dead slots keep a record too) and diff.
    let fallback = |slot: u32| AttrRec {
        event: NONE,
        object: NONE,
        k1: NONE,
        k2: NONE,
        sg: NONE,
        ty: s.ty_of(slot),
        distribution: 0,
        flags: 0,
    };
    let slots: Vec<(AttrRec, Option<[u32; 2]>)> = (0..s.slot_count())
        .into_par_iter()
        .map(|slot| (s.rec(slot).unwrap_or_else(|| fallback(slot)), s.diff(slot)))
        .collect();
    let mut keys: Vec<u32> = s.live_keys().collect();
    keys.par_sort_unstable();
    // The key strings referred to, interned once each.
    let mut old: Vec<u32> = slots
        .par_iter()
        .flat_map_iter(|(r, d)| [r.k1, r.k2].into_iter().chain(d.iter().flatten().copied()))
        .filter(|&k| k != NONE)
        .chain(keys.par_iter().copied())
        .collect();
    old.par_sort_unstable();
    old.dedup();
    let strings: Vec<(Tag, Cow<'_, [u8]>)> = old.par_iter().map(|&k| canonical_key(s, k)).collect();
    let new = intern_all(&mut e.keys, &strings)?;
    drop(strings);
    // Old id -> new id: a direct table when the old ids are dense (always,
    // for an undamaged snapshot: ids are handed out from 0 in each shard),
    // else a search of the sorted old ids.
    let max = old.last().map_or(0, |&k| k as usize);
    let dense: Vec<u32> = if max < old.len().saturating_mul(4).saturating_add(4096) {
        let mut d = vec![NONE; max + 1];
        for (&k, &n) in old.iter().zip(&new) {
            if let Some(x) = d.get_mut(k as usize) {
                *x = n;
            }
        }
        d
    } else {
        Vec::new()
    };
    let remap = |k: u32| -> u32 {
        if k == NONE {
            return NONE;
        }
        if !dense.is_empty() {
            return dense.get(k as usize).copied().unwrap_or(NONE);
        }
        old.binary_search(&k)
            .ok()
            .and_then(|i| new.get(i).copied())
            .unwrap_or(NONE)
    };
    // String identities, interned once each; a slot is the payload of its
    // identity if it is the live attribute the snapshot finds under it.
    let str_ids: Vec<(u32, &str, bool)> = (0..s.slot_count())
        .into_par_iter()
        .filter_map(|slot| match s.ident_of(slot) {
            Id::Str(text) => {
                let live = slots
                    .get(slot as usize)
                    .is_some_and(|(r, _)| r.has(flag::LIVE));
                Some((slot, text, live && s.slot_of(Id::Str(text)) == Some(slot)))
            }
            Id::Num(_) => None,
        })
        .collect();
    let id_strings: Vec<(Tag, Cow<'_, [u8]>)> = str_ids
        .iter()
        .map(|&(_, text, _)| (Tag::Raw, Cow::Borrowed(text.as_bytes())))
        .collect();
    let id_sids = intern_all(&mut e.ids, &id_strings)?;
    drop(id_strings);
    let mut ext: Vec<u64> = (0..s.slot_count())
        .into_par_iter()
        .map(|slot| match s.ident_of(slot) {
            Id::Num(n) => n,
            Id::Str(_) => 0,
        })
        .collect();
    for (&(slot, _, owner), &id) in str_ids.iter().zip(&id_sids) {
        if let Some(x) = ext.get_mut(slot as usize) {
            *x = u64::from(id);
        }
        if owner {
            if let Some(p) = e.ids.payload_mut(id) {
                *p = SlotRef(slot);
            }
        }
    }
    drop(str_ids);
    // The columns, page by page in parallel (a page moves into the
    // engine's paged column without a copy).
    let remapped = |(r, _): &(AttrRec, Option<[u32; 2]>)| AttrRec {
        k1: remap(r.k1),
        k2: remap(r.k2),
        ..*r
    };
    let pages: Vec<Vec<AttrRec>> = slots
        .par_chunks(PAGE)
        .map(|c| c.iter().map(remapped).collect())
        .collect();
    for page in pages {
        e.attrs.push_page(page);
    }
    for page in ext.chunks(PAGE) {
        e.ext.push_page(page.to_vec());
    }
    drop(ext);
    let diffs: Vec<(u32, [u32; 2])> = slots
        .par_iter()
        .enumerate()
        .filter_map(|(slot, (_, d))| {
            let [d1, d2] = (*d)?;
            Some((slot as u32, [remap(d1), remap(d2)]))
        })
        .collect();
    drop(slots);
    e.diffs.extend(diffs);
    let (nums, _) = super::attr_ids::NumIndex::build(&e.ext, &e.attrs);
    e.nums = nums;
    // Postings: each shard of the new interner fills its own; the per-event
    // counts of long postings are computed in parallel too.
    let mut by_shard: Vec<Vec<(u32, u32)>> = vec![Vec::new(); e.keys.shards.len()];
    for &k in &keys {
        let n = remap(k);
        if let Some(v) = by_shard.get_mut(split(n).0) {
            v.push((split(n).1, k));
        }
    }
    e.keys
        .shards
        .par_iter_mut()
        .zip(by_shard.par_iter())
        .for_each(|(shard, items)| {
            for &(local, k) in items {
                if let Some(p) = shard.payload.get_mut(local as usize) {
                    for &slot in s.posting(k) {
                        p.insert(slot);
                    }
                }
            }
        });
    let big: Vec<(u32, EventCounts)> = keys
        .par_iter()
        .filter(|&&k| s.posting(k).len() > BIG)
        .map(|&k| {
            let counts = EventCounts::from_events(s.posting(k).iter().map(|&x| s.event_of(x)));
            (remap(k), counts)
        })
        .collect();
    e.big.extend(big);
    let mut e_num = 0;
    while let Some(info) = s.event(e_num) {
        e.event_ids.get_or_insert(s.event_ident(e_num));
        e.events.push(EventRec {
            exists: info.exists,
            org: info.org,
            distribution: info.distribution,
            sg: info.sg,
            disable_correlation: info.disable_correlation,
            attrs: s.event_attrs(e_num).to_vec(),
        });
        e_num += 1;
    }
    let mut o_num = 0;
    while let Some(info) = s.object(o_num) {
        if let Some(id) = s.object_ident(o_num) {
            e.object_ids.get_or_insert(id);
        }
        e.objects.push(ObjRec {
            exists: info.exists,
            event: info.event,
            distribution: info.distribution,
            sg: info.sg,
            deleted: info.deleted,
            attrs: Vec::new(),
        });
        o_num += 1;
    }
    for slot in 0..s.slot_count() {
        if let Some(r) = s
            .rec(slot)
            .filter(|r| r.has(flag::LIVE) && r.object != NONE)
        {
            if let Some(o) = e.objects.get_mut(r.object as usize) {
                o.attrs.push(slot);
            }
        }
    }
    let (orgs, groups) = s.org_and_group_idents();
    for id in orgs {
        e.orgs.get_or_insert(id);
    }
    for id in groups {
        e.groups.get_or_insert(id);
    }
    e.live = s.live();
    e.set_advanced(config.advanced);
    Ok(e)
}
