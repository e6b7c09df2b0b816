//! Bulk construction, in parallel.
//!
//! [`EngineBuilder::add`] only copies the attribute into a chunk buffer
//! (its value and identity bytes into the chunk's arena) and resolves its
//! event, object and sharing group, which are few. Every
//! [`CHUNK`] attributes the chunk goes to the rayon pool, which
//! normalises the values, computes match keys and interns them into the
//! sharded interner: each chunk sorts its strings by shard and takes each
//! shard's lock once. At most two chunks per thread are in flight; the
//! caller waits beyond that, so memory stays bounded however fast the
//! input comes.
//!
//! [`EngineBuilder::build`] then, in parallel where it pays:
//! decides every attribute's keys (eligibility, exclusions), fills the
//! postings shard by shard in slot order (so they come out sorted),
//! counts the big keys' events, builds the containment index and, with
//! advanced correlation, the ssdeep graph, and finally computes the
//! [`Summary`](super::Summary) — over-correlation decided and the number
//! of correlations known.
//!
//! The result is identical to adding the same attributes one by one to
//! an [`Engine`] (the property tests check it).

use std::sync::{Arc, Condvar, Mutex, PoisonError};

use ahash::AHashMap;
use misp_core::{AttributeType, Event, NormalizedValue};
use rayon::prelude::*;

use super::counts::EventCounts;
use super::engine::{AttrRec, BIG, Config, Engine, Posting, flag, types};
use super::exclusion::match_key;
use super::id::{Id, Ident};
use super::input::{AttributeInput, EventInput, ObjectInput, Rejected};
use super::attr_ids::NumIndex;
use super::intern::{Canon, Hasher, NONE, SHARDS, Shard, SlotRef, Tag, sid, split};
use super::net::{CidrKey, IpKey};
use crate::{Error, Result};

/// Attributes per chunk handed to the pool (one page of the engine's
/// per-attribute columns).
pub const CHUNK: usize = super::paged::PAGE;

/// An attribute's identity inside a chunk.
#[derive(Debug, Clone, Copy)]
enum RawId {
    Num(u64),
    Str(u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct RawItem {
    id: RawId,
    value: (u32, u32),
    event: u32,
    object: u32,
    sg: u32,
    ty: AttributeType,
    distribution: u8,
    flags: u16,
}

#[derive(Debug, Default)]
struct RawChunk {
    first_slot: u32,
    bytes: Vec<u8>,
    items: Vec<RawItem>,
}

impl RawChunk {
    fn text(&self, (start, len): (u32, u32)) -> &str {
        self.bytes
            .get(start as usize..start as usize + len as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    fn push_str(&mut self, s: &str) -> Result<(u32, u32)> {
        let start = u32::try_from(self.bytes.len()).ok();
        let len = u32::try_from(s.len()).ok();
        match (start, len) {
            (Some(start), Some(len)) if start.checked_add(len).is_some() => {
                self.bytes.extend_from_slice(s.as_bytes());
                Ok((start, len))
            }
            _ => Err(Error::InvalidArgument("attribute value too large".into())),
        }
    }
}

/// A rejection found while processing a chunk.
#[derive(Debug)]
struct PendingReject {
    slot: u32,
    id: Ident,
    event: u32,
    ty: AttributeType,
    value: String,
    reason: String,
}

#[derive(Debug, Default)]
struct DoneChunk {
    first_slot: u32,
    recs: Vec<AttrRec>,
    ext: Vec<u64>,
    diffs: Vec<(u32, [u32; 2])>,
    rejected: Vec<PendingReject>,
    /// Slots whose identity an earlier slot already has.
    losers: Vec<u32>,
}

/// State shared with the pool.
#[derive(Debug)]
struct Shared {
    hasher: Hasher,
    keys: Vec<Mutex<Shard<Posting>>>,
    ids: Vec<Mutex<Shard<SlotRef>>>,
    done: Mutex<Vec<DoneChunk>>,
    error: Mutex<Option<Error>>,
}

/// Chunks in flight. Separate from [`Shared`] so that a worker drops its
/// handle on the shared state *before* it reports being done.
#[derive(Debug, Default)]
struct Gate {
    inflight: Mutex<usize>,
    idle: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock means a panic elsewhere; the data is still usable
    // (every critical section leaves it consistent between strings).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An engine built in bulk, with the attributes that were refused.
#[derive(Debug)]
pub struct Built {
    /// The engine.
    pub engine: Engine,
    /// Attributes that were not indexed, in input order, with the reason.
    pub rejected: Vec<Rejected>,
}

/// Builds an [`Engine`] from many attributes at once, in parallel.
///
/// # Examples
///
/// ```
/// use misp_core::AttributeType;
/// use misp_correlate::correlation::{AttributeInput, EngineBuilder, EventInput, Id};
///
/// let ip = AttributeType::from_name("ip-dst").unwrap();
/// let mut b = EngineBuilder::new();
/// b.add_event(&EventInput::new(1)).unwrap();
/// b.add_event(&EventInput::new(2)).unwrap();
/// b.add(&AttributeInput::new(10, 1, ip, "198.51.100.7")).unwrap();
/// b.add(&AttributeInput::new(20, 2, ip, "198.51.100.7")).unwrap();
/// let built = b.build().unwrap();
/// assert!(built.rejected.is_empty());
/// assert_eq!(built.engine.summary().correlations(), 1);
/// let c = built.engine.correlations_of(Id::Num(10), None).unwrap();
/// assert_eq!(c[0].b().id(), Id::Num(20));
/// ```
#[derive(Debug)]
pub struct EngineBuilder {
    engine: Engine,
    shared: Arc<Shared>,
    gate: Arc<Gate>,
    chunk: RawChunk,
    next_slot: u32,
    max_inflight: usize,
    /// Rejections found on the calling thread (unknown types, repeated
    /// events), with the slot that was next at the time (for ordering).
    rejected: Vec<(u32, Rejected)>,
    /// The event of the previous attribute.
    last_event: Option<(Ident, u32)>,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder::new()
    }
}

impl EngineBuilder {
    /// A builder with the default [`Config`].
    pub fn new() -> EngineBuilder {
        EngineBuilder::with_config(Config::default())
    }

    /// A builder with `config` (checked by [`EngineBuilder::build`]).
    pub fn with_config(config: Config) -> EngineBuilder {
        let hasher = Hasher::new();
        let engine = Engine::empty(config, hasher.clone());
        let shared = Shared {
            hasher,
            keys: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            ids: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            done: Mutex::new(Vec::new()),
            error: Mutex::new(None),
        };
        EngineBuilder {
            engine,
            shared: Arc::new(shared),
            gate: Arc::new(Gate::default()),
            chunk: RawChunk::default(),
            next_slot: 0,
            max_inflight: 2 * rayon::current_num_threads().max(1),
            rejected: Vec::new(),
            last_event: None,
        }
    }

    /// Sets the over-correlation limit (`None`: no limit).
    pub fn limit(&mut self, limit: Option<u32>) -> &mut Self {
        self.engine.config.limit = limit;
        self
    }

    /// Switches advanced (CIDR, ssdeep) correlation.
    pub fn advanced(&mut self, on: bool) -> &mut Self {
        self.engine.config.advanced = on;
        self
    }

    /// Sets the access-control mode.
    pub fn mode(&mut self, mode: super::AclMode) -> &mut Self {
        self.engine.config.mode = mode;
        self
    }

    /// Sets the ssdeep threshold (1-100, checked by
    /// [`EngineBuilder::build`]).
    pub fn ssdeep_threshold(&mut self, threshold: u32) -> &mut Self {
        self.engine.config.ssdeep_threshold = threshold;
        self
    }

    /// Adds an exclusion pattern (§5).
    pub fn exclusion(&mut self, pattern: &str) -> &mut Self {
        self.engine.exclusions.insert(pattern);
        self
    }

    /// Adds an event.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the event was already added.
    pub fn add_event(&mut self, input: &EventInput<'_>) -> Result<()> {
        if self.engine.event_slot_of(input.id).is_some() {
            return Err(Error::InvalidArgument(format!("event {} exists", input.id)));
        }
        let e = self.engine.event_slot(input.id);
        let org = input.org.map_or(NONE, |o| self.engine.org_slot(o));
        let sg = match (input.distribution, input.sharing_group) {
            (4, Some(g)) => self.engine.group_slot(g),
            _ => NONE,
        };
        if let Some(rec) = self.engine.events.get_mut(e as usize) {
            rec.exists = true;
            rec.org = org;
            rec.distribution = input.distribution;
            rec.sg = sg;
            rec.disable_correlation = input.disable_correlation;
        }
        Ok(())
    }

    /// Adds an object.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the object was already added.
    pub fn add_object(&mut self, input: &ObjectInput<'_>) -> Result<()> {
        let o = self.engine.object_slot(input.id);
        if self
            .engine
            .objects
            .get(o as usize)
            .is_some_and(|r| r.exists)
        {
            return Err(Error::InvalidArgument(format!(
                "object {} exists",
                input.id
            )));
        }
        let event = self.engine.event_slot(input.event);
        let sg = match (input.distribution, input.sharing_group) {
            (4, Some(g)) => self.engine.group_slot(g),
            _ => NONE,
        };
        if let Some(rec) = self.engine.objects.get_mut(o as usize) {
            rec.exists = true;
            rec.event = event;
            rec.distribution = input.distribution;
            rec.sg = sg;
            rec.deleted = input.deleted;
        }
        Ok(())
    }

    /// Adds an attribute. Normalisation happens in the pool; a value MISP
    /// would refuse, or an identity already used, ends up in
    /// [`Built::rejected`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the engine's capacity (2³² − 1
    /// attributes) is exhausted or a value exceeds 4 GiB.
    pub fn add(&mut self, input: &AttributeInput<'_>) -> Result<()> {
        if self.next_slot == NONE - 1 {
            return Err(Error::InvalidArgument(
                "too many attributes for one engine".into(),
            ));
        }
        // Consecutive attributes usually share their event.
        let event = match &self.last_event {
            Some((id, e)) if id.as_id() == input.event => *e,
            _ => {
                let e = self.engine.event_slot(input.event);
                self.last_event = Some((input.event.to_ident(), e));
                e
            }
        };
        let object = match input.object {
            Some(o) => self.engine.object_slot(o),
            None => NONE,
        };
        let sg = match (input.distribution, input.sharing_group) {
            (4, Some(g)) => self.engine.group_slot(g),
            _ => NONE,
        };
        let id = match input.id {
            Id::Num(n) => RawId::Num(n),
            Id::Str(s) => {
                let (a, b) = self.chunk.push_str(s)?;
                RawId::Str(a, b)
            }
        };
        let value = self.chunk.push_str(input.value)?;
        let mut flags = 0;
        if input.deleted {
            flags |= flag::DELETED;
        }
        if input.disable_correlation {
            flags |= flag::NO_CORR;
        }
        if self.chunk.items.is_empty() {
            self.chunk.first_slot = self.next_slot;
        }
        self.chunk.items.push(RawItem {
            id,
            value,
            event,
            object,
            sg,
            ty: input.ty,
            distribution: input.distribution,
            flags,
        });
        self.next_slot += 1;
        if self.chunk.items.len() >= CHUNK {
            self.dispatch();
        }
        Ok(())
    }

    /// Hands the current chunk to the pool, waiting while too many are in
    /// flight.
    fn dispatch(&mut self) {
        let chunk = std::mem::take(&mut self.chunk);
        if chunk.items.is_empty() {
            return;
        }
        {
            let mut n = lock(&self.gate.inflight);
            while *n >= self.max_inflight {
                n = self
                    .gate
                    .idle
                    .wait(n)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            *n += 1;
        }
        let shared = Arc::clone(&self.shared);
        let gate = Arc::clone(&self.gate);
        rayon::spawn(move || {
            let done = process(&chunk, &shared);
            match done {
                Ok(d) => lock(&shared.done).push(d),
                Err(e) => {
                    lock(&shared.error).get_or_insert(e);
                }
            }
            drop(shared);
            drop(chunk);
            let mut n = lock(&gate.inflight);
            *n -= 1;
            gate.idle.notify_all();
        });
    }

    fn wait_idle(&self) {
        let mut n = lock(&self.gate.inflight);
        while *n > 0 {
            n = self
                .gate
                .idle
                .wait(n)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Finishes the engine.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an invalid [`Config`] or exhausted
    /// capacity.
    pub fn build(mut self) -> Result<Built> {
        self.dispatch();
        self.wait_idle();
        if let Some(e) = lock(&self.shared.error).take() {
            return Err(e);
        }
        self.engine.config.check()?;
        let shared = Arc::try_unwrap(self.shared)
            .map_err(|_| Error::InvalidArgument("builder still shared by the pool".into()))?;
        let mut engine = self.engine;
        engine.keys.shards = shared
            .keys
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
            .collect();
        engine.ids.shards = shared
            .ids
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(PoisonError::into_inner))
            .collect();
        let mut done = shared
            .done
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        done.sort_unstable_by_key(|d| d.first_slot);
        let mut pending = Vec::new();
        let mut losers = Vec::new();
        for d in done {
            engine.attrs.push_page(d.recs);
            engine.ext.push_page(d.ext);
            engine.diffs.extend(d.diffs);
            pending.extend(d.rejected);
            losers.extend(d.losers);
        }
        let rejected = finish(&mut engine, pending, losers, self.rejected);
        Ok(Built { engine, rejected })
    }
}

/// A value half: its match key and its normalised value.
type Half<'a> = (std::borrow::Cow<'a, str>, &'a str);

/// One string of a chunk to intern: its hash, its text, its item and
/// which string of the item it is (0 key1, 1 value1, 2 key2, 3 value2,
/// 4 identity).
#[derive(Debug, Clone, Copy)]
struct Request<'a> {
    hash: u64,
    text: &'a str,
    item: u32,
    which: u8,
}

impl<'a> Request<'a> {
    fn canon(&self) -> Canon<'a> {
        if self.which == 4 { Canon::raw(self.text) } else { Canon::text(self.text) }
    }
}

/// Normalises, keys and interns one chunk.
fn process(chunk: &RawChunk, shared: &Shared) -> Result<DoneChunk> {
    let n = chunk.items.len();
    let mut out = DoneChunk { first_slot: chunk.first_slot, ..DoneChunk::default() };
    // Normalise.
    let norms: Vec<std::result::Result<NormalizedValue, String>> = chunk
        .items
        .iter()
        .map(|it| {
            misp_core::normalize(it.ty, chunk.text(it.value)).map_err(|r| r.reason().to_owned())
        })
        .collect();
    // Match keys (borrowing the normalised values when unchanged).
    let halves: Vec<[Option<Half<'_>>; 2]> = norms
        .iter()
        .map(|nv| match nv {
            Ok(v) => {
                let v1 = v.value1();
                let h2 = v.value2().filter(|s| !s.is_empty()).map(|v2| (match_key(v2), v2));
                [Some((match_key(v1), v1)), h2]
            }
            Err(_) => [None, None],
        })
        .collect();
    // The strings to intern, counted per shard.
    let mut reqs: Vec<Request<'_>> = Vec::with_capacity(n * 2);
    let mut per_shard = [0usize; SHARDS];
    for (i, (h, it)) in halves.iter().zip(&chunk.items).enumerate() {
        if h[0].is_none() {
            continue;
        }
        let mut ask = |r: &mut Request<'_>| {
            r.hash = shared.hasher.hash(&r.canon());
            per_shard[Hasher::shard_of(r.hash)] += 1;
        };
        let item = i as u32;
        for (half, entry) in h.iter().enumerate() {
            if let Some((key, value)) = entry {
                let which = (half * 2) as u8;
                let mut r = Request { hash: 0, text: key, item, which };
                ask(&mut r);
                reqs.push(r);
                if key != value {
                    let mut r = Request { hash: 0, text: value, item, which: which + 1 };
                    ask(&mut r);
                    reqs.push(r);
                }
            }
        }
        if let RawId::Str(a, b) = it.id {
            let mut r = Request { hash: 0, text: chunk.text((a, b)), item, which: 4 };
            ask(&mut r);
            reqs.push(r);
        }
    }
    // Counting sort by shard (stable: identities keep input order).
    let mut starts = [0usize; SHARDS + 1];
    for (k, c) in per_shard.iter().enumerate() {
        starts[k + 1] = starts[k] + c;
    }
    let mut sorted: Vec<Request<'_>> = reqs.clone();
    {
        let mut fill = starts;
        for req in &reqs {
            let k = Hasher::shard_of(req.hash);
            if let Some(o) = sorted.get_mut(fill[k]) {
                *o = *req;
            }
            fill[k] += 1;
        }
    }
    drop(reqs);
    let mut got: Vec<[u32; 5]> = vec![[NONE; 5]; n];
    let rehash = |t: Tag, b: &[u8]| shared.hasher.hash_stored(t, b);
    for shard in 0..SHARDS {
        let group = sorted.get(starts[shard]..starts[shard + 1]).unwrap_or(&[]);
        if group.is_empty() {
            continue;
        }
        let (Some(key_shard), Some(id_shard)) = (shared.keys.get(shard), shared.ids.get(shard))
        else {
            continue;
        };
        let (mut keys, mut ids) = (None, None);
        for r in group {
            let c = r.canon();
            let slot = chunk.first_slot + r.item;
            let local = if r.which == 4 {
                let s = ids.get_or_insert_with(|| lock(id_shard));
                let (local, _) = s.intern(r.hash, &c, &rehash)?;
                if let Some(p) = s.payload.get_mut(local as usize) {
                    if p.0 == NONE {
                        p.0 = slot;
                    } else if p.0 < slot {
                        out.losers.push(slot);
                    } else {
                        out.losers.push(p.0);
                        p.0 = slot;
                    }
                }
                local
            } else {
                let s = keys.get_or_insert_with(|| lock(key_shard));
                s.intern(r.hash, &c, &rehash)?.0
            };
            if let Some(g) =
                got.get_mut(r.item as usize).and_then(|g| g.get_mut(usize::from(r.which)))
            {
                *g = sid(shard, local);
            }
        }
    }
    // Records.
    out.recs.reserve_exact(n);
    out.ext.reserve_exact(n);
    for (i, it) in chunk.items.iter().enumerate() {
        let slot = chunk.first_slot + i as u32;
        let g = got.get(i).copied().unwrap_or([NONE; 5]);
        let (ext, ext_flag) = match it.id {
            RawId::Num(x) => (x, 0),
            RawId::Str(..) => (u64::from(g[4]), flag::EXT_STR),
        };
        out.ext.push(ext);
        match norms.get(i) {
            Some(Ok(nv)) => {
                let mut flags = it.flags | flag::LIVE | ext_flag;
                if g[1] != NONE {
                    flags |= flag::DIFF1;
                }
                if g[3] != NONE {
                    flags |= flag::DIFF2;
                }
                if nv.value2().is_some() {
                    flags |= flag::HAS_V2;
                }
                if g[1] != NONE || g[3] != NONE {
                    out.diffs.push((slot, [g[1], g[3]]));
                }
                out.recs.push(AttrRec {
                    event: it.event,
                    object: it.object,
                    k1: g[0],
                    k2: g[2],
                    sg: it.sg,
                    ty: it.ty,
                    distribution: it.distribution,
                    flags,
                });
            }
            other => {
                let reason = match other {
                    Some(Err(r)) => r.clone(),
                    _ => "not normalised".to_owned(),
                };
                out.rejected.push(PendingReject {
                    slot,
                    id: match it.id {
                        RawId::Num(x) => Ident::Num(x),
                        RawId::Str(a, b) => Ident::from(chunk.text((a, b))),
                    },
                    event: it.event,
                    ty: it.ty,
                    value: chunk.text(it.value).to_owned(),
                    reason,
                });
                // Dead, but keeps the kind of identity (for the numeric
                // index's ascending check).
                out.recs.push(AttrRec { flags: ext_flag, ..dead(it) });
            }
        }
    }
    Ok(out)
}

fn dead(it: &RawItem) -> AttrRec {
    AttrRec {
        event: it.event,
        object: it.object,
        k1: NONE,
        k2: NONE,
        sg: it.sg,
        ty: it.ty,
        distribution: it.distribution,
        flags: 0,
    }
}

/// Everything after interning: rejections, links, keys, postings, counts,
/// containment index, ssdeep graph, summary.
fn finish(
    engine: &mut Engine,
    pending: Vec<PendingReject>,
    mut losers: Vec<u32>,
    early: Vec<(u32, Rejected)>,
) -> Vec<Rejected> {
    // Rejections, in input order (a stable sort by slot keeps the
    // calling-thread ones before the attribute added next).
    let mut all: Vec<(u32, Rejected)> = early;
    all.extend(pending.into_iter().map(|p| {
        let rej = Rejected {
            attribute: p.id,
            event: engine.event_ident(p.event).to_ident(),
            ty: p.ty.name().to_owned(),
            value: p.value,
            reason: p.reason,
        };
        (p.slot, rej)
    }));
    // Numeric identities: index, and find the repeated ones.
    let (nums, repeated) = NumIndex::build(&engine.ext, &engine.attrs);
    engine.nums = nums;
    losers.extend(repeated);
    losers.sort_unstable();
    losers.dedup();
    for &s in &losers {
        let Some(&r) = engine.rec(s) else { continue };
        if !r.has(flag::LIVE) {
            continue;
        }
        let value = match engine.value_text(s, 2) {
            Some(v2) => format!("{}|{}", engine.text(engine.value_sid(s, 1)), v2),
            None => engine.text(engine.value_sid(s, 1)).into_owned(),
        };
        all.push((
            s,
            Rejected {
                attribute: engine.ident_of(s).to_ident(),
                event: engine.event_ident(r.event).to_ident(),
                ty: r.ty.name().to_owned(),
                value,
                reason: "duplicate attribute id".to_owned(),
            },
        ));
        if let Some(rec) = engine.attrs.get_mut(s as usize) {
            rec.flags &= flag::EXT_STR;
        }
        engine.diffs.remove(&s);
    }
    all.sort_by_key(|(s, _)| *s);
    let rejected: Vec<Rejected> = all.into_iter().map(|(_, r)| r).collect();

    // Links.
    let mut live = 0;
    for (s, r) in engine.attrs.iter().enumerate() {
        if !r.has(flag::LIVE) {
            continue;
        }
        live += 1;
        if let Some(e) = engine.events.get_mut(r.event as usize) {
            e.attrs.push(s as u32);
        }
        if let Some(o) = engine.objects.get_mut(r.object as usize) {
            o.attrs.push(s as u32);
        }
    }
    engine.live = live;

    // Keys.
    let wanted: Vec<Vec<u16>> = {
        let e = &*engine;
        e.attrs
            .par_pages()
            .map(|(first, page)| (0..page.len()).map(|j| e.wanted((first + j) as u32)).collect())
            .collect()
    };
    engine.attrs.par_pages_mut().zip(wanted.par_iter()).for_each(|((_, page), w)| {
        for (r, &w) in page.iter_mut().zip(w) {
            r.flags |= w;
        }
    });
    drop(wanted);

    // Postings: partition (key, slot) by shard per page, then fill each
    // shard from the pages in order (so postings come out sorted).
    let buckets: Vec<Vec<Vec<(u32, u32)>>> = engine
        .attrs
        .par_pages()
        .map(|(first, page)| {
            let mut b: Vec<Vec<(u32, u32)>> = vec![Vec::new(); SHARDS];
            for (j, r) in page.iter().enumerate() {
                let slot = (first + j) as u32;
                for k in r.keys() {
                    let (shard, local) = split(k);
                    if let Some(v) = b.get_mut(shard) {
                        v.push((local, slot));
                    }
                }
            }
            b
        })
        .collect();
    let attrs = &engine.attrs;
    let bigs: Vec<Vec<(u32, EventCounts)>> = engine
        .keys
        .shards
        .par_iter_mut()
        .enumerate()
        .map(|(shard, s)| {
            for range in &buckets {
                for &(local, slot) in range.get(shard).map_or(&[][..], |v| v.as_slice()) {
                    if let Some(p) = s.payload.get_mut(local as usize) {
                        p.insert(slot);
                    }
                }
            }
            s.payload
                .iter()
                .enumerate()
                .filter(|(_, p)| p.len() > BIG)
                .map(|(local, p)| {
                    let events = p
                        .as_slice()
                        .iter()
                        .map(|&x| attrs.get(x as usize).map_or(NONE, |r| r.event));
                    (sid(shard, local as u32), EventCounts::from_events(events))
                })
                .collect()
        })
        .collect();
    drop(buckets);
    engine.big = bigs.into_iter().flatten().collect::<AHashMap<_, _>>();

    // Containment index.
    build_cidr(engine);
    // ssdeep graph.
    engine.rebuild_fuzzy();
    // Over-correlation and the number of correlations.
    let _ = engine.summary();
    rejected
}

/// Builds the containment index of a bulk-built engine.
fn build_cidr(engine: &mut Engine) {
    let t = types();
    for s in 0..engine.attrs.len() as u32 {
        let Some(&r) = engine.rec(s) else { continue };
        if !t.is_ip_family(r.ty) || r.flags & (flag::IDX1 | flag::IDX2) == 0 {
            continue;
        }
        if let Some(k) = engine.ip_candidate(&r).filter(|&k| r.has_key(k)) {
            if let Some(ip) = engine.cidr.ip_keys.get_mut(&k) {
                ip.attrs += 1;
            } else if let Some(addr) = engine.parse_addr(k) {
                engine.cidr.insert_addr(k, addr);
                engine.cidr.ip_keys.insert(k, IpKey { addr, attrs: 1 });
            }
        }
        if t.may_be_cidr(r.ty) && r.has(flag::IDX1) {
            let c = r.k1;
            if let Some(ck) = engine.cidr.cidr_keys.get_mut(&c) {
                ck.attrs += 1;
            } else if let Some(net) = engine.parse_net(c) {
                engine.cidr.insert_net(c, net);
                engine.cidr.cidr_keys.insert(
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
    let nets: Vec<(u32, super::net::Net)> = engine
        .cidr
        .cidr_keys
        .iter()
        .map(|(&c, k)| (c, k.net))
        .collect();
    let exts: Vec<(u32, EventCounts)> = {
        let e = &*engine;
        nets.par_iter()
            .map(|&(c, net)| (c, e.cidr_ext_from_scratch(c, net)))
            .collect()
    };
    for (c, ext) in exts {
        if let Some(k) = engine.cidr.cidr_keys.get_mut(&c) {
            k.ext = ext;
        }
    }
}

impl Engine {
    /// Builds an engine from MISP events (as read by
    /// [`misp_core::json`]), in parallel.
    ///
    /// Identities: events by uuid, objects by uuid (or
    /// `<event uuid>/object/<n>`), attributes by
    /// [`AttributeRef::key`](misp_core::AttributeRef::key), organisations
    /// by [`OrgRef::identity`](misp_core::OrgRef::identity) of the event's
    /// local `Org`. An attribute of an unknown type, one MISP would refuse
    /// and a second copy of an identity are returned in
    /// [`Built::rejected`], never indexed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an invalid [`Config`] or exhausted
    /// capacity.
    pub fn from_events(config: Config, events: impl IntoIterator<Item = Event>) -> Result<Built> {
        let mut b = EngineBuilder::with_config(config);
        for event in events {
            b.add_misp_event(&event)?;
        }
        b.build()
    }
}

impl EngineBuilder {
    /// Adds one MISP event with its objects and attributes (see
    /// [`Engine::from_events`] for identities and rejections).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if capacity is exhausted.
    pub fn add_misp_event(&mut self, event: &Event) -> Result<()> {
        let org = event.org.identity();
        let input = EventInput {
            id: Id::Str(&event.uuid),
            org: org.as_deref().map(Id::Str),
            distribution: event.distribution,
            sharing_group: event.sharing_group_id,
            disable_correlation: event.disable_correlation,
        };
        if self.add_event(&input).is_err() {
            // A second copy of an event: none of its attributes is taken.
            for a in event.all_attributes() {
                self.rejected.push((
                    self.next_slot,
                    Rejected {
                        attribute: Ident::from(a.key(event)),
                        event: Ident::from(event.uuid.as_str()),
                        ty: a.attribute.type_name.clone(),
                        value: a.attribute.value.clone(),
                        reason: format!(
                            "event {} appears more than once; this copy is ignored",
                            event.uuid
                        ),
                    },
                ));
            }
            return Ok(());
        }
        let object_ids: Vec<String> = event
            .objects
            .iter()
            .enumerate()
            .map(|(n, o)| match &o.uuid {
                Some(u) if !u.is_empty() => u.clone(),
                _ => format!("{}/object/{n}", event.uuid),
            })
            .collect();
        for (o, oid) in event.objects.iter().zip(&object_ids) {
            let input = ObjectInput {
                id: Id::Str(oid),
                event: Id::Str(&event.uuid),
                distribution: o.distribution,
                sharing_group: o.sharing_group_id,
                deleted: o.deleted,
            };
            // A repeated object uuid keeps its first settings.
            let _ = self.add_object(&input);
        }
        for a in event.all_attributes() {
            let key = a.key(event);
            let object = a
                .object
                .and_then(|o| event.objects.iter().position(|x| std::ptr::eq(x, o)))
                .and_then(|n| object_ids.get(n));
            let Some(ty) = AttributeType::from_name(&a.attribute.type_name) else {
                self.rejected.push((
                    self.next_slot,
                    Rejected {
                        attribute: Ident::from(key),
                        event: Ident::from(event.uuid.as_str()),
                        ty: a.attribute.type_name.clone(),
                        value: a.attribute.value.clone(),
                        reason: format!("unknown attribute type {:?}", a.attribute.type_name),
                    },
                ));
                continue;
            };
            let input = AttributeInput {
                id: Id::Str(&key),
                event: Id::Str(&event.uuid),
                object: object.map(|s| Id::Str(s)),
                ty,
                value: &a.attribute.value,
                distribution: a.attribute.distribution,
                sharing_group: a.attribute.sharing_group_id,
                disable_correlation: a.attribute.disable_correlation,
                deleted: a.attribute.deleted,
            };
            self.add(&input)?;
        }
        Ok(())
    }
}
