//! MISP's correlation and warninglist engines.
//!
//! * [`correlation`]: the correlation engine (exact, composite halves,
//!   CIDR, ssdeep, exclusions, over-correlation limit, access control),
//!   built in bulk and maintained incrementally.
//! * [`warninglist`]: the warninglist matcher, compiled once from the
//!   misp-warninglists format.
//! * [`snapshot`]: save a built matcher (or engine) to a file and open it
//!   again in milliseconds by memory-mapping it.
//! * [`ssdeep`]: ssdeep hash parsing and libfuzzy-identical
//!   `fuzzy_compare`.
//! * [`Error`]: the crate's one error type.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod correlation;
mod error;
pub mod snapshot;
pub mod ssdeep;
pub mod warninglist;

pub use error::{Error, Result};
