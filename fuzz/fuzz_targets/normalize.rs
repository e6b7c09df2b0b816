//! Fuzzes `misp_core::normalize`: the first byte picks one of the 194
//! types, the rest is the value (skipped unless UTF-8). Normalising must
//! not panic, accepted values must keep MISP's invariants, and saving a
//! stored value again must store the same value, except in the three
//! cases where MISP itself rewrites it again (see `misp_rewrites_again`,
//! the same predicate as in `misp-core/tests/normalize_props.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use misp_core::{AttributeType, normalize};

/// MISP's pipeline is not idempotent when a stored value still holds a
/// refang pattern (one pass per rule, before lowercasing), when a rewrite
/// exposed whitespace at an end (`example.com\n.` → `example.com\n`), or
/// for phone numbers whose stored form loosely starts with `00`.
fn misp_rewrites_again(ty: &str, stored: &str) -> bool {
    let url = matches!(ty, "link" | "url");
    let dots = url
        || matches!(
            ty,
            "ip-src"
                | "ip-dst"
                | "domain|ip"
                | "domain"
                | "hostname"
                | "email"
                | "email-src"
                | "email-dst"
        );
    let email = matches!(ty, "email" | "email-src" | "email-dst");
    let starts_ci = |p: &str| {
        stored.len() >= p.len() && stored.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
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
    let phone = matches!(ty, "prtn" | "phone-number" | "whois-registrant-phone")
        && (stored.starts_with("00") || stored.starts_with("+0") || stored == "0");
    refang_left || exposed_whitespace || phone
}

fuzz_target!(|data: &[u8]| {
    let Some((&index, rest)) = data.split_first() else {
        return;
    };
    let Some(ty) = AttributeType::from_index(usize::from(index) % AttributeType::COUNT) else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(first) = normalize(ty, raw) else {
        return;
    };
    let stored = first.as_str();
    assert!(stored.len() <= 65_535);
    assert!(!stored.chars().any(|c| c.len_utf8() == 4));
    match first.value2() {
        Some(v2) => assert_eq!(format!("{}|{}", first.value1(), v2), stored),
        None => assert_eq!(first.value1(), stored),
    }
    if !misp_rewrites_again(ty.name(), stored) {
        assert_eq!(normalize(ty, stored).as_ref(), Ok(&first), "{ty} {raw:?}");
    }
});
