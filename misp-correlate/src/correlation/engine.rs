//! The engine's state and its incremental maintenance.
//!
//! # State
//!
//! * `attrs`: one 24-byte record per attribute *slot* (a dense internal
//!   number, never reused): event, object, the string ids of its value1
//!   and value2 **match keys**, sharing group, type, distribution, flags.
//!   The normalised value is not stored separately unless it differs
//!   from its match key (upper case, trailing spaces, ssdeep hashes): then
//!   `diffs` holds it.
//! * `keys`: the sharded interner of every match key and normalised
//!   value; a key's payload is its **posting**: the sorted slots of the
//!   eligible attributes that have the key (contract §4, A(k) of §6).
//! * `big`: per-event counts of the keys whose posting is long, so that
//!   their over-correlation test stays `O(log)`.
//! * `cidr`: the containment index (§7.1) with the per-event counts of
//!   every CIDR key's extended set, and `fuzzy`: the ssdeep similarity
//!   graph (§7.2). Both exist only while advanced correlation is on
//!   (switching it on builds them from the postings), so that plain
//!   correlation pays nothing for them.
//!
//! Everything derived (who is over-correlating, the pairs, their count) is
//! computed from this state when asked. Nothing depends on the order of
//! changes: every change updates the state, then *re-synchronises* the
//! attributes it touches — their wanted keys are recomputed from the
//! current state and compared with the keys they are indexed under
//! (flags `IDX1`/`IDX2`) — so the state is always the one a bulk build of
//! the current attributes gives.

use std::sync::OnceLock;

use ahash::AHashMap;
use misp_core::{AttributeType, NormalizedRef};
use smallvec::SmallVec;

use super::acl::AclMode;
use super::attr_ids::NumIndex;
use super::counts::{EventCounts, SetStats};
use super::exclusion::{Exclusions, match_key, value1_key};
use super::fuzzy::FuzzyGraph;
use super::id::{Id, IdTable, Ident};
use super::input::{AttributeInput, EventInput, ObjectInput};
use super::intern::{Canon, Hasher, Interner, NONE, SlotRef};
use super::net::{CidrIndex, CidrKey, IpKey, Net};
use super::paged::Paged;
use super::query::Summary;
use super::state::{EventInfo, ObjectInfo, Src, State};
use crate::{Error, Result};

pub(crate) use super::posting::Posting;

/// Postings longer than this keep incremental per-event counts.
pub(crate) const BIG: usize = 64;

/// Attribute flags.
pub(crate) mod flag {
    /// The slot holds an attribute.
    pub(crate) const LIVE: u16 = 1;
    /// Soft-deleted.
    pub(crate) const DELETED: u16 = 1 << 1;
    /// `disable_correlation`.
    pub(crate) const NO_CORR: u16 = 1 << 2;
    /// Indexed under its value1 key.
    pub(crate) const IDX1: u16 = 1 << 3;
    /// Indexed under its value2 key.
    pub(crate) const IDX2: u16 = 1 << 4;
    /// value1 differs from its match key (see `diffs`).
    pub(crate) const DIFF1: u16 = 1 << 5;
    /// value2 differs from its match key (see `diffs`).
    pub(crate) const DIFF2: u16 = 1 << 6;
    /// The type is composite (a value2 exists, possibly empty).
    pub(crate) const HAS_V2: u16 = 1 << 7;
    /// The identity is a string (`ext` holds its string id), not a number.
    pub(crate) const EXT_STR: u16 = 1 << 8;
}

/// One attribute slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttrRec {
    pub(crate) event: u32,
    pub(crate) object: u32,
    /// Match key of value1.
    pub(crate) k1: u32,
    /// Match key of value2 (`NONE` if no value2 or an empty one).
    pub(crate) k2: u32,
    pub(crate) sg: u32,
    pub(crate) ty: AttributeType,
    pub(crate) distribution: u8,
    pub(crate) flags: u16,
}

impl AttrRec {
    pub(crate) fn has(&self, f: u16) -> bool {
        self.flags & f != 0
    }

    /// Whether the attribute is indexed under `key`.
    pub(crate) fn has_key(&self, key: u32) -> bool {
        (self.has(flag::IDX1) && self.k1 == key) || (self.has(flag::IDX2) && self.k2 == key)
    }

    /// The keys it is indexed under.
    pub(crate) fn keys(&self) -> impl Iterator<Item = u32> {
        let a = self.has(flag::IDX1).then_some(self.k1);
        let b = self.has(flag::IDX2).then_some(self.k2);
        a.into_iter().chain(b)
    }
}

/// An event or an object, as the owner of linked attributes.
#[derive(Debug, Clone, Copy)]
enum Owner {
    Event(u32),
    Object(u32),
}

/// One event.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventRec {
    /// Added (not merely referenced by an attribute).
    pub(crate) exists: bool,
    pub(crate) org: u32,
    pub(crate) distribution: u8,
    pub(crate) sg: u32,
    pub(crate) disable_correlation: bool,
    /// Live attribute slots referencing the event.
    pub(crate) attrs: Vec<u32>,
}

/// One object.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjRec {
    pub(crate) exists: bool,
    pub(crate) event: u32,
    pub(crate) distribution: u8,
    pub(crate) sg: u32,
    pub(crate) deleted: bool,
    /// Live attribute slots referencing the object.
    pub(crate) attrs: Vec<u32>,
}

impl EventRec {
    pub(crate) fn placeholder() -> EventRec {
        EventRec {
            org: NONE,
            sg: NONE,
            ..EventRec::default()
        }
    }
}

impl ObjRec {
    pub(crate) fn placeholder() -> ObjRec {
        ObjRec {
            event: NONE,
            sg: NONE,
            ..ObjRec::default()
        }
    }
}

/// Engine settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The over-correlation limit (§6); `None` disables the check.
    /// Default 20, MISP's effective default.
    pub limit: Option<u32>,
    /// CIDR and ssdeep correlation (§7), MISP's
    /// `enable_advanced_correlations`. Default off.
    pub advanced: bool,
    /// Minimum ssdeep score, 1-100 (§7.2). Default 40.
    pub ssdeep_threshold: u32,
    /// Access-control mode (§8). Default [`AclMode::Default`].
    pub mode: AclMode,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limit: Some(20),
            advanced: false,
            ssdeep_threshold: 40,
            mode: AclMode::Default,
        }
    }
}

impl Config {
    pub(crate) fn check(&self) -> Result<()> {
        if !(1..=100).contains(&self.ssdeep_threshold) {
            return Err(Error::InvalidArgument(format!(
                "ssdeep threshold {} is outside 1-100",
                self.ssdeep_threshold
            )));
        }
        Ok(())
    }
}

/// The types whose behaviour depends on them, looked up once.
#[derive(Debug)]
pub(crate) struct Types {
    pub(crate) ip_src: Option<AttributeType>,
    pub(crate) ip_dst: Option<AttributeType>,
    pub(crate) ip_src_port: Option<AttributeType>,
    pub(crate) ip_dst_port: Option<AttributeType>,
    pub(crate) domain_ip: Option<AttributeType>,
    pub(crate) ssdeep: Option<AttributeType>,
}

pub(crate) fn types() -> &'static Types {
    static TYPES: OnceLock<Types> = OnceLock::new();
    TYPES.get_or_init(|| Types {
        ip_src: AttributeType::from_name("ip-src"),
        ip_dst: AttributeType::from_name("ip-dst"),
        ip_src_port: AttributeType::from_name("ip-src|port"),
        ip_dst_port: AttributeType::from_name("ip-dst|port"),
        domain_ip: AttributeType::from_name("domain|ip"),
        ssdeep: AttributeType::from_name("ssdeep"),
    })
}

impl Types {
    fn is_plain_ip(&self, t: AttributeType) -> bool {
        Some(t) == self.ip_src || Some(t) == self.ip_dst
    }

    /// Which half of an attribute of type `t` may hold a single IP for
    /// CIDR correlation (1 or 2), if any.
    pub(crate) fn ip_half(&self, t: AttributeType) -> Option<u8> {
        if self.is_plain_ip(t) || Some(t) == self.ip_src_port || Some(t) == self.ip_dst_port {
            Some(1)
        } else if Some(t) == self.domain_ip {
            Some(2)
        } else {
            None
        }
    }

    /// Whether value1 of type `t` may be a network.
    pub(crate) fn may_be_cidr(&self, t: AttributeType) -> bool {
        self.is_plain_ip(t)
    }

    /// Whether the type takes part in CIDR correlation at all.
    pub(crate) fn is_ip_family(&self, t: AttributeType) -> bool {
        self.ip_half(t).is_some()
    }
}

/// The correlation engine. See the [module documentation](super).
#[derive(Debug)]
pub struct Engine {
    pub(crate) config: Config,
    pub(crate) exclusions: Exclusions,
    pub(crate) keys: Interner<Posting>,
    pub(crate) ids: Interner<SlotRef>,
    pub(crate) attrs: Paged<AttrRec>,
    /// Slot → the attribute's identity: the number, or the string id in
    /// `ids` (flag `EXT_STR`).
    pub(crate) ext: Paged<u64>,
    /// Numeric identities → slots.
    pub(crate) nums: NumIndex,
    /// Slot → string ids of value1/value2 when they differ from their keys.
    pub(crate) diffs: AHashMap<u32, [u32; 2]>,
    pub(crate) big: AHashMap<u32, EventCounts>,
    pub(crate) cidr: CidrIndex,
    pub(crate) fuzzy: FuzzyGraph,
    pub(crate) event_ids: IdTable,
    pub(crate) events: Vec<EventRec>,
    pub(crate) object_ids: IdTable,
    pub(crate) objects: Vec<ObjRec>,
    pub(crate) orgs: IdTable,
    pub(crate) groups: IdTable,
    pub(crate) live: usize,
    pub(crate) summary: OnceLock<Summary>,
}

/// The normalised form of an attribute value, ready to intern (borrowed
/// from the input when normalising changed nothing).
pub(crate) struct Prepared<'a> {
    pub(crate) value: NormalizedRef<'a>,
}

impl Prepared<'_> {
    pub(crate) fn value1(&self) -> &str {
        self.value.value1()
    }

    pub(crate) fn value2(&self) -> Option<&str> {
        self.value.value2()
    }
}

impl Engine {
    /// An empty engine.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the ssdeep threshold is outside 1-100.
    pub fn new(config: Config) -> Result<Engine> {
        config.check()?;
        Ok(Engine::empty(config, Hasher::new()))
    }

    pub(crate) fn empty(config: Config, hasher: Hasher) -> Engine {
        Engine {
            config,
            exclusions: Exclusions::new(),
            keys: Interner::new(hasher.clone()),
            ids: Interner::new(hasher.clone()),
            attrs: Paged::default(),
            ext: Paged::default(),
            nums: NumIndex::default(),
            diffs: AHashMap::new(),
            big: AHashMap::new(),
            cidr: CidrIndex::default(),
            fuzzy: FuzzyGraph::default(),
            event_ids: IdTable::new(hasher.clone()),
            events: Vec::new(),
            object_ids: IdTable::new(hasher.clone()),
            objects: Vec::new(),
            orgs: IdTable::new(hasher.clone()),
            groups: IdTable::new(hasher),
            live: 0,
            summary: OnceLock::new(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The exclusion patterns in force.
    pub fn exclusions(&self) -> &[String] {
        self.exclusions.patterns()
    }

    fn touched(&mut self) {
        self.summary = OnceLock::new();
    }

    // ----- lookups -------------------------------------------------------

    pub(crate) fn rec(&self, slot: u32) -> Option<&AttrRec> {
        self.attrs.get(slot as usize)
    }

    pub(crate) fn posting(&self, key: u32) -> &[u32] {
        self.keys.payload(key).map_or(&[], |p| p.as_slice())
    }

    /// The slot of attribute `id`.
    pub(crate) fn slot_of(&self, id: Id<'_>) -> Option<u32> {
        let slot = match id {
            Id::Num(n) => self.nums.find(n, &self.ext)?,
            Id::Str(s) => {
                let sid = self.ids.find(&Canon::raw(s))?;
                self.ids.payload(sid).map(|p| p.0)?
            }
        };
        // The slot must still hold an attribute with that identity.
        let r = self.rec(slot)?;
        let same = match id {
            Id::Num(n) => !r.has(flag::EXT_STR) && self.ext.get(slot as usize) == Some(&n),
            Id::Str(_) => r.has(flag::EXT_STR),
        };
        (r.has(flag::LIVE) && same).then_some(slot)
    }

    pub(crate) fn ident_of(&self, slot: u32) -> Id<'_> {
        let raw = self.ext.get(slot as usize).copied().unwrap_or(u64::MAX);
        if self.rec(slot).is_some_and(|r| r.has(flag::EXT_STR)) {
            let sid = u32::try_from(raw).unwrap_or(NONE);
            Id::Str(self.ids.get(sid).as_raw_str().unwrap_or(""))
        } else {
            Id::Num(raw)
        }
    }

    pub(crate) fn event_ident(&self, event: u32) -> Id<'_> {
        self.event_ids
            .ident(event)
            .map_or(Id::Str(""), Ident::as_id)
    }

    // ----- eligibility and keys ------------------------------------------

    /// The index flags `slot` should have (contract §4, §5).
    pub(crate) fn wanted(&self, slot: u32) -> u16 {
        self.rec(slot).map_or(0, |r| self.wanted_of(slot, r))
    }

    /// [`Engine::wanted`] for `slot`'s record `r` (for a pass over the
    /// records, which has them at hand).
    pub(crate) fn wanted_of(&self, slot: u32, r: &AttrRec) -> u16 {
        self.wanted_if_eligible(slot, r).unwrap_or(0)
    }

    /// [`Engine::wanted_of`], `None` when the attribute is not eligible
    /// (for the bulk build, which counts the eligible ones on the way).
    #[inline]
    pub(crate) fn wanted_if_eligible(&self, slot: u32, r: &AttrRec) -> Option<u16> {
        if !self.eligible(r) {
            return None;
        }
        // Without exclusions (the usual case) no value is looked at.
        let no_exclusions = self.exclusions.is_empty();
        let excluded = |half: u8| -> bool {
            self.exclusions
                .is_excluded(&self.text(self.value_sid(slot, half)))
        };
        let v1 = no_exclusions || !excluded(1);
        let v2 = r.k2 != NONE && r.ty.value2_correlates() && (no_exclusions || !excluded(2));
        Some(if r.k2 == r.k1 {
            if v1 || v2 { flag::IDX1 } else { 0 }
        } else {
            (if v1 { flag::IDX1 } else { 0 }) | (if v2 { flag::IDX2 } else { 0 })
        })
    }

    /// Brings `slot`'s indexing in line with [`Engine::wanted`].
    pub(crate) fn sync(&mut self, slot: u32) {
        let want = self.wanted(slot);
        self.sync_to(slot, want);
    }

    pub(crate) fn sync_to(&mut self, slot: u32, want: u16) {
        let Some(&r) = self.rec(slot) else { return };
        let have = r.flags & (flag::IDX1 | flag::IDX2);
        if have == want {
            return;
        }
        // Remove first (with the flags still describing the old state),
        // then add.
        for (f, key) in [(flag::IDX2, r.k2), (flag::IDX1, r.k1)] {
            if have & f != 0 && want & f == 0 {
                self.unindex(slot, key);
                if let Some(r) = self.attrs.get_mut(slot as usize) {
                    r.flags &= !f;
                }
            }
        }
        for (f, key) in [(flag::IDX1, r.k1), (flag::IDX2, r.k2)] {
            if have & f == 0 && want & f != 0 {
                if let Some(r) = self.attrs.get_mut(slot as usize) {
                    r.flags |= f;
                }
                self.index(slot, key);
            }
        }
    }

    /// Per-event counts of CIDR key `c`'s extended set, from scratch.
    pub(crate) fn cidr_ext_from_scratch(&self, c: u32, net: Net) -> EventCounts {
        super::state::cidr_ext_from_scratch(self, &self.cidr, c, net)
    }

    // ----- index maintenance ---------------------------------------------

    /// `slot` gains `key` (its flag is already set).
    fn index(&mut self, slot: u32, key: u32) {
        let Some(&r) = self.rec(slot) else { return };
        let ev = r.event;
        // Posting.
        let len = match self.keys.payload_mut(key) {
            Some(p) => {
                p.insert(slot);
                p.len()
            }
            None => return,
        };
        if let Some(b) = self.big.get_mut(&key) {
            b.add(ev);
        } else if len > BIG {
            let counts =
                EventCounts::from_events(self.posting(key).iter().map(|&s| self.event_of(s)));
            self.big.insert(key, counts);
        }
        if self.config.advanced {
            self.index_cidr(key, &r);
        }
        // ssdeep.
        if self.config.advanced && Some(r.ty) == types().ssdeep && r.k1 == key {
            self.fuzzy_insert(slot);
        }
    }

    /// The containment-index side of [`Engine::index`].
    fn index_cidr(&mut self, key: u32, r: &AttrRec) {
        let ev = r.event;
        // CIDR: is it a CIDR attribute of this key?
        let mut counted = false;
        if types().may_be_cidr(r.ty) && r.k1 == key {
            if let Some(net) = self.parse_net(key) {
                if let Some(c) = self.cidr.cidr_keys.get_mut(&key) {
                    c.attrs += 1;
                } else {
                    self.cidr.insert_net(key, net);
                    let ext = self.cidr_ext_from_scratch(key, net);
                    self.cidr
                        .cidr_keys
                        .insert(key, CidrKey { net, attrs: 1, ext });
                    counted = true;
                }
            }
        }
        if !counted {
            if let Some(c) = self.cidr.cidr_keys.get_mut(&key) {
                c.ext.add(ev);
            }
        }
        // CIDR: is it an IP attribute of this key?
        if self.ip_candidate(r) == Some(key) {
            if let Some(addr) = self.parse_addr(key) {
                match self.cidr.ip_keys.get_mut(&key) {
                    Some(ip) => ip.attrs += 1,
                    None => {
                        self.cidr.insert_addr(key, addr);
                        self.cidr.ip_keys.insert(key, IpKey { addr, attrs: 1 });
                    }
                }
                let containing: SmallVec<[u32; 8]> = self.cidr.containing(addr).collect();
                for c in containing {
                    if let Some(ck) = self.cidr.cidr_keys.get_mut(&c) {
                        ck.ext.add(ev);
                    }
                }
            }
        }
    }

    /// `slot` loses `key` (its flag is still set).
    fn unindex(&mut self, slot: u32, key: u32) {
        let Some(&r) = self.rec(slot) else { return };
        let ev = r.event;
        if self.config.advanced {
            if Some(r.ty) == types().ssdeep && r.k1 == key {
                self.fuzzy_remove(slot);
            }
            self.unindex_cidr(key, &r);
        }
        let mut drop_big = false;
        if let Some(p) = self.keys.payload_mut(key) {
            p.remove(slot);
            if p.len() < BIG / 2 {
                drop_big = true;
            }
        }
        if let Some(b) = self.big.get_mut(&key) {
            if drop_big {
                self.big.remove(&key);
            } else {
                b.remove(ev);
            }
        }
    }

    /// The containment-index side of [`Engine::unindex`].
    fn unindex_cidr(&mut self, key: u32, r: &AttrRec) {
        let ev = r.event;
        if self.ip_candidate(r) == Some(key) {
            if let Some(ip) = self.cidr.ip_keys.get(&key).cloned() {
                let containing: SmallVec<[u32; 8]> = self.cidr.containing(ip.addr).collect();
                for c in containing {
                    if let Some(ck) = self.cidr.cidr_keys.get_mut(&c) {
                        ck.ext.remove(ev);
                    }
                }
                if ip.attrs <= 1 {
                    self.cidr.ip_keys.remove(&key);
                    self.cidr.remove_addr(key, ip.addr);
                } else if let Some(ip) = self.cidr.ip_keys.get_mut(&key) {
                    ip.attrs -= 1;
                }
            }
        }
        let is_cidr = types().may_be_cidr(r.ty) && r.k1 == key;
        match self.cidr.cidr_keys.get_mut(&key) {
            Some(c) if is_cidr && c.attrs <= 1 => {
                let net = c.net;
                self.cidr.cidr_keys.remove(&key);
                self.cidr.remove_net(key, net);
            }
            Some(c) => {
                if is_cidr {
                    c.attrs -= 1;
                }
                c.ext.remove(ev);
            }
            None => {}
        }
    }

    fn fuzzy_insert(&mut self, slot: u32) {
        let Some(r) = self.rec(slot) else { return };
        let key = r.k1;
        let sid = self.value_sid(slot, 1);
        let text = self.text(sid).into_owned();
        let threshold = self.config.ssdeep_threshold;
        self.fuzzy.insert(sid, &text, key, slot, threshold);
    }

    fn fuzzy_remove(&mut self, slot: u32) {
        let sid = self.value_sid(slot, 1);
        self.fuzzy.remove(sid, slot);
    }

    /// Rebuilds the containment index from the indexed attributes (empty
    /// unless advanced correlation is on: it is only maintained then).
    pub(crate) fn rebuild_cidr(&mut self) {
        self.cidr = CidrIndex::default();
        if self.config.advanced {
            self.cidr = super::state::build_cidr(self);
        }
    }

    /// Rebuilds the ssdeep graph from the indexed ssdeep attributes.
    pub(crate) fn rebuild_fuzzy(&mut self) {
        self.fuzzy = FuzzyGraph::default();
        if self.config.advanced {
            self.fuzzy = super::state::build_fuzzy(self);
        }
    }

    // ----- normalisation and interning -----------------------------------

    /// Normalises `input`'s value as MISP would save it.
    pub(crate) fn prepare<'a>(
        input: &AttributeInput<'a>,
    ) -> std::result::Result<Prepared<'a>, String> {
        misp_core::normalize_ref(input.ty, input.value)
            .map(|value| Prepared { value })
            .map_err(|r| r.reason().to_owned())
    }

    /// Interns a value half and its match key `key`: returns (key sid,
    /// value sid if it differs).
    fn intern_half(&mut self, value: &str, key: &str) -> Result<(u32, u32)> {
        let k = self.keys.intern(&Canon::text(key))?;
        if key == value {
            Ok((k, NONE))
        } else {
            Ok((k, self.keys.intern(&Canon::text(value))?))
        }
    }

    fn make_record(
        &mut self,
        input: &AttributeInput<'_>,
        prepared: &Prepared<'_>,
    ) -> Result<(AttrRec, [u32; 2])> {
        let (k1, d1) = self.intern_half(prepared.value1(), &value1_key(&prepared.value))?;
        let (k2, d2) = match prepared.value2() {
            Some(v2) if !v2.is_empty() => self.intern_half(v2, &match_key(v2))?,
            _ => (NONE, NONE),
        };
        let event = self.event_slot(input.event);
        let object = match input.object {
            Some(o) => self.object_slot(o),
            None => NONE,
        };
        let sg = self.sharing_group(input.distribution, input.sharing_group);
        let mut flags = flag::LIVE;
        if matches!(input.id, Id::Str(_)) {
            flags |= flag::EXT_STR;
        }
        if input.deleted {
            flags |= flag::DELETED;
        }
        if input.disable_correlation {
            flags |= flag::NO_CORR;
        }
        if d1 != NONE {
            flags |= flag::DIFF1;
        }
        if d2 != NONE {
            flags |= flag::DIFF2;
        }
        if prepared.value2().is_some() {
            flags |= flag::HAS_V2;
        }
        Ok((
            AttrRec {
                event,
                object,
                k1,
                k2,
                sg,
                ty: input.ty,
                distribution: input.distribution,
                flags,
            },
            [d1, d2],
        ))
    }

    pub(crate) fn event_slot(&mut self, id: Id<'_>) -> u32 {
        let (e, new) = self.event_ids.get_or_insert(id);
        if new {
            self.events.push(EventRec::placeholder());
        }
        e
    }

    pub(crate) fn object_slot(&mut self, id: Id<'_>) -> u32 {
        let (o, new) = self.object_ids.get_or_insert(id);
        if new {
            self.objects.push(ObjRec::placeholder());
        }
        o
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn group_slot(&mut self, g: u64) -> u32 {
        self.groups.get_or_insert(Id::Num(g)).0
    }

    pub(crate) fn org_slot(&mut self, id: Id<'_>) -> u32 {
        self.orgs.get_or_insert(id).0
    }

    // ----- events --------------------------------------------------------

    /// The sharing-group slot of a record with `distribution` and
    /// `group`: only distribution 4 ("sharing group") has one (decided
    /// inline; the group's lookup is out of line).
    #[inline]
    pub(crate) fn sharing_group(&mut self, distribution: u8, group: Option<u64>) -> u32 {
        match (distribution, group) {
            (4, Some(g)) => self.group_slot(g),
            _ => NONE,
        }
    }

    /// Sets event `e`'s settings from `input` (it exists from now on).
    pub(crate) fn apply_event(&mut self, e: u32, input: &EventInput<'_>) {
        let org = input.org.map_or(NONE, |o| self.org_slot(o));
        let sg = self.sharing_group(input.distribution, input.sharing_group);
        if let Some(rec) = self.events.get_mut(e as usize) {
            rec.exists = true;
            rec.org = org;
            rec.distribution = input.distribution;
            rec.sg = sg;
            rec.disable_correlation = input.disable_correlation;
        }
    }

    /// The live attribute slots linked to `owner`.
    fn linked(&self, owner: Owner) -> &[u32] {
        let attrs = match owner {
            Owner::Event(e) => self.events.get(e as usize).map(|r| &r.attrs),
            Owner::Object(o) => self.objects.get(o as usize).map(|r| &r.attrs),
        };
        attrs.map_or(&[], Vec::as_slice)
    }

    /// Re-synchronises the attributes linked to `owner` (after a change
    /// to it that may change their eligibility). Syncing never changes
    /// the links, so the list is walked in place.
    fn sync_linked(&mut self, owner: Owner) {
        let mut i = 0;
        while let Some(&s) = self.linked(owner).get(i) {
            self.sync(s);
            i += 1;
        }
    }

    /// Adds an event. Attributes that referenced it before it existed
    /// become eligible.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the event exists.
    pub fn add_event(&mut self, input: &EventInput<'_>) -> Result<()> {
        if self.event_slot_of(input.id).is_some() {
            return Err(Error::InvalidArgument(format!("event {} exists", input.id)));
        }
        let e = self.event_slot(input.id);
        self.apply_event(e, input);
        self.sync_linked(Owner::Event(e));
        self.touched();
        Ok(())
    }

    /// Replaces an event's settings (owner, distribution, sharing group,
    /// `disable_correlation`); its attributes stay.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the event does not exist.
    pub fn update_event(&mut self, input: &EventInput<'_>) -> Result<()> {
        let e = self
            .event_slot_of(input.id)
            .ok_or_else(|| Error::InvalidArgument(format!("no event {}", input.id)))?;
        self.apply_event(e, input);
        self.sync_linked(Owner::Event(e));
        self.touched();
        Ok(())
    }

    /// Enables or disables correlation for a whole event (MISP's
    /// "toggle event correlation").
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the event does not exist.
    pub fn set_event_correlation(&mut self, id: Id<'_>, enabled: bool) -> Result<()> {
        let e = self
            .event_slot_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no event {id}")))?;
        if let Some(rec) = self.events.get_mut(e as usize) {
            rec.disable_correlation = !enabled;
        }
        self.sync_linked(Owner::Event(e));
        self.touched();
        Ok(())
    }

    /// Deletes an event with all its attributes; its objects cease to
    /// exist.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the event does not exist.
    pub fn remove_event(&mut self, id: Id<'_>) -> Result<()> {
        let e = self
            .event_slot_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no event {id}")))?;
        // Taken, not cloned: unlinking finds nothing left to remove here.
        let attrs = self
            .events
            .get_mut(e as usize)
            .map(|r| std::mem::take(&mut r.attrs))
            .unwrap_or_default();
        for s in attrs {
            self.drop_slot(s);
        }
        let mut gone = Vec::new();
        for (i, o) in self.objects.iter_mut().enumerate() {
            if o.exists && o.event == e {
                o.exists = false;
                gone.push(i as u32);
            }
        }
        if let Some(rec) = self.events.get_mut(e as usize) {
            *rec = EventRec::placeholder();
        }
        // Attributes of other events that point at those objects.
        for o in gone {
            self.sync_linked(Owner::Object(o));
        }
        self.touched();
        Ok(())
    }

    // ----- objects -------------------------------------------------------

    /// Sets object `o`'s settings from `input` (it exists from now on).
    pub(crate) fn apply_object(&mut self, o: u32, input: &ObjectInput<'_>) {
        let event = self.event_slot(input.event);
        let sg = self.sharing_group(input.distribution, input.sharing_group);
        if let Some(rec) = self.objects.get_mut(o as usize) {
            rec.exists = true;
            rec.event = event;
            rec.distribution = input.distribution;
            rec.sg = sg;
            rec.deleted = input.deleted;
        }
    }

    fn object_exists(&self, id: Id<'_>) -> Option<u32> {
        self.object_ids
            .get(id)
            .filter(|&o| self.objects.get(o as usize).is_some_and(|r| r.exists))
    }

    /// Adds an object.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the object exists.
    pub fn add_object(&mut self, input: &ObjectInput<'_>) -> Result<()> {
        if self.object_exists(input.id).is_some() {
            return Err(Error::InvalidArgument(format!(
                "object {} exists",
                input.id
            )));
        }
        let o = self.object_slot(input.id);
        self.apply_object(o, input);
        self.sync_linked(Owner::Object(o));
        self.touched();
        Ok(())
    }

    /// Replaces an object's settings (distribution, sharing group,
    /// deletion).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the object does not exist.
    pub fn update_object(&mut self, input: &ObjectInput<'_>) -> Result<()> {
        let o = self
            .object_exists(input.id)
            .ok_or_else(|| Error::InvalidArgument(format!("no object {}", input.id)))?;
        self.apply_object(o, input);
        self.sync_linked(Owner::Object(o));
        self.touched();
        Ok(())
    }

    /// Removes an object; its attributes stay but no longer correlate (an
    /// attribute whose object is missing is not eligible, §3).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the object does not exist.
    pub fn remove_object(&mut self, id: Id<'_>) -> Result<()> {
        let o = self
            .object_exists(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no object {id}")))?;
        if let Some(rec) = self.objects.get_mut(o as usize) {
            rec.exists = false;
        }
        self.sync_linked(Owner::Object(o));
        self.touched();
        Ok(())
    }

    // ----- attributes ----------------------------------------------------

    fn rejected(input: &AttributeInput<'_>, reason: String) -> Error {
        Error::Rejected(Box::new(super::input::Rejected {
            attribute: input.id.to_ident(),
            event: input.event.to_ident(),
            ty: input.ty.name().to_owned(),
            value: input.value.to_owned(),
            reason,
        }))
    }

    fn link(&mut self, slot: u32) {
        let Some(&r) = self.rec(slot) else { return };
        if let Some(e) = self.events.get_mut(r.event as usize) {
            e.attrs.push(slot);
        }
        if let Some(o) = self.objects.get_mut(r.object as usize) {
            o.attrs.push(slot);
        }
    }

    fn unlink(&mut self, slot: u32) {
        let Some(&r) = self.rec(slot) else { return };
        if let Some(e) = self.events.get_mut(r.event as usize) {
            if let Some(i) = e.attrs.iter().position(|&s| s == slot) {
                e.attrs.swap_remove(i);
            }
        }
        if let Some(o) = self.objects.get_mut(r.object as usize) {
            if let Some(i) = o.attrs.iter().position(|&s| s == slot) {
                o.attrs.swap_remove(i);
            }
        }
    }

    /// Unindexes, unlinks and frees `slot`.
    fn drop_slot(&mut self, slot: u32) {
        self.sync_to(slot, 0);
        self.unlink(slot);
        let is_str = self.rec(slot).is_some_and(|r| r.has(flag::EXT_STR));
        if let (true, Some(&raw)) = (is_str, self.ext.get(slot as usize)) {
            if let Some(p) = self.ids.payload_mut(u32::try_from(raw).unwrap_or(NONE)) {
                if p.0 == slot {
                    *p = SlotRef(NONE);
                }
            }
        }
        self.diffs.remove(&slot);
        if let Some(r) = self.attrs.get_mut(slot as usize) {
            if r.has(flag::LIVE) {
                self.live -= 1;
            }
            r.flags = 0;
        }
    }

    /// The `ext` value of identity `id` (interning a string identity).
    fn ext_of(&mut self, id: Id<'_>) -> Result<u64> {
        match id {
            Id::Num(n) => Ok(n),
            Id::Str(s) => self.ids.intern(&Canon::raw(s)).map(u64::from),
        }
    }

    /// Adds an attribute: normalises its value and indexes it if eligible.
    ///
    /// # Errors
    ///
    /// * [`Error::Rejected`] if MISP would refuse the value (nothing is
    ///   stored);
    /// * [`Error::InvalidArgument`] if an attribute with this id exists.
    pub fn add_attribute(&mut self, input: &AttributeInput<'_>) -> Result<()> {
        if self.slot_of(input.id).is_some() {
            return Err(Error::InvalidArgument(format!(
                "attribute {} exists",
                input.id
            )));
        }
        let prepared = Self::prepare(input).map_err(|reason| Self::rejected(input, reason))?;
        let slot = u32::try_from(self.attrs.len())
            .ok()
            .filter(|&s| s != NONE)
            .ok_or_else(|| Error::InvalidArgument("too many attributes for one engine".into()))?;
        let ext = self.ext_of(input.id)?;
        let (rec, diff) = self.make_record(input, &prepared)?;
        self.attrs.push(rec);
        self.ext.push(ext);
        if diff != [NONE, NONE] {
            self.diffs.insert(slot, diff);
        }
        match input.id {
            Id::Num(n) => self.nums.push(n, slot, &self.ext),
            Id::Str(_) => {
                if let Some(p) = self.ids.payload_mut(u32::try_from(ext).unwrap_or(NONE)) {
                    *p = SlotRef(slot);
                }
            }
        }
        self.live += 1;
        self.link(slot);
        self.sync(slot);
        self.touched();
        Ok(())
    }

    /// Replaces an attribute (value, type, event, object, flags,
    /// distribution): the result is as if it had been added so.
    ///
    /// # Errors
    ///
    /// * [`Error::Rejected`] if MISP would refuse the new value (the
    ///   attribute is left unchanged);
    /// * [`Error::InvalidArgument`] if no attribute has this id.
    pub fn update_attribute(&mut self, input: &AttributeInput<'_>) -> Result<()> {
        let slot = self
            .slot_of(input.id)
            .ok_or_else(|| Error::InvalidArgument(format!("no attribute {}", input.id)))?;
        let prepared = Self::prepare(input).map_err(|reason| Self::rejected(input, reason))?;
        self.sync_to(slot, 0);
        self.unlink(slot);
        let (rec, diff) = self.make_record(input, &prepared)?;
        if let Some(r) = self.attrs.get_mut(slot as usize) {
            *r = rec;
        }
        if diff != [NONE, NONE] {
            self.diffs.insert(slot, diff);
        } else {
            self.diffs.remove(&slot);
        }
        self.link(slot);
        self.sync(slot);
        self.touched();
        Ok(())
    }

    /// Deletes an attribute.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if no attribute has this id.
    pub fn remove_attribute(&mut self, id: Id<'_>) -> Result<()> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no attribute {id}")))?;
        self.drop_slot(slot);
        self.touched();
        Ok(())
    }

    /// Enables or disables correlation for one attribute.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if no attribute has this id.
    pub fn set_attribute_correlation(&mut self, id: Id<'_>, enabled: bool) -> Result<()> {
        let slot = self
            .slot_of(id)
            .ok_or_else(|| Error::InvalidArgument(format!("no attribute {id}")))?;
        if let Some(r) = self.attrs.get_mut(slot as usize) {
            if enabled {
                r.flags &= !flag::NO_CORR;
            } else {
                r.flags |= flag::NO_CORR;
            }
        }
        self.sync(slot);
        self.touched();
        Ok(())
    }

    // ----- settings ------------------------------------------------------

    /// Re-synchronises every attribute whose indexing no longer matches
    /// the state (after an exclusion change). The wanted flags are
    /// computed in parallel.
    fn resync_all(&mut self) {
        use rayon::prelude::*;
        let this = &*self;
        let changes: Vec<(u32, u16)> = self
            .attrs
            .par_pages()
            .flat_map_iter(|(first, page)| {
                page.iter().enumerate().filter_map(move |(j, r)| {
                    let s = (first + j) as u32;
                    if !r.has(flag::LIVE) {
                        return None;
                    }
                    let want = this.wanted(s);
                    (want != r.flags & (flag::IDX1 | flag::IDX2)).then_some((s, want))
                })
            })
            .collect();
        for (s, want) in changes {
            self.sync_to(s, want);
        }
    }

    /// Adds an exclusion pattern (§5); correlations on the values it
    /// matches disappear as if they had never been made. Returns false if
    /// the pattern was already present.
    pub fn add_exclusion(&mut self, pattern: &str) -> bool {
        if !self.exclusions.insert(pattern) {
            return false;
        }
        self.resync_all();
        self.touched();
        true
    }

    /// Removes an exclusion pattern; the values it matched correlate again
    /// exactly as if it had never existed. Returns false if the pattern
    /// was not present.
    pub fn remove_exclusion(&mut self, pattern: &str) -> bool {
        if !self.exclusions.remove(pattern) {
            return false;
        }
        self.resync_all();
        self.touched();
        true
    }

    /// Sets the over-correlation limit (`None`: no limit). Nothing is
    /// recomputed: over-correlation is decided from per-key counts when
    /// asked.
    pub fn set_limit(&mut self, limit: Option<u32>) {
        self.config.limit = limit;
        self.touched();
    }

    /// Switches advanced (CIDR and ssdeep) correlation on or off.
    pub fn set_advanced(&mut self, on: bool) {
        if self.config.advanced != on {
            self.config.advanced = on;
            self.rebuild_cidr();
            self.rebuild_fuzzy();
            self.touched();
        }
    }

    /// Sets the ssdeep threshold (1-100).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if it is outside 1-100.
    pub fn set_ssdeep_threshold(&mut self, threshold: u32) -> Result<()> {
        Config {
            ssdeep_threshold: threshold,
            ..self.config
        }
        .check()?;
        if self.config.ssdeep_threshold != threshold {
            self.config.ssdeep_threshold = threshold;
            self.rebuild_fuzzy();
            self.touched();
        }
        Ok(())
    }

    /// Sets the access-control mode.
    pub fn set_mode(&mut self, mode: AclMode) {
        self.config.mode = mode;
    }
}

impl State for Engine {
    fn src(&self) -> Src<'_> {
        Src::Engine(self)
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn live(&self) -> usize {
        self.live
    }

    fn slot_count(&self) -> u32 {
        u32::try_from(self.attrs.len()).unwrap_or(NONE)
    }

    #[inline]
    fn rec(&self, slot: u32) -> Option<AttrRec> {
        self.attrs.get(slot as usize).copied()
    }

    fn ty_of(&self, slot: u32) -> AttributeType {
        // Views are only made for existing slots (an internal invariant,
        // not something input can break).
        self.attrs[slot as usize].ty
    }

    #[inline]
    fn posting(&self, key: u32) -> &[u32] {
        Engine::posting(self, key)
    }

    fn big_stats(&self, key: u32) -> Option<SetStats> {
        self.big.get(&key).map(EventCounts::stats)
    }

    fn live_keys(&self) -> impl rayon::prelude::ParallelIterator<Item = u32> + '_ {
        use rayon::prelude::*;
        self.keys
            .shards
            .par_iter()
            .enumerate()
            .flat_map_iter(|(shard, s)| {
                s.payload
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !p.is_empty())
                    .map(move |(local, _)| super::intern::sid(shard, local as u32))
            })
    }

    fn stored(&self, sid: u32) -> super::intern::Stored<'_> {
        self.keys.get(sid)
    }

    fn find_key(&self, canon: &Canon<'_>) -> Option<u32> {
        self.keys.find(canon)
    }

    fn diff(&self, slot: u32) -> Option<[u32; 2]> {
        self.diffs.get(&slot).copied()
    }

    fn ident_of(&self, slot: u32) -> Id<'_> {
        Engine::ident_of(self, slot)
    }

    fn slot_of(&self, id: Id<'_>) -> Option<u32> {
        Engine::slot_of(self, id)
    }

    fn event(&self, e: u32) -> Option<EventInfo> {
        self.events.get(e as usize).map(|r| EventInfo {
            exists: r.exists,
            org: r.org,
            distribution: r.distribution,
            sg: r.sg,
            disable_correlation: r.disable_correlation,
        })
    }

    fn event_attrs(&self, e: u32) -> &[u32] {
        self.events.get(e as usize).map_or(&[], |r| &r.attrs)
    }

    fn event_number(&self, id: Id<'_>) -> Option<u32> {
        self.event_ids.get(id)
    }

    fn event_ident(&self, e: u32) -> Id<'_> {
        Engine::event_ident(self, e)
    }

    fn object(&self, o: u32) -> Option<ObjectInfo> {
        self.objects.get(o as usize).map(|r| ObjectInfo {
            exists: r.exists,
            event: r.event,
            distribution: r.distribution,
            sg: r.sg,
            deleted: r.deleted,
        })
    }

    fn object_ident(&self, o: u32) -> Option<Id<'_>> {
        self.object_ids.ident(o).map(Ident::as_id)
    }

    fn org_number(&self, id: Id<'_>) -> Option<u32> {
        self.orgs.get(id)
    }

    fn group_number(&self, g: u64) -> Option<u32> {
        self.groups.get(Id::Num(g))
    }

    fn cidr(&self) -> &CidrIndex {
        &self.cidr
    }

    fn fuzzy(&self) -> &FuzzyGraph {
        &self.fuzzy
    }

    fn summary_cache(&self) -> &OnceLock<Summary> {
        &self.summary
    }

    fn org_and_group_idents(&self) -> (Vec<Id<'_>>, Vec<Id<'_>>) {
        (self.orgs.all(), self.groups.all())
    }
}
