//! The list catalogue shared by [`Matcher`](super::Matcher) and
//! [`WarninglistSnapshot`](crate::snapshot::WarninglistSnapshot): every
//! list's metadata by id, look-up by name, name order, the improvements,
//! and which lists apply to which attribute type (a bit set per type,
//! recomputed whenever a list is enabled, disabled or added).
//!
//! Both the matcher and the snapshot hold one [`Catalogue`] and answer the
//! list accessors (`list_id`, `list`, `lists`, `list_count`,
//! `improvements`, `stats`, `set_enabled`, …) and the per-query set-up
//! ([`Catalogue::prepare`]) through it.

use misp_core::AttributeType;

use super::index::Ctx;
use super::list::ListStats;
use super::matcher::ListInfo;
use super::{Hit, Improvements, ListId, ListType, Query, QueryType, ToIdsGate};
use crate::{Error, Result};

/// Which lists apply to which type, as bit sets over list ids.
#[derive(Debug, Default)]
struct Gates {
    /// Slot of every known type name and every extra name.
    slots: ahash::HashMap<Box<str>, u32>,
    /// Names in `matching_attributes` that are not MISP types; slot
    /// `UNKNOWN_SLOT + 1 + i`.
    extra: Vec<String>,
    /// Per slot: the lists that apply and their structure bits. One
    /// element per slot, so that a query finds both with one bounds check
    /// (a slice of a shared `slots × words` array cost a dozen
    /// instructions more per query).
    by_slot: Vec<SlotGate>,
}

/// The lists that apply to one slot.
#[derive(Debug, Default)]
struct SlotGate {
    /// Structure bits of the lists that apply.
    uses: u8,
    /// Bits over list ids: enabled lists that apply to the slot.
    allowed: Box<[u64]>,
}

/// The slot of type names no list mentions (only all-type lists apply).
pub(crate) const UNKNOWN_SLOT: usize = AttributeType::COUNT;

/// Types whose values are domain names (for
/// [`Improvements::case_insensitive_domain_strings`]).
pub(crate) const DOMAIN_LIKE: [&str; 4] = ["domain", "hostname", "domain|ip", "hostname|port"];

/// The lists of a matcher or snapshot and their per-type gates.
#[derive(Debug, Default)]
pub(crate) struct Catalogue {
    improvements: Improvements,
    /// Every list, by id.
    lists: Vec<ListInfo>,
    names: Vec<(Box<str>, ListType)>,
    by_name: ahash::HashMap<String, ListId>,
    /// Position of each list in name order, by id.
    rank: Vec<u16>,
    in_name_order: Vec<ListId>,
    gates: Gates,
}

impl Catalogue {
    /// An empty catalogue.
    pub(crate) fn new(improvements: Improvements) -> Catalogue {
        Catalogue {
            improvements,
            ..Catalogue::default()
        }
    }

    /// A catalogue of `lists` (by id), with order and gates computed.
    pub(crate) fn from_lists(improvements: Improvements, lists: Vec<ListInfo>) -> Catalogue {
        let mut catalogue = Catalogue::new(improvements);
        for info in lists {
            catalogue.push(info);
        }
        catalogue.refresh();
        catalogue
    }

    /// Adds a list (its id must be the next one); call
    /// [`refresh`](Self::refresh) once the lists are in.
    pub(crate) fn push(&mut self, info: ListInfo) {
        self.names.push((info.name().into(), info.list_type()));
        self.by_name.insert(info.name().to_owned(), info.id());
        self.lists.push(info);
    }

    /// Whether a list is named `name`.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every list by id.
    pub(crate) fn by_id(&self) -> &[ListInfo] {
        &self.lists
    }

    /// Sorts the hits of one query by list name.
    #[inline]
    pub(crate) fn sort_hits(&self, hits: &mut [Hit<'_>]) {
        if hits.len() > 1 {
            hits.sort_unstable_by_key(|h| self.rank.get(h.list.index()).copied());
        }
    }

    /// Bytes of heap memory held by the gates.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.gates
            .by_slot
            .iter()
            .map(|gate| gate.allowed.len() * 8 + std::mem::size_of::<SlotGate>())
            .sum()
    }

    /// The rank of `list` in name order.
    pub(crate) fn rank(&self, list: ListId) -> u16 {
        self.rank.get(list.index()).copied().unwrap_or(u16::MAX)
    }

    /// The value parts and check context of `query`, or `None` when no list
    /// can apply.
    // Always inlined: out of line, returning the context costs about 40
    // instructions per query.
    #[inline(always)]
    pub(crate) fn prepare<'a>(
        &'a self,
        query: Query<'a>,
        gate: ToIdsGate,
        first_hit: usize,
    ) -> Option<(&'a str, Option<&'a str>, Ctx<'a>)> {
        if gate == ToIdsGate::On && !query.to_ids {
            return None;
        }
        let (slot, split) = self.resolve(query.ty);
        let gate = self.gates.by_slot.get(slot)?;
        let uses = gate.uses;
        if uses == 0 {
            return None;
        }
        let allowed = &gate.allowed[..];
        let fold_strings = self.improvements.case_insensitive_domain_strings
            && DOMAIN_LIKE.contains(&query.ty.name());
        let ctx = Ctx {
            allowed,
            names: &self.names,
            uses,
            fold_strings,
            improvements: self.improvements,
            first_hit,
        };
        let (first, second) = match split.then(|| query.value.split_once('|')).flatten() {
            Some((first, second)) => (first, Some(second)),
            None => (query.value, None),
        };
        Some((first, second, ctx))
    }

    #[inline]
    pub(crate) fn resolve(&self, ty: QueryType<'_>) -> (usize, bool) {
        match ty {
            QueryType::Known(ty) => (ty.index(), ty.is_composite()),
            QueryType::Name(name) => {
                let slot = self
                    .gates
                    .slots
                    .get(name)
                    .map_or(UNKNOWN_SLOT, |&s| s as usize);
                (slot, name == "malware-sample" || name.contains('|'))
            }
        }
    }

    /// Enables or disables the list named `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when no list has that name.
    pub(crate) fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<()> {
        let id = self
            .list_id(name)
            .ok_or_else(|| Error::InvalidArgument(format!("no warninglist named {name:?}")))?;
        if let Some(info) = self.lists.get_mut(id.index()) {
            info.set_enabled(enabled);
        }
        self.refresh_gates();
        Ok(())
    }

    /// Enables or disables every list.
    pub(crate) fn set_all_enabled(&mut self, enabled: bool) {
        for info in &mut self.lists {
            info.set_enabled(enabled);
        }
        self.refresh_gates();
    }

    /// Recomputes name order and gates after lists were added.
    pub(crate) fn refresh(&mut self) {
        let mut order: Vec<ListId> = self.lists.iter().map(ListInfo::id).collect();
        order.sort_by(|a, b| {
            self.names
                .get(a.index())
                .map(|n| &n.0)
                .cmp(&self.names.get(b.index()).map(|n| &n.0))
        });
        self.rank = vec![0; self.lists.len()];
        for (rank, id) in order.iter().enumerate() {
            if let Some(r) = self.rank.get_mut(id.index()) {
                *r = rank as u16;
            }
        }
        self.in_name_order = order;
        self.refresh_gates();
    }

    pub(crate) fn refresh_gates(&mut self) {
        let gates = &mut self.gates;
        if gates.slots.is_empty() {
            for ty in AttributeType::all() {
                gates.slots.insert(ty.name().into(), ty.index() as u32);
            }
        }
        for info in &self.lists {
            for name in info.matching_attributes() {
                if name != "ALL" && !gates.slots.contains_key(name.as_str()) {
                    let slot = (UNKNOWN_SLOT + 1 + gates.extra.len()) as u32;
                    gates.slots.insert(name.as_str().into(), slot);
                    gates.extra.push(name.clone());
                }
            }
        }
        let slots = UNKNOWN_SLOT + 1 + gates.extra.len();
        let words = self.lists.len().div_ceil(64);
        gates.by_slot = (0..slots)
            .map(|_| SlotGate {
                uses: 0,
                allowed: vec![0; words].into_boxed_slice(),
            })
            .collect();
        for info in self.lists.iter().filter(|l| l.is_enabled()) {
            let (word, bit) = info.id().word_and_bit();
            let mut mark = |slot: usize| {
                if let Some(gate) = gates.by_slot.get_mut(slot) {
                    gate.uses |= info.uses();
                    if let Some(w) = gate.allowed.get_mut(word) {
                        *w |= bit;
                    }
                }
            };
            if info.matching_attributes().is_empty()
                || info.matching_attributes().iter().any(|n| n == "ALL")
            {
                (0..slots).for_each(&mut mark);
            } else {
                for name in info.matching_attributes() {
                    if let Some(&slot) = gates.slots.get(name.as_str()) {
                        mark(slot as usize);
                    }
                }
            }
        }
    }

    /// The id of the list named `name`.
    pub(crate) fn list_id(&self, name: &str) -> Option<ListId> {
        self.by_name.get(name).copied()
    }

    /// The list with id `id`.
    pub(crate) fn list(&self, id: ListId) -> Option<&ListInfo> {
        self.lists.get(id.index())
    }

    /// Every list, in name order.
    pub(crate) fn lists(&self) -> impl Iterator<Item = &ListInfo> + '_ {
        self.in_name_order
            .iter()
            .filter_map(|id| self.lists.get(id.index()))
    }

    /// Number of lists (enabled or not).
    pub(crate) fn list_count(&self) -> usize {
        self.lists.len()
    }

    /// The improvements the matcher applies.
    pub(crate) fn improvements(&self) -> Improvements {
        self.improvements
    }

    /// How every entry of every list was accounted for.
    pub(crate) fn stats(&self) -> ListStats {
        let mut total = ListStats::default();
        for info in &self.lists {
            total += info.stats();
        }
        total
    }
}
