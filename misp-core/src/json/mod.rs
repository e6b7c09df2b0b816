//! MISP JSON: events in every wrapper, and MISP feeds, read streaming.
//!
//! # Overview
//!
//! | function | reads | gives |
//! |---|---|---|
//! | [`parse_events`] | bytes of one document | `Result<Vec<Event>>` |
//! | [`read_file`] | one file | `Result<Vec<Event>>` |
//! | [`stream_slice`], [`stream_reader`], [`stream_file`] | one document | each event or error to a callback, as soon as it is read |
//! | [`stream_slice_borrowed`] | one document in memory | each [`BorrowedEvent`] (strings borrowed from the bytes) or error to a callback |
//! | [`Document`] | one file, read whole | its bytes and its borrowed events |
//! | [`discover`] | feed directories, directories, files | the event files, in order |
//! | [`load`] / [`Inputs`] | feed directories, directories, files | an iterator of `Result<Event>` |
//! | [`ParallelInputs`] | the same | the same iterator, same order, files parsed ahead on the rayon pool |
//! | [`ParallelDocuments`] | the same | an iterator of [`Document`]s, same order, files read and parsed ahead on the rayon pool |
//! | [`load_parallel`] | the same | a `Vec<Result<Event>>`, files read on the rayon pool |
//! | [`LoadSummary`] | events | counts per type and rejected attributes (what `misp-correlate load` prints) |
//!
//! # Documents
//!
//! A document is any of the shapes MISP and PyMISP write:
//!
//! * `{"Event": {...}}` (MISP's export and feed files);
//! * `{"response": [...]}` (the REST API), whose elements are wrapped
//!   events or bare event objects;
//! * a bare event object `{"info": ..., "Attribute": [...]}` (what the
//!   REST API accepts on input and PyMISP writes);
//! * a JSON list of any of these.
//!
//! An event carries `Attribute`, `Object[].Attribute`, `Org`, `Orgc`,
//! `org_id`, `orgc_id`, `Tag`, `SharingGroup` / `sharing_group_id`;
//! `ShadowAttribute`, `Galaxy`, `Sighting`, `RelatedEvent`,
//! `EventReport`, `ObjectReference` and every other key are skipped
//! unread. Numbers and booleans may be JSON numbers, booleans or strings
//! (`"distribution": "5"`, `"to_ids": "1"`, `"deleted": "0"`, `"timestamp":
//! "1776729959"`); `null` means "not given".
//!
//! # What MISP would do on save
//!
//! Fields the document omits take MISP's defaults:
//!
//! | field | default | MISP source |
//! |---|---|---|
//! | event `distribution` | 1 (this community) | `MISP.default_event_distribution`, shipped as `1` |
//! | attribute and object `distribution` | 5 (inherit the event) | `MISP.default_attribute_distribution`, shipped as `event` |
//! | attribute `to_ids` | the type's default (`describeTypes.json`) | `Attribute::beforeValidate` |
//! | attribute `value` | `value1\|value2` (or `value1`) when only those are given | `Attribute::beforeValidate` |
//! | attribute `disable_correlation` | true for an `attachment` named `*.jpg/jpeg/png/gif/webp`, else false | `Attribute::beforeValidate` |
//! | `sharing_group_id` | none unless distribution is 4 (MISP writes 0 for none) | `beforeValidate` |
//! | `published`, `deleted`, `disable_correlation` | false | |
//!
//! Uuids are lower-cased as MISP saves them. An attribute's `category` is
//! kept as written (`None` if absent); MISP's default category is a fact of
//! the type ([`AttributeType::default_category`](crate::AttributeType::default_category)).
//!
//! An event MISP would refuse is refused alone (the other events of the
//! document still load), with an [`Error::Invalid`] naming the file and
//! the event's position in it:
//!
//! * an event whose `info` is missing or blank ("Info cannot be empty":
//!   MISP's `valueNotEmpty` rule). This is also how a JSON object that is
//!   not an event at all (a galaxy, an object template, `{}`) is refused;
//! * an event whose uuid is not of the 8-4-4-4-12 hexadecimal form.
//!
//! An event without a uuid gets a deterministic one (MISP would draw a
//! random one): a version-8 UUID hashed from its info, date, creator name,
//! position in the document and attributes. The `date` is kept as written
//! (MISP would put today's date in an empty one).
//!
//! A value of the wrong shape (`"distribution": "abc"` or `7`, `"to_ids":
//! "yes"`, an `Attribute` that is a string) and malformed JSON are
//! [`Error::Json`] errors with the line and column; the rest of that
//! document is not read (a JSON parser cannot resynchronise), but the
//! events before the error have been delivered and the other files of a
//! feed still load.
//!
//! Validating attribute values (unknown type, MISP's per-type checks) is
//! not the reader's job: values stay raw in [`Attribute::value`](crate::Attribute::value) and
//! [`normalize`](crate::normalize) decides. [`LoadSummary`] does both.
//!
//! # Feeds and directories
//!
//! [`discover`] turns input paths into event files, deterministically:
//!
//! * a directory with a `manifest.json` is a MISP feed: its events are the
//!   `<uuid>.json` files the manifest lists, in manifest order. A listed
//!   file that is missing is an error for that entry only. An unreadable
//!   or malformed manifest is an error, and the directory is then read as
//!   a plain directory so that nothing else is lost. `hashes.csv` is not
//!   needed and is ignored;
//! * any other directory: its `*.json` files and subdirectories, sorted by
//!   name, recursively (symbolic links to directories are not followed,
//!   names starting with `.` are skipped);
//! * a file is one document.
//!
//! # Memory
//!
//! Loading streams: [`Inputs`] holds no more than one event file's JSON
//! at a time, [`ParallelInputs`], [`ParallelDocuments`] and
//! [`LoadSummary::from_paths_parallel`] a bounded window of files (by
//! default 32 files, and 64 MiB of JSON past the first), and a file
//! larger than [`IN_MEMORY_LIMIT`] is parsed from a buffered reader, one
//! event at a time, instead of being read whole. The owned readers read
//! each thread's files into one buffer that it keeps; a [`Document`]
//! owns its file's bytes (one allocation of the file's size), which its
//! events borrow. No `serde_json::Value` is built: the visitors fill the
//! borrowed model structs directly (an owned [`Event`] is made from the
//! borrowed one with [`BorrowedEvent::into_event`](crate::BorrowedEvent::into_event)).
//!
//! # Hostile input
//!
//! Every input is handled in time and memory proportional to its size,
//! with a result or an error naming the file, line and column: nesting
//! deeper than serde_json's recursion limit (128) where an event or an
//! attribute is expected is an error, while a skipped value (a
//! `Galaxy`, an unknown key) of any depth is skipped without recursion;
//! invalid UTF-8 in a string that is read (a value, a key) is an error at
//! its position; a truncated file keeps the events completed before the
//! cut. `tests/json_hostile.rs` holds one test for each case.

mod ahead;
mod de;
mod document;
mod feed;
mod summary;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::ops::ControlFlow;
use std::path::Path;

use serde::de::DeserializeSeed;

use crate::{BorrowedEvent, Error, Event, Result};

pub use document::{Document, ParallelDocuments};
pub use feed::{Inputs, ParallelInputs, discover, load, load_parallel, read_manifest};
pub use summary::{LoadSummary, RejectedAttribute};

/// Files up to this size (64 MiB) are read into memory and parsed from
/// the slice, which is the fastest path; larger ones are parsed from a
/// buffered reader so that their JSON is never held whole.
pub const IN_MEMORY_LIMIT: u64 = 64 << 20;

/// The name given to in-memory input in error messages.
const IN_MEMORY_SOURCE: &str = "<input>";

/// The UTF-8 byte order mark, which some tools write at the start of JSON
/// files; it is skipped.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses every event of one MISP JSON document.
///
/// All or nothing: the first error (malformed JSON, an event MISP would
/// refuse) is returned. Use [`stream_slice`] to get the good events of a
/// document that also holds bad ones.
///
/// ```
/// let events = misp_core::json::parse_events(
///     br#"{"response": [{"Event": {"info": "a", "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"}]}}]}"#,
/// ).unwrap();
/// assert_eq!(events[0].attributes[0].value, "192.0.2.1");
/// assert_eq!(events[0].distribution, 1); // MISP's default
/// ```
pub fn parse_events(bytes: &[u8]) -> Result<Vec<Event>> {
    collect(|sink| stream_slice(bytes, Path::new(IN_MEMORY_SOURCE), sink))
}

/// Reads every event of one file (one document), all or nothing like
/// [`parse_events`].
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<Event>> {
    collect(|sink| stream_file(path.as_ref(), sink))
}

/// Runs a streaming reader and gathers its events, stopping at the first
/// error.
fn collect(
    run: impl FnOnce(&mut dyn FnMut(Result<Event>) -> ControlFlow<()>),
) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut first_error = None;
    run(&mut |item| match item {
        Ok(event) => {
            events.push(event);
            ControlFlow::Continue(())
        }
        Err(error) => {
            first_error = Some(error);
            ControlFlow::Break(())
        }
    });
    match first_error {
        Some(error) => Err(error),
        None => Ok(events),
    }
}

/// Parses one document held in memory and passes each event to `sink` as
/// soon as it is read, or an error: an event MISP would refuse (and the
/// next event follows), or malformed JSON (which ends the document).
/// `source` names the document in errors. `sink` returns
/// [`ControlFlow::Break`] to stop early.
pub fn stream_slice(
    bytes: &[u8],
    source: &Path,
    mut sink: impl FnMut(Result<Event>) -> ControlFlow<()>,
) {
    stream_slice_borrowed(bytes, source, |item| {
        sink(item.map(BorrowedEvent::into_event))
    });
}

/// [`stream_slice`] giving each event as a [`BorrowedEvent`], whose
/// strings are borrowed from `bytes` unless they had to be decoded or
/// rewritten: the fastest reader, which allocates almost nothing per
/// attribute. The events, errors and their order are those of
/// [`stream_slice`] (`event.into_event()` is the event it gives).
///
/// ```
/// use std::borrow::Cow;
/// use std::ops::ControlFlow;
/// use std::path::Path;
///
/// let json = br#"{"Event": {"info": "a", "Attribute": [{"type": "url", "value": "http:\/\/a.example"}]}}"#;
/// let mut values = Vec::new();
/// misp_core::json::stream_slice_borrowed(json, Path::new("a.json"), |item| {
///     let event = item.unwrap();
///     assert!(matches!(event.info, Cow::Borrowed("a")));
///     values.extend(event.attributes.into_iter().map(|a| a.value));
///     ControlFlow::Continue(())
/// });
/// assert_eq!(values, ["http://a.example"]); // escapes decoded (into an owned string)
/// ```
pub fn stream_slice_borrowed<'a>(
    bytes: &'a [u8],
    source: &Path,
    mut sink: impl FnMut(Result<BorrowedEvent<'a>>) -> ControlFlow<()>,
) {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Checking UTF-8 once for the whole document is much cheaper than
    // serde_json checking each string; invalid UTF-8 goes the slow way,
    // which reports where the bad bytes are.
    match std::str::from_utf8(bytes) {
        Ok(text) => run_document(
            &mut serde_json::Deserializer::from_str(text),
            source,
            &mut sink,
        ),
        Err(_) => run_document(
            &mut serde_json::Deserializer::from_slice(bytes),
            source,
            &mut sink,
        ),
    }
}

/// Parses one document from `reader` (buffer it: it is read in small
/// pieces), passing each event to `sink` as [`stream_slice`] does. The
/// document's JSON is never held whole: memory stays at one event.
pub fn stream_reader<R: Read>(
    reader: R,
    source: &Path,
    mut sink: impl FnMut(Result<Event>) -> ControlFlow<()>,
) {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    run_document(&mut deserializer, source, &mut |item| {
        sink(item.map(BorrowedEvent::into_event))
    });
}

/// Parses one file, passing each event to `sink` as [`stream_slice`]
/// does. Files up to [`IN_MEMORY_LIMIT`] are read whole then parsed;
/// larger ones are streamed from a buffered reader.
pub fn stream_file(path: &Path, sink: impl FnMut(Result<Event>) -> ControlFlow<()>) {
    stream_file_with(path, &mut Vec::new(), IN_MEMORY_LIMIT, sink);
}

/// [`stream_file`] with the in-memory limit as a parameter, reading small
/// files into `buffer`, which the loaders reuse from file to file
/// (allocating and freeing a buffer per file costs more than one would
/// think next to a fast parser).
pub(crate) fn stream_file_with(
    path: &Path,
    buffer: &mut Vec<u8>,
    in_memory_limit: u64,
    mut sink: impl FnMut(Result<Event>) -> ControlFlow<()>,
) {
    match read_or_open(path, buffer, in_memory_limit) {
        Ok(None) => stream_slice(buffer, path, sink),
        Ok(Some(reader)) => stream_reader(reader, path, sink),
        Err(error) => {
            let _ = sink(Err(error));
        }
    }
}

/// Reads `path` whole into `buffer` (replacing its contents) if it is at
/// most `in_memory_limit` bytes long and gives `None`; a larger file is
/// opened instead, its byte order mark skipped, and given as a buffered
/// reader.
pub(crate) fn read_or_open(
    path: &Path,
    buffer: &mut Vec<u8>,
    in_memory_limit: u64,
) -> Result<Option<BufReader<File>>> {
    let io_error = |source: io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    if size <= in_memory_limit {
        buffer.clear();
        // (A size that cannot be known reserves nothing ahead.)
        let expected = if size == u64::MAX { 0 } else { size };
        buffer.reserve_exact(usize::try_from(expected).unwrap_or(0).saturating_add(1));
        // Reading at most the known size (and one byte to see the end)
        // spares `read_to_end` the file-size and position look-ups it
        // would make again; a file that grew meanwhile is read on.
        let n = (&file)
            .take(size.saturating_add(1))
            .read_to_end(buffer)
            .map_err(io_error)?;
        if n as u64 > size {
            (&file).read_to_end(buffer).map_err(io_error)?;
        }
        return Ok(None);
    }
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let head = reader.fill_buf().map_err(io_error)?;
    if head.starts_with(BOM) {
        reader.consume(BOM.len());
    }
    Ok(Some(reader))
}

/// Walks a document with [`de::DocumentSeed`] and reports a parse error
/// (unless the sink stopped the walk) as an [`Error::Json`] or
/// [`Error::Io`].
fn run_document<'de, R: serde_json::de::Read<'de>>(
    deserializer: &mut serde_json::Deserializer<R>,
    source: &Path,
    sink: &mut dyn FnMut(Result<BorrowedEvent<'de>>) -> ControlFlow<()>,
) {
    let mut emitter = de::Emitter::new(source, sink);
    let outcome = de::DocumentSeed(&mut emitter)
        .deserialize(&mut *deserializer)
        .and_then(|()| deserializer.end());
    if let Err(error) = outcome {
        if !emitter.stopped() {
            emitter.send_error(json_error(source, error));
        }
    }
}

/// Converts a serde_json error into the crate's error, naming the file.
fn json_error(source: &Path, error: serde_json::Error) -> Error {
    let (line, column) = (error.line(), error.column());
    if error.is_io() {
        return Error::Io {
            path: source.to_path_buf(),
            source: io::Error::from(error),
        };
    }
    // serde_json's message ends with " at line L column C": the position
    // has its own fields.
    let message = error.to_string();
    let suffix = format!(" at line {line} column {column}");
    let message = message
        .strip_suffix(&suffix)
        .map(str::to_owned)
        .unwrap_or(message);
    Error::Json {
        path: source.to_path_buf(),
        line,
        column,
        message,
    }
}
