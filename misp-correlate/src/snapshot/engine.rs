//! Engine snapshots (kind 1): a correlation [`Engine`] saved to a file and
//! queried in place through a memory map.
//!
//! The bulk — attribute records and identities, interned strings,
//! postings, the slots of each event — is fixed-layout little-endian
//! arrays read where they lie; the small tables (settings, the type table,
//! exclusions, events, objects, organisations, sharing groups) are parsed
//! at open. Lookups by text (keys, string identities) go through
//! open-addressing hash tables in the file (`table.rs`) and numeric
//! identities through an interpolation search, as in the engine. The
//! CIDR containment index and the ssdeep graph, needed only with advanced
//! correlation, are rebuilt from the mapped state on first use.
//!
//! The snapshot implements the engine's read-only [`State`], so every
//! query runs the engine's own code and answers identically.
//!
//! Changes go through [`EngineSnapshot::to_engine`]: the snapshot is
//! decoded into an in-memory [`Engine`] (all of it: there is no delta over
//! the mapped base), which takes the changes and can be saved again.

use std::path::Path;
use std::sync::OnceLock;

use misp_core::AttributeType;
use rayon::prelude::*;

use super::format::{Cursor, Mapped, Writer, le_u32, le_u64};
use super::hash::hash;
use super::table::{self, TableView};
use super::{SnapshotInfo, SnapshotKind};
use crate::correlation::query::query_api;
use crate::correlation::state::{
    AttrRec, BIG, Canon, CidrIndex, EventInfo, FuzzyGraph, Hasher, IdTable, NONE, ObjectInfo,
    SetStats, Src, State, Stored, Tag, build_cidr, build_fuzzy, flag, interpolation_search_by, sid,
    split, to_engine,
};
use crate::correlation::{AclMode, Config, Engine, Id, Ident, Summary};
use crate::{Error, Result};

/// Section tags of an engine snapshot.
pub(crate) mod tag {
    pub(crate) const SETTINGS: u32 = 0x4501;
    pub(crate) const RECORDS: u32 = 0x4502;
    pub(crate) const IDENTS: u32 = 0x4503;
    pub(crate) const KEY_OFFSETS: u32 = 0x4504;
    pub(crate) const KEY_BYTES: u32 = 0x4505;
    pub(crate) const KEY_TAGS: u32 = 0x4506;
    pub(crate) const POSTING_OFFSETS: u32 = 0x4508;
    pub(crate) const POSTING_SLOTS: u32 = 0x4509;
    pub(crate) const BIG_STATS: u32 = 0x450A;
    pub(crate) const DIFFS: u32 = 0x450B;
    pub(crate) const NUM_IDS: u32 = 0x450C;
    pub(crate) const STR_ID_OFFSETS: u32 = 0x450D;
    pub(crate) const STR_ID_BYTES: u32 = 0x450E;
    pub(crate) const EVENTS: u32 = 0x4510;
    pub(crate) const EVENT_ATTR_OFFSETS: u32 = 0x4511;
    pub(crate) const EVENT_ATTRS: u32 = 0x4512;
    pub(crate) const OBJECTS: u32 = 0x4513;
    pub(crate) const ORGS: u32 = 0x4514;
    pub(crate) const GROUPS: u32 = 0x4515;
    pub(crate) const KEY_TABLE: u32 = 0x4516;
    pub(crate) const STR_ID_TABLE: u32 = 0x4517;
    pub(crate) const METADATA: u32 = 0x4520;
}

/// The name of an engine section, for `snapshot info`.
pub(crate) fn section_name(t: u32) -> Option<&'static str> {
    Some(match t {
        tag::SETTINGS => "settings, types and exclusions",
        tag::RECORDS => "attribute records",
        tag::IDENTS => "attribute identities",
        tag::KEY_OFFSETS => "string offsets",
        tag::KEY_BYTES => "string bytes",
        tag::KEY_TAGS => "string encodings",
        tag::POSTING_OFFSETS => "posting offsets",
        tag::POSTING_SLOTS => "posting slots",
        tag::BIG_STATS => "long-posting stats",
        tag::DIFFS => "values differing from keys",
        tag::NUM_IDS => "numeric attribute identities",
        tag::STR_ID_OFFSETS => "string identity offsets",
        tag::STR_ID_BYTES => "string identity bytes",
        tag::EVENTS => "events",
        tag::EVENT_ATTR_OFFSETS => "event attribute offsets",
        tag::EVENT_ATTRS => "event attributes",
        tag::OBJECTS => "objects",
        tag::ORGS => "organisations",
        tag::GROUPS => "sharing groups",
        tag::KEY_TABLE => "string hash table",
        tag::STR_ID_TABLE => "string identity hash table",
        tag::METADATA => "application metadata",
        _ => return None,
    })
}

/// `u32` words per attribute record.
const RECORD_WORDS: usize = 6;
/// Bytes per long-posting stats entry.
const BIG_LEN: usize = 32;
/// Bytes per numeric identity entry.
const NUM_LEN: usize = 16;
/// Bytes per diff entry.
const DIFF_LEN: usize = 12;

/// Views bytes as `u32`s in place. `None` on big-endian targets or if the
/// bytes are not 4-byte aligned in memory (the map and every section are
/// 8-byte aligned, so this does not happen for files).
fn u32s(bytes: &[u8]) -> Option<&[u32]> {
    if cfg!(target_endian = "big") {
        return None;
    }
    // SAFETY: every bit pattern is a valid `u32`; `align_to` puts into the
    // middle slice only the aligned, in-bounds part of `bytes`, and we use
    // it only when nothing is left over, so it covers exactly `bytes`,
    // which stay immutable for the borrow's lifetime.
    #[allow(unsafe_code)]
    let (head, mid, tail) = unsafe { bytes.align_to::<u32>() };
    (head.is_empty() && tail.is_empty()).then_some(mid)
}

/// Bytes `[start, end)` of `data`, empty if out of range.
fn bytes_at(data: &[u8], r: (usize, usize)) -> &[u8] {
    data.get(r.0..r.1).unwrap_or(&[])
}

/// Element range `i` of an offsets array (`u64` little-endian).
fn span(offsets: &[u8], i: usize) -> Option<(usize, usize)> {
    let a = le_u64(offsets, i.checked_mul(8)?)?;
    let b = le_u64(offsets, i.checked_add(1)?.checked_mul(8)?)?;
    (a <= b).then_some((usize::try_from(a).ok()?, usize::try_from(b).ok()?))
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_ident(out: &mut Vec<u8>, id: Id<'_>) {
    match id {
        Id::Num(n) => {
            out.push(0);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Id::Str(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn get_ident<'a>(c: &mut Cursor<'a>) -> Option<Id<'a>> {
    match c.u8()? {
        0 => Some(Id::Num(c.u64()?)),
        1 => Some(Id::Str(c.str()?)),
        _ => None,
    }
}

/// Parses an identity table (`u32 n`, n identities) into an [`IdTable`]
/// numbering them `0..n` in file order.
fn get_ident_table(c: &mut Cursor<'_>) -> Option<IdTable> {
    let n = c.u32()?;
    let mut t = IdTable::new(Hasher::new());
    for _ in 0..n {
        t.get_or_insert(get_ident(c)?);
    }
    Some(t)
}

fn put_ident_table(out: &mut Vec<u8>, ids: &[Id<'_>]) {
    out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
    for &id in ids {
        put_ident(out, id);
    }
}

/// String table sections: `u64` offsets (n + 1) and the bytes.
fn string_table<'a>(items: impl Iterator<Item = &'a [u8]>) -> (Vec<u8>, Vec<u8>) {
    let mut offsets = 0u64.to_le_bytes().to_vec();
    let mut bytes = Vec::new();
    for b in items {
        bytes.extend_from_slice(b);
        offsets.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    }
    (offsets, bytes)
}

fn u32_bytes(values: impl Iterator<Item = u32>) -> Vec<u8> {
    values.flat_map(u32::to_le_bytes).collect()
}

/// The sections of `engine`'s snapshot.
fn encode(engine: &Engine, metadata: &[u8]) -> Result<Writer> {
    let s: &Engine = engine;
    let slot_count = State::slot_count(s);
    let sid_count = engine
        .keys
        .shards
        .iter()
        .enumerate()
        .map(|(shard, sh)| {
            (sh.payload.len() as u64)
                .checked_sub(1)
                .and_then(|last| u32::try_from(last).ok())
                .map_or(0, |last| u64::from(sid(shard, last)) + 1)
        })
        .max()
        .unwrap_or(0);
    let sid_count = u32::try_from(sid_count)
        .map_err(|_| Error::InvalidArgument("too many strings for a snapshot".into()))?;
    // Type table: the types used, by name.
    let mut types: Vec<AttributeType> = Vec::new();
    let mut type_index = [u8::MAX; 256];
    let mut records = Vec::with_capacity(slot_count as usize * RECORD_WORDS * 4);
    let mut idents = Vec::with_capacity(slot_count as usize * 8);
    let mut str_ids: Vec<String> = Vec::new();
    let mut str_lookup: Vec<(u64, u32)> = Vec::new();
    let mut nums: Vec<(u64, u32)> = Vec::new();
    let mut diffs = Vec::new();
    // Whether every slot has a numeric identity, strictly ascending with
    // the slot (then the identity column is searched and no sorted copy
    // is stored, as in the engine's `NumIndex`).
    let mut ascending = true;
    let mut previous: Option<u64> = None;
    for slot in 0..slot_count {
        let r = State::rec(s, slot).unwrap_or(AttrRec {
            event: NONE,
            object: NONE,
            k1: NONE,
            k2: NONE,
            sg: NONE,
            ty: State::ty_of(s, slot),
            distribution: 0,
            flags: 0,
        });
        let ti = r.ty.index() & 0xFF;
        if type_index[ti] == u8::MAX {
            type_index[ti] = types.len() as u8;
            types.push(r.ty);
        }
        for w in [r.event, r.object, r.k1, r.k2, r.sg] {
            records.extend_from_slice(&w.to_le_bytes());
        }
        let last =
            u32::from(type_index[ti]) | u32::from(r.distribution) << 8 | u32::from(r.flags) << 16;
        records.extend_from_slice(&last.to_le_bytes());
        let live = r.has(flag::LIVE);
        let ext = match State::ident_of(s, slot) {
            Id::Num(n) => {
                ascending &= previous.is_none_or(|p| p < n);
                previous = Some(n);
                if live && State::slot_of(s, Id::Num(n)) == Some(slot) {
                    nums.push((n, slot));
                }
                n
            }
            Id::Str(text) => {
                ascending = false;
                if live && State::slot_of(s, Id::Str(text)) == Some(slot) {
                    str_lookup.push((hash(table::SEED, text.as_bytes()), slot));
                }
                str_ids.push(text.to_owned());
                (str_ids.len() - 1) as u64
            }
        };
        idents.extend_from_slice(&ext.to_le_bytes());
        if let Some([d1, d2]) = State::diff(s, slot) {
            diffs.extend_from_slice(&u32_bytes([slot, d1, d2].into_iter()));
        }
    }
    if ascending {
        nums.clear();
    }
    nums.sort_unstable();
    let nums: Vec<u8> = nums
        .into_iter()
        .flat_map(|(n, slot)| {
            let mut e = n.to_le_bytes().to_vec();
            e.extend_from_slice(&slot.to_le_bytes());
            e.extend_from_slice(&0u32.to_le_bytes());
            e
        })
        .collect();
    // Strings and postings, indexed by string id (ids never handed out
    // are empty).
    let stored: Vec<Stored<'_>> = (0..sid_count).map(|sid| engine.keys.get(sid)).collect();
    let (key_offsets, key_bytes) = string_table(stored.iter().map(|st| st.0));
    let key_tags: Vec<u8> = stored.iter().map(|st| st.1 as u8).collect();
    let allocated = |sid: u32| {
        let (shard, local) = split(sid);
        engine
            .keys
            .shards
            .get(shard)
            .is_some_and(|sh| (local as usize) < sh.payload.len())
    };
    let key_table = table::write(
        (0..sid_count)
            .filter(|&sid| allocated(sid))
            .filter_map(|sid| Some((hash(table::SEED, stored.get(sid as usize)?.0), sid)))
            .collect(),
    );
    let mut posting_offsets = 0u64.to_le_bytes().to_vec();
    let mut posting_slots = Vec::new();
    let mut big = Vec::new();
    let mut scratch = Vec::new();
    let mut total = 0u64;
    for sid in 0..sid_count {
        let p = State::posting(s, sid);
        posting_slots.extend_from_slice(&u32_bytes(p.iter().copied()));
        total += p.len() as u64;
        posting_offsets.extend_from_slice(&total.to_le_bytes());
        if p.len() > BIG {
            let st = State::plain_stats(s, sid, &mut scratch);
            big.extend_from_slice(&sid.to_le_bytes());
            big.extend_from_slice(&0u32.to_le_bytes());
            for v in [st.n, st.min_count, st.sum_sq] {
                big.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let (str_id_offsets, str_id_bytes) = string_table(str_ids.iter().map(|x| x.as_bytes()));
    let str_id_table = table::write(str_lookup);
    // Events, objects, organisations, sharing groups.
    let mut events = Vec::new();
    let mut event_attr_offsets = 0u64.to_le_bytes().to_vec();
    let mut event_attrs = Vec::new();
    let mut n = 0u64;
    events.extend_from_slice(&(engine.events.len() as u32).to_le_bytes());
    for (i, e) in engine.events.iter().enumerate() {
        put_ident(&mut events, State::event_ident(s, i as u32));
        events.extend_from_slice(&[
            u8::from(e.exists),
            e.distribution,
            u8::from(e.disable_correlation),
        ]);
        events.extend_from_slice(&e.org.to_le_bytes());
        events.extend_from_slice(&e.sg.to_le_bytes());
        event_attrs.extend_from_slice(&u32_bytes(e.attrs.iter().copied()));
        n += e.attrs.len() as u64;
        event_attr_offsets.extend_from_slice(&n.to_le_bytes());
    }
    let mut objects = Vec::new();
    objects.extend_from_slice(&(engine.objects.len() as u32).to_le_bytes());
    for (i, o) in engine.objects.iter().enumerate() {
        put_ident(
            &mut objects,
            State::object_ident(s, i as u32).unwrap_or(Id::Str("")),
        );
        objects.extend_from_slice(&[u8::from(o.exists), o.distribution, u8::from(o.deleted)]);
        objects.extend_from_slice(&o.event.to_le_bytes());
        objects.extend_from_slice(&o.sg.to_le_bytes());
    }
    let (orgs, groups) = State::org_and_group_idents(s);
    let mut org_bytes = Vec::new();
    put_ident_table(&mut org_bytes, &orgs);
    let mut group_bytes = Vec::new();
    put_ident_table(&mut group_bytes, &groups);
    // Settings.
    let c = engine.config;
    let mut settings = Vec::new();
    for v in [
        u32::from(c.limit.is_some()),
        c.limit.unwrap_or(0),
        u32::from(c.advanced),
        c.ssdeep_threshold,
        u32::from(c.mode == AclMode::NoAcl),
        slot_count,
        sid_count,
        u32::from(ascending),
    ] {
        settings.extend_from_slice(&v.to_le_bytes());
    }
    settings.extend_from_slice(&(engine.live as u64).to_le_bytes());
    settings.extend_from_slice(&(types.len() as u32).to_le_bytes());
    for t in &types {
        put_str(&mut settings, t.name());
    }
    let exclusions = engine.exclusions();
    settings.extend_from_slice(&(exclusions.len() as u32).to_le_bytes());
    for x in exclusions {
        put_str(&mut settings, x);
    }
    let mut w = Writer::default();
    for (t, bytes) in [
        (tag::SETTINGS, settings),
        (tag::RECORDS, records),
        (tag::IDENTS, idents),
        (tag::KEY_OFFSETS, key_offsets),
        (tag::KEY_BYTES, key_bytes),
        (tag::KEY_TAGS, key_tags),
        (tag::KEY_TABLE, key_table),
        (tag::POSTING_OFFSETS, posting_offsets),
        (tag::POSTING_SLOTS, posting_slots),
        (tag::BIG_STATS, big),
        (tag::DIFFS, diffs),
        (tag::NUM_IDS, nums),
        (tag::STR_ID_OFFSETS, str_id_offsets),
        (tag::STR_ID_BYTES, str_id_bytes),
        (tag::STR_ID_TABLE, str_id_table),
        (tag::EVENTS, events),
        (tag::EVENT_ATTR_OFFSETS, event_attr_offsets),
        (tag::EVENT_ATTRS, event_attrs),
        (tag::OBJECTS, objects),
        (tag::ORGS, org_bytes),
        (tag::GROUPS, group_bytes),
        (tag::METADATA, metadata.to_vec()),
    ] {
        w.section(t, bytes);
    }
    Ok(w)
}

/// A saved correlation engine, memory-mapped: the bulk is read in place,
/// the answers are the engine's (see the [module
/// documentation](crate::snapshot) and `FORMAT.md`).
///
/// It has the engine's query methods ([`correlations_of`](Self::correlations_of),
/// [`related_events`](Self::related_events), [`correlations`](Self::correlations),
/// [`summary`](Self::summary), [`over_correlating`](Self::over_correlating),
/// [`top_keys`](Self::top_keys), [`posting_of`](Self::posting_of), …), with the
/// same results.
///
/// ```
/// use misp_core::AttributeType;
/// use misp_correlate::correlation::{AttributeInput, Config, Engine, EventInput, Id};
/// use misp_correlate::snapshot::EngineSnapshot;
///
/// let ty = |n| AttributeType::from_name(n).unwrap();
/// let mut engine = Engine::new(Config::default())?;
/// engine.add_event(&EventInput::new("e1"))?;
/// engine.add_event(&EventInput::new("e2"))?;
/// engine.add_attribute(&AttributeInput::new("a", "e1", ty("domain"), "Example.com"))?;
/// engine.add_attribute(&AttributeInput::new("b", "e2", ty("hostname"), "example.com"))?;
///
/// let dir = std::env::temp_dir().join(format!("doc-engine-snapshot-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("engine.snap");
/// EngineSnapshot::save_engine(&engine, &path)?;
///
/// let snapshot = EngineSnapshot::open(&path)?;
/// assert_eq!(snapshot.summary(), engine.summary());
/// let seen = snapshot.correlations_of(Id::Str("a"), None)?;
/// assert_eq!(seen[0].b().id(), Id::Str("b"));
///
/// // Changes: decode into an engine, change it, save it again.
/// let mut changed = snapshot.to_engine()?;
/// changed.remove_attribute(Id::Str("b"))?;
/// assert_eq!(changed.summary().exact, 0);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), misp_correlate::Error>(())
/// ```
#[derive(Debug)]
pub struct EngineSnapshot {
    mapped: Mapped,
    config: Config,
    exclusions: Vec<String>,
    live: usize,
    slot_count: u32,
    sid_count: u32,
    types: Vec<AttributeType>,
    fallback_type: AttributeType,
    records: (usize, usize),
    idents: (usize, usize),
    key_offsets: (usize, usize),
    key_bytes: (usize, usize),
    key_tags: (usize, usize),
    key_table: TableView,
    posting_offsets: (usize, usize),
    posting_slots: (usize, usize),
    big: (usize, usize),
    diffs: (usize, usize),
    nums: (usize, usize),
    str_id_offsets: (usize, usize),
    str_id_bytes: (usize, usize),
    str_id_table: TableView,
    /// Numeric identities strictly ascend with the slots: the identity
    /// column is searched (section 0x450C is then empty).
    ascending: bool,
    event_attr_offsets: (usize, usize),
    event_attrs: (usize, usize),
    metadata: (usize, usize),
    events: Vec<EventInfo>,
    event_ids: IdTable,
    objects: Vec<ObjectInfo>,
    object_ids: IdTable,
    orgs: IdTable,
    groups: IdTable,
    cidr: OnceLock<CidrIndex>,
    fuzzy: OnceLock<FuzzyGraph>,
    summary: OnceLock<Summary>,
}

impl EngineSnapshot {
    /// Writes `engine` to `path` (atomically: a temporary file renamed
    /// over it).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be written.
    pub fn save_engine(engine: &Engine, path: impl AsRef<Path>) -> Result<()> {
        EngineSnapshot::save_engine_with_metadata(engine, &[], path)
    }

    /// [`save_engine`](Self::save_engine), storing `metadata` (opaque bytes
    /// of the application's choosing, such as a description of the inputs)
    /// with it; [`metadata`](Self::metadata) gives them back.
    ///
    /// # Errors
    ///
    /// As [`save_engine`](Self::save_engine).
    pub fn save_engine_with_metadata(
        engine: &Engine,
        metadata: &[u8],
        path: impl AsRef<Path>,
    ) -> Result<()> {
        encode(engine, metadata)?.write_to(SnapshotKind::Engine, path.as_ref())
    }

    /// The application metadata saved with the engine (empty if none).
    pub fn metadata(&self) -> &[u8] {
        self.section(self.metadata)
    }

    /// The snapshot file image of `engine`, in memory.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if the engine is too large for the format.
    pub fn engine_to_bytes(engine: &Engine) -> Result<Vec<u8>> {
        Ok(encode(engine, &[])?.finish(SnapshotKind::Engine))
    }

    /// Opens an engine snapshot by memory-mapping it. The header, the
    /// section table (with its checksum) and every section's size are
    /// checked; the body checksum is checked by [`verify`](Self::verify).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read; [`Error::Snapshot`] if it
    /// is not an engine snapshot of this version or is damaged.
    pub fn open(path: impl AsRef<Path>) -> Result<EngineSnapshot> {
        EngineSnapshot::from_mapped(Mapped::open(path.as_ref(), SnapshotKind::Engine)?)
    }

    /// Opens a snapshot image held in memory (`name` is used in errors).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn from_bytes(bytes: Vec<u8>, name: impl AsRef<Path>) -> Result<EngineSnapshot> {
        EngineSnapshot::from_mapped(Mapped::from_vec(
            name.as_ref(),
            bytes,
            SnapshotKind::Engine,
        )?)
    }

    pub(super) fn from_mapped(mapped: Mapped) -> Result<EngineSnapshot> {
        let bad = |what: &str| mapped.corrupt(what.to_owned());
        let range = |t: u32| mapped.range(t).map(|r| (r.start, r.end));
        let mut c = Cursor::new(mapped.section(tag::SETTINGS)?);
        let mut w = [0u32; 8];
        for x in &mut w {
            *x = c.u32().ok_or_else(|| bad("settings"))?;
        }
        let [
            has_limit,
            limit,
            advanced,
            threshold,
            mode,
            slot_count,
            sid_count,
            ascending,
        ] = w;
        let live = c.u64().ok_or_else(|| bad("settings"))?;
        let n_types = c.u32().ok_or_else(|| bad("type table"))?;
        let mut types = Vec::new();
        for _ in 0..n_types.min(256) {
            let name = c.str().ok_or_else(|| bad("type table"))?;
            let t = AttributeType::from_name(name)
                .ok_or_else(|| mapped.corrupt(format!("unknown attribute type {name:?}")))?;
            types.push(t);
        }
        let n_excl = c.u32().ok_or_else(|| bad("exclusions"))?;
        let mut exclusions = Vec::new();
        for _ in 0..n_excl {
            exclusions.push(c.str().ok_or_else(|| bad("exclusions"))?.to_owned());
        }
        let config = Config {
            limit: (has_limit != 0).then_some(limit),
            advanced: advanced != 0,
            ssdeep_threshold: threshold,
            mode: if mode == 1 {
                AclMode::NoAcl
            } else {
                AclMode::Default
            },
        };
        config.check().map_err(|e| mapped.corrupt(e.to_string()))?;
        let fallback_type = match types.first() {
            Some(&t) => t,
            None => AttributeType::from_name("text").ok_or_else(|| bad("type table"))?,
        };
        let slots = slot_count as usize;
        let sids = sid_count as usize;
        let expect = |t: u32, len: Option<usize>, what: &str| -> Result<(usize, usize)> {
            let r = range(t)?;
            match len {
                Some(l) if r.1 - r.0 == l => Ok(r),
                _ => Err(mapped.corrupt(format!("{what}: {} bytes, expected {len:?}", r.1 - r.0))),
            }
        };
        let records = expect(
            tag::RECORDS,
            slots.checked_mul(RECORD_WORDS * 4),
            "attribute records",
        )?;
        let idents = expect(tag::IDENTS, slots.checked_mul(8), "attribute identities")?;
        let key_offsets = expect(
            tag::KEY_OFFSETS,
            (sids + 1).checked_mul(8),
            "string offsets",
        )?;
        let key_tags = expect(tag::KEY_TAGS, Some(sids), "string encodings")?;
        let posting_offsets = expect(
            tag::POSTING_OFFSETS,
            (sids + 1).checked_mul(8),
            "posting offsets",
        )?;
        let data = mapped.data();
        let aligned = |r: (usize, usize), what: &str| -> Result<(usize, usize)> {
            if u32s(bytes_at(data, r)).is_some() {
                Ok(r)
            } else {
                Err(mapped.corrupt(format!(
                    "{what} not readable as u32s (length, alignment or byte order)"
                )))
            }
        };
        let records = aligned(records, "attribute records")?;
        let posting_slots = aligned(range(tag::POSTING_SLOTS)?, "posting slots")?;
        let event_attrs = aligned(range(tag::EVENT_ATTRS)?, "event attributes")?;
        let mut c = Cursor::new(mapped.section(tag::EVENTS)?);
        let n_events = c.u32().ok_or_else(|| bad("events"))?;
        let mut events = Vec::new();
        let mut event_ids = IdTable::new(Hasher::new());
        for _ in 0..n_events {
            let id = get_ident(&mut c).ok_or_else(|| bad("events"))?;
            let (Some(exists), Some(distribution), Some(disable), Some(org), Some(sg)) =
                (c.u8(), c.u8(), c.u8(), c.u32(), c.u32())
            else {
                return Err(bad("events"));
            };
            event_ids.get_or_insert(id);
            events.push(EventInfo {
                exists: exists != 0,
                org,
                distribution,
                sg,
                disable_correlation: disable != 0,
            });
        }
        let event_attr_offsets = expect(
            tag::EVENT_ATTR_OFFSETS,
            (events.len() + 1).checked_mul(8),
            "event attribute offsets",
        )?;
        let mut c = Cursor::new(mapped.section(tag::OBJECTS)?);
        let n_objects = c.u32().ok_or_else(|| bad("objects"))?;
        let mut objects = Vec::new();
        let mut object_ids = IdTable::new(Hasher::new());
        for _ in 0..n_objects {
            let id = get_ident(&mut c).ok_or_else(|| bad("objects"))?;
            let (Some(exists), Some(distribution), Some(deleted), Some(event), Some(sg)) =
                (c.u8(), c.u8(), c.u8(), c.u32(), c.u32())
            else {
                return Err(bad("objects"));
            };
            object_ids.get_or_insert(id);
            objects.push(ObjectInfo {
                exists: exists != 0,
                event,
                distribution,
                sg,
                deleted: deleted != 0,
            });
        }
        let orgs = get_ident_table(&mut Cursor::new(mapped.section(tag::ORGS)?))
            .ok_or_else(|| bad("organisations"))?;
        let groups = get_ident_table(&mut Cursor::new(mapped.section(tag::GROUPS)?))
            .ok_or_else(|| bad("sharing groups"))?;
        Ok(EngineSnapshot {
            config,
            exclusions,
            live: usize::try_from(live).unwrap_or(usize::MAX),
            slot_count,
            sid_count,
            types,
            fallback_type,
            records,
            idents,
            key_offsets,
            key_bytes: range(tag::KEY_BYTES)?,
            key_tags,
            key_table: TableView::open(&mapped, tag::KEY_TABLE, "string hash table")?,
            posting_offsets,
            posting_slots,
            big: range(tag::BIG_STATS)?,
            diffs: range(tag::DIFFS)?,
            nums: range(tag::NUM_IDS)?,
            str_id_offsets: range(tag::STR_ID_OFFSETS)?,
            str_id_bytes: range(tag::STR_ID_BYTES)?,
            str_id_table: TableView::open(
                &mapped,
                tag::STR_ID_TABLE,
                "string identity hash table",
            )?,
            ascending: ascending != 0,
            event_attr_offsets,
            event_attrs,
            metadata: range(tag::METADATA).unwrap_or((0, 0)),
            events,
            event_ids,
            objects,
            object_ids,
            orgs,
            groups,
            cidr: OnceLock::new(),
            fuzzy: OnceLock::new(),
            summary: OnceLock::new(),
            mapped,
        })
    }

    /// Checks the checksum of the whole body (one pass over every byte).
    ///
    /// # Errors
    ///
    /// [`Error::Snapshot`] with a checksum mismatch if the file is damaged.
    pub fn verify(&self) -> Result<()> {
        self.mapped.verify()
    }

    /// Writes the snapshot's state (and metadata) to `path`, a new
    /// engine snapshot.
    ///
    /// # Errors
    ///
    /// As [`save_engine`](Self::save_engine), and as
    /// [`to_engine`](Self::to_engine).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        EngineSnapshot::save_engine_with_metadata(&self.to_engine()?, self.metadata(), path)
    }

    /// Decodes the snapshot into an in-memory [`Engine`] that takes changes
    /// (add, update, remove, settings). This reads the whole file: the
    /// snapshot itself is read-only, and there is no delta over the mapped
    /// base. The engine answers every query as the snapshot does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if a string cannot be interned (the
    /// limits of one engine).
    pub fn to_engine(&self) -> Result<Engine> {
        to_engine(self, &self.exclusions)
    }

    /// The settings the engine had.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The exclusion patterns the engine had.
    pub fn exclusions(&self) -> &[String] {
        &self.exclusions
    }

    /// What the snapshot holds.
    pub fn info(&self) -> SnapshotInfo {
        let s = self.summary();
        SnapshotInfo::new(
            &self.mapped,
            vec![
                ("attributes", s.attributes),
                ("eligible attributes", s.eligible),
                ("attribute slots", u64::from(self.slot_count)),
                ("keys", s.keys),
                (
                    "events",
                    self.events.iter().filter(|e| e.exists).count() as u64,
                ),
                (
                    "objects",
                    self.objects.iter().filter(|o| o.exists).count() as u64,
                ),
                ("exclusions", self.exclusions.len() as u64),
                ("limit", u64::from(self.config.limit.unwrap_or(0))),
                ("advanced", u64::from(self.config.advanced)),
                ("exact correlations", s.exact),
                ("cidr correlations", s.cidr),
                ("ssdeep correlations", s.ssdeep),
                ("over-correlating keys", s.over_correlating),
            ],
        )
    }

    fn data(&self) -> &[u8] {
        self.mapped.data()
    }

    fn section(&self, r: (usize, usize)) -> &[u8] {
        bytes_at(self.data(), r)
    }

    fn str_id(&self, i: u64) -> &str {
        let text = usize::try_from(i)
            .ok()
            .and_then(|i| span(self.section(self.str_id_offsets), i))
            .and_then(|r| self.section(self.str_id_bytes).get(r.0..r.1))
            .and_then(|b| std::str::from_utf8(b).ok());
        text.unwrap_or("")
    }
}

query_api!(EngineSnapshot);

impl State for EngineSnapshot {
    fn src(&self) -> Src<'_> {
        Src::Snapshot(self)
    }

    fn config(&self) -> &Config {
        &self.config
    }

    fn live(&self) -> usize {
        self.live
    }

    fn slot_count(&self) -> u32 {
        self.slot_count
    }

    #[inline]
    fn rec(&self, slot: u32) -> Option<AttrRec> {
        let words = u32s(self.section(self.records)).unwrap_or(&[]);
        let at = (slot as usize).checked_mul(RECORD_WORDS)?;
        let w = words.get(at..at + RECORD_WORDS)?;
        let last = *w.get(5)?;
        let ty = *self.types.get((last & 0xFF) as usize)?;
        Some(AttrRec {
            event: *w.first()?,
            object: *w.get(1)?,
            k1: *w.get(2)?,
            k2: *w.get(3)?,
            sg: *w.get(4)?,
            ty,
            distribution: (last >> 8) as u8,
            flags: (last >> 16) as u16,
        })
    }

    fn ty_of(&self, slot: u32) -> AttributeType {
        self.rec(slot).map_or(self.fallback_type, |r| r.ty)
    }

    #[inline]
    fn posting(&self, key: u32) -> &[u32] {
        let all = u32s(self.section(self.posting_slots)).unwrap_or(&[]);
        span(self.section(self.posting_offsets), key as usize)
            .and_then(|(a, b)| all.get(a..b))
            .unwrap_or(&[])
    }

    fn big_stats(&self, key: u32) -> Option<SetStats> {
        let table = self.section(self.big);
        let n = table.len() / BIG_LEN;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let k = le_u32(table, mid * BIG_LEN)?;
            if k < key {
                lo = mid + 1;
            } else if k > key {
                hi = mid;
            } else {
                let at = mid * BIG_LEN;
                return Some(SetStats {
                    n: le_u64(table, at + 8)?,
                    min_count: le_u64(table, at + 16)?,
                    sum_sq: le_u64(table, at + 24)?,
                });
            }
        }
        None
    }

    fn live_keys(&self) -> impl ParallelIterator<Item = u32> + '_ {
        (0..self.sid_count)
            .into_par_iter()
            .filter(|&k| !self.posting(k).is_empty())
    }

    fn stored(&self, sid: u32) -> Stored<'_> {
        let bytes = span(self.section(self.key_offsets), sid as usize)
            .and_then(|(a, b)| self.section(self.key_bytes).get(a..b))
            .unwrap_or(&[]);
        let tag = match self.section(self.key_tags).get(sid as usize) {
            Some(1) => Tag::Hex,
            _ => Tag::Raw,
        };
        Stored(bytes, tag)
    }

    fn find_key(&self, canon: &Canon<'_>) -> Option<u32> {
        let (bytes, tag) = (canon.bytes(), canon.tag());
        let t = &self.key_table;
        t.find(self.data(), t.hash(bytes), |sid| {
            sid < self.sid_count && self.stored(sid) == Stored(bytes, tag)
        })
    }

    fn diff(&self, slot: u32) -> Option<[u32; 2]> {
        let table = self.section(self.diffs);
        let n = table.len() / DIFF_LEN;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let s = le_u32(table, mid * DIFF_LEN)?;
            if s < slot {
                lo = mid + 1;
            } else if s > slot {
                hi = mid;
            } else {
                let at = mid * DIFF_LEN;
                return Some([le_u32(table, at + 4)?, le_u32(table, at + 8)?]);
            }
        }
        None
    }

    fn ident_of(&self, slot: u32) -> Id<'_> {
        let raw = le_u64(self.section(self.idents), slot as usize * 8).unwrap_or(u64::MAX);
        if self.rec(slot).is_some_and(|r| r.has(flag::EXT_STR)) {
            Id::Str(self.str_id(raw))
        } else {
            Id::Num(raw)
        }
    }

    fn slot_of(&self, id: Id<'_>) -> Option<u32> {
        let slot = match id {
            Id::Num(n) if self.ascending => {
                let column = self.section(self.idents);
                let at = interpolation_search_by(column.len() / 8, n, |i| {
                    le_u64(column, i * 8).unwrap_or(u64::MAX)
                })?;
                u32::try_from(at).ok()?
            }
            Id::Num(n) => {
                let table = self.section(self.nums);
                let at = interpolation_search_by(table.len() / NUM_LEN, n, |i| {
                    le_u64(table, i * NUM_LEN).unwrap_or(u64::MAX)
                })?;
                le_u32(table, at * NUM_LEN + 8)?
            }
            Id::Str(s) => {
                let t = &self.str_id_table;
                t.find(self.data(), t.hash(s.as_bytes()), |slot| {
                    self.ident_of(slot) == Id::Str(s)
                })?
            }
        };
        // As in the engine: the slot must hold a live attribute with that
        // identity.
        let r = self.rec(slot)?;
        (r.has(flag::LIVE) && self.ident_of(slot) == id).then_some(slot)
    }

    fn event(&self, e: u32) -> Option<EventInfo> {
        self.events.get(e as usize).copied()
    }

    fn event_attrs(&self, e: u32) -> &[u32] {
        let all = u32s(self.section(self.event_attrs)).unwrap_or(&[]);
        span(self.section(self.event_attr_offsets), e as usize)
            .and_then(|(a, b)| all.get(a..b))
            .unwrap_or(&[])
    }

    fn event_number(&self, id: Id<'_>) -> Option<u32> {
        self.event_ids.get(id)
    }

    fn event_ident(&self, e: u32) -> Id<'_> {
        self.event_ids.ident(e).map_or(Id::Str(""), Ident::as_id)
    }

    fn object(&self, o: u32) -> Option<ObjectInfo> {
        self.objects.get(o as usize).copied()
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
        self.cidr.get_or_init(|| {
            if self.config.advanced {
                build_cidr(self)
            } else {
                CidrIndex::default()
            }
        })
    }

    fn fuzzy(&self) -> &FuzzyGraph {
        self.fuzzy.get_or_init(|| {
            if self.config.advanced {
                build_fuzzy(self)
            } else {
                FuzzyGraph::default()
            }
        })
    }

    fn summary_cache(&self) -> &OnceLock<Summary> {
        &self.summary
    }

    fn org_and_group_idents(&self) -> (Vec<Id<'_>>, Vec<Id<'_>>) {
        (self.orgs.all(), self.groups.all())
    }
}
