//! Domains and hostnames: MISP's lenient domain check and the `domain`
//! rewrite (lowercase, strip dots, punycode).

use std::borrow::Cow;

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use super::php;

/// MISP's `isDomainValid`: `^[A-Z0-9.\-_]+\.[A-Z0-9\-]{2,}$` without
/// regard to case. At least one dot; the last label is two or more
/// letters, digits or hyphens; everything before the last dot is letters,
/// digits, dots, hyphens or underscores (so `a..com`, `-bad-.com` and
/// `exa_mple.com` pass, `localhost` and `example.com.` do not). As in
/// PCRE, the `$` also matches before a final `\n`.
pub(crate) fn is_domain_valid(s: &str) -> bool {
    let b = php::pcre_subject(s).as_bytes();
    let Some(dot) = b.iter().rposition(|&c| c == b'.') else {
        return false;
    };
    let (head, tld) = (&b[..dot], &b[dot + 1..]);
    !head.is_empty()
        && tld.len() >= 2
        && php::all_bytes(head, |c| DOMAIN_CLASS[usize::from(c)] & HEAD != 0)
        && php::all_bytes(tld, |c| DOMAIN_CLASS[usize::from(c)] & TLD != 0)
}

/// Allowed before the last dot: `[A-Za-z0-9._-]`.
const HEAD: u8 = 1;
/// Allowed after the last dot: `[A-Za-z0-9-]`.
const TLD: u8 = 2;

/// [`HEAD`] and [`TLD`] by byte.
static DOMAIN_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        if c.is_ascii_alphanumeric() || c == b'-' {
            t[i] = HEAD | TLD;
        } else if c == b'.' || c == b'_' {
            t[i] = HEAD;
        }
        i += 1;
    }
    t
};

/// The `domain` rewrite: ASCII lowercase, strip leading and trailing dots,
/// and if the result fails [`is_domain_valid`], convert it to punycode as
/// PHP's `idn_to_ascii()` does, keeping it unchanged when that fails.
pub(crate) fn rewrite_domain(v: Cow<'_, str>) -> Cow<'_, str> {
    let v = php::lower(v);
    let v = match v {
        Cow::Borrowed(s) => Cow::Borrowed(php::trim_dots(s)),
        Cow::Owned(s) => {
            let t = php::trim_dots(&s);
            if t.len() == s.len() {
                Cow::Owned(s)
            } else {
                Cow::Owned(t.to_owned())
            }
        }
    };
    if is_domain_valid(&v) {
        return v;
    }
    match idn_to_ascii(&v) {
        Some(ascii) => Cow::Owned(ascii),
        None => v,
    }
}

/// PHP `idn_to_ascii($domain)` with its defaults (ICU UTS #46,
/// *transitional* processing, no STD3 rules, no BiDi or CONTEXTJ checks),
/// for values that would change: `None` when the value is pure ASCII (ICU
/// then only lowercases, which MISP has already done, or fails) or when
/// the conversion fails, including results of 255 bytes or more.
///
/// Transitional processing maps the four deviation characters before
/// UTS #46 processing: `ß` and `ẞ` to `ss`, final sigma `ς` to `σ`, and
/// drops ZERO WIDTH (NON-)JOINER. The `idna` crate always applies the
/// BiDi rule, which ICU does not by default: a label that breaks it (for
/// example a Hebrew label starting with a digit) is converted by PHP but
/// left unchanged, and so rejected, here.
pub(crate) fn idn_to_ascii(value: &str) -> Option<String> {
    if value.is_ascii() {
        return None;
    }
    let mapped = map_deviations(value);
    let ascii = Uts46::new()
        .to_ascii(
            mapped.as_bytes(),
            AsciiDenyList::EMPTY,
            Hyphens::Check,
            DnsLength::VerifyAllowRootDot,
        )
        .ok()?;
    (ascii.len() < 255).then(|| ascii.into_owned())
}

/// UTS #46 transitional mapping of the deviation characters.
fn map_deviations(value: &str) -> Cow<'_, str> {
    let is_deviation = |c: char| matches!(c, 'ß' | 'ẞ' | 'ς' | '\u{200C}' | '\u{200D}');
    if !value.contains(is_deviation) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            'ς' => out.push('σ'),
            '\u{200C}' | '\u{200D}' => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_domain_regex() {
        for ok in [
            "example.com",
            "a..com",
            "-bad-.com",
            "exa_mple.com",
            "EXAMPLE.COM",
            "a.b-",
            "1.23",
            "x.com\n",
        ] {
            assert!(is_domain_valid(ok), "{ok:?}");
        }
        for bad in [
            "localhost",
            "example.com.",
            ".com",
            "a.c",
            "a.c_m",
            "a b.com",
            "a.com\n\n",
            "é.com",
            "",
        ] {
            assert!(!is_domain_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn punycode_like_php() {
        let r = |s: &str| rewrite_domain(Cow::Borrowed(s)).into_owned();
        assert_eq!(r("háčkyčárky.cz"), "xn--hkyrky-ptac70bc.cz");
        assert_eq!(r("HÁČKYČÁRKY.CZ"), "xn--hkyrky-ptac70bc.cz");
        assert_eq!(r("faß.de"), "fass.de");
        assert_eq!(r("ẞa.de"), "ssa.de");
        assert_eq!(r("ä?.com"), "xn--?-zfa.com");
        assert_eq!(r("Example.COM."), "example.com");
        assert_eq!(r("..example.com"), "example.com");
        // Failing conversions leave the value as it was.
        assert_eq!(r("ä..com"), "ä..com");
        assert_eq!(r("localhost"), "localhost");
    }
}
