//! The panic boundary wrapped around every exported function.
//!
//! No unwind may cross into C (that is undefined behaviour), and the
//! library must not abort the host process either. Every exported
//! function therefore runs its body through one of the guards below,
//! which catch a panic with [`std::panic::catch_unwind`] and turn it into
//! `MISP_ERR_PANIC` (fallible functions) or a neutral default (functions
//! that cannot report an error, such as the `_free` functions). The
//! library's own background work (the engine builder's pool tasks, the
//! feed readers' threads) catches its panics and raises them again on the
//! calling thread, so they reach these guards too instead of aborting.
//!
//! The bodies are wrapped in [`AssertUnwindSafe`]: after a caught panic
//! the only state a caller can observe again is a handle's, and a handle
//! whose state could be half-modified (the correlation engine) keeps it
//! behind a `RwLock`, which a panic during a modification poisons; the
//! next call then returns `MISP_ERR_POISONED` instead of reading it.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{FfiError, clear_last_error, misp_result, set_last_error};

/// Runs a fallible exported function body.
///
/// Clears the thread's last error, runs `body`, and returns `MISP_OK` on
/// success. On an error it records the message and returns the error's
/// code; on a panic it records `internal panic: <message>` and returns
/// `MISP_ERR_PANIC`.
pub(crate) fn guard<F>(body: F) -> misp_result
where
    F: FnOnce() -> Result<(), FfiError>,
{
    clear_last_error();
    match catch(body) {
        Ok(()) => misp_result::MISP_OK,
        Err(error) => {
            set_last_error(error.message);
            error.code
        }
    }
}

/// Runs a fallible body, turning a panic into its error:
/// `MISP_ERR_PANIC` with the message `internal panic: <message>`. For
/// [`guard`], and for work that runs off the calling thread and reports
/// through a result (the background batch's parts).
pub(crate) fn catch<T, F>(body: F) -> Result<T, FfiError>
where
    F: FnOnce() -> Result<T, FfiError>,
{
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        Err(FfiError::new(
            misp_result::MISP_ERR_PANIC,
            format!("internal panic: {}", panic_message(payload)),
        ))
    })
}

/// Runs a fallible body that must leave the thread's last error alone
/// (the functions that read it).
///
/// Returns the error's code on failure without recording a message.
pub(crate) fn guard_keep_error<F>(body: F) -> misp_result
where
    F: FnOnce() -> Result<(), FfiError>,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => misp_result::MISP_OK,
        Ok(Err(error)) => error.code,
        Err(payload) => {
            drop(panic_message(payload));
            misp_result::MISP_ERR_PANIC
        }
    }
}

/// Runs the body of an exported function that cannot report an error,
/// returning `default` if it panics.
///
/// The panic message is recorded as the thread's last error, so a caller
/// that suspects a problem can still read it.
pub(crate) fn guard_or<T, F>(default: T, body: F) -> T
where
    F: FnOnce() -> T,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => {
            set_last_error(format!("internal panic: {}", panic_message(payload)));
            default
        }
    }
}

/// The text of a panic payload, consuming it.
///
/// The payload is dropped inside its own `catch_unwind`: a payload whose
/// destructor panics must not unwind out of the boundary either.
fn panic_message(payload: Box<dyn Any + Send>) -> String {
    let message = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
    message
}

/// This thread's last error message (for tests).
#[cfg(test)]
pub(crate) fn tests_last_error() -> String {
    tests::last_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn last_error() -> String {
        let mut buf = vec![0 as std::ffi::c_char; 256];
        let mut written = 0usize;
        // SAFETY: buf holds 256 bytes and written is a valid usize.
        let r = unsafe { crate::error::misp_last_error(buf.as_mut_ptr(), buf.len(), &mut written) };
        assert_eq!(r, misp_result::MISP_OK);
        let bytes: Vec<u8> = buf[..written].iter().map(|&c| c as u8).collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_panic_becomes_misp_err_panic_with_its_message() {
        let r = guard(|| panic!("deliberate test panic"));
        assert_eq!(r, misp_result::MISP_ERR_PANIC);
        assert_eq!(last_error(), "internal panic: deliberate test panic");
    }

    #[test]
    fn an_error_is_recorded_and_a_success_clears_it() {
        let r = guard(|| Err(FfiError::invalid("bad thing")));
        assert_eq!(r, misp_result::MISP_ERR_INVALID);
        assert_eq!(last_error(), "bad thing");
        let r = guard(|| Ok(()));
        assert_eq!(r, misp_result::MISP_OK);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn guard_or_returns_the_default_on_panic() {
        let v = guard_or(7u32, || panic!("{}", String::from("formatted")));
        assert_eq!(v, 7);
        assert_eq!(last_error(), "internal panic: formatted");
        assert_eq!(guard_or(7u32, || 3), 3);
    }
}
