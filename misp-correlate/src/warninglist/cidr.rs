//! CIDR entries, CIDR values and the interval index.
//!
//! # Entries
//!
//! MISP (`CidrTool`) keeps IPv4 entries as the *text* `addr/prefix` and looks
//! values up by formatting `network/prefix`, so an IPv4 entry matches only
//! when written canonically: no host bits, no leading zeros, no spaces.
//! IPv6 entries are compared as masked bytes, so host bits are fine. A bare
//! address is `/32` or `/128`. Entries that can never match are reported.
//!
//! # Index
//!
//! The matcher needs, for an address, every list with an entry containing
//! it, and for each such list its shortest-prefix entry. Within one list a
//! nested entry is never reported (the entry around it has a shorter
//! prefix), so each list is first reduced to its outermost entries, which
//! are disjoint. The outermost entries of all lists then cut the address
//! space into elementary intervals; each interval stores the entries (at
//! most one per list) that cover it. A look-up is a binary search for the
//! interval, narrowed by a 65,536-slot directory on the top 16 address bits,
//! then a walk over a handful of entries.

use std::fmt::Debug;
use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::ListId;

/// An unsigned integer holding an address of one family.
pub(crate) trait Bits: Copy + Ord + Eq + Default + Debug + Send + Sync + 'static {
    /// Address width in bits.
    const WIDTH: u8;
    /// The network mask of `prefix` (`prefix <= WIDTH`).
    fn mask(prefix: u8) -> Self;
    /// The last address of `net/prefix`.
    fn last_in(net: Self, prefix: u8) -> Self;
    /// `self + 1`, unless `self` is the last address.
    fn succ(self) -> Option<Self>;
    /// The top 16 bits.
    fn top16(self) -> usize;
    /// `self & other`.
    fn and(self, other: Self) -> Self;
    /// `net/prefix` as an [`IpNet`].
    fn to_net(self, prefix: u8) -> Option<IpNet>;
}

impl Bits for u32 {
    const WIDTH: u8 = 32;
    fn mask(prefix: u8) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(prefix.min(32)))
            .unwrap_or(0)
    }
    fn last_in(net: u32, prefix: u8) -> u32 {
        net | !Self::mask(prefix)
    }
    fn succ(self) -> Option<u32> {
        self.checked_add(1)
    }
    fn top16(self) -> usize {
        (self >> 16) as usize
    }
    fn and(self, other: u32) -> u32 {
        self & other
    }
    fn to_net(self, prefix: u8) -> Option<IpNet> {
        Ipv4Net::new(Ipv4Addr::from(self), prefix)
            .ok()
            .map(IpNet::V4)
    }
}

impl Bits for u128 {
    const WIDTH: u8 = 128;
    fn mask(prefix: u8) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(prefix.min(128)))
            .unwrap_or(0)
    }
    fn last_in(net: u128, prefix: u8) -> u128 {
        net | !Self::mask(prefix)
    }
    fn succ(self) -> Option<u128> {
        self.checked_add(1)
    }
    fn top16(self) -> usize {
        (self >> 112) as usize
    }
    fn and(self, other: u128) -> u128 {
        self & other
    }
    fn to_net(self, prefix: u8) -> Option<IpNet> {
        Ipv6Net::new(Ipv6Addr::from(self), prefix)
            .ok()
            .map(IpNet::V6)
    }
}

/// A parsed CIDR entry, masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Network {
    V4 { net: u32, prefix: u8 },
    V6 { net: u128, prefix: u8 },
}

/// Parses a CIDR list entry with MISP's rules; the error says why the entry
/// can never match.
pub(crate) fn parse_entry(entry: &str) -> Result<Network, &'static str> {
    let (address, prefix) = match entry.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (entry, None),
    };
    if let Ok(v4) = address.parse::<Ipv4Addr>() {
        let prefix = match prefix {
            None => 32,
            Some(text) => {
                let prefix =
                    parse_prefix(text, 32).ok_or("prefix length is not a number from 0 to 32")?;
                if text.len() > 1 && text.starts_with('0') {
                    return Err(
                        "IPv4 prefix length has leading zeros (MISP compares IPv4 entries as text)",
                    );
                }
                prefix
            }
        };
        let net = u32::from(v4);
        if net & !u32::mask(prefix) != 0 {
            return Err("IPv4 entry has host bits set (MISP compares IPv4 entries as text)");
        }
        return Ok(Network::V4 { net, prefix });
    }
    if let Ok(v6) = address.parse::<Ipv6Addr>() {
        let prefix = match prefix {
            None => 128,
            Some(text) => {
                parse_prefix(text, 128).ok_or("prefix length is not a number from 0 to 128")?
            }
        };
        return Ok(Network::V6 {
            net: u128::from(v6) & u128::mask(prefix),
            prefix,
        });
    }
    Err("not an IPv4 or IPv6 address (leading zeros, spaces and zone ids are not accepted)")
}

/// A prefix length: ASCII digits only, at most `max`.
pub(crate) fn parse_prefix(text: &str, max: u8) -> Option<u8> {
    if text.is_empty() || text.len() > 3 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u8>().ok().filter(|&p| p <= max)
}

/// The address of a value part, by family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Address {
    V4(u32),
    V6(u128),
}

/// Splits a value part on `/` (address, optional mask, further fields
/// ignored) and parses the address as PHP's `FILTER_VALIDATE_IP` does:
/// dotted-quad IPv4 without leading zeros, IPv6 without zone or brackets.
pub(crate) fn parse_value(part: &str) -> Option<(Address, Option<&str>)> {
    let bytes = part.as_bytes();
    // An IPv4 address is read first, up to where it ends: the part is one
    // when it ends there or a `/` follows (no search for the `/` first).
    // A part whose address field is an IPv4 address always reads so.
    if let Some((v4, rest)) = ipv4_prefix(bytes) {
        match rest {
            [] => return Some((Address::V4(v4), None)),
            [b'/', ..] => {
                return Some((Address::V4(v4), mask_after(part, bytes.len() - rest.len())));
            }
            _ => {}
        }
    }
    let (address, mask) = match super::host::find_byte(bytes, b'/') {
        Some(slash) => (part.get(..slash).unwrap_or(""), mask_after(part, slash)),
        None => (part, None),
    };
    // Cheap pre-check: every IPv6 address contains ':'.
    if !address.bytes().any(|b| b == b':') {
        return None;
    }
    address
        .parse::<Ipv6Addr>()
        .ok()
        .map(|v6| (Address::V6(u128::from(v6)), mask))
}

/// The mask field of `part` whose first `/` is at `slash`: up to the next
/// `/` or the end.
#[inline]
fn mask_after(part: &str, slash: usize) -> Option<&str> {
    let rest = part.get(slash + 1..).unwrap_or("");
    let end = super::host::find_byte(rest.as_bytes(), b'/').unwrap_or(rest.len());
    rest.get(..end)
}

/// A dotted-quad IPv4 address as `Ipv4Addr`'s parser reads it (four
/// decimal fields of one to three digits, at most 255, no leading zero),
/// in one pass without its set-up. Each field is matched as a slice
/// pattern of up to three digits: no index is tested per byte.
#[cfg(test)]
fn parse_ipv4(bytes: &[u8]) -> Option<u32> {
    ipv4_prefix(bytes).and_then(|(address, rest)| rest.is_empty().then_some(address))
}

/// A dotted-quad IPv4 address at the start of `bytes` (read as
/// `Ipv4Addr`'s parser reads a whole one), and the bytes after it.
#[inline]
fn ipv4_prefix(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let mut rest = bytes;
    let mut address = 0u32;
    for field in 0..4 {
        if field > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let digit = |b: &u8| b.wrapping_sub(b'0');
        // A fourth digit is left in `rest`, where the next dot (or, after
        // the last field, the end or a `/`) is expected: it fails there.
        let (value, used) = match rest {
            [a, b, c, ..] if digit(a) < 10 && digit(b) < 10 && digit(c) < 10 => {
                if digit(a) == 0 {
                    return None;
                }
                let value = u32::from(digit(a)) * 100 + u32::from(digit(b)) * 10;
                (value + u32::from(digit(c)), 3)
            }
            [a, b, ..] if digit(a) < 10 && digit(b) < 10 => {
                if digit(a) == 0 {
                    return None;
                }
                (u32::from(digit(a)) * 10 + u32::from(digit(b)), 2)
            }
            [a, ..] if digit(a) < 10 => (u32::from(digit(a)), 1),
            _ => return None,
        };
        if value > 255 {
            return None;
        }
        rest = rest.get(used..)?;
        address = address << 8 | value;
    }
    Some((address, rest))
}

/// PHP 8's numeric-string test and value: optional surrounding whitespace,
/// optional sign, decimal digits with an optional fraction and exponent.
pub(crate) fn php_numeric(text: &str) -> Option<f64> {
    let trimmed = text.trim_matches([' ', '\t', '\n', '\r', '\u{b}', '\u{c}']);
    let bytes = trimmed.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits_from = i;
    while bytes.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let mut digits = i - digits_from;
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        let fraction_from = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        digits += i - fraction_from;
    }
    if digits == 0 {
        return None;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exponent_from = j;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j > exponent_from {
            i = j;
        }
    }
    if i != bytes.len() {
        return None;
    }
    trimmed.parse::<f64>().ok()
}

/// One outermost entry of one list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Net<A> {
    pub(crate) net: A,
    pub(crate) prefix: u8,
    pub(crate) list: ListId,
}

impl<A: Bits> Net<A> {
    pub(crate) fn to_ipnet(self) -> Option<IpNet> {
        self.net.to_net(self.prefix)
    }
}

/// The interval index of one address family.
#[derive(Debug, Default)]
pub(crate) struct CidrIndex<A> {
    nets: Vec<Net<A>>,
    /// Sorted starts of the elementary intervals; `starts[0] == 0`.
    starts: Vec<A>,
    /// Interval `i` is covered by `members[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<u32>,
    members: Vec<u32>,
    /// `directory[h]`: the first interval whose start has top bits `>= h`.
    directory: Vec<u32>,
    /// Per list, its outermost entries by address (only for overlap).
    by_list: Vec<(ListId, Vec<u32>)>,
}

#[derive(Clone, Copy)]
struct Event<A> {
    at: A,
    start: bool,
    net: u32,
}

impl<A: Bits> CidrIndex<A> {
    /// Builds the index from each list's entries `(network, prefix)`.
    /// `by_list` keeps per-list arrays for overlap queries.
    pub(crate) fn build(lists: Vec<(ListId, Vec<(A, u8)>)>, by_list: bool) -> CidrIndex<A> {
        let mut nets: Vec<Net<A>> = Vec::new();
        let mut per_list = Vec::new();
        for (list, mut entries) in lists {
            entries.sort_unstable();
            let mut kept = Vec::new();
            let mut covered_to: Option<A> = None;
            for (net, prefix) in entries {
                if covered_to.is_some_and(|end| net <= end) {
                    continue; // nested in an outer entry of the same list
                }
                covered_to = Some(A::last_in(net, prefix));
                kept.push(nets.len() as u32);
                nets.push(Net { net, prefix, list });
            }
            if by_list && !kept.is_empty() {
                per_list.push((list, kept));
            }
        }
        if nets.is_empty() {
            return CidrIndex::default();
        }

        let mut events = Vec::with_capacity(nets.len() * 2);
        for (i, n) in nets.iter().enumerate() {
            events.push(Event {
                at: n.net,
                start: true,
                net: i as u32,
            });
            if let Some(after) = A::last_in(n.net, n.prefix).succ() {
                events.push(Event {
                    at: after,
                    start: false,
                    net: i as u32,
                });
            }
        }
        // Ends before starts at the same address.
        events.sort_unstable_by_key(|e| (e.at, e.start));

        let mut starts = Vec::with_capacity(events.len() + 1);
        let mut offsets = vec![0u32];
        let mut members = Vec::new();
        let mut active: Vec<u32> = Vec::new();
        if events.first().is_some_and(|e| e.at != A::default()) {
            starts.push(A::default());
            offsets.push(0);
        }
        let mut i = 0;
        while let Some(first) = events.get(i) {
            let at = first.at;
            while let Some(event) = events.get(i).filter(|e| e.at == at) {
                let list_of = |n: &u32| nets.get(*n as usize).map(|n| n.list);
                if event.start {
                    let list = list_of(&event.net);
                    let pos = active.partition_point(|n| list_of(n) < list);
                    active.insert(pos, event.net);
                } else if let Some(pos) = active.iter().position(|&n| n == event.net) {
                    active.remove(pos);
                }
                i += 1;
            }
            starts.push(at);
            members.extend_from_slice(&active);
            offsets.push(members.len() as u32);
        }

        let mut directory = Vec::with_capacity(65_537);
        let mut next = 0usize;
        for h in 0..=65_536usize {
            while starts.get(next).is_some_and(|s| s.top16() < h) {
                next += 1;
            }
            directory.push(next as u32);
        }
        nets.shrink_to_fit();
        members.shrink_to_fit();
        CidrIndex {
            nets,
            starts,
            offsets,
            members,
            directory,
            by_list: per_list,
        }
    }

    /// Whether the index holds no entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The outermost entries (at most one per list, by list id) that
    /// contain `addr`.
    #[inline]
    pub(crate) fn covering(&self, addr: A) -> impl Iterator<Item = Net<A>> + '_ {
        let members = self.interval(addr).map_or(&[][..], |i| {
            let from = self.offsets.get(i).copied().unwrap_or(0) as usize;
            let to = self.offsets.get(i + 1).copied().unwrap_or(0) as usize;
            self.members.get(from..to).unwrap_or(&[])
        });
        members
            .iter()
            .filter_map(|&n| self.nets.get(n as usize).copied())
    }

    #[inline]
    fn interval(&self, addr: A) -> Option<usize> {
        let h = addr.top16();
        let lo = (*self.directory.get(h)? as usize).saturating_sub(1);
        let hi = *self.directory.get(h + 1)? as usize;
        let below = self.starts.get(lo..hi)?.partition_point(|s| *s <= addr);
        (below > 0).then(|| lo + below - 1)
    }

    /// The lists that have entries, with their outermost entries by address
    /// (empty unless built with `by_list`).
    pub(crate) fn lists(&self) -> impl Iterator<Item = ListId> + '_ {
        self.by_list.iter().map(|(list, _)| *list)
    }

    /// The lowest outermost entry of the `k`-th list of [`lists`](Self::lists)
    /// that starts inside `first..=last`.
    pub(crate) fn first_inside(&self, k: usize, first: A, last: A) -> Option<Net<A>> {
        let (_, kept) = self.by_list.get(k)?;
        let net_at = |n: &u32| self.nets.get(*n as usize);
        let pos = kept.partition_point(|n| net_at(n).is_some_and(|n| n.net < first));
        let net = *net_at(kept.get(pos)?)?;
        (net.net <= last).then_some(net)
    }

    /// Bytes of heap memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nets.capacity() * std::mem::size_of::<Net<A>>()
            + self.starts.capacity() * std::mem::size_of::<A>()
            + (self.offsets.capacity() + self.members.capacity() + self.directory.capacity()) * 4
            + self
                .by_list
                .iter()
                .map(|(_, v)| v.capacity() * 4 + 32)
                .sum::<usize>()
    }
}

/// The arrays of a [`CidrIndex`], for snapshots.
pub(crate) struct CidrParts<'a, A> {
    pub(crate) nets: &'a [Net<A>],
    pub(crate) starts: &'a [A],
    pub(crate) offsets: &'a [u32],
    pub(crate) members: &'a [u32],
    pub(crate) by_list: &'a [(ListId, Vec<u32>)],
}

/// Raw access for snapshots.
impl<A: Bits> CidrIndex<A> {
    /// The index's arrays.
    pub(crate) fn parts(&self) -> CidrParts<'_, A> {
        CidrParts {
            nets: &self.nets,
            starts: &self.starts,
            offsets: &self.offsets,
            members: &self.members,
            by_list: &self.by_list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> u32 {
        u32::from(s.parse::<Ipv4Addr>().unwrap())
    }

    fn std_ipv4(text: &[u8]) -> Option<u32> {
        std::str::from_utf8(text)
            .ok()?
            .parse::<Ipv4Addr>()
            .ok()
            .map(u32::from)
    }

    #[test]
    fn ipv4_parser_agrees_with_std() {
        for text in [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1..2.3",
            "1.2.3.",
            ".1.2.3",
            "1000.1.1.1",
            "1.2.3.1000",
            "+1.2.3.4",
            "1.2.3.-4",
            "",
            "...",
            "1.2.3.4a",
            "::1",
            "00.1.2.3",
            "0.1.2.3",
            "199.200.201.255",
        ] {
            assert_eq!(
                parse_ipv4(text.as_bytes()),
                std_ipv4(text.as_bytes()),
                "{text:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn ipv4_parser_agrees_with_std_on_any_text(text in "[0-9.]{0,18}|[0-9.a /:+-]{0,12}|([0-9]{1,4}[.]){3}[0-9]{1,4}") {
            proptest::prop_assert_eq!(parse_ipv4(text.as_bytes()), std_ipv4(text.as_bytes()));
        }

        #[test]
        fn value_parts_split_like_misp(
            text in "[0-9./:a]{0,20}|([0-9]{1,4}[.]){3}[0-9]{1,4}(/[0-9a.]{0,3}){0,3}|[0-9]{1,3}[.][0-9]{1,3}[.:][0-9]{1,3}[./:][0-9a]{1,3}[/:a]?"
        ) {
            let mut fields = text.split('/');
            let address = fields.next().unwrap_or("");
            let mask = fields.next();
            let expected = if let Ok(v4) = address.parse::<Ipv4Addr>() {
                Some((Address::V4(u32::from(v4)), mask))
            } else {
                address.parse::<Ipv6Addr>().ok().map(|v6| (Address::V6(u128::from(v6)), mask))
            };
            proptest::prop_assert_eq!(parse_value(&text), expected);
        }
    }

    #[test]
    fn entries_follow_misp() {
        assert_eq!(
            parse_entry("10.0.0.0/8"),
            Ok(Network::V4 {
                net: v4("10.0.0.0"),
                prefix: 8
            })
        );
        assert_eq!(
            parse_entry("10.0.0.5"),
            Ok(Network::V4 {
                net: v4("10.0.0.5"),
                prefix: 32
            })
        );
        assert!(parse_entry("10.0.0.5/8").is_err());
        assert!(parse_entry("010.0.0.5").is_err());
        assert!(parse_entry("10.0.0.0/08").is_err());
        assert!(parse_entry("1.2.3.0/24 ").is_err());
        assert!(parse_entry("10.0.0.0/33").is_err());
        assert!(parse_entry("10.0.0.0/").is_err());
        assert!(parse_entry("example.com").is_err());
        assert!(parse_entry("1.2.3.0/24/5").is_err());
        assert_eq!(
            parse_entry("2001:db8::1/32"),
            Ok(Network::V6 {
                net: 0x2001_0db8 << 96,
                prefix: 32
            })
        );
        assert_eq!(parse_entry("::/0"), Ok(Network::V6 { net: 0, prefix: 0 }));
        assert_eq!(
            parse_entry("0.0.0.0/0"),
            Ok(Network::V4 { net: 0, prefix: 0 })
        );
        assert!(parse_entry("fe80::1%eth0").is_err());
        assert!(parse_entry("2001:db8::/129").is_err());
    }

    #[test]
    fn values_follow_filter_validate_ip() {
        assert_eq!(
            parse_value("10.1.2.3"),
            Some((Address::V4(v4("10.1.2.3")), None))
        );
        assert_eq!(
            parse_value("10.1.2.3/16"),
            Some((Address::V4(v4("10.1.2.3")), Some("16")))
        );
        assert_eq!(
            parse_value("1.2.3.0/24/5"),
            Some((Address::V4(v4("1.2.3.0")), Some("24")))
        );
        assert_eq!(parse_value("010.0.0.5"), None);
        assert_eq!(parse_value("10.1.2.3:443"), None);
        assert_eq!(parse_value("fe80::1%eth0"), None);
        assert_eq!(parse_value("[::1]"), None);
        assert_eq!(parse_value("443"), None);
        assert!(matches!(
            parse_value("::ffff:1.2.3.4"),
            Some((Address::V6(_), None))
        ));
    }

    #[test]
    fn php_numeric_strings() {
        assert_eq!(php_numeric("16"), Some(16.0));
        assert_eq!(php_numeric(" 8 "), Some(8.0));
        assert_eq!(php_numeric("-1"), Some(-1.0));
        assert_eq!(php_numeric("1e1"), Some(10.0));
        assert_eq!(php_numeric(".5"), Some(0.5));
        assert_eq!(php_numeric("abc"), None);
        assert_eq!(php_numeric("1x"), None);
        assert_eq!(php_numeric(""), None);
        assert_eq!(php_numeric("."), None);
        assert_eq!(php_numeric("1e"), None);
    }

    #[test]
    fn index_reports_outermost_entry_per_list() {
        let a = ListId(0);
        let b = ListId(1);
        let index = CidrIndex::<u32>::build(
            vec![
                (
                    a,
                    vec![
                        (v4("10.0.0.0"), 8),
                        (v4("10.1.0.0"), 16),
                        (v4("192.168.0.0"), 16),
                    ],
                ),
                (b, vec![(v4("10.1.2.3"), 32), (v4("0.0.0.0"), 1)]),
            ],
            true,
        );
        let hits = |s: &str| -> Vec<(u16, String)> {
            index
                .covering(v4(s))
                .map(|n| (n.list.0, n.to_ipnet().unwrap().to_string()))
                .collect()
        };
        assert_eq!(
            hits("10.1.2.3"),
            [(0, "10.0.0.0/8".into()), (1, "0.0.0.0/1".into())]
        );
        assert_eq!(
            hits("10.255.255.255"),
            [(0, "10.0.0.0/8".into()), (1, "0.0.0.0/1".into())]
        );
        assert_eq!(hits("11.0.0.0"), [(1, "0.0.0.0/1".into())]);
        assert_eq!(hits("192.168.255.255"), [(0, "192.168.0.0/16".into())]);
        assert_eq!(hits("192.169.0.0"), []);
        assert_eq!(hits("255.255.255.255"), []);
        assert_eq!(hits("0.0.0.0"), [(1, "0.0.0.0/1".into())]);

        let lists: Vec<ListId> = index.lists().collect();
        assert_eq!(lists, [a, b]);
        let inside = index
            .first_inside(0, v4("192.0.0.0"), v4("192.255.255.255"))
            .unwrap();
        assert_eq!(inside.to_ipnet().unwrap().to_string(), "192.168.0.0/16");
        assert!(
            index
                .first_inside(0, v4("11.0.0.0"), v4("11.255.255.255"))
                .is_none()
        );
    }

    #[test]
    fn index_handles_the_top_of_the_space() {
        let index =
            CidrIndex::<u128>::build(vec![(ListId(3), vec![(u128::MAX, 128), (0, 0)])], false);
        assert_eq!(index.covering(u128::MAX).count(), 1);
        assert_eq!(index.covering(0).next().map(|n| n.prefix), Some(0));
        let empty = CidrIndex::<u32>::build(vec![], false);
        assert!(empty.is_empty());
        assert_eq!(empty.covering(5).count(), 0);
    }
}
