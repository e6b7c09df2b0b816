//! The snapshot container: header, section table, checksums, and the
//! memory map.
//!
//! Layout (all integers little-endian, see `FORMAT.md`):
//!
//! ```text
//! 0   magic            b"MISPSNAP"
//! 8   version          u32
//! 12  kind             u32   (1 engine, 2 warninglists)
//! 16  section count    u32
//! 20  flags            u32   (0)
//! 24  file length      u64
//! 32  body checksum    u64   xxh3-64 of bytes [table end .. file length]
//! 40  table checksum   u64   xxh3-64 of bytes [0 .. 40] ++ [48 .. table end]
//! 48  reserved         16 bytes of zero
//! 64  section table    count × { tag u32, reserved u32, offset u64, length u64 }
//!     sections         each at an 8-byte aligned offset, zero padding between
//! ```
//!
//! [`Mapped::open`] checks everything but the body checksum (which needs a
//! pass over every byte); [`Mapped::verify`] checks that too.

#![deny(unsafe_code)]

use std::fs::File;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use xxhash_rust::xxh3::xxh3_64;

use super::{SnapshotKind, SnapshotProblem};
use crate::{Error, Result};

/// The file's first eight bytes.
pub(crate) const MAGIC: [u8; 8] = *b"MISPSNAP";
/// The format version of warninglist snapshots this build writes and
/// reads (until engine snapshot version 3, the one version of every kind).
pub const FORMAT_VERSION: u32 = 2;
/// The format version of engine snapshots this build writes and reads.
/// Versions are per kind: a layout change of one kind leaves the other's
/// files readable.
pub const ENGINE_FORMAT_VERSION: u32 = 3;
/// Header length in bytes.
pub(crate) const HEADER_LEN: usize = 64;
/// Bytes per section table entry.
pub(crate) const ENTRY_LEN: usize = 24;
/// The most sections a file may declare.
const MAX_SECTIONS: u32 = 1024;

/// Builds a snapshot file from tagged sections.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    sections: Vec<(u32, Vec<u8>)>,
}

impl Writer {
    /// Adds a section.
    pub(crate) fn section(&mut self, tag: u32, bytes: Vec<u8>) {
        self.sections.push((tag, bytes));
    }

    /// The complete file image.
    pub(crate) fn finish(self, kind: SnapshotKind) -> Vec<u8> {
        let table_end = HEADER_LEN + self.sections.len() * ENTRY_LEN;
        let mut offset = align8(table_end);
        let mut table = Vec::with_capacity(self.sections.len() * ENTRY_LEN);
        for (tag, bytes) in &self.sections {
            table.extend_from_slice(&tag.to_le_bytes());
            table.extend_from_slice(&0u32.to_le_bytes());
            table.extend_from_slice(&(offset as u64).to_le_bytes());
            table.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            offset = align8(offset + bytes.len());
        }
        let file_len = offset;
        let mut out = Vec::with_capacity(file_len);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&kind.format_version().to_le_bytes());
        out.extend_from_slice(&kind.code().to_le_bytes());
        out.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(file_len as u64).to_le_bytes());
        out.extend_from_slice(&[0u8; 32]); // checksums and reserved, set below
        out.extend_from_slice(&table);
        for (_, bytes) in &self.sections {
            out.resize(align8(out.len()), 0);
            out.extend_from_slice(bytes);
        }
        out.resize(file_len, 0);
        let body = xxh3_64(out.get(table_end..).unwrap_or(&[]));
        write_u64(&mut out, 32, body);
        let table_sum = table_checksum(&out, table_end);
        write_u64(&mut out, 40, table_sum);
        out
    }

    /// Writes the file to `path` atomically (a temporary file renamed over
    /// it), so a snapshot being read is never overwritten in place.
    pub(crate) fn write_to(self, kind: SnapshotKind, path: &Path) -> Result<()> {
        let image = self.finish(kind);
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let mut file = File::create(&tmp).map_err(io)?;
        file.write_all(&image).map_err(io)?;
        file.sync_all().map_err(io)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io)
    }
}

fn write_u64(out: &mut [u8], at: usize, value: u64) {
    if let Some(slot) = out.get_mut(at..at + 8) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

fn table_checksum(file: &[u8], table_end: usize) -> u64 {
    let mut covered = Vec::with_capacity(table_end);
    covered.extend_from_slice(file.get(..40).unwrap_or(&[]));
    covered.extend_from_slice(file.get(48..table_end).unwrap_or(&[]));
    xxh3_64(&covered)
}

/// Rounds up to a multiple of eight.
pub(crate) fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The bytes of a snapshot: a read-only memory map, or a buffer (tests,
/// empty files that cannot be mapped).
#[derive(Debug)]
enum Bytes {
    Map(Mmap),
    Owned(Vec<u8>),
}

/// An opened, structurally checked snapshot file.
#[derive(Debug)]
pub(crate) struct Mapped {
    path: PathBuf,
    bytes: Bytes,
    kind: SnapshotKind,
    version: u32,
    body: Range<usize>,
    body_checksum: u64,
    sections: Vec<(u32, Range<usize>)>,
}

/// Maps `file` read-only.
#[allow(unsafe_code)]
fn map(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the map is read-only and every read of it goes through
    // bounds-checked slices, so any byte content is memory-safe. The
    // remaining hazard of file-backed maps is another process truncating or
    // rewriting the file while it is mapped: truncation can raise SIGBUS on
    // access. Snapshots are written to a temporary file and renamed into
    // place (see `Writer::write_to`), never modified in place, so the file
    // behind a map never changes; users are told the same in FORMAT.md.
    unsafe { Mmap::map(file) }
}

impl Mapped {
    /// Opens and maps `path`, checking header, version, kind, length, the
    /// section table and its checksum.
    pub(crate) fn open(path: &Path, expected: SnapshotKind) -> Result<Mapped> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let bytes = if len == 0 {
            Bytes::Owned(Vec::new())
        } else {
            Bytes::Map(map(&file).map_err(io)?)
        };
        Mapped::from_bytes(path, bytes, expected)
    }

    /// Checks an in-memory image (used by tests and the fuzz target).
    pub(crate) fn from_vec(path: &Path, image: Vec<u8>, expected: SnapshotKind) -> Result<Mapped> {
        Mapped::from_bytes(path, Bytes::Owned(image), expected)
    }

    fn from_bytes(path: &Path, bytes: Bytes, expected: SnapshotKind) -> Result<Mapped> {
        let fail = |problem| Error::Snapshot {
            path: path.to_path_buf(),
            problem,
        };
        let data: &[u8] = match &bytes {
            Bytes::Map(map) => map,
            Bytes::Owned(vec) => vec,
        };
        let have = data.len() as u64;
        if data.get(..8) != Some(&MAGIC[..]) {
            if MAGIC.starts_with(data) {
                return Err(fail(SnapshotProblem::Truncated {
                    need: HEADER_LEN as u64,
                    have,
                }));
            }
            return Err(fail(SnapshotProblem::BadMagic));
        }
        let header = data.get(..HEADER_LEN).ok_or_else(|| {
            fail(SnapshotProblem::Truncated {
                need: HEADER_LEN as u64,
                have,
            })
        })?;
        let version = le_u32(header, 8).unwrap_or(0);
        let kind_code = le_u32(header, 12).unwrap_or(0);
        let kind = SnapshotKind::from_code(kind_code);
        // Versions are per kind; a file of an unknown kind is judged by
        // the version of the kind asked for.
        let supported = kind.unwrap_or(expected).format_version();
        if version != supported {
            return Err(fail(SnapshotProblem::UnsupportedVersion {
                found: version,
                supported,
            }));
        }
        let kind = kind.ok_or_else(|| {
            fail(SnapshotProblem::Corrupt(format!(
                "unknown snapshot kind {kind_code}"
            )))
        })?;
        if kind != expected {
            return Err(fail(SnapshotProblem::WrongKind {
                found: kind,
                expected,
            }));
        }
        let count = le_u32(header, 16).unwrap_or(0);
        let file_len = le_u64(header, 24).unwrap_or(0);
        if file_len > have {
            return Err(fail(SnapshotProblem::Truncated {
                need: file_len,
                have,
            }));
        }
        if file_len < have {
            return Err(fail(SnapshotProblem::Corrupt(format!(
                "{} bytes after the declared end at {file_len}",
                have - file_len
            ))));
        }
        if count > MAX_SECTIONS {
            return Err(fail(SnapshotProblem::Corrupt(format!(
                "{count} sections (at most {MAX_SECTIONS})"
            ))));
        }
        let table_end = HEADER_LEN + count as usize * ENTRY_LEN;
        if table_end as u64 > file_len {
            return Err(fail(SnapshotProblem::Truncated {
                need: table_end as u64,
                have,
            }));
        }
        let stored = le_u64(header, 40).unwrap_or(0);
        let computed = table_checksum(data, table_end);
        if stored != computed {
            return Err(fail(SnapshotProblem::ChecksumMismatch {
                what: "header and section table",
                stored,
                computed,
            }));
        }
        let mut sections = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let at = HEADER_LEN + i * ENTRY_LEN;
            let (Some(tag), Some(offset), Some(length)) = (
                le_u32(data, at),
                le_u64(data, at + 8),
                le_u64(data, at + 16),
            ) else {
                return Err(fail(SnapshotProblem::Corrupt(format!(
                    "section table entry {i}"
                ))));
            };
            let end = offset.checked_add(length).filter(|&e| e <= file_len);
            let Some(end) = end.filter(|_| offset % 8 == 0 && offset >= table_end as u64) else {
                return Err(fail(SnapshotProblem::Corrupt(format!(
                    "section {tag:#x} at {offset} (+{length}) is misaligned or outside the file"
                ))));
            };
            if sections.iter().any(|(t, _)| *t == tag) {
                return Err(fail(SnapshotProblem::Corrupt(format!(
                    "section {tag:#x} appears twice"
                ))));
            }
            sections.push((tag, offset as usize..end as usize));
        }
        Ok(Mapped {
            path: path.to_path_buf(),
            kind,
            version,
            body: table_end..file_len as usize,
            body_checksum: le_u64(header, 32).unwrap_or(0),
            sections,
            bytes,
        })
    }

    /// The whole file.
    #[inline]
    pub(crate) fn data(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Map(map) => map,
            Bytes::Owned(vec) => vec,
        }
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The snapshot kind.
    pub(crate) fn kind(&self) -> SnapshotKind {
        self.kind
    }

    /// The format version.
    pub(crate) fn version(&self) -> u32 {
        self.version
    }

    /// File length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.data().len()
    }

    /// The byte range of section `tag`.
    pub(crate) fn range(&self, tag: u32) -> Result<Range<usize>> {
        self.sections
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, r)| r.clone())
            .ok_or_else(|| self.corrupt(format!("section {tag:#x} is missing")))
    }

    /// The bytes of section `tag`.
    pub(crate) fn section(&self, tag: u32) -> Result<&[u8]> {
        let range = self.range(tag)?;
        self.data()
            .get(range)
            .ok_or_else(|| self.corrupt(format!("section {tag:#x} is outside the file")))
    }

    /// Every section as `(tag, length)`.
    pub(crate) fn section_sizes(&self) -> Vec<(u32, usize)> {
        self.sections
            .iter()
            .map(|(t, r)| (*t, r.end - r.start))
            .collect()
    }

    /// A [`SnapshotProblem::Corrupt`] error for this file.
    pub(crate) fn corrupt(&self, what: String) -> Error {
        Error::Snapshot {
            path: self.path.clone(),
            problem: SnapshotProblem::Corrupt(what),
        }
    }

    /// Checks the body checksum (one pass over the whole file).
    pub(crate) fn verify(&self) -> Result<()> {
        let computed = xxh3_64(self.data().get(self.body.clone()).unwrap_or(&[]));
        if computed != self.body_checksum {
            return Err(Error::Snapshot {
                path: self.path.clone(),
                problem: SnapshotProblem::ChecksumMismatch {
                    what: "sections",
                    stored: self.body_checksum,
                    computed,
                },
            });
        }
        Ok(())
    }
}

/// The kind of the snapshot at `path`, read from its header; a file that is
/// not a snapshot of this version gets the error [`Mapped::open`] gives.
pub(crate) fn peek_kind(path: &Path) -> Result<SnapshotKind> {
    use std::io::Read;
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut head = Vec::with_capacity(16);
    File::open(path)
        .map_err(io)?
        .take(16)
        .read_to_end(&mut head)
        .map_err(io)?;
    let known = (head.get(..8) == Some(&MAGIC[..]))
        .then(|| le_u32(&head, 12).and_then(SnapshotKind::from_code))
        .flatten()
        .filter(|kind| le_u32(&head, 8) == Some(kind.format_version()));
    match known {
        Some(kind) => Ok(kind),
        None => Mapped::open(path, SnapshotKind::Warninglists).map(|m| m.kind()),
    }
}

/// Reads a little-endian `u32` at byte `at`.
#[inline]
pub(crate) fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// Reads a little-endian `u64` at byte `at`.
#[inline]
pub(crate) fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// Reads a little-endian `u16` at byte `at`.
#[inline]
pub(crate) fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes(b.try_into().ok()?))
}

/// A bounds-checked sequential reader over a section.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    /// A reader at the start of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Cursor<'a> {
        Cursor { bytes, at: 0 }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    /// The next byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    /// The next `u16`.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    /// The next `u32`.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    /// The next `u64`.
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    /// The next string (`u32` length, UTF-8 bytes).
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).ok()
    }

    /// Whether every byte was read.
    pub(crate) fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// Appends a string as `u32` length and bytes.
pub(crate) fn put_str(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as u32).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Vec<u8> {
        let mut w = Writer::default();
        w.section(1, b"hello".to_vec());
        w.section(2, vec![7; 13]);
        w.finish(SnapshotKind::Warninglists)
    }

    fn open(bytes: Vec<u8>) -> Result<Mapped> {
        Mapped::from_vec(Path::new("t.snap"), bytes, SnapshotKind::Warninglists)
    }

    fn problem(result: Result<Mapped>) -> SnapshotProblem {
        match result {
            Err(Error::Snapshot { problem, .. }) => problem,
            other => panic!("expected a snapshot error, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_sections_are_aligned() {
        let m = open(image()).unwrap();
        assert_eq!(m.section(1).unwrap(), b"hello");
        assert_eq!(m.section(2).unwrap(), &[7; 13][..]);
        assert_eq!(m.range(1).unwrap().start % 8, 0);
        assert_eq!(m.range(2).unwrap().start % 8, 0);
        assert_eq!(m.len() % 8, 0);
        m.verify().unwrap();
        assert!(m.section(3).is_err());
    }

    #[test]
    fn versions_are_per_kind() {
        let mut w = Writer::default();
        w.section(1, b"hello".to_vec());
        let engine = w.finish(SnapshotKind::Engine);
        assert_eq!(le_u32(&engine, 8), Some(ENGINE_FORMAT_VERSION));
        assert_eq!(le_u32(&image(), 8), Some(FORMAT_VERSION));
        let as_engine = |bytes| Mapped::from_vec(Path::new("e.snap"), bytes, SnapshotKind::Engine);
        assert!(as_engine(engine.clone()).is_ok());
        // An engine file of the warninglist version, and the reverse.
        let mut old = engine.clone();
        old[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        assert_eq!(
            problem(as_engine(old)),
            SnapshotProblem::UnsupportedVersion {
                found: FORMAT_VERSION,
                supported: ENGINE_FORMAT_VERSION
            }
        );
        let mut newer = image();
        newer[8..12].copy_from_slice(&ENGINE_FORMAT_VERSION.to_le_bytes());
        assert_eq!(
            problem(open(newer)),
            SnapshotProblem::UnsupportedVersion {
                found: ENGINE_FORMAT_VERSION,
                supported: FORMAT_VERSION
            }
        );
        // A current engine file asked for as warninglists: the wrong kind.
        assert!(matches!(
            problem(open(engine)),
            SnapshotProblem::WrongKind { .. }
        ));
    }

    #[test]
    fn damage_is_named() {
        let good = image();
        let mut bad = good.clone();
        bad[0] = b'X';
        assert_eq!(problem(open(bad)), SnapshotProblem::BadMagic);

        let mut newer = good.clone();
        newer[8] = 0x7f;
        assert_eq!(
            problem(open(newer)),
            SnapshotProblem::UnsupportedVersion {
                found: 0x7f,
                supported: FORMAT_VERSION
            }
        );

        let short = good[..good.len() - 8].to_vec();
        assert!(matches!(
            problem(open(short)),
            SnapshotProblem::Truncated { .. }
        ));
        assert!(matches!(
            problem(open(good[..10].to_vec())),
            SnapshotProblem::Truncated { need: 64, have: 10 }
        ));

        let mut table = good.clone();
        table[HEADER_LEN + 8] ^= 1;
        assert!(matches!(
            problem(open(table)),
            SnapshotProblem::ChecksumMismatch { .. }
        ));

        let mut body = good.clone();
        let last = body.len() - 4;
        body[last] ^= 0x40;
        let m = open(body).unwrap();
        assert!(matches!(
            m.verify(),
            Err(Error::Snapshot {
                problem: SnapshotProblem::ChecksumMismatch { .. },
                ..
            })
        ));

        let wrong = Mapped::from_vec(Path::new("t"), good, SnapshotKind::Engine);
        assert!(matches!(problem(wrong), SnapshotProblem::WrongKind { .. }));
    }

    #[test]
    fn every_prefix_and_every_bit_flip_is_an_error_or_opens() {
        let good = image();
        for n in 0..good.len() {
            assert!(open(good[..n].to_vec()).is_err());
        }
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                if let Ok(m) = open(bad) {
                    // Only padding or body bytes can change unnoticed by
                    // open; verify catches the body.
                    assert!(i >= HEADER_LEN + 2 * ENTRY_LEN);
                    let _ = m.verify();
                }
            }
        }
    }
}
