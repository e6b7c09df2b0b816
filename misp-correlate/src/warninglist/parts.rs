//! Internals of the matcher that the snapshot module reads and reuses.
//!
//! Nothing here is public; it only re-exports crate-private items so that
//! [`crate::snapshot`] can store the compiled tables and answer queries the
//! same way the in-memory matcher does.

pub(crate) use super::catalogue::Catalogue;
pub(crate) use super::cidr::{
    Address, Bits, CidrIndex, Net, parse_prefix, parse_value, php_numeric,
};
pub(crate) use super::host::{TouchedSuffixes, misp_host, parsed_host};
pub(crate) use super::index::{
    Ctx, Segment, USES_CIDR, USES_HOSTS, USES_REGEX, USES_STRINGS, USES_SUBSTRINGS, compile,
};
pub(crate) use super::matcher::ListInfo;
pub(crate) use super::table::{KeyFilter, KeyTable};
