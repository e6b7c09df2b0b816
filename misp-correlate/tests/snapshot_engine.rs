//! Engine snapshots: the committed compatibility fixture, damaged files,
//! and updates after open. (The proptest comparing a snapshot with the
//! engine it was saved from on random engines is
//! `snapshot_answers_like_the_engine` in `correlation_model.rs`.)

use std::path::{Path, PathBuf};

use misp_correlate::Error;
use misp_correlate::correlation::{Config, CorrelationKind, Engine, EngineBuilder, Id, Viewer};
use misp_correlate::snapshot::{self, EngineSnapshot, SnapshotKind, SnapshotProblem};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The committed fixture: the five sample events of
/// `testdata/events/correlation/`, advanced correlation on, exclusion
/// `excluded-%`. Written by `write_fixtures` below.
fn fixture() -> PathBuf {
    workspace_root().join("testdata/snapshots/engine-v3.snap")
}

/// The engine the fixture holds, built from the JSON events.
fn fixture_engine() -> Engine {
    let dir = workspace_root().join("testdata/events/correlation");
    let mut b = EngineBuilder::with_config(Config {
        advanced: true,
        ..Config::default()
    });
    b.exclusion("excluded-%");
    for name in [
        "e1-phishing.json",
        "e2-dropper.json",
        "e3-scan.json",
        "e4-registry.json",
        "e5-notes.json",
    ] {
        for event in misp_core::json::read_file(dir.join(name)).unwrap() {
            b.add_misp_event(&event).unwrap();
        }
    }
    b.build().unwrap().engine
}

/// Correlations as sorted text lines (kind, key, the two identities).
fn lines<'a>(
    it: impl Iterator<Item = misp_correlate::correlation::Correlation<'a>>,
) -> Vec<String> {
    let mut v: Vec<String> = it
        .map(|c| {
            let (a, b) = (c.a().id().to_string(), c.b().id().to_string());
            let (a, b) = if a <= b { (a, b) } else { (b, a) };
            format!("{} {} {a} {b}", c.kind().as_str(), c.key())
        })
        .collect();
    v.sort();
    v
}

#[test]
fn committed_fixture_gives_known_answers() {
    let snap = EngineSnapshot::open(fixture()).unwrap();
    snap.verify().unwrap();
    let s = snap.summary();
    assert_eq!((s.exact, s.cidr, s.ssdeep), (15, 3, 0));
    assert!(snap.config().advanced);
    assert_eq!(snap.exclusions(), ["excluded-%"]);
    assert!(snap.posting_of("excluded-value").is_none());
    let shared = snap.posting_of("SHARED.example.org").unwrap();
    assert_eq!(shared.len(), 5);
    assert_eq!(shared.events().len(), 5);
    assert!(!shared.is_over_correlating());
    let cidr: Vec<String> = lines(snap.correlations())
        .into_iter()
        .filter(|l| l.starts_with("cidr"))
        .collect();
    assert_eq!(cidr.len(), 3);
    assert!(
        cidr.iter().any(|l| l.starts_with("cidr 10.0.0.0/8 ")),
        "{cidr:?}"
    );
    assert!(
        cidr.iter().any(|l| l.starts_with("cidr 192.168.0.0/16 ")),
        "{cidr:?}"
    );
    // The same answers as the engine built from the JSON today.
    let engine = fixture_engine();
    assert_eq!(snap.summary(), engine.summary());
    assert_eq!(lines(snap.correlations()), lines(engine.correlations()));
    assert_eq!(snap.top_keys(5), engine.top_keys(5));
    for v in [None, Some(Viewer::org("nobody"))] {
        for rel in engine
            .related_events(Id::Str("11111111-1111-4111-8111-111111111111"), v.as_ref())
            .into_iter()
            .flatten()
        {
            assert!(snap.related_events(rel.event, v.as_ref()).is_ok());
        }
    }
    let info = snapshot::info(fixture()).unwrap();
    assert_eq!(info.kind, SnapshotKind::Engine);
    assert!(info.counts.contains(&("exact correlations", 15)));
}

#[test]
fn updates_after_open_match_the_engine() {
    let snap = EngineSnapshot::open(fixture()).unwrap();
    let mut updated = snap.to_engine().unwrap();
    let mut engine = fixture_engine();
    for e in [&mut updated, &mut engine] {
        assert!(e.remove_exclusion("excluded-%"));
        e.set_limit(Some(3));
    }
    assert_eq!(updated.summary(), engine.summary());
    assert_eq!(lines(updated.correlations()), lines(engine.correlations()));
    assert_eq!(updated.over_correlating(), engine.over_correlating());
    // Saved again and reopened: the new state.
    let again = EngineSnapshot::from_bytes(
        EngineSnapshot::engine_to_bytes(&updated).unwrap(),
        "again.snap",
    )
    .unwrap();
    assert_eq!(again.summary(), engine.summary());
    assert_eq!(again.over_correlating(), engine.over_correlating());
    assert!(again.posting_of("excluded-value").is_some());
}

fn problem(r: Result<EngineSnapshot, Error>) -> SnapshotProblem {
    match r {
        Err(Error::Snapshot { problem, .. }) => problem,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("opened"),
    }
}

/// Runs every query on what opened; none may panic.
fn exercise(snap: &EngineSnapshot) {
    let _ = snap.summary();
    let _ = snap.over_correlating();
    let _ = snap.top_keys(3);
    for c in snap.correlations().take(1000) {
        let _ = (
            c.key(),
            c.a().value1(),
            c.b().value2(),
            c.a().object(),
            c.b().ty(),
        );
    }
    for id in [Id::Num(1), Id::Str("00000000-0000-4000-8000-0000000a0001")] {
        let _ = snap.correlations_of(id, Some(&Viewer::org("x")));
    }
    let _ = snap.posting_of("shared.example.org").map(|p| p.events());
    let _ = snap.to_engine();
}

#[test]
fn damaged_files_are_refused_with_the_problem_named() {
    let good = std::fs::read(fixture()).unwrap();
    let mut newer = good.clone();
    newer[8] = 9;
    assert_eq!(
        problem(EngineSnapshot::from_bytes(newer, "newer.snap")),
        SnapshotProblem::UnsupportedVersion {
            found: 9,
            supported: snapshot::ENGINE_FORMAT_VERSION
        }
    );
    assert!(matches!(
        problem(EngineSnapshot::from_bytes(
            good[..good.len() - 8].to_vec(),
            "short.snap"
        )),
        SnapshotProblem::Truncated { .. }
    ));
    let mut table = good.clone();
    table[70] ^= 1;
    assert!(matches!(
        problem(EngineSnapshot::from_bytes(table, "table.snap")),
        SnapshotProblem::ChecksumMismatch { .. }
    ));
    let mut body = good.clone();
    let last = body.len() / 2;
    body[last] ^= 0x10;
    if let Ok(s) = EngineSnapshot::from_bytes(body, "body.snap") {
        assert!(matches!(
            s.verify(),
            Err(Error::Snapshot {
                problem: SnapshotProblem::ChecksumMismatch { .. },
                ..
            })
        ));
    }
    // A warninglist snapshot is not an engine.
    let wl = workspace_root().join("testdata/snapshots/warninglists-v2.snap");
    assert!(matches!(
        problem(EngineSnapshot::open(&wl)),
        SnapshotProblem::WrongKind { .. }
    ));
}

#[test]
fn version_2_engine_fixture_is_refused_naming_both_versions() {
    let old = workspace_root().join("testdata/snapshots/engine-v2.snap");
    let err = EngineSnapshot::open(&old).expect_err("a version 2 engine must not open");
    let text = err.to_string();
    assert!(
        text.contains("format version 2 is not supported (this build reads version 3)"),
        "{text}"
    );
    assert!(text.contains("engine-v2.snap"), "{text}");
    assert_eq!(
        problem(EngineSnapshot::open(&old)),
        SnapshotProblem::UnsupportedVersion {
            found: 2,
            supported: 3
        }
    );
    assert_eq!(snapshot::ENGINE_FORMAT_VERSION, 3);
    // Versions are per kind: the warninglist fixture (version 2) still
    // opens, and `info` reports each file's own version.
    let wl = workspace_root().join("testdata/snapshots/warninglists-v2.snap");
    assert!(snapshot::WarninglistSnapshot::open(&wl).is_ok());
    assert_eq!(snapshot::info(&wl).unwrap().version, 2);
    assert_eq!(snapshot::info(fixture()).unwrap().version, 3);
    assert!(snapshot::info(&old).is_err());
}

/// Numeric identities: ascending with the slots (the identity column is
/// searched), out of order, and with gaps and removals (the sorted table);
/// string identities through the hash table.
#[test]
fn identities_are_found_in_every_layout() {
    use misp_core::AttributeType;
    use misp_correlate::correlation::{AttributeInput, EventInput};
    let ty = AttributeType::from_name("ip-dst").unwrap();
    let orders: [Vec<u64>; 4] = [
        (1..=300).collect(),
        (1..=300).rev().collect(),
        (0..300)
            .map(|i| (i * 7919) % 1000 + 1_000_000_000_000)
            .collect(),
        (0..300).map(|i| i * i * i + 5).collect(),
    ];
    for (round, order) in orders.iter().enumerate() {
        let mut engine = Engine::new(Config::default()).unwrap();
        for e in ["e1", "e2", "e3"] {
            engine.add_event(&EventInput::new(e)).unwrap();
        }
        for (i, &n) in order.iter().enumerate() {
            let ev = ["e1", "e2", "e3"][i % 3];
            let value = format!("10.0.{}.{}", i % 7, i % 5);
            let a = AttributeInput::new(Id::Num(n), ev, ty, &value);
            engine.add_attribute(&a).unwrap();
        }
        if round == 3 {
            engine.remove_attribute(Id::Num(order[10])).unwrap();
            let a = AttributeInput::new(Id::Str("a-uuid"), "e1", ty, "10.0.0.0");
            engine.add_attribute(&a).unwrap();
        }
        let bytes = EngineSnapshot::engine_to_bytes(&engine).unwrap();
        let snap = EngineSnapshot::from_bytes(bytes, "ids.snap").unwrap();
        for &n in order {
            let id = Id::Num(n);
            assert_eq!(
                snap.correlations_of(id, None).map(|c| c.len()).ok(),
                engine.correlations_of(id, None).map(|c| c.len()).ok(),
                "round {round}, {n}"
            );
            assert_eq!(snap.attribute(id).is_some(), engine.attribute(id).is_some());
            for missing in [n + 1, n.wrapping_sub(1), n * 3 + 1] {
                let id = Id::Num(missing);
                assert_eq!(snap.attribute(id).is_some(), engine.attribute(id).is_some());
            }
        }
        let id = Id::Str("a-uuid");
        assert_eq!(snap.attribute(id).is_some(), round == 3);
        assert!(snap.attribute(Id::Str("b-uuid")).is_none());
        for value in ["10.0.1.1", "10.0.6.4", "10.9.9.9", ""] {
            assert_eq!(
                snap.posting_of(value).map(|p| p.len()),
                engine.posting_of(value).map(|p| p.len()),
                "{value}"
            );
        }
    }
}

#[test]
fn every_prefix_and_byte_flip_errors_or_answers_without_panicking() {
    let good = std::fs::read(fixture()).unwrap();
    for n in (0..good.len()).step_by(7) {
        assert!(EngineSnapshot::from_bytes(good[..n].to_vec(), "p.snap").is_err());
    }
    // Flips in the body pass the open checks (the table checksum does not
    // cover them): every query must still be safe.
    for i in (0..good.len()).step_by(3) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            if let Ok(s) = EngineSnapshot::from_bytes(bad, "f.snap") {
                exercise(&s);
            }
        }
    }
}

#[test]
fn saved_files_reopen_identically() {
    let engine = fixture_engine();
    let dir = std::env::temp_dir().join(format!("engine-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("e.snap");
    EngineSnapshot::save_engine_with_metadata(&engine, b"{\"note\":1}", &path).unwrap();
    let snap = EngineSnapshot::open(&path).unwrap();
    assert_eq!(snap.metadata(), b"{\"note\":1}");
    assert_eq!(lines(snap.correlations()), lines(engine.correlations()));
    let kinds: Vec<CorrelationKind> = snap.correlations().map(|c| c.kind()).collect();
    assert!(kinds.contains(&CorrelationKind::Cidr));
    // save() writes the same state (through an engine) with the metadata.
    let copy = dir.join("copy.snap");
    snap.save(&copy).unwrap();
    let reopened = EngineSnapshot::open(&copy).unwrap();
    assert_eq!(reopened.summary(), snap.summary());
    assert_eq!(reopened.metadata(), snap.metadata());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rewrites the committed fixture: `cargo test -p misp-correlate --test
/// snapshot_engine -- --ignored write_fixtures`.
#[test]
#[ignore]
fn write_fixtures() {
    EngineSnapshot::save_engine(&fixture_engine(), Path::new(&fixture())).unwrap();
    assert!(fixture().exists());
}
