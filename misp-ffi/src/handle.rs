//! Every conversion between C pointers and Rust values.
//!
//! All pointer casts of the crate live in this module, each behind a
//! function whose contract is written down once:
//!
//! * [`Handle`] ties an opaque C type (`misp_engine`, …) to the Rust value
//!   it stands for. A handle is a `Box` turned into a raw pointer by
//!   [`into_raw`], borrowed by [`as_ref`], and dropped by [`free`].
//! * [`str_arg`] and [`bytes_arg`] borrow `(pointer, length)` inputs,
//!   turning NULL into `MISP_ERR_NULL` and invalid UTF-8 into
//!   `MISP_ERR_UTF8`, each message naming the argument.
//! * [`Out`] is a checked out-parameter: it is validated (non-NULL) before
//!   any work is done, and written only once the work has succeeded, so
//!   out-parameters are never partially written.
//! * [`owned_json`] and [`owned_text`] hand library-owned strings to C;
//!   [`free_owned_string`] takes them back (`misp_string_free`).

use std::ffi::c_char;
use std::ptr::{self, NonNull};

use crate::error::{FfiError, misp_result};

/// An opaque C type and the Rust value behind it.
///
/// The C type is a zero-sized struct that C only ever sees behind a
/// pointer; the pointer really points at a boxed [`Handle::Rust`].
pub(crate) trait Handle {
    /// The Rust value a pointer to `Self` points at.
    type Rust;
}

/// Boxes `value` and returns it as a C handle owned by the caller.
pub(crate) fn into_raw<H: Handle>(value: H::Rust) -> *mut H {
    Box::into_raw(Box::new(value)).cast()
}

/// Borrows the value behind handle `ptr`, or fails with `MISP_ERR_NULL`
/// naming `argument`.
///
/// # Safety
///
/// `ptr` must be NULL or a pointer returned by [`into_raw`] for the same
/// `H` that has not been freed, and it must stay valid for `'a`.
pub(crate) unsafe fn as_ref<'a, H: Handle>(
    ptr: *const H,
    argument: &str,
) -> Result<&'a H::Rust, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: by the contract, a non-NULL `ptr` came from `into_raw::<H>`,
    // i.e. it points at a live, boxed `H::Rust`.
    Ok(unsafe { &*ptr.cast::<H::Rust>() })
}

/// Mutably borrows the value behind handle `ptr`, or fails with
/// `MISP_ERR_NULL` naming `argument`.
///
/// # Safety
///
/// As [`as_ref`], and no other reference to the value may exist for `'a`
/// (the caller must not use the handle from another thread meanwhile).
pub(crate) unsafe fn as_mut<'a, H: Handle>(
    ptr: *mut H,
    argument: &str,
) -> Result<&'a mut H::Rust, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: by the contract, a non-NULL `ptr` came from `into_raw::<H>`
    // and is not aliased for 'a.
    Ok(unsafe { &mut *ptr.cast::<H::Rust>() })
}

/// Borrows the plain C struct at `ptr`, or fails with `MISP_ERR_NULL`
/// naming `argument`.
///
/// # Safety
///
/// A non-NULL `ptr` must point to a valid, aligned `T` for `'a`.
pub(crate) unsafe fn plain_ref<'a, T>(ptr: *const T, argument: &str) -> Result<&'a T, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: non-NULL (checked), valid and aligned for 'a (the contract).
    Ok(unsafe { &*ptr })
}

/// Takes back ownership of the value behind handle `ptr`, or fails with
/// `MISP_ERR_NULL` naming `argument`.
///
/// # Safety
///
/// `ptr` must be NULL or a pointer returned by [`into_raw`] for the same
/// `H` that has not been freed; it must not be used afterwards.
pub(crate) unsafe fn take<H: Handle>(ptr: *mut H, argument: &str) -> Result<H::Rust, FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: by the contract, `ptr` came from `Box::into_raw` of a
    // `Box<H::Rust>` in `into_raw` and is given up by the caller.
    Ok(*unsafe { Box::from_raw(ptr.cast::<H::Rust>()) })
}

/// Drops the value behind handle `ptr`; NULL is a no-op.
///
/// # Safety
///
/// `ptr` must be NULL or a pointer returned by [`into_raw`] for the same
/// `H` that has not been freed; it must not be used afterwards.
pub(crate) unsafe fn free<H: Handle>(ptr: *mut H) {
    if !ptr.is_null() {
        // SAFETY: see `take`; the value is dropped here.
        drop(unsafe { Box::from_raw(ptr.cast::<H::Rust>()) });
    }
}

/// Borrows `len` bytes at `ptr`, or fails with `MISP_ERR_NULL` naming
/// `argument` when `ptr` is NULL (even for `len == 0`).
///
/// # Safety
///
/// A non-NULL `ptr` must be valid for reads of `len` bytes for `'a`, and
/// the bytes must not be modified during `'a`.
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    argument: &str,
) -> Result<&'a [u8], FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: non-NULL (checked), valid for `len` bytes and unmodified
    // for 'a (the contract); u8 has alignment 1.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows `len` bytes at `ptr` as UTF-8 text, failing with
/// `MISP_ERR_NULL` or `MISP_ERR_UTF8` naming `argument`.
///
/// # Safety
///
/// As [`bytes_arg`].
pub(crate) unsafe fn str_arg<'a>(
    ptr: *const c_char,
    len: usize,
    argument: &str,
) -> Result<&'a str, FfiError> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_arg(ptr.cast::<u8>(), len, argument) }?;
    std::str::from_utf8(bytes).map_err(|e| {
        FfiError::new(
            misp_result::MISP_ERR_UTF8,
            format!(
                "argument `{argument}` is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// Borrows `len` values of `T` at `ptr`, failing with `MISP_ERR_NULL`
/// naming `argument` when `ptr` is NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must be aligned and valid for reads of `len` values of
/// `T` for `'a`, unmodified during `'a`.
pub(crate) unsafe fn slice_arg<'a, T>(
    ptr: *const T,
    len: usize,
    argument: &str,
) -> Result<&'a [T], FfiError> {
    if ptr.is_null() {
        return Err(FfiError::null(argument));
    }
    // SAFETY: non-NULL (checked), aligned and valid for `len` values for
    // 'a (the contract).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A borrowed UTF-8 string: `len` bytes at `data`, not NUL-terminated.
///
/// Used for lists of strings (paths, exclusions). `data` must not be NULL,
/// even when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct misp_str {
    /// The first byte.
    pub data: *const c_char,
    /// The length in bytes.
    pub len: usize,
}

impl From<&str> for misp_str {
    /// Borrows `text` (for Rust callers and tests; the `misp_str` must not
    /// outlive it).
    fn from(text: &str) -> misp_str {
        misp_str {
            data: text.as_ptr().cast(),
            len: text.len(),
        }
    }
}

/// Borrows a list of `len` [`misp_str`] at `ptr` as `&str`s, failing with
/// `MISP_ERR_NULL` or `MISP_ERR_UTF8` naming `argument[index]`.
///
/// # Safety
///
/// A non-NULL `ptr` must be valid for reads of `len` `misp_str` for `'a`,
/// each of whose `data` is NULL or valid for `len` bytes for `'a`.
pub(crate) unsafe fn str_list_arg<'a>(
    ptr: *const misp_str,
    len: usize,
    argument: &str,
) -> Result<Vec<&'a str>, FfiError> {
    // SAFETY: forwarded contract.
    let items = unsafe { slice_arg(ptr, len, argument) }?;
    items
        .iter()
        .enumerate()
        // SAFETY: forwarded contract (each item's data/len).
        .map(|(i, item)| unsafe { str_arg(item.data, item.len, &format!("{argument}[{i}]")) })
        .collect()
}

/// A checked out-parameter: non-NULL, and written at most once.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Checks out-parameter `ptr`, failing with `MISP_ERR_NULL` naming
    /// `argument`. Nothing is written yet.
    ///
    /// # Safety
    ///
    /// A non-NULL `ptr` must be valid for a write of one `T` (aligned; it
    /// may be uninitialised) until the exported function returns.
    pub(crate) unsafe fn new(ptr: *mut T, argument: &str) -> Result<Out<T>, FfiError> {
        NonNull::new(ptr)
            .map(Out)
            .ok_or_else(|| FfiError::null(argument))
    }

    /// Writes `value`, without reading or dropping what was there (C's
    /// out-parameters are usually uninitialised).
    pub(crate) fn write(self, value: T) {
        // SAFETY: `Out::new`'s contract: valid and aligned for one write
        // for the duration of the exported call, which is still running.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Bytes in front of a library-owned string that hold its length.
const LENGTH_PREFIX: usize = size_of::<usize>();

/// A library-owned string being written: `[length][text][NUL]`.
struct OwnedString(Vec<u8>);

impl OwnedString {
    fn new(capacity: usize) -> OwnedString {
        let mut buf = Vec::with_capacity(LENGTH_PREFIX + capacity + 1);
        buf.extend_from_slice(&[0; LENGTH_PREFIX]);
        OwnedString(buf)
    }

    /// Terminates the text and hands the allocation to C as `(text, len)`.
    fn into_raw(mut self) -> (*mut c_char, usize) {
        let len = self.0.len() - LENGTH_PREFIX;
        self.0[..LENGTH_PREFIX].copy_from_slice(&len.to_ne_bytes());
        self.0.push(0);
        let base: *mut u8 = Box::into_raw(self.0.into_boxed_slice()).cast();
        // SAFETY: the allocation is LENGTH_PREFIX + len + 1 bytes long, so
        // `base + LENGTH_PREFIX` is inside it.
        (unsafe { base.add(LENGTH_PREFIX) }.cast(), len)
    }
}

/// Serializes `value` as JSON into a library-owned, NUL-terminated string
/// for C, returned as `(text, length without NUL)`.
///
/// serde_json escapes control characters, so the text has no interior NUL.
pub(crate) fn owned_json<T: serde::Serialize + ?Sized>(
    value: &T,
) -> Result<(*mut c_char, usize), FfiError> {
    let mut owned = OwnedString::new(256);
    write_json(&mut owned.0, value)?;
    Ok(owned.into_raw())
}

/// Appends `value` as JSON to `out` (no raw NUL: serde_json escapes
/// control characters).
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), FfiError> {
    serde_json::to_writer(out, value).map_err(|e| {
        FfiError::new(
            misp_result::MISP_ERR_JSON,
            format!("cannot serialize result: {e}"),
        )
    })
}

/// Copies `text` into a library-owned, NUL-terminated string for C,
/// returned as `(text, length without NUL)`. `text` may itself contain NUL
/// bytes; the length is authoritative.
pub(crate) fn owned_text(text: &str) -> (*mut c_char, usize) {
    let mut owned = OwnedString::new(text.len());
    owned.0.extend_from_slice(text.as_bytes());
    owned.into_raw()
}

/// A library-owned binary buffer of about `capacity` bytes written by
/// `write` (which appends to the vector it is given), returned as
/// `(bytes, length)` and freed like a string (it is also NUL-terminated).
pub(crate) fn owned_bytes(
    capacity: usize,
    write: impl FnOnce(&mut Vec<u8>),
) -> (*mut c_char, usize) {
    let mut owned = OwnedString::new(capacity);
    write(&mut owned.0);
    owned.into_raw()
}

/// Frees a string made by [`owned_json`], [`owned_text`] or
/// [`owned_bytes`]; NULL is a
/// no-op.
///
/// # Safety
///
/// `text` must be NULL or a pointer returned by `owned_json`/`owned_text`
/// that has not been freed.
pub(crate) unsafe fn free_owned_string(text: *mut c_char) {
    if text.is_null() {
        return;
    }
    // SAFETY: `text` came from `OwnedString::into_raw`, so the
    // LENGTH_PREFIX bytes before it are the start of the same allocation.
    let base = unsafe { text.cast::<u8>().sub(LENGTH_PREFIX) };
    let mut len = [0u8; LENGTH_PREFIX];
    // SAFETY: `base` is valid for LENGTH_PREFIX bytes of reads (the length
    // prefix written by `into_raw`); `len` is a separate local array.
    unsafe { ptr::copy_nonoverlapping(base, len.as_mut_ptr(), LENGTH_PREFIX) };
    let total = LENGTH_PREFIX + usize::from_ne_bytes(len) + 1;
    // SAFETY: `base` and `total` are exactly the pointer and length of the
    // `Box<[u8]>` leaked by `into_raw`.
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(base, total)) });
}

/// Copies `bytes` to `dst` followed by a NUL.
///
/// # Safety
///
/// `dst` must be valid for writes of `bytes.len() + 1` bytes and must not
/// overlap `bytes`.
pub(crate) unsafe fn copy_to_c_buffer(bytes: &[u8], dst: *mut c_char) {
    let dst = dst.cast::<u8>();
    // SAFETY: `dst` is valid for `bytes.len() + 1` writes and does not
    // overlap `bytes` (the contract).
    unsafe {
        ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        dst.add(bytes.len()).write(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn owned_text_round_trips_with_a_nul_terminator() {
        for text in ["", "a", "héllo wörld", "with\0nul"] {
            let (ptr, len) = owned_text(text);
            assert_eq!(len, text.len());
            // SAFETY: owned_text returns len bytes followed by a NUL.
            let bytes = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len + 1) };
            assert_eq!(&bytes[..len], text.as_bytes());
            assert_eq!(bytes[len], 0);
            // SAFETY: ptr came from owned_text and is freed once.
            unsafe { free_owned_string(ptr) };
        }
    }

    #[test]
    fn owned_json_is_nul_terminated_json() {
        let (ptr, len) = owned_json(&serde_json::json!({"a": [1, "x\u{0}y"]})).unwrap();
        // SAFETY: owned_json returns a NUL-terminated string.
        let text = unsafe { CStr::from_ptr(ptr) }.to_str().unwrap().to_owned();
        assert_eq!(text.len(), len);
        assert_eq!(text, r#"{"a":[1,"x\u0000y"]}"#);
        // SAFETY: ptr came from owned_json and is freed once.
        unsafe { free_owned_string(ptr) };
    }

    #[test]
    fn null_and_invalid_utf8_arguments_are_errors() {
        // SAFETY: NULL is rejected before any read.
        let e = unsafe { str_arg(ptr::null(), 0, "value") }.unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_NULL);
        assert_eq!(e.message, "argument `value` is NULL");
        let bad = b"ok\xffno";
        // SAFETY: bad is valid for its length.
        let e = unsafe { str_arg(bad.as_ptr().cast(), bad.len(), "value") }.unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_UTF8);
        assert!(e.message.contains("offset 2"), "{}", e.message);
    }
}
