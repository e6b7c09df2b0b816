//! PHP's `filter_var($value, FILTER_VALIDATE_URL)`, which MISP 2.5 uses to
//! validate `link` attributes (2.4 also required a scheme explicitly; the
//! filter requires one anyway).
//!
//! The filter is PHP's `parse_url()` plus a few checks:
//!
//! 1. every byte must be one `FILTER_SANITIZE_URL` keeps: ASCII letters,
//!    digits and ``$-_.+!*'(),{}|\^~[]`<>#%";/?:@&=`` (so no spaces, no
//!    control characters, no non-ASCII);
//! 2. `parse_url()` must succeed and find a scheme;
//! 3. for `http`/`https` (any case) there must be a host that is a valid
//!    hostname (labels of letters, digits and inner hyphens, at most 63
//!    bytes each, 253 in all, a trailing dot allowed) or a bracketed IPv6
//!    address;
//! 4. other schemes need a host too, except `mailto`, `news` and `file`;
//! 5. user and password may only hold unreserved and sub-delim
//!    characters, `:` and `%` escapes.

use super::ip;

/// The pieces of a URL that the filter looks at.
#[derive(Debug, Default, PartialEq, Eq)]
struct ParsedUrl<'a> {
    scheme: Option<&'a [u8]>,
    user: Option<&'a [u8]>,
    pass: Option<&'a [u8]>,
    host: Option<&'a [u8]>,
}

/// Whether PHP's `filter_var($s, FILTER_VALIDATE_URL)` accepts `s`.
pub(crate) fn is_valid_url(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.iter().all(|&c| is_sanitize_url_byte(c)) {
        return false;
    }
    let Some(url) = parse_url(b) else {
        return false;
    };
    let Some(scheme) = url.scheme else {
        return false;
    };
    if scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https") {
        let Some(host) = url.host else {
            return false;
        };
        let bracketed_v6 = host.len() >= 2
            && host.first() == Some(&b'[')
            && host.last() == Some(&b']')
            && std::str::from_utf8(&host[1..host.len() - 1])
                .is_ok_and(|h| ip::filter_ip(h, ip::Family::V6));
        if bracketed_v6 {
            // PHP accepts at once, without looking at user and password.
            return true;
        }
        if !is_valid_hostname(host) {
            return false;
        }
    }
    if url.host.is_none() && !matches!(scheme, b"mailto" | b"news" | b"file") {
        return false;
    }
    url.user.is_none_or(is_userinfo_valid) && url.pass.is_none_or(is_userinfo_valid)
}

/// The bytes `FILTER_SANITIZE_URL` keeps.
fn is_sanitize_url_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"$-_.+!*'(),{}|\\^~[]`<>#%\";/?:@&=".contains(&c)
}

/// PHP's `is_userinfo_valid`.
fn is_userinfo_valid(s: &[u8]) -> bool {
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&c) {
            i += 1;
        } else if c == b'%'
            && i + 3 <= s.len()
            && s[i + 1].is_ascii_digit()
            && s[i + 2].is_ascii_hexdigit()
        {
            i += 3;
        } else {
            return false;
        }
    }
    true
}

/// PHP's `_php_filter_validate_domain` with `FILTER_FLAG_HOSTNAME`.
fn is_valid_hostname(host: &[u8]) -> bool {
    let h = match host.split_last() {
        Some((b'.', rest)) => rest,
        _ => host,
    };
    if h.len() > 253 {
        return false;
    }
    let Some(&first) = h.first() else {
        return false;
    };
    if !first.is_ascii_alphanumeric() {
        return false;
    }
    let mut label_len = 1;
    for (i, &c) in h.iter().enumerate() {
        if c == b'.' {
            let prev = i
                .checked_sub(1)
                .and_then(|p| h.get(p))
                .copied()
                .unwrap_or(0);
            // After a trailing dot PHP sees that dot or the NUL terminator.
            let next = h
                .get(i + 1)
                .copied()
                .unwrap_or(if h.len() < host.len() { b'.' } else { 0 });
            if next == b'.' || !prev.is_ascii_alphanumeric() || !next.is_ascii_alphanumeric() {
                return false;
            }
            label_len = 1;
        } else {
            // `-` is allowed except as the very last byte of the host.
            let is_last = i + 1 == host.len();
            if label_len > 63 || ((c != b'-' || is_last) && !c.is_ascii_alphanumeric()) {
                return false;
            }
            label_len += 1;
        }
    }
    true
}

/// The parts of PHP's `php_url_parse_ex2` the filter needs; `None` where
/// `parse_url()` returns `false`.
fn parse_url(b: &[u8]) -> Option<ParsedUrl<'_>> {
    let mut url = ParsedUrl::default();
    let ue = b.len();
    let mut s = 0usize;
    let mut has_port = false;

    enum Next {
        Host,
        Port(usize),
        Path,
    }

    let colon = b.iter().position(|&c| c == b':');
    let next = match colon {
        Some(e) if e != 0 => {
            let scheme_ok = b[..e]
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-'));
            if !scheme_ok {
                let query_or_fragment =
                    b.iter().position(|&c| c == b'?' || c == b'#').unwrap_or(ue);
                if e + 1 < ue && e < query_or_fragment {
                    Next::Port(e)
                } else if b.starts_with(b"//") {
                    s = 2;
                    Next::Host
                } else {
                    Next::Path
                }
            } else if e + 1 == ue {
                url.scheme = Some(&b[..e]);
                return Some(url);
            } else if b[e + 1] != b'/' {
                // `mailto:x`, or `host:port` with a numeric port.
                let digits = b[e + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let p = e + 1 + digits;
                if (p == ue || b[p] == b'/') && p - e < 7 {
                    Next::Port(e)
                } else {
                    url.scheme = Some(&b[..e]);
                    s = e + 1;
                    Next::Path
                }
            } else {
                url.scheme = Some(&b[..e]);
                if b.get(e + 2) == Some(&b'/') {
                    s = e + 3;
                    if b[..e].eq_ignore_ascii_case(b"file") && b.get(e + 3) == Some(&b'/') {
                        if b.get(e + 5) == Some(&b':') {
                            s = e + 4;
                        }
                        Next::Path
                    } else {
                        Next::Host
                    }
                } else {
                    s = e + 1;
                    Next::Path
                }
            }
        }
        Some(e) => Next::Port(e),
        None if b.starts_with(b"//") => {
            s = 2;
            Next::Host
        }
        None => Next::Path,
    };

    let next = match next {
        Next::Port(e) => {
            let p = e + 1;
            let digits = b[p..]
                .iter()
                .take(6)
                .take_while(|c| c.is_ascii_digit())
                .count();
            let pp = p + digits;
            if digits > 0 && digits < 6 && (pp == ue || b[pp] == b'/') {
                // At most five digits: always 0..=99999; PHP rejects > 65535.
                let port: u32 = b[p..pp]
                    .iter()
                    .fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
                if port > 65535 {
                    return None;
                }
                has_port = port != 0;
                if b[s..].starts_with(b"//") {
                    s += 2;
                }
                Next::Host
            } else if digits == 0 && p == ue {
                return None;
            } else if b[s..].starts_with(b"//") {
                s += 2;
                Next::Host
            } else {
                Next::Path
            }
        }
        other => other,
    };

    if let Next::Host = next {
        let rest = &b[s..];
        let e = s + rest
            .iter()
            .position(|&c| matches!(c, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
        if let Some(at) = b[s..e].iter().rposition(|&c| c == b'@').map(|p| s + p) {
            match b[s..at].iter().position(|&c| c == b':').map(|p| s + p) {
                Some(colon) => {
                    url.user = Some(&b[s..colon]);
                    url.pass = Some(&b[colon + 1..at]);
                }
                None => url.user = Some(&b[s..at]),
            }
            s = at + 1;
        }
        let bracketed = s < ue && b[s] == b'[' && e > s && b[e - 1] == b']';
        let port_colon = if bracketed {
            None
        } else {
            b[s..e].iter().rposition(|&c| c == b':').map(|p| s + p)
        };
        let host_end = match port_colon {
            Some(c) => {
                if !has_port {
                    let port = &b[c + 1..e];
                    if port.len() > 5 {
                        return None;
                    }
                    if !port.is_empty() && !strtol_port_ok(port) {
                        return None;
                    }
                }
                c
            }
            None => e,
        };
        if host_end <= s {
            return None;
        }
        url.host = Some(&b[s..host_end]);
    }
    Some(url)
}

/// Whether C `strtol(port, &end, 10)` finds a number (at least one digit
/// after an optional sign; trailing bytes are ignored) within 0..=65535.
/// The port holds at most five bytes and no whitespace (sanitized above).
fn strtol_port_ok(port: &[u8]) -> bool {
    let (negative, digits) = match port.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, port),
    };
    let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return false;
    }
    let value: u32 = digits[..n]
        .iter()
        .fold(0, |v, &d| v * 10 + u32::from(d - b'0'));
    if negative { value == 0 } else { value <= 65535 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_validate_url() {
        for ok in [
            "http://example.com",
            "HTTP://Example.com/Path",
            "https://example.com:8080/a?b=c#d",
            "http://user:pass@example.com/",
            "http://[2001:db8::1]:80/",
            "http://example.com./",
            "ftp://x",
            "mailto:a@b.c",
            "news:comp.lang",
            "file:///etc/passwd",
            "foo://bar",
            "http://a-b.c",
        ] {
            assert!(is_valid_url(ok), "{ok}");
        }
        for bad in [
            "example.com",
            "http://",
            "http:/example.com",
            "http://exa mple.com",
            "http://exa_mple.com",
            "http://-a.com",
            "http://a-.com",
            "http://a..com",
            "http://a.com-",
            "javascript:alert(1)",
            "http://ä.com",
            "http://example.com:99999",
            "http://us er@x.com",
            "a.com:80",
            "//example.com",
            "",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }
}
