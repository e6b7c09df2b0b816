//! MISP's save pipeline for attribute values.
//!
//! [`normalize`] does to a value what MISP 2.5 does when it saves an
//! attribute (`MispAttribute::beforeValidate` and its validation rules),
//! and answers with the stored value or MISP's reason for refusing it:
//!
//! 1. PHP `trim()` (space, `\t`, `\n`, `\r`, `\0`, `\x0B`);
//! 2. refanging for `link`, `url`, `ip-src`, `ip-dst`, `domain`,
//!    `hostname`, `domain|ip` and `email`/`email-src`/`email-dst`
//!    (`hxxp` → `http`, `[.]` → `.`, `[at]` → `@`, …; see [`refang`]);
//! 3. every 4-byte UTF-8 character (emoji, …) to `?`, for all types;
//! 4. the type's rewrite of `modifyBeforeValidation` (IPv6 compression,
//!    lowercase hashes, domain punycode, `ip|port` spellings, MAC
//!    regrouping, asdot, ISO 8601 datetimes, …);
//! 5. the validation rules, in MISP's order, first failure wins:
//!    not empty (`"0"` is fine), not only control characters (nor either
//!    half of a composite), exactly one `|` for composite types, the
//!    type's check of `AttributeValidationTool::validate`, and at most
//!    65,535 bytes;
//! 6. the split of composite values into value1 and value2.
//!
//! [`normalize_ref`] gives the same answer borrowed from the raw value
//! when MISP stores it unchanged, without allocating (the bulk correlation
//! builder normalises millions of values this way). A value already in
//! its stored form (a lower-case domain, a URL with nothing to refang, a
//! lower-case digest, …) is recognised in one pass over its bytes instead
//! of going through every step; the answer is the same either way.
//!
//! The rules are MISP's, quirks included (each is documented where it is
//! implemented): `::0001` is not compressed, `filename|impfuzzy` and
//! `integer` can never be saved, v3 onion addresses are rejected, a
//! `domain` such as `example.com\n.` is stored with its newline, and so
//! on. User-defined import regexps (MISP's `regexp` table) are
//! configuration, not code, and are not applied.
//!
//! # Fidelity
//!
//! The reference is MISP 2.5's `AttributeValidationTool` and
//! `ComplexTypeTool::refangValue` under PHP 8.2 (ASCII-only `strtolower`,
//! `ctype_*` reading small integers as character codes, `inet_pton`
//! refusing NUL bytes) with ext-intl for punycode. The golden vectors in
//! this module's tests are that code's outputs, and the pipeline was
//! compared with it on the 718,796 TweetFeed values, 62,856 hand-made
//! hostile (type, value) pairs and 330,000 random ones, with no
//! difference outside the ones listed here:
//!
//! * `datetime`: PHP's `DateTime` parser accepts free text and relative
//!   forms (`now`, `1.2.3` as a time of today, single-letter military
//!   zones, an empty value as "now") whose result depends on the moment
//!   of saving. Only absolute ISO 8601 forms are supported (see the
//!   `datetime` module); everything else is rejected with MISP's
//!   "Datetime has to be in the ISO 8601 format." (an empty value with
//!   "Value cannot be empty.").
//! * IDN domains: the `idna` crate always applies the UTS #46 BiDi rule,
//!   PHP's `idn_to_ascii` does not, so a right-to-left label that breaks
//!   it (e.g. `1שלום.com`) is punycoded by MISP but rejected here.
//! * `suricata`, `edge-extension-id` and `uuid` are newer than MISP
//!   2.5.1, whose `validate()` throws for them; see `rules` for the rules
//!   chosen.
//!
//! [`refang`]: self::refang

use std::borrow::Cow;
use std::fmt;

use crate::AttributeType;

pub use resave::rewrites_on_resave;

mod datetime;
mod domain;
mod fast;
mod ip;
mod json_syntax;
mod php;
mod refang;
mod resave;
mod rewrite;
mod rules;
mod url;
mod validate;

use rewrite::Rewritten;

/// A value as MISP would store it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedValue {
    value: String,
    /// Byte offset of the `|` separating value1 and value2, for
    /// composite types.
    split: Option<usize>,
}

impl NormalizedValue {
    /// Builds a normalised value; for composite types `value` must hold
    /// exactly one `|`.
    pub(crate) fn new(ty: AttributeType, value: String) -> Result<Self, Rejection> {
        if ty.is_composite() {
            let mut it = value.match_indices('|');
            match (it.next(), it.next()) {
                (Some((i, _)), None) => Ok(NormalizedValue {
                    value,
                    split: Some(i),
                }),
                _ => Err(Rejection::new(COMPOSITE)),
            }
        } else {
            Ok(NormalizedValue { value, split: None })
        }
    }

    /// The whole stored value (`value1|value2` for composite types).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The stored value1.
    pub fn value1(&self) -> &str {
        match self.split {
            Some(i) => &self.value[..i],
            None => &self.value,
        }
    }

    /// The stored value2, for composite types.
    pub fn value2(&self) -> Option<&str> {
        self.split.map(|i| &self.value[i + 1..])
    }

    /// The whole stored value, by value.
    pub fn into_string(self) -> String {
        self.value
    }
}

impl fmt::Display for NormalizedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A value as MISP would store it, borrowed from the raw value when MISP
/// stores that unchanged (the common case), owned when the save pipeline
/// rewrote it. See [`normalize_ref`].
#[derive(Debug, Clone)]
pub struct NormalizedRef<'a> {
    value: Cow<'a, str>,
    /// Byte offset of the `|` separating value1 and value2, for
    /// composite types.
    split: Option<usize>,
    /// Known to be printable ASCII without spaces or upper-case letters
    /// (see [`NormalizedRef::is_known_lowercase_ascii`]).
    lowercase_ascii: bool,
}

/// Equality and hashing look at the stored value only (not at what is
/// known about its bytes).
impl PartialEq for NormalizedRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        (&self.value, self.split) == (&other.value, other.split)
    }
}

impl Eq for NormalizedRef<'_> {}

impl std::hash::Hash for NormalizedRef<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
        self.split.hash(state);
    }
}

impl<'a> NormalizedRef<'a> {
    /// The whole stored value (`value1|value2` for composite types).
    #[inline]
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The stored value1.
    #[inline]
    pub fn value1(&self) -> &str {
        match self.split {
            Some(i) => self.value.get(..i).unwrap_or(""),
            None => &self.value,
        }
    }

    /// The stored value2, for composite types.
    #[inline]
    pub fn value2(&self) -> Option<&str> {
        self.split.map(|i| self.value.get(i + 1..).unwrap_or(""))
    }

    /// Whether the stored value was not allocated: it borrows the raw
    /// value (at most trimmed) or, for `boolean`, a constant.
    pub fn is_borrowed(&self) -> bool {
        matches!(self.value, Cow::Borrowed(_))
    }

    /// Whether the stored value is known, without looking at it again, to
    /// be printable ASCII (`!` to `~`) with no upper-case letter: so that
    /// lower-casing it or trimming spaces from it changes nothing. `true`
    /// only when the one-pass fast path for values stored as given saw
    /// that; `false` means "not known", not "not so".
    ///
    /// ```
    /// use misp_core::{AttributeType, normalize_ref};
    ///
    /// let url = AttributeType::from_name("url").unwrap();
    /// assert!(normalize_ref(url, "https://example.com/a").unwrap().is_known_lowercase_ascii());
    /// assert!(!normalize_ref(url, "https://example.com/A").unwrap().is_known_lowercase_ascii());
    /// ```
    #[inline]
    pub fn is_known_lowercase_ascii(&self) -> bool {
        self.lowercase_ascii
    }

    /// The owned form.
    pub fn into_owned(self) -> NormalizedValue {
        NormalizedValue {
            value: self.value.into_owned(),
            split: self.split,
        }
    }
}

impl fmt::Display for NormalizedRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Why MISP would refuse to save a value, in MISP's words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rejection {
    reason: String,
}

impl Rejection {
    /// A rejection with `reason`.
    pub fn new(reason: impl Into<String>) -> Rejection {
        Rejection {
            reason: reason.into(),
        }
    }

    /// The reason, as MISP words it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

const EMPTY: &str = "Value cannot be empty.";
const CONTROL: &str =
    "Value provided consists purely of control characters and is therefore considered to be empty.";
const COMPOSITE: &str =
    "Composite type found but the value not in the composite (value1|value2) format.";
const TOO_LONG: &str = "The entered string is too long and would get truncated. Please consider adding the data as an attachment instead";

/// MISP's `maxTextLength` rule, in bytes.
const MAX_BYTES: usize = 65_535;

/// Normalises and validates `raw` as MISP saves an attribute of type `ty`.
///
/// Returns the value MISP would store, or MISP's reason for refusing it.
/// A value that MISP leaves unchanged costs one allocation (the returned
/// `String`); [`normalize_ref`] does without it.
///
/// ```
/// use misp_core::{AttributeType, normalize};
///
/// let ip = AttributeType::from_name("ip-dst").unwrap();
/// assert_eq!(normalize(ip, " 2001:0DB8::0001 ").unwrap().as_str(), "2001:db8::1");
///
/// let pair = AttributeType::from_name("ip-dst|port").unwrap();
/// let v = normalize(pair, "[2001:db8::1]:443").unwrap();
/// assert_eq!((v.value1(), v.value2()), ("2001:db8::1", Some("443")));
///
/// let err = normalize(ip, "010.1.2.3").unwrap_err();
/// assert_eq!(err.reason(), "IP address has an invalid format.");
/// ```
pub fn normalize(ty: AttributeType, raw: &str) -> Result<NormalizedValue, Rejection> {
    normalize_ref(ty, raw).map(NormalizedRef::into_owned)
}

/// [`normalize`] without the allocation when MISP stores the value as
/// given: the result borrows from `raw` unless the save pipeline rewrote
/// it. The stored value and the rejections are exactly [`normalize`]'s.
///
/// ```
/// use misp_core::{AttributeType, normalize_ref};
///
/// let domain = AttributeType::from_name("domain").unwrap();
/// let v = normalize_ref(domain, "example.com").unwrap();
/// assert!(v.is_borrowed());
/// assert_eq!(v.value1(), "example.com");
/// let v = normalize_ref(domain, "Example[.]com").unwrap();
/// assert!(!v.is_borrowed());
/// assert_eq!(v.as_str(), "example.com");
/// ```
pub fn normalize_ref(ty: AttributeType, raw: &str) -> Result<NormalizedRef<'_>, Rejection> {
    let rules = rules::rules(ty);
    if let Some(as_is) = fast::stored_as_is(&rules, raw) {
        return Ok(NormalizedRef {
            value: Cow::Borrowed(raw),
            split: as_is.split,
            lowercase_ascii: as_is.lowercase,
        });
    }
    pipeline(rules, ty, raw)
}

/// The whole save pipeline, step by step (what [`fast::stored_as_is`]
/// short-cuts for values stored as given).
fn pipeline(
    rules: rules::TypeRules,
    ty: AttributeType,
    raw: &str,
) -> Result<NormalizedRef<'_>, Rejection> {
    let v = php::trim(raw);
    let v = refang::refang(rules.refang, v);
    let v = refang::replace_4byte(v);
    let v = match rewrite::rewrite(rules.rewrite, v)? {
        Rewritten::Text(v) => v,
        Rewritten::Integer(n) => return check_integer(ty, n),
    };

    if php::trim(&v).is_empty() {
        return Err(Rejection::new(EMPTY));
    }
    let mut split = None;
    if php::is_cntrl(&v) {
        return Err(Rejection::new(CONTROL));
    }
    if rules.composite {
        let mut pipes = v.match_indices('|').map(|(i, _)| i);
        let first = pipes.next();
        let (v1, v2) = match first {
            Some(i) => (&v[..i], v[i + 1..].split('|').next().unwrap_or("")),
            None => (&v[..], ""),
        };
        if php::is_cntrl(v1) || (!php::is_empty_php(v2) && php::is_cntrl(v2)) {
            return Err(Rejection::new(CONTROL));
        }
        match (first, pipes.next()) {
            (Some(i), None) => split = Some(i),
            _ => return Err(Rejection::new(COMPOSITE)),
        }
    }
    validate::check(rules.check, &v)?;
    if v.len() > MAX_BYTES {
        return Err(Rejection::new(TOO_LONG));
    }
    Ok(NormalizedRef {
        value: v,
        split,
        lowercase_ascii: false,
    })
}

/// The rules that follow MISP's asdot rewrite, which yields a PHP integer:
/// PHP 8's `ctype_cntrl()` reads an integer from 0 to 255 as a character
/// code, so 0-31 and 127 count as "purely control characters".
fn check_integer(ty: AttributeType, n: u64) -> Result<NormalizedRef<'static>, Rejection> {
    if n < 32 || n == 127 {
        return Err(Rejection::new(CONTROL));
    }
    if n > 4_294_967_295 {
        return Err(Rejection::new(validate::AS_INVALID));
    }
    NormalizedValue::new(ty, n.to_string()).map(|v| NormalizedRef {
        value: Cow::Owned(v.value),
        split: v.split,
        lowercase_ascii: false,
    })
}

/// `normalize` by type name with the reason as a string, for tests.
#[cfg(test)]
fn stored(ty: &str, raw: &str) -> Result<String, String> {
    let ty = AttributeType::from_name(ty).ok_or_else(|| format!("unknown type {ty}"))?;
    normalize(ty, raw)
        .map(NormalizedValue::into_string)
        .map_err(|r| r.reason().to_owned())
}

#[cfg(test)]
mod tests;
