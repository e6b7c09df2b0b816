//! Warninglist snapshots answer exactly what the matcher they were saved
//! from answers: random lists (proptest), the committed fixture, the full
//! misp-warninglists set, list switches, custom lists, damaged files.

mod warninglist_support;

use std::path::{Path, PathBuf};

use misp_core::AttributeType;
use misp_correlate::Error;
use misp_correlate::snapshot::{self, SnapshotKind, SnapshotProblem, WarninglistSnapshot};
use misp_correlate::warninglist::{
    self, Hit, Improvements, ListType, Matcher, MatcherBuilder, Query, ToIdsGate, Warninglist,
};
use proptest::prelude::*;
use warninglist_support::{shared_warninglists, workspace_root};

/// A fresh temporary directory, removed with its files when dropped (a
/// snapshot opened from it stays readable: the map outlives the name).
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("snapshot-wl-{name}-"))
        .tempdir()
        .unwrap()
}

fn round_trip(matcher: &Matcher, name: &str) -> WarninglistSnapshot {
    let dir = temp_dir(name);
    let path = dir.path().join("wl.snap");
    WarninglistSnapshot::save_matcher(matcher, &path).unwrap();
    let snapshot = WarninglistSnapshot::open(&path).unwrap();
    snapshot.verify().unwrap();
    snapshot
}

const TYPES: [&str; 12] = [
    "domain",
    "hostname",
    "url",
    "ip-dst",
    "ip-src",
    "domain|ip",
    "ip-dst|port",
    "md5",
    "text",
    "email-src",
    "malware-sample",
    "not-a-type",
];

fn assert_same(matcher: &Matcher, snapshot: &WarninglistSnapshot, ty: &str, value: &str) {
    for gate in [ToIdsGate::Off, ToIdsGate::On] {
        for to_ids in [false, true] {
            let query = Query::new(ty, value).with_to_ids(to_ids);
            let want: Vec<Hit<'_>> = matcher.check_query(query, gate);
            let got = snapshot.check_query(query, gate);
            assert_eq!(got, want, "type {ty:?} value {value:?} gate {gate:?}");
        }
    }
    if let Some(known) = AttributeType::from_name(ty) {
        assert_eq!(snapshot.check(known, value), matcher.check(known, value));
    }
}

fn list_strategy() -> impl Strategy<Value = (ListType, Vec<String>, Vec<&'static str>)> {
    let entry = prop_oneof![
        "[a-cA-C]{1,3}(\\.[a-c]{1,3}){0,2}",
        "\\.[a-c]{1,3}\\.[a-c]{1,2}",
        "(10|192)\\.[0-9]{1,2}\\.0\\.0/(8|16|24|33)",
        "2001:db8::/(32|48)",
        "/[a-c]+[0-9]?/[ig]{0,1}",
        "[a-c]{1,2}",
    ];
    (
        prop::sample::select(ListType::ALL.to_vec()),
        prop::collection::vec(entry, 0..8),
        prop::collection::vec(prop::sample::select(TYPES.to_vec()), 0..3),
    )
}

fn value_strategy() -> impl Strategy<Value = (&'static str, String)> {
    (
        prop::sample::select(TYPES.to_vec()),
        prop_oneof![
            "[a-cA-C]{1,3}(\\.[a-c]{1,3}){0,3}\\.?",
            "https?://[a-cA-C.]{1,8}(:80)?/[a-c]{0,3}",
            "(10|192)\\.[0-9]{1,2}\\.[0-9]\\.[0-9](/[0-9]{1,2})?",
            "2001:db8::[0-9]{1,2}(/[0-9]{2,3})?",
            "[a-c.]{1,5}\\|(10|192)\\.1\\.0\\.[0-9]",
            "[a-c0-9]{0,6}",
        ],
    )
}

fn improvements_strategy() -> impl Strategy<Value = Improvements> {
    prop::collection::vec(any::<bool>(), 8).prop_map(|b| Improvements {
        lowercase_hosts: b[0],
        parse_urls: b[1],
        regex_global_modifier: b[2],
        cidr_overlap: b[3],
        strict_cidr_masks: b[4],
        dotted_strings_as_hostnames: b[5],
        case_insensitive_domain_strings: b[6],
        no_zero_label_quirk: b[7],
    })
}

fn build(
    lists: &[(ListType, Vec<String>, Vec<&'static str>)],
    improvements: Improvements,
) -> Matcher {
    let mut builder = MatcherBuilder::new();
    builder.improvements(improvements);
    for (i, (ty, entries, types)) in lists.iter().enumerate() {
        let mut list = Warninglist::new(format!("list {}", (i * 7) % 11), *ty);
        list.set_matching_attributes(types.iter().copied());
        for e in entries {
            list.push_entry(e);
        }
        // Names may repeat: the builder refuses duplicates, which is fine.
        let _ = builder.add(list);
    }
    builder.build().unwrap().0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn snapshot_answers_like_the_matcher(
        lists in prop::collection::vec(list_strategy(), 0..7),
        custom in prop::option::of(list_strategy()),
        improvements in improvements_strategy(),
        values in prop::collection::vec(value_strategy(), 1..40),
        disable in prop::option::of(0usize..11),
    ) {
        let mut matcher = build(&lists, improvements);
        if let Some((ty, entries, types)) = &custom {
            let mut list = Warninglist::new("custom", *ty);
            list.set_matching_attributes(types.iter().copied());
            for e in entries {
                list.push_entry(e);
            }
            matcher.add_list(list).unwrap();
        }
        let mut snapshot = round_trip(&matcher, "prop");
        for (ty, value) in &values {
            assert_same(&matcher, &snapshot, ty, value);
        }
        // Incremental update: disable a list in both, compare again, and
        // again after saving the snapshot and reopening it.
        if let Some(k) = disable {
            let name = format!("list {k}");
            let in_matcher = matcher.set_enabled(&name, false).is_ok();
            prop_assert_eq!(snapshot.set_enabled(&name, false).is_ok(), in_matcher);
            for (ty, value) in &values {
                assert_same(&matcher, &snapshot, ty, value);
            }
            let dir = temp_dir("prop-resave");
            let path = dir.path().join("again.snap");
            snapshot.save(&path).unwrap();
            let reopened = WarninglistSnapshot::open(&path).unwrap();
            reopened.verify().unwrap();
            for (ty, value) in &values {
                assert_same(&matcher, &reopened, ty, value);
            }
        }
    }
}

#[test]
fn list_metadata_survives() {
    let mut list = Warninglist::new("Example hosts", ListType::Hostname);
    list.set_description("hosts")
        .set_version(42)
        .set_matching_attributes(["domain", "hostname", "made-up"])
        .push_entry("example.com")
        .push_entry("")
        .push_entry("..");
    let mut builder = MatcherBuilder::new();
    builder.add(list).unwrap();
    let (matcher, _) = builder.build().unwrap();
    let snapshot = round_trip(&matcher, "meta");
    let a: Vec<_> = matcher.lists().collect();
    let b: Vec<_> = snapshot.lists().collect();
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.name(), b.name());
        assert_eq!(a.description(), b.description());
        assert_eq!(a.version(), b.version());
        assert_eq!(a.list_type(), b.list_type());
        assert_eq!(a.matching_attributes(), b.matching_attributes());
        assert_eq!(a.stats(), b.stats());
        assert_eq!(a.is_enabled(), b.is_enabled());
    }
    assert_eq!(snapshot.stats(), matcher.stats());
    assert_same(&matcher, &snapshot, "made-up", "www.example.com");
    assert_same(&matcher, &snapshot, "domain", "www.example.com");
}

/// The full misp-warninglists set, MISP semantics and every improvement,
/// over real typed values and every list's own entries.
#[test]
fn full_warninglists_answer_like_the_matcher() {
    let values = std::fs::read_to_string(
        shared_warninglists()
            .parent()
            .unwrap()
            .join("values/tweetfeed-typed-values.tsv"),
    )
    .unwrap();
    let sample: Vec<(&str, &str)> = values
        .lines()
        .step_by(97)
        .filter_map(|l| l.split_once('\t'))
        .collect();
    for improvements in [Improvements::MISP, Improvements::all()] {
        let loaded = warninglist::load(&shared_warninglists(), improvements).unwrap();
        let matcher = &loaded.matcher;
        let snapshot = round_trip(matcher, "full");
        let mut hits = 0;
        for (ty, value) in &sample {
            assert_same(matcher, &snapshot, ty, value);
            hits += matcher
                .check_query(Query::new(*ty, value), ToIdsGate::Off)
                .len();
        }
        assert!(hits > 0, "the sample hits some list");
        // Entries of every list, each checked under a few types.
        let lists = warninglist::load_lists(&shared_warninglists())
            .unwrap()
            .lists;
        for list in &lists {
            for entry in list.entries().step_by(53).take(40) {
                for ty in [
                    "domain",
                    "hostname",
                    "url",
                    "ip-dst",
                    "md5",
                    "text",
                    "domain|ip",
                ] {
                    assert_same(matcher, &snapshot, ty, entry);
                    let upper = entry.to_ascii_uppercase();
                    assert_same(matcher, &snapshot, ty, &upper);
                    assert_same(matcher, &snapshot, ty, &format!("www.{entry}"));
                }
            }
        }
    }
}

fn problem(result: misp_correlate::Result<WarninglistSnapshot>) -> SnapshotProblem {
    match result {
        Err(Error::Snapshot { problem, .. }) => problem,
        other => panic!("expected a snapshot error, got {:?}", other.map(|_| ())),
    }
}

fn small_matcher() -> Matcher {
    let mut builder = MatcherBuilder::new();
    for (name, ty, entries) in [
        (
            "hosts",
            ListType::Hostname,
            &["example.com", "test.org"][..],
        ),
        ("strings", ListType::String, &["8.8.8.8", "abc"][..]),
        ("nets", ListType::Cidr, &["10.0.0.0/8", "2001:db8::/32"][..]),
        ("subs", ListType::Substring, &["evil"][..]),
        ("res", ListType::Regex, &["/^a+b$/i"][..]),
    ] {
        let mut list = Warninglist::new(name, ty);
        for e in entries {
            list.push_entry(e);
        }
        builder.add(list).unwrap();
    }
    builder.build().unwrap().0
}

#[test]
fn long_hosts_match_past_the_suffixes_touched_ahead() {
    // The snapshot hashes and touches eight suffixes ahead, then walks the
    // rest; a match on either side of that boundary (and none) must agree.
    let matcher = small_matcher();
    let snapshot = round_trip(&matcher, "long-hosts");
    let deep = |labels: usize, base: &str| {
        let mut host: Vec<String> = (0..labels).map(|i| format!("l{i}")).collect();
        host.push(base.to_owned());
        host.join(".")
    };
    for labels in [0, 5, 6, 7, 8, 9, 12] {
        for base in ["example.com", "test.org", "example.net"] {
            let host = deep(labels, base);
            assert_same(&matcher, &snapshot, "domain", &host);
            assert_same(&matcher, &snapshot, "url", &format!("https://{host}/x"));
        }
    }
    assert!(
        !snapshot
            .check_query(Query::new("domain", &deep(12, "test.org")), ToIdsGate::Off)
            .is_empty()
    );
}

#[test]
fn damaged_files_are_clear_errors() {
    let dir = temp_dir("damage");
    let path = dir.path().join("wl.snap");
    WarninglistSnapshot::save_matcher(&small_matcher(), &path).unwrap();
    let good = std::fs::read(&path).unwrap();

    assert_eq!(
        problem(WarninglistSnapshot::from_bytes(
            b"PK\x03\x04 not a snapshot at all, just some bytes to fill a header...".to_vec(),
            "x"
        )),
        SnapshotProblem::BadMagic
    );
    let mut newer = good.clone();
    newer[8..12].copy_from_slice(&9u32.to_le_bytes());
    let err = WarninglistSnapshot::from_bytes(newer, "newer.snap").unwrap_err();
    assert_eq!(
        err.to_string(),
        "snapshot newer.snap: format version 9 is not supported (this build reads version 2); rebuild the snapshot"
    );
    assert!(matches!(
        problem(WarninglistSnapshot::from_bytes(
            good[..good.len() / 2].to_vec(),
            "x"
        )),
        SnapshotProblem::Truncated { .. }
    ));

    // Every single-byte change: open fails, verify fails, or (padding and
    // bytes no structure depends on) answers without panicking.
    let values = [
        ("domain", "www.example.com"),
        ("ip-dst", "10.1.2.3"),
        ("ip-src", "2001:db8::1/64"),
        ("text", "very evil"),
        ("text", "AAB"),
        ("md5", "abc"),
    ];
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x5a;
        if let Ok(snapshot) = WarninglistSnapshot::from_bytes(bad, "bad.snap") {
            assert!(snapshot.verify().is_err(), "byte {i} changed unnoticed");
            for (ty, value) in values {
                let _ = snapshot.check_query(Query::new(ty, value), ToIdsGate::Off);
            }
        }
    }
}

#[test]
fn wrong_kind_and_info() {
    let dir = temp_dir("info");
    let path = dir.path().join("wl.snap");
    WarninglistSnapshot::save_matcher(&small_matcher(), &path).unwrap();
    let info = snapshot::info(&path).unwrap();
    assert_eq!(info.kind, SnapshotKind::Warninglists);
    assert_eq!(info.version, snapshot::FORMAT_VERSION);
    assert!(info.counts.contains(&("lists", 5)));
    assert!(info.counts.contains(&("hostname keys", 2)));
    assert!(info.to_string().contains("kind: warninglists"));
    // New files carry the tables' Bloom filters (one 8-byte word at least);
    // the committed fixture predates them and answers without.
    for name in ["string filter", "hostname filter"] {
        assert!(
            info.sections
                .iter()
                .any(|(n, bytes)| n == name && *bytes >= 8 && bytes % 8 == 0),
            "{name}: {:?}",
            info.sections
        );
    }
    let old = snapshot::info(fixture()).unwrap();
    assert!(!old.sections.iter().any(|(n, _)| n.ends_with("filter")));
}

/// The committed fixture `testdata/snapshots/warninglists-v2.snap`, written
/// by `write_fixtures` below from the lists in
/// `testdata/snapshots/warninglists/`.
fn fixture() -> PathBuf {
    workspace_root().join("testdata/snapshots/warninglists-v2.snap")
}

fn fixture_matcher(lists: &Path) -> Matcher {
    warninglist::load(lists, Improvements::MISP)
        .unwrap()
        .matcher
}

#[test]
fn committed_fixture_gives_known_answers() {
    let snapshot = WarninglistSnapshot::open(fixture()).unwrap();
    snapshot.verify().unwrap();
    let check = |ty: &str, value: &str| -> Vec<(String, String)> {
        snapshot
            .check_query(Query::new(ty, value), ToIdsGate::Off)
            .iter()
            .map(|h| (h.list_name.to_owned(), h.matched.to_string()))
            .collect()
    };
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        check("domain", "www.example.com"),
        [s("Example domains", "example.com")]
    );
    assert_eq!(
        check("ip-dst", "192.168.4.5"),
        [s("Private ranges", "192.168.0.0/16")]
    );
    assert_eq!(check("ip-dst", "8.8.8.8"), [s("Public DNS", "8.8.8.8")]);
    assert_eq!(
        check("url", "http://localhost.evil/x"),
        [s("Local words", "localhost")]
    );
    assert_eq!(check("domain", "example.net"), Vec::new());
    // The fixture still matches what the current code builds from the lists.
    let matcher = fixture_matcher(&workspace_root().join("testdata/snapshots/warninglists"));
    for (ty, value) in [
        ("domain", "www.example.com"),
        ("ip-dst", "192.168.4.5"),
        ("ip-dst", "8.8.8.8"),
        ("url", "http://localhost.evil/x"),
        ("ip-src", "2001:db8::1"),
    ] {
        assert_same(&matcher, &snapshot, ty, value);
    }
}

#[test]
fn bumped_version_fixture_is_refused() {
    let mut bytes = std::fs::read(fixture()).unwrap();
    bytes[8..12].copy_from_slice(&(snapshot::FORMAT_VERSION + 1).to_le_bytes());
    let dir = temp_dir("bumped");
    let path = dir.path().join("bumped.snap");
    std::fs::write(&path, bytes).unwrap();
    let err = WarninglistSnapshot::open(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "format version {} is not supported",
            snapshot::FORMAT_VERSION + 1
        )),
        "{message}"
    );
    assert!(message.contains("bumped.snap"), "{message}");
}

/// The version-1 fixture (16-byte hash slots, tables at most half full)
/// is refused with a message saying what to do.
#[test]
fn version_1_fixture_is_refused() {
    let path = workspace_root().join("testdata/snapshots/warninglists-v1.snap");
    let err = WarninglistSnapshot::open(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(
            "format version 1 is not supported (this build reads version 2); rebuild the snapshot"
        ),
        "{message}"
    );
    assert!(message.contains("warninglists-v1.snap"), "{message}");
    assert!(snapshot::info(&path).is_err());
}

/// Rewrites the committed fixture: `cargo test -p misp-correlate --test
/// snapshot_warninglist -- --ignored write_fixtures`.
#[test]
#[ignore]
fn write_fixtures() {
    // Relative paths, so the stored list sources do not name this machine.
    std::env::set_current_dir(workspace_root()).unwrap();
    let matcher = fixture_matcher(Path::new("testdata/snapshots/warninglists"));
    WarninglistSnapshot::save_matcher(&matcher, "testdata/snapshots/warninglists-v2.snap").unwrap();
    assert!(fixture().exists());
}
