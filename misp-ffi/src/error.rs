//! Result codes and the per-thread last-error message.
//!
//! Every fallible function returns a [`misp_result`]. The numbers are part
//! of the ABI: they are never changed and never reused. A code that is
//! retired stays listed below as "reserved".
//!
//! On failure the function also records a message on the calling thread
//! (naming the file, line, value or argument concerned), readable with
//! [`misp_last_error`] until the next fallible call on that thread.

use std::cell::RefCell;
use std::ffi::c_char;
use std::fmt;

use crate::handle::{self, Out};
use crate::panic::{guard_keep_error, guard_or};

/// The result of every fallible function.
///
/// The values are stable: they are never renumbered and never reused. New
/// codes are only ever added; a value not listed here is never returned.
/// The C type is a plain C enum (the size of an `int`). Functions that
/// take a code as input (`misp_result_name`) take a `uint32_t` instead, so
/// any number is safe to pass.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum misp_result {
    /// Success: every out-parameter has been written.
    MISP_OK = 0,
    /// A required pointer argument was NULL.
    MISP_ERR_NULL = 1,
    /// A string argument was not valid UTF-8.
    MISP_ERR_UTF8 = 2,
    /// An argument was out of range or malformed, or named something
    /// that does not exist.
    MISP_ERR_INVALID = 3,
    /// A file or directory could not be read or written.
    MISP_ERR_IO = 4,
    /// A document was not valid JSON, or not a MISP document.
    MISP_ERR_JSON = 5,
    /// A type name is not one of MISP's attribute types.
    MISP_ERR_UNKNOWN_TYPE = 6,
    /// MISP would refuse to save the value; the message is MISP's reason.
    MISP_ERR_REJECTED = 7,
    /// A warninglist file is unusable as a whole (not JSON, a required
    /// field missing, an unknown list type).
    MISP_ERR_WARNINGLIST = 8,
    /// A handle was left inconsistent by an earlier internal panic during
    /// a modification; it must be freed and rebuilt.
    MISP_ERR_POISONED = 9,
    /// A snapshot file is not a snapshot of the expected kind and format
    /// version, or is damaged (the message says what is wrong).
    MISP_ERR_SNAPSHOT = 10,
    /// An internal panic was caught at the boundary. This is a bug in the
    /// library; the message says where it happened.
    MISP_ERR_PANIC = 99,
}

/// Every code, in numeric order.
pub(crate) const ALL_RESULTS: [misp_result; 12] = [
    misp_result::MISP_OK,
    misp_result::MISP_ERR_NULL,
    misp_result::MISP_ERR_UTF8,
    misp_result::MISP_ERR_INVALID,
    misp_result::MISP_ERR_IO,
    misp_result::MISP_ERR_JSON,
    misp_result::MISP_ERR_UNKNOWN_TYPE,
    misp_result::MISP_ERR_REJECTED,
    misp_result::MISP_ERR_WARNINGLIST,
    misp_result::MISP_ERR_POISONED,
    misp_result::MISP_ERR_SNAPSHOT,
    misp_result::MISP_ERR_PANIC,
];

impl misp_result {
    /// The code's C name, as a NUL-terminated static string.
    fn name_with_nul(self) -> &'static str {
        match self {
            misp_result::MISP_OK => "MISP_OK\0",
            misp_result::MISP_ERR_NULL => "MISP_ERR_NULL\0",
            misp_result::MISP_ERR_UTF8 => "MISP_ERR_UTF8\0",
            misp_result::MISP_ERR_INVALID => "MISP_ERR_INVALID\0",
            misp_result::MISP_ERR_IO => "MISP_ERR_IO\0",
            misp_result::MISP_ERR_JSON => "MISP_ERR_JSON\0",
            misp_result::MISP_ERR_UNKNOWN_TYPE => "MISP_ERR_UNKNOWN_TYPE\0",
            misp_result::MISP_ERR_REJECTED => "MISP_ERR_REJECTED\0",
            misp_result::MISP_ERR_WARNINGLIST => "MISP_ERR_WARNINGLIST\0",
            misp_result::MISP_ERR_POISONED => "MISP_ERR_POISONED\0",
            misp_result::MISP_ERR_SNAPSHOT => "MISP_ERR_SNAPSHOT\0",
            misp_result::MISP_ERR_PANIC => "MISP_ERR_PANIC\0",
        }
    }

    /// The code's C name (`"MISP_ERR_UTF8"`, …).
    pub fn name(self) -> &'static str {
        let with_nul = self.name_with_nul();
        &with_nul[..with_nul.len() - 1]
    }

    /// The code with number `code`, if there is one.
    pub fn from_u32(code: u32) -> Option<misp_result> {
        ALL_RESULTS.into_iter().find(|r| *r as u32 == code)
    }
}

impl fmt::Display for misp_result {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failure on its way to the C caller: the code to return and the
/// message to record.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub(crate) code: misp_result,
    pub(crate) message: String,
}

impl FfiError {
    /// A failure with `code` and `message`.
    pub(crate) fn new(code: misp_result, message: impl Into<String>) -> FfiError {
        FfiError {
            code,
            message: message.into(),
        }
    }

    /// A NULL `argument`.
    pub(crate) fn null(argument: &str) -> FfiError {
        FfiError::new(
            misp_result::MISP_ERR_NULL,
            format!("argument `{argument}` is NULL"),
        )
    }

    /// An invalid `argument`.
    pub(crate) fn invalid(message: impl Into<String>) -> FfiError {
        FfiError::new(misp_result::MISP_ERR_INVALID, message)
    }
}

/// The result code for a `misp-core` error.
fn core_code(error: &misp_core::Error) -> misp_result {
    match error {
        misp_core::Error::UnknownType(_) => misp_result::MISP_ERR_UNKNOWN_TYPE,
        misp_core::Error::Io { .. } => misp_result::MISP_ERR_IO,
        misp_core::Error::Json { .. } | misp_core::Error::Invalid { .. } => {
            misp_result::MISP_ERR_JSON
        }
        _ => misp_result::MISP_ERR_INVALID,
    }
}

impl From<misp_core::Error> for FfiError {
    fn from(error: misp_core::Error) -> FfiError {
        FfiError::new(core_code(&error), error.to_string())
    }
}

impl From<misp_correlate::Error> for FfiError {
    fn from(error: misp_correlate::Error) -> FfiError {
        let code = match &error {
            misp_correlate::Error::Core(core) => core_code(core),
            misp_correlate::Error::Io { .. } => misp_result::MISP_ERR_IO,
            misp_correlate::Error::Warninglist { .. } => misp_result::MISP_ERR_WARNINGLIST,
            misp_correlate::Error::Rejected(_) => misp_result::MISP_ERR_REJECTED,
            misp_correlate::Error::Snapshot { .. } => misp_result::MISP_ERR_SNAPSHOT,
            _ => misp_result::MISP_ERR_INVALID,
        };
        FfiError::new(code, error.to_string())
    }
}

/// The file a `misp-correlate` error names, or `""`.
pub(crate) fn correlate_error_file(error: &misp_correlate::Error) -> String {
    let path = match error {
        misp_correlate::Error::Core(core) => core.path(),
        misp_correlate::Error::Io { path, .. }
        | misp_correlate::Error::Warninglist { path, .. }
        | misp_correlate::Error::Snapshot { path, .. } => Some(path.as_path()),
        _ => None,
    };
    path.map(|p| p.display().to_string()).unwrap_or_default()
}

impl From<misp_core::Rejection> for FfiError {
    fn from(rejection: misp_core::Rejection) -> FfiError {
        FfiError::new(misp_result::MISP_ERR_REJECTED, rejection.reason())
    }
}

thread_local! {
    /// The message of the last failing call on this thread.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error.
pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// Forgets this thread's last error.
pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|last| last.borrow_mut().clear());
}

/// Runs `f` on this thread's last error message.
fn with_last_error<T>(f: impl FnOnce(&str) -> T) -> T {
    LAST_ERROR.with(|last| f(&last.borrow()))
}

/// The length in bytes of this thread's last error message, without a
/// terminating NUL; 0 if the last fallible call on this thread succeeded.
///
/// A buffer of `misp_last_error_len() + 1` bytes holds the whole message
/// for `misp_last_error`.
///
/// Thread safety: reads only the calling thread's message.
#[unsafe(no_mangle)]
pub extern "C" fn misp_last_error_len() -> usize {
    guard_or(0, || with_last_error(str::len))
}

/// Copies this thread's last error message into `buf`, NUL-terminated.
///
/// Every fallible function clears the message when it starts and, when it
/// fails, records a message saying what went wrong and where (file, line,
/// value or argument). The message stays until the next fallible call on
/// the same thread; this function does not change it.
///
/// At most `buf_len - 1` bytes of the message are copied, cut at a UTF-8
/// character boundary, followed by a NUL; `*written` receives the number
/// of message bytes copied (without the NUL). With `buf_len == 0` nothing
/// is copied and `*written` is 0. An empty message (no error) gives an
/// empty string. A failing call to this function records no message.
///
/// Ownership: `buf` and `written` are borrowed for the call; the caller
/// owns them.
///
/// Thread safety: reads only the calling thread's message.
///
/// # Errors
///
/// `MISP_ERR_NULL` if `buf` or `written` is NULL.
///
/// # Safety
///
/// `buf` must be valid for writes of `buf_len` bytes and `written` valid
/// for a write of one `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_last_error(
    buf: *mut c_char,
    buf_len: usize,
    written: *mut usize,
) -> misp_result {
    guard_keep_error(|| {
        // SAFETY: the caller guarantees `written` is valid for one write.
        let written = unsafe { Out::new(written, "written") }?;
        if buf.is_null() {
            return Err(FfiError::null("buf"));
        }
        let copied = with_last_error(|message| {
            let mut n = message.len().min(buf_len.saturating_sub(1));
            while !message.is_char_boundary(n) {
                n -= 1;
            }
            if buf_len > 0 {
                // SAFETY: the caller guarantees `buf` is valid for
                // `buf_len` bytes, and `n + 1 <= buf_len`.
                unsafe { handle::copy_to_c_buffer(&message.as_bytes()[..n], buf) };
            }
            n
        });
        written.write(copied);
        Ok(())
    })
}

/// The C name of result code `code` (`"MISP_ERR_UTF8"`, …), or
/// `"MISP_ERR_UNKNOWN_CODE"` for a number that is not a `misp_result`.
///
/// Ownership: the returned string is static and NUL-terminated; never
/// free it.
///
/// Thread safety: safe from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn misp_result_name(code: u32) -> *const c_char {
    guard_or(
        c"MISP_ERR_UNKNOWN_CODE".as_ptr(),
        || match misp_result::from_u32(code) {
            Some(result) => result.name_with_nul().as_ptr().cast(),
            None => c"MISP_ERR_UNKNOWN_CODE".as_ptr(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn codes_are_stable() {
        let numbers: Vec<(u32, &str)> = ALL_RESULTS.iter().map(|r| (*r as u32, r.name())).collect();
        assert_eq!(
            numbers,
            [
                (0, "MISP_OK"),
                (1, "MISP_ERR_NULL"),
                (2, "MISP_ERR_UTF8"),
                (3, "MISP_ERR_INVALID"),
                (4, "MISP_ERR_IO"),
                (5, "MISP_ERR_JSON"),
                (6, "MISP_ERR_UNKNOWN_TYPE"),
                (7, "MISP_ERR_REJECTED"),
                (8, "MISP_ERR_WARNINGLIST"),
                (9, "MISP_ERR_POISONED"),
                (10, "MISP_ERR_SNAPSHOT"),
                (99, "MISP_ERR_PANIC"),
            ]
        );
    }

    #[test]
    fn result_name_covers_every_code_and_unknown_numbers() {
        for code in ALL_RESULTS {
            // SAFETY: misp_result_name returns a static NUL-terminated string.
            let name = unsafe { CStr::from_ptr(misp_result_name(code as u32)) };
            assert_eq!(name.to_str().unwrap(), code.name());
        }
        // SAFETY: as above.
        let unknown = unsafe { CStr::from_ptr(misp_result_name(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "MISP_ERR_UNKNOWN_CODE");
    }

    #[test]
    fn last_error_is_copied_truncated_at_a_char_boundary() {
        set_last_error("héllo".to_owned());
        assert_eq!(misp_last_error_len(), 6);
        let mut buf = [0x7f as c_char; 4];
        let mut written = 99usize;
        // SAFETY: buf holds 4 bytes; written is a valid usize.
        let r = unsafe { misp_last_error(buf.as_mut_ptr(), buf.len(), &mut written) };
        assert_eq!(r, misp_result::MISP_OK);
        // Room for 3 bytes: "hé" is 3 bytes, "hél" would be 4.
        assert_eq!(written, 3);
        // SAFETY: the function NUL-terminated the buffer.
        let copied = unsafe { CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(copied.to_str().unwrap(), "hé");
        // Reading the message does not clear it.
        assert_eq!(misp_last_error_len(), 6);
    }

    #[test]
    fn last_error_rejects_null_pointers() {
        let mut written = 0usize;
        // SAFETY: a NULL buffer is detected before any write.
        let r = unsafe { misp_last_error(std::ptr::null_mut(), 10, &mut written) };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
        let mut buf = [0 as c_char; 4];
        // SAFETY: a NULL `written` is detected before any write.
        let r = unsafe { misp_last_error(buf.as_mut_ptr(), 4, std::ptr::null_mut()) };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
    }

    #[test]
    fn zero_length_buffer_copies_nothing() {
        set_last_error("boom".to_owned());
        let mut buf = [0x41 as c_char; 1];
        let mut written = 7usize;
        // SAFETY: buf_len 0 means no byte of buf is written.
        let r = unsafe { misp_last_error(buf.as_mut_ptr(), 0, &mut written) };
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(written, 0);
        assert_eq!(buf[0], 0x41);
    }
}
