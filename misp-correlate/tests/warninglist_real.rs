//! The full misp-warninglists set (pymispwarninglists 1.7.0 copy, 119
//! lists): entry accounting, every row of `misp-warninglist-reference.md`
//! §2.10 (MISP semantics with the type gate, no `to_ids` gate), the
//! data-driven checks of §7.4 and the oddities of §6.4.
//!
//! The data is read from `../shared/data` relative to the workspace root
//! (or `$MISP_WARNINGLISTS`); these tests fail when it is missing.

mod warninglist_support;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use misp_correlate::warninglist::{
    self, Hit, Improvements, ListType, Loaded, Matcher, ProblemKind, Query, ToIdsGate,
};
use warninglist_support::shared_warninglists;

fn misp() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        warninglist::load(&shared_warninglists(), Improvements::MISP).expect("load")
    })
}

fn improved() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        warninglist::load(&shared_warninglists(), Improvements::all()).expect("load")
    })
}

/// The directory name of the list (`lists/<slug>/list.json`).
fn slug(matcher: &Matcher, hit: &Hit<'_>) -> String {
    let info = matcher.list(hit.list).expect("hit names a list");
    let source = info.source().expect("loaded from a file");
    let dir = source
        .parent()
        .and_then(|d| d.file_name())
        .expect("lists/<slug>/list.json");
    dir.to_string_lossy().into_owned()
}

/// `slug -> match` of every hit, in hit (list-name) order.
fn hits(loaded: &Loaded, ty: &str, value: &str) -> Vec<(String, String)> {
    let matcher = &loaded.matcher;
    let hits = matcher.check_query(Query::new(ty, value), ToIdsGate::Off);
    let names: Vec<&str> = hits.iter().map(|h| h.list_name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "hits are sorted by list name");
    hits.iter()
        .map(|h| (slug(matcher, h), h.matched.to_string()))
        .collect()
}

fn slugs(loaded: &Loaded, ty: &str, value: &str) -> BTreeSet<String> {
    hits(loaded, ty, value)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

fn set(slugs: &[&str]) -> BTreeSet<String> {
    slugs.iter().map(|s| (*s).to_owned()).collect()
}

fn match_of(loaded: &Loaded, ty: &str, value: &str, list: &str) -> Option<String> {
    hits(loaded, ty, value)
        .into_iter()
        .find(|(s, _)| s == list)
        .map(|(_, m)| m)
}

#[test]
fn every_entry_is_accounted_for() {
    let loaded = misp();
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let matcher = &loaded.matcher;
    assert_eq!(matcher.list_count(), 119);
    let stats = matcher.stats();
    assert_eq!(stats.total, 2_510_044);
    assert_eq!(stats.loaded + stats.dropped + stats.unusable, stats.total);
    assert_eq!(
        stats.dropped, 0,
        "the real data has no \"\" or \"0\" entries"
    );
    // The 33 phone_numbers patterns end in /g, which PHP rejects.
    assert_eq!(stats.unusable, 33);
    for info in matcher.lists() {
        let s = info.stats();
        assert_eq!(
            s.loaded + s.dropped + s.unusable,
            s.total,
            "{}",
            info.name()
        );
    }
    let per_type = |ty: ListType| -> usize {
        matcher
            .lists()
            .filter(|l| l.list_type() == ty)
            .map(|l| l.stats().total)
            .sum()
    };
    assert_eq!(per_type(ListType::Cidr), 120_712);
    assert_eq!(per_type(ListType::Hostname), 1_086_151);
    assert_eq!(per_type(ListType::String), 1_298_169);
    assert_eq!(per_type(ListType::Substring), 4_978);
    assert_eq!(per_type(ListType::Regex), 34);
    assert_eq!(
        matcher
            .lists()
            .filter(|l| l.list_type() == ListType::Cidr)
            .count(),
        69
    );
}

#[test]
fn problems_are_the_global_regexes() {
    let problems = &misp().problems;
    assert_eq!(problems.len(), 33, "{problems:#?}");
    for problem in problems {
        assert_eq!(
            problem.kind,
            ProblemKind::InvalidRegex("unknown modifier 'g'".into())
        );
        assert!(problem.entry.ends_with("/g"), "{}", problem.entry);
        let file = problem.file.as_ref().expect("file");
        assert!(
            file.ends_with("lists/phone_numbers/list.json"),
            "{}",
            file.display()
        );
    }
    let improved = improved();
    assert!(improved.problems.is_empty(), "{:#?}", improved.problems);
    assert_eq!(improved.matcher.stats().unusable, 0);
}

// ---- §2.10, one test per row ------------------------------------------------

#[test]
fn row_domain_duckdns_org() {
    let loaded = misp();
    assert_eq!(
        slugs(loaded, "domain", "duckdns.org"),
        set(&[
            "dynamic-dns",
            "lots-project",
            "majestic_million",
            "second-level-tlds",
            "tranco",
            "tranco10k"
        ])
    );
    assert_eq!(
        match_of(loaded, "domain", "duckdns.org", "dynamic-dns").as_deref(),
        Some("duckdns.org")
    );
}

#[test]
fn row_domain_x_duckdns_org() {
    let loaded = misp();
    assert_eq!(
        slugs(loaded, "domain", "x.duckdns.org"),
        set(&["dynamic-dns", "lots-project", "tranco", "tranco10k"])
    );
    assert_eq!(
        match_of(loaded, "domain", "x.duckdns.org", "dynamic-dns").as_deref(),
        Some("duckdns.org")
    );
}

#[test]
fn row_domain_com() {
    let loaded = misp();
    assert_eq!(
        hits(loaded, "domain", "com"),
        [("second-level-tlds".to_owned(), "com".to_owned())]
    );
}

#[test]
fn row_domain_google_ad() {
    assert_eq!(
        slugs(misp(), "domain", "google.ad"),
        set(&["google", "majestic_million", "tranco", "tranco10k"])
    );
}

#[test]
fn row_domain_1e100_net() {
    assert_eq!(
        slugs(misp(), "domain", "1e100.net"),
        set(&["google", "tranco", "tranco10k"])
    );
}

#[test]
fn row_phone_number() {
    assert!(slugs(misp(), "phone-number", "+15555501234").is_empty());
}

#[test]
fn row_email_src_abuse() {
    assert_eq!(
        slugs(misp(), "email-src", "abuse@example.com"),
        set(&["common-contact-emails"])
    );
}

#[test]
fn row_ip_dst_8_8_8_8() {
    let loaded = misp();
    assert_eq!(
        hits(loaded, "ip-dst", "8.8.8.8")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        [("public-dns-v4", "8.8.8.8/32"), ("vpn-ipv4", "8.8.8.0/24")]
            .iter()
            .map(|(s, m)| ((*s).to_owned(), (*m).to_owned()))
            .collect()
    );
}

#[test]
fn row_ip_dst_cidr_value() {
    let loaded = misp();
    assert_eq!(
        hits(loaded, "ip-dst", "10.1.2.3/16")
            .into_iter()
            .collect::<BTreeSet<_>>(),
        [("rfc1918", "10.0.0.0/8"), ("rfc5735", "10.0.0.0/8")]
            .iter()
            .map(|(s, m)| ((*s).to_owned(), (*m).to_owned()))
            .collect()
    );
}

#[test]
fn row_url_google() {
    assert_eq!(
        slugs(misp(), "url", "https://www.google.com/x"),
        set(&["alexa", "tranco", "tranco10k"])
    );
}

#[test]
fn row_url_upper_case() {
    assert!(slugs(misp(), "url", "https://WWW.GOOGLE.COM/x").is_empty());
}

#[test]
fn row_domain_ip_second_half() {
    let loaded = misp();
    assert_eq!(
        slugs(loaded, "domain|ip", "foo.example|8.8.8.8"),
        set(&["public-dns-v4", "vpn-ipv4"])
    );
    let hits = loaded.matcher.check_query(
        Query::new("domain|ip", "foo.example|8.8.8.8"),
        ToIdsGate::Off,
    );
    assert!(hits.iter().all(|h| h.value == "8.8.8.8"));
}

#[test]
fn row_md5_of_empty_input() {
    assert_eq!(
        slugs(misp(), "md5", "d41d8cd98f00b204e9800998ecf8427e"),
        set(&[
            "common-ioc-false-positive",
            "empty-hashes",
            "nioc-filehash",
            "ti-falsepositives"
        ])
    );
}

#[test]
fn row_domain_mcafee_substring() {
    let loaded = misp();
    assert_eq!(
        hits(loaded, "domain", "howtoactivatemcafee.com"),
        [(
            "automated-malware-analysis".to_owned(),
            "mcafee.com".to_owned()
        )]
    );
}

#[test]
fn row_ip_dst_umbrella_v4() {
    assert_eq!(
        slugs(misp(), "ip-dst", "146.112.61.104"),
        set(&["sinkholes", "umbrella-blockpage-v4"])
    );
}

#[test]
fn row_ip_dst_umbrella_mapped_v6() {
    assert_eq!(
        hits(misp(), "ip-dst", "::ffff:146.112.61.104"),
        [(
            "umbrella-blockpage-v6".to_owned(),
            "::ffff:146.112.61.104/128".to_owned()
        )]
    );
}

// ---- §7.4 and §6.4 ------------------------------------------------------------

#[test]
fn pymisp_style_checks() {
    let loaded = misp();
    assert!(slugs(loaded, "ip-dst", "8.8.8.8").contains("public-dns-v4"));
    assert!(slugs(loaded, "ip-dst", "2001:DB8::34:1").contains("rfc3849"));
    assert!(slugs(loaded, "ip-dst", "100.64.1.56").contains("rfc6598"));
    assert!(!slugs(loaded, "domain", "arbitrary-domain-1e100.net").contains("google"));
}

#[test]
fn tlds_list_never_fires_in_misp_mode_but_does_when_improved() {
    assert!(!slugs(misp(), "domain", "com").contains("tlds"));
    assert!(slugs(improved(), "domain", "com").contains("tlds"));
    // Hash types are not domain-like: no case folding there.
    assert!(slugs(improved(), "md5", "D41D8CD98F00B204E9800998ECF8427E").is_empty());
}

#[test]
fn dynamic_dns_leading_dots_mean_domain_and_subdomains() {
    let loaded = misp();
    assert_eq!(
        match_of(loaded, "domain", "foo.dyndns.org", "dynamic-dns").as_deref(),
        Some("dyndns.org")
    );
    assert_eq!(
        match_of(loaded, "domain", "dyndns.org", "dynamic-dns").as_deref(),
        Some("dyndns.org")
    );
}

#[test]
fn upper_case_hostname_entries_are_lowercased() {
    // public-dns-hostname has `0526EE93.dsl.pool.telekom.hu`.
    let loaded = misp();
    assert_eq!(
        match_of(
            loaded,
            "hostname",
            "0526ee93.dsl.pool.telekom.hu",
            "public-dns-hostname"
        )
        .as_deref(),
        Some("0526ee93.dsl.pool.telekom.hu")
    );
}

#[test]
fn dotted_string_entries_are_dead_in_misp_mode() {
    // google has `.google.ad` as a string entry (and `google.ad`,
    // `www.google.ad`), so use another subdomain.
    assert!(!slugs(misp(), "domain", "mail.google.ad").contains("google"));
    assert_eq!(
        match_of(improved(), "domain", "mail.google.ad", "google").as_deref(),
        Some("google.ad")
    );
}

#[test]
fn phone_number_patterns_work_when_improved() {
    assert!(slugs(misp(), "phone-number", "+61 1300975707").is_empty());
    assert!(slugs(improved(), "phone-number", "+611300975707").contains("phone_numbers"));
}

#[test]
fn improved_hosts_are_case_insensitive_and_parsed() {
    let loaded = improved();
    assert!(slugs(loaded, "url", "https://WWW.GOOGLE.COM/x").contains("tranco"));
    assert!(slugs(loaded, "url", "https://www.google.com:443/x").contains("tranco"));
    assert!(slugs(loaded, "url", "http://google.com?x=1").contains("tranco"));
}

#[test]
fn disposable_email_substrings() {
    // `co.cc` is a disposable-email entry: raw substring semantics.
    assert!(slugs(misp(), "email-src", "x@foco.cc").contains("disposable-email"));
}

#[test]
fn microsoft_attack_simulator_ip_substring() {
    assert!(slugs(misp(), "ip-dst", "152.168.52.134").contains("microsoft-attack-simulator"));
}

#[test]
fn to_ids_gate() {
    let matcher = &misp().matcher;
    let query = Query::new("ip-dst", "8.8.8.8");
    assert!(matcher.check_query(query, ToIdsGate::On).is_empty());
    assert_eq!(
        matcher
            .check_query(query.with_to_ids(true), ToIdsGate::On)
            .len(),
        2
    );
    assert_eq!(matcher.check_query(query, ToIdsGate::Off).len(), 2);
}

#[test]
fn batch_equals_single_checks() {
    let matcher = &misp().matcher;
    let values = [
        ("domain", "duckdns.org"),
        ("url", "https://www.google.com/x"),
        ("ip-dst", "8.8.8.8"),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
        ("domain|ip", "foo.example|8.8.8.8"),
        ("text", "nothing"),
        ("no-such-type", "8.8.8.8"),
    ];
    let queries: Vec<Query<'_>> = values.iter().map(|(t, v)| Query::new(*t, v)).collect();
    let batch = matcher.check_batch(&queries, ToIdsGate::Off);
    assert_eq!(batch.len(), queries.len());
    for (i, query) in queries.iter().enumerate() {
        assert_eq!(
            batch.get(i),
            &matcher.check_query(*query, ToIdsGate::Off)[..]
        );
    }
    assert!(
        batch.get(6).is_empty(),
        "unknown type names see only all-type lists (none in the real data)"
    );
}
