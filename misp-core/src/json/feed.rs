//! Input walking: MISP feeds, directories of event files, single files.

use std::fmt;
use std::fs;
use std::io::{self, BufReader};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;

use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

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
    current: Current,
    /// The bytes of the last small file, kept for the next one.
    buffer: Vec<u8>,
    /// Files larger than this are parsed on a helper thread.
    in_memory_limit: u64,
}

/// The file [`Inputs`] is reading.
#[derive(Debug)]
enum Current {
    Idle,
    Buffered(std::vec::IntoIter<Result<Event>>),
    Streaming(mpsc::Receiver<Result<Event>>),
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
    fn open(&mut self, path: PathBuf) -> Current {
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
        let (sender, receiver) = mpsc::sync_channel(STREAM_QUEUE);
        let spawned = thread::Builder::new()
            .name("misp-json-stream".into())
            .spawn({
                let path = path.clone();
                move || {
                    stream_file_with(&path, &mut Vec::new(), limit, |item| {
                        match sender.send(item) {
                            Ok(()) => ControlFlow::Continue(()),
                            Err(_) => ControlFlow::Break(()),
                        }
                    });
                }
            });
        match spawned {
            Ok(_) => Current::Streaming(receiver),
            Err(source) => Current::Buffered(vec![Err(Error::Io { path, source })].into_iter()),
        }
    }
}

impl Iterator for Inputs {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Result<Event>> {
        loop {
            match &mut self.current {
                Current::Idle => {}
                Current::Buffered(items) => match items.next() {
                    Some(item) => return Some(item),
                    None => self.current = Current::Idle,
                },
                Current::Streaming(receiver) => match receiver.recv() {
                    Ok(item) => return Some(item),
                    // The reading thread is done.
                    Err(_) => self.current = Current::Idle,
                },
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
/// their JSON) at the end.
pub fn load_parallel<I, P>(paths: I) -> Vec<Result<Event>>
where
    I: IntoIterator<Item = P>,
    P: AsRef<Path>,
{
    map_files_parallel(discover(paths), |items| items)
        .into_iter()
        .flatten()
        .collect()
}

/// Reads each file of a [`discover`] list on the rayon pool and maps its
/// items (events and errors, in document order; an `Err` entry of the
/// list is one item) with `f`. The results are in list order.
pub(crate) fn map_files_parallel<T, F>(files: Vec<Result<PathBuf>>, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(Vec<Result<Event>>) -> T + Sync,
{
    files
        .into_par_iter()
        .map_init(Vec::new, |buffer, file| match file {
            Ok(path) => {
                let mut items = Vec::new();
                stream_file_with(&path, buffer, IN_MEMORY_LIMIT, |item| {
                    items.push(item);
                    ControlFlow::Continue(())
                });
                f(items)
            }
            Err(error) => f(vec![Err(error)]),
        })
        .collect()
}
