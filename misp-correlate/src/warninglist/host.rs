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

/// The host of `part` as MISP finds it, or `None` when the value has no
/// third `/`-field.
pub(crate) fn misp_host(part: &str) -> Option<&str> {
    let bytes = part.as_bytes();
    let Some(first) = memchr::memchr(b'/', bytes) else {
        return Some(part.trim_end_matches('.'));
    };
    let after = |from: usize| {
        bytes
            .get(from..)
            .and_then(|rest| memchr::memchr(b'/', rest))
            .map(|i| from + i)
    };
    // The common URL case, `scheme://`, has its first two slashes adjacent;
    // otherwise look for `//` anywhere after the first slash.
    let double = bytes.get(first + 1) == Some(&b'/')
        || bytes
            .get(first..)
            .is_some_and(|rest| rest.windows(2).any(|w| w == b"//"));
    let host = if double {
        // The third `/`-separated field.
        let second = after(first + 1)?;
        part.get(second + 1..after(second + 1).unwrap_or(bytes.len()))?
    } else {
        part.get(..first)?
    };
    Some(host.trim_end_matches('.'))
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
pub(crate) fn for_each_suffix<'h>(
    host: &'h str,
    zero_quirk: bool,
    mut visit: impl FnMut(&'h str) -> bool,
) {
    let bytes = host.as_bytes();
    // End of the suffix being rebuilt; `None` while MISP's rebuilt string is
    // still "" or "0".
    let mut base_end = if zero_quirk { None } else { Some(bytes.len()) };
    let mut end = bytes.len();
    loop {
        let start = bytes
            .get(..end)
            // Labels are short: a plain loop beats memrchr's setup.
            .and_then(|b| b.iter().rposition(|&c| c == b'.'))
            .map_or(0, |dot| dot + 1);
        let candidate = match base_end {
            Some(base_end) => host.get(start..base_end),
            None => {
                let label = host.get(start..end);
                if !matches!(label, Some("" | "0")) {
                    base_end = Some(end);
                }
                label
            }
        };
        if let Some(candidate) = candidate {
            if visit(candidate) {
                return;
            }
        }
        if start == 0 {
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
    fn entry_trimming() {
        assert_eq!(trim_entry(".example.com."), "example.com");
        assert_eq!(trim_entry("..."), "");
    }
}
