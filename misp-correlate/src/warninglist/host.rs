//! Hosts of values and their suffixes, for hostname lists.
//!
//! MISP (`Warninglist::__evalHostname`) takes the host of a value without a
//! URL parser: the third `/`-separated field when the value contains `//`
//! anywhere, else the text before the first `/`; it removes trailing dots,
//! splits on `.`, and rebuilds suffixes from the right (`com`,
//! `example.com`, `www.example.com`), returning the first that is an entry.
//! PHP's `empty()` is true for `"0"`, so while the rebuilt suffix is `""` or
//! `"0"` the next label replaces it instead of being prepended: `x.com.0`
//! is tried as `0`, `com`, `x.com`.
//!
//! Every candidate is a contiguous slice of the host, so the walk yields
//! `&str` slices and never builds a string.

use super::hash::read_u64;

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x7f` in every byte.
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of every zero byte of `word`, exactly (no carry crosses a
/// byte because `0x7f + 0x7f < 0x100`).
#[inline]
pub(crate) fn zero_bytes(word: u64) -> u64 {
    !(((word & LOW7).wrapping_add(LOW7)) | word | LOW7)
}

/// The high bit of every byte of `word` equal to `needle`.
#[inline]
pub(crate) fn bytes_equal(word: u64, needle: u8) -> u64 {
    zero_bytes(word ^ (ONES * u64::from(needle)))
}

/// The eight bytes of `bytes` from `at` (zero past the end), little-endian.
#[inline]
fn word_at(bytes: &[u8], at: usize) -> u64 {
    read_u64(bytes.get(at..).unwrap_or(&[]))
}

/// The first position of `needle` in `bytes`, eight bytes at a time.
/// Values are short: `memchr`'s set-up costs more than this loop on them.
#[inline]
pub(crate) fn find_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    let len = bytes.len();
    if len < 8 {
        return bytes.iter().position(|&b| b == needle);
    }
    // Whole chunks through an iterator: no bounds test per word.
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        let found = bytes_equal(read_u64(chunk), needle);
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    if at < len {
        // The last eight bytes, less those already searched.
        let start = len - 8;
        let found = bytes_equal(word_at(bytes, start), needle) & (!0u64 << (8 * (at - start)));
        if found != 0 {
            return Some(start + (found.trailing_zeros() / 8) as usize);
        }
    }
    None
}

/// The last position of `needle` in `bytes`, eight bytes at a time.
#[inline]
pub(crate) fn rfind_byte(bytes: &[u8], needle: u8) -> Option<usize> {
    let mut chunks = bytes.rchunks_exact(8);
    let mut end = bytes.len();
    for chunk in &mut chunks {
        let found = bytes_equal(read_u64(chunk), needle);
        if found != 0 {
            return Some(end - 8 + (63 - found.leading_zeros()) as usize / 8);
        }
        end -= 8;
    }
    chunks.remainder().iter().rposition(|&b| b == needle)
}

/// `text` without the dots at its end.
#[inline]
fn trim_end_dots(text: &str) -> &str {
    let mut end = text.len();
    while end > 0 && text.as_bytes().get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    text.get(..end).unwrap_or("")
}

/// Calls `visit` with every position of `needle` in `bytes`, in order,
/// eight bytes at a time.
#[inline]
pub(crate) fn for_each_byte(bytes: &[u8], needle: u8, mut visit: impl FnMut(usize)) {
    let len = bytes.len();
    if len < 8 {
        for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == needle) {
            visit(at);
        }
        return;
    }
    let mut each = |at: usize, mut found: u64| {
        while found != 0 {
            visit(at + (found.trailing_zeros() / 8) as usize);
            found &= found - 1;
        }
    };
    let mut at = 0;
    for chunk in bytes.chunks_exact(8) {
        each(at, bytes_equal(read_u64(chunk), needle));
        at += 8;
    }
    if at < len {
        // The last eight bytes, less those already searched.
        let start = len - 8;
        each(
            start,
            bytes_equal(word_at(bytes, start), needle) & (!0u64 << (8 * (at - start))),
        );
    }
}

/// The host of `part` as MISP finds it, or `None` when the value has no
/// third `/`-field.
pub(crate) fn misp_host(part: &str) -> Option<&str> {
    misp_host_and_slash(part).0
}

/// [`misp_host`], and whether `part` contains a `/` (found on the way:
/// the caller need not search for it again).
#[inline]
pub(crate) fn misp_host_and_slash(part: &str) -> (Option<&str>, bool) {
    let bytes = part.as_bytes();
    let Some(first) = find_byte(bytes, b'/') else {
        return (Some(trim_end_dots(part)), false);
    };
    let after = |from: usize| {
        bytes
            .get(from..)
            .and_then(|rest| find_byte(rest, b'/'))
            .map(|i| from + i)
    };
    let host = if bytes.get(first + 1) == Some(&b'/') {
        // The common URL case, `scheme://`: the first two slashes are
        // adjacent, and the third `/`-field starts right after them.
        let start = first + 2;
        part.get(start..after(start).unwrap_or(bytes.len()))
    } else if bytes
        .get(first..)
        .is_some_and(|rest| rest.windows(2).any(|w| w == b"//"))
    {
        // `//` further on: the third `/`-separated field.
        after(first + 1)
            .and_then(|second| part.get(second + 1..after(second + 1).unwrap_or(bytes.len())))
    } else {
        part.get(..first)
    };
    (host.map(trim_end_dots), true)
}

/// The host of `part` with a real URL reading (improved mode): an optional
/// `scheme://` or `//` authority with userinfo and port removed, IPv6
/// brackets removed, `?query` and `#fragment` cut off.
pub(crate) fn parsed_host(part: &str) -> &str {
    let (rest, has_authority) = match part.strip_prefix("//") {
        Some(rest) => (rest, true),
        None => match scheme_len(part) {
            Some(len) => (part.get(len + 3..).unwrap_or(""), true),
            None => (part, false),
        },
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = match authority.rsplit_once('@') {
        Some((_userinfo, host)) if has_authority => host,
        _ => authority,
    };
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        match authority.rsplit_once(':') {
            Some((host, port))
                if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) =>
            {
                host
            }
            _ => authority,
        }
    };
    host.trim_end_matches('.')
}

/// Length of a `scheme` followed by `://` at the start of `text`.
fn scheme_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let len = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.'))?;
    text.get(len..)?.starts_with("://").then_some(len)
}

/// Calls `visit` with each candidate suffix of `host`, shortest first, until
/// it returns `true`. With `zero_quirk`, trailing `""`/`"0"` labels are
/// replaced rather than kept, as in MISP.
///
/// (Finding the dots once as a bit mask and taking each label's start from
/// it measured no cheaper than this backward search: about 60 instructions
/// per domain to build the mask against about 35 for the searches. A mask
/// of the dots and slashes of the whole value, shared by the host reading,
/// this walk, the dot-anchored substring searcher and the CIDR split,
/// measured 2-15% more instructions per value than the searches it
/// replaced, which stop at the first hit.)
#[inline(always)]
pub(crate) fn for_each_suffix<'h>(
    host: &'h str,
    zero_quirk: bool,
    mut visit: impl FnMut(&'h str) -> bool,
) {
    // Suffixes start after a dot or at 0 and end before a dot or at the
    // end: always on character boundaries.
    for_each_suffix_range(host.as_bytes(), zero_quirk, |start, end, _| {
        host.get(start..end).is_some_and(&mut visit)
    });
}

/// [`for_each_suffix`] as byte ranges `start..end` of `host`: the plan
/// keeps offsets, and a range needs neither the character-boundary tests
/// of `str` slicing nor the pointer arithmetic that turned slices back into
/// offsets. The third argument tells whether the suffix is a single label
/// (contains no dot), known here without a search.
#[inline(always)]
fn for_each_suffix_range(
    host: &[u8],
    zero_quirk: bool,
    mut visit: impl FnMut(usize, usize, bool) -> bool,
) {
    // End of the suffix being rebuilt; `None` while MISP's rebuilt string is
    // still "" or "0".
    let mut base_end = if zero_quirk { None } else { Some(host.len()) };
    let mut end = host.len();
    loop {
        let start = host
            .get(..end)
            .and_then(|b| rfind_byte(b, b'.'))
            .map_or(0, |dot| dot + 1);
        let suffix_end = match base_end {
            Some(base_end) => base_end,
            None => {
                if !matches!(host.get(start..end), Some([] | [b'0'])) {
                    base_end = Some(end);
                }
                end
            }
        };
        // The suffix ends with the label that starts at `start` exactly
        // when nothing was kept after it.
        if visit(start, suffix_end, suffix_end == end) || start == 0 {
            return;
        }
        end = start - 1;
    }
}

/// MISP's normalisation of a hostname entry: ASCII lower case, dots removed
/// at both ends. Returns the trimmed slice (to be lower-cased by the caller).
pub(crate) fn trim_entry(entry: &str) -> &str {
    entry.trim_matches('.')
}

/// The bit of a key or suffix `len` bytes long in a set of lengths: bit
/// `len`, or bit 63 for every length from 63 on.
#[inline]
pub(crate) fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// Host suffixes whose buckets are touched ahead of the look-ups; longer
/// hosts look the rest up without it.
pub(crate) const MAX_TOUCHED_SUFFIXES: usize = 8;

/// The first [`MAX_TOUCHED_SUFFIXES`] suffixes of a host (in
/// [`for_each_suffix`] order), hashed and touched before any is looked
/// up, so that their cache misses overlap: the plan the matcher and the
/// warninglist snapshot share.
///
/// The caller owns the plan and [`plan`](Self::plan)s into it, and the
/// admitted suffixes are kept as offsets into the host: built and returned
/// by value, with `&str` cells (whose empty value is not all zero bits), a
/// plan cost a `memcpy` call and two dozen stores per value.
pub(crate) struct TouchedSuffixes<'h> {
    host: &'h str,
    zero_quirk: bool,
    /// `(start, end, hash)` of each suffix `touch` admitted.
    admitted: [(u32, u32, u64); MAX_TOUCHED_SUFFIXES],
    admitted_len: usize,
    /// Number of suffixes planned.
    planned: usize,
    /// Whether the host has more suffixes than were planned.
    overflow: bool,
}

impl<'h> TouchedSuffixes<'h> {
    /// An empty plan.
    #[inline]
    pub(crate) fn new() -> TouchedSuffixes<'h> {
        TouchedSuffixes {
            host: "",
            zero_quirk: false,
            admitted: [(0, 0, 0); MAX_TOUCHED_SUFFIXES],
            admitted_len: 0,
            planned: 0,
            overflow: false,
        }
    }

    /// Hashes each of the first suffixes of `host` with `hash` (or takes
    /// `whole.1` for a suffix `whole.0` bytes long: the value part's own
    /// hash, when both tables share a seed) and keeps those `touch`
    /// admits, replacing the plan's previous contents.
    ///
    /// A single-label suffix (no dot) whose [`length_bit`] is not in
    /// `single_label_lengths` (the table's
    /// [`single_label_lengths`](super::table::KeyTable::single_label_lengths))
    /// can equal no key: it is neither hashed nor touched. That is the
    /// top-level label of nearly every host (`com`, the last number of an
    /// IPv4 address), as the real hostname lists have four keys without a
    /// dot. Pass `u64::MAX` to hash every suffix.
    #[inline(always)]
    pub(crate) fn plan(
        &mut self,
        host: &'h str,
        zero_quirk: bool,
        whole: Option<(usize, u64)>,
        single_label_lengths: u64,
        hash: impl Fn(&[u8]) -> u64,
        mut touch: impl FnMut(u64) -> bool,
    ) {
        self.host = host;
        self.zero_quirk = zero_quirk;
        self.admitted_len = 0;
        self.planned = 0;
        // The suffixes of a host longer than 4 GiB (offsets beyond `u32`)
        // are all looked up unplanned.
        self.overflow = u32::try_from(host.len()).is_err();
        if self.overflow {
            return;
        }
        let bytes = host.as_bytes();
        for_each_suffix_range(bytes, zero_quirk, |start, end, single_label| {
            if self.planned == MAX_TOUCHED_SUFFIXES {
                self.overflow = true;
                return true;
            }
            self.planned += 1;
            if single_label && single_label_lengths & length_bit(end - start) == 0 {
                return false;
            }
            let hash = match whole {
                Some((len, hash)) if end - start == len => hash,
                _ => hash(bytes.get(start..end).unwrap_or(&[])),
            };
            if touch(hash) {
                if let Some(cell) = self.admitted.get_mut(self.admitted_len) {
                    // Lossless: the host is shorter than 4 GiB.
                    *cell = (start as u32, end as u32, hash);
                    self.admitted_len += 1;
                }
            }
            false
        });
    }

    /// The admitted suffixes and their hashes, in suffix order.
    #[inline]
    pub(crate) fn admitted(&self) -> impl Iterator<Item = (&'h str, u64)> + '_ {
        let host = self.host;
        self.admitted
            .get(..self.admitted_len)
            .unwrap_or(&[])
            .iter()
            .filter_map(move |&(start, end, hash)| {
                host.get(start as usize..end as usize).map(|s| (s, hash))
            })
    }

    /// Calls `visit` with every suffix of the planned host after the
    /// planned ones (none unless the host had more), in order.
    pub(crate) fn for_each_unplanned(&self, mut visit: impl FnMut(&'h str)) {
        if !self.overflow {
            return;
        }
        let mut skip = self.planned;
        for_each_suffix(self.host, self.zero_quirk, |suffix| {
            if skip > 0 {
                skip -= 1;
            } else {
                visit(suffix);
            }
            false
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suffixes(host: &str, quirk: bool) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_suffix(host, quirk, |s| {
            out.push(s);
            false
        });
        out
    }

    #[test]
    fn misp_host_fields() {
        assert_eq!(misp_host("http://h/p"), Some("h"));
        assert_eq!(misp_host("//h/x"), Some("h"));
        assert_eq!(misp_host("www.example.com/x?a=b"), Some("www.example.com"));
        assert_eq!(
            misp_host("www.example.com?a=b"),
            Some("www.example.com?a=b")
        );
        assert_eq!(
            misp_host("https://www.example.com:443/x"),
            Some("www.example.com:443")
        );
        assert_eq!(misp_host("example.com/redirect?u=http://foo"), Some(""));
        assert_eq!(misp_host("example.com."), Some("example.com"));
        assert_eq!(misp_host("example.com.../"), Some("example.com"));
        assert_eq!(misp_host("..."), Some(""));
        assert_eq!(misp_host("a//"), Some(""));
        assert_eq!(misp_host("a/b//c"), Some(""));
        assert_eq!(misp_host("a/b/c//d"), Some("c"));
        assert_eq!(misp_host("a/b"), Some("a"));
        assert_eq!(misp_host("/"), Some(""));
        assert_eq!(misp_host("a/b//c"), Some(""));
        assert_eq!(misp_host("a/b/c//d"), Some("c"));
        assert_eq!(misp_host("a/b"), Some("a"));
        assert_eq!(misp_host("/"), Some(""));
    }

    #[test]
    fn parsed_host_reads_urls() {
        assert_eq!(
            parsed_host("https://user:pw@WWW.Example.com:443/x?y#z"),
            "WWW.Example.com"
        );
        assert_eq!(parsed_host("http://example.com?x=1"), "example.com");
        assert_eq!(parsed_host("http://example.com#frag"), "example.com");
        assert_eq!(
            parsed_host("example.com/redirect?u=http://foo"),
            "example.com"
        );
        assert_eq!(parsed_host("www.example.com:8080/x"), "www.example.com");
        assert_eq!(parsed_host("http://[2001:db8::1]:80/"), "2001:db8::1");
        assert_eq!(parsed_host("foo@sub.example.com"), "foo@sub.example.com");
        assert_eq!(parsed_host("2001:db8::1"), "2001:db8::1");
        assert_eq!(parsed_host("hxxp://example.com./"), "example.com");
        assert_eq!(parsed_host("//example.com/x"), "example.com");
    }

    /// The suffix walk as MISP writes it: split on dots, rebuild from the
    /// right, replace while the rebuilt string is `""` or `"0"`.
    fn naive_suffixes(host: &str, quirk: bool) -> Vec<String> {
        let labels: Vec<&str> = host.split('.').collect();
        let mut out = Vec::new();
        let mut rebuilt = String::new();
        for label in labels.iter().rev() {
            // MISP: `empty($rebuilt)` (true for "" and "0") starts over;
            // without the quirk only the first label starts.
            let starts_over = if quirk {
                rebuilt.is_empty() || rebuilt == "0"
            } else {
                out.is_empty()
            };
            rebuilt = if starts_over {
                (*label).to_owned()
            } else {
                format!("{label}.{rebuilt}")
            };
            out.push(rebuilt.clone());
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn misp_host_matches_explode(part in "[a./:0]{0,40}") {
            // MISP: `explode('/', $value)[2]` when the value contains `//`,
            // else `[0]`; then `rtrim($host, '.')`.
            let fields: Vec<&str> = part.split('/').collect();
            let field = if part.contains("//") { fields.get(2) } else { fields.first() };
            let expected = field.map(|f| f.trim_end_matches('.'));
            proptest::prop_assert_eq!(misp_host_and_slash(&part), (expected, part.contains('/')));
        }

        #[test]
        fn touched_suffixes_split_the_walk(
            host in "[a0.]{0,40}",
            quirk in proptest::bool::ANY,
            whole_hash in 0u64..4,
            single_label_lengths in proptest::prop_oneof![
                proptest::strategy::Just(u64::MAX),
                proptest::prelude::any::<u64>(),
            ],
        ) {
            // Hash: the suffix's length (or `whole_hash` for the whole
            // host); admitted: even hashes.
            let all = suffixes(&host, quirk);
            // Single labels of the lengths in `single_label_lengths` only.
            let mut plan = TouchedSuffixes::new();
            plan.plan(
                &host,
                quirk,
                Some((host.len(), whole_hash)),
                single_label_lengths,
                |s| s.len() as u64,
                |h| h % 2 == 0,
            );
            let hash_of = |s: &str| if s.len() == host.len() { whole_hash } else { s.len() as u64 };
            let expected: Vec<(&str, u64)> = all
                .iter()
                .take(MAX_TOUCHED_SUFFIXES)
                .filter(|s| s.contains('.') || single_label_lengths & length_bit(s.len()) != 0)
                .map(|s| (*s, hash_of(s)))
                .filter(|(_, h)| h % 2 == 0)
                .collect();
            proptest::prop_assert_eq!(plan.admitted().collect::<Vec<_>>(), expected);
            let mut rest = Vec::new();
            plan.for_each_unplanned(|s| rest.push(s));
            proptest::prop_assert_eq!(rest, all.get(MAX_TOUCHED_SUFFIXES..).unwrap_or(&[]).to_vec());
        }

        #[test]
        fn suffix_walk_matches_naive_model(
            host in "[a0.]{0,80}|[a-z0-9.]{0,70}",
            quirk in proptest::bool::ANY,
        ) {
            proptest::prop_assert_eq!(suffixes(&host, quirk), naive_suffixes(&host, quirk));
        }

    }

    #[test]
    fn suffix_walk() {
        assert_eq!(
            suffixes("www.example.com", true),
            ["com", "example.com", "www.example.com"]
        );
        assert_eq!(suffixes("example.com.0", true), ["0", "com", "example.com"]);
        assert_eq!(
            suffixes("example.com.0", false),
            ["0", "com.0", "example.com.0"]
        );
        assert_eq!(suffixes("a.0.0", true), ["0", "0", "a"]);
        assert_eq!(suffixes("a..0", true), ["0", "", "a"]);
        assert_eq!(suffixes("a..b", true), ["b", ".b", "a..b"]);
        assert_eq!(suffixes("", true), [""]);
        assert_eq!(
            suffixes("10.0.0.77", true),
            ["77", "0.77", "0.0.77", "10.0.0.77"]
        );
    }

    #[test]
    fn byte_search_agrees_with_position() {
        let text = b"abc/def.ghijklmnop/qrstuvwxyz.0123456789//";
        for start in 0..text.len() {
            for end in start..=text.len() {
                let slice = &text[start..end];
                for needle in [b'/', b'.', b'a', b'9', 0u8, 0xff] {
                    assert_eq!(
                        find_byte(slice, needle),
                        slice.iter().position(|&b| b == needle),
                        "{slice:?} {needle}"
                    );
                    assert_eq!(
                        rfind_byte(slice, needle),
                        slice.iter().rposition(|&b| b == needle),
                        "{slice:?} {needle}"
                    );
                    let mut all = Vec::new();
                    for_each_byte(slice, needle, |at| all.push(at));
                    let expected: Vec<usize> =
                        (0..slice.len()).filter(|&i| slice[i] == needle).collect();
                    assert_eq!(all, expected, "{slice:?} {needle}");
                }
            }
        }
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b, 0, 0x80, 0xff, b, 1, 0x7f, b.wrapping_add(1)]);
            let expected: u64 = word
                .to_le_bytes()
                .iter()
                .enumerate()
                .filter(|(_, x)| **x == b)
                .map(|(i, _)| 0x80u64 << (8 * i))
                .sum();
            assert_eq!(bytes_equal(word, b), expected, "byte {b:#x}");
        }
    }

    #[test]
    fn entry_trimming() {
        assert_eq!(trim_entry(".example.com."), "example.com");
        assert_eq!(trim_entry("..."), "");
    }
}
