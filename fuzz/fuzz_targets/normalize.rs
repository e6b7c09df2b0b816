//! A type (first byte, modulo the number of types) and a value (the rest,
//! if UTF-8): normalising must never panic, and a normalised value must
//! normalise to itself.

#![no_main]

use libfuzzer_sys::fuzz_target;
use misp_core::{AttributeType, normalize};

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
    if let Ok(value) = normalize(ty, raw) {
        let again = normalize(ty, value.as_str());
        assert_eq!(
            again.as_ref(),
            Ok(&value),
            "{}: {raw:?} -> {value:?} -> {again:?}",
            ty.name()
        );
    }
});
