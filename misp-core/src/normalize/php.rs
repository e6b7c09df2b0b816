//! The PHP primitives MISP's save pipeline is written in, with PHP's exact
//! semantics on bytes.
//!
//! MISP runs on PHP 8 (`strtolower` is ASCII-only since 8.2, and MISP
//! calls it on values that are already valid UTF-8), PCRE without the `u`
//! flag (patterns see bytes, `\s` is ASCII whitespace, `.` is any byte but
//! `\n`, and `$` also matches before a final `\n`), and the `ctype_*`
//! functions in the C locale. Everything here works on `&str` (our values
//! are valid UTF-8) but looks at bytes, and returns borrowed data when
//! nothing changes so the common path does not allocate.

use std::borrow::Cow;
use std::cmp::Ordering;

/// PHP `trim()` with its default character list: space, `\t`, `\n`, `\r`,
/// `\0` and `\x0B`. Unlike [`str::trim`] it keeps `\x0C` and non-ASCII
/// spaces such as U+00A0.
pub(crate) fn trim(s: &str) -> &str {
    trim_bytes(s, |b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0 | 0x0B))
}

/// PHP `trim($s, '.')`.
pub(crate) fn trim_dots(s: &str) -> &str {
    trim_bytes(s, |b| b == b'.')
}

/// Strips ASCII bytes matching `strip` from both ends. Only ASCII bytes
/// are stripped, so the cut is always on a character boundary.
fn trim_bytes(s: &str, strip: impl Fn(u8) -> bool) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !strip(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !strip(c)).map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or("")
}

/// Whether any byte of `b` satisfies `f`. Works in 16-byte chunks without
/// an early exit inside a chunk, which the compiler turns into SIMD; the
/// hot checks of the pipeline are such scans.
#[inline]
pub(crate) fn any_byte(b: &[u8], f: impl Fn(u8) -> bool) -> bool {
    let mut chunks = b.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |found, &c| found | f(c)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&c| f(c))
}

/// Whether every byte of `b` satisfies `f` (see [`any_byte`]).
#[inline]
pub(crate) fn all_bytes(b: &[u8], f: impl Fn(u8) -> bool) -> bool {
    !any_byte(b, |c| !f(c))
}

/// PHP `strtolower()` (ASCII only), borrowing when nothing changes.
pub(crate) fn lower(s: Cow<'_, str>) -> Cow<'_, str> {
    if any_byte(s.as_bytes(), |b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        s
    }
}

/// PHP `strtoupper()` (ASCII only), borrowing when nothing changes.
pub(crate) fn upper(s: Cow<'_, str>) -> Cow<'_, str> {
    if any_byte(s.as_bytes(), |b| b.is_ascii_lowercase()) {
        Cow::Owned(s.to_ascii_uppercase())
    } else {
        s
    }
}

/// Keeps only the characters for which `keep` holds (ASCII), as
/// `preg_replace('/[^…]+/', '', $s)` does; borrows when nothing is removed.
pub(crate) fn retain_ascii(s: Cow<'_, str>, keep: impl Fn(u8) -> bool) -> Cow<'_, str> {
    if all_bytes(s.as_bytes(), &keep) {
        return s;
    }
    // Only ASCII bytes are kept, so the result is valid UTF-8.
    Cow::Owned(
        s.chars()
            .filter(|&c| c.is_ascii() && keep(c as u8))
            .collect(),
    )
}

/// PHP `str_replace($from, $to, $s)` for a single needle, borrowing when
/// the needle does not occur.
pub(crate) fn replace<'a>(s: Cow<'a, str>, from: &str, to: &str) -> Cow<'a, str> {
    if s.contains(from) {
        Cow::Owned(s.replace(from, to))
    } else {
        s
    }
}

/// PHP `ctype_digit()`: non-empty and every byte an ASCII digit.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && all_bytes(s.as_bytes(), |b| b.is_ascii_digit())
}

/// PHP `ctype_xdigit()`: non-empty and every byte an ASCII hex digit.
pub(crate) fn is_xdigits(s: &str) -> bool {
    !s.is_empty() && all_bytes(s.as_bytes(), |b| b.is_ascii_hexdigit())
}

/// PHP `ctype_cntrl()` on a string: non-empty and every byte a C-locale
/// control character (`0x00..=0x1F` or `0x7F`).
pub(crate) fn is_cntrl(s: &str) -> bool {
    !s.is_empty() && all_bytes(s.as_bytes(), |b| b < 0x20 || b == 0x7F)
}

/// Whether PHP's `empty()` holds for a string: `""` and `"0"`.
pub(crate) fn is_empty_php(s: &str) -> bool {
    s.is_empty() || s == "0"
}

/// The subject a PCRE pattern ending in `$` (without the `D` modifier)
/// really has to match: `$` also matches before a final `\n`, so a
/// pattern whose last element cannot match `\n` matches `s` exactly when
/// it matches `s` without that final `\n`.
pub(crate) fn pcre_subject(s: &str) -> &str {
    s.strip_suffix('\n').unwrap_or(s)
}

/// Whether `b` is in PCRE's `\s` class without the `u` flag (C locale):
/// `\t`, `\n`, `\x0B`, `\x0C`, `\r` and space.
pub(crate) fn is_pcre_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Compares a string of ASCII digits (as accepted by [`is_digits`]) with
/// `n` numerically, as PHP compares a numeric string with an integer.
/// Leading zeros do not count; arbitrarily long strings are fine.
pub(crate) fn cmp_digits(digits: &str, n: u64) -> Ordering {
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return 0.cmp(&n);
    }
    if significant.len() > 20 {
        return Ordering::Greater;
    }
    match significant.parse::<u128>() {
        Ok(v) => v.cmp(&u128::from(n)),
        // Unreachable for digit strings of at most 20 digits.
        Err(_) => Ordering::Greater,
    }
}

/// The value of a string of ASCII digits if it fits in a `u64`.
pub(crate) fn digits_value(digits: &str) -> Option<u64> {
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    significant.parse().ok()
}

/// PHP 8 `is_numeric()` on a string: optional leading whitespace, an
/// optional sign, a decimal number (`1`, `1.`, `.5`, `1.5`) with an
/// optional exponent, and optional trailing whitespace. No hex, no
/// `INF`/`NAN`.
pub(crate) fn is_numeric(s: &str) -> bool {
    is_numeric_bytes(s.as_bytes())
}

/// [`is_numeric`] on bytes (PHP strings need not be UTF-8).
pub(crate) fn is_numeric_bytes(b: &[u8]) -> bool {
    let is_ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C);
    let mut i = 0;
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut mantissa_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        mantissa_digits += i - frac_start;
    }
    if mantissa_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        let exp_start = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j > exp_start {
            i = j;
        }
    }
    while i < b.len() && is_ws(b[i]) {
        i += 1;
    }
    i == b.len()
}

/// PHP string truthiness: everything but `""` and `"0"`.
pub(crate) fn is_truthy(s: &str) -> bool {
    !is_empty_php(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_php_trim() {
        assert_eq!(trim(" \t\n\r\0\x0Bab \x0B"), "ab");
        assert_eq!(trim("\x0Cab\x0C"), "\x0Cab\x0C");
        assert_eq!(trim("\u{a0}ab"), "\u{a0}ab");
    }

    #[test]
    fn ctype() {
        assert!(is_digits("0123"));
        assert!(!is_digits(""));
        assert!(!is_digits("１"));
        assert!(is_xdigits("aF09"));
        assert!(!is_xdigits("g"));
        assert!(is_cntrl("\x01\x7f"));
        assert!(!is_cntrl(""));
        assert!(!is_cntrl("\x01a"));
    }

    #[test]
    fn numeric_strings() {
        for yes in [
            "1", "+1", "-1", " 1", "1 ", "1.", ".5", "1e5", "1.5E-3", "\n1\t",
        ] {
            assert!(is_numeric(yes), "{yes:?}");
        }
        for no in ["", ".", "+", "1e", "0x1A", "1 2", "--1", "e5", "INF", "1e+"] {
            assert!(!is_numeric(no), "{no:?}");
        }
    }

    #[test]
    fn digit_comparison() {
        assert_eq!(cmp_digits("00032", 32), Ordering::Equal);
        assert_eq!(cmp_digits("33", 32), Ordering::Greater);
        assert_eq!(cmp_digits("99999999999999999999999", 32), Ordering::Greater);
        assert_eq!(cmp_digits("0", 1), Ordering::Less);
        assert_eq!(digits_value("000"), Some(0));
        assert_eq!(digits_value("18446744073709551616"), None);
    }

    #[test]
    fn cow_helpers_borrow_when_unchanged() {
        assert!(matches!(lower(Cow::Borrowed("abc")), Cow::Borrowed(_)));
        assert_eq!(lower(Cow::Borrowed("AbÄ")), "abÄ");
        assert_eq!(upper(Cow::Borrowed("aé")), "Aé");
        assert_eq!(
            retain_ascii(Cow::Borrowed("1a2é3"), |b| b.is_ascii_digit()),
            "123"
        );
        assert!(matches!(
            replace(Cow::Borrowed("abc"), "x", "y"),
            Cow::Borrowed(_)
        ));
    }
}
