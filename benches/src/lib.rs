//! Shared helpers for the benchmarks: data paths, corpus generators and a
//! thread CPU clock.
//!
//! * [`corpus`]: a seeded generator of realistic MISP corpora, streamed in
//!   memory for the correlation benchmarks or written as a MISP feed.
//! * [`correlation_input`]: a simple string-valued attribute stream and a
//!   peak-memory probe for the correlation benchmarks.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod corpus;
pub mod correlation_input;

/// CPU time of the calling thread so far, from Linux's
/// `/proc/thread-self/schedstat` (zero where it is missing). On a shared
/// machine it is a steadier figure than wall time for single-threaded work.
pub fn thread_cpu_time() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    std::time::Duration::from_nanos(ns)
}
