//! ssdeep hashes and fuzzy_compare.
