//! Reading files ahead on the rayon pool, handing the results over in
//! list order.
//!
//! [`ReadAhead`] walks a [`discover`](super::discover) list. It keeps a
//! window of the next files (at most `max_files` of them and, past the
//! first, at most `max_bytes` of JSON) being read by tasks on the rayon
//! pool, and hands their results to its single consumer strictly in list
//! order, whatever order the tasks finish in. So the output never depends
//! on thread timing, and memory holds at most the window's results.
//!
//! Each file is a [`Slot`] that either a pool task or the consumer takes:
//! when the consumer reaches a file that no task has started yet, it reads
//! it itself instead of waiting. The consumer therefore only ever waits
//! for a task that is already running, which needs no other task to
//! finish: nothing deadlocks, not even a consumer that is itself a pool
//! thread, on a pool of one thread, while the pool is also busy with
//! other work (the correlation builder normalises on it too). Pool tasks
//! never block.
//!
//! A panic in `work` on a pool task is caught there and raised again on
//! the consumer's thread when it reaches that file, as if the consumer had
//! read the file itself: it reaches the caller (and an FFI boundary's
//! guard) instead of aborting the process, which is what rayon does with a
//! panic that escapes a spawned task.

use std::any::Any;
use std::collections::VecDeque;
use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::{Error, Result};

/// Default number of files read ahead.
pub(crate) const READ_AHEAD_FILES: usize = 32;

/// Default bytes of JSON read ahead (the first file of the window always
/// goes, whatever its size).
pub(crate) const READ_AHEAD_BYTES: u64 = 64 << 20;

/// What the consumer gets for one entry of the list.
pub(crate) enum Next<T> {
    /// The result of reading one file.
    Read(T),
    /// An `Err` entry of the list.
    Failed(Error),
    /// A file larger than the streaming threshold, left to the consumer.
    Large(PathBuf),
}

/// The state of one file of the window.
#[derive(Debug)]
enum State<T> {
    /// Not started: whoever takes the path reads the file.
    Queued(PathBuf),
    /// A pool task is reading it.
    Running,
    /// Read; waiting for the consumer.
    Done(T),
    /// `work` panicked on the pool task; the consumer raises it again.
    Panicked(Box<dyn Any + Send>),
    /// Taken by the consumer, or given up when the reader was dropped.
    Gone,
}

/// One file of the window, shared by its task and the consumer.
#[derive(Debug)]
struct Slot<T> {
    state: Mutex<Shared<T>>,
    done: Condvar,
}

/// What the lock of a [`Slot`] guards.
#[derive(Debug)]
struct Shared<T> {
    state: State<T>,
    /// Whether the consumer waits on `done` (a notification costs a
    /// system call, which most files never need).
    waiting: bool,
}

/// One entry of the window.
#[derive(Debug)]
enum Entry<T> {
    Failed(Error),
    Read { slot: Arc<Slot<T>>, bytes: u64 },
    Large(PathBuf),
}

/// Reads a file list ahead on the rayon pool with `work`, yielding the
/// results in list order (see the module documentation).
pub(crate) struct ReadAhead<T> {
    files: std::vec::IntoIter<Result<PathBuf>>,
    window: VecDeque<Entry<T>>,
    /// Bytes of the files of the window that are read by tasks.
    bytes_ahead: u64,
    max_files: usize,
    max_bytes: u64,
    /// Files larger than this are [`Next::Large`] instead of being read
    /// by `work`.
    large_above: u64,
    work: Arc<dyn Fn(&Path) -> T + Send + Sync>,
}

impl<T> std::fmt::Debug for ReadAhead<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadAhead")
            .field("files_left", &self.files.len())
            .field("window", &self.window.len())
            .field("bytes_ahead", &self.bytes_ahead)
            .field("max_files", &self.max_files)
            .field("max_bytes", &self.max_bytes)
            .field("large_above", &self.large_above)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Send + 'static> ReadAhead<T> {
    /// Reads `files` with `work`, files larger than `large_above` bytes
    /// excepted.
    pub(crate) fn new(
        files: Vec<Result<PathBuf>>,
        large_above: u64,
        work: impl Fn(&Path) -> T + Send + Sync + 'static,
    ) -> ReadAhead<T> {
        ReadAhead {
            files: files.into_iter(),
            window: VecDeque::new(),
            bytes_ahead: 0,
            max_files: READ_AHEAD_FILES,
            max_bytes: READ_AHEAD_BYTES,
            large_above,
            work: Arc::new(work),
        }
    }

    /// Sets the window: at most `files` files (at least one) and, past
    /// the first, `bytes` bytes of JSON.
    pub(crate) fn set_window(&mut self, files: usize, bytes: u64) {
        self.max_files = files.max(1);
        self.max_bytes = bytes;
    }

    /// Changes the streaming threshold (for files not yet in the window).
    pub(crate) fn set_large_above(&mut self, bytes: u64) {
        self.large_above = bytes;
    }

    /// Files of the list not yet handed to the consumer.
    pub(crate) fn remaining(&self) -> usize {
        self.files.len() + self.window.len()
    }

    /// Tops the window up, starting a task for each new file.
    fn fill(&mut self) {
        while self.window.len() < self.max_files
            && (self.bytes_ahead == 0 || self.bytes_ahead < self.max_bytes)
        {
            let Some(file) = self.files.next() else {
                return;
            };
            let path = match file {
                Ok(path) => path,
                Err(error) => {
                    self.window.push_back(Entry::Failed(error));
                    continue;
                }
            };
            // A file that cannot be examined is read by `work`, which
            // reports why.
            let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            if bytes > self.large_above {
                self.window.push_back(Entry::Large(path));
                continue;
            }
            let slot = Arc::new(Slot {
                state: Mutex::new(Shared {
                    state: State::Queued(path),
                    waiting: false,
                }),
                done: Condvar::new(),
            });
            let task_slot = Arc::clone(&slot);
            let work = Arc::clone(&self.work);
            rayon::spawn(move || run_task(&task_slot, &*work));
            // Count an empty file as one byte so that the first file of
            // the window is told apart from none.
            self.bytes_ahead += bytes.max(1);
            self.window.push_back(Entry::Read { slot, bytes });
        }
    }

    /// The next entry of the list, in list order.
    pub(crate) fn next_entry(&mut self) -> Option<Next<T>> {
        loop {
            self.fill();
            let entry = self.window.pop_front()?;
            match entry {
                Entry::Failed(error) => return Some(Next::Failed(error)),
                Entry::Large(path) => return Some(Next::Large(path)),
                Entry::Read { slot, bytes } => {
                    self.bytes_ahead = self.bytes_ahead.saturating_sub(bytes.max(1));
                    // Keep the pool busy while this file is consumed.
                    self.fill();
                    if let Some(result) = self.take(&slot) {
                        return Some(Next::Read(result));
                    }
                }
            }
        }
    }

    /// The result of `slot`: read here if no task has started it, else
    /// waited for. `None` only for a slot already taken, which the
    /// consumer never asks for twice.
    fn take(&self, slot: &Slot<T>) -> Option<T> {
        let mut shared = lock(&slot.state);
        loop {
            match std::mem::replace(&mut shared.state, State::Gone) {
                State::Done(result) => return Some(result),
                State::Panicked(payload) => {
                    drop(shared);
                    panic::resume_unwind(payload)
                }
                State::Queued(path) => {
                    drop(shared);
                    return Some((self.work)(&path));
                }
                State::Running => {
                    shared.state = State::Running;
                    shared.waiting = true;
                    shared = slot
                        .done
                        .wait(shared)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                State::Gone => return None,
            }
        }
    }
}

/// A pool task: reads the slot's file unless the consumer took it first.
fn run_task<T>(slot: &Slot<T>, work: &(dyn Fn(&Path) -> T + Send + Sync)) {
    let path = {
        let mut shared = lock(&slot.state);
        match std::mem::replace(&mut shared.state, State::Running) {
            State::Queued(path) => path,
            other => {
                shared.state = other;
                return;
            }
        }
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| work(&path)));
    let mut shared = lock(&slot.state);
    shared.state = match result {
        Ok(result) => State::Done(result),
        Err(payload) => State::Panicked(payload),
    };
    if shared.waiting {
        slot.done.notify_all();
    }
}

impl<T> Drop for ReadAhead<T> {
    fn drop(&mut self) {
        // Tasks not started yet have nothing to do.
        for entry in &self.window {
            if let Entry::Read { slot, .. } = entry {
                let mut shared = lock(&slot.state);
                if matches!(shared.state, State::Queued(_)) {
                    shared.state = State::Gone;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A panic of `work` in a pool task reaches the consumer when it gets
    /// to that file (rayon would abort the process on a panic escaping a
    /// spawned task), and the files after it are still handed over.
    #[test]
    fn a_panic_on_the_pool_is_raised_on_the_consumer() {
        let started = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&started);
        let files = ["a", "b", "c"].map(|name| Ok(PathBuf::from(name)));
        let mut ahead = ReadAhead::new(files.into(), u64::MAX, move |path: &Path| {
            counter.fetch_add(1, Ordering::SeqCst);
            assert_ne!(path, Path::new("b"), "work panics on b");
            path.to_path_buf()
        });
        let Some(Next::Read(first)) = ahead.next_entry() else {
            panic!("a is read");
        };
        assert_eq!(first, Path::new("a"));
        // Every file has been started, so b's panic happened on a pool
        // task, not on this thread.
        while started.load(Ordering::SeqCst) < 3 {
            std::thread::yield_now();
        }
        let raised = panic::catch_unwind(AssertUnwindSafe(|| ahead.next_entry()))
            .err()
            .expect("b's panic is raised here");
        let message = raised
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        assert!(message.contains("work panics on b"), "{message}");
        let Some(Next::Read(last)) = ahead.next_entry() else {
            panic!("c is read");
        };
        assert_eq!(last, Path::new("c"));
        assert!(ahead.next_entry().is_none());
    }
}
