//! IP addresses as MISP handles them.
//!
//! Three different parsers meet in MISP's IP handling, and each has its
//! own notion of a valid address; all three are reproduced here:
//!
//! * PHP's `filter_var(…, FILTER_VALIDATE_IP)` decides validity
//!   ([`filter_ip`]): IPv4 is exactly four decimal octets without leading
//!   zeros; IPv6 allows at most one `::`, 1 to 4 hex digits per group and
//!   a trailing dotted IPv4; no zone ids.
//! * glibc's `inet_pton`/`inet_ntop`, through PHP, compress IPv6 addresses
//!   ([`compress_ipv6`]): lowercase hex without leading zeros, the longest
//!   (first on ties) run of two or more zero groups as `::`, and
//!   `::a.b.c.d` / `::ffff:a.b.c.d` for IPv4-compatible and IPv4-mapped
//!   addresses.
//! * `normalizeIp` ([`normalize_ip`]) decides *when* to compress. It tests
//!   with `strpos()`, which returns 0 (false) for a match at the start, so
//!   a value starting with `:` is never compressed: `::0001` stays
//!   `::0001` and `::1/128` keeps its `/128` (the reference's quirk 11).
//!
//! [`split_ip_port`] is the `ip-src|port` / `ip-dst|port` rewrite with its
//! seven accepted spellings.

use std::borrow::Cow;

/// Which address families [`filter_ip`] accepts, like PHP's
/// `FILTER_FLAG_IPV4` / `FILTER_FLAG_IPV6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// IPv4 or IPv6 (no flag).
    Any,
    /// `FILTER_FLAG_IPV4`.
    V4,
    /// `FILTER_FLAG_IPV6`.
    V6,
}

/// PHP `filter_var($s, FILTER_VALIDATE_IP[, flag])`: a value with a `:`
/// is judged as IPv6, otherwise one with a `.` as IPv4, anything else is
/// invalid.
pub(crate) fn filter_ip(s: &str, family: Family) -> bool {
    let b = s.as_bytes();
    if b.contains(&b':') {
        family != Family::V4 && filter_ipv6(b)
    } else if b.contains(&b'.') {
        family != Family::V6 && filter_ipv4(b)
    } else {
        false
    }
}

/// PHP's `_php_filter_validate_ipv4`: four decimal octets 0-255, no
/// leading zeros, nothing else.
pub(crate) fn filter_ipv4(b: &[u8]) -> bool {
    let mut i = 0;
    let mut octets = 0;
    loop {
        let Some(&first) = b.get(i) else { return false };
        if !first.is_ascii_digit() {
            return false;
        }
        let leading_zero = first == b'0';
        let mut num = u32::from(first - b'0');
        let mut len = 1;
        i += 1;
        while let Some(&d) = b.get(i) {
            if !d.is_ascii_digit() {
                break;
            }
            num = num * 10 + u32::from(d - b'0');
            len += 1;
            i += 1;
            if num > 255 || len > 3 {
                return false;
            }
        }
        if leading_zero && (num != 0 || len > 1) {
            return false;
        }
        octets += 1;
        if octets == 4 {
            return i == b.len();
        }
        if b.get(i) != Some(&b'.') {
            return false;
        }
        i += 1;
    }
}

/// PHP's `_php_filter_validate_ipv6`.
fn filter_ipv6(b: &[u8]) -> bool {
    if !b.contains(&b':') {
        return false;
    }
    let mut end = b.len();
    let mut blocks = 0;
    // A trailing dotted IPv4 counts as two blocks.
    if let Some(dot) = b.iter().position(|&c| c == b'.') {
        let v4_start = b[..dot]
            .iter()
            .rposition(|&c| c == b':')
            .map_or(0, |p| p + 1);
        if !filter_ipv4(&b[v4_start..]) {
            return false;
        }
        end = v4_start;
        if end < 2 {
            return false;
        }
        if b[end - 2] != b':' {
            // Drop the single `:` before the IPv4 part, keep a `::`.
            end -= 1;
        }
        blocks = 2;
    }
    let b = &b[..end];
    let mut compressed = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b':' {
            i += 1;
            if i >= b.len() {
                // Cannot end in `:` without a previous `:`.
                return false;
            }
            if b[i] == b':' {
                if compressed {
                    return false;
                }
                compressed = true;
                blocks += 1;
                i += 1;
                if i == b.len() {
                    return blocks <= 8;
                }
            } else if i == 1 {
                // A leading `:` must be followed by another.
                return false;
            }
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        let n = i - start;
        if !(1..=4).contains(&n) {
            return false;
        }
        blocks += 1;
        if blocks > 8 {
            return false;
        }
    }
    (compressed && blocks <= 8) || blocks == 8
}

/// glibc `inet_pton(AF_INET6, …)` (PHP refuses NUL bytes before calling
/// it; see [`InetPtonNul`]).
pub(crate) fn inet_pton6(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    let mut out = [0u8; 16];
    let mut tp = 0usize;
    let mut colonp: Option<usize> = None;
    let mut i = 0;
    if b.is_empty() {
        return None;
    }
    if b[0] == b':' {
        i = 1;
        if b.get(1) != Some(&b':') {
            return None;
        }
    }
    let mut curtok = i;
    let mut xdigits = 0;
    let mut val: u32 = 0;
    while i < b.len() {
        let ch = b[i];
        i += 1;
        if let Some(d) = (ch as char).to_digit(16) {
            if xdigits == 4 {
                return None;
            }
            val = (val << 4) | d;
            xdigits += 1;
            continue;
        }
        if ch == b':' {
            curtok = i;
            if xdigits == 0 {
                if colonp.is_some() {
                    return None;
                }
                colonp = Some(tp);
                continue;
            } else if i == b.len() {
                return None;
            }
            if tp + 2 > 16 {
                return None;
            }
            out[tp] = (val >> 8) as u8;
            out[tp + 1] = val as u8;
            tp += 2;
            xdigits = 0;
            val = 0;
            continue;
        }
        if ch == b'.' && tp + 4 <= 16 {
            if let Some(v4) = inet_pton4(&b[curtok..]) {
                out[tp..tp + 4].copy_from_slice(&v4);
                tp += 4;
                xdigits = 0;
                break;
            }
        }
        return None;
    }
    if xdigits > 0 {
        if tp + 2 > 16 {
            return None;
        }
        out[tp] = (val >> 8) as u8;
        out[tp + 1] = val as u8;
        tp += 2;
    }
    if let Some(c) = colonp {
        if tp == 16 {
            return None;
        }
        let n = tp - c;
        out.copy_within(c..tp, 16 - n);
        out[c..16 - n].fill(0);
        tp = 16;
    }
    (tp == 16).then_some(out)
}

/// glibc `inet_pton4`: four decimal octets, no leading zeros.
fn inet_pton4(b: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut octets = 0;
    let mut saw_digit = false;
    let mut cur: u32 = 0;
    for &ch in b {
        if ch.is_ascii_digit() {
            if saw_digit && cur == 0 {
                return None;
            }
            cur = cur * 10 + u32::from(ch - b'0');
            if cur > 255 {
                return None;
            }
            if !saw_digit {
                octets += 1;
                if octets > 4 {
                    return None;
                }
                saw_digit = true;
            }
            out[octets - 1] = cur as u8;
        } else if ch == b'.' && saw_digit {
            if octets == 4 {
                return None;
            }
            cur = 0;
            saw_digit = false;
        } else {
            return None;
        }
    }
    (octets == 4).then_some(out)
}

/// glibc `inet_ntop(AF_INET6, …)`.
pub(crate) fn inet_ntop6(a: &[u8; 16]) -> String {
    use std::fmt::Write;
    let words: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([a[2 * i], a[2 * i + 1]]));
    // The longest run of zero words (the first on ties), if at least 2.
    let mut best: Option<(usize, usize)> = None;
    let mut cur: Option<(usize, usize)> = None;
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            cur = Some(cur.map_or((i, 1), |(base, len)| (base, len + 1)));
        } else if let Some(run) = cur.take() {
            if best.is_none_or(|b| run.1 > b.1) {
                best = Some(run);
            }
        }
    }
    if let Some(run) = cur {
        if best.is_none_or(|b| run.1 > b.1) {
            best = Some(run);
        }
    }
    let best = best.filter(|&(_, len)| len >= 2);
    let mut out = String::with_capacity(39);
    let mut i = 0;
    while i < 8 {
        if let Some((base, len)) = best {
            if i >= base && i < base + len {
                if i == base {
                    out.push(':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            out.push(':');
        }
        if i == 6 {
            if let Some((0, len)) = best {
                if len == 6 || (len == 5 && words[5] == 0xffff) {
                    let _ = write!(out, "{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
                    return out;
                }
            }
        }
        let _ = write!(out, "{:x}", words[i]);
        i += 1;
    }
    if let Some((base, len)) = best {
        if base + len == 8 {
            out.push(':');
        }
    }
    out
}

/// PHP 8's `inet_pton()` throws a `ValueError` for an address with a NUL
/// byte; in MISP the exception aborts the save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InetPtonNul;

impl InetPtonNul {
    /// PHP's message for the error.
    pub(crate) const MESSAGE: &str =
        "inet_pton(): Argument #1 ($ip) must not contain any null bytes";
}

/// `inet_ntop(inet_pton($ip))` if `inet_pton` succeeds.
fn compress_ipv6(ip: &str) -> Result<Option<String>, InetPtonNul> {
    if ip.contains('\0') {
        return Err(InetPtonNul);
    }
    Ok(inet_pton6(ip).map(|a| inet_ntop6(&a)))
}

/// Whether PHP's `strpos($haystack, $needle)` is truthy: found at a
/// position other than 0.
fn strpos_truthy(haystack: &str, needle: u8) -> bool {
    haystack
        .bytes()
        .position(|b| b == needle)
        .is_some_and(|p| p > 0)
}

/// MISP's `normalizeIp`: compress IPv6, drop a `/32` (IPv4) or `/128`
/// (IPv6) mask; IPv4 is never rewritten and host bits are kept.
pub(crate) fn normalize_ip(value: &str) -> Result<Cow<'_, str>, InetPtonNul> {
    if strpos_truthy(value, b'/') {
        let (ip, range) = value.split_once('/').unwrap_or((value, ""));
        let compressed = if strpos_truthy(ip, b':') {
            compress_ipv6(ip)?.filter(|c| c != ip)
        } else {
            None
        };
        let ip: Cow<'_, str> = match compressed {
            Some(c) => Cow::Owned(c),
            None => Cow::Borrowed(ip),
        };
        if (range == "32" && strpos_truthy(value, b'.'))
            || (range == "128" && strpos_truthy(value, b':'))
        {
            return Ok(ip);
        }
        return Ok(match ip {
            Cow::Borrowed(_) => Cow::Borrowed(value),
            Cow::Owned(mut c) => {
                c.push('/');
                c.push_str(range);
                Cow::Owned(c)
            }
        });
    }
    if strpos_truthy(value, b':') {
        if let Some(c) = compress_ipv6(value)? {
            if c != value {
                return Ok(Cow::Owned(c));
            }
        }
    }
    Ok(Cow::Borrowed(value))
}

/// The `ip-src|port` / `ip-dst|port` rewrite: splits `value` into an IP
/// and a port by the first spelling that applies, and returns
/// `normalizeIp(ip) + "|" + port`, or `None` when the value is left
/// unchanged (no `:` and no `|` after the first byte).
///
/// With two or more `:` the value is IPv6 with a port, tried in order as
/// `ip|port`, `[ip]:port`, `ip.port`, `ip port port`, `ip p port`,
/// `ip#port`, and finally split at the last `:`. With one `:` it is
/// `ipv4:port`, otherwise `ip|port`. Only the first two pieces of the
/// split are kept (`1.2.3.4|80|90` → `1.2.3.4|80`), and a missing port is
/// empty, as in MISP.
pub(crate) fn split_ip_port(value: &str) -> Result<Option<Cow<'_, str>>, InetPtonNul> {
    fn first_two<'a>(value: &'a str, sep: &str) -> (&'a str, &'a str) {
        let mut it = value.split(sep);
        let ip = it.next().unwrap_or("");
        let port = it.next().unwrap_or("");
        (ip, port)
    }
    let colons = value.bytes().filter(|&b| b == b':').count();
    let (ip, port) = if colons >= 2 {
        if strpos_truthy(value, b'|') {
            first_two(value, "|")
        } else if let (true, Some(close)) = (value.starts_with('['), value.find(']')) {
            let ip = value.get(1..close).unwrap_or("");
            let (_, port) = first_two(&value[close..], ":");
            (ip, port)
        } else if strpos_truthy(value, b'.') {
            first_two(value, ".")
        } else if value.find(" port ").is_some_and(|p| p > 0) {
            first_two(value, " port ")
        } else if strpos_truthy(value, b'p') {
            first_two(value, "p")
        } else if strpos_truthy(value, b'#') {
            first_two(value, "#")
        } else {
            value.rsplit_once(':').unwrap_or((value, ""))
        }
    } else if strpos_truthy(value, b':') {
        first_two(value, ":")
    } else if strpos_truthy(value, b'|') {
        first_two(value, "|")
    } else {
        return Ok(None);
    };
    let ip = normalize_ip(ip)?;
    let unchanged = value.len() == ip.len() + 1 + port.len()
        && value.starts_with(&*ip)
        && value.as_bytes().get(ip.len()) == Some(&b'|')
        && value.ends_with(port);
    if unchanged {
        return Ok(Some(Cow::Borrowed(value)));
    }
    let mut out = String::with_capacity(ip.len() + 1 + port.len());
    out.push_str(&ip);
    out.push('|');
    out.push_str(port);
    Ok(Some(Cow::Owned(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_ip_filter() {
        for ok in [
            "127.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "1::",
            "2001:db8::1",
            "::ffff:1.2.3.4",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7::",
        ] {
            assert!(filter_ip(ok, Family::Any), "{ok}");
        }
        for bad in [
            "127",
            "127.0.0.",
            "010.1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "fe80::1%eth0",
            ":1::",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            "12345::",
            "1.2.3.4:",
            ":::",
            "::1.2.3",
            "",
            "1:2:3:4:5:6:7:8::",
        ] {
            assert!(!filter_ip(bad, Family::Any), "{bad}");
        }
        assert!(!filter_ip("::1", Family::V4));
        assert!(!filter_ip("1.2.3.4", Family::V6));
    }

    #[test]
    fn glibc_compression() {
        let c = |s: &str| compress_ipv6(s).ok().flatten();
        assert_eq!(c("2001:DB8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(c("2001:0db8:0000::0001").as_deref(), Some("2001:db8::1"));
        assert_eq!(
            c("1234:0fd2:5621:0001:0089:0000:0000:4500").as_deref(),
            Some("1234:fd2:5621:1:89::4500")
        );
        assert_eq!(c("1:0:0:2:0:0:0:3").as_deref(), Some("1:0:0:2::3"));
        assert_eq!(c("1:0:0:2:0:0:3:4").as_deref(), Some("1::2:0:0:3:4"));
        assert_eq!(c("1:0:2:3:4:5:6:7").as_deref(), Some("1:0:2:3:4:5:6:7"));
        assert_eq!(c("0:0:0:0:0:0:0:0").as_deref(), Some("::"));
        assert_eq!(c("::ffff:102:304").as_deref(), Some("::ffff:1.2.3.4"));
        assert_eq!(c("0:0:0:0:0:0:102:304").as_deref(), Some("::1.2.3.4"));
        assert_eq!(c("1::").as_deref(), Some("1::"));
        assert_eq!(compress_ipv6("1::1\0junk"), Err(InetPtonNul));
        assert_eq!(c("1:2:3:4:5:6:7::8"), None);
        assert_eq!(c("12345::"), None);
        assert_eq!(c(":1::"), None);
    }

    #[test]
    fn misp_normalize_ip() {
        let normalize_ip = |v| normalize_ip(v).unwrap_or(Cow::Borrowed("ValueError"));
        assert_eq!(normalize_ip("::0001"), "::0001");
        assert_eq!(normalize_ip("::1/128"), "::1/128");
        assert_eq!(normalize_ip("2001:0db8:0000::0001/128"), "2001:db8::1");
        assert_eq!(normalize_ip("2001:db8:0:0:0:0:0:0/32"), "2001:db8::/32");
        assert_eq!(normalize_ip("10.1.2.3/32"), "10.1.2.3");
        assert_eq!(normalize_ip("10.1.2.3/032"), "10.1.2.3/032");
        assert_eq!(normalize_ip("::ffff:1.2.3.4/32"), "::ffff:1.2.3.4");
        assert_eq!(normalize_ip("/32"), "/32");
        assert_eq!(normalize_ip("1.2.3.4/8/9"), "1.2.3.4/8/9");
        assert!(matches!(normalize_ip("2001:db8::1"), Cow::Borrowed(_)));
    }

    #[test]
    fn ip_port_spellings() {
        let s = |v: &str| split_ip_port(v).ok().flatten().map(Cow::into_owned);
        assert_eq!(s("1.2.3.4:80").as_deref(), Some("1.2.3.4|80"));
        assert_eq!(s("1.2.3.4|80|90").as_deref(), Some("1.2.3.4|80"));
        assert_eq!(s("[2001:db8::1]:443").as_deref(), Some("2001:db8::1|443"));
        assert_eq!(s("2001:db8::1:80").as_deref(), Some("2001:db8::1|80"));
        assert_eq!(s("2001:db8::1.80").as_deref(), Some("2001:db8::1|80"));
        assert_eq!(s("2001:db8::1 port 80").as_deref(), Some("2001:db8::1|80"));
        assert_eq!(s("2001:db8::1p80").as_deref(), Some("2001:db8::1|80"));
        assert_eq!(s("2001:db8::1#80").as_deref(), Some("2001:db8::1|80"));
        assert_eq!(s("::ffff:1.2.3.4:80").as_deref(), Some("::ffff:1|2"));
        assert_eq!(s("[::1]").as_deref(), Some("::1|"));
        assert_eq!(s("1.2.3.4"), None);
        assert_eq!(s("|80"), None);
    }
}
