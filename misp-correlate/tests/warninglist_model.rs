//! The compiled matcher against a naive model of the contract
//! (`warninglist-contract.md` §2, MISP-compatible mode).
//!
//! The model keeps every list as its raw entries and, for each check, scans
//! all of them: string equality, `str::contains`, MISP's hostname walk
//! written as PHP does it (rebuilding suffix strings label by label, with
//! the `empty("0")` rule), CIDR containment by parsing every entry and
//! comparing the written text with its canonical form, and regexes tried in
//! order. Lists, values and types are drawn from small alphabets so that
//! matches, near-misses and the quirks all come up often.

mod warninglist_support;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use misp_correlate::warninglist::{Improvements, ListType, Query, ToIdsGate, Warninglist};
use proptest::prelude::*;
use warninglist_support::matcher;

#[derive(Clone, Debug)]
struct ModelList {
    name: String,
    list_type: ListType,
    /// `None`: no `matching_attributes` (all types).
    types: Option<Vec<String>>,
    entries: Vec<String>,
}

impl ModelList {
    fn applies_to(&self, ty: &str) -> bool {
        match &self.types {
            None => true,
            Some(types) => types.is_empty() || types.iter().any(|t| t == "ALL" || t == ty),
        }
    }

    fn to_warninglist(&self) -> Warninglist {
        let mut list = Warninglist::new(self.name.clone(), self.list_type);
        if let Some(types) = &self.types {
            list.set_matching_attributes(types.iter().cloned());
        }
        for entry in &self.entries {
            list.push_entry(entry);
        }
        list
    }

    /// The contract's result for one part: `Some(match)` or `None`.
    fn match_part(&self, part: &str) -> Option<String> {
        let entries = self.entries.iter().filter(|e| !e.is_empty() && *e != "0");
        match self.list_type {
            ListType::String => entries
                .into_iter()
                .any(|e| e == part)
                .then(|| part.to_owned()),
            ListType::Substring => entries
                .into_iter()
                .find(|e| part.contains(e.as_str()))
                .cloned(),
            ListType::Hostname => {
                let normalized: Vec<String> = entries
                    .map(|e| e.to_ascii_lowercase().trim_matches('.').to_owned())
                    .filter(|e| !e.is_empty())
                    .collect();
                let host = if part.contains("//") {
                    part.split('/').nth(2)?
                } else {
                    part.split('/').next()?
                };
                let host = host.trim_end_matches('.');
                let mut rebuilt = String::new();
                for piece in host.split('.').rev() {
                    rebuilt = if rebuilt.is_empty() || rebuilt == "0" {
                        piece.to_owned()
                    } else {
                        format!("{piece}.{rebuilt}")
                    };
                    if normalized.contains(&rebuilt) {
                        return Some(rebuilt);
                    }
                }
                None
            }
            ListType::Cidr => {
                let mut fields = part.split('/');
                let address: IpAddr = fields.next()?.parse().ok()?;
                let mask = fields.next();
                let shortest = entries
                    .filter_map(|e| model_network(e))
                    .filter(|(net, prefix)| contains(*net, *prefix, address))
                    .min_by_key(|(_, prefix)| *prefix)?;
                if let Some(mask) = mask {
                    let numeric = !mask.is_empty()
                        && mask != "-"
                        && mask.chars().all(|c| c.is_ascii_digit() || c == '-')
                        && mask.rfind('-').is_none_or(|i| i == 0);
                    if mask != "0" && numeric {
                        let value: f64 = mask.parse().ok()?;
                        if value < f64::from(shortest.1) {
                            return None;
                        }
                    }
                }
                Some(format!("{}/{}", shortest.0, shortest.1))
            }
            ListType::Regex => entries
                .into_iter()
                .find(|e| model_regex(e).is_some_and(|re| re.is_match(part)))
                .cloned(),
        }
    }
}

/// A CIDR entry as the contract reads it: IPv4 only in canonical text.
fn model_network(entry: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = match entry.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (entry, None),
    };
    let valid_prefix = |p: &str, max: u8| -> Option<u8> {
        (!p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u8>().ok())
            .flatten()
            .filter(|&v| v <= max)
    };
    if let Ok(v4) = address.parse::<Ipv4Addr>() {
        let prefix = match prefix {
            None => 32,
            Some(p) => valid_prefix(p, 32)?,
        };
        let net = Ipv4Addr::from(
            u32::from(v4) & u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0),
        );
        let canonical = match entry.contains('/') {
            true => format!("{net}/{prefix}"),
            false => net.to_string(),
        };
        return (canonical == entry).then_some((IpAddr::V4(net), prefix));
    }
    let v6: Ipv6Addr = address.parse().ok()?;
    let prefix = match prefix {
        None => 128,
        Some(p) => valid_prefix(p, 128)?,
    };
    let net = u128::from(v6) & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
    Some((IpAddr::V6(Ipv6Addr::from(net)), prefix))
}

fn contains(net: IpAddr, prefix: u8, address: IpAddr) -> bool {
    match (net, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n)
        }
        _ => false,
    }
}

/// The regex entries of the generator, translated by hand (PHP delimiters
/// and modifiers), `None` where PHP rejects the entry.
fn model_regex(entry: &str) -> Option<regex::Regex> {
    let pattern = match entry {
        "/^a/" => "^a",
        "/b$/i" => "(?i)b$",
        "/a.c/" => "a.c",
        "#x|y#" => "x|y",
        "(0\\.1)" => r"0\.1",
        "/x/g" | "^abc$" | "/(?<=a)b/" => return None,
        other => panic!("no model for {other}"),
    };
    regex::Regex::new(pattern).ok()
}

fn model_check(lists: &[ModelList], ty: &str, value: &str) -> BTreeMap<String, (String, String)> {
    let parts: Vec<&str> = if ty == "malware-sample" || ty.contains('|') {
        value.splitn(2, '|').collect()
    } else {
        vec![value]
    };
    let mut hits = BTreeMap::new();
    for list in lists.iter().filter(|l| l.applies_to(ty)) {
        for part in &parts {
            if let Some(matched) = list.match_part(part) {
                hits.insert(list.name.clone(), (matched, (*part).to_owned()));
                break;
            }
        }
    }
    hits
}

fn entry_strategy(list_type: ListType) -> BoxedStrategy<String> {
    let pool: &[&str] = match list_type {
        ListType::String => &[
            "a",
            "b",
            "a|b",
            "b|c",
            "A",
            "x.com",
            "www.x.com",
            ".x.com",
            "10.0.0.1",
            "x.com.",
        ],
        ListType::Substring => &["a", "b.", "x.c", "om", ".x", "A", "0.1", "|"],
        ListType::Hostname => &[
            "x.com", ".x.com", "com", "x.com.", "77", "Y.COM", "...", "0", ".0", "y.x.com",
            "*.x.com", "10.0.0.1", "com.0",
        ],
        ListType::Cidr => &[
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.0.0.5/8",
            "010.0.0.5",
            "10.0.0.5",
            "0.0.0.0/0",
            "10.0.0.0/08",
            "2001:db8::/32",
            "2001:db8::1/64",
            "::ffff:10.0.0.1",
            "fe80::/10",
            "1.2.3.0/24 ",
            "10.1.2.3/32",
            "10.1.2.0/24",
            "2001:db8::/128",
            "::/0",
        ],
        ListType::Regex => &[
            "/^a/",
            "/b$/i",
            "/a.c/",
            "#x|y#",
            "(0\\.1)",
            "/x/g",
            "^abc$",
            "/(?<=a)b/",
        ],
    };
    prop::sample::select(pool.to_vec())
        .prop_map(str::to_owned)
        .boxed()
}

fn list_strategy(name: String) -> impl Strategy<Value = ModelList> {
    let types = prop::option::of(prop::collection::vec(
        prop::sample::select(vec![
            "domain",
            "url",
            "ip-dst",
            "text",
            "domain|ip",
            "ALL",
            "made-up",
            "malware-sample",
        ]),
        0..3,
    ));
    (prop::sample::select(ListType::ALL.to_vec()), types).prop_flat_map(
        move |(list_type, types)| {
            let name = name.clone();
            let entries = match list_type {
                // Half of the substring lists have only patterns with two
                // bytes on each side of a dot: the lists the matcher gives
                // a dot-anchored searcher.
                ListType::Substring => prop_oneof![
                    prop::collection::vec(entry_strategy(list_type), 0..7),
                    prop::collection::vec(
                        prop::sample::select(vec![
                            "77.com", "com.x", "om.77", "10.0.0", "10.1.2.3"
                        ])
                        .prop_map(str::to_owned),
                        1..4
                    ),
                ]
                .boxed(),
                _ => prop::collection::vec(entry_strategy(list_type), 0..7).boxed(),
            };
            entries.prop_map(move |entries| ModelList {
                name: name.clone(),
                list_type,
                types: types
                    .as_ref()
                    .map(|t| t.iter().map(|s| (*s).to_owned()).collect()),
                entries,
            })
        },
    )
}

fn lists_strategy() -> impl Strategy<Value = Vec<ModelList>> {
    (1usize..5).prop_flat_map(|n| {
        (0..n)
            .map(|i| list_strategy(format!("L{i}")))
            .collect::<Vec<_>>()
    })
}

fn host_strategy() -> impl Strategy<Value = String> {
    let labels = prop::collection::vec(
        prop::sample::select(vec!["x", "y", "com", "0", "Com", "COM", "77", "a", ""]),
        1..4,
    );
    let prefix = prop::sample::select(vec!["", "", "http://", "//", "ftp://u@", "a/b//"]);
    let suffix = prop::sample::select(vec!["", "", "/p", ".", "?q", "/a//b", ":80/x"]);
    (prefix, labels, suffix).prop_map(|(p, l, s)| format!("{p}{}{s}", l.join(".")))
}

fn ip_strategy() -> impl Strategy<Value = String> {
    let address = prop::sample::select(vec![
        "10.0.0.1",
        "10.1.2.3",
        "10.0.0.5",
        "010.0.0.5",
        "::ffff:10.0.0.1",
        "2001:db8::1",
        "2001:DB8::ff",
        "fe80::1",
        "0.0.0.0",
        "1.2.3.4",
        "10.1.2.3:443",
    ]);
    let mask = prop::sample::select(vec![
        "", "", "", "/", "/0", "/8", "/16", "/24", "/32", "/7", "/abc", "/-1", "/064", "/128",
        "/48", "/24/5",
    ]);
    (address, mask).prop_map(|(a, m)| format!("{a}{m}"))
}

fn part_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        host_strategy(),
        ip_strategy(),
        prop::sample::select(vec![
            "a", "b", "abc", "ABC", "a.c", "0.1", "xy", "x.com", "b|c"
        ])
        .prop_map(str::to_owned),
    ]
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => part_strategy(),
        1 => (part_strategy(), part_strategy()).prop_map(|(a, b)| format!("{a}|{b}")),
    ]
}

fn type_strategy() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "domain",
        "url",
        "ip-dst",
        "text",
        "domain|ip",
        "ip-dst|port",
        "malware-sample",
        "made-up",
        "email-src",
    ])
}

fn engine_check(
    lists: &[ModelList],
    queries: &[(&str, String)],
) -> Vec<BTreeMap<String, (String, String)>> {
    let m = matcher(
        lists.iter().map(ModelList::to_warninglist).collect(),
        Improvements::MISP,
    );
    let query_list: Vec<Query<'_>> = queries
        .iter()
        .map(|(t, v)| Query::new(*t, v.as_str()))
        .collect();
    let batch = m.check_batch(&query_list, ToIdsGate::Off);
    // The one-thread batch, with a reused buffer that held other hits.
    let mut sequential = misp_correlate::warninglist::BatchHits::default();
    m.check_batch_into(
        &query_list[query_list.len() / 2..],
        ToIdsGate::Off,
        &mut sequential,
    );
    m.check_batch_into(&query_list, ToIdsGate::Off, &mut sequential);
    assert_eq!(sequential.len(), query_list.len());
    query_list
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let single = m.check_query(*q, ToIdsGate::Off);
            assert_eq!(batch.get(i), &single[..], "batch and single checks agree");
            assert_eq!(sequential.get(i), &single[..], "check_batch_into agrees");
            let names: Vec<&str> = single.iter().map(|h| h.list_name).collect();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(names, sorted, "sorted by name, one hit per list");
            single
                .iter()
                .map(|h| {
                    (
                        h.list_name.to_owned(),
                        (h.matched.to_string(), h.value.to_owned()),
                    )
                })
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(768))]

    #[test]
    fn compiled_matcher_equals_naive_model(
        lists in lists_strategy(),
        queries in prop::collection::vec((type_strategy(), value_strategy()), 1..12),
    ) {
        let results = engine_check(&lists, &queries);
        for ((ty, value), engine) in queries.iter().zip(results) {
            let model = model_check(&lists, ty, value);
            let engine_lists: Vec<&String> = engine.keys().collect();
            let model_lists: Vec<&String> = model.keys().collect();
            prop_assert_eq!(&engine_lists, &model_lists, "lists hit for {} {:?}", ty, value);
            for (name, (matched, part)) in &engine {
                let (model_match, model_part) = &model[name];
                prop_assert_eq!(part, model_part, "part for {} {} {:?}", name, ty, value);
                let list = lists.iter().find(|l| &l.name == name).expect("list");
                if list.list_type == ListType::Substring {
                    // Any contained entry may be reported.
                    prop_assert!(list.entries.contains(matched) && part.contains(matched.as_str()));
                } else {
                    prop_assert_eq!(matched, model_match, "match for {} {} {:?}", name, ty, value);
                }
            }
        }
    }

    #[test]
    fn list_order_does_not_matter(
        mut lists in lists_strategy(),
        queries in prop::collection::vec((type_strategy(), value_strategy()), 1..8),
    ) {
        let forward = engine_check(&lists, &queries);
        lists.reverse();
        for list in &mut lists {
            list.entries.reverse();
        }
        let backward = engine_check(&lists, &queries);
        for (i, (a, b)) in forward.iter().zip(&backward).enumerate() {
            let a_lists: Vec<&String> = a.keys().collect();
            let b_lists: Vec<&String> = b.keys().collect();
            prop_assert_eq!(a_lists, b_lists, "query {}", i);
        }
    }
}
