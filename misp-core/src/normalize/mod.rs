//! MISP's save pipeline for attribute values: trim, refang, 4-byte UTF-8
//! to `?`, the per-type rewrites of `modifyBeforeValidation`, validation,
//! and the composite split into value1/value2.

use std::fmt;

use crate::AttributeType;

/// A value as MISP would store it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedValue {
    value: String,
    /// Byte offset of the `|` separating value1 and value2, for
    /// composite types.
    split: Option<usize>,
}

impl NormalizedValue {
    /// Builds a normalised value; for composite types `value` must hold
    /// exactly one `|`.
    pub(crate) fn new(ty: AttributeType, value: String) -> Result<Self, Rejection> {
        if ty.is_composite() {
            let mut it = value.match_indices('|');
            match (it.next(), it.next()) {
                (Some((i, _)), None) => Ok(NormalizedValue { value, split: Some(i) }),
                _ => Err(Rejection::new("Composite type found but the value not in the composite (value1|value2) format.")),
            }
        } else {
            Ok(NormalizedValue { value, split: None })
        }
    }

    /// The whole stored value (`value1|value2` for composite types).
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The stored value1.
    pub fn value1(&self) -> &str {
        match self.split {
            Some(i) => &self.value[..i],
            None => &self.value,
        }
    }

    /// The stored value2, for composite types.
    pub fn value2(&self) -> Option<&str> {
        self.split.map(|i| &self.value[i + 1..])
    }

    /// The whole stored value, by value.
    pub fn into_string(self) -> String {
        self.value
    }
}

impl fmt::Display for NormalizedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Why MISP would refuse to save a value, in MISP's words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rejection {
    reason: String,
}

impl Rejection {
    /// A rejection with `reason`.
    pub fn new(reason: impl Into<String>) -> Rejection {
        Rejection { reason: reason.into() }
    }

    /// The reason, as MISP words it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

/// Normalises and validates `raw` as MISP saves an attribute of type `ty`.
pub fn normalize(ty: AttributeType, raw: &str) -> Result<NormalizedValue, Rejection> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Rejection::new("Value cannot be empty."));
    }
    NormalizedValue::new(ty, value.to_owned())
}
