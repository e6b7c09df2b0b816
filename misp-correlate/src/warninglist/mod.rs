//! The warninglist matcher.
//!
//! MISP's warninglists are lists of known-benign or well-known values (top
//! domains, public DNS resolvers, RFC 1918 ranges, hashes of empty files, …)
//! that MISP flags when an attribute matches one. This module reads the
//! [misp-warninglists] format, compiles every list into one immutable
//! [`Matcher`], and checks attributes against it the way MISP's
//! `Warninglist::checkValue` does, or, on request, the way MISP meant to.
//!
//! # Overview of types
//!
//! * [`Warninglist`]: one parsed list (name, [`ListType`], matching
//!   attribute types, entries), from JSON ([`Warninglist::from_json`]) or
//!   built by hand ([`Warninglist::new`]).
//! * [`load`] / [`load_lists`]: read a directory tree of `list.json` files
//!   (or single list files) in parallel. A file that is unusable as a whole is
//!   an [`Error`](crate::Error) naming it; the other files still load.
//! * [`MatcherBuilder`] → [`Matcher`]: the builder takes lists and
//!   [`Improvements`]; `build` compiles them once into hash tables, interval
//!   tables and automata. A [`Matcher`] is immutable apart from enabling or
//!   disabling lists and adding custom lists, and is `Send + Sync`.
//! * [`Query`] → [`Hit`]: checking an attribute (type, value, `to_ids`) gives
//!   at most one [`Hit`] per list, sorted by list name.
//! * [`Matcher::check_event`] → [`EventWarnings`]: the hits of every
//!   attribute of a MISP event, per attribute and per list.
//! * [`EntryProblem`]: an entry that can never match (a CIDR that does not
//!   parse, a regex that does not compile, …), reported with its file, list
//!   and entry. Problems never stop a load.
//!
//! # Example
//!
//! ```
//! use misp_core::AttributeType;
//! use misp_correlate::warninglist::{ListType, MatcherBuilder, Warninglist};
//!
//! let mut private = Warninglist::new("RFC 1918", ListType::Cidr);
//! private.push_entry("10.0.0.0/8");
//! private.push_entry("192.168.0.0/16");
//!
//! let mut builder = MatcherBuilder::new();
//! builder.add(private)?;
//! let (matcher, problems) = builder.build()?;
//! assert!(problems.is_empty());
//!
//! let ip_dst = AttributeType::from_name("ip-dst").unwrap();
//! let hits = matcher.check(ip_dst, "10.1.2.3");
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].list_name, "RFC 1918");
//! assert_eq!(hits[0].matched.to_string(), "10.0.0.0/8");
//! # Ok::<(), misp_correlate::Error>(())
//! ```
//!
//! # Semantics
//!
//! The default is MISP-compatible (`warninglist-contract.md` §2): lists
//! apply to the types in their `matching_attributes` (all types when it is
//! missing or empty); composite values (`malware-sample` and every type
//! containing `|`) are split on the first `|` and each half is tried in
//! order; the per-type rules are
//!
//! * **string**: exact, case-sensitive equality; `match` is the value.
//! * **substring**: some entry occurs in the value (case-sensitive); `match`
//!   is one such entry.
//! * **hostname**: entries are ASCII-lower-cased and stripped of dots at both
//!   ends; the host is the third `/`-field of a value containing `//`, else
//!   the text before the first `/`, with trailing dots removed and case kept;
//!   the shortest suffix on a label boundary that is an entry matches.
//! * **cidr**: the value's address (before the first `/`) must lie in an
//!   entry; a value with a mask must lie inside the entry; `match` is the
//!   entry with the shortest prefix, as `net/prefix`.
//! * **regex**: PCRE-style `/pattern/modifiers`, unanchored.
//!
//! Each fix MISP users ask for is a separate switch in [`Improvements`].
//!
//! ## Decisions where the contract is silent
//!
//! * **Type names.** [`Query`] accepts a known [`AttributeType`] or any type
//!   name ([`QueryType::Name`]). Like MISP, a list applies to a type name when
//!   its `matching_attributes` contain that exact (case-sensitive) string or
//!   when it applies to all types. A name MISP does not know therefore sees
//!   only the all-types lists plus any list that names it verbatim (such
//!   names are reported at load as [`ProblemKind::UnknownAttributeType`]).
//!   Whether the value is split is decided from the name as MISP does.
//! * **IPv6 and nested entries.** MISP reports the *last* matching IPv6
//!   prefix group (so results depend on Redis order); this engine reports the
//!   shortest prefix for both families, as the contract says.
//! * **PCRE `$`.** Without the `m` modifier, PCRE's `$` also matches before
//!   a final newline; Rust's `$` does not, so a pattern behaves as if `D` were
//!   set. Values with a trailing newline are the only difference.
//! * **Non-string JSON entries.** Numbers are kept as their JSON text (`443`
//!   becomes `"443"`, `0` is dropped like `"0"`); `true`, `false`, `null`,
//!   arrays and objects are reported as unusable entries.
//! * **Hostname entries that are only dots** normalise to the empty string;
//!   they are reported as unusable rather than matching empty hosts.
//!
//! # Performance
//!
//! Every list is compiled once. All string lists share one hash table
//! (value → small set of list ids), all hostname lists one table of
//! normalised entries probed with each suffix of the host (hashed in place,
//! no string is built), all CIDR lists one table of elementary address
//! intervals per family (each interval knows, per list, the shortest-prefix
//! entry covering it), substring lists one Aho-Corasick automaton per group
//! of lists with the same type gate (for a single small list whose entries
//! all contain a dot, a searcher anchored on the value's dots; else
//! aho-corasick's SIMD searcher alone for a single small list), and each
//! regex list one `RegexSet`. A check is
//! therefore a handful of hash probes, one binary search or one automaton
//! pass, and allocates nothing unless something matches
//! ([`Matcher::check_into`] reuses the caller's vector). Which lists apply
//! to a type is a precomputed bit set per type, kept with the list metadata
//! in one catalogue that the matcher and its snapshot share.
//! [`Matcher::check_batch_into`] checks many attributes on the calling
//! thread with reused buffers; [`Matcher::check_batch`] checks them in
//! parallel chunks.
//!
//! The hash tables are open-addressing tables with one tag byte per bucket
//! in an array of its own, so a miss (the common case) reads one cache line
//! of tags. In front of each table sits a blocked Bloom filter over its
//! keys' hashes (three bits in one 64-bit word per key, 5 bits per key:
//! 1.4 MiB for both tables, against 4 MiB of tags and 48 MiB of slots),
//! small enough to stay in cache: it turns away about nine in ten probes of
//! absent keys before they touch the table. All probes of a value are
//! hashed and their filter words (and, when let through, their tags)
//! touched before any is compared, so that their cache misses overlap;
//! probes the filter turns away are not looked up at all. A table also
//! knows a byte (the first of `/ : ? = & % space`) that occurs in none of
//! its keys; a value containing it skips the table (no string list holds a
//! `/`, so URLs never probe the string table). Both tables of a build share
//! a hash seed and fold ASCII case only when they are looked up ignoring
//! case, so a domain is hashed once for the string table and as its own
//! longest host suffix. Values are short, so bytes (`/`, `.`) are searched
//! eight at a time in plain words rather than with `memchr`, whose set-up
//! costs more than the search on them.
//!
//! # Memory
//!
//! Built from the full misp-warninglists set (119 lists, 2,510,044
//! entries; 1,276,153 distinct string keys and 1,072,891 distinct hostname
//! keys) the matcher holds about 101 MiB ([`Matcher::memory_usage`]), most
//! of it the two key tables (12-byte slots and one tag byte per bucket, at
//! most 3/4 full, plus the key bytes and the 1.4 MiB of filters). Building
//! needs about as much again in temporaries, which are freed afterwards.
//!
//! [misp-warninglists]: https://github.com/MISP/misp-warninglists

mod catalogue;
mod cidr;
mod dotted;
mod event;
pub(crate) mod hash;
mod host;
mod index;
mod list;
mod load;
mod matcher;
mod pcre;
mod table;

/// Internals re-exported for the snapshot module.
pub(crate) mod parts;

use std::fmt;

use misp_core::AttributeType;

pub use event::{AttributeWarnings, EventWarnings, OwnedHit};
pub use list::{EntryProblem, ListStats, ProblemKind, Warninglist};
pub use load::{Loaded, LoadedLists, load, load_lists};
pub use matcher::{BatchHits, ListInfo, ListSummary, Matcher, MatcherBuilder};

/// How a list matches, the `type` field of a warninglist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListType {
    /// Exact, case-sensitive equality (MISP's default type).
    String,
    /// An entry occurs somewhere in the value.
    Substring,
    /// The value's host is an entry or a sub-domain of one.
    Hostname,
    /// The value's address lies in an entry's network.
    Cidr,
    /// A PCRE-style `/pattern/modifiers` matches somewhere in the value.
    Regex,
}

impl ListType {
    /// Every list type, in a fixed order.
    pub const ALL: [ListType; 5] = [
        ListType::String,
        ListType::Substring,
        ListType::Hostname,
        ListType::Cidr,
        ListType::Regex,
    ];

    /// Parses the `type` field (`string`, `substring`, `hostname`, `cidr`,
    /// `regex`; exact spelling).
    pub fn from_name(name: &str) -> Option<ListType> {
        ListType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The name used in list files and in `check` output.
    pub fn as_str(self) -> &'static str {
        match self {
            ListType::String => "string",
            ListType::Substring => "substring",
            ListType::Hostname => "hostname",
            ListType::Cidr => "cidr",
            ListType::Regex => "regex",
        }
    }
}

impl fmt::Display for ListType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id of a list inside one [`Matcher`].
///
/// Ids are dense (`0..Matcher::list_count()`) and never reused; a list keeps
/// its id when it is disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListId(u16);

impl ListId {
    /// The most lists one matcher can hold.
    pub const LIMIT: usize = u16::MAX as usize + 1;

    /// The dense index of the list.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    pub(crate) fn from_index(index: usize) -> Option<ListId> {
        u16::try_from(index).ok().map(ListId)
    }

    /// The list's place in a bit set over list ids (`u64` words): the word
    /// and the bit in it.
    #[inline]
    pub(crate) fn word_and_bit(self) -> (usize, u64) {
        (self.index() / 64, 1 << (self.index() % 64))
    }
}

/// Departures from MISP's behaviour, each a separate switch
/// (`warninglist-contract.md` §3). All `false` (the [`Default`]) is
/// MISP-compatible; [`Improvements::all`] turns every fix on.
///
/// Improvements are fixed when a [`Matcher`] is built, because some of them
/// change how entries are compiled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Improvements {
    /// Compare hosts with hostname entries ASCII-case-insensitively. MISP
    /// lower-cases entries but not the value, so `http://WWW.EXAMPLE.com/`
    /// escapes every hostname list.
    pub lowercase_hosts: bool,
    /// Take the host from a URL properly: a scheme is `[A-Za-z][A-Za-z0-9+.-]*:`
    /// followed by `//`; userinfo, port, IPv6 brackets, `?query` and
    /// `#fragment` are removed. MISP takes the third `/`-field whenever the
    /// value contains `//` anywhere, and keeps ports.
    pub parse_urls: bool,
    /// Accept (and ignore) the JavaScript `g` modifier in regex entries; the
    /// 33 `phone_numbers` patterns then work. MISP rejects them.
    pub regex_global_modifier: bool,
    /// For a CIDR value (`addr/mask`), also report a list when one of its
    /// entries lies inside the value's range (overlap instead of
    /// containment). The reported entry is then the containing entry if
    /// there is one, else the lowest-addressed entry inside the range.
    pub cidr_overlap: bool,
    /// A CIDR value's mask must be a decimal prefix length in range; MISP
    /// skips the containment test for `/0` and for non-numeric masks, so
    /// `10.0.0.0/0` or `1.2.3.4/abc` match as if the mask were absent.
    pub strict_cidr_masks: bool,
    /// Treat entries of string lists that start with a dot (`.google.ad`) as
    /// hostname entries too; as exact strings they never match a stored
    /// domain.
    pub dotted_strings_as_hostnames: bool,
    /// Compare string lists ASCII-case-insensitively for domain-like types
    /// (`domain`, `hostname`, `domain|ip`, `hostname|port`); the IANA `tlds`
    /// list is upper-case and never fires in MISP.
    pub case_insensitive_domain_strings: bool,
    /// Do not drop a trailing `0` label from the host (`example.com.0`
    /// matches `example.com` in MISP because PHP's `empty("0")` is true).
    pub no_zero_label_quirk: bool,
}

impl Improvements {
    /// MISP-compatible behaviour: every switch off.
    pub const MISP: Improvements = Improvements {
        lowercase_hosts: false,
        parse_urls: false,
        regex_global_modifier: false,
        cidr_overlap: false,
        strict_cidr_masks: false,
        dotted_strings_as_hostnames: false,
        case_insensitive_domain_strings: false,
        no_zero_label_quirk: false,
    };

    /// Every improvement on.
    pub const fn all() -> Improvements {
        Improvements {
            lowercase_hosts: true,
            parse_urls: true,
            regex_global_modifier: true,
            cidr_overlap: true,
            strict_cidr_masks: true,
            dotted_strings_as_hostnames: true,
            case_insensitive_domain_strings: true,
            no_zero_label_quirk: true,
        }
    }
}

/// Whether a check honours the attribute's `to_ids` flag.
///
/// MISP's event view only looks at attributes with `to_ids` set (unless
/// `MISP.warning_for_all` is on); its enforce and filter paths and the
/// `check` command look at every attribute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ToIdsGate {
    /// Check every attribute.
    #[default]
    Off,
    /// Check only attributes whose `to_ids` flag is set; others get no hits.
    On,
}

/// The type of a [`Query`]: a known MISP type or any type name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueryType<'a> {
    /// One of MISP's types.
    Known(AttributeType),
    /// A type name as written (for example read from a file). Gated by exact
    /// string comparison, as MISP does; see the module documentation.
    Name(&'a str),
}

impl QueryType<'_> {
    /// The type's name.
    pub fn name(&self) -> &str {
        match self {
            QueryType::Known(ty) => ty.name(),
            QueryType::Name(name) => name,
        }
    }
}

impl From<AttributeType> for QueryType<'_> {
    fn from(ty: AttributeType) -> Self {
        QueryType::Known(ty)
    }
}

impl<'a> From<&'a str> for QueryType<'a> {
    fn from(name: &'a str) -> Self {
        QueryType::Name(name)
    }
}

/// One attribute to check: type, value (as stored, i.e. already normalised
/// when it comes from a stored attribute) and `to_ids` flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Query<'a> {
    /// The attribute type.
    pub ty: QueryType<'a>,
    /// The value.
    pub value: &'a str,
    /// The attribute's `to_ids` flag (used only with [`ToIdsGate::On`]).
    pub to_ids: bool,
}

impl<'a> Query<'a> {
    /// A query with `to_ids` unset.
    pub fn new(ty: impl Into<QueryType<'a>>, value: &'a str) -> Query<'a> {
        Query {
            ty: ty.into(),
            value,
            to_ids: false,
        }
    }

    /// The same query with the `to_ids` flag set to `to_ids`.
    pub fn with_to_ids(self, to_ids: bool) -> Query<'a> {
        Query { to_ids, ..self }
    }
}

/// What matched: the `match` field of a hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Matched<'a> {
    /// Text: the value part (string lists), the entry (substring and regex
    /// lists) or the normalised entry (hostname lists).
    Text(&'a str),
    /// The matching CIDR entry, written `net/prefix`.
    Network(ipnet::IpNet),
}

impl fmt::Display for Matched<'_> {
    /// The text, or the network written `net/prefix` as `ipnet` writes it.
    /// An IPv4 network (the common case: most CIDR entries are IPv4) is
    /// written by hand, a tenth of the cost of the formatting machinery,
    /// which batch results pay once per CIDR hit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matched::Text(text) => f.write_str(text),
            Matched::Network(ipnet::IpNet::V4(net)) => {
                let mut text = Ipv4NetText::default();
                text.write(net);
                match text.as_str() {
                    Some(written) => f.write_str(written),
                    None => fmt::Display::fmt(net, f),
                }
            }
            Matched::Network(net) => fmt::Display::fmt(net, f),
        }
    }
}

/// An IPv4 network written `a.b.c.d/p` into a stack buffer (at most
/// `255.255.255.255/32`, 18 bytes).
#[derive(Default)]
struct Ipv4NetText {
    bytes: [u8; 18],
    len: usize,
}

impl Ipv4NetText {
    fn write(&mut self, net: &ipnet::Ipv4Net) {
        for (i, octet) in net.addr().octets().into_iter().enumerate() {
            if i > 0 {
                self.push(b'.');
            }
            self.push_decimal(octet);
        }
        self.push(b'/');
        self.push_decimal(net.prefix_len());
    }

    fn push_decimal(&mut self, n: u8) {
        if n >= 100 {
            self.push(b'0' + n / 100);
        }
        if n >= 10 {
            self.push(b'0' + n / 10 % 10);
        }
        self.push(b'0' + n % 10);
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    /// The text written (always ASCII, so always `Some`).
    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(self.bytes.get(..self.len)?).ok()
    }
}

/// One list that matched an attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hit<'a> {
    /// The list's id.
    pub list: ListId,
    /// The list's `name` field.
    pub list_name: &'a str,
    /// The list's type.
    pub list_type: ListType,
    /// The entry (or value) that matched.
    pub matched: Matched<'a>,
    /// The part of the value that matched: the whole value, or one half of
    /// a composite value.
    pub value: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A matched network is written exactly as `ipnet` writes it.
        #[test]
        fn matched_networks_are_written_as_ipnet_writes_them(
            v4 in proptest::num::u32::ANY,
            v6 in proptest::num::u128::ANY,
            prefix in 0u8..=128,
        ) {
            let net4 = ipnet::Ipv4Net::new(v4.into(), prefix % 33).map(ipnet::IpNet::V4);
            let net6 = ipnet::Ipv6Net::new(v6.into(), prefix).map(ipnet::IpNet::V6);
            for net in [net4, net6].into_iter().flatten() {
                proptest::prop_assert_eq!(Matched::Network(net).to_string(), net.to_string());
            }
        }
    }

    #[test]
    fn matched_ipv4_network_edges() {
        for (text, net) in [
            ("0.0.0.0/0", "0.0.0.0/0"),
            ("255.255.255.255/32", "255.255.255.255/32"),
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("100.64.9.10/10", "100.64.9.10/10"),
        ] {
            let net: ipnet::IpNet = net.parse().expect("a network");
            assert_eq!(Matched::Network(net).to_string(), text);
        }
    }

    #[test]
    fn list_type_names_round_trip() {
        for ty in ListType::ALL {
            assert_eq!(ListType::from_name(ty.as_str()), Some(ty));
        }
        assert_eq!(ListType::from_name("String"), None);
        assert_eq!(ListType::from_name("regexp"), None);
    }

    #[test]
    fn improvements_default_is_misp() {
        assert_eq!(Improvements::default(), Improvements::MISP);
        assert_ne!(Improvements::all(), Improvements::MISP);
    }

    #[test]
    fn public_types_are_thread_safe() {
        fn assert_all<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
        assert_all::<Matcher>();
        assert_all::<MatcherBuilder>();
        assert_all::<Warninglist>();
        assert_all::<Hit<'static>>();
        assert_all::<EntryProblem>();
    }
}
