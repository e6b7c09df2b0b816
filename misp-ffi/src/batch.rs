//! A batch check fed in parts: each part is checked on the thread pool in
//! the background while the caller prepares the next one.
//!
//! `misp_warninglists_check_batch_packed` can only start checking once the
//! caller has built the whole input, so a caller whose own preparation is
//! slow (a Python loop encoding its strings) leaves the pool idle during
//! it, then waits for the whole check. A [`misp_warninglists_batch`]
//! overlaps the two: `misp_warninglists_batch_push` copies a part and
//! hands it to the pool (splitting, UTF-8 checks and matching all happen
//! there, in parallel, as for one call), and returns at once;
//! `misp_warninglists_batch_finish` waits for the parts and joins their
//! results, in push order, into exactly the packed result one call over
//! all the parts would have returned.
//!
//! The parts hold the lists' shared state (`Arc`), so they stay valid even
//! if the lists handle is freed while they run; each part takes the
//! lists' read lock while it checks, so a part sees either all of a
//! concurrent change or none of it. A panic in a part is caught on the
//! pool thread and reported by `finish` as `MISP_ERR_PANIC`.

use std::ffi::c_char;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock};

use crate::error::{FfiError, misp_result};
use crate::handle::{self, Handle, Out};
use crate::packed::{self, PackedView};
use crate::pairs::BatchInput;
use crate::panic::{catch, guard, guard_or};
use crate::warninglist::{self, State, misp_warninglists};

/// A batch check fed in parts: an opaque handle.
///
/// Created by `misp_warninglists_batch_new`, fed by
/// `misp_warninglists_batch_push`, read by `misp_warninglists_batch_finish`
/// and freed by `misp_warninglists_batch_free`. Not to be used from two
/// threads at once; it may move between threads.
pub struct misp_warninglists_batch {
    _private: [u8; 0],
}

impl Handle for misp_warninglists_batch {
    type Rust = BackgroundBatch;
}

/// The result of one pushed part: its chunks' hits.
type PartResult = Result<Vec<PackedView<'static>>, FfiError>;

/// The value behind a [`misp_warninglists_batch`] handle.
pub(crate) struct BackgroundBatch {
    state: Arc<RwLock<State>>,
    parts: Arc<Parts>,
}

/// The parts pushed since the last finish, shared with their tasks.
#[derive(Default)]
struct Parts {
    /// Each part's result, in push order; `None` until its task has
    /// finished.
    results: Mutex<Vec<Option<PartResult>>>,
    /// Signalled each time a part's result arrives.
    arrived: Condvar,
}

impl Parts {
    /// The results; a task never panics while holding them, so a poisoned
    /// lock still holds consistent results.
    fn lock(&self) -> MutexGuard<'_, Vec<Option<PartResult>>> {
        self.results.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl BackgroundBatch {
    fn new(state: Arc<RwLock<State>>) -> BackgroundBatch {
        BackgroundBatch {
            state,
            parts: Arc::default(),
        }
    }

    /// Starts checking `bytes` (`count` strings, with lengths `lens` or
    /// NUL-separated) on the pool.
    fn push(&mut self, bytes: Vec<u8>, lens: Option<Vec<usize>>, count: usize) {
        let part = {
            let mut results = self.parts.lock();
            results.push(None);
            results.len() - 1
        };
        let state = Arc::clone(&self.state);
        let parts = Arc::clone(&self.parts);
        rayon::spawn(move || {
            let result =
                catch(|| check_part(&state, &bytes, lens.as_deref(), count)).map_err(|error| {
                    FfiError::new(error.code, format!("part {part}: {}", error.message))
                });
            if let Some(slot) = parts.lock().get_mut(part) {
                *slot = Some(result);
            }
            parts.arrived.notify_all();
        });
    }

    /// Waits for every part pushed since the last finish and joins their
    /// results in push order; the batch is then empty. The first failed
    /// part (in push order) is the error.
    fn finish(&mut self) -> Result<(*mut c_char, usize), FfiError> {
        let results = {
            let mut results = self.parts.lock();
            while results.iter().any(Option::is_none) {
                results = self
                    .parts
                    .arrived
                    .wait(results)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            std::mem::take(&mut *results)
        };
        let mut views = Vec::new();
        for result in results.into_iter().flatten() {
            views.extend(result?);
        }
        packed::concat(&views)
    }
}

/// Checks one part: the body of a background task.
fn check_part(
    state: &RwLock<State>,
    bytes: &[u8],
    lens: Option<&[usize]>,
    count: usize,
) -> Result<Vec<PackedView<'static>>, FfiError> {
    let input = BatchInput::new(bytes, lens, count, "strings")?;
    let state = state.read().map_err(|_| warninglist::poisoned())?;
    let views = warninglist::packed_chunks(&state.checker, &input)?;
    Ok(views.into_iter().map(PackedView::into_owned).collect())
}

/// Starts a batch check over `lists` that is fed in parts.
///
/// On success `*out_batch` receives a new, empty batch, owned by the
/// caller and freed with `misp_warninglists_batch_free`. The batch shares
/// the lists: it stays usable even after `lists` is freed, and its checks
/// see the lists as they are when each part is checked (a list enabled,
/// disabled or added meanwhile counts for the parts checked after it).
///
/// Ownership: `lists` is borrowed for the call only.
///
/// Thread safety: as `misp_warninglists_check`.
///
/// # Errors
///
/// `MISP_ERR_NULL` when `lists` or `out_batch` is NULL.
///
/// # Safety
///
/// `lists` must be a live handle; `out_batch` valid for one write.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_batch_new(
    lists: *const misp_warninglists,
    out_batch: *mut *mut misp_warninglists_batch,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (lists, out) = unsafe {
            (
                handle::as_ref(lists, "lists")?,
                Out::new(out_batch, "out_batch")?,
            )
        };
        out.write(handle::into_raw(BackgroundBatch::new(lists.shared_state())));
        Ok(())
    })
}

/// Adds a part to `batch`: `(type, value)` pairs laid out as for
/// `misp_warninglists_check_batch` (`lens` NULL for NUL-separated
/// strings). The part is copied and checked on the library's thread pool
/// in the background; the call returns without waiting for it.
///
/// A part's own problems (a string count that is odd or does not match,
/// lengths that do not add up, a string that is not UTF-8) are reported
/// by `misp_warninglists_batch_finish`, naming the part (`part <i>`,
/// counted from 0 since the last finish) and the string in it.
///
/// Ownership: every argument is borrowed for the call only (the part is
/// copied).
///
/// Thread safety: the batch must not be used from another thread during
/// the call.
///
/// # Errors
///
/// `MISP_ERR_NULL` when `batch` or `strings` is NULL (a NULL `lens`
/// means NUL-separated strings). Every other problem of the part is
/// reported by `misp_warninglists_batch_finish`.
///
/// # Safety
///
/// `batch` must be a live batch; `strings` valid for `strings_len` bytes;
/// `lens` NULL or valid for `lens_len` `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_batch_push(
    batch: *mut misp_warninglists_batch,
    strings: *const c_char,
    strings_len: usize,
    lens: *const usize,
    lens_len: usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (batch, bytes, lens) = unsafe {
            (
                handle::as_mut(batch, "batch")?,
                handle::bytes_arg(strings.cast::<u8>(), strings_len, "strings")?,
                if lens.is_null() {
                    None
                } else {
                    Some(handle::slice_arg(lens, lens_len, "strings_lens")?)
                },
            )
        };
        batch.push(bytes.to_vec(), lens.map(<[usize]>::to_vec), lens_len);
        Ok(())
    })
}

/// Waits for every part pushed to `batch` since it was made (or last
/// finished) and returns their hits in the packed layout of
/// `misp_warninglists_check_batch_packed`: the queries of the parts in
/// push order, exactly as one call over all of them would return. The
/// batch is then empty and can be fed again.
///
/// `*out_packed` receives `*out_len` bytes, freed by the caller with
/// `misp_string_free`. With no part pushed, the result has no query.
///
/// Ownership: `batch` is borrowed for the call only.
///
/// Thread safety: the batch must not be used from another thread during
/// the call.
///
/// # Errors
///
/// * `MISP_ERR_NULL`: `batch` or an out-parameter is NULL.
/// * The first failed part's error, in push order, its message starting
///   with `part <i>: `: `MISP_ERR_INVALID` (counts, lengths),
///   `MISP_ERR_UTF8`, `MISP_ERR_POISONED` (the lists were damaged by an
///   earlier panic), `MISP_ERR_PANIC`. Every part is waited for even
///   then, and the batch is empty afterwards.
/// * `MISP_ERR_INVALID` when the result would not fit 32-bit offsets.
///
/// # Safety
///
/// `batch` must be a live batch; `out_packed` and `out_len` valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_batch_finish(
    batch: *mut misp_warninglists_batch,
    out_packed: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointers per `# Safety`.
        let (batch, out, out_len) = unsafe {
            (
                handle::as_mut(batch, "batch")?,
                Out::new(out_packed, "out_packed")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let (bytes, len) = batch.finish()?;
        out.write(bytes);
        out_len.write(len);
        Ok(())
    })
}

/// Frees a batch. Parts still being checked finish on the pool and their
/// results are dropped. NULL is a no-op; must not be called twice with
/// the same batch.
///
/// # Safety
///
/// `batch` must be NULL or a batch from `misp_warninglists_batch_new` not
/// yet freed, and not in use by another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_warninglists_batch_free(batch: *mut misp_warninglists_batch) {
    // SAFETY: forwarded contract.
    guard_or((), || unsafe { handle::free(batch) })
}

#[cfg(test)]
mod tests {
    use std::ptr;

    use super::*;
    use crate::panic::tests_last_error;
    use crate::warninglist::misp_warninglists_free;
    use crate::warninglist::tests::{
        PAIRS, batch_inputs, decode_packed, load, owned_result, packed_bytes,
    };

    fn new_batch(lists: *const misp_warninglists) -> *mut misp_warninglists_batch {
        let mut batch = ptr::null_mut();
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_batch_new(lists, &mut batch) };
        assert_eq!(r, misp_result::MISP_OK);
        batch
    }

    /// Pushes `pairs` with lengths, or NUL-separated.
    fn push(batch: *mut misp_warninglists_batch, pairs: &[(&str, &str)], with_lens: bool) {
        let (data, lens) = batch_inputs(pairs);
        let r = if with_lens {
            // SAFETY: valid pointers and lengths.
            unsafe {
                misp_warninglists_batch_push(
                    batch,
                    data.as_ptr().cast(),
                    data.len(),
                    lens.as_ptr(),
                    lens.len(),
                )
            }
        } else {
            let joined: Vec<&str> = pairs.iter().flat_map(|&(t, v)| [t, v]).collect();
            let joined = joined.join("\0");
            // SAFETY: valid pointers; NULL lens selects NUL-separated strings.
            unsafe {
                misp_warninglists_batch_push(
                    batch,
                    joined.as_ptr().cast(),
                    joined.len(),
                    ptr::null(),
                    2 * pairs.len(),
                )
            }
        };
        assert_eq!(r, misp_result::MISP_OK);
    }

    fn finish(batch: *mut misp_warninglists_batch) -> Result<Vec<u8>, misp_result> {
        let (mut out, mut len) = (ptr::null_mut(), 0);
        // SAFETY: valid pointers.
        let r = unsafe { misp_warninglists_batch_finish(batch, &mut out, &mut len) };
        owned_result(r, out, len)
    }

    /// Every cut of the pairs into three pushed parts (empty parts
    /// included, both layouts) finishes into exactly the bytes of one
    /// `misp_warninglists_check_batch_packed` call, and a finished batch
    /// can be fed again.
    #[test]
    fn pushed_parts_finish_into_the_one_call_result() {
        let lists = load(0);
        let whole = packed_bytes(lists, &PAIRS);
        let batch = new_batch(lists);
        for a in 0..=PAIRS.len() {
            for b in a..=PAIRS.len() {
                for (k, part) in [&PAIRS[..a], &PAIRS[a..b], &PAIRS[b..]]
                    .into_iter()
                    .enumerate()
                {
                    push(batch, part, (a + b + k) % 2 == 0);
                }
                assert_eq!(finish(batch).unwrap(), whole, "cut at {a}, {b}");
            }
        }
        // Nothing pushed: the result of an empty batch.
        assert_eq!(finish(batch).unwrap(), packed_bytes(lists, &[]));
        // Many parts, more than the pool has threads, in order.
        let many: Vec<(&str, &str)> = PAIRS.iter().copied().cycle().take(8 * 50).collect();
        for part in many.chunks(8) {
            push(batch, part, false);
        }
        assert_eq!(finish(batch).unwrap(), packed_bytes(lists, &many));
        // SAFETY: freed once each.
        unsafe {
            misp_warninglists_batch_free(batch);
            misp_warninglists_free(lists);
        }
    }

    /// A bad part fails `finish` with its error, naming the part; the
    /// batch is then empty and usable.
    #[test]
    fn a_bad_part_is_reported_by_finish() {
        let lists = load(0);
        let batch = new_batch(lists);
        push(batch, &PAIRS[..2], true);
        let bad = b"md5\0\xff\xfe";
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_batch_push(batch, bad.as_ptr().cast(), bad.len(), ptr::null(), 2)
        };
        assert_eq!(r, misp_result::MISP_OK, "problems wait for finish");
        // Three NUL-separated strings announced as four.
        let short = "md5\0a\0domain";
        // SAFETY: valid pointers.
        let r = unsafe {
            misp_warninglists_batch_push(batch, short.as_ptr().cast(), short.len(), ptr::null(), 4)
        };
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(finish(batch), Err(misp_result::MISP_ERR_UTF8));
        let message = tests_last_error();
        assert!(message.starts_with("part 1: "), "{message}");
        assert!(message.contains("strings[1]"), "{message}");
        push(batch, &PAIRS, true);
        assert_eq!(finish(batch).unwrap(), packed_bytes(lists, &PAIRS));
        // NULL arguments.
        // SAFETY: NULL pointers are refused before use.
        unsafe {
            let mut out = ptr::null_mut();
            assert_eq!(
                misp_warninglists_batch_new(ptr::null(), &mut out),
                misp_result::MISP_ERR_NULL
            );
            assert_eq!(
                misp_warninglists_batch_push(
                    ptr::null_mut(),
                    "a".as_ptr().cast(),
                    1,
                    ptr::null(),
                    1
                ),
                misp_result::MISP_ERR_NULL
            );
            assert_eq!(
                misp_warninglists_batch_push(batch, ptr::null(), 0, ptr::null(), 0),
                misp_result::MISP_ERR_NULL
            );
            let mut len = 0;
            assert_eq!(
                misp_warninglists_batch_finish(batch, ptr::null_mut(), &mut len),
                misp_result::MISP_ERR_NULL
            );
            misp_warninglists_batch_free(ptr::null_mut());
            misp_warninglists_batch_free(batch);
            misp_warninglists_free(lists);
        }
    }

    /// A batch keeps the lists it checks alive: freeing the lists handle
    /// (or the batch, unfinished) while parts run is safe.
    #[test]
    fn a_batch_outlives_its_lists_handle() {
        let lists = load(0);
        let expected = decode_packed(&packed_bytes(lists, &PAIRS));
        let batch = new_batch(lists);
        let unfinished = new_batch(lists);
        push(batch, &PAIRS, true);
        push(unfinished, &PAIRS, false);
        // SAFETY: freed once each; the batches hold the lists' state.
        unsafe {
            misp_warninglists_free(lists);
            misp_warninglists_batch_free(unfinished);
        }
        push(batch, &PAIRS[..1], false);
        let result = decode_packed(&finish(batch).unwrap());
        assert_eq!(result[..PAIRS.len()], expected[..]);
        assert_eq!(result[PAIRS.len()], expected[0]);
        // SAFETY: freed once.
        unsafe { misp_warninglists_batch_free(batch) };
    }
}
