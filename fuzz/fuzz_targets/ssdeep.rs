//! Two ssdeep values separated by a newline: parsing must never panic,
//! and any two parsed hashes compare to a score in 0..=100 that is
//! symmetric and 100 for a hash against itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use misp_correlate::ssdeep::{SsdeepHash, fuzzy_compare};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (left, right) = text.split_once('\n').unwrap_or((text, text));
    let (Ok(a), Ok(b)) = (SsdeepHash::parse(left), SsdeepHash::parse(right)) else {
        return;
    };
    let score = fuzzy_compare(&a, &b);
    assert!(score <= 100);
    assert_eq!(score, fuzzy_compare(&b, &a));
    assert_eq!(fuzzy_compare(&a, &a), 100);
});
