//! Shared helpers for the benchmarks: data paths and corpus generators.

pub mod correlation_input;
