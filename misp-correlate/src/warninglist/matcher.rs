//! [`MatcherBuilder`] and the compiled [`Matcher`].
//!
//! The builder takes [`Warninglist`]s and [`Improvements`] and compiles
//! everything once. The matcher keeps the compiled lists in two segments:
//! the lists given to the builder, and the custom lists added later with
//! [`Matcher::add_list`] (recompiled together on each addition, as custom
//! lists are small). Which lists apply to which attribute type is a bit set
//! per type, recomputed whenever a list is enabled, disabled or added.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use misp_core::AttributeType;
use rayon::prelude::*;

use super::catalogue::Catalogue;
use super::index::{self, Segment};
use super::list::{EntryProblem, ListStats, ProblemKind, Warninglist};
use super::{Hit, Improvements, ListId, ListType, Query, ToIdsGate};
use crate::{Error, Result};

/// Collects lists and compiles them into a [`Matcher`].
#[derive(Debug, Default)]
pub struct MatcherBuilder {
    improvements: Improvements,
    lists: Vec<Warninglist>,
    names: ahash::HashSet<String>,
}

impl MatcherBuilder {
    /// An empty, MISP-compatible builder.
    pub fn new() -> MatcherBuilder {
        MatcherBuilder::default()
    }

    /// Sets the improvements the matcher will apply.
    pub fn improvements(&mut self, improvements: Improvements) -> &mut Self {
        self.improvements = improvements;
        self
    }

    /// Adds a list.
    ///
    /// # Errors
    ///
    /// [`Error::Warninglist`] (naming the list's file) or
    /// [`Error::InvalidArgument`] when a list with the same name was added
    /// before: MISP's list names are unique.
    pub fn add(&mut self, list: Warninglist) -> Result<&mut Self> {
        if self.names.contains(list.name()) {
            return Err(duplicate_name(&list));
        }
        if self.lists.len() >= ListId::LIMIT {
            return Err(Error::InvalidArgument(format!(
                "more than {} warninglists",
                ListId::LIMIT
            )));
        }
        self.names.insert(list.name().to_owned());
        self.lists.push(list);
        Ok(self)
    }

    /// Compiles the lists. Returns the matcher and the entries that can
    /// never match (plus unknown `matching_attributes` names), ordered by
    /// list name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] only when the lists exceed the matcher's
    /// internal limits (4 GiB of entry text).
    pub fn build(self) -> Result<(Matcher, Vec<EntryProblem>)> {
        let MatcherBuilder {
            improvements,
            mut lists,
            ..
        } = self;
        lists.sort_by(|a, b| a.name().cmp(b.name()));
        let mut matcher = Matcher {
            catalogue: Catalogue::new(improvements),
            segments: Vec::new(),
            custom: Vec::new(),
        };
        let ids: Vec<(ListId, &Warninglist)> = lists
            .iter()
            .enumerate()
            .map(|(i, list)| ListId::from_index(i).map(|id| (id, list)))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::InvalidArgument("too many warninglists".into()))?;
        let compiled = index::compile(&ids, &improvements)?;
        let problems = matcher.register(&ids, &compiled.unusable, &compiled.uses);
        matcher.segments.push(compiled.segment);
        matcher.catalogue.refresh();
        Ok((matcher, problems))
    }
}

fn duplicate_name(list: &Warninglist) -> Error {
    let message = format!("a warninglist named {:?} is already loaded", list.name());
    match list.source() {
        Some(path) => Error::Warninglist {
            path: path.to_path_buf(),
            message,
        },
        None => Error::InvalidArgument(message),
    }
}

/// A list's metadata and state inside a [`Matcher`].
#[derive(Clone, Debug)]
pub struct ListInfo {
    id: ListId,
    name: String,
    description: String,
    version: u64,
    list_type: ListType,
    matching_attributes: Vec<String>,
    source: Option<PathBuf>,
    enabled: bool,
    stats: ListStats,
    uses: u8,
}

impl ListInfo {
    /// The list's id.
    pub fn id(&self) -> ListId {
        self.id
    }
    /// The list's `name`.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The list's `description`.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// The list's `version`.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The list's type.
    pub fn list_type(&self) -> ListType {
        self.list_type
    }
    /// The list's `matching_attributes` as written (empty: all types).
    pub fn matching_attributes(&self) -> &[String] {
        &self.matching_attributes
    }
    /// The file the list came from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }
    /// Whether the list is consulted.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
    /// How the list's entries were accounted for.
    pub fn stats(&self) -> ListStats {
        self.stats
    }
}

/// Compiled warninglists, ready to check attributes.
///
/// Build one with [`MatcherBuilder`] or [`load`](super::load). Checking
/// takes `&self` and the matcher is `Send + Sync`, so one matcher serves
/// any number of threads.
#[derive(Debug)]
pub struct Matcher {
    catalogue: Catalogue,
    /// `[lists given to the builder, custom lists]`.
    segments: Vec<Segment>,
    /// Custom lists added at run time, kept to recompile their segment.
    custom: Vec<(ListId, Warninglist)>,
}

/// Hits of a batch of queries, in query order.
#[derive(Clone, Debug, Default)]
pub struct BatchHits<'a> {
    ends: Vec<usize>,
    hits: Vec<Hit<'a>>,
}

impl<'a> BatchHits<'a> {
    /// Number of queries.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch had no query.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The hits of query `index` (empty when out of range).
    pub fn get(&self, index: usize) -> &[Hit<'a>] {
        let start = match index.checked_sub(1) {
            Some(previous) => self.ends.get(previous).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(index).copied().unwrap_or(start);
        self.hits.get(start..end).unwrap_or(&[])
    }

    /// The hits of each query, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[Hit<'a>]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Total number of hits.
    pub fn hit_count(&self) -> usize {
        self.hits.len()
    }

    /// Removes every query and hit, keeping the allocations.
    pub fn clear(&mut self) {
        self.ends.clear();
        self.hits.clear();
    }
}

/// The hits of one list over a set of attributes (MISP's event-level
/// `warnings`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListSummary<'a> {
    /// The list's id.
    pub list: ListId,
    /// The list's name.
    pub name: &'a str,
    /// The list's type.
    pub list_type: ListType,
    /// `(index of the attribute in the input, hit)`, in input order.
    pub hits: Vec<(usize, Hit<'a>)>,
}

impl Matcher {
    /// Checks a value of a known type, ignoring `to_ids`. Hits are sorted by
    /// list name, at most one per list.
    pub fn check<'a>(&'a self, ty: AttributeType, value: &'a str) -> Vec<Hit<'a>> {
        self.check_query(Query::new(ty, value), ToIdsGate::Off)
    }

    /// Checks one attribute.
    pub fn check_query<'a>(&'a self, query: Query<'a>, gate: ToIdsGate) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        self.check_into(query, gate, &mut hits);
        hits
    }

    /// Checks one attribute and appends its hits (sorted by list name) to
    /// `hits`; reusing `hits` avoids all allocation.
    pub fn check_into<'a>(&'a self, query: Query<'a>, gate: ToIdsGate, hits: &mut Vec<Hit<'a>>) {
        let Some(prepared) = self.catalogue.prepare(query, gate, hits.len()) else {
            return;
        };
        let (first, second, ctx) = prepared;
        // Without custom lists there is one segment: checked without the
        // loops, whose iterator (reloaded after each call) cost about 15
        // instructions per query.
        if let [segment] = &self.segments[..] {
            segment.check_part(first, &ctx, hits);
            if let Some(second) = second {
                segment.check_part(second, &ctx, hits);
            }
        } else {
            for segment in &self.segments {
                segment.check_part(first, &ctx, hits);
            }
            if let Some(second) = second {
                for segment in &self.segments {
                    segment.check_part(second, &ctx, hits);
                }
            }
        }
        if let Some(new) = hits.get_mut(ctx.first_hit..) {
            self.catalogue.sort_hits(new);
        }
    }

    /// Checks `queries` in order on the calling thread, appending hits and
    /// each query's end offset.
    ///
    /// Each check already hashes all of its probes and touches their
    /// filter words (and tags) before looking any up. Planning the probes
    /// of 16 queries before looking up the first (so that the misses of the
    /// whole group overlap) measured slower on the shared 2-core machine:
    /// the touching loads hold the reorder buffer, and the plans cost
    /// copies. A staged variant (hash the probes of 32 queries, then load
    /// their tags, then their slots, then their keys, each stage a tight
    /// loop of independent loads) spent in its own stalls about the time it
    /// saved the checks. Without a real prefetch instruction (which needs
    /// `unsafe`) one query at a time is the faster arrangement; the key
    /// tables' filters keep most misses out of memory instead. Little is
    /// left to overlap anyway: a check waits for about 0.1 memory reads
    /// and two L3 reads per value, at most a quarter of its time, and is
    /// otherwise bound by its instructions and branches (see the notes in
    /// `table.rs` on what a check waits for).
    fn check_sequence<'a>(
        &'a self,
        queries: &[Query<'a>],
        gate: ToIdsGate,
        out: &mut BatchHits<'a>,
    ) {
        for query in queries {
            self.check_into(*query, gate, &mut out.hits);
            out.ends.push(out.hits.len());
        }
    }

    /// Checks `queries` in order on the calling thread, replacing the
    /// contents of `out` (whose buffers are reused, so a loop over batches
    /// allocates nothing once they have grown).
    pub fn check_batch_into<'a>(
        &'a self,
        queries: &[Query<'a>],
        gate: ToIdsGate,
        out: &mut BatchHits<'a>,
    ) {
        out.clear();
        self.check_sequence(queries, gate, out);
    }

    /// Checks many attributes in parallel (rayon), in chunks.
    pub fn check_batch<'a>(&'a self, queries: &[Query<'a>], gate: ToIdsGate) -> BatchHits<'a> {
        const CHUNK: usize = 2048;
        let chunks: Vec<BatchHits<'a>> = queries
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut out = BatchHits {
                    ends: Vec::with_capacity(chunk.len()),
                    hits: Vec::new(),
                };
                self.check_sequence(chunk, gate, &mut out);
                out
            })
            .collect();
        let mut batch = BatchHits {
            ends: Vec::with_capacity(queries.len()),
            hits: Vec::with_capacity(chunks.iter().map(|c| c.hits.len()).sum()),
        };
        for chunk in chunks {
            let offset = batch.hits.len();
            batch.ends.extend(chunk.ends.iter().map(|e| e + offset));
            batch.hits.extend(chunk.hits);
        }
        batch
    }

    /// The lists hit by any of `queries` (an event's attributes), in name
    /// order, each with its hits.
    pub fn summarize<'a>(&'a self, queries: &[Query<'a>], gate: ToIdsGate) -> Vec<ListSummary<'a>> {
        let batch = self.check_batch(queries, gate);
        let mut by_rank: BTreeMap<u16, ListSummary<'a>> = BTreeMap::new();
        for (i, hits) in batch.iter().enumerate() {
            for hit in hits {
                let rank = self.catalogue.rank(hit.list);
                by_rank
                    .entry(rank)
                    .or_insert_with(|| ListSummary {
                        list: hit.list,
                        name: hit.list_name,
                        list_type: hit.list_type,
                        hits: Vec::new(),
                    })
                    .hits
                    .push((i, *hit));
            }
        }
        by_rank.into_values().collect()
    }

    /// Adds a custom list at run time and returns its id and the problems
    /// found in it.
    ///
    /// # Errors
    ///
    /// As [`MatcherBuilder::add`]: a duplicate name or too many lists.
    pub fn add_list(&mut self, list: Warninglist) -> Result<(ListId, Vec<EntryProblem>)> {
        if self.catalogue.contains(list.name()) {
            return Err(duplicate_name(&list));
        }
        let id = ListId::from_index(self.catalogue.list_count()).ok_or_else(|| {
            Error::InvalidArgument(format!("more than {} warninglists", ListId::LIMIT))
        })?;
        let mut custom = std::mem::take(&mut self.custom);
        custom.push((id, list));
        let ids: Vec<(ListId, &Warninglist)> = custom.iter().map(|(id, l)| (*id, l)).collect();
        let compiled = match index::compile(&ids, &self.catalogue.improvements()) {
            Ok(compiled) => compiled,
            Err(error) => {
                drop(ids);
                custom.pop();
                self.custom = custom;
                return Err(error);
            }
        };
        let last = ids.len() - 1;
        let newest = ids.get(last..).unwrap_or(&[]);
        let unusable: Vec<_> = compiled
            .unusable
            .into_iter()
            .filter(|u| u.list == id)
            .collect();
        let problems = self.register(newest, &unusable, compiled.uses.get(last..).unwrap_or(&[]));
        drop(ids);
        self.custom = custom;
        match self.segments.get_mut(1) {
            Some(segment) => *segment = compiled.segment,
            None => self.segments.push(compiled.segment),
        }
        self.catalogue.refresh();
        Ok((id, problems))
    }

    /// Records metadata and statistics of freshly compiled lists and returns
    /// their problems.
    fn register(
        &mut self,
        lists: &[(ListId, &Warninglist)],
        unusable: &[index::Unusable],
        uses: &[u8],
    ) -> Vec<EntryProblem> {
        let mut problems = Vec::new();
        for (k, (id, list)) in lists.iter().enumerate() {
            let file = list.source().map(Path::to_path_buf);
            let problem = |entry: &str, kind: ProblemKind| EntryProblem {
                file: file.clone(),
                list: list.name().to_owned(),
                entry: entry.to_owned(),
                kind,
            };
            for (entry, kind) in list.rejected() {
                problems.push(problem(entry, kind.clone()));
            }
            let unusable: Vec<_> = unusable.iter().filter(|u| u.list == *id).collect();
            for u in &unusable {
                problems.push(problem(&u.entry, u.kind.clone()));
            }
            for name in list.matching_attributes() {
                if name != "ALL" && AttributeType::from_name(name).is_none() {
                    problems.push(problem(name, ProblemKind::UnknownAttributeType));
                }
            }
            let rejected = list
                .rejected()
                .iter()
                .filter(|(_, k)| matches!(k, ProblemKind::NotAString(_)))
                .count();
            let stats = ListStats {
                total: list.len() + list.dropped() + rejected,
                loaded: list.len() - unusable.len(),
                dropped: list.dropped(),
                unusable: unusable.len() + rejected,
            };
            self.catalogue.push(ListInfo {
                id: *id,
                name: list.name().to_owned(),
                description: list.description().to_owned(),
                version: list.version(),
                list_type: list.list_type(),
                matching_attributes: list.matching_attributes().to_vec(),
                source: list.source().map(Path::to_path_buf),
                enabled: true,
                stats,
                uses: uses.get(k).copied().unwrap_or(0),
            });
        }
        problems
    }

    /// Enables or disables the list named `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when no list has that name.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<()> {
        self.catalogue.set_enabled(name, enabled)
    }

    /// Enables or disables every list.
    pub fn set_all_enabled(&mut self, enabled: bool) {
        self.catalogue.set_all_enabled(enabled);
    }

    /// The id of the list named `name`.
    pub fn list_id(&self, name: &str) -> Option<ListId> {
        self.catalogue.list_id(name)
    }

    /// The list with id `id`.
    pub fn list(&self, id: ListId) -> Option<&ListInfo> {
        self.catalogue.list(id)
    }

    /// Every list, in name order.
    pub fn lists(&self) -> impl Iterator<Item = &ListInfo> + '_ {
        self.catalogue.lists()
    }

    /// Number of lists (enabled or not).
    pub fn list_count(&self) -> usize {
        self.catalogue.list_count()
    }

    /// The improvements the matcher applies.
    pub fn improvements(&self) -> Improvements {
        self.catalogue.improvements()
    }

    /// How every entry of every list was accounted for.
    pub fn stats(&self) -> ListStats {
        self.catalogue.stats()
    }

    /// Distinct keys in the merged string and hostname tables.
    pub fn distinct_keys(&self) -> (usize, usize) {
        self.segments.iter().fold((0, 0), |(s, h), seg| {
            let (ds, dh) = seg.key_counts();
            (s + ds, h + dh)
        })
    }

    /// Approximate heap memory held by the compiled structures, in bytes
    /// (compiled regexes excluded).
    pub fn memory_usage(&self) -> usize {
        self.segments.iter().map(Segment::heap_bytes).sum::<usize>()
            + self.catalogue.heap_bytes()
            + self
                .catalogue
                .by_id()
                .iter()
                .map(|l| l.name.len() * 2 + l.description.len() + 160)
                .sum::<usize>()
    }
}

/// Raw access for snapshots.
impl Matcher {
    /// The compiled segments (lists given to the builder, then custom lists).
    pub(crate) fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Every list by id.
    pub(crate) fn lists_by_id(&self) -> &[ListInfo] {
        self.catalogue.by_id()
    }
}

/// Raw access for snapshots.
impl ListInfo {
    /// Structure bits: which compiled structures hold the list's entries.
    pub(crate) fn uses(&self) -> u8 {
        self.uses
    }

    /// A list's metadata as stored in a snapshot.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        id: ListId,
        name: String,
        description: String,
        version: u64,
        list_type: ListType,
        matching_attributes: Vec<String>,
        source: Option<PathBuf>,
        enabled: bool,
        stats: ListStats,
        uses: u8,
    ) -> ListInfo {
        ListInfo {
            id,
            name,
            description,
            version,
            list_type,
            matching_attributes,
            source,
            enabled,
            stats,
            uses,
        }
    }

    /// Enables or disables the list (snapshots keep their own list state).
    pub(crate) fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }
}
