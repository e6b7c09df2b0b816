//! Library-owned strings and the library version.

use std::ffi::c_char;

use crate::handle;
use crate::panic::guard_or;

/// The library version (`"0.1.0"`), the same as the header's
/// `MISP_CORRELATE_VERSION` when the header matches the library.
///
/// Ownership: the string is static and NUL-terminated; never free it.
///
/// Thread safety: safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn misp_version() -> *const c_char {
    guard_or(c"".as_ptr(), || {
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
    })
}

/// Frees a string returned by the library through a `char **`
/// out-parameter (JSON results, normalised values).
///
/// Calling with NULL is a no-op. Must not be called twice with the same
/// pointer, nor with a pointer the library did not return (including the
/// static strings of `misp_version` and `misp_result_name`).
///
/// Thread safety: a string may be freed on any thread.
///
/// # Safety
///
/// `text` must be NULL or a string returned by this library through a
/// `char **` out-parameter and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_string_free(text: *mut c_char) {
    // SAFETY: forwarded contract.
    guard_or((), || unsafe { handle::free_owned_string(text) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn version_is_the_crate_version() {
        // SAFETY: misp_version returns a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(misp_version()) };
        assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn freeing_null_is_a_no_op() {
        // SAFETY: NULL is allowed.
        unsafe { misp_string_free(std::ptr::null_mut()) };
    }
}
