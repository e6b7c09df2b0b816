//! The matcher's API: enabling lists, custom lists at run time, batches,
//! event summaries, the `to_ids` gate, type names, and each improvement
//! switch on its own.

mod warninglist_support;

use misp_core::AttributeType;
use misp_correlate::warninglist::{
    Improvements, ListType, MatcherBuilder, ProblemKind, Query, ToIdsGate, Warninglist,
};
use warninglist_support::{list, matcher, triples};

fn ty(name: &str) -> AttributeType {
    AttributeType::from_name(name).expect("known type")
}

fn names(hits: &[misp_correlate::warninglist::Hit<'_>]) -> Vec<String> {
    hits.iter().map(|h| h.list_name.to_owned()).collect()
}

fn gated(name: &str, list_type: ListType, types: &[&str], entries: &[&str]) -> Warninglist {
    let mut l = list(name, list_type, entries);
    l.set_matching_attributes(types.iter().copied());
    l
}

#[test]
fn hits_are_sorted_by_list_name_one_per_list() {
    let m = matcher(
        vec![
            list(
                "b-hosts",
                ListType::Hostname,
                &["example.com", "www.example.com"],
            ),
            list("a-strings", ListType::String, &["www.example.com"]),
            list("c-substrings", ListType::Substring, &["exam", "ample"]),
        ],
        Improvements::MISP,
    );
    let hits = m.check(ty("domain"), "www.example.com");
    assert_eq!(names(&hits), ["a-strings", "b-hosts", "c-substrings"]);
    // Shortest suffix first.
    assert_eq!(hits[1].matched.to_string(), "example.com");
}

#[test]
fn hosts_with_many_labels_match_at_every_depth() {
    // The matcher plans the first eight suffixes of a host together (and
    // drops those its filters turn away); the ninth and later are looked up
    // afterwards. Each list must still report its shortest suffix.
    let host = "l.k.j.i.h.g.f.e.d.c.b.a";
    let m = matcher(
        vec![
            list("depth-3", ListType::Hostname, &["c.b.a", "e.d.c.b.a"]),
            list("depth-8", ListType::Hostname, &["h.g.f.e.d.c.b.a"]),
            list("depth-9", ListType::Hostname, &["i.h.g.f.e.d.c.b.a"]),
            list("depth-12", ListType::Hostname, &[host]),
            list("absent", ListType::Hostname, &["x.a", "a.b.c"]),
        ],
        Improvements::MISP,
    );
    let hits = m.check(ty("domain"), host);
    assert_eq!(names(&hits), ["depth-12", "depth-3", "depth-8", "depth-9"]);
    let matched: Vec<String> = hits.iter().map(|h| h.matched.to_string()).collect();
    assert_eq!(
        matched,
        [host, "c.b.a", "h.g.f.e.d.c.b.a", "i.h.g.f.e.d.c.b.a"]
    );
    let url = format!("http://{host}/path");
    let batch = m.check_batch(&[Query::new(ty("url"), &url)], ToIdsGate::Off);
    assert_eq!(
        names(batch.get(0)),
        ["depth-12", "depth-3", "depth-8", "depth-9"]
    );
}

#[test]
fn enable_and_disable_by_name() {
    let mut m = matcher(
        vec![
            list("one", ListType::String, &["x"]),
            list("two", ListType::String, &["x"]),
        ],
        Improvements::MISP,
    );
    assert_eq!(names(&m.check(ty("text"), "x")), ["one", "two"]);
    m.set_enabled("one", false).expect("known list");
    assert_eq!(names(&m.check(ty("text"), "x")), ["two"]);
    assert!(
        !m.list(m.list_id("one").expect("id"))
            .expect("info")
            .is_enabled()
    );
    m.set_all_enabled(false);
    assert!(m.check(ty("text"), "x").is_empty());
    m.set_enabled("one", true).expect("known list");
    assert_eq!(names(&m.check(ty("text"), "x")), ["one"]);
    assert!(m.set_enabled("three", true).is_err());
}

#[test]
fn custom_lists_at_run_time() {
    let mut m = matcher(
        vec![list("m-base", ListType::String, &["x"])],
        Improvements::MISP,
    );
    let (id, problems) = m
        .add_list(list("a-custom", ListType::Hostname, &["x", "..."]))
        .expect("add");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].kind, ProblemKind::EmptyHostname);
    assert_eq!(m.list(id).expect("info").name(), "a-custom");
    assert_eq!(names(&m.check(ty("domain"), "x")), ["a-custom", "m-base"]);
    assert_eq!(names(&m.check(ty("domain"), "y.x")), ["a-custom"]);

    let (_, problems) = m
        .add_list(list("z-custom", ListType::Cidr, &["10.0.0.0/8"]))
        .expect("add");
    assert!(problems.is_empty());
    assert_eq!(names(&m.check(ty("ip-dst"), "10.1.1.1")), ["z-custom"]);
    // Earlier custom lists keep working after another addition.
    assert_eq!(names(&m.check(ty("domain"), "y.x")), ["a-custom"]);
    let order: Vec<&str> = m.lists().map(|l| l.name()).collect();
    assert_eq!(order, ["a-custom", "m-base", "z-custom"]);

    assert!(
        m.add_list(list("m-base", ListType::String, &[])).is_err(),
        "names are unique"
    );
    m.set_enabled("z-custom", false).expect("known");
    assert!(m.check(ty("ip-dst"), "10.1.1.1").is_empty());
    assert_eq!(m.stats().total, 4);
}

#[test]
fn builder_rejects_duplicate_names() {
    let mut b = MatcherBuilder::new();
    b.add(list("same", ListType::String, &["a"]))
        .expect("first");
    assert!(b.add(list("same", ListType::String, &["b"])).is_err());
    let (m, _) = b.build().expect("build");
    assert_eq!(m.list_count(), 1);
}

#[test]
fn batches_match_single_checks_and_summaries_group_by_list() {
    let m = matcher(
        vec![
            gated(
                "private",
                ListType::Cidr,
                &["ip-dst", "domain|ip"],
                &["10.0.0.0/8"],
            ),
            gated(
                "hosts",
                ListType::Hostname,
                &["domain", "domain|ip"],
                &["example.com"],
            ),
        ],
        Improvements::MISP,
    );
    let values: Vec<(AttributeType, String)> = (0..5000)
        .map(|i| match i % 4 {
            0 => (ty("ip-dst"), format!("10.0.{}.{}", i % 256, i % 7)),
            1 => (ty("domain"), format!("h{i}.example.com")),
            2 => (
                ty("domain|ip"),
                format!("h{i}.example.org|10.{}.0.1", i % 256),
            ),
            _ => (ty("ip-dst"), format!("192.0.2.{}", i % 256)),
        })
        .collect();
    let queries: Vec<Query<'_>> = values.iter().map(|(t, v)| Query::new(*t, v)).collect();
    let batch = m.check_batch(&queries, ToIdsGate::Off);
    assert_eq!(batch.len(), queries.len());
    for (i, q) in queries.iter().enumerate() {
        assert_eq!(
            batch.get(i),
            &m.check_query(*q, ToIdsGate::Off)[..],
            "query {i}"
        );
    }
    assert_eq!(batch.hit_count(), 3750);

    let event = [
        Query::new(ty("ip-dst"), "10.1.1.1").with_to_ids(true),
        Query::new(ty("domain"), "a.example.com"),
        Query::new(ty("ip-dst"), "192.0.2.1").with_to_ids(true),
        Query::new(ty("domain|ip"), "b.example.com|10.2.2.2").with_to_ids(true),
    ];
    let summary = m.summarize(&event, ToIdsGate::Off);
    let shape: Vec<(&str, Vec<usize>)> = summary
        .iter()
        .map(|s| (s.name, s.hits.iter().map(|(i, _)| *i).collect()))
        .collect();
    assert_eq!(shape, [("hosts", vec![1, 3]), ("private", vec![0, 3])]);
    assert_eq!(summary[1].hits[1].1.value, "10.2.2.2");
    // With the to_ids gate, the non-IDS domain attribute is not checked.
    let gated_summary = m.summarize(&event, ToIdsGate::On);
    let shape: Vec<(&str, Vec<usize>)> = gated_summary
        .iter()
        .map(|s| (s.name, s.hits.iter().map(|(i, _)| *i).collect()))
        .collect();
    assert_eq!(shape, [("hosts", vec![3]), ("private", vec![0, 3])]);
}

#[test]
fn type_names_gate_like_misp() {
    let m = matcher(
        vec![
            gated("for-ip", ListType::String, &["ip-dst"], &["v"]),
            list("for-all", ListType::String, &["v"]),
            gated("for-odd", ListType::String, &["odd|type"], &["b"]),
        ],
        Improvements::MISP,
    );
    let check = |t: &str, v: &str| names(&m.check_query(Query::new(t, v), ToIdsGate::Off));
    assert_eq!(check("ip-dst", "v"), ["for-all", "for-ip"]);
    assert_eq!(check("ip-src", "v"), ["for-all"]);
    assert_eq!(check("made-up", "v"), ["for-all"]);
    assert_eq!(check("IP-DST", "v"), ["for-all"], "case-sensitive");
    // A name with `|` splits the value, known or not.
    assert_eq!(check("odd|type", "a|b"), ["for-odd"]);
    assert_eq!(check("made|up", "a|v"), ["for-all"]);
    assert_eq!(check("malware-sample", "x.exe|v"), ["for-all"]);
    // Known types resolve the same way by name or by id.
    assert_eq!(
        m.check_query(Query::new("ip-dst", "v"), ToIdsGate::Off),
        m.check_query(Query::new(ty("ip-dst"), "v"), ToIdsGate::Off)
    );
}

fn one(
    list_type: ListType,
    entries: &[&str],
    improvements: Improvements,
    t: &str,
    v: &str,
) -> Vec<(String, String)> {
    let m = matcher(vec![list("L", list_type, entries)], improvements);
    triples(&m.check_query(Query::new(t, v), ToIdsGate::Off))
        .into_iter()
        .map(|(_, m, p)| (m, p))
        .collect()
}

fn hit(matched: &str, part: &str) -> Vec<(String, String)> {
    vec![(matched.to_owned(), part.to_owned())]
}

#[test]
fn improvement_lowercase_hosts() {
    let on = Improvements {
        lowercase_hosts: true,
        ..Improvements::MISP
    };
    let entries = &["example.com"];
    assert!(
        one(
            ListType::Hostname,
            entries,
            Improvements::MISP,
            "url",
            "http://WWW.EXAMPLE.com/x"
        )
        .is_empty()
    );
    assert_eq!(
        one(
            ListType::Hostname,
            entries,
            on,
            "url",
            "http://WWW.EXAMPLE.com/x"
        ),
        hit("example.com", "http://WWW.EXAMPLE.com/x")
    );
    // Ports still block without URL parsing.
    assert!(
        one(
            ListType::Hostname,
            entries,
            on,
            "url",
            "http://EXAMPLE.com:80/"
        )
        .is_empty()
    );
}

#[test]
fn improvement_parse_urls() {
    let on = Improvements {
        parse_urls: true,
        ..Improvements::MISP
    };
    let entries = &["example.com"];
    for url in [
        "https://www.example.com:443/x",
        "http://example.com?x=1",
        "http://example.com#frag",
        "example.com/redirect?u=http://foo",
        "https://user:pw@example.com/",
        "www.example.com:8080",
    ] {
        assert!(
            one(ListType::Hostname, entries, Improvements::MISP, "url", url).is_empty(),
            "{url}"
        );
        assert_eq!(
            one(ListType::Hostname, entries, on, "url", url).len(),
            1,
            "{url}"
        );
    }
    // Case still matters without lowercase_hosts.
    assert!(
        one(
            ListType::Hostname,
            entries,
            on,
            "url",
            "http://EXAMPLE.com/"
        )
        .is_empty()
    );
    // An e-mail is not a URL: no userinfo stripping without a scheme.
    assert!(
        one(
            ListType::Hostname,
            entries,
            on,
            "email-src",
            "foo@example.com"
        )
        .is_empty()
    );
}

#[test]
fn improvement_regex_global_modifier() {
    let on = Improvements {
        regex_global_modifier: true,
        ..Improvements::MISP
    };
    assert!(
        one(
            ListType::Regex,
            &["/abc/g"],
            Improvements::MISP,
            "text",
            "xabcx"
        )
        .is_empty()
    );
    assert_eq!(
        one(ListType::Regex, &["/abc/g"], on, "text", "xabcx"),
        hit("/abc/g", "xabcx")
    );
    assert_eq!(
        one(ListType::Regex, &["/abc/gi"], on, "text", "ABC").len(),
        1
    );
}

#[test]
fn improvement_cidr_overlap() {
    let on = Improvements {
        cidr_overlap: true,
        ..Improvements::MISP
    };
    let entries = &["10.1.0.0/16", "192.168.0.0/16"];
    assert!(
        one(
            ListType::Cidr,
            entries,
            Improvements::MISP,
            "ip-dst",
            "10.0.0.0/8"
        )
        .is_empty()
    );
    assert_eq!(
        one(ListType::Cidr, entries, on, "ip-dst", "10.0.0.0/8"),
        hit("10.1.0.0/16", "10.0.0.0/8")
    );
    // Containment is still reported as before.
    assert_eq!(
        one(ListType::Cidr, entries, on, "ip-dst", "10.1.2.0/24"),
        hit("10.1.0.0/16", "10.1.2.0/24")
    );
    assert!(one(ListType::Cidr, entries, on, "ip-dst", "11.0.0.0/8").is_empty());
    let v6 = &["2001:db8:1::/48"];
    assert_eq!(
        one(ListType::Cidr, v6, on, "ip-dst", "2001:db8::/32"),
        hit("2001:db8:1::/48", "2001:db8::/32")
    );
}

#[test]
fn improvement_strict_cidr_masks() {
    let on = Improvements {
        strict_cidr_masks: true,
        ..Improvements::MISP
    };
    let entries = &["10.0.0.0/8"];
    assert_eq!(
        one(
            ListType::Cidr,
            entries,
            Improvements::MISP,
            "ip-dst",
            "10.0.0.0/0"
        )
        .len(),
        1
    );
    assert!(one(ListType::Cidr, entries, on, "ip-dst", "10.0.0.0/0").is_empty());
    assert!(one(ListType::Cidr, entries, on, "ip-dst", "10.1.2.3/abc").is_empty());
    assert!(one(ListType::Cidr, entries, on, "ip-dst", "10.1.2.3/33").is_empty());
    assert_eq!(
        one(ListType::Cidr, entries, on, "ip-dst", "10.1.2.3/16").len(),
        1
    );
    assert_eq!(
        one(ListType::Cidr, &["0.0.0.0/0"], on, "ip-dst", "10.0.0.0/0").len(),
        1
    );
}

#[test]
fn improvement_dotted_strings_as_hostnames() {
    let on = Improvements {
        dotted_strings_as_hostnames: true,
        ..Improvements::MISP
    };
    let entries = &[".google.ad", "plain.example"];
    assert!(
        one(
            ListType::String,
            entries,
            Improvements::MISP,
            "domain",
            "www.google.ad"
        )
        .is_empty()
    );
    assert_eq!(
        one(ListType::String, entries, on, "domain", "www.google.ad"),
        hit("google.ad", "www.google.ad")
    );
    assert_eq!(
        one(ListType::String, entries, on, "domain", "google.ad"),
        hit("google.ad", "google.ad")
    );
    // Entries without a leading dot stay exact.
    assert!(one(ListType::String, entries, on, "domain", "www.plain.example").is_empty());
    let m = matcher(vec![list("L", ListType::String, entries)], on);
    assert_eq!(
        m.check(ty("domain"), "a.google.ad")[0].list_type,
        ListType::String
    );
}

#[test]
fn improvement_case_insensitive_domain_strings() {
    let on = Improvements {
        case_insensitive_domain_strings: true,
        ..Improvements::MISP
    };
    let entries = &["COM", "AbC"];
    assert!(
        one(
            ListType::String,
            entries,
            Improvements::MISP,
            "domain",
            "com"
        )
        .is_empty()
    );
    assert_eq!(
        one(ListType::String, entries, on, "domain", "com"),
        hit("com", "com")
    );
    assert_eq!(
        one(ListType::String, entries, on, "hostname", "abc").len(),
        1
    );
    assert_eq!(
        one(ListType::String, entries, on, "domain|ip", "com|1.2.3.4"),
        hit("com", "com")
    );
    // Not for other types.
    assert!(one(ListType::String, entries, on, "text", "com").is_empty());
    assert!(one(ListType::String, entries, on, "md5", "abc").is_empty());
}

#[test]
fn improvement_no_zero_label_quirk() {
    let on = Improvements {
        no_zero_label_quirk: true,
        ..Improvements::MISP
    };
    assert_eq!(
        one(
            ListType::Hostname,
            &["example.com"],
            Improvements::MISP,
            "domain",
            "example.com.0"
        )
        .len(),
        1
    );
    assert!(
        one(
            ListType::Hostname,
            &["example.com"],
            on,
            "domain",
            "example.com.0"
        )
        .is_empty()
    );
    assert_eq!(
        one(
            ListType::Hostname,
            &["com.0"],
            on,
            "domain",
            "example.com.0"
        )
        .len(),
        1
    );
}

#[test]
fn values_that_are_not_addresses_never_match_cidr() {
    for value in [
        "",
        "/",
        "//",
        "10.0.0",
        "10.0.0.1.",
        "10.0.0.1 ",
        " 10.0.0.1",
        "0x0a.0.0.1",
        "[::1]",
        "::1%lo",
        "1::2::3",
    ] {
        assert!(
            one(
                ListType::Cidr,
                &["0.0.0.0/0", "::/0"],
                Improvements::MISP,
                "ip-dst",
                value
            )
            .is_empty(),
            "{value:?}"
        );
    }
    assert_eq!(
        one(
            ListType::Cidr,
            &["::/0"],
            Improvements::MISP,
            "ip-dst",
            "::1"
        )
        .len(),
        1
    );
}
