//! The correlation engine: built in bulk from MISP JSON (or from events,
//! objects and attributes given one by one), then queried and changed
//! incrementally.
//!
//! * [`misp_engine_builder`] wraps the library's `EngineBuilder`: set the
//!   options (limit, advanced correlation, ssdeep threshold, access
//!   control, exclusions), add MISP JSON documents, paths or single
//!   records, then `misp_engine_builder_build`.
//! * [`misp_engine`] wraps the live `Engine` behind a read-write lock:
//!   queries run concurrently from any number of threads; changes (add,
//!   update, remove, exclusions, settings) take the write lock.
//! * Engine snapshots: `misp_engine_save_snapshot` writes an engine to a
//!   file; `misp_engine_open_snapshot` memory-maps one into an engine
//!   handle that answers queries from the map and is decoded into a live
//!   engine by its first change.
//!
//! Results are JSON. A correlation is
//! `{"kind": "exact"|"cidr"|"ssdeep", "key": K, "a": {"event": E,
//! "attribute": A}, "b": {…}, "score": S}` (`score` only for ssdeep),
//! identities being JSON numbers or strings as they were given.

use std::ffi::c_char;
use std::path::Path;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use misp_correlate::correlation::{AclMode, Config, Engine, EngineBuilder, Rejected, Viewer};
use misp_correlate::snapshot::EngineSnapshot;
use serde::Serialize;

use crate::correlation_io::{
    AttributeIn, EventIn, IdOut, IdentOut, ObjectIn, PairRow, id_arg, misp_id, misp_viewer,
    parse_input, viewer_arg,
};
use crate::error::{FfiError, misp_result};
use crate::handle::{self, Handle, Out, misp_str};
use crate::panic::{guard, guard_or};

// ----- the builder -----------------------------------------------------------

/// An engine being built: an opaque handle.
///
/// Created by `misp_engine_builder_new`, consumed by
/// `misp_engine_builder_build` or freed by `misp_engine_builder_free`. A
/// builder is used from one thread at a time (it may move between
/// threads); building itself runs on the library's thread pool.
pub struct misp_engine_builder {
    _private: [u8; 0],
}

impl Handle for misp_engine_builder {
    type Rust = Builder;
}

/// The value behind a [`misp_engine_builder`].
pub(crate) struct Builder {
    builder: EngineBuilder,
    /// Files and events of `add_paths` that could not be read.
    errors: Vec<ReportError>,
}

/// A file or event that could not be read.
#[derive(Serialize)]
struct ReportError {
    file: String,
    message: String,
}

/// Starts building an engine with the library's defaults: limit 20,
/// advanced (CIDR, ssdeep) correlation off, ssdeep threshold 40, access
/// control on, no exclusions.
///
/// On success `*out_builder` receives a new builder, owned by the caller:
/// pass it to `misp_engine_builder_build` or free it with
/// `misp_engine_builder_free`.
///
/// # Errors
///
/// `MISP_ERR_NULL` if `out_builder` is NULL.
///
/// # Safety
///
/// `out_builder` must be valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_new(
    out_builder: *mut *mut misp_engine_builder,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees `out_builder` per `# Safety`.
        let out_builder = unsafe { Out::new(out_builder, "out_builder") }?;
        let builder = Builder {
            builder: EngineBuilder::new(),
            errors: Vec::new(),
        };
        out_builder.write(handle::into_raw(builder));
        Ok(())
    })
}

/// Frees a builder without building. Calling with NULL is a no-op; must
/// not be called twice, nor after `misp_engine_builder_build` (which
/// consumes the builder).
///
/// # Safety
///
/// `builder` must be NULL or a live builder from `misp_engine_builder_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_free(builder: *mut misp_engine_builder) {
    // SAFETY: forwarded contract.
    guard_or((), || unsafe { handle::free(builder) })
}

/// Borrows a builder for a setter or an add.
///
/// # Safety
///
/// `builder` must be NULL or a live builder used by no other thread.
unsafe fn builder_mut<'a>(builder: *mut misp_engine_builder) -> Result<&'a mut Builder, FfiError> {
    // SAFETY: forwarded contract.
    unsafe { handle::as_mut(builder, "builder") }
}

/// The body of a builder function adding one JSON record: parses `json`
/// as `$record` (called `$what` in errors) and applies `$apply` to the
/// library builder (`$b`) and the record (`$r`).
///
/// Expands to an `unsafe` block's contents: the caller's contract covers
/// `$builder` (a live builder used by no other thread) and `$json` (valid
/// for `$json_len` bytes).
macro_rules! builder_record {
    ($builder:expr, $json:expr, $json_len:expr, $record:ident, $what:literal,
     |$b:ident, $r:ident| $apply:expr) => {
        guard(|| {
            let (builder, json) = (
                builder_mut($builder)?,
                handle::bytes_arg($json.cast(), $json_len, "json")?,
            );
            let $b = &mut builder.builder;
            let $r: $record<'_> = parse_input(json, $what)?;
            $apply?;
            Ok(())
        })
    };
}

/// Sets the over-correlation limit: a value correlates only while no
/// attribute carrying it would have more than `limit` partners in other
/// events. A negative `limit` disables the check. Default 20, MISP's
/// effective default.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL builder; `MISP_ERR_INVALID` for a limit
/// above 4294967295.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_set_limit(
    builder: *mut misp_engine_builder,
    limit: i64,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let b = unsafe { builder_mut(builder) }?;
        b.builder.limit(limit_arg(limit)?);
        Ok(())
    })
}

/// The library limit for C limit `limit` (negative: none).
fn limit_arg(limit: i64) -> Result<Option<u32>, FfiError> {
    if limit < 0 {
        return Ok(None);
    }
    u32::try_from(limit)
        .map(Some)
        .map_err(|_| FfiError::invalid(format!("argument `limit` {limit} is above 4294967295")))
}

/// Switches advanced correlation (CIDR containment and ssdeep
/// similarity), MISP's `enable_advanced_correlations`. Default off.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL builder.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_set_advanced(
    builder: *mut misp_engine_builder,
    advanced: bool,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { builder_mut(builder) }?.builder.advanced(advanced);
        Ok(())
    })
}

/// Sets the minimum ssdeep score (1-100) for ssdeep correlations.
/// Default 40.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL builder. A threshold outside 1-100 is
/// refused by `misp_engine_builder_build` (`MISP_ERR_INVALID`).
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_set_ssdeep_threshold(
    builder: *mut misp_engine_builder,
    threshold: u32,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { builder_mut(builder) }?
            .builder
            .ssdeep_threshold(threshold);
        Ok(())
    })
}

/// Switches access control: with `acl` true (the default) queries show a
/// viewer only correlations whose two sides it may see (MISP's `Default`
/// engine); with false everything is visible to every viewer (MISP's
/// `NoAcl` engine).
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL builder.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_set_acl(
    builder: *mut misp_engine_builder,
    acl: bool,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        unsafe { builder_mut(builder) }?.builder.mode(acl_mode(acl));
        Ok(())
    })
}

fn acl_mode(acl: bool) -> AclMode {
    if acl {
        AclMode::Default
    } else {
        AclMode::NoAcl
    }
}

/// Adds an exclusion pattern: `%x%` excludes values containing `x`, `%x`
/// values ending with `x`, `x%` values starting with `x`, anything else
/// that exact value (case-sensitive, on the normalised value). An
/// excluded value never correlates.
///
/// Ownership: `pattern` is copied.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8` for bad arguments.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread; `pattern`
/// valid for `pattern_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_add_exclusion(
    builder: *mut misp_engine_builder,
    pattern: *const c_char,
    pattern_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let (b, pattern) = unsafe {
            (
                builder_mut(builder)?,
                handle::str_arg(pattern, pattern_len, "pattern")?,
            )
        };
        b.builder.exclusion(pattern);
        Ok(())
    })
}

/// Adds the events of one MISP JSON document (`{"Event": …}`,
/// `{"response": […]}`, a bare event, or a list of these), with their
/// objects and attributes.
///
/// All or nothing: if the document is malformed or holds an event MISP
/// would refuse, nothing of it is added. Attributes MISP would refuse
/// (unknown type, invalid value) do not fail the call; they are listed by
/// `misp_engine_build_report` once built. Events are named by uuid,
/// attributes by uuid or `<event uuid>:<n>`, organisations by the
/// event's `Org` (id, else uuid, else name).
///
/// Ownership: `json` is borrowed for the call only.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_JSON` for a malformed
/// document or a refused event (the message gives `<input>:line:column`);
/// `MISP_ERR_INVALID` if the engine's capacity is exhausted.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread; `json` valid
/// for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_add_json(
    builder: *mut misp_engine_builder,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let (b, json) = unsafe {
            (
                builder_mut(builder)?,
                handle::bytes_arg(json.cast(), json_len, "json")?,
            )
        };
        let events = misp_core::json::parse_events(json)?;
        for event in &events {
            b.builder.add_misp_event(event)?;
        }
        Ok(())
    })
}

/// Adds the events of MISP feed directories (with `manifest.json`),
/// directories of event files (recursively, sorted by name) and event
/// files, as `misp-correlate load` reads them.
///
/// A file or event that cannot be read does not stop the others and does
/// not fail the call: it is listed under `errors` by
/// `misp_engine_build_report` once built (a path that does not exist is
/// such an error too).
///
/// Ownership: `paths` and its strings are borrowed for the call only.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8` for bad arguments (the message gives
/// the path's index); `MISP_ERR_INVALID` if the engine's capacity is
/// exhausted.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread; `paths`
/// valid for `paths_len` `misp_str`, each valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_add_paths(
    builder: *mut misp_engine_builder,
    paths: *const misp_str,
    paths_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let (b, paths) = unsafe {
            (
                builder_mut(builder)?,
                handle::str_list_arg(paths, paths_len, "paths")?,
            )
        };
        let mut failure = None;
        for item in misp_core::json::load(paths) {
            match item {
                Ok(event) => {
                    if let Err(e) = b.builder.add_misp_event(&event) {
                        failure = Some(e);
                        break;
                    }
                }
                Err(e) => b.errors.push(ReportError {
                    file: e
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    message: e.to_string(),
                }),
            }
        }
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    })
}

/// Adds one event given as JSON `{"id", "org", "distribution",
/// "sharing_group", "disable_correlation"}` (only `id` is required;
/// defaults as in `misp_engine_add_event`).
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_JSON` for malformed or
/// unknown fields; `MISP_ERR_INVALID` if the event was already added.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread; `json` valid
/// for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_add_event(
    builder: *mut misp_engine_builder,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        builder_record!(builder, json, json_len, EventIn, "event", |b, r| b
            .add_event(&r.input()))
    }
}

/// Adds one object given as JSON `{"id", "event", "distribution",
/// "sharing_group", "deleted"}` (`id` and `event` required).
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_JSON` for malformed or
/// unknown fields; `MISP_ERR_INVALID` if the object was already added.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread; `json` valid
/// for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_add_object(
    builder: *mut misp_engine_builder,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        builder_record!(builder, json, json_len, ObjectIn, "object", |b, r| b
            .add_object(&r.input()))
    }
}

/// Adds one attribute given as JSON `{"id", "event", "object", "type",
/// "value", "distribution", "sharing_group", "disable_correlation",
/// "deleted"}` (`id`, `event`, `type` and `value` required; `value` raw,
/// as the engine runs MISP's save pipeline on it).
///
/// A value MISP would refuse, or an identity already used, does not fail
/// the call: it is listed by `misp_engine_build_report` once built.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_JSON` for malformed or
/// unknown fields; `MISP_ERR_UNKNOWN_TYPE` for a type MISP does not know;
/// `MISP_ERR_INVALID` if the engine's capacity is exhausted.
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread; `json` valid
/// for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_add_attribute(
    builder: *mut misp_engine_builder,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        builder_record!(builder, json, json_len, AttributeIn, "attribute", |b, r| b
            .add(&r.input()?))
    }
}

/// Builds the engine (in parallel) and consumes the builder.
///
/// The builder is consumed whatever the result: do not use or free it
/// afterwards. On success `*out_engine` receives a new engine, owned by
/// the caller and freed with `misp_engine_free`.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer (the builder, if not NULL, is still
/// consumed); `MISP_ERR_INVALID` for an invalid setting (an ssdeep
/// threshold outside 1-100).
///
/// # Safety
///
/// `builder` must be a live builder used by no other thread;
/// `out_engine` valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_builder_build(
    builder: *mut misp_engine_builder,
    out_engine: *mut *mut misp_engine,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract; the builder is taken (consumed)
        // before anything can fail.
        let (b, out_engine) = unsafe {
            (
                handle::take(builder, "builder")?,
                Out::new(out_engine, "out_engine"),
            )
        };
        let out_engine = out_engine?;
        let built = b.builder.build()?;
        let engine = EngineState {
            engine: RwLock::new(EngineData::Live(Box::new(built.engine))),
            rejected: built.rejected,
            errors: b.errors,
        };
        out_engine.write(handle::into_raw(engine));
        Ok(())
    })
}

// ----- the engine ------------------------------------------------------------

/// A correlation engine: an opaque handle.
///
/// Made by `misp_engine_builder_build`, `misp_engine_new` or
/// `misp_engine_open_snapshot`, freed by `misp_engine_free`. Any number of threads may use one engine at once:
/// queries share a read lock, changes take the write lock. It must not be
/// freed while another thread uses it.
pub struct misp_engine {
    _private: [u8; 0],
}

impl Handle for misp_engine {
    type Rust = EngineState;
}

/// The value behind a [`misp_engine`].
pub(crate) struct EngineState {
    engine: RwLock<EngineData>,
    /// Attributes refused by the bulk build.
    rejected: Vec<Rejected>,
    /// Files and events the bulk build could not read.
    errors: Vec<ReportError>,
}

impl EngineState {
    fn read(&self) -> Result<RwLockReadGuard<'_, EngineData>, FfiError> {
        self.engine.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, EngineData>, FfiError> {
        self.engine.write().map_err(|_| poisoned())
    }
}

/// The engine behind a handle: in memory, or a snapshot file opened in
/// place. Both answer every query identically (the snapshot runs the
/// engine's own query code over the mapped state).
pub(crate) enum EngineData {
    /// Built, created empty, or decoded from a snapshot by a change.
    Live(Box<Engine>),
    /// Opened by `misp_engine_open_snapshot` and not changed since.
    Mapped(Box<EngineSnapshot>),
}

impl EngineData {
    /// The engine to change: a mapped snapshot is first decoded into an
    /// in-memory engine (all of it), which replaces it for good. If the
    /// decoding fails, the snapshot stays as it was.
    fn live(&mut self) -> Result<&mut Engine, FfiError> {
        if let EngineData::Mapped(snapshot) = self {
            *self = EngineData::Live(Box::new(snapshot.to_engine()?));
        }
        match self {
            EngineData::Live(engine) => Ok(&mut **engine),
            EngineData::Mapped(_) => Err(FfiError::new(
                misp_result::MISP_ERR_PANIC,
                "internal error: the snapshot was decoded but the engine is still mapped",
            )),
        }
    }

    /// Writes the engine to a snapshot file at `path`; a mapped snapshot
    /// is decoded first (as `EngineSnapshot::save` does).
    fn save_snapshot(&self, path: &Path) -> Result<(), FfiError> {
        match self {
            EngineData::Live(engine) => EngineSnapshot::save_engine(engine, path)?,
            EngineData::Mapped(snapshot) => snapshot.save(path)?,
        }
        Ok(())
    }
}

/// Runs `$body` with `$e` bound to the engine behind `$data` (an
/// `&EngineData`), in memory or mapped: the two have the same query
/// methods (the library's `query_api!`) but no common trait.
macro_rules! with_engine {
    ($data:expr, |$e:ident| $body:expr) => {
        match $data {
            EngineData::Live($e) => $body,
            EngineData::Mapped($e) => $body,
        }
    };
}

fn poisoned() -> FfiError {
    FfiError::new(
        misp_result::MISP_ERR_POISONED,
        "the engine was left inconsistent by an earlier internal panic during a change; free and rebuild it",
    )
}

/// Creates an empty engine for incremental use.
///
/// `limit` is the over-correlation limit (negative: none; MISP's default
/// is 20), `advanced` switches CIDR and ssdeep correlation,
/// `ssdeep_threshold` is the minimum ssdeep score (1-100; MISP's default
/// is 40) and `acl` switches access control (see
/// `misp_engine_builder_set_acl`). On success `*out_engine` receives a new
/// engine, owned by the caller and freed with `misp_engine_free`.
///
/// # Errors
///
/// `MISP_ERR_NULL` if `out_engine` is NULL; `MISP_ERR_INVALID` for a
/// limit above 4294967295 or a threshold outside 1-100.
///
/// # Safety
///
/// `out_engine` must be valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_new(
    limit: i64,
    advanced: bool,
    ssdeep_threshold: u32,
    acl: bool,
    out_engine: *mut *mut misp_engine,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees `out_engine` per `# Safety`.
        let out_engine = unsafe { Out::new(out_engine, "out_engine") }?;
        let config = Config {
            limit: limit_arg(limit)?,
            advanced,
            ssdeep_threshold,
            mode: acl_mode(acl),
        };
        let engine = Engine::new(config)?;
        out_engine.write(handle::into_raw(EngineState {
            engine: RwLock::new(EngineData::Live(Box::new(engine))),
            rejected: Vec::new(),
            errors: Vec::new(),
        }));
        Ok(())
    })
}

/// Frees an engine. Calling with NULL is a no-op; must not be called
/// twice, nor while another thread uses the engine.
///
/// # Safety
///
/// `engine` must be NULL or a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_free(engine: *mut misp_engine) {
    // SAFETY: forwarded contract.
    guard_or((), || unsafe { handle::free(engine) })
}

/// Opens an engine snapshot file (written by `misp_engine_save_snapshot`
/// or `misp-correlate correlate --save-snapshot`) by memory-mapping it: no
/// event is read and nothing is rebuilt.
///
/// Opening checks the header, format version, kind, the section table and
/// every section's size; `verify` also checks the checksum of the whole
/// file (one pass over every byte).
///
/// The handle takes every engine function. Queries (`misp_engine_summary`,
/// `misp_engine_correlations`, `misp_engine_correlations_of`,
/// `misp_engine_related_events`, `misp_engine_over_correlating`,
/// `misp_engine_top_keys`) are answered from the mapped file, with the
/// same results as the engine that was saved. **The first change** (any
/// `misp_engine_add_*`, `_update_*`, `_remove_*`, `_set_*` or
/// `misp_engine_configure` call, even one then refused for its
/// arguments) **costs a full decode**: the whole
/// snapshot is read into an in-memory engine, which from then on replaces
/// the mapping in this handle and takes that change and every later one.
/// The file is not changed; save the engine again with
/// `misp_engine_save_snapshot`. `misp_engine_build_report` is empty (the
/// rejections of the original build are not kept in the snapshot).
///
/// On success `*out_engine` receives a new engine, owned by the caller and
/// freed with `misp_engine_free`. The file must not be changed while the
/// handle maps it (until the first change, or until freed); replacing it
/// (as the save functions do, atomically) is safe.
///
/// Ownership: `path` is borrowed for the call only.
///
/// Thread safety: safe from any number of threads at once; the handle is
/// shared as one made by `misp_engine_builder_build` (the decode of the
/// first change runs under the write lock).
///
/// # Errors
///
/// * `MISP_ERR_NULL`, `MISP_ERR_UTF8`: bad arguments.
/// * `MISP_ERR_IO`: `path` cannot be read (e.g. it does not exist).
/// * `MISP_ERR_SNAPSHOT`: not an engine snapshot of this format version,
///   or damaged (the message names the file and says what is wrong).
///
/// # Safety
///
/// `path` must be valid for reads of `path_len` bytes and `out_engine` for
/// one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_open_snapshot(
    path: *const c_char,
    path_len: usize,
    verify: bool,
    out_engine: *mut *mut misp_engine,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (path, out_engine) = unsafe {
            (
                handle::str_arg(path, path_len, "path")?,
                Out::new(out_engine, "out_engine")?,
            )
        };
        let snapshot = EngineSnapshot::open(path)?;
        if verify {
            snapshot.verify()?;
        }
        out_engine.write(handle::into_raw(EngineState {
            engine: RwLock::new(EngineData::Mapped(Box::new(snapshot))),
            rejected: Vec::new(),
            errors: Vec::new(),
        }));
        Ok(())
    })
}

/// Saves an engine (built, changed, or opened from a snapshot) to a
/// snapshot file at `path`, with its settings and exclusions, replacing
/// the file atomically (`path` may be the snapshot the handle was opened
/// from). `misp_engine_open_snapshot` opens it again. An engine still
/// answering from a mapped snapshot is decoded first (a full read of it).
///
/// Ownership: `path` is borrowed for the call only.
///
/// Thread safety: runs under the read lock, alongside queries.
///
/// # Errors
///
/// * `MISP_ERR_NULL`, `MISP_ERR_UTF8`: bad arguments.
/// * `MISP_ERR_IO`: the file cannot be written.
/// * `MISP_ERR_SNAPSHOT`: a section of the opened snapshot cannot be read.
/// * `MISP_ERR_INVALID`: the engine is too large for the format.
/// * `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `engine` must be a live engine and `path` valid for `path_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_save_snapshot(
    engine: *const misp_engine,
    path: *const c_char,
    path_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (state, path) = unsafe {
            (
                handle::as_ref(engine, "engine")?,
                handle::str_arg(path, path_len, "path")?,
            )
        };
        state.read()?.save_snapshot(Path::new(path))
    })
}

/// Runs a JSON-producing query on `engine` with out-parameters checked
/// first.
///
/// # Safety
///
/// `engine` must be NULL or a live engine; `out_json` and `out_len` valid
/// for one write each.
unsafe fn json_query(
    engine: *const misp_engine,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
    query: impl FnOnce(&EngineState) -> Result<(*mut c_char, usize), FfiError>,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let (state, out_json, out_len) = unsafe {
            (
                handle::as_ref(engine, "engine")?,
                Out::new(out_json, "out_json")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let (text, len) = query(state)?;
        out_json.write(text);
        out_len.write(len);
        Ok(())
    })
}

/// A rejected attribute in the build report.
#[derive(Serialize)]
struct RejectedRow<'a> {
    event: IdentOut<'a>,
    attribute: IdentOut<'a>,
    #[serde(rename = "type")]
    type_name: &'a str,
    value: &'a str,
    reason: &'a str,
}

/// What the bulk build refused or could not read.
///
/// `*out_json` receives `{"rejected": [{"event", "attribute", "type",
/// "value", "reason"}], "errors": [{"file", "message"}]}`: the attributes
/// that were not indexed (MISP would refuse the value, unknown type,
/// repeated identity) in input order, and the files or events
/// `misp_engine_builder_add_paths` could not read. Both are empty for an
/// engine made by `misp_engine_new`. The caller frees the string with
/// `misp_string_free`.
///
/// Thread safety: may run alongside any other call on the engine.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer.
///
/// # Safety
///
/// `engine` must be a live engine; `out_json` and `out_len` valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_build_report(
    engine: *const misp_engine,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    #[derive(Serialize)]
    struct Report<'a> {
        rejected: Vec<RejectedRow<'a>>,
        errors: &'a [ReportError],
    }
    let body = |state: &EngineState| {
        let rejected = state
            .rejected
            .iter()
            .map(|r| RejectedRow {
                event: IdentOut(&r.event),
                attribute: IdentOut(&r.attribute),
                type_name: &r.ty,
                value: &r.value,
                reason: &r.reason,
            })
            .collect();
        handle::owned_json(&Report {
            rejected,
            errors: &state.errors,
        })
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// Counts of the current result.
///
/// `*out_json` receives `{"attributes", "eligible", "keys", "exact",
/// "cidr", "ssdeep", "over_correlating", "correlations"}`: stored
/// attributes, those taking part in correlation, distinct match keys,
/// correlations of each kind, over-correlating keys, and all
/// correlations. Unfiltered by access control. The caller frees the
/// string with `misp_string_free`.
///
/// Thread safety: runs under the read lock.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_POISONED` after an
/// internal panic during a change.
///
/// # Safety
///
/// `engine` must be a live engine; `out_json` and `out_len` valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_summary(
    engine: *const misp_engine,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    #[derive(Serialize)]
    struct SummaryRow {
        attributes: u64,
        eligible: u64,
        keys: u64,
        exact: u64,
        cidr: u64,
        ssdeep: u64,
        over_correlating: u64,
        correlations: u64,
    }
    let body = |state: &EngineState| {
        let s = with_engine!(&*state.read()?, |e| e.summary());
        handle::owned_json(&SummaryRow {
            attributes: s.attributes,
            eligible: s.eligible,
            keys: s.keys,
            exact: s.exact,
            cidr: s.cidr,
            ssdeep: s.ssdeep,
            over_correlating: s.over_correlating,
            correlations: s.correlations(),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// The correlations of one attribute that `viewer` may see, with `a` the
/// attribute asked about and `b` the other side.
///
/// `*out_json` receives a JSON array of correlations
/// `{"kind": "exact"|"cidr"|"ssdeep", "key": K, "a": {"event": E,
/// "attribute": A}, "b": {…}, "score": S}` (`score` only for ssdeep;
/// identities as JSON numbers or strings, as given); the caller frees it
/// with `misp_string_free`. With
/// access control on, a correlation is listed only when the viewer may
/// see both sides (nothing if the attribute itself is hidden).
///
/// Thread safety: runs under the read lock.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8` for bad arguments;
/// `MISP_ERR_INVALID` when no attribute has that identity or the
/// identity's kind is unknown; `MISP_ERR_POISONED` after an internal
/// panic during a change.
///
/// # Safety
///
/// `engine` must be a live engine; `attribute` and `viewer` valid (see
/// `misp_id`, `misp_viewer`); `out_json` and `out_len` valid for one write
/// each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_correlations_of(
    engine: *const misp_engine,
    attribute: *const misp_id,
    viewer: *const misp_viewer,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    let body = |state: &EngineState| {
        // SAFETY: forwarded contract.
        let (id, viewer) = unsafe { (id_arg(attribute, "attribute")?, viewer_arg(viewer)?) };
        with_engine!(&*state.read()?, |engine| {
            let correlations = engine.correlations_of(id, Some(&viewer))?;
            let rows: Vec<PairRow<'_>> = correlations.iter().map(PairRow::from).collect();
            handle::owned_json(&rows)
        })
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// The events related to one event for `viewer`, each with the number of
/// correlations between the two events that the viewer may see, most
/// related first.
///
/// `*out_json` receives `[{"event": E, "correlations": N}, …]`; the caller
/// frees it with `misp_string_free`.
///
/// Thread safety: runs under the read lock.
///
/// # Errors
///
/// As `misp_engine_correlations_of`, for an event.
///
/// # Safety
///
/// As `misp_engine_correlations_of`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_related_events(
    engine: *const misp_engine,
    event: *const misp_id,
    viewer: *const misp_viewer,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    #[derive(Serialize)]
    struct RelatedRow<'e> {
        event: IdOut<'e>,
        correlations: u64,
    }
    let body = |state: &EngineState| {
        // SAFETY: forwarded contract.
        let (id, viewer) = unsafe { (id_arg(event, "event")?, viewer_arg(viewer)?) };
        with_engine!(&*state.read()?, |engine| {
            let related = engine.related_events(id, Some(&viewer))?;
            let rows: Vec<RelatedRow<'_>> = related
                .iter()
                .map(|r| RelatedRow {
                    event: IdOut(r.event),
                    correlations: r.correlations,
                })
                .collect();
            handle::owned_json(&rows)
        })
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// Every correlation `viewer` may see, as one JSON array of rows shaped as
/// in `misp_engine_correlations_of`, in the library's order: by the
/// attribute added first, each pair (and each key of it) once; `a` is the
/// attribute added first (for CIDR, the address; `b` the network).
///
/// The whole result is built in memory; the caller frees it with
/// `misp_string_free`.
///
/// Thread safety: runs under the read lock (changes wait until it is
/// done).
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8`, `MISP_ERR_INVALID` for bad
/// arguments; `MISP_ERR_POISONED` after an internal panic during a change.
///
/// # Safety
///
/// `engine` must be a live engine; `viewer` valid (see `misp_viewer`);
/// `out_json` and `out_len` valid for one write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_correlations(
    engine: *const misp_engine,
    viewer: *const misp_viewer,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    let body = |state: &EngineState| {
        // SAFETY: forwarded contract.
        let viewer: Viewer = unsafe { viewer_arg(viewer) }?;
        let engine = state.read()?;
        handle::owned_json(&CorrelationRows(&engine, &viewer))
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// Every correlation a viewer may see, serialized while it is streamed
/// from the engine (no intermediate vector).
struct CorrelationRows<'a>(&'a EngineData, &'a Viewer);

impl Serialize for CorrelationRows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        with_engine!(self.0, |engine| serializer.collect_seq(
            engine.correlations_for(self.1).map(|c| PairRow::from(&c))
        ))
    }
}

/// The over-correlating keys with their occurrence counts.
///
/// `*out_json` receives `[{"key": K, "count": N}, …]`; the caller frees
/// it with `misp_string_free`.
///
/// Thread safety: runs under the read lock.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_POISONED` after an
/// internal panic during a change.
///
/// # Safety
///
/// `engine` must be a live engine; `out_json` and `out_len` valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_over_correlating(
    engine: *const misp_engine,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    #[derive(Serialize)]
    struct Row<'e> {
        key: std::borrow::Cow<'e, str>,
        count: u64,
    }
    let body = |state: &EngineState| {
        with_engine!(&*state.read()?, |engine| {
            let rows: Vec<Row<'_>> = engine
                .over_correlating()
                .into_iter()
                .map(|o| Row {
                    key: o.key,
                    count: o.count,
                })
                .collect();
            handle::owned_json(&rows)
        })
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// The `n` keys with the most (exact and CIDR) correlations.
///
/// `*out_json` receives `[{"key": K, "correlations": N}, …]`, most first;
/// the caller frees it with `misp_string_free`.
///
/// Thread safety: runs under the read lock.
///
/// # Errors
///
/// `MISP_ERR_NULL` for a NULL pointer; `MISP_ERR_POISONED` after an
/// internal panic during a change.
///
/// # Safety
///
/// `engine` must be a live engine; `out_json` and `out_len` valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_top_keys(
    engine: *const misp_engine,
    n: usize,
    out_json: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    #[derive(Serialize)]
    struct Row<'e> {
        key: std::borrow::Cow<'e, str>,
        correlations: u64,
    }
    let body = |state: &EngineState| {
        with_engine!(&*state.read()?, |engine| {
            let rows: Vec<Row<'_>> = engine
                .top_keys(n)
                .into_iter()
                .map(|t| Row {
                    key: t.key,
                    correlations: t.correlations,
                })
                .collect();
            handle::owned_json(&rows)
        })
    };
    // SAFETY: forwarded contract.
    unsafe { json_query(engine, out_json, out_len, body) }
}

/// Runs a change on `engine` under the write lock, first decoding an
/// engine opened from a snapshot into memory (see
/// `misp_engine_open_snapshot`).
///
/// # Safety
///
/// `engine` must be NULL or a live engine.
unsafe fn change(
    engine: *const misp_engine,
    body: impl FnOnce(&mut Engine) -> Result<(), FfiError>,
) -> misp_result {
    guard(|| {
        // SAFETY: forwarded contract.
        let state = unsafe { handle::as_ref(engine, "engine") }?;
        let mut data = state.write()?;
        body(data.live()?)
    })
}

/// Runs a change described by a JSON record on `engine` under the write
/// lock.
///
/// # Safety
///
/// `engine` must be NULL or a live engine; `json` valid for `json_len`
/// bytes.
unsafe fn change_with_json(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
    body: impl FnOnce(&mut Engine, &[u8]) -> Result<(), FfiError>,
) -> misp_result {
    let body = |engine: &mut Engine| {
        // SAFETY: forwarded contract.
        let json = unsafe { handle::bytes_arg(json.cast(), json_len, "json") }?;
        body(engine, json)
    };
    // SAFETY: forwarded contract.
    unsafe { change(engine, body) }
}

/// The body of an engine change given as one JSON record: parses `json`
/// as `$record` (called `$what` in errors) and applies `$apply` to the
/// engine (`$e`) and the record (`$r`) under the write lock. A macro, not
/// a function, because the record borrows from `json` with a lifetime
/// known only inside the call.
///
/// Expands to an `unsafe` call: the caller's contract covers `$engine`
/// (NULL or a live engine) and `$json` (valid for `$json_len` bytes).
macro_rules! record_change {
    ($engine:expr, $json:expr, $json_len:expr, $record:ident, $what:literal,
     |$e:ident, $r:ident| $apply:expr) => {
        change_with_json($engine, $json, $json_len, |$e: &mut Engine, json: &[u8]| {
            let $r: $record<'_> = parse_input(json, $what)?;
            Ok($apply?)
        })
    };
}

/// Runs an engine change on the identity `id` (called `what` in errors)
/// under the write lock.
///
/// # Safety
///
/// `engine` must be NULL or a live engine; `id` NULL or a valid `misp_id`.
unsafe fn change_id<E>(
    engine: *const misp_engine,
    id: *const misp_id,
    what: &str,
    apply: impl FnOnce(&mut Engine, misp_correlate::correlation::Id<'_>) -> Result<(), E>,
) -> misp_result
where
    FfiError: From<E>,
{
    let body = |engine: &mut Engine| {
        // SAFETY: forwarded contract.
        let id = unsafe { id_arg(id, what) }?;
        Ok(apply(engine, id)?)
    };
    // SAFETY: forwarded contract.
    unsafe { change(engine, body) }
}

/// Adds an event given as JSON `{"id", "org", "distribution",
/// "sharing_group", "disable_correlation"}` (only `id` required;
/// defaults: distribution 1, no owner, correlation enabled).
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: takes the engine's write lock, waiting for running
/// queries.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_JSON` for malformed JSON or an unknown
/// field; `MISP_ERR_INVALID` if the event exists; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_add_event(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        record_change!(engine, json, json_len, EventIn, "event", |e, r| e
            .add_event(&r.input()))
    }
}

/// Replaces an event's settings (owner, distribution, sharing group,
/// correlation switch), given as in `misp_engine_add_event`; absent
/// fields take their defaults. Its objects and attributes are kept.
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: takes the engine's write lock, waiting for running
/// queries.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_JSON`; `MISP_ERR_INVALID` if no event has
/// that identity; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_update_event(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        record_change!(engine, json, json_len, EventIn, "event", |e, r| e
            .update_event(&r.input()))
    }
}

/// Adds an object given as JSON `{"id", "event", "distribution",
/// "sharing_group", "deleted"}` (`id` and `event` required; defaults:
/// distribution 5, not deleted).
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: takes the engine's write lock, waiting for running
/// queries.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_JSON`; `MISP_ERR_INVALID` if the object
/// exists; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_add_object(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        record_change!(engine, json, json_len, ObjectIn, "object", |e, r| e
            .add_object(&r.input()))
    }
}

/// Replaces an object's settings, given as in `misp_engine_add_object`.
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: takes the engine's write lock, waiting for running
/// queries.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_JSON`; `MISP_ERR_INVALID` if no object
/// has that identity; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_update_object(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        record_change!(engine, json, json_len, ObjectIn, "object", |e, r| e
            .update_object(&r.input()))
    }
}

/// Adds an attribute given as JSON `{"id", "event", "object", "type",
/// "value", "distribution", "sharing_group", "disable_correlation",
/// "deleted"}` (`id`, `event`, `type`, `value` required; defaults:
/// distribution 5, correlating, not deleted). The raw value goes through
/// MISP's save pipeline; the attribute is indexed if it is eligible, and
/// its correlations appear at once.
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: takes the engine's write lock, waiting for running
/// queries.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_JSON`; `MISP_ERR_UNKNOWN_TYPE`;
/// `MISP_ERR_REJECTED` if MISP would refuse the value (nothing is stored;
/// the message gives MISP's reason); `MISP_ERR_INVALID` if the attribute
/// exists; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_add_attribute(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        record_change!(engine, json, json_len, AttributeIn, "attribute", |e, r| e
            .add_attribute(&r.input()?))
    }
}

/// Replaces an attribute (value, type, event, object, flags,
/// distribution), given as in `misp_engine_add_attribute`: the result is
/// as if it had been added so.
///
/// Ownership: `json` is borrowed for the call only.
///
/// Thread safety: takes the engine's write lock, waiting for running
/// queries.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_JSON`; `MISP_ERR_UNKNOWN_TYPE`;
/// `MISP_ERR_REJECTED` if MISP would refuse the new value (the attribute
/// is left unchanged); `MISP_ERR_INVALID` if no attribute has that
/// identity; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `json` valid for `json_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_update_attribute(
    engine: *const misp_engine,
    json: *const c_char,
    json_len: usize,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        record_change!(engine, json, json_len, AttributeIn, "attribute", |e, r| e
            .update_attribute(&r.input()?))
    }
}

/// Removes an event and all its attributes.
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8` for bad arguments;
/// `MISP_ERR_INVALID` if no event has that identity; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine and `event` a valid `misp_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_remove_event(
    engine: *const misp_engine,
    event: *const misp_id,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe { change_id(engine, event, "event", Engine::remove_event) }
}

/// Removes an object; its attributes stay but no longer correlate.
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// As `misp_engine_remove_event`, for an object.
///
/// # Safety
///
/// `engine` must be a live engine and `object` a valid `misp_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_remove_object(
    engine: *const misp_engine,
    object: *const misp_id,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe { change_id(engine, object, "object", Engine::remove_object) }
}

/// Deletes an attribute; its correlations disappear at once.
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// As `misp_engine_remove_event`, for an attribute.
///
/// # Safety
///
/// `engine` must be a live engine and `attribute` a valid `misp_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_remove_attribute(
    engine: *const misp_engine,
    attribute: *const misp_id,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe { change_id(engine, attribute, "attribute", Engine::remove_attribute) }
}

/// Enables or disables correlation for one attribute (its
/// `disable_correlation` flag, inverted).
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// As `misp_engine_remove_attribute`.
///
/// # Safety
///
/// `engine` must be a live engine and `attribute` a valid `misp_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_set_attribute_correlation(
    engine: *const misp_engine,
    attribute: *const misp_id,
    enabled: bool,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        change_id(engine, attribute, "attribute", |e, id| {
            e.set_attribute_correlation(id, enabled)
        })
    }
}

/// Enables or disables correlation for a whole event.
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// As `misp_engine_remove_event`.
///
/// # Safety
///
/// `engine` must be a live engine and `event` a valid `misp_id`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_set_event_correlation(
    engine: *const misp_engine,
    event: *const misp_id,
    enabled: bool,
) -> misp_result {
    // SAFETY: forwarded contract.
    unsafe {
        change_id(engine, event, "event", |e, id| {
            e.set_event_correlation(id, enabled)
        })
    }
}

/// Adds (`add` true) or removes an exclusion pattern (see
/// `misp_engine_builder_add_exclusion`); retroactive: the result is as if
/// the engine had been built with the new set. `*out_changed` receives
/// whether the set changed.
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// `MISP_ERR_NULL`, `MISP_ERR_UTF8`; `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine; `pattern` valid for `pattern_len`
/// bytes; `out_changed` valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_set_exclusion(
    engine: *const misp_engine,
    pattern: *const c_char,
    pattern_len: usize,
    add: bool,
    out_changed: *mut bool,
) -> misp_result {
    let body = |engine: &mut Engine| {
        // SAFETY: forwarded contract.
        let (pattern, out_changed) = unsafe {
            (
                handle::str_arg(pattern, pattern_len, "pattern")?,
                Out::new(out_changed, "out_changed")?,
            )
        };
        let changed = if add {
            engine.add_exclusion(pattern)
        } else {
            engine.remove_exclusion(pattern)
        };
        out_changed.write(changed);
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { change(engine, body) }
}

/// Changes the engine's settings: the over-correlation limit (negative:
/// none), advanced correlation, the ssdeep threshold (1-100) and access
/// control, as in `misp_engine_new`. The result is as if the engine had
/// been built with them.
///
/// Thread safety: takes the engine's write lock.
///
/// # Errors
///
/// `MISP_ERR_NULL`; `MISP_ERR_INVALID` for a limit above 4294967295 or a
/// threshold outside 1-100 (nothing is changed); `MISP_ERR_POISONED`.
///
/// # Safety
///
/// `engine` must be a live engine.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_engine_configure(
    engine: *const misp_engine,
    limit: i64,
    advanced: bool,
    ssdeep_threshold: u32,
    acl: bool,
) -> misp_result {
    let body = |engine: &mut Engine| {
        let limit = limit_arg(limit)?;
        engine.set_ssdeep_threshold(ssdeep_threshold)?;
        engine.set_limit(limit);
        engine.set_advanced(advanced);
        engine.set_mode(acl_mode(acl));
        Ok(())
    };
    // SAFETY: forwarded contract.
    unsafe { change(engine, body) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlation_io::misp_id_kind;
    use std::ffi::CStr;
    use std::ptr;

    const EVENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/events");
    const A1: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const B1: &str = "bbbbbbbb-0000-4000-8000-000000000001";
    const EVENT_A: &str = "aaaaaaaa-0000-4000-8000-000000000000";

    fn take_json(r: misp_result, out: *mut c_char) -> serde_json::Value {
        assert_eq!(
            r,
            misp_result::MISP_OK,
            "{}",
            crate::panic::tests_last_error()
        );
        // SAFETY: `out` is a NUL-terminated library string.
        let text = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
        // SAFETY: freed once.
        unsafe { crate::misp_string_free(out) };
        serde_json::from_str(&text).unwrap()
    }

    fn str_id(s: &str) -> misp_id {
        misp_id {
            kind: misp_id_kind::MISP_ID_STR as u32,
            num: 0,
            str: s.as_ptr().cast(),
            str_len: s.len(),
        }
    }

    fn admin() -> misp_viewer {
        misp_viewer {
            org: ptr::null(),
            sharing_groups: ptr::null(),
            sharing_groups_len: 0,
            site_admin: true,
        }
    }

    fn build(advanced: bool) -> *mut misp_engine {
        let mut b = ptr::null_mut();
        // SAFETY: valid out-pointer.
        let r = unsafe { misp_engine_builder_new(&mut b) };
        assert_eq!(r, misp_result::MISP_OK);
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_set_advanced(b, advanced) };
        assert_eq!(r, misp_result::MISP_OK);
        let paths = [misp_str::from(EVENTS)];
        // SAFETY: live builder, valid paths.
        let r = unsafe { misp_engine_builder_add_paths(b, paths.as_ptr(), 1) };
        assert_eq!(r, misp_result::MISP_OK);
        let mut engine = ptr::null_mut();
        // SAFETY: the builder is consumed.
        let r = unsafe { misp_engine_builder_build(b, &mut engine) };
        assert_eq!(r, misp_result::MISP_OK);
        engine
    }

    fn correlations(
        engine: *const misp_engine,
        viewer: &misp_viewer,
    ) -> Vec<(String, String, String)> {
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_correlations(engine, viewer, &mut out, &mut len) };
        let mut rows: Vec<(String, String, String)> = take_json(r, out)
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row["kind"].as_str().unwrap().to_owned(),
                    row["key"].as_str().unwrap().to_owned(),
                    format!(
                        "{}-{}",
                        id_text(&row["a"]["attribute"]),
                        id_text(&row["b"]["attribute"])
                    ),
                )
            })
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn bulk_build_from_paths_and_viewers() {
        let engine = build(false);
        let all = correlations(engine, &admin());
        let keys: Vec<&str> = all.iter().map(|(_, k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "0123456789abcdef0123456789abcdef",
                "198.51.100.7",
                "evil.example"
            ]
        );
        assert!(all.iter().all(|(kind, _, _)| kind == "exact"));

        let org_a = str_id("org-a");
        let viewer_a = misp_viewer {
            org: &org_a,
            ..admin()
        };
        let viewer_a = misp_viewer {
            site_admin: false,
            ..viewer_a
        };
        let seen = correlations(engine, &viewer_a);
        assert_eq!(
            seen.len(),
            2,
            "org-a does not see event B's distribution-0 md5: {seen:?}"
        );

        let (mut out, mut len) = (ptr::null_mut(), 0);
        let a1 = str_id(A1);
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_correlations_of(engine, &a1, &viewer_a, &mut out, &mut len) };
        let rows = take_json(r, out);
        assert_eq!(
            rows,
            serde_json::json!([{"kind": "exact", "key": "198.51.100.7",
                "a": {"event": EVENT_A, "attribute": A1},
                "b": {"event": "bbbbbbbb-0000-4000-8000-000000000000", "attribute": B1}}])
        );

        let event_a = str_id(EVENT_A);
        // SAFETY: valid pointers.
        let r =
            unsafe { misp_engine_related_events(engine, &event_a, &admin(), &mut out, &mut len) };
        assert_eq!(
            take_json(r, out),
            serde_json::json!([{"event": "bbbbbbbb-0000-4000-8000-000000000000", "correlations": 3}])
        );

        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_summary(engine, &mut out, &mut len) };
        let summary = take_json(r, out);
        assert_eq!(summary["correlations"], 3);
        assert_eq!(summary["attributes"], 9);
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_build_report(engine, &mut out, &mut len) };
        assert_eq!(
            take_json(r, out),
            serde_json::json!({"rejected": [], "errors": []})
        );
        // SAFETY: freed once.
        unsafe { misp_engine_free(engine) };
    }

    #[test]
    fn advanced_correlation_adds_cidr() {
        let engine = build(true);
        let all = correlations(engine, &admin());
        assert!(
            all.contains(&(
                "cidr".to_owned(),
                "10.0.0.0/8".to_owned(),
                "bbbbbbbb-0000-4000-8000-000000000003-aaaaaaaa-0000-4000-8000-000000000003"
                    .to_owned()
            )),
            "{all:?}"
        );
        assert_eq!(all.len(), 4);
        // SAFETY: freed once.
        unsafe { misp_engine_free(engine) };
    }

    fn change_json(
        f: unsafe extern "C" fn(*const misp_engine, *const c_char, usize) -> misp_result,
        engine: *const misp_engine,
        json: &str,
    ) -> misp_result {
        // SAFETY: valid pointers.
        unsafe { f(engine, json.as_ptr().cast(), json.len()) }
    }

    #[test]
    fn incremental_add_update_remove() {
        let mut engine = ptr::null_mut();
        // SAFETY: valid out-pointer.
        let r = unsafe { misp_engine_new(20, false, 40, true, &mut engine) };
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(
            change_json(misp_engine_add_event, engine, r#"{"id": 1}"#),
            misp_result::MISP_OK
        );
        assert_eq!(
            change_json(misp_engine_add_event, engine, r#"{"id": 2, "org": "x"}"#),
            misp_result::MISP_OK
        );
        let add = |json: &str| change_json(misp_engine_add_attribute, engine, json);
        assert_eq!(
            add(r#"{"id": 10, "event": 1, "type": "ip-dst", "value": "192.0.2.1"}"#),
            misp_result::MISP_OK
        );
        assert_eq!(
            add(r#"{"id": 20, "event": 2, "type": "ip-src", "value": " 192.0.2.1 "}"#),
            misp_result::MISP_OK
        );
        assert_eq!(correlations_count(engine), 1);

        // Errors: a rejected value, an unknown type, malformed JSON, an
        // unknown field, a duplicate id.
        assert_eq!(
            add(r#"{"id": 30, "event": 2, "type": "ip-src", "value": "not an ip"}"#),
            misp_result::MISP_ERR_REJECTED
        );
        assert_eq!(
            add(r#"{"id": 30, "event": 2, "type": "nope", "value": "x"}"#),
            misp_result::MISP_ERR_UNKNOWN_TYPE
        );
        assert_eq!(
            add(r#"{"id": 30, "event": 2, "type": "#),
            misp_result::MISP_ERR_JSON
        );
        assert_eq!(
            add(r#"{"id": 30, "event": 2, "type": "md5", "valeu": "x"}"#),
            misp_result::MISP_ERR_JSON
        );
        assert_eq!(
            add(r#"{"id": 10, "event": 1, "type": "ip-dst", "value": "192.0.2.1"}"#),
            misp_result::MISP_ERR_INVALID
        );

        // Update moves attribute 20 away, then back.
        let update = |json: &str| change_json(misp_engine_update_attribute, engine, json);
        assert_eq!(
            update(r#"{"id": 20, "event": 2, "type": "ip-src", "value": "192.0.2.2"}"#),
            misp_result::MISP_OK
        );
        assert_eq!(correlations_count(engine), 0);
        assert_eq!(
            update(r#"{"id": 20, "event": 2, "type": "ip-src", "value": "192.0.2.1"}"#),
            misp_result::MISP_OK
        );
        assert_eq!(correlations_count(engine), 1);

        // Exclusions are retroactive.
        let mut changed = false;
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_engine_set_exclusion(engine, c"192.0.2.%".as_ptr(), 9, true, &mut changed)
        };
        assert_eq!((r, changed), (misp_result::MISP_OK, true));
        assert_eq!(correlations_count(engine), 0);
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_engine_set_exclusion(engine, c"192.0.2.%".as_ptr(), 9, false, &mut changed)
        };
        assert_eq!((r, changed), (misp_result::MISP_OK, true));
        assert_eq!(correlations_count(engine), 1);

        // Remove by numeric id.
        let id = misp_id {
            kind: misp_id_kind::MISP_ID_NUM as u32,
            num: 20,
            str: ptr::null(),
            str_len: 0,
        };
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_remove_attribute(engine, &id) };
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(correlations_count(engine), 0);
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_remove_attribute(engine, &id) };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        let bad_kind = misp_id { kind: 7, ..id };
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_remove_attribute(engine, &bad_kind) };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);

        // Settings.
        // SAFETY: live engine.
        let r = unsafe { misp_engine_configure(engine, -1, true, 101, true) };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        // SAFETY: live engine.
        let r = unsafe { misp_engine_configure(engine, 5_000_000_000, true, 40, true) };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        // SAFETY: live engine.
        let r = unsafe { misp_engine_configure(engine, -1, true, 40, false) };
        assert_eq!(r, misp_result::MISP_OK);
        // SAFETY: freed once.
        unsafe { misp_engine_free(engine) };
    }

    fn id_text(v: &serde_json::Value) -> String {
        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
    }

    fn correlations_count(engine: *const misp_engine) -> usize {
        correlations(engine, &admin()).len()
    }

    #[test]
    fn concurrent_queries_and_changes() {
        let mut engine = ptr::null_mut();
        // SAFETY: valid out-pointer.
        let r = unsafe { misp_engine_new(20, true, 40, true, &mut engine) };
        assert_eq!(r, misp_result::MISP_OK);
        for json in [r#"{"id": 1}"#, r#"{"id": 2}"#] {
            assert_eq!(
                change_json(misp_engine_add_event, engine, json),
                misp_result::MISP_OK
            );
        }
        let base = r#"{"id": "base", "event": 1, "type": "ip-dst", "value": "10.0.0.0/8"}"#;
        assert_eq!(
            change_json(misp_engine_add_attribute, engine, base),
            misp_result::MISP_OK
        );
        // Raw pointers are not Send; the engine is documented as shareable.
        let shared = engine as usize;
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(move || {
                    for _ in 0..50 {
                        let n = correlations_count(shared as *const misp_engine);
                        assert!(n <= 1, "{n} correlations");
                    }
                });
            }
            scope.spawn(move || {
                let engine = shared as *const misp_engine;
                for i in 0..50 {
                    let json = format!(
                        r#"{{"id": "w{i}", "event": 2, "type": "ip-src", "value": "10.1.2.{i}"}}"#
                    );
                    assert_eq!(
                        change_json(misp_engine_add_attribute, engine, &json),
                        misp_result::MISP_OK
                    );
                    let id = format!("w{i}");
                    let id = str_id(&id);
                    // SAFETY: valid pointers.
                    let r = unsafe { misp_engine_remove_attribute(engine, &id) };
                    assert_eq!(r, misp_result::MISP_OK);
                }
            });
        });
        assert_eq!(correlations_count(engine), 0);
        // SAFETY: freed once, after every thread ended.
        unsafe { misp_engine_free(engine) };
    }

    /// Every query's JSON for `engine`, as the admin and as org-a.
    fn all_answers(engine: *const misp_engine) -> Vec<serde_json::Value> {
        let org_a = str_id("org-a");
        let viewer_a = misp_viewer {
            org: &org_a,
            site_admin: false,
            ..admin()
        };
        let (a1, event_a) = (str_id(A1), str_id(EVENT_A));
        let mut answers = Vec::new();
        for viewer in [admin(), viewer_a] {
            let (mut out, mut len) = (ptr::null_mut(), 0);
            // SAFETY: valid pointers (viewer, ids and their strings live).
            unsafe {
                let r = misp_engine_correlations(engine, &viewer, &mut out, &mut len);
                answers.push(take_json(r, out));
                let r = misp_engine_correlations_of(engine, &a1, &viewer, &mut out, &mut len);
                answers.push(take_json(r, out));
                let r = misp_engine_related_events(engine, &event_a, &viewer, &mut out, &mut len);
                answers.push(take_json(r, out));
            }
        }
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        unsafe {
            let r = misp_engine_summary(engine, &mut out, &mut len);
            answers.push(take_json(r, out));
            let r = misp_engine_over_correlating(engine, &mut out, &mut len);
            answers.push(take_json(r, out));
            let r = misp_engine_top_keys(engine, 10, &mut out, &mut len);
            answers.push(take_json(r, out));
        }
        answers
    }

    fn save(engine: *const misp_engine, path: &str) -> misp_result {
        // SAFETY: valid pointers.
        unsafe { misp_engine_save_snapshot(engine, path.as_ptr().cast(), path.len()) }
    }

    fn open(path: &str, verify: bool) -> Result<*mut misp_engine, misp_result> {
        let mut engine = ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_engine_open_snapshot(path.as_ptr().cast(), path.len(), verify, &mut engine)
        };
        if r == misp_result::MISP_OK {
            Ok(engine)
        } else {
            assert!(engine.is_null(), "out_engine written on error");
            Err(r)
        }
    }

    #[test]
    fn snapshots_round_trip_and_take_changes() {
        let dir = std::env::temp_dir().join(format!("misp-ffi-engine-snap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
        let (path, resaved, changed_path) = (
            file("engine.snap"),
            file("resaved.snap"),
            file("changed.snap"),
        );

        let original = build(true);
        assert_eq!(save(original, &path), misp_result::MISP_OK);
        let opened = open(&path, true).unwrap();
        let expected = all_answers(original);
        assert_eq!(expected[0].as_array().unwrap().len(), 4);
        assert_eq!(all_answers(opened), expected);
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_build_report(opened, &mut out, &mut len) };
        assert_eq!(
            take_json(r, out),
            serde_json::json!({"rejected": [], "errors": []})
        );
        // SAFETY: valid pointers.
        let r = unsafe {
            crate::misp_snapshot_info(path.as_ptr().cast(), path.len(), &mut out, &mut len)
        };
        let info = take_json(r, out);
        assert_eq!(info["kind"], "engine");
        assert_eq!(info["counts"]["attributes"], 9);

        // A mapped handle saves as it is.
        assert_eq!(save(opened, &resaved), misp_result::MISP_OK);
        let reopened = open(&resaved, true).unwrap();
        assert_eq!(all_answers(reopened), expected);

        // The first change decodes the snapshot; the handle then answers
        // as the original engine given the same changes.
        let b1 = str_id(B1);
        for engine in [original, opened] {
            // SAFETY: valid pointers.
            let r = unsafe { misp_engine_remove_attribute(engine, &b1) };
            assert_eq!(r, misp_result::MISP_OK);
            let attr = r#"{"id": "new", "event": "bbbbbbbb-0000-4000-8000-000000000000", "type": "domain", "value": "evil.example"}"#;
            assert_eq!(
                change_json(misp_engine_add_attribute, engine, attr),
                misp_result::MISP_OK
            );
        }
        let changed = all_answers(original);
        assert_ne!(changed, expected);
        assert_eq!(all_answers(opened), changed);
        // The file itself is unchanged, and the changed engine saves.
        assert_eq!(all_answers(reopened), expected);
        assert_eq!(save(opened, &changed_path), misp_result::MISP_OK);
        let changed_reopened = open(&changed_path, false).unwrap();
        assert_eq!(all_answers(changed_reopened), changed);
        // Saving over the file the handle maps is safe (atomic replace).
        assert_eq!(save(reopened, &resaved), misp_result::MISP_OK);
        assert_eq!(all_answers(reopened), expected);

        // SAFETY: freed once each.
        unsafe {
            misp_engine_free(changed_reopened);
            misp_engine_free(reopened);
            misp_engine_free(opened);
            misp_engine_free(original);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn snapshot_errors() {
        let dir =
            std::env::temp_dir().join(format!("misp-ffi-engine-snap-err-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let engine = build(false);
        let path = dir.join("engine.snap");
        let path = path.to_str().unwrap();
        assert_eq!(save(engine, path), misp_result::MISP_OK);

        // Not a snapshot; missing; damaged (seen by `verify`).
        let not = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        assert_eq!(open(not, false), Err(misp_result::MISP_ERR_SNAPSHOT));
        assert!(crate::panic::tests_last_error().contains("Cargo.toml"));
        assert_eq!(
            open("/nonexistent.snap", false),
            Err(misp_result::MISP_ERR_IO)
        );
        assert!(crate::panic::tests_last_error().contains("/nonexistent.snap"));
        let mut bytes = std::fs::read(path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let damaged = dir.join("damaged.snap");
        std::fs::write(&damaged, &bytes).unwrap();
        let damaged = damaged.to_str().unwrap();
        assert_eq!(open(damaged, true), Err(misp_result::MISP_ERR_SNAPSHOT));
        let message = crate::panic::tests_last_error();
        assert!(message.contains("damaged.snap"), "{message}");
        // Cut short: refused at open even without `verify`.
        let cut = dir.join("cut.snap");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(
            open(cut.to_str().unwrap(), false),
            Err(misp_result::MISP_ERR_SNAPSHOT)
        );

        // Bad arguments.
        let mut out = ptr::null_mut();
        // SAFETY: NULL is rejected before any read.
        let r = unsafe { misp_engine_open_snapshot(ptr::null(), 0, false, &mut out) };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
        // SAFETY: the path is valid; NULL out-pointer is rejected.
        let r = unsafe {
            misp_engine_open_snapshot(path.as_ptr().cast(), path.len(), false, ptr::null_mut())
        };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
        let bad = b"ok\xff.snap";
        // SAFETY: valid pointers.
        let r =
            unsafe { misp_engine_open_snapshot(bad.as_ptr().cast(), bad.len(), false, &mut out) };
        assert_eq!(r, misp_result::MISP_ERR_UTF8);
        // SAFETY: NULL engine and NULL path are rejected.
        unsafe {
            let r = misp_engine_save_snapshot(ptr::null(), path.as_ptr().cast(), path.len());
            assert_eq!(r, misp_result::MISP_ERR_NULL);
            let r = misp_engine_save_snapshot(engine, ptr::null(), 0);
            assert_eq!(r, misp_result::MISP_ERR_NULL);
        }
        assert_eq!(
            save(engine, "/nonexistent-dir/engine.snap"),
            misp_result::MISP_ERR_IO
        );
        assert!(out.is_null());
        // SAFETY: freed once.
        unsafe { misp_engine_free(engine) };
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn builder_add_json_is_all_or_nothing() {
        let mut b = ptr::null_mut();
        // SAFETY: valid out-pointer.
        let r = unsafe { misp_engine_builder_new(&mut b) };
        assert_eq!(r, misp_result::MISP_OK);
        let bad = r#"{"Event": {"info": "x", "Attribute": [{"type": "md5", "value": "#;
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_add_json(b, bad.as_ptr().cast(), bad.len()) };
        assert_eq!(r, misp_result::MISP_ERR_JSON);
        let doc = std::fs::read_to_string(format!("{EVENTS}/event-a.json")).unwrap();
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_add_json(b, doc.as_ptr().cast(), doc.len()) };
        assert_eq!(r, misp_result::MISP_OK);
        let attr = r#"{"id": "x1", "event": "bbbbbbbb-0000-4000-8000-000000000000", "type": "ip-dst", "value": "nope"}"#;
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_add_attribute(b, attr.as_ptr().cast(), attr.len()) };
        assert_eq!(r, misp_result::MISP_OK);
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_set_ssdeep_threshold(b, 0) };
        assert_eq!(r, misp_result::MISP_OK);
        let mut engine = ptr::null_mut();
        // SAFETY: the builder is consumed even though the build fails.
        let r = unsafe { misp_engine_builder_build(b, &mut engine) };
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        assert!(engine.is_null());
    }

    #[test]
    fn build_report_lists_rejections_and_unreadable_paths() {
        let mut b = ptr::null_mut();
        // SAFETY: valid out-pointer.
        let r = unsafe { misp_engine_builder_new(&mut b) };
        assert_eq!(r, misp_result::MISP_OK);
        let paths = [
            misp_str::from(EVENTS),
            misp_str::from("/nonexistent/x.json"),
        ];
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_add_paths(b, paths.as_ptr(), 2) };
        assert_eq!(r, misp_result::MISP_OK);
        let attr = r#"{"id": "x1", "event": "bbbbbbbb-0000-4000-8000-000000000000", "type": "ip-dst", "value": "nope"}"#;
        // SAFETY: live builder.
        let r = unsafe { misp_engine_builder_add_attribute(b, attr.as_ptr().cast(), attr.len()) };
        assert_eq!(r, misp_result::MISP_OK);
        let mut engine = ptr::null_mut();
        // SAFETY: the builder is consumed.
        let r = unsafe { misp_engine_builder_build(b, &mut engine) };
        assert_eq!(r, misp_result::MISP_OK);
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe { misp_engine_build_report(engine, &mut out, &mut len) };
        let report = take_json(r, out);
        assert_eq!(report["rejected"][0]["attribute"], "x1");
        assert_eq!(report["rejected"][0]["value"], "nope");
        assert_eq!(report["errors"][0]["file"], "/nonexistent/x.json");
        // SAFETY: freed once.
        unsafe { misp_engine_free(engine) };
    }
}
