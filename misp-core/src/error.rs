//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in `misp-core`.
///
/// A value MISP would refuse to save is not an error but a
/// [`Rejection`](crate::Rejection): it is an expected outcome of
/// normalisation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A type name that is not one of MISP's 194 types.
    #[error("unknown attribute type {0:?}")]
    UnknownType(String),
    /// A category name that is not one of MISP's 16 categories.
    #[error("unknown category {0:?}")]
    UnknownCategory(String),
    /// A file could not be read.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A document is not valid JSON or not a MISP event/feed document.
    #[error("{path}:{line}:{column}: {message}", path = path.display())]
    Json {
        /// The file (or `<input>` for in-memory bytes).
        path: PathBuf,
        /// 1-based line of the problem (0 if unknown).
        line: usize,
        /// 1-based column of the problem (0 if unknown).
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A feed manifest lists an event whose file is missing or unreadable,
    /// or a document is well-formed JSON but not a MISP event.
    #[error("{path}: {message}", path = path.display())]
    Invalid {
        /// The file concerned.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The file or directory the error is about, if it is about one.
    pub fn path(&self) -> Option<&std::path::Path> {
        #[allow(unreachable_patterns)] // variants other helpers may add
        match self {
            Error::Io { path, .. } | Error::Json { path, .. } | Error::Invalid { path, .. } => {
                Some(path)
            }
            Error::UnknownType(_) | Error::UnknownCategory(_) => None,
            _ => None,
        }
    }

    /// The message without the file name, for output that names the file
    /// on its own ([`path`](Error::path)): `line L, column C: what` for
    /// malformed JSON, the message alone otherwise. The `Display` form is
    /// `<path>: <detail>` (`<path>:L:C: what` for malformed JSON).
    ///
    /// ```
    /// let error = misp_core::json::parse_events(b"{\"Event\": [}").unwrap_err();
    /// assert!(error.to_string().starts_with("<input>:1:"));
    /// assert!(error.detail().starts_with("line 1, column "));
    /// ```
    pub fn detail(&self) -> String {
        #[allow(unreachable_patterns)] // variants other helpers may add
        match self {
            Error::Json {
                line,
                column,
                message,
                ..
            } => format!("line {line}, column {column}: {message}"),
            Error::Invalid { message, .. } => message.clone(),
            Error::Io { source, .. } => source.to_string(),
            other => other.to_string(),
        }
    }
}
