//! Match keys and correlation exclusions (contract §4, §5).
//!
//! A *match key* is what correlation compares: the normalised value with
//! trailing spaces removed and Unicode lower-casing applied (MISP compares
//! in MySQL's case-insensitive, PAD SPACE collation; §9.8: accents are
//! *not* folded).
//!
//! An *exclusion* is a pattern tested against a normalised value, case
//! sensitively, as MISP's save-time check does: `%x%` contains, `%x`
//! suffix, `x%` prefix, otherwise equality; `%` elsewhere is literal; a
//! pattern that strips to nothing (`%`, `%%`) excludes everything; the
//! empty pattern excludes nothing (MISP skips empty exclusions).

use std::borrow::Cow;

use aho_corasick::AhoCorasick;

/// The match key of a normalised value.
///
/// # Examples
///
/// ```
/// use misp_correlate::correlation::match_key;
/// assert_eq!(match_key("Invoice.EXE  "), "invoice.exe");
/// assert_eq!(match_key("ÉTÉ"), "été");
/// assert_eq!(match_key("already"), "already");
/// ```
pub fn match_key(value: &str) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    // Trailing spaces are ASCII: any byte position after a non-space is
    // a character boundary.
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    let t = value.get(..end).unwrap_or(value);
    let (non_ascii, upper) = scan_case(t.as_bytes());
    if !non_ascii {
        if upper {
            Cow::Owned(t.to_ascii_lowercase())
        } else {
            Cow::Borrowed(t)
        }
    } else {
        let lower = t.to_lowercase();
        if lower == t {
            Cow::Borrowed(t)
        } else {
            Cow::Owned(lower)
        }
    }
}

/// The match key of `value`'s value1: the value itself when normalising
/// already saw that it is lower-case ASCII without spaces
/// ([`NormalizedRef::is_known_lowercase_ascii`]), with no second pass over
/// it; otherwise [`match_key`].
///
/// [`NormalizedRef::is_known_lowercase_ascii`]: misp_core::NormalizedRef::is_known_lowercase_ascii
pub(crate) fn value1_key<'v>(value: &'v misp_core::NormalizedRef<'_>) -> Cow<'v, str> {
    if value.is_known_lowercase_ascii() {
        Cow::Borrowed(value.value1())
    } else {
        match_key(value.value1())
    }
}

/// Whether `bytes` hold a non-ASCII byte, and an ASCII upper-case
/// letter: one pass, eight bytes at a time.
fn scan_case(bytes: &[u8]) -> (bool, bool) {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let (mut non_ascii, mut upper) = (0u64, 0u64);
    let mut word = |w: u64| {
        // Per byte, on its low seven bits h (no carry between bytes):
        // bit 7 of h + 0x3F is h >= b'A', of h + 0x25 is h > b'Z'.
        let h = w & LOW7;
        non_ascii |= w;
        upper |= (h + 0x3F3F_3F3F_3F3F_3F3F) & !(h + 0x2525_2525_2525_2525) & !w;
    };
    let chunks = bytes.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        word(c.try_into().map_or(0, u64::from_le_bytes));
    }
    let mut last = [0u8; 8];
    last.iter_mut().zip(rest).for_each(|(l, &b)| *l = b);
    word(u64::from_le_bytes(last));
    (non_ascii & HIGH != 0, upper & HIGH != 0)
}

/// One parsed exclusion pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    All,
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl Pattern {
    fn parse(p: &str) -> Option<Pattern> {
        if p.is_empty() {
            return None;
        }
        let starts = p.starts_with('%');
        let ends = p.ends_with('%');
        Some(if starts && ends {
            // "%" alone is both; it strips to "".
            let inner = if p.len() >= 2 { &p[1..p.len() - 1] } else { "" };
            if inner.is_empty() {
                Pattern::All
            } else {
                Pattern::Contains(inner.to_owned())
            }
        } else if starts {
            Pattern::Suffix(p[1..].to_owned())
        } else if ends {
            Pattern::Prefix(p[..p.len() - 1].to_owned())
        } else {
            Pattern::Exact(p.to_owned())
        })
    }
}

/// A set of exclusion patterns, compiled for matching.
///
/// Exact patterns are a hash set; prefix, suffix and contains patterns
/// share one Aho-Corasick automaton, so matching costs one pass over the
/// value whatever the number of patterns.
#[derive(Debug, Clone, Default)]
pub struct Exclusions {
    patterns: Vec<String>,
    all: bool,
    exact: ahash::AHashSet<String>,
    needles: Vec<Pattern>,
    automaton: Option<AhoCorasick>,
}

impl Exclusions {
    /// An empty set.
    pub fn new() -> Exclusions {
        Exclusions::default()
    }

    /// The patterns, in the order they were added.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether no pattern is set.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Adds `pattern`; returns false if it was already present.
    pub fn insert(&mut self, pattern: &str) -> bool {
        if self.patterns.iter().any(|p| p == pattern) {
            return false;
        }
        self.patterns.push(pattern.to_owned());
        self.compile();
        true
    }

    /// Removes `pattern`; returns false if it was not present.
    pub fn remove(&mut self, pattern: &str) -> bool {
        let before = self.patterns.len();
        self.patterns.retain(|p| p != pattern);
        if self.patterns.len() == before {
            return false;
        }
        self.compile();
        true
    }

    fn compile(&mut self) {
        self.all = false;
        self.exact.clear();
        self.needles.clear();
        for p in &self.patterns {
            match Pattern::parse(p) {
                None => {}
                Some(Pattern::All) => self.all = true,
                Some(Pattern::Exact(s)) => {
                    self.exact.insert(s);
                }
                Some(other) => self.needles.push(other),
            }
        }
        let texts: Vec<&str> = self
            .needles
            .iter()
            .map(|p| match p {
                Pattern::Prefix(s) | Pattern::Suffix(s) | Pattern::Contains(s) => s.as_str(),
                Pattern::All | Pattern::Exact(_) => "",
            })
            .collect();
        // Building can only fail on enormous pattern sets; matching then
        // falls back to a linear scan.
        self.automaton = if texts.is_empty() {
            None
        } else {
            AhoCorasick::new(&texts).ok()
        };
    }

    /// Whether `value` (a normalised value) is excluded.
    ///
    /// # Examples
    ///
    /// ```
    /// use misp_correlate::correlation::Exclusions;
    /// let mut ex = Exclusions::new();
    /// ex.insert("%.google.com");
    /// ex.insert("1.2.3.%");
    /// ex.insert("%tor%");
    /// assert!(ex.is_excluded("www.google.com"));
    /// assert!(!ex.is_excluded("www.google.com.evil"));
    /// assert!(ex.is_excluded("1.2.3.4"));
    /// assert!(ex.is_excluded("history"));
    /// ```
    pub fn is_excluded(&self, value: &str) -> bool {
        if self.all {
            return true;
        }
        if !self.exact.is_empty() && self.exact.contains(value) {
            return true;
        }
        if self.needles.is_empty() {
            return false;
        }
        match &self.automaton {
            Some(ac) => ac.find_overlapping_iter(value).any(|m| {
                match self.needles.get(m.pattern().as_usize()) {
                    Some(Pattern::Contains(_)) => true,
                    Some(Pattern::Prefix(_)) => m.start() == 0,
                    Some(Pattern::Suffix(_)) => m.end() == value.len(),
                    _ => false,
                }
            }),
            None => self.needles.iter().any(|p| match p {
                Pattern::Contains(s) => value.contains(s.as_str()),
                Pattern::Prefix(s) => value.starts_with(s.as_str()),
                Pattern::Suffix(s) => value.ends_with(s.as_str()),
                _ => false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(patterns: &[&str]) -> Exclusions {
        let mut e = Exclusions::new();
        for p in patterns {
            e.insert(p);
        }
        e
    }

    #[test]
    fn reference_vectors() {
        // misp-correlation-reference §15 "Exclusions".
        let e = ex(&["%.google.com", "1.2.3.%", "%tor%", "foo"]);
        assert!(e.is_excluded("www.google.com"));
        assert!(!e.is_excluded("www.google.com.evil"));
        assert!(e.is_excluded("1.2.3.4"));
        assert!(e.is_excluded("history"));
        assert!(e.is_excluded("foo"));
        assert!(
            !e.is_excluded("Foo"),
            "write-time matching is case-sensitive"
        );
        assert!(!e.is_excluded("food"));
    }

    #[test]
    fn percent_alone_excludes_everything_and_empty_nothing() {
        assert!(ex(&["%"]).is_excluded("anything"));
        assert!(ex(&["%%"]).is_excluded(""));
        assert!(!ex(&[""]).is_excluded(""));
        assert!(!ex(&[]).is_excluded("x"));
    }

    #[test]
    fn percent_in_the_middle_is_literal() {
        let e = ex(&["a%b", "x%y%", "%_z"]);
        assert!(e.is_excluded("a%b"));
        assert!(!e.is_excluded("axxb"));
        assert!(e.is_excluded("x%yzzz"));
        assert!(!e.is_excluded("xayzzz"));
        assert!(e.is_excluded("aa_z"));
        assert!(!e.is_excluded("aabz"));
    }

    #[test]
    fn overlapping_needles_anchor_correctly() {
        // The prefix needle "ab" occurs at 2, the suffix needle "ab" at the end.
        let e = ex(&["ab%"]);
        assert!(!e.is_excluded("xxab"));
        assert!(e.is_excluded("abxx"));
        let e = ex(&["%ab"]);
        assert!(e.is_excluded("abab"));
        assert!(!e.is_excluded("abx"));
        let e = ex(&["a%", "%a"]);
        assert!(e.is_excluded("aXa"));
        assert!(e.is_excluded("Xa"));
        assert!(!e.is_excluded("XaX"));
    }

    #[test]
    fn insert_and_remove() {
        let mut e = ex(&["x"]);
        assert!(!e.insert("x"));
        assert!(e.remove("x"));
        assert!(!e.remove("x"));
        assert!(!e.is_excluded("x"));
        assert!(e.is_empty());
    }

    #[test]
    fn case_scan_agrees_with_the_byte_checks() {
        let samples = [
            "",
            "a",
            "A",
            "@",
            "[",
            "`",
            "{",
            "Z",
            "z",
            "0123456789",
            "abcdefgh",
            "abcdefgH",
            "Habcdefgh",
            "abcdefghZ",
            "été",
            "ÉTÉ",
            "\u{7f}\u{0}",
            "xn--80ak6aa92e.com",
            "http://Example.com/Path?Q=1",
            "\u{ff}abc",
        ];
        for s in samples {
            let b = s.as_bytes();
            let want = (!b.is_ascii(), b.iter().any(u8::is_ascii_uppercase));
            assert_eq!(scan_case(b), want, "{s:?}");
        }
        for x in 0..=255u8 {
            for len in 1..=17 {
                let mut v = vec![b'a'; len];
                v[len - 1] = x;
                let want = (!v.is_ascii(), v.iter().any(u8::is_ascii_uppercase));
                assert_eq!(scan_case(&v), want, "{x} at {}", len - 1);
            }
        }
    }

    /// `value1_key` skips `match_key` for values that `normalize_ref`
    /// knows to be lower-case ASCII: it must be their key.
    #[test]
    fn known_lowercase_values_are_their_own_key() {
        use misp_core::{AttributeType, normalize_ref};
        let samples = [
            ("url", "https://example.com/a?b=c&d=%20"),
            ("url", "https://Example.com/"),
            ("domain", "example.com"),
            ("hostname", "a-b.example.co"),
            ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
            ("ip-dst", "198.51.100.7"),
            ("text", "x~!@#$%^&*)_+{}|:<>?"),
            ("text", "x "),
            ("filename", "Invoice.EXE"),
        ];
        let mut known = 0;
        for (t, v) in samples {
            let ty = AttributeType::from_name(t).unwrap_or_else(|| panic!("{t}"));
            let Ok(nv) = normalize_ref(ty, v) else {
                continue;
            };
            if nv.is_known_lowercase_ascii() {
                known += 1;
                assert_eq!(match_key(nv.value1()), nv.value1(), "{t} {v:?}");
                assert_eq!(value1_key(&nv), nv.value1(), "{t} {v:?}");
            }
        }
        assert!(known >= 6, "the fast path saw {known} of the samples");
    }

    #[test]
    fn match_keys() {
        assert_eq!(match_key("ABC"), "abc");
        assert_eq!(match_key("abc  "), "abc");
        assert_eq!(match_key(" abc"), " abc", "only trailing spaces go");
        assert_eq!(match_key("abc\t"), "abc\t");
        assert_eq!(match_key("ÀÉ"), "àé");
        assert_ne!(match_key("é"), match_key("e"), "§9.8: no accent folding");
        assert_eq!(match_key("0"), "0");
    }
}
