//! Warninglists: load once, check values one at a time or in batches.
//!
//! A [`misp_warninglists`] handle owns a compiled
//! `misp_correlate::warninglist::Matcher` together with what went wrong
//! while loading it (unusable files and entries). Checking only reads the
//! matcher, so any number of threads may check at once; enabling or
//! disabling a list and adding a custom list take a write lock.
//!
//! Results are JSON, shaped like `misp-correlate check`: a hit is
//! `{"list": NAME, "list_type": TYPE, "match": M, "value": PART}`, and the
//! hits of one value are sorted by list name, at most one per list.

use std::ffi::c_char;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use misp_correlate::snapshot::WarninglistSnapshot;
use misp_correlate::warninglist::{
    self, EntryProblem, Hit, Improvements, ListInfo, Matched, Matcher, Query, QueryType, ToIdsGate,
    Warninglist,
};
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use serde::Serialize;
use serde::ser::Serializer;

use crate::error::{FfiError, misp_result};
use crate::handle::{self, Handle, Out};
use crate::load::IN_MEMORY_SOURCE;
use crate::packed::{self, PackedView};
use crate::pairs::BatchInput;
use crate::panic::{guard, guard_or};

/// Compiled warninglists: an opaque handle.
///
/// Created by `misp_warninglists_load`, freed by `misp_warninglists_free`.
/// A handle may be used from several threads at once (checks run in
/// parallel; changes wait for running checks), but must not be freed while
/// another thread uses it.
pub struct misp_warninglists {
    _private: [u8; 0],
}

impl Handle for misp_warninglists {
    type Rust = Warninglists;
}

/// The value behind a [`misp_warninglists`] handle.
pub(crate) struct Warninglists {
    /// Shared with the batches checking in the background
    /// (`misp_warninglists_batch`), which may outlive the handle.
    state: Arc<RwLock<State>>,
}

/// The checker and what its loading reported.
pub(crate) struct State {
    pub(crate) checker: Checker,
    errors: Vec<ReportError>,
    problems: Vec<ReportProblem>,
}

/// A file or list that could not be used at all.
#[derive(Serialize)]
struct ReportError {
    file: String,
    message: String,
}

/// An entry that can never match.
#[derive(Serialize)]
struct ReportProblem {
    file: String,
    list: String,
    entry: String,
    reason: String,
}

impl From<&EntryProblem> for ReportProblem {
    fn from(problem: &EntryProblem) -> ReportProblem {
        ReportProblem {
            file: problem
                .file
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            list: problem.list.clone(),
            entry: problem.entry.clone(),
            reason: problem.kind.to_string(),
        }
    }
}

impl Warninglists {
    fn read(&self) -> Result<RwLockReadGuard<'_, State>, FfiError> {
        self.state.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, State>, FfiError> {
        self.state.write().map_err(|_| poisoned())
    }

    /// The lists and their state, shared: checks through it see every
    /// later change of the handle.
    pub(crate) fn shared_state(&self) -> Arc<RwLock<State>> {
        Arc::clone(&self.state)
    }
}

/// The error of a lock poisoned by a panic during a change.
pub(crate) fn poisoned() -> FfiError {
    FfiError::new(
        misp_result::MISP_ERR_POISONED,
        "the warninglists were left inconsistent by an earlier internal panic; free and reload them",
    )
}

/// What answers the checks: lists compiled from `list.json` files, or a
/// snapshot file opened in place. Both answer every check identically.
pub(crate) enum Checker {
    /// Made by `misp_warninglists_load`; custom lists may be added.
    Compiled(Box<Matcher>),
    /// Made by `misp_warninglists_open_snapshot`; the lists are fixed.
    Snapshot(Box<WarninglistSnapshot>),
}

impl Checker {
    fn check_query<'a>(&'a self, query: Query<'a>) -> Vec<Hit<'a>> {
        match self {
            Checker::Compiled(matcher) => matcher.check_query(query, ToIdsGate::Off),
            Checker::Snapshot(snapshot) => snapshot.check_query(query, ToIdsGate::Off),
        }
    }

    /// Checks one query and appends its hits (sorted by list name) to
    /// `hits`.
    fn check_into<'a>(&'a self, query: Query<'a>, hits: &mut Vec<Hit<'a>>) {
        match self {
            Checker::Compiled(matcher) => matcher.check_into(query, ToIdsGate::Off, hits),
            Checker::Snapshot(snapshot) => snapshot.check_into(query, ToIdsGate::Off, hits),
        }
    }

    fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<(), FfiError> {
        match self {
            Checker::Compiled(matcher) => matcher.set_enabled(name, enabled)?,
            Checker::Snapshot(snapshot) => snapshot.set_enabled(name, enabled)?,
        }
        Ok(())
    }

    /// Adds a custom list; returns its entries that can never match.
    fn add_list(&mut self, list: Warninglist) -> Result<Vec<EntryProblem>, FfiError> {
        match self {
            Checker::Compiled(matcher) => Ok(matcher.add_list(list)?.1),
            Checker::Snapshot(snapshot) => Err(FfiError::invalid(format!(
                "cannot add list {:?}: warninglists opened from snapshot {} are fixed; \
                 add custom lists before saving the snapshot",
                list.name(),
                snapshot.path().display()
            ))),
        }
    }

    fn lists(&self) -> Box<dyn Iterator<Item = &ListInfo> + '_> {
        match self {
            Checker::Compiled(matcher) => Box::new(matcher.lists()),
            Checker::Snapshot(snapshot) => Box::new(snapshot.lists()),
        }
    }

    fn save_snapshot(&self, path: &Path) -> Result<(), FfiError> {
        match self {
            Checker::Compiled(matcher) => WarninglistSnapshot::save_matcher(matcher, path)?,
            Checker::Snapshot(snapshot) => snapshot.save(path)?,
        }
        Ok(())
    }
}

/// The hits of a run of queries (a chunk of a batch), in query order:
/// query `i` has `hits[ends[i - 1]..ends[i]]`.
struct Batch<'a> {
    ends: Vec<usize>,
    hits: Vec<Hit<'a>>,
}

impl<'a> Batch<'a> {
    fn with_capacity(queries: usize) -> Batch<'a> {
        Batch {
            ends: Vec::with_capacity(queries),
            hits: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The hits of each query, in order.
    fn iter(&self) -> impl Iterator<Item = &[Hit<'a>]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts
            .zip(&self.ends)
            .map(|(start, &end)| self.hits.get(start..end).unwrap_or(&[]))
    }

    /// Each hit with the index of its query.
    fn indexed_hits(&self) -> impl Iterator<Item = (usize, &Hit<'a>)> + '_ {
        self.iter()
            .enumerate()
            .flat_map(|(query, hits)| hits.iter().map(move |hit| (query, hit)))
    }
}

/// Departures from MISP's warninglist behaviour, as bit flags for
/// `misp_warninglists_load`. 0 is MISP-compatible; `MISP_WL_ALL` turns
/// every fix on.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum misp_warninglist_improvement {
    /// Compare hosts with hostname entries ASCII-case-insensitively.
    MISP_WL_LOWERCASE_HOSTS = 1,
    /// Take the host from a URL properly (scheme, userinfo, port, IPv6
    /// brackets, `?` and `#`).
    MISP_WL_PARSE_URLS = 2,
    /// Accept (and ignore) the `g` modifier in regex entries.
    MISP_WL_REGEX_GLOBAL_MODIFIER = 4,
    /// For a CIDR value, also report lists with an entry inside its range.
    MISP_WL_CIDR_OVERLAP = 8,
    /// A CIDR value's mask must be a decimal prefix length in range.
    MISP_WL_STRICT_CIDR_MASKS = 16,
    /// Treat string entries starting with a dot as hostname entries too.
    MISP_WL_DOTTED_STRINGS_AS_HOSTNAMES = 32,
    /// Compare string lists ASCII-case-insensitively for domain-like types.
    MISP_WL_CASE_INSENSITIVE_DOMAIN_STRINGS = 64,
    /// Do not drop a trailing `0` label from hosts.
    MISP_WL_NO_ZERO_LABEL_QUIRK = 128,
    /// Every improvement.
    MISP_WL_ALL = 255,
}

/// The library's improvements for the bit set `flags`.
fn improvements(flags: u32) -> Result<Improvements, FfiError> {
    use misp_warninglist_improvement as F;
    if flags & !(F::MISP_WL_ALL as u32) != 0 {
        return Err(FfiError::invalid(format!(
            "argument `improvements` has unknown bits {:#x}",
            flags & !(F::MISP_WL_ALL as u32)
        )));
    }
    let on = |flag: F| flags & flag as u32 != 0;
    Ok(Improvements {
        lowercase_hosts: on(F::MISP_WL_LOWERCASE_HOSTS),
        parse_urls: on(F::MISP_WL_PARSE_URLS),
        regex_global_modifier: on(F::MISP_WL_REGEX_GLOBAL_MODIFIER),
        cidr_overlap: on(F::MISP_WL_CIDR_OVERLAP),
        strict_cidr_masks: on(F::MISP_WL_STRICT_CIDR_MASKS),
        dotted_strings_as_hostnames: on(F::MISP_WL_DOTTED_STRINGS_AS_HOSTNAMES),
        case_insensitive_domain_strings: on(F::MISP_WL_CASE_INSENSITIVE_DOMAIN_STRINGS),
        no_zero_label_quirk: on(F::MISP_WL_NO_ZERO_LABEL_QUIRK),
    })
}

/// Loads the warninglists under `path` (a misp-warninglists checkout, any
/// directory tree of `list.json` files, or one list file) and compiles
/// them.
///
/// `improvements` is 0 for MISP-compatible matching, or a bitwise OR of
/// `misp_warninglist_improvement` flags. Files are read in parallel. A
/// file that is unusable as a whole (not JSON, no `name`, unknown `type`,
/// a repeated name) and entries that can never match do not fail the
/// load: `misp_warninglists_report` lists them.
///
/// On success `*out_lists` receives a new handle, owned by the caller and
/// freed with `misp_warninglists_free`.
///
/// Ownership: `path` is borrowed for the call only.
///
/// Thread safety: safe from any number of threads at once.
///
/// # Errors
///
/// * `MISP_ERR_NULL`, `MISP_ERR_UTF8`: bad arguments.
/// * `MISP_ERR_INVALID`: unknown bits in `improvements`.
/// * `MISP_ERR_IO`: `path` cannot be read.
/// * `MISP_ERR_WARNINGLIST`: a directory without any `list.json`.
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes and `out_lists` for
/// one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_load(
    path: *const c_char,
    path_len: usize,
    improvements: u32,
    out_lists: *mut *mut misp_warninglists,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (path, out_lists) = unsafe {
            (
                handle::str_arg(path, path_len, "path")?,
                Out::new(out_lists, "out_lists")?,
            )
        };
        let loaded = warninglist::load(Path::new(path), self::improvements(improvements)?)?;
        let state = State {
            checker: Checker::Compiled(Box::new(loaded.matcher)),
            errors: loaded
                .errors
                .iter()
                .map(|e| ReportError {
                    file: crate::error::correlate_error_file(e),
                    message: e.to_string(),
                })
                .collect(),
            problems: loaded.problems.iter().map(ReportProblem::from).collect(),
        };
        out_lists.write(handle::into_raw(Warninglists {
            state: Arc::new(RwLock::new(state)),
        }));
        Ok(())
    })
}

/// Frees warninglists made by `misp_warninglists_load`.
///
/// Calling with NULL is a no-op. Must not be called twice with the same
/// handle, nor while another thread is using it.
///
/// # Safety
///
/// `lists` must be NULL or a handle from `misp_warninglists_load` not yet
/// freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_free(lists: *mut misp_warninglists) {
    // SAFETY: forwarded contract.
    guard_or((), || unsafe { handle::free(lists) })
}

/// The `match` field of a hit, written without an intermediate string.
struct MatchedText<'a>(Matched<'a>);

impl Serialize for MatchedText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Matched::Text(text) => serializer.serialize_str(text),
            network => serializer.collect_str(&DisplayOf(network)),
        }
    }
}

/// Adapts a `Display` value for `collect_str`.
struct DisplayOf<T>(T);

impl<T: fmt::Display> fmt::Display for DisplayOf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One hit as JSON: `{list, list_type, match, value}`.
#[derive(Serialize)]
struct HitRow<'a> {
    list: &'a str,
    list_type: &'static str,
    #[serde(rename = "match")]
    matched: MatchedText<'a>,
    value: &'a str,
}

impl<'a> From<&Hit<'a>> for HitRow<'a> {
    fn from(hit: &Hit<'a>) -> HitRow<'a> {
        HitRow {
            list: hit.list_name,
            list_type: hit.list_type.as_str(),
            matched: MatchedText(hit.matched),
            value: hit.value,
        }
    }
}

/// The hits of one value as a JSON array.
struct HitRows<'h, 'a>(&'h [Hit<'a>]);

impl Serialize for HitRows<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(HitRow::from))
    }
}

/// Checks one value against the enabled lists, as `misp-correlate check`
/// does (MISP's checks, without the `to_ids` gate).
///
/// `type_name` is the attribute type (any name: a list applies when its
/// `matching_attributes` hold that exact name or are empty); `value` is
/// the value as stored (normalise it first with `misp_normalize` if it is
/// raw input). Composite values are split on the first `|`.
///
/// `*out_json` receives a JSON array of hits,
/// `[{"list": NAME, "list_type": TYPE, "match": M, "value": PART}, ...]`,
/// sorted by list name (empty: `[]`). The caller frees it with
/// `misp_string_free`.
///
/// Ownership: every argument is borrowed for the call only.
///
/// Thread safety: any number of threads may check with the same handle at
/// once.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8` for bad arguments;
/// `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle; `type_name` and `value` valid for
/// `type_len` and `value_len` bytes; `out_json` and `out_len` valid for
/// one write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_check(
    lists: *const misp_warninglists,
    type_name: *const c_char,
    type_len: usize,
    value: *const c_char,
    value_len: usize,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, type_name, value, out_json, out_len) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                handle::str_arg(type_name, type_len, "type_name")?,
                handle::str_arg(value, value_len, "value")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let state = lists.read()?;
        let query = Query::new(QueryType::Name(type_name), value);
        let hits = state.checker.check_query(query);
        let (text, len) = handle::owned_json(&HitRows(&hits))?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
    })
}

/// Checks many values at once (in parallel), as `misp_warninglists_check`
/// does for each.
///
/// The input is `2n` strings stored one after the other in `strings`:
/// `type_0, value_0, type_1, value_1, …`, string `i` being `lens[i]` bytes
/// long. `lens_len` must be even and the lengths must add up to
/// `strings_len`. Packing avoids one allocation per string and lets
/// callers in other languages build the input in a few bulk operations.
///
/// `lens` may instead be NULL when no string contains a NUL byte: then
/// the `lens_len` strings are separated by single NUL bytes in `strings`
/// (`"md5\0d41d…\0domain\0example.com"`, no terminator), which a caller
/// builds with one `join`.
///
/// `*out_json` receives a JSON array of `n` arrays of hits, in input
/// order (`[[], [{"list": …}], …]`). The caller frees it with
/// `misp_string_free`.
///
/// Ownership: every argument is borrowed for the call only.
///
/// Thread safety: as `misp_warninglists_check`.
///
/// # Errors
///
/// * `MISP_ERR_NULL` for a NULL pointer (other than `lens`);
/// * `MISP_ERR_INVALID` when `lens_len` is odd, the lengths do not add
///   up to `strings_len` or (with a NULL `lens`) `strings` does not hold
///   `lens_len` NUL-separated strings;
/// * `MISP_ERR_UTF8` when a string is not UTF-8 (the message gives its
///   index);
/// * `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle; `strings` valid for `strings_len`
/// bytes; `lens` NULL or valid for `lens_len` `size_t`; `out_json` and
/// `out_len` valid for one write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_check_batch(
    lists: *const misp_warninglists,
    strings: *const c_char,
    strings_len: usize,
    lens: *const usize,
    lens_len: usize,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    // SAFETY: the caller guarantees the pointers per `# Safety`.
    unsafe {
        check_batch_into(
            lists,
            (strings, strings_len, lens, lens_len),
            (out_json, "out_json", out_len),
            json_batch,
        )
    }
}

/// The body of the batch checks: checks the packed `(type, value)` pairs
/// of `input` (`strings, strings_len, lens, lens_len`) and writes
/// `encode`'s result to `output` (`out, its argument name, out_len`).
///
/// # Safety
///
/// As `misp_warninglists_check_batch`.
unsafe fn check_batch_into(
    lists: *const misp_warninglists,
    input: (*const c_char, usize, *const usize, usize),
    output: (*mut *mut c_char, &str, *mut usize),
    encode: impl for<'a> FnOnce(&'a Checker, &BatchInput<'a>) -> Result<(*mut c_char, usize), FfiError>,
) -> misp_result {
    let (strings, strings_len, lens, lens_len) = input;
    let (out, out_name, out_len) = output;
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, bytes, lens, out, out_len) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                handle::bytes_arg(strings.cast::<u8>(), strings_len, "strings")?,
                if lens.is_null() {
                    None
                } else {
                    Some(handle::slice_arg(lens, lens_len, "strings_lens")?)
                },
                Out::new(out, out_name)?,
                Out::new(out_len, "out_len")?,
            )
        };
        let input = BatchInput::new(bytes, lens, lens_len, "strings")?;
        let state = lists.read()?;
        let (bytes, len) = encode(&state.checker, &input)?;
        out.write(bytes);
        out_len.write(len);
        Ok(())
    })
}

/// Splits, checks and encodes the chunks of `input` in parallel (rayon):
/// `encode` gets the index of a chunk's first query and its hits. The
/// encoded chunks are in input order; the first error in input order
/// (invalid UTF-8) wins.
fn check_chunks<'a, S: Send>(
    checker: &'a Checker,
    input: &BatchInput<'a>,
    encode: impl Fn(usize, &Batch<'a>) -> Result<S, FfiError> + Sync,
) -> Result<Vec<S>, FfiError> {
    let chunks: Vec<Result<S, FfiError>> = (0..input.chunk_count())
        .into_par_iter()
        .map_init(Vec::new, |pairs, k| {
            pairs.clear();
            let first = input.chunk_pairs(k, pairs)?;
            let mut batch = Batch::with_capacity(pairs.len());
            for &(type_name, value) in pairs.iter() {
                checker.check_into(
                    Query::new(QueryType::Name(type_name), value),
                    &mut batch.hits,
                );
                batch.ends.push(batch.hits.len());
            }
            encode(first, &batch)
        })
        .collect();
    chunks.into_iter().collect()
}

/// The hits of a batch as a JSON array of arrays, in query order: each
/// chunk writes its queries' arrays in parallel, then they are joined.
fn json_batch<'a>(
    checker: &'a Checker,
    input: &BatchInput<'a>,
) -> Result<(*mut c_char, usize), FfiError> {
    let chunks = check_chunks(checker, input, |_, batch| {
        let mut json = Vec::with_capacity(3 * batch.len() + 100 * batch.hits.len());
        for (i, hits) in batch.iter().enumerate() {
            if i > 0 {
                json.push(b',');
            }
            handle::write_json(&mut json, &HitRows(hits))?;
        }
        Ok(json)
    })?;
    // A chunk with no query wrote nothing.
    let chunks: Vec<Vec<u8>> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
    let size = chunks.iter().map(|c| c.len() + 1).sum::<usize>() + 1;
    Ok(handle::owned_bytes(size, |out| {
        out.push(b'[');
        for (i, chunk) in chunks.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(chunk);
        }
        out.push(b']');
    }))
}

/// The hits of a batch in the packed layout: each chunk is encoded in
/// parallel, with its check, then they are joined.
fn packed_batch<'a>(
    checker: &'a Checker,
    input: &BatchInput<'a>,
) -> Result<(*mut c_char, usize), FfiError> {
    packed::concat(&packed_chunks(checker, input)?)
}

/// The hits of each chunk of `input`, checked and encoded in parallel, in
/// input order: the parts whose [`packed::concat`] is the batch's packed
/// result.
pub(crate) fn packed_chunks<'a>(
    checker: &'a Checker,
    input: &BatchInput<'a>,
) -> Result<Vec<PackedView<'a>>, FfiError> {
    check_chunks(checker, input, |_, batch| {
        PackedView::of_hits(batch.len(), batch.hits.len(), batch.indexed_hits())
    })
}

/// Checks many values at once, as `misp_warninglists_check_batch`, and
/// returns the hits in a packed binary layout instead of JSON, for
/// callers that decode large results in bulk (the Python package).
///
/// The input is as for `misp_warninglists_check_batch`. `*out_packed`
/// receives `*out_len` bytes made of little-endian `uint32_t` words
/// followed by text:
///
/// * a header of 5 words: the layout version (1), the number of queries
///   `n`, the number of hits `h`, the number of lists in the table `l`,
///   and flags (bit 0: some string contains a NUL byte);
/// * `h` words: the query index of each hit (hits are in query order, and
///   a query's hits are sorted by list name, as `misp_warninglists_check`);
/// * `h` words: the table index (`0..l`) of each hit's list;
/// * `2l + 2h` words: the byte offset, from the start of the text, where
///   each string ends;
/// * the text: `2l + 2h` UTF-8 strings, each followed by a NUL byte: each
///   table list's name and type (`list`, `list_type`), then each hit's
///   `match` and `value`.
///
/// When flag bit 0 is clear the strings can be cut at the NUL bytes;
/// otherwise use the offsets (string `i` starts one byte after the end of
/// string `i - 1`). The table holds only the lists hit in this batch.
/// The caller frees the buffer with `misp_string_free`.
///
/// Ownership: every argument is borrowed for the call only.
///
/// Thread safety: as `misp_warninglists_check`.
///
/// # Errors
///
/// As `misp_warninglists_check_batch`; also `MISP_ERR_INVALID` when the
/// result would not fit 32-bit offsets (4 GiB).
///
/// # Safety
///
/// As `misp_warninglists_check_batch`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_check_batch_packed(
    lists: *const misp_warninglists,
    strings: *const c_char,
    strings_len: usize,
    lens: *const usize,
    lens_len: usize,
    out_packed: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    // SAFETY: the caller guarantees the pointers per `# Safety`.
    unsafe {
        check_batch_into(
            lists,
            (strings, strings_len, lens, lens_len),
            (out_packed, "out_packed", out_len),
            packed_batch,
        )
    }
}

/// Joins packed results of consecutive batches into the packed result of
/// the whole batch, as `misp_warninglists_check_batch_packed` would have
/// returned it for all the queries in one call.
///
/// `parts[i]` is `part_lens[i]` bytes: a result of
/// `misp_warninglists_check_batch_packed` (or of this function), in the
/// order of its queries. In the joined result the queries of part `i`
/// follow those of the parts before it, and the list table holds each
/// list once, in order of first hit. A caller can thus check a long batch
/// in parts, preparing one part while the library checks the one before
/// (from another thread), and still read one result. `*out_packed`
/// receives `*out_len` bytes, freed by the caller with
/// `misp_string_free`.
///
/// Ownership: every argument is borrowed for the call only; the parts
/// are not freed.
///
/// Thread safety: safe from any number of threads at once (it touches no
/// handle).
///
/// # Errors
///
/// * `MISP_ERR_NULL`: `parts`, `part_lens`, a part or an out-parameter is
///   NULL.
/// * `MISP_ERR_INVALID`: a part is not a packed result of this layout
///   (the message names the part and what is wrong: every count, index
///   and offset is checked before use), or the joined result would not
///   fit 32-bit offsets.
///
/// # Safety
///
/// `parts` and `part_lens` must be valid for reads of `parts_len`
/// elements, each non-NULL `parts[i]` for reads of `part_lens[i]` bytes;
/// `out_packed` and `out_len` for one write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_packed_concat(
    parts: *const *const c_char,
    part_lens: *const usize,
    parts_len: usize,
    out_packed: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (parts, lens, out, out_len) = unsafe {
            (
                handle::slice_arg(parts, parts_len, "parts")?,
                handle::slice_arg(part_lens, parts_len, "part_lens")?,
                Out::new(out_packed, "out_packed")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let views = parts
            .iter()
            .zip(lens)
            .enumerate()
            .map(|(i, (&part, &len))| {
                // SAFETY: the caller guarantees `parts[i]` for `part_lens[i]`
                // bytes per `# Safety`.
                let bytes =
                    unsafe { handle::bytes_arg(part.cast::<u8>(), len, &format!("parts[{i}]")) }?;
                PackedView::parse(bytes, i)
            })
            .collect::<Result<Vec<_>, FfiError>>()?;
        let (bytes, len) = packed::concat(&views)?;
        out.write(bytes);
        out_len.write(len);
        Ok(())
    })
}

/// Opens a warninglist snapshot file (written by
/// `misp_warninglists_save_snapshot` or `misp-correlate snapshot`) by
/// memory-mapping it: no list file is read or compiled.
///
/// Opening checks the header, format version, kind and the bounds of every
/// structure; `verify` also checks the checksum of the whole file (one
/// pass over every byte). The handle answers every check as the
/// warninglists it was saved from, takes `misp_warninglists_set_enabled`
/// and can be saved again; `misp_warninglists_add_list` is refused (the
/// lists of a snapshot are fixed). `misp_warninglists_report` lists the
/// lists in name order, with no errors or problems (those of the original
/// load are not kept in the snapshot).
///
/// On success `*out_lists` receives a new handle, owned by the caller and
/// freed with `misp_warninglists_free`. The file must not be changed
/// while the handle is open (it is mapped); replacing it (as the save
/// functions do, atomically) is safe.
///
/// Ownership: `path` is borrowed for the call only.
///
/// Thread safety: safe from any number of threads at once; the handle is
/// shared as one made by `misp_warninglists_load`.
///
/// # Errors
///
/// * `MISP_ERR_NULL`, `MISP_ERR_UTF8`: bad arguments.
/// * `MISP_ERR_IO`: `path` cannot be read.
/// * `MISP_ERR_SNAPSHOT`: not a warninglist snapshot of this format
///   version, or damaged (the message says what is wrong).
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes and `out_lists` for
/// one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_open_snapshot(
    path: *const c_char,
    path_len: usize,
    verify: bool,
    out_lists: *mut *mut misp_warninglists,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (path, out_lists) = unsafe {
            (
                handle::str_arg(path, path_len, "path")?,
                Out::new(out_lists, "out_lists")?,
            )
        };
        let snapshot = WarninglistSnapshot::open(path)?;
        if verify {
            snapshot.verify()?;
        }
        let state = State {
            checker: Checker::Snapshot(Box::new(snapshot)),
            errors: Vec::new(),
            problems: Vec::new(),
        };
        out_lists.write(handle::into_raw(Warninglists {
            state: Arc::new(RwLock::new(state)),
        }));
        Ok(())
    })
}

/// Saves warninglists (loaded, or opened from a snapshot) to a snapshot
/// file at `path`, with their custom lists and enabled switches, replacing
/// the file atomically (`path` may be the snapshot the handle was opened
/// from). `misp_warninglists_open_snapshot` opens it again.
///
/// Ownership: `path` is borrowed for the call only.
///
/// Thread safety: runs under the read lock, alongside checks.
///
/// # Errors
///
/// * `MISP_ERR_NULL`, `MISP_ERR_UTF8`: bad arguments.
/// * `MISP_ERR_IO`: the file cannot be written.
/// * `MISP_ERR_SNAPSHOT`: a section of the opened snapshot cannot be read.
/// * `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle and `path` valid for `path_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_save_snapshot(
    lists: *const misp_warninglists,
    path: *const c_char,
    path_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, path) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                handle::str_arg(path, path_len, "path")?,
            )
        };
        lists.read()?.checker.save_snapshot(Path::new(path))
    })
}

/// Enables or disables the list whose `name` field is `name` (enabled
/// lists are consulted by the checks; all lists start enabled).
///
/// Ownership: `name` is borrowed for the call only.
///
/// Thread safety: takes the handle's write lock, waiting for running
/// checks on other threads.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8` for bad arguments; `MISP_ERR_INVALID`
/// when no list has that name; `MISP_ERR_POISONED` after an internal
/// panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle and `name` valid for `name_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_set_enabled(
    lists: *const misp_warninglists,
    name: *const c_char,
    name_len: usize,
    enabled: bool,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, name) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                handle::str_arg(name, name_len, "name")?,
            )
        };
        lists.write()?.checker.set_enabled(name, enabled)?;
        Ok(())
    })
}

/// Adds a custom list, given as the JSON of a misp-warninglists
/// `list.json` (`{"name": …, "type": …, "list": […],
/// "matching_attributes": […]}`), to loaded warninglists.
///
/// Entries that can never match do not fail the call; they are added to
/// the problems of `misp_warninglists_report`, with the file `<input>`.
///
/// Ownership: `json` is borrowed for the call only (the list is copied).
///
/// Thread safety: takes the handle's write lock, waiting for running
/// checks on other threads.
///
/// # Errors
///
/// * `MISP_ERR_NULL` for a NULL pointer;
/// * `MISP_ERR_WARNINGLIST` when the JSON is not a usable list (not JSON,
///   no `name` or `list`, an unknown `type`) or a list of that name is
///   already loaded;
/// * `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_add_list(
    lists: *const misp_warninglists,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, json) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                handle::bytes_arg(json.cast(), json_len, "json")?,
            )
        };
        let list = Warninglist::from_json(json, IN_MEMORY_SOURCE)?;
        let mut state = lists.write()?;
        let problems = state.checker.add_list(list)?;
        state
            .problems
            .extend(problems.iter().map(ReportProblem::from));
        Ok(())
    })
}

/// One list in the report.
#[derive(Serialize)]
struct ListRow<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    list_type: &'static str,
    version: u64,
    description: &'a str,
    matching_attributes: &'a [String],
    file: String,
    enabled: bool,
    entries: usize,
    dropped: usize,
    unusable: usize,
}

/// The whole report.
#[derive(Serialize)]
struct Report<'a> {
    lists: Vec<ListRow<'a>>,
    errors: &'a [ReportError],
    problems: &'a [ReportProblem],
}

/// Describes loaded warninglists: the lists, the files that could not be
/// used, and the entries that can never match.
///
/// `*out_json` receives
/// `{"lists": [{"name", "type", "version", "description",
/// "matching_attributes", "file", "enabled", "entries", "dropped",
/// "unusable"}], "errors": [{"file", "message"}],
/// "problems": [{"file", "list", "entry", "reason"}]}`, lists in load
/// order. `entries` counts the entries compiled into the matcher,
/// `dropped` the `""`/`"0"` entries MISP drops, `unusable` the entries
/// listed in `problems`. The caller frees it with `misp_string_free`.
///
/// Thread safety: may run alongside checks on other threads.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_POISONED` after an
/// internal panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle; `out_json` and `out_len` valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_report(
    lists: *const misp_warninglists,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, out_json, out_len) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let state = lists.read()?;
        let report = Report {
            lists: state
                .checker
                .lists()
                .map(|info| {
                    let stats = info.stats();
                    ListRow {
                        name: info.name(),
                        list_type: info.list_type().as_str(),
                        version: info.version(),
                        description: info.description(),
                        matching_attributes: info.matching_attributes(),
                        file: info
                            .source()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default(),
                        enabled: info.is_enabled(),
                        entries: stats.loaded,
                        dropped: stats.dropped,
                        unusable: stats.unusable,
                    }
                })
                .collect(),
            errors: &state.errors,
            problems: &state.problems,
        };
        let (text, len) = handle::owned_json(&report)?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packed::{PACKED_LAYOUT, PACKED_TEXT_HAS_NUL};
    use std::ffi::CStr;
    use std::ptr;

    const LISTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/warninglists");

    pub(crate) fn load(flags: u32) -> *mut misp_warninglists {
        let mut lists = ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_load(LISTS.as_ptr().cast(), LISTS.len(), flags, &mut lists)
        };
        assert_eq!(r, misp_result::MISP_OK);
        lists
    }

    fn take_json(out: *mut c_char) -> serde_json::Value {
        // SAFETY: `out` is a NUL-terminated library string, freed once.
        let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
        // SAFETY: freed once.
        unsafe { crate::misp_string_free(out) };
        serde_json::from_str(&text).unwrap()
    }

    fn check(lists: *const misp_warninglists, ty: &str, value: &str) -> serde_json::Value {
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_check(
                lists,
                ty.as_ptr().cast(),
                ty.len(),
                value.as_ptr().cast(),
                value.len(),
                &mut out,
                &mut len,
            )
        };
        assert_eq!(r, misp_result::MISP_OK);
        take_json(out)
    }

    #[test]
    fn check_gives_cli_shaped_hits() {
        let lists = load(0);
        let hits = check(lists, "ip-dst", "10.1.2.3");
        assert_eq!(
            hits,
            serde_json::json!([{"list": "List of RFC 1918 CIDR blocks", "list_type": "cidr",
                "match": "10.0.0.0/8", "value": "10.1.2.3"}])
        );
        assert_eq!(check(lists, "ip-dst", "8.8.8.8"), serde_json::json!([]));
        let hits = check(lists, "domain|ip", "www.bmw.de|192.168.1.1");
        let names: Vec<&str> = hits
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["list"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "List of RFC 1918 CIDR blocks",
                "List of known dax30 webpages"
            ]
        );
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }

    #[test]
    fn batch_matches_single_checks() {
        let lists = load(0);
        let pairs = [
            ("ip-src", "192.168.0.1"),
            ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
            ("domain", "misp-project.org"),
            ("hostname", "www.bmw.de"),
            ("email-src", "abuse@example.com"),
            ("url", "https://app.any.run/tasks/1"),
        ];
        let mut data = String::new();
        let mut lens = Vec::new();
        for (t, v) in pairs {
            data.push_str(t);
            data.push_str(v);
            lens.extend([t.len(), v.len()]);
        }
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_check_batch(
                lists,
                data.as_ptr().cast(),
                data.len(),
                lens.as_ptr(),
                lens.len(),
                &mut out,
                &mut len,
            )
        };
        assert_eq!(r, misp_result::MISP_OK);
        let batch = take_json(out);
        let batch = batch.as_array().unwrap();
        assert_eq!(batch.len(), pairs.len());
        for (i, (t, v)) in pairs.iter().enumerate() {
            assert_eq!(batch[i], check(lists, t, v), "{t} {v}");
        }
        let hit_count: usize = batch.iter().map(|h| h.as_array().unwrap().len()).sum();
        assert_eq!(
            hit_count, 5,
            "every value but misp-project.org hits one list: {batch:?}"
        );

        // An odd number of strings is refused.
        let odd = [1usize, 1, 0];
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_check_batch(
                lists,
                c"ab".as_ptr(),
                2,
                odd.as_ptr(),
                3,
                &mut out,
                &mut len,
            )
        };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }

    #[test]
    fn lists_can_be_disabled_and_added() {
        let lists = load(0);
        let name = "List of RFC 1918 CIDR blocks";
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_set_enabled(lists, name.as_ptr().cast(), name.len(), false)
        };
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(check(lists, "ip-dst", "10.1.2.3"), serde_json::json!([]));
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_set_enabled(lists, c"nope".as_ptr(), 4, false) };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);

        let custom = r#"{"name": "custom", "type": "string", "list": ["evil.example", "0"], "matching_attributes": ["domain"]}"#;
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_add_list(lists, custom.as_ptr().cast(), custom.len()) };
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(check(lists, "domain", "evil.example")[0]["list"], "custom");
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_add_list(lists, custom.as_ptr().cast(), custom.len()) };
        assert_eq!(r, misp_result::MISP_ERR_WARNINGLIST, "duplicate name");
        let bad = r#"{"name": "bad", "type": "nope", "list": []}"#;
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_add_list(lists, bad.as_ptr().cast(), bad.len()) };
        assert_eq!(r, misp_result::MISP_ERR_WARNINGLIST);

        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_report(lists, &mut out, &mut len) };
        assert_eq!(r, misp_result::MISP_OK);
        let report = take_json(out);
        let rows = report["lists"].as_array().unwrap();
        assert_eq!(rows.len(), 7);
        let rfc1918 = rows.iter().find(|r| r["name"] == name).unwrap();
        assert_eq!(rfc1918["enabled"], false);
        assert_eq!(rfc1918["entries"], 3);
        let custom = rows.iter().find(|r| r["name"] == "custom").unwrap();
        assert_eq!(
            (custom["entries"].as_u64(), custom["dropped"].as_u64()),
            (Some(1), Some(1))
        );
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }

    /// The packed layout decoded naively: per query, its hits as JSON.
    pub(crate) fn decode_packed(bytes: &[u8]) -> Vec<serde_json::Value> {
        let word = |i: usize| u32::from_le_bytes(bytes[i * 4..i * 4 + 4].try_into().unwrap());
        assert_eq!(word(0), PACKED_LAYOUT);
        let (n, h, l, flags) = (
            word(1) as usize,
            word(2) as usize,
            word(3) as usize,
            word(4),
        );
        let strings = 2 * l + 2 * h;
        let text_start = (5 + 2 * h + strings) * 4;
        let text = &bytes[text_start..];
        let mut start = 0;
        let mut all = Vec::new();
        for i in 0..strings {
            let end = word(5 + 2 * h + i) as usize;
            all.push(std::str::from_utf8(&text[start..end]).unwrap().to_owned());
            assert_eq!(text[end], 0, "every string is followed by NUL");
            start = end + 1;
        }
        assert_eq!(start, text.len());
        assert_eq!(
            flags & PACKED_TEXT_HAS_NUL != 0,
            all.iter().any(|s| s.contains('\0'))
        );
        let mut out = vec![serde_json::json!([]); n];
        for k in 0..h {
            let (query, list) = (word(5 + k) as usize, word(5 + h + k) as usize);
            out[query].as_array_mut().unwrap().push(serde_json::json!({
                "list": all[2 * list], "list_type": all[2 * list + 1],
                "match": all[2 * l + 2 * k], "value": all[2 * l + 2 * k + 1],
            }));
        }
        out
    }

    pub(crate) fn batch_inputs(pairs: &[(&str, &str)]) -> (String, Vec<usize>) {
        let mut data = String::new();
        let mut lens = Vec::new();
        for (t, v) in pairs {
            data.push_str(t);
            data.push_str(v);
            lens.extend([t.len(), v.len()]);
        }
        (data, lens)
    }

    fn check_packed(
        lists: *const misp_warninglists,
        pairs: &[(&str, &str)],
    ) -> Vec<serde_json::Value> {
        decode_packed(&packed_bytes(lists, pairs))
    }

    /// The packed result of `pairs`, as bytes.
    pub(crate) fn packed_bytes(lists: *const misp_warninglists, pairs: &[(&str, &str)]) -> Vec<u8> {
        let (data, lens) = batch_inputs(pairs);
        let function: BatchFunction = misp_warninglists_check_batch_packed;
        raw_batch(lists, function, data.as_bytes(), Some(&lens), lens.len()).unwrap()
    }

    /// The library-owned `len` bytes at `out` (then freed), or `r` when the
    /// call failed.
    pub(crate) fn owned_result(
        r: misp_result,
        out: *mut c_char,
        len: usize,
    ) -> Result<Vec<u8>, misp_result> {
        if r != misp_result::MISP_OK {
            return Err(r);
        }
        // SAFETY: the library returned `len` bytes at `out`.
        let bytes = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len) }.to_vec();
        // SAFETY: freed once.
        unsafe { crate::misp_string_free(out) };
        Ok(bytes)
    }

    /// `misp_warninglists_packed_concat` of `parts`, or its error code.
    fn concat_packed(parts: &[&[u8]]) -> Result<Vec<u8>, misp_result> {
        let ptrs: Vec<*const c_char> = parts.iter().map(|p| p.as_ptr().cast()).collect();
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers and lengths.
        let r = unsafe {
            misp_warninglists_packed_concat(
                ptrs.as_ptr(),
                lens.as_ptr(),
                parts.len(),
                &mut out,
                &mut len,
            )
        };
        owned_result(r, out, len)
    }

    /// The raw result of batch check `function` over `data`, with `lens`
    /// or NUL-separated (`count` strings), or its error code.
    fn raw_batch(
        lists: *const misp_warninglists,
        function: BatchFunction,
        data: &[u8],
        lens: Option<&[usize]>,
        count: usize,
    ) -> Result<Vec<u8>, misp_result> {
        let (mut out, mut len) = (ptr::null_mut(), 0);
        let lens_ptr = lens.map_or(ptr::null(), <[usize]>::as_ptr);
        // SAFETY: valid pointers; a NULL `lens` selects NUL-separated
        // strings.
        let r = unsafe {
            function(
                lists,
                data.as_ptr().cast(),
                data.len(),
                lens_ptr,
                count,
                &mut out,
                &mut len,
            )
        };
        owned_result(r, out, len)
    }

    type BatchFunction = unsafe extern "C" fn(
        *const misp_warninglists,
        *const c_char,
        usize,
        *const usize,
        usize,
        *mut *mut c_char,
        *mut usize,
    ) -> misp_result;

    /// Batches of many chunks (cut by pairs with lengths, by bytes when
    /// NUL-separated) give every query's hits, in order, in both layouts.
    #[test]
    fn batches_of_many_chunks_match_single_checks() {
        let lists = load(0);
        let values: Vec<(String, String)> = (0..3 * crate::pairs::CHUNK_PAIRS + 5)
            .map(|i| {
                let (t, v) = PAIRS[i % PAIRS.len()];
                // Long values span several blocks of the NUL-separated input.
                if i % 1500 == 700 {
                    return ("text".to_owned(), "x".repeat(100_000));
                }
                match i % 7 {
                    0 => ("ip-dst".to_owned(), format!("10.1.{}.3", i % 256)),
                    1 => ("domain".to_owned(), format!("bücher-{i}.bmw.de")),
                    _ => (t.to_owned(), v.to_owned()),
                }
            })
            .collect();
        let pairs: Vec<(&str, &str)> = values.iter().map(|(t, v)| (&**t, &**v)).collect();
        let expected: Vec<serde_json::Value> =
            pairs.iter().map(|(t, v)| check(lists, t, v)).collect();
        let (data, lens) = batch_inputs(&pairs);
        let separated = pairs
            .iter()
            .flat_map(|(t, v)| [*t, *v])
            .collect::<Vec<_>>()
            .join("\0");
        let count = 2 * pairs.len();
        let packed = raw_batch(
            lists,
            misp_warninglists_check_batch_packed,
            data.as_bytes(),
            Some(&lens),
            count,
        )
        .unwrap();
        assert_eq!(decode_packed(&packed), expected);
        let packed_separated = raw_batch(
            lists,
            misp_warninglists_check_batch_packed,
            separated.as_bytes(),
            None,
            count,
        )
        .unwrap();
        assert_eq!(packed_separated, packed);
        let json = raw_batch(
            lists,
            misp_warninglists_check_batch,
            data.as_bytes(),
            Some(&lens),
            count,
        )
        .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json, serde_json::Value::Array(expected));
        let json_separated = raw_batch(
            lists,
            misp_warninglists_check_batch,
            separated.as_bytes(),
            None,
            count,
        )
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json_separated).unwrap(),
            json
        );

        // Invalid UTF-8 in a late chunk names its string.
        let bad_pair = 2 * crate::pairs::CHUNK_PAIRS + 9;
        let mut bad = separated.into_bytes();
        let at = bad
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == 0)
            .nth(2 * bad_pair)
            .unwrap()
            .0
            + 1;
        bad.insert(at, 0xff);
        for function in [
            misp_warninglists_check_batch_packed as BatchFunction,
            misp_warninglists_check_batch,
        ] {
            let r = raw_batch(lists, function, &bad, None, count);
            assert_eq!(r, Err(misp_result::MISP_ERR_UTF8));
            let message = crate::panic::tests_last_error();
            assert!(
                message.contains(&format!(
                    "strings[{}] is not valid UTF-8 (invalid byte at offset 0)",
                    2 * bad_pair + 1
                )),
                "{message}"
            );
        }
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }

    pub(crate) const PAIRS: [(&str, &str); 8] = [
        ("ip-src", "192.168.0.1"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("domain", "misp-project.org"),
        ("hostname", "www.bmw.de"),
        ("domain|ip", "www.bmw.de|10.0.0.1"),
        ("email-src", "abuse@example.com"),
        ("url", "https://app.any.run/tasks/1"),
        ("ip-dst", "10.1.2.3"),
    ];

    #[test]
    fn packed_batch_matches_single_checks() {
        let lists = load(0);
        let batch = check_packed(lists, &PAIRS);
        assert_eq!(batch.len(), PAIRS.len());
        for (i, (t, v)) in PAIRS.iter().enumerate() {
            assert_eq!(batch[i], check(lists, t, v), "{t} {v}");
        }
        assert_eq!(check_packed(lists, &[]), Vec::<serde_json::Value>::new());
        // A NUL byte in a value that hits sets the flag; offsets still cut right.
        let custom = r#"{"name": "nul", "type": "string", "list": ["a\u0000b"], "matching_attributes": ["text"]}"#;
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_add_list(lists, custom.as_ptr().cast(), custom.len()) };
        assert_eq!(r, misp_result::MISP_OK);
        let batch = check_packed(lists, &[("text", "a\0b"), ("ip-dst", "10.1.2.3")]);
        assert_eq!(batch[0][0]["match"], "a\u{0}b");
        assert_eq!(batch[1], check(lists, "ip-dst", "10.1.2.3"));
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }

    #[test]
    fn packed_parts_join_into_the_whole_batch() {
        let lists = load(0);
        let whole = packed_bytes(lists, &PAIRS);
        // Every cut into three parts (empty parts included) joins back
        // into exactly the bytes of the one call.
        for a in 0..=PAIRS.len() {
            for b in a..=PAIRS.len() {
                let parts = [
                    packed_bytes(lists, &PAIRS[..a]),
                    packed_bytes(lists, &PAIRS[a..b]),
                    packed_bytes(lists, &PAIRS[b..]),
                ];
                let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                assert_eq!(concat_packed(&refs).unwrap(), whole, "cut at {a}, {b}");
            }
        }
        // A join of joins, and of one part.
        let first = concat_packed(&[&packed_bytes(lists, &PAIRS[..2])]).unwrap();
        let rest = packed_bytes(lists, &PAIRS[2..]);
        assert_eq!(concat_packed(&[&first, &rest]).unwrap(), whole);
        // No parts: the result of an empty batch.
        assert_eq!(concat_packed(&[]).unwrap(), packed_bytes(lists, &[]));
        // A NUL byte inside a hit's string: the flag survives the join.
        let custom = r#"{"name": "nul", "type": "string", "list": ["a\u0000b"], "matching_attributes": ["text"]}"#;
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_add_list(lists, custom.as_ptr().cast(), custom.len()) };
        assert_eq!(r, misp_result::MISP_OK);
        let nul_pairs = [("ip-dst", "10.1.2.3"), ("text", "a\0b")];
        let joined = concat_packed(&[
            &packed_bytes(lists, &nul_pairs[..1]),
            &packed_bytes(lists, &nul_pairs[1..]),
        ])
        .unwrap();
        assert_eq!(joined, packed_bytes(lists, &nul_pairs));
        assert_eq!(decode_packed(&joined)[1][0]["match"], "a\u{0}b");
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }

    #[test]
    fn damaged_packed_parts_are_refused() {
        let lists = load(0);
        let good = packed_bytes(lists, &PAIRS);
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
        let word_at = |bytes: &mut Vec<u8>, i: usize, w: u32| {
            bytes[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        };
        let hits = u32::from_le_bytes(good[8..12].try_into().unwrap()) as usize;
        assert!(hits >= 2);
        for cut in 0..good.len() {
            assert_eq!(
                concat_packed(&[&good[..cut]]),
                Err(misp_result::MISP_ERR_INVALID),
                "truncated to {cut} bytes"
            );
        }
        let mut longer = good.clone();
        longer.push(0);
        let mut layout = good.clone();
        word_at(&mut layout, 0, PACKED_LAYOUT + 1);
        let mut query = good.clone();
        word_at(&mut query, 5, 1_000_000);
        let mut order = good.clone();
        word_at(&mut order, 6, 0);
        word_at(&mut order, 5, 3);
        let mut list = good.clone();
        word_at(&mut list, 5 + hits, 1_000);
        let mut end = good.clone();
        word_at(&mut end, 5 + 2 * hits, u32::MAX);
        for (what, bytes) in [
            ("a byte more", longer),
            ("layout", layout),
            ("query index", query),
            ("query order", order),
            ("list index", list),
            ("string end", end),
        ] {
            let r = concat_packed(&[&good, &bytes]);
            assert_eq!(r, Err(misp_result::MISP_ERR_INVALID), "{what}");
        }
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: a NULL part is reported, not read.
        let r = unsafe {
            misp_warninglists_packed_concat(
                [ptr::null()].as_ptr(),
                [4].as_ptr(),
                1,
                &mut out,
                &mut len,
            )
        };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
    }

    proptest::proptest! {
        #[test]
        fn packed_concat_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let r = concat_packed(&[&bytes]);
            proptest::prop_assert!(matches!(r, Ok(_) | Err(misp_result::MISP_ERR_INVALID)));
            if let Ok(joined) = r {
                // A joined result (each list once) joins into itself.
                proptest::prop_assert_eq!(concat_packed(&[&joined]).unwrap(), joined);
            }
        }

        #[test]
        fn damaged_packed_results_never_panic(at in 0usize..4096, byte in proptest::num::u8::ANY) {
            let lists = load(0);
            let mut bytes = packed_bytes(lists, &PAIRS);
            // SAFETY: freed once.
            unsafe { misp_warninglists_free(lists) };
            let at = at % bytes.len();
            bytes[at] = byte;
            let r = concat_packed(&[&bytes, &bytes]);
            proptest::prop_assert!(matches!(r, Ok(_) | Err(misp_result::MISP_ERR_INVALID)));
        }
    }

    #[test]
    fn snapshots_round_trip() {
        let dir = std::env::temp_dir().join(format!("misp-ffi-snapshot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lists.snap");
        let path = path.to_str().unwrap();
        let lists = load(0);
        let custom = r#"{"name": "custom", "type": "string", "list": ["evil.example"], "matching_attributes": ["domain"]}"#;
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                misp_warninglists_add_list(lists, custom.as_ptr().cast(), custom.len()),
                misp_result::MISP_OK
            );
            assert_eq!(
                misp_warninglists_save_snapshot(lists, path.as_ptr().cast(), path.len()),
                misp_result::MISP_OK
            );
        }
        let mut opened = ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_open_snapshot(path.as_ptr().cast(), path.len(), true, &mut opened)
        };
        assert_eq!(r, misp_result::MISP_OK);
        let mut pairs = PAIRS.to_vec();
        pairs.push(("domain", "evil.example"));
        for (t, v) in &pairs {
            assert_eq!(check(opened, t, v), check(lists, t, v), "{t} {v}");
        }
        assert_eq!(check_packed(opened, &pairs), check_packed(lists, &pairs));
        assert_eq!(check(opened, "domain", "evil.example")[0]["list"], "custom");

        // Switches work and are saved; custom lists are refused.
        let name = "List of RFC 1918 CIDR blocks";
        let saved = dir.join("resaved.snap");
        let saved = saved.to_str().unwrap();
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                misp_warninglists_set_enabled(opened, name.as_ptr().cast(), name.len(), false),
                misp_result::MISP_OK
            );
            assert_eq!(
                misp_warninglists_add_list(opened, custom.as_ptr().cast(), custom.len()),
                misp_result::MISP_ERR_INVALID
            );
            assert_eq!(
                misp_warninglists_save_snapshot(opened, saved.as_ptr().cast(), saved.len()),
                misp_result::MISP_OK
            );
        }
        assert_eq!(check(opened, "ip-dst", "10.1.2.3"), serde_json::json!([]));
        let mut reopened = ptr::null_mut();
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        unsafe {
            assert_eq!(
                misp_warninglists_open_snapshot(
                    saved.as_ptr().cast(),
                    saved.len(),
                    false,
                    &mut reopened
                ),
                misp_result::MISP_OK
            );
            assert_eq!(
                misp_warninglists_report(reopened, &mut out, &mut len),
                misp_result::MISP_OK
            );
        }
        assert_eq!(check(reopened, "ip-dst", "10.1.2.3"), serde_json::json!([]));
        let report = take_json(out);
        let rows = report["lists"].as_array().unwrap();
        assert_eq!(rows.len(), 7);
        assert_eq!(
            rows.iter().find(|r| r["name"] == name).unwrap()["enabled"],
            false
        );

        // Info describes the file.
        // SAFETY: valid pointers.
        let r = unsafe {
            crate::misp_snapshot_info(saved.as_ptr().cast(), saved.len(), &mut out, &mut len)
        };
        assert_eq!(r, misp_result::MISP_OK);
        let info = take_json(out);
        assert_eq!(info["kind"], "warninglists");
        assert_eq!(info["counts"]["lists"], 7);

        // Not a snapshot, missing, damaged.
        let not = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let mut never = ptr::null_mut();
        // SAFETY: valid pointers.
        unsafe {
            let r =
                misp_warninglists_open_snapshot(not.as_ptr().cast(), not.len(), false, &mut never);
            assert_eq!(r, misp_result::MISP_ERR_SNAPSHOT);
            let r = misp_warninglists_open_snapshot(
                c"/nonexistent.snap".as_ptr(),
                17,
                false,
                &mut never,
            );
            assert_eq!(r, misp_result::MISP_ERR_IO);
        }
        assert!(never.is_null());
        let mut bytes = std::fs::read(path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let damaged = dir.join("damaged.snap");
        std::fs::write(&damaged, bytes).unwrap();
        let damaged = damaged.to_str().unwrap();
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_open_snapshot(
                damaged.as_ptr().cast(),
                damaged.len(),
                true,
                &mut never,
            )
        };
        assert_eq!(r, misp_result::MISP_ERR_SNAPSHOT);
        assert!(crate::panic::tests_last_error().contains("damaged.snap"));
        // SAFETY: freed once each.
        unsafe {
            misp_warninglists_free(reopened);
            misp_warninglists_free(opened);
            misp_warninglists_free(lists);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn load_errors() {
        let mut lists = ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_load(c"/nonexistent".as_ptr(), 12, 0, &mut lists) };
        assert_eq!(r, misp_result::MISP_ERR_IO);
        assert!(lists.is_null());
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_load(LISTS.as_ptr().cast(), LISTS.len(), 1 << 20, &mut lists)
        };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        let all = misp_warninglist_improvement::MISP_WL_ALL as u32;
        let lists = load(all);
        // With every improvement, hosts are compared case-insensitively.
        assert_eq!(
            check(lists, "hostname", "WWW.BMW.DE")[0]["list"],
            "List of known dax30 webpages"
        );
        // SAFETY: freed once.
        unsafe { misp_warninglists_free(lists) };
    }
}
