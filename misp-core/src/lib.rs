//! MISP's attribute model.
//!
//! * [`AttributeType`] and [`Category`]: the 194 types and 16 categories
//!   of MISP's `describeTypes.json` as one-byte copyable ids, with each
//!   type's defaults, allowed categories and correlation flags.
//! * [`normalize`]: MISP's save pipeline for a value (trim, refang,
//!   per-type rewrite, validation, composite split), giving a
//!   [`NormalizedValue`] or a [`Rejection`] with MISP's reason
//!   ([`normalize_ref`]: the same, borrowed when unchanged);
//!   [`rewrites_on_resave`] tells the three cases where MISP itself
//!   stores a saved value differently when it is saved again.
//! * [`Event`], [`Object`], [`Attribute`]: the MISP JSON data model, with
//!   values kept raw; [`BorrowedEvent`] and its parts: the same, with the
//!   strings borrowed from the JSON they were read from.
//! * [`json`]: MISP JSON events in every wrapper, and MISP feeds
//!   (`manifest.json` + `<uuid>.json`), read streaming.
//! * [`Error`]: the crate's one error type.
//!
//! Data flows one way: bytes → [`json`] → [`Event`] → [`normalize`] →
//! the engines in `misp-correlate`.

#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod borrowed;
mod error;
pub mod json;
mod model;
mod normalize;
mod types;

pub use borrowed::{
    BorrowedAttribute, BorrowedAttributeRef, BorrowedEvent, BorrowedObject, BorrowedOrgRef,
};
pub use error::{Error, Result};
pub use model::{Attribute, AttributeRef, Event, Object, OrgRef, Tag};
pub use normalize::{
    NormalizedRef, NormalizedValue, Rejection, normalize, normalize_ref, rewrites_on_resave,
};
pub use types::{AttributeType, Category};
