//! The `datetime` type: MISP parses the value with PHP's `new DateTime($v,
//! new DateTimeZone('GMT'))` and stores it as `Y-m-d\TH:i:s.uO`, e.g.
//! `2021-03-02T00:00:00.000000+0000`.
//!
//! PHP's parser accepts almost anything (`now`, `next monday`, `+1 day`,
//! `21-01-01`, `12:00.5`, …), and the relative forms depend on the moment
//! of saving, so no offline tool can reproduce them. This module accepts
//! the absolute ISO 8601 forms that occur in threat-intelligence data and
//! rejects every other value (with MISP's "Datetime has to be in the ISO
//! 8601 format."):
//!
//! ```text
//! value = date [ ("T" / "t" / 1*" ") time ] [ *" " zone ]
//!       / "@" ["-"] 1*DIGIT [ "." 1*DIGIT ]          ; Unix time, UTC
//! date  = 4DIGIT "-" 1*2DIGIT "-" 1*2DIGIT            ; month 0-12, day 0-31
//! time  = 1*2DIGIT ":" 2DIGIT [ ":" 2DIGIT [ "." *DIGIT ] ]
//!                                                     ; hour 0-24, minute 0-59, second 0-60
//! zone  = "Z" / "z" / "UTC" / "GMT" (any case)
//!       / ("+" / "-") 1*2DIGIT [ [":"] 2DIGIT ]       ; offset up to 24:59
//! ```
//!
//! As in PHP, out-of-range parts roll over (`2021-02-31` is 2021-03-03,
//! `24:00` is midnight of the next day, month 0 is December of the year
//! before), the wall-clock time keeps its own offset (no conversion to
//! UTC), fractions are truncated to microseconds, and no time zone means
//! GMT. Results outside the years 0000-9999 are rejected (PHP would store
//! a 5-digit or negative year).

/// Parses `s` and formats it as MISP stores it, or `None`.
pub(crate) fn normalize_datetime(s: &str) -> Option<String> {
    let dt = parse(s.as_bytes())?;
    Some(dt.format())
}

/// A wall-clock date and time with its UTC offset.
struct DateTime {
    /// Days since 0000-01-01 of the proleptic Gregorian calendar, in the
    /// value's own offset.
    days: i64,
    /// Seconds since midnight, `0..86_400`.
    seconds_of_day: i64,
    /// Microseconds, `0..1_000_000`.
    micros: u32,
    /// Offset from UTC in minutes.
    offset_minutes: i32,
}

impl DateTime {
    fn format(&self) -> String {
        let (y, m, d) = civil_from_days(self.days);
        let h = self.seconds_of_day / 3600;
        let min = self.seconds_of_day / 60 % 60;
        let sec = self.seconds_of_day % 60;
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        format!(
            "{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{sec:02}.{:06}{sign}{:02}{:02}",
            self.micros,
            off / 60,
            off % 60
        )
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Between `min` and `max` digits, as a number.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.i;
        let mut v: u32 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        (self.i - start >= min).then_some(v)
    }

    fn spaces(&mut self) -> usize {
        let start = self.i;
        while self.eat(b' ') {}
        self.i - start
    }

    fn at_end(&self) -> bool {
        self.i == self.b.len()
    }
}

fn parse(b: &[u8]) -> Option<DateTime> {
    if let Some(rest) = b.strip_prefix(b"@") {
        return parse_unix(rest);
    }
    let mut c = Cursor { b, i: 0 };
    let year = c.number(4, 4)?;
    if !c.eat(b'-') {
        return None;
    }
    let month = c.number(1, 2)?;
    if !c.eat(b'-') {
        return None;
    }
    let day = c.number(1, 2)?;
    if month > 12 || day > 31 {
        return None;
    }
    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0);
    let before_sep = c.i;
    let has_t = c.eat(b'T') || c.eat(b't');
    if has_t || c.spaces() > 0 {
        match c.peek() {
            Some(b'0'..=b'9') => {
                hour = c.number(1, 2)?;
                if !c.eat(b':') {
                    return None;
                }
                minute = c.number(2, 2)?;
                if c.eat(b':') {
                    second = c.number(2, 2)?;
                    if c.eat(b'.') {
                        let start = c.i;
                        while matches!(c.peek(), Some(b'0'..=b'9')) {
                            c.i += 1;
                        }
                        let frac = &b[start..c.i];
                        micros = frac
                            .iter()
                            .chain(std::iter::repeat(&b'0'))
                            .take(6)
                            .fold(0, |v, &d| v * 10 + u32::from(d - b'0'));
                    }
                }
                if hour > 24 || minute > 59 || second > 60 {
                    return None;
                }
            }
            // Spaces then a zone, without a time.
            _ if !has_t => c.i = before_sep,
            _ => return None,
        }
    }
    c.spaces();
    let offset_minutes = if c.at_end() { 0 } else { parse_zone(&mut c)? };
    if !c.at_end() {
        return None;
    }
    let (y, m) = if month == 0 {
        (i64::from(year) - 1, 12)
    } else {
        (i64::from(year), month)
    };
    let days = days_from_civil(y, m, 1) + i64::from(day) - 1;
    let total = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    make(total, micros, offset_minutes)
}

fn parse_zone(c: &mut Cursor<'_>) -> Option<i32> {
    let rest = &c.b[c.i..];
    if rest == b"Z"
        || rest == b"z"
        || rest.eq_ignore_ascii_case(b"UTC")
        || rest.eq_ignore_ascii_case(b"GMT")
    {
        c.i = c.b.len();
        return Some(0);
    }
    let negative = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return None,
    };
    c.i += 1;
    let digits_ahead = c.b[c.i..].iter().take_while(|d| d.is_ascii_digit()).count();
    let (hours, minutes) = match digits_ahead {
        1 | 2 => {
            let h = c.number(1, 2)?;
            let m = if c.eat(b':') { c.number(2, 2)? } else { 0 };
            (h, m)
        }
        3 => (c.number(1, 1)?, c.number(2, 2)?),
        4 => (c.number(2, 2)?, c.number(2, 2)?),
        _ => return None,
    };
    if hours > 24 || minutes > 59 {
        return None;
    }
    let off = (hours * 60 + minutes) as i32;
    Some(if negative { -off } else { off })
}

fn parse_unix(b: &[u8]) -> Option<DateTime> {
    let mut c = Cursor { b, i: 0 };
    let negative = c.eat(b'-');
    let start = c.i;
    while matches!(c.peek(), Some(b'0'..=b'9')) {
        c.i += 1;
    }
    let digits = &b[start..c.i];
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut secs: i64 = digits.iter().fold(0, |v, &d| v * 10 + i64::from(d - b'0'));
    let mut micros = 0u32;
    if c.eat(b'.') {
        let fstart = c.i;
        while matches!(c.peek(), Some(b'0'..=b'9')) {
            c.i += 1;
        }
        if c.i == fstart {
            return None;
        }
        micros = b[fstart..c.i]
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(6)
            .fold(0, |v, &d| v * 10 + u32::from(d - b'0'));
    }
    if !c.at_end() {
        return None;
    }
    if negative {
        secs = -secs;
        if micros > 0 {
            // -1.5 is 1.5 seconds before the epoch.
            secs -= 1;
            micros = 1_000_000 - micros;
        }
    }
    make(secs + UNIX_EPOCH_DAYS * 86_400, micros, 0)
}

/// Days from 0000-01-01 to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 719_528;

fn make(total_seconds: i64, micros: u32, offset_minutes: i32) -> Option<DateTime> {
    let days = total_seconds.div_euclid(86_400);
    let (y, _, _) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return None;
    }
    Some(DateTime {
        days,
        seconds_of_day: total_seconds.rem_euclid(86_400),
        micros,
        offset_minutes,
    })
}

/// Days since 0000-01-01 of a proleptic Gregorian date (`m` in 1..=12).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 0000-03-01 is day 60 of year 0 (a leap year).
    era * 146_097 + doe + 60
}

/// The date `days` after 0000-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days - 60;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        normalize_datetime(s)
    }

    #[test]
    fn php_datetime_vectors() {
        // Outputs of PHP 8.2 `(new DateTime($v, new DateTimeZone('GMT')))->format('Y-m-d\TH:i:s.uO')`.
        let cases = [
            ("2021-01-01", "2021-01-01T00:00:00.000000+0000"),
            ("2021-01-01T12:00", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01 12:00:00", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01t12:00:00", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01T24:00:00", "2021-01-02T00:00:00.000000+0000"),
            ("2021-01-01T23:59:60", "2021-01-02T00:00:00.000000+0000"),
            ("2021-02-31", "2021-03-03T00:00:00.000000+0000"),
            ("2021-02-29", "2021-03-01T00:00:00.000000+0000"),
            ("2021-00-10", "2020-12-10T00:00:00.000000+0000"),
            ("2021-01-00", "2020-12-31T00:00:00.000000+0000"),
            (
                "2021-01-01T12:00:00.1234567",
                "2021-01-01T12:00:00.123456+0000",
            ),
            (
                "2021-01-01T12:00:00.9999999",
                "2021-01-01T12:00:00.999999+0000",
            ),
            ("2021-01-01T12:00:00.", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01T12:00:00Z", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01T12:00:00z", "2021-01-01T12:00:00.000000+0000"),
            (
                "2021-01-01T12:00:00+02:00",
                "2021-01-01T12:00:00.000000+0200",
            ),
            (
                "2021-01-01T12:00:00+0200",
                "2021-01-01T12:00:00.000000+0200",
            ),
            ("2021-01-01T12:00:00+02", "2021-01-01T12:00:00.000000+0200"),
            ("2021-01-01T12:00:00+2", "2021-01-01T12:00:00.000000+0200"),
            ("2021-01-01T12:00:00+130", "2021-01-01T12:00:00.000000+0130"),
            (
                "2021-01-01T12:00:00 +02:00",
                "2021-01-01T12:00:00.000000+0200",
            ),
            (
                "2021-01-01T12:00:00-05:30",
                "2021-01-01T12:00:00.000000-0530",
            ),
            (
                "2021-01-01T12:00:00-00:00",
                "2021-01-01T12:00:00.000000+0000",
            ),
            (
                "2021-01-01T12:00:00+24:00",
                "2021-01-01T12:00:00.000000+2400",
            ),
            ("2021-01-01T12:00:00 UTC", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01T12:00:00utc", "2021-01-01T12:00:00.000000+0000"),
            ("2021-01-01T12:00:00 GMT", "2021-01-01T12:00:00.000000+0000"),
            (
                "2021-01-01T12:00:00.5 +01:00",
                "2021-01-01T12:00:00.500000+0100",
            ),
            ("@1600000000", "2020-09-13T12:26:40.000000+0000"),
            ("@-1", "1969-12-31T23:59:59.000000+0000"),
            ("@1600000000.5", "2020-09-13T12:26:40.500000+0000"),
            ("2021-1-1", "2021-01-01T00:00:00.000000+0000"),
            ("0000-01-01", "0000-01-01T00:00:00.000000+0000"),
            ("2021-01-01T1:00:00", "2021-01-01T01:00:00.000000+0000"),
            (
                "2021-01-01T12:00:00.000000+0000",
                "2021-01-01T12:00:00.000000+0000",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(n(input).as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn rejected() {
        for bad in [
            "2021-13-01",
            "2021-01-32",
            "2021-01-01T25:00:00",
            "2021-01-01T12:60:00",
            "2021-01-01T12:00:61",
            "2021-01-01T12:00:00+25:00",
            "2021-01-01T12:00:00+12:60",
            "2021-01-01T12:00:00,5",
            "@",
            "@1e3",
            "",
            "now",
            "2021-01-01T",
            "9999-12-31T24:00:00",
            "0000-00-01",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn calendar_round_trip() {
        for days in [-1000, 0, 59, 60, 365, 366, 719_528, 2_932_896, 3_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days} -> {y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(UNIX_EPOCH_DAYS), (1970, 1, 1));
        assert_eq!(civil_from_days(0), (0, 1, 1));
    }
}
