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
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use misp_correlate::warninglist::{
    self, BatchHits, EntryProblem, Hit, Improvements, Matched, Matcher, Query, QueryType,
    ToIdsGate, Warninglist,
};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use crate::error::{FfiError, misp_result};
use crate::handle::{self, Handle, Out};
use crate::load::IN_MEMORY_SOURCE;
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
    state: RwLock<State>,
}

/// The matcher and what its loading reported.
struct State {
    matcher: Matcher,
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
}

fn poisoned() -> FfiError {
    FfiError::new(
        misp_result::MISP_ERR_POISONED,
        "the warninglists were left inconsistent by an earlier internal panic; free and reload them",
    )
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
            matcher: loaded.matcher,
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
            state: RwLock::new(state),
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

/// The hits of a batch as a JSON array of arrays, in query order.
struct BatchRows<'h, 'a>(&'h BatchHits<'a>);

impl Serialize for BatchRows<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for hits in self.0.iter() {
            seq.serialize_element(&HitRows(hits))?;
        }
        seq.end()
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
        let hits = state.matcher.check_query(query, ToIdsGate::Off);
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
/// * `MISP_ERR_NULL` for a NULL pointer;
/// * `MISP_ERR_INVALID` when `lens_len` is odd or the lengths do not add
///   up to `strings_len`;
/// * `MISP_ERR_UTF8` when a string is not UTF-8 (the message gives its
///   index);
/// * `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `lists` must be a live handle; `strings` valid for `strings_len`
/// bytes; `lens` valid for `lens_len` `size_t`; `out_json` and `out_len`
/// valid for one write each.
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
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, items, out_json, out_len) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                handle::packed_str_list_arg(strings, strings_len, lens, lens_len, "strings")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        if items.len() % 2 != 0 {
            return Err(FfiError::invalid(format!(
                "argument `lens_len` is {}: the strings must come in (type, value) pairs",
                items.len()
            )));
        }
        let queries: Vec<Query<'_>> = items
            .chunks_exact(2)
            .filter_map(|pair| match pair {
                [type_name, value] => Some(Query::new(QueryType::Name(type_name), value)),
                _ => None,
            })
            .collect();
        let state = lists.read()?;
        let batch = state.matcher.check_batch(&queries, ToIdsGate::Off);
        let (text, len) = handle::owned_json(&BatchRows(&batch))?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
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
        lists.write()?.matcher.set_enabled(name, enabled)?;
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
        let (_, problems) = state.matcher.add_list(list)?;
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
                .matcher
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
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    const LISTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/warninglists");

    fn load(flags: u32) -> *mut misp_warninglists {
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
