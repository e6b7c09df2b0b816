//! Input walking: MISP feeds, directories of event files, single files.

use std::cell::RefCell;
use std::fmt;
use std::fs;
use std::io::{self, BufReader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::ahead::{Next, ReadAhead};
use super::{IN_MEMORY_LIMIT, de, json_error, stream_file_with};
use crate::{Error, Event, Result};

/// The file that makes a directory a MISP feed.
const MANIFEST: &str = "manifest.json";

/// How many parsed events a streaming file may queue ahead of the
/// consumer of [`Inputs`].
const STREAM_QUEUE: usize = 256;

/// Reads a feed's `manifest.json` and returns its keys (event uuids) in
/// file order. The values (event summaries) are skipped unread.
///
/// The keys are returned as written; [`discover`] checks that each is a
/// uuid before it builds a file name from it.
pub fn read_manifest(path: impl AsRef<Path>) -> Result<Vec<String>> {
    let path = path.as_ref();
    let io_error = |source: io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(io_error)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let outcome = if size <= IN_MEMORY_LIMIT {
        let bytes = fs::read(path).map_err(io_error)?;
        let bytes = bytes.strip_prefix(super::BOM).unwrap_or(&bytes);
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        ManifestKeys
            .deserialize(&mut deserializer)
            .and_then(|keys| deserializer.end().map(|()| keys))
    } else {
        let mut deserializer =
            serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
        ManifestKeys
            .deserialize(&mut deserializer)
            .and_then(|keys| deserializer.end().map(|()| keys))
    };
    outcome.map_err(|e| json_error(path, e))
}

/// Collects the keys of the manifest object.
struct ManifestKeys;

impl<'de> DeserializeSeed<'de> for ManifestKeys {
    type Value = Vec<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<String>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ManifestKeys {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MISP feed manifest (an object keyed by event uuid)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<IgnoredAny>()?;
            keys.push(key);
        }
        Ok(keys)
    }
}

/// Lists the event files of `paths` in a deterministic order: for each
/// path in turn, a feed's files in manifest order, a directory's files
/// sorted by name (recursively), or the file itself. Problems (a path that
/// does not exist, a manifest entry without its file) are `Err` entries in
/// place, and the rest of the list is unaffected.
pub fn discover<I, P>(paths: I) -> Vec<Result<PathBuf>>
where
    I: IntoIterator<Item = P>,
    P: AsRef<Path>,
{
    let mut files = Vec::new();
    for path in paths {
        let path = path.as_ref();
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => discover_dir(path, &mut files),
            Ok(_) => files.push(Ok(path.to_path_buf())),
            Err(source) => files.push(Err(Error::Io {
                path: path.to_path_buf(),
                source,
            })),
        }
    }
    files
}

/// Adds the event files of directory `dir` to `files`.
fn discover_dir(dir: &Path, files: &mut Vec<Result<PathBuf>>) {
    let manifest = dir.join(MANIFEST);
    if manifest.is_file() {
        match read_manifest(&manifest) {
            Ok(uuids) => {
                for uuid in uuids {
                    files.push(feed_entry(dir, &manifest, &uuid));
                }
                return;
            }
            // Read the directory as a plain one, to lose nothing else.
            Err(error) => files.push(Err(error)),
        }
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => {
            files.push(Err(Error::Io {
                path: dir.to_path_buf(),
                source,
            }));
            return;
        }
    };
    let mut children = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => children.push(entry),
            Err(source) => files.push(Err(Error::Io {
                path: dir.to_path_buf(),
                source,
            })),
        }
    }
    children.sort_by_key(|entry| entry.file_name());
    for entry in children {
        let name = entry.file_name();
        let path = entry.path();
        if name.as_encoded_bytes().starts_with(b".") || name == MANIFEST {
            continue;
        }
        let is_dir = match entry.file_type() {
            Ok(kind) => kind.is_dir(),
            Err(source) => {
                files.push(Err(Error::Io { path, source }));
                continue;
            }
        };
        if is_dir {
            discover_dir(&path, files);
        } else if has_json_extension(&path) && path.is_file() {
            files.push(Ok(path));
        }
    }
}

/// The file of manifest entry `uuid` in feed `dir`, or why there is none.
fn feed_entry(dir: &Path, manifest: &Path, uuid: &str) -> Result<PathBuf> {
    if !de::is_uuid(uuid) {
        return Err(Error::Invalid {
            path: manifest.to_path_buf(),
            message: format!("manifest entry {uuid:?} is not an event uuid"),
        });
    }
    let path = dir.join(format!("{uuid}.json"));
    if path.is_file() {
        Ok(path)
    } else {
        Err(Error::Invalid {
            path,
            message: format!(
                "event {uuid} is listed in {} but its file is missing",
                manifest.display()
            ),
        })
    }
}

fn has_json_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Every event of `paths` (feed directories, directories of event files,
/// event files), in [`discover`] order, one file at a time. Shorthand for
/// [`Inputs::new`].
pub fn load<I, P>(paths: I) -> Inputs
where
    I: IntoIterator<Item = P>,
    P: AsRef<Path>,
{
    Inputs::new(paths)
}

/// An iterator over the events of a set of inputs, yielding each event or
/// error in [`discover`] order.
///
/// It holds one file's events at a time; a file larger than
/// [`IN_MEMORY_LIMIT`] is parsed on a helper thread that hands events
/// over through a bounded queue, so even a single huge
/// `{"response": [...]}` never sits in memory. Dropping the iterator stops
/// that thread at its next event.
///
/// ```no_run
/// for item in misp_core::json::load(["feeds/tweetfeed"]) {
///     match item {
///         Ok(event) => println!("{} {}", event.uuid, event.attribute_count()),
///         Err(error) => eprintln!("{error}"),
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Inputs {
    files: std::vec::IntoIter<Result<PathBuf>>,
    current: Current<Result<Event>>,
    /// The bytes of the last small file, kept for the next one.
    buffer: Vec<u8>,
    /// Files larger than this are parsed on a helper thread.
    in_memory_limit: u64,
}

/// The file [`Inputs`] (or [`ParallelInputs`], or
/// [`ParallelDocuments`](super::ParallelDocuments)) is reading: the
/// items of a file read whole, or a helper thread's queue (and the
/// thread, joined when its queue ends: a panic there is raised again on
/// the consumer's thread instead of cutting the file short unnoticed).
#[derive(Debug)]
pub(crate) enum Current<T> {
    Idle,
    Buffered(std::vec::IntoIter<T>),
    Streaming(mpsc::Receiver<T>, thread::JoinHandle<()>),
}

impl Inputs {
    /// Lists the event files of `paths` (see [`discover`]); nothing is
    /// parsed until the first call to `next`.
    pub fn new<I, P>(paths: I) -> Inputs
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        Inputs::from_files(discover(paths))
    }

    /// Reads the files of a [`discover`] list (its `Err` entries are
    /// yielded in place).
    pub fn from_files(files: Vec<Result<PathBuf>>) -> Inputs {
        Inputs {
            files: files.into_iter(),
            current: Current::Idle,
            buffer: Vec::new(),
            in_memory_limit: IN_MEMORY_LIMIT,
        }
    }

    /// Sets the size above which a file is parsed from a buffered reader
    /// on a helper thread instead of being read whole (default
    /// [`IN_MEMORY_LIMIT`]). Lower it to bound memory further; 0 streams
    /// every file.
    pub fn in_memory_limit(mut self, bytes: u64) -> Inputs {
        self.in_memory_limit = bytes;
        self
    }

    /// Starts reading `path`.
    fn open(&mut self, path: PathBuf) -> Current<Result<Event>> {
        let limit = self.in_memory_limit;
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        if size <= limit {
            let mut items = Vec::new();
            stream_file_with(&path, &mut self.buffer, limit, |item| {
                items.push(item);
                ControlFlow::Continue(())
            });
            return Current::Buffered(items.into_iter());
        }
        Current::stream_events(path, limit)
    }
}

impl Current<Result<Event>> {
    /// Parses `path` into events on a helper thread.
    fn stream_events(path: PathBuf, in_memory_limit: u64) -> Self {
        Current::stream(path, Err, move |path, send| {
            stream_file_with(path, &mut Vec::new(), in_memory_limit, send);
        })
    }
}

impl<T: Send + 'static> Current<T> {
    /// Runs `parse` on `path` on a helper thread that hands the items it
    /// sends over through a bounded queue (its `send` breaks when the
    /// receiver is gone); `failed` makes the item that says the thread
    /// could not be started.
    pub(crate) fn stream(
        path: PathBuf,
        failed: impl FnOnce(Error) -> T,
        parse: impl FnOnce(&Path, &mut dyn FnMut(T) -> ControlFlow<()>) + Send + 'static,
    ) -> Self {
        let (sender, receiver) = mpsc::sync_channel(STREAM_QUEUE);
        let spawned = thread::Builder::new()
            .name("misp-json-stream".into())
            .spawn({
                let path = path.clone();
                move || {
                    parse(&path, &mut |item| match sender.send(item) {
                        Ok(()) => ControlFlow::Continue(()),
                        Err(_) => ControlFlow::Break(()),
                    });
                }
            });
        match spawned {
            Ok(reader) => Current::Streaming(receiver, reader),
            Err(source) => Current::Buffered(vec![failed(Error::Io { path, source })].into_iter()),
        }
    }
}

impl<T> Current<T> {
    /// The next item of the file being read; `None` when it is done.
    pub(crate) fn next_item(&mut self) -> Option<T> {
        let item = match self {
            Current::Idle => None,
            Current::Buffered(items) => items.next(),
            // `Err`: the reading thread is done.
            Current::Streaming(receiver, _) => receiver.recv().ok(),
        };
        if item.is_none() {
            if let Current::Streaming(_, reader) = std::mem::replace(self, Current::Idle) {
                if let Err(payload) = reader.join() {
                    std::panic::resume_unwind(payload);
                }
            }
        }
        item
    }
}

impl Iterator for Inputs {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(item) = self.current.next_item() {
                return Some(item);
            }
            match self.files.next()? {
                Ok(path) => self.current = self.open(path),
                Err(error) => return Some(Err(error)),
            }
        }
    }
}

/// Every event of `paths`, as [`load`] yields them (same order), with the
/// files parsed in parallel on the rayon pool. Holds all the events (not
/// their JSON) at the end: iterate a [`ParallelInputs`] to hold only a
/// window of them.
pub fn load_parallel<I, P>(paths: I) -> Vec<Result<Event>>
where
    I: IntoIterator<Item = P>,
    P: AsRef<Path>,
{
    ParallelInputs::new(paths).collect()
}

/// Parses one file (up to `in_memory_limit` bytes, read whole) into its
/// items, reusing the calling thread's read buffer.
pub(crate) fn read_items(path: &Path, in_memory_limit: u64) -> Vec<Result<Event>> {
    let mut items = Vec::new();
    with_read_buffer(|buffer| {
        stream_file_with(path, buffer, in_memory_limit, |item| {
            items.push(item);
            ControlFlow::Continue(())
        });
    });
    items
}

thread_local! {
    /// Each thread's buffer for the bytes of the file it parses, kept
    /// from file to file: allocating (and page-faulting) a fresh buffer
    /// per file costs more than one would think next to a fast parser.
    static READ_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's read buffer (a fresh one if it is in use).
pub(crate) fn with_read_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    READ_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buffer) => f(&mut buffer),
        Err(_) => f(&mut Vec::new()),
    })
}

/// An iterator over the events of a set of inputs that yields exactly
/// what [`Inputs`] yields, in the same order, with the files parsed ahead
/// in parallel on the rayon pool.
///
/// A window of the next files (by default 32 files and, past the first,
/// 64 MiB of JSON; see [`read_ahead`](ParallelInputs::read_ahead)) is
/// being parsed at any time, each file by one pool task; the events are
/// handed over in [`discover`] order whatever order the tasks finish in,
/// so a consumer that numbers what it receives (the correlation builder)
/// gets the same numbering on every run. Memory holds the window's
/// events, never the whole input. A file larger than [`IN_MEMORY_LIMIT`]
/// is streamed as [`Inputs`] streams it when its turn comes.
///
/// The consumer never waits for a task that has not started: it parses
/// such a file itself. So it may run anywhere, a rayon pool thread
/// included, and other work may share the pool (the correlation
/// builder's normalisation does) without deadlock. Dropping the iterator
/// cancels the tasks that have not started.
///
/// ```no_run
/// use misp_core::json::{ParallelInputs, discover};
///
/// let files = discover(["feeds/tweetfeed"]);
/// let mut inputs = ParallelInputs::from_files(files);
/// while let Some(item) = inputs.next() {
///     match item {
///         Ok(event) => println!("{} {}", event.uuid, event.attribute_count()),
///         Err(error) => eprintln!("{error}"),
///     }
///     eprint!("\r{} files to go", inputs.files_remaining());
/// }
/// ```
#[derive(Debug)]
pub struct ParallelInputs {
    ahead: ReadAhead<Vec<Result<Event>>>,
    current: Current<Result<Event>>,
    in_memory_limit: u64,
}

impl ParallelInputs {
    /// Lists the event files of `paths` (see [`discover`]); parsing
    /// starts at the first call to `next`.
    pub fn new<I, P>(paths: I) -> ParallelInputs
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        ParallelInputs::from_files(discover(paths))
    }

    /// Reads the files of a [`discover`] list (its `Err` entries are
    /// yielded in place).
    pub fn from_files(files: Vec<Result<PathBuf>>) -> ParallelInputs {
        let limit = IN_MEMORY_LIMIT;
        ParallelInputs {
            ahead: ReadAhead::new(files, limit, move |path| read_items(path, limit)),
            current: Current::Idle,
            in_memory_limit: limit,
        }
    }

    /// Sets the read-ahead window: at most `files` files (at least one)
    /// are parsed ahead of the consumer and, past the first, at most
    /// `bytes` bytes of JSON. A smaller window holds fewer events; one of
    /// a few times the number of threads keeps the pool busy.
    pub fn read_ahead(mut self, files: usize, bytes: u64) -> ParallelInputs {
        self.ahead.set_window(files, bytes);
        self
    }

    /// Sets the size above which a file is streamed from a buffered
    /// reader on a helper thread instead of being read whole (default
    /// [`IN_MEMORY_LIMIT`]), as [`Inputs::in_memory_limit`] does. Set it
    /// before the first call to `next`.
    pub fn in_memory_limit(mut self, bytes: u64) -> ParallelInputs {
        self.in_memory_limit = bytes;
        self.ahead.set_large_above(bytes);
        self
    }

    /// Entries of the file list (files and `Err` entries) whose items
    /// have not all been yielded yet, the one being yielded included: a
    /// progress measure.
    pub fn files_remaining(&self) -> usize {
        self.ahead.remaining() + usize::from(!matches!(self.current, Current::Idle))
    }
}

impl Iterator for ParallelInputs {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            if let Some(item) = self.current.next_item() {
                return Some(item);
            }
            match self.ahead.next_entry()? {
                Next::Read(items) => self.current = Current::Buffered(items.into_iter()),
                Next::Failed(error) => return Some(Err(error)),
                Next::Large(path) => {
                    self.current = Current::stream_events(path, self.in_memory_limit)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::panic::{self, AssertUnwindSafe};

    use super::*;

    /// A panic of the helper thread that streams a file comes out of the
    /// consumer's `next_item` after the items sent before it, instead of
    /// looking like the end of the file.
    #[test]
    fn a_streaming_thread_panic_reaches_the_consumer() {
        let mut current = Current::stream(
            PathBuf::from("feed.json"),
            |_| 0,
            |_, send| {
                for item in 1..=2 {
                    if send(item).is_break() {
                        return;
                    }
                }
                panic!("parser fault");
            },
        );
        assert_eq!(current.next_item(), Some(1));
        assert_eq!(current.next_item(), Some(2));
        let raised = panic::catch_unwind(AssertUnwindSafe(|| current.next_item()))
            .expect_err("the helper thread's panic is raised here");
        assert_eq!(raised.downcast_ref::<&str>(), Some(&"parser fault"));
        assert_eq!(current.next_item(), None);
    }
}
