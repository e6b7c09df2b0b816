//! Opens damaged engine snapshots: any byte string must give an error or a
//! snapshot whose every query (and `verify`, `info`, `to_engine`) runs
//! without panicking.
//!
//! Seed corpus: `testdata/snapshots/engine-v3.snap`; the target also builds
//! a valid image of a small engine (advanced correlation, viewers, string
//! and numeric identities) and applies the fuzzer's bytes as edits to it,
//! so most inputs get past the header checks.

#![no_main]

#[path = "common/damage.rs"]
mod damage;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use misp_core::AttributeType;
use misp_correlate::correlation::{AttributeInput, Config, Engine, EventInput, Id, Viewer};
use misp_correlate::snapshot::EngineSnapshot;

fn valid_image() -> &'static [u8] {
    static IMAGE: OnceLock<Vec<u8>> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let Ok(mut e) = Engine::new(Config {
            advanced: true,
            limit: Some(3),
            ..Config::default()
        }) else {
            return Vec::new();
        };
        for ev in ["e1", "e2", "e3"] {
            let _ = e.add_event(&EventInput {
                distribution: 4,
                sharing_group: Some(1),
                org: Some(Id::Str("org")),
                ..EventInput::new(ev)
            });
        }
        let ty = |n| AttributeType::from_name(n);
        for (id, ev, t, v) in [
            ("a", "e1", "ip-dst", "10.1.2.3"),
            ("b", "e2", "ip-src", "10.0.0.0/8"),
            ("c", "e3", "domain", "Example.com"),
            ("d", "e1", "hostname", "example.com"),
            ("e", "e2", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
            (
                "f",
                "e3",
                "filename|md5",
                "x.exe|d41d8cd98f00b204e9800998ecf8427e",
            ),
            (
                "g",
                "e1",
                "ssdeep",
                "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C",
            ),
            (
                "h",
                "e2",
                "ssdeep",
                "3:AXGBicFlgVNhBGcL6wCrFQE3:AXGHsNhxLsr2s",
            ),
        ] {
            if let Some(t) = ty(t) {
                let _ = e.add_attribute(&AttributeInput::new(id, ev, t, v));
            }
        }
        if let Some(t) = ty("text") {
            let _ = e.add_attribute(&AttributeInput::new(Id::Num(7), "e3", t, "example.com"));
        }
        EngineSnapshot::engine_to_bytes(&e).unwrap_or_default()
    })
}

fn exercise(bytes: Vec<u8>) {
    let Ok(s) = EngineSnapshot::from_bytes(bytes, "fuzz.snap") else {
        return;
    };
    let _ = s.verify();
    let _ = s.info();
    let _ = s.summary();
    let _ = s.over_correlating();
    let _ = s.top_keys(5);
    for c in s.correlations().take(10_000) {
        let _ = (c.key(), c.score(), c.swapped().a().value1());
        let b = c.b();
        let _ = (
            b.id(),
            b.event(),
            b.object(),
            b.ty(),
            b.value2(),
            b.keys(),
            b.is_eligible(),
        );
    }
    let viewer = Viewer::org("org").with_sharing_groups([1]);
    for _ in s.correlations_for(&viewer).take(10_000) {}
    for id in [
        Id::Str("a"),
        Id::Str("b"),
        Id::Str("g"),
        Id::Num(7),
        Id::Num(0),
    ] {
        let _ = s.correlations_of(id, None);
        let _ = s.correlations_of(id, Some(&viewer));
    }
    for ev in ["e1", "e2", "e3"] {
        let _ = s.related_events(Id::Str(ev), Some(&viewer));
    }
    for v in [
        "example.com",
        "10.1.2.3",
        "d41d8cd98f00b204e9800998ecf8427e",
    ] {
        if let Some(p) = s.posting_of(v) {
            let _ = (p.events(), p.attributes().count(), p.is_over_correlating());
        }
    }
    let _ = s.to_engine();
}

fuzz_target!(|data: &[u8]| {
    // Raw bytes as a file.
    exercise(data.to_vec());
    // Edits to a valid image: (offset u16, byte) pairs.
    if let Some(image) = damage::edited(valid_image(), data) {
        exercise(image);
    }
});
