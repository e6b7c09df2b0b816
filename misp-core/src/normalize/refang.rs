//! MISP's refanging (`ComplexTypeTool::refangValue`) and the 4-byte UTF-8
//! replacement (`AttributeValidationTool::handle4ByteUnicode`).
//!
//! MISP applies a table of five regular expressions, each one pass of
//! `preg_replace`, in table order, to the types listed for it:
//!
//! | rule | rewrite | types |
//! |---|---|---|
//! | 1 | `^(hxxp\|hxtp\|htxp\|meow\|h[tt]p)` (any case) → `http` | `link`, `url` |
//! | 2 | `[.]`, `[dot]`, `(dot)` → `.` | `link`, `url`, `ip-src`, `ip-dst`, `domain`, `hostname`, `domain\|ip`, `email`, `email-src`, `email-dst` |
//! | 3 | `[hxxp://]` → `http://` | `link`, `url` |
//! | 4 | `[@]`, `[at]` → `@` | `email`, `email-src`, `email-dst` |
//! | 5 | `[:]` → `:` | `link`, `url` |
//!
//! Rules 2 to 5 are case-sensitive. The `|port` types are not refanged.
//! Each rule is a single left-to-right pass, so a value such as `a[[.]]b`
//! becomes `a[.]b`, which MISP would refang again on the next save.

use std::borrow::Cow;

/// Which refang rules apply to a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refang {
    /// Not refanged.
    None,
    /// Rules 1, 2, 3 and 5 (`link`, `url`).
    Url,
    /// Rule 2 (IPs, `domain`, `hostname`, `domain|ip`).
    Dots,
    /// Rules 2 and 4 (`email`, `email-src`, `email-dst`).
    Email,
}

/// Refangs `value` for a type with rules `rules`.
pub(crate) fn refang(rules: Refang, value: &str) -> Cow<'_, str> {
    let mut v = Cow::Borrowed(value);
    // Rules 2 to 5 need a `[` or `(`; most values have neither.
    if !super::php::any_byte(value.as_bytes(), |b| b == b'[' || b == b'(') {
        return if rules == Refang::Url {
            http_prefix(v)
        } else {
            v
        };
    }
    match rules {
        Refang::None => {}
        Refang::Url => {
            v = http_prefix(v);
            v = replace_all(v, &[("[.]", "."), ("[dot]", "."), ("(dot)", ".")]);
            v = replace_all(v, &[("[hxxp://]", "http://")]);
            v = replace_all(v, &[("[:]", ":")]);
        }
        Refang::Dots => {
            v = replace_all(v, &[("[.]", "."), ("[dot]", "."), ("(dot)", ".")]);
        }
        Refang::Email => {
            v = replace_all(v, &[("[.]", "."), ("[dot]", "."), ("(dot)", ".")]);
            v = replace_all(v, &[("[@]", "@"), ("[at]", "@")]);
        }
    }
    v
}

/// Rule 1: a leading `hxxp`, `hxtp`, `htxp`, `meow` or `h[tt]p`, in any
/// case, becomes `http`.
fn http_prefix(v: Cow<'_, str>) -> Cow<'_, str> {
    const PREFIXES: [&[u8]; 5] = [b"hxxp", b"hxtp", b"htxp", b"meow", b"h[tt]p"];
    let bytes = v.as_bytes();
    if !matches!(bytes.first(), Some(b'h' | b'H' | b'm' | b'M')) {
        return v;
    }
    let mut head = [0u8; 6];
    for (h, b) in head.iter_mut().zip(bytes) {
        *h = b.to_ascii_lowercase();
    }
    let head = &head[..bytes.len().min(6)];
    match PREFIXES.iter().find(|p| head.starts_with(p)) {
        // The prefix is ASCII, so its end is a character boundary.
        Some(p) => Cow::Owned(format!("http{}", &v[p.len()..])),
        None => v,
    }
}

/// One `preg_replace` pass of an alternation of literal needles: at each
/// position the first needle (in order) that matches is replaced and the
/// scan continues after it. All needles start with `[` or `(`.
fn replace_all<'a>(v: Cow<'a, str>, needles: &[(&str, &str)]) -> Cow<'a, str> {
    let bytes = v.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'[' || b == b'(') else {
        return v;
    };
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = first;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'[' || b == b'(' {
            let rest = &bytes[i..];
            if let Some((from, to)) = needles
                .iter()
                .find(|(from, _)| rest.starts_with(from.as_bytes()))
            {
                let buf = out.get_or_insert_with(|| String::with_capacity(v.len()));
                // `copied..i` and the needle are on char boundaries: the
                // needles are ASCII and `i` is at an ASCII byte.
                buf.push_str(&v[copied..i]);
                buf.push_str(to);
                i += from.len();
                copied = i;
                continue;
            }
        }
        i += 1;
    }
    match out {
        Some(mut buf) => {
            buf.push_str(&v[copied..]);
            Cow::Owned(buf)
        }
        None => v,
    }
}

/// Replaces every 4-byte UTF-8 character (outside the Basic Multilingual
/// Plane: emoji, rare CJK, …) with `?`, as MISP does for all types because
/// its columns are `utf8mb3`.
pub(crate) fn replace_4byte(v: Cow<'_, str>) -> Cow<'_, str> {
    if v.is_ascii() || !super::php::any_byte(v.as_bytes(), |b| b >= 0xF0) {
        return v;
    }
    Cow::Owned(
        v.chars()
            .map(|c| if c.len_utf8() == 4 { '?' } else { c })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_rules() {
        assert_eq!(
            refang(Refang::Url, "hxxps://example[.]com[:]8080/a"),
            "https://example.com:8080/a"
        );
        assert_eq!(refang(Refang::Url, "HXXP://a"), "http://a");
        assert_eq!(refang(Refang::Url, "MEOW://a"), "http://a");
        assert_eq!(refang(Refang::Url, "h[tt]ps://a"), "https://a");
        assert_eq!(
            refang(Refang::Url, "[hxxp://]a(dot)b[dot]c"),
            "http://a.b.c"
        );
        // Rule 1 only at the start, rules 2 to 5 case-sensitive.
        assert_eq!(refang(Refang::Url, "x hxxp://a[DOT]b"), "x hxxp://a[DOT]b");
        // Rules 2 and 4 do not apply to url.
        assert_eq!(refang(Refang::Url, "a[at]b"), "a[at]b");
        // Backslashes are kept (MISP issue #7214).
        assert_eq!(
            refang(Refang::Url, "http://a/;\\..\\./x"),
            "http://a/;\\..\\./x"
        );
    }

    #[test]
    fn single_pass() {
        assert_eq!(refang(Refang::Dots, "a[[.]]b"), "a[.]b");
        assert_eq!(refang(Refang::Dots, "a[.[.]]b"), "a[..]b");
        assert_eq!(refang(Refang::Email, "a[[at]]b"), "a[@]b");
    }

    #[test]
    fn ip_and_email() {
        for v in [
            "127.0.0.1",
            "127[.]0.0.1",
            "127[.]0[.]0[.]1",
            "127[dot]0[dot]0[dot]1",
            "127(dot)0(dot)0(dot)1",
        ] {
            assert_eq!(refang(Refang::Dots, v), "127.0.0.1");
        }
        for v in [
            "admin@admin[.]test",
            "admin[@]admin[.]test",
            "admin[at]admin[dot]test",
        ] {
            assert_eq!(refang(Refang::Email, v), "admin@admin.test");
        }
        assert_eq!(refang(Refang::Dots, "a[at]b"), "a[at]b");
        assert_eq!(refang(Refang::None, "1.2.3[.]4:80"), "1.2.3[.]4:80");
    }

    #[test]
    fn unchanged_values_are_borrowed() {
        assert!(matches!(
            refang(Refang::Url, "http://example.com/[x]"),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            replace_4byte(Cow::Borrowed("aé€")),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn four_byte_characters() {
        assert_eq!(replace_4byte(Cow::Borrowed("a😀b𝄞")), "a?b?");
        assert_eq!(replace_4byte(Cow::Borrowed("€é")), "€é");
    }
}
