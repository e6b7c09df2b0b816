//! The fast path of [`normalize_ref`](super::normalize_ref): values MISP
//! stores exactly as given.
//!
//! Most values arrive already canonical: a lower-case domain, a URL with
//! nothing to refang, a lower-case hex digest. For such a value every step
//! of the save pipeline is a no-op, yet the full pipeline scans it a dozen
//! times (trim, refang, 4-byte characters, lowercase, control characters,
//! validation). [`stored_as_is`] classifies the bytes in one pass and
//! proves, from the classes present, that the pipeline would store the
//! value unchanged; anything it cannot prove goes the full way, so the
//! answer is always the pipeline's (a unit property test compares the
//! two on every type).
//!
//! The proof, for a *plain* value (non-empty, every byte printable ASCII
//! `0x21..=0x7E` other than `[` and `(`):
//! * `trim()` changes nothing (every trimmed byte is below `0x21`);
//! * refang rules 2 to 5 need a `[` or `(`; rule 1 (`url`, `link`) is
//!   checked on the first bytes;
//! * there is no 4-byte character (ASCII);
//! * the value is neither empty nor only control characters;
//! * what remains is the type's rewrite, which must leave the value as it
//!   is, and its validation, which must pass. Both are decided from the
//!   byte classes for `domain`, `hostname`, `url` and the hashes, and run
//!   as they are otherwise. `ip-src` and `ip-dst` in dotted decimal are
//!   decided by the IPv4 filter alone;
//! * for a composite type, the value must hold exactly one `|` (the
//!   pipeline refuses none or several, and a plain half is never a string
//!   of control characters): the pipeline splits it there, and the type's
//!   rewrite and validation decide as above. This spares such a value the
//!   trim, refang, 4-byte, control-character and splitting scans.

use std::borrow::Cow;

use super::ip;
use super::refang::Refang;
use super::rewrite::{self, Rewritten};
use super::rules::{Check, Rewrite, TypeRules};
use super::{MAX_BYTES, validate};

/// A byte the fast path does not handle: outside `0x21..=0x7E`, `[`, `(`.
const BAD: u8 = 1;
/// `A-Z`.
const UPPER: u8 = 2;
/// `a-f`.
const HEX_LOWER: u8 = 4;
/// `g-z`.
const LOWER: u8 = 8;
/// `0-9`.
const DIGIT: u8 = 16;
/// `.`.
const DOT: u8 = 32;
/// `-`.
const DASH: u8 = 64;
/// Any other printable ASCII byte (`_`, `/`, `:`, `|`, …).
const OTHER: u8 = 128;

/// The class of every byte.
static CLASS: [u8; 256] = {
    let mut t = [BAD; 256];
    let mut i = 0x21;
    while i <= 0x7E {
        let c = i as u8;
        t[i] = match c {
            b'[' | b'(' => BAD,
            b'A'..=b'Z' => UPPER,
            b'a'..=b'f' => HEX_LOWER,
            b'g'..=b'z' => LOWER,
            b'0'..=b'9' => DIGIT,
            b'.' => DOT,
            b'-' => DASH,
            _ => OTHER,
        };
        i += 1;
    }
    t
};

/// The union of the classes of `bytes`' bytes.
#[inline]
fn classes(bytes: &[u8]) -> u8 {
    let mut chunks = bytes.chunks_exact(8);
    let mut acc = 0u8;
    for c in &mut chunks {
        // Eight independent loads, OR-ed as a tree.
        let a = CLASS[usize::from(c[0])] | CLASS[usize::from(c[1])];
        let b = CLASS[usize::from(c[2])] | CLASS[usize::from(c[3])];
        let d = CLASS[usize::from(c[4])] | CLASS[usize::from(c[5])];
        let e = CLASS[usize::from(c[6])] | CLASS[usize::from(c[7])];
        acc |= (a | b) | (d | e);
    }
    for &b in chunks.remainder() {
        acc |= CLASS[usize::from(b)];
    }
    acc
}

/// What [`stored_as_is`] proves of a value the pipeline stores exactly as
/// given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AsIs {
    /// The value has no upper-case letter (it is printable ASCII without
    /// spaces either way).
    pub(crate) lowercase: bool,
    /// For a composite type: where its one `|` is.
    pub(crate) split: Option<usize>,
}

/// Whether `raw` (of a type with `rules`) is stored exactly as given, as
/// far as this fast path can tell: `Some` means the full pipeline returns
/// `raw` itself (split at its one `|` for a composite type); `None` means
/// "ask the full pipeline" (which may still store it unchanged, or refuse
/// it).
pub(crate) fn stored_as_is(rules: &TypeRules, raw: &str) -> Option<AsIs> {
    let b = raw.as_bytes();
    if b.is_empty() || b.len() > MAX_BYTES {
        return None;
    }
    let cls = classes(b);
    if cls & BAD != 0 {
        return None;
    }
    if rules.refang == Refang::Url && has_http_prefix_to_refang(b) {
        return None;
    }
    let lowercase = cls & UPPER == 0;
    if rules.composite {
        // Exactly one `|` (the pipeline refuses none or several), neither
        // half a control-character string (a plain half never is), so the
        // pipeline splits at it: what remains is the rewrite and the
        // validation.
        let pipe = b.iter().position(|&c| c == b'|')?;
        if b.get(pipe + 1..).is_some_and(|rest| rest.contains(&b'|')) {
            return None;
        }
        return rewritten_as_is_and_valid(rules, raw).then_some(AsIs {
            lowercase,
            split: Some(pipe),
        });
    }
    decided(rules, raw, cls).then_some(AsIs {
        lowercase,
        split: None,
    })
}

/// The rewrite and the validation of a plain value with byte classes
/// `cls` leave it stored as it is.
fn decided(rules: &TypeRules, raw: &str, cls: u8) -> bool {
    let b = raw.as_bytes();
    match (rules.rewrite, rules.check) {
        // `domain`: lowercase and dot-trimming change nothing, and a valid
        // domain is not punycoded. `hostname`: lowercase changes nothing.
        (Rewrite::Domain, Check::Domain) | (Rewrite::Lower, Check::Hostname) => {
            cls & (UPPER | OTHER) == 0 && is_plain_domain_valid(b)
        }
        // Hashes: lowercase changes nothing, `isHashValid` holds.
        (Rewrite::Lower, Check::Hash(len)) => cls & !(HEX_LOWER | DIGIT) == 0 && b.len() == len,
        // `url` and its kin: nothing to rewrite, no newline.
        (Rewrite::None, Check::NoNewline | Check::Any) => true,
        // `ip-src`, `ip-dst` in dotted decimal: `normalizeIp` only touches
        // a value with a `/` or a `:`, and the validation is PHP's IPv4
        // filter.
        (Rewrite::Ip, Check::Ip) if cls & !(DIGIT | DOT) == 0 => ip::filter_ipv4(b),
        // Everything else: decided by the type's rewrite and validation.
        _ => rewritten_as_is_and_valid(rules, raw),
    }
}

/// The type's rewrite leaves `raw` as it is (the very same slice back) and
/// its validation passes.
fn rewritten_as_is_and_valid(rules: &TypeRules, raw: &str) -> bool {
    let unchanged = match rewrite::rewrite(rules.rewrite, Cow::Borrowed(raw)) {
        Ok(Rewritten::Text(Cow::Borrowed(v))) => {
            std::ptr::eq(v.as_ptr(), raw.as_ptr()) && v.len() == raw.len()
        }
        _ => false,
    };
    unchanged && validate::check(rules.check, raw).is_ok()
}

/// Refang rule 1 (`hxxp`, `hxtp`, `htxp`, `meow` in any case; `h[tt]p`
/// holds a `[`, which a plain value has not) would rewrite the value.
fn has_http_prefix_to_refang(b: &[u8]) -> bool {
    let Some(head) = b.get(..4) else {
        return false;
    };
    let mut h = [0u8; 4];
    for (o, &c) in h.iter_mut().zip(head) {
        *o = c.to_ascii_lowercase();
    }
    matches!(&h, b"hxxp" | b"hxtp" | b"htxp" | b"meow")
}

/// MISP's `isDomainValid` for a value whose bytes are all `[a-z0-9.-]`
/// and that neither starts nor ends with a dot (so that the `domain`
/// rewrite's dot trimming is a no-op too): a dot, something before the
/// last one, and a last label of two or more bytes.
fn is_plain_domain_valid(b: &[u8]) -> bool {
    if b.first() == Some(&b'.') || b.last() == Some(&b'.') {
        return false;
    }
    // The last label is short: scanning from the end finds its dot fast.
    match b.iter().rposition(|&c| c == b'.') {
        Some(dot) => dot > 0 && b.len() > dot + 2,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{normalize_ref, pipeline, rules};
    use super::*;
    use crate::AttributeType;
    use proptest::prelude::*;

    /// The fast path agrees with the full pipeline: whenever it claims a
    /// value, the pipeline stores that very value, unsplit, borrowed.
    fn agrees(ty: AttributeType, raw: &str) {
        let r = rules::rules(ty);
        let full = pipeline(r, ty, raw);
        if let Some(AsIs { lowercase, split }) = stored_as_is(&r, raw) {
            assert_eq!(
                lowercase,
                !raw.bytes().any(|c| c.is_ascii_uppercase()),
                "{ty} {raw:?}"
            );
            assert!(
                raw.bytes().all(|c| (0x21..=0x7E).contains(&c)),
                "{ty} {raw:?}"
            );
            let v = full
                .unwrap_or_else(|e| panic!("{ty} {raw:?}: fast path took a rejected value ({e})"));
            assert!(v.is_borrowed(), "{ty} {raw:?}");
            assert_eq!(v.as_str(), raw, "{ty} {raw:?}");
            assert_eq!(split.is_some(), r.composite, "{ty} {raw:?}");
            let halves = split.map(|i| (&raw[..i], &raw[i + 1..]));
            assert_eq!(
                (v.value1(), v.value2()),
                halves.map_or((raw, None), |(a, b)| (a, Some(b))),
                "{ty} {raw:?}"
            );
        }
        // And the public function gives the pipeline's answer either way.
        let public = normalize_ref(ty, raw);
        match (&public, &pipeline(r, ty, raw)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(
                    (a.as_str(), a.value2()),
                    (b.as_str(), b.value2()),
                    "{ty} {raw:?}"
                );
                assert_eq!(a.is_borrowed(), b.is_borrowed(), "{ty} {raw:?}");
                if a.is_known_lowercase_ascii() {
                    assert_eq!(a.as_str().to_ascii_lowercase(), a.as_str(), "{ty} {raw:?}");
                    assert!(!a.as_str().contains(' '), "{ty} {raw:?}");
                }
            }
            (Err(a), Err(b)) => assert_eq!(a.reason(), b.reason(), "{ty} {raw:?}"),
            (a, b) => panic!("{ty} {raw:?}: {a:?} vs {b:?}"),
        }
    }

    fn ty(name: &str) -> AttributeType {
        AttributeType::from_name(name).unwrap_or_else(|| panic!("type {name}"))
    }

    #[test]
    fn canonical_values_take_the_fast_path() {
        let fast = |t: &str, v: &str| stored_as_is(&rules::rules(ty(t)), v).is_some();
        assert!(fast("domain", "example.com"));
        assert!(fast("domain", "a-b.example.co"));
        assert!(fast("hostname", "www.example.com"));
        assert!(fast("url", "https://example.com/a?b=c"));
        assert!(fast("md5", "d41d8cd98f00b204e9800998ecf8427e"));
        assert!(fast("ip-dst", "198.51.100.7"));
        assert!(fast("text", "anything-at_all"));
        // Not proven here (the pipeline decides).
        assert!(!fast("domain", "Example.com"));
        assert!(!fast("domain", "example.com."));
        assert!(!fast("domain", ".example.com"));
        assert!(!fast("domain", "example[.]com"));
        assert!(!fast("domain", "exa_mple.com"));
        assert!(!fast("domain", "localhost"));
        assert!(!fast("domain", "example.c"));
        assert!(!fast("url", "hxxps://example.com"));
        assert!(!fast("url", "MEOW://example.com"));
        assert!(!fast("url", "https://example.com/a b"));
        assert!(!fast("md5", "D41D8CD98F00B204E9800998ECF8427E"));
        assert!(!fast("md5", "d41d8cd98f00b204e9800998ecf8427"));
        assert!(!fast("ip-dst", "2001:DB8::1"));
        assert!(!fast("ip-dst", "198.51.100.7/32"));
        // Composite types: plain, one `|`, the rewrite and the validation
        // pass.
        assert!(fast("domain|ip", "example.com|198.51.100.7"));
        assert!(fast(
            "filename|md5",
            "a.exe|d41d8cd98f00b204e9800998ecf8427e"
        ));
        assert!(fast("ip-dst|port", "198.51.100.7|443"));
        assert!(fast("hostname|port", "www.example.com|443"));
        assert!(!fast("domain|ip", "example.com|198.51.100.7|x"));
        assert!(!fast("domain|ip", "example.com"));
        assert!(!fast("domain|ip", "Example.com|198.51.100.7"));
        assert!(!fast(
            "filename|md5",
            "a.exe|D41D8CD98F00B204E9800998ECF8427E"
        ));
        assert!(!fast(
            "filename|md5",
            "a b.exe|d41d8cd98f00b204e9800998ecf8427e"
        ));
        assert!(!fast("hostname|port", "www.example.com:443"));
        // Dotted decimal that PHP's IPv4 filter refuses is not claimed.
        assert!(fast("ip-src", "0.0.0.0"));
        assert!(fast("ip-src", "255.255.255.255"));
        for bad in [
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "01.2.3.4",
            "1..2.3",
            "1.2.3.4.",
            "1234",
        ] {
            assert!(!fast("ip-src", bad), "{bad}");
            assert!(normalize_ref(ty("ip-src"), bad).is_err(), "{bad}");
        }
        assert!(!fast("text", ""));
        assert!(!fast("text", " x"));
        assert!(!fast("text", "é"));
        for t in [
            "domain", "hostname", "url", "md5", "ip-dst", "text", "boolean", "AS",
        ] {
            for v in [
                "example.com",
                "Example.com",
                "1",
                "0",
                "t",
                "AS1",
                "1.10",
                "https://x.y",
                "hxxp://x.y",
            ] {
                agrees(ty(t), v);
            }
        }
    }

    /// Dotted decimal of every shape: octets of one to four digits, with
    /// and without leading zeros, three to five of them.
    fn dotted() -> impl Strategy<Value = String> {
        let octet = prop_oneof![
            (0..=255u32).prop_map(|n| n.to_string()),
            (0..=999u32).prop_map(|n| format!("{n:03}")),
            (0..=9999u32).prop_map(|n| n.to_string()),
            Just(String::new()),
        ];
        proptest::collection::vec(octet, 3..6).prop_map(|v| v.join("."))
    }

    /// Bytes that make the fast path's decisions: letters of every class,
    /// digits, dots, dashes, the refang and trim triggers, non-ASCII.
    fn near_canonical() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("a"),
            Just("f"),
            Just("g"),
            Just("z"),
            Just("A"),
            Just("F"),
            Just("Z"),
            Just("0"),
            Just("9"),
            Just("."),
            Just(".."),
            Just("-"),
            Just("_"),
            Just("/"),
            Just(":"),
            Just("|"),
            Just("["),
            Just("("),
            Just("[.]"),
            Just(" "),
            Just("\n"),
            Just("\t"),
            Just("\0"),
            Just("é"),
            Just("😀"),
            Just("hxxp"),
            Just("HXTP"),
            Just("meow"),
            Just("https://"),
            Just("com"),
            Just("example"),
            Just("1.2.3.4"),
            Just("::"),
            Just("2001:db8"),
            Just("/32"),
            Just("d41d8cd98f00b204e9800998ecf8427e"),
            Just("xn--"),
            Just("true"),
            Just("AS"),
        ];
        proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
    }

    /// Composite values: realistic halves (canonical or not), sometimes a
    /// third part.
    fn composite() -> impl Strategy<Value = String> {
        let first = prop_oneof![
            Just("example.com"),
            Just("www.example.com"),
            Just("Example.com"),
            Just("example.com."),
            Just("ex ample.com"),
            Just("a.exe"),
            Just("A.EXE"),
            Just("1.2.3.4"),
            Just("localhost"),
            Just(""),
        ];
        let second = prop_oneof![
            Just("198.51.100.7"),
            Just("1.2.3.4/24"),
            Just("2001:db8::1"),
            Just("2001:DB8::1"),
            Just("443"),
            Just("0"),
            Just("65536"),
            Just("d41d8cd98f00b204e9800998ecf8427e"),
            Just("D41D8CD98F00B204E9800998ECF8427E"),
            Just("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            Just(""),
        ];
        (first, second, proptest::bool::ANY).prop_map(|(a, b, third)| {
            if third {
                format!("{a}|{b}|x")
            } else {
                format!("{a}|{b}")
            }
        })
    }

    fn any_composite() -> impl Strategy<Value = AttributeType> {
        let composites: Vec<AttributeType> =
            AttributeType::all().filter(|t| t.is_composite()).collect();
        proptest::sample::select(composites)
    }

    fn any_type() -> impl Strategy<Value = AttributeType> {
        (0..AttributeType::COUNT).prop_map(|i| AttributeType::from_index(i).unwrap_or(ty("text")))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn fast_path_is_the_pipeline(t in any_type(), v in near_canonical()) {
            agrees(t, &v);
        }

        #[test]
        fn fast_path_is_the_pipeline_on_any_string(t in any_type(), v in any::<String>()) {
            agrees(t, &v);
        }

        #[test]
        fn fast_path_on_dotted_decimal(
            t in proptest::sample::select(&["ip-src", "ip-dst"][..]),
            v in dotted(),
        ) {
            agrees(ty(t), &v);
        }

        #[test]
        fn fast_path_on_composites(t in any_composite(), v in composite()) {
            agrees(t, &v);
        }

        #[test]
        fn fast_path_on_composites_of_any_pieces(
            t in any_composite(),
            a in near_canonical(),
            b in near_canonical(),
        ) {
            agrees(t, &format!("{a}|{b}"));
        }

        #[test]
        fn fast_path_on_hot_types(
            t in proptest::sample::select(&["domain", "hostname", "url", "link", "ip-dst", "ip-src", "md5", "sha1", "sha256", "ssdeep", "filename"][..]),
            v in near_canonical(),
        ) {
            agrees(ty(t), &v);
        }
    }
}
