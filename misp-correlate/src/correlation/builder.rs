//! Bulk construction, in parallel.
//!
//! [`EngineBuilder::add`] only copies the attribute into a chunk buffer
//! (its value and identity bytes into the chunk's arena) and resolves its
//! event, object and sharing group, which are few. Every [`CHUNK`]
//! attributes the chunk goes to the rayon pool, which normalises the
//! values, computes their match keys and hashes, and *stages* every
//! string for interning in one of [`SHARDS`](super::intern) buckets
//! chosen by its hash. A staged string names where its canonical bytes
//! are: most are slices of the chunk's own text (a value stored as given
//! and its match key), which the chunk keeps until it is interned; only
//! the others (packed hex, lower-cased keys, rewritten values) are copied
//! into the chunk's extra bytes.
//!
//! Every [`BATCH`] chunks (and at the end), the staged strings are
//! interned shard by shard, one shard per task, in input order: a task
//! only touches its own shard's table and arena (a few megabytes even for
//! ten million attributes), which stay in cache, instead of every task
//! touching every shard. No locks are needed, and the numbering of the
//! strings is deterministic. The batch's attribute records are then built
//! and appended, one page per chunk, to the engine's columns. All of this
//! is one pool task, which takes those columns out of the engine while it
//! runs: the caller goes on adding attributes, and the pool staging them,
//! meanwhile (adding touches only the events, objects and groups). The
//! next batch waits for it, so batches are interned in order. A batch of
//! 64 chunks (about a million attributes) lets a shard's task find much
//! of its table already in cache from the batch's earlier strings.
//!
//! [`EngineBuilder::build`] then, in parallel where it pays:
//! decides every attribute's keys (eligibility, exclusions), counting the
//! eligible ones, while one pool thread links the attributes to their
//! events and objects (a run of an event's consecutive attributes at a
//! time), fills the postings shard by shard in slot order (so they come
//! out sorted) and in the same pass over each shard counts the live keys,
//! the big keys' events and lists the keys on two or more attributes,
//! builds the containment index and, with advanced correlation, the
//! ssdeep graph, and finally computes the [`Summary`](super::Summary) —
//! over-correlation decided and the number of correlations known — from
//! those counts and lists: the pairs and over-correlation of the listed
//! keys only (without CIDR correlation a key on one attribute has
//! neither), with no further pass over every key and every attribute.
//!
//! A panic in a pool task (a bug: no input panics) is caught there and
//! raised again on the caller's thread by the next `add` that hands over
//! a chunk, or by `build`, where a caller's guard (the FFI's) can catch
//! it: rayon aborts the process on a panic that escapes a spawned task.
//! The builder is unusable after it: `build` and every later `add` that
//! would hand over a chunk return an error (the adds in between only copy
//! into the chunk that is never handed over).
//!
//! At most two chunks per thread are in flight and at most two batches
//! are staged (one of them being interned), so memory stays bounded
//! however fast the input comes. The
//! result is identical to adding the same attributes one by one to an
//! [`Engine`] (the property tests check it).

use std::any::Any;
use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use ahash::AHashMap;
use misp_core::{AttributeType, BorrowedEvent, Event};
use rayon::prelude::*;

use super::attr_ids::NumIndex;
use super::counts::EventCounts;
use super::engine::{AttrRec, BIG, Config, Engine, flag};
use super::exclusion::{match_key, value1_key};
use super::id::{Id, Ident};
use super::input::{AttributeInput, EventInput, ObjectInput, Rejected};
use super::intern::{Canon, Hasher, NONE, SHARDS, Shard, SlotRef, Tag, sid, split};
use super::paged::Paged;
use super::posting::Posting;
use super::query::{Queries, key_may_count};
use super::state::State;
use crate::{Error, Result};

/// Attributes per chunk handed to the pool (one page of the engine's
/// per-attribute columns).
pub const CHUNK: usize = super::paged::PAGE;

/// Chunks staged before their strings are interned. Larger batches
/// measured faster at 10M attributes on 2 cores (16 cost about 5 % more
/// CPU than 32; 64 about 1 % less wall time than 32 for 14 MiB more peak
/// memory; 128 about 1 % less again, for 120 MiB more).
pub const BATCH: usize = 64;

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
    /// The values and string identities, back to back.
    text: String,
    items: Vec<RawItem>,
}

impl RawChunk {
    fn text(&self, (start, len): (u32, u32)) -> &str {
        self.text
            .get(start as usize..start as usize + len as usize)
            .unwrap_or("")
    }

    #[inline]
    fn push_str(&mut self, s: &str) -> Result<(u32, u32)> {
        // The text stays below 4 GiB: its end fits a `u32`.
        let (start, end) = (self.text.len(), self.text.len() + s.len());
        if end > u32::MAX as usize {
            return Err(Error::InvalidArgument("attribute value too large".into()));
        }
        self.text.push_str(s);
        Ok((start as u32, s.len() as u32))
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

/// Which string of an attribute a staged string is.
mod which {
    pub(super) const KEY1: u32 = 0;
    pub(super) const VALUE1: u32 = 1;
    pub(super) const KEY2: u32 = 2;
    pub(super) const VALUE2: u32 = 3;
    pub(super) const ID: u32 = 4;
}

/// One string staged for interning: where its canonical bytes are in its
/// chunk (in the attributes' own text, or in the chunk's `extra` bytes).
#[derive(Debug, Clone, Copy)]
struct Staged {
    hash: u64,
    start: u32,
    len: u32,
    /// `item << 3 | which`.
    item_which: u32,
    tag: Tag,
    /// The bytes are in the chunk's `extra`, not in its `text`.
    in_extra: bool,
}

/// The strings of one chunk that belong to one shard.
#[derive(Debug, Default)]
struct Part {
    entries: Vec<Staged>,
}

/// Per-item facts `records` needs after staging.
mod meta {
    /// Normalised (not rejected).
    pub(super) const OK: u8 = 1;
    /// Composite: has a value2 (possibly empty).
    pub(super) const HAS_V2: u8 = 2;
}

/// A chunk after normalisation, with its strings staged per shard.
#[derive(Debug, Default)]
struct StagedChunk {
    first_slot: u32,
    /// The chunk's text, kept until its strings are interned: most
    /// canonical strings are slices of it (a value stored as given, its
    /// match key), and are read from it instead of copied.
    text: String,
    /// The canonical bytes that are not in `text` (packed hex, lower-cased
    /// keys, rewritten values), back to back.
    extra: Vec<u8>,
    items: Vec<RawItem>,
    meta: Vec<u8>,
    rejected: Vec<PendingReject>,
    parts: Vec<Part>,
    /// The string ids of every item's strings, by [`which`] ([`NONE`]
    /// where there is none), filled from the interning tasks' local ids
    /// (see [`ShardLocals`]) just before the chunk's records are built.
    sids: Vec<[u32; 5]>,
}

/// What a chunk contributes to the engine.
#[derive(Debug, Default)]
struct DoneChunk {
    recs: Vec<AttrRec>,
    ext: Vec<u64>,
    diffs: Vec<(u32, [u32; 2])>,
}

/// State shared with the pool.
#[derive(Debug)]
struct Shared {
    hasher: Hasher,
    staged: Mutex<Vec<StagedChunk>>,
    /// Buffers of finished chunks, cleared, for the next ones: reusing
    /// them saves growing fresh buffers (and faulting in fresh pages) for
    /// every chunk.
    spare: Mutex<Spare>,
    /// The panic of a staging task, raised again by the caller.
    panicked: Mutex<Option<Box<dyn Any + Send>>>,
}

/// Reusable chunk buffers.
#[derive(Debug, Default)]
struct Spare {
    texts: Vec<String>,
    extras: Vec<Vec<u8>>,
    items: Vec<Vec<RawItem>>,
    parts: Vec<Vec<Part>>,
}

/// A value handed from a pool task to the builder (a one-shot channel,
/// but `Sync`, as the builder is: `mpsc::Receiver` is not).
#[derive(Debug)]
struct Handoff<T> {
    value: Mutex<Option<T>>,
    ready: Condvar,
}

impl<T> Default for Handoff<T> {
    fn default() -> Self {
        Handoff {
            value: Mutex::new(None),
            ready: Condvar::new(),
        }
    }
}

impl<T> Handoff<T> {
    fn put(&self, value: T) {
        *lock(&self.value) = Some(value);
        self.ready.notify_all();
    }

    /// Waits for the value.
    fn take(&self) -> T {
        let mut slot = lock(&self.value);
        loop {
            if let Some(v) = slot.take() {
                return v;
            }
            slot = self
                .ready
                .wait(slot)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
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
    // (every critical section leaves it consistent).
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
/// b.reserve(2); // optional: the number of attributes to come
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
    /// Chunks dispatched since the last batch was interned.
    unbatched: usize,
    /// Chunks per batch: [`BATCH`] (smaller in tests, to make many
    /// batches of few attributes).
    batch: usize,
    /// Rejections found on the calling thread (unknown types, repeated
    /// events), with the slot that was next at the time (for ordering).
    rejected: Vec<(u32, Rejected)>,
    /// Rejections found in the pool.
    pending: Vec<PendingReject>,
    /// Slots whose string identity an earlier slot already has.
    losers: Vec<u32>,
    /// The batch being interned in the pool, with the engine's columns
    /// it fills: the interning of one batch overlaps the staging of the
    /// next.
    interning: Option<Arc<Handoff<BatchDone>>>,
    /// Strings per shard [`EngineBuilder::reserve`] asked room for, not
    /// yet made (while a batch is being interned, its shards are out).
    deferred_reserve: usize,
    /// A pool task panicked: the engine may be incomplete.
    broken: bool,
    /// The event of the previous attribute.
    last_event: Option<(Ident, u32)>,
    /// The object of the previous attribute that had one.
    last_object: Option<(Ident, u32)>,
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
            staged: Mutex::new(Vec::new()),
            spare: Mutex::new(Spare::default()),
            panicked: Mutex::new(None),
        };
        EngineBuilder {
            engine,
            shared: Arc::new(shared),
            gate: Arc::new(Gate::default()),
            chunk: RawChunk::default(),
            next_slot: 0,
            max_inflight: 2 * rayon::current_num_threads().max(1),
            unbatched: 0,
            batch: BATCH,
            rejected: Vec::new(),
            pending: Vec::new(),
            losers: Vec::new(),
            interning: None,
            deferred_reserve: 0,
            broken: false,
            last_event: None,
            last_object: None,
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

    /// Makes room for about `attributes` more attributes, when the caller
    /// knows roughly how many will come: every shard of the string
    /// interner sizes its table and columns once for one key per
    /// attribute, instead of growing (and moving them) step by step. A
    /// hint only: adding more or fewer is fine. Capacity that is never
    /// used costs address space, not memory, except for the tables'
    /// control bytes (about one byte per attribute).
    pub fn reserve(&mut self, attributes: usize) -> &mut Self {
        self.deferred_reserve = self
            .deferred_reserve
            .saturating_add(attributes.div_ceil(SHARDS));
        // While a batch is being interned its shards are out: they make
        // room when they come back.
        if self.interning.is_none() {
            self.reserve_deferred();
        }
        self
    }

    /// Makes the room [`EngineBuilder::reserve`] asked for in the key
    /// shards.
    fn reserve_deferred(&mut self) {
        let per_shard = std::mem::take(&mut self.deferred_reserve);
        if per_shard > 0 {
            for shard in &mut self.engine.keys.shards {
                shard.reserve(per_shard);
            }
        }
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
        self.engine.apply_event(e, input);
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
        self.engine.apply_object(o, input);
        Ok(())
    }

    /// Adds an attribute. Normalisation happens in the pool; a value MISP
    /// would refuse, or an identity already used, ends up in
    /// [`Built::rejected`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the engine's capacity (2³² − 2
    /// attributes, 4 GiB of distinct strings per shard) is exhausted, a
    /// value exceeds 4 GiB, or a pool task panicked earlier.
    ///
    /// # Panics
    ///
    /// Raises again the panic of a pool task (a bug), on the call that
    /// hands over the next chunk (see the module documentation).
    pub fn add(&mut self, input: &AttributeInput<'_>) -> Result<()> {
        if self.next_slot >= NONE - 1 {
            return Err(Error::InvalidArgument(
                "too many attributes for one engine".into(),
            ));
        }
        // Consecutive attributes usually share their event, and an
        // object's attributes usually come together: the lookups are out
        // of line (and so is a sharing group's, the rare case).
        let event = match &self.last_event {
            Some((id, e)) if id.as_id() == input.event => *e,
            _ => self.event_of(input.event),
        };
        let object = match (input.object, &self.last_object) {
            (None, _) => NONE,
            (Some(o), Some((id, slot))) if id.as_id() == o => *slot,
            (Some(o), _) => self.object_of(o),
        };
        let sg = self
            .engine
            .sharing_group(input.distribution, input.sharing_group);
        let id = match input.id {
            Id::Num(n) => RawId::Num(n),
            Id::Str(s) => {
                let (a, b) = self.chunk.push_str(s)?;
                RawId::Str(a, b)
            }
        };
        let value = self.chunk.push_str(input.value)?;
        let flags = if input.deleted { flag::DELETED } else { 0 }
            | if input.disable_correlation {
                flag::NO_CORR
            } else {
                0
            };
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
            self.chunk_full()?;
        }
        Ok(())
    }

    /// The slot of event `id`, remembered for the attributes that follow.
    #[cold]
    #[inline(never)]
    fn event_of(&mut self, id: Id<'_>) -> u32 {
        let e = self.engine.event_slot(id);
        self.last_event = Some((id.to_ident(), e));
        e
    }

    /// The slot of object `id`, remembered for the attributes that follow.
    #[cold]
    #[inline(never)]
    fn object_of(&mut self, id: Id<'_>) -> u32 {
        let slot = self.engine.object_slot(id);
        self.last_object = Some((id.to_ident(), slot));
        slot
    }

    /// The current chunk is full: hands it to the pool, and interns the
    /// batch when it is complete.
    #[cold]
    #[inline(never)]
    fn chunk_full(&mut self) -> Result<()> {
        self.check_usable()?;
        self.dispatch();
        if self.unbatched >= self.batch {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands the current chunk to the pool, waiting while too many are in
    /// flight.
    fn dispatch(&mut self) {
        if self.chunk.items.is_empty() {
            return;
        }
        let fresh = {
            let mut spare = lock(&self.shared.spare);
            RawChunk {
                first_slot: 0,
                text: spare.texts.pop().unwrap_or_default(),
                items: spare
                    .items
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(CHUNK)),
            }
        };
        let chunk = std::mem::replace(&mut self.chunk, fresh);
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
        self.unbatched += 1;
        let shared = Arc::clone(&self.shared);
        let gate = Arc::clone(&self.gate);
        rayon::spawn(move || {
            let staged = panic::catch_unwind(AssertUnwindSafe(|| {
                let (parts, extra) = {
                    let mut spare = lock(&shared.spare);
                    (spare.parts.pop(), spare.extras.pop().unwrap_or_default())
                };
                stage(chunk, parts, extra, &shared.hasher)
            }));
            match staged {
                Ok(staged) => lock(&shared.staged).push(staged),
                Err(payload) => {
                    lock(&shared.panicked).get_or_insert(payload);
                }
            }
            drop(shared);
            let mut n = lock(&gate.inflight);
            *n -= 1;
            gate.idle.notify_all();
        });
    }

    /// Waits until no chunk is being staged, and raises a staging task's
    /// panic.
    fn wait_idle(&mut self) {
        {
            let mut n = lock(&self.gate.inflight);
            while *n > 0 {
                n = self
                    .gate
                    .idle
                    .wait(n)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        let panicked = lock(&self.shared.panicked).take();
        if let Some(payload) = panicked {
            self.raise(payload);
        }
    }

    /// Marks the builder unusable and raises a pool task's panic on the
    /// caller's thread.
    #[cold]
    fn raise(&mut self, payload: Box<dyn Any + Send>) -> ! {
        self.broken = true;
        panic::resume_unwind(payload)
    }

    /// An error once a pool task has panicked.
    fn check_usable(&self) -> Result<()> {
        if self.broken {
            return Err(Error::InvalidArgument(
                "the engine builder stopped at an internal panic: start a new one".into(),
            ));
        }
        Ok(())
    }

    /// Hands the staged chunks to the pool, to intern their strings and
    /// append their records once the batch before is done (its strings
    /// are numbered first). Returns without waiting for this batch: the
    /// caller goes on adding attributes meanwhile.
    fn flush(&mut self) -> Result<()> {
        self.wait_idle();
        self.unbatched = 0;
        let mut staged = std::mem::take(&mut *lock(&self.shared.staged));
        self.join_interning()?;
        if staged.is_empty() {
            return Ok(());
        }
        staged.sort_unstable_by_key(|c| c.first_slot);
        let mut columns = Columns::take(&mut self.engine);
        let shared = Arc::clone(&self.shared);
        let handoff = Arc::new(Handoff::default());
        let done = Arc::clone(&handoff);
        rayon::spawn(move || {
            let out = panic::catch_unwind(AssertUnwindSafe(|| {
                intern_and_append(&mut columns, staged, &shared)
            }));
            done.put((columns, out));
        });
        self.interning = Some(handoff);
        Ok(())
    }

    /// Waits for the batch being interned, if any, and gives its columns
    /// back to the engine.
    fn join_interning(&mut self) -> Result<()> {
        let Some(interning) = self.interning.take() else {
            return Ok(());
        };
        let (columns, out) = interning.take();
        columns.put_back(&mut self.engine);
        self.reserve_deferred();
        let Interned {
            losers,
            mut rejected,
        } = out.unwrap_or_else(|payload| self.raise(payload))?;
        self.losers.extend(losers);
        self.pending.append(&mut rejected);
        Ok(())
    }

    /// Finishes the engine.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for an invalid [`Config`], exhausted
    /// capacity, or a pool task that panicked earlier.
    ///
    /// # Panics
    ///
    /// Raises again the panic of a pool task (a bug).
    pub fn build(mut self) -> Result<Built> {
        self.check_usable()?;
        self.dispatch();
        self.flush()?;
        self.join_interning()?;
        // The chunk buffers are not needed any more.
        *lock(&self.shared.spare) = Spare::default();
        self.engine.config.check()?;
        let mut engine = self.engine;
        let rejected = finish(&mut engine, self.pending, self.losers, self.rejected);
        Ok(Built { engine, rejected })
    }
}

/// Normalises one chunk, computes match keys and hashes, and stages every
/// string in the part of its shard.
fn stage(
    chunk: RawChunk,
    parts: Option<Vec<Part>>,
    extra: Vec<u8>,
    hasher: &Hasher,
) -> StagedChunk {
    #[cfg(test)]
    assert!(
        !chunk.text.contains(test_fault::STAGE),
        "test fault: staging"
    );
    let n = chunk.items.len();
    let mut parts: Vec<Part> = parts.unwrap_or_else(|| {
        // About 2.3 strings per attribute, spread over the shards.
        let entries = n * 5 / 2 / SHARDS + 16;
        (0..SHARDS)
            .map(|_| Part {
                entries: Vec::with_capacity(entries),
            })
            .collect()
    });
    let mut out = Staging {
        parts: &mut parts,
        extra,
        text: &chunk.text,
        hasher,
    };
    let mut meta = vec![0u8; n];
    let mut rejected = Vec::new();
    for (i, it) in chunk.items.iter().enumerate() {
        let slot = chunk.first_slot + i as u32;
        match misp_core::normalize_ref(it.ty, chunk.text(it.value)) {
            Ok(nv) => {
                let v1 = nv.value1();
                let k1 = value1_key(&nv);
                out.put(&Canon::text(&k1), i, which::KEY1);
                if !is_itself(&k1, v1) {
                    out.put(&Canon::text(v1), i, which::VALUE1);
                }
                if let Some(v2) = nv.value2().filter(|v| !v.is_empty()) {
                    let k2 = match_key(v2);
                    out.put(&Canon::text(&k2), i, which::KEY2);
                    if !is_itself(&k2, v2) {
                        out.put(&Canon::text(v2), i, which::VALUE2);
                    }
                }
                if let RawId::Str(a, b) = it.id {
                    out.put(&Canon::raw(chunk.text((a, b))), i, which::ID);
                }
                if let Some(m) = meta.get_mut(i) {
                    *m = meta::OK
                        | if nv.value2().is_some() {
                            meta::HAS_V2
                        } else {
                            0
                        };
                }
            }
            Err(reason) => rejected.push(PendingReject {
                slot,
                id: match it.id {
                    RawId::Num(x) => Ident::Num(x),
                    RawId::Str(a, b) => Ident::from(chunk.text((a, b))),
                },
                event: it.event,
                ty: it.ty,
                value: chunk.text(it.value).to_owned(),
                reason: reason.reason().to_owned(),
            }),
        }
    }
    let extra = out.extra;
    StagedChunk {
        first_slot: chunk.first_slot,
        text: chunk.text,
        extra,
        items: chunk.items,
        meta,
        rejected,
        parts,
        sids: vec![[NONE; 5]; n],
    }
}

/// Where [`stage`] puts a chunk's strings.
struct Staging<'a> {
    parts: &'a mut [Part],
    extra: Vec<u8>,
    /// The chunk's text.
    text: &'a str,
    hasher: &'a Hasher,
}

impl Staging<'_> {
    /// Stages `canon`, string `which` of item `item`, in the part of its
    /// shard: its hash and where its canonical bytes are. Bytes that are
    /// a slice of the chunk's text (a value stored as given, or its match
    /// key) are named where they are; others are copied to `extra`.
    #[inline(always)]
    fn put(&mut self, canon: &Canon<'_>, item: usize, which: u32) {
        let hash = self.hasher.hash(canon);
        let Some(part) = self.parts.get_mut(Hasher::shard_of(hash)) else {
            return;
        };
        let bytes = canon.bytes();
        // Where `bytes` start in the text, if they lie inside it (a
        // comparison of addresses: a slice of another allocation never
        // does).
        let offset = (bytes.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        let inside = offset <= self.text.len() && bytes.len() <= self.text.len() - offset;
        let (start, in_extra) = if inside {
            (offset as u32, false)
        } else {
            let start = self.extra.len() as u32;
            self.extra.extend_from_slice(bytes);
            (start, true)
        };
        part.entries.push(Staged {
            hash,
            start,
            len: bytes.len() as u32,
            item_which: (item as u32) << 3 | which,
            tag: canon.tag(),
            in_extra,
        });
    }
}

/// Whether `key`, the [`match_key`] of `value`, is `value` itself. A
/// borrowed key is `value` less its trailing spaces, so the lengths tell;
/// an owned key always differs (it was lower-cased).
#[allow(clippy::ptr_arg)] // Borrowed or owned is the point: a `&str` loses it.
fn is_itself(key: &std::borrow::Cow<'_, str>, value: &str) -> bool {
    matches!(key, std::borrow::Cow::Borrowed(k) if k.len() == value.len())
}

/// The engine's columns that interning fills: taken out of the engine
/// while a batch is interned in the pool (adding attributes meanwhile
/// only touches the events, objects and groups), and put back after.
#[derive(Debug)]
struct Columns {
    keys: Vec<Shard<Posting>>,
    ids: Vec<Shard<SlotRef>>,
    attrs: Paged<AttrRec>,
    ext: Paged<u64>,
    diffs: AHashMap<u32, [u32; 2]>,
}

impl Columns {
    fn take(engine: &mut Engine) -> Columns {
        Columns {
            keys: std::mem::take(&mut engine.keys.shards),
            ids: std::mem::take(&mut engine.ids.shards),
            attrs: std::mem::take(&mut engine.attrs),
            ext: std::mem::take(&mut engine.ext),
            diffs: std::mem::take(&mut engine.diffs),
        }
    }

    fn put_back(self, engine: &mut Engine) {
        engine.keys.shards = self.keys;
        engine.ids.shards = self.ids;
        engine.attrs = self.attrs;
        engine.ext = self.ext;
        engine.diffs = self.diffs;
    }
}

/// A batch's interning task's result: the columns it filled, and what it
/// found or the error that stopped it, or its panic.
type BatchDone = (Columns, std::thread::Result<Result<Interned>>);

/// What interning a batch found besides the columns it filled.
#[derive(Debug)]
struct Interned {
    /// Slots whose string identity an earlier slot has.
    losers: Vec<u32>,
    /// Values the pool refused, in slot order.
    rejected: Vec<PendingReject>,
}

/// Interns the strings of a batch of staged chunks (in slot order) into
/// `columns`, appends their records, and gives their buffers back for the
/// next chunks.
fn intern_and_append(
    columns: &mut Columns,
    mut staged: Vec<StagedChunk>,
    shared: &Shared,
) -> Result<Interned> {
    #[cfg(test)]
    assert!(
        !staged.iter().any(|c| c.text.contains(test_fault::INTERN)),
        "test fault: interning"
    );
    let (losers, locals) = intern_batch(&mut columns.keys, &mut columns.ids, &staged)?;
    let done: Vec<DoneChunk> = staged
        .par_iter_mut()
        .enumerate()
        .map(|(index, chunk)| {
            locals.fill_sids(index, chunk);
            records(chunk)
        })
        .collect();
    let mut rejected = Vec::new();
    for (chunk, d) in staged.iter_mut().zip(done) {
        columns.attrs.push_page(d.recs);
        columns.ext.push_page(d.ext);
        columns.diffs.extend(d.diffs);
        rejected.append(&mut chunk.rejected);
    }
    // The lock is held only while the buffers are handed back, not while
    // the pages are appended: the caller takes buffers from it for its
    // next chunks meanwhile.
    let mut spare = lock(&shared.spare);
    for mut chunk in staged {
        chunk.items.clear();
        spare.items.push(chunk.items);
        chunk.text.clear();
        spare.texts.push(chunk.text);
        chunk.extra.clear();
        spare.extras.push(chunk.extra);
        for p in &mut chunk.parts {
            p.entries.clear();
        }
        spare.parts.push(chunk.parts);
    }
    Ok(Interned { losers, rejected })
}

/// Values that make the pool tasks panic, in unit tests only: the
/// builder must raise such a panic on the caller's thread.
#[cfg(test)]
mod test_fault {
    pub(super) const STAGE: &str = "test fault: panic while staging";
    pub(super) const INTERN: &str = "test fault: panic while interning";
}

/// The local ids a batch's interning tasks gave its staged strings: per
/// shard, in the order of the shard's column (chunk by chunk, each
/// chunk's part in order).
///
/// A task writes them one after the other instead of storing each
/// string id into its item's column at once: those stores land all over
/// the batch's items (a shard has about one string in 64), most of them
/// on lines out of cache, and the two threads' tasks could store into the
/// same lines at once. Each chunk's ids are then scattered into its own
/// column by the task that builds its records, where the column stays in
/// cache. (At 10M attributes with one pool thread, `paired.sh` measured
/// 3-4 % less CPU for the whole build, in 37 of 54 rounds.)
struct ShardLocals {
    shards: Vec<ShardRuns>,
}

/// One shard's part of [`ShardLocals`].
struct ShardRuns {
    locals: Vec<u32>,
    /// Where each chunk's run starts in `locals`, by chunk.
    starts: Vec<usize>,
}

impl ShardLocals {
    /// Fills `chunk.sids` (chunk number `index` of the batch).
    fn fill_sids(&self, index: usize, chunk: &mut StagedChunk) {
        for (shard, (part, runs)) in chunk.parts.iter().zip(&self.shards).enumerate() {
            let start = runs.starts.get(index).copied().unwrap_or(0);
            let run = runs.locals.get(start..).unwrap_or(&[]);
            for (e, &local) in part.entries.iter().zip(run) {
                let (item, w) = ((e.item_which >> 3) as usize, (e.item_which & 7) as usize);
                if let Some(g) = chunk.sids.get_mut(item).and_then(|g| g.get_mut(w)) {
                    *g = sid(shard, local);
                }
            }
        }
    }
}

/// Interns the staged strings of `chunks` (in slot order), one shard per
/// task. Returns the slots whose string identity an earlier slot has, and
/// the strings' local ids.
fn intern_batch(
    keys: &mut [Shard<Posting>],
    ids: &mut [Shard<SlotRef>],
    chunks: &[StagedChunk],
) -> Result<(Vec<u32>, ShardLocals)> {
    let mut columns: Vec<Vec<(&StagedChunk, &Part)>> = (0..SHARDS)
        .map(|_| Vec::with_capacity(chunks.len()))
        .collect();
    for c in chunks {
        for (column, part) in columns.iter_mut().zip(&c.parts) {
            column.push((c, part));
        }
    }
    let results: Vec<Result<(Vec<u32>, ShardRuns)>> = columns
        .into_par_iter()
        .zip(keys.par_iter_mut())
        .zip(ids.par_iter_mut())
        .map(|((column, keys), ids)| {
            let mut losers = Vec::new();
            let (mut new_ids, mut new_keys) = (0, 0);
            for (_, part) in &column {
                let ids_here = part
                    .entries
                    .iter()
                    .filter(|e| e.item_which & 7 == which::ID)
                    .count();
                new_ids += ids_here;
                new_keys += part.entries.len() - ids_here;
            }
            ids.reserve(new_ids);
            // Keys repeat; assume about half are new.
            keys.reserve(new_keys / 2);
            // The local ids in column order: written here one after the
            // other, and scattered to the items' columns chunk by chunk
            // once every shard is done.
            let mut locals = Vec::with_capacity(new_ids + new_keys);
            let mut starts = Vec::with_capacity(column.len());
            for (chunk, part) in column {
                starts.push(locals.len());
                let (first, text, extra) = (chunk.first_slot, chunk.text.as_bytes(), &chunk.extra);
                for e in &part.entries {
                    let from = if e.in_extra { extra } else { text };
                    let bytes = from
                        .get(e.start as usize..(e.start + e.len) as usize)
                        .unwrap_or(&[]);
                    let local = if e.item_which & 7 == which::ID {
                        let (local, new) = ids.intern_bytes(e.hash, e.tag, bytes)?;
                        let slot = first + (e.item_which >> 3);
                        if let Some(p) = ids.payload.get_mut(local as usize) {
                            if new || p.0 == NONE {
                                *p = SlotRef(slot);
                            } else {
                                losers.push(slot);
                            }
                        }
                        local
                    } else {
                        keys.intern_bytes(e.hash, e.tag, bytes)?.0
                    };
                    locals.push(local);
                }
            }
            Ok((losers, ShardRuns { locals, starts }))
        })
        .collect();
    let mut losers = Vec::new();
    let mut shards = Vec::with_capacity(SHARDS);
    for r in results {
        let (shard_losers, shard_locals) = r?;
        losers.extend(shard_losers);
        shards.push(shard_locals);
    }
    Ok((losers, ShardLocals { shards }))
}

/// The records of one interned chunk.
fn records(chunk: &StagedChunk) -> DoneChunk {
    let n = chunk.items.len();
    let mut out = DoneChunk {
        recs: Vec::with_capacity(n),
        ext: Vec::with_capacity(n),
        diffs: Vec::new(),
    };
    for (i, it) in chunk.items.iter().enumerate() {
        let slot = chunk.first_slot + i as u32;
        let g = chunk.sids.get(i).copied().unwrap_or([NONE; 5]);
        let (ext, ext_flag) = match it.id {
            RawId::Num(x) => (x, 0),
            RawId::Str(..) => (u64::from(g[4]), flag::EXT_STR),
        };
        out.ext.push(ext);
        let m = chunk.meta.get(i).copied().unwrap_or(0);
        if m & meta::OK == 0 {
            // Dead, but keeps the kind of identity (for the numeric
            // index's ascending check).
            out.recs.push(AttrRec {
                flags: ext_flag,
                ..dead(it)
            });
            continue;
        }
        let mut flags = it.flags | flag::LIVE | ext_flag;
        if g[1] != NONE {
            flags |= flag::DIFF1;
        }
        if g[3] != NONE {
            flags |= flag::DIFF2;
        }
        if m & meta::HAS_V2 != 0 {
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
    out
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

/// Every event's and object's live attributes, in slot order, gathered
/// apart from the engine (so that the engine can be read meanwhile).
#[derive(Debug)]
struct Links {
    events: Vec<Vec<u32>>,
    objects: Vec<Vec<u32>>,
    live: usize,
}

impl Links {
    /// The links of `engine`'s live attributes. An event's attributes
    /// mostly come one after another: they are linked a run of
    /// consecutive slots at a time.
    fn of(engine: &Engine) -> Links {
        let mut links = Links {
            events: vec![Vec::new(); engine.events.len()],
            objects: vec![Vec::new(); engine.objects.len()],
            live: 0,
        };
        // The current run: its event and its slots.
        let mut run: Option<(u32, std::ops::Range<u32>)> = None;
        for (first, page) in engine.attrs.pages() {
            for (j, r) in page.iter().enumerate() {
                if !r.has(flag::LIVE) {
                    continue;
                }
                links.live += 1;
                let s = (first + j) as u32;
                match &mut run {
                    Some((e, slots)) if *e == r.event && slots.end == s => slots.end = s + 1,
                    _ => {
                        links.link_run(run.take());
                        run = Some((r.event, s..s + 1));
                    }
                }
                if r.object != NONE
                    && let Some(o) = links.objects.get_mut(r.object as usize)
                {
                    o.push(s);
                }
            }
        }
        links.link_run(run);
        links
    }

    /// Links a run of consecutive slots to their event.
    fn link_run(&mut self, run: Option<(u32, std::ops::Range<u32>)>) {
        if let Some((e, slots)) = run
            && let Some(list) = self.events.get_mut(e as usize)
        {
            list.extend(slots);
        }
    }

    /// Appends the links to `engine`'s events and objects and sets its
    /// number of live attributes.
    fn apply(self, engine: &mut Engine) {
        for (e, attrs) in engine.events.iter_mut().zip(self.events) {
            append(&mut e.attrs, attrs);
        }
        for (o, attrs) in engine.objects.iter_mut().zip(self.objects) {
            append(&mut o.attrs, attrs);
        }
        engine.live = self.live;
    }
}

/// Appends `more` to `list`, moving it when `list` is empty.
fn append(list: &mut Vec<u32>, mut more: Vec<u32>) {
    if list.is_empty() {
        *list = more;
    } else {
        list.append(&mut more);
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

    // Keys and links only read the engine, so they run side by side: the
    // links (one sequential pass in slot order, so every list comes out
    // sorted) on one pool thread while the others decide the keys page by
    // page, instead of on the calling thread while the pool waits.
    // The eligible attributes are counted on the way, for the summary.
    let ((wanted, eligible), links): ((Vec<Vec<u16>>, u64), Links) = {
        let e = &*engine;
        rayon::join(
            || {
                let pages: Vec<(Vec<u16>, u64)> = e
                    .attrs
                    .par_pages()
                    .map(|(first, page)| {
                        let mut eligible = 0;
                        let wanted = page
                            .iter()
                            .enumerate()
                            .map(|(j, r)| {
                                let w = e.wanted_if_eligible((first + j) as u32, r);
                                eligible += u64::from(w.is_some());
                                w.unwrap_or(0)
                            })
                            .collect();
                        (wanted, eligible)
                    })
                    .collect();
                let eligible = pages.iter().map(|p| p.1).sum();
                (pages.into_iter().map(|p| p.0).collect(), eligible)
            },
            || Links::of(e),
        )
    };
    links.apply(engine);

    // Each page's flags are set, and in the same pass its (key, slot)
    // pairs are partitioned by shard, for the postings to be filled shard
    // by shard from the pages in order (so they come out sorted). The
    // page's keys are counted per shard first, so that every part is
    // allocated once at its size instead of growing (and being copied)
    // step by step.
    let buckets: Vec<Vec<Vec<(u32, u32)>>> = engine
        .attrs
        .par_pages_mut()
        .zip(wanted.par_iter())
        .map(|((first, page), w)| {
            let mut per_shard = [0usize; SHARDS];
            for (r, &w) in page.iter_mut().zip(w) {
                r.flags |= w;
                for k in r.keys() {
                    if let Some(n) = per_shard.get_mut(split(k).0) {
                        *n += 1;
                    }
                }
            }
            let mut b: Vec<Vec<(u32, u32)>> =
                per_shard.iter().map(|&n| Vec::with_capacity(n)).collect();
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
    drop(wanted);
    // The same pass over each shard's postings finds the big keys, counts
    // the live keys and lists those the summary must look at
    // ([`key_may_count`], as in the summary's own pass over the keys).
    let advanced = engine.config.advanced;
    let attrs = &engine.attrs;
    let shards: Vec<ShardKeys> = engine
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
            let mut out = ShardKeys::default();
            for (local, p) in s.payload.iter().enumerate() {
                let n = p.len();
                if n == 0 {
                    continue;
                }
                out.live += 1;
                let k = sid(shard, local as u32);
                if key_may_count(n, advanced) {
                    out.to_count.push(k);
                }
                if n > BIG {
                    let events = p
                        .as_slice()
                        .iter()
                        .map(|&x| attrs.get(x as usize).map_or(NONE, |r| r.event));
                    out.big.push((k, EventCounts::from_events(events)));
                }
            }
            out
        })
        .collect();
    drop(buckets);
    let live_keys: u64 = shards.iter().map(|s| s.live).sum();
    let mut to_count = Vec::with_capacity(shards.iter().map(|s| s.to_count.len()).sum());
    let mut big = AHashMap::default();
    for s in shards {
        to_count.extend(s.to_count);
        big.extend(s.big);
    }
    engine.big = big;

    // Containment index.
    engine.rebuild_cidr();
    // ssdeep graph.
    engine.rebuild_fuzzy();
    // Over-correlation and the number of correlations: the keys the pass
    // above left to count, and the eligible attributes the keys pass
    // counted (the summary's own passes over every key and every
    // attribute would find the same).
    let e = &*engine;
    let (exact, over) = to_count
        .par_iter()
        .map_init(Vec::new, |scratch, &k| {
            let (_, pairs, over) = e.key_counts(k, scratch);
            (pairs, over)
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let summary = e.summary_with(eligible, live_keys, exact, over);
    let _ = engine.summary.set(summary);
    rejected
}

/// What the pass over one shard's postings finds.
#[derive(Debug, Default)]
struct ShardKeys {
    /// Keys with a non-empty posting.
    live: u64,
    /// The live keys the summary must count (pairs, over-correlation).
    to_count: Vec<u32>,
    /// The keys with more than [`BIG`] attributes, with their per-event
    /// counts.
    big: Vec<(u32, EventCounts)>,
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
        self.add_borrowed_event(&event.as_borrowed())
    }

    /// [`add_misp_event`](EngineBuilder::add_misp_event) for an event read
    /// with its strings borrowed from its JSON (see
    /// [`misp_core::json::Document`]): the same engine, without making an
    /// owned [`Event`] first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if capacity is exhausted.
    pub fn add_borrowed_event(&mut self, event: &BorrowedEvent<'_>) -> Result<()> {
        let uuid: &str = &event.uuid;
        let org = event.org.identity();
        let input = EventInput {
            id: Id::Str(uuid),
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
                        attribute: Ident::from(&*a.key(event)),
                        event: Ident::from(uuid),
                        ty: a.attribute.type_name.to_string(),
                        value: a.attribute.value.to_string(),
                        reason: format!(
                            "event {uuid} appears more than once; this copy is ignored"
                        ),
                    },
                ));
            }
            return Ok(());
        }
        let object_ids: Vec<Cow<'_, str>> = event
            .objects
            .iter()
            .enumerate()
            .map(|(n, o)| match &o.uuid {
                Some(u) if !u.is_empty() => Cow::Borrowed(&**u),
                _ => Cow::Owned(format!("{uuid}/object/{n}")),
            })
            .collect();
        for (o, oid) in event.objects.iter().zip(&object_ids) {
            let input = ObjectInput {
                id: Id::Str(oid),
                event: Id::Str(uuid),
                distribution: o.distribution,
                sharing_group: o.sharing_group_id,
                deleted: o.deleted,
            };
            // A repeated object uuid keeps its first settings.
            let _ = self.add_object(&input);
        }
        for a in event.all_attributes() {
            let key = a.key(event);
            let object = a.object.and_then(|(n, _)| object_ids.get(n));
            let attribute = a.attribute;
            let Some(ty) = AttributeType::from_name(&attribute.type_name) else {
                self.rejected.push((
                    self.next_slot,
                    Rejected {
                        attribute: Ident::from(&*key),
                        event: Ident::from(uuid),
                        ty: attribute.type_name.to_string(),
                        value: attribute.value.to_string(),
                        reason: format!("unknown attribute type {:?}", attribute.type_name),
                    },
                ));
                continue;
            };
            let input = AttributeInput {
                id: Id::Str(&key),
                event: Id::Str(uuid),
                object: object.map(|s| Id::Str(s)),
                ty,
                value: &attribute.value,
                distribution: attribute.distribution,
                sharing_group: attribute.sharing_group_id,
                disable_correlation: attribute.disable_correlation,
                deleted: attribute.deleted,
            };
            self.add(&input)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlation::ObjectInput;

    /// Batches interned in the background while more are added (here of
    /// two chunks each, so seven batches) give the engine that adding
    /// the attributes one by one gives: the strings, identities repeated
    /// across batches, refused values and a size hint given while a batch
    /// is out being interned.
    #[test]
    fn background_batches_match_incremental() {
        let types = ["domain", "text", "ip-dst", "filename", "domain|ip"]
            .map(|t| AttributeType::from_name(t).unwrap());
        let n = 13 * CHUNK + 777;
        let value = |i: usize| match i % 5 {
            0 => format!("shared{}.example.com", i % 1013),
            1 => format!("Text {}", i % 97),
            2 if i % 4099 == 2 => "not an address".to_owned(),
            2 => format!("10.{}.{}.{}", i % 3, i % 11, i % 251),
            3 => format!("file{i}.exe"),
            _ => format!("host{}.example.org|192.0.2.{}", i % 389, i % 7),
        };
        let id = |i: usize| {
            // Some identities come again, in later batches.
            if i % 50_000 == 49_999 {
                format!("a{}", i / 3)
            } else {
                format!("a{i}")
            }
        };
        let config = Config {
            limit: Some(30),
            ..Config::default()
        };
        let mut b = EngineBuilder::with_config(config);
        b.batch = 2;
        let mut inc = Engine::new(config).unwrap();
        for e in 0..211u64 {
            b.add_event(&EventInput::new(e)).unwrap();
            inc.add_event(&EventInput::new(e)).unwrap();
        }
        let mut inc_rejected = Vec::new();
        for i in 0..n {
            let (v, a) = (value(i), id(i));
            let input = AttributeInput::new(a.as_str(), (i / 600 % 211) as u64, types[i % 5], &v);
            b.add(&input).unwrap();
            if i == 5 * CHUNK + 1 {
                b.reserve(n);
            }
            if inc.add_attribute(&input).is_err() {
                inc_rejected.push(a);
            }
        }
        let built = b.build().unwrap();
        let rejected: Vec<String> = built
            .rejected
            .iter()
            .map(|r| r.attribute.to_string())
            .collect();
        assert!(rejected.len() > 10, "{rejected:?}");
        assert_eq!(rejected, inc_rejected);
        let bulk = built.engine;
        assert_eq!(bulk.summary(), inc.summary());
        assert!(bulk.summary().exact > 0 && bulk.summary().over_correlating > 0);
        assert_eq!(bulk.over_correlating(), inc.over_correlating());
        assert_eq!(bulk.top_keys(20), inc.top_keys(20));
        for i in (0..n).step_by(1009) {
            let a = id(i);
            let of = |e: &Engine| {
                e.correlations_of(Id::Str(&a), None)
                    .map(|c| c.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>())
                    .ok()
            };
            assert_eq!(of(&bulk), of(&inc), "attribute {a}");
        }
    }

    /// Makes a pool task panic on a value given as `fault`, and checks
    /// that the panic comes out of a later `add` on this thread (rayon
    /// would abort the process) and that the builder refuses work after.
    fn pool_panic_reaches_the_caller(fault: &str, message: &str) {
        let text = AttributeType::from_name("text").unwrap();
        let mut b = EngineBuilder::new();
        b.batch = 2;
        b.add_event(&EventInput::new(1)).unwrap();
        let raised = panic::catch_unwind(AssertUnwindSafe(|| {
            for i in 0..8 * CHUNK {
                let v = if i == 3 {
                    fault.to_owned()
                } else {
                    format!("value {i}")
                };
                b.add(&AttributeInput::new(i as u64, 1, text, &v)).unwrap();
            }
        }));
        let payload = raised.expect_err("the pool task's panic reaches the caller");
        let got = payload.downcast_ref::<&str>().copied().unwrap_or_default();
        assert_eq!(got, message);
        let later = (0..CHUNK as u64).try_for_each(|i| {
            b.add(&AttributeInput::new(
                100 * CHUNK as u64 + i,
                1,
                text,
                "later",
            ))
        });
        let error = later.expect_err("no chunk is taken after the panic");
        assert!(error.to_string().contains("internal panic"), "{error}");
        assert!(b.build().is_err());
    }

    #[test]
    fn a_staging_panic_reaches_the_caller() {
        pool_panic_reaches_the_caller(test_fault::STAGE, "test fault: staging");
    }

    #[test]
    fn an_interning_panic_reaches_the_caller() {
        pool_panic_reaches_the_caller(test_fault::INTERN, "test fault: interning");
    }

    /// Every event's and object's live attributes, in slot order, however
    /// the events' runs of attributes are interleaved and broken by
    /// refused attributes and repeated identities.
    #[test]
    fn links_follow_runs_of_events() {
        let ip = AttributeType::from_name("ip-dst").unwrap();
        let mut b = EngineBuilder::new();
        for e in 1..=3u64 {
            b.add_event(&EventInput::new(e)).unwrap();
        }
        b.add_object(&ObjectInput::new("o", 2u64)).unwrap();
        // (attribute, event, object, value): slots in this order.
        let adds: [(u64, u64, bool, &str); 9] = [
            (10, 1, false, "198.51.100.1"),
            (11, 1, false, "198.51.100.2"),
            (12, 2, true, "198.51.100.3"),
            (13, 1, false, "not an address"), // refused: not linked
            (14, 1, false, "198.51.100.4"),
            (15, 2, true, "198.51.100.5"),
            (11, 3, false, "198.51.100.6"), // repeated identity: not linked
            (16, 3, false, "198.51.100.7"),
            (17, 2, false, "198.51.100.8"),
        ];
        for (id, event, in_object, value) in adds {
            let mut input = AttributeInput::new(id, event, ip, value);
            if in_object {
                input.object = Some(Id::Str("o"));
            }
            b.add(&input).unwrap();
        }
        let built = b.build().unwrap();
        assert_eq!(built.rejected.len(), 2);
        let e = &built.engine;
        let linked = |event: u64| {
            let slot = e.event_slot_of(Id::Num(event)).unwrap();
            e.events[slot as usize].attrs.clone()
        };
        assert_eq!(linked(1), [0, 1, 4]);
        assert_eq!(linked(2), [2, 5, 8]);
        assert_eq!(linked(3), [7]);
        let o = e.object_ids.get(Id::Str("o")).unwrap();
        assert_eq!(e.objects[o as usize].attrs, [2, 5]);
        assert_eq!(e.live, 7);
    }
}
