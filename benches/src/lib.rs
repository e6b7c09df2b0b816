//! Shared helpers for the benchmarks: data paths and corpus generators.
