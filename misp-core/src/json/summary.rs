//! What a load found: counts, rejected attributes, unreadable files.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use super::ahead::{Next, ReadAhead};
use super::feed::{discover, with_read_buffer};
use super::{IN_MEMORY_LIMIT, load, read_or_open, stream_reader, stream_slice_borrowed};
use crate::{AttributeType, BorrowedEvent, Error, Event, Result, normalize};

/// An attribute MISP would refuse to save: its type is unknown, or
/// [`normalize`] rejects its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedAttribute {
    /// The uuid of the attribute's event.
    pub event: String,
    /// The attribute's identity ([`AttributeRef::key`](crate::AttributeRef::key):
    /// its uuid, or `<event uuid>:<position>`).
    pub attribute: String,
    /// The type as written.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The value as written.
    pub value: String,
    /// Why, in MISP's words where MISP has words for it.
    pub reason: String,
}

/// The report of a load: how many events and attributes were read, how
/// many attributes of each type, which attributes MISP would refuse, and
/// which files (or events) could not be read.
///
/// Build one with [`LoadSummary::from_paths`] (or its parallel twin), or
/// feed it events yourself with [`add`](LoadSummary::add). Every
/// attribute is counted, rejected ones included; deleted attributes are
/// checked too (MISP validates on every save).
///
/// ```
/// use misp_core::json::{LoadSummary, parse_events};
///
/// let events = parse_events(br#"{"Event": {"uuid": "5a4cb19a-f550-437f-bd29-48ed950d210f", "info": "x",
///     "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"},
///                   {"type": "ip-dst", "value": " "},
///                   {"type": "no-such-type", "value": "x"}]}}"#).unwrap();
/// let mut summary = LoadSummary::new();
/// for event in &events {
///     summary.add_event(event);
/// }
/// assert_eq!(summary.attributes(), 3);
/// assert_eq!(summary.types()["ip-dst"], 2);
/// assert_eq!(summary.rejected().len(), 2);
/// assert_eq!(summary.rejected()[1].attribute, "5a4cb19a-f550-437f-bd29-48ed950d210f:2");
/// ```
#[derive(Debug, Default)]
pub struct LoadSummary {
    events: usize,
    attributes: usize,
    types: BTreeMap<String, usize>,
    rejected: Vec<RejectedAttribute>,
    errors: Vec<Error>,
}

impl LoadSummary {
    /// An empty summary.
    pub fn new() -> LoadSummary {
        LoadSummary::default()
    }

    /// Loads `paths` (see [`load`](super::load)) one file at a time and
    /// summarises them.
    pub fn from_paths<I, P>(paths: I) -> LoadSummary
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        let mut summary = LoadSummary::new();
        for item in load(paths) {
            summary.add(item);
        }
        summary
    }

    /// Like [`from_paths`](LoadSummary::from_paths), with files read and
    /// checked in parallel on the rayon pool, a window of them at a time
    /// (as [`ParallelInputs`](super::ParallelInputs) reads them). The
    /// result is identical, order of `rejected` and `errors` included.
    /// Each file is summarised as it is parsed, so no file's events are
    /// ever all in memory.
    pub fn from_paths_parallel<I, P>(paths: I) -> LoadSummary
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        // Every file is summarised by a task: a large one is streamed
        // event by event into its summary.
        let mut ahead = ReadAhead::new(discover(paths), u64::MAX, summarise_file);
        let mut summary = LoadSummary::new();
        while let Some(next) = ahead.next_entry() {
            match next {
                Next::Read(part) => summary.merge(part),
                Next::Failed(error) => summary.add_error(error),
                Next::Large(path) => summary.merge(summarise_file(&path)),
            }
        }
        summary
    }

    /// Adds one item of a load: an event, or an error.
    pub fn add(&mut self, item: Result<Event>) {
        match item {
            Ok(event) => self.add_event(&event),
            Err(error) => self.add_error(error),
        }
    }

    /// Counts an event and its attributes, and checks every attribute's
    /// type and value.
    pub fn add_event(&mut self, event: &Event) {
        self.add_borrowed_event(&event.as_borrowed());
    }

    /// [`add_event`](LoadSummary::add_event) for an event borrowed from
    /// its document (as [`stream_slice_borrowed`](super::stream_slice_borrowed)
    /// and [`Document`](super::Document) read them): nothing is copied
    /// but the rejected attributes.
    pub fn add_borrowed_event(&mut self, event: &BorrowedEvent<'_>) {
        self.events += 1;
        for attribute_ref in event.all_attributes() {
            let attribute = attribute_ref.attribute;
            let type_name: &str = &attribute.type_name;
            self.attributes += 1;
            match self.types.get_mut(type_name) {
                Some(count) => *count += 1,
                None => {
                    self.types.insert(type_name.to_owned(), 1);
                }
            }
            let reason = match AttributeType::from_name(type_name) {
                None => Some(format!(
                    "Unknown attribute type {type_name:?} (MISP: \"Options depend on the selected category.\")"
                )),
                Some(ty) => normalize(ty, &attribute.value)
                    .err()
                    .map(|r| r.reason().to_owned()),
            };
            if let Some(reason) = reason {
                self.rejected.push(RejectedAttribute {
                    event: event.uuid.clone().into_owned(),
                    attribute: attribute_ref.key(event).into_owned(),
                    type_name: type_name.to_owned(),
                    value: attribute.value.clone().into_owned(),
                    reason,
                });
            }
        }
    }

    /// Records a file or event that could not be read.
    pub fn add_error(&mut self, error: Error) {
        self.errors.push(error);
    }

    /// Appends `other`, as if its items had been added after this one's.
    pub fn merge(&mut self, other: LoadSummary) {
        self.events += other.events;
        self.attributes += other.attributes;
        for (type_name, count) in other.types {
            *self.types.entry(type_name).or_default() += count;
        }
        self.rejected.extend(other.rejected);
        self.errors.extend(other.errors);
    }

    /// Events read.
    pub fn events(&self) -> usize {
        self.events
    }

    /// Attributes read (objects' attributes included).
    pub fn attributes(&self) -> usize {
        self.attributes
    }

    /// Attributes per type name as written (unknown names included).
    pub fn types(&self) -> &BTreeMap<String, usize> {
        &self.types
    }

    /// Attributes MISP would refuse, in load order.
    pub fn rejected(&self) -> &[RejectedAttribute] {
        &self.rejected
    }

    /// Files and events that could not be read, in load order.
    pub fn errors(&self) -> &[Error] {
        &self.errors
    }
}

/// The summary of one file, parsed from this thread's read buffer with
/// its strings borrowed (or streamed if it is larger than
/// [`IN_MEMORY_LIMIT`]).
fn summarise_file(path: &Path) -> LoadSummary {
    let mut summary = LoadSummary::new();
    with_read_buffer(|buffer| match read_or_open(path, buffer, IN_MEMORY_LIMIT) {
        Ok(None) => stream_slice_borrowed(buffer, path, |item| {
            match item {
                Ok(event) => summary.add_borrowed_event(&event),
                Err(error) => summary.add_error(error),
            }
            ControlFlow::Continue(())
        }),
        Ok(Some(reader)) => stream_reader(reader, path, |item| {
            summary.add(item);
            ControlFlow::Continue(())
        }),
        Err(error) => summary.add_error(error),
    });
    summary
}
