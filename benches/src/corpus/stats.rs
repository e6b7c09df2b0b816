//! Measuring what a corpus contains: type mix, how many events each
//! correlation key appears in, CIDR containment, and the values
//! [`misp_core::normalize`] rejects.
//!
//! Keys follow the correlation contract (§3-§4): value1, and value2 when
//! the type's value2 correlates, of correlating types, normalised, with
//! trailing spaces removed and lower-cased. `disable_correlation` is
//! ignored here: the statistics describe the values, not the eligibility.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::IpAddr;

use misp_core::normalize;

use super::Corpus;

/// A value `normalize` rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedValue {
    /// Global attribute index.
    pub index: u64,
    /// The type name.
    pub type_name: &'static str,
    /// The raw value.
    pub value: String,
    /// MISP's reason.
    pub reason: String,
}

/// Event sizes: smallest, median, p90, p99, largest and mean.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EventSizeSummary {
    /// Smallest event.
    pub min: u64,
    /// Median event.
    pub median: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest event.
    pub max: u64,
    /// Mean size.
    pub mean: f64,
}

/// What a corpus contains; see [`CorpusStats::measure`].
#[derive(Clone, Debug, Default)]
pub struct CorpusStats {
    /// Attributes.
    pub attributes: u64,
    /// Events.
    pub events: u64,
    /// Attributes inside objects.
    pub object_attributes: u64,
    /// Attributes per type name.
    pub types: BTreeMap<&'static str, u64>,
    /// Attributes per distribution 0-5.
    pub distributions: [u64; 6],
    /// Attributes with `disable_correlation`.
    pub disabled_correlation: u64,
    /// Values `normalize` rejected.
    pub rejected: u64,
    /// The first 100 rejected values.
    pub rejected_examples: Vec<RejectedValue>,
    /// Distinct correlation keys.
    pub distinct_keys: u64,
    /// Key occurrences (an attribute has one or two keys).
    pub key_occurrences: u64,
    /// Histogram: number of events a key appears in → number of keys.
    pub events_per_key: BTreeMap<u32, u64>,
    /// Occurrences of keys that appear in two events or more.
    pub occurrences_on_reused_keys: u64,
    /// The 10 keys in the most events, with their event counts.
    pub top_keys: Vec<(String, u32)>,
    /// `ip-src`/`ip-dst` attributes holding a network.
    pub cidr_attributes: u64,
    /// Distinct network keys.
    pub cidr_keys: u64,
    /// Distinct network keys that contain at least one generated IP.
    pub cidr_keys_containing_ips: u64,
    /// Distinct IP keys.
    pub ip_keys: u64,
    /// Distinct IP keys inside at least one generated network.
    pub ip_keys_in_cidrs: u64,
    /// Event sizes.
    pub event_sizes: EventSizeSummary,
}

#[derive(Clone, Copy)]
struct KeyStat {
    last_event: u32,
    events: u32,
    occurrences: u64,
}

/// A network as (IPv6?, masked address, prefix length).
type Net = (bool, u128, u8);

fn mask(addr: u128, len: u8, v6: bool) -> u128 {
    let width = if v6 { 128 } else { 32 };
    let len = u32::from(len).min(width);
    if len == 0 {
        0
    } else {
        let keep = u128::MAX << (128 - len);
        if v6 { addr & keep } else { addr & (keep >> 96) }
    }
}

fn parse_ip(s: &str) -> Option<(bool, u128)> {
    match s.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) => Some((false, u128::from(u32::from(a)))),
        IpAddr::V6(a) => Some((true, u128::from(a))),
    }
}

fn parse_net(s: &str) -> Option<Net> {
    let (addr, len) = s.split_once('/')?;
    let (v6, bits) = parse_ip(addr)?;
    let len: u8 = len.parse().ok()?;
    if len > if v6 { 128 } else { 32 } {
        return None;
    }
    Some((v6, mask(bits, len, v6), len))
}

impl CorpusStats {
    /// Streams the whole corpus once and measures it. Memory grows with the
    /// number of distinct keys (a few million are fine).
    pub fn measure(corpus: &Corpus) -> CorpusStats {
        let mut stats = CorpusStats {
            events: u64::from(corpus.event_count()),
            ..CorpusStats::default()
        };
        let mut keys: HashMap<String, KeyStat, ahash::RandomState> = HashMap::default();
        let mut networks: HashSet<Net, ahash::RandomState> = HashSet::default();
        let mut ips: HashSet<(bool, u128), ahash::RandomState> = HashSet::default();
        let mut stream = corpus.attributes();
        let mut key = String::new();
        while let Some(a) = stream.next_attribute() {
            stats.attributes += 1;
            *stats.types.entry(a.ty.name()).or_default() += 1;
            if a.object.is_some() {
                stats.object_attributes += 1;
            }
            if let Some(d) = stats.distributions.get_mut(usize::from(a.distribution)) {
                *d += 1;
            }
            stats.disabled_correlation += u64::from(a.disable_correlation);
            let normalized = match normalize(a.ty, &a.value) {
                Ok(v) => v,
                Err(rejection) => {
                    stats.rejected += 1;
                    if stats.rejected_examples.len() < 100 {
                        stats.rejected_examples.push(RejectedValue {
                            index: a.index,
                            type_name: a.ty.name(),
                            value: a.value.clone(),
                            reason: rejection.reason().to_owned(),
                        });
                    }
                    continue;
                }
            };
            let name = a.ty.name();
            let value1 = normalized.value1();
            if is_ip_type(name) {
                if value1.contains('/') {
                    stats.cidr_attributes += 1;
                    if let Some(net) = parse_net(value1) {
                        networks.insert(net);
                    }
                } else if let Some(ip) = parse_ip(value1) {
                    ips.insert(ip);
                }
            } else if name == "domain|ip" {
                if let Some(ip) = normalized.value2().and_then(parse_ip) {
                    ips.insert(ip);
                }
            }
            if !a.ty.correlates() {
                continue;
            }
            let mut first_key = None;
            for (i, part) in [
                Some(value1),
                normalized.value2().filter(|_| a.ty.value2_correlates()),
            ]
            .into_iter()
            .enumerate()
            {
                let Some(part) = part.filter(|p| !p.is_empty()) else {
                    continue;
                };
                key.clear();
                key.push_str(&part.trim_end_matches(' ').to_lowercase());
                if i == 1 && first_key.as_deref() == Some(key.as_str()) {
                    continue;
                }
                stats.key_occurrences += 1;
                match keys.get_mut(key.as_str()) {
                    Some(k) => {
                        k.occurrences += 1;
                        if k.last_event != a.event {
                            k.last_event = a.event;
                            k.events += 1;
                        }
                    }
                    None => {
                        keys.insert(
                            key.clone(),
                            KeyStat {
                                last_event: a.event,
                                events: 1,
                                occurrences: 1,
                            },
                        );
                    }
                }
                if i == 0 {
                    first_key = Some(key.clone());
                }
            }
        }
        stats.distinct_keys = keys.len() as u64;
        let mut top: Vec<(&String, u32)> = Vec::new();
        for (k, s) in &keys {
            *stats.events_per_key.entry(s.events).or_default() += 1;
            if s.events >= 2 {
                stats.occurrences_on_reused_keys += s.occurrences;
            }
            top.push((k, s.events));
        }
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        stats.top_keys = top
            .into_iter()
            .take(10)
            .map(|(k, n)| (k.clone(), n))
            .collect();

        // CIDR containment, by the prefix lengths present.
        stats.cidr_keys = networks.len() as u64;
        stats.ip_keys = ips.len() as u64;
        let lengths: HashSet<(bool, u8)> = networks.iter().map(|n| (n.0, n.2)).collect();
        let mut containing: HashSet<Net, ahash::RandomState> = HashSet::default();
        for &(v6, addr) in &ips {
            let mut inside = false;
            for &(family, len) in &lengths {
                if family != v6 {
                    continue;
                }
                let net = (v6, mask(addr, len, v6), len);
                if networks.contains(&net) {
                    containing.insert(net);
                    inside = true;
                }
            }
            stats.ip_keys_in_cidrs += u64::from(inside);
        }
        stats.cidr_keys_containing_ips = containing.len() as u64;

        let mut sizes: Vec<u64> = (0..corpus.event_count())
            .map(|e| {
                let r = corpus.event_attributes(e);
                r.end - r.start
            })
            .collect();
        sizes.sort_unstable();
        if !sizes.is_empty() {
            let at = |q: f64| sizes[((sizes.len() - 1) as f64 * q).round() as usize];
            stats.event_sizes = EventSizeSummary {
                min: at(0.0),
                median: at(0.5),
                p90: at(0.9),
                p99: at(0.99),
                max: at(1.0),
                mean: stats.attributes as f64 / sizes.len() as f64,
            };
        }
        stats
    }

    /// Distinct keys appearing in `lo..=hi` events.
    pub fn keys_in_events(&self, lo: u32, hi: u32) -> u64 {
        self.events_per_key.range(lo..=hi).map(|(_, n)| n).sum()
    }

    /// Share of the attributes with type `name`.
    pub fn type_share(&self, name: &str) -> f64 {
        self.types.get(name).copied().unwrap_or(0) as f64 / self.attributes.max(1) as f64
    }
}

/// Types whose value1 is an IP address or network.
fn is_ip_type(name: &str) -> bool {
    matches!(name, "ip-src" | "ip-dst" | "ip-src|port" | "ip-dst|port")
}

impl fmt::Display for CorpusStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.attributes.max(1) as f64;
        writeln!(
            f,
            "attributes {} in {} events ({} in objects, {:.1} %)",
            self.attributes,
            self.events,
            self.object_attributes,
            100.0 * self.object_attributes as f64 / n
        )?;
        let s = &self.event_sizes;
        writeln!(
            f,
            "event sizes: min {} median {} p90 {} p99 {} max {} mean {:.1}",
            s.min, s.median, s.p90, s.p99, s.max, s.mean
        )?;
        let mut types: Vec<_> = self.types.iter().collect();
        types.sort_by(|a, b| b.1.cmp(a.1));
        writeln!(f, "types:")?;
        for (t, c) in types {
            writeln!(f, "  {t:<16} {c:>10} {:>6.2} %", 100.0 * *c as f64 / n)?;
        }
        writeln!(
            f,
            "distributions 0-5: {:?}; correlation disabled: {}",
            self.distributions, self.disabled_correlation
        )?;
        writeln!(f, "rejected by normalize: {}", self.rejected)?;
        for r in self.rejected_examples.iter().take(5) {
            writeln!(
                f,
                "  #{} {} {:?}: {}",
                r.index, r.type_name, r.value, r.reason
            )?;
        }
        writeln!(
            f,
            "keys: {} distinct, {} occurrences, {:.1} % of occurrences on keys in >= 2 events",
            self.distinct_keys,
            self.key_occurrences,
            100.0 * self.occurrences_on_reused_keys as f64 / self.key_occurrences.max(1) as f64
        )?;
        writeln!(f, "events per key:")?;
        let buckets: [(u32, u32); 12] = [
            (1, 1),
            (2, 2),
            (3, 3),
            (4, 4),
            (5, 5),
            (6, 10),
            (11, 20),
            (21, 50),
            (51, 100),
            (101, 500),
            (501, 1000),
            (1001, u32::MAX),
        ];
        for (lo, hi) in buckets {
            let c = self.keys_in_events(lo, hi);
            if c > 0 {
                let label = if lo == hi {
                    lo.to_string()
                } else if hi == u32::MAX {
                    format!("{lo}+")
                } else {
                    format!("{lo}-{hi}")
                };
                writeln!(
                    f,
                    "  {label:>9} events: {c:>10} keys ({:.3} %)",
                    100.0 * c as f64 / self.distinct_keys.max(1) as f64
                )?;
            }
        }
        writeln!(f, "top keys:")?;
        for (k, e) in &self.top_keys {
            writeln!(f, "  {e:>6} events  {k}")?;
        }
        writeln!(
            f,
            "networks: {} attributes, {} distinct, {} contain generated IPs; IPs: {} distinct, {} inside a network",
            self.cidr_attributes,
            self.cidr_keys,
            self.cidr_keys_containing_ips,
            self.ip_keys,
            self.ip_keys_in_cidrs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_masks() {
        assert_eq!(
            parse_net("10.1.2.3/8"),
            Some((false, u128::from(0x0A00_0000u32), 8))
        );
        assert_eq!(parse_net("1.2.3.4/33"), None);
        let (v6, addr) = parse_ip("2a01:1:2::5").unwrap();
        assert!(v6);
        assert_eq!(
            parse_net("2a01:1:2::/48"),
            Some((true, mask(addr, 48, true), 48))
        );
        assert_eq!(mask(u128::from(0xFFFF_FFFFu32), 0, false), 0);
    }
}
