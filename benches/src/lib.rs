//! Shared helpers for the benchmarks: data paths and corpus generators.
//!
//! * [`corpus`]: a seeded generator of realistic MISP corpora, streamed in
//!   memory for the correlation benchmarks or written as a MISP feed.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod corpus;
pub mod correlation_input;
