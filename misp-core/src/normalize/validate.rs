//! `AttributeValidationTool::validate` (MISP 2.5): the per-type checks and
//! MISP's rejection messages, word for word.
//!
//! Where `validate()` returns a bare `false` MISP reports the rule's
//! default message, [`GENERIC`].

use super::rules::Check;
use super::{Rejection, datetime, domain, ip, json_syntax, php, url};

/// The message of MISP's `userdefined` rule, shown when `validate()`
/// returns `false` without a message of its own.
pub(crate) const GENERIC: &str =
    "Value not in the right type/format. Please double check the value or select type \"other\".";

const IP_INVALID: &str = "IP address has an invalid format.";
const PORT_INVALID: &str = "Port numbers have to be integers between 1 and 65535.";

/// Runs `check` on the rewritten value `v`.
pub(crate) fn check(check: Check, v: &str) -> Result<(), Rejection> {
    let ok = match check {
        Check::Hash(len) => {
            return expect(is_hash(v, len), || {
                format!(
                    "Checksum has an invalid length or format (expected: {len} hexadecimal characters). Please double check the value or select type \"other\"."
                )
            });
        }
        Check::Tlsh => {
            return expect(is_tlsh(v), || {
                "Checksum has an invalid length or format (expected: at least 35 hexadecimal characters, optionally starting with t1 instead of hexadecimal characters). Please double check the value or select type \"other\".".into()
            });
        }
        Check::Telfhash => {
            return expect(v.len() == 70 || v.len() == 72, || {
                "Checksum has an invalid length or format (expected: 70 or 72 hexadecimal characters). Please double check the value or select type \"other\".".into()
            });
        }
        Check::Pehash => {
            return expect(is_hash(v, 40), || {
                "The input doesn't match the expected sha1 format (expected: 40 hexadecimal characters). Keep in mind that MISP currently only supports SHA1 for PEhashes, if you would like to get the support extended to other hash types, make sure to create a github ticket about it at https://github.com/MISP/MISP!".into()
            });
        }
        Check::Ssdeep => {
            return expect(is_ssdeep(v), || {
                "Invalid SSDeep hash. The format has to be blocksize:hash:hash".into()
            });
        }
        Check::Impfuzzy => {
            let ok = v.bytes().filter(|&b| b == b':').count() == 2
                && v.split(':').next().is_some_and(php::is_digits);
            return expect(ok, || {
                "Invalid impfuzzy format. The format has to be imports:hash:hash".into()
            });
        }
        Check::Cdhash => {
            let s = php::pcre_subject(v);
            let ok = s.len() >= 40
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            return expect(ok, || {
                "The input doesn't match the expected format (expected: 40 or more hexadecimal characters)".into()
            });
        }
        Check::HttpMethod => {
            return expect(is_http_method(v), || "Unknown HTTP method.".into());
        }
        Check::FilenamePehash => {
            return expect(is_filename_hash(v, 40), || {
                "The input doesn't match the expected filename|sha1 format (expected: filename|40 hexadecimal characters). Keep in mind that MISP currently only supports SHA1 for PEhashes, if you would like to get the support extended to other hash types, make sure to create a github ticket about it at https://github.com/MISP/MISP!".into()
            });
        }
        Check::FilenameHash(len) => {
            return expect(is_filename_hash(v, len), || {
                format!(
                    "Checksum has an invalid length or format (expected: filename|{len} hexadecimal characters). Please double check the value or select type \"other\"."
                )
            });
        }
        Check::FilenameSsdeep => {
            let (name, hash) = halves(v);
            if name.contains('\n') {
                return Err(Rejection::new(
                    "Filename must not contain new line character.",
                ));
            }
            return expect(is_ssdeep(hash), || {
                "Invalid ssdeep hash (expected: blocksize:hash:hash).".into()
            });
        }
        Check::FilenameTlsh => {
            let (name, hash) = halves(v);
            if name.contains('\n') {
                return Err(Rejection::new(
                    "Filename must not contain new line character.",
                ));
            }
            return expect(is_tlsh(hash), || {
                "TLSH hash has an invalid length or format (expected: filename|at least 35 hexadecimal characters, optionally starting with t1 instead of hexadecimal characters). Please double check the value or select type \"other\".".into()
            });
        }
        Check::FilenameVhash => {
            let s = php::pcre_subject(v);
            let ok = s
                .split_once('|')
                .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
                && !s.contains('\n');
            return expect(ok, || {
                "Checksum has an invalid length or format (expected: filename|string characters). Please double check the value or select type \"other\".".into()
            });
        }
        Check::Ip => return check_ip(v),
        Check::Port => return expect(is_port(v), || PORT_INVALID.into()),
        Check::IpPort => {
            let (addr, port) = halves(v);
            if !ip::filter_ip(addr, ip::Family::Any) {
                return Err(Rejection::new(IP_INVALID));
            }
            return expect(is_port(port), || PORT_INVALID.into());
        }
        Check::Onion => {
            return expect(is_onion(v), || {
                "Onion address has an invalid format.".into()
            });
        }
        Check::Mac(groups) => is_mac(v, groups),
        Check::Domain => {
            return expect(domain::is_domain_valid(v), || {
                "Domain has an invalid format. Please double check the value or select type \"other\".".into()
            });
        }
        Check::Hostname => {
            return expect(domain::is_domain_valid(v), || {
                "Hostname has an invalid format. Please double check the value or select type \"other\".".into()
            });
        }
        Check::HostnamePort => {
            let (host, port) = halves(v);
            if !domain::is_domain_valid(host) {
                return Err(Rejection::new("Hostname has an invalid format."));
            }
            return expect(is_port(port), || PORT_INVALID.into());
        }
        Check::DomainIp => {
            let (name, addr) = halves(v);
            if !domain::is_domain_valid(name) {
                return Err(Rejection::new("Domain has an invalid format."));
            }
            return expect(ip::filter_ip(addr, ip::Family::Any), || IP_INVALID.into());
        }
        Check::Email => {
            return expect(is_email(v), || {
                "Email address has an invalid format. Please double check the value or select type \"other\".".into()
            });
        }
        Check::Vulnerability => {
            let ok = php::pcre_subject(v)
                .strip_prefix("CVE-")
                .is_some_and(|rest| {
                    rest.split_once('-').is_some_and(|(year, num)| {
                        year.len() == 4
                            && php::is_digits(year)
                            && num.len() >= 4
                            && php::is_digits(num)
                    })
                });
            return expect(ok, || "Invalid format. Expected: CVE-xxxx-xxxx...".into());
        }
        Check::Weakness => {
            let ok = php::pcre_subject(v)
                .strip_prefix("CWE-")
                .is_some_and(php::is_digits);
            return expect(ok, || "Invalid format. Expected: CWE-x...".into());
        }
        Check::WindowsService => {
            let ok = v.len() <= 256 && !v.contains(['\\', '/']);
            return expect(ok, || {
                "Invalid format. Only values shorter than 256 characters that don't include any forward or backward slashes are allowed.".into()
            });
        }
        Check::Any => true,
        Check::Link => url::is_valid_url(v),
        Check::Hex => php::is_xdigits(v),
        Check::NoNewline => {
            return expect(!v.contains('\n'), || {
                "Value must not contain new line character.".into()
            });
        }
        Check::SshFingerprint => {
            return expect(is_ssh_fingerprint(v), || {
                "SSH fingerprint must be in MD5 or SHA256 format.".into()
            });
        }
        Check::Datetime => {
            return expect(datetime::normalize_datetime(v).is_some(), || {
                "Datetime has to be in the ISO 8601 format.".into()
            });
        }
        Check::WholeNumber => {
            return expect(php::is_digits(v), || {
                "The value has to be a whole number greater or equal 0.".into()
            });
        }
        Check::Integer => return Err(Rejection::new("The value has to be an integer value.")),
        Check::Alnum => {
            let s = php::pcre_subject(v);
            !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        Check::Vhash => {
            let s = php::pcre_subject(v);
            !s.is_empty() && !s.contains('\n')
        }
        Check::Numeric => php::is_numeric(v),
        Check::Json => json_syntax::is_valid_json(v),
        Check::Boolean => v == "1" || v == "0",
        Check::As => {
            return expect(
                php::is_digits(v) && php::cmp_digits(v, 4_294_967_295).is_le(),
                || AS_INVALID.into(),
            );
        }
        Check::Unknown => return Err(Rejection::new("Unknown attribute type filename|impfuzzy.")),
    };
    expect(ok, || GENERIC.into())
}

/// MISP's message for a bad AS number (0 is accepted despite it).
pub(crate) const AS_INVALID: &str = "AS number have to be integer between 1 and 4294967295";

fn expect(ok: bool, reason: impl FnOnce() -> String) -> Result<(), Rejection> {
    if ok {
        Ok(())
    } else {
        Err(Rejection::new(reason()))
    }
}

/// `explode('|', $v)` pieces 0 and 1 (the value holds exactly one `|` by
/// the time `validate()` runs).
fn halves(v: &str) -> (&str, &str) {
    v.split_once('|').unwrap_or((v, ""))
}

/// `isHashValid`: exactly `len` bytes, all hex digits.
fn is_hash(v: &str, len: usize) -> bool {
    v.len() == len && php::is_xdigits(v)
}

/// `isTlshValid`: an optional leading `t`, then more than 35 hex digits.
fn is_tlsh(v: &str) -> bool {
    let v = v.strip_prefix('t').unwrap_or(v);
    v.len() > 35 && php::is_xdigits(v)
}

/// `^([0-9]+):([0-9a-zA-Z/+]*):([0-9a-zA-Z/+]*)$`, in one pass over the
/// bytes: digits, a `:`, then hash bytes with exactly one more `:`.
fn is_ssdeep(v: &str) -> bool {
    let b = php::pcre_subject(v).as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || b.get(digits) != Some(&b':') {
        return false;
    }
    let mut colons = 0;
    for &c in b.get(digits + 1..).unwrap_or(&[]) {
        if c == b':' {
            colons += 1;
        } else if !(c.is_ascii_alphanumeric() || c == b'/' || c == b'+') {
            return false;
        }
    }
    colons == 1
}

/// MISP's unanchored HTTP method regex: the value contains one of the
/// method names.
fn is_http_method(v: &str) -> bool {
    const METHODS: [&str; 30] = [
        "OPTIONS",
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "DELETE",
        "TRACE",
        "CONNECT",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "VERSION-CONTROL",
        "REPORT",
        "CHECKOUT",
        "CHECKIN",
        "UNCHECKOUT",
        "MKWORKSPACE",
        "UPDATE",
        "LABEL",
        "MERGE",
        "BASELINE-CONTROL",
        "MKACTIVITY",
        "ORDERPATCH",
        "ACL",
        "PATCH",
        "SEARCH",
    ];
    METHODS.iter().any(|m| v.contains(m))
}

/// `^.+\|[0-9a-f]{len}$`: a non-empty first half without newline, then
/// exactly `len` lowercase hex digits.
fn is_filename_hash(v: &str, len: usize) -> bool {
    let s = php::pcre_subject(v);
    let Some((name, hash)) = s.split_once('|') else {
        return false;
    };
    !name.is_empty()
        && !name.contains('\n')
        && hash.len() == len
        && php::all_bytes(hash.as_bytes(), |b| {
            b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
        })
}

/// `isPortValid`: digits only, 1 to 65535 (leading zeros allowed).
fn is_port(v: &str) -> bool {
    php::is_digits(v) && php::cmp_digits(v, 1).is_ge() && php::cmp_digits(v, 65_535).is_le()
}

/// The `ip-src`/`ip-dst` check, with its three CIDR messages.
fn check_ip(v: &str) -> Result<(), Rejection> {
    if !v.contains('/') {
        return expect(ip::filter_ip(v, ip::Family::Any), || IP_INVALID.into());
    }
    let mut parts = v.split('/');
    let (Some(addr), Some(mask), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Rejection::new("Invalid CIDR notation value found."));
    };
    if !php::is_digits(mask) {
        return Err(Rejection::new("Invalid CIDR notation value found."));
    }
    if ip::filter_ip(addr, ip::Family::V4) {
        expect(php::cmp_digits(mask, 32).is_le(), || {
            "Invalid CIDR notation value found, for IPv4 must be lower or equal 32.".into()
        })
    } else if ip::filter_ip(addr, ip::Family::V6) {
        expect(php::cmp_digits(mask, 128).is_le(), || {
            "Invalid CIDR notation value found, for IPv6 must be lower or equal 128.".into()
        })
    } else {
        Err(Rejection::new(IP_INVALID))
    }
}

/// MISP 2.5's onion regex `^([a-z2-7]{16}|[a-z2-7]{56)\.onion$`. Its
/// second branch is a typo: PCRE reads `{56` literally, so a v3 address
/// (56 characters) is rejected and only v2 (16 characters) passes — plus
/// the odd `x{56.onion`. Fixed upstream after 2.5; kept here as MISP 2.5
/// behaves.
fn is_onion(v: &str) -> bool {
    let Some(name) = php::pcre_subject(v).strip_suffix(".onion") else {
        return false;
    };
    let base32 = |b: u8| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b);
    let b = name.as_bytes();
    (b.len() == 16 && b.iter().all(|&c| base32(c)))
        || (b.len() == 4 && base32(b[0]) && &b[1..] == b"{56")
}

/// `^([a-fA-F0-9]{2}[:]?){groups}$`.
fn is_mac(v: &str, groups: usize) -> bool {
    let b = php::pcre_subject(v).as_bytes();
    // Groups of two hex digits, each optionally followed by a `:`; PCRE's
    // backtracking cannot change the outcome because `:` is not hex.
    let mut i = 0;
    for _ in 0..groups {
        match b.get(i..i + 2) {
            Some(pair) if pair.iter().all(u8::is_ascii_hexdigit) => i += 2,
            _ => return false,
        }
        if b.get(i) == Some(&b':') {
            i += 1;
        }
    }
    i == b.len()
}

/// `^.[^\s]*\@.*\..*$`: one byte (not a newline), then non-whitespace up
/// to an `@`, and after that `@` a `.` with no newline anywhere. Checking
/// the first `@` suffices: later candidates have shorter tails.
fn is_email(v: &str) -> bool {
    let b = php::pcre_subject(v).as_bytes();
    let Some((&first, rest)) = b.split_first() else {
        return false;
    };
    if first == b'\n' {
        return false;
    }
    for (i, &c) in rest.iter().enumerate() {
        if c == b'@' {
            let tail = &rest[i + 1..];
            return !tail.contains(&b'\n') && tail.contains(&b'.');
        }
        if php::is_pcre_space(c) {
            return false;
        }
    }
    false
}

/// `isSshFingerprint`: `SHA256:` and base64 of 32 bytes (PHP's strict
/// `base64_decode`), or an MD5 in hex with optional `MD5:` prefix and `:`
/// separators.
fn is_ssh_fingerprint(v: &str) -> bool {
    if let Some(b64) = v.strip_prefix("SHA256:") {
        return base64_decoded_len(b64) == Some(32);
    }
    let hex = v.strip_prefix("MD5:").unwrap_or(v);
    let len = hex.bytes().filter(|&b| b != b':').count();
    len == 32
        && hex.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
        && hex.bytes().any(|b| b != b':')
}

/// The length PHP's `base64_decode($s, true)` decodes to, or `None` where
/// it fails: whitespace (`\t`, `\n`, `\r`, space) is skipped, `=` padding
/// only at the end and only where it makes a whole quantum, no other
/// bytes outside the alphabet, no lone final character.
fn base64_decoded_len(s: &str) -> Option<usize> {
    let mut data = 0usize;
    let mut padding = 0usize;
    for b in s.bytes() {
        match b {
            b'=' => padding += 1,
            b'\t' | b'\n' | b'\r' | b' ' => {}
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => {
                if padding > 0 {
                    return None;
                }
                data += 1;
            }
            _ => return None,
        }
    }
    if data % 4 == 1 {
        return None;
    }
    if padding > 0 && (padding > 2 || (data + padding) % 4 != 0) {
        return None;
    }
    Some(data * 6 / 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(c: Check, v: &str) -> bool {
        check(c, v).is_ok()
    }

    /// The ssdeep pattern, part by part (the model of [`is_ssdeep`]).
    fn is_ssdeep_by_parts(v: &str) -> bool {
        let mut parts = php::pcre_subject(v).split(':');
        let (Some(size), Some(h1), Some(h2), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        let hash_ok = |h: &str| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        };
        php::is_digits(size) && hash_ok(h1) && hash_ok(h2)
    }

    proptest! {
        #[test]
        fn ssdeep_check_is_the_pattern(
            v in proptest::collection::vec(
                prop_oneof![
                    Just("3"), Just("96"), Just(":"), Just("::"), Just("a"), Just("Z"),
                    Just("/"), Just("+"), Just("-"), Just(" "), Just("\n"), Just("é"),
                    Just("YWnD"), Just(""),
                ],
                0..10,
            ).prop_map(|p| p.concat())
        ) {
            prop_assert_eq!(is_ssdeep(&v), is_ssdeep_by_parts(&v), "{:?}", v);
        }
    }

    #[test]
    fn ssdeep_check_cases() {
        for v in ["3:a:b", "96:YWnD+/:x", "1::", "3:a:b\n"] {
            assert!(is_ssdeep(v), "{v:?}");
        }
        for v in [
            "",
            ":a:b",
            "3:a",
            "3:a:b:c",
            "a:b:c",
            "3:a b:c",
            "3:a:b\n\n",
            "3:é:b",
        ] {
            assert!(!is_ssdeep(v), "{v:?}");
        }
    }

    #[test]
    fn upstream_validation_tests() {
        // MISP's own AttributeValidationToolTest.
        assert!(ok(
            Check::FilenameHash(32),
            "cmd.exe|0cc175b9c0f1b6a831c399e269772661"
        ));
        assert!(!ok(
            Check::FilenameHash(32),
            "cmd.exe|86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
        ));
        assert!(!ok(
            Check::FilenameHash(32),
            "cmd.exe\ncmd.com|0cc175b9c0f1b6a831c399e269772661"
        ));
        assert!(ok(
            Check::Tlsh,
            "b2317c38fac0333c8ff7d3ff31fcf3b7fb3f9a3ef3bf3c880cfc43ebf97f3cc73fbfc"
        ));
        assert!(ok(
            Check::Tlsh,
            "t1fdd4e000b6a1c034f1f612f849b6a3a4b53f7ea1677481cf12d916ea4a79af1ed31317"
        ));
        assert!(ok(
            Check::FilenameTlsh,
            "cmd.exe|t1fdd4e000b6a1c034f1f612f849b6a3a4b53f7ea1677481cf12d916ea4a79af1ed31317"
        ));
        for h in [
            "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO",
            "384:EWo4X1WaPW9ZWhWzLo+lWpct/fWbkWsWIwW0/S7dZhgG8:EWo4X1WmW9ZWhWH/WpchfWgWsWTWtf8",
            "6144:3wSQSlrBHFjOvwYAU/Fsgi/2WDg5+YaNk5xcHrYw+Zg+XrZsGEREYRGAFU25ttR/:ctM7E0L4q",
        ] {
            assert!(ok(Check::Ssdeep, h), "{h}");
        }
        assert!(ok(
            Check::FilenameSsdeep,
            "ahoj.txt|96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO"
        ));
        assert!(!ok(
            Check::Ssdeep,
            "768:+OFu8Q3w6QzfR5Jni6SQD7qSFDs6P93/q0XIc/UB5EPABWX\n\n:RFu8QAFzffJui79f13/AnB5EPAkX"
        ));
        assert!(ok(Check::Hash(32), "0cc175b9c0f1b6a831c399e269772661"));
        for v in ["127.0.0.1", "127.0.0.1/32", "::1", "::1/128"] {
            assert!(ok(Check::Ip, v), "{v}");
        }
        for v in [
            "127",
            "127.0.0.",
            "127.0.0.1/",
            "127.0.0.1/32/1",
            "127.0.0.1/128",
            "::1/257",
            "::1/128/1",
        ] {
            assert!(!ok(Check::Ip, v), "{v}");
        }
        assert!(ok(Check::Port, "1"));
        assert!(ok(Check::Port, "80"));
        assert!(!ok(Check::Port, "-80"));
        for v in [
            "7b:e5:6f:a7:f4:f9:81:62:5c:e3:1f:bf:8b:57:6c:5a",
            "MD5:7b:e5:6f:a7:f4:f9:81:62:5c:e3:1f:bf:8b:57:6c:5a",
            "SHA256:mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE",
        ] {
            assert!(ok(Check::SshFingerprint, v), "{v}");
        }
        assert!(ok(Check::DomainIp, "example.com|127.0.0.1"));
        assert!(ok(Check::DomainIp, "example.com|::1"));
        assert!(!ok(Check::DomainIp, "example.com|127"));
        assert!(!ok(Check::DomainIp, "example.com|1"));
        assert!(ok(Check::NoNewline, "cmd.exe"));
        assert!(!ok(Check::NoNewline, "cmd.exe\ncmd.com"));
        assert!(ok(Check::As, "0"));
        assert!(ok(Check::As, "4294967295"));
        assert!(!ok(Check::As, "1.2.3.4"));
    }

    #[test]
    fn messages() {
        let reason = |c: Check, v: &str| check(c, v).err().map(|r| r.reason().to_owned());
        assert_eq!(
            reason(Check::Ip, "1.2.3.4/33").as_deref(),
            Some("Invalid CIDR notation value found, for IPv4 must be lower or equal 32.")
        );
        assert_eq!(
            reason(Check::Ip, "::1/129").as_deref(),
            Some("Invalid CIDR notation value found, for IPv6 must be lower or equal 128.")
        );
        assert_eq!(
            reason(Check::Ip, "1.2.3.4/a").as_deref(),
            Some("Invalid CIDR notation value found.")
        );
        assert_eq!(reason(Check::Ip, "010.1.2.3").as_deref(), Some(IP_INVALID));
        assert_eq!(
            reason(Check::Hash(64), "abc").as_deref(),
            Some(
                "Checksum has an invalid length or format (expected: 64 hexadecimal characters). Please double check the value or select type \"other\"."
            )
        );
        assert_eq!(reason(Check::Mac(6), "zz").as_deref(), Some(GENERIC));
        assert_eq!(
            reason(Check::Unknown, "a|b").as_deref(),
            Some("Unknown attribute type filename|impfuzzy.")
        );
    }

    #[test]
    fn small_checks() {
        assert!(is_onion("abcdefghijklmnop.onion"));
        assert!(!is_onion(&format!("{}.onion", "a".repeat(56))));
        assert!(is_onion("a{56.onion"));
        assert!(is_mac("aa:bb:cc:dd:ee:ff", 6));
        assert!(is_mac("aabbccddeeff", 6));
        assert!(is_mac("aa:bb:cc:dd:ee:ff:", 6));
        assert!(is_mac("aa:bb:cc:dd:ee:ff:\n", 6));
        assert!(!is_mac("aa:bb:cc:dd:ee", 6));
        assert!(!is_mac("aa::bb:cc:dd:ee:ff", 6));
        assert!(is_mac("aa:bb:cc:dd:ee:ff:00:11", 8));
        assert!(is_email("john.doe@example.com"));
        assert!(is_email("@@a.b"));
        assert!(is_email(" a@b.c"));
        assert!(!is_email("a b@c.d"));
        assert!(!is_email("foo@bar"));
        assert!(!is_email("a@b.c\nd"));
        assert!(is_http_method("xGETx"));
        assert!(!is_http_method("get"));
        assert_eq!(
            base64_decoded_len("mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE"),
            Some(32)
        );
        assert_eq!(
            base64_decoded_len("mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE="),
            Some(32)
        );
        assert_eq!(
            base64_decoded_len("mVPwvezndPv/ARoIadVY98vAC0g+P/5633yTC4d/wXE=="),
            None
        );
        assert_eq!(base64_decoded_len("a=b"), None);
        assert_eq!(base64_decoded_len("a"), None);
    }
}
