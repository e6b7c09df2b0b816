//! Documents read whole, their events borrowed from their bytes.
//!
//! A [`Document`] owns the bytes of one file (read with one allocation)
//! and the [`BorrowedEvent`]s parsed from them, which borrow every string
//! that needs no decoding: reading a feed this way makes almost no
//! allocation per attribute. [`ParallelDocuments`] reads the documents of
//! a [`discover`](super::discover) list ahead on the rayon pool and hands
//! them over in list order, as [`ParallelInputs`](super::ParallelInputs)
//! does with owned events.

use std::fmt;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use yoke::{Yoke, Yokeable};

use super::ahead::{Next, ReadAhead};
use super::feed::{Current, discover};
use super::{BOM, IN_MEMORY_LIMIT, read_or_open, run_document, stream_slice_borrowed};
use crate::{BorrowedEvent, Result};

/// The items of a document, borrowing from its bytes.
#[derive(Yokeable)]
struct Items<'a>(Vec<Result<BorrowedEvent<'a>>>);

/// One MISP JSON document (usually one event file) and the events read
/// from it, borrowed from its bytes.
///
/// [`events`](Document::events) gives what [`stream_slice`](super::stream_slice)
/// would give for the same bytes, in the same order: each event, or the
/// error that refused it, or the error that ended the document.
///
/// ```
/// use misp_core::json::Document;
///
/// let document = Document::parse(
///     br#"{"Event": {"info": "a", "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"}]}}"#.to_vec(),
///     "a.json",
/// );
/// let event = document.events()[0].as_ref().unwrap();
/// assert_eq!(event.attributes[0].value, "192.0.2.1");
/// assert_eq!(document.path(), std::path::Path::new("a.json"));
/// ```
pub struct Document {
    path: PathBuf,
    items: Yoke<Items<'static>, Vec<u8>>,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("path", &self.path)
            .field("events", &self.events())
            .finish()
    }
}

impl Document {
    /// Parses `bytes`, a document read from `path` (which names it in
    /// errors).
    pub fn parse(bytes: Vec<u8>, path: impl Into<PathBuf>) -> Document {
        let path = path.into();
        let items = Yoke::attach_to_cart(bytes, |bytes: &[u8]| {
            let mut items = Vec::new();
            stream_slice_borrowed(bytes, &path, |item| {
                items.push(item);
                ControlFlow::Continue(())
            });
            Items(items)
        });
        Document { path, items }
    }

    /// Reads and parses the file at `path`, whatever its size (use
    /// [`ParallelDocuments`] to stream files larger than
    /// [`IN_MEMORY_LIMIT`]). A file that cannot be read is a document
    /// whose one item is the error.
    pub fn read(path: impl Into<PathBuf>) -> Document {
        let path = path.into();
        let mut bytes = Vec::new();
        match read_or_open(&path, &mut bytes, u64::MAX) {
            Ok(_) => Document::parse(bytes, path),
            Err(error) => Document::single(path, Err(error)),
        }
    }

    /// A document of one item that borrows nothing.
    fn single(path: PathBuf, item: Result<BorrowedEvent<'static>>) -> Document {
        Document {
            path,
            items: Yoke::attach_to_cart(Vec::new(), |_: &[u8]| Items(vec![item])),
        }
    }

    /// The file the document was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The events of the document, or why each could not be read, in
    /// document order.
    pub fn events(&self) -> &[Result<BorrowedEvent<'_>>] {
        &self.items.get().0
    }
}

/// The documents of a set of inputs, in [`discover`] order, read ahead
/// in parallel on the rayon pool: the borrowed twin of
/// [`ParallelInputs`](super::ParallelInputs), with the same window
/// (32 files and, past the first, 64 MiB of JSON by default) and the
/// same guarantees (list order whatever the threads do, no deadlock
/// with other work on the pool).
///
/// Each file is one [`Document`]; an `Err` entry of the list is a
/// document whose one item is that error. A file larger than
/// [`IN_MEMORY_LIMIT`] is never held whole: it is streamed from a helper
/// thread, and each of its events (or errors) comes as a document of its
/// own, with owned strings.
///
/// ```no_run
/// use misp_core::json::{ParallelDocuments, discover};
///
/// for document in ParallelDocuments::from_files(discover(["feeds/tweetfeed"])) {
///     for item in document.events() {
///         match item {
///             Ok(event) => println!("{} {}", event.uuid, event.attribute_count()),
///             Err(error) => eprintln!("{error}"),
///         }
///     }
/// }
/// ```
#[derive(Debug)]
pub struct ParallelDocuments {
    ahead: ReadAhead<Document>,
    /// The documents of a large file being streamed.
    current: Current<Document>,
}

impl ParallelDocuments {
    /// Lists the event files of `paths` (see [`discover`]); reading
    /// starts at the first call to `next`.
    pub fn new<I, P>(paths: I) -> ParallelDocuments
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        ParallelDocuments::from_files(discover(paths))
    }

    /// Reads the files of a [`discover`] list.
    pub fn from_files(files: Vec<Result<PathBuf>>) -> ParallelDocuments {
        ParallelDocuments {
            ahead: ReadAhead::new(files, IN_MEMORY_LIMIT, |path| {
                Document::read(path.to_path_buf())
            }),
            current: Current::Idle,
        }
    }

    /// Sets the read-ahead window, as
    /// [`ParallelInputs::read_ahead`](super::ParallelInputs::read_ahead).
    pub fn read_ahead(mut self, files: usize, bytes: u64) -> ParallelDocuments {
        self.ahead.set_window(files, bytes);
        self
    }

    /// Sets the size above which a file is streamed from a buffered
    /// reader on a helper thread instead of being read whole (default
    /// [`IN_MEMORY_LIMIT`]). Set it before the first call to `next`.
    pub fn in_memory_limit(mut self, bytes: u64) -> ParallelDocuments {
        self.ahead.set_large_above(bytes);
        self
    }

    /// Entries of the file list not handed over completely yet: a
    /// progress measure.
    pub fn files_remaining(&self) -> usize {
        self.ahead.remaining() + usize::from(!matches!(self.current, Current::Idle))
    }
}

impl Iterator for ParallelDocuments {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        loop {
            if let Some(document) = self.current.next_item() {
                return Some(document);
            }
            return match self.ahead.next_entry()? {
                Next::Read(document) => Some(document),
                Next::Failed(error) => {
                    let path = error.path().map(Path::to_path_buf).unwrap_or_default();
                    Some(Document::single(path, Err(error)))
                }
                Next::Large(path) => {
                    self.current = Current::stream(
                        path.clone(),
                        |error| Document::single(path, Err(error)),
                        stream_large,
                    );
                    continue;
                }
            };
        }
    }
}

/// Streams a file too large to hold whole, sending each event (with owned
/// strings) or error as a document of its own.
fn stream_large(path: &Path, send: &mut dyn FnMut(Document) -> ControlFlow<()>) {
    let mut send_item =
        |item: Result<BorrowedEvent<'static>>| send(Document::single(path.to_path_buf(), item));
    let mut buffer = Vec::new();
    match read_or_open(path, &mut buffer, 0) {
        Ok(Some(reader)) => run_document(
            &mut serde_json::Deserializer::from_reader(reader),
            path,
            &mut send_item,
        ),
        // An empty file, read whole even with a limit of 0 (unless it
        // grew meanwhile).
        Ok(None) => {
            let bytes = buffer.strip_prefix(BOM).unwrap_or(&buffer);
            run_document(
                &mut serde_json::Deserializer::from_reader(bytes),
                path,
                &mut send_item,
            );
        }
        Err(error) => {
            let _ = send_item(Err(error));
        }
    }
}
