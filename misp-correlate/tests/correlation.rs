//! Conformance of the correlation engine: the suggested tests of
//! `misp-correlation-reference.md` §15, with this project's contract where
//! it deviates from MISP (§9 of the contract, noted per test).

use misp_core::AttributeType;
use misp_correlate::correlation::{
    AclMode, AttributeInput, Config, CorrelationKind, Engine, EngineBuilder, EventInput, Id,
    ObjectInput, Viewer,
};

fn ty(name: &str) -> AttributeType {
    AttributeType::from_name(name).unwrap_or_else(|| panic!("{name} is a MISP type"))
}

/// An engine with events e0..e{n-1}.
fn engine_with(config: Config, events: usize) -> Engine {
    let mut e = Engine::new(config).unwrap();
    for i in 0..events {
        e.add_event(&EventInput::new(format!("e{i}").as_str()))
            .unwrap();
    }
    e
}

fn add(e: &mut Engine, id: &str, event: &str, t: &str, value: &str) {
    e.add_attribute(&AttributeInput::new(id, event, ty(t), value))
        .unwrap();
}

/// The correlations, as sorted `(kind, key, a, b)` with a < b.
fn pairs(e: &Engine) -> Vec<(CorrelationKind, String, String, String)> {
    let mut v: Vec<_> = e
        .correlations()
        .map(|c| {
            let (a, b) = (c.a().id().to_string(), c.b().id().to_string());
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            (c.kind(), c.key().into_owned(), a, b)
        })
        .collect();
    v.sort();
    v
}

fn exact(key: &str, a: &str, b: &str) -> (CorrelationKind, String, String, String) {
    (CorrelationKind::Exact, key.into(), a.into(), b.into())
}

fn cidr(key: &str, a: &str, b: &str) -> (CorrelationKind, String, String, String) {
    (CorrelationKind::Cidr, key.into(), a.into(), b.into())
}

// ----- type gating (§2.1, contract §3) --------------------------------------

#[test]
fn non_correlating_types_never_correlate() {
    let cases = [
        ("comment", "x"),
        ("http-method", "GET"),
        ("aba-rtn", "123456789"),
        ("gender", "Male"),
        ("counter", "1"),
        ("integer", "1"),
        ("float", "1.5"),
        ("port", "80"),
        ("nationality", "French"),
        ("cortex", "x"),
        ("boolean", "1"),
        ("anonymised", "x"),
    ];
    for (t, v) in cases {
        assert!(!ty(t).correlates(), "{t}");
        let mut e = engine_with(Config::default(), 2);
        if misp_core::normalize(ty(t), v).is_err() {
            // MISP cannot save it at all (`integer` accepts no string).
            assert!(
                e.add_attribute(&AttributeInput::new("a", "e0", ty(t), v))
                    .is_err()
            );
            continue;
        }
        add(&mut e, "a", "e0", t, v);
        add(&mut e, "b", "e1", t, v);
        assert_eq!(e.summary().correlations(), 0, "{t}");
        // Not even with a correlating type holding the same value.
        add(&mut e, "c", "e1", "text", v);
        assert_eq!(e.summary().correlations(), 0, "{t} vs text");
        assert!(!e.attribute(Id::Str("a")).unwrap().is_eligible());
    }
}

#[test]
fn cross_type_correlation_and_same_event() {
    let mut e = engine_with(Config::default(), 2);
    add(&mut e, "a", "e0", "text", "Trojan Horse");
    add(&mut e, "b", "e1", "malware-type", "Trojan Horse");
    add(&mut e, "c", "e0", "comment", "Trojan Horse");
    add(&mut e, "d", "e1", "text", "Trojan Horse");
    assert_eq!(
        pairs(&e),
        vec![
            exact("trojan horse", "a", "b"),
            exact("trojan horse", "a", "d")
        ]
    );
}

// ----- composites (§3, contract §4) -----------------------------------------

#[test]
fn composite_halves() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let mut e = engine_with(Config::default(), 4);
    add(
        &mut e,
        "a",
        "e0",
        "filename|md5",
        &format!("invoice.exe|{md5}"),
    );
    add(&mut e, "b", "e1", "md5", md5);
    add(
        &mut e,
        "c",
        "e2",
        "filename|sha1",
        "invoice.exe|da39a3ee5e6b4b0d3255bfef95601890afd80709",
    );
    assert_eq!(
        pairs(&e),
        vec![exact(md5, "a", "b"), exact("invoice.exe", "a", "c")]
    );
    // The value2 key is the md5 in its text form.
    let c = e.correlations_of(Id::Str("b"), None).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].key(), md5);
    assert_eq!(c[0].b().value2().as_deref(), Some(md5));
}

#[test]
fn primary_only_types_correlate_on_value1_only() {
    let mut e = engine_with(Config::default(), 3);
    add(&mut e, "a", "e0", "ip-dst|port", "1.2.3.4|80");
    add(&mut e, "b", "e1", "ip-dst|port", "5.6.7.8|80");
    assert!(pairs(&e).is_empty(), "never on the port");
    add(&mut e, "c", "e2", "ip-src", "1.2.3.4");
    assert_eq!(pairs(&e), vec![exact("1.2.3.4", "a", "c")]);
    add(&mut e, "d", "e2", "hostname|port", "example.com|80");
    add(&mut e, "f", "e1", "text", "80");
    assert_eq!(pairs(&e).len(), 1);
}

#[test]
fn value2_zero_is_a_key() {
    // Contract §9.2: PHP's empty("0") would skip it.
    let mut e = engine_with(Config::default(), 2);
    add(&mut e, "a", "e0", "regkey|value", "HKLM\\Software\\x|0");
    add(&mut e, "b", "e1", "text", "0");
    assert_eq!(pairs(&e), vec![exact("0", "a", "b")]);
}

#[test]
fn equal_halves_give_one_key() {
    let mut e = engine_with(Config::default(), 2);
    add(&mut e, "a", "e0", "regkey|value", "same|SAME");
    add(&mut e, "b", "e1", "text", "same");
    assert_eq!(pairs(&e), vec![exact("same", "a", "b")]);
    assert_eq!(e.attribute(Id::Str("a")).unwrap().keys(), vec!["same"]);
}

// ----- match keys (§4.1, contract §4) ---------------------------------------

#[test]
fn match_keys_ignore_case_and_trailing_spaces() {
    let mut e = engine_with(Config::default(), 4);
    add(&mut e, "a", "e0", "filename", "Invoice.EXE");
    add(&mut e, "b", "e1", "filename", "invoice.exe");
    add(&mut e, "c", "e2", "url", "HTTP://A.com");
    add(&mut e, "d", "e3", "url", "http://a.com");
    add(&mut e, "f", "e3", "regkey|value", "Invoice.exe  |x");
    assert_eq!(
        pairs(&e),
        vec![
            exact("http://a.com", "c", "d"),
            exact("invoice.exe", "a", "b"),
            exact("invoice.exe", "a", "f"),
            exact("invoice.exe", "b", "f"),
        ]
    );
    // The original spelling is kept as the value.
    assert_eq!(e.attribute(Id::Str("a")).unwrap().value1(), "Invoice.EXE");
}

#[test]
fn accents_are_not_folded() {
    // Contract §9.8.
    let mut e = engine_with(Config::default(), 2);
    add(&mut e, "a", "e0", "text", "café");
    add(&mut e, "b", "e1", "text", "cafe");
    add(&mut e, "c", "e1", "text", "CAFÉ");
    assert_eq!(pairs(&e), vec![exact("café", "a", "c")]);
}

// ----- the limit (§7, contract §6) -------------------------------------------

fn spread(e: &mut Engine, n: usize, value: &str) {
    for i in 0..n {
        add(e, &format!("v{i}"), &format!("e{i}"), "text", value);
    }
}

#[test]
fn limit_twenty() {
    // 21 attributes in 21 events: each sees 20 others, not more than 20.
    let mut e = engine_with(Config::default(), 40);
    spread(&mut e, 21, "v");
    assert_eq!(e.summary().exact, 21 * 20 / 2);
    assert!(e.over_correlating().is_empty());
    // A 22nd: everyone sees 21 > 20, the key is blocked entirely.
    add(&mut e, "new", "e30", "text", "v");
    assert_eq!(e.summary().exact, 0);
    let over = e.over_correlating();
    assert_eq!(over.len(), 1);
    assert_eq!((over[0].key.as_ref(), over[0].count), ("v", 22));
    assert!(e.correlations_of(Id::Str("new"), None).unwrap().is_empty());
    // Down to 6: unblocked, and every pair exists again (contract §9.3).
    for i in 5..21 {
        e.remove_attribute(Id::Str(&format!("v{i}"))).unwrap();
    }
    assert_eq!(e.summary().exact, 6 * 5 / 2);
    assert!(e.over_correlating().is_empty());
}

#[test]
fn limit_counts_other_events_only() {
    // 30 copies in one event and one elsewhere: max others is 30 for the
    // lone one, 1 for each copy.
    let mut e = engine_with(
        Config {
            limit: Some(29),
            ..Config::default()
        },
        2,
    );
    for i in 0..30 {
        add(&mut e, &format!("c{i}"), "e0", "text", "v");
    }
    add(&mut e, "lone", "e1", "text", "v");
    assert_eq!(e.over_correlating().len(), 1, "30 > 29");
    e.set_limit(Some(30));
    assert_eq!(e.summary().exact, 30);
    e.set_limit(None);
    assert_eq!(e.summary().exact, 30);
    e.set_limit(Some(0));
    assert_eq!(e.summary().exact, 0);
}

#[test]
fn over_correlation_of_one_half_keeps_the_other() {
    // Contract §9.1 (MISP quirk 1): a blocked filename does not take the
    // hash correlation with it.
    let sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let mut e = engine_with(
        Config {
            limit: Some(2),
            ..Config::default()
        },
        5,
    );
    for i in 0..4 {
        add(
            &mut e,
            &format!("f{i}"),
            &format!("e{i}"),
            "filename",
            "setup.exe",
        );
    }
    add(
        &mut e,
        "x",
        "e4",
        "filename|sha256",
        &format!("setup.exe|{sha}"),
    );
    add(&mut e, "y", "e0", "sha256", sha);
    assert_eq!(pairs(&e), vec![exact(sha, "x", "y")]);
    assert_eq!(e.over_correlating()[0].key, "setup.exe");
}

// ----- exclusions (§6, contract §5) ----------------------------------------

#[test]
fn exclusions_are_retroactive_both_ways() {
    let mut e = engine_with(Config::default(), 3);
    add(&mut e, "a", "e0", "hostname", "www.google.com");
    add(&mut e, "b", "e1", "domain", "www.google.com");
    add(&mut e, "c", "e1", "ip-dst", "1.2.3.4");
    add(&mut e, "d", "e2", "ip-src", "1.2.3.4");
    add(&mut e, "f", "e0", "text", "Foo");
    add(&mut e, "g", "e2", "text", "foo");
    assert_eq!(pairs(&e).len(), 3);
    assert!(e.add_exclusion("%.google.com"));
    assert!(e.add_exclusion("1.2.3.%"));
    assert_eq!(pairs(&e), vec![exact("foo", "f", "g")]);
    // Case-sensitive: "foo" excludes g's value only, f's "Foo" stays, so
    // no pair remains.
    assert!(e.add_exclusion("foo"));
    assert!(pairs(&e).is_empty());
    assert_eq!(e.posting_of("FOO").unwrap().len(), 1);
    assert!(e.remove_exclusion("%.google.com"));
    assert!(e.remove_exclusion("1.2.3.%"));
    assert!(e.remove_exclusion("foo"));
    assert!(!e.remove_exclusion("foo"));
    assert_eq!(pairs(&e).len(), 3);
}

#[test]
fn excluding_everything() {
    let mut b = EngineBuilder::new();
    b.exclusion("%");
    b.add_event(&EventInput::new(1)).unwrap();
    b.add_event(&EventInput::new(2)).unwrap();
    b.add(&AttributeInput::new(1, 1, ty("text"), "x")).unwrap();
    b.add(&AttributeInput::new(2, 2, ty("text"), "x")).unwrap();
    let built = b.build().unwrap();
    assert_eq!(built.engine.summary().correlations(), 0);
    assert_eq!(
        built.engine.summary().eligible,
        2,
        "excluded values are still eligible attributes"
    );
    assert_eq!(built.engine.summary().keys, 0);
}

// ----- CIDR (§10.1, contract §7.1) -----------------------------------------

fn advanced() -> Config {
    Config {
        advanced: true,
        ..Config::default()
    }
}

#[test]
fn cidr_either_order() {
    for net_first in [true, false] {
        let mut e = engine_with(advanced(), 3);
        if net_first {
            add(&mut e, "n", "e0", "ip-dst", "10.0.0.0/8");
        }
        add(&mut e, "i", "e1", "ip-src", "10.1.2.3");
        add(&mut e, "o", "e2", "ip-src", "11.0.0.1");
        if !net_first {
            add(&mut e, "n", "e0", "ip-dst", "10.0.0.0/8");
        }
        assert_eq!(pairs(&e), vec![cidr("10.0.0.0/8", "i", "n")]);
        let c = e.correlations_of(Id::Str("i"), None).unwrap();
        assert_eq!(
            (c[0].kind(), c[0].b().id()),
            (CorrelationKind::Cidr, Id::Str("n"))
        );
    }
}

#[test]
fn cidr_to_cidr_only_when_identical() {
    let mut e = engine_with(advanced(), 3);
    add(&mut e, "a", "e0", "ip-dst", "10.0.0.0/8");
    add(&mut e, "b", "e1", "ip-dst", "10.0.0.0/16");
    assert!(pairs(&e).is_empty());
    add(&mut e, "c", "e2", "ip-src", "10.0.0.0/8");
    assert_eq!(pairs(&e), vec![exact("10.0.0.0/8", "a", "c")]);
}

#[test]
fn cidr_with_ports_domains_ipv6_and_host_bits() {
    let mut e = engine_with(advanced(), 2);
    add(&mut e, "n4", "e0", "ip-dst", "10.1.2.3/8");
    add(&mut e, "n6", "e0", "ip-dst", "2001:db8::/32");
    add(&mut e, "p80", "e0", "ip-dst", "2001:db8:0:0:1::/80");
    add(&mut e, "port", "e1", "ip-dst|port", "10.1.2.3|443");
    add(&mut e, "dom", "e1", "domain|ip", "x.com|10.200.0.1");
    add(&mut e, "v6", "e1", "ip-src", "2001:db8::5");
    add(&mut e, "v6b", "e1", "ip-src", "2001:db8::1:0:0:5");
    add(&mut e, "mapped", "e1", "ip-src", "::ffff:10.1.2.3");
    assert_eq!(
        pairs(&e),
        vec![
            cidr("10.1.2.3/8", "dom", "n4"),
            cidr("10.1.2.3/8", "n4", "port"),
            cidr("2001:db8:0:0:1::/80", "p80", "v6b"),
            cidr("2001:db8::/32", "n6", "v6"),
            cidr("2001:db8::/32", "n6", "v6b"),
        ]
    );
    // Off: nothing but exact.
    e.set_advanced(false);
    assert!(pairs(&e).is_empty());
}

#[test]
fn cidr_counts_toward_the_limit() {
    // The network's set: itself plus the 3 addresses inside (4 events).
    let mut e = engine_with(
        Config {
            advanced: true,
            limit: Some(2),
            ..Config::default()
        },
        4,
    );
    add(&mut e, "n", "e0", "ip-dst", "10.0.0.0/8");
    for i in 1..4 {
        add(
            &mut e,
            &format!("i{i}"),
            &format!("e{i}"),
            "ip-src",
            &format!("10.0.0.{i}"),
        );
    }
    assert_eq!(e.summary().cidr, 0);
    let over = e.over_correlating();
    assert_eq!(over.len(), 1);
    assert_eq!((over[0].key.as_ref(), over[0].count), ("10.0.0.0/8", 4));
    e.set_limit(Some(3));
    assert_eq!(e.summary().cidr, 3);
}

// ----- ssdeep (§10.2, contract §7.2) ---------------------------------------

#[test]
fn ssdeep_threshold() {
    let mut e = engine_with(advanced(), 3);
    add(&mut e, "a", "e0", "ssdeep", "96:ABCDEFGxyz:");
    add(&mut e, "b", "e1", "ssdeep", "96:ABCDEFGuvw:");
    add(&mut e, "c", "e2", "ssdeep", "3:ABCDEFGHIJ:KLMNOPQRST");
    let c: Vec<_> = e.correlations().collect();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].kind(), CorrelationKind::Ssdeep);
    assert_eq!(c[0].score(), Some(71));
    assert_eq!(c[0].key(), "96:ABCDEFGxyz:");
    e.set_ssdeep_threshold(72).unwrap();
    assert_eq!(e.summary().ssdeep, 0);
    assert!(e.set_ssdeep_threshold(0).is_err());
    assert!(e.set_ssdeep_threshold(101).is_err());
}

#[test]
fn ssdeep_same_key_is_exact_not_fuzzy() {
    let mut e = engine_with(advanced(), 2);
    add(&mut e, "a", "e0", "ssdeep", "96:ABCDEFGxyz:");
    add(&mut e, "b", "e1", "ssdeep", "96:abcdefgXYZ:");
    assert_eq!(pairs(&e), vec![exact("96:abcdefgxyz:", "a", "b")]);
}

// ----- access control (§8, contract §8) ------------------------------------

#[test]
fn acl_matrix() {
    // Event distribution (4 in and out of the viewer's group) × attribute
    // distribution × object × viewer, against the three-level rule.
    let viewer_groups = [7u64];
    let event_cases: [(u8, Option<u64>); 6] = [
        (0, None),
        (1, None),
        (2, None),
        (3, None),
        (4, Some(7)),
        (4, Some(8)),
    ];
    let attr_dists = [0u8, 1, 4, 5];
    let objects: [Option<u8>; 3] = [None, Some(0), Some(5)];
    let viewers = [
        (
            "owner",
            Viewer::org("own").with_sharing_groups(viewer_groups),
        ),
        (
            "other",
            Viewer::org("other").with_sharing_groups(viewer_groups),
        ),
        ("admin", Viewer::site_admin()),
    ];
    let mut checked = 0;
    for (ed, esg) in event_cases {
        for ad in attr_dists {
            for od in objects {
                let mut e = Engine::new(Config::default()).unwrap();
                e.add_event(&EventInput::new("seen")).unwrap();
                e.add_event(&EventInput {
                    org: Some(Id::Str("own")),
                    distribution: ed,
                    sharing_group: esg,
                    ..EventInput::new("x")
                })
                .unwrap();
                if let Some(od) = od {
                    e.add_object(&ObjectInput {
                        distribution: od,
                        ..ObjectInput::new("obj", "x")
                    })
                    .unwrap();
                }
                e.add_attribute(&AttributeInput::new("q", "seen", ty("text"), "v"))
                    .unwrap();
                e.add_attribute(&AttributeInput {
                    object: od.map(|_| Id::Str("obj")),
                    distribution: ad,
                    sharing_group: (ad == 4).then_some(7),
                    ..AttributeInput::new("t", "x", ty("text"), "v")
                })
                .unwrap();
                for (who, v) in &viewers {
                    let own = *who == "owner";
                    let admin = *who == "admin";
                    let event_ok = own || matches!(ed, 1..=3) || (ed == 4 && esg == Some(7));
                    let object_ok = od.is_none_or(|d| own || d == 5);
                    let attr_ok = own || matches!(ad, 1 | 4 | 5);
                    let want = admin || (event_ok && object_ok && attr_ok);
                    let got = e.correlations_of(Id::Str("q"), Some(v)).unwrap().len();
                    assert_eq!(
                        got,
                        usize::from(want),
                        "event {ed}/{esg:?} attr {ad} object {od:?} viewer {who}"
                    );
                    let rel = e.related_events(Id::Str("seen"), Some(v)).unwrap();
                    assert_eq!(rel.len(), usize::from(want));
                    checked += 1;
                }
                // NoAcl shows everything.
                e.set_mode(AclMode::NoAcl);
                assert_eq!(
                    e.correlations_of(Id::Str("q"), Some(&viewers[1].1))
                        .unwrap()
                        .len(),
                    1
                );
            }
        }
    }
    assert_eq!(checked, 6 * 4 * 3 * 3);
}

#[test]
fn acl_is_live() {
    let mut e = Engine::new(Config::default()).unwrap();
    e.add_event(&EventInput::new("a")).unwrap();
    e.add_event(&EventInput::new("b")).unwrap();
    add(&mut e, "x", "a", "text", "v");
    add(&mut e, "y", "b", "text", "v");
    let v = Viewer::org("someone");
    assert_eq!(e.correlations_of(Id::Str("x"), Some(&v)).unwrap().len(), 1);
    e.update_event(&EventInput {
        distribution: 0,
        ..EventInput::new("b")
    })
    .unwrap();
    assert!(
        e.correlations_of(Id::Str("x"), Some(&v))
            .unwrap()
            .is_empty()
    );
    // Nor may a viewer who cannot see x itself see its correlations.
    assert!(
        e.correlations_of(Id::Str("y"), Some(&v))
            .unwrap()
            .is_empty()
    );
}

// ----- lifecycle (§12) -------------------------------------------------------

#[test]
fn lifecycle() {
    let mut e = engine_with(Config::default(), 3);
    add(&mut e, "a", "e0", "text", "one");
    add(&mut e, "b", "e1", "text", "one");
    add(&mut e, "c", "e2", "text", "two");
    assert_eq!(pairs(&e), vec![exact("one", "a", "b")]);
    // Edit the value: old pair gone, new created.
    e.update_attribute(&AttributeInput::new("b", "e1", ty("text"), "two"))
        .unwrap();
    assert_eq!(pairs(&e), vec![exact("two", "b", "c")]);
    // Soft delete and restore (MISP quirk 12: restoring does not
    // re-correlate there; here it does, contract §9.3).
    e.update_attribute(&AttributeInput {
        deleted: true,
        ..AttributeInput::new("b", "e1", ty("text"), "two")
    })
    .unwrap();
    assert!(pairs(&e).is_empty());
    e.update_attribute(&AttributeInput::new("b", "e1", ty("text"), "two"))
        .unwrap();
    assert_eq!(pairs(&e).len(), 1);
    // Toggles.
    e.set_attribute_correlation(Id::Str("c"), false).unwrap();
    assert!(pairs(&e).is_empty());
    e.set_attribute_correlation(Id::Str("c"), true).unwrap();
    e.set_event_correlation(Id::Str("e2"), false).unwrap();
    assert!(pairs(&e).is_empty());
    e.set_event_correlation(Id::Str("e2"), true).unwrap();
    assert_eq!(pairs(&e).len(), 1);
    // Event delete: rows with that event on either side gone.
    e.remove_event(Id::Str("e2")).unwrap();
    assert!(pairs(&e).is_empty());
    assert!(e.attribute(Id::Str("c")).is_none());
    assert_eq!(e.attribute_count(), 2);
    // Errors name what is missing.
    let err = e.remove_attribute(Id::Str("c")).unwrap_err().to_string();
    assert!(err.contains("no attribute c"), "{err}");
    assert!(
        e.add_attribute(&AttributeInput::new("a", "e0", ty("text"), "x"))
            .is_err()
    );
}

#[test]
fn attributes_wait_for_their_event_and_object() {
    let mut e = Engine::new(Config::default()).unwrap();
    add(&mut e, "a", "later", "text", "v");
    e.add_attribute(&AttributeInput {
        object: Some(Id::Str("o")),
        ..AttributeInput::new("b", "other", ty("text"), "v")
    })
    .unwrap();
    assert_eq!(e.summary().eligible, 0);
    e.add_event(&EventInput::new("later")).unwrap();
    e.add_event(&EventInput::new("other")).unwrap();
    assert_eq!(
        e.summary().correlations(),
        0,
        "b's object does not exist yet"
    );
    e.add_object(&ObjectInput::new("o", "other")).unwrap();
    assert_eq!(e.summary().correlations(), 1);
    e.update_object(&ObjectInput {
        deleted: true,
        ..ObjectInput::new("o", "other")
    })
    .unwrap();
    assert_eq!(e.summary().correlations(), 0);
}

#[test]
fn rejected_values_are_reported_not_indexed() {
    let mut e = engine_with(Config::default(), 1);
    let err = e
        .add_attribute(&AttributeInput::new("a", "e0", ty("text"), "   "))
        .unwrap_err();
    match err {
        misp_correlate::Error::Rejected(r) => {
            assert_eq!(r.attribute.to_string(), "a");
            assert!(!r.reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(e.attribute(Id::Str("a")).is_none());
    let mut b = EngineBuilder::new();
    b.add(&AttributeInput::new(1, 1, ty("text"), "")).unwrap();
    b.add(&AttributeInput::new(2, 1, ty("text"), "ok")).unwrap();
    b.add(&AttributeInput::new(2, 1, ty("text"), "again"))
        .unwrap();
    let built = b.build().unwrap();
    let reasons: Vec<_> = built
        .rejected
        .iter()
        .map(|r| (r.attribute.to_string(), r.reason.clone()))
        .collect();
    assert_eq!(reasons.len(), 2);
    assert_eq!(
        reasons[1],
        ("2".to_owned(), "duplicate attribute id".to_owned())
    );
    assert_eq!(built.engine.attribute(Id::Num(2)).unwrap().value1(), "ok");
}

#[test]
fn queries_report_postings_and_top_keys() {
    let mut e = engine_with(Config::default(), 4);
    for (i, ev) in ["e0", "e1", "e2"].iter().enumerate() {
        add(&mut e, &format!("x{i}"), ev, "domain", "x.com");
    }
    add(&mut e, "y0", "e0", "domain", "y.com");
    add(&mut e, "y1", "e3", "domain", "y.com");
    add(&mut e, "y2", "e3", "domain", "y.com");
    let top = e.top_keys(10);
    let top: Vec<_> = top
        .iter()
        .map(|t| (t.key.as_ref(), t.correlations))
        .collect();
    assert_eq!(top, vec![("x.com", 3), ("y.com", 2)]);
    assert_eq!(e.top_keys(1).len(), 1);
    let p = e.posting_of("Y.COM").unwrap();
    let events: Vec<_> = p
        .events()
        .into_iter()
        .map(|(id, n)| (id.to_string(), n))
        .collect();
    assert_eq!(events, vec![("e0".to_owned(), 1), ("e3".to_owned(), 2)]);
    assert!(e.posting_of("z.com").is_none());
    let rel = e.related_events(Id::Str("e3"), None).unwrap();
    assert_eq!((rel[0].event, rel[0].correlations), (Id::Str("e0"), 2));
}

// ----- normalisation before correlation (§11, contract §2) ------------------

#[test]
fn values_are_normalised_before_keys() {
    let mut e = engine_with(advanced(), 2);
    add(
        &mut e,
        "h1",
        "e0",
        "md5",
        " D41D8CD98F00B204E9800998ECF8427E ",
    );
    add(
        &mut e,
        "h2",
        "e1",
        "md5",
        "d41d8cd98f00b204e9800998ecf8427e",
    );
    add(&mut e, "d1", "e0", "domain", "Example.COM.");
    add(&mut e, "d2", "e1", "hostname", "example.com");
    add(&mut e, "i1", "e0", "ip-dst", "1.2.3[.]4");
    add(&mut e, "i2", "e1", "ip-src", "1.2.3.4/32");
    add(&mut e, "n1", "e0", "ip-src", "::1/128");
    add(&mut e, "n2", "e1", "ip-dst", "::1");
    assert_eq!(
        pairs(&e),
        vec![
            exact("1.2.3.4", "i1", "i2"),
            exact("d41d8cd98f00b204e9800998ecf8427e", "h1", "h2"),
            exact("example.com", "d1", "d2"),
            cidr("::1/128", "n1", "n2"),
        ]
    );
    assert_eq!(
        e.attribute(Id::Str("h1")).unwrap().value1(),
        "d41d8cd98f00b204e9800998ecf8427e"
    );
    let err = e
        .add_attribute(&AttributeInput::new("bad", "e0", ty("ip-src"), "010.1.2.3"))
        .unwrap_err();
    assert!(
        err.to_string().contains("IP address has an invalid format"),
        "{err}"
    );
}

#[test]
fn long_postings_count_events_incrementally_and_in_bulk() {
    // 120 attributes on one key over 12 events (10 each): every attribute
    // sees 110 others. Long postings keep per-event counts; the result
    // must not depend on how the engine got there.
    let build = |limit: Option<u32>| {
        let mut b = EngineBuilder::with_config(Config {
            limit,
            ..Config::default()
        });
        for e in 0..12u64 {
            b.add_event(&EventInput::new(e)).unwrap();
        }
        for i in 0..120u64 {
            b.add(&AttributeInput::new(i, i % 12, ty("text"), "hot"))
                .unwrap();
        }
        b.build().unwrap().engine
    };
    let pairs = |n: u64, per_event: u64| (n * n - (n / per_event) * per_event * per_event) / 2;
    let mut bulk = build(Some(110));
    assert_eq!(bulk.summary().exact, pairs(120, 10));
    bulk.set_limit(Some(109));
    assert_eq!(bulk.summary().exact, 0);
    assert_eq!(bulk.over_correlating()[0].count, 120);
    // Remove down to 3 per event (36), then 1 per event for 4 events.
    for i in 36..120u64 {
        bulk.remove_attribute(Id::Num(i)).unwrap();
    }
    assert_eq!(bulk.summary().exact, pairs(36, 3));
    let mut inc = Engine::new(Config {
        limit: Some(109),
        ..Config::default()
    })
    .unwrap();
    for i in (0..36u64).rev() {
        if i < 12 {
            inc.add_event(&EventInput::new(i)).unwrap();
        }
        inc.add_attribute(&AttributeInput::new(i, i % 12, ty("text"), "hot"))
            .unwrap();
    }
    assert_eq!(inc.summary(), bulk.summary());
    for i in 36..120u64 {
        inc.add_attribute(&AttributeInput::new(i, i % 12, ty("text"), "hot"))
            .unwrap();
    }
    let full = build(Some(109));
    assert_eq!(inc.summary(), full.summary());
    assert_eq!(inc.over_correlating(), full.over_correlating());
    // Numeric identities found whichever way they were added.
    assert_eq!(inc.attribute(Id::Num(119)).unwrap().event(), Id::Num(11));
    assert!(bulk.attribute(Id::Num(119)).is_none());
    bulk.add_attribute(&AttributeInput::new(119u64, 0u64, ty("text"), "again"))
        .unwrap();
    assert_eq!(bulk.attribute(Id::Num(119)).unwrap().value1(), "again");
}

#[test]
fn bulk_across_chunks_matches_incremental() {
    // More than two chunks of the bulk builder (and more than a page of
    // the columns), string identities with a repeat across chunks, a
    // rejected value, values shared within and across chunks.
    let n = 2 * misp_correlate::correlation::CHUNK + 1234;
    let value = |i: usize| match i % 7 {
        0 => format!("shared{}.example.com", i % 1001),
        1 => format!("unique{i}.example.com"),
        2 => format!("Mixed{}", i % 13),
        3 => format!("10.{}.{}.{}", i % 3, i % 5, i % 7),
        _ => format!("u{i}"),
    };
    let types = [
        "domain", "domain", "text", "ip-dst", "filename", "text", "filename",
    ];
    let ids: Vec<String> = (0..n)
        .map(|i| {
            if i == n - 5 {
                "id-17".to_owned()
            } else {
                format!("id-{i}")
            }
        })
        .collect();
    let mut b = EngineBuilder::with_config(Config {
        limit: Some(40),
        ..Config::default()
    });
    let mut inc = Engine::new(Config {
        limit: Some(40),
        ..Config::default()
    })
    .unwrap();
    for e in 0..97u64 {
        b.add_event(&EventInput::new(e)).unwrap();
        inc.add_event(&EventInput::new(e)).unwrap();
    }
    let mut inc_rejected = 0;
    for i in 0..n {
        let v = if i == 100 {
            "not an ip".to_owned()
        } else {
            value(i)
        };
        let t = if i == 100 { "ip-dst" } else { types[i % 7] };
        let input = AttributeInput::new(ids[i].as_str(), (i % 97) as u64, ty(t), &v);
        b.add(&input).unwrap();
        if inc.add_attribute(&input).is_err() {
            inc_rejected += 1;
        }
    }
    let built = b.build().unwrap();
    let reasons: Vec<_> = built
        .rejected
        .iter()
        .map(|r| r.attribute.to_string())
        .collect();
    assert_eq!(reasons, vec!["id-100".to_owned(), "id-17".to_owned()]);
    assert_eq!(inc_rejected, 2, "the bad value and the repeated id");
    let bulk = built.engine;
    assert_eq!(bulk.summary(), inc.summary());
    assert!(
        bulk.summary().exact > 0 && bulk.summary().over_correlating > 0,
        "{:?}",
        bulk.summary()
    );
    assert_eq!(bulk.over_correlating(), inc.over_correlating());
    assert_eq!(bulk.top_keys(10), inc.top_keys(10));
    for i in (0..n).step_by(997) {
        let a: Vec<_> = bulk
            .correlations_of(Id::Str(&ids[i]), None)
            .unwrap()
            .iter()
            .map(|c| c.b().id().to_string())
            .collect();
        let b: Vec<_> = inc
            .correlations_of(Id::Str(&ids[i]), None)
            .unwrap()
            .iter()
            .map(|c| c.b().id().to_string())
            .collect();
        assert_eq!(a, b, "{}", ids[i]);
    }
    assert_eq!(
        bulk.attribute(Id::Str("id-17")).unwrap().value1(),
        value(17)
    );
}
