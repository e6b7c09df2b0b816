//! Snapshots: a built warninglist matcher (or correlation engine) saved to a
//! file and opened again in milliseconds by memory-mapping it.
//!
//! A snapshot is one file: a 64-byte header (magic `MISPSNAP`, format
//! version, kind, length, two xxh3-64 checksums), a section table, and
//! 8-byte aligned sections of fixed-layout little-endian arrays. The layout
//! is specified in `FORMAT.md` at the repository root. Format versions are
//! per kind ([`SnapshotKind::format_version`]): warninglist snapshots are
//! at [`FORMAT_VERSION`] (2), engine snapshots at
//! [`ENGINE_FORMAT_VERSION`] (3).
//!
//! Opening maps the file and checks the header, the version, the kind, the
//! length and the section table (whose checksum is verified); the structures
//! queried in place are bounds-checked once at open and every read of them
//! goes through checked slices, so a damaged file gives an
//! [`Error::Snapshot`](crate::Error::Snapshot) or wrong answers, never a
//! panic or undefined behaviour. The checksum of the whole body needs a
//! pass over every byte, so it is checked on request:
//! [`WarninglistSnapshot::verify`], [`EngineSnapshot::verify`].
//!
//! # Overview of types
//!
//! * [`WarninglistSnapshot`]: save a [`Matcher`](crate::warninglist::Matcher)
//!   with [`WarninglistSnapshot::save_matcher`], open with
//!   [`WarninglistSnapshot::open`]; it answers every query of the matcher
//!   with identical results, lists can be enabled and disabled, and
//!   [`WarninglistSnapshot::save`] writes the current state.
//! * [`EngineSnapshot`]: save a correlation
//!   [`Engine`](crate::correlation::Engine) with
//!   [`EngineSnapshot::save_engine`], open with [`EngineSnapshot::open`]; it
//!   has the engine's query methods and answers them with the engine's own
//!   code (both implement one read-only state trait), identically. Changes
//!   go through [`EngineSnapshot::to_engine`], which decodes the snapshot
//!   into an in-memory engine (no delta over the mapped base); the bulk
//!   (records, postings, strings) is queried in place, the CIDR index and
//!   the ssdeep graph are rebuilt on first use when advanced correlation is
//!   on.
//! * [`SnapshotInfo`]: what a snapshot holds (kind, version, section sizes,
//!   counts), for `misp-correlate snapshot info`; [`info`] reads it from any
//!   snapshot file.
//! * [`SnapshotProblem`]: why a file was refused.
//!
//! # Example
//!
//! ```
//! use misp_core::AttributeType;
//! use misp_correlate::snapshot::WarninglistSnapshot;
//! use misp_correlate::warninglist::{ListType, MatcherBuilder, Warninglist};
//!
//! let mut private = Warninglist::new("RFC 1918", ListType::Cidr);
//! private.push_entry("10.0.0.0/8");
//! let mut builder = MatcherBuilder::new();
//! builder.add(private)?;
//! let (matcher, _) = builder.build()?;
//!
//! let dir = std::env::temp_dir().join(format!("doc-snapshot-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("warninglists.snap");
//! WarninglistSnapshot::save_matcher(&matcher, &path)?;
//!
//! let snapshot = WarninglistSnapshot::open(&path)?;
//! let ip = AttributeType::from_name("ip-dst").unwrap();
//! assert_eq!(snapshot.check(ip, "10.1.2.3"), matcher.check(ip, "10.1.2.3"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), misp_correlate::Error>(())
//! ```

mod engine;
mod format;
mod hash;
mod table;
mod warninglist;

use std::fmt;
use std::path::Path;

pub use engine::EngineSnapshot;
pub use format::{ENGINE_FORMAT_VERSION, FORMAT_VERSION};
pub use warninglist::WarninglistSnapshot;

use crate::Result;

/// What a snapshot file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SnapshotKind {
    /// A correlation engine.
    Engine,
    /// A warninglist matcher.
    Warninglists,
}

impl SnapshotKind {
    pub(crate) fn code(self) -> u32 {
        match self {
            SnapshotKind::Engine => 1,
            SnapshotKind::Warninglists => 2,
        }
    }

    pub(crate) fn from_code(code: u32) -> Option<SnapshotKind> {
        match code {
            1 => Some(SnapshotKind::Engine),
            2 => Some(SnapshotKind::Warninglists),
            _ => None,
        }
    }

    /// The format version this build writes and reads for this kind
    /// ([`ENGINE_FORMAT_VERSION`], [`FORMAT_VERSION`] for warninglists).
    pub fn format_version(self) -> u32 {
        match self {
            SnapshotKind::Engine => ENGINE_FORMAT_VERSION,
            SnapshotKind::Warninglists => FORMAT_VERSION,
        }
    }

    /// The kind's name (`engine`, `warninglists`).
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Engine => "engine",
            SnapshotKind::Warninglists => "warninglists",
        }
    }
}

impl fmt::Display for SnapshotKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a snapshot file was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotProblem {
    /// The file does not start with `MISPSNAP`: not a snapshot.
    BadMagic,
    /// The file was written by another format version.
    UnsupportedVersion {
        /// The file's version.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// The file holds another kind of snapshot.
    WrongKind {
        /// What the file holds.
        found: SnapshotKind,
        /// What was asked for.
        expected: SnapshotKind,
    },
    /// The file is shorter than its header says.
    Truncated {
        /// Bytes needed.
        need: u64,
        /// Bytes present.
        have: u64,
    },
    /// A checksum does not match: the file was damaged after it was written.
    ChecksumMismatch {
        /// What the checksum covers.
        what: &'static str,
        /// The checksum stored in the file.
        stored: u64,
        /// The checksum of the bytes read.
        computed: u64,
    },
    /// A structure inside the file is inconsistent.
    Corrupt(String),
}

impl fmt::Display for SnapshotProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotProblem::BadMagic => {
                f.write_str("not a snapshot (the file does not start with MISPSNAP)")
            }
            SnapshotProblem::UnsupportedVersion { found, supported } => write!(
                f,
                "format version {found} is not supported (this build reads version {supported}); rebuild the snapshot"
            ),
            SnapshotProblem::WrongKind { found, expected } => {
                write!(f, "holds {found}, not {expected}")
            }
            SnapshotProblem::Truncated { need, have } => {
                write!(f, "truncated: needs {need} bytes, has {have}")
            }
            SnapshotProblem::ChecksumMismatch {
                what,
                stored,
                computed,
            } => write!(
                f,
                "checksum mismatch in {what} (stored {stored:#018x}, computed {computed:#018x}): the file is damaged"
            ),
            SnapshotProblem::Corrupt(what) => write!(f, "corrupt: {what}"),
        }
    }
}

/// What a snapshot holds: kind, version, sizes and counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The kind of snapshot.
    pub kind: SnapshotKind,
    /// The format version.
    pub version: u32,
    /// File size in bytes.
    pub file_bytes: u64,
    /// Every section: its name and size in bytes.
    pub sections: Vec<(String, u64)>,
    /// What the snapshot holds (lists, keys, attributes, …), by name.
    pub counts: Vec<(&'static str, u64)>,
}

impl SnapshotInfo {
    fn new(mapped: &format::Mapped, counts: Vec<(&'static str, u64)>) -> SnapshotInfo {
        SnapshotInfo {
            kind: mapped.kind(),
            version: mapped.version(),
            file_bytes: mapped.len() as u64,
            sections: mapped
                .section_sizes()
                .into_iter()
                .map(|(tag, len)| (section_name(tag), len as u64))
                .collect(),
            counts,
        }
    }
}

impl fmt::Display for SnapshotInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kind: {}", self.kind)?;
        writeln!(f, "format version: {}", self.version)?;
        writeln!(f, "file size: {} bytes", self.file_bytes)?;
        for (name, count) in &self.counts {
            writeln!(f, "{name}: {count}")?;
        }
        writeln!(f, "sections:")?;
        for (name, bytes) in &self.sections {
            writeln!(f, "  {name}: {bytes} bytes")?;
        }
        Ok(())
    }
}

fn section_name(tag: u32) -> String {
    let cidr = |base: u32, family: &str| {
        let part = match tag - base {
            0 => "networks",
            1 => "interval starts",
            2 => "interval offsets",
            3 => "interval members",
            4 => "directory",
            5 => "lists",
            6 => "outermost entries",
            _ => "unknown",
        };
        format!("{family} {part}")
    };
    match tag {
        0x5701 => "list metadata".into(),
        0x5702 => "list-set pool".into(),
        0x5703 => "string table".into(),
        0x5704 => "string keys".into(),
        0x5705 => "hostname table".into(),
        0x5706 => "hostname keys".into(),
        0x5707 => "string filter".into(),
        0x5708 => "hostname filter".into(),
        0x5710..=0x5716 => cidr(0x5710, "IPv4"),
        0x5720..=0x5726 => cidr(0x5720, "IPv6"),
        0x5730 => "substring and regex lists".into(),
        other => match engine::section_name(other) {
            Some(name) => name.into(),
            None => format!("section {other:#x}"),
        },
    }
}

/// Opens any snapshot file and describes it; also checks the full-file
/// checksum, so a damaged file is an error.
///
/// # Errors
///
/// [`Error::Io`](crate::Error::Io) or [`Error::Snapshot`](crate::Error::Snapshot).
pub fn info(path: impl AsRef<Path>) -> Result<SnapshotInfo> {
    let path = path.as_ref();
    let kind = format::peek_kind(path)?;
    match kind {
        SnapshotKind::Warninglists => {
            // Checksum first: a damaged file is reported as damaged rather
            // than by the first structure that fails to parse.
            let mapped = format::Mapped::open(path, SnapshotKind::Warninglists)?;
            mapped.verify()?;
            Ok(WarninglistSnapshot::from_mapped(mapped)?.info())
        }
        SnapshotKind::Engine => {
            let mapped = format::Mapped::open(path, SnapshotKind::Engine)?;
            mapped.verify()?;
            Ok(EngineSnapshot::from_mapped(mapped)?.info())
        }
    }
}
