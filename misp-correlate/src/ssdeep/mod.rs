//! ssdeep hashes, libfuzzy-identical `fuzzy_compare`, and an index that
//! finds fuzzy partners without comparing all pairs.
//!
//! MISP correlates two `ssdeep` attributes when libfuzzy's
//! `fuzzy_compare` scores them at or above
//! `MISP.ssdeep_correlation_threshold` (default 40). This module gives the
//! same scores without libfuzzy:
//!
//! * [`SsdeepHash`]: a parsed `blocksize:hash1:hash2`, accepted exactly
//!   when MISP's validation regex
//!   `^([0-9]+):([0-9a-zA-Z/+]*):([0-9a-zA-Z/+]*)$` accepts it **and**
//!   libfuzzy can compare it (each part at most 64 characters once runs
//!   are shortened, see below). It is `Copy`, 144 bytes, and parsing a
//!   valid value does not allocate.
//! * [`fuzzy_compare`]: the score 0..=100 that libfuzzy 2.14.1's
//!   `fuzzy_compare` returns for the two hash strings, checked against
//!   libfuzzy on the vectors in `testdata/ssdeep/compare-vectors.tsv`.
//!   It runs on the stack, without heap allocation.
//! * [`FuzzyIndex`]: hashes under caller-assigned `u32` ids, indexed by
//!   the 7-character substrings of their parts, so that
//!   [`FuzzyIndex::candidates`] returns every stored hash that can score
//!   above 0 against a query (and few others), and
//!   [`FuzzyIndex::partners`] scores only those.
//!
//! ```
//! use misp_correlate::ssdeep::{FuzzyIndex, SsdeepHash, fuzzy_compare};
//!
//! let a: SsdeepHash = "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO".parse()?;
//! let b = SsdeepHash::parse("192:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO:2X3w")?;
//! assert_eq!(fuzzy_compare(&a, &b), 100);
//!
//! let mut index = FuzzyIndex::new();
//! index.insert(7, &a);
//! index.insert(8, &b);
//! assert_eq!(index.partners(&a, 40), vec![(7, 100), (8, 100)]);
//! assert_eq!(index.partners_of(7, 40), Some(vec![(8, 100)]));
//! # Ok::<(), misp_correlate::Error>(())
//! ```
//!
//! # How libfuzzy scores two hashes
//!
//! An ssdeep hash `b:p1:p2` holds two piecewise hashes of the same input,
//! `p1` at block size `b` and `p2` at block size `2b`. libfuzzy 2.14.1:
//!
//! 1. parses `b` as an unsigned long (saturating at `u64::MAX` on the
//!    64-bit Unix systems MISP runs on, so `99999999999999999999` is
//!    `18446744073709551615`);
//! 2. returns 0 unless the block sizes are equal, or one is exactly twice
//!    the other (without overflow);
//! 3. shortens every run of more than 3 identical characters in each part
//!    to 3 (`aaaaaaab` → `aaab`) and refuses (returns -1) a part that is
//!    still longer than 64 characters;
//! 4. returns 100 if the block sizes and both shortened parts are equal;
//! 5. scores the parts that share a block size: with equal block sizes
//!    the maximum of `p1`/`p1` (at `b`) and `p2`/`p2` (at `2b`, skipped
//!    if `2b` overflows); otherwise the larger hash's `p1` against the
//!    smaller hash's `p2`;
//! 6. scores two parts `s1`, `s2` as 0 unless both have at least 7
//!    characters and share a substring of 7 characters; otherwise from
//!    their edit distance `d` with insertion and deletion cost 1 and
//!    substitution cost 2 (that is, `len1 + len2 - 2 * LCS`):
//!    `100 - (100 * (d * 64 / (len1 + len2))) / 64` in integer arithmetic,
//!    capped at `b / 3 * min(len1, len2)` when the block size `b` of those
//!    parts is below 45.
//!
//! [`fuzzy_compare`] does exactly this. libfuzzy's -1 ("refused") only
//! arises for inputs [`SsdeepHash::parse`] refuses; MISP treats it like a
//! score below the threshold.
//!
//! # Parsing and MISP
//!
//! MISP validates an `ssdeep` value with the regex above after trimming,
//! so the parser accepts no whitespace, no sign, no `,"filename"` suffix
//! (as printed by the `ssdeep` tool) and no third part. A value MISP
//! accepts but whose part exceeds 64 characters after shortening runs is
//! refused with [`SsdeepErrorKind::PartTooLong`]
//! ([`SsdeepErrorKind::is_misp_valid`] says so): libfuzzy refuses to
//! compare it, so in MISP it never correlates fuzzily.
//!
//! A parsed hash keeps the block size as libfuzzy reads it and the parts
//! with runs shortened, which is all `fuzzy_compare` looks at; its
//! [`Display`](std::fmt::Display) form is that canonical form
//! (`003:aaaaab:` prints as `3:aaab:`). Two strings that parse to equal
//! hashes score 100 against each other.
//!
//! # The index and MISP's chunk table
//!
//! MISP (`FuzzyCorrelateSsdeep`) stores, per attribute, the distinct
//! 7-character windows of both shortened parts as chunk keys and compares
//! the source with every attribute sharing a chunk, whatever the block
//! size. [`FuzzyIndex`] keys each window by the block size it stands for
//! (`b` for `p1`, `2b` for `p2`), so windows only meet where libfuzzy
//! compares them. Since libfuzzy scores 0 without a common 7-character
//! substring in parts of the same block size, the candidates contain
//! every hash with a positive score. Hashes too short to have a window
//! are found through exact equality, the only way they can score.

mod compare;
mod index;

use std::fmt;
use std::str::FromStr;

pub use compare::fuzzy_compare;
pub use index::{FuzzyIndex, Pairs};

use crate::{Error, Result};

/// The longest part libfuzzy compares, after runs are shortened
/// (`SPAMSUM_LENGTH`).
pub const MAX_PART_LEN: usize = 64;

/// The length of the common substring libfuzzy requires
/// (`ROLLING_WINDOW`).
pub const WINDOW: usize = 7;

/// A parsed ssdeep hash `blocksize:part1:part2`, as libfuzzy compares it.
///
/// The parts are stored with runs of more than 3 identical characters
/// shortened to 3, in fixed arrays: the type is `Copy` and holds no heap
/// memory. Equality is libfuzzy's notion of identical hashes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SsdeepHash {
    block_size: u64,
    first: Part,
    second: Part,
}

/// One part of a hash: at most [`MAX_PART_LEN`] base64 characters, the
/// unused tail zeroed so that derived equality and hashing are exact.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Part {
    len: u8,
    bytes: [u8; MAX_PART_LEN],
}

impl Part {
    const EMPTY: Part = Part {
        len: 0,
        bytes: [0; MAX_PART_LEN],
    };

    /// The characters of the part.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl SsdeepHash {
    /// Parses `blocksize:part1:part2`.
    ///
    /// Accepts exactly the values MISP's regex
    /// `^([0-9]+):([0-9a-zA-Z/+]*):([0-9a-zA-Z/+]*)$` accepts, except those
    /// libfuzzy refuses to compare (a part longer than 64 characters after
    /// runs are shortened). A block size beyond `u64::MAX` saturates, as
    /// libfuzzy's `sscanf("%lu")` does.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSsdeep`] with the value (shortened if very long)
    /// and an [`SsdeepErrorKind`] that says what is wrong and where.
    pub fn parse(value: &str) -> Result<SsdeepHash> {
        parse_bytes(value.as_bytes()).map_err(|kind| Error::InvalidSsdeep {
            value: excerpt(value),
            kind,
        })
    }

    /// The block size of the first part (the second part's is twice this).
    pub fn block_size(&self) -> u64 {
        self.block_size
    }

    /// The first part (block size [`block_size`](Self::block_size)), with
    /// runs shortened to 3.
    pub fn first_part(&self) -> &[u8] {
        self.first.as_bytes()
    }

    /// The second part (block size twice
    /// [`block_size`](Self::block_size)), with runs shortened to 3.
    pub fn second_part(&self) -> &[u8] {
        self.second.as_bytes()
    }

    /// The same as [`fuzzy_compare(self, other)`](fuzzy_compare).
    pub fn compare(&self, other: &SsdeepHash) -> u32 {
        fuzzy_compare(self, other)
    }

    pub(crate) fn first(&self) -> &Part {
        &self.first
    }

    pub(crate) fn second(&self) -> &Part {
        &self.second
    }
}

impl FromStr for SsdeepHash {
    type Err = Error;

    fn from_str(value: &str) -> Result<SsdeepHash> {
        SsdeepHash::parse(value)
    }
}

impl fmt::Display for SsdeepHash {
    /// The canonical form `blocksize:part1:part2`, runs shortened.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.block_size)?;
        for &byte in self.first_part() {
            fmt::Write::write_char(f, char::from(byte))?;
        }
        fmt::Write::write_char(f, ':')?;
        for &byte in self.second_part() {
            fmt::Write::write_char(f, char::from(byte))?;
        }
        Ok(())
    }
}

impl fmt::Debug for SsdeepHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SsdeepHash(\"{self}\")")
    }
}

/// Why a value is not an [`SsdeepHash`]. Positions are byte offsets into
/// the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SsdeepErrorKind {
    /// The value does not start with a decimal block size.
    NoBlockSize,
    /// A byte that cannot appear there: the block size is followed by
    /// `:`, the parts hold only `0-9a-zA-Z/+`, and there are two parts.
    UnexpectedByte {
        /// Byte offset of the byte.
        position: usize,
        /// The byte.
        byte: u8,
    },
    /// The value ends before its first (1) or second (2) part starts.
    MissingPart {
        /// 1 or 2.
        part: u8,
    },
    /// A `,` after the second part: the `,"filename"` suffix the `ssdeep`
    /// tool prints, which is not part of the hash (MISP refuses it).
    FilenameSuffix {
        /// Byte offset of the `,`.
        position: usize,
    },
    /// A part (1 or 2) that is longer than 64 characters after runs of
    /// identical characters are shortened to 3. MISP accepts the value,
    /// but libfuzzy refuses to compare it, so it never correlates.
    PartTooLong {
        /// 1 or 2.
        part: u8,
        /// Its length after shortening runs.
        length: usize,
    },
}

impl SsdeepErrorKind {
    /// Whether MISP's validation accepts the value anyway (it is refused
    /// only because libfuzzy cannot compare it).
    pub fn is_misp_valid(&self) -> bool {
        matches!(self, SsdeepErrorKind::PartTooLong { .. })
    }
}

impl fmt::Display for SsdeepErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SsdeepErrorKind::NoBlockSize => f.write_str("expected a decimal block size at byte 0"),
            SsdeepErrorKind::UnexpectedByte { position, byte } => {
                if byte.is_ascii_graphic() {
                    write!(f, "unexpected {:?} at byte {position}", char::from(byte))
                } else {
                    write!(f, "unexpected byte 0x{byte:02x} at byte {position}")
                }
            }
            SsdeepErrorKind::MissingPart { part } => {
                write!(f, "part {part} is missing (expected two ':')")
            }
            SsdeepErrorKind::FilenameSuffix { position } => write!(
                f,
                "trailing ',\"filename\"' at byte {position} is not part of the hash"
            ),
            SsdeepErrorKind::PartTooLong { part, length } => write!(
                f,
                "part {part} has {length} characters after shortening runs, \
                 libfuzzy compares at most {MAX_PART_LEN}"
            ),
        }
    }
}

/// Maps a base64 character to its value 0..64, anything else to
/// [`NOT_BASE64`].
#[inline]
pub(crate) fn base64_value(byte: u8) -> u8 {
    BASE64_VALUES[usize::from(byte)]
}

/// [`base64_value`] as a table (a lookup is faster than the ranges).
static BASE64_VALUES: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = match byte as u8 {
            b @ b'A'..=b'Z' => b - b'A',
            b @ b'a'..=b'z' => b - b'a' + 26,
            b @ b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => NOT_BASE64,
        };
        byte += 1;
    }
    table
};

/// [`base64_value`] of a byte outside the ssdeep alphabet.
pub(crate) const NOT_BASE64: u8 = 0xff;

fn parse_bytes(value: &[u8]) -> Result<SsdeepHash, SsdeepErrorKind> {
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return Err(SsdeepErrorKind::NoBlockSize);
    }
    let block_size = value.iter().take(digits).fold(0u64, |acc, &digit| {
        acc.saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    });
    let mut position = digits;
    match value.get(position) {
        Some(b':') => position += 1,
        Some(&byte) => return Err(SsdeepErrorKind::UnexpectedByte { position, byte }),
        None => return Err(SsdeepErrorKind::MissingPart { part: 1 }),
    }
    let first = read_part(value, &mut position, 1)?;
    match value.get(position) {
        Some(b':') => position += 1,
        Some(&byte) => return Err(SsdeepErrorKind::UnexpectedByte { position, byte }),
        None => return Err(SsdeepErrorKind::MissingPart { part: 2 }),
    }
    let second = read_part(value, &mut position, 2)?;
    match value.get(position) {
        None => Ok(SsdeepHash {
            block_size,
            first,
            second,
        }),
        Some(b',') => Err(SsdeepErrorKind::FilenameSuffix { position }),
        Some(&byte) => Err(SsdeepErrorKind::UnexpectedByte { position, byte }),
    }
}

/// Reads base64 characters from `*position` up to the first other byte,
/// shortening runs of more than 3 identical characters to 3 (libfuzzy's
/// `copy_eliminate_sequences`).
fn read_part(value: &[u8], position: &mut usize, part: u8) -> Result<Part, SsdeepErrorKind> {
    let mut out = Part::EMPTY;
    let mut length = 0usize;
    // Length of the run of identical characters ending at the last byte.
    let mut run = 0usize;
    let mut previous = None;
    for &byte in value.get(*position..).unwrap_or(&[]) {
        if base64_value(byte) == NOT_BASE64 {
            break;
        }
        *position += 1;
        run = if previous == Some(byte) { run + 1 } else { 1 };
        previous = Some(byte);
        if run > 3 {
            continue;
        }
        if let Some(slot) = out.bytes.get_mut(length) {
            *slot = byte;
        }
        length += 1;
    }
    if length > MAX_PART_LEN {
        return Err(SsdeepErrorKind::PartTooLong { part, length });
    }
    // length <= 64 fits in u8.
    out.len = length as u8;
    Ok(out)
}

/// The value for an error message: whole if short, else its start.
fn excerpt(value: &str) -> String {
    const LIMIT: usize = 200;
    if value.len() <= LIMIT {
        return value.to_owned();
    }
    let mut end = LIMIT;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let start = value.get(..end).unwrap_or_default();
    format!("{start}… ({} bytes)", value.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(value: &str) -> SsdeepErrorKind {
        match SsdeepHash::parse(value) {
            Err(Error::InvalidSsdeep { kind, .. }) => kind,
            other => panic!("{value:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn parses_the_misp_reference_hash() {
        let text = "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO";
        let hash = SsdeepHash::parse(text).unwrap();
        assert_eq!(hash.block_size(), 96);
        assert_eq!(
            hash.first_part(),
            b"s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx"
        );
        assert_eq!(hash.second_part(), b"sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO");
        assert_eq!(hash.to_string(), text);
        assert_eq!(text.parse::<SsdeepHash>().unwrap(), hash);
    }

    #[test]
    fn empty_parts_and_leading_zeros() {
        let hash = SsdeepHash::parse("003::").unwrap();
        assert_eq!(hash.block_size(), 3);
        assert_eq!(hash.first_part(), b"");
        assert_eq!(hash.second_part(), b"");
        assert_eq!(hash.to_string(), "3::");
        assert_eq!(SsdeepHash::parse("0:a:").unwrap().block_size(), 0);
    }

    #[test]
    fn shortens_runs_to_three() {
        let hash = SsdeepHash::parse("3:aaaaaaaab:aaaab").unwrap();
        assert_eq!(hash.first_part(), b"aaab");
        assert_eq!(hash.second_part(), b"aaab");
        assert_eq!(hash, SsdeepHash::parse("3:aaab:aaab").unwrap());
        let hash = SsdeepHash::parse("3:abbbbcccdddddddd:").unwrap();
        assert_eq!(hash.first_part(), b"abbbcccddd");
    }

    #[test]
    fn block_size_saturates_like_strtoul() {
        let max = u64::MAX;
        assert_eq!(
            SsdeepHash::parse("18446744073709551615:a:b")
                .unwrap()
                .block_size(),
            max
        );
        assert_eq!(
            SsdeepHash::parse("18446744073709551616:a:b")
                .unwrap()
                .block_size(),
            max
        );
        assert_eq!(
            SsdeepHash::parse("99999999999999999999999999999:a:b")
                .unwrap()
                .block_size(),
            max
        );
    }

    #[test]
    fn part_length_limit_applies_after_shortening_runs() {
        let a64: String = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".into();
        assert!(SsdeepHash::parse(&format!("3:{a64}:{a64}")).is_ok());
        assert_eq!(
            kind(&format!("3:{a64}A:")),
            SsdeepErrorKind::PartTooLong {
                part: 1,
                length: 65
            }
        );
        assert_eq!(
            kind(&format!("3::{a64}zzzz")),
            SsdeepErrorKind::PartTooLong {
                part: 2,
                length: 67
            }
        );
        let runs = format!("3:{}:{}", "Q".repeat(5000), "R".repeat(70));
        let hash = SsdeepHash::parse(&runs).unwrap();
        assert_eq!(hash.to_string(), "3:QQQ:RRR");
        assert!(kind(&format!("3:{a64}A:")).is_misp_valid());
    }

    #[test]
    fn refuses_what_misp_refuses() {
        use SsdeepErrorKind::*;
        assert_eq!(kind(""), NoBlockSize);
        assert_eq!(kind(":abc:def"), NoBlockSize);
        assert_eq!(kind(" 96:abc:def"), NoBlockSize);
        assert_eq!(kind("+96:abc:def"), NoBlockSize);
        assert_eq!(kind("-96:abc:def"), NoBlockSize);
        assert_eq!(kind("96"), MissingPart { part: 1 });
        assert_eq!(kind("96:abc"), MissingPart { part: 2 });
        assert_eq!(
            kind("0x60:abc:def"),
            UnexpectedByte {
                position: 1,
                byte: b'x'
            }
        );
        assert_eq!(
            kind("96:abc:def:ghi"),
            UnexpectedByte {
                position: 10,
                byte: b':'
            }
        );
        assert_eq!(
            kind("96:ab=c:def"),
            UnexpectedByte {
                position: 5,
                byte: b'='
            }
        );
        assert_eq!(
            kind("96:abc:def\n"),
            UnexpectedByte {
                position: 10,
                byte: b'\n'
            }
        );
        assert_eq!(
            kind("96:abc:def "),
            UnexpectedByte {
                position: 10,
                byte: b' '
            }
        );
        assert_eq!(
            kind("96:abc:déf"),
            UnexpectedByte {
                position: 8,
                byte: 0xc3
            }
        );
        assert_eq!(
            kind("96:abc:def,\"file.exe\""),
            FilenameSuffix { position: 10 }
        );
        assert_eq!(
            kind("96:a,b:def"),
            UnexpectedByte {
                position: 4,
                byte: b','
            }
        );
        assert!(!kind("96:abc:def,\"file.exe\"").is_misp_valid());
    }

    #[test]
    fn errors_name_the_value_and_the_problem() {
        let error = SsdeepHash::parse("96:abc:def,\"file.exe\"").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid ssdeep hash \"96:abc:def,\\\"file.exe\\\"\": trailing ',\"filename\"' at byte 10 is not part of the hash"
        );
        let error = SsdeepHash::parse("96:ab\u{7}c:def").unwrap_err();
        assert!(
            error
                .to_string()
                .ends_with("unexpected byte 0x07 at byte 5")
        );
        let long = format!("3:{}", "é".repeat(300));
        let error = SsdeepHash::parse(&long).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("(602 bytes)"), "{message}");
        assert!(message.len() < 300, "{message}");
    }

    proptest::proptest! {
        /// Any input: no panic; what parses prints back to a form that
        /// parses to the same hash; scores are symmetric and at most 100.
        #[test]
        fn parse_and_compare_never_panic(
            a in "[0-9]{0,22}:?[A-Za-z0-9+/,:= ]{0,80}:?[A-Za-z0-9+/,:]{0,80}|\\PC{0,40}",
            b in "[0-9]{0,3}:[A-D]{0,70}:[A-D]{0,70}",
        ) {
            for text in [&a, &b] {
                if let Ok(hash) = SsdeepHash::parse(text) {
                    let canonical = hash.to_string();
                    proptest::prop_assert_eq!(SsdeepHash::parse(&canonical).ok(), Some(hash));
                }
            }
            if let (Ok(x), Ok(y)) = (SsdeepHash::parse(&a), SsdeepHash::parse(&b)) {
                let score = fuzzy_compare(&x, &y);
                proptest::prop_assert!(score <= 100);
                proptest::prop_assert_eq!(score, fuzzy_compare(&y, &x));
                proptest::prop_assert_eq!(fuzzy_compare(&x, &x), 100);
            }
        }
    }

    #[test]
    fn size_is_fixed() {
        assert!(std::mem::size_of::<SsdeepHash>() <= 144);
    }
}
