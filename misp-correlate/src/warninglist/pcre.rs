//! PHP/PCRE-style regex entries (`/pattern/modifiers`) for the `regex`
//! crate.
//!
//! MISP passes each entry of a regex list to `preg_match` as is, so entries
//! carry PHP's delimiters and modifiers. This module reproduces PHP's
//! parsing (`pcre_get_compiled_regex_cache`): leading whitespace is
//! skipped; the delimiter is any byte that is not alphanumeric, a backslash
//! or NUL, or one of the bracket pairs `()`, `[]`, `{}`, `<>` (which nest);
//! a backslash escapes the next byte while searching for the end
//! delimiter; then come modifiers, where spaces and newlines are ignored and
//! an unknown letter (such as JavaScript's `g`) makes the whole entry fail.
//!
//! Modifiers map to `regex` flags: `i m s x U` directly; without `u` the
//! pattern runs in byte mode (`(?-u)`: ASCII classes and case folding, as
//! PCRE without UTF); `A` anchors at the start; `D S X J n` change nothing
//! the `regex` crate can observe (see the module docs of
//! [`warninglist`](super) on `$`). Syntax the `regex` crate does not support
//! (look-around, back-references, `\Z`, …) makes the entry unusable.

use std::fmt::Write as _;

/// Why a regex entry cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PatternError {
    Empty,
    BadDelimiter,
    NoEndDelimiter(char),
    UnknownModifier(char),
    NotUtf8,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PatternError::Empty => f.write_str("empty regular expression"),
            PatternError::BadDelimiter => {
                f.write_str("delimiter must not be alphanumeric, backslash or NUL")
            }
            PatternError::NoEndDelimiter(d) => write!(f, "no ending delimiter '{d}' found"),
            PatternError::UnknownModifier(m) => {
                write!(f, "unknown modifier '{}'", m.escape_debug())
            }
            PatternError::NotUtf8 => {
                f.write_str("pattern is not valid UTF-8 between its delimiters")
            }
        }
    }
}

/// Translates a PHP-delimited pattern into `regex` syntax. With
/// `allow_global`, the `g` modifier is accepted and ignored.
pub(crate) fn translate(entry: &str, allow_global: bool) -> Result<String, PatternError> {
    let bytes = entry.as_bytes();
    let begin = bytes
        .iter()
        .position(|b| !is_php_space(*b))
        .ok_or(PatternError::Empty)?;
    let delimiter = *bytes.get(begin).ok_or(PatternError::Empty)?;
    if delimiter.is_ascii_alphanumeric() || delimiter == b'\\' || delimiter == 0 {
        return Err(PatternError::BadDelimiter);
    }
    let closer = match delimiter {
        b'(' => b')',
        b'[' => b']',
        b'{' => b'}',
        b'<' => b'>',
        other => other,
    };
    let body_start = begin + 1;
    let mut depth = 1usize;
    let mut i = body_start;
    let body_end = loop {
        let Some(&b) = bytes.get(i) else {
            return Err(PatternError::NoEndDelimiter(char::from(closer)));
        };
        if b == b'\\' && i + 1 < bytes.len() {
            i += 2;
            continue;
        }
        if b == closer {
            depth -= 1;
            if depth == 0 || closer == delimiter {
                break i;
            }
        } else if b == delimiter {
            depth += 1;
        }
        i += 1;
    };
    let body = bytes
        .get(body_start..body_end)
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or(PatternError::NotUtf8)?;

    let mut flags = String::new();
    let (mut unicode, mut anchored, mut extended) = (false, false, false);
    for &m in bytes.get(body_end + 1..).unwrap_or(&[]) {
        match m {
            b'i' | b'm' | b's' | b'U' => push_flag(&mut flags, char::from(m)),
            b'x' => {
                extended = true;
                push_flag(&mut flags, 'x');
            }
            b'u' => unicode = true,
            b'A' => anchored = true,
            b'D' | b'S' | b'X' | b'J' | b'n' | b' ' | b'\n' | b'\r' => {}
            b'g' if allow_global => {}
            other => {
                let shown = if other.is_ascii() {
                    char::from(other)
                } else {
                    char::REPLACEMENT_CHARACTER
                };
                return Err(PatternError::UnknownModifier(shown));
            }
        }
    }
    let mut pattern = String::with_capacity(body.len() + 16);
    if !flags.is_empty() || !unicode {
        pattern.push_str("(?");
        pattern.push_str(&flags);
        if !unicode {
            pattern.push_str("-u");
        }
        pattern.push(')');
    }
    if anchored {
        // A newline ends an `x`-mode comment that the body may end with.
        let _ = write!(pattern, "\\A(?:{body}{})", if extended { "\n" } else { "" });
    } else {
        pattern.push_str(body);
    }
    Ok(pattern)
}

fn push_flag(flags: &mut String, flag: char) {
    if !flags.contains(flag) {
        flags.push(flag);
    }
}

/// PHP's `isspace` in the C locale.
fn is_php_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(entry: &str, haystack: &str) -> bool {
        let pattern = translate(entry, false).unwrap();
        regex::bytes::Regex::new(&pattern)
            .unwrap()
            .is_match(haystack.as_bytes())
    }

    #[test]
    fn delimiters_php_accepts() {
        for entry in [
            "/abc/", "#abc#i", "~abc~", "(abc)i", "{abc}", "<abc>", "|abc|", "!abc!", "  /abc/",
        ] {
            assert!(
                matches(entry, "xxabcxx") || matches(entry, "ABC"),
                "{entry}"
            );
        }
        assert!(matches("(a(b)c)", "abc"), "nested bracket delimiters");
        assert!(matches(r"/a\/b/", "a/b"), "escaped delimiter");
        assert!(matches("//", "anything"), "empty pattern matches");
    }

    #[test]
    fn delimiter_errors() {
        assert_eq!(
            translate("^abc$", false),
            Err(PatternError::NoEndDelimiter('^'))
        );
        assert_eq!(translate("abc", false), Err(PatternError::BadDelimiter));
        assert_eq!(translate("\\abc\\", false), Err(PatternError::BadDelimiter));
        assert_eq!(translate("", false), Err(PatternError::Empty));
        assert_eq!(translate("   ", false), Err(PatternError::Empty));
        assert_eq!(
            translate("/abc", false),
            Err(PatternError::NoEndDelimiter('/'))
        );
        assert_eq!(
            translate("(abc", false),
            Err(PatternError::NoEndDelimiter(')'))
        );
        assert_eq!(
            translate(r"/abc\/", false),
            Err(PatternError::NoEndDelimiter('/'))
        );
    }

    #[test]
    fn modifiers() {
        assert!(matches("/^abc$/i", "ABC"));
        assert!(!matches("/^abc$/", "ABC"));
        assert_eq!(
            translate("/abc/g", false),
            Err(PatternError::UnknownModifier('g'))
        );
        assert_eq!(
            translate("/abc/e", false),
            Err(PatternError::UnknownModifier('e'))
        );
        assert!(translate("/abc/g", true).is_ok());
        assert!(matches("/b/A", "bc") && !matches("/b/A", "abc"));
        assert!(matches("/a # comment/xA", "a"));
        assert!(matches("/^b$/m", "a\nb\nc"));
        assert!(matches("/a.b/s", "a\nb") && !matches("/a.b/", "a\nb"));
        assert!(matches("/abc/ D S X J n\n", "abc"));
        assert!(matches(
            r"/^(security|noc|soc|abuse)\@.*\..*$/i",
            "Abuse@example.com"
        ));
    }

    #[test]
    fn byte_mode_without_u() {
        // Without `u`, \w is ASCII only (PCRE's default tables).
        assert!(!matches(r"/^\w$/", "é"));
        assert!(matches(r"/^\w$/u", "é"));
        assert!(matches("/é/", "café"));
    }
}
