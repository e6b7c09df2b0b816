//! The stored values that MISP rewrites again when they are saved again.
//!
//! MISP's save pipeline is idempotent on what it stores, except in three
//! cases, which [`rewrites_on_resave`] recognises. Property tests and fuzz
//! targets that check `normalize(ty, stored) == stored` use it to skip
//! exactly these cases and nothing else.

use crate::AttributeType;

/// Whether saving `stored` (a value as [`normalize`](super::normalize)
/// stored it for `ty`) again makes MISP store something else.
///
/// MISP's pipeline is not idempotent in three cases:
///
/// 1. Refanging is one pass of each rule, and runs before lowercasing, so
///    a stored value can still hold a refang pattern: `a@b.c[[.]]d` is
///    stored as `a@b.c[.]d`, and `a@b.c[DOT]d` as `a@b.c[dot]d`.
/// 2. A rewrite after `trim()` can expose whitespace at an end, which the
///    next save trims: `domain` `example.com\n.` is stored as
///    `example.com\n` (PCRE's `$` matches before a final newline), and
///    `mac-address` `aa:bb:cc:dd:ee:ff\n:` as `aa:bb:cc:dd:ee:ff:\n`.
/// 3. Phone numbers: the `00` → `+` test is PHP's loose `==`, and the
///    `(0)` removal runs after it, so `(0)0049` is stored as `0049`, which
///    the next save turns into `+49` (likewise a stored `+0…` or `0`).
///
/// For every other stored value, `normalize(ty, stored)` gives `stored`
/// back. The test is conservative: it may flag a value that a second save
/// leaves alone, never the other way round.
pub fn rewrites_on_resave(ty: AttributeType, stored: &str) -> bool {
    let name = ty.name();
    let url = matches!(name, "link" | "url");
    let email = matches!(name, "email" | "email-src" | "email-dst");
    let dots = url
        || email
        || matches!(
            name,
            "ip-src" | "ip-dst" | "domain|ip" | "domain" | "hostname"
        );
    let starts_ci = |p: &str| {
        stored
            .as_bytes()
            .get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes()))
    };
    let refang_left = (url
        && (["hxxp", "hxtp", "htxp", "meow", "h[tt]p"]
            .iter()
            .any(|p| starts_ci(p))
            || stored.contains("[hxxp://]")
            || stored.contains("[:]")))
        || (dots
            && (stored.contains("[.]") || stored.contains("[dot]") || stored.contains("(dot)")))
        || (email && (stored.contains("[@]") || stored.contains("[at]")));
    let php_trim = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\x0B');
    let exposed_whitespace = stored.trim_matches(php_trim) != stored;
    let phone = matches!(name, "prtn" | "phone-number" | "whois-registrant-phone")
        && (stored.starts_with("00") || stored.starts_with("+0") || stored == "0");
    refang_left || exposed_whitespace || phone
}

#[cfg(test)]
mod tests {
    use super::rewrites_on_resave;
    use crate::{AttributeType, normalize};

    fn ty(name: &str) -> AttributeType {
        AttributeType::from_name(name).expect("known type")
    }

    // The flagged cases are proven in `tests/normalize_props.rs`.
    #[test]
    fn ordinary_values_are_not_flagged() {
        for (name, raw) in [
            ("url", "https://example.com/a"),
            ("domain", "example.com"),
            ("email-src", "a@example.com"),
            ("phone-number", "+46701234567"),
            ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ] {
            let first = normalize(ty(name), raw).expect("saved");
            assert!(
                !rewrites_on_resave(ty(name), first.as_str()),
                "{name} {raw:?}"
            );
        }
    }
}
