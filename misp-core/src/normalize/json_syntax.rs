//! Whether a value is JSON as PHP's `json_decode($v, true, 512)` accepts
//! it, for the `cortex` type (MISP's `JsonTool::isValid`).
//!
//! RFC 8259 JSON with any value at the top level, plus PHP's limits: at
//! most 511 nested arrays/objects, no unpaired UTF-16 surrogate escapes,
//! numbers of any size (`1e400` is fine). The scan is iterative, so deep
//! input cannot overflow the stack.

/// PHP rejects a 512th level of nesting.
const MAX_NESTING: usize = 511;

/// Whether `s` is valid JSON for PHP's `json_decode`.
pub(crate) fn is_valid_json(s: &str) -> bool {
    let b = s.as_bytes();
    let mut p = Parser { b, i: 0 };
    // Open containers: `true` for an object, `false` for an array.
    let mut stack: Vec<bool> = Vec::new();
    p.ws();
    'value: loop {
        // Parse one value; containers push and continue with their first
        // element.
        match p.peek() {
            Some(b'{') | Some(b'[') => {
                let is_object = p.peek() == Some(b'{');
                p.i += 1;
                if stack.len() == MAX_NESTING {
                    return false;
                }
                stack.push(is_object);
                p.ws();
                let close = if is_object { b'}' } else { b']' };
                if p.peek() == Some(close) {
                    p.i += 1;
                    stack.pop();
                } else {
                    if is_object && !p.key() {
                        return false;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => {
                if !p.string() {
                    return false;
                }
            }
            Some(b't') => {
                if !p.literal(b"true") {
                    return false;
                }
            }
            Some(b'f') => {
                if !p.literal(b"false") {
                    return false;
                }
            }
            Some(b'n') => {
                if !p.literal(b"null") {
                    return false;
                }
            }
            Some(_) => {
                if !p.number() {
                    return false;
                }
            }
            None => return false,
        }
        // After a complete value: close containers or move to the next
        // element.
        loop {
            p.ws();
            let Some(&is_object) = stack.last() else {
                return p.i == b.len();
            };
            let close = if is_object { b'}' } else { b']' };
            match p.peek() {
                Some(b',') => {
                    p.i += 1;
                    p.ws();
                    if is_object && !p.key() {
                        return false;
                    }
                    continue 'value;
                }
                Some(c) if c == close => {
                    p.i += 1;
                    stack.pop();
                }
                _ => return false,
            }
        }
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// An object key and its `:`, leaving the position at the value.
    fn key(&mut self) -> bool {
        if self.peek() != Some(b'"') || !self.string() {
            return false;
        }
        self.ws();
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        self.ws();
        true
    }

    fn literal(&mut self, lit: &[u8]) -> bool {
        if self.b[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return false;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    fn hex4(&mut self) -> Option<u16> {
        let h = self.b.get(self.i..self.i + 4)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let v = h.iter().fold(0u16, |v, &c| {
            (v << 4) | (c as char).to_digit(16).unwrap_or(0) as u16
        });
        self.i += 4;
        Some(v)
    }

    /// A string starting at the opening quote.
    fn string(&mut self) -> bool {
        self.i += 1;
        loop {
            let Some(c) = self.peek() else { return false };
            self.i += 1;
            match c {
                b'"' => return true,
                0x00..=0x1F => return false,
                b'\\' => {
                    let Some(e) = self.peek() else { return false };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            let Some(u) = self.hex4() else { return false };
                            match u {
                                0xD800..=0xDBFF => {
                                    if !self.b[self.i..].starts_with(b"\\u") {
                                        return false;
                                    }
                                    self.i += 2;
                                    if !matches!(self.hex4(), Some(0xDC00..=0xDFFF)) {
                                        return false;
                                    }
                                }
                                0xDC00..=0xDFFF => return false,
                                _ => {}
                            }
                        }
                        _ => return false,
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_json() {
        for ok in [
            "1",
            "\"a\"",
            "true",
            "null",
            "1e400",
            "-0",
            " [1] ",
            "{\"\":1}",
            "\"\\ud800\\udc00\"",
            "\"\\/\"",
            "\"\x7f\"",
            "{\"a\":[1,{\"b\":null}],\"c\":-1.5E+3}",
            "[]",
            "{}",
        ] {
            assert!(is_valid_json(ok), "{ok:?}");
        }
        for bad in [
            "",
            "TRUE",
            "01",
            "1.",
            ".5",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"a\tb\"",
            "{\"a\":1,}",
            "[1,]",
            "\x0c1",
            "[1]x",
            "\"\\a\"",
            "{1:2}",
            "[",
            "\"abc",
            "{\"a\"}",
            "+1",
            "[1 2]",
        ] {
            assert!(!is_valid_json(bad), "{bad:?}");
        }
    }

    #[test]
    fn nesting_limit() {
        let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(is_valid_json(&nest(511)));
        assert!(!is_valid_json(&nest(512)));
        assert!(!is_valid_json(&"[".repeat(100_000)));
    }
}
