//! Addresses and networks as integers, and the containment index of
//! CIDR correlation (contract §7.1).
//!
//! IPv4 addresses are `u32`s and IPv6 addresses `u128`s (an IPv4-mapped
//! IPv6 address is IPv6, as the contract says). A network is its masked
//! address and prefix length; host bits in the written value are allowed
//! and masked. [`CidrIndex`] answers both directions of containment:
//! * "which networks contain this address": one hash lookup per prefix
//!   length in use (at most 33 or 129);
//! * "which addresses lie in this network": a range query on an ordered
//!   map of addresses.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use ahash::AHashMap;
use smallvec::SmallVec;

use super::counts::EventCounts;

/// An address of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Addr {
    V4(u32),
    V6(u128),
}

/// A network: masked address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Net {
    V4(u32, u8),
    V6(u128, u8),
}

fn mask4(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

fn mask6(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

impl Addr {
    /// Parses a single address (no `/`).
    pub(crate) fn parse(s: &str) -> Option<Addr> {
        if s.contains('/') {
            return None;
        }
        if let Ok(a) = s.parse::<Ipv4Addr>() {
            return Some(Addr::V4(u32::from(a)));
        }
        s.parse::<Ipv6Addr>().ok().map(|a| Addr::V6(u128::from(a)))
    }
}

impl Net {
    /// Parses `address/prefix` (the prefix all digits, at most 32 for
    /// IPv4 and 128 for IPv6; MISP keeps `/032` as written, which is a
    /// /32 here).
    pub(crate) fn parse(s: &str) -> Option<Net> {
        let (a, p) = s.split_once('/')?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let len: u8 = p.parse().ok()?;
        match Addr::parse(a)? {
            Addr::V4(x) if len <= 32 => Some(Net::V4(x & mask4(len), len)),
            Addr::V6(x) if len <= 128 => Some(Net::V6(x & mask6(len), len)),
            _ => None,
        }
    }
}

type Keys = SmallVec<[u32; 1]>;

/// One address family of the index; addresses are stored as `u128`.
#[derive(Debug, Default)]
struct Family {
    bits: u8,
    /// Address → IP keys with that address.
    addrs: BTreeMap<u128, Keys>,
    /// (prefix length, masked address) → CIDR keys of that network.
    nets: AHashMap<(u8, u128), Keys>,
    /// Per prefix length, the number of `nets` entries.
    lens: Vec<u32>,
}

impl Family {
    fn new(bits: u8) -> Family {
        Family {
            bits,
            lens: vec![0; usize::from(bits) + 1],
            ..Family::default()
        }
    }

    fn mask(&self, len: u8) -> u128 {
        if self.bits == 32 {
            u128::from(mask4(len))
        } else {
            mask6(len)
        }
    }
}

/// Adds `key`, keeping the keys sorted so that their order does not
/// depend on the order of changes (a snapshot rebuilds the index in slot
/// order and must list them as the engine does).
fn push_key(keys: &mut Keys, key: u32) {
    if let Err(i) = keys.binary_search(&key) {
        keys.insert(i, key);
    }
}

fn drop_key(keys: &mut Keys, key: u32) {
    keys.retain(|k| *k != key);
}

/// An IP key: a key carried by at least one IP attribute.
#[derive(Debug, Clone)]
pub(crate) struct IpKey {
    pub(crate) addr: Addr,
    /// Number of IP attributes carrying the key.
    pub(crate) attrs: u32,
}

/// A CIDR key: a key carried by at least one CIDR attribute.
#[derive(Debug, Clone)]
pub(crate) struct CidrKey {
    pub(crate) net: Net,
    /// Number of CIDR attributes carrying the key.
    pub(crate) attrs: u32,
    /// Per-event counts of the key's extended set: every attribute
    /// carrying the key, plus every IP attribute the network contains.
    pub(crate) ext: EventCounts,
}

/// The containment index.
#[derive(Debug)]
pub(crate) struct CidrIndex {
    v4: Family,
    v6: Family,
    /// IP keys.
    pub(crate) ip_keys: AHashMap<u32, IpKey>,
    /// CIDR keys.
    pub(crate) cidr_keys: AHashMap<u32, CidrKey>,
}

impl Default for CidrIndex {
    fn default() -> Self {
        CidrIndex {
            v4: Family::new(32),
            v6: Family::new(128),
            ip_keys: AHashMap::new(),
            cidr_keys: AHashMap::new(),
        }
    }
}

impl CidrIndex {
    fn family(&self, v6: bool) -> &Family {
        if v6 { &self.v6 } else { &self.v4 }
    }

    fn family_mut(&mut self, v6: bool) -> &mut Family {
        if v6 { &mut self.v6 } else { &mut self.v4 }
    }

    /// Registers `key` as an IP key at `addr`.
    pub(crate) fn insert_addr(&mut self, key: u32, addr: Addr) {
        let (v6, a) = match addr {
            Addr::V4(x) => (false, u128::from(x)),
            Addr::V6(x) => (true, x),
        };
        push_key(self.family_mut(v6).addrs.entry(a).or_default(), key);
    }

    /// Unregisters IP key `key` at `addr`.
    pub(crate) fn remove_addr(&mut self, key: u32, addr: Addr) {
        let (v6, a) = match addr {
            Addr::V4(x) => (false, u128::from(x)),
            Addr::V6(x) => (true, x),
        };
        let f = self.family_mut(v6);
        if let Some(keys) = f.addrs.get_mut(&a) {
            drop_key(keys, key);
            if keys.is_empty() {
                f.addrs.remove(&a);
            }
        }
    }

    /// Registers `key` as a CIDR key of `net`.
    pub(crate) fn insert_net(&mut self, key: u32, net: Net) {
        let (v6, a, l) = match net {
            Net::V4(x, l) => (false, u128::from(x), l),
            Net::V6(x, l) => (true, x, l),
        };
        let f = self.family_mut(v6);
        let keys = f.nets.entry((l, a)).or_default();
        if keys.is_empty() {
            if let Some(c) = f.lens.get_mut(usize::from(l)) {
                *c += 1;
            }
        }
        push_key(keys, key);
    }

    /// Unregisters CIDR key `key` of `net`.
    pub(crate) fn remove_net(&mut self, key: u32, net: Net) {
        let (v6, a, l) = match net {
            Net::V4(x, l) => (false, u128::from(x), l),
            Net::V6(x, l) => (true, x, l),
        };
        let f = self.family_mut(v6);
        if let Some(keys) = f.nets.get_mut(&(l, a)) {
            drop_key(keys, key);
            if keys.is_empty() {
                f.nets.remove(&(l, a));
                if let Some(c) = f.lens.get_mut(usize::from(l)) {
                    *c = c.saturating_sub(1);
                }
            }
        }
    }

    /// The CIDR keys whose network contains `addr`.
    pub(crate) fn containing(&self, addr: Addr) -> impl Iterator<Item = u32> + '_ {
        let (v6, a) = match addr {
            Addr::V4(x) => (false, u128::from(x)),
            Addr::V6(x) => (true, x),
        };
        let f = self.family(v6);
        f.lens
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .filter_map(move |(len, _)| {
                let len = len as u8;
                f.nets.get(&(len, a & f.mask(len)))
            })
            .flat_map(|keys| keys.iter().copied())
    }

    /// The IP keys whose address lies in `net`.
    pub(crate) fn contained(&self, net: Net) -> impl Iterator<Item = u32> + '_ {
        let (v6, a, l) = match net {
            Net::V4(x, l) => (false, u128::from(x), l),
            Net::V6(x, l) => (true, x, l),
        };
        let f = self.family(v6);
        let full = if v6 { u128::MAX } else { u128::from(u32::MAX) };
        let end = a | (!f.mask(l) & full);
        f.addrs
            .range(a..=end)
            .flat_map(|(_, keys)| keys.iter().copied())
    }

    /// Whether any CIDR key exists.
    pub(crate) fn has_nets(&self) -> bool {
        !self.cidr_keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(Addr::parse("10.1.2.3"), Some(Addr::V4(0x0A01_0203)));
        assert_eq!(Addr::parse("::1"), Some(Addr::V6(1)));
        assert_eq!(Addr::parse("::0001"), Some(Addr::V6(1)));
        assert!(
            matches!(Addr::parse("::ffff:1.2.3.4"), Some(Addr::V6(_))),
            "v4-mapped is IPv6"
        );
        assert_eq!(Addr::parse("10.0.0.0/8"), None);
        assert_eq!(Addr::parse("010.1.2.3"), None);
        assert_eq!(Addr::parse("example.com"), None);
        assert_eq!(Net::parse("10.1.2.3/8"), Some(Net::V4(0x0A00_0000, 8)));
        assert_eq!(Net::parse("10.1.2.3/032"), Some(Net::V4(0x0A01_0203, 32)));
        assert_eq!(Net::parse("1.2.3.4/0"), Some(Net::V4(0, 0)));
        assert_eq!(Net::parse("1.2.3.4/33"), None);
        assert_eq!(Net::parse("1.2.3.4/"), None);
        assert_eq!(Net::parse("1.2.3.4/+8"), None);
        assert_eq!(Net::parse("::1/128"), Some(Net::V6(1, 128)));
        assert_eq!(
            Net::parse("2001:db8::/32"),
            Some(Net::V6(0x2001_0db8u128 << 96, 32))
        );
        assert_eq!(Net::parse("10.0.0.1"), None);
    }

    #[test]
    fn containment_both_ways() {
        let mut ix = CidrIndex::default();
        let n8 = Net::parse("10.0.0.0/8").unwrap();
        let n16 = Net::parse("10.1.0.0/16").unwrap();
        let n0 = Net::parse("0.0.0.0/0").unwrap();
        let v6 = Net::parse("2001:db8::/32").unwrap();
        ix.insert_net(1, n8);
        ix.insert_net(2, n16);
        ix.insert_net(3, n0);
        ix.insert_net(4, v6);
        let a = Addr::parse("10.1.2.3").unwrap();
        let b = Addr::parse("11.0.0.1").unwrap();
        let c = Addr::parse("2001:db8::5").unwrap();
        let d = Addr::parse("::ffff:10.1.2.3").unwrap();
        let mut got: Vec<u32> = ix.containing(a).collect();
        got.sort();
        assert_eq!(got, [1, 2, 3]);
        assert_eq!(ix.containing(b).collect::<Vec<_>>(), [3]);
        assert_eq!(ix.containing(c).collect::<Vec<_>>(), [4]);
        assert!(
            ix.containing(d).next().is_none(),
            "mapped addresses are IPv6"
        );
        ix.insert_addr(10, a);
        ix.insert_addr(11, b);
        ix.insert_addr(12, c);
        ix.insert_addr(13, Addr::parse("255.255.255.255").unwrap());
        assert_eq!(ix.contained(n8).collect::<Vec<_>>(), [10]);
        assert_eq!(ix.contained(n0).collect::<Vec<_>>(), [10, 11, 13]);
        assert_eq!(ix.contained(v6).collect::<Vec<_>>(), [12]);
        ix.remove_net(1, n8);
        ix.remove_addr(10, a);
        assert_eq!(ix.containing(a).count(), 2);
        assert_eq!(ix.contained(n0).collect::<Vec<_>>(), [11, 13]);
    }
}
