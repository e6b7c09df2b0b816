//! Normalising and validating one value as MISP saves it.

use std::ffi::c_char;

use misp_core::AttributeType;

use crate::error::{FfiError, misp_result};
use crate::handle::{self, Out};
use crate::panic::guard;

/// Looks up MISP type `name`, failing with `MISP_ERR_UNKNOWN_TYPE`.
pub(crate) fn attribute_type(name: &str) -> Result<AttributeType, FfiError> {
    Ok(name.parse::<AttributeType>()?)
}

/// Normalises and validates `value` as MISP saves an attribute of type
/// `type_name`: trim, refang, per-type rewrite, validation, composite
/// check.
///
/// On success `*out_value` receives the stored value (NUL-terminated, for
/// composite types `value1|value2`) and `*out_len` its length in bytes
/// without the NUL. The caller owns the string and frees it with
/// `misp_string_free`.
///
/// Ownership: `type_name` and `value` are borrowed for the call only.
///
/// Thread safety: safe from any number of threads at once.
///
/// # Errors
///
/// * `MISP_ERR_NULL`: a pointer argument is NULL.
/// * `MISP_ERR_UTF8`: `type_name` or `value` is not UTF-8.
/// * `MISP_ERR_UNKNOWN_TYPE`: `type_name` is not a MISP type.
/// * `MISP_ERR_REJECTED`: MISP would refuse the value; the last error is
///   MISP's reason ("IP address has an invalid format.", …).
///
/// # Safety
///
/// `type_name` and `value` must be valid for reads of `type_len` and
/// `value_len` bytes; `out_value` and `out_len` must be valid for one
/// write each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn misp_normalize(
    type_name: *const c_char,
    type_len: usize,
    value: *const c_char,
    value_len: usize,
    out_value: *mut *mut c_char,
    out_len: *mut usize,
) -> misp_result {
    guard(|| {
        // SAFETY: the caller guarantees the pointer/length pairs and the
        // out-parameters per `# Safety`.
        let (type_name, value, out_value, out_len) = unsafe {
            (
                handle::str_arg(type_name, type_len, "type_name")?,
                handle::str_arg(value, value_len, "value")?,
                Out::new(out_value, "out_value")?,
                Out::new(out_len, "out_len")?,
            )
        };
        let ty = attribute_type(type_name)?;
        let normalized = misp_core::normalize(ty, value)?;
        let (text, len) = handle::owned_text(normalized.as_str());
        out_value.write(text);
        out_len.write(len);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;
    use std::ptr;

    fn normalize(ty: &str, value: &[u8]) -> Result<String, misp_result> {
        let mut out: *mut c_char = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: all pointers are valid for their lengths.
        let r = unsafe {
            misp_normalize(
                ty.as_ptr().cast(),
                ty.len(),
                value.as_ptr().cast(),
                value.len(),
                &mut out,
                &mut len,
            )
        };
        if r != misp_result::MISP_OK {
            assert!(out.is_null(), "out-parameter written on failure");
            return Err(r);
        }
        // SAFETY: on success `out` is a NUL-terminated library string.
        let s = unsafe { CStr::from_ptr(out) }.to_str().unwrap().to_owned();
        assert_eq!(s.len(), len);
        // SAFETY: freed once.
        unsafe { crate::misp_string_free(out) };
        Ok(s)
    }

    #[test]
    fn normalizes_and_reports_errors() {
        assert_eq!(
            normalize("ip-src", b"  10.0.0.1 ").as_deref(),
            Ok("10.0.0.1")
        );
        assert_eq!(
            normalize("no-such-type", b"x"),
            Err(misp_result::MISP_ERR_UNKNOWN_TYPE)
        );
        assert_eq!(
            normalize("ip-src", b"\xff"),
            Err(misp_result::MISP_ERR_UTF8)
        );
        assert_eq!(
            normalize("ip-src", b"   "),
            Err(misp_result::MISP_ERR_REJECTED)
        );
        assert_eq!(
            normalize("domain|ip", b"a.com"),
            Err(misp_result::MISP_ERR_REJECTED)
        );
    }

    #[test]
    fn null_arguments_are_errors() {
        let mut out: *mut c_char = ptr::null_mut();
        let mut len = 0usize;
        // SAFETY: NULL arguments are detected before any access.
        let r = unsafe { misp_normalize(ptr::null(), 0, c"x".as_ptr(), 1, &mut out, &mut len) };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
        // SAFETY: as above.
        let r = unsafe {
            misp_normalize(
                c"md5".as_ptr(),
                3,
                c"x".as_ptr(),
                1,
                ptr::null_mut(),
                &mut len,
            )
        };
        assert_eq!(r, misp_result::MISP_ERR_NULL);
    }
}
