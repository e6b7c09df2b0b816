//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `misp-correlate`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error from the attribute model (unknown type, malformed JSON).
    #[error(transparent)]
    Core(#[from] misp_core::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A warninglist file is unusable as a whole (not JSON, missing
    /// `name`/`list`, unknown `type`).
    #[error("{path}: {message}", path = path.display())]
    Warninglist {
        /// The list file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A value is not an ssdeep hash that MISP accepts and libfuzzy can
    /// compare.
    #[error("invalid ssdeep hash {value:?}: {kind}")]
    InvalidSsdeep {
        /// The value (its first 200 bytes if longer).
        value: String,
        /// What is wrong, and where.
        kind: crate::ssdeep::SsdeepErrorKind,
    },
    /// An argument is out of range or names something that does not exist.
    #[error("{0}")]
    InvalidArgument(String),
    /// An attribute MISP would refuse to save (unknown type, a value that
    /// fails validation): it was not stored.
    #[error("rejected {0}")]
    Rejected(Box<crate::correlation::Rejected>),
    /// A snapshot file cannot be opened: damaged, truncated, of another
    /// format version or of another kind.
    #[error("snapshot {path}: {problem}", path = path.display())]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong with it.
        problem: crate::snapshot::SnapshotProblem,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
