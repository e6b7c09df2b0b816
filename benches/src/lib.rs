//! Shared helpers for the benchmarks: data paths and corpus generators.
//!
//! * [`corpus`]: a seeded generator of realistic MISP corpora, streamed in
//!   memory for the correlation benchmarks or written as a MISP feed.
//! * [`correlation_input`]: a simple string-valued attribute stream and a
//!   peak-memory probe for the correlation benchmarks.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod corpus;
pub mod correlation_input;
