//! The `(type, value)` pairs of a batch check, cut into chunks that are
//! split and checked in parallel.
//!
//! The batch checks take `2n` strings packed in one buffer, `type_0,
//! value_0, type_1, …`, in one of two layouts (see
//! `misp_warninglists_check_batch`): one after the other with an array of
//! their lengths, or separated by single NUL bytes. [`BatchInput::new`]
//! checks the input as a whole in one cheap pass (the number of strings,
//! the lengths adding up) and cuts it into chunks of about
//! [`CHUNK_PAIRS`] pairs; [`BatchInput::chunk_pairs`] then splits one
//! chunk into its pairs and checks that they are UTF-8, on whichever
//! thread checks that chunk. Splitting and validating thus run on every
//! thread of the pool, with the checks, instead of first on the calling
//! thread alone.
//!
//! With lengths, chunk `k` is simply pairs `k * CHUNK_PAIRS..`. Without,
//! the string boundaries are not known before the NUL bytes are found, so
//! chunks are cut by bytes: the buffer is divided into equal blocks (one
//! per [`CHUNK_PAIRS`] pairs), the NUL bytes of each block are counted in
//! parallel, and the chunk of a block is the pairs whose type string
//! *starts* in it. A string starts at 0 or after a NUL byte, and it is a
//! type exactly when an even number of NUL bytes precede it, which the
//! counts give. A block inside one long string has no pair.

use rayon::iter::ParallelIterator;
use rayon::slice::ParallelSlice;

use crate::error::{FfiError, misp_result};

/// About how many pairs a chunk holds: as many as `Matcher::check_batch`
/// gives each task, so that a batch from C is shared out like one from
/// Rust.
pub(crate) const CHUNK_PAIRS: usize = 2048;

/// The pairs of a batch check, checked as a whole and cut into chunks.
pub(crate) struct BatchInput<'a> {
    /// The packed strings.
    bytes: &'a [u8],
    /// The argument's name, for messages (`strings`).
    argument: &'a str,
    /// The number of pairs.
    pairs: usize,
    /// Pairs per chunk (with lengths), or per block (NUL-separated).
    chunk_pairs: usize,
    layout: Layout<'a>,
}

/// How [`BatchInput::bytes`] holds its strings, and where each chunk starts.
enum Layout<'a> {
    /// String `i` is `lens[i]` bytes long; chunk `k` is the pairs
    /// `k * chunk_pairs..`, whose first byte is `starts[k]`.
    Lengths {
        lens: &'a [usize],
        starts: Vec<usize>,
    },
    /// The strings are separated by single NUL bytes; chunk `k` is the
    /// pairs whose type starts in bytes `k * block..(k + 1) * block`, and
    /// `nuls_before[k]` NUL bytes precede that block.
    Separated {
        block: usize,
        nuls_before: Vec<usize>,
    },
}

impl<'a> BatchInput<'a> {
    /// The `count` strings of `bytes`, of lengths `lens` (then `count` is
    /// `lens.len()`) or, when `lens` is `None`, separated by single NUL
    /// bytes; they must make `(type, value)` pairs.
    ///
    /// Fails with `MISP_ERR_INVALID` when the lengths do not add up to
    /// `bytes.len()`, `bytes` does not hold `count` NUL-separated strings,
    /// or `count` is odd; each message names `argument`. UTF-8 is checked
    /// chunk by chunk, by [`chunk_pairs`](BatchInput::chunk_pairs).
    pub(crate) fn new(
        bytes: &'a [u8],
        lens: Option<&'a [usize]>,
        count: usize,
        argument: &'a str,
    ) -> Result<BatchInput<'a>, FfiError> {
        BatchInput::with_chunk_pairs(bytes, lens, count, argument, CHUNK_PAIRS)
    }

    /// As [`new`](BatchInput::new), with chunks of about `chunk_pairs`
    /// pairs (at least 1).
    fn with_chunk_pairs(
        bytes: &'a [u8],
        lens: Option<&'a [usize]>,
        count: usize,
        argument: &'a str,
        chunk_pairs: usize,
    ) -> Result<BatchInput<'a>, FfiError> {
        let chunk_pairs = chunk_pairs.max(1);
        let layout = match lens {
            Some(lens) => lengths_layout(bytes, lens, argument, chunk_pairs)?,
            None => separated_layout(bytes, count, argument, chunk_pairs)?,
        };
        if count % 2 != 0 {
            return Err(FfiError::invalid(format!(
                "argument `lens_len` is {count}: the strings must come in (type, value) pairs"
            )));
        }
        Ok(BatchInput {
            bytes,
            argument,
            pairs: count / 2,
            chunk_pairs,
            layout,
        })
    }

    /// The number of pairs.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pairs
    }

    /// The number of chunks (some may be empty).
    pub(crate) fn chunk_count(&self) -> usize {
        match &self.layout {
            Layout::Lengths { starts, .. } => starts.len(),
            Layout::Separated { nuls_before, .. } => nuls_before.len(),
        }
    }

    /// Appends the pairs of chunk `k` (in input order) to `pairs` and
    /// returns the index of its first pair. Chunks `0..chunk_count()`
    /// together hold every pair once, in order.
    ///
    /// Fails with `MISP_ERR_UTF8` naming the first string of the chunk
    /// that is not UTF-8 (`strings[index]`, with the offset in it).
    pub(crate) fn chunk_pairs(
        &self,
        k: usize,
        pairs: &mut Vec<(&'a str, &'a str)>,
    ) -> Result<usize, FfiError> {
        match &self.layout {
            Layout::Lengths { lens, starts } => self.length_chunk(lens, starts, k, pairs),
            Layout::Separated { block, nuls_before } => {
                self.separated_chunk(*block, nuls_before, k, pairs)
            }
        }
    }

    fn length_chunk(
        &self,
        lens: &[usize],
        starts: &[usize],
        k: usize,
        pairs: &mut Vec<(&'a str, &'a str)>,
    ) -> Result<usize, FfiError> {
        let first = k.saturating_mul(self.chunk_pairs).min(self.pairs);
        let last = first.saturating_add(self.chunk_pairs).min(self.pairs);
        let start = starts.get(k).copied().unwrap_or(self.bytes.len());
        let mut rest = self.bytes.get(start..).unwrap_or_default();
        let mut index = 2 * first;
        // The lengths add up to the buffer's length (checked by `new`), so
        // every split is in range.
        let mut next = |len: usize| {
            let (item, tail) = rest.split_at_checked(len).unwrap_or((rest, &[]));
            rest = tail;
            index += 1;
            item_str(item, self.argument, index - 1)
        };
        for pair in lens
            .get(2 * first..2 * last)
            .unwrap_or_default()
            .chunks_exact(2)
        {
            if let [type_len, value_len] = *pair {
                let type_name = next(type_len)?;
                pairs.push((type_name, next(value_len)?));
            }
        }
        Ok(first)
    }

    fn separated_chunk(
        &self,
        block: usize,
        nuls_before: &[usize],
        k: usize,
        pairs: &mut Vec<(&'a str, &'a str)>,
    ) -> Result<usize, FfiError> {
        let bytes = self.bytes;
        let from = k.saturating_mul(block).min(bytes.len());
        let to = from.saturating_add(block).min(bytes.len());
        let Some(&nuls) = nuls_before.get(k) else {
            return Ok(self.pairs);
        };
        let Some((start, nuls_at_start)) = next_pair_start(bytes, from, nuls, to) else {
            // No pair starts in this block (it is inside a long string):
            // the next pair is the first whose type starts after it.
            let strings_before = match from.checked_sub(1).map(|last| bytes.get(last)) {
                None => 0,
                Some(Some(0)) => nuls,
                Some(_) => nuls + 1,
            };
            return Ok(strings_before.div_ceil(2));
        };
        // The chunk ends before the separator of the first pair of a later
        // block, or with the buffer.
        let end = match nuls_before.get(k + 1) {
            Some(&nuls_at_to) => next_pair_start(bytes, to, nuls_at_to, bytes.len())
                .map_or(bytes.len(), |(next, _)| next - 1),
            None => bytes.len(),
        };
        let segment = bytes.get(start..end).unwrap_or_default();
        let text = std::str::from_utf8(segment)
            .map_err(|e| utf8_error(segment, e.valid_up_to(), nuls_at_start, self.argument))?;
        // The segment holds whole pairs: an even number of strings.
        let mut cuts = memchr::memchr_iter(0, segment).chain(std::iter::once(segment.len()));
        let mut begin = 0;
        let mut next = || {
            cuts.next().map(|cut| {
                let item = text.get(begin..cut).unwrap_or_default();
                begin = cut + 1;
                item
            })
        };
        while let (Some(type_name), Some(value)) = (next(), next()) {
            pairs.push((type_name, value));
        }
        Ok(nuls_at_start / 2)
    }
}

/// The layout of strings of lengths `lens`, cut into chunks of
/// `chunk_pairs` pairs.
fn lengths_layout<'a>(
    bytes: &[u8],
    lens: &'a [usize],
    argument: &str,
    chunk_pairs: usize,
) -> Result<Layout<'a>, FfiError> {
    let mut starts = Vec::with_capacity(lens.len().div_ceil(2 * chunk_pairs));
    let mut total = Some(0usize);
    for chunk in lens.chunks(2 * chunk_pairs) {
        let Some(start) = total else { break };
        starts.push(start);
        total = chunk
            .iter()
            .try_fold(start, |sum, &len| sum.checked_add(len));
    }
    if total != Some(bytes.len()) {
        return Err(FfiError::invalid(format!(
            "the {} lengths in `{argument}_lens` add up to {}, but `{argument}` holds {} bytes",
            lens.len(),
            total.map_or_else(|| "more than SIZE_MAX".to_owned(), |t| t.to_string()),
            bytes.len()
        )));
    }
    Ok(Layout::Lengths { lens, starts })
}

/// The layout of `count` NUL-separated strings, cut into blocks of one per
/// `chunk_pairs` pairs. Counts the NUL bytes of the blocks in parallel.
fn separated_layout(
    bytes: &[u8],
    count: usize,
    argument: &str,
    chunk_pairs: usize,
) -> Result<Layout<'static>, FfiError> {
    let mismatch = |found: &str| {
        FfiError::invalid(format!(
            "`lens` is NULL, so `{argument}` must hold `lens_len` = {count} NUL-separated strings, but it holds {found}"
        ))
    };
    if count == 0 {
        return if bytes.is_empty() {
            Ok(Layout::Separated {
                block: 1,
                nuls_before: Vec::new(),
            })
        } else {
            Err(mismatch(&format!("{} bytes", bytes.len())))
        };
    }
    let blocks = (count / 2).div_ceil(chunk_pairs).max(1);
    let block = bytes.len().div_ceil(blocks).max(1);
    let counts: Vec<usize> = bytes
        .par_chunks(block)
        .map(|part| part.iter().filter(|&&b| b == 0).count())
        .collect();
    let mut nuls_before = Vec::with_capacity(counts.len());
    let mut nuls = 0usize;
    for n in counts {
        nuls_before.push(nuls);
        nuls += n;
    }
    // An empty buffer holds one (empty) string.
    if nuls + 1 != count {
        return Err(mismatch(&(nuls + 1).to_string()));
    }
    Ok(Layout::Separated { block, nuls_before })
}

/// The first position `p` in `from..limit` where a pair starts in the
/// NUL-separated `bytes`, with the number of NUL bytes before it; `nuls`
/// is the number of NUL bytes before `from`.
///
/// A string starts at 0 or just after a NUL byte, and it is the type of a
/// pair when an even number of NUL bytes precede it.
fn next_pair_start(
    bytes: &[u8],
    from: usize,
    mut nuls: usize,
    limit: usize,
) -> Option<(usize, usize)> {
    let starts_string = match from.checked_sub(1) {
        None => true,
        Some(before) => bytes.get(before) == Some(&0),
    };
    if from < limit && starts_string && nuls % 2 == 0 {
        return Some((from, nuls));
    }
    let window = bytes.get(from..limit)?;
    for at in memchr::memchr_iter(0, window) {
        nuls += 1;
        let p = from + at + 1;
        if p >= limit {
            return None;
        }
        if nuls % 2 == 0 {
            return Some((p, nuls));
        }
    }
    None
}

/// The error for NUL-separated `segment`, whose first string is string
/// `first_index` of argument `argument`, being invalid UTF-8 from byte
/// `valid_up_to`: names the string and the offset in it.
fn utf8_error(segment: &[u8], valid_up_to: usize, first_index: usize, argument: &str) -> FfiError {
    let before = segment.get(..valid_up_to).unwrap_or_default();
    let index = first_index + memchr::memchr_iter(0, before).count();
    let start = memchr::memrchr(0, before).map_or(0, |i| i + 1);
    let item = segment.get(start..).unwrap_or_default();
    let item = item.split(|&b| b == 0).next().unwrap_or_default();
    match item_str(item, argument, index) {
        Err(error) => error,
        Ok(_) => FfiError::new(
            misp_result::MISP_ERR_UTF8,
            format!("{argument} is not valid UTF-8 (invalid byte at offset {valid_up_to})"),
        ),
    }
}

/// Item `index` of packed list `argument` as UTF-8.
fn item_str<'a>(item: &'a [u8], argument: &str, index: usize) -> Result<&'a str, FfiError> {
    std::str::from_utf8(item).map_err(|e| {
        FfiError::new(
            misp_result::MISP_ERR_UTF8,
            format!(
                "{argument}[{index}] is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every pair of `input`, chunk by chunk, checking that each chunk
    /// starts where the previous one ended.
    fn all_pairs(input: &BatchInput<'_>) -> Result<Vec<(String, String)>, FfiError> {
        let mut all = Vec::new();
        let mut pairs = Vec::new();
        for k in 0..input.chunk_count() {
            pairs.clear();
            let first = input.chunk_pairs(k, &mut pairs)?;
            assert_eq!(first, all.len(), "chunk {k} starts at pair {first}");
            all.extend(pairs.iter().map(|&(t, v)| (t.to_owned(), v.to_owned())));
        }
        assert_eq!(all.len(), input.len());
        Ok(all)
    }

    fn separated(data: &[u8], count: usize, chunk: usize) -> Result<Vec<String>, FfiError> {
        let input = BatchInput::with_chunk_pairs(data, None, count, "items", chunk)?;
        Ok(flatten(all_pairs(&input)?))
    }

    fn with_lens(data: &[u8], lens: &[usize], chunk: usize) -> Result<Vec<String>, FfiError> {
        let input = BatchInput::with_chunk_pairs(data, Some(lens), lens.len(), "items", chunk)?;
        Ok(flatten(all_pairs(&input)?))
    }

    fn flatten(pairs: Vec<(String, String)>) -> Vec<String> {
        pairs.into_iter().flat_map(|(t, v)| [t, v]).collect()
    }

    #[test]
    fn nul_separated_lists_are_split_and_counted() {
        for chunk in [1, 2, CHUNK_PAIRS] {
            assert_eq!(
                separated(b"md5\x001234", 2, chunk).unwrap(),
                ["md5", "1234"]
            );
            assert_eq!(
                separated(b"\x00\x00ab\x00", 4, chunk).unwrap(),
                ["", "", "ab", ""]
            );
            assert_eq!(separated(b"\x00", 2, chunk).unwrap(), ["", ""]);
            assert!(separated(b"", 0, chunk).unwrap().is_empty());
        }
        for (data, count) in [(&b"a\x00b"[..], 3), (b"a\x00b", 4), (b"a", 0), (b"", 2)] {
            let e = separated(data, count, 1).unwrap_err();
            assert_eq!(e.code, misp_result::MISP_ERR_INVALID, "{data:?} {count}");
            assert!(e.message.contains("items"), "{}", e.message);
        }
        let e = separated(b"a", 1, 1).unwrap_err();
        assert!(e.message.contains("pairs"), "{}", e.message);
    }

    #[test]
    fn invalid_utf8_names_the_first_bad_string() {
        for chunk in [1, 2, CHUNK_PAIRS] {
            let e = separated(b"ok\x00\xff", 2, chunk).unwrap_err();
            assert_eq!(e.code, misp_result::MISP_ERR_UTF8);
            assert!(e.message.contains("items[1]"), "{}", e.message);
            let data: Vec<u8> = "a\0b\0cé\u{0}".bytes().chain(*b"\xc3(").collect();
            let e = separated(&data, 4, chunk).unwrap_err();
            assert_eq!(e.code, misp_result::MISP_ERR_UTF8);
            assert!(
                e.message.contains("items[3]") && e.message.contains("offset 0"),
                "{}",
                e.message
            );
            let data = b"a\x00b\x00c\x00\xffd\x00e\x00\xfe";
            let e = separated(data, 6, chunk).unwrap_err();
            assert!(
                e.message.contains("items[3]") && e.message.contains("offset 0"),
                "{}",
                e.message
            );
            let e = with_lens(b"a\xc3\xa9\xffbc", &[1, 2, 2, 1], chunk).unwrap_err();
            assert!(e.message.contains("items[2]"), "{}", e.message);
        }
    }

    #[test]
    fn packed_lists_are_split_and_checked() {
        for chunk in [1, 2, CHUNK_PAIRS] {
            assert_eq!(
                with_lens(b"md51234", &[3, 4], chunk).unwrap(),
                ["md5", "1234"]
            );
            assert_eq!(
                with_lens(b"ab", &[0, 0, 2, 0], chunk).unwrap(),
                ["", "", "ab", ""]
            );
            assert!(with_lens(b"", &[], chunk).unwrap().is_empty());
        }
        let e = with_lens(b"abc", &[2, 2], 1).unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_INVALID);
        assert!(
            e.message.contains("add up to 4") && e.message.contains("holds 3 bytes"),
            "{}",
            e.message
        );
        let e = with_lens(b"abc", &[usize::MAX, 4], 1).unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_INVALID);
        assert!(e.message.contains("more than SIZE_MAX"), "{}", e.message);
        let e = with_lens(b"ab", &[1, 0, 1], 1).unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_INVALID);
        assert!(e.message.contains("pairs"), "{}", e.message);
        let e = with_lens("aé".as_bytes(), &[2, 1], 1).unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_UTF8);
        assert!(e.message.contains("items[0]"), "{}", e.message);
        let e = with_lens(b"ok\xff", &[2, 1], 1).unwrap_err();
        assert_eq!(e.code, misp_result::MISP_ERR_UTF8);
        assert!(e.message.contains("items[1]"), "{}", e.message);
    }

    /// A string of the alphabet `a`, `é`, and (for the lengths layout) NUL.
    fn item(with_nul: bool) -> impl Strategy<Value = String> {
        let chars = if with_nul {
            prop::sample::select(vec!['a', 'é', '\0'])
        } else {
            prop::sample::select(vec!['a', 'é'])
        };
        // Mostly short strings, some long enough to span several blocks.
        prop_oneof![
            4 => prop::collection::vec(chars.clone(), 0..4),
            1 => prop::collection::vec(chars, 0..40),
        ]
        .prop_map(|chars| chars.into_iter().collect())
    }

    /// An even number (within `count`) of [`item`]s: the strings of pairs.
    fn pair_strings(
        with_nul: bool,
        count: std::ops::Range<usize>,
    ) -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(item(with_nul), count).prop_map(|mut items| {
            items.truncate(items.len() / 2 * 2);
            items
        })
    }

    proptest! {
        /// Whatever the chunk size, the chunks together are exactly the
        /// strings of a naive split, in order.
        #[test]
        fn chunks_hold_every_pair_in_order(
            items in pair_strings(false, 0..40),
            chunk in 1usize..5,
        ) {
            let joined = items.join("\0");
            let count = items.len();
            if count == 0 {
                prop_assert!(separated(b"", 0, chunk).unwrap().is_empty());
            } else {
                prop_assert_eq!(&separated(joined.as_bytes(), count, chunk).unwrap(), &items);
            }
            let lens: Vec<usize> = items.iter().map(String::len).collect();
            prop_assert_eq!(&with_lens(items.concat().as_bytes(), &lens, chunk).unwrap(), &items);
        }

        /// With lengths, strings may hold NUL bytes.
        #[test]
        fn lengths_allow_nul_bytes(
            items in pair_strings(true, 0..20),
            chunk in 1usize..4,
        ) {
            let lens: Vec<usize> = items.iter().map(String::len).collect();
            prop_assert_eq!(&with_lens(items.concat().as_bytes(), &lens, chunk).unwrap(), &items);
        }

        /// A bad byte anywhere is reported for the string that holds it.
        #[test]
        fn invalid_utf8_is_found_in_any_chunk(
            items in pair_strings(false, 2..30),
            bad in any::<prop::sample::Index>(),
            chunk in 1usize..5,
        ) {
            let bad = bad.index(items.len());
            let mut data = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    data.push(0);
                }
                data.extend_from_slice(item.as_bytes());
                if i == bad {
                    data.push(0xff);
                }
            }
            let e = separated(&data, items.len(), chunk).unwrap_err();
            prop_assert_eq!(e.code, misp_result::MISP_ERR_UTF8);
            let expected = format!("items[{bad}] is not valid UTF-8 (invalid byte at offset {})", items[bad].len());
            prop_assert_eq!(e.message, expected);
        }
    }
}
