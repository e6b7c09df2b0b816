//! The compiled structures of a group of lists, and matching one value part
//! against them.
//!
//! A [`Segment`] holds every list of a build merged by kind: one string
//! table, one hostname table, one interval index per address family, one
//! Aho-Corasick automaton per group of substring lists with the same type
//! gate, and one `RegexSet` per regex list. Hits are offered per list; the
//! caller's [`Ctx`] says which lists apply and which already hit.

use aho_corasick::{AhoCorasick, MatchKind, packed};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::cidr::{self, Address, Bits, CidrIndex, Network};
use super::dotted::{AnchorUnion, DotAnchors};
use super::hash::FoldHasher;
use super::host::{self, TouchedSuffixes};
use super::list::ProblemKind;
use super::pcre;
use super::table::{KeyTable, KeyTableBuilder, LaidOutTable, ListSetPool, ListSetRef};
use super::{Hit, Improvements, ListId, ListType, Matched, Warninglist};
use crate::{Error, Result};

/// The host of a value part, as MISP or (improved) a URL parser finds it,
/// and whether the part is known to contain a `/` (MISP's reading finds
/// out on the way).
#[inline]
fn host_of<'a>(part: &'a str, ctx: &Ctx<'_>) -> (Option<&'a str>, bool) {
    if ctx.improvements.parse_urls {
        (Some(host::parsed_host(part)), false)
    } else {
        host::misp_host_and_slash(part)
    }
}

/// Structure bits: which parts of a segment a list has entries in.
pub(crate) const USES_STRINGS: u8 = 1;
pub(crate) const USES_HOSTS: u8 = 2;
pub(crate) const USES_CIDR: u8 = 4;
pub(crate) const USES_SUBSTRINGS: u8 = 8;
pub(crate) const USES_REGEX: u8 = 16;

/// Compiled form of a group of lists.
#[derive(Debug)]
pub(crate) struct Segment {
    pool: ListSetPool,
    strings: KeyTable,
    hosts: KeyTable,
    v4: CidrIndex<u32>,
    v6: CidrIndex<u128>,
    substrings: Vec<SubstringGroup>,
    /// How substring lists are looked up; see [`SubstringPlan`].
    substring_plan: SubstringPlan,
    regexes: Vec<RegexList>,
}

/// The substring groups split by searcher: those with a dot-anchored
/// searcher are ruled out together by one scan of the value's dots
/// against the union of their anchor filters (most values contain none
/// of their patterns), and only the others are then visited. Visiting a
/// group that does not apply costs about 30 instructions, a dot scan 60
/// to 120.
#[derive(Debug, Default)]
struct SubstringPlan {
    /// The union of the dot-anchored searchers' filters.
    dotted: AnchorUnion,
    /// The lists of the dot-anchored groups, as bits over list ids.
    dotted_lists: Vec<u64>,
    /// Indexes of the other groups in `substrings`.
    others: Vec<usize>,
}

impl SubstringPlan {
    fn new(groups: &[SubstringGroup]) -> SubstringPlan {
        let mut plan = SubstringPlan::default();
        for (index, group) in groups.iter().enumerate() {
            match (&group.dotted, &group.lists[..]) {
                (Some(searcher), [list]) => {
                    plan.dotted.add(searcher);
                    let (word, bit) = list.word_and_bit();
                    if plan.dotted_lists.len() <= word {
                        plan.dotted_lists.resize(word + 1, 0);
                    }
                    if let Some(w) = plan.dotted_lists.get_mut(word) {
                        *w |= bit;
                    }
                }
                _ => plan.others.push(index),
            }
        }
        plan
    }

    /// Whether a dot-anchored group may hit `part`: one of its lists
    /// applies and some dot of `part` has an anchor of theirs.
    #[inline]
    fn dotted_may_hit(&self, part: &[u8], ctx: &Ctx<'_>) -> bool {
        self.dotted_lists
            .iter()
            .zip(ctx.allowed)
            .any(|(dotted, allowed)| dotted & allowed != 0)
            && self.dotted.may_match(part)
    }
}

#[derive(Debug)]
struct SubstringGroup {
    lists: Vec<ListId>,
    automaton: AhoCorasick,
    /// For a group of one list with few patterns: aho-corasick's SIMD
    /// (Teddy) searcher on its own, which skips the automaton layer.
    packed: Option<packed::Searcher>,
    /// For a group of one list with few patterns, all with a dot: the
    /// dot-anchored searcher, cheaper still on short values.
    dotted: Option<DotAnchors>,
    /// Per pattern id: the pattern and the lists that contain it.
    patterns: Vec<(Box<str>, ListSetRef)>,
}

#[derive(Debug)]
struct RegexList {
    list: ListId,
    /// All usable patterns of the list, for a one-pass miss.
    set: Option<RegexSet>,
    /// The usable patterns in list order, with their entries.
    regexes: Vec<(Regex, Box<str>)>,
}

/// An entry that cannot be used, found while compiling.
#[derive(Debug)]
pub(crate) struct Unusable {
    pub(crate) list: ListId,
    pub(crate) index: usize,
    pub(crate) entry: String,
    pub(crate) kind: ProblemKind,
}

/// The result of compiling a group of lists.
pub(crate) struct Compiled {
    pub(crate) segment: Segment,
    pub(crate) unusable: Vec<Unusable>,
    /// Per input list (same order): structure bits.
    pub(crate) uses: Vec<u8>,
}

/// What one check may report: the lists that apply and their metadata.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'m> {
    /// Bit set of the lists that apply (enabled and type-gated).
    pub(crate) allowed: &'m [u64],
    /// Name and type of each list, by id.
    pub(crate) names: &'m [(Box<str>, ListType)],
    /// Structure bits of the lists that apply.
    pub(crate) uses: u8,
    /// Compare string lists ignoring ASCII case.
    pub(crate) fold_strings: bool,
    pub(crate) improvements: Improvements,
    /// Where this query's hits start in the hit vector (a batch shares it).
    pub(crate) first_hit: usize,
}

impl<'m> Ctx<'m> {
    #[inline]
    fn allows(&self, list: ListId) -> bool {
        let (word, bit) = list.word_and_bit();
        self.allowed.get(word).is_some_and(|w| w & bit != 0)
    }

    /// Whether `list` already hit for this query.
    #[inline]
    fn has_hit(&self, hits: &[Hit<'_>], list: ListId) -> bool {
        hits.get(self.first_hit..)
            .is_some_and(|own| own.iter().any(|h| h.list == list))
    }

    /// Whether `list` applies and has not hit yet.
    #[inline]
    pub(crate) fn is_open(&self, hits: &[Hit<'_>], list: ListId) -> bool {
        self.allows(list) && !self.has_hit(hits, list)
    }

    /// Records a hit for `list` unless it does not apply or already hit.
    #[inline]
    pub(crate) fn offer<'a>(
        &self,
        hits: &mut Vec<Hit<'a>>,
        list: ListId,
        matched: Matched<'a>,
        part: &'a str,
    ) where
        'm: 'a,
    {
        if !self.is_open(hits, list) {
            return;
        }
        if let Some((name, list_type)) = self.names.get(list.index()) {
            hits.push(Hit {
                list,
                list_name: name,
                list_type: *list_type,
                matched,
                value: part,
            });
        }
    }
}

/// How a CIDR value's mask restricts matches.
#[derive(Clone, Copy)]
enum MaskRule {
    /// No mask, or a mask MISP ignores (`""`, `"0"`, not numeric).
    Any,
    /// The entry's prefix must not exceed this value.
    AtMost(f64),
}

impl Segment {
    /// Checks one value part, appending hits for lists that apply and have
    /// not hit yet.
    ///
    /// The hash-table probes (the string key and up to
    /// [`host::MAX_TOUCHED_SUFFIXES`] host suffixes) are hashed first and their
    /// filter words and buckets touched, so that their cache misses are
    /// under way, overlapping, before any is looked up; probes the filters
    /// turn away are not looked up at all. When both tables hash alike, the
    /// suffix that is the whole part (a domain) reuses the string key's
    /// hash.
    pub(crate) fn check_part<'a>(&'a self, part: &'a str, ctx: &Ctx<'a>, hits: &mut Vec<Hit<'a>>) {
        let uses = ctx.uses;
        let (host, has_slash) = if uses & USES_HOSTS != 0 && !self.hosts.is_empty() {
            host_of(part, ctx)
        } else {
            (None, false)
        };
        // MISP's host is the whole part only when the part has no `/`: the
        // table sentinel `/` need not be searched for again. A part without
        // a host (a type no hostname list applies to: hashes, mostly) is
        // hashed without searching for the sentinel, which it seldom has
        // and which costs more to search for than hashing (a 32-byte md5:
        // about 50 instructions against 40).
        let slash_free =
            !ctx.improvements.parse_urls && host.is_some_and(|h| h.len() == part.len());
        let part_hash = (uses & USES_STRINGS != 0
            && !self.strings.is_empty()
            && (slash_free
                || host.is_none()
                || !self
                    .strings
                    .cannot_contain_known(part.as_bytes(), has_slash)))
        .then(|| self.strings.hash(part.as_bytes()));
        match host {
            Some(host) => self.check_host(host, part, part_hash, ctx, hits),
            None => {
                if let Some(hash) = part_hash.filter(|&hash| self.strings.touch(hash)) {
                    self.check_strings(part, hash, ctx, hits);
                }
            }
        }
        if uses & USES_CIDR != 0 && !(self.v4.is_empty() && self.v6.is_empty()) {
            self.check_cidr(part, ctx, hits);
        }
        if uses & USES_SUBSTRINGS != 0 {
            self.check_substrings(part, ctx, hits);
        }
        if uses & USES_REGEX != 0 {
            self.check_regexes(part, ctx, hits);
        }
    }

    /// The string and hostname look-ups of a part with a host; see
    /// [`check_part`](Self::check_part).
    #[inline]
    fn check_host<'a>(
        &'a self,
        host: &'a str,
        part: &'a str,
        part_hash: Option<u64>,
        ctx: &Ctx<'a>,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let string_hash = part_hash.filter(|&hash| self.strings.touch(hash));
        let zero_quirk = !ctx.improvements.no_zero_label_quirk;
        // A suffix as long as the part is the part: with a shared hasher it
        // reuses the part's hash.
        let whole = part_hash
            .filter(|_| self.hosts.hasher() == self.strings.hasher())
            .map(|hash| (part.len(), hash));
        let mut suffixes = TouchedSuffixes::new();
        suffixes.plan(
            host,
            zero_quirk,
            whole,
            self.hosts.single_label_lengths(),
            |suffix| self.hosts.hash(suffix),
            |hash| self.hosts.touch(hash),
        );
        if let Some(hash) = string_hash {
            self.check_strings(part, hash, ctx, hits);
        }
        for (suffix, hash) in suffixes.admitted() {
            self.check_suffix(suffix, hash, part, ctx, hits);
        }
        suffixes.for_each_unplanned(|suffix| {
            let hash = self.hosts.hash(suffix.as_bytes());
            if self.hosts.touch(hash) {
                self.check_suffix(suffix, hash, part, ctx, hits);
            }
        });
    }

    fn check_strings<'a>(
        &'a self,
        part: &'a str,
        hash: u64,
        ctx: &Ctx<'a>,
        hits: &mut Vec<Hit<'a>>,
    ) {
        if ctx.fold_strings {
            self.strings
                .for_each_ignore_case(part.as_bytes(), hash, |_, set| {
                    for list in self.pool.lists(set) {
                        ctx.offer(hits, list, Matched::Text(part), part);
                    }
                });
        } else if let Some(set) = self.strings.get(part.as_bytes(), hash) {
            for list in self.pool.lists(set) {
                ctx.offer(hits, list, Matched::Text(part), part);
            }
        }
    }

    #[inline]
    fn check_suffix<'a>(
        &'a self,
        suffix: &'a str,
        hash: u64,
        part: &'a str,
        ctx: &Ctx<'a>,
        hits: &mut Vec<Hit<'a>>,
    ) {
        let mut offer_key = |key: &'a str, set: ListSetRef| {
            for list in self.pool.lists(set) {
                ctx.offer(hits, list, Matched::Text(key), part);
            }
        };
        if ctx.improvements.lowercase_hosts {
            self.hosts
                .for_each_ignore_case(suffix.as_bytes(), hash, &mut offer_key);
        } else if let Some(set) = self.hosts.get(suffix.as_bytes(), hash) {
            // The key is the suffix, byte for byte.
            offer_key(suffix, set);
        }
    }

    fn check_cidr<'a>(&'a self, part: &'a str, ctx: &Ctx<'a>, hits: &mut Vec<Hit<'a>>) {
        let Some((address, mask)) = cidr::parse_value(part) else {
            return;
        };
        match address {
            Address::V4(addr) => cidr_hits(&self.v4, addr, mask, part, ctx, hits),
            Address::V6(addr) => cidr_hits(&self.v6, addr, mask, part, ctx, hits),
        }
    }

    fn check_substrings<'a>(&'a self, part: &'a str, ctx: &Ctx<'a>, hits: &mut Vec<Hit<'a>>) {
        let plan = &self.substring_plan;
        if plan.dotted_may_hit(part.as_bytes(), ctx) {
            for group in &self.substrings {
                self.check_substring_group(group, part, ctx, hits);
            }
        } else {
            for group in plan.others.iter().filter_map(|&i| self.substrings.get(i)) {
                self.check_substring_group(group, part, ctx, hits);
            }
        }
    }

    /// The substring look-up of one group; see
    /// [`check_substrings`](Self::check_substrings).
    #[inline]
    fn check_substring_group<'a>(
        &'a self,
        group: &'a SubstringGroup,
        part: &'a str,
        ctx: &Ctx<'a>,
        hits: &mut Vec<Hit<'a>>,
    ) {
        if let [list] = group.lists[..] {
            if !ctx.is_open(hits, list) {
                return;
            }
            let found = match (&group.dotted, &group.packed) {
                (Some(dotted), _) => dotted.find(part.as_bytes()),
                (None, Some(packed)) => packed.find(part).map(|m| m.pattern().as_usize()),
                (None, None) => group.automaton.find(part).map(|m| m.pattern().as_usize()),
            };
            if let Some((pattern, _)) = found.and_then(|i| group.patterns.get(i)) {
                ctx.offer(hits, list, Matched::Text(pattern), part);
            }
            return;
        }
        let open = group
            .lists
            .iter()
            .filter(|&&l| ctx.is_open(hits, l))
            .count();
        if open == 0 {
            return;
        }
        let before = hits.len();
        for m in group.automaton.find_overlapping_iter(part) {
            if let Some((pattern, set)) = group.patterns.get(m.pattern().as_usize()) {
                for list in self.pool.lists(*set) {
                    ctx.offer(hits, list, Matched::Text(pattern), part);
                }
            }
            if hits.len() - before == open {
                break;
            }
        }
    }

    fn check_regexes<'a>(&'a self, part: &'a str, ctx: &Ctx<'a>, hits: &mut Vec<Hit<'a>>) {
        let haystack = part.as_bytes();
        for regexes in &self.regexes {
            if !ctx.is_open(hits, regexes.list) {
                continue;
            }
            if regexes
                .set
                .as_ref()
                .is_some_and(|set| !set.is_match(haystack))
            {
                continue;
            }
            if let Some((_, entry)) = regexes.regexes.iter().find(|(re, _)| re.is_match(haystack)) {
                ctx.offer(hits, regexes.list, Matched::Text(entry), part);
            }
        }
    }

    /// Bytes of heap memory held (regexes are not counted: the `regex`
    /// crate does not report its size).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.pool.heap_bytes()
            + self.strings.heap_bytes()
            + self.hosts.heap_bytes()
            + self.v4.heap_bytes()
            + self.v6.heap_bytes()
            + self
                .substrings
                .iter()
                .map(|g| {
                    g.automaton.memory_usage()
                        + g.packed.as_ref().map_or(0, packed::Searcher::memory_usage)
                        + g.dotted.as_ref().map_or(0, DotAnchors::heap_bytes)
                        + g.patterns.iter().map(|(p, _)| p.len() + 24).sum::<usize>()
                        + g.lists.capacity() * 2
                })
                .sum::<usize>()
            + self.substring_plan.dotted.heap_bytes()
            + self.substring_plan.dotted_lists.capacity() * 8
            + self.substring_plan.others.capacity() * 8
            + self
                .regexes
                .iter()
                .map(|r| r.regexes.iter().map(|(_, e)| e.len() + 32).sum::<usize>())
                .sum::<usize>()
    }

    /// Number of distinct keys in the string and hostname tables.
    pub(crate) fn key_counts(&self) -> (usize, usize) {
        (self.strings.len(), self.hosts.len())
    }
}

fn cidr_hits<'a, A: Bits>(
    index: &'a CidrIndex<A>,
    addr: A,
    mask: Option<&str>,
    part: &'a str,
    ctx: &Ctx<'a>,
    hits: &mut Vec<Hit<'a>>,
) {
    let improvements = &ctx.improvements;
    let strict_prefix = mask.map(|text| cidr::parse_prefix(text, A::WIDTH));
    let rule = match mask {
        None => MaskRule::Any,
        Some(_) if improvements.strict_cidr_masks => match strict_prefix.flatten() {
            Some(prefix) => MaskRule::AtMost(f64::from(prefix)),
            None => return,
        },
        // PHP: `if ($match && $valueMask)`: "" and "0" are falsy; a
        // non-numeric mask never compares as smaller than the entry's.
        Some("" | "0") => MaskRule::Any,
        Some(text) => cidr::php_numeric(text).map_or(MaskRule::Any, MaskRule::AtMost),
    };
    for net in index.covering(addr) {
        if let MaskRule::AtMost(value_mask) = rule {
            if value_mask < f64::from(net.prefix) {
                continue;
            }
        }
        if let Some(ipnet) = net.to_ipnet() {
            ctx.offer(hits, net.list, Matched::Network(ipnet), part);
        }
    }
    if let (true, MaskRule::AtMost(_), Some(Some(prefix))) =
        (improvements.cidr_overlap, rule, strict_prefix)
    {
        let first = addr.and(A::mask(prefix));
        let last = A::last_in(first, prefix);
        for (k, list) in index.lists().enumerate() {
            if !ctx.is_open(hits, list) {
                continue;
            }
            if let Some(ipnet) = index
                .first_inside(k, first, last)
                .and_then(|n| n.to_ipnet())
            {
                ctx.offer(hits, list, Matched::Network(ipnet), part);
            }
        }
    }
}

/// Compiles `lists` into one segment.
pub(crate) fn compile(
    lists: &[(ListId, &Warninglist)],
    improvements: &Improvements,
) -> Result<Compiled> {
    // One seed for both tables, so that a domain probes both with one hash
    // when they fold case alike; each folds case only when it is looked up
    // ignoring case.
    let hasher = FoldHasher::random(false);
    let string_hasher = hasher.folding(improvements.case_insensitive_domain_strings);
    let host_hasher = hasher.folding(improvements.lowercase_hosts);
    let ((strings, hosts), (cidr, (substrings, regexes))) = rayon::join(
        || {
            rayon::join(
                || build_strings(lists, string_hasher),
                || build_hosts(lists, improvements, host_hasher),
            )
        },
        || {
            rayon::join(
                || build_cidr(lists, improvements),
                || {
                    rayon::join(
                        || build_substrings(lists),
                        || build_regexes(lists, improvements),
                    )
                },
            )
        },
    );
    let (strings, hosts) = (strings?, hosts?);
    let ((v4, v6), mut unusable) = cidr;
    let (regexes, regex_unusable) = regexes;
    let (hosts, host_unusable) = hosts;
    unusable.extend(host_unusable);
    unusable.extend(regex_unusable);

    let mut pool = ListSetPool::default();
    let strings = strings.intern(&mut pool)?;
    let hosts = hosts.intern(&mut pool)?;
    let substrings = finish_substrings(substrings?, &mut pool)?;
    pool.seal();

    let uses = lists
        .iter()
        .map(|(_, list)| match list.list_type() {
            ListType::String => {
                let dotted = improvements.dotted_strings_as_hostnames
                    && list.entries().any(|e| e.starts_with('.'));
                USES_STRINGS | if dotted { USES_HOSTS } else { 0 }
            }
            ListType::Hostname => USES_HOSTS,
            ListType::Cidr => USES_CIDR,
            ListType::Substring => USES_SUBSTRINGS,
            ListType::Regex => USES_REGEX,
        })
        .collect();
    unusable.sort_by_key(|u| (u.list, u.index));
    Ok(Compiled {
        segment: Segment {
            pool,
            strings,
            hosts,
            v4,
            v6,
            substring_plan: SubstringPlan::new(&substrings),
            substrings,
            regexes,
        },
        unusable,
        uses,
    })
}

/// Number of entries and their total bytes in the lists of type `ty`.
fn entries_of(lists: &[(ListId, &Warninglist)], ty: ListType) -> (usize, usize) {
    lists
        .iter()
        .filter(|(_, l)| l.list_type() == ty)
        .fold((0, 0), |(n, b), (_, l)| (n + l.len(), b + l.entry_bytes()))
}

fn build_strings(lists: &[(ListId, &Warninglist)], hasher: FoldHasher) -> Result<LaidOutTable> {
    let (keys, bytes) = entries_of(lists, ListType::String);
    let mut table = KeyTableBuilder::with_capacity(keys, bytes, hasher);
    for (id, list) in lists
        .iter()
        .filter(|(_, l)| l.list_type() == ListType::String)
    {
        for entry in list.entries() {
            table.insert(entry.as_bytes(), *id)?;
        }
    }
    Ok(table.lay_out())
}

fn build_hosts(
    lists: &[(ListId, &Warninglist)],
    improvements: &Improvements,
    hasher: FoldHasher,
) -> Result<(LaidOutTable, Vec<Unusable>)> {
    let (keys, bytes) = entries_of(lists, ListType::Hostname);
    let mut table = KeyTableBuilder::with_capacity(keys, bytes, hasher);
    let mut unusable = Vec::new();
    for (id, list) in lists {
        match list.list_type() {
            ListType::Hostname => {
                for (index, entry) in list.entries().enumerate() {
                    let trimmed = host::trim_entry(entry);
                    if trimmed.is_empty() {
                        unusable.push(Unusable {
                            list: *id,
                            index,
                            entry: entry.to_owned(),
                            kind: ProblemKind::EmptyHostname,
                        });
                    } else {
                        table.insert_lowercase(trimmed.as_bytes(), *id)?;
                    }
                }
            }
            ListType::String if improvements.dotted_strings_as_hostnames => {
                for entry in list.entries().filter(|e| e.starts_with('.')) {
                    let trimmed = host::trim_entry(entry);
                    if !trimmed.is_empty() {
                        table.insert_lowercase(trimmed.as_bytes(), *id)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok((table.lay_out(), unusable))
}

type CidrLists<A> = Vec<(ListId, Vec<(A, u8)>)>;

fn build_cidr(
    lists: &[(ListId, &Warninglist)],
    improvements: &Improvements,
) -> ((CidrIndex<u32>, CidrIndex<u128>), Vec<Unusable>) {
    let mut v4: CidrLists<u32> = Vec::new();
    let mut v6: CidrLists<u128> = Vec::new();
    let mut unusable = Vec::new();
    for (id, list) in lists
        .iter()
        .filter(|(_, l)| l.list_type() == ListType::Cidr)
    {
        let (mut four, mut six) = (Vec::new(), Vec::new());
        for (index, entry) in list.entries().enumerate() {
            match cidr::parse_entry(entry) {
                Ok(Network::V4 { net, prefix }) => four.push((net, prefix)),
                Ok(Network::V6 { net, prefix }) => six.push((net, prefix)),
                Err(why) => unusable.push(Unusable {
                    list: *id,
                    index,
                    entry: entry.to_owned(),
                    kind: ProblemKind::InvalidCidr(why),
                }),
            }
        }
        v4.push((*id, four));
        v6.push((*id, six));
    }
    let overlap = improvements.cidr_overlap;
    let indexes = rayon::join(
        || CidrIndex::build(v4, overlap),
        || CidrIndex::build(v6, overlap),
    );
    (indexes, unusable)
}

/// Substring lists grouped by type gate, with deduplicated patterns.
struct SubstringDraft {
    lists: Vec<ListId>,
    patterns: Vec<(Box<str>, Vec<ListId>)>,
    automaton: AhoCorasick,
    packed: Option<packed::Searcher>,
    dotted: Option<DotAnchors>,
}

fn build_substrings(lists: &[(ListId, &Warninglist)]) -> Result<Vec<SubstringDraft>> {
    // (type gate, lists with that gate)
    type Group<'l> = (Vec<String>, Vec<(ListId, &'l Warninglist)>);
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (id, list) in lists
        .iter()
        .filter(|(_, l)| l.list_type() == ListType::Substring)
    {
        let mut gate: Vec<String> = list.matching_attributes().to_vec();
        gate.sort();
        gate.dedup();
        if gate.iter().any(|t| t == "ALL") {
            gate.clear();
        }
        match groups.iter_mut().find(|(g, _)| *g == gate) {
            Some((_, members)) => members.push((*id, *list)),
            None => groups.push((gate, vec![(*id, *list)])),
        }
    }
    let mut drafts = Vec::with_capacity(groups.len());
    for (_, members) in groups {
        let mut index: ahash::HashMap<&str, usize> = ahash::HashMap::default();
        let mut patterns: Vec<(Box<str>, Vec<ListId>)> = Vec::new();
        for (id, list) in &members {
            for entry in list.entries() {
                match index.get(entry) {
                    Some(&i) => {
                        if let Some((_, ids)) = patterns.get_mut(i) {
                            if ids.last() != Some(id) {
                                ids.push(*id);
                            }
                        }
                    }
                    None => {
                        index.insert(entry, patterns.len());
                        patterns.push((entry.into(), vec![*id]));
                    }
                }
            }
        }
        // One list needs any match: leftmost-first allows aho-corasick's
        // SIMD searcher for small pattern sets. Several lists need every
        // match: standard semantics with overlapping search.
        let match_kind = if members.len() == 1 {
            MatchKind::LeftmostFirst
        } else {
            MatchKind::Standard
        };
        let automaton = AhoCorasick::builder()
            .match_kind(match_kind)
            .build(patterns.iter().map(|(p, _)| p.as_bytes()))
            .map_err(|e| {
                Error::InvalidArgument(format!("warninglists: substring automaton: {e}"))
            })?;
        let packed = (members.len() == 1 && patterns.len() <= 64)
            .then(|| {
                let mut config = packed::Config::new();
                config.match_kind(packed::MatchKind::LeftmostFirst);
                config
                    .builder()
                    .extend(patterns.iter().map(|(p, _)| p.as_bytes()))
                    .build()
            })
            .flatten();
        let dotted = (members.len() == 1 && patterns.len() <= 64)
            .then(|| DotAnchors::build(patterns.iter().map(|(p, _)| p.as_bytes())))
            .flatten();
        drafts.push(SubstringDraft {
            lists: members.iter().map(|(id, _)| *id).collect(),
            patterns,
            automaton,
            packed,
            dotted,
        });
    }
    Ok(drafts)
}

fn finish_substrings(
    drafts: Vec<SubstringDraft>,
    pool: &mut ListSetPool,
) -> Result<Vec<SubstringGroup>> {
    drafts
        .into_iter()
        .map(|draft| {
            let patterns = draft
                .patterns
                .into_iter()
                .map(|(pattern, mut ids)| {
                    ids.sort_unstable();
                    ids.dedup();
                    Ok((pattern, pool.intern(&ids)?))
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(SubstringGroup {
                lists: draft.lists,
                automaton: draft.automaton,
                packed: draft.packed,
                dotted: draft.dotted,
                patterns,
            })
        })
        .collect()
}

fn build_regexes(
    lists: &[(ListId, &Warninglist)],
    improvements: &Improvements,
) -> (Vec<RegexList>, Vec<Unusable>) {
    let mut out = Vec::new();
    let mut unusable = Vec::new();
    for (id, list) in lists
        .iter()
        .filter(|(_, l)| l.list_type() == ListType::Regex)
    {
        let mut regexes = Vec::new();
        let mut sources = Vec::new();
        for (index, entry) in list.entries().enumerate() {
            let compiled = pcre::translate(entry, improvements.regex_global_modifier)
                .map_err(|e| e.to_string())
                .and_then(|pattern| {
                    RegexBuilder::new(&pattern)
                        .build()
                        .map(|re| (re, pattern))
                        .map_err(|e| flatten_regex_error(&e.to_string()))
                });
            match compiled {
                Ok((re, pattern)) => {
                    regexes.push((re, Box::from(entry)));
                    sources.push(pattern);
                }
                Err(why) => unusable.push(Unusable {
                    list: *id,
                    index,
                    entry: entry.to_owned(),
                    kind: ProblemKind::InvalidRegex(why),
                }),
            }
        }
        // The set is only a fast path for misses; if it cannot be built the
        // patterns are tried one by one.
        let set = (regexes.len() > 1)
            .then(|| RegexSetBuilder::new(&sources).build().ok())
            .flatten();
        out.push(RegexList {
            list: *id,
            set,
            regexes,
        });
    }
    (out, unusable)
}

/// The `regex` crate's multi-line error as one line.
fn flatten_regex_error(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.iter().rev().find(|l| l.starts_with("error:")) {
        Some(error) => format!("regex crate: {}", error.trim_start_matches("error:").trim()),
        None => format!("regex crate: {}", lines.join(" ")),
    }
}

/// Raw access for snapshots.
impl Segment {
    /// The list-set pool the key tables refer to.
    pub(crate) fn pool(&self) -> &ListSetPool {
        &self.pool
    }

    /// The string table.
    pub(crate) fn strings(&self) -> &KeyTable {
        &self.strings
    }

    /// The hostname table.
    pub(crate) fn hosts(&self) -> &KeyTable {
        &self.hosts
    }

    /// The IPv4 and IPv6 interval indexes.
    pub(crate) fn cidr(&self) -> (&CidrIndex<u32>, &CidrIndex<u128>) {
        (&self.v4, &self.v6)
    }

    /// The substring patterns of each substring list, in automaton order
    /// (compiling lists with these entries gives the same automata).
    pub(crate) fn substring_entries(&self) -> Vec<(ListId, Vec<&str>)> {
        let mut out: Vec<(ListId, Vec<&str>)> = Vec::new();
        for group in &self.substrings {
            for list in &group.lists {
                out.push((*list, Vec::new()));
            }
            for (pattern, set) in &group.patterns {
                for list in self.pool.lists(*set) {
                    if let Some((_, entries)) = out.iter_mut().find(|(l, _)| *l == list) {
                        entries.push(pattern);
                    }
                }
            }
        }
        out
    }

    /// The usable entries of each regex list, in list order.
    pub(crate) fn regex_entries(&self) -> Vec<(ListId, Vec<&str>)> {
        self.regexes
            .iter()
            .map(|r| (r.list, r.regexes.iter().map(|(_, e)| &**e).collect()))
            .collect()
    }
}
