//! Packed batch results read back and joined: the results of consecutive
//! batches made into the one result of the whole batch.
//!
//! A caller that checks a long batch in parts (the Python package does,
//! so that it can prepare one part while the library checks the one
//! before) gets one packed result per part. [`concat`] joins them as if
//! the parts had been checked in one call: query indices are shifted by
//! the queries before, the list tables are merged (each list once, in
//! order of first hit) and every hit points into the merged table.
//!
//! The parts come from the caller, so [`PackedView::parse`] checks every
//! word before anything is read through it: the layout version, that the
//! counts fit the buffer, that query indices ascend and stay below the
//! query count, that list indices stay inside the table, and that every
//! string ends inside the text, after the one before, on its NUL byte.

use std::ffi::c_char;

use crate::error::FfiError;
use crate::handle;
use crate::warninglist::{PACKED_HEADER_WORDS, PACKED_LAYOUT, PACKED_TEXT_HAS_NUL};

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
    table: Vec<(&'a [u8], &'a [u8])>,
    /// The hits' strings (match, value, …), each followed by its NUL
    /// byte, as one block.
    hit_text: &'a [u8],
    /// Where each hit string ends, relative to `hit_text`.
    hit_ends: Vec<u32>,
}

fn invalid(part: usize, what: &str) -> FfiError {
    FfiError::invalid(format!("packed part {part}: {what}"))
}

impl<'a> PackedView<'a> {
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
            .map(|c| (string(c[0]), string(c[1])))
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
            hit_text: text.get(hit_start..).unwrap_or_default(),
            hit_ends,
        })
    }
}

/// `n` as a word of the packed layout.
fn word(n: usize) -> Result<u32, FfiError> {
    u32::try_from(n).map_err(|_| {
        FfiError::invalid("the joined packed result would exceed 4 GiB (u32 offsets)".to_owned())
    })
}

/// Joins `parts` (packed results of consecutive batches, in order) into
/// the packed result of the whole batch, in a library-owned buffer.
pub(crate) fn concat(parts: &[PackedView<'_>]) -> Result<(*mut c_char, usize), FfiError> {
    // The merged table: each (name, type) once, in order of first
    // appearance; each part's table index mapped into it.
    let mut table: Vec<(&[u8], &[u8])> = Vec::new();
    let mut maps: Vec<Vec<u32>> = Vec::with_capacity(parts.len());
    for part in parts {
        let mut map = Vec::with_capacity(part.table.len());
        for entry in &part.table {
            let index = match table.iter().position(|t| t == entry) {
                Some(i) => i,
                None => {
                    table.push(*entry);
                    table.len() - 1
                }
            };
            map.push(word(index)?);
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
            out.extend_from_slice(part.hit_text);
        }
    }))
}
