//! Fuzzes `misp_core::normalize`: the first byte picks one of the 194
//! types, the rest is the value (skipped unless UTF-8). Normalising must
//! not panic, accepted values must keep MISP's invariants, and saving a
//! stored value again must store the same value, except in the three
//! cases where MISP itself rewrites it again
//! (`misp_core::rewrites_on_resave`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use misp_core::{AttributeType, normalize, rewrites_on_resave};

fuzz_target!(|data: &[u8]| {
    let Some((&index, rest)) = data.split_first() else {
        return;
    };
    let Some(ty) = AttributeType::from_index(usize::from(index) % AttributeType::COUNT) else {
        return;
    };
    let Ok(raw) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(first) = normalize(ty, raw) else {
        return;
    };
    let stored = first.as_str();
    assert!(stored.len() <= 65_535);
    assert!(!stored.chars().any(|c| c.len_utf8() == 4));
    match first.value2() {
        Some(v2) => assert_eq!(format!("{}|{}", first.value1(), v2), stored),
        None => assert_eq!(first.value1(), stored),
    }
    if !rewrites_on_resave(ty, stored) {
        assert_eq!(normalize(ty, stored).as_ref(), Ok(&first), "{ty} {raw:?}");
    }
});
