//! The PyMISP fixtures and the TweetFeed sample in `testdata/`: each file
//! parses to the expected events, or is refused the way MISP would refuse
//! it (not an event: no `info`).
//!
//! The expected counts were checked against an independent count with
//! Python's `json` module (events with an `info`; their `Attribute` plus
//! `Object[].Attribute` lengths).

use std::path::{Path, PathBuf};

use misp_core::Error;
use misp_core::json::{self, LoadSummary};

fn testdata(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(relative)
}

/// What a fixture must give.
enum Expect {
    /// This many events with this many attributes in all.
    Events(usize, usize),
    /// Refused: not a MISP event.
    NotAnEvent,
}

const PYMISP: &[(&str, Expect)] = &[
    (
        "57c4445b-c548-4654-af0b-4be3950d210f.json",
        Expect::Events(1, 9),
    ),
    ("misp_event.json", Expect::Events(1, 2)),
    ("mispevent_testfiles/attribute.json", Expect::Events(1, 1)),
    (
        "mispevent_testfiles/attribute_del.json",
        Expect::Events(1, 1),
    ),
    ("mispevent_testfiles/def_param.json", Expect::Events(1, 4)),
    ("mispevent_testfiles/event.json", Expect::Events(1, 0)),
    // PyMISP object fragments without event fields: MISP refuses an
    // event without info.
    (
        "mispevent_testfiles/event_obj_attr_tag.json",
        Expect::NotAnEvent,
    ),
    (
        "mispevent_testfiles/event_obj_def_param.json",
        Expect::NotAnEvent,
    ),
    ("mispevent_testfiles/event_obj_tag.json", Expect::NotAnEvent),
    ("mispevent_testfiles/event_tags.json", Expect::Events(1, 0)),
    (
        "mispevent_testfiles/existing_event.json",
        Expect::Events(1, 122),
    ),
    // A galaxy, not an event.
    ("mispevent_testfiles/galaxy.json", Expect::NotAnEvent),
    ("mispevent_testfiles/malware.json", Expect::Events(1, 1)),
    // {"response": [<bare event>]}
    (
        "mispevent_testfiles/malware_exist.json",
        Expect::Events(1, 6),
    ),
    (
        "mispevent_testfiles/misp_custom_obj.json",
        Expect::Events(1, 2),
    ),
    // An object template, not an event (so is test_object_template/).
    (
        "mispevent_testfiles/overwrite_file/definition.json",
        Expect::NotAnEvent,
    ),
    // Shadow attributes (proposals) are not attributes.
    ("mispevent_testfiles/proposals.json", Expect::Events(1, 1)),
    ("mispevent_testfiles/shadow.json", Expect::Events(1, 3)),
    // A sighting, and `{}`.
    ("mispevent_testfiles/sighting.json", Expect::NotAnEvent),
    ("mispevent_testfiles/simple.json", Expect::NotAnEvent),
    (
        "mispevent_testfiles/test_object_template/definition.json",
        Expect::NotAnEvent,
    ),
    (
        "reportlab_testfiles/japanese_test.json",
        Expect::Events(1, 1),
    ),
    ("reportlab_testfiles/sighting_1.json", Expect::Events(1, 5)),
    ("reportlab_testfiles/sighting_2.json", Expect::Events(1, 2)),
    ("reportlab_testfiles/to_delete1.json", Expect::Events(1, 75)),
    ("reportlab_testfiles/to_delete3.json", Expect::Events(1, 96)),
];

#[test]
fn every_pymisp_fixture_parses_or_is_refused() {
    let dir = testdata("events/pymisp-fixtures");
    for (name, expect) in PYMISP {
        let path = dir.join(name);
        let result = json::read_file(&path);
        match (expect, result) {
            (Expect::Events(events, attributes), Ok(got)) => {
                assert_eq!(got.len(), *events, "{name}");
                assert_eq!(
                    got.iter().map(|e| e.attribute_count()).sum::<usize>(),
                    *attributes,
                    "{name}"
                );
            }
            (Expect::NotAnEvent, Err(Error::Invalid { path: p, message })) => {
                assert_eq!(p, path);
                assert!(message.contains("info"), "{name}: {message}");
            }
            (_, other) => panic!("{name}: unexpected {other:?}"),
        }
    }
}

#[test]
fn the_fixture_list_covers_every_file() {
    let listed: Vec<PathBuf> = PYMISP
        .iter()
        .map(|(name, _)| testdata("events/pymisp-fixtures").join(name))
        .collect();
    let found: Vec<PathBuf> = json::discover([testdata("events/pymisp-fixtures")])
        .into_iter()
        .map(|f| f.unwrap())
        .collect();
    assert_eq!(
        found, listed,
        "discover order is sorted file names, as the table"
    );
}

#[test]
fn fixture_details() {
    let dir = testdata("events/pymisp-fixtures");
    let deleted = json::read_file(dir.join("mispevent_testfiles/attribute_del.json")).unwrap();
    assert!(deleted[0].attributes[0].deleted);
    assert_eq!(deleted[0].attributes[0].id, Some(42));

    let existing = json::read_file(dir.join("mispevent_testfiles/existing_event.json")).unwrap();
    assert_eq!(existing[0].uuid, "5a3c2fcd-8328-42bb-a95e-4f4402de0b81");
    assert!(!existing[0].objects.is_empty());

    let response = json::read_file(dir.join("mispevent_testfiles/malware_exist.json")).unwrap();
    assert_eq!(response[0].id, Some(6719));
    assert_eq!(response[0].distribution, 0);
    assert_eq!(response[0].org.name.as_deref(), Some("CIRCL"));
    assert_eq!(response[0].orgc.id, Some(1));

    let japanese = json::read_file(dir.join("reportlab_testfiles/japanese_test.json")).unwrap();
    assert!(
        !japanese[0].info.is_ascii(),
        "UTF-8 text survives: {}",
        japanese[0].info
    );
}

#[test]
fn the_tweetfeed_sample_feed() {
    let summary = LoadSummary::from_paths([testdata("feeds/tweetfeed-sample")]);
    assert_eq!(summary.events(), 5);
    assert_eq!(summary.attributes(), 202);
    let types: Vec<(&str, usize)> = summary
        .types()
        .iter()
        .map(|(t, n)| (t.as_str(), *n))
        .collect();
    assert_eq!(
        types,
        [
            ("domain", 74),
            ("ip-dst", 25),
            ("md5", 8),
            ("sha256", 9),
            ("url", 86)
        ]
    );
    assert!(summary.errors().is_empty(), "{:?}", summary.errors());

    let events: Vec<_> = json::load([testdata("feeds/tweetfeed-sample")])
        .map(Result::unwrap)
        .collect();
    let manifest = json::read_manifest(testdata("feeds/tweetfeed-sample/manifest.json")).unwrap();
    let uuids: Vec<&str> = events.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(uuids, manifest, "manifest order");
    assert!(events.iter().all(|e| e.distribution == 3 && e.published));
    assert!(
        events
            .iter()
            .all(|e| e.orgc.name.as_deref() == Some("TweetFeed"))
    );
}

/// The whole TweetFeed feed (not in the repository): set
/// `MISP_TWEETFEED` to its directory and run with `--ignored`.
#[test]
#[ignore = "needs the full TweetFeed feed in $MISP_TWEETFEED"]
fn the_full_tweetfeed_feed() {
    let dir = std::env::var_os("MISP_TWEETFEED").expect("MISP_TWEETFEED");
    let summary = LoadSummary::from_paths_parallel([&dir]);
    assert_eq!(summary.events(), 365);
    assert_eq!(summary.attributes(), 110_682);
    assert!(summary.errors().is_empty(), "{:?}", summary.errors());
}
