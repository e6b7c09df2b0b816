//! The packed layout of batch warninglist results
//! (`misp_warninglists_check_batch_packed`): written, read back and joined.
//!
//! A [`PackedView`] is one part of a result: its queries' hits (query
//! index, index into its own table of lists), the table (each list's name
//! and type) and the hits' strings. [`PackedView::of_hits`] makes one from
//! checked hits (each chunk of a batch, on the pool's threads), and
//! [`PackedView::parse`] reads one back from a packed buffer. [`concat`]
//! writes parts as the one result of all their queries: query indices are
//! shifted by the queries before, the tables are merged (each list once,
//! in order of first hit) and every hit points into the merged table. A
//! batch's result is the [`concat`] of its chunks, and
//! `misp_warninglists_packed_concat` the [`concat`] of results of
//! consecutive batches.
//!
//! Parsed parts come from the caller, so [`PackedView::parse`] checks
//! every word before anything is read through it: the layout version,
//! that the counts fit the buffer, that query indices ascend and stay
//! below the query count, that list indices stay inside the table, and
//! that every string ends inside the text, after the one before, on its
//! NUL byte.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ffi::c_char;
use std::io::Write as _;

use misp_correlate::warninglist::{Hit, Matched};

use crate::error::FfiError;
use crate::handle;

/// Version of the packed batch layout, the first word of every packed
/// result.
pub(crate) const PACKED_LAYOUT: u32 = 1;

/// Words of a packed result's header: layout, queries, hits, lists,
/// flags.
const PACKED_HEADER_WORDS: usize = 5;

/// Flag of a packed result: some string contains a NUL byte, so the
/// strings must be cut at their `ends`, not at NUL bytes.
pub(crate) const PACKED_TEXT_HAS_NUL: u32 = 1;

/// The error of a packed result too large for its 32-bit offsets.
fn packed_too_big() -> FfiError {
    FfiError::invalid(
        "the packed batch result would exceed 4 GiB (u32 offsets); split the batch".to_owned(),
    )
}

/// `n` as a word of the packed layout.
pub(crate) fn word(n: usize) -> Result<u32, FfiError> {
    u32::try_from(n).map_err(|_| packed_too_big())
}

/// Strings of a packed result: each followed by a NUL byte, with where
/// each ends.
#[derive(Default)]
struct PackedText {
    text: Vec<u8>,
    ends: Vec<u32>,
    has_nul: bool,
}

impl PackedText {
    fn with_capacity(strings: usize, bytes: usize) -> PackedText {
        PackedText {
            text: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
            has_nul: false,
        }
    }

    fn push(&mut self, s: &str) -> Result<(), FfiError> {
        self.has_nul |= memchr::memchr(0, s.as_bytes()).is_some();
        self.text.extend_from_slice(s.as_bytes());
        self.end()
    }

    /// Writes a hit's `match` (a network is written `net/prefix`).
    fn push_matched(&mut self, matched: Matched<'_>) -> Result<(), FfiError> {
        match matched {
            Matched::Text(text) => self.push(text),
            network @ Matched::Network(_) => {
                // Writing to a Vec cannot fail.
                write!(self.text, "{network}").map_err(|_| packed_too_big())?;
                self.end()
            }
        }
    }

    /// Ends the string being written.
    fn end(&mut self) -> Result<(), FfiError> {
        self.ends.push(word(self.text.len())?);
        self.text.push(0);
        Ok(())
    }
}

/// A packed batch result, checked.
#[derive(Debug)]
pub(crate) struct PackedView<'a> {
    queries: u32,
    flags: u32,
    /// Query index of each hit.
    query_of: Vec<u32>,
    /// Table index of each hit's list.
    list_of: Vec<u32>,
    /// The table: each list's name and type.
    table: Vec<TableEntry<'a>>,
    /// The hits' strings (match, value, …), each followed by its NUL
    /// byte, as one block.
    hit_text: Cow<'a, [u8]>,
    /// Where each hit string ends, relative to `hit_text`.
    hit_ends: Vec<u32>,
}

/// A list of a [`PackedView`]'s table: its name and type, borrowed from
/// the lists or the parsed buffer, or owned.
type TableEntry<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

fn invalid(part: usize, what: &str) -> FfiError {
    FfiError::invalid(format!("packed part {part}: {what}"))
}

impl<'a> PackedView<'a> {
    /// The part of `queries` queries whose `hit_count` hits are `hits`:
    /// `(query, hit)` in query order, each query's hits sorted by list
    /// name.
    pub(crate) fn of_hits<'h>(
        queries: usize,
        hit_count: usize,
        hits: impl Iterator<Item = (usize, &'h Hit<'a>)>,
    ) -> Result<PackedView<'a>, FfiError>
    where
        'a: 'h,
    {
        let mut view = PackedView {
            queries: word(queries)?,
            flags: 0,
            query_of: Vec::with_capacity(hit_count),
            list_of: Vec::with_capacity(hit_count),
            table: Vec::new(),
            hit_text: Cow::Borrowed(&[]),
            hit_ends: Vec::new(),
        };
        // Each list's index in the table, by `ListId` index.
        let mut table_index: Vec<u32> = Vec::new();
        let mut strings = PackedText::with_capacity(2 * hit_count, 32 * hit_count);
        for (query, hit) in hits {
            view.query_of.push(word(query)?);
            let id = hit.list.index();
            if table_index.len() <= id {
                table_index.resize(id + 1, u32::MAX);
            }
            let index = match table_index.get_mut(id) {
                Some(slot) if *slot == u32::MAX => {
                    *slot = word(view.table.len())?;
                    let (name, ty) = (hit.list_name, hit.list_type.as_str());
                    strings.has_nul |= name.contains('\0') || ty.contains('\0');
                    view.table
                        .push((Cow::Borrowed(name.as_bytes()), Cow::Borrowed(ty.as_bytes())));
                    *slot
                }
                Some(slot) => *slot,
                None => u32::MAX,
            };
            view.list_of.push(index);
            strings.push_matched(hit.matched)?;
            strings.push(hit.value)?;
        }
        if strings.has_nul {
            view.flags |= PACKED_TEXT_HAS_NUL;
        }
        view.hit_text = Cow::Owned(strings.text);
        view.hit_ends = strings.ends;
        Ok(view)
    }

    /// The same part, owning its strings (the table's list names and
    /// types, which otherwise borrow from the lists that were checked).
    pub(crate) fn into_owned(self) -> PackedView<'static> {
        let own = |s: Cow<'a, [u8]>| Cow::Owned(s.into_owned());
        PackedView {
            queries: self.queries,
            flags: self.flags,
            query_of: self.query_of,
            list_of: self.list_of,
            table: self
                .table
                .into_iter()
                .map(|(name, ty)| (own(name), own(ty)))
                .collect(),
            hit_text: own(self.hit_text),
            hit_ends: self.hit_ends,
        }
    }

    /// Reads part `part` (its index, for messages) of a concatenation.
    ///
    /// Fails with `MISP_ERR_INVALID` naming the part and what is wrong.
    pub(crate) fn parse(bytes: &'a [u8], part: usize) -> Result<PackedView<'a>, FfiError> {
        let word = |i: usize| -> Result<u32, FfiError> {
            let at = i.checked_mul(4).ok_or_else(|| invalid(part, "too short"))?;
            bytes
                .get(at..at + 4)
                .and_then(|w| <[u8; 4]>::try_from(w).ok())
                .map(u32::from_le_bytes)
                .ok_or_else(|| invalid(part, "too short for the counts its header gives"))
        };
        let layout = word(0)?;
        if layout != PACKED_LAYOUT {
            return Err(invalid(
                part,
                &format!("layout {layout}, expected {PACKED_LAYOUT}"),
            ));
        }
        let (queries, hits, lists, flags) = (word(1)?, word(2)?, word(3)?, word(4)?);
        let (hits, lists) = (hits as usize, lists as usize);
        let strings = 2 * lists + 2 * hits;
        let words = PACKED_HEADER_WORDS + 2 * hits + strings;
        let text = bytes
            .get(4 * words..)
            .ok_or_else(|| invalid(part, "too short for the counts its header gives"))?;
        let read = |from: usize, n: usize| -> Result<Vec<u32>, FfiError> {
            (from..from + n).map(word).collect()
        };
        let query_of = read(PACKED_HEADER_WORDS, hits)?;
        if query_of.windows(2).any(|w| w[0] > w[1])
            || query_of.last().is_some_and(|&q| q >= queries)
        {
            return Err(invalid(
                part,
                "hit query indices do not ascend below the query count",
            ));
        }
        let list_of = read(PACKED_HEADER_WORDS + hits, hits)?;
        if list_of.iter().any(|&l| l as usize >= lists) {
            return Err(invalid(part, "a hit's list index is outside the table"));
        }
        let ends = read(PACKED_HEADER_WORDS + 2 * hits, strings)?;
        // String i is text[start_i..end_i], then a NUL byte; the next
        // starts just after it; the text ends with the last NUL byte.
        let mut start = 0usize;
        let mut cuts = Vec::with_capacity(strings);
        for &end in &ends {
            let end = end as usize;
            if end < start || text.get(end) != Some(&0) {
                return Err(invalid(
                    part,
                    "string offsets are not in order inside the text",
                ));
            }
            cuts.push((start, end));
            start = end + 1;
        }
        if start != text.len() {
            return Err(invalid(part, "the text does not end with the last string"));
        }
        let string = |(from, to): (usize, usize)| text.get(from..to).unwrap_or_default();
        let table = cuts
            .get(..2 * lists)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|c| (Cow::Borrowed(string(c[0])), Cow::Borrowed(string(c[1]))))
            .collect();
        let hit_start = cuts.get(2 * lists).map_or(text.len(), |&(from, _)| from);
        let hit_ends = cuts
            .get(2 * lists..)
            .unwrap_or_default()
            .iter()
            .map(|&(_, to)| (to - hit_start) as u32)
            .collect();
        Ok(PackedView {
            queries,
            flags,
            query_of,
            list_of,
            table,
            hit_text: Cow::Borrowed(text.get(hit_start..).unwrap_or_default()),
            hit_ends,
        })
    }
}

/// Joins `parts` (packed results of consecutive batches, in order) into
/// the packed result of the whole batch, in a library-owned buffer.
pub(crate) fn concat(parts: &[PackedView<'_>]) -> Result<(*mut c_char, usize), FfiError> {
    // The merged table: each (name, type) once, in order of first
    // appearance; each part's table index mapped into it.
    let mut table: Vec<(&[u8], &[u8])> = Vec::new();
    let mut index_of: HashMap<(&[u8], &[u8]), u32> = HashMap::new();
    let mut maps: Vec<Vec<u32>> = Vec::with_capacity(parts.len());
    for part in parts {
        let mut map = Vec::with_capacity(part.table.len());
        for (name, ty) in &part.table {
            let entry = (name.as_ref(), ty.as_ref());
            let index = match index_of.get(&entry) {
                Some(&i) => i,
                None => {
                    let i = word(table.len())?;
                    table.push(entry);
                    index_of.insert(entry, i);
                    i
                }
            };
            map.push(index);
        }
        maps.push(map);
    }
    let queries: usize = parts.iter().map(|p| p.queries as usize).sum();
    let hits: usize = parts.iter().map(|p| p.query_of.len()).sum();
    let table_text: usize = table.iter().map(|(n, t)| n.len() + t.len() + 2).sum();
    let hit_text: usize = parts.iter().map(|p| p.hit_text.len()).sum();
    let strings = 2 * table.len() + 2 * hits;
    let size = (PACKED_HEADER_WORDS + 2 * hits + strings) * 4 + table_text + hit_text;
    word(size)?;
    let has_nul = parts.iter().any(|p| p.flags & PACKED_TEXT_HAS_NUL != 0);
    let header = [
        PACKED_LAYOUT,
        word(queries)?,
        word(hits)?,
        word(table.len())?,
        if has_nul { PACKED_TEXT_HAS_NUL } else { 0 },
    ];
    fn put(out: &mut Vec<u8>, w: u32) {
        out.extend_from_slice(&w.to_le_bytes());
    }
    Ok(handle::owned_bytes(size, |out| {
        header.iter().for_each(|&w| put(out, w));
        // Every offset and count below is at most `size`, which fits u32.
        let mut base = 0u32;
        for part in parts {
            part.query_of.iter().for_each(|&q| put(out, base + q));
            base += part.queries;
        }
        for (part, map) in parts.iter().zip(&maps) {
            part.list_of
                .iter()
                .for_each(|&l| put(out, map.get(l as usize).copied().unwrap_or(0)));
        }
        let mut end = 0u32;
        for (name, ty) in &table {
            for s in [name, ty] {
                end += s.len() as u32;
                put(out, end);
                end += 1;
            }
        }
        for part in parts {
            part.hit_ends.iter().for_each(|&e| put(out, end + e));
            end += part.hit_text.len() as u32;
        }
        for (name, ty) in &table {
            for s in [name, ty] {
                out.extend_from_slice(s);
                out.push(0);
            }
        }
        for part in parts {
            out.extend_from_slice(&part.hit_text);
        }
    }))
}
