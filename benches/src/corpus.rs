//! A seeded generator of realistic MISP corpora.
//!
//! A [`Corpus`] is a deterministic function of a [`CorpusConfig`]: the same
//! seed and configuration always give the same events, objects and
//! attributes, byte for byte. Nothing is stored but the event boundaries:
//! attributes are generated on the fly, each from its own counter-based
//! random stream, so any slice of the corpus can be generated on its own
//! ([`Corpus::attributes_range`]) and parallel chunks give exactly the
//! sequential stream.
//!
//! ```
//! use misp_benches::corpus::Corpus;
//!
//! let corpus = Corpus::realistic(1, 10_000)?;
//! let mut stream = corpus.attributes();
//! while let Some(a) = stream.next_attribute() {
//!     // a.event, a.object, a.position, a.ty, a.value, a.to_ids, a.distribution, ...
//!     assert!(!a.value.is_empty());
//! }
//! # Ok::<(), misp_benches::corpus::Error>(())
//! ```
//!
//! * [`AttributeStream::next_attribute`] lends the attribute from a reused
//!   buffer: no allocation per attribute. The stream is also an
//!   [`Iterator`] of owned [`GeneratedAttribute`]s (one `String` each).
//! * [`Corpus::events`] gives the event metadata (uuid, orgs,
//!   distribution, sharing group, date, attribute range), and
//!   [`Corpus::objects`] the objects of one event.
//! * [`Corpus::write_feed`] writes a MISP feed (`manifest.json` and one
//!   `<uuid>.json` per event, MISP JSON with string-typed numbers as real
//!   feeds have them), streaming, in parallel over events.
//! * [`CorpusStats::measure`] measures what a corpus contains (type mix,
//!   values per event count, CIDR containment, values `normalize` rejects).
//!
//! # What the real data looks like
//!
//! Measured on the TweetFeed MISP feed of the shared data (365 daily
//! events, 2025-08-23 to 2026-08-22, 110,682 attributes; values compared
//! case-insensitively, as MISP correlates):
//!
//! * type mix: url 48.5 %, domain 38.2 %, ip-dst 8.7 %, sha256 2.4 %,
//!   md5 2.2 %; no objects, no composite types; all attributes inherit the
//!   event distribution.
//! * event sizes: 17 to 1,638 attributes, median 251, p90 542, p99 1,226.
//! * value reuse: 102,545 distinct values. The number of events a value
//!   appears in: 1 event 96,042 values (93.7 %), 2 events 5,596 (5.5 %),
//!   3: 650, 4: 137, 5: 48, 6: 34, 7: 16, 8: 7, 9-11: 5, 16-22: 6,
//!   41-44: 4. The head falls like `k^-5` (2 → 3 → 4 events), the tail
//!   is heavier (a few values in 16-44 events). 13.2 % of the attributes
//!   carry a value that appears in at least two events; by type 5.3 % of
//!   distinct urls are reused, 6.9 % of domains, 9.5 % of IPs, 5.5 % of
//!   sha256 and 7.8 % of md5. 11 values repeat inside one event.
//! * 83 % of domains come with their `http://domain` url in the same
//!   event (the generator does not reproduce this pairing).
//!
//! # What the generator produces
//!
//! * **Type mix** ([`ValueKind`], [`CorpusConfig::kinds`]): the realistic
//!   preset scales TweetFeed's mix to 91 % of the direct attributes
//!   (url 45.6 %, domain 35.9 %, ip-dst 7.8 %, sha256 2.2 %, md5 2.0 %) and
//!   gives the rest to ip-src and hostname, sha1, ssdeep (0.5 %), CIDRs
//!   (1 %: `ip-dst`/`ip-src` `a.b.c.0/24`, some /16 to /28 and a few
//!   with host bits set, 20 % IPv6 /48 with some /32 and /64), and
//!   composite types (3.5 %: `filename|md5`, `filename|sha256`,
//!   `domain|ip`, `ip-dst|port`, `hostname|port`).
//! * **Objects** ([`CorpusConfig::object_share`], 4 % of attributes): a
//!   third of the events carry MISP objects `file` (filename, md5, sha1,
//!   sha256, size-in-bytes, sometimes ssdeep — the hashes of one file),
//!   `domain-ip`, `url` (url and its host) and `ip-port`.
//! * **Value reuse** ([`ReuseConfig`]): each value draw is *fresh* (a value
//!   no other draw can produce), *shared* or *heavy*. Shared values have a
//!   target number of events `k` in `2..=50` with `P(k) ∝ k^-α`
//!   (α = 3 by default: heavier than one feed's tail, as an instance
//!   aggregating feeds sees), realised as a draw probability proportional to
//!   `k`, so actual counts scatter around the target. Heavy hitters are a
//!   few host, IP, file and URL values that each appear in about
//!   `heavy_events` events (2,000 for a corpus of 1M attributes): they
//!   become over-correlating keys. A value is never drawn twice into one
//!   event (MISP would refuse the duplicate): such a draw is redrawn.
//! * **CIDRs**: a network is an entity like any other (fresh, shared or
//!   heavy); 5 % of IP draws fall inside one of the *shared* networks, so
//!   CIDR attributes contain some of the generated IPs, across events.
//! * **ssdeep**: hashes in families of about six similar members (1-5
//!   characters mutated, sometimes up to 20), so fuzzy correlation has
//!   work to do.
//! * **Access control** ([`AclConfig`]): 25 organisations with a Zipf
//!   share of the events, creator ≠ owner for 15 % of the events, event
//!   distribution 0-4 and attribute/object distribution 0-5 with 8 sharing
//!   groups, 0.5 % of attributes and 1 % of events with correlation
//!   disabled.
//! * **Event sizes**: Lomax (Pareto II) weights (`event_size_tail` =
//!   1.2), every event at least one attribute: many small events (median
//!   about a quarter of the mean), a few very large ones (the largest
//!   holds 2-5 % of the corpus).
//! * **Values**: synthetic by default — host names from consonant-vowel or
//!   letter labels (unique per entity by a bijective scramble), optional
//!   sub-domain, word or digits, and TweetFeed's TLD frequencies; URLs on
//!   them with http/https in TweetFeed's proportion and 28 % with a path;
//!   public-looking IPv4 and global IPv6 in canonical form; hex digests of
//!   the right length; ssdeep `blocksize:hash1:hash2`. With
//!   [`CorpusConfig::real_values`] ([`RealValues::load`] of
//!   `tweetfeed-typed-values.tsv`), hosts, URLs, IPv4s, md5s and sha256s are
//!   real values (normalised), and once a pool is used up they are extended
//!   with a generated label (hosts, URLs) or synthetic (IPs, hashes).
//! * **Raw spellings**: values are written as MISP stores them, except a
//!   share ([`CorpusConfig::raw_variant_share`], 2 % in the preset)
//!   written as users and feeds write them and MISP's save pipeline
//!   canonicalises: capitalised domains (`Evil.Example.com`), upper-case
//!   hashes and IPv6, defanged URLs and IPs (`hxxps://`, `[.]`), and
//!   `ip:port` / `host:port` for the port types.
//!
//! # Measured output
//!
//! `misp-gen --attributes 1000000 --seed 1 --stats` (the realistic
//! preset; keys as the correlation contract defines them, counted by
//! [`CorpusStats`]):
//!
//! * 5,000 events of 1 to 23,732 attributes (median 53, p90 358, p99
//!   2,870); 4.3 % of attributes in 12.6k objects.
//! * url 43.7 %, domain 34.7 %, ip-dst 8.6 %, sha256 2.6 %, md5 2.4 %,
//!   ip-src 1.4 %, sha1 0.8 %, the five composite types 3.4 %, ssdeep 0.6 %,
//!   object-only types (filename, size-in-bytes, port) 1.3 %; 9.4k CIDR
//!   attributes (6.2k distinct networks, 1.4k of which contain some of the
//!   85k distinct IPs). `normalize` rejects none of the values.
//! * 870k distinct keys: 95.6 % in one event, then 2 events 12.1k keys,
//!   3: 9.2k, 4: 6.2k, 5: 3.7k, 6-10: 5.6k, 11-20: 1.3k, 21-50: 255,
//!   51-100: 8 (targets of 50 scattering upwards), 101-1000: 10 (keys of
//!   the file heavy hitters: a file's name, md5, sha1 and sha256 each carry
//!   only some of its occurrences), and 14 keys in 1,000-2,016 events. 18.5 %
//!   of key occurrences are on keys found in two events or more (TweetFeed:
//!   13.2 %).
//!
//! Compared with TweetFeed the head is flatter (2 events : 3 events is
//! 1.3 : 1, not 8.6 : 1) because counts scatter around their targets, and
//! the tail is heavier by design.
//!
//! # Limits
//!
//! * File names come from a vocabulary (word, number, extension) and
//!   repeat by chance across unrelated files, as real ones do; all other
//!   fresh values are unique.
//! * Networks are /24s of a 2^24 space: corpora over about 8M attributes
//!   draw some fresh networks twice.
//! * A domain and its `http://domain` URL are not paired inside events as
//!   in TweetFeed; `hashes.csv` is not written (MISP does not need it to
//!   fetch a feed).
//!
//! # Speed
//!
//! Each attribute comes from its own random stream (a counter-based
//! SplitMix64), rendered into a reused buffer; a stream never allocates
//! per attribute. `misp-gen --attributes 4000000 --measure` on the 2-core
//! development VM, shared with other builds: 145-175 ns of CPU per
//! attribute, 5.7-6.9 M attributes/s per core; parallel chunks
//! ([`Corpus::chunks`]) scale with cores. Writing a feed
//! ([`Corpus::write_feed`]) is bound by JSON and disk: 1M attributes make
//! 251 MB of feed.

mod feed;
mod real;
mod render;
mod rng;
mod stats;

use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use misp_core::{AttributeType, Category};

pub use feed::FeedSummary;
pub use real::{RealCounts, RealValues, SkippedLine};
pub use stats::{CorpusStats, EventSizeSummary, RejectedValue};

use render::{Class, Family, RenderParams, Renderer};
use rng::{Domain, Picker, SplitMix64, threshold};

/// The most attributes a corpus may have (2^40).
pub const MAX_ATTRIBUTES: u64 = 1 << 40;

/// Everything that can go wrong when building or writing a corpus.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}", path = path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A configuration field has an impossible value.
    #[error("corpus configuration: {field}: {message}")]
    Config {
        /// The field, as named in [`CorpusConfig`].
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A MISP type the generator uses is not in `misp-core`'s registry.
    #[error("attribute type {0:?} is not in the MISP type registry")]
    UnknownType(&'static str),
}

// ===== configuration ========================================================

/// What a directly attached (non-object) attribute holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// `url`.
    Url,
    /// `domain`.
    Domain,
    /// `hostname`.
    Hostname,
    /// `ip-dst`, a single address.
    IpDst,
    /// `ip-src`, a single address.
    IpSrc,
    /// `ip-dst` holding a network (`a.b.c.0/24`, IPv6 `/48`, …).
    CidrDst,
    /// `ip-src` holding a network.
    CidrSrc,
    /// `md5`.
    Md5,
    /// `sha1`.
    Sha1,
    /// `sha256`.
    Sha256,
    /// `ssdeep`.
    Ssdeep,
    /// `filename|md5`.
    FilenameMd5,
    /// `filename|sha256`.
    FilenameSha256,
    /// `domain|ip`.
    DomainIp,
    /// `ip-dst|port`.
    IpDstPort,
    /// `hostname|port`.
    HostnamePort,
}

impl ValueKind {
    /// Every kind.
    pub const ALL: [ValueKind; 16] = [
        ValueKind::Url,
        ValueKind::Domain,
        ValueKind::Hostname,
        ValueKind::IpDst,
        ValueKind::IpSrc,
        ValueKind::CidrDst,
        ValueKind::CidrSrc,
        ValueKind::Md5,
        ValueKind::Sha1,
        ValueKind::Sha256,
        ValueKind::Ssdeep,
        ValueKind::FilenameMd5,
        ValueKind::FilenameSha256,
        ValueKind::DomainIp,
        ValueKind::IpDstPort,
        ValueKind::HostnamePort,
    ];

    /// The MISP type of attributes of this kind.
    pub fn type_name(self) -> &'static str {
        match self {
            ValueKind::Url => "url",
            ValueKind::Domain => "domain",
            ValueKind::Hostname => "hostname",
            ValueKind::IpDst | ValueKind::CidrDst => "ip-dst",
            ValueKind::IpSrc | ValueKind::CidrSrc => "ip-src",
            ValueKind::Md5 => "md5",
            ValueKind::Sha1 => "sha1",
            ValueKind::Sha256 => "sha256",
            ValueKind::Ssdeep => "ssdeep",
            ValueKind::FilenameMd5 => "filename|md5",
            ValueKind::FilenameSha256 => "filename|sha256",
            ValueKind::DomainIp => "domain|ip",
            ValueKind::IpDstPort => "ip-dst|port",
            ValueKind::HostnamePort => "hostname|port",
        }
    }

    /// The entity classes one attribute of this kind draws, in order.
    fn classes(self) -> &'static [Class] {
        match self {
            ValueKind::Url => &[Class::Url],
            ValueKind::Domain | ValueKind::Hostname | ValueKind::HostnamePort => &[Class::Host],
            ValueKind::IpDst | ValueKind::IpSrc | ValueKind::IpDstPort => &[Class::Ip],
            ValueKind::CidrDst | ValueKind::CidrSrc => &[Class::Cidr],
            ValueKind::Md5
            | ValueKind::Sha1
            | ValueKind::Sha256
            | ValueKind::FilenameMd5
            | ValueKind::FilenameSha256 => &[Class::File],
            ValueKind::Ssdeep => &[Class::Ssdeep],
            ValueKind::DomainIp => &[Class::Host, Class::Ip],
        }
    }

    /// The realistic mix of direct attributes (weights, summing to 1).
    pub fn realistic_mix() -> Vec<(ValueKind, f64)> {
        vec![
            (ValueKind::Url, 0.456),
            (ValueKind::Domain, 0.359),
            (ValueKind::IpDst, 0.078),
            (ValueKind::Sha256, 0.022),
            (ValueKind::Md5, 0.020),
            (ValueKind::IpSrc, 0.012),
            (ValueKind::CidrDst, 0.007),
            (ValueKind::CidrSrc, 0.003),
            (ValueKind::Hostname, 0.005),
            (ValueKind::Sha1, 0.003),
            (ValueKind::Ssdeep, 0.005),
            (ValueKind::FilenameMd5, 0.008),
            (ValueKind::FilenameSha256, 0.007),
            (ValueKind::DomainIp, 0.008),
            (ValueKind::IpDstPort, 0.007),
            (ValueKind::HostnamePort, 0.005),
        ]
    }
}

/// How values repeat across events.
#[derive(Clone, Debug, PartialEq)]
pub struct ReuseConfig {
    /// Share of value draws that take a shared value (one meant for
    /// several events).
    pub shared_share: f64,
    /// The same for networks (CIDR attributes): higher, so that the
    /// networks IPs fall into are ones that CIDR attributes use.
    pub cidr_shared_share: f64,
    /// α of `P(k) ∝ k^-α`, the target number of events `k` of a shared
    /// value.
    pub tail_exponent: f64,
    /// The largest target `k` of a shared value.
    pub max_events: u32,
    /// Number of heavy-hitter values (split over hosts, IPs, files and
    /// URLs).
    pub heavy_hitters: u32,
    /// Target number of events of each heavy hitter.
    pub heavy_events: u32,
}

impl ReuseConfig {
    /// The realistic reuse for a corpus of `events` events: 15 % shared
    /// draws, α = 3 over 2-50 events, 12 heavy hitters in
    /// `min(2000, events / 2)` events each.
    pub fn realistic(events: u32) -> ReuseConfig {
        ReuseConfig {
            shared_share: 0.15,
            cidr_shared_share: 0.5,
            tail_exponent: 3.0,
            max_events: 50,
            heavy_hitters: 12,
            heavy_events: (events / 2).clamp(2, 2000),
        }
    }
}

/// Organisations, distributions and correlation switches.
#[derive(Clone, Debug, PartialEq)]
pub struct AclConfig {
    /// Number of organisations (event owners and creators); owners follow
    /// a Zipf law (organisation 0 owns the most events).
    pub orgs: u32,
    /// Number of sharing groups (ids `1..=sharing_groups`). With none,
    /// distribution 4 is never drawn.
    pub sharing_groups: u32,
    /// Share of events whose creator (`Orgc`) is not the owner (`Org`).
    pub foreign_creator_share: f64,
    /// Weights of event distributions 0-4.
    pub event_distribution: [f64; 5],
    /// Weights of attribute and object distributions 0-5 (5 = inherit).
    pub attribute_distribution: [f64; 6],
    /// Share of attributes with `disable_correlation`.
    pub disabled_attribute_share: f64,
    /// Share of events with `disable_correlation`.
    pub disabled_event_share: f64,
}

impl Default for AclConfig {
    fn default() -> AclConfig {
        AclConfig {
            orgs: 25,
            sharing_groups: 8,
            foreign_creator_share: 0.15,
            event_distribution: [0.10, 0.15, 0.05, 0.55, 0.15],
            attribute_distribution: [0.04, 0.04, 0.02, 0.04, 0.04, 0.82],
            disabled_attribute_share: 0.005,
            disabled_event_share: 0.01,
        }
    }
}

/// Everything a [`Corpus`] is generated from.
#[derive(Clone, Debug)]
pub struct CorpusConfig {
    /// The seed: same seed and configuration, same corpus.
    pub seed: u64,
    /// Number of attributes (objects' attributes included).
    pub attributes: u64,
    /// Number of events (each holds at least one attribute).
    pub events: u32,
    /// Weights of the kinds of direct (non-object) attributes.
    pub kinds: Vec<(ValueKind, f64)>,
    /// Share of attributes inside objects (about; carried by 30 % of the
    /// events).
    pub object_share: f64,
    /// Lomax (Pareto II) exponent of event sizes: near 1 gives a few huge
    /// events, large values give even sizes.
    pub event_size_tail: f64,
    /// How values repeat.
    pub reuse: ReuseConfig,
    /// Organisations, distributions, correlation switches.
    pub acl: AclConfig,
    /// Share of IPs (outside shared networks) that are IPv6.
    pub ipv6_share: f64,
    /// Share of IPs that lie in a shared network.
    pub in_network_share: f64,
    /// Share of networks that are IPv6.
    pub cidr_ipv6_share: f64,
    /// Share of values written in a non-canonical spelling that MISP's
    /// save pipeline canonicalises.
    pub raw_variant_share: f64,
    /// Share of attributes whose `to_ids` is the opposite of the type's
    /// default.
    pub to_ids_flip_share: f64,
    /// Real values to use instead of synthetic ones, when given.
    pub real_values: Option<Arc<RealValues>>,
}

impl CorpusConfig {
    /// The realistic preset: one event per 200 attributes, the realistic
    /// mix, 4 % object attributes, Lomax(1.2) event sizes, realistic
    /// reuse and ACL variety, 2 % IPv6, 5 % in-network IPs, 20 % IPv6
    /// networks, 2 % raw spellings, 10 % flipped `to_ids`.
    pub fn realistic(seed: u64, attributes: u64) -> CorpusConfig {
        let attributes = attributes.min(MAX_ATTRIBUTES);
        let events = attributes.div_ceil(200).min(u64::from(u32::MAX)) as u32;
        CorpusConfig {
            seed,
            attributes,
            events,
            kinds: ValueKind::realistic_mix(),
            object_share: 0.04,
            event_size_tail: 1.2,
            reuse: ReuseConfig::realistic(events),
            acl: AclConfig::default(),
            ipv6_share: 0.02,
            in_network_share: 0.05,
            cidr_ipv6_share: 0.2,
            raw_variant_share: 0.02,
            to_ids_flip_share: 0.1,
            real_values: None,
        }
    }

    fn validate(&self) -> Result<(), Error> {
        fn bad(field: &'static str, message: impl Into<String>) -> Result<(), Error> {
            Err(Error::Config {
                field,
                message: message.into(),
            })
        }
        fn share(field: &'static str, v: f64) -> Result<(), Error> {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                bad(field, format!("{v} is not in [0, 1]"))
            }
        }
        fn weights(field: &'static str, w: &[f64]) -> Result<(), Error> {
            if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return bad(field, format!("weights must be finite and >= 0, got {w:?}"));
            }
            if w.iter().sum::<f64>() <= 0.0 {
                return bad(field, "weights sum to 0");
            }
            Ok(())
        }
        if self.attributes > MAX_ATTRIBUTES {
            return bad(
                "attributes",
                format!("{} is more than {MAX_ATTRIBUTES}", self.attributes),
            );
        }
        if u64::from(self.events) > self.attributes {
            return bad(
                "events",
                format!(
                    "{} events cannot hold {} attributes (one at least each)",
                    self.events, self.attributes
                ),
            );
        }
        if self.attributes > 0 && self.events == 0 {
            return bad("events", "a non-empty corpus needs at least one event");
        }
        if self.kinds.is_empty() {
            return bad("kinds", "no kind of attribute");
        }
        let kind_weights: Vec<f64> = self.kinds.iter().map(|k| k.1).collect();
        weights("kinds", &kind_weights)?;
        share("object_share", self.object_share)?;
        if !(self.event_size_tail.is_finite() && self.event_size_tail > 0.0) {
            return bad(
                "event_size_tail",
                format!("{} is not a positive number", self.event_size_tail),
            );
        }
        let r = &self.reuse;
        share("reuse.shared_share", r.shared_share)?;
        share("reuse.cidr_shared_share", r.cidr_shared_share)?;
        if !(r.tail_exponent.is_finite() && r.tail_exponent >= 0.0) {
            return bad(
                "reuse.tail_exponent",
                format!("{} is not a number >= 0", r.tail_exponent),
            );
        }
        if r.max_events < 2 {
            return bad(
                "reuse.max_events",
                format!("{} is less than 2", r.max_events),
            );
        }
        let a = &self.acl;
        if a.orgs == 0 {
            return bad("acl.orgs", "at least one organisation is needed");
        }
        share("acl.foreign_creator_share", a.foreign_creator_share)?;
        weights("acl.event_distribution", &a.event_distribution)?;
        weights("acl.attribute_distribution", &a.attribute_distribution)?;
        share("acl.disabled_attribute_share", a.disabled_attribute_share)?;
        share("acl.disabled_event_share", a.disabled_event_share)?;
        share("ipv6_share", self.ipv6_share)?;
        share("in_network_share", self.in_network_share)?;
        share("cidr_ipv6_share", self.cidr_ipv6_share)?;
        share("raw_variant_share", self.raw_variant_share)?;
        share("to_ids_flip_share", self.to_ids_flip_share)?;
        Ok(())
    }
}

// ===== generated items ======================================================

/// One generated attribute.
///
/// `value` is the raw value as a MISP feed would carry it (composite types
/// as `value1|value2`); [`misp_core::normalize`] accepts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedAttribute {
    /// Global 0-based index in the corpus (a natural attribute id).
    pub index: u64,
    /// 0-based index of its event.
    pub event: u32,
    /// 0-based index of its object within the event, if in one.
    pub object: Option<u32>,
    /// The object relation (`md5`, `ip`, …), if in an object.
    pub object_relation: Option<&'static str>,
    /// 0-based position in the event in document order (direct
    /// attributes first, then each object's attributes).
    pub position: u32,
    /// The MISP type.
    pub ty: AttributeType,
    /// The category (the type's default).
    pub category: Category,
    /// The raw value.
    pub value: String,
    /// The IDS flag.
    pub to_ids: bool,
    /// Distribution 0-5 (5 = inherit).
    pub distribution: u8,
    /// The sharing group, for distribution 4.
    pub sharing_group: Option<u32>,
    /// Whether correlation is disabled for the attribute.
    pub disable_correlation: bool,
}

/// One generated event's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedEvent {
    /// 0-based index.
    pub index: u32,
    /// The event uuid.
    pub uuid: String,
    /// The title.
    pub info: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Last modification, seconds since the epoch (within `date`).
    pub timestamp: i64,
    /// Owning organisation (index, see [`Corpus::org`]).
    pub org: u32,
    /// Creating organisation (index).
    pub orgc: u32,
    /// Distribution 0-4.
    pub distribution: u8,
    /// Sharing group, for distribution 4.
    pub sharing_group: Option<u32>,
    /// Whether the event is published.
    pub published: bool,
    /// Whether correlation is disabled for the whole event.
    pub disable_correlation: bool,
    /// Threat level 1-4.
    pub threat_level: u8,
    /// Analysis state 0-2.
    pub analysis: u8,
    /// Global indices of its attributes.
    pub attributes: Range<u64>,
}

/// The fields of a [`GeneratedEvent`] that access control and
/// correlation need ([`Corpus::event_access`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventAccess {
    /// Owning organisation (index, see [`Corpus::org`]).
    pub org: u32,
    /// Distribution 0-4.
    pub distribution: u8,
    /// Sharing group, for distribution 4.
    pub sharing_group: Option<u32>,
    /// Whether correlation is disabled for the whole event.
    pub disable_correlation: bool,
}

/// One generated object's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedObject {
    /// 0-based index within its event.
    pub index: u32,
    /// The object uuid.
    pub uuid: String,
    /// The template name (`file`, `domain-ip`, `url`, `ip-port`).
    pub name: &'static str,
    /// The template's meta-category.
    pub meta_category: &'static str,
    /// The template uuid of MISP's object templates.
    pub template_uuid: &'static str,
    /// The template version.
    pub template_version: &'static str,
    /// Distribution 0-5 (5 = inherit).
    pub distribution: u8,
    /// Sharing group, for distribution 4.
    pub sharing_group: Option<u32>,
    /// Positions of its attributes within the event.
    pub positions: Range<u32>,
}

/// One generated organisation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedOrg {
    /// 0-based index (MISP id would be index + 1).
    pub index: u32,
    /// The organisation uuid.
    pub uuid: String,
    /// Its name.
    pub name: String,
}

// ===== objects ==============================================================

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Template {
    File,
    DomainIp,
    Url,
    IpPort,
}

impl Template {
    const ALL: [Template; 4] = [
        Template::File,
        Template::DomainIp,
        Template::Url,
        Template::IpPort,
    ];
    /// Share of objects of each template.
    const WEIGHTS: [f64; 4] = [0.45, 0.30, 0.15, 0.10];

    fn name(self) -> &'static str {
        match self {
            Template::File => "file",
            Template::DomainIp => "domain-ip",
            Template::Url => "url",
            Template::IpPort => "ip-port",
        }
    }

    fn meta_category(self) -> &'static str {
        match self {
            Template::File => "file",
            _ => "network",
        }
    }

    /// MISP's template uuids and the versions PyMISP's fixtures carry.
    fn template(self) -> (&'static str, &'static str) {
        match self {
            Template::File => ("688c46fb-5edb-40a3-8273-1af7923e2215", "9"),
            Template::DomainIp => ("43b3b146-77eb-4931-b4cc-b66c60f28734", "5"),
            Template::Url => ("60efb77b-40b5-4c46-871b-ed1ed999fce5", "10"),
            Template::IpPort => ("9f8cea74-16fe-4968-a2b4-026676949ac6", "4"),
        }
    }

    /// Mean number of attributes and expected draws per class.
    fn expectations(self) -> (f64, &'static [(Class, f64)]) {
        match self {
            Template::File => (5.3, &[(Class::File, 1.0)]),
            Template::DomainIp => (2.3, &[(Class::Host, 1.0), (Class::Ip, 1.0)]),
            Template::Url => (2.0, &[(Class::Url, 1.0)]),
            Template::IpPort => (2.4, &[(Class::Ip, 1.0), (Class::Host, 1.0)]),
        }
    }
}

/// What one object attribute holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    FileName,
    FileMd5,
    FileSha1,
    FileSha256,
    FileSize,
    FileSsdeep,
    /// The host of entity `ids[i]`.
    Host(u8),
    /// The IP of entity `ids[i]`.
    Ip(u8),
    Port,
    Url,
    /// The host of the url, as a `domain`.
    UrlDomain,
    /// The host of the url, an IP literal, as an `ip-dst`.
    UrlIp,
}

impl Slot {
    fn relation(self, template: Template) -> &'static str {
        match self {
            Slot::FileName => "filename",
            Slot::FileMd5 => "md5",
            Slot::FileSha1 => "sha1",
            Slot::FileSha256 => "sha256",
            Slot::FileSize => "size-in-bytes",
            Slot::FileSsdeep => "ssdeep",
            Slot::Host(_) | Slot::UrlDomain => "domain",
            Slot::Ip(_) | Slot::UrlIp => "ip",
            Slot::Port if template == Template::IpPort => "dst-port",
            Slot::Port => "port",
            Slot::Url => "url",
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Slot::FileName => "filename",
            Slot::FileMd5 => "md5",
            Slot::FileSha1 => "sha1",
            Slot::FileSha256 => "sha256",
            Slot::FileSize => "size-in-bytes",
            Slot::FileSsdeep => "ssdeep",
            Slot::Host(_) | Slot::UrlDomain => "domain",
            Slot::Ip(_) | Slot::UrlIp => "ip-dst",
            Slot::Port => "port",
            Slot::Url => "url",
        }
    }

    const ALL: [Slot; 12] = [
        Slot::FileName,
        Slot::FileMd5,
        Slot::FileSha1,
        Slot::FileSha256,
        Slot::FileSize,
        Slot::FileSsdeep,
        Slot::Host(0),
        Slot::Ip(0),
        Slot::Port,
        Slot::Url,
        Slot::UrlDomain,
        Slot::UrlIp,
    ];

    /// Dense index for the type table.
    fn index(self) -> usize {
        match self {
            Slot::FileName => 0,
            Slot::FileMd5 => 1,
            Slot::FileSha1 => 2,
            Slot::FileSha256 => 3,
            Slot::FileSize => 4,
            Slot::FileSsdeep => 5,
            Slot::Host(_) => 6,
            Slot::Ip(_) => 7,
            Slot::Port => 8,
            Slot::Url => 9,
            Slot::UrlDomain => 10,
            Slot::UrlIp => 11,
        }
    }
}

/// An object of an event's layout.
#[derive(Clone, Debug)]
pub(crate) struct ObjectLayout {
    template: Template,
    index: u32,
    start: u32,
    len: u32,
    slots: [Slot; 6],
    ids: [u64; 2],
    port_bits: u64,
    distribution: u8,
    sharing_group: Option<u32>,
}

impl ObjectLayout {
    /// Its index within the event, distribution and sharing group (as
    /// [`GeneratedObject`] has them).
    pub(crate) fn access(&self) -> (u32, u8, Option<u32>) {
        (self.index, self.distribution, self.sharing_group)
    }
}

/// Where an event's attributes come from: direct ones first, then objects.
#[derive(Clone, Debug, Default)]
pub(crate) struct EventLayout {
    n_direct: u32,
    objects: Vec<ObjectLayout>,
}

// ===== the corpus ===========================================================

/// The per-class reuse tables.
#[derive(Clone, Debug, Default)]
struct ClassReuse {
    /// Draws below this are heavy hitters.
    heavy_threshold: u64,
    /// Draws below this (and not heavy) are shared values.
    shared_threshold: u64,
    heavy_base: u64,
    heavy_count: u64,
    shared_base: u64,
    /// Cumulative weights `k * n_k` of the shared groups.
    group_cumulative: Vec<u64>,
    group_offset: Vec<u64>,
    group_size: Vec<u64>,
    pool: u64,
}

impl ClassReuse {
    #[inline]
    fn pick_shared(&self, rng: &mut SplitMix64) -> u64 {
        let total = self.group_cumulative.last().copied().unwrap_or(0);
        let r = rng.below(total);
        let g = self.group_cumulative.partition_point(|&c| c <= r);
        let (offset, size) = match (self.group_offset.get(g), self.group_size.get(g)) {
            (Some(&o), Some(&s)) => (o, s),
            _ => (0, 1),
        };
        self.shared_base + offset + rng.below(size)
    }
}

/// Resolved types of kinds and object slots.
#[derive(Clone, Debug)]
struct KindEntry {
    kind: ValueKind,
    ty: AttributeType,
    category: Category,
}

/// The set of entities already drawn into the current event.
type Seen = HashSet<u64, ahash::RandomState>;

fn new_seen() -> Seen {
    HashSet::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4))
}

#[inline]
fn seen_key(class: Class, id: u64) -> u64 {
    ((class as u64) << 58) | id
}

const MAX_REDRAWS: usize = 6;

/// A generated MISP corpus; see the [module docs](self).
pub struct Corpus {
    config: CorpusConfig,
    /// `offsets[e]..offsets[e + 1]` are event `e`'s attributes.
    offsets: Vec<u64>,
    kinds: Vec<KindEntry>,
    kind_picker: Picker,
    slot_types: [(AttributeType, Category); 12],
    reuse: [ClassReuse; Class::COUNT],
    renderer: Renderer,
    org_picker: Picker,
    event_distribution: Picker,
    attribute_distribution: Picker,
    template_picker: Picker,
    object_event: u64,
    object_event_share: f64,
    to_ids_flip: u64,
    disabled_attribute: u64,
    disabled_event: u64,
    foreign_creator: u64,
    variant: u64,
    /// Key of the attribute streams (see [`Corpus::attribute_rng`]).
    attribute_key: u64,
}

impl std::fmt::Debug for Corpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corpus")
            .field("seed", &self.config.seed)
            .field("attributes", &self.config.attributes)
            .field("events", &self.config.events)
            .finish_non_exhaustive()
    }
}

fn resolve(name: &'static str) -> Result<(AttributeType, Category), Error> {
    let ty = AttributeType::from_name(name).ok_or(Error::UnknownType(name))?;
    Ok((ty, ty.default_category()))
}

impl Corpus {
    /// Builds the corpus of `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] naming the first impossible field;
    /// [`Error::UnknownType`] if `misp-core` lacks a type the generator
    /// uses.
    pub fn new(config: CorpusConfig) -> Result<Corpus, Error> {
        config.validate()?;
        let total: f64 = config.kinds.iter().map(|k| k.1).sum();
        let mut kinds = Vec::with_capacity(config.kinds.len());
        let mut kind_weights = Vec::with_capacity(config.kinds.len());
        // Most frequent first.
        let mut sorted = config.kinds.clone();
        sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (kind, weight) in sorted.into_iter().filter(|k| k.1 > 0.0) {
            let (ty, category) = resolve(kind.type_name())?;
            kinds.push(KindEntry { kind, ty, category });
            kind_weights.push(weight);
        }
        let kind_picker = Picker::new(&kind_weights);
        let mut slot_types = [resolve("text")?; 12];
        for slot in Slot::ALL {
            slot_types[slot.index()] = resolve(slot.type_name())?;
        }

        let offsets = event_offsets(&config);
        let n = config.attributes as f64;
        let object_share = config.object_share;

        // Expected draws per entity class.
        let mut draws = [0.0f64; Class::COUNT];
        for (kind, weight) in &config.kinds {
            for class in kind.classes() {
                draws[class.index()] += n * (1.0 - object_share) * weight / total;
            }
        }
        let mean_object: f64 = Template::ALL
            .iter()
            .zip(Template::WEIGHTS)
            .map(|(t, w)| w * t.expectations().0)
            .sum();
        let objects = n * object_share / mean_object;
        for (t, w) in Template::ALL.iter().zip(Template::WEIGHTS) {
            for (class, k) in t.expectations().1 {
                draws[class.index()] += objects * w * k;
            }
        }

        let sizes: Vec<u64> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
        let reuse = reuse_tables(&config, &draws, &sizes);
        let max_id = reuse
            .iter()
            .map(|r| r.heavy_base + r.heavy_count)
            .max()
            .unwrap_or(0);
        let entity_bits = 64 - max_id.max(1).leading_zeros();
        let cidr = &reuse[Class::Cidr.index()];
        let renderer = Renderer::new(
            config.seed,
            RenderParams {
                entity_bits,
                cidr_shared: (cidr.shared_base, cidr.pool),
                in_network: config.in_network_share,
                ipv6: config.ipv6_share,
                cidr_ipv6: config.cidr_ipv6_share,
                ssdeep_families: (draws[Class::Ssdeep.index()] / 6.0) as u64,
                real: config.real_values.clone(),
            },
        );

        let acl = &config.acl;
        let org_weights: Vec<f64> = (0..acl.orgs).map(|i| 1.0 / f64::from(i + 1)).collect();
        let mut event_weights = acl.event_distribution;
        let mut attribute_weights = acl.attribute_distribution;
        if acl.sharing_groups == 0 {
            event_weights[4] = 0.0;
            attribute_weights[4] = 0.0;
        }
        if event_weights.iter().sum::<f64>() <= 0.0 {
            event_weights[3] = 1.0;
        }
        if attribute_weights.iter().sum::<f64>() <= 0.0 {
            attribute_weights[5] = 1.0;
        }
        const OBJECT_EVENTS: f64 = 0.3;
        Ok(Corpus {
            offsets,
            kinds,
            kind_picker,
            slot_types,
            reuse,
            renderer,
            org_picker: Picker::new(&org_weights),
            event_distribution: Picker::new(&event_weights),
            attribute_distribution: Picker::new(&attribute_weights),
            template_picker: Picker::new(&Template::WEIGHTS),
            object_event: threshold(if object_share > 0.0 {
                OBJECT_EVENTS
            } else {
                0.0
            }),
            object_event_share: (object_share / OBJECT_EVENTS).min(1.0),
            to_ids_flip: threshold(config.to_ids_flip_share),
            disabled_attribute: threshold(acl.disabled_attribute_share),
            disabled_event: threshold(acl.disabled_event_share),
            foreign_creator: threshold(acl.foreign_creator_share),
            variant: threshold(config.raw_variant_share),
            attribute_key: rng::key(config.seed, Domain::Attribute, 0),
            config,
        })
    }

    /// The realistic corpus of `attributes` attributes for `seed`
    /// ([`CorpusConfig::realistic`]).
    ///
    /// # Errors
    ///
    /// Only [`Error::UnknownType`], if `misp-core` lacks a type.
    pub fn realistic(seed: u64, attributes: u64) -> Result<Corpus, Error> {
        Corpus::new(CorpusConfig::realistic(seed, attributes))
    }

    /// The configuration the corpus was built from.
    pub fn config(&self) -> &CorpusConfig {
        &self.config
    }

    /// Number of attributes.
    pub fn attribute_count(&self) -> u64 {
        self.config.attributes
    }

    /// Number of events.
    pub fn event_count(&self) -> u32 {
        self.config.events
    }

    /// Every attribute, in event order.
    pub fn attributes(&self) -> AttributeStream<'_> {
        self.attributes_range(0..self.config.attributes)
    }

    /// The attributes with global indices in `range` (clamped to the
    /// corpus): exactly the corresponding slice of
    /// [`attributes`](Self::attributes), whatever the range.
    pub fn attributes_range(&self, range: Range<u64>) -> AttributeStream<'_> {
        AttributeStream::new(self, range)
    }

    /// `parts` contiguous ranges covering all attributes, split at event
    /// boundaries where possible (for parallel consumers).
    pub fn chunks(&self, parts: usize) -> Vec<Range<u64>> {
        let n = self.config.attributes;
        let parts = (parts.max(1) as u64).min(n.max(1));
        let mut out = Vec::with_capacity(parts as usize);
        let mut start = 0;
        for p in 1..=parts {
            let target = n * p / parts;
            // Snap to the first event boundary at or after the target.
            let i = self.offsets.partition_point(|&o| o < target);
            let end = self.offsets.get(i).copied().unwrap_or(n).clamp(start, n);
            if end > start {
                out.push(start..end);
                start = end;
            }
        }
        if start < n {
            out.push(start..n);
        }
        out
    }

    /// The global attribute indices of event `event` (empty if none).
    pub fn event_attributes(&self, event: u32) -> Range<u64> {
        let e = event as usize;
        match (self.offsets.get(e), self.offsets.get(e + 1)) {
            (Some(&s), Some(&t)) => s..t,
            _ => 0..0,
        }
    }

    /// The event holding attribute `index`, if any.
    pub fn event_of(&self, index: u64) -> Option<u32> {
        if index >= self.config.attributes {
            return None;
        }
        let i = self.offsets.partition_point(|&o| o <= index);
        Some((i - 1) as u32)
    }

    /// Event `event`'s metadata, if it exists.
    pub fn event(&self, event: u32) -> Option<GeneratedEvent> {
        let (
            EventAccess {
                org,
                distribution,
                sharing_group,
                disable_correlation,
            },
            orgc,
            published,
            mut rng,
        ) = self.event_head(event)?;
        let threat_level = 1 + rng.below(4) as u8;
        let analysis = rng.below(3) as u8;
        // Dates spread over two years from 2024-01-01, in event order.
        let day = 19_723 + (u64::from(event) * 730 / u64::from(self.config.events.max(1))) as i64;
        let timestamp = day * 86_400 + rng.below(86_400) as i64;
        let info = event_info(&mut rng, event);
        Some(GeneratedEvent {
            index: event,
            uuid: uuid(self.config.seed, UuidOf::Event, u64::from(event)),
            info,
            date: civil_date(day),
            timestamp,
            org,
            orgc,
            distribution,
            sharing_group,
            published,
            disable_correlation,
            threat_level,
            analysis,
            attributes: self.event_attributes(event),
        })
    }

    /// What access control and correlation need of event `event` (the
    /// fields of [`Corpus::event`] without its strings), if it exists.
    pub fn event_access(&self, event: u32) -> Option<EventAccess> {
        self.event_head(event).map(|(access, ..)| access)
    }

    /// The first draws of event `event`'s stream: its access fields, its
    /// creator organisation and whether it is published, and the stream
    /// where [`Corpus::event`] goes on.
    fn event_head(&self, event: u32) -> Option<(EventAccess, u32, bool, SplitMix64)> {
        if event >= self.config.events {
            return None;
        }
        let mut rng = SplitMix64::stream(self.config.seed, Domain::Event, u64::from(event));
        let org = self.org_picker.pick(rng.next_u64()) as u32;
        let foreign = rng.chance(self.foreign_creator);
        let other = rng.below(u64::from(self.config.acl.orgs)) as u32;
        let orgc = if foreign { other } else { org };
        let distribution = self.event_distribution.pick(rng.next_u64()) as u8;
        let sg_bits = rng.next_u64();
        let sharing_group = (distribution == 4).then(|| self.sharing_group(sg_bits));
        let published = rng.next_u64() % 10 != 0;
        let disable_correlation = rng.chance(self.disabled_event);
        let access = EventAccess {
            org,
            distribution,
            sharing_group,
            disable_correlation,
        };
        Some((access, orgc, published, rng))
    }

    /// Every event's metadata, in order.
    pub fn events(&self) -> impl Iterator<Item = GeneratedEvent> + '_ {
        (0..self.config.events).filter_map(|e| self.event(e))
    }

    /// The objects of event `event`, in document order.
    pub fn objects(&self, event: u32) -> Vec<GeneratedObject> {
        let range = self.event_attributes(event);
        let mut layout = EventLayout::default();
        let mut seen = new_seen();
        let mut scratch = String::new();
        self.layout(event, range, &mut seen, &mut layout, &mut scratch);
        layout
            .objects
            .iter()
            .map(|o| self.object_meta(event, o))
            .collect()
    }

    fn object_meta(&self, event: u32, o: &ObjectLayout) -> GeneratedObject {
        let (template_uuid, template_version) = o.template.template();
        let start = self.event_attributes(event).start;
        GeneratedObject {
            index: o.index,
            uuid: uuid(self.config.seed, UuidOf::Object, start + u64::from(o.start)),
            name: o.template.name(),
            meta_category: o.template.meta_category(),
            template_uuid,
            template_version,
            distribution: o.distribution,
            sharing_group: o.sharing_group,
            positions: o.start..o.start + o.len,
        }
    }

    /// Organisation `org` (`0..acl.orgs`), if it exists.
    pub fn org(&self, org: u32) -> Option<GeneratedOrg> {
        if org >= self.config.acl.orgs {
            return None;
        }
        let mut name = String::new();
        let mut rng = SplitMix64::stream(self.config.seed, Domain::Org, u64::from(org));
        let mut label = String::new();
        render::push_cv_label(&mut label, u64::from(org) + 105 * rng.below(105));
        let mut chars = label.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
        const SUFFIXES: [&str; 8] = [
            "CERT",
            "CSIRT",
            "SOC",
            "Threat Intel",
            "ISAC",
            "Security",
            "Labs",
            "CTI",
        ];
        name.push(' ');
        name.push_str(SUFFIXES[rng.below(SUFFIXES.len() as u64) as usize]);
        Some(GeneratedOrg {
            index: org,
            uuid: uuid(self.config.seed, UuidOf::Org, u64::from(org)),
            name,
        })
    }

    /// The uuid of attribute `index`.
    pub fn attribute_uuid(&self, index: u64) -> String {
        uuid(self.config.seed, UuidOf::Attribute, index)
    }

    fn sharing_group(&self, bits: u64) -> u32 {
        1 + rng::below(bits, u64::from(self.config.acl.sharing_groups.max(1))) as u32
    }

    /// Distribution (0-5) and sharing group of an attribute or object.
    #[inline]
    fn attribute_distribution(&self, dist_bits: u64, sg_bits: u64) -> (u8, Option<u32>) {
        let d = self.attribute_distribution.pick(dist_bits) as u8;
        (d, (d == 4).then(|| self.sharing_group(sg_bits)))
    }

    /// The random stream of attribute `index`: one mix of the corpus key
    /// and the index.
    #[inline]
    fn attribute_rng(&self, index: u64) -> SplitMix64 {
        SplitMix64::new(rng::mix64(self.attribute_key ^ index))
    }

    /// Draws an entity of `class` for a value, avoiding entities already
    /// in the event.
    #[inline]
    fn draw(&self, class: Class, fresh: u64, rng: &mut SplitMix64, seen: &mut Seen) -> u64 {
        let reuse = &self.reuse[class.index()];
        for _ in 0..MAX_REDRAWS {
            let u = rng.next_u64();
            let id = if u < reuse.heavy_threshold {
                reuse.heavy_base + rng.below(reuse.heavy_count)
            } else if u < reuse.shared_threshold {
                reuse.pick_shared(rng)
            } else {
                return fresh;
            };
            if seen.insert(seen_key(class, id)) {
                return id;
            }
        }
        fresh
    }

    /// Computes event `event`'s layout and draws its objects' entities
    /// (into `seen`, which it resets).
    fn layout(
        &self,
        event: u32,
        range: Range<u64>,
        seen: &mut Seen,
        layout: &mut EventLayout,
        scratch: &mut String,
    ) {
        let size = (range.end - range.start) as u32;
        // Clearing a set costs its capacity (every control byte is
        // rewritten): after a large event, small ones start afresh.
        if seen.capacity() > 4 * (size as usize).max(256) {
            *seen = new_seen();
        } else {
            seen.clear();
        }
        layout.objects.clear();
        let mut rng = SplitMix64::stream(self.config.seed, Domain::Layout, u64::from(event));
        let mut budget = 0;
        if size >= 2 && rng.chance(self.object_event) {
            let share = self.object_event_share * (0.5 + rng.unit());
            budget = ((f64::from(size) * share).round() as u32).min(size);
        }
        layout.n_direct = size - budget;
        let mut pos = layout.n_direct;
        while pos < size {
            let template = Template::ALL
                .get(self.template_picker.pick(rng.next_u64()))
                .copied()
                .unwrap_or(Template::File);
            let first = range.start + u64::from(pos);
            let fresh = 2 * first;
            let mut slots = [Slot::Port; 6];
            let mut len = 0usize;
            let mut add = |slot: Slot| {
                if let Some(s) = slots.get_mut(len) {
                    *s = slot;
                    len += 1;
                }
            };
            let optional = rng.next_u64();
            let mut ids = [0u64; 2];
            match template {
                Template::File => {
                    ids[0] = self.draw(Class::File, fresh, &mut rng, seen);
                    for slot in [
                        Slot::FileName,
                        Slot::FileMd5,
                        Slot::FileSha1,
                        Slot::FileSha256,
                        Slot::FileSize,
                    ] {
                        add(slot);
                    }
                    if optional % 10 < 3 {
                        add(Slot::FileSsdeep);
                    }
                }
                Template::DomainIp => {
                    ids[0] = self.draw(Class::Host, fresh, &mut rng, seen);
                    ids[1] = self.draw(Class::Ip, fresh + 1, &mut rng, seen);
                    add(Slot::Host(0));
                    add(Slot::Ip(1));
                    if optional % 10 < 3 {
                        add(Slot::Port);
                    }
                }
                Template::Url => {
                    ids[0] = self.draw(Class::Url, fresh, &mut rng, seen);
                    add(Slot::Url);
                    scratch.clear();
                    self.renderer.url(ids[0], scratch, false);
                    match Renderer::url_host(scratch) {
                        Some((_, _, true)) => add(Slot::UrlIp),
                        Some((_, _, false)) => add(Slot::UrlDomain),
                        None => {}
                    }
                }
                Template::IpPort => {
                    ids[0] = self.draw(Class::Ip, fresh, &mut rng, seen);
                    ids[1] = self.draw(Class::Host, fresh + 1, &mut rng, seen);
                    add(Slot::Ip(0));
                    add(Slot::Port);
                    if optional % 10 < 4 {
                        add(Slot::Host(1));
                    }
                }
            }
            let len = (len as u32).min(size - pos);
            let port_bits = rng.next_u64();
            let (distribution, sharing_group) =
                self.attribute_distribution(rng.next_u64(), rng.next_u64());
            layout.objects.push(ObjectLayout {
                template,
                index: layout.objects.len() as u32,
                start: pos,
                len,
                slots,
                ids,
                port_bits,
                distribution,
                sharing_group,
            });
            pos += len;
        }
    }

    /// Draws (and, with `out`, renders) direct attribute `index` of kind
    /// `kind`.
    #[inline]
    fn direct_value(
        &self,
        kind: ValueKind,
        index: u64,
        rng: &mut SplitMix64,
        seen: &mut Seen,
        out: Option<&mut String>,
        variant: bool,
    ) {
        let fresh = 2 * index;
        let r = &self.renderer;
        let classes = kind.classes();
        let a = classes
            .first()
            .map_or(fresh, |&c| self.draw(c, fresh, rng, seen));
        let b = classes
            .get(1)
            .map_or(fresh + 1, |&c| self.draw(c, fresh + 1, rng, seen));
        let Some(out) = out else { return };
        match kind {
            ValueKind::Url => r.url(a, out, variant),
            ValueKind::Domain | ValueKind::Hostname => r.host(a, out, variant),
            ValueKind::IpDst | ValueKind::IpSrc => {
                r.ip(a, out, variant);
            }
            ValueKind::CidrDst | ValueKind::CidrSrc => {
                r.cidr(a, out, variant);
            }
            ValueKind::Md5 => r.digest(a, 32, out, variant),
            ValueKind::Sha1 => r.digest(a, 40, out, variant),
            ValueKind::Sha256 => r.digest(a, 64, out, variant),
            ValueKind::Ssdeep => r.ssdeep(a, out),
            ValueKind::FilenameMd5 | ValueKind::FilenameSha256 => {
                r.filename(a, out);
                out.push('|');
                r.digest(
                    a,
                    if kind == ValueKind::FilenameMd5 {
                        32
                    } else {
                        64
                    },
                    out,
                    variant,
                );
            }
            ValueKind::DomainIp => {
                r.host(a, out, variant);
                out.push('|');
                r.ip(b, out, variant);
            }
            ValueKind::IpDstPort => {
                let start = out.len();
                let family = r.ip(a, out, false);
                match (variant, family) {
                    (false, _) => out.push('|'),
                    (true, Family::V4) => out.push(':'),
                    (true, Family::V6) => {
                        out.insert(start, '[');
                        out.push_str("]:");
                    }
                }
                r.port(rng.next_u64(), out);
            }
            ValueKind::HostnamePort => {
                r.host(a, out, variant);
                out.push(if variant { ':' } else { '|' });
                r.port(rng.next_u64(), out);
            }
        }
    }

    /// Renders slot `slot` of object `o`.
    fn object_value(
        &self,
        o: &ObjectLayout,
        slot: Slot,
        out: &mut String,
        scratch: &mut String,
        variant: bool,
    ) {
        let r = &self.renderer;
        let id = |i: u8| o.ids.get(usize::from(i)).copied().unwrap_or(0);
        match slot {
            Slot::FileName => r.filename(o.ids[0], out),
            Slot::FileMd5 => r.digest(o.ids[0], 32, out, variant),
            Slot::FileSha1 => r.digest(o.ids[0], 40, out, variant),
            Slot::FileSha256 => r.digest(o.ids[0], 64, out, variant),
            Slot::FileSize => r.file_size(o.ids[0], out),
            Slot::FileSsdeep => r.file_ssdeep(o.ids[0], out),
            Slot::Host(i) => r.host(id(i), out, variant),
            Slot::Ip(i) => {
                r.ip(id(i), out, variant);
            }
            Slot::Port => r.port(o.port_bits, out),
            Slot::Url => r.url(o.ids[0], out, false),
            Slot::UrlDomain | Slot::UrlIp => {
                scratch.clear();
                r.url(o.ids[0], scratch, false);
                if let Some((host, _, _)) = Renderer::url_host(scratch) {
                    out.push_str(host);
                }
            }
        }
    }
}

/// Event boundaries: Lomax weights, every event at least one attribute,
/// the remainder given to the first events.
fn event_offsets(config: &CorpusConfig) -> Vec<u64> {
    let events = config.events as usize;
    let n = config.attributes;
    let mut offsets = Vec::with_capacity(events + 1);
    offsets.push(0);
    if events == 0 {
        return offsets;
    }
    let mut rng = SplitMix64::stream(config.seed, Domain::EventSizes, 0);
    let alpha = config.event_size_tail;
    // Lomax (Pareto II) weights: from about 0 (one-attribute events) to a
    // heavy tail.
    let weights: Vec<f64> = (0..events)
        .map(|_| ((1.0 - rng.unit()).powf(-1.0 / alpha) - 1.0).min(1e12))
        .collect();
    let total: f64 = weights.iter().sum();
    let spare = n - events as u64;
    let mut sizes: Vec<u64> = weights
        .iter()
        .map(|w| 1 + (w / total * spare as f64) as u64)
        .collect();
    let assigned: u64 = sizes.iter().sum();
    let rest = n.saturating_sub(assigned);
    let len = sizes.len() as u64;
    for (i, s) in sizes.iter_mut().enumerate() {
        *s += rest / len + u64::from((i as u64) < rest % len);
    }
    let mut acc = 0;
    for s in sizes {
        acc += s;
        offsets.push(acc);
    }
    if let Some(last) = offsets.last_mut() {
        *last = n;
    }
    offsets
}

/// The probability `q` that a draw picks one given heavy hitter, such that
/// the hitter is expected in `target` distinct events: events of `size`
/// attributes make `size * per_attribute` draws of the class, and a hitter
/// is in an event if one of them picks it, so the expectation is
/// `Σ 1 - (1 - q)^(size * per_attribute)`. Solved by bisection; capped at
/// `cap` when the target is out of reach.
fn heavy_draw_probability(sizes: &[u64], per_attribute: f64, target: u32, cap: f64) -> f64 {
    let expected_events = |q: f64| -> f64 {
        let log = (1.0 - q).ln();
        sizes
            .iter()
            .map(|&s| 1.0 - (s as f64 * per_attribute * log).exp())
            .sum()
    };
    let target = f64::from(target);
    if expected_events(cap) <= target {
        return cap;
    }
    let (mut lo, mut hi) = (0.0, cap);
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if expected_events(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The reuse tables of every class, from the expected draws per class.
fn reuse_tables(
    config: &CorpusConfig,
    draws: &[f64; Class::COUNT],
    sizes: &[u64],
) -> [ClassReuse; Class::COUNT] {
    let r = &config.reuse;
    let fresh_end = 2 * config.attributes + 2;
    let ks: Vec<u32> = (2..=r.max_events).collect();
    let p: Vec<f64> = ks
        .iter()
        .map(|&k| f64::from(k).powf(-r.tail_exponent))
        .collect();
    let p_total: f64 = p.iter().sum();
    let mean_k: f64 = ks
        .iter()
        .zip(&p)
        .map(|(&k, p)| f64::from(k) * p / p_total)
        .sum();
    const HEAVY_CLASSES: [Class; 4] = [Class::Host, Class::Ip, Class::File, Class::Url];
    let mut out: [ClassReuse; Class::COUNT] = Default::default();
    for class in Class::ALL {
        let d = draws[class.index()];
        let share = if class == Class::Cidr {
            r.cidr_shared_share
        } else {
            r.shared_share
        };
        let values = share * d / mean_k;
        let mut table = ClassReuse {
            shared_base: fresh_end,
            ..ClassReuse::default()
        };
        let mut cumulative = 0u64;
        let mut offset = 0u64;
        for (&k, pk) in ks.iter().zip(&p) {
            let n_k = (values * pk / p_total).round() as u64;
            if n_k == 0 {
                continue;
            }
            cumulative += u64::from(k) * n_k;
            table.group_cumulative.push(cumulative);
            table.group_offset.push(offset);
            table.group_size.push(n_k);
            offset += n_k;
        }
        table.pool = offset;
        table.heavy_base = fresh_end + offset;
        let heavy = (0..r.heavy_hitters)
            .filter(|h| HEAVY_CLASSES[*h as usize % 4] == class)
            .count() as u64;
        table.heavy_count = heavy;
        let heavy_p = if heavy > 0 && d >= 1.0 {
            let per_attribute = d / (config.attributes.max(1) as f64);
            heavy as f64
                * heavy_draw_probability(sizes, per_attribute, r.heavy_events, 0.3 / heavy as f64)
        } else {
            0.0
        };
        let shared_p = if offset > 0 { share } else { 0.0 };
        table.heavy_threshold = threshold(heavy_p);
        table.shared_threshold = threshold((heavy_p + shared_p).min(1.0));
        out[class.index()] = table;
    }
    out
}

/// What a uuid identifies (separates the uuid streams).
#[derive(Clone, Copy)]
pub(crate) enum UuidOf {
    Event = 1,
    Object = 2,
    Attribute = 3,
    Org = 4,
    SharingGroup = 5,
}

/// A deterministic uuid: 122 bits of the `(seed, what, index)` stream
/// laid out as a version-4 uuid.
pub(crate) fn uuid(seed: u64, of: UuidOf, index: u64) -> String {
    let mut s = String::with_capacity(36);
    push_uuid(&mut s, seed, of, index);
    s
}

/// Appends the uuid of [`uuid`] to `out`.
pub(crate) fn push_uuid(out: &mut String, seed: u64, of: UuidOf, index: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rng = SplitMix64::stream(seed, Domain::Uuid, ((of as u64) << 56) ^ index);
    let hi = (rng.next_u64() & !0xF000) | 0x4000;
    let lo = (rng.next_u64() & !(0b11 << 62)) | (0b10 << 62);
    let bytes = (u128::from(hi) << 64 | u128::from(lo)).to_be_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (Hinnant's algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// A plausible event title.
fn event_info(rng: &mut SplitMix64, event: u32) -> String {
    const WHAT: [&str; 10] = [
        "Phishing campaign",
        "Malware distribution",
        "C2 infrastructure",
        "Ransomware operation",
        "Credential harvesting",
        "Botnet activity",
        "Exploit kit",
        "Infostealer",
        "Scam network",
        "Cryptominer",
    ];
    const TARGET: [&str; 10] = [
        "banking customers",
        "government sector",
        "healthcare",
        "energy sector",
        "e-commerce",
        "telecom",
        "education",
        "logistics",
        "cloud accounts",
        "retail",
    ];
    let what = WHAT[rng.below(WHAT.len() as u64) as usize];
    let target = TARGET[rng.below(TARGET.len() as u64) as usize];
    format!("{what} targeting {target} (#{event})")
}

// ===== the stream ===========================================================

/// A stream of generated attributes; see [`Corpus::attributes_range`].
///
/// [`next_attribute`](Self::next_attribute) lends each attribute from a
/// reused buffer (no allocation per attribute); the [`Iterator`]
/// implementation clones it.
pub struct AttributeStream<'c> {
    corpus: &'c Corpus,
    next: u64,
    end: u64,
    event: u32,
    event_start: u64,
    event_end: u64,
    layout: EventLayout,
    object_cursor: usize,
    seen: Seen,
    current: GeneratedAttribute,
    scratch: String,
}

impl std::fmt::Debug for AttributeStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttributeStream")
            .field("next", &self.next)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl<'c> AttributeStream<'c> {
    fn new(corpus: &'c Corpus, range: Range<u64>) -> AttributeStream<'c> {
        let n = corpus.config.attributes;
        let end = range.end.min(n);
        let start = range.start.min(end);
        let (ty, category) = corpus.slot_types[0];
        let mut stream = AttributeStream {
            corpus,
            next: start,
            end,
            event: 0,
            event_start: 0,
            event_end: 0,
            layout: EventLayout::default(),
            object_cursor: 0,
            seen: new_seen(),
            current: GeneratedAttribute {
                index: 0,
                event: 0,
                object: None,
                object_relation: None,
                position: 0,
                ty,
                category,
                value: String::with_capacity(256),
                to_ids: false,
                distribution: 5,
                sharing_group: None,
                disable_correlation: false,
            },
            scratch: String::with_capacity(256),
        };
        if start < end {
            if let Some(event) = corpus.event_of(start) {
                stream.enter_event(event);
                // Replay the draws of the event's direct attributes before
                // `start`, so that the dedup state is the sequential one.
                let direct_end = stream.event_start + u64::from(stream.layout.n_direct);
                for index in stream.event_start..start.min(direct_end) {
                    let mut rng = corpus.attribute_rng(index);
                    let head = AttributeHead::draw(corpus, &mut rng);
                    let kind = corpus
                        .kinds
                        .get(head.kind)
                        .map_or(ValueKind::Url, |k| k.kind);
                    corpus.direct_value(kind, index, &mut rng, &mut stream.seen, None, false);
                }
            }
        }
        stream
    }

    fn enter_event(&mut self, event: u32) {
        let range = self.corpus.event_attributes(event);
        self.event = event;
        self.event_start = range.start;
        self.event_end = range.end;
        self.object_cursor = 0;
        self.corpus.layout(
            event,
            range,
            &mut self.seen,
            &mut self.layout,
            &mut self.scratch,
        );
    }

    /// The number of attributes left.
    pub fn remaining(&self) -> u64 {
        self.end - self.next
    }

    /// The next attribute, lent from the stream's buffer.
    pub fn next_attribute(&mut self) -> Option<&GeneratedAttribute> {
        self.advance().then_some(&self.current)
    }

    /// The next attribute and the layout of its object, if in one.
    pub(crate) fn next_with_object(
        &mut self,
    ) -> Option<(&GeneratedAttribute, Option<&ObjectLayout>)> {
        if !self.advance() {
            return None;
        }
        let object = self
            .current
            .object
            .and_then(|o| self.layout.objects.get(o as usize));
        Some((&self.current, object))
    }

    /// Generates the next attribute into `self.current`; false at the end.
    fn advance(&mut self) -> bool {
        if self.next >= self.end {
            return false;
        }
        while self.next >= self.event_end {
            self.enter_event(self.event + 1);
        }
        let index = self.next;
        self.next += 1;
        let corpus = self.corpus;
        let position = (index - self.event_start) as u32;
        let mut rng = corpus.attribute_rng(index);
        let head = AttributeHead::draw(corpus, &mut rng);
        let a = &mut self.current;
        let mut value = std::mem::take(&mut a.value);
        value.clear();
        a.index = index;
        a.event = self.event;
        a.position = position;
        (a.distribution, a.sharing_group) =
            corpus.attribute_distribution(head.distribution_bits, head.sharing_group_bits);
        a.disable_correlation = head.disable_correlation;
        if position < self.layout.n_direct {
            let entry = corpus.kinds.get(head.kind);
            let kind = entry.map_or(ValueKind::Url, |k| k.kind);
            if let Some(k) = entry {
                a.ty = k.ty;
                a.category = k.category;
            }
            a.object = None;
            a.object_relation = None;
            corpus.direct_value(
                kind,
                index,
                &mut rng,
                &mut self.seen,
                Some(&mut value),
                head.variant,
            );
        } else {
            let objects = &self.layout.objects;
            while objects
                .get(self.object_cursor + 1)
                .is_some_and(|o| o.start <= position)
            {
                self.object_cursor += 1;
            }
            if let Some(o) = objects.get(self.object_cursor) {
                let slot = o
                    .slots
                    .get((position - o.start) as usize)
                    .copied()
                    .unwrap_or(Slot::Port);
                (a.ty, a.category) = corpus.slot_types[slot.index()];
                a.object = Some(o.index);
                a.object_relation = Some(slot.relation(o.template));
                // As MISP's file template does for sizes.
                if slot == Slot::FileSize {
                    a.disable_correlation = true;
                }
                corpus.object_value(o, slot, &mut value, &mut self.scratch, head.variant);
            }
        }
        a.to_ids = a.ty.default_to_ids() ^ head.flip_to_ids;
        // Every rendering is ASCII or a copy of a `str`: always valid.
        a.value = value;
        true
    }
}

impl Iterator for AttributeStream<'_> {
    type Item = GeneratedAttribute;

    fn next(&mut self) -> Option<GeneratedAttribute> {
        self.next_attribute().cloned()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining()).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

/// The fixed-length head of an attribute's random stream: drawn before
/// any value, so flags never depend on how many draws a value takes.
struct AttributeHead {
    kind: usize,
    flip_to_ids: bool,
    distribution_bits: u64,
    sharing_group_bits: u64,
    disable_correlation: bool,
    variant: bool,
}

impl AttributeHead {
    /// Two random words: the kind (top 32 bits of the first) and the
    /// distribution (its low 32 bits), then three 16-bit chances and the
    /// sharing group from the second.
    #[inline]
    fn draw(corpus: &Corpus, rng: &mut SplitMix64) -> AttributeHead {
        const HIGH32: u64 = 0xFFFF_FFFF_0000_0000;
        let x = rng.next_u64();
        let y = rng.next_u64();
        let k = x & HIGH32;
        let kind = corpus.kind_picker.pick(k);
        let chance16 = |shift: u32, t: u64| ((y >> shift) & 0xFFFF) << 48 < t;
        AttributeHead {
            kind,
            flip_to_ids: chance16(0, corpus.to_ids_flip),
            distribution_bits: x << 32,
            sharing_group_bits: (y >> 48) << 48,
            disable_correlation: chance16(16, corpus.disabled_attribute),
            variant: chance16(32, corpus.variant),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(19_723 + 59), "2024-02-29");
        assert_eq!(civil_date(20_454), "2026-01-01");
    }

    #[test]
    fn uuids_are_well_formed_and_distinct() {
        let a = uuid(1, UuidOf::Event, 0);
        let b = uuid(1, UuidOf::Attribute, 0);
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }

    #[test]
    fn event_offsets_cover_all_attributes() {
        for (n, e) in [(1u64, 1u32), (10, 10), (1000, 7), (100_000, 500)] {
            let mut c = CorpusConfig::realistic(3, n);
            c.events = e;
            let o = event_offsets(&c);
            assert_eq!(o.len(), e as usize + 1);
            assert_eq!(o[0], 0);
            assert_eq!(*o.last().unwrap(), n);
            assert!(o.windows(2).all(|w| w[1] > w[0]), "every event non-empty");
        }
    }

    #[test]
    fn every_type_name_resolves() {
        for kind in ValueKind::ALL {
            assert!(resolve(kind.type_name()).is_ok(), "{kind:?}");
        }
        for slot in Slot::ALL {
            assert!(resolve(slot.type_name()).is_ok(), "{slot:?}");
        }
    }

    #[test]
    fn bad_configs_name_the_field() {
        let mut c = CorpusConfig::realistic(1, 100);
        c.events = 101;
        let err = Corpus::new(c).unwrap_err().to_string();
        assert!(err.contains("events"), "{err}");
        let mut c = CorpusConfig::realistic(1, 100);
        c.reuse.shared_share = 1.5;
        let err = Corpus::new(c).unwrap_err().to_string();
        assert!(err.contains("reuse.shared_share"), "{err}");
        let mut c = CorpusConfig::realistic(1, 100);
        c.kinds = vec![(ValueKind::Url, 0.0)];
        assert!(Corpus::new(c).unwrap_err().to_string().contains("kinds"));
    }

    #[test]
    fn empty_corpus_is_fine() {
        let c = Corpus::realistic(1, 0).unwrap();
        assert_eq!(c.event_count(), 0);
        assert_eq!(c.attributes().count(), 0);
        assert!(c.chunks(4).is_empty());
    }
}
