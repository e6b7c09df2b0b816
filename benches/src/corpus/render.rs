//! Turning entity numbers into values that look real.
//!
//! An *entity* is a host name, a URL, an IP address, a file (its name,
//! hashes and size), an ssdeep hash or a network, identified by a class
//! and a 64-bit number. The rendering of an entity is a pure function of
//! `(seed, class, number)`: the same number always gives the same string,
//! which is how values are reused across events.
//!
//! Host labels and URL hosts are rendered from a *bijectively scrambled*
//! number, so two different numbers never give the same host: fresh values
//! are unique by construction, not by luck. Hashes are 128 to 256 random
//! bits (collisions are astronomically unlikely). File names are drawn from
//! a finite vocabulary and may repeat across unrelated files, as they do in
//! real data.

use std::sync::Arc;

use super::real::RealValues;
use super::rng::{Domain, Scrambler, SplitMix64, below, key, mix64, threshold};

/// Entity classes. The discriminant tags dedup keys and hash keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Host = 0,
    Url = 1,
    Ip = 2,
    File = 3,
    Ssdeep = 4,
    Cidr = 5,
}

impl Class {
    pub(crate) const COUNT: usize = 6;
    pub(crate) const ALL: [Class; Class::COUNT] = [
        Class::Host,
        Class::Url,
        Class::Ip,
        Class::File,
        Class::Ssdeep,
        Class::Cidr,
    ];

    #[inline]
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Marks an ssdeep rendered for a file object, so that it never equals the
/// ssdeep entity with the same number.
const FILE_SSDEEP_TAG: u64 = 1 << 57;

/// Top-level domains weighted by their frequency among the 147,424 real
/// domains of TweetFeed 2021-2026 (the 63 most common, `.onion` left out).
const TLDS: &[(&str, u32)] = &[
    ("com", 46552),
    ("top", 15157),
    ("org", 13384),
    ("cn", 10175),
    ("net", 6765),
    ("xyz", 5160),
    ("dev", 4092),
    ("app", 3094),
    ("io", 2979),
    ("icu", 2313),
    ("shop", 2193),
    ("info", 1512),
    ("online", 1452),
    ("cc", 1449),
    ("ru", 1380),
    ("co", 1291),
    ("live", 1287),
    ("site", 1169),
    ("army", 813),
    ("pro", 802),
    ("cfd", 781),
    ("cyou", 763),
    ("sbs", 652),
    ("vip", 618),
    ("click", 596),
    ("navy", 565),
    ("us", 520),
    ("me", 507),
    ("in", 481),
    ("fun", 451),
    ("one", 442),
    ("de", 429),
    ("lol", 418),
    ("kr", 410),
    ("space", 409),
    ("world", 353),
    ("help", 350),
    ("store", 348),
    ("bz", 331),
    ("club", 331),
    ("id", 327),
    ("network", 316),
    ("biz", 307),
    ("br", 295),
    ("tt", 292),
    ("tech", 288),
    ("finance", 283),
    ("gg", 263),
    ("cloud", 256),
    ("link", 248),
    ("eu", 236),
    ("digital", 232),
    ("life", 224),
    ("asia", 209),
    ("zip", 208),
    ("uk", 203),
    ("run", 202),
    ("jp", 197),
    ("buzz", 197),
    ("cl", 191),
    ("tk", 187),
    ("rest", 166),
    ("ai", 164),
];

const SUBDOMAINS: &[&str] = &[
    "www", "login", "secure", "app", "mail", "api", "cdn", "portal", "account", "verify", "update",
    "my", "m", "support", "auth", "cloud", "dl", "files", "static", "web", "admin", "pay", "id",
    "online", "service",
];

const HOST_WORDS: &[&str] = &[
    "secure", "online", "support", "update", "pay", "bank", "shop", "cloud", "login", "verify",
    "app", "service", "group", "store", "mail", "help", "tech", "info", "net", "web", "global",
    "auth", "wallet", "crypto", "gift", "bonus", "promo", "track", "delivery", "post",
];

const PATH_WORDS: &[&str] = &[
    "login",
    "admin",
    "index",
    "update",
    "invoice",
    "download",
    "files",
    "wp-content",
    "uploads",
    "api",
    "verify",
    "secure",
    "account",
    "payment",
    "doc",
    "bin",
    "static",
    "js",
    "img",
    "panel",
    "gate",
    "upload",
    "data",
    "track",
];

const FILE_WORDS: &[&str] = &[
    "invoice",
    "payment",
    "order",
    "report",
    "scan",
    "document",
    "setup",
    "update",
    "installer",
    "client",
    "loader",
    "agent",
    "svchost",
    "chrome_update",
    "statement",
    "receipt",
    "contract",
    "resume",
    "photo",
    "shipping",
    "quotation",
    "purchase_order",
    "notice",
    "remittance",
    "payload",
    "stager",
    "beacon",
    "dropper",
    "crypter",
    "bot",
    "miner",
    "patch",
    "driver",
    "readme",
    "license",
    "unlock",
    "crack",
    "keygen",
    "viewer",
    "player",
];

const FILE_EXTENSIONS: &[&str] = &[
    "exe", "dll", "pdf.exe", "doc", "docm", "xlsm", "zip", "rar", "js", "vbs", "ps1", "lnk", "iso",
    "msi", "scr", "bat", "hta", "apk", "elf", "sh", "jar", "one", "img", "7z",
];

/// Ports and their weights: the common ones of C2 and phishing reports,
/// then anything above 1023.
const PORTS: &[(u16, u32)] = &[
    (443, 200),
    (80, 180),
    (8080, 80),
    (4444, 40),
    (8443, 40),
    (22, 30),
    (53, 20),
    (3389, 30),
    (1337, 15),
    (9001, 15),
    (5555, 15),
    (6666, 10),
    (7777, 15),
    (2222, 15),
    (8000, 30),
    (8888, 25),
];
/// Weight of "any port 1024-65535" next to [`PORTS`].
const OTHER_PORTS_WEIGHT: u32 = 220;

const CONSONANTS: &[u8; 21] = b"bcdfghjklmnpqrstvwxyz";
const VOWELS: &[u8; 5] = b"aeiou";
const LETTERS: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// First octets that are not public unicast (0, 10, 100, 127, 169, 172,
/// 192, 198, 203, 224-255) are replaced by one of these.
const PUBLIC_FIRST_OCTETS: &[u8] = &[
    5, 23, 31, 37, 45, 46, 51, 62, 77, 78, 79, 80, 81, 82, 85, 88, 89, 91, 93, 94, 95, 103, 104,
    107, 109, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 128, 134,
    137, 139, 141, 142, 143, 144, 146, 147, 149, 151, 154, 155, 156, 157, 158, 159, 161, 162, 164,
    165, 167, 170, 171, 175, 176, 178, 179, 180, 181, 182, 183, 185, 186, 187, 188, 190, 191, 193,
    194, 195, 196, 197, 199, 200, 201, 202, 206, 207, 209, 210, 211, 212, 213, 216, 217, 218, 219,
    220, 221, 222, 223,
];

fn is_public_first_octet(o: u8) -> bool {
    !matches!(
        o,
        0 | 10 | 100 | 127 | 169 | 172 | 192 | 198 | 203 | 224..=255
    )
}

/// A network entity, see [`Renderer::network`].
struct Network {
    family: Family,
    bits: u64,
    subnet: u16,
    shape: u64,
}

/// Which IP family an IP or network entity has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    V4,
    V6,
}

/// Parameters of the renderer, fixed when the corpus is built.
pub(crate) struct RenderParams {
    /// Bits of the entity number space (`2^bits` > every entity number).
    pub(crate) entity_bits: u32,
    /// The shared CIDR entities: in-network IPs lie in one of them.
    pub(crate) cidr_shared: (u64, u64),
    /// Probability that an IP lies in one of the shared networks.
    pub(crate) in_network: f64,
    /// Probability that an IP (outside networks) is IPv6.
    pub(crate) ipv6: f64,
    /// Probability that a network is IPv6 (a /48 mostly).
    pub(crate) cidr_ipv6: f64,
    /// Number of ssdeep families (similar hashes share a family).
    pub(crate) ssdeep_families: u64,
    /// Real values to render from, if any.
    pub(crate) real: Option<Arc<RealValues>>,
}

/// Renders entities into strings.
pub(crate) struct Renderer {
    class_keys: [u64; Class::COUNT],
    labels: Scrambler,
    ipv4: Scrambler,
    networks: Scrambler,
    cv_pairs: u32,
    letters: u32,
    /// TLD index by the top 12 bits of a draw.
    tld_table: Box<[u8; 4096]>,
    port_cumulative: Vec<u32>,
    port_total: u32,
    cidr_shared: (u64, u64),
    in_network: u64,
    ipv6: u64,
    cidr_ipv6: u64,
    ssdeep_families: u64,
    real: Option<Arc<RealValues>>,
}

impl Renderer {
    pub(crate) fn new(seed: u64, params: RenderParams) -> Renderer {
        let mut class_keys = [0; Class::COUNT];
        for class in Class::ALL {
            class_keys[class.index()] = key(seed, Domain::Value, class as u64);
        }
        let bits = params.entity_bits.clamp(20, 60);
        // Fixed-width renderings that cover 2^bits: pairs of a consonant
        // (21) and a vowel (5), or an odd number of letters (26), so the
        // two styles never produce the same string.
        let cv_pairs = (f64::from(bits) / 105f64.log2()).ceil() as u32;
        let mut letters = (f64::from(bits) / 26f64.log2()).ceil() as u32;
        if letters % 2 == 0 {
            letters += 1;
        }
        let mut acc = 0;
        let tld_cumulative: Vec<u32> = TLDS
            .iter()
            .map(|(_, w)| {
                acc += w;
                acc
            })
            .collect();
        let mut tld_table = Box::new([0u8; 4096]);
        for (i, slot) in tld_table.iter_mut().enumerate() {
            let r = ((2 * i as u64 + 1) * u64::from(acc) / 8192) as u32;
            *slot = tld_cumulative
                .partition_point(|&c| c <= r)
                .min(TLDS.len() - 1) as u8;
        }
        acc = 0;
        let port_cumulative = PORTS
            .iter()
            .map(|(_, w)| {
                acc += w;
                acc
            })
            .collect();
        let port_total = acc + OTHER_PORTS_WEIGHT;
        Renderer {
            class_keys,
            labels: Scrambler::new(bits, key(seed, Domain::Value, 100)),
            ipv4: Scrambler::new(32, key(seed, Domain::Value, 101)),
            networks: Scrambler::new(24, key(seed, Domain::Value, 102)),
            cv_pairs,
            letters,
            tld_table,
            port_cumulative,
            port_total,
            cidr_shared: params.cidr_shared,
            in_network: threshold(params.in_network),
            ipv6: threshold(params.ipv6),
            cidr_ipv6: threshold(params.cidr_ipv6),
            ssdeep_families: params.ssdeep_families.max(1),
            real: params.real,
        }
    }

    /// The random bits of an entity.
    #[inline]
    fn entity_rng(&self, class: Class, id: u64) -> SplitMix64 {
        SplitMix64::new(mix64(self.class_keys[class.index()] ^ id))
    }

    // ----- host names ---------------------------------------------------

    /// A host name: `[sub.]label[-word|digits].tld`, unique per number.
    /// With real values, the real domain at the scrambled index, prefixed
    /// with a generated label once the real ones are used up.
    pub(crate) fn host(&self, id: u64, out: &mut String, variant: bool) {
        let start = out.len();
        if let Some(real) = self.real.as_deref().filter(|r| !r.hosts.is_empty()) {
            let s = self.labels.apply(id);
            let (q, r) = (s / real.hosts.len() as u64, s % real.hosts.len() as u64);
            if q > 0 {
                push_cv(out, q, 0);
                out.push('.');
            }
            put(out, real.hosts.get(r as usize));
        } else {
            // One word of random bits decides everything but the label:
            // bits 0-7 sub-domain (25 %), 8-15 which, 16-23 decoration
            // (12 % word, 10 % digits), 24-39 which, 40-47 label style,
            // 52-63 TLD.
            let h = mix64(self.class_keys[Class::Host.index()] ^ id);
            let bits = |shift: u32, width: u32| (h >> shift) & ((1 << width) - 1);
            if bits(0, 8) < 64 {
                put(out, SUBDOMAINS[bits(8, 8) as usize % SUBDOMAINS.len()]);
                out.push('.');
            }
            self.push_label(out, id, bits(40, 8) < 179);
            match bits(16, 8) {
                0..31 => {
                    out.push('-');
                    put(out, HOST_WORDS[bits(24, 16) as usize % HOST_WORDS.len()]);
                }
                31..56 => push_dec(out, 1 + bits(24, 16) % 9999),
                _ => {}
            }
            out.push('.');
            put(out, self.tld(h));
        }
        if variant {
            // "Context.ai", "EXAMPLE.com": MISP lowercases domains and
            // host names on save.
            uppercase_some(out, start);
        }
    }

    /// The unique label of entity number `id`: consonant-vowel pairs, or
    /// letters.
    #[inline]
    fn push_label(&self, out: &mut String, id: u64, consonant_vowel: bool) {
        let s = self.labels.apply(id);
        if consonant_vowel {
            push_cv(out, s, self.cv_pairs);
        } else {
            let mut x = s;
            for _ in 0..self.letters {
                push_ascii(out, LETTERS[(x % 26) as usize]);
                x /= 26;
            }
        }
    }

    /// The TLD for random bits (the top 12 bits are used).
    fn tld(&self, bits: u64) -> &'static str {
        let i = self.tld_table[(bits >> 52) as usize];
        TLDS.get(usize::from(i)).map_or("com", |t| t.0)
    }

    // ----- URLs -----------------------------------------------------------

    /// A URL on host `host(id)`, with or without a path. With real values,
    /// the real URL at the scrambled index, with a generated last path
    /// segment once the real ones are used up.
    pub(crate) fn url(&self, id: u64, out: &mut String, variant: bool) {
        if let Some(real) = self.real.as_deref().filter(|r| !r.urls.is_empty()) {
            let s = self.labels.apply(id);
            let (q, r) = (s / real.urls.len() as u64, s % real.urls.len() as u64);
            let url = real.urls.get(r as usize);
            if q == 0 {
                put(out, url);
            } else {
                let cut = url.find(['?', '#']).unwrap_or(url.len());
                let (head, tail) = url.split_at(cut);
                put(out, head);
                if !head.ends_with('/') {
                    out.push('/');
                }
                push_cv(out, q, 0);
                put(out, tail);
            }
            return;
        }
        let mut rng = self.entity_rng(Class::Url, id);
        let style = rng.next_u64();
        let https = style % 100 < 62;
        match (https, variant) {
            (true, false) => put(out, "https://"),
            (false, false) => put(out, "http://"),
            // Defanged: MISP refangs `hxxp` and `[.]` in URLs on save.
            (true, true) => put(out, "hxxps://"),
            (false, true) => put(out, "hxxp://"),
        }
        let host_start = out.len();
        self.host(id, out, false);
        if variant {
            if let Some(dot) = out[host_start..].bytes().rposition(|b| b == b'.') {
                out.replace_range(host_start + dot..host_start + dot + 1, "[.]");
            }
        }
        let word = |rng: &mut SplitMix64| PATH_WORDS[rng.below(PATH_WORDS.len() as u64) as usize];
        match (style >> 8) % 100 {
            0..58 => {}
            58..72 => out.push('/'),
            72..80 => {
                out.push('/');
                put(out, word(&mut rng));
                put(out, ".php");
            }
            80..86 => {
                out.push('/');
                put(out, word(&mut rng));
                out.push('/');
                put(out, word(&mut rng));
                out.push('/');
            }
            86..91 => {
                put(out, "/wp-content/uploads/20");
                push_dec(out, 18 + rng.below(8));
                out.push('/');
                push_two_digits(out, 1 + rng.below(12));
                out.push('/');
                push_cv(out, rng.next_u64(), 3);
                put(out, ".zip");
            }
            91..95 => {
                out.push('/');
                push_hex(out, &mut rng, 8, false);
            }
            95..98 => {
                put(out, "/index.php?id=");
                push_dec(out, rng.below(100_000));
            }
            _ => {
                put(out, "/download/");
                put(out, FILE_WORDS[rng.below(FILE_WORDS.len() as u64) as usize]);
                put(out, ".exe");
            }
        }
    }

    /// The host of a URL written by [`url`](Self::url), if it is a host
    /// name or an IP address usable as a `domain`/`ip-dst` value.
    pub(crate) fn url_host(url: &str) -> Option<(&str, Family, bool)> {
        let rest = url.split_once("://")?.1;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..end];
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if let Some(inner) = host_port.strip_prefix('[') {
            let ip = inner.split_once(']')?.0;
            return ip
                .parse::<std::net::Ipv6Addr>()
                .is_ok()
                .then_some((ip, Family::V6, true));
        }
        let host = host_port.split_once(':').map_or(host_port, |(h, _)| h);
        if host.parse::<std::net::Ipv4Addr>().is_ok() {
            return Some((host, Family::V4, true));
        }
        is_hostname(host).then_some((host, Family::V4, false))
    }

    // ----- IP addresses and networks ------------------------------------

    /// An IP address: inside one of the shared networks (so that CIDR
    /// attributes contain it), a public-looking IPv4, or an IPv6.
    pub(crate) fn ip(&self, id: u64, out: &mut String, variant: bool) -> Family {
        let mut rng = self.entity_rng(Class::Ip, id);
        let choice = rng.next_u64();
        let (base, count) = self.cidr_shared;
        if count > 0 && choice < self.in_network {
            let net = base + rng.below(count);
            let host = rng.next_u64();
            return self.network_member(net, host, out, variant);
        }
        if rng.next_u64() < self.ipv6 {
            let start = out.len();
            push_ipv6_global(out, &mut rng);
            if variant {
                out[start..].make_ascii_uppercase();
            }
            return Family::V6;
        }
        if let Some(real) = self.real.as_deref().filter(|r| !r.ipv4s.is_empty()) {
            let s = self.labels.apply(id);
            let n = real.ipv4s.len() as u64;
            if s < n {
                put(out, real.ipv4s.get(s as usize));
                return Family::V4;
            }
        }
        let x = self.ipv4.apply(id) as u32;
        let [a, b, c, d] = x.to_be_bytes();
        let a = if is_public_first_octet(a) {
            a
        } else {
            PUBLIC_FIRST_OCTETS[usize::from(b) % PUBLIC_FIRST_OCTETS.len()]
        };
        let start = out.len();
        push_ipv4(out, [a, b, c, d]);
        if variant {
            // Defanged: MISP refangs `[.]` in ip-src/ip-dst on save.
            if let Some(dot) = out[start..].bytes().rposition(|b| b == b'.') {
                out.replace_range(start + dot..start + dot + 1, "[.]");
            }
        }
        Family::V4
    }

    /// Network entity `net`: its family, its /24 (IPv4, `a << 16 | b << 8
    /// | c`) or /48 (IPv6, `g0 << 32 | g1 << 16 | g2`), the /64 subnet
    /// group its IPv6 members favour, and 64 bits choosing its shape.
    fn network(&self, net: u64) -> Network {
        let mut rng = self.entity_rng(Class::Cidr, net);
        let family = if rng.next_u64() < self.cidr_ipv6 {
            Family::V6
        } else {
            Family::V4
        };
        let x = rng.next_u64();
        let subnet = (rng.next_u64() as u16).max(1);
        let shape = rng.next_u64();
        let bits = match family {
            Family::V4 => {
                let y = self.networks.apply(net);
                let a = (y >> 16) as u8;
                let a = if is_public_first_octet(a) {
                    a
                } else {
                    PUBLIC_FIRST_OCTETS[(y as usize) % PUBLIC_FIRST_OCTETS.len()]
                };
                (u64::from(a) << 16) | (y & 0xFFFF)
            }
            // 2a00-2a0f, then 32 bits unique per network: g1 and g2 are
            // never zero, so the compressed text is stable.
            Family::V6 => {
                let y = self.labels.apply(net) & 0xFFFF_FFFF;
                let g1 = ((y >> 16) as u16).max(1);
                let g2 = (y as u16).max(1);
                (u64::from(0x2a00 | (x & 0xF) as u16) << 32) | (u64::from(g1) << 16) | u64::from(g2)
            }
        };
        Network {
            family,
            bits,
            subnet,
            shape,
        }
    }

    /// An address inside network entity `net`.
    fn network_member(&self, net: u64, host: u64, out: &mut String, variant: bool) -> Family {
        let network = self.network(net);
        match network.family {
            Family::V4 => {
                let [_, _, _, _, _, a, b, c] = network.bits.to_be_bytes();
                push_ipv4(out, [a, b, c, 1 + (host % 254) as u8]);
            }
            Family::V6 => {
                let start = out.len();
                push_v6_prefix(out, network.bits);
                out.push(':');
                // Half of the members share the network's /64.
                let subnet = if host & 1 == 0 {
                    network.subnet
                } else {
                    ((host >> 8) as u16).max(1)
                };
                push_hex_group(out, subnet);
                put(out, "::");
                push_hex_group(out, ((host >> 32) as u16).max(1));
                if variant {
                    out[start..].make_ascii_uppercase();
                }
            }
        }
        network.family
    }

    /// A network: `a.b.c.0/24` mostly, sometimes /16 to /28 (or a /24
    /// with host bits set, which MISP keeps); IPv6 `g0:g1:g2::/48`,
    /// sometimes /32 or /64.
    pub(crate) fn cidr(&self, net: u64, out: &mut String, variant: bool) -> Family {
        let Network {
            family,
            bits,
            subnet,
            shape,
        } = self.network(net);
        let shape = shape % 100;
        match family {
            Family::V4 => {
                let [_, _, _, _, _, a, b, c] = bits.to_be_bytes();
                let (addr, len) = match shape {
                    0..80 => ([a, b, c, 0], 24),
                    80..84 => ([a, b, 0, 0], 16),
                    84..88 => ([a, b, c & 0xF0, 0], 20),
                    88..92 => ([a, b, c & 0xFC, 0], 22),
                    92..96 => ([a, b, c, 0], 25),
                    96..98 => ([a, b, c, 64], 26),
                    _ => ([a, b, c, 1 + (shape as u8 % 200)], 24),
                };
                push_ipv4(out, addr);
                out.push('/');
                push_dec(out, len);
            }
            Family::V6 => {
                let start = out.len();
                match shape {
                    0..85 => {
                        push_v6_prefix(out, bits);
                        put(out, "::/48");
                    }
                    85..93 => {
                        push_hex_group(out, (bits >> 32) as u16);
                        out.push(':');
                        push_hex_group(out, (bits >> 16) as u16);
                        put(out, "::/32");
                    }
                    _ => {
                        push_v6_prefix(out, bits);
                        out.push(':');
                        push_hex_group(out, subnet);
                        put(out, "::/64");
                    }
                }
                if variant {
                    out[start..].make_ascii_uppercase();
                }
            }
        }
        family
    }

    // ----- files -----------------------------------------------------------

    /// The hex digest of `nibbles` hex digits of file `id`. Real md5 and
    /// sha256 values are used when given and not yet used up.
    pub(crate) fn digest(&self, id: u64, nibbles: usize, out: &mut String, upper: bool) {
        if let Some(real) = self.real.as_deref() {
            let pool = match nibbles {
                32 => Some(&real.md5s),
                64 => Some(&real.sha256s),
                _ => None,
            };
            if let Some(pool) = pool.filter(|p| !p.is_empty()) {
                let s = self.labels.apply(id);
                if s < pool.len() as u64 {
                    let start = out.len();
                    put(out, pool.get(s as usize));
                    if upper {
                        out[start..].make_ascii_uppercase();
                    }
                    return;
                }
            }
        }
        let stream = mix64(self.class_keys[Class::File.index()] ^ id)
            ^ (nibbles as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = SplitMix64::new(stream);
        push_hex(out, &mut rng, nibbles, upper);
    }

    /// The file name of file `id`.
    pub(crate) fn filename(&self, id: u64, out: &mut String) {
        let mut rng = self.entity_rng(Class::File, id);
        let style = rng.next_u64() % 100;
        let word = FILE_WORDS[rng.below(FILE_WORDS.len() as u64) as usize];
        match style {
            0..40 => put(out, word),
            40..80 => {
                put(out, word);
                out.push('_');
                push_dec(out, rng.below(10_000));
            }
            _ => push_hex(out, &mut rng, 8, false),
        }
        out.push('.');
        put(
            out,
            FILE_EXTENSIONS[rng.below(FILE_EXTENSIONS.len() as u64) as usize],
        );
    }

    /// The size in bytes of file `id` (1 kB to ~30 MB, log-uniform).
    pub(crate) fn file_size(&self, id: u64, out: &mut String) {
        let mut rng = self.entity_rng(Class::File, id ^ (1 << 59));
        let exp = 10.0 + rng.unit() * 15.0;
        push_dec(out, exp.exp2() as u64);
    }

    /// The ssdeep of a file object's file `id`.
    pub(crate) fn file_ssdeep(&self, id: u64, out: &mut String) {
        self.ssdeep(id | FILE_SSDEEP_TAG, out);
    }

    /// An ssdeep hash `blocksize:hash1:hash2`. Entities of one family
    /// share a base and differ by a few mutated characters, so they are
    /// similar under `fuzzy_compare` without being equal.
    pub(crate) fn ssdeep(&self, id: u64, out: &mut String) {
        let mut member = self.entity_rng(Class::Ssdeep, id);
        let family = member.below(self.ssdeep_families);
        let mut base = SplitMix64::new(mix64(
            self.class_keys[Class::Ssdeep.index()] ^ family ^ (1 << 60),
        ));
        let block_size = 3u64 << base.below(14);
        let len1 = 24 + base.below(41) as usize;
        let len2 = (len1 / 2 + base.below(8) as usize).min(32);
        let mut h1 = [0u8; 64];
        let mut h2 = [0u8; 32];
        for c in h1.iter_mut().take(len1) {
            *c = BASE64[base.below(64) as usize];
        }
        for c in h2.iter_mut().take(len2) {
            *c = BASE64[base.below(64) as usize];
        }
        // Most members differ by 1-5 characters; some by up to 20.
        let mutations = if member.next_u64() % 4 == 0 {
            6 + member.below(15)
        } else {
            1 + member.below(5)
        };
        for _ in 0..mutations {
            let p = member.below(len1 as u64) as usize;
            h1[p] = BASE64[member.below(64) as usize];
            let p = member.below(len2 as u64) as usize;
            h2[p] = BASE64[member.below(64) as usize];
        }
        push_dec(out, block_size);
        out.push(':');
        put_bytes(out, &h1[..len1]);
        out.push(':');
        put_bytes(out, &h2[..len2]);
    }

    /// A destination port, from random bits.
    pub(crate) fn port(&self, bits: u64, out: &mut String) {
        let r = below(bits, u64::from(self.port_total)) as u32;
        let i = self.port_cumulative.partition_point(|&c| c <= r);
        match PORTS.get(i) {
            Some((port, _)) => push_dec(out, u64::from(*port)),
            None => push_dec(out, 1024 + (bits & 0xFFFF) % 64_512),
        }
    }
}

/// Whether `s` passes MISP's host name rule after lowercasing:
/// `^[a-z0-9.\-_]+\.[a-z0-9\-]{2,}$`.
pub(crate) fn is_hostname(s: &str) -> bool {
    let Some((head, tld)) = s.rsplit_once('.') else {
        return false;
    };
    !head.is_empty()
        && head
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Upper-cases the first letter of every label from `start` on.
fn uppercase_some(out: &mut String, start: usize) {
    let mut upper_next = true;
    for i in start..out.len() {
        let b = out.as_bytes().get(i).copied().unwrap_or(0);
        // An ASCII byte is a character on its own: `i..i + 1` is one.
        if upper_next && b.is_ascii_lowercase() {
            if let Some(c) = out.get_mut(i..i + 1) {
                c.make_ascii_uppercase();
            }
        }
        upper_next = b == b'.';
    }
}

/// Renders `x` as consonant-vowel pairs, as many as needed (injective).
pub(crate) fn push_cv_label(out: &mut String, x: u64) {
    push_cv(out, x, 0);
}

/// Renders `x` as consonant-vowel pairs: exactly `pairs` of them (which
/// is a bijection on `0..105^pairs`), or as many as needed when `pairs`
/// is 0.
fn push_cv(out: &mut String, mut x: u64, pairs: u32) {
    // At most 32 pairs (a u64 needs at most 10), pushed byte by byte:
    // cheaper than checking a short buffer as UTF-8 and copying it.
    let mut n = 0;
    loop {
        // One division by 105 per pair: the pair is (x % 105) as
        // consonant (mod 21) and vowel (div 21).
        let [c, v] = CV_PAIRS[(x % 105) as usize];
        x /= 105;
        push_ascii(out, c);
        push_ascii(out, v);
        n += 1;
        if n >= 32 || (pairs == 0 && x == 0) || (pairs > 0 && n >= pairs) {
            break;
        }
    }
}

/// The 105 consonant-vowel pairs, by `consonant + 21 * vowel`.
const CV_PAIRS: [[u8; 2]; 105] = {
    let mut t = [[0u8; 2]; 105];
    let mut i = 0;
    while i < 105 {
        t[i] = [CONSONANTS[i % 21], VOWELS[i / 21]];
        i += 1;
    }
    t
};

/// Every byte as two hex digits, its low nibble first: the order
/// [`push_hex`] writes a random word's nibbles in.
const fn hex_pairs(digits: &[u8; 16]) -> [[u8; 2]; 256] {
    let mut t = [[0u8; 2]; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = [digits[b & 15], digits[b >> 4]];
        b += 1;
    }
    t
}

/// [`hex_pairs`] of the lower-case digits.
const HEX_PAIRS_LOWER: [[u8; 2]; 256] = hex_pairs(HEX_LOWER);
/// [`hex_pairs`] of the upper-case digits.
const HEX_PAIRS_UPPER: [[u8; 2]; 256] = hex_pairs(HEX_UPPER);

/// Appends `nibbles` random hex digits: sixteen per random word, its low
/// nibble first (written a byte, two digits, at a time, and appended a
/// digest at a time).
pub(crate) fn push_hex(out: &mut String, rng: &mut SplitMix64, nibbles: usize, upper: bool) {
    let pairs = if upper {
        &HEX_PAIRS_UPPER
    } else {
        &HEX_PAIRS_LOWER
    };
    let mut buf = [0u8; 128];
    let mut left = nibbles;
    while left > 0 {
        let n = left.min(buf.len());
        // Whole words: the digits past `n` of the last one are dropped.
        let words = n.div_ceil(16);
        for word in buf.chunks_exact_mut(16).take(words) {
            let x = rng.next_u64();
            for (digits, byte) in word.chunks_exact_mut(2).zip(x.to_le_bytes()) {
                digits.copy_from_slice(&pairs[usize::from(byte)]);
            }
        }
        put_bytes(out, &buf[..n]);
        left -= n;
    }
}

/// Appends `s`.
#[inline]
fn put(out: &mut String, s: &str) {
    out.push_str(s);
}

/// Appends the ASCII byte `b` (every rendered byte is ASCII, so the
/// value is built as a `String` and never checked again).
#[inline]
fn push_ascii(out: &mut String, b: u8) {
    debug_assert!(b.is_ascii());
    out.push(char::from(b));
}

/// Appends the ASCII bytes `bytes` (a few: a label, a number, a run of
/// hex digits), checked as one short `str` and copied at once.
#[inline]
fn put_bytes(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => bytes.iter().for_each(|&b| push_ascii(out, b)),
    }
}

/// Pushes the decimal digits of `n`.
pub(crate) fn push_dec(out: &mut String, mut n: u64) {
    // Most numbers are short (octets, ports, counters): their digits
    // straight away, longer ones through a buffer.
    match n {
        0..10 => return push_ascii(out, b'0' + n as u8),
        10..100 => return push_two_digits(out, n),
        100..1000 => {
            push_ascii(out, b'0' + (n / 100) as u8);
            return push_two_digits(out, n % 100);
        }
        _ => {}
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // A few digits: pushed one by one (cheaper than a copy).
    for &d in buf.get(i..).unwrap_or(&[]) {
        push_ascii(out, d);
    }
}

fn push_two_digits(out: &mut String, n: u64) {
    push_ascii(out, b'0' + (n / 10 % 10) as u8);
    push_ascii(out, b'0' + (n % 10) as u8);
}

fn push_ipv4(out: &mut String, octets: [u8; 4]) {
    for (i, o) in octets.into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_dec(out, u64::from(o));
    }
}

/// A hex group without leading zeros, as RFC 5952 writes it.
fn push_hex_group(out: &mut String, g: u16) {
    let mut started = false;
    for shift in [12, 8, 4, 0] {
        let d = (g >> shift) & 0xF;
        if d != 0 || started || shift == 0 {
            push_ascii(out, HEX_LOWER[usize::from(d)]);
            started = true;
        }
    }
}

/// `g0:g1:g2` of a /48 (`bits` = g0 << 32 | g1 << 16 | g2).
fn push_v6_prefix(out: &mut String, bits: u64) {
    push_hex_group(out, (bits >> 32) as u16);
    out.push(':');
    push_hex_group(out, (bits >> 16) as u16);
    out.push(':');
    push_hex_group(out, bits as u16);
}

/// A global unicast IPv6 `2xxx:g1:g2:g3::g7` in RFC 5952 form (g1-g3 and
/// g7 non-zero, so the only run of zeros is the compressed one).
fn push_ipv6_global(out: &mut String, rng: &mut SplitMix64) {
    let x = rng.next_u64();
    let y = rng.next_u64();
    push_hex_group(out, 0x2000 | (x as u16 & 0x0FFF));
    for shift in [16, 32, 48] {
        out.push(':');
        push_hex_group(out, ((x >> shift) as u16).max(1));
    }
    put(out, "::");
    push_hex_group(out, (y as u16).max(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer() -> Renderer {
        Renderer::new(
            9,
            RenderParams {
                entity_bits: 22,
                cidr_shared: (1000, 50),
                in_network: 0.3,
                ipv6: 0.1,
                cidr_ipv6: 0.2,
                ssdeep_families: 10,
                real: None,
            },
        )
    }

    /// Runs a rendering into a fresh buffer.
    fn text<R>(f: impl FnOnce(&mut String) -> R) -> (String, R) {
        let mut out = String::new();
        let r = f(&mut out);
        (out, r)
    }

    #[test]
    fn hosts_are_unique_and_valid() {
        let r = renderer();
        let mut seen = std::collections::HashSet::new();
        for id in 0..50_000u64 {
            let (s, ()) = text(|o| r.host(id, o, false));
            assert!(is_hostname(&s), "{s}");
            assert!(seen.insert(s.clone()), "duplicate host {s} for {id}");
        }
    }

    #[test]
    fn host_variants_only_change_case() {
        let r = renderer();
        for id in 0..1000u64 {
            let (plain, ()) = text(|o| r.host(id, o, false));
            let (variant, ()) = text(|o| r.host(id, o, true));
            assert_eq!(plain, variant.to_ascii_lowercase());
            assert_ne!(plain, variant);
        }
    }

    #[test]
    fn cv_rendering_is_injective_at_fixed_width() {
        let mut seen = std::collections::HashSet::new();
        for x in 0..105u64 * 105 {
            let (s, ()) = text(|o| push_cv(o, x, 2));
            assert_eq!(s.len(), 4);
            assert!(seen.insert(s));
        }
        let mut seen = std::collections::HashSet::new();
        for x in 0..50_000u64 {
            let (s, ()) = text(|o| push_cv_label(o, x));
            assert!(seen.insert(s));
        }
    }

    #[test]
    fn ips_and_networks_parse() {
        let r = renderer();
        for id in 0..5_000u64 {
            let (s, family) = text(|o| r.ip(id, o, false));
            match family {
                Family::V4 => assert!(s.parse::<std::net::Ipv4Addr>().is_ok(), "{s}"),
                Family::V6 => {
                    let a: std::net::Ipv6Addr = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
                    assert_eq!(a.to_string(), s, "not canonical");
                }
            }
            let (c, _) = text(|o| r.cidr(id, o, false));
            let (addr, len) = c.split_once('/').unwrap_or_else(|| panic!("{c}"));
            let len: u8 = len.parse().unwrap_or_else(|e| panic!("{c}: {e}"));
            if addr.contains(':') {
                let a: std::net::Ipv6Addr = addr.parse().unwrap_or_else(|e| panic!("{c}: {e}"));
                assert_eq!(a.to_string(), addr, "not canonical");
                assert!(len <= 128);
            } else {
                assert!(addr.parse::<std::net::Ipv4Addr>().is_ok(), "{c}");
                assert!(len <= 32);
            }
        }
    }

    #[test]
    fn in_network_ips_share_the_network_prefix() {
        let r = renderer();
        let mut inside = 0;
        for id in 0..2_000u64 {
            let (ip, family) = text(|o| r.ip(id, o, false));
            if family == Family::V4 {
                let prefix = &ip[..ip.rfind('.').unwrap()];
                let hit =
                    (1000..1050).any(|net| text(|o| r.cidr(net, o, false)).0.starts_with(prefix));
                inside += usize::from(hit);
            }
        }
        // 30 % in networks, most of them /24s or wider.
        assert!(inside > 300, "{inside}");
    }

    #[test]
    fn decimals_match_the_formatter() {
        let mut near_edges: Vec<u64> = (0..=1100).collect();
        for p in 1..20 {
            let t = 10u64.pow(p);
            near_edges.extend([t - 1, t, t + 1]);
        }
        near_edges.push(u64::MAX);
        for n in near_edges {
            let mut out = String::from("x");
            push_dec(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    #[test]
    fn port_and_hex_shapes() {
        let r = renderer();
        let mut rng = SplitMix64::new(3);
        for _ in 0..2_000 {
            let (s, ()) = text(|o| r.port(rng.next_u64(), o));
            let p: u32 = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            assert!((1..=65_535).contains(&p));
        }
        let (s, ()) = text(|o| push_hex(o, &mut rng, 64, false));
        assert_eq!(s.len(), 64);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let (s, ()) = text(|o| push_dec(o, 1_234_567));
        assert_eq!(s, "1234567");
    }

    #[test]
    fn ssdeep_shape() {
        let r = renderer();
        for id in 0..500u64 {
            let (s, ()) = text(|o| r.ssdeep(id, o));
            let parts: Vec<&str> = s.split(':').collect();
            assert_eq!(parts.len(), 3, "{s}");
            assert!(parts[0].parse::<u64>().is_ok_and(|b| b % 3 == 0), "{s}");
            assert!(
                parts[1..]
                    .iter()
                    .all(|p| p.bytes().all(|b| BASE64.contains(&b))),
                "{s}"
            );
            assert!(parts[1].len() <= 64 && parts[2].len() <= 32, "{s}");
        }
    }

    #[test]
    fn url_host_extraction() {
        assert_eq!(
            Renderer::url_host("https://a.example.com/x?y"),
            Some(("a.example.com", Family::V4, false))
        );
        assert_eq!(
            Renderer::url_host("http://1.2.3.4:8080/"),
            Some(("1.2.3.4", Family::V4, true))
        );
        assert_eq!(
            Renderer::url_host("http://[2001:db8::1]/a"),
            Some(("2001:db8::1", Family::V6, true))
        );
        assert_eq!(
            Renderer::url_host("http://user@host.org"),
            Some(("host.org", Family::V4, false))
        );
        assert_eq!(Renderer::url_host("http://localhost/"), None);
        assert_eq!(Renderer::url_host("no scheme"), None);
    }
}
