//! The per-type rewrites of `AttributeValidationTool::modifyBeforeValidation`
//! (MISP 2.5), applied after trimming, refanging and the 4-byte
//! replacement.

use std::borrow::Cow;

use super::rules::Rewrite;
use super::{Rejection, datetime, domain, ip, php, validate};

/// A value after its rewrite.
pub(crate) enum Rewritten<'a> {
    /// A string, as for every type but one.
    Text(Cow<'a, str>),
    /// The number MISP's `AS` rewrite computes from asdot notation
    /// (`1.10` → 65546). PHP returns an integer here, not a string, which
    /// changes how the control-character rule sees it. Saturates at
    /// `u64::MAX` (PHP would switch to a float; both are rejected).
    Integer(u64),
}

/// Applies `rewrite` to `v`. Fails only where the rewritten value is
/// certain to fail validation and cannot be represented as UTF-8 (a
/// `mac-address` with non-ASCII characters, which PHP's byte-wise
/// `wordwrap` would cut inside a character).
pub(crate) fn rewrite(rewrite: Rewrite, v: Cow<'_, str>) -> Result<Rewritten<'_>, Rejection> {
    let text = match rewrite {
        Rewrite::None => v,
        Rewrite::Ip => reborrow(v, ip::normalize_ip).map_err(nul)?,
        Rewrite::Lower => php::lower(v),
        Rewrite::Upper => php::upper(v),
        Rewrite::Domain => domain::rewrite_domain(v),
        Rewrite::DomainIp => domain_ip(v).map_err(nul)?,
        Rewrite::LowerAfterPipe => lower_after_pipe(v),
        Rewrite::Cve => php::upper(php::replace(v, "\u{2013}", "-")),
        Rewrite::Digits => php::retain_ascii(v, |b| b.is_ascii_digit()),
        Rewrite::Iban => php::retain_ascii(php::upper(v), |b| {
            b.is_ascii_digit() || b.is_ascii_uppercase()
        }),
        Rewrite::Phone => phone(v),
        Rewrite::X509 => php::lower(php::replace(v, ":", "")),
        Rewrite::IpPort => match ip::split_ip_port(&v).map_err(nul)? {
            Some(Cow::Owned(s)) => Cow::Owned(s),
            _ => v,
        },
        Rewrite::Mac => mac(v)?,
        Rewrite::HostnamePort => php::replace(php::lower(v), ":", "|"),
        Rewrite::Boolean => Cow::Borrowed(boolean(&v)),
        Rewrite::Datetime => match datetime::normalize_datetime(&v) {
            Some(s) => Cow::Owned(s),
            None => v,
        },
        Rewrite::As => return Ok(autonomous_system(v)),
    };
    Ok(Rewritten::Text(text))
}

/// The rejection for PHP's `inet_pton()` `ValueError` on a NUL byte.
fn nul(_: ip::InetPtonNul) -> Rejection {
    Rejection::new(ip::InetPtonNul::MESSAGE)
}

/// Applies a borrowing rewrite to a `Cow`, keeping the borrow when the
/// input was borrowed and nothing changed.
fn reborrow<'a, E>(
    v: Cow<'a, str>,
    f: impl for<'b> Fn(&'b str) -> Result<Cow<'b, str>, E>,
) -> Result<Cow<'a, str>, E> {
    Ok(match v {
        Cow::Borrowed(s) => f(s)?,
        Cow::Owned(s) => match f(&s)? {
            // A borrowed result is a slice of the input: unchanged if as long.
            Cow::Borrowed(r) if r.len() == s.len() => Cow::Owned(s),
            Cow::Borrowed(r) => Cow::Owned(r.to_owned()),
            Cow::Owned(o) => Cow::Owned(o),
        },
    })
}

/// `domain|ip`: lowercase the whole value; with a `|`, strip dots from and
/// punycode the domain, `normalizeIp` the IP, and keep only those two
/// pieces (`a.com|1.2.3.4|x` → `a.com|1.2.3.4`).
fn domain_ip(v: Cow<'_, str>) -> Result<Cow<'_, str>, ip::InetPtonNul> {
    let v = php::lower(v);
    let mut parts = v.split('|');
    let (Some(domain), Some(ip)) = (parts.next(), parts.next()) else {
        return Ok(v);
    };
    let trimmed = php::trim_dots(domain);
    let new_domain = if domain::is_domain_valid(trimmed) {
        Cow::Borrowed(trimmed)
    } else {
        domain::idn_to_ascii(trimmed).map_or(Cow::Borrowed(trimmed), Cow::Owned)
    };
    let new_ip = ip::normalize_ip(ip)?;
    // Borrowed results are slices of their input: unchanged if as long.
    let same =
        |new: &Cow<'_, str>, old: &str| matches!(new, Cow::Borrowed(n) if n.len() == old.len());
    if parts.next().is_none() && same(&new_domain, domain) && same(&new_ip, ip) {
        return Ok(v);
    }
    Ok(Cow::Owned(format!("{new_domain}|{new_ip}")))
}

/// `filename|<hash>`: lowercase everything from the first `|` on; without a
/// `|` PHP's `substr(…, false)` lowercases the whole value.
fn lower_after_pipe(v: Cow<'_, str>) -> Cow<'_, str> {
    let Some(pos) = v.find('|') else {
        return php::lower(v);
    };
    if !v[pos..].bytes().any(|b| b.is_ascii_uppercase()) {
        return v;
    }
    let mut s = String::with_capacity(v.len());
    s.push_str(&v[..pos]);
    s.push_str(&v[pos..].to_ascii_lowercase());
    Cow::Owned(s)
}

/// Phone numbers: a leading `00` becomes `+`, every `(0)` is removed
/// (one left-to-right pass), then only `+` and digits are kept.
///
/// MISP tests the prefix with PHP's loose `substr($v, 0, 2) == '00'`,
/// which compares numeric strings as numbers: any numeric prefix of value
/// zero matches, so `0.10` becomes `+10` and `0` becomes `+`.
fn phone(v: Cow<'_, str>) -> Cow<'_, str> {
    let prefix = v.as_bytes().get(..2).unwrap_or(v.as_bytes());
    let loosely_00 = prefix == b"00"
        || (php::is_numeric_bytes(prefix) && !prefix.iter().any(|b| (b'1'..=b'9').contains(b)));
    let v = match v.get(prefix.len()..) {
        Some(rest) if loosely_00 => Cow::Owned(format!("+{rest}")),
        _ => v,
    };
    let v = php::replace(v, "(0)", "");
    php::retain_ascii(v, |b| b == b'+' || b.is_ascii_digit())
}

/// `mac-address`, `mac-eui-64`: lowercase, remove `.`, `:`, `-` and spaces,
/// then PHP's `wordwrap($v, 2, ':', true)`, which (with no spaces or `:`
/// left) joins 2-byte chunks with `:`.
fn mac(v: Cow<'_, str>) -> Result<Cow<'_, str>, Rejection> {
    if !v.is_ascii() {
        // Non-hex bytes never pass validation, and the byte-wise chunks
        // would not be UTF-8.
        return Err(Rejection::new(validate::GENERIC));
    }
    let stripped = php::retain_ascii(php::lower(Cow::Borrowed(&*v)), |b| {
        !matches!(b, b'.' | b':' | b'-' | b' ')
    });
    let b = stripped.as_bytes();
    let mut out = String::with_capacity(b.len() + b.len() / 2);
    for (i, chunk) in b.chunks(2).enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.extend(chunk.iter().map(|&c| char::from(c)));
    }
    if out == *v {
        return Ok(v);
    }
    Ok(Cow::Owned(out))
}

/// `boolean`: trimmed and lowercased, `true` is 1 and `false` is 0, any
/// other value is 1 if PHP finds it truthy (not `""` or `"0"`).
fn boolean(v: &str) -> &'static str {
    let t = php::trim(v);
    if t.eq_ignore_ascii_case("true") {
        return "1";
    }
    if t.eq_ignore_ascii_case("false") {
        return "0";
    }
    if php::is_truthy(t) { "1" } else { "0" }
}

/// `AS`: strip a leading `AS` (any case); asdot `hi.lo` with both parts
/// digits becomes the integer `hi * 65536 + lo`.
fn autonomous_system(v: Cow<'_, str>) -> Rewritten<'_> {
    let has_prefix = v
        .as_bytes()
        .get(..2)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"AS"));
    let v = if has_prefix {
        match v {
            Cow::Borrowed(s) => Cow::Borrowed(&s[2..]),
            Cow::Owned(s) => Cow::Owned(s[2..].to_owned()),
        }
    } else {
        v
    };
    if let Some((hi, lo)) = v.split_once('.') {
        if php::is_digits(hi) && php::is_digits(lo) {
            let hi = php::digits_value(hi).unwrap_or(u64::MAX);
            let lo = php::digits_value(lo).unwrap_or(u64::MAX);
            return Rewritten::Integer(hi.saturating_mul(65_536).saturating_add(lo));
        }
    }
    Rewritten::Text(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: Rewrite, v: &str) -> String {
        match rewrite(r, Cow::Borrowed(v)) {
            Ok(Rewritten::Text(t)) => t.into_owned(),
            Ok(Rewritten::Integer(n)) => format!("int {n}"),
            Err(e) => format!("rejected {e}"),
        }
    }

    #[test]
    fn rewrites() {
        assert_eq!(
            text(
                Rewrite::LowerAfterPipe,
                "CMD.EXE|0CC175B9C0F1B6A831C399E269772661"
            ),
            "CMD.EXE|0cc175b9c0f1b6a831c399e269772661"
        );
        assert_eq!(text(Rewrite::LowerAfterPipe, "CMD.EXE"), "cmd.exe");
        assert_eq!(
            text(Rewrite::Cve, "cve\u{2013}2021\u{2013}44228"),
            "CVE-2021-44228"
        );
        assert_eq!(
            text(Rewrite::Digits, "4111 1111-1111 1111"),
            "4111111111111111"
        );
        assert_eq!(
            text(Rewrite::Iban, "de89 3704-0044 0532 0130 00"),
            "DE89370400440532013000"
        );
        assert_eq!(text(Rewrite::Phone, "0049 (0)30-123 456"), "+4930123456");
        assert_eq!(text(Rewrite::Phone, "((0)0)1"), "01");
        assert_eq!(text(Rewrite::Phone, "0.10"), "+10");
        assert_eq!(text(Rewrite::Phone, "0"), "+");
        assert_eq!(text(Rewrite::Phone, "-0 12"), "+12");
        assert_eq!(text(Rewrite::Phone, "01"), "01");
        assert_eq!(text(Rewrite::X509, "DA:39:A3"), "da39a3");
        assert_eq!(text(Rewrite::Mac, "AA-BB-CC-DD-EE-FF"), "aa:bb:cc:dd:ee:ff");
        assert_eq!(text(Rewrite::Mac, "aabb.ccdd.eeff"), "aa:bb:cc:dd:ee:ff");
        assert_eq!(text(Rewrite::Mac, "abc"), "ab:c");
        assert_eq!(
            text(Rewrite::Mac, "aa:bb:cc:dd:ee:ff\n:"),
            "aa:bb:cc:dd:ee:ff:\n"
        );
        assert!(text(Rewrite::Mac, "aé").starts_with("rejected"));
        assert_eq!(
            text(Rewrite::HostnamePort, "Example.COM:8080"),
            "example.com|8080"
        );
        assert_eq!(
            text(Rewrite::DomainIp, "EXAMPLE.com.|2001:DB8::1"),
            "example.com|2001:db8::1"
        );
        assert_eq!(text(Rewrite::DomainIp, "a.com|1.2.3.4|x"), "a.com|1.2.3.4");
        assert_eq!(
            text(Rewrite::DomainIp, "HÁČKYČÁRKY.CZ|127.0.0.1"),
            "xn--hkyrky-ptac70bc.cz|127.0.0.1"
        );
        assert_eq!(
            text(
                Rewrite::DomainIp,
                "example.com|1234:0fd2:5621:0001:0089:0000:0000:4500/128"
            ),
            "example.com|1234:fd2:5621:1:89::4500"
        );
        assert_eq!(text(Rewrite::DomainIp, "A.COM"), "a.com");
    }

    #[test]
    fn booleans() {
        for (v, want) in [
            ("true", "1"),
            (" TRUE ", "1"),
            ("false", "0"),
            ("FALSE", "0"),
            ("0", "0"),
            ("", "0"),
            ("no", "1"),
            ("0.0", "1"),
            ("1", "1"),
        ] {
            assert_eq!(text(Rewrite::Boolean, v), want, "{v:?}");
        }
    }

    #[test]
    fn autonomous_systems() {
        assert_eq!(text(Rewrite::As, "AS1234"), "1234");
        assert_eq!(text(Rewrite::As, "as1234"), "1234");
        assert_eq!(text(Rewrite::As, "aS1234"), "1234");
        assert_eq!(text(Rewrite::As, "AS 1234"), " 1234");
        assert_eq!(text(Rewrite::As, "1.10"), "int 65546");
        assert_eq!(text(Rewrite::As, "AS1.10"), "int 65546");
        assert_eq!(text(Rewrite::As, "1.2.3"), "1.2.3");
        assert_eq!(
            text(Rewrite::As, "99999999999999999999999.1"),
            format!("int {}", u64::MAX)
        );
    }

    #[test]
    fn unchanged_values_stay_borrowed() {
        for (r, v) in [
            (Rewrite::Lower, "d41d8cd98f00b204e9800998ecf8427e"),
            (Rewrite::Domain, "example.com"),
            (Rewrite::DomainIp, "example.com|1.2.3.4"),
            (Rewrite::Ip, "2001:db8::1"),
            (
                Rewrite::LowerAfterPipe,
                "CMD.EXE|0cc175b9c0f1b6a831c399e269772661",
            ),
            (Rewrite::Mac, "aa:bb:cc:dd:ee:ff"),
            (Rewrite::Phone, "+4930123456"),
            (Rewrite::IpPort, "1.2.3.4|80"),
        ] {
            match rewrite(r, Cow::Borrowed(v)) {
                Ok(Rewritten::Text(Cow::Borrowed(_))) => {}
                _ => panic!("{r:?} {v:?} allocated"),
            }
        }
    }
}
